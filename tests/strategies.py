"""The one hypothesis strategy for random expression trees over the whole primitive table.

Every property test (parser, symbolic diff, Value, compiled code, minimize) draws from here.
"""

from __future__ import annotations

import math

from hypothesis import strategies as st

from gradcore import ops
from gradcore.expr import Expr, const, raw, var

VARIABLES = ("x", "y", "z")
_CONSTANTS = [const(v) for v in (-3.0, -2.0, -1.0, 0.5, 1.0, 1.5, 2.0, 3.0)] + [
    const(math.pi, "pi"), const(math.e, "e")]


def leaves(names=VARIABLES) -> st.SearchStrategy[Expr]:
    return st.one_of(st.sampled_from([var(n) for n in names]), st.sampled_from(_CONSTANTS))


def _grow_any(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    unary = st.builds(lambda p, a: raw(p, a), st.sampled_from(sorted(ops.FUNCTIONS) + ["neg"]), children)
    binary = st.builds(lambda p, a, b: raw(p, a, b), st.sampled_from(sorted(ops.BINARY.values(), key=lambda r: r.name)).map(lambda r: r.name), children, children)
    return st.one_of(unary, binary)


def _positive(a: Expr) -> Expr:
    return raw("add", raw("mul", a, a), const(0.5))  # a*a + 0.5 > 0


# How each primitive is applied in a "safe" tree, so that random points stay inside its domain.
_SAFE_UNARY = {
    "log": lambda a: raw("log", _positive(a)),
    "sqrt": lambda a: raw("sqrt", _positive(a)),
    "asin": lambda a: raw("asin", raw("mul", const(0.9), raw("tanh", a))),
    "acos": lambda a: raw("acos", raw("mul", const(0.9), raw("tanh", a))),
    "tan": lambda a: raw("tan", raw("mul", const(1.2), raw("tanh", a))),
    "exp": lambda a: raw("exp", raw("tanh", a)),
    "sinh": lambda a: raw("sinh", raw("tanh", a)),
    "cosh": lambda a: raw("cosh", raw("tanh", a)),
}
_SAFE_BINARY = {
    "div": lambda a, b: raw("div", a, _positive(b)),
    "pow": lambda a, b: raw("pow", _positive(a), raw("tanh", b)),
}


def _grow_safe(children: st.SearchStrategy[Expr]) -> st.SearchStrategy[Expr]:
    names = sorted(ops.FUNCTIONS) + ["neg"]

    def unary(name: str, a: Expr) -> Expr:
        return _SAFE_UNARY.get(name, lambda t: raw(name, t))(a)

    def binary(name: str, a: Expr, b: Expr) -> Expr:
        return _SAFE_BINARY.get(name, lambda s, t: raw(name, s, t))(a, b)

    square = st.builds(lambda a, k: raw("pow", a, const(k)), children, st.sampled_from([2.0, 3.0]))
    return st.one_of(
        st.builds(unary, st.sampled_from(names), children),
        st.builds(binary, st.sampled_from(["add", "sub", "mul", "div", "pow"]), children, children),
        square,
    )


def expressions(safe: bool = True, max_leaves: int = 10, names=VARIABLES) -> st.SearchStrategy[Expr]:
    """Random trees. safe=True keeps every function inside its domain for points in [-2, 2]
    (log(a*a + 0.5), asin(0.9*tanh(a)), ...) while still using every row of the table;
    safe=False draws any tree at all (for printing and parsing properties)."""
    grow = _grow_safe if safe else _grow_any
    return st.recursive(leaves(names), grow, max_leaves=max_leaves)


def points(names=VARIABLES, low: float = -2.0, high: float = 2.0) -> st.SearchStrategy[dict]:
    """A point {name: value} with every value in [low, high]."""
    # Tiny magnitudes are flushed to 0: x**2 underflowing in float64 but not in sympy's exact
    # arithmetic is a fact about floats, not a disagreement worth reporting.
    coord = st.floats(low, high, allow_nan=False, allow_infinity=False).map(
        lambda v: 0.0 if abs(v) < 1e-100 else v)
    return st.fixed_dictionaries({n: coord for n in names})
