"""Dask arrays through the numpy path: the generated code runs chunk by chunk (map_blocks), so nothing
asks for the whole input at once, and each chunk knows its offset so that a domain warning names the
index in the whole array; and dask-backed data as a stream of chunks for fitting. dask is imported
only when the caller already has dask arrays.
"""

from __future__ import annotations

import functools
import sys
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np

__all__ = ["has_dask", "blockwise", "batches"]


def has_dask(args: Sequence[Any]) -> bool:
    """Is any argument a dask array? (Without importing dask: a caller with one has imported it.)"""
    da = sys.modules.get("dask.array")
    return da is not None and any(isinstance(a, da.Array) for a in args)


def blockwise(run: Callable[..., Any], kind: str, args: Sequence[Any], n: int) -> Any:
    """`kind` (value, grad, value_and_grad, hessian) over dask arrays, as dask arrays: run(block,
    *chunks) is called once per chunk of the broadcast inputs, where block = (offset, whole shape).

    n is the number of results (value 1, grad n, value_and_grad n + 1) or, for the Hessian, of
    variables. The results of one chunk are stacked on a new last axis, one task per chunk.
    """
    import dask.array as da

    arrays: list[Any] = []
    for a in args:
        if isinstance(a, (int, float)) and not isinstance(a, bool):
            arrays.append(float(a))  # stays a weak Python scalar, as on the numpy path
            continue
        a = da.asarray(a)
        arrays.append(a.astype(np.float64) if a.dtype.kind in "biu" else a)
    lazy = [k for k, a in enumerate(arrays) if not isinstance(a, float)]
    broadcast = da.broadcast_arrays(*[arrays[k] for k in lazy])
    shape = broadcast[0].shape
    dtype = np.result_type(*[a.dtype for a in broadcast])
    ndim = len(shape)
    if kind == "value":
        extra: tuple = ()
    elif kind == "hessian":
        extra = (n, n)
    else:
        extra = (n,)
    func = functools.partial(_chunk, run, kind, tuple(arrays), tuple(lazy), shape)
    out = da.map_blocks(func, *broadcast, dtype=dtype, meta=np.empty((0,) * (ndim + len(extra)), dtype),
                        new_axis=list(range(ndim, ndim + len(extra))) or None,
                        chunks=None if not extra else broadcast[0].chunks + tuple((k,) for k in extra),
                        name=f"gradcore-{kind}-" + da.core.tokenize(run, kind, *arrays))
    if kind in ("value", "hessian"):
        return out
    parts = tuple(out[..., k] for k in range(n))
    return parts if kind == "grad" else (parts[0], parts[1:])


def _chunk(run: Callable[..., Any], kind: str, arrays: tuple, lazy: tuple, shape: tuple, *chunks: Any,
           block_info: dict | None = None) -> np.ndarray:
    """One task: the chunks in their places among the scalar arguments, the chunk's offset from
    dask's block_info, and the results stacked (a tuple of results cannot be one dask chunk)."""
    args = list(arrays)
    for k, c in zip(lazy, chunks):
        args[k] = c
    location = block_info[0]["array-location"] if block_info else [(0, s) for s in shape]
    res = run((tuple(start for start, _ in location), shape), *args)
    if kind == "value":
        return res
    if kind == "hessian":
        return res
    flat = list(res) if kind == "grad" else [res[0], *res[1]]
    return np.stack(flat, axis=-1)


def batches(data: Any) -> Callable[[], Iterator[dict]] | None:
    """Dask-backed data (a dict with dask array columns, or a dask DataFrame) as a stream for fitting:
    a function returning a fresh iterator over its chunks, each a dict of numpy columns, computed one
    at a time so that one chunk is in memory. None for any other data."""
    da, dd = sys.modules.get("dask.array"), sys.modules.get("dask.dataframe")
    if da is not None and isinstance(data, Mapping) and any(isinstance(v, da.Array) for v in data.values()):
        import dask

        cols = {str(k): da.asarray(v) for k, v in data.items()}
        first = next(iter(cols.values()))
        cols = {k: v.rechunk(first.chunks) for k, v in cols.items()}

        def chunks() -> Iterator[dict]:
            for i in range(first.numblocks[0]):
                yield dict(zip(cols, dask.compute(*[v.blocks[i] for v in cols.values()])))
        return chunks
    if dd is not None and isinstance(data, dd.DataFrame):
        def partitions() -> Iterator[dict]:
            for i in range(data.npartitions):
                part = data.partitions[i].compute()
                yield {str(c): part[c].to_numpy() for c in part.columns if part[c].dtype.kind in "biuf"}
        return partitions
    return None
