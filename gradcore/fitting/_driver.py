"""fit(model, data, target=...): check the options, read the data, run a descent loop, and report the
fitted parameters in the data's own units with the loss, R^2, a status and, for a linear model, the
exact least-squares answer.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import Any, Callable, Iterable, Mapping, Sequence

import numpy as np

from ..codegen import dask_batches
from ..errors import GradcoreError
from ..format import number
from ..optimize import Status
from ._data import Columns, batch_slices, columns_of, is_stream, stream_passes
from ._loops import Descent, History, full_batch, line_search_bfgs, mini_batch, updater
from ._model import Model, _solve
from ._result import FitResult, FitStep

__all__ = ["fit", "METHODS", "DEFAULT_LR", "DEFAULT_EPOCHS", "DEFAULT_BATCH"]

METHODS: tuple[str, ...] = ("bfgs", "gd", "sgd", "minibatch", "momentum", "adam")
DEFAULT_LR: dict[str, float] = {"gd": 0.01, "sgd": 0.01, "minibatch": 0.01, "momentum": 0.01, "adam": 0.1}
# Passes over the data (bfgs: iterations, each one or more passes).
DEFAULT_EPOCHS: dict[str, int] = {"bfgs": 1000, "gd": 1000, "momentum": 1000, "adam": 1000,
                                  "sgd": 100, "minibatch": 100}
DEFAULT_BATCH = 32


def fit(model: Any, data: Any, target: str | None = None, params: Any = None, loss: str = "mse",
        method: str | None = None, lr: float | None = None, epochs: int | None = None,
        batch_size: int | None = None, shuffle: bool = True, seed: int | None = None, tol: float = 1e-6,
        callback: Callable[[FitStep], Any] | None = None, center: bool = False, standardize: bool = False,
        columns: Sequence[str] | None = None, bind: Mapping[str, str] | None = None) -> FitResult:
    """Fit the parameters of a formula model to data by gradient descent on
    L(theta) = mean_i l(model(theta, x_i), y_i)  (loss "mse": l = (pred - y)^2; "mae": |pred - y|;
    "sse": the sum instead of the mean; or a formula in pred and y, averaged over the rows).

    model: formula text or an Expr, e.g. "w*x + b", "a*exp(-k*t) + c". Its variables that are data
        columns (or are mapped to one by bind={"x": "height"}) are data; the others are parameters.
    data: a dict of 1-D arrays, a 2-D array with columns=[names], a pandas DataFrame, a CSV path
        (the header names the columns), or a stream: an iterable of batches (dicts of arrays), such
        as csv_batches(path), re-iterated once per epoch; memory is then bounded by one batch.
    target: the column to predict (default "y").  params: None (every non-data variable, starting
        at 1), a list of names (exactly these), or a dict {name: start} (the others start at 1).
    method: "bfgs" (the default for data in memory: BFGS with a line search on all rows), "gd"
        (theta <- theta - lr grad L, all rows), "sgd" (one row at a time), "minibatch" (batch_size
        rows at a time, 32 by default; the default for streams), "momentum", "adam" (all rows, or
        batches when batch_size is given).
    lr, epochs: the learning rate and the number of passes over the data (DEFAULT_LR, DEFAULT_EPOCHS).
    shuffle, seed: visit the rows of each epoch in a fresh random order (numpy default_rng(seed)).
    tol: a full-batch method stops when |grad L| < tol; every run is converged when |grad L| < tol at the end.
    callback: called with a FitStep after every epoch.
    center, standardize: fit on (x - mean) (and / std), for a model w1*x1 + ... + b; the parameters
        are reported back in the data's units, scaled_params holds them as fitted.
    """
    data = dask_batches(data) or data  # dask-backed data: a stream of its chunks, one in memory
    method, lr, epochs, batch_size, tol = _options(method, lr, epochs, batch_size, seed, tol, data)
    target = "y" if target is None else str(target)
    if is_stream(data):
        if center or standardize:
            raise GradcoreError("center and standardize need the data in memory (they use its means)")
        return _fit_stream(model, data, target, params, loss, method, lr, epochs, batch_size, shuffle, seed,
                           tol, callback, bind)
    cols = columns_of(data, columns)
    if not cols or not len(next(iter(cols.values()))):
        raise GradcoreError("the data has no rows")
    m = Model(model, list(cols), target, params, loss, bind)
    scaling = _scaling(m, cols, standardize) if center or standardize else None
    fitted = cols if scaling is None else {k: (v - scaling[k][0]) / scaling[k][1] if k in scaling else v
                                           for k, v in cols.items()}
    full = m.batch(fitted, by_rows=method in ("sgd", "minibatch") or batch_size is not None)
    n = full[0]
    theta = np.array([m.start[p] for p in m.params], dtype=np.float64)
    evaluate = m.evaluator()
    history = History(m.params, callback)
    scale = n if m.mean else 1.0
    with np.errstate(all="ignore"):
        if method == "bfgs":
            run = line_search_bfgs(evaluate, full, theta, scale, epochs, tol, history)
        elif batch_size is None and method in ("gd", "momentum", "adam"):
            run = full_batch(evaluate, full, theta, scale, epochs, tol, updater(method, lr), history)
        else:
            size = 1 if method == "sgd" else batch_size or DEFAULT_BATCH
            rng = np.random.default_rng(seed) if shuffle else None

            def passes(epoch: int) -> Iterable[tuple]:
                return (Model.take(full, rows) for rows in batch_slices(n, size, rng))
            run = mini_batch(evaluate, passes, theta, m.mean, epochs, updater(method, lr), history)
        # The end: the gradient on all rows in the units of the descent, the rest in the data's.
        loss_f, g = evaluate(run.theta, full)
        run.grad_norm = float(np.linalg.norm(g / scale))
        params = _unscale(m, run.theta, scaling)
        theta0 = np.array([params[p] for p in m.params])
        original = full if scaling is None else m.batch(cols, by_rows=False)
        loss_sum = loss_f if scaling is None else evaluate(theta0, original)[0]
        y = cols[target]
        # For mse and sse the loss already is the sum of squared residuals.
        sse = loss_sum if m.loss_name in ("mse", "sse") else float(((m.predictions(theta0, original) - y) ** 2).sum())
        sst = float(((y - y.mean()) ** 2).sum())
        ls = ls_loss = None
        if m.linear and m.loss_name in ("mse", "sse"):
            ls_theta = m.least_squares(original)
            ls = dict(zip(m.params, ls_theta.tolist()))
            ls_loss = evaluate(ls_theta, original)[0] / scale
        lam = None
        if run.reason == "non_finite":
            lam = m.curvature(np.array([m.start[p] for p in m.params]), full)
    return _result(m, run, method, lr, tol, params, loss_sum / scale, sse, sst, n, ls, ls_loss, lam,
                   None if scaling is None else dict(zip(m.params, run.theta.tolist())))


def _fit_stream(model: Any, data: Any, target: str, params: Any, loss: str, method: str, lr: float,
                epochs: int, batch_size: int | None, shuffle: bool, seed: int | None, tol: float,
                callback: Callable | None, bind: Mapping[str, str] | None) -> FitResult:
    """Mini-batch descent (or gd, one update per pass) over a stream of batches, one chunk in memory."""
    if method == "bfgs":
        raise GradcoreError("bfgs needs the data in memory; for a stream use minibatch, sgd, gd, momentum or adam")
    one_shot = iter(data) is data if not callable(data) else False
    source = iter(stream_passes(data))
    try:
        first = _chunk(next(source))
    except StopIteration:
        raise GradcoreError("the stream of batches is empty") from None
    if one_shot and epochs > 1:
        raise GradcoreError("a one-shot iterator gives one pass only; for epochs > 1 pass a list of batches, "
                            "csv_batches(path), or a function that returns a fresh iterator")
    m = Model(model, list(first), target, params, loss, bind)
    theta = np.array([m.start[p] for p in m.params], dtype=np.float64)
    rng = np.random.default_rng(seed) if shuffle else None
    size = 1 if method == "sgd" else batch_size
    # What is added up while streaming: the normal equations (first pass) and the last pass's fit.
    sums: dict[str, Any] = {"A": 0.0, "b": 0.0, "rr": 0.0, "rows": 0, "sse": 0.0, "y": [0, 0.0, 0.0]}
    normal = m.linear and m.loss_name in ("mse", "sse")

    def passes(epoch: int) -> Iterable[tuple]:
        chunks = chain([first], source) if epoch == 0 else stream_passes(data)
        for raw in chunks:
            cols = raw if raw is first else _chunk(raw)
            b = m.batch(cols)
            if epoch == 0 and normal:
                A, rhs = m.normal_equations(b)
                r = b[1] if b[3] is None else b[1] - b[3]
                sums["A"], sums["b"], sums["rr"] = sums["A"] + A, sums["b"] + rhs, sums["rr"] + float(r @ r)
            if epoch == epochs - 1:
                _add_fit(sums, m, theta, cols, b)
            if size is None:
                yield b
            else:
                yield from (Model.take(b, rows) for rows in batch_slices(b[0], size, rng))

    with np.errstate(all="ignore"):
        run = mini_batch(m.evaluator(), passes, theta, m.mean, epochs, updater(method, lr),
                         History(m.params, callback), per_pass=(method == "gd" and size is None))
    n = sums["rows"] or first[target].size
    scale = n if m.mean else 1.0
    count, _, m2 = sums["y"]
    ls = ls_loss = None
    if normal and not isinstance(sums["A"], float):
        ls_theta = _solve(sums["A"], sums["b"])
        ls = dict(zip(m.params, ls_theta.tolist()))
        ls_loss = (sums["rr"] - 2 * ls_theta @ sums["b"] + ls_theta @ sums["A"] @ ls_theta) / scale
    loss = run.history[-1].loss if run.history else math.nan
    params = dict(zip(m.params, run.theta.tolist()))
    lam = m.curvature(np.array([m.start[p] for p in m.params]), m.batch(first)) if run.reason == "non_finite" else None
    res = _result(m, run, method, lr, tol, params, loss, sums["sse"], m2, n, ls, ls_loss, lam, None,
                  streamed=True)
    return res


def _chunk(raw: Any) -> Columns:
    if not isinstance(raw, Mapping):
        raise GradcoreError(f"each batch of a stream must be a dict of columns, got {type(raw).__name__}")
    return columns_of(raw)


def _add_fit(sums: dict, m: Model, theta: np.ndarray, cols: Columns, batch: tuple) -> None:
    """Add a chunk's squared residuals and its target's count, mean and M2 (Chan's pairwise update)."""
    y = cols[m.target]
    pred = m.predictions(theta, batch)
    sums["sse"] += float(((pred - y) ** 2).sum())
    sums["rows"] += len(y)
    n_a, mean_a, m2_a = sums["y"]
    n_b, mean_b = len(y), float(y.mean())
    m2_b = float(((y - mean_b) ** 2).sum())
    n = n_a + n_b
    delta = mean_b - mean_a
    sums["y"] = [n, mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n]


# ---- options and scaling ------------------------------------------------------------------------


def _options(method: Any, lr: Any, epochs: Any, batch_size: Any, seed: Any, tol: Any,
             data: Any) -> tuple[str, float, int, int | None, float]:
    """Check the options (a clear GradcoreError for each bad one) and fill in the defaults."""
    if method is None:
        method = "minibatch" if batch_size is not None or is_stream(data) else "bfgs"
    method = str(method).lower()
    if method not in METHODS:
        raise GradcoreError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise GradcoreError(f"lr must be a positive number, got {lr!r}")
    if epochs is not None and not (isinstance(epochs, int) and epochs >= 1):
        raise GradcoreError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if batch_size is not None and not (isinstance(batch_size, int) and batch_size >= 1):
        raise GradcoreError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    if method in ("gd", "bfgs") and batch_size is not None:
        raise GradcoreError(f"{method} uses every row at each step; for batches use method='minibatch'")
    if method == "sgd" and batch_size not in (None, 1):
        raise GradcoreError("sgd updates after every row (batch_size 1); for larger batches use 'minibatch'")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise GradcoreError(f"seed must be a whole number >= 0, got {seed!r}")
    if not (isinstance(tol, (int, float)) and tol >= 0):
        raise GradcoreError(f"tol must be a number >= 0 (0: run every epoch), got {tol!r}")
    return (method, float(DEFAULT_LR.get(method, 1.0) if lr is None else lr),
            DEFAULT_EPOCHS[method] if epochs is None else epochs, batch_size, float(tol))


def _scaling(m: Model, cols: Columns, standardize: bool) -> dict[str, tuple[float, float]]:
    """(mean, scale) of each input column and the target; scale is the std with standardize, else 1."""
    kinds = [("const" if d.is_const and d.value == 1.0 else d.name if d.is_var else None) for d in m.phis]
    if (not m.linear or m.offset is not None or kinds.count("const") != 1 or None in kinds
            or len(set(kinds)) != len(kinds)):
        raise GradcoreError(f"center and standardize need a model of the form w1*x1 + ... + b (each "
                            f"parameter times one data column, and one intercept); {m.expr} is not")
    out = {}
    for col in [m.source[v] for v in m.inputs] + [m.target]:
        v = cols[col]
        s = float(v.std()) if standardize else 1.0
        if s == 0.0:
            raise GradcoreError(f"standardize: the column {col!r} is constant")
        out[col] = (float(v.mean()), s)
    return out


def _unscale(m: Model, theta: np.ndarray, scaling: dict[str, tuple[float, float]] | None) -> dict[str, float]:
    """Parameters in the data's units: with x' = (x - mx)/sx and y' = (y - my)/sy, the fit
    y' = b' + sum w'_j x'_j is y = my + sy (b' - sum w'_j mx_j / sx_j) + sum (sy w'_j / sx_j) x_j."""
    fitted = dict(zip(m.params, theta.tolist()))
    if scaling is None:
        return fitted
    my, sy = scaling[m.target]
    out, intercept, shift = {}, None, 0.0
    for p, d in zip(m.params, m.phis):
        if d.is_const:
            intercept = p
            continue
        mx, sx = scaling[m.source[d.name]]
        out[p] = sy * fitted[p] / sx
        shift += fitted[p] * mx / sx
    out[intercept] = my + sy * (fitted[intercept] - shift)
    return {p: out[p] for p in m.params}


# ---- the verdict ------------------------------------------------------------------------------------


def _result(m: Model, run: Descent, method: str, lr: float, tol: float, params: dict[str, float],
            loss: float, sse: float, sst: float, n: int, ls: dict | None, ls_loss: float | None,
            lam: float | None, scaled: dict | None, streamed: bool = False) -> FitResult:
    gn = run.grad_norm
    updates = f"{run.nit} update{'s' * (run.nit != 1)}, {run.epochs} epoch{'s' * (run.epochs != 1)}"
    if run.reason == "non_finite":
        status = Status.NON_FINITE
        message = f"the loss became inf or nan in epoch {run.failed_at}"
        # A model linear in its parameters overflows only when the steps grow: the rate is too large.
        cause = "" if lam is not None or run.failed_batch is None else m.explain(run.theta, run.failed_batch)
        if lam is not None:
            message += (f": lr too large: the largest stable rate here is about 2/λ = {number(2 / lam, 3)} "
                        f"(λ = {number(lam, 3)}, the largest eigenvalue of the loss's Hessian at the start; "
                        f"lr is {number(lr, 3)})")
        elif cause:
            message += f" ({cause})"
        else:
            message += f": the learning rate {number(lr, 3)} is probably too large (try a smaller lr, or method bfgs)"
        message += "; the last finite parameters are reported"
    elif math.isfinite(gn) and gn < tol:
        status = Status.CONVERGED
        message = f"the gradient norm {number(gn, 3)} is below tol {number(tol, 3)} after {updates}"
    else:
        status = Status.MAX_ITER
        what = ("no step lowers the loss any further in float64" if run.reason == "stalled"
                else f"ran the {updates}")
        message = f"{what}: the gradient norm {number(gn, 3)} is still above tol {number(tol, 3)}"
        if run.reason == "epochs" and method != "bfgs" and not streamed:
            message += " (raise epochs or lr, or use method bfgs)"
    if streamed:
        message += "; the loss, R², RMSE and gradient norm were measured during the last pass"
    return FitResult(
        params=params, loss=float(loss), history=run.history,
        r2=1.0 - sse / sst if sst > 0 else math.nan, rmse=math.sqrt(sse / n) if n else math.nan,
        nit=run.nit, epochs=run.epochs, status=status, message=message, method=method, model=m.expr,
        target=m.target, rows=n, loss_name=m.loss_name, grad_norm=gn, least_squares=ls,
        least_squares_loss=None if ls_loss is None else float(ls_loss), scaled_params=scaled,
        _predict=lambda columns: m.predict(params, columns))
