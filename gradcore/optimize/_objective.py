"""The objective of a search: f, its gradient and its Hessian as callables on one float per variable.

A formula runs as generated straight-line code; a Python function of Values runs on the scalar engine.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..codegen import compile as compile_expr
from ..errors import DomainError, GradcoreError
from ..expr import Expr
from ..parse import as_formula

__all__ = ["Objective", "objective"]


class Objective:
    """f as three callables on positional floats: vg(*x) -> (f, grad tuple), hess(*x) -> ndarray.

    `compiled` is the CompiledExpr of a formula (None for a Python function), and `sign` is -1.0
    for the negated objective that maximize descends, so that generated loops can be made for it.
    `curvatures`, where set, is a dict in which the probes remember f''(x) of a one-variable f by
    x (the end-point judgement asks for it at the same few points several times).
    """

    __slots__ = ("variables", "vg", "hess", "expr", "compiled", "sign", "curvatures")

    def __init__(self, variables: tuple[str, ...], vg: Callable, hess: Callable, expr: Expr | None,
                 compiled: Any = None, sign: float = 1.0, curvatures: dict | None = None) -> None:
        self.variables, self.vg, self.hess, self.expr = variables, vg, hess, expr
        self.compiled, self.sign, self.curvatures = compiled, sign, curvatures

    def negated(self) -> "Objective":
        """-f: maximize runs as minimization of -f and flips the sign back when reporting."""
        vg, hess = self.vg, self.hess

        def neg_vg(*x: float) -> tuple[float, list[float]]:
            f, g = vg(*x)
            return -f, [-gi for gi in g]

        return Objective(self.variables, neg_vg, lambda *x: -hess(*x), self.expr, self.compiled,
                         -self.sign)


def objective(f: Any, start: Any) -> Objective:
    """The Objective of a formula (text or Expr) or of a Python function (which needs `start`)."""
    if isinstance(f, Expr):
        return _from_expr(f)
    if isinstance(f, str):
        return _from_expr(as_formula(f))
    if callable(f):
        if start is None:
            raise GradcoreError("a Python function needs start= (a sequence or a dict) to know how many "
                                "variables it takes")
        if isinstance(start, Mapping):
            names = tuple(str(k) for k in start)
        else:
            n = 1 if np.ndim(start) == 0 else len(start)
            names = tuple(f"x{i}" for i in range(n))
        return _from_function(f, names)
    raise GradcoreError(f"minimize needs a formula (text or Expr) or a Python function, "
                        f"not {type(f).__name__}")


def _from_expr(expr: Expr) -> Objective:
    # Generated straight-line code (gradcore.codegen): no graph is rebuilt inside the loop.
    c = compile_expr(expr)
    # The Hessian's code is generated on first use; a lambda keeps plain descent from paying for it.
    return Objective(expr.variables, c.value_and_grad, lambda *x: c.hessian(*x), expr, c)


def _from_function(fn: Callable, names: tuple[str, ...]) -> Objective:
    """A Python function of Values: fn(p) with p a numpy object array of Values, one per variable.

    The gradient is one reverse sweep of gradcore.grad; the Hessian differentiates each gradient
    entry again (create_graph=True). numpy ufuncs work on p: np.sin(p) calls each Value's .sin().
    """
    from ..calculus import hessian_at
    from ..value import Value, grad

    n = len(names)

    def output(x: Sequence[float]) -> tuple[Any, list]:
        leaves = [Value(float(xi)) for xi in x]
        p = np.empty(n, dtype=object)
        p[:] = leaves
        out = fn(p)
        if isinstance(out, np.ndarray) and out.size == 1:
            out = out.reshape(()).item()
        if not isinstance(out, Value):
            raise GradcoreError(
                f"the function returned {type(out).__name__} {out!r}, not a Value: compute with Value "
                "operations (p[0].sin() or np.sin(p), not math.sin(p[0])) so gradients can flow")
        return out, leaves

    def vg(*x: float) -> tuple[float, list[float]]:
        try:
            out, leaves = output(x)
            if not out.requires_grad:  # built from constants only
                return out.data, [0.0] * n
            return out.data, list(grad(out, leaves))
        except DomainError as exc:
            raise exc.at(dict(zip(names, x))) from None

    def hess(*x: float) -> np.ndarray:
        point = dict(zip(names, x))
        try:
            out, leaves = output(x)
        except DomainError as exc:
            raise exc.at(point) from None
        return hessian_at(out, leaves, point)  # reverse over reverse, as gradcore.hessian does

    return Objective(names, vg, hess, None)
