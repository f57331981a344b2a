"""The data a fit reads: named float64 columns from a dict, a 2-D array, a DataFrame or a CSV file, and
streams of batches (a CSV read in chunks, or any iterable of dicts) for data larger than memory.

Every fault in a CSV file is a GradcoreError naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
import math
import os
from itertools import islice
from typing import Any, Iterable, Iterator, Mapping, Sequence

import numpy as np

from ..errors import GradcoreError

__all__ = ["Columns", "read_csv", "csv_batches", "CSVBatches", "columns_of", "batch_slices"]

Columns = dict[str, np.ndarray]

# Rows per chunk when a CSV is streamed: a few MB of text and arrays, whatever the file's size.
CHUNK_ROWS = 65_536


def columns_of(data: Any, columns: Sequence[str] | None = None) -> Columns:
    """In-memory data as {name: 1-D float64 array}, all of one length.

    data: a dict of 1-D sequences, a 2-D array (n rows, one column per name in `columns`), a pandas
    DataFrame (duck-typed: pandas is not imported here; its non-numeric columns are left out), or
    the path of a CSV file.
    """
    if isinstance(data, (str, os.PathLike)):
        return read_csv(data)
    if hasattr(data, "columns") and hasattr(data, "to_numpy") and not isinstance(data, np.ndarray):
        # A DataFrame's text columns (names, labels) cannot be model variables: they are left out.
        numeric = [c for c in data.columns if getattr(data[c].dtype, "kind", "O") in "biuf"]
        return _checked({str(c): _numbers(data[c].to_numpy(), str(c)) for c in numeric})
    if isinstance(data, Mapping):
        return _checked({str(k): _numbers(v, str(k)) for k, v in data.items()})
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise GradcoreError("data must be a dict of columns, a 2-D array with columns=[names], a "
                            f"DataFrame, a CSV path or an iterable of batches; got an array of shape {arr.shape}")
    if columns is None or len(columns) != arr.shape[1]:
        raise GradcoreError(f"a 2-D array needs columns= with one name per column ({arr.shape[1]}), "
                            f"got {columns!r}")
    return _checked({str(n): _numbers(arr[:, k], str(n)) for k, n in enumerate(columns)})


def _numbers(values: Any, name: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise GradcoreError(f"column {name!r} holds something that is not a number") from None
    if arr.ndim != 1:
        raise GradcoreError(f"column {name!r} must be 1-D, got shape {arr.shape}")
    return arr


def _checked(cols: Columns, where: str = "") -> Columns:
    """All columns of one length and finite; a NaN would silently poison every gradient."""
    lengths = {len(v) for v in cols.values()}
    if len(lengths) > 1:
        raise GradcoreError("the columns have different lengths: " +
                            ", ".join(f"{k} {len(v)}" for k, v in cols.items()))
    for name, v in cols.items():
        # A sum is finite exactly when every entry is, unless finite entries overflow it: then look.
        if not math.isfinite(v.sum()) and not np.isfinite(v).all():
            i = int(np.flatnonzero(~np.isfinite(v))[0])
            raise GradcoreError(f"{where}column {name!r}, row {i}: {v[i]} is not a finite number")
    return cols


# ---- CSV --------------------------------------------------------------------------------------------


def read_csv(path: str | os.PathLike) -> Columns:
    """A whole CSV file as columns: the header row names them, every other cell is a number."""
    parts = list(CSVBatches(path, rows=None))
    if not parts:
        header = _header_only(path)
        raise GradcoreError(f"{os.fspath(path)}: no data rows below the header (line 1: {', '.join(header)})")
    return parts[0]


def csv_batches(path: str | os.PathLike, rows: int = CHUNK_ROWS) -> "CSVBatches":
    """A CSV file as a re-iterable stream of chunks of `rows` rows each: memory stays bounded by one
    chunk whatever the file's size, and each pass (epoch) reads the file again from the start."""
    return CSVBatches(path, rows)


