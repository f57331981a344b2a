"""Large result arrays of the Tensor engine, reused once nothing refers to them any more.

An intermediate of a training step (X @ w + b - Y) is freed at the end of the step and made again
at the next one. glibc returns such freed blocks to the operating system and every new array then
faults its pages in again, which cost more than the arithmetic at 1e5 rows. Reusing the arrays
the engine made keeps those pages: an array is free when the pool holds its only reference.
"""

from __future__ import annotations

import sys
import threading

import numpy as np

__all__ = ["empty", "MIN_BYTES", "MAX_BYTES"]

MIN_BYTES = 1 << 18        # smaller arrays come from malloc's own free lists quickly enough
MAX_BYTES = 1 << 28        # at most this many bytes are kept, in arrays nothing else uses
_PER_KEY = 6               # arrays kept per (shape, dtype): a step holds a few of each at once

_pool: dict[tuple, list[np.ndarray]] = {}
_kept = 0
_getrefcount = sys.getrefcount
_lock = threading.Lock()  # the check "nobody uses it" and the hand-over are one step


def _unused_count() -> int:
    """What getrefcount reports for an array that only a pool list refers to, read in the same
    loop shape as `empty` uses: interpreters differ in the references their own stack holds (3 on
    CPython 3.11: the list, the loop variable, the argument), so the count is measured, not assumed."""
    arrays = [np.empty(0)]
    for a in arrays:
        return _getrefcount(a)
    raise AssertionError("unreachable")


_UNUSED = _unused_count()


def empty(shape: tuple, dtype: np.dtype) -> np.ndarray | None:
    """An uninitialised array of this shape and dtype made or reused by the pool, or None if the
    array is too small to be worth pooling or the pool is full (the caller then lets numpy allocate).

    The caller must write every element (as a ufunc with out= does) before anyone reads it.
    """
    global _kept
    size = dtype.itemsize
    for n in shape:
        size *= n
    if size < MIN_BYTES:
        return None
    key = (shape, dtype)
    with _lock:
        arrays = _pool.get(key)
        if arrays is None:
            arrays = _pool[key] = []
        for a in arrays:
            if _getrefcount(a) <= _UNUSED:  # the pool's own references only: nobody else uses it
                return a
        if len(arrays) >= _PER_KEY or _kept + size > MAX_BYTES:
            return None
        a = np.empty(shape, dtype)
        arrays.append(a)
        _kept += size
        return a


def clear() -> None:
    """Drop every pooled array (those still in use stay alive through their other references)."""
    global _kept
    with _lock:
        _pool.clear()
        _kept = 0


def pooled_bytes() -> int:
    """How many bytes the pool holds, in use or not."""
    return _kept

