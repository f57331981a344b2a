"""What a fit returns, FitResult with one FitStep per epoch, and the text and JSON the command line prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from ..format import json_number, number
from ..optimize import Status

__all__ = ["FitStep", "FitResult", "report_text", "report_dict", "log_line"]


class FitStep(NamedTuple):
    """One epoch: its number (0 first), the loss measured during it and the parameters after it.

    Full batch: the loss at the start of the epoch, before its update (what a training loop prints).
    Mini-batch and per-sample: the mean of the batch losses, each taken before its own update.
    """

    epoch: int
    loss: float
    params: dict[str, float]


@dataclass(eq=False)
class FitResult:
    """A fitted model. `params` and `loss` are in the data's own units; `predict(**columns)` runs the
    fitted model. `nit` counts parameter updates, `epochs` passes over the data. For a model linear
    in its parameters with loss mse or sse, `least_squares` is the exact answer (numpy's lstsq, or
    the normal equations when streaming) and `gap` is loss minus its loss, >= 0 up to rounding.
    """

    params: dict[str, float]
    loss: float
    history: list[FitStep]
    r2: float
    rmse: float
    nit: int
    epochs: int
    status: Status
    message: str
    method: str
    model: Any = None  # the model formula, an Expr
    target: str = ""
    rows: int = 0
    loss_name: str = "mse"
    grad_norm: float = math.nan
    least_squares: dict[str, float] | None = None
    least_squares_loss: float | None = None
    # The parameters as the descent saw them, in centred/standardised units (None without scaling).
    scaled_params: dict[str, float] | None = None
    _predict: Callable[..., np.ndarray] | None = field(default=None, repr=False)

    @property
    def success(self) -> bool:
        return self.status is Status.CONVERGED

    @property
    def gap(self) -> float | None:
        """loss - least_squares_loss: how far the descent is from the exact least-squares fit."""
        return None if self.least_squares_loss is None else self.loss - self.least_squares_loss

    def predict(self, **columns: Any) -> np.ndarray:
        """The fitted model on new data: predict(x=[1, 2, 3]) (model variable or data column names)."""
        return self._predict(columns)

    def __repr__(self) -> str:
        return (f"FitResult(status={self.status.value!r}, params={self.params!r}, loss={self.loss!r}, "
                f"r2={self.r2!r}, epochs={self.epochs})")

    def __str__(self) -> str:
        return report_text(self)


def _n(v: float | None, digits: int = 10) -> str:
    return "-" if v is None else number(v, digits)


def report_text(r: FitResult) -> str:
    """The human report: the fitted parameters (beside the exact least-squares answer for a linear
    model), the loss, R^2 and RMSE, and the status with its reason."""
    rows = [f"fit {r.target} = {r.model}   ({r.loss_name} over {r.rows} rows, method {r.method})", ""]
    names = list(r.params)
    width = max([5] + [len(n) for n in names])
    if r.least_squares is not None:
        rows.append(f"  {'param':<{width}}  {'fitted':<18}  least squares")
        rows += [f"  {n:<{width}}  {_n(r.params[n]):<18}  {_n(r.least_squares[n])}" for n in names]
    else:
        rows.append(f"  {'param':<{width}}  fitted")
        rows += [f"  {n:<{width}}  {_n(r.params[n])}" for n in names]
    rows.append("")
    loss = f"loss: {_n(r.loss)}"
    if r.least_squares_loss is not None:
        loss += f" (least squares: {_n(r.least_squares_loss)}, gap {number(r.gap, 3)})"
    rows.append(loss)
    rows.append(f"R²: {_n(r.r2, 6)}   RMSE: {_n(r.rmse, 6)}")
    rows.append(f"status: {r.status.value} ({r.message})")
    return "\n".join(rows)


def report_dict(r: FitResult) -> dict[str, Any]:
    """The JSON report (non-finite numbers as null)."""
    def nums(d: dict[str, float] | None) -> dict[str, float | None] | None:
        return None if d is None else {k: json_number(v) for k, v in d.items()}
    return {
        "model": str(r.model), "target": r.target, "rows": r.rows, "loss_name": r.loss_name,
        "method": r.method, "params": nums(r.params), "loss": json_number(r.loss),
        "r2": json_number(r.r2), "rmse": json_number(r.rmse), "grad_norm": json_number(r.grad_norm),
        "nit": r.nit, "epochs": r.epochs, "status": r.status.value, "success": r.success,
        "message": r.message, "least_squares": nums(r.least_squares),
        "least_squares_loss": None if r.least_squares_loss is None else json_number(r.least_squares_loss),
        "gap": None if r.gap is None else json_number(r.gap), "scaled_params": nums(r.scaled_params),
        "history": [{"epoch": s.epoch, "loss": json_number(s.loss)} for s in r.history],
    }


def log_line(step: FitStep) -> str:
    """One progress row: the epoch, the loss and the parameters after it."""
    return f"epoch {step.epoch:>6}  loss {number(step.loss, 10):<16}  " + ", ".join(
        f"{k} = {number(v, 10)}" for k, v in step.params.items())
