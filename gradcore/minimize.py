"""minimize / maximize: gradient descent and ascent on a formula or a Python function, with honest statuses.

Fixed-step methods reproduce the tutorials' loops exactly; the default (BFGS with a backtracking line
search) gets the right answer in few steps. Every run ends with a status and a second-order check.
"""

from __future__ import annotations

import enum
import math
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from .errors import DomainError, GradcoreError
from .expr import Expr

__all__ = [
    "minimize", "maximize", "OptimizeResult", "Status", "HistoryEntry", "LocalOptimum",
    "METHODS", "DEFAULT_LR", "DEFAULT_STARTS", "DEFAULT_BOX",
]

_EPS = sys.float_info.epsilon


class Status(str, enum.Enum):
    """How a run ended. A str Enum: `result.status == "converged"` works."""

    CONVERGED = "converged"    # gradient norm below tol at the asked-for kind of extremum
    MAX_ITER = "max_iter"      # the step budget ran out (or no step could lower f any further)
    UNBOUNDED = "unbounded"    # f decreases (minimize) / increases (maximize) without bound
    NON_FINITE = "non_finite"  # NaN, inf, overflow or a domain error met on the way
    SADDLE = "saddle"          # gradient vanished, but the Hessian says it is not the asked-for extremum

    def __str__(self) -> str:
        return self.value


# Learning rate (or first trial step, for the line-search methods) when `lr` is not given.
DEFAULT_LR: dict[str, float] = {
    "bfgs": 1.0, "newton": 1.0, "armijo": 1.0,
    "gd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adam": 0.1,
}
METHODS: tuple[str, ...] = tuple(DEFAULT_LR)
_FIXED_STEP = ("gd", "momentum", "nesterov", "adam")
_MOMENTUM = 0.9                                   # beta for momentum and Nesterov, as torch.optim.SGD
_ADAM_BETAS, _ADAM_EPS = (0.9, 0.999), 1e-8       # torch.optim.Adam's defaults

# With no `start`, every variable starts at the first of these values where f is defined and which
# is not a critical point of the wrong kind (so a run never silently "converges" at a saddle).
DEFAULT_STARTS: tuple[float, ...] = (1.0, 0.5, 2.0, -1.0, 3.0, -2.0)
# Multi-start draws its extra points uniformly from this interval, for every variable.
DEFAULT_BOX: tuple[float, float] = (-5.0, 5.0)

_MAX_ITER = 10_000
_HISTORY = 1000          # history keeps at most 2x this many entries (every k-th step, k doubling)
_RUNOFF = 1e8            # |x| beyond this many times max(1, |x0|) counts as "running off to infinity"
_FAR = 1e4               # ... and, where f has gone flat (degenerate Hessian), beyond this many times
_BELOW_FAR = 1e6         # f < min(-1, f0)/eps counts only once |x| is also past this many times max(1, |x0|)
_ARMIJO_C1 = 1e-4
_MAX_HALVINGS = 60
_MAX_DOUBLINGS = 60


class HistoryEntry(NamedTuple):
    """One recorded iteration: the number of updates so far, the point, f there and the gradient norm."""

    nit: int
    x: tuple[float, ...]
    fun: float
    grad_norm: float


class LocalOptimum(NamedTuple):
    """A distinct optimum found by multi-start, and how many of the runs ended there."""

    point: dict[str, float]
    fun: float
    classification: str | None
    count: int


@dataclass(eq=False)
class OptimizeResult:
    """What a minimize/maximize run found, in scipy's names. `print(result)` gives a short summary.

    x is a numpy array in `variables` order, `point` the same as a dict. `fun` is f at x in its own
    sign (maximize does not negate it). `nit` counts updates, `nfev` evaluations of f (each with its
    gradient; the Hessians of newton and of the final check are not counted). `history` holds every k-th iteration plus the last (k doubles as the run grows, so it
    stays bounded). `classification` comes from the Hessian's eigenvalues at x (None if they cannot be
    computed there). With `starts` > 1, `optima` lists the distinct optima found, best first.
    """

    x: np.ndarray
    variables: tuple[str, ...]
    fun: float
    grad_norm: float
    nit: int
    nfev: int
    status: Status
    message: str
    classification: str | None
    method: str
    direction: str
    eigenvalues: np.ndarray | None = None
    start: dict[str, float] = field(default_factory=dict)
    optima: list[LocalOptimum] = field(default_factory=list)
    runs: list["OptimizeResult"] = field(default_factory=list)
    # Why the run ended, in more detail than status ("below", "runoff", "asymptote", "tol", ...).
    reason: str = ""
    # When f is unbounded, a critical point found by Newton's method on the gradient, if any, with
    # its classification: the brief's x**2+2*x*y+cos(x+2*y) has only (0, 0), a saddle.
    critical_point: LocalOptimum | None = None
    # The loops record plain (nit, x, f, |g|) tuples with f in the minimised sign; `history` turns
    # them into HistoryEntry rows on first use, so a run that nobody inspects pays nothing for it.
    _raw_history: list[tuple] = field(default_factory=list, repr=False)
    _history: list[HistoryEntry] | None = field(default=None, repr=False)

    @property
    def history(self) -> list[HistoryEntry]:
        if self._history is None:
            sign = 1.0 if self.direction == "minimize" else -1.0
            self._history = [HistoryEntry(k, tuple(x) if isinstance(x, list) else (x,), sign * f, gn)
                             for k, x, f, gn in self._raw_history]
        return self._history

    @property
    def success(self) -> bool:
        return self.status is Status.CONVERGED

    @property
    def point(self) -> dict[str, float]:
        return {name: float(v) for name, v in zip(self.variables, self.x)}

    def __repr__(self) -> str:
        return (f"OptimizeResult(status={self.status.value!r}, x={self.x!r}, fun={self.fun!r}, "
                f"nit={self.nit}, classification={self.classification!r})")

    def __str__(self) -> str:
        rows = [f"{self.direction} with {self.method}: {self.status.value}",
                f"  point:          {_fmt_point(self.point) or '(no variables)'}",
                f"  value:          f = {_num(self.fun)}",
                f"  gradient norm:  {_num(self.grad_norm)}",
                f"  classification: {self.classification or 'unknown'}",
                f"  iterations:     {self.nit} ({self.nfev} evaluations)",
                f"  message:        {self.message}"]
        if len(self.optima) > 1:
            rows.append(f"  distinct optima found ({len(self.runs)} starts):")
            rows += [f"    {_fmt_point(o.point)}  f = {_num(o.fun)}  ({o.count} run{'s' * (o.count != 1)})"
                     for o in self.optima]
        return "\n".join(rows)


# ---------------------------------------------------------------------------------------------------
# The objective: f, its gradient and its Hessian on a point given as one float per variable.


