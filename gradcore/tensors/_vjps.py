"""Vector-Jacobian products of the Tensor operations that are not scalar primitives (matmul,
reductions, reshapes, indexing, concatenation, relu and clamp), one registration row each, and
sum_to_shape, the one place where broadcasting is undone. Elementwise rules are the table's (ops.py).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ._elementwise import F
from ._node import Node, Op

_MUL_RULE_X = ops.PRIMITIVES["mul"].vjps[0]
_FLOAT64 = np.dtype(np.float64)


def sum_to_shape(g: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Undo broadcasting: sum g over the axes that broadcasting added or stretched, so that the
    gradient has exactly the input's shape (and dtype). This is the one place broadcasting is undone."""
    if not shape and g.ndim:
        g = np.asarray(np.add.reduce(g, None))  # the common case: a scalar parameter
        return g if g.dtype == dtype else g.astype(dtype)
    if g.shape != shape:
        lead = g.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[lead:])):
            g = np.broadcast_to(g, np.broadcast_shapes(g.shape, shape))
            lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        if g.shape != shape:
            g = g.reshape(shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


def _identity_vjp(node: Node, g: np.ndarray) -> list:
    # d(copy)/dx = 1; a cast's gradient is cast back by sum_to_shape, which knows the source dtype.
    return [g]


def _matmul_vjp(node: Node, g: np.ndarray) -> list:
    """C = A @ B: dA = g @ B^T, dB = A^T @ g, with numpy's rules for 1-D operands and batches."""
    a, b = node.saved
    a_nd, b_nd = node.ctx
    need_a, need_b = node.parents[0] is not None, node.parents[1] is not None
    ga = gb = None
    if a_nd <= 2 and b_nd <= 2:
        if a_nd == 2 and b_nd == 2:
            ga = g @ b.T if need_a else None
            gb = a.T @ g if need_b else None
        elif a_nd == 2:  # (n, k) @ (k,) -> (n,)
            ga = np.multiply.outer(g, b) if need_a else None
            gb = a.T @ g if need_b else None
        elif b_nd == 2:  # (k,) @ (k, m) -> (m,)
            ga = b @ g if need_a else None
            gb = np.multiply.outer(a, g) if need_b else None
        else:  # (k,) @ (k,) -> ()
            ga = g * b if need_a else None
            gb = g * a if need_b else None
        return [ga, gb]
    # Batched: view 1-D operands as a row / a column, then drop that axis again; sum_to_shape
    # sums the batch axes that broadcasting added.
    g2 = g
    if a_nd == 1:
        g2 = np.expand_dims(g2, -2)
    if b_nd == 1:
        g2 = np.expand_dims(g2, -1)
    if need_a:
        b2 = b[:, None] if b_nd == 1 else b
        ga = g2 @ np.swapaxes(b2, -1, -2)
        if a_nd == 1:
            ga = ga[..., 0, :]
    if need_b:
        a2 = a[None, :] if a_nd == 1 else a
        gb = np.swapaxes(a2, -1, -2) @ g2
        if b_nd == 1:
            gb = gb[..., 0]
    return [ga, gb]


def _expand_reduced(g: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """Put back the axes a reduction removed, so that g broadcasts against the input."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g


def _spread(g: np.ndarray, shape: tuple, axis: Any, keepdims: bool) -> np.ndarray:
    """g sent to every element a reduction combined: a read-only broadcast view, no copy."""
    if g.ndim == 0:
        # The whole-array case, built directly: np.broadcast_to costs more than the rest of
        # the backward step on small inputs.
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(_expand_reduced(g, axis, keepdims), shape)


def _sum_vjp(node: Node, g: np.ndarray) -> list:
    # d(sum x)/dx_i = 1: every element receives g.
    axis, keepdims, shape = node.ctx
    return [_spread(g, shape, axis, keepdims)]


def float64_quotient(v: Any, count: int) -> np.ndarray | None:
    """v / count as a 0-d array when v is one float64 number (a loss, or its gradient), in Python
    floats: the same IEEE division, without a ufunc call on a numpy scalar. None otherwise (the
    caller then divides with numpy)."""
    if v.ndim == 0 and v.dtype == _FLOAT64:
        return np.array(float(v) / count)
    return None


def _mean_vjp(node: Node, g: np.ndarray) -> list:
    # d(mean x)/dx_i = 1/count.
    axis, keepdims, shape = node.ctx
    count = max(math.prod(shape) // max(math.prod(node.shape), 1), 1)
    q = float64_quotient(g, count)
    return [_spread(np.asarray(g / count) if q is None else q, shape, axis, keepdims)]


def _extremum_vjp(node: Node, g: np.ndarray) -> list:
    # d(max x)/dx_i = 1 where x_i is the maximum; ties share it equally (as torch.amax does).
    x, out = node.saved
    axis, keepdims = node.ctx
    hit = x == _expand_reduced(out, axis, keepdims)
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return [share * _expand_reduced(g, axis, keepdims)]


def _reshape_vjp(node: Node, g: np.ndarray) -> list:
    return [g.reshape(node.ctx)]


def _transpose_vjp(node: Node, g: np.ndarray) -> list:
    return [g.transpose(np.argsort(node.ctx))]


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))
               and not isinstance(i, (bool, np.bool_)) for i in items)


def _getitem_vjp(node: Node, g: np.ndarray) -> list:
    # Scatter g back into zeros. Basic indexing (ints, slices) never repeats an element, so plain
    # assignment is enough; advanced indexing can (x[[0, 0]]), so np.add.at adds the repeats.
    index, shape = node.ctx
    full = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        full[index] = g
    else:
        np.add.at(full, index, g)
    return [full]


def _mask_vjp(node: Node, g: np.ndarray) -> list:
    # relu and clamp pass x through where a 0/1 mask holds and a constant elsewhere, so their
    # derivative is the table's mul rule for x * mask, with the mask saved as booleans.
    return [_MUL_RULE_X(F, g, None, None, node.saved)]


def _cat_vjp(node: Node, g: np.ndarray) -> list:
    # Each input gets back its own slab of g.
    axis, bounds = node.ctx
    return np.split(g, bounds, axis=axis)


# The registration rows: the op each Tensor method records (node.saved and node.ctx are what the
# method stored for it), named as PyTorch names its grad_fn.
CLONE = Op("CloneBackward0", _identity_vjp)
CAST = Op("ToCopyBackward0", _identity_vjp)
MATMUL = Op("MmBackward0", _matmul_vjp)
SUM = Op("SumBackward0", _sum_vjp)
MEAN = Op("MeanBackward0", _mean_vjp)
MAX = Op("MaxBackward0", _extremum_vjp)
MIN = Op("MinBackward0", _extremum_vjp)
RESHAPE = Op("ViewBackward0", _reshape_vjp)
TRANSPOSE = Op("PermuteBackward0", _transpose_vjp)
GETITEM = Op("IndexBackward0", _getitem_vjp)
CAT = Op("CatBackward0", _cat_vjp)
RELU = Op("ReluBackward0", _mask_vjp)
CLAMP = Op("ClampBackward1", _mask_vjp)
