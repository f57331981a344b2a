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


def well_conditioned(expr: Expr, point: dict, rel: float = 1e-6) -> bool:
    """Whether float64 can evaluate `expr` at `point` well enough to be compared with exact arithmetic.

    The relative condition of evaluation is estimated by moving every coordinate by one part in 1e10:
    where the value moves by more than `rel` (relative to max(|f|, 1)), the float result itself is
    ill-conditioned (cos(((z**3)**3)**3) at z = 1.94, whose argument is 6e7), and a mismatch there
    says nothing about the derivative rules. Property tests skip such points.
    """
    try:
        base = expr.evaluate(point)
        if not math.isfinite(base):
            return False
        scale = max(abs(base), 1.0)
        for sign in (1.0, -1.0):
            moved = {k: v * (1 + sign * 1e-10) + sign * 1e-300 for k, v in point.items()}
            if not abs(expr.evaluate(moved) - base) <= rel * scale:
                return False
    except (ArithmeticError, ValueError):
        return False
    except Exception as exc:  # gradcore's DomainError and kin: outside the domain is not comparable
        if type(exc).__module__.startswith("gradcore"):
            return False
        raise
    return True
