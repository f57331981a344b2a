"""minimize / maximize: check the options, pick the starts, run the descent loop, judge where it ended.

Fixed-step methods reproduce the tutorials' loops exactly; the default (BFGS with a backtracking line
search) gets the right answer in few steps. Every run ends with a status and a second-order check.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping

import numpy as np

from ..errors import DomainError, GradcoreError
from . import _diagnosis as dx
from ._diagnosis import norm
from ._fixed import Trail, loop_for
from ._linesearch import Stalled
from ._methods import DEFAULT_LR, METHODS, STEPPERS
from ._objective import Objective, objective
from ._result import (HistoryEntry, LocalOptimum, OptimizeResult, Options, Reason, Run, Status,
                      critical_point_note, explain, multi_start_note, timeout_note)

__all__ = ["minimize", "maximize", "DEFAULT_STARTS", "DEFAULT_BOX", "MAX_STARTS", "MAX_ITER_CAP"]

# With no `start`, every variable starts at the first of these values where f is defined and which
# is not a critical point of the wrong kind (so a run never silently "converges" at a saddle).
DEFAULT_STARTS: tuple[float, ...] = (1.0, 0.5, 2.0, -1.0, 3.0, -2.0)
# Multi-start draws its extra points uniformly from this interval, for every variable.
DEFAULT_BOX: tuple[float, float] = (-5.0, 5.0)

_MAX_ITER = 10_000
# Caps: each start is a whole search, and max_iter bounds the updates of one; beyond these a run
# would take hours, so they are refused with a clear error (`timeout` bounds the wall time instead).
MAX_STARTS = 10_000
MAX_ITER_CAP = 100_000_000
_HISTORY = 1000          # history keeps at most 2x this many entries (every k-th step, k doubling)


# ---------------------------------------------------------------------------------------------------
# The public drivers


def minimize(f: Any, start: Any = None, method: str = "bfgs", lr: float | None = None, tol: float = 1e-6,
             max_iter: int | None = None, starts: int = 1, seed: int | None = None,
             box: tuple[float, float] | None = None,
             callback: Callable[[HistoryEntry], Any] | None = None,
             timeout: float | None = None) -> OptimizeResult:
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
    timeout: stop after this many seconds of wall time (status max_iter, reason "timeout"; the last
        point is reported; with starts > 1, no new start begins after it).
    max_iter is at most MAX_ITER_CAP and starts at most MAX_STARTS.
    """
    opts = _options(method, lr, tol, max_iter, starts, seed, callback, 1.0, timeout)
    return _drive(f, start, opts, starts, seed, box)


def maximize(f: Any, start: Any = None, method: str = "bfgs", lr: float | None = None, tol: float = 1e-6,
             max_iter: int | None = None, starts: int = 1, seed: int | None = None,
             box: tuple[float, float] | None = None,
             callback: Callable[[HistoryEntry], Any] | None = None,
             timeout: float | None = None) -> OptimizeResult:
    """Find a local maximum of f by gradient ascent (x <- x + lr * grad f for "gd").

    The same options as `minimize`; it minimises -f, and reports `fun`, `history` and the messages
    in f's own sign.
    """
    opts = _options(method, lr, tol, max_iter, starts, seed, callback, -1.0, timeout)
    return _drive(f, start, opts, starts, seed, box)


