"""What kind of point a search stopped at: the Hessian's verdict, saddles, and the unbounded tests.

Each test is a small predicate on a run's numbers; the driver decides what to do with the answers.
"""

from __future__ import annotations

import math
import sys
from typing import Sequence

import numpy as np

from ..errors import DomainError
from ._objective import Objective
from ._result import LocalOptimum, Run, Status

__all__ = ["norm", "eigh", "eig", "classify", "end_point", "wrong_kind", "way_out", "probe",
           "below_limits", "ran_off", "far_and_flat", "kept_improving", "critical_point"]

_EPS = sys.float_info.epsilon
RUNOFF = 1e8       # |x| beyond this many times max(1, |x0|) counts as "running off to infinity"
FAR = 1e4          # ... and, where f has gone flat (degenerate Hessian), beyond this many times
BELOW_FAR = 1e6    # f < min(-1, f0)/eps counts only once |x| is also past this many times max(1, |x0|)


def norm(v: Sequence[float]) -> float:
    """The Euclidean norm sqrt(sum v_i^2), without overflow."""
    return math.hypot(*v)


# ---- the second-order test ------------------------------------------------------------------------

def eigh(obj: Objective, x: Sequence[float]) -> tuple[np.ndarray, np.ndarray] | None:
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


def eig(obj: Objective, x: Sequence[float]) -> np.ndarray | None:
    """The Hessian's eigenvalues at x (ascending); None where it is not finite."""
    e = eigh(obj, x)
    return None if e is None else e[0]


def _zero(w: Sequence[float], grad_norm: float = 0.0, x_norm: float = 0.0) -> float:
    """The size below which an eigenvalue counts as zero (see classify)."""
    return max(1e-8 * max((abs(v) for v in w), default=0.0), 1e-14, grad_norm / (0.01 * max(1.0, x_norm)))


def classify(w: np.ndarray | None, grad_norm: float = 0.0, x_norm: float = 0.0) -> str | None:
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


def end_point(obj: Objective, run: Run) -> tuple[tuple[np.ndarray, np.ndarray] | None, str | None]:
    """The Hessian's eigen-decomposition where the run stopped, and the point's classification.

    At a converged point the eigenvalues must also resolve the critical point (see classify).
    """
    e = eigh(obj, run.x) if math.isfinite(run.f) else None
    w = None if e is None else e[0]
    if run.status is Status.CONVERGED:
        return e, classify(w, run.gn, norm(run.x))
    return e, classify(w)


def wrong_kind(classification: str | None, sign: float) -> bool:
    """A saddle, or the opposite extremum (a maximum when minimising): not what was asked for."""
    return classification in ("saddle", "maximum" if sign > 0 else "minimum")


def way_out(e: tuple[np.ndarray, np.ndarray], sign: float) -> np.ndarray:
    """The eigenvector of the eigenvalue of the wrong sign, scaled so its largest entry is 1."""
    v = e[1][:, 0] if sign > 0 else e[1][:, -1]
    return v / v[np.argmax(np.abs(v))]


def probe(obj: Objective, run: Run, e: tuple[np.ndarray, np.ndarray]) -> tuple[list[float], float] | None:
    """Where the second-order test is silent (a zero eigenvalue), look: a point lower than f(x).

    Along each null eigenvector v, both ways, at h = 1e-3, 1e-2, 1e-1 times max(1, |x|), a point
    counts only if f(x + h v) < f(x) - |grad| h - 1e-12 max(1, |f|): lower by more than the slope
    left at x can explain. x**3 at 0 is caught; x**4 at 0, and valleys of equal minima, are not.
    """
    w, V = e
    x = np.array(run.x)
    zero = _zero(w.tolist(), run.gn, norm(run.x))
    scale = max(1.0, norm(run.x))
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


# ---- unbounded: tests on how far the iterates went and what f did on the way ---------------------

def below_limits(f0: float, x0_norm: float) -> tuple[float, float]:
    """(f_limit, far): f < f_limit = min(-1, f0)/eps with |x| > far = 1e6 max(1, |x0|) is "unbounded".

    A deep but finite minimum (x**2 - 1e16) also passes f_limit; only iterates that have gone far as
    well make the case.
    """
    f_limit = min(-1.0, f0) / _EPS if math.isfinite(f0) else -math.inf
    return f_limit, BELOW_FAR * max(1.0, x0_norm)


def ran_off(run: Run) -> bool:
    """f improved while |x| ran past 1e8 max(1, |x0|): a failure there is an unbounded f running off
    to infinity, not a numerical accident."""
    return run.f < run.f0 and norm(run.x) > RUNOFF * max(1.0, norm(run.x0))


def far_and_flat(run: Run) -> bool:
    """A flat (degenerate) stop past 1e4 max(1, |x0|) from the origin: f levels off only far away."""
    return norm(run.x) > FAR * max(1.0, norm(run.x0))


def kept_improving(run: Run, more: Run) -> bool:
    """Descending further from where `run` stopped (`more`), f kept improving while x moved more than
    max(1, |x|) away: f approaches its infimum only at infinity."""
    moved = norm([a - b for a, b in zip(more.x, run.x)])
    return math.isfinite(more.f) and more.f < run.f and moved > max(1.0, norm(run.x))


def critical_point(obj: Objective, x0: Sequence[float], steps: int = 60) -> LocalOptimum | None:
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
            if norm(dx) <= 1e-9 * max(1.0, norm(x)) and norm(g) <= 1e-8 * max(1.0, abs(f)):
                cls = classify(eig(obj, x.tolist()))
                point = {n: float(round(v, 12)) + 0.0 for n, v in zip(obj.variables, x)}
                return LocalOptimum(point, float(f), cls, 1)
            x = x - dx
            if not np.isfinite(x).all():
                return None
    return None