class _Objective:
    """f as three callables on positional floats: vg(*x) -> (f, grad tuple), hess(*x) -> ndarray."""

    __slots__ = ("variables", "vg", "hess", "expr")

    def __init__(self, variables: tuple[str, ...], vg: Callable, hess: Callable, expr: Expr | None) -> None:
        self.variables, self.vg, self.hess, self.expr = variables, vg, hess, expr

    def negated(self) -> "_Objective":
        """-f: maximize runs as minimization of -f and flips the sign back when reporting."""
        vg, hess = self.vg, self.hess

        def neg_vg(*x: float) -> tuple[float, list[float]]:
            f, g = vg(*x)
            return -f, [-gi for gi in g]

        return _Objective(self.variables, neg_vg, lambda *x: -hess(*x), self.expr)


def _from_expr(expr: Expr) -> _Objective:
    # Generated straight-line code (gradcore.compile): no graph is rebuilt inside the loop.
    from .compile import compile as compile_expr

    c = compile_expr(expr)
    # The Hessian's code is generated on first use; a lambda keeps plain descent from paying for it.
    return _Objective(expr.variables, c.value_and_grad, lambda *x: c.hessian(*x), expr)


def _from_function(fn: Callable, names: tuple[str, ...]) -> _Objective:
    """A Python function of Values: fn(p) with p a numpy object array of Values, one per variable.

    The gradient is one reverse sweep of gradcore.grad; the Hessian differentiates each gradient
    entry again (create_graph=True). numpy ufuncs work on p: np.sin(p) calls each Value's .sin().
    """
    from .calculus import hessian_at
    from .value import Value, grad

    n = len(names)

    def output(x: Sequence[float]) -> tuple[Any, list]:
        leaves = [Value(float(xi)) for xi in x]
        p = np.empty(n, dtype=object)
        p[:] = leaves
        out = fn(p)
        if isinstance(out, np.ndarray) and out.size == 1:
            out = out.reshape(()).item()
        if not isinstance(out, Value):
            raise GradcoreError(
                f"the function returned {type(out).__name__} {out!r}, not a Value: compute with Value "
                "operations (p[0].sin() or np.sin(p), not math.sin(p[0])) so gradients can flow")
        return out, leaves

    def vg(*x: float) -> tuple[float, list[float]]:
        try:
            out, leaves = output(x)
            if not out.requires_grad:  # built from constants only
                return out.data, [0.0] * n
            return out.data, list(grad(out, leaves))
        except DomainError as exc:
            raise exc.at(dict(zip(names, x))) from None

    def hess(*x: float) -> np.ndarray:
        point = dict(zip(names, x))
        try:
            out, leaves = output(x)
        except DomainError as exc:
            raise exc.at(point) from None
        return hessian_at(out, leaves, point)  # reverse over reverse, as gradcore.hessian does

    return _Objective(names, vg, hess, None)


def _objective(f: Any, start: Any) -> _Objective:
    if isinstance(f, (str, Expr)):
        from .parse import as_formula
        return _from_expr(as_formula(f))
    if callable(f):
        if start is None:
            raise GradcoreError("a Python function needs start= (a sequence or a dict) to know how many "
                                "variables it takes")
        if isinstance(start, Mapping):
            names = tuple(str(k) for k in start)
        else:
            n = 1 if np.ndim(start) == 0 else len(start)
            names = tuple(f"x{i}" for i in range(n))
        return _from_function(f, names)
    raise GradcoreError(f"minimize needs a formula (text or Expr) or a Python function, "
                        f"not {type(f).__name__}")


# ---------------------------------------------------------------------------------------------------
# Steps. Each method is a factory returning step(x, f, g) -> (x, f, g, evaluations); x and g are lists.


class _Stalled(Exception):
    """No step along the search direction lowers f any further in float64.

    `error` is the DomainError of the last trial when every trial left f's domain.
    """

    def __init__(self, evaluations: int, error: DomainError | None = None) -> None:
        super().__init__(evaluations)
        self.evaluations, self.error = evaluations, error


def _gd(vg: Callable, lr: float, n: int, hess: Callable) -> Callable:
    # x <- x - lr * grad f(x): the tutorials' loop, term for term.
    def step(x, f, g):
        x = [xi - lr * gi for xi, gi in zip(x, g)]
        f, g = vg(*x)
        return x, f, g, 1
    return step


def _momentum(vg: Callable, lr: float, n: int, hess: Callable, nesterov: bool = False) -> Callable:
    # torch.optim.SGD's rule, v <- beta*v + g; x <- x - lr*v (Nesterov: x - lr*(g + beta*v)),
    # taken from gradcore.optim so that it is written once.
    from .optim import sgd_update

    group = dict(lr=lr, momentum=_MOMENTUM, dampening=0.0, weight_decay=0.0, nesterov=nesterov,
                 maximize=False)
    return _optimizer_step(vg, sgd_update, group)


def _nesterov(vg: Callable, lr: float, n: int, hess: Callable) -> Callable:
    return _momentum(vg, lr, n, hess, nesterov=True)


def _adam(vg: Callable, lr: float, n: int, hess: Callable) -> Callable:
    # torch.optim.Adam's rule with bias corrections, taken from gradcore.optim.
    from .optim import adam_update

    group = dict(lr=lr, betas=_ADAM_BETAS, eps=_ADAM_EPS, weight_decay=0.0, amsgrad=False, maximize=False)
    return _optimizer_step(vg, adam_update, group)


def _optimizer_step(vg: Callable, update: Callable, group: dict) -> Callable:
    """A minimize step that applies one of gradcore.optim's update rules to x as a float64 array."""
    state: dict = {}

    def step(x, f, g):
        p = np.array(x, dtype=float)
        update(p, np.array(g, dtype=float), state, group)
        x = p.tolist()
        f, g = vg(*x)
        return x, f, g, 1
    return step


def _line_search(vg: Callable, x: np.ndarray, f: float, g: np.ndarray, d: np.ndarray,
                 t: float) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """Backtracking (Armijo) search along d: accept t with f(x + t d) <= f + c1 t (g . d).

    A trial outside f's domain, or with a non-finite value, counts as "too long" and is halved.
    When the first accepted step decreases f by at least 90% of the linear prediction, f is not
    curving up along d, so the step is doubled while f keeps falling: this is what lets an
    unbounded objective run off quickly instead of crawling.
    """
    slope = float(g @ d)
    nev = 0
    error: DomainError | None = None
    for _ in range(_MAX_HALVINGS):
        xt = x + t * d
        nev += 1
        try:
            ft, gt = vg(*xt.tolist())  # Python floats: the compiled float path
        except DomainError as exc:
            error = exc
            t *= 0.5
            continue
        error = None
        gt = np.asarray(gt, dtype=float)
        if math.isfinite(ft) and ft <= f + _ARMIJO_C1 * t * slope and np.isfinite(gt).all():
            for _ in range(_MAX_DOUBLINGS):
                if not ft - f <= 0.9 * t * slope:
                    break
                x2 = x + 2 * t * d
                if not np.isfinite(x2).all():
                    break
                nev += 1
                try:
                    f2, g2 = vg(*x2.tolist())
                except DomainError:
                    break
                g2 = np.asarray(g2, dtype=float)
                if not (math.isfinite(f2) and f2 < ft and np.isfinite(g2).all()):
                    break
                t, xt, ft, gt = 2 * t, x2, f2, g2
            return xt, ft, gt, t, nev
        t *= 0.5
    raise _Stalled(nev, error)


