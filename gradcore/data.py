"""Datasets and mini-batches for Tensor training loops, spelled as torch.utils.data spells them:
TensorDataset, DataLoader, Subset and random_split (also importable as gradcore.utils.data).

A TensorDataset is cut into batches by indexing each tensor once per batch, not row by row.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, Sequence

import numpy as np

from .errors import GradcoreError
from .tensors import Tensor, rng_of, stack, tensor

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate"]


class Dataset:
    """Base class for a dataset: define __len__ and __getitem__(i) -> one sample."""

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__()")

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__()")


class TensorDataset(Dataset):
    """Samples are rows: dataset[i] is (t[i] for t in tensors), so every tensor needs the same
    first dimension. TensorDataset(X, y) pairs each input row with its target."""

    def __init__(self, *tensors: Any) -> None:
        if not tensors:
            raise GradcoreError("TensorDataset needs at least one tensor")
        self.tensors = tuple(t if isinstance(t, Tensor) else tensor(t) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in self.tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise GradcoreError(f"TensorDataset: every tensor needs the same number of rows; "
                                f"their first dimensions are {sizes}")

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def _batch(self, index: Any) -> tuple[Tensor, ...]:
        # A whole batch at once: one slice or one fancy index per tensor.
        return self[index]


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (what random_split returns)."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: Any) -> Any:
        return self.dataset[int(self.indices[index])]

    def _batch(self, index: Any) -> Any:
        inner = getattr(self.dataset, "_batch", None)
        if inner is None:
            return default_collate([self[int(i)] for i in np.arange(len(self))[index]])
        return inner(self.indices[index])


def default_collate(samples: list[Any]) -> Any:
    """Join a list of samples into a batch: tensors, arrays and numbers are stacked along a new
    first axis; a tuple, list or dict of them is joined field by field (one level deep)."""
    first = samples[0]
    if isinstance(first, dict):
        return {k: _stack([s[k] for s in samples]) for k in first}
    if isinstance(first, (tuple, list)):
        fields = [_stack([s[i] for s in samples]) for i in range(len(first))]
        return tuple(fields) if isinstance(first, tuple) else fields
    return _stack(samples)


def _stack(items: list[Any]) -> Tensor:
    if isinstance(items[0], Tensor):
        return stack(items)
    if isinstance(items[0], (dict, tuple, list)):
        raise GradcoreError("default_collate joins samples one level deep (a tuple, list or dict "
                            "of tensors); pass collate_fn= for nested samples")
    return tensor(np.asarray(items))


class DataLoader:
    """Mini-batches of a dataset, one epoch per iteration over the loader.

    shuffle=True draws a new order every epoch from `generator` (gradcore's own generator when None,
    so manual_seed makes runs repeat); drop_last=True leaves out a last batch smaller than
    batch_size; batch_size=None gives the samples one by one, unbatched. Batches of a
    TensorDataset (or a Subset of one) are cut from each tensor at once; other datasets are read
    sample by sample and joined by `collate_fn` (default_collate). num_workers and the other
    options of PyTorch's loader that concern processes are accepted and ignored: it runs here.
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: Any = None,
                 collate_fn: Callable[[list[Any]], Any] | None = None, **ignored: Any) -> None:
        unknown = set(ignored) - {"num_workers", "pin_memory", "persistent_workers",
                                  "prefetch_factor", "timeout", "worker_init_fn"}
        if unknown:
            raise GradcoreError(f"DataLoader got unexpected options {sorted(unknown)}")
        if batch_size is not None and (not isinstance(batch_size, (int, np.integer))
                                       or batch_size < 1):
            raise GradcoreError(f"batch_size must be a positive integer or None, not {batch_size!r}")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.generator = generator
        self.collate_fn = collate_fn

    def __len__(self) -> int:
        """The number of batches in one epoch: ceil(n / batch_size), or floor with drop_last."""
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.dataset)
        order = rng_of(self.generator).permutation(n) if self.shuffle else None
        if self.batch_size is None:
            for i in (range(n) if order is None else order.tolist()):
                yield self.dataset[i]
            return
        size = self.batch_size
        fetch = None if self.collate_fn is not None else getattr(self.dataset, "_batch", None)
        stop = n - n % size if self.drop_last else n
        for start in range(0, stop, size):
            end = min(start + size, n)
            # In order, a batch is a slice (a view, no copy); shuffled, an index array.
            index = slice(start, end) if order is None else order[start:end]
            if fetch is not None:
                yield fetch(index)
            else:
                rows = range(start, end) if order is None else index.tolist()
                yield (self.collate_fn or default_collate)([self.dataset[i] for i in rows])


def random_split(dataset: Any, lengths: Sequence[float], generator: Any = None) -> list[Subset]:
    """Split `dataset` into disjoint random Subsets of the given lengths, which sum to len(dataset);
    or of fractions summing to 1, each floor(f * n), the leftover rows handed out one each from
    the first subset on (PyTorch's rule)."""
    n = len(dataset)
    total = float(np.sum(lengths))
    if math.isclose(total, 1.0) and total <= 1 and all(f >= 0 for f in lengths):
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - int(np.sum(counts))):
            counts[i % len(counts)] += 1
    else:
        counts = [int(c) for c in lengths]
        if any(c != f or c < 0 for c, f in zip(counts, lengths)):
            raise GradcoreError(f"random_split: lengths must be whole numbers or fractions, "
                                f"not {list(lengths)}")
    if int(np.sum(counts)) != n:
        raise GradcoreError(f"random_split: the lengths {list(lengths)} add up to "
                            f"{int(np.sum(counts))}, but the dataset has {n} samples")
    order = rng_of(generator).permutation(n)
    bounds = np.cumsum([0] + counts)
    return [Subset(dataset, order[a:b]) for a, b in zip(bounds[:-1], bounds[1:])]
