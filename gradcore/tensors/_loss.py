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

_SUB_RULES = ops.PRIMITIVES["sub"].vjps
_POW_RULE = ops.PRIMITIVES["pow"].vjps[0]


def _mse_vjp(node: Node, g: np.ndarray) -> list:
    """mean((x - t) ** 2) as one node: the table's rules for sub and pow, chained after mean's g / n.

    Nothing new is derived here; one node instead of three saves a full-size array per step.
    """
    diff, two, count = node.saved
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
    if t._data.shape != input._data.shape:
        raise GradcoreError(f"mse_loss: input has shape {input._data.shape} but target has shape "
                            f"{t._data.shape}; reshape one of them so they match")
    if reduction == "none":
        return (input - t) ** 2
    if reduction not in ("mean", "sum"):
        raise GradcoreError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    a, b = input._data, t._data
    buf = _buffers.empty(a.shape, a.dtype) if a.dtype is b.dtype and a.dtype.kind == "f" else None
    diff = FORWARD.sub(a, b) if buf is None else np.subtract(a, b, out=buf)
    if input._data.dtype.kind != "f":
        raise GradcoreError(f"mse_loss needs floating-point tensors, not {input._data.dtype}")
    count = diff.size if reduction == "mean" and diff.size else 1
    # The sum of squares without BLAS: a dot product (np.vdot) waits for a second BLAS thread on
    # a busy machine, up to 400x slower; np.einsum measured slower than a multiply and a sum into
    # a reused array (benchmarks/bench_tensor.py, docs/performance.md).
    if diff.ndim:
        sq = _buffers.empty(diff.shape, diff.dtype)
        total = np.add.reduce(np.multiply(diff, diff, out=sq), axis=None)
        del sq  # back to the pool
    else:
        total = diff * diff
    two = np.asarray(2, dtype=diff.dtype)
    return Tensor._make(np.true_divide(total, count, dtype=diff.dtype), (input, t), _MSE,
                        (diff, two, count))
