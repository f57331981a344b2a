"""The primitive table's rows as Tensor operations: the array namespace F the rules are read with,
one Op per row whose VJP is the table's own rule, and which arrays each rule needs saved.

Nothing is derived here; ops.py is the only place an elementwise derivative is written.
"""

from __future__ import annotations

import dis
from typing import Any

import numpy as np

from .. import ops
from . import _buffers
from ._node import Node, Op


def _pow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x ** y, elementwise. For the exponents 1 and 2 the result is exact either way, so skip the
    general pow loop: the pow rule's own derivative asks for x ** (2 - 1) at every backward step."""
    if np.ndim(y) == 0 and getattr(y, "dtype", x.dtype) == x.dtype:
        e = float(y)
        if e == 1.0:
            return x
        if e == 2.0:
            return np.square(x)
    return np.power(x, y)


def _pow_forward(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    # The tensor engine passes arrays; np.ndim and getattr are for other callers, and cost more.
    if (y.ndim == 0 and y.dtype == x.dtype if type(y) is np.ndarray else
            np.ndim(y) == 0 and getattr(y, "dtype", x.dtype) == x.dtype) and float(y) == 2.0:
        buf = _buffers.empty(x.shape, x.dtype)
        if buf is not None:
            return np.square(x, out=buf)
    out = _pow(x, y)
    return out.copy() if out is x else out  # a new tensor must not share memory with its input


# F: the table's `array` implementations, with the fast path above for pow. The table's VJP rules are
# evaluated with it, so a rule such as "y * pow(x, y - 1) * g" computes arrays. Forward passes use
# FORWARD, the same functions except that pow never hands back its input array.
F = ops.namespace(lambda row: _pow if row.name == "pow" else row.array)
FORWARD = ops.namespace(lambda row: _pow_forward if row.name == "pow" else row.array)


def _reads(rule: Any) -> set[int]:
    """Which of (out, arg0, arg1, ...) a VJP rule `rule(F, g, out, *args)` reads, found in its
    bytecode, so that a node saves only those arrays: d(x + y) reads nothing, d(x * y) reads both
    arguments, d(exp x) reads the output. Anything unusual counts as reading everything."""
    code = getattr(rule, "__code__", None)
    if code is None or code.co_flags & 0x04:  # not plain Python code, or *args
        return set(range(8))
    params = code.co_varnames[:code.co_argcount]
    read: set[str] = set()
    for ins in dis.get_instructions(rule):
        if "FAST" in ins.opname or "DEREF" in ins.opname or "CLOSURE" in ins.opname:
            read.update(ins.argval if isinstance(ins.argval, tuple) else (ins.argval,))
    return {i for i, name in enumerate(params[2:]) if name in read}


def _elementwise_vjp(row: ops.Primitive) -> Any:
    # The table's rule for argument i, evaluated on arrays, and only for the arguments that need a
    # gradient: x ** 2 never evaluates log(x) (the exponent's rule) at a negative x.
    if row.arity == 1:
        (rule,) = row.vjps

        def vjp(node: Node, g: np.ndarray) -> list:
            out, x = node.saved
            return [rule(F, g, out, x)]
        return vjp

    if row.arity != 2:
        rules = row.vjps

        def vjp_n(node: Node, g: np.ndarray) -> list:
            out, *args = node.saved
            return [None if p is None else rule(F, g, out, *args)
                    for rule, p in zip(rules, node.parents)]
        return vjp_n

    rule_x, rule_y = row.vjps

    def vjp2(node: Node, g: np.ndarray) -> list:
        out, x, y = node.saved
        px, py = node.parents
        return [None if px is None else rule_x(F, g, out, x, y),
                None if py is None else rule_y(F, g, out, x, y)]
    return vjp2


def _save_plan(row: ops.Primitive) -> dict[tuple[bool, ...], tuple[bool, ...]]:
    """For each pattern of which arguments need a gradient: whether to save (out, arg0, arg1, ...)."""
    plan = {}
    for mask in np.ndindex(*([2] * row.arity)):
        read = set().union(*[_reads(r) for r, m in zip(row.vjps, mask) if m])
        plan[tuple(bool(m) for m in mask)] = tuple(i in read for i in range(row.arity + 1))
    return plan


def _scalar_of(g: np.ndarray) -> np.ndarray | None:
    """The 0-d array g broadcasts, if g is one number spread over a shape (what the VJPs of sum and
    mean over all elements send back); otherwise None."""
    if g.ndim and not any(g.strides) and g.base is not None:
        base = g.base
        if type(base) is np.ndarray and base.ndim == 0 and base.dtype == g.dtype:
            return base  # the number itself, as _vjps._spread views it: no copy needed
        return np.asarray(g.flat[0])
    return None


def _square_vjp(table_vjp: Any) -> Any:
    """The pow row's rule d(x**y)/dx = y * x**(y-1) * g, applied as x * (y * g) when y is the
    number 2 and g is a single number spread over x's shape (the loss sum/mean((...)**2)).

    Same rule, same numbers: 2 * x is exact, so (2 * x) * g == x * (2 * g) bit for bit (checked by
    tests/test_tensor_fused.py against the table's own rule), in one pass over x instead of two.
    Anything else goes to the table's rule as it is written.
    """
    def vjp(node: Node, g: np.ndarray) -> list:
        out, x, y = node.saved
        if node.parents[1] is None:
            s = _scalar_of(g)
            if s is not None:
                fused = square_times(x, y, s)
                if fused is not None:
                    return [fused, None]
        return table_vjp(node, g)
    return vjp


# A quarter of the largest finite number of each float dtype: below it, 2 * s cannot overflow.
# (Not longdouble: float(y) == 2.0 would not prove that y is exactly 2.)
_QUARTER_MAX = {np.dtype(t): 0.25 * float(np.finfo(t).max)
                for t in (np.float16, np.float32, np.float64)}


def square_times(x: np.ndarray, y: np.ndarray | None, s: np.ndarray) -> np.ndarray | None:
    """x * (y * s) when y is the 0-d number 2 and s a 0-d number of x's dtype, small enough that
    2 * s is exact; None otherwise (then the table's rule is evaluated as written)."""
    limit = _QUARTER_MAX.get(s.dtype) if y is not None and x.dtype == y.dtype == s.dtype else None
    if (limit is not None and y.ndim == 0 and s.ndim == 0 and float(y) == 2.0
            and abs(float(s)) < limit):
        buf = _buffers.empty(x.shape, x.dtype)
        return np.multiply(x, y * s) if buf is None else np.multiply(x, y * s, out=buf)
    return None


# One op per table row, named as PyTorch names its grad_fn (MulBackward0, ...). pow's VJP is the
# table's rule with the one evaluation shortcut above.
ELEMENTWISE: dict[str, Op] = {
    name: Op(name.capitalize() + "Backward0",
             _square_vjp(_elementwise_vjp(row)) if name == "pow" else _elementwise_vjp(row))
    for name, row in ops.PRIMITIVES.items()
}
SAVE_PLAN = {name: _save_plan(row) for name, row in ops.PRIMITIVES.items()}
