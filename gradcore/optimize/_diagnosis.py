"""What kind of point a search stopped at: the judgement of the end point, saddles, and the unbounded
tests on how a run went. `judge` decides with the probes of _probes (second order, Newton's steps,
line probes, rays, poles, edges) and sets the run's status, reason and the point it reports.
"""

from __future__ import annotations

import math
import sys
from typing import Sequence

import numpy as np

from ..errors import DomainError
from ..format import number, point as fmt_point
from ._objective import Objective
from ._probes import (classify, convex_quadratic, defined_everywhere, direction_text, edge_limit, eig, eigh, find_pole, line_probe,
                      norm, null_directions, pole_side, precision, rays, settle, sum_of_squares, tidy,
                      unbounded_ray, value_at, zero_level)
from ._result import LocalOptimum, Reason, Run, Status

__all__ = ["norm", "eigh", "eig", "classify", "wrong_kind", "way_out", "below_limits", "ran_off",
           "far_and_flat", "critical_point", "judge"]

_EPS = sys.float_info.epsilon
RUNOFF = 1e8       # |x| beyond this many times max(1, |x0|) counts as "running off to infinity"
FAR = 1e4          # ... and, where f has gone flat (degenerate Hessian), beyond this many times
BELOW_FAR = 1e6    # f < min(-1, f0)/eps counts only once |x| is also past this many times max(1, |x0|)


# ---- the second-order test ------------------------------------------------------------------------

def wrong_kind(classification: str | None, sign: float) -> bool:
    """A saddle, or the opposite extremum (a maximum when minimising): not what was asked for."""
    return classification in ("saddle", "maximum" if sign > 0 else "minimum")


def way_out(e: tuple[np.ndarray, np.ndarray], sign: float) -> np.ndarray:
    """The eigenvector of the eigenvalue of the wrong sign, scaled so its largest entry is 1."""
    v = e[1][:, 0] if sign > 0 else e[1][:, -1]
    return v / v[np.argmax(np.abs(v))]


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


# ---- the end-point judgement: first principles before any "minimum" -------------------------------


def _mark(run: Run, status: Status, reason: Reason, bad_x: Sequence[float] | None = None,
          bad_f: float = math.nan) -> None:
    run.status, run.reason = status, reason
    if bad_x is not None:
        run.bad_x, run.bad_f = [float(v) for v in bad_x], float(bad_f)


def _moved_to(run: Run, x: np.ndarray, f: float, gn: float) -> None:
    run.x, run.f, run.gn, run.settled = [float(v) for v in x], float(f), float(gn), [float(v) for v in x]


def _pole_text(names: Sequence[str], p: np.ndarray, d: np.ndarray, side: float, what: str = "a pole") -> str:
    """"x → 0⁻, a pole": where f runs off, the point shown to the 1e-9 its location is sure to."""
    within = 1e-9 * max(1.0, norm(p.tolist()))
    shown = [number(tidy(float(v), within), 10) for v in p]
    if len(names) == 1:
        sup = "⁻" if side * d[0] < 0 else "⁺"
        return f"{names[0]} → {shown[0]}{sup}, {what}"
    return f"({', '.join(names)}) → ({', '.join(shown)}), {what}"


def _look_further(inner: Objective, run: Run, names: Sequence[str], sign: float, x0: Sequence[float]) -> None:
    """From an optimum or an asymptote: a pole (from the start), or f beyond the optimum without
    bound along a ray; else say how sure the answer is (global only with a proof)."""
    converged = run.status is Status.CONVERGED
    if converged and convex_quadratic(inner):
        run.scope = "global"
        return
    # A sum of squares is >= 0: it has no pole to -inf, and a point where it is 0 is global.
    squares = sign > 0 and inner.expr is not None and sum_of_squares(inner.expr)
    if converged and squares and run.f <= 1e-16 * max(1.0, run.f0):
        run.scope = "global, squares"
        return
    found = None if squares or defined_everywhere(inner) else \
        find_pole(inner, x0) or (find_pole(inner, run.x) if list(x0) != list(run.x) else None)
    if found is not None:
        p, d, side = found
        run.pole = _pole_text(names, p, d, side)
        _mark(run, Status.UNBOUNDED, Reason.POLE, p.tolist(), -math.inf)
        return
    if not converged:
        return
    run.scope = "local"
    ray = unbounded_ray(inner, run.x, run.f)
    if ray is not None:
        d, far_f = ray
        run.ray = direction_text(names, d.tolist(), 1.0)
        _mark(run, Status.UNBOUNDED, Reason.RAY, None)
        run.bad_f = far_f


# The reasons of a run that stopped short of a critical point (an edge or a pole may be why), and
# of one that stands at a critical point (its precision is worked out). Sets: one hashed lookup each.
_STOPPED_SHORT = frozenset({Reason.EDGE, Reason.NON_FINITE, Reason.STALLED, Reason.MAX_ITER})
_AT_CRITICAL_POINT = frozenset({Reason.TOL, Reason.SADDLE, Reason.RAY})


