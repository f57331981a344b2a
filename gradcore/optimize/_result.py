"""What a minimize/maximize run returns: OptimizeResult, its Status, and the Reason it stopped.

Every Reason has its sentence in one table, MESSAGES (as scipy's status messages); `explain` fills a
sentence in with the run's numbers, in f's own sign and the user's variable names.
"""

from __future__ import annotations

import enum
import math
import re
import sys
from dataclasses import dataclass, field
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


@dataclass(eq=False)
class OptimizeResult:
    """What a minimize/maximize run found, in scipy's names. `print(result)` gives a short summary.

    x is a numpy array in `variables` order, `point` the same as a dict. `fun` is f at x in its own
    sign (maximize does not negate it). `nit` counts updates, `nfev` evaluations of f (each with its
    gradient; the Hessians of newton and of the final check are not counted). `history` holds every
    k-th iteration plus the last (k doubles as the run grows, so it stays bounded). `classification`
    comes from the Hessian's eigenvalues at x (None if they cannot be computed there). With
    `starts` > 1, `optima` lists the distinct optima found, best first.
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
    # Why the run ended, in more detail than status (equal to its string: "asymptote", "tol", ...).
    reason: Reason | None = None
    # When f is unbounded, a critical point found by Newton's method on the gradient, if any, with
    # its classification: the saddle example x**2+2*x*y+cos(x+2*y) has only (0, 0), a saddle.
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
                f"  point:          {fmt_point(self.point) or '(no variables)'}",
                f"  value:          f = {number(self.fun, 10)}",
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


@dataclass  # not frozen: a frozen dataclass costs a microsecond more per run, and nothing changes it
class Options:
    """The checked settings of one search (the driver checks them; the messages quote them)."""

    method: str
    lr: float
    tol: float
    max_iter: int
    sign: float = 1.0  # +1 minimize; -1 maximize, which runs as minimisation of -f
    callback: Callable[[HistoryEntry], Any] | None = None


@dataclass
class Run:
    """Where one descent stopped and why, with f in the minimised sign (before it is reported)."""

    x0: list[float]
    f0: float
    history: list[tuple] = field(default_factory=list)  # raw (nit, x, f, |g|); x a list or a float
    x: list[float] = field(default_factory=list)
    f: float = math.nan
    gn: float = math.nan
    nit: int = 0
    nfev: int = 0
    status: Status = Status.NON_FINITE
    reason: Reason = Reason.NON_FINITE
    error: Exception | None = None
    bad_x: list[float] | None = None  # where a step failed, or a better point found nearby
    bad_f: float = math.nan

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
    Reason.BELOW: ("f is unbounded {side}: it reached {fun} {began} (f = {f0} there), past the test "
                   "{test}/eps = {limit}; f has no {goal}"),
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
    # Replacements.
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
    # Added by the driver: the critical point of an unbounded f, and the multi-start tally.
    "critical point": "; a critical point was found at {point} (f = {fun}): {kind}",
    "critical point, local": "a local {goal}, but f goes {better} elsewhere",
    "critical point, other": "a {classification}, not a {goal}",
    "multi-start": ". Multi-start: {good} of {runs} starts converged; {found} distinct local {goals} found",
    "multi-start, values": " ({values})",
    "multi-start, unbounded": "; f is unbounded, so none of them is global",
}
MESSAGES[Reason.FLAT_FAR] = MESSAGES[Reason.RUNOFF]


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' * (n != 1)}"


def vec(names: Sequence[str], x: Sequence[float]) -> str:
    """A point as "x=1, y=2" (the compact form the messages use)."""
    return fmt_point(zip(names, x), sep="=") or "(f has no variables)"


# The words that differ between minimize and maximize: (minimize's, maximize's).
_BY_SIGN: dict[str, tuple[str, str]] = {
    "goal": ("minimum", "maximum"), "better": ("lower", "higher"), "side": ("below", "above"),
    "moving": ("decreasing", "increasing"), "moves": ("decreases", "increases"),
    "bound": ("infimum", "supremum"), "objective": ("f", "-f"), "test": ("f < min(-1, f0)", "f > max(1, f0)"),
}


def _began(w: "_Facts") -> str:
    where = w.where
    return (f"after {plural(w.run.nit, 'iteration')} from "
            + (f"the {where} start" if where in ("given", "default") else f"a {where} start")
            + f" {vec(w.res.variables, w.run.x0)}")


def _cause(w: "_Facts") -> str:
    if w.run.error is not None:
        return str(w.run.error)
    bad_x = w.run.bad_x
    return "f or its gradient became inf or nan" + (f" at {vec(w.res.variables, bad_x)}" if bad_x else "")


def _numbers(values: Sequence[float]) -> str:
    return ", ".join(number(float(v), 10) for v in values)


# The words computed from the run. The run holds values in the minimised sign; w.sign turns them back.
_COMPUTED: dict[str, Callable[["_Facts"], str]] = {
    "began": _began,
    "cause": _cause,
    "where": lambda w: w.where,
    "fun": lambda w: number(w.res.fun, 10),
    "f0": lambda w: number(w.sign * w.run.f0, 10),
    "bad_f": lambda w: number(w.sign * w.run.bad_f, 10),
    "limit": lambda w: number(w.sign * min(-1.0, w.run.f0) / _EPS, 10),
    "gn": lambda w: number(w.run.gn, 10),
    "tol": lambda w: number(w.opts.tol, 10),
    "lr": lambda w: number(w.opts.lr, 10),
    "max_iter": lambda w: str(w.opts.max_iter),
    "step": lambda w: str(w.run.nit + 1),
    "x": lambda w: vec(w.res.variables, w.run.x),
    "x0": lambda w: vec(w.res.variables, w.run.x0),
    "bad_x": lambda w: vec(w.res.variables, w.run.bad_x),
    "x_norm": lambda w: number(math.hypot(*w.run.x), 10),
    "error": lambda w: str(w.run.error),
    "what": lambda w: "a saddle point" if w.res.classification == "saddle" else f"a {w.res.classification}",
    "eigenvalues": lambda w: _numbers(w.res.eigenvalues),
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
_NAMED: dict[tuple, tuple[str, ...]] = {}  # (sentence, remark) -> the computed words they name


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


def _choice(res: OptimizeResult, run: Run) -> tuple[str, str | None]:
    """Which sentence of MESSAGES, and which remark (or None), the run's numbers call for."""
    reason = run.reason
    fixed = res.method in FIXED_STEP
    if reason is Reason.TOL:
        if not res.variables:
            return "constant", None
        if res.classification == "degenerate":
            return reason, "degenerate"
        return reason, "no hessian" if res.classification is None else None
    if reason is Reason.MAX_ITER and fixed:
        if run.f > run.f0:
            return reason, "rising"
        return reason, "overshoot" if run.nit > 1 and run.f >= run.f0 else "budget"
    if reason is Reason.NON_FINITE:
        if fixed and run.f > run.f0:
            return "diverged", None
        return reason, "improved" if run.f < run.f0 else None
    return reason, None


def explain(res: OptimizeResult, run: Run, where: str, opts: Options,
            descent: np.ndarray | None = None) -> str:
    """One paragraph saying how the run ended: MESSAGES[reason] (+ a remark) with its words filled in.

    `where` says which start it was ("given", "default", "random (run 2 of 5)"); `descent` is the way
    out of a saddle, if any.
    """
    key, remark = _choice(res, run)
    return _fill(key, remark, _Facts(res, run, where, opts, descent))


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