def _options(method: Any, lr: float | None, tol: float, max_iter: int | None, starts: int, seed: Any,
             callback: Callable | None, sign: float, timeout: float | None = None) -> Options:
    """Check the options (a clear GradcoreError for each bad one) and fill in the defaults."""
    method = str(method).lower()
    if method not in STEPPERS:
        raise GradcoreError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if lr is not None and not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise GradcoreError(f"lr must be a positive number, got {lr!r}")
    if not (isinstance(tol, (int, float)) and tol > 0):
        raise GradcoreError(f"tol must be a positive number, got {tol!r}")
    if max_iter is not None and not (isinstance(max_iter, int) and max_iter >= 0):
        raise GradcoreError(f"max_iter must be a whole number >= 0, got {max_iter!r}")
    if max_iter is not None and max_iter > MAX_ITER_CAP:
        raise GradcoreError(f"max_iter must be at most {MAX_ITER_CAP:,} (use timeout= to bound the time "
                            f"instead), got {max_iter:,}")
    if not (isinstance(starts, int) and starts >= 1):
        raise GradcoreError(f"starts must be a whole number >= 1, got {starts!r}")
    if starts > MAX_STARTS:
        raise GradcoreError(f"starts must be at most {MAX_STARTS:,} (each start is a whole search), "
                            f"got {starts:,}")
    if timeout is not None and not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool)
                                    and math.isfinite(timeout) and timeout > 0):
        raise GradcoreError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if seed is not None and not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise GradcoreError(f"seed must be a whole number >= 0, got {seed!r}")
    return Options(method, float(DEFAULT_LR[method] if lr is None else lr), tol,
                   _MAX_ITER if max_iter is None else max_iter, sign, callback,
                   None if timeout is None else float(timeout), starts=starts)


def _drive(f: Any, start: Any, opts: Options, starts: int, seed: int | None,
           box: tuple[float, float] | None) -> OptimizeResult:
    if opts.timeout is not None:
        opts.deadline = time.monotonic() + opts.timeout
    obj = objective(f, start)
    x0 = _start_vector(start, obj.variables)
    inner = obj if opts.sign > 0 else obj.negated()
    if x0 is None:
        x0, where = _default_start(inner), "default"
    else:
        where = "given"
    if starts == 1:
        return _one(obj, inner, x0, where, opts)
    lo, hi = DEFAULT_BOX if box is None else (float(box[0]), float(box[1]))
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise GradcoreError(f"box must be (low, high) with low < high, got {box!r}")
    rng = np.random.default_rng(0 if seed is None else seed)
    # The starts are drawn one at a time, as the runs need them, and none begins past the deadline.
    runs = [_one(obj, inner, x0, where, opts)]
    for i in range(1, starts):
        if opts.deadline is not None and time.monotonic() > opts.deadline:
            break
        runs.append(_one(obj, inner, rng.uniform(lo, hi, len(x0)).tolist(),
                         f"random (run {i + 1} of {starts})", opts))
    best = _best(runs, opts.sign)
    if len(runs) < starts:
        best.message += timeout_note(len(runs), starts, opts)
    return best


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


def _default_start(obj: Objective) -> list[float]:
    """The first of DEFAULT_STARTS (every variable the same) where f (already in the minimised sign)
    is defined and which is not a critical point of the wrong kind; if none qualifies, the first one
    (the run then says why)."""
    n = len(obj.variables)
    for c in DEFAULT_STARTS:
        x = [c] * n
        try:
            f, g = obj.vg(*x)
        except DomainError:
            continue
        if not (math.isfinite(f) and all(math.isfinite(v) for v in g)):
            continue
        if norm(g) > 0.0 or dx.classify(dx.eig(obj, x)) == "minimum":
            return x
    return [DEFAULT_STARTS[0]] * n


# ---------------------------------------------------------------------------------------------------
# One run: descend, then judge the end point