def judge(obj: Objective, inner: Objective, run: Run, sign: float
          ) -> tuple[tuple[np.ndarray, np.ndarray] | None, str | None, np.ndarray | None]:
    """Decide what kind of point a run ended at, from first principles; may move run.x to the
    critical point it settled on, and change run.status / run.reason. Returns the Hessian's
    eigen-decomposition at the final point (in f's sign), its classification, and the way out of
    a saddle (or None).

    A converged run is followed by Newton's steps (`settle`). A nondegenerate critical point is
    resolved in a few steps, and its Hessian's signs decide. Otherwise (a rounding-level
    eigenvalue, curvature that vanishes on the way, or steps that keep going) the point is probed:
    far off and still improving is an asymptote; a lower point nearby is not a minimum (an
    inflection if the other side is higher). A minimum is then probed for a pole and for f going
    beyond it without bound along a ray; it is global only for a convex quadratic.
    """
    names = obj.variables
    x0 = list(run.x0)
    kind = None
    if run.status is Status.CONVERGED and run.x:
        kind = _judge_stationary(inner, run)
        if run.status is Status.CONVERGED and kind in ("minimum", "degenerate"):
            _look_further(inner, run, names, sign, x0)
        elif run.status is Status.UNBOUNDED and run.reason is Reason.ASYMPTOTE:
            _look_further(inner, run, names, sign, x0)
    elif run.x and math.isfinite(run.f) and run.reason in _STOPPED_SHORT:
        _judge_edge(inner, run, names, x0, sign)
    e = eigh(obj, run.x) if math.isfinite(run.f) else None
    cls = classify(None if e is None else e[0])
    if kind in ("inflection", "plateau") or (kind == "degenerate" and cls != "saddle"):
        cls = kind
    elif kind in ("saddle", "maximum") and cls == "degenerate":
        # A negative curvature (in the minimised sign) beside a zero one: not the asked-for extremum.
        cls = kind if sign > 0 or kind == "saddle" else "minimum"
    if run.reason is Reason.BOUNDARY:
        cls = "boundary " + ("minimum" if sign > 0 else "maximum")
    elif run.reason is Reason.POLE:
        cls = None  # the Hessian beside a pole says nothing about f (tan's is "maximum" there)
    descent = None
    if run.status is Status.CONVERGED and wrong_kind(cls, sign):
        run.status, run.reason = Status.SADDLE, Reason.SADDLE
        descent = way_out(e, sign)
    if run.reason in _AT_CRITICAL_POINT and cls not in ("degenerate", "inflection"):
        run.precision = precision(inner, run.x)
    if run.status is Status.SADDLE and run.x:
        # Not an extremum; is there one at all? (x**3: f is unbounded below as x → -∞.)
        ray = unbounded_ray(inner, run.x, run.f)
        if ray is not None:
            run.ray = direction_text(names, ray[0].tolist(), 1.0)
    return e, cls, descent


def _judge_stationary(inner: Objective, run: Run) -> str | None:
    """The converged case of `judge`, in the minimised sign; returns the kind of point."""
    x = list(run.x)
    try:
        g = inner.vg(*x)[1]
    except (DomainError, ArithmeticError):
        return None
    here = eig(inner, x)
    if here is None:
        return None
    xs, fs, gs, how, shrink, step = settle(inner, x, run.f, g)
    xl = xs.tolist()
    moved = norm([a - b for a, b in zip(xl, x)])  # the same float differences as xs - x
    if here.size and here[0] < -zero_level(here.tolist()):
        # f curves down here: not a minimum. A saddle or maximum when Newton's steps find a
        # critical point within 1% of the scale of x; else the gradient is merely
        # tiny (1 - exp(-x**2) at x = 9), and x is not reported as any kind of critical point.
        if how == "resolved" and moved <= 0.01 * max(1.0, norm(x)):
            cls = classify(here)
            return cls if cls != "degenerate" else ("saddle" if here[-1] > 0 else "maximum")
        return _plateau(inner, run, max(1.0, norm(x)))
    w = eig(inner, xl)
    cls = classify(w)
    resolved = how == "resolved" and cls not in ("degenerate", None) and shrink > 1e-3
    if not resolved and (far_and_flat(run) or (moved > max(1.0, norm(x)) and fs < run.f)):
        _mark(run, Status.UNBOUNDED, Reason.FLAT_FAR if far_and_flat(run) else Reason.ASYMPTOTE, xs, fs)
        return None
    if resolved:
        # The search stopped short of the critical point by more than 1% of the scale of x
        # (1e-7*(x-3)**2 from x = 1): report the point Newton's steps settled on.
        if moved > 0.01 * max(1.0, norm(x)) or cls != "minimum":
            _moved_to(run, xs, fs, gs)
        return cls
    if moved > 0.0:
        _moved_to(run, xs, fs, gs)
    # A degenerate critical point is located only to about Newton's last (linearly shrinking) step.
    run.precision = ([step + 4 * _EPS * abs(v) for v in run.x], gs * step + 4 * _EPS * abs(run.f))
    scale = max(1.0, norm(run.x))
    for v in null_directions(inner, run.x):
        lower = line_probe(inner, run.x, run.f, v, scale)
        if lower is not None:
            _mark(run, Status.SADDLE, Reason.PROBE, lower[0], lower[1])
            return "inflection" if lower[2] else "degenerate"
    if _flat(inner, run.x, run.f, scale):
        return _plateau(inner, run, scale)  # f does not change at all around x in float64
    return "degenerate"


