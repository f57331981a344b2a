"""What a minimize/maximize run returns: OptimizeResult, its Status, and the Reason it stopped.

Every Reason has its sentence in one table, MESSAGES (as scipy's status messages), and its deciding
test in another, TESTS; `explain` makes the writer that fills a sentence in with the run's numbers,
in f's own sign and the user's variable names. (About 600 lines: the result's classes, the two
tables and the words that fill them in are kept in one place, so a sentence and its words cannot
drift apart.)
"""

from __future__ import annotations

import enum
import math
import re
import sys
from typing import Any, Callable, NamedTuple, Sequence

import numpy as np

from ..format import html_table, number, point as fmt_point
from ._methods import FIXED_STEP

__all__ = ["Status", "Reason", "HistoryEntry", "LocalOptimum", "OptimizeResult", "MESSAGES"]

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


class Reason(str, enum.Enum):
    """Why a run ended, in more detail than its Status; each has a sentence in MESSAGES."""

    TOL = "tol"                # converged: the gradient norm fell below tol
    SADDLE = "saddle"          # saddle: the Hessian has an eigenvalue of the wrong sign
    PROBE = "probe"            # saddle: the Hessian is singular and a nearby point is better
    BELOW = "below"            # unbounded: f passed min(-1, f0)/eps far from the start
    ASYMPTOTE = "asymptote"    # unbounded: f is flat, but keeps improving on the way to infinity
    RUNOFF = "runoff"          # unbounded: a step failed after the iterates had run far off
    FLAT_FAR = "flat_far"      # unbounded: converged on a flat stretch very far from the start
    MAX_ITER = "max_iter"      # max_iter: the step budget ran out
    STALLED = "stalled"        # max_iter: no step lowers f any further in float64
    START = "start"            # non_finite: f cannot be evaluated at the start
    EDGE = "edge"              # non_finite: every trial step left f's domain
    NON_FINITE = "non_finite"  # non_finite: a step met a domain error, an overflow, inf or nan
    BOUNDARY = "boundary"      # converged: the minimum lies on the edge of f's domain (sqrt(x) at 0)
    RAY = "ray"                # unbounded: from the optimum found, f passes it without bound along a ray
    POLE = "pole"              # unbounded: f runs to -inf (minimize) / +inf (maximize) at a pole
    TIMEOUT = "timeout"        # max_iter: the wall-clock budget `timeout` ran out
    PLATEAU = "plateau"        # max_iter: f is flat in float64 around x; the gradient is only tiny

    def __str__(self) -> str:
        return self.value


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


