"""Making tensors: from data, filled, random (one seeded generator, created on first use), and by
joining several tensors; plus the dtype names PyTorch code spells (float32, ...).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import GradcoreError
from ._tensor import Tensor
from ._vjps import CAT

float32 = np.float32
float64 = np.float64
int64 = np.int64
bool_ = np.bool_


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of `data`.

    Python floats (and lists of them) become float32 and Python ints int64, as in PyTorch; numpy
    arrays and numpy scalars keep their dtype; `dtype=` overrides both.
    """
    return Tensor(data, requires_grad=requires_grad, dtype=dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array (no copy; changes show through both ways)."""
    if not isinstance(array, np.ndarray):
        raise GradcoreError(f"from_numpy expects a numpy.ndarray, not {type(array).__name__}")
    return Tensor._make(array)


# Made on first use: numpy.random costs start-up time that a run without random numbers should not pay.
_RNG: np.random.Generator | None = None


def manual_seed(seed: int) -> None:
    """Seed the generator behind randn, rand and nn.Linear's initial weights."""
    global _RNG
    _RNG = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The random generator gradcore draws from (reset by manual_seed)."""
    global _RNG
    if _RNG is None:
        _RNG = np.random.default_rng()
    return _RNG


def _shape_args(shape: tuple) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def zeros(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    """A tensor of the given shape filled with 0."""
    return tensor(np.zeros(_shape_args(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    """A tensor of the given shape filled with 1."""
    return tensor(np.ones(_shape_args(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """0s in t's shape and dtype."""
    return zeros(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    """1s in t's shape and dtype."""
    return ones(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def randn(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    """Standard normal samples (numpy's generator: the numbers differ from torch.randn's)."""
    data = generator().standard_normal(_shape_args(shape)).astype(dtype)
    return tensor(data, requires_grad=requires_grad)


def rand(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    """Uniform samples in [0, 1)."""
    data = generator().random(_shape_args(shape)).astype(dtype)
    return tensor(data, requires_grad=requires_grad)


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis `dim` (torch.cat, numpy.concatenate); each input's
    gradient is its own slab of the output's."""
    ts = tuple(t if isinstance(t, Tensor) else tensor(t) for t in tensors)
    if not ts:
        raise GradcoreError("cat() needs at least one tensor")
    data = np.concatenate([t._data for t in ts], axis=dim)
    axis = dim % data.ndim
    bounds = np.cumsum([t._data.shape[axis] for t in ts[:-1]]).tolist()
    return Tensor._make(data, ts, CAT, None, (axis, bounds))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """numpy's spelling of cat."""
    return cat(tensors, dim=axis)


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along a new axis `dim`: cat of each one unsqueezed at `dim`."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    return cat([t.unsqueeze(dim) for t in ts], dim=dim)
