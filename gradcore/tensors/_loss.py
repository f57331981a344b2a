"""mse_loss as one graph node (MseLossBackward0), whose gradient chains the table's sub and pow rules.

It sits beside the engine because it records its own node; gradcore.nn is where users find it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..errors import GradcoreError
from . import _buffers
from ._elementwise import F, FORWARD, square_times
from ._node import Node, Op
from ._tensor import Tensor, _lift
from ._vjps import float64_quotient

_SUB_RULES = ops.PRIMITIVES["sub"].vjps
_POW_RULE = ops.PRIMITIVES["pow"].vjps[0]
# The exponent 2 the node saves for the pow rule, one read-only array per float dtype, made once:
# the rules only read it.
_TWO = {np.dtype(d): np.asarray(2, dtype=d) for d in (np.float16, np.float32, np.float64)}
for _two in _TWO.values():
    _two.flags.writeable = False
del _two


def _mse_vjp(node: Node, g: np.ndarray) -> list:
    """mean((x - t) ** 2) as one node: the table's rules for sub and pow, chained after mean's g / n.

    Nothing new is derived here; one node instead of three saves a full-size array per step.
    """
    diff, two, count = node.saved
    g_mean = float64_quotient(g, count)  # g / count
    if g_mean is None:
        g_mean = np.asarray(g / count)
    g_sq = square_times(diff, two, g_mean)  # the pow rule in one pass (see _elementwise.py)
    if g_sq is None:
        g_sq = _POW_RULE(F, g_mean, None, diff, two)
    px, pt = node.parents
    return [None if px is None else _SUB_RULES[0](F, g_sq, None, None, None),
            None if pt is None else _SUB_RULES[1](F, g_sq, None, None, None)]


_MSE = Op("MseLossBackward0", _mse_vjp)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, mean((input - target)**2) ('sum': the sum; 'none': the squares).

    One node in the graph (MseLossBackward0), whose gradient chains the table's sub and pow rules.
    Unlike PyTorch, which only warns, different shapes are an error: broadcasting (n, 1) against
    (n,) would silently compare every prediction with every target.
    """
    t = target if isinstance(target, Tensor) else _lift(target, input)
    if t is None:
        raise GradcoreError(f"mse_loss: cannot use a {type(target).__name__} as the target")
    a, b = input._data, t._data
    if a.shape != b.shape:
        raise GradcoreError(f"mse_loss: input has shape {a.shape} but target has shape "
                            f"{b.shape}; reshape one of them so they match")
    if reduction != "mean":
        if reduction == "none":
            return (input - t) ** 2
        if reduction != "sum":
            raise GradcoreError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    buf = _buffers.empty(a.shape, a.dtype) if a.dtype is b.dtype and a.dtype.kind == "f" else None
    diff = FORWARD.sub(a, b) if buf is None else np.subtract(a, b, buf)
    if a.dtype.kind != "f":
        raise GradcoreError(f"mse_loss needs floating-point tensors, not {a.dtype}")
    count = diff.size if reduction == "mean" and diff.size else 1
    # The sum of squares without BLAS: a dot product (np.vdot) waits for a second BLAS thread on
    # a busy machine, up to 400x slower; np.einsum measured slower than a multiply and a sum into
    # a reused array (benchmarks/bench_tensor.py, docs/performance.md).
    if diff.ndim:
        sq = _buffers.empty(diff.shape, diff.dtype)
        total = np.add.reduce(np.multiply(diff, diff, sq), None)
        del sq  # back to the pool
    else:
        total = diff * diff
    dt = diff.dtype
    two = _TWO.get(dt)
    if two is None:
        two = np.asarray(2, dtype=dt)
    out = float64_quotient(total, count)
    if out is None:
        out = np.true_divide(total, count, dtype=dt)
    return Tensor._make(out, (input, t), _MSE, (diff, two, count))