class _Written:
    """An attribute of OptimizeResult (message, test) kept in "_" + its name; None there means
    "not written yet", and the first read calls the result's writer, which writes both."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = "_" + name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        if getattr(obj, self.slot) is None:
            obj._write()
        return getattr(obj, self.slot)

    def __set__(self, obj: Any, text: str) -> None:
        setattr(obj, self.slot, text)


class OptimizeResult:
    """What a minimize/maximize run found, in scipy's names. `print(result)` gives a short summary.

    x is a numpy array in `variables` order, `point` the same as a dict. `fun` is f at x in its own
    sign (maximize does not negate it). `nit` counts updates, `nfev` evaluations of f (each with its
    gradient; the Hessians of newton and of the final check are not counted). `history` holds every
    k-th iteration plus the last (k doubles as the run grows, so it stays bounded). `classification`
    comes from the Hessian's eigenvalues at x (None if they cannot be computed there). With
    `starts` > 1, `optima` lists the distinct optima found, best first.

    `message` says in words how the run ended, and `test` which test decided it; both are written on
    first read, from facts fixed when the run ended (so a run nobody reads pays nothing for them).
    """

    def __init__(self, x: np.ndarray, variables: tuple[str, ...], fun: float, grad_norm: float, nit: int,
                 nfev: int, status: Status, message: str | None, classification: str | None, method: str,
                 direction: str, eigenvalues: np.ndarray | None = None, start: dict[str, float] | None = None,
                 optima: list[LocalOptimum] | None = None, runs: list["OptimizeResult"] | None = None,
                 reason: Reason | None = None, critical_point: LocalOptimum | None = None,
                 precision: tuple[list[float], float] | None = None, test: str | None = "",
                 _raw_history: list[tuple] | None = None, _words: Callable[[], tuple[str, str]] | None = None
                 ) -> None:
        self.x, self.variables, self.fun, self.grad_norm = x, variables, fun, grad_norm
        self.nit, self.nfev, self.status = nit, nfev, status
        self.classification, self.method, self.direction = classification, method, direction
        self.eigenvalues = eigenvalues
        self.start = {} if start is None else start
        self.optima, self.runs = [] if optima is None else optima, [] if runs is None else runs
        # Why the run ended, in more detail than status (equal to its string: "asymptote", "tol", ...).
        self.reason = reason
        # When f is unbounded, a critical point found by Newton's method on the gradient, if any, with
        # its classification: the saddle example x**2+2*x*y+cos(x+2*y) has only (0, 0), a saddle.
        self.critical_point = critical_point
        # How far each coordinate of x, and f, may be from the critical point they stand for (Newton's
        # step |H^-1 grad f|; None where the Hessian is singular): the report rounds to it.
        self.precision = precision
        # The message and the test that decided the status (the report's --verbose line, JSON): None
        # until `_words()` (which returns both) is called on first read.
        self._message, self._test, self._words = message, test, _words
        # The loops record plain (nit, x, f, |g|) tuples with f in the minimised sign; `history` turns
        # them into HistoryEntry rows on first use, so a run that nobody inspects pays nothing for it.
        self._raw_history = [] if _raw_history is None else _raw_history
        self._history: list[HistoryEntry] | None = None

    def _write(self) -> None:
        words, self._words = self._words, None
        message, test = words() if words is not None else ("", "")
        if self._message is None:
            self._message = message
        if self._test is None:
            self._test = test

    message = _Written()
    test = _Written()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled and deep-copied with the message and test written (the writer is a closure).
        self._write()
        return {**self.__dict__, "_words": None}

    def copy(self, **changes: Any) -> "OptimizeResult":
        """A shallow copy with some attributes replaced (the message and test written first)."""
        out = object.__new__(OptimizeResult)
        self._write()  # before the two share the facts
        out.__dict__.update(self.__dict__)
        out._history = None
        for k, v in changes.items():
            setattr(out, k, v)
        return out

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
                f"  point:          {shown_point(self)}",
                f"  value:          f = {number(shown_fun(self), 10)}",
                f"  gradient norm:  {number(self.grad_norm, 10)}",
                f"  classification: {self.classification or 'unknown'}",
                f"  iterations:     {self.nit} ({self.nfev} evaluations)",
                f"  message:        {self.message}"]
        if len(self.optima) > 1:
            rows.append(f"  distinct optima found ({len(self.runs)} starts):")
            rows += [f"    {fmt_point(o.point)}  f = {number(o.fun, 10)}  ({plural(o.count, 'run')})"
                     for o in self.optima]
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        """The summary print shows, as HTML tables for a notebook (every text escaped)."""
        # Read back from the printed text, so the two views cannot drift apart.
        title, *lines = str(self).splitlines()
        fields = [line.strip().split(":", 1) for line in lines[:6]]
        out = html_table([], [(k, v.strip()) for k, v in fields], title)
        if len(lines) > 6:  # the distinct optima of a multi-start run, one per line
            optima = [re.split(r"\s{2,}", line.strip()) for line in lines[7:]]
            out += "\n" + html_table(["point", "f", "found by"], optima, lines[6].strip().rstrip(":"))
        return out


# ---------------------------------------------------------------------------------------------------
# What the driver hands to the messages: the checked settings and the raw outcome of one descent


class Options:
    """The checked settings of one search (the driver checks them; the messages quote them).

    sign: +1 minimize; -1 maximize, which runs as minimisation of -f. timeout: seconds of wall time
    allowed, and deadline the clock time it ends at. starts: how many starts the search has (the
    local remark differs).
    """

    __slots__ = ("method", "lr", "tol", "max_iter", "sign", "callback", "timeout", "deadline", "starts")

    def __init__(self, method: str, lr: float, tol: float, max_iter: int, sign: float = 1.0,
                 callback: Callable[[HistoryEntry], Any] | None = None, timeout: float | None = None,
                 deadline: float | None = None, starts: int = 1) -> None:
        self.method, self.lr, self.tol, self.max_iter, self.sign = method, lr, tol, max_iter, sign
        self.callback, self.timeout, self.deadline, self.starts = callback, timeout, deadline, starts

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


class Run:
    """Where one descent stopped and why, with f in the minimised sign (before it is reported).

    history holds raw (nit, x, f, |g|) rows (x a list or a float); bad_x is where a step failed, or a
    better point found nearby. Filled in by the end-point judgement (_diagnosis.judge), in the
    minimised sign: scope ("global" with a proof, a convex quadratic, else "local"), ray (where f
    passes the optimum without bound: "x → ∞"), pole ("x → 0⁻": where f runs to -inf), boundary (the
    active edge of the domain at a boundary minimum), settled (the critical point Newton's steps
    settled on, if it moved), precision (how far x, each coordinate, and f may be off).
    """

    __slots__ = ("x0", "f0", "history", "x", "f", "gn", "nit", "nfev", "status", "reason", "error", "bad_x",
                 "bad_f", "scope", "ray", "pole", "boundary", "settled", "precision")

    def __init__(self, x0: list[float], f0: float, history: list[tuple] | None = None,
                 error: Exception | None = None) -> None:
        self.x0, self.f0, self.history = x0, f0, [] if history is None else history
        self.x: list[float] = []
        self.f = self.gn = self.bad_f = math.nan
        self.nit = self.nfev = 0
        self.status, self.reason = Status.NON_FINITE, Reason.NON_FINITE
        self.error = error
        self.bad_x: list[float] | None = None
        self.scope: str | None = None
        self.ray: str | None = None
        self.pole: str | None = None
        self.boundary: str | None = None
        self.settled: list[float] | None = None
        self.precision: tuple[list[float], float] | None = None

    def __repr__(self) -> str:
        return "Run(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__ if k != "history") + ")"

    def stop(self, x: list[float], f: float, gn: float, nit: int, nfev: int,
             status: Status = Status.NON_FINITE, reason: Reason = Reason.NON_FINITE) -> "Run":
        """Record the final iterate and the verdict; returns the run itself."""
        self.x, self.f, self.gn, self.nit, self.nfev, self.status, self.reason = \
            x, f, gn, nit, nfev, status, reason
        return self


# ---------------------------------------------------------------------------------------------------
# The message table. A run's message is the sentence of its Reason, then, where the numbers call
# for it, one of the remarks below it; "constant" and "diverged" replace the sentence instead.
# The {words} are filled in by _fill, each computed only when a sentence names it.

MESSAGES: dict[str, str] = {
    Reason.TOL: "the gradient norm {gn} is below tol {tol} {began}",
    Reason.SADDLE: ("the gradient vanished at {what}, not a {goal} (Hessian eigenvalues {eigenvalues}), "
                    "{began}; f {moves}{along} from here: try another start, or starts=10"),
    Reason.PROBE: ("the gradient vanished {began}, but the Hessian is singular here and f is {better} "
                   "nearby: f = {bad_f} at {bad_x}, so this is not a {goal}"),
    Reason.BELOW: ("f is unbounded {side}: it {moves} without bound, to {fun} {began} (f = {f0} there), "
                   "with the iterates far from the start; f has no {goal}"),
    Reason.ASYMPTOTE: ("f has no {goal}: the gradient fell below tol {began}, but f is only flat there; "
                       "descending further, f kept {moving} (to {bad_f}) while the iterates ran off to "
                       "{bad_x}, so f approaches its {bound} only at infinity"),
    Reason.RUNOFF: ("f has no {goal}: the iterates ran off to |x| = {x_norm} while f kept {moving} "
                    "(from {f0} to {fun}) {began}"),
    Reason.MAX_ITER: ("stopped at max_iter = {max_iter} {began}: the gradient norm {gn} is still above "
                      "tol {tol}"),
    Reason.STALLED: ("no step lowers {objective} any further in float64 {began}, but the gradient norm "
                     "{gn} is still above tol {tol} (f may not be smooth here, or tol is finer than "
                     "float64 resolves at this scale)"),
    Reason.START: "f cannot be evaluated at the {where} start {x0}: {error}",
    Reason.EDGE: ("f kept {moving} toward the edge of its domain (from {f0} to {fun}) {began}, and every "
                  "trial step from {x} left the domain: {error}"),
    Reason.NON_FINITE: "{cause}; met by step {step}, {began}",
    Reason.BOUNDARY: ("the {goal} lies on the edge of f's domain, at {boundary}: f falls toward it {began} "
                      "and every step further leaves the domain"),
    Reason.RAY: ("a local {goal}, f = {fun} at {x}, {began}; but f is unbounded {side} ({ray}): it "
                 "reaches {bad_f} that way, so there is no global {goal}"),
    Reason.POLE: "f has no {goal}: f → {infinity} as {pole}; found {began}",
    Reason.PLATEAU: ("the gradient is merely tiny at {x} {began}: no critical point is near (f is flat "
                     "in float64 there, or curves away from a {goal}), so this is no {goal}{lower}"),
    Reason.TIMEOUT: "stopped when the time limit of {timeout} s ran out {began}; the last point is reported",
    # Replacements.
    "inflection": ("the gradient vanishes at {x}, a stationary inflection point, not a {goal}: f is {better} "
                   "on one side (f = {bad_f} at {bad_x}) and {worse} on the other; found {began}"),
    "constant": "f has no variables: it is the constant {fun}, its own {goal}",
    "diverged": ("diverged: f moved away from the {goal} ({f0} at the start, {fun} at the last finite "
                 "point, {began}) until {cause}; the learning rate {lr} is too large for this function "
                 "(try a smaller lr, or the default method)"),
    # Remarks.
    "degenerate": ("; the Hessian is (nearly) singular here, so the second-order test cannot confirm a "
                   "{goal}, but no {better} point was found nearby (f may be flat here)"),
    "no hessian": "; the Hessian could not be evaluated here to confirm it",
    "rising": ("; f moved away from the {goal} ({f0} at the start, {fun} now): the learning rate {lr} "
               "is too large for this function"),
    # f is no lower after all those steps: a fixed rate that overshoots back and forth.
    "overshoot": ("; f is no lower than at the start ({f0}): the iterates overshoot back and forth, so "
                  "the learning rate {lr} is too large for this function (try a smaller lr, or the "
                  "default method)"),
    "budget": "; raise max_iter or lr (now {lr}), or use the default method",
    "improved": " (f had gone from {f0} to {fun}; the last finite point is reported)",
    # How sure a converged answer is (`scope`).
    "global": "; f is a quadratic with a positive semidefinite Hessian, so this minimum is global",
    "global, squares": "; f is a sum of squares, so f >= 0 everywhere, and f is 0 here: this minimum is global",
    "local": ("; this is a local {goal}: no probe found f going {better} without bound, but other "
              "{goals} may exist (try starts=10)"),
    "local, multi": "; a local {goal}",
    "saddle, unbounded": "; f is unbounded {side} ({ray}), so it has no global {goal}",
    "multi-start, timeout": "; the time limit of {timeout} s stopped multi-start after {done} of {starts} starts",
    # Added by the driver: the critical point of an unbounded f, and the multi-start tally.
    "critical point": "; a critical point was found at {point} (f = {fun}): {kind}",
    "critical point, local": "a local {goal}, but f goes {better} elsewhere",
    "critical point, other": "a {classification}, not a {goal}",
    "multi-start": ". Multi-start: {good} of {runs} starts converged; {found} distinct local {goals} found",
    "multi-start, values": " ({values})",
    "multi-start, unbounded": "; f is unbounded, so none of them is global",
}
MESSAGES[Reason.FLAT_FAR] = MESSAGES[Reason.RUNOFF]

# The test that decided each reason, in gradcore's own terms: `result.test`, shown by --verbose and JSON.
TESTS: dict[str, str] = {
    Reason.TOL: ("|grad f| = {gn} < tol = {tol}; Newton's steps from there settle on a critical point, and "
                 "the Hessian's eigenvalues there ({eigenvalues}) are all of the {goal}'s sign, beyond the "
                 "rounding level 64 n eps max|eigenvalue|"),
    Reason.SADDLE: "|grad f| < tol, and the Hessian's eigenvalues ({eigenvalues}) have both signs or the wrong one",
    Reason.PROBE: ("|grad f| < tol with a singular Hessian; a probe along its null direction at 1e-3, 1e-2, "
                   "1e-1 max(1, |x|) found f({bad_x}) = {bad_f}, beyond rounding of f(x)"),
    Reason.BELOW: "f < min(-1, f0)/eps = {limit} while |x| > 1e6 max(1, |x0|)",
    Reason.ASYMPTOTE: ("|grad f| < tol, but Newton's steps did not settle on a nondegenerate critical point: "
                       "they ran more than max(1, |x|) further while f kept improving"),
    Reason.RUNOFF: "f kept improving while |x| = {x_norm} passed 1e8 max(1, |x0|)",
    Reason.FLAT_FAR: "a flat (degenerate) stop with |x| = {x_norm} past 1e4 max(1, |x0|)",
    Reason.MAX_ITER: "nit = max_iter = {max_iter} with |grad f| = {gn} >= tol = {tol}",
    Reason.STALLED: "the line search found no step that lowers f in float64; |grad f| = {gn} >= tol = {tol}",
    Reason.START: "f or its gradient is undefined at the start",
    Reason.EDGE: "every trial step of the line search left f's domain",
    Reason.NON_FINITE: "a step met a domain error, an overflow, inf or nan",
    Reason.BOUNDARY: ("the edge was bisected to float resolution along -grad f; f has a finite limit there "
                      "(its differences at 1e-4, 1e-8, 1e-12 inside shrink tenfold) and is defined at it"),
    Reason.RAY: ("f(x + t d) passes f(x) at t = 10^7, 10^8, 10^9 max(1, |x|), the gap at least doubling "
                 "each decade"),
    Reason.POLE: ("f is finite at both ends of a segment but cannot be continuous between them; bisection "
                  "found the point, and f falls past -100 max(1, |f|) at 1e-9 from it"),
    Reason.TIMEOUT: "the wall clock passed timeout = {timeout} s",
    Reason.PLATEAU: ("|grad f| < tol, but Newton's steps from x settle on no critical point within 1% of "
                     "max(1, |x|): f(x +- 1e-3 max(1, |x|) e_i) == f(x) exactly on every axis, or the Hessian "
                     "has a negative eigenvalue"),
}


def tidy(v: float, within: float) -> float:
    """The shortest decimal (0 first) within `within` of v: how a point located to `within` is shown."""
    if not (math.isfinite(v) and within > 0):
        return v
    for r in [0.0] + [float(f"{v:.{k}g}") for k in range(1, 17)]:
        if abs(r - v) <= within:
            return r
    return v


def shown_x(res: OptimizeResult) -> list[float]:
    """x as the report shows it: each coordinate the shortest decimal within the precision the run
    reached (`res.precision`, Newton's step); raw where that is unknown."""
    xs = [float(v) for v in res.x]
    if res.precision is None:
        return xs
    return [tidy(v, d) for v, d in zip(xs, res.precision[0])]


def shown_fun(res: OptimizeResult) -> float:
    """f as the report shows it, to the precision reached (see shown_x)."""
    return res.fun if res.precision is None else tidy(float(res.fun), res.precision[1])


def shown_point(res: OptimizeResult, sep: str = " = ") -> str:
    """The point as "x = 1, y = 2" at the precision reached."""
    return fmt_point(zip(res.variables, shown_x(res)), sep=sep) or "(no variables)"


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def vec(names: Sequence[str], x: Sequence[float]) -> str:
    """A point as "x=1, y=2" (the compact form the messages use)."""
    return fmt_point(zip(names, x), sep="=") or "(f has no variables)"


# The words that differ between minimize and maximize: (minimize's, maximize's).
_BY_SIGN: dict[str, tuple[str, str]] = {
    "goal": ("minimum", "maximum"), "goals": ("minima", "maxima"), "better": ("lower", "higher"),
    "worse": ("higher", "lower"), "side": ("below", "above"), "infinity": ("-∞", "+∞"),
    "moving": ("decreasing", "increasing"), "moves": ("decreases", "increases"),
    "bound": ("infimum", "supremum"), "objective": ("f", "-f"), "test": ("f < min(-1, f0)", "f > max(1, f0)"),
}


def _began(w: "_Facts") -> str:
    where = w.where
    return (f"after {plural(w.run.nit, 'iteration')} from "
            + (f"the {where} start" if where in ("given", "default") else f"a {where} start")
            + f" {vec(w.res.variables, w.run.x0)}")


def _cause(w: "_Facts") -> str:
    err = w.run.error
    if err is not None:
        if isinstance(err, OverflowError) and getattr(err, "point", None):
            # In a person's words; the failing operation ("(-9.1e+192)**4") stays in str(r.error).
            return "f grew too large for float64 at " + ", ".join(
                f"{k} = {number(float(v), 4)}" for k, v in err.point.items())
        return str(err)
    bad_x = w.run.bad_x
    return "f or its gradient became inf or nan" + (f" at {vec(w.res.variables, bad_x)}" if bad_x else "")


def _numbers(values: Sequence[float]) -> str:
    return ", ".join(number(float(v), 10) for v in values)


# The words computed from the run. The run holds values in the minimised sign; w.sign turns them back.
_COMPUTED: dict[str, Callable[["_Facts"], str]] = {
    "began": _began,
    "cause": _cause,
    "where": lambda w: w.where,
    "fun": lambda w: number(shown_fun(w.res), 10),
    "f0": lambda w: number(w.sign * w.run.f0, 10),
    "bad_f": lambda w: number(w.sign * w.run.bad_f, 10),
    "limit": lambda w: number(w.sign * min(-1.0, w.run.f0) / _EPS, 10),
    "gn": lambda w: number(w.run.gn, 10),
    "tol": lambda w: number(w.opts.tol, 10),
    "lr": lambda w: number(w.opts.lr, 10),
    "max_iter": lambda w: str(w.opts.max_iter),
    "step": lambda w: str(w.run.nit + 1),
    "x": lambda w: shown_point(w.res, "=") if w.res.precision is not None else vec(w.res.variables, w.run.x),
    "x0": lambda w: vec(w.res.variables, w.run.x0),
    "bad_x": lambda w: vec(w.res.variables, w.run.bad_x),
    "x_norm": lambda w: number(math.hypot(*w.run.x), 10),
    "error": lambda w: str(w.run.error),
    "what": lambda w: "a saddle point" if w.res.classification == "saddle" else f"a {w.res.classification}",
    "eigenvalues": lambda w: "none" if w.res.eigenvalues is None else _numbers(w.res.eigenvalues),
    "boundary": lambda w: w.run.boundary or "",
    "lower": lambda w: ("" if w.run.bad_x is None else
                        f": f is {_BY_SIGN['better'][w.sign < 0]} at {vec(w.res.variables, w.run.bad_x)} "
                        f"(f = {number(w.sign * w.run.bad_f, 10)}); try a start there"),
    "ray": lambda w: w.run.ray or "",
    "pole": lambda w: w.run.pole or "",
    "timeout": lambda w: number(w.opts.timeout if w.opts.timeout is not None else math.nan, 10),
    "along": lambda w: "" if w.descent is None else f" along ({_numbers(w.descent)})",
}


class _Facts:
    """What the words of a message are computed from."""

    __slots__ = ("res", "run", "where", "opts", "descent", "sign")

    def __init__(self, res: OptimizeResult, run: Run, where: str, opts: Options,
                 descent: np.ndarray | None) -> None:
        self.res, self.run, self.where, self.opts, self.descent = res, run, where, opts, descent
        self.sign = opts.sign


_SIGN_WORDS = tuple({k: pair[i] for k, pair in _BY_SIGN.items()} for i in (0, 1))
_NAMED: dict = {}  # (sentence, remark), or a test's Reason -> the computed words they name


def _fill(key: str, remark: str | None, facts: _Facts) -> str:
    """MESSAGES[key] + MESSAGES[remark] with their words; only the words they name are computed."""
    template = MESSAGES[key] if remark is None else MESSAGES[key] + MESSAGES[remark]
    names = _NAMED.get((key, remark))
    if names is None:
        found = re.findall(r"\{(\w+)\}", template)
        names = _NAMED[key, remark] = tuple(n for n in dict.fromkeys(found) if n not in _BY_SIGN)
    words = {n: _COMPUTED[n](facts) for n in names}
    words.update(_SIGN_WORDS[facts.sign < 0])
    return template.format_map(words)


def _choice(res: OptimizeResult, run: Run, opts: Options) -> tuple[str, str | None]:
    """Which sentence of MESSAGES, and which remark (or None), the run's numbers call for."""
    reason = run.reason
    fixed = res.method in FIXED_STEP
    if reason is Reason.TOL:
        if not res.variables:
            return "constant", None
        if res.classification == "degenerate":
            return reason, "degenerate"
        if res.classification is None:
            return reason, "no hessian"
        return reason, "local, multi" if run.scope == "local" and opts.starts > 1 else run.scope
    if reason is Reason.MAX_ITER and fixed:
        if run.f > run.f0:
            return reason, "rising"
        return reason, "overshoot" if run.nit > 1 and run.f >= run.f0 else "budget"
    if reason is Reason.NON_FINITE:
        if fixed and run.f > run.f0:
            return "diverged", None
        return reason, "improved" if run.f < run.f0 else None
    return reason, None


class _Shown:
    """The attributes of a result that its message quotes, as they were when the run ended (the
    message is written later, on first read, and must not pick up later changes to the result)."""

    __slots__ = ("x", "variables", "fun", "classification", "eigenvalues", "method", "precision")

    def __init__(self, res: OptimizeResult) -> None:
        self.x, self.variables, self.fun = res.x.tolist(), res.variables, res.fun
        self.classification, self.method, self.precision = res.classification, res.method, res.precision
        self.eigenvalues = None if res.eigenvalues is None else res.eigenvalues.tolist()


def explain(res: OptimizeResult, run: Run, where: str, opts: Options,
            descent: np.ndarray | None = None) -> Callable[[], tuple[str, str]]:
    """How the run ended, as a writer of (message, test) called on the result's first read of either.

    The message is one paragraph: MESSAGES[reason] (+ a remark) with its words filled in; the test
    is TESTS[reason] filled in the same way. `where` says which start it was ("given", "default",
    "random (run 2 of 5)"); `descent` is the way out of a saddle, if any. Everything the words are
    computed from is fixed here: the run's numbers (the run is finished) and a copy of the result's.
    """
    res.precision = run.precision
    shown = _Shown(res)
    # Not res itself: a result that held a closure over itself would be a reference cycle.
    return lambda: _write(shown, run, where, opts, descent)


def _write(res: "_Shown", run: Run, where: str, opts: Options, descent: np.ndarray | None) -> tuple[str, str]:
    key, remark = _choice(res, run, opts)  # type: ignore[arg-type]
    facts = _Facts(res, run, where, opts, descent)  # type: ignore[arg-type]
    test = _fill_test(run.reason, facts)
    if key is Reason.PROBE and res.classification == "inflection":
        key = "inflection"
    if run.status is Status.SADDLE and run.ray:
        remark = "saddle, unbounded"
    text = _fill(key, remark, facts)
    if remark == "degenerate" and run.scope and run.scope.startswith("global"):
        text += _fill(run.scope, None, facts)  # the proof that this minimum is global
    return text, test


def _fill_test(reason: Reason, facts: "_Facts") -> str:
    template = TESTS.get(reason, "")
    names = _NAMED.get(reason)
    if names is None:
        found = re.findall(r"\{(\w+)\}", template)
        names = _NAMED[reason] = tuple(n for n in dict.fromkeys(found) if n not in _BY_SIGN)
    words = {n: _COMPUTED[n](facts) for n in names}
    words.update(_SIGN_WORDS[facts.sign < 0])
    return template.format_map(words)


def timeout_note(done: int, starts: int, opts: Options) -> str:
    """The clause saying the time limit ended a multi-start before all its starts ran."""
    return MESSAGES["multi-start, timeout"].format(timeout=number(opts.timeout, 10), done=done, starts=starts)


def critical_point_note(cp: LocalOptimum, sign: float) -> str:
    """The clause an unbounded report adds about the critical point found by Newton's method."""
    goal, better = _BY_SIGN["goal"][sign < 0], _BY_SIGN["better"][sign < 0]
    kind = (MESSAGES["critical point, local"] if cp.classification == goal else
            MESSAGES["critical point, other"]).format(goal=goal, better=better,
                                                       classification=cp.classification)
    return MESSAGES["critical point"].format(point=fmt_point(cp.point), fun=number(cp.fun, 10), kind=kind)


def multi_start_note(good: int, runs: int, found: Sequence[LocalOptimum], unbounded: bool,
                     sign: float) -> str:
    """The tally multi-start adds to the best run's message."""
    one, many = ("minimum", "minima") if sign > 0 else ("maximum", "maxima")
    text = MESSAGES["multi-start"].format(good=good, runs=runs, found=len(found),
                                          goals=one if len(found) == 1 else many)
    if found:
        text += MESSAGES["multi-start, values"].format(values=", ".join(number(o.fun, 10) for o in found))
    if unbounded and found:
        text += MESSAGES["multi-start, unbounded"]
    return text