class CSVBatches:
    """Iterate to read the file in chunks of {name: array}; iterate again for another pass."""

    def __init__(self, path: str | os.PathLike, rows: int | None = CHUNK_ROWS) -> None:
        if rows is not None and not (isinstance(rows, int) and rows >= 1):
            raise GradcoreError(f"rows must be a whole number >= 1, got {rows!r}")
        self.path, self.rows = os.fspath(path), rows

    def __repr__(self) -> str:
        return f"csv_batches({self.path!r}, rows={self.rows})"

    def __iter__(self) -> Iterator[Columns]:
        try:
            handle = open(self.path, encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise GradcoreError(f"cannot read {self.path}: {exc.strerror or exc}") from None
        with handle:
            names = _header(self.path, handle)
            line = 2  # the file line of the chunk's first row
            while True:
                lines = list(islice(handle, self.rows)) if self.rows else handle.readlines()
                if not lines:
                    return
                block = _parse(self.path, names, lines, line)
                line += len(lines)
                if len(block):
                    yield _checked(dict(zip(names, block.T.copy())), f"{self.path}, ")


def _header(path: str, handle: Any) -> list[str]:
    first = handle.readline()
    if not first.strip():
        raise GradcoreError(f"{path}, line 1: the file is empty (expected a header row naming the columns)")
    names = [n.strip() for n in next(csv.reader([first]))]
    for col, n in enumerate(names, 1):
        if not n:
            raise GradcoreError(f"{path}, line 1, column {col}: the header cell is empty (name every column)")
        if names.index(n) != col - 1:
            raise GradcoreError(f"{path}, line 1, column {col}: the name {n!r} is used twice")
    return names


def _header_only(path: str | os.PathLike) -> list[str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return _header(os.fspath(path), handle)


def _parse(path: str, names: list[str], lines: list[str], first_line: int) -> np.ndarray:
    """The chunk's rows as an (n, columns) array. numpy's C reader does the work; when it refuses a
    chunk, the chunk is read again cell by cell to name the first fault (or to accept quoted numbers)."""
    try:
        block = np.loadtxt(lines, delimiter=",", ndmin=2, dtype=np.float64, comments=None)
    except ValueError:
        block = None
    if (block is not None and (block.size == 0 or block.shape[1] == len(names))
            and math.isfinite(block.sum())):
        return block.reshape(-1, len(names))
    rows: list[list[float]] = []
    for k, cells in enumerate(csv.reader(io.StringIO("".join(lines)))):
        line = first_line + k
        if not cells or all(not c.strip() for c in cells) and len(cells) <= 1:
            continue  # a blank line
        if len(cells) != len(names):
            what = (f"column {len(names) + 1} is one too many" if len(cells) > len(names)
                    else f"column {len(cells) + 1} ({names[len(cells)]}) is missing")
            raise GradcoreError(f"{path}, line {line}: {len(cells)} cell{'s' * (len(cells) != 1)} where the header names "
                                f"{len(names)}; {what}")
        row = []
        for col, cell in enumerate(cells):
            try:
                row.append(float(cell))
            except ValueError:
                raise GradcoreError(f"{path}, line {line}, column {col + 1} ({names[col]}): "
                                    f"{cell.strip()!r} is not a number") from None
            if not math.isfinite(row[-1]):
                raise GradcoreError(f"{path}, line {line}, column {col + 1} ({names[col]}): "
                                    f"{cell.strip()!r} is not a finite number")
        rows.append(row)
    return np.array(rows, dtype=np.float64).reshape(-1, len(names))


# ---- batches ------------------------------------------------------------------------------------------


def batch_slices(n: int, size: int, rng: np.random.Generator | None) -> Iterator[slice | np.ndarray]:
    """One epoch's batches of rows 0..n-1: consecutive slices, or with rng a fresh permutation cut
    into pieces, so every row is visited exactly once per epoch; the last batch may be smaller."""
    if rng is None:
        for i in range(0, n, size):
            yield slice(i, min(i + size, n))
        return
    order = rng.permutation(n)
    for i in range(0, n, size):
        yield order[i:i + size]


def stream_passes(source: Any) -> Iterable[Columns]:
    """The batches of one pass over a stream: `source` is re-iterable (a list, csv_batches(...)) or
    a function returning a fresh iterable; a one-shot iterator gives exactly one pass."""
    return source() if callable(source) else source


def is_stream(data: Any) -> bool:
    """Is `data` an iterable of batches rather than one in-memory table?"""
    if isinstance(data, (str, os.PathLike, Mapping, np.ndarray)) or hasattr(data, "to_numpy"):
        return False
    if isinstance(data, CSVBatches) or callable(data):
        return True
    if isinstance(data, (list, tuple)):
        return bool(data) and all(isinstance(b, Mapping) for b in data)
    return hasattr(data, "__iter__")
