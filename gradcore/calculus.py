"""Gradients and Hessians of formulas and Python functions at a point, by reverse-mode autograd.

Formulas go through compiled adjoint code (codegen/); Python functions through Value graphs.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np

from .errors import DomainError, GradcoreError
from .value import Value, grad

__all__ = ["gradient", "hessian"]


def gradient(f: Any, point: Mapping[str, float]) -> dict[str, float]:
    """All first partials at `point`: {name: df/dname}.

    `f` is an Expr or formula text (partials in `expr.variables` order; `point` is a dict, where
    extra names are ignored as by Expr.evaluate, or a sequence in that order, or a number for a
    formula of one variable), or a Python function of Values called as f(**point) (partials in
    the point's order). Computed by reverse mode: one forward pass, one backward sweep.
    """
    expr = _as_expr(f)
    if expr is not None:
        return _expr_gradient(expr, point)
    names, values = _function_point(f, point)
    out = _call(f, names, values)
    if not isinstance(out, Value) or not out.requires_grad:
        return {n: 0.0 for n in names}
    return dict(zip(names, grad(out, values)))


def hessian(f: Any, point: "Mapping[str, float] | Sequence[float]") -> np.ndarray:
    """The matrix of second partials H[i, j] = d2f / dv_i dv_j at `point`, as a float64 numpy array.

    `f` is an Expr or formula text: rows and columns follow `expr.variables` (sorted names), and
    `point` is a dict, a sequence in that order, or a number for one variable. Or `f` is a Python function of Values: with a dict point it is called as
    f(**point) and rows follow the dict's order; with a sequence it is called as f(*point) and rows
    follow the sequence. Reverse over reverse: grad(create_graph=True) gives each first partial as a
    Value with a graph, and a second sweep differentiates it.
    """
    expr = _as_expr(f)
    if expr is not None:
        return _expr_hessian(expr, point)
    if isinstance(point, Mapping):
        names, values = _function_point(f, point)
        root = _call(f, names, values)
    else:
        values = [Value(_float(v, f"point[{i}]")) for i, v in enumerate(point)]
        root = _call(f, None, values)
        point = dict(enumerate(point))
    return hessian_at(root, values, point)


# ---- the Expr branch: one function each, so a compiled implementation can replace them ----------

def _expr_gradient(expr: Any, point: Mapping[str, float]) -> dict[str, float]:
    """Gradient of an Expr at `point` by its compiled adjoint code (gradcore.compile): the same
    reverse mode as a Value graph, generated once from the table's rules and cached. Array values
    (numpy, or dask: lazily, chunk by chunk) give an array per partial."""
    from .codegen import array_point, compile as compile_expr
    from .expr import as_point, point_values

    point = as_point(expr, point)
    arrays = array_point(expr, point)
    if arrays is not None:
        return dict(zip(expr.variables, compile_expr(expr).grad(*arrays)))
    env = point_values(expr, point)
    return dict(zip(expr.variables, compile_expr(expr).grad(*env.values())))


def _expr_hessian(expr: Any, point: Mapping[str, float]) -> np.ndarray:
    """Hessian of an Expr at `point`, rows in expr.variables order, by compiled reverse-over-reverse code;
    array values of shape S (numpy or dask) give an S + (n, n) array."""
    from .codegen import array_point, compile as compile_expr
    from .expr import as_point, point_values

    point = as_point(expr, point)
    arrays = array_point(expr, point)
    if arrays is not None:
        return compile_expr(expr).hessian(*arrays)
    env = point_values(expr, point)
    return np.asarray(compile_expr(expr).hessian(*env.values()), dtype=float).reshape(len(env), len(env))


# ---- helpers ---------------------------------------------------------------------------------

def _as_expr(f: Any) -> Any:
    """An Expr for an Expr or formula text; None for a callable; an error for anything else."""
    from .expr import Expr
    from .parse import as_formula

    if isinstance(f, (Expr, str)):
        return as_formula(f)
    if callable(f):
        return None
    raise TypeError(f"expected an Expr, formula text or a function of Values, got {type(f).__name__}")


def _float(v: Any, what: str) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise GradcoreError(f"the value of {what} must be a number, got {v!r}") from None


def _function_point(f: Callable, point: Any) -> tuple[list[str], list[Value]]:
    if not isinstance(point, Mapping):
        raise GradcoreError("the point must be a dict {name: value} for a function of named variables")
    names = list(point)
    return names, [Value(_float(point[n], n), label=str(n)) for n in names]


def _call(f: Callable, names: list[str] | None, values: list[Value]) -> Any:
    out = f(**dict(zip(names, values))) if names is not None else f(*values)
    if not isinstance(out, Value):
        try:
            return float(out)
        except (TypeError, ValueError):
            raise GradcoreError(f"the function must return a Value or a number, got {type(out).__name__}") from None
    return out


def hessian_at(root: Any, values: list[Value], point: Mapping) -> np.ndarray:
    """H[i, j] = d2 root / d values[i] d values[j], by grad(create_graph=True) then a second sweep;
    a DomainError names `point`. Shared by gradcore.hessian and minimize's Python-function objectives."""
    n = len(values)
    h = np.zeros((n, n))
    if not isinstance(root, Value) or not root.requires_grad:
        return h
    try:
        first = grad(root, values, create_graph=True)
        for i, gi in enumerate(first):
            if isinstance(gi, Value) and gi.requires_grad:
                h[i] = grad(gi, values)
    except DomainError as exc:
        raise exc.at({str(k): float(v) for k, v in point.items()}) from None
    return h
