"""Reference computations for tests: sympy values and derivatives of a gradcore Expr at a point."""

from __future__ import annotations

import math

import sympy as sp

from gradcore.expr import Expr


def sympy_value(expr: Expr, point: dict) -> float:
    """Evaluate through sympy (exact tree, then evalf at 30 digits)."""
    s = expr.to_sympy()
    subs = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in point.items()}
    return float(sp.N(s.subs(subs), 30))


def sympy_partial(expr: Expr, name: str, point: dict) -> float:
    """d expr / d name at `point`, by sympy.diff of the converted tree."""
    s = sp.diff(expr.to_sympy(), sp.Symbol(name, real=True))
    # sympy's d sign(x) is 2*DiracDelta(x); the table's convention is 0 everywhere (as in PyTorch).
    s = s.replace(sp.DiracDelta, lambda *args: sp.Integer(0))
    subs = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in point.items()}
    return float(sp.N(s.subs(subs), 30))


def close(a: float, b: float, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)
