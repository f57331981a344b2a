"""The descent section of an explain page: the status and what it means, the landscape with the path
(a curve for one variable, contour lines for two), the learning curve and the method's update rule,
drawn as small inline SVG charts by gradcore itself (no matplotlib, so the page needs nothing).
"""

from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np

from ..codegen import compile as compile_expr
from ..expr import Expr
from ..format import number
from ..optimize import OptimizeResult, Status
from ..optimize._methods import DEFAULT_LR, STEPPERS
from ._explain_sections import escape, table
from .graph import DIGITS

__all__ = ["descent_section", "STATUS_MEANING"]

# What each status tells a learner (the run's own message says why, with its numbers).
STATUS_MEANING = {
    Status.CONVERGED: "the gradient fell below the tolerance at the kind of point asked for: a {goal}.",
    Status.MAX_ITER: "the step budget ran out (or no step could improve f any further) before the "
                     "gradient fell below the tolerance: this is not yet a {goal}.",
    Status.UNBOUNDED: "f has no {goal}: it keeps improving without bound, so no answer exists.",
    Status.NON_FINITE: "the search met NaN, infinity, an overflow or a point outside f's domain.",
    Status.SADDLE: "the gradient vanished, but the Hessian shows a saddle (or the wrong kind of point), "
                   "not a {goal}.",
}

W, H = 560, 340  # the charts' size in SVG units; they scale down to the page's width
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 44
GRID = 48  # samples per axis of a contour landscape (a line landscape takes 4 times as many)
LEVELS = 12
PATH_POINTS = 200  # a longer path is drawn through this many of its points, so the page stays small
MARKS = 60  # up to this many points, each gets a dot


def _ticks(lo: float, hi: float, count: int = 5, whole: bool = False) -> list[float]:
    """Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten (at least 1 if `whole`)."""
    span = hi - lo
    if not span > 0 or not math.isfinite(span):
        return [lo]
    raw = max(span / count, 1.0) if whole else span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + k * step for k in range(int((hi - first) / step + 1e-9) + 1)]


def _tick(v: float) -> str:
    """A tick label, short enough for the margin: 1e+15 is written 1e15, 0.00002 as 2e-5."""
    if v != 0 and not 1e-3 <= abs(v) < 1e5:
        power = math.floor(math.log10(abs(v)))
        return f"{number(v / 10 ** power, 3)}e{power}"
    return number(v, 4)


class _Frame:
    """The mapping from data to chart coordinates, and the axes drawn with their ticks and labels."""

    def __init__(self, x: tuple[float, float], y: tuple[float, float], whole_x: bool = False) -> None:
        self.x0, self.x1 = x
        self.y0, self.y1 = y
        self.whole_x = whole_x  # the x axis counts iterations

    def px(self, v: float) -> float:
        return LEFT + (v - self.x0) / ((self.x1 - self.x0) or 1.0) * (W - LEFT - RIGHT)

    def py(self, v: float) -> float:
        return H - BOTTOM - (v - self.y0) / ((self.y1 - self.y0) or 1.0) * (H - TOP - BOTTOM)

    def axes(self, xlabel: str, ylabel: str) -> list[str]:
        out = []
        for t in _ticks(self.x0, self.x1, whole=self.whole_x):
            x = self.px(t)
            out.append(f'<line class="gridline" x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{H - BOTTOM}"/>'
                       f'<text x="{x:.1f}" y="{H - BOTTOM + 16}" text-anchor="middle">{escape(_tick(t))}</text>')
        for t in _ticks(self.y0, self.y1):
            y = self.py(t)
            out.append(f'<line class="gridline" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}"/>'
                       f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(_tick(t))}</text>')
        out.append(f'<path class="axis" fill="none" d="M{LEFT},{TOP} V{H - BOTTOM} H{W - RIGHT}"/>')
        out.append(f'<text x="{(LEFT + W - RIGHT) / 2:.0f}" y="{H - 6}" text-anchor="middle">{escape(xlabel)}</text>')
        out.append(f'<text transform="translate(14 {(TOP + H - BOTTOM) / 2:.0f}) rotate(-90)" '
                   f'text-anchor="middle">{escape(ylabel)}</text>')
        return out


