"""The descent loops of a fit: full batch with a fixed rate, mini-batch (and per-sample) over rows or a
stream, and BFGS with a line search. Each returns a Descent saying where it stopped and why.

Every update rule is written once: plain steps here, momentum and Adam in gradcore.optim.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

import numpy as np

from ..optim import adam_update, sgd_update
# BFGS and its line search are minimize's own; fit runs them on the loss of the whole data set.
from ..optimize._linesearch import Stalled
from ..optimize._methods import ADAM_BETAS, ADAM_EPS, MOMENTUM, bfgs
from ._result import FitStep

__all__ = ["Descent", "History", "full_batch", "mini_batch", "line_search_bfgs", "updater"]

HISTORY = 1000  # history keeps at most 2x this many epochs (every k-th, k doubling), plus the last

# evaluate(theta, batch) -> (the loss summed over the batch's rows, its gradient summed likewise);
# the loss is NaN whenever the gradient is not finite, so a loop tests one float.
Evaluate = Callable[[np.ndarray, tuple], tuple[float, np.ndarray]]


@dataclass
class Descent:
    """Where a loop stopped: the last finite parameters, the counts, and why it stopped."""

    theta: np.ndarray
    nit: int = 0
    epochs: int = 0
    reason: str = "epochs"        # "tol", "epochs", "stalled" or "non_finite"
    failed_at: int | None = None  # the epoch of a non-finite loss
    failed_batch: tuple | None = None
    grad_norm: float = math.nan   # the full-batch loops' last gradient norm
    history: list[FitStep] = field(default_factory=list)


class History:
    """One FitStep per epoch, thinned to every k-th (k doubling) past 2 * HISTORY rows; callback sees all."""

    def __init__(self, names: tuple[str, ...], callback: Callable[[FitStep], Any] | None) -> None:
        self.names, self.callback = names, callback
        self.rows: list[FitStep] = []
        self.every = 1
        self.last: tuple[int, float, list[float]] | None = None

    def add(self, epoch: int, loss: float, theta: np.ndarray) -> None:
        values = theta.tolist()
        self.last = (epoch, loss, values)
        step = None
        if epoch % self.every == 0:
            step = FitStep(epoch, loss, dict(zip(self.names, values)))
            self.rows.append(step)
            if len(self.rows) > 2 * HISTORY:
                self.rows[:] = self.rows[::2]
                self.every *= 2
        if self.callback is not None:
            self.callback(step or FitStep(epoch, loss, dict(zip(self.names, values))))

    def close(self) -> list[FitStep]:
        if self.last is not None and (not self.rows or self.rows[-1].epoch != self.last[0]):
            epoch, loss, values = self.last
            self.rows.append(FitStep(epoch, loss, dict(zip(self.names, values))))
        return self.rows


def updater(method: str, lr: float) -> Callable[[np.ndarray, np.ndarray], None]:
    """theta <- theta - lr g (gd, sgd, minibatch), or torch.optim's momentum (beta 0.9) and Adam rules."""
    if method == "momentum":
        group = dict(lr=lr, momentum=MOMENTUM, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False)
        state: dict = {}
        return lambda theta, g: sgd_update(theta, g, state, group)
    if method == "adam":
        group = dict(lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, weight_decay=0.0, amsgrad=False, maximize=False)
        state = {}
        return lambda theta, g: adam_update(theta, g, state, group)

    def plain(theta: np.ndarray, g: np.ndarray) -> None:
        theta -= lr * g
    return plain


def full_batch(evaluate: Evaluate, batch: tuple, theta: np.ndarray, scale: float, epochs: int, tol: float,
               update: Callable, history: History) -> Descent:
    """Each epoch: L, g at theta on all rows (divided by `scale`: n for a mean loss); stop if |g| < tol;
    else one update. A non-finite loss stops the loop at the last finite theta."""
    run = Descent(theta)
    for epoch in range(epochs):
        loss, g = evaluate(theta, batch)
        loss, g = loss / scale, g / scale
        if loss - loss != 0.0:  # inf or nan (the evaluators make the loss NaN when g is not finite)
            run.reason, run.failed_at, run.failed_batch = "non_finite", epoch, batch
            break
        run.grad_norm = float(np.sqrt(g @ g))
        run.epochs = epoch + 1
        if run.grad_norm < tol:
            run.reason = "tol"
            history.add(epoch, loss, theta)
            break
        last = theta.copy()
        update(theta, g)
        run.nit += 1
        if not np.isfinite(theta).all():
            theta[:] = last
            run.reason, run.failed_at, run.failed_batch = "non_finite", epoch + 1, batch
            break
        history.add(epoch, loss, theta)
    run.history = history.close()
    return run


def mini_batch(evaluate: Evaluate, passes: Callable[[int], Iterable[tuple]], theta: np.ndarray, mean: bool,
               epochs: int, update: Callable, history: History, per_pass: bool = False) -> Descent:
    """Each epoch: for each batch of passes(epoch), L, g on its rows (the mean over them for a mean
    loss) and one update. With per_pass, the batches' sums are added up and one update is made per
    pass: full-batch gd over a stream. The epoch's loss is the mean of the batch losses."""
    run = Descent(theta)
    for epoch in range(epochs):
        total, rows = 0.0, 0
        g_sum = np.zeros_like(theta)
        for batch in passes(epoch):
            n = batch[0]
            if n == 0:
                continue
            loss, g = evaluate(theta, batch)
            if loss - loss != 0.0:
                run.reason, run.failed_at, run.failed_batch = "non_finite", epoch, batch
                run.history = history.close()
                return run
            total += loss
            rows += n
            g_sum += g
            if not per_pass:
                update(theta, g / n if mean else g)
                run.nit += 1
        mean_g = g_sum / rows if mean and rows else g_sum
        # Each batch's gradient was taken where theta stood then: over the pass, an estimate of |grad L|.
        run.grad_norm = float(np.sqrt(mean_g @ mean_g))
        if per_pass and rows:
            update(theta, mean_g)
            run.nit += 1
        run.epochs = epoch + 1
        history.add(epoch, total / rows if mean and rows else total, theta)
    run.history = history.close()
    return run


def line_search_bfgs(evaluate: Evaluate, batch: tuple, theta: np.ndarray, scale: float, iterations: int,
                     tol: float, history: History) -> Descent:
    """BFGS with an Armijo line search (minimize's own method) on the loss over all rows; each trial
    step is one pass over the data."""
    def vg(*x: float) -> tuple[float, list[float]]:
        loss, g = evaluate(np.array(x), batch)
        return loss / scale, (g / scale).tolist()

    step = bfgs(vg, 1.0, len(theta), None)
    x = theta.tolist()
    f, g = vg(*x)
    run = Descent(theta, epochs=1)
    if f - f != 0.0:
        run.reason, run.failed_at, run.failed_batch = "non_finite", 0, batch
        run.history = history.close()
        return run
    for it in range(iterations):
        run.grad_norm = math.hypot(*g)
        if run.grad_norm < tol:
            run.reason = "tol"
            history.add(it, f, np.array(x))
            break
        try:
            x, fn, g, k = step(x, f, g)
        except Stalled as exc:
            run.epochs += exc.evaluations
            run.reason = "stalled"
            history.add(it, f, np.array(x))
            break
        run.epochs += k
        run.nit += 1
        history.add(it, f, np.array(x))
        f = fn
    theta[:] = x
    run.history = history.close()
    return run