def _armijo(vg: Callable, lr: float, n: int, hess: Callable) -> Callable:
    # Steepest descent d = -grad f with a backtracking line search; each search starts at twice
    # the last accepted step, so a good step length is found again in one or two evaluations.
    t_last = lr / 2

    def step(x, f, g):
        nonlocal t_last
        xa, ga = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        xn, fn, gn, t_last, nev = _line_search(vg, xa, f, ga, -ga, 2 * t_last)
        return xn.tolist(), fn, gn.tolist(), nev
    return step


def _bfgs(vg: Callable, lr: float, n: int, hess: Callable) -> Callable:
    # Quasi-Newton: d = -H g with H an approximation of the inverse Hessian, updated from
    # s = x1 - x0 and y = g1 - g0 by H <- (I - r s y^T) H (I - r y s^T) + r s s^T, r = 1/(y . s).
    # The update is skipped when y . s <= 0 (f curves down along s), which keeps H positive definite.
    eye = np.eye(n)
    H: np.ndarray | None = None

    def step(x, f, g):
        nonlocal H
        xa, ga = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        first = H is None
        if first:
            H = eye.copy()
        d = -H @ ga
        if not float(ga @ d) < 0:  # H lost positive definiteness to rounding: restart from -g
            H, d, first = eye.copy(), -ga, True
        # The very first step is capped at length lr, so a steep start does not leap across the plane.
        t = min(lr, lr / float(np.linalg.norm(d))) if first else lr
        try:
            xn, fn, gn, _, nev = _line_search(vg, xa, f, ga, d, t)
        except _Stalled as exc:
            if first:
                raise
            H = None  # retry once from steepest descent before giving up
            try:
                xr, fr, gr, k = step(x, f, g)
            except _Stalled as again:
                raise _Stalled(exc.evaluations + again.evaluations, again.error) from None
            return xr, fr, gr, k + exc.evaluations
        s, y = xn - xa, gn - ga
        ys = float(y @ s)
        if ys > 1e-12 * float(np.linalg.norm(y)) * float(np.linalg.norm(s)):
            if first:  # scale the identity to the curvature just seen (Nocedal & Wright, eq. 6.20)
                H = eye * (ys / float(y @ y))
            r = 1.0 / ys
            A = eye - r * np.outer(s, y)
            H = A @ H @ A.T + r * np.outer(s, s)
        return xn.tolist(), fn, gn.tolist(), nev
    return step


def _newton(vg: Callable, lr: float, n: int, hess: Callable) -> Callable:
    # d = -H^-1 g with the exact Hessian. Where H is not positive definite, each eigenvalue is
    # replaced by its absolute value (floored), so d still descends and a saddle repels rather than
    # attracts ("saddle-free Newton"); then a backtracking line search from step lr.
    def step(x, f, g):
        xa, ga = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        try:
            H = np.asarray(hess(*x), dtype=float)
            ok = bool(np.isfinite(H).all())
        except DomainError:
            ok = False
        if ok:
            w, V = np.linalg.eigh((H + H.T) / 2)
            floor = 1e-8 * max(1.0, float(np.abs(w).max()))
            d = -V @ ((V.T @ ga) / np.maximum(np.abs(w), floor))
        else:
            d = -ga
        xn, fn, gn, _, nev = _line_search(vg, xa, f, ga, d, lr)
        return xn.tolist(), fn, gn.tolist(), nev
    return step


_STEPPERS: dict[str, Callable] = {
    "gd": _gd, "momentum": _momentum, "nesterov": _nesterov, "adam": _adam,
    "armijo": _armijo, "bfgs": _bfgs, "newton": _newton,
}


# ---------------------------------------------------------------------------------------------------
# One run


@dataclass
class _Run:
    x: list[float]
    f: float
    gn: float
    nit: int
    nfev: int
    status: Status
    why: str                 # a key for the message: "tol", "max_iter", "stalled", "below", ...
    f0: float
    x0: list[float]
    history: list[tuple]     # raw (nit, x, f, |g|) rows; x is a list (never mutated) or a float
    error: Exception | None = None
    bad_x: list[float] | None = None  # where a step failed, or a lower point found by _probe
    bad_f: float = math.nan


def _norm(v: Sequence[float]) -> float:
    return math.hypot(*v)


def _descend(obj: _Objective, x0: list[float], method: str, lr: float, tol: float, max_iter: int,
             callback: Callable[[HistoryEntry], Any] | None) -> _Run:
    """Minimise obj from x0. Stops at: gradient norm < tol; f < min(-1, f0)/eps with |x| past
    _BELOW_FAR * max(1, |x0|); max_iter; a failure."""
    if method == "gd" and len(x0) == 1 and callback is None:
        return _gd_scalar(obj.vg, x0[0], lr, tol, max_iter)
    vg = obj.vg
    step = _STEPPERS[method](vg, lr, len(x0), obj.hess)
    x = list(x0)
    f, g = vg(*x)  # a DomainError here is the caller's to report (f undefined at the start)
    f0, nfev, nit = f, 1, 0
    f_limit = min(-1.0, f0) / _EPS if math.isfinite(f0) else -math.inf
    # A deep but finite minimum (x**2 - 1e16) also passes f_limit; only iterates that have gone far
    # as well make the case for "unbounded".
    far = _BELOW_FAR * max(1.0, _norm(x0))
    every, history = 1, []
    while True:
        gn = _norm(g)
        if f - f != 0.0 or gn - gn != 0.0:  # inf or nan: stop at the last finite point
            return _failed(x, f, gn, nit, nfev, f0, x0, history, None, x)
        if nit % every == 0:
            history.append((nit, x, f, gn))
            if len(history) > 2 * _HISTORY:
                history, every = history[::2], 2 * every
        if callback is not None:
            callback(HistoryEntry(nit, tuple(x), f, gn))
        if gn < tol:
            why, status = "tol", Status.CONVERGED
            break
        if f < f_limit and _norm(x) > far:
            why, status = "below", Status.UNBOUNDED
            break
        if nit >= max_iter:
            why, status = "max_iter", Status.MAX_ITER
            break
        try:
            xn, fn, gnext, k = step(x, f, g)
        except DomainError as exc:
            nfev += 1
            return _failed(x, f, gn, nit, nfev, f0, x0, history, exc, None)
        except _Stalled as exc:
            nfev += exc.evaluations
            if exc.error is not None:  # every trial step left f's domain
                run = _failed(x, f, gn, nit, nfev, f0, x0, history, exc.error, None)
                run.why = "edge"
                return run
            why, status = "stalled", Status.MAX_ITER
            break
        nfev += k
        if fn - fn != 0.0 or not all(v - v == 0.0 for v in gnext):
            return _failed(x, f, gn, nit, nfev, f0, x0, history, None, xn)
        x, f, g = xn, fn, gnext
        nit += 1
    if history[-1][0] != nit:
        history.append((nit, x, f, gn))
    return _Run(x, f, gn, nit, nfev, status, why, f0, list(x0), history)