def _one(obj: Objective, inner: Objective, x0: list[float], where: str, opts: Options) -> OptimizeResult:
    """One descent from x0 on `inner` (f, or -f for maximize), reported in f's own sign."""
    sign, callback = opts.sign, opts.callback
    cb = callback
    if callback is not None and sign < 0:
        def cb(e: HistoryEntry) -> Any:
            return callback(e._replace(fun=-e.fun))
    # Overflow and NaN are detected and reported by the loops themselves; numpy's warnings about
    # them (from a norm or a matrix product on a run-away iterate) would only be noise on stderr.
    if opts.deadline is not None:
        cb = _timed(cb, opts.deadline)
    with np.errstate(all="ignore"):
        try:
            run = _descend(inner, x0, opts, cb)
        except DomainError as exc:
            run = Run(list(x0), math.nan, error=exc).stop(list(x0), math.nan, math.nan, 0, 1,
                                                            Status.NON_FINITE, Reason.START)
        except _TimedOut as out:
            e = out.entry
            run = Run(list(x0), e.fun, [(e.nit, list(e.x), e.fun, e.grad_norm)]).stop(
                list(e.x), e.fun, e.grad_norm, e.nit, e.nit + 1, Status.MAX_ITER, Reason.TIMEOUT)
        # The judgement asks for the Hessian at the same few points several times (the end point,
        # where Newton's steps settle, the precision there): each is computed once.
        judged = _remembering(obj)
        e, cls, descent = dx.judge(judged, judged if inner is obj else _remembering(inner), run, sign)
    res = OptimizeResult(
        x=np.array(run.x, dtype=float), variables=obj.variables, fun=sign * run.f, grad_norm=run.gn,
        nit=run.nit, nfev=run.nfev, status=run.status, message=None, classification=cls, method=opts.method,
        direction="minimize" if sign > 0 else "maximize", eigenvalues=None if e is None else e[0],
        start=dict(zip(obj.variables, run.x0)), reason=run.reason, test=None, _raw_history=run.history)
    res._words = explain(res, run, where, opts, descent)  # the message is written on first read
    if res.status is Status.UNBOUNDED and run.x0 and run.reason is not Reason.ASYMPTOTE:
        cp = dx.critical_point(obj, run.x0)
        # A "critical point" with a singular Hessian is usually a plateau of rounding (sigmoid at 37).
        if cp is not None and cp.classification != "degenerate":
            res.critical_point = cp
            res.message += critical_point_note(cp, sign)
    if res.success:
        point = dict(zip(obj.variables, map(float, run.x)))  # res.point, without reading res.x back
        res.optima = [LocalOptimum(point, res.fun, cls, 1)]
    return res


# Generating a formula's Hessian code is linear in its size but costly (the derivative of
# x^x^...^x, 999 powers, has some 8,000 nodes: 0.6 s of code generation, against 0.06 s for one
# Hessian on the scalar engine). The judgement of a large formula takes its first few Hessians from
# the scalar engine (the same table's rules, reverse over reverse), and only a longer search, which
# needs more points, pays for the code.
VALUE_HESSIAN_NODES = 400
VALUE_HESSIANS = 4


def _remembering(obj: Objective) -> Objective:
    """obj with its Hessian remembered at each point it is asked for (read-only arrays, so a
    caller cannot change what a later one reads; for one variable, f'' as a float); for a
    formula over VALUE_HESSIAN_NODES nodes, the first VALUE_HESSIANS points are computed on the
    scalar engine. A point with a zero coordinate is not remembered: f may tell -0.0 from 0.0
    where a dict key does not."""
    hess, expr = obj.hess, obj.expr
    if expr is not None and len(expr.nodes()) > VALUE_HESSIAN_NODES:
        on_values = [VALUE_HESSIANS]  # how many more Hessians the scalar engine computes
        code_hess = hess

        def hess(*x: float) -> Any:
            if on_values[0] > 0:
                on_values[0] -= 1
                return obj.sign * _value_hessian(expr, x)
            return code_hess(*x)

    if len(obj.variables) == 1:
        # One variable: the probes remember f''(x) itself, as a float (Objective.curvatures).
        return Objective(obj.variables, obj.vg, hess, expr, obj.compiled, obj.sign, {})
    seen: dict[tuple, Any] = {}

    def remembered(*x: float) -> Any:
        if 0.0 in x:
            return hess(*x)
        H = seen.get(x)
        if H is None:
            H = hess(*x)
            if isinstance(H, np.ndarray):
                H.flags.writeable = False
            seen[x] = H
        return H

    return Objective(obj.variables, obj.vg, remembered, expr, obj.compiled, obj.sign)


def _value_hessian(expr: Any, x: tuple) -> np.ndarray:
    """The Hessian of a formula at x on the scalar engine (gradcore.hessian's rules, no code made)."""
    from ..calculus import hessian_at  # the scalar engine loads only for large formulas
    from ..value import build

    point = dict(zip(expr.variables, x))
    root, leaves = build(expr, point)
    return hessian_at(root, [leaves[n] for n in expr.variables], point)


