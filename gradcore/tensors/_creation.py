"""Making tensors: from data, filled, ranges, random (one seeded generator, created on first use,
or a Generator object of your own), and by joining several tensors; plus the dtype names PyTorch
code spells (float32, ...).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from ..errors import GradcoreError
from ._tensor import Tensor, as_array
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
    t = Tensor._make(as_array(data, dtype))
    return t.requires_grad_(True) if requires_grad else t


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


class Generator:
    """A random number generator of your own, as torch.Generator: `g = Generator().manual_seed(0)`,
    then `randperm(n, generator=g)`, `DataLoader(..., generator=g)` or `random_split(..., generator=g)`.
    It draws from numpy's default generator, so the numbers differ from torch's."""

    def __init__(self) -> None:
        self.rng = np.random.default_rng()

    def manual_seed(self, seed: int) -> "Generator":
        """Restart the stream from `seed`. Returns self, so that it chains."""
        self.rng = np.random.default_rng(seed)
        return self


def rng_of(gen: Any = None) -> np.random.Generator:
    """The numpy generator behind `gen`: a Generator, a numpy Generator, or None for gradcore's
    own (the one manual_seed resets)."""
    if gen is None:
        return generator()
    if isinstance(gen, Generator):
        return gen.rng
    if isinstance(gen, np.random.Generator):
        return gen
    raise GradcoreError(f"generator must be a gradcore Generator or a numpy Generator, "
                        f"not {type(gen).__name__}")


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


def randperm(n: int, generator: Any = None, dtype: Any = np.int64,
             requires_grad: bool = False) -> Tensor:
    """0, 1, ..., n - 1 in a random order (every order equally likely)."""
    perm = rng_of(generator).permutation(int(n)).astype(dtype, copy=False)
    return tensor(perm, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... up to but not including end (arange(n) is 0, ..., n - 1).

    int64 when start, end and step are all integers, float32 otherwise, as in PyTorch.
    """
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                    for v in (start, end, step))
        dtype = np.int64 if whole else np.float32
    if step == 0:
        raise GradcoreError("arange: step must not be 0")
    return tensor(np.arange(start, end, step).astype(dtype), requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, dtype: Any = np.float32,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced numbers from start to end, both included:
    start + i * (end - start) / (steps - 1)."""
    if steps < 0:
        raise GradcoreError(f"linspace: steps must be 0 or more, not {steps}")
    return tensor(np.linspace(start, end, int(steps)).astype(dtype), requires_grad=requires_grad)


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