def _gd_scalar(vg: Callable, x: float, lr: float, tol: float, max_iter: int) -> _Run:
    """The same loop as _descend for "gd" on one variable without a callback, written out on floats.

    This is the tutorials' loop and the benchmarked hot path: no lists and no step function; one
    finiteness test per evaluation; history is recorded when nit reaches the next multiple of k.
    """
    x0 = x
    f, (g,) = vg(x)
    f0 = f
    if (f + g) * 0.0 != 0.0:  # inf or nan
        return _failed([x], f, abs(g), 0, 1, f0, [x0], [], None, [x])
    f_limit = min(-1.0, f0) / _EPS
    far = _BELOW_FAR * max(1.0, abs(x0))
    history: list[tuple] = []
    append = history.append
    every, record, thin_at = 1, 0, 2 * _HISTORY
    nit, gn = 0, abs(g)
    for nit in range(max_iter + 1):  # nit = updates made so far
        gn = abs(g)
        if nit == record:
            append((nit, x, f, gn))
            if nit == thin_at:  # 2 * _HISTORY + 1 rows: keep every other one, record half as often
                history[:] = history[::2]
                every, thin_at = 2 * every, 2 * thin_at
            record += every
        if gn < tol or (f < f_limit and abs(x) > far) or nit == max_iter:
            break
        xn = x - lr * g
        try:
            fn, (gnext,) = vg(xn)
        except DomainError as exc:
            return _failed([x], f, gn, nit, nit + 2, f0, [x0], history, exc, None)
        if (fn + gnext) * 0.0 != 0.0:
            return _failed([x], f, gn, nit, nit + 2, f0, [x0], history, None, [xn])
        x, f, g = xn, fn, gnext
    if gn < tol:
        why, status = "tol", Status.CONVERGED
    elif f < f_limit and abs(x) > far:
        why, status = "below", Status.UNBOUNDED
    else:
        why, status = "max_iter", Status.MAX_ITER
    if history[-1][0] != nit:
        history.append((nit, x, f, gn))
    return _Run([x], f, gn, nit, nit + 1, status, why, f0, [x0], history)


def _failed(x, f, gn, nit, nfev, f0, x0, history, error, bad_x) -> _Run:
    """A step met a domain error, an overflow, inf or NaN: report the last finite point.

    If f had been improving while |x| ran past _RUNOFF * max(1, |x0|), the iterates were running
    off to infinity: that is an unbounded objective, not a numerical accident.
    """
    if f - f == 0.0 and (not history or history[-1][0] != nit):
        history.append((nit, x, f, gn))
    run = _Run(list(x), f, gn, nit, nfev, Status.NON_FINITE, "non_finite", f0, list(x0), history,
               error, None if bad_x is None else list(bad_x))
    if f - f != 0.0:  # not finite at the start itself
        run.why = "start"
    elif f < f0 and _norm(x) > _RUNOFF * max(1.0, _norm(x0)):
        run.status, run.why = Status.UNBOUNDED, "runoff"
    return run


# ---------------------------------------------------------------------------------------------------
# Second-order check and messages


