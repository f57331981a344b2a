"""mse_loss as one graph node (MseLossBackward0), whose gradient chains the table's sub and pow rules.

It sits beside the engine because it records its own node; gradcore.nn is where users find it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from ..errors import GradcoreError
from ._elementwise import F, FORWARD
from ._node import Node, Op
from ._tensor import Tensor, _lift

_SUB_RULES = ops.PRIMITIVES["sub"].vjps
_POW_RULE = ops.PRIMITIVES["pow"].vjps[0]


def _mse_vjp(node: Node, g: np.ndarray) -> list:
    """mean((x - t) ** 2) as one node: the table's rules for sub and pow, chained after mean's g / n.

    Nothing new is derived here; one node instead of three saves a full-size array per step.
    """
    diff, two, count = node.saved
    g_sq = _POW_RULE(F, np.asarray(g / count), None, diff, two)
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
    diff = FORWARD.sub(input._data, t._data)
    if input._data.dtype.kind != "f":
        raise GradcoreError(f"mse_loss needs floating-point tensors, not {input._data.dtype}")
    count = diff.size if reduction == "mean" and diff.size else 1
    # The sum of squares as a dot product: no array of squares is made.
    total = np.vdot(diff, diff).astype(diff.dtype) if diff.ndim else diff * diff
    two = np.asarray(2, dtype=diff.dtype)
    return Tensor._make(np.true_divide(total, count, dtype=diff.dtype), (input, t), _MSE,
                        (diff, two, count))