def _plateau(inner: Objective, run: Run, scale: float) -> str:
    """Mark a stop where the gradient is merely tiny (no critical point near): status max_iter,
    Reason.PLATEAU, with a lower point if one lies along an axis 1, 10 or 100 times the scale away."""
    run.bad_x, run.bad_f = None, math.nan
    xa = np.array(run.x)
    for d in rays(len(xa)):
        for t in (1.0, 10.0, 100.0):
            p = (xa + t * scale * d).tolist()
            fp = value_at(inner, p)
            if fp == fp and fp < run.f:
                run.bad_x, run.bad_f = p, fp
                break
        if run.bad_x is not None:
            break
    _mark(run, Status.MAX_ITER, Reason.PLATEAU)
    return "plateau"


def _flat(obj: Objective, x: Sequence[float], f: float, scale: float) -> bool:
    """f is exactly f(x) at 1e-3 scale along both ways of every axis: a plateau in float64."""
    xa = np.array(x, dtype=float)
    return all(value_at(obj, (xa + 1e-3 * scale * d).tolist()) == f for d in rays(len(xa))[:2 * len(xa)])


def _lower_along_edge(inner: Objective, run: Run, p: np.ndarray, fe: float, sign: float) -> bool:
    """Is f lower beside the edge point p, along an axis other than the one the search ran into the
    edge on (sqrt(x) + (y - 2)**2 stopped at y = 1.5)? Then p is no boundary minimum."""
    if len(p) < 2:
        return False
    try:
        g = np.asarray(inner.vg(*run.x)[1], dtype=float)
    except (DomainError, ArithmeticError):
        return False
    into = int(np.argmax(np.abs(g)))  # the axis the descent ran into the edge along
    scale = max(1.0, norm(p.tolist()))
    for i in range(len(p)):
        if i == into:
            continue
        for h in (1e-6, 1e-3):
            for s in (1.0, -1.0):
                q = p.copy()
                q[i] += s * h * scale
                fq = value_at(inner, q.tolist(), sign)
                if fq == fq and fq < fe - 8 * sys.float_info.epsilon * max(abs(fe), abs(fq)):
                    return True
    return False


def _rule(run: Run) -> str:
    """The domain rule a DomainError states ("sqrt is defined for x >= 0"), or ""."""
    err = str(run.error) if run.error is not None else ""
    return err[err.index(": ") + 2:err.rindex(" at ")] if ": " in err and " at " in err else ""


def _judge_edge(inner: Objective, run: Run, names: Sequence[str], x0: Sequence[float], sign: float) -> None:
    """A run that stopped without converging: at the edge of f's domain (a boundary minimum, or f
    without bound there), or at a pole met on the way."""
    if defined_everywhere(inner):  # no edge, no pole: nothing to look for
        return
    edge = edge_limit(inner, run, sign)
    if edge is not None:
        p, fe, finite = edge
        if finite and fe == fe and fe <= run.f and not _lower_along_edge(inner, run, p, fe, sign):
            rule = _rule(run)
            run.boundary = fmt_point(zip(names, p.tolist())) + (f" ({rule})" if rule else "")
            _moved_to(run, p, fe, math.nan)
            _mark(run, Status.CONVERGED, Reason.BOUNDARY)
            return
        if not finite:
            d = p - np.array(run.x)
            dn = d / norm(d.tolist()) if d.any() else d
            rule = _rule(run)
            run.pole = _pole_text(names, p, dn, -1.0, "the edge of f's domain" + (f" ({rule})" if rule else ""))
            _mark(run, Status.UNBOUNDED, Reason.POLE, p.tolist(), -math.inf)
            return
    end = np.array(run.x, dtype=float)
    here = next(((end, d, side) for d in rays(len(end))
                 for side in [pole_side(inner, end, d)] if side is not None), None)
    found = here or find_pole(inner, x0)
    if found is not None:
        p, d, side = found
        run.pole = _pole_text(names, p, d, side)
        _mark(run, Status.UNBOUNDED, Reason.POLE, p.tolist(), -math.inf)