def _eigh(obj: _Objective, x: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
    """Eigenvalues (ascending) and eigenvectors of the Hessian at x; None where it is not finite."""
    n = len(x)
    if n == 0:
        return np.zeros(0), np.zeros((0, 0))
    try:
        H = np.asarray(obj.hess(*x), dtype=float)
    except (DomainError, ArithmeticError):
        return None
    if H.shape != (n, n) or not np.isfinite(H).all():
        return None
    if n == 1:  # the common one-variable case needs no LAPACK call
        return H.reshape(1), np.ones((1, 1))
    return np.linalg.eigh((H + H.T) / 2)


def _eig(obj: _Objective, x: Sequence[float]) -> np.ndarray | None:
    e = _eigh(obj, x)
    return None if e is None else e[0]


def _zero(w: Sequence[float], grad_norm: float = 0.0, x_norm: float = 0.0) -> float:
    """The size below which an eigenvalue counts as zero (see _classify)."""
    return max(1e-8 * max((abs(v) for v in w), default=0.0), 1e-14, grad_norm / (0.01 * max(1.0, x_norm)))


def _classify(w: np.ndarray | None, grad_norm: float = 0.0, x_norm: float = 0.0) -> str | None:
    """minimum / maximum / saddle / degenerate from the Hessian's eigenvalues w.

    An eigenvalue counts as zero when |w| <= max(1e-8 * max|w|, 1e-14, grad_norm / (0.01 * max(1, |x|))).
    The last term is the Newton test: the quadratic model puts the exact critical point
    |grad| / |w| away along that eigenvector, and if that is more than 1% of the scale of x the
    curvature does not resolve a critical point here (f is merely flat, as exp(x) is at x = -14).
    A zero eigenvalue makes the point "degenerate" unless the others already have both signs.
    """
    if w is None:
        return None
    ws = [float(v) for v in w]
    if not ws:
        return "degenerate"
    zero = _zero(ws, grad_norm, x_norm)
    pos = sum(v > zero for v in ws)
    neg = sum(v < -zero for v in ws)
    if pos and neg:
        return "saddle"
    if pos == len(ws):
        return "minimum"
    if neg == len(ws):
        return "maximum"
    return "degenerate"


def _probe(obj: _Objective, run: _Run, e: tuple[np.ndarray, np.ndarray]) -> tuple[list[float], float] | None:
    """Where the second-order test is silent (a zero eigenvalue), look: a point lower than f(x).

    Along each null eigenvector v, both ways, at h = 1e-3, 1e-2, 1e-1 times max(1, |x|), a point
    counts only if f(x + h v) < f(x) - |grad| h - 1e-12 max(1, |f|): lower by more than the slope
    left at x can explain. x**3 at 0 is caught; x**4 at 0, and valleys of equal minima, are not.
    """
    w, V = e
    x = np.array(run.x)
    zero = _zero(w.tolist(), run.gn, _norm(run.x))
    scale = max(1.0, _norm(run.x))
    margin = 1e-12 * max(1.0, abs(run.f))
    for i in np.flatnonzero(np.abs(w) <= zero):
        for h in (1e-3 * scale, 1e-2 * scale, 1e-1 * scale):
            for sgn in (1.0, -1.0):
                xt = (x + sgn * h * V[:, i]).tolist()
                try:
                    ft = obj.vg(*xt)[0]
                except DomainError:
                    continue
                if ft < run.f - run.gn * h - margin:
                    return xt, ft
    return None


def _num(v: float) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e16:
        return str(int(v))
    return format(float(v), ".10g")


def _fmt_point(point: Mapping[str, float]) -> str:
    return ", ".join(f"{k} = {_num(v)}" for k, v in point.items())


def _vec(names: Sequence[str], x: Sequence[float]) -> str:
    return ", ".join(f"{k}={_num(float(v))}" for k, v in zip(names, x)) or "(f has no variables)"


# ---------------------------------------------------------------------------------------------------
# Starting points


def _start_vector(start: Any, names: tuple[str, ...]) -> list[float] | None:
    """The user's start as a list in `names` order; None if omitted. Dict entries not given use 1.0."""
    if start is None:
        return None
    n = len(names)
    if isinstance(start, (int, float)) and n == 1:
        if not math.isfinite(start):
            raise GradcoreError(f"start: the values must be finite, got {start!r}")
        return [float(start)]
    if isinstance(start, Mapping):
        unknown = [k for k in start if k not in names]
        if unknown:
            raise GradcoreError(f"start: unknown variable {', '.join(map(str, unknown))} "
                                f"(the function uses {', '.join(names) or 'no variables'})")
        values = [start.get(k, DEFAULT_STARTS[0]) for k in names]
    elif np.ndim(start) == 0:
        if n != 1:
            raise GradcoreError(f"start: a single number needs a function of one variable; this one uses "
                                f"{', '.join(names) or 'no variables'} (give a dict or a sequence)")
        values = [start]
    else:
        values = list(np.asarray(start, dtype=object).ravel())
        if len(values) != n:
            raise GradcoreError(f"start: expected {n} values (for {', '.join(names) or 'no variables'}), "
                                f"got {len(values)}")
    try:
        out = [float(v) for v in values]
    except (TypeError, ValueError):
        raise GradcoreError(f"start: the values must be numbers, got {start!r}") from None
    if not all(math.isfinite(v) for v in out):
        raise GradcoreError(f"start: the values must be finite, got {start!r}")
    return out


def _default_start(obj: _Objective, sign: float) -> list[float]:
    """The first of DEFAULT_STARTS (every variable the same) where f is defined and which is not a
    critical point of the wrong kind; if none qualifies, the first one (the run then says why)."""
    n = len(obj.variables)
    for c in DEFAULT_STARTS:
        x = [c] * n
        try:
            f, g = obj.vg(*x)
        except DomainError:
            continue
        if not (math.isfinite(f) and all(math.isfinite(v) for v in g)):
            continue
        if _norm(g) > 0.0 or _classify(_eig(obj, x)) == ("minimum" if sign > 0 else "maximum"):
            return x
    return [DEFAULT_STARTS[0]] * n


# ---------------------------------------------------------------------------------------------------
# The public drivers


def minimize(f: Any, start: Any = None, method: str = "bfgs", lr: float | None = None, tol: float = 1e-6,
             max_iter: int | None = None, starts: int = 1, seed: int | None = None,
             box: tuple[float, float] | None = None,
             callback: Callable[[HistoryEntry], Any] | None = None) -> OptimizeResult:
    """Find a local minimum of f by a gradient method; report honestly how the search ended.

    f: a formula ("x**2+2*x+3"), an Expr, or a Python function of a numpy array of Values.
    start: a dict {name: value}, a sequence in `variables` order, a number (one variable), or None
        (every variable at 1.0, or the next of DEFAULT_STARTS if f is undefined there or it is a
        critical point that is not a minimum).
    method: "bfgs" (default; BFGS with an Armijo line search), "newton" (exact Hessian, eigenvalues
        made positive where it is not positive definite, line search), "armijo" (steepest descent
        with a line search), or a fixed-step method: "gd" (x <- x - lr * grad f), "momentum",
        "nesterov", "adam".
    lr: the fixed learning rate, or the first trial step of a line search (DEFAULT_LR by method).
    tol: stop when ||grad f(x)|| < tol.  max_iter: at most this many updates (default 10,000).
    starts, seed, box: with starts=K > 1, run from the start and from K-1 points drawn uniformly
        from box (default [-5, 5] for every variable) with numpy's default_rng(seed) (seed None: 0),
        and return the best run; `optima` lists the distinct optima found.
    callback: called with a HistoryEntry at every iteration (iteration 0 is the start).
    """
    return _drive(f, start, method, lr, tol, max_iter, starts, seed, box, callback, 1.0)


def maximize(f: Any, start: Any = None, method: str = "bfgs", lr: float | None = None, tol: float = 1e-6,
             max_iter: int | None = None, starts: int = 1, seed: int | None = None,
             box: tuple[float, float] | None = None,
             callback: Callable[[HistoryEntry], Any] | None = None) -> OptimizeResult:
    """Find a local maximum of f by gradient ascent (x <- x + lr * grad f for "gd").

    The same options as `minimize`; it minimises -f, and reports `fun`, `history` and the messages
    in f's own sign.
    """
    return _drive(f, start, method, lr, tol, max_iter, starts, seed, box, callback, -1.0)


def _check_options(method: str, lr: float | None, tol: float, max_iter: int | None, starts: int,
                   seed: Any = None) -> None:
    if method not in _STEPPERS:
        raise GradcoreError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise GradcoreError(f"lr must be a positive number, got {lr!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise GradcoreError(f"tol must be a positive number, got {tol!r}")
    if max_iter is not None and not (isinstance(max_iter, int) and max_iter >= 0):
        raise GradcoreError(f"max_iter must be a whole number >= 0, got {max_iter!r}")
    if not (isinstance(starts, int) and starts >= 1):
        raise GradcoreError(f"starts must be a whole number >= 1, got {starts!r}")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise GradcoreError(f"seed must be a whole number >= 0, got {seed!r}")


def _drive(f, start, method, lr, tol, max_iter, starts, seed, box, callback, sign) -> OptimizeResult:
    method = str(method).lower()
    _check_options(method, lr, tol, max_iter, starts, seed)
    lr = float(DEFAULT_LR[method] if lr is None else lr)
    max_iter = _MAX_ITER if max_iter is None else max_iter
    obj = _objective(f, start)
    x0 = _start_vector(start, obj.variables)
    inner = obj if sign > 0 else obj.negated()
    if x0 is None:
        x0, where = _default_start(inner, 1.0), "default"
    else:
        where = "given"
    if starts == 1:
        return _one(obj, inner, x0, where, method, lr, tol, max_iter, callback, sign)
    lo, hi = DEFAULT_BOX if box is None else (float(box[0]), float(box[1]))
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise GradcoreError(f"box must be (low, high) with low < high, got {box!r}")
    rng = np.random.default_rng(0 if seed is None else seed)
    points = [x0] + [rng.uniform(lo, hi, len(x0)).tolist() for _ in range(starts - 1)]
    runs = [_one(obj, inner, p, where if i == 0 else f"random (run {i + 1} of {starts})", method, lr,
                 tol, max_iter, callback, sign) for i, p in enumerate(points)]
    return _best(runs, sign)


def _one(obj, inner, x0, where, method, lr, tol, max_iter, callback, sign) -> OptimizeResult:
    cb = callback
    if callback is not None and sign < 0:
        def cb(e: HistoryEntry) -> Any:
            return callback(e._replace(fun=-e.fun))
    # Overflow and NaN are detected and reported by the loops themselves; numpy's warnings about
    # them (from a norm or a matrix product on a run-away iterate) would only be noise on stderr.
    with np.errstate(all="ignore"):
        try:
            run = _descend(inner, x0, method, lr, tol, max_iter, cb)
        except DomainError as exc:
            run = _Run(list(x0), math.nan, math.nan, 0, 1, Status.NON_FINITE, "start", math.nan, list(x0),
                       [], exc)
        e = _eigh(obj, run.x) if math.isfinite(run.f) else None
    w = None if e is None else e[0]
    # At a converged point the eigenvalues must also resolve the critical point (see _classify).
    cls = _classify(w, run.gn, _norm(run.x)) if run.status is Status.CONVERGED else _classify(w)
    descent = None
    if run.status is Status.CONVERGED and cls in ("saddle", "maximum" if sign > 0 else "minimum"):
        run.status, run.why = Status.SADDLE, "saddle"
        # The eigenvector of the eigenvalue of the wrong sign: the way out of the saddle.
        v = e[1][:, 0] if sign > 0 else e[1][:, -1]
        descent = v / v[np.argmax(np.abs(v))]
    if run.status is Status.CONVERGED and cls == "degenerate":
        if _norm(run.x) > _FAR * max(1.0, _norm(run.x0)):
            run.status, run.why = Status.UNBOUNDED, "flat_far"
        elif run.x and _runs_off(inner, run):
            pass  # _runs_off marked the run unbounded: f only approaches its infimum at infinity
        elif run.x:
            lower = _probe(inner, run, e)
            if lower is not None:
                run.status, run.why, run.bad_x, run.bad_f = Status.SADDLE, "probe", lower[0], lower[1]
    res = OptimizeResult(
        x=np.array(run.x, dtype=float), variables=obj.variables, fun=sign * run.f, grad_norm=run.gn,
        nit=run.nit, nfev=run.nfev, status=run.status, message="", classification=cls, method=method,
        direction="minimize" if sign > 0 else "maximize", eigenvalues=w,
        start=dict(zip(obj.variables, run.x0)), reason=run.why, _raw_history=run.history)
    res.message = _message(res, run, where, lr, tol, max_iter, sign, descent)
    if res.status is Status.UNBOUNDED and run.x0 and run.why != "asymptote":
        cp = _critical_point(obj, run.x0)
        # A "critical point" with a singular Hessian is usually a plateau of rounding (sigmoid at 37).
        res.critical_point = cp if cp is not None and cp.classification != "degenerate" else None
        if res.critical_point is not None:
            cp = res.critical_point
            goal = "minimum" if sign > 0 else "maximum"
            kind = (f"a local {goal}, but f goes {'lower' if sign > 0 else 'higher'} elsewhere"
                    if cp.classification == goal else f"a {cp.classification}, not a {goal}")
            res.message += f"; a critical point was found at {_fmt_point(cp.point)} (f = {_num(cp.fun)}): {kind}"
    if res.success:
        res.optima = [LocalOptimum(res.point, res.fun, cls, 1)]
    return res


def _runs_off(obj: _Objective, run: _Run, steps: int = 100) -> bool:
    """Where the gradient fell below tol but the Hessian is too flat to resolve a critical point
    (exp(x) at x = -14.5, 1/(1 + x**2) at x = 134), keep descending with tol = 0. If f keeps
    improving while x moves more than max(1, |x|) away, there is no minimizer: f approaches
    its infimum only at infinity. Marks `run` unbounded (why = "asymptote") and returns True then.
    """
    with np.errstate(all="ignore"):
        try:
            more = _descend(obj, list(run.x), "bfgs", 1.0, 5e-324, steps, None)
        except DomainError:
            return False
    moved = _norm([a - b for a, b in zip(more.x, run.x)])
    if math.isfinite(more.f) and more.f < run.f and moved > max(1.0, _norm(run.x)):
        run.status, run.why, run.bad_x, run.bad_f = Status.UNBOUNDED, "asymptote", list(more.x), more.f
        return True
    return False


def _critical_point(obj: _Objective, x0: Sequence[float], steps: int = 60) -> LocalOptimum | None:
    """Newton's method on grad f = 0 from x0: x <- x - H^-1 g (least squares where H is singular).

    Newton steps are drawn to any critical point, saddles included, which is what an unbounded
    report needs: where f has a flat spot, and what kind it is. None if no step sequence converges.
    """
    x = np.array(x0, dtype=float)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            try:
                f, g = obj.vg(*x.tolist())
                H = np.asarray(obj.hess(*x.tolist()), dtype=float)
            except (DomainError, ArithmeticError):
                return None
            g = np.asarray(g, dtype=float)
            if not (math.isfinite(f) and np.isfinite(g).all() and np.isfinite(H).all()):
                return None
            dx = np.linalg.lstsq(H, g, rcond=None)[0]
            # Converged when the Newton step itself is negligible: a small gradient alone is not
            # enough on a flat slope (exp(x) at x = -24 has gradient 4e-11 but no critical point).
            if _norm(dx) <= 1e-9 * max(1.0, _norm(x)) and _norm(g) <= 1e-8 * max(1.0, abs(f)):
                e = _eigh(obj, x.tolist())
                cls = _classify(None if e is None else e[0])
                point = {n: float(round(v, 12)) + 0.0 for n, v in zip(obj.variables, x)}
                return LocalOptimum(point, float(f), cls, 1)
            x = x - dx
            if not np.isfinite(x).all():
                return None
    return None


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def _message(res: OptimizeResult, run: _Run, where: str, lr: float, tol: float, max_iter: int,
             sign: float, descent: np.ndarray | None) -> str:
    """One paragraph saying how the run ended, in f's own sign and the user's variable names."""
    names = res.variables
    goal, side = ("minimum", "below") if sign > 0 else ("maximum", "above")
    moving = "decreasing" if sign > 0 else "increasing"
    f0 = sign * run.f0
    began = (f"after {_plural(run.nit, 'iteration')} from "
             + (f"the {where} start" if where in ("given", "default") else f"a {where} start")
             + f" {_vec(names, run.x0)}")
    fixed = res.method in _FIXED_STEP
    why = run.why
    if why == "tol" and not names:
        return f"f has no variables: it is the constant {_num(res.fun)}, its own {goal}"
    if why == "tol":
        text = f"the gradient norm {_num(run.gn)} is below tol {_num(tol)} {began}"
        if res.classification == "degenerate":
            text += ("; the Hessian is (nearly) singular here, so the second-order test cannot "
                     f"confirm a {goal}, but no {'lower' if sign > 0 else 'higher'} point was found "
                     "nearby (f may be flat here)")
        elif res.classification is None:
            text += "; the Hessian could not be evaluated here to confirm it"
        return text
    if why == "saddle":
        what = "a saddle point" if res.classification == "saddle" else f"a {res.classification}"
        w = ", ".join(_num(float(v)) for v in res.eigenvalues)
        along = "" if descent is None else f" along ({', '.join(_num(float(v)) for v in descent)})"
        return (f"the gradient vanished at {what}, not a {goal} (Hessian eigenvalues {w}), {began}; "
                f"f {'decreases' if sign > 0 else 'increases'}{along} from here: try another start, "
                "or starts=10")
    if why == "probe":
        return (f"the gradient vanished {began}, but the Hessian is singular here and f is "
                f"{'lower' if sign > 0 else 'higher'} nearby: f = {_num(sign * run.bad_f)} at "
                f"{_vec(names, run.bad_x)}, so this is not a {goal}")
    if why == "below":
        limit = min(-1.0, run.f0) / _EPS
        return (f"f is unbounded {side}: it reached {_num(res.fun)} {began} (f = {_num(f0)} there), "
                f"past the test {'f < min(-1, f0)' if sign > 0 else 'f > max(1, f0)'}/eps = "
                f"{_num(sign * limit)}; f has no {goal}")
    if why == "asymptote":
        return (f"f has no {goal}: the gradient fell below tol {began}, but f is only flat there; "
                f"descending further, f kept {moving} (to {_num(sign * run.bad_f)}) while the iterates "
                f"ran off to {_vec(names, run.bad_x)}, so f approaches its "
                f"{'infimum' if sign > 0 else 'supremum'} only at infinity")
    if why in ("runoff", "flat_far"):
        return (f"f has no {goal}: the iterates ran off to |x| = {_num(_norm(run.x))} while f kept "
                f"{moving} (from {_num(f0)} to {_num(res.fun)}) {began}")
    if why == "max_iter":
        text = (f"stopped at max_iter = {max_iter} {began}: the gradient norm {_num(run.gn)} is still "
                f"above tol {_num(tol)}")
        if fixed and run.f > run.f0:
            text += (f"; f moved away from the {goal} ({_num(f0)} at the start, {_num(res.fun)} now): "
                     f"the learning rate {_num(lr)} is too large for this function")
        elif fixed and run.nit > 1 and run.f >= run.f0:
            # f is no lower after all those steps: a fixed rate that overshoots back and forth.
            text += (f"; f is no lower than at the start ({_num(f0)}): the iterates overshoot back and "
                     f"forth, so the learning rate {_num(lr)} is too large for this function (try a "
                     "smaller lr, or the default method)")
        elif fixed:
            text += f"; raise max_iter or lr (now {_num(lr)}), or use the default method"
        return text
    if why == "stalled":
        return (f"no step lowers {'f' if sign > 0 else '-f'} any further in float64 {began}, but the "
                f"gradient norm {_num(run.gn)} is still above tol {_num(tol)} (f may not be smooth here, "
                "or tol is finer than float64 resolves at this scale)")
    if why == "start":
        return f"f cannot be evaluated at the {where} start {_vec(names, run.x0)}: {run.error}"
    if why == "edge":
        return (f"f kept {moving} toward the edge of its domain (from {_num(f0)} to {_num(res.fun)}) "
                f"{began}, and every trial step from {_vec(names, run.x)} left the domain: {run.error}")
    # A domain error, an overflow, inf or nan met by a step.
    if run.error is not None:
        cause = str(run.error)
    else:
        cause = "f or its gradient became inf or nan" + (f" at {_vec(names, run.bad_x)}" if run.bad_x else "")
    if fixed and run.f > run.f0:
        return (f"diverged: f moved away from the {goal} ({_num(f0)} at the start, {_num(res.fun)} at "
                f"the last finite point, {began}) until {cause}; the learning rate {_num(lr)} is too "
                "large for this function (try a smaller lr, or the default method)")
    text = f"{cause}; met by step {run.nit + 1}, {began}"
    if run.f < run.f0:
        text += f" (f had gone from {_num(f0)} to {_num(res.fun)}; the last finite point is reported)"
    return text


def _best(runs: list[OptimizeResult], sign: float) -> OptimizeResult:
    """The best of several runs, with the distinct optima they found.

    If any run is unbounded, f has no global optimum and that run is the answer. Otherwise the best
    converged run wins; if none converged, the run with the best finite f. Two converged points are
    the same optimum when they are within 1e-4 * max(1, |x|) of each other.
    """
    optima: list[tuple[np.ndarray, float, str | None, int]] = []
    for r in runs:
        if not r.success:
            continue
        for i, (x, fun, cls, count) in enumerate(optima):
            if np.linalg.norm(r.x - x) <= 1e-4 * max(1.0, float(np.linalg.norm(x))):
                if sign * r.fun < sign * fun:
                    optima[i] = (r.x, r.fun, cls, count + 1)
                else:
                    optima[i] = (x, fun, cls, count + 1)
                break
        else:
            optima.append((r.x, r.fun, r.classification, 1))
    optima.sort(key=lambda o: sign * o[1])
    names = runs[0].variables
    found = [LocalOptimum(dict(zip(names, map(float, x))), fun, cls, count) for x, fun, cls, count in optima]
    unbounded = [r for r in runs if r.status is Status.UNBOUNDED]
    good = [r for r in runs if r.success]
    finite = [r for r in runs if math.isfinite(r.fun)]
    if unbounded:
        best = unbounded[0]
    elif good:
        best = min(good, key=lambda r: sign * r.fun)
    elif finite:
        best = min(finite, key=lambda r: sign * r.fun)
    else:
        best = runs[0]
    goal = ("minimum" if len(found) == 1 else "minima") if sign > 0 else \
        ("maximum" if len(found) == 1 else "maxima")
    tally = (f"{len(good)} of {len(runs)} starts converged; {len(found)} distinct local {goal} found"
             + (f" ({', '.join(_num(o.fun) for o in found)})" if found else ""))
    if unbounded and found:
        tally += "; f is unbounded, so none of them is global"
    out = OptimizeResult(**{**best.__dict__, "optima": found, "runs": runs})
    out.message = f"{best.message}. Multi-start: {tally}"
    return out


# ---------------------------------------------------------------------------------------------------
# Reports for the command line (cli.py prints these)


def _finite_or_none(v: float) -> float | None:
    return float(v) if math.isfinite(v) else None


def report_dict(result: OptimizeResult, expr: Expr | None = None) -> dict[str, Any]:
    """The JSON object `--json` prints: plain types only; inf and nan become null."""
    out: dict[str, Any] = {
        "expression": None if expr is None else str(expr),
        "direction": result.direction,
        "method": result.method,
        "status": result.status.value,
        "success": result.success,
        "point": {k: _finite_or_none(v) for k, v in result.point.items()},
        "fun": _finite_or_none(result.fun),
        "grad_norm": _finite_or_none(result.grad_norm),
        "nit": result.nit,
        "message": result.message,
        "classification": result.classification,
        "variables": list(result.variables),
        "nfev": result.nfev,
        "start": result.start,
    }
    if expr is not None:
        out["gradient"] = {v: str(expr.diff(v)) for v in expr.variables}
    if result.critical_point is not None:
        cp = result.critical_point
        out["critical_point"] = {"point": cp.point, "fun": _finite_or_none(cp.fun),
                                 "classification": cp.classification}
    if result.runs:
        out["optima"] = [{"point": o.point, "fun": o.fun, "classification": o.classification,
                          "count": o.count} for o in result.optima]
    return out


def headline(result: OptimizeResult) -> str:
    """One line: what was found, or why nothing was."""
    goal = "minimum" if result.direction == "minimize" else "maximum"
    side = "below" if goal == "minimum" else "above"
    where = _fmt_point(result.point) or "(no variables)"
    status = result.status
    if status is Status.CONVERGED:
        return f"{goal}: f = {_num(result.fun)} at {where}"
    if status is Status.UNBOUNDED and result.reason == "asymptote":
        return f"no {goal}: f only approaches its {'infimum' if goal == 'minimum' else 'supremum'} as x runs off to infinity"
    if status is Status.UNBOUNDED:
        return f"no {goal}: f is unbounded {side}"
    if status is Status.SADDLE:
        if result.classification == "degenerate":
            return (f"no {goal} here: the gradient vanishes at {where} (f = {_num(result.fun)}), "
                    f"but f is {'lower' if goal == 'minimum' else 'higher'} nearby")
        what = "a saddle point" if result.classification == "saddle" else f"a {result.classification}"
        return f"no {goal} here: the gradient vanishes at {what}, {where} (f = {_num(result.fun)})"
    if status is Status.MAX_ITER:
        return f"no {goal} found: the search stopped before the gradient vanished"
    if result.nit == 0 and not math.isfinite(result.fun):
        return f"no {goal} found: f cannot be evaluated at the start"
    if result.message.startswith("diverged"):
        return f"no {goal} found: the iteration diverged"
    return f"no {goal} found: f could not be evaluated on the way"


def report_text(result: OptimizeResult, expr: Expr | None = None) -> str:
    """The human summary: the formula and its gradient, the answer, status, classification, cost."""
    lines = []
    if expr is not None:
        names = ", ".join(expr.variables)
        lines.append(f"{result.direction} f({names}) = {expr}")
        lines += [f"  df/d{v} = {expr.diff(v)}" for v in expr.variables]
        lines.append("")
    lines.append(headline(result))
    lines.append(f"status: {result.status.value} ({result.message})")
    if result.status is not Status.CONVERGED and result.status is not Status.SADDLE:
        lines.append(f"last point: {_fmt_point(result.point) or '(no variables)'} (f = {_num(result.fun)})")
    cp = result.critical_point
    if cp is not None:
        lines.append(f"critical point: {_fmt_point(cp.point)} (f = {_num(cp.fun)}), a {cp.classification}")
    elif result.classification is not None:
        w = result.eigenvalues
        eig = "" if w is None or not w.size else \
            f" (Hessian eigenvalues {', '.join(_num(float(v)) for v in w)})"
        at = "" if result.status in (Status.CONVERGED, Status.SADDLE) else " at the last point"
        lines.append(f"classification{at}: {result.classification}{eig}")
    lines.append(f"method: {result.method}, {_plural(result.nit, 'iteration')}, "
                 f"{_plural(result.nfev, 'evaluation')} of f and its gradient")
    if result.runs:
        goal = "minima" if result.direction == "minimize" else "maxima"
        lines.append(f"distinct local {goal} from {len(result.runs)} starts (best first):")
        lines += [f"  f = {_num(o.fun)} at {_fmt_point(o.point)} ({_plural(o.count, 'run')})"
                  for o in result.optima] or ["  (none: no run converged)"]
    return "\n".join(lines)


def log_header(variables: Sequence[str]) -> str:
    """The header of the --log-every progress table."""
    return f"{'iteration':>9}  {'f':>17}  {'|grad f|':>12}  " + "  ".join(f"{v:>15}" for v in variables)


def log_line(entry: HistoryEntry) -> str:
    """One row of the progress table, like the tutorials' "epoch N: loss = ..." lines."""
    return (f"{entry.nit:>9}  {entry.fun:>17.10g}  {entry.grad_norm:>12.6g}  "
            + "  ".join(f"{v:>15.10g}" for v in entry.x))


def exact_critical_point(expr: Expr, point: Mapping[str, float], timeout: float = 2.0) -> str:
    """Ask sympy whether a simple closed form near `point` is an exact critical point.

    Each coordinate is guessed with sympy.nsimplify (rationals, pi, e, square roots) at a few
    tolerances, and a guess is kept only if every partial derivative is exactly 0 there. sympy
    runs in a daemon thread that is abandoned after `timeout` seconds, so this never hangs.
    """
    import threading

    found: list[str] = []

    def work() -> None:
        import sympy as sp

        s = expr.to_sympy()
        symbols = {sym.name: sym for sym in s.free_symbols}
        syms = [symbols.get(v, sp.Symbol(v, real=True)) for v in expr.variables]
        partials = [sp.diff(s, sym) for sym in syms]
        for tol in (1e-12, 1e-9, 1e-6, 1e-4):
            guess = {sym: sp.nsimplify(float(point[v]), [sp.pi, sp.E], tolerance=tol)
                     for sym, v in zip(syms, expr.variables)}
            if all(sp.simplify(d.subs(guess)) == 0 for d in partials):
                value = sp.simplify(s.subs(guess))
                coords = ", ".join(f"{sym} = {guess[sym]}" for sym in syms)
                found.append(f"exact critical point (sympy): {coords}, f = {value}")
                return
        found.append("exact critical point (sympy): no simple closed form found near this point")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout)
    if found:
        return found[0]
    return f"exact critical point (sympy): not found within {_num(timeout)} s"