# ---------------------------------------------------------------------------------------------------
# The descent loop


class _TimedOut(Exception):
    """Raised from the per-iteration check when the deadline has passed; carries the last entry."""

    def __init__(self, entry: HistoryEntry) -> None:
        super().__init__("timeout")
        self.entry = entry


def _timed(callback: Callable[[HistoryEntry], Any] | None, deadline: float) -> Callable[[HistoryEntry], Any]:
    """The callback the loops call at every iteration, with the wall clock checked first. A callback
    also sends every method through the general loop, so every method honours the deadline."""
    def check(entry: HistoryEntry) -> Any:
        if time.monotonic() > deadline:
            raise _TimedOut(entry)
        return None if callback is None else callback(entry)
    return check


def _descend(obj: Objective, x0: list[float], opts: Options,
             callback: Callable[[HistoryEntry], Any] | None) -> Run:
    """Minimise obj from x0. Stops at: gradient norm < tol; f < min(-1, f0)/eps with |x| past
    1e6 * max(1, |x0|); max_iter; a failure."""
    method, tol, max_iter = opts.method, opts.tol, opts.max_iter
    if method == "gd" and len(x0) == 1 and callback is None:
        run = _gd_generated(obj, x0[0], opts.lr, tol, max_iter)
        return run if run is not None else _gd_scalar(obj.vg, x0[0], opts.lr, tol, max_iter)
    vg = obj.vg
    step = STEPPERS[method](vg, opts.lr, len(x0), obj.hess)
    x = list(x0)
    f, g = vg(*x)  # a DomainError here is the caller's to report (f undefined at the start)
    nfev, nit = 1, 0
    f_limit, far = dx.below_limits(f, norm(x0))
    run = Run(list(x0), f)
    every, history = 1, run.history
    while True:
        gn = norm(g)
        if f - f != 0.0 or gn - gn != 0.0:  # inf or nan: stop at the last finite point
            return _failed(run.stop(x, f, gn, nit, nfev), None, x)
        if nit % every == 0:
            history.append((nit, x, f, gn))
            if len(history) > 2 * _HISTORY:
                history[:], every = history[::2], 2 * every
        if callback is not None:
            callback(HistoryEntry(nit, tuple(x), f, gn))
        if gn < tol:
            reason, status = Reason.TOL, Status.CONVERGED
            break
        if f < f_limit and norm(x) > far:
            reason, status = Reason.BELOW, Status.UNBOUNDED
            break
        if nit >= max_iter:
            reason, status = Reason.MAX_ITER, Status.MAX_ITER
            break
        try:
            xn, fn, gnext, k = step(x, f, g)
        except DomainError as exc:
            return _failed(run.stop(x, f, gn, nit, nfev + 1), exc, None)
        except Stalled as exc:
            nfev += exc.evaluations
            if exc.error is not None:  # every trial step left f's domain
                run = _failed(run.stop(x, f, gn, nit, nfev), exc.error, None)
                run.reason = Reason.EDGE
                return run
            reason, status = Reason.STALLED, Status.MAX_ITER
            break
        nfev += k
        if fn - fn != 0.0 or not all(v - v == 0.0 for v in gnext):
            return _failed(run.stop(x, f, gn, nit, nfev), None, xn)
        x, f, g = xn, fn, gnext
        nit += 1
    if history[-1][0] != nit:
        history.append((nit, x, f, gn))
    return run.stop(x, f, gn, nit, nfev, status, reason)