def _svg(title: str, body: list[str]) -> str:
    return (f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" '
            f'height="{H}" role="img" font-size="12" font-family="system-ui, sans-serif">'
            f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def _polyline(frame: _Frame, xs: Sequence[float], ys: Sequence[float], cls: str) -> str:
    pts = " ".join(f"{frame.px(a):.1f},{frame.py(b):.1f}" for a, b in zip(xs, ys)
                   if math.isfinite(a) and math.isfinite(b))
    return f'<polyline class="{cls}" fill="none" stroke-width="2" points="{pts}"/>'


def _thin(values: Sequence[float], most: int = PATH_POINTS) -> list[float]:
    """At most `most` of the values, evenly spaced, always with the first and the last."""
    if len(values) <= most:
        return list(values)
    step = (len(values) - 1) / (most - 1)
    return [values[round(k * step)] for k in range(most)]


def _path_marks(frame: _Frame, xs: Sequence[float], ys: Sequence[float]) -> list[str]:
    """The path as a line, a dot at each point (when they are few enough to tell apart), start and end."""
    xs, ys = _thin(xs), _thin(ys)
    out = [_polyline(frame, xs, ys, "path")]
    dots = range(len(xs)) if len(xs) <= MARKS else (0, len(xs) - 1)
    out += [f'<circle class="mark" cx="{frame.px(xs[k]):.1f}" cy="{frame.py(ys[k]):.1f}" r="3"/>' for k in dots]
    for (a, b), label in (((xs[0], ys[0]), "start"), ((xs[-1], ys[-1]), "end")):
        x, y = frame.px(a), frame.py(b)
        # A label near the right or top edge goes on the inner side, so it is never cut off.
        right = x > W - RIGHT - 48
        out.append(f'<text x="{x - 7 if right else x + 7:.1f}" y="{y + 16 if y < TOP + 16 else y - 7:.1f}" '
                   f'text-anchor="{"end" if right else "start"}" font-weight="600">{label}</text>')
    return out


def _box(values: Sequence[float]) -> tuple[float, float]:
    """An interval around the values the path visits, with room on both sides."""
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.3, 1.0)
    return lo - pad, hi + pad


def _values(expr: Expr, *arrays: np.ndarray) -> np.ndarray:
    c = compile_expr(expr)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")  # outside the domain the landscape is simply not drawn
        out = np.asarray(c.value(*arrays), dtype=float)
    return np.where(np.isfinite(out), out, np.nan) * np.ones_like(arrays[0])


def _range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    return (lo - 0.5, hi + 0.5) if hi - lo < 1e-12 else (lo, hi)


def landscape_1d(expr: Expr, res: OptimizeResult) -> str:
    """f along its one variable, with the iterates of the search on it."""
    xs = [e.x[0] for e in res.history]
    fs = [e.fun for e in res.history]
    lo, hi = _box(xs)
    grid = np.linspace(lo, hi, 4 * GRID)
    f = _values(expr, grid)
    frame = _Frame((lo, hi), _range(np.concatenate([f, np.asarray(fs)])))
    v = res.variables[0]
    body = frame.axes(v, "f") + [_polyline(frame, grid, f, "curve")] + _path_marks(frame, xs, fs)
    return _svg(f"the landscape: f along {v}, with the {len(xs)} recorded points of the search from start to end", body)


_CASES = {1: [(3, 0)], 2: [(0, 1)], 3: [(3, 1)], 4: [(1, 2)], 5: [(3, 2), (0, 1)], 6: [(0, 2)], 7: [(3, 2)],
          8: [(2, 3)], 9: [(0, 2)], 10: [(0, 3), (1, 2)], 11: [(1, 2)], 12: [(1, 3)], 13: [(0, 1)], 14: [(0, 3)]}


def _contours(X: np.ndarray, Y: np.ndarray, Z: np.ndarray, level: float) -> list[tuple]:
    """Marching squares: the segments of the level line Z = level, cell by cell (NaN cells skipped)."""
    segments = []
    rows, cols = Z.shape
    for i in range(rows - 1):
        for j in range(cols - 1):
            corners = ((i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j))  # counter-clockwise from bottom-left
            z = [Z[c] for c in corners]
            if any(math.isnan(v) for v in z):
                continue
            case = sum(1 << k for k, v in enumerate(z) if v > level)
            for a, b in _CASES.get(case, ()):
                ends = []
                for edge in (a, b):
                    (p, q) = corners[edge], corners[(edge + 1) % 4]
                    t = (level - Z[p]) / ((Z[q] - Z[p]) or 1.0)
                    ends.append((X[p] + t * (X[q] - X[p]), Y[p] + t * (Y[q] - Y[p])))
                segments.append(tuple(ends))
    return segments