def _gd_generated(obj: Objective, x: float, lr: float, tol: float, max_iter: int) -> Run | None:
    """_gd_scalar's run through the generated loop (gradient only at each step), or None when the
    formula has no generated loop or the run met anything unusual.

    The generated loop stops short of the general one's verdict at anything that could change it:
    |x| past `far` (the unbounded test), a gradient that fails or is not finite, f not finite at a
    checkpoint or at the end. None then sends the run through _gd_scalar, which repeats it from x0
    with f at every step and names the cause exactly; the iterates are the same.
    """
    loop = None if obj.compiled is None else loop_for(obj.compiled, obj.sign)
    if loop is None:
        return None
    vg = obj.vg
    f, (g,) = vg(x)  # a DomainError here is the caller's to report (f undefined at the start)
    if (f + g) * 0.0 != 0.0:
        return None
    f_limit, far = dx.below_limits(f, abs(x))
    xn, gn, nit, _, done = loop(x, g, lr, tol, max_iter, far, None)
    if not done:
        return None
    try:
        fn, _ = vg(xn)
    except DomainError:
        return None
    if fn * 0.0 != 0.0:
        return None
    replay = loop.replay
    trail = Trail(vg, _HISTORY).replay(lambda absorb: replay(x, g, lr, nit, absorb), nit, xn)
    run = Run([x], f, trail)  # type: ignore[arg-type]
    gn = abs(gn)
    if gn < tol:
        return run.stop([xn], fn, gn, nit, nit + 1, Status.CONVERGED, Reason.TOL)
    return run.stop([xn], fn, gn, nit, nit + 1, Status.MAX_ITER, Reason.MAX_ITER)


def _gd_scalar(vg: Callable, x: float, lr: float, tol: float, max_iter: int) -> Run:
    """The same loop as _descend for "gd" on one variable without a callback, written out on floats.

    This is the tutorials' loop and the benchmarked hot path: no lists and no step function; one
    finiteness test per evaluation; history is recorded when nit reaches the next multiple of k.
    """
    x0 = x
    f, (g,) = vg(x)
    run = Run([x0], f)
    if (f + g) * 0.0 != 0.0:  # inf or nan
        return _failed(run.stop([x], f, abs(g), 0, 1), None, [x])
    f_limit, far = dx.below_limits(f, abs(x0))
    history = run.history
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
            return _failed(run.stop([x], f, gn, nit, nit + 2), exc, None)
        if (fn + gnext) * 0.0 != 0.0:
            return _failed(run.stop([x], f, gn, nit, nit + 2), None, [xn])
        x, f, g = xn, fn, gnext
    if gn < tol:
        reason, status = Reason.TOL, Status.CONVERGED
    elif f < f_limit and abs(x) > far:
        reason, status = Reason.BELOW, Status.UNBOUNDED
    else:
        reason, status = Reason.MAX_ITER, Status.MAX_ITER
    if history[-1][0] != nit:
        history.append((nit, x, f, gn))
    return run.stop([x], f, gn, nit, nit + 1, status, reason)


def _failed(run: Run, error: Exception | None, bad_x: list[float] | None) -> Run:
    """A step met a domain error, an overflow, inf or NaN: report the last finite point (run.x).

    If f had been improving while |x| ran far off, the iterates were running off to infinity: that
    is an unbounded objective, not a numerical accident.
    """
    history = run.history
    if run.f - run.f == 0.0 and (not history or history[-1][0] != run.nit):
        history.append((run.nit, run.x, run.f, run.gn))
    run.x = list(run.x)
    run.error, run.bad_x = error, None if bad_x is None else list(bad_x)
    if run.f - run.f != 0.0:  # not finite at the start itself
        run.reason = Reason.START
    elif dx.ran_off(run):
        run.status, run.reason = Status.UNBOUNDED, Reason.RUNOFF
    return run


# ---------------------------------------------------------------------------------------------------
# Multi-start: the best of several runs


def _best(runs: list[OptimizeResult], sign: float) -> OptimizeResult:
    """The best of several runs, with the distinct optima they found.

    If any run is unbounded, f has no global optimum and that run is the answer. Otherwise the best
    converged run wins; if none converged, the run with the best finite f. Two converged points are
    the same optimum when they are within 1e-4 * max(1, |x|) of each other.
    """
    optima: list[tuple[np.ndarray, float, str | None, int]] = []
    for r in runs:
        if not (r.success or r.reason is Reason.RAY):  # RAY: a local optimum of an unbounded f
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
    out = best.copy(optima=found, runs=runs)
    out.message = best.message + multi_start_note(len(good), len(runs), found, bool(unbounded), sign)
    return out