def landscape_2d(expr: Expr, res: OptimizeResult) -> str:
    """Contour lines of f over a box around the search, with the path of the iterates."""
    xs = [e.x[0] for e in res.history]
    ys = [e.x[1] for e in res.history]
    (x0, x1), (y0, y1) = _box(xs), _box(ys)
    X, Y = np.meshgrid(np.linspace(x0, x1, GRID), np.linspace(y0, y1, GRID))
    Z = _values(expr, X, Y)
    frame = _Frame((x0, x1), (y0, y1))
    body = frame.axes(res.variables[0], res.variables[1])
    finite = Z[np.isfinite(Z)]
    if finite.size:
        # Levels at quantiles, so a steep bowl shows rings all the way in, not only at its rim.
        levels = sorted(set(np.quantile(finite, np.linspace(0.04, 0.96, LEVELS)).tolist()))
        for k, level in enumerate(levels):
            d = " ".join(f"M{frame.px(a):.1f},{frame.py(b):.1f}L{frame.px(c):.1f},{frame.py(e):.1f}"
                         for (a, b), (c, e) in _contours(X, Y, Z, level))
            if d:
                body.append(f'<path class="l{3 * k // len(levels)}" fill="none" stroke-width="1.2" d="{d}">'
                            f"<title>f = {escape(number(level, 4))}</title></path>")
    body += _path_marks(frame, xs, ys)
    return _svg(f"the landscape: contour lines of f over {res.variables[0]} and {res.variables[1]}, "
                f"with the path of the search from start to end ({len(xs)} recorded points)", body)


def learning_curve(res: OptimizeResult) -> str:
    """f at each recorded iteration."""
    its = [e.nit for e in res.history]
    fs = [e.fun for e in res.history]
    finite = [f for f in fs if math.isfinite(f)] or [0.0]
    frame = _Frame((min(its), max(max(its), min(its) + 1)), _range(np.asarray(finite)), whole_x=True)
    body = frame.axes("iteration", "f") + _path_marks(frame, its, fs)
    return _svg(f"the learning curve: f at each of the {len(its)} recorded iterations", body)


def _update_rule(method: str) -> str:
    doc = " ".join((STEPPERS[method].__doc__ or "").split())
    return (f"<p>Method <code>{escape(method)}</code> (default step {escape(number(DEFAULT_LR[method]))}): "
            f"{escape(doc)}</p>")


def descent_section(expr: Expr, res: OptimizeResult) -> str:
    """How the search went: status and meaning, landscape, learning curve, update rule."""
    goal = "minimum" if res.direction == "minimize" else "maximum"
    ok = "ok" if res.success else "bad"
    at = ", ".join(f"{k} = {number(v, DIGITS)}" for k, v in res.point.items())
    start = ", ".join(f"{k} = {number(v, DIGITS)}" for k, v in res.start.items())
    rows = [({}, [escape(k), escape(v)]) for k, v in (
        ("status", res.status.value), ("point", at or "(no variables)"), ("f there", number(res.fun, 10)),
        ("gradient norm", number(res.grad_norm, 4)), ("classification", res.classification or "unknown"),
        ("start", start or "(no variables)"), ("iterations", f"{res.nit} ({res.nfev} evaluations of f and its gradient)"))]
    out = ["<h3>Status</h3>",
           f'<p>Status <span class="{ok}">{escape(res.status.value)}</span>: '
           f"{escape(STATUS_MEANING[res.status].format(goal=goal))}</p>",
           f"<p>In the run's own words: {escape(res.message)}.</p>",
           table(f"{res.direction} with {res.method}", ["quantity", "value"], rows)]
    out.append("<h3>The landscape and the path</h3>")
    if not res.history:
        out.append("<p>No iteration was recorded.</p>")
    elif len(res.variables) == 1:
        out.append(f"<figure>{landscape_1d(expr, res)}</figure>")
    elif len(res.variables) == 2:
        out.append(f"<figure>{landscape_2d(expr, res)}</figure>")
    else:
        out.append(f"<p>f has {len(res.variables)} variables: there is no landscape to draw; the learning "
                   "curve below shows the search.</p>")
    out.append("<h3>The learning curve</h3>")
    out.append(f"<figure>{learning_curve(res)}</figure>" if res.history else "<p>No iteration was recorded.</p>")
    out += ["<h3>The update rule</h3>", _update_rule(res.method)]
    return "\n".join(out)
