"""Pictures of descent with matplotlib: learning curves, paths on contours and surfaces, fitted lines.

matplotlib loads on first use (`pip install gradcore[plot]`). Each function returns the Figure it drew
on, so a caller can keep styling it; a picture only reads results and histories, never changes them.
It runs past 500 lines on purpose: the six pictures share one reader of results and histories and one
set of marks, and `gc.plot` stays a single namespace to explore.
"""

from __future__ import annotations

import math
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from ..codegen import CompiledExpr, DomainWarning, compile as compile_expr
from ..errors import GradcoreError
from ..expr import Expr
from ..format import number, point
from ..optimize import DEFAULT_BOX, OptimizeResult, minimize
from ..parse import parse

__all__ = ["learning_curve", "contour", "surface", "curve", "fit_line", "compare", "picture", "save",
           "check_path", "FORMATS"]

FORMATS = ("png", "svg", "pdf")
INSTALL = "pip install gradcore[plot]"
# Path colours, chosen to stand out on the blue landscape (matplotlib's first colour is blue too).
COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#e377c2", "#8c564b", "#17becf", "#bcbd22",
           "#7f7f7f", "#000000")
CMAP = "Blues"               # the tutorials' colour map: light valleys, dark heights
MANY = 6                     # with more runs than this, the legend names them together
GRID = {1: 400, 2: 200}      # grid points per axis for the landscapes
# How each kind of critical point is marked (marker, face colour).
KIND_MARKS = {"global minimum": ("*", "gold"), "minimum": ("*", "gold"), "local minimum": ("*", "white"),
              "global maximum": ("^", "gold"), "maximum": ("^", "gold"), "local maximum": ("^", "white"),
              "saddle": ("X", "white"), "degenerate": ("D", "white")}


class Trajectory(NamedTuple):
    """One run as a picture reads it: iteration numbers, the points visited (or None), f there (or None)."""

    label: str
    nit: np.ndarray
    points: np.ndarray | None   # shape (k, n), in the formula's variable order
    fun: np.ndarray | None
    result: OptimizeResult | None


class Critical(NamedTuple):
    """A point where the gradient vanishes, f there, and its kind from the Hessian's eigenvalues."""

    x: tuple[float, ...]
    fun: float
    kind: str


# ---- matplotlib, loaded on first use ---------------------------------------------------------------

def _pyplot(batch: bool = False) -> Any:
    """matplotlib.pyplot; Agg where there is no display (or for a batch job), unless a backend is chosen."""
    try:
        import matplotlib
    except ImportError:
        raise GradcoreError(f"pictures need matplotlib, which is not installed: {INSTALL}") from None
    if "matplotlib.pyplot" not in sys.modules and not os.environ.get("MPLBACKEND"):
        try:
            chosen = matplotlib.get_backend(auto_select=False)
        except TypeError:  # matplotlib < 3.10 has no auto_select; its rcParams hold the choice
            chosen = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: None)()
        headless = sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                             or os.environ.get("WAYLAND_DISPLAY"))
        if chosen is None and (batch or headless):
            matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _figure_and_axes(ax: Any, size: tuple[float, float], projection: str | None = None) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    plt = _pyplot()
    fig = plt.figure(figsize=size)
    if projection is None:
        return fig, fig.add_subplot()
    # The path is drawn after the surface and on top of it; matplotlib's depth sort would bury it.
    return fig, fig.add_subplot(projection=projection, computed_zorder=False)


def check_path(path: str | os.PathLike) -> str:
    """The picture format named by the suffix of `path` (png, svg or pdf); checks matplotlib is there."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise GradcoreError(f"a picture's file name must end in .png, .svg or .pdf, got {str(path)!r}")
    _pyplot(batch=True)
    return suffix


def save(fig: Any, path: str | os.PathLike, dpi: int = 100) -> None:
    """Write `fig` to `path` in the format its suffix names (png, svg, pdf), then close it."""
    fmt = check_path(path)
    try:
        fig.savefig(path, format=fmt, dpi=dpi, bbox_inches="tight")
    except OSError as exc:
        raise GradcoreError(f"cannot write the picture {str(path)!r}: {exc.strerror or exc}") from None
    finally:
        _pyplot().close(fig)


# ---- reading formulas, results and histories ------------------------------------------------------

def _formula(f: Any, n: int | None = None, what: str = "") -> tuple[Expr, CompiledExpr]:
    if isinstance(f, CompiledExpr):
        f = f.expr
    if isinstance(f, str):
        f = parse(f)
    if not isinstance(f, Expr):
        raise GradcoreError(f"{what} draws a formula (text or an Expr), got {type(f).__name__}")
    if n is not None and len(f.variables) != n:
        raise GradcoreError(f"{what} draws a formula of {n} variable{'s' * (n != 1)}; "
                            f"{f} has {len(f.variables)} ({', '.join(f.variables) or 'none'})")
    return f, compile_expr(f)


def _values(c: CompiledExpr, *arrays: np.ndarray) -> np.ndarray:
    """f on arrays by the compiled numpy path; NaN where f is undefined (masked by the caller)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        with np.errstate(all="ignore"):
            return np.asarray(c.value(*arrays), dtype=float)


def _floats(v: Any) -> np.ndarray:
    """Numbers, arrays, Tensors or lists of them, as a float array."""
    if hasattr(v, "detach"):
        v = v.detach()
    if hasattr(v, "numpy"):
        v = v.numpy()
    try:
        return np.asarray(v, dtype=float)
    except (TypeError, ValueError):
        return np.array([_floats(item) for item in v], dtype=float)


def trajectories(items: Sequence[Any], labels: Sequence[str] | None = None,
                 variables: Sequence[str] | None = None, c: CompiledExpr | None = None) -> list[Trajectory]:
    """Each item as Trajectories: an OptimizeResult (each of its runs, with multi-start), or a history
    recorded from a loop: a list of losses, of [epoch, loss] rows, of points, or of dicts."""
    if labels is not None and len(labels) != len(items):
        raise GradcoreError(f"labels: {len(labels)} given for {len(items)} runs")
    out: list[Trajectory] = []
    for i, item in enumerate(items):
        name = None if labels is None else str(labels[i])
        if isinstance(item, OptimizeResult):
            if variables is not None and tuple(item.variables) != tuple(variables):
                raise GradcoreError(f"the result is over ({', '.join(item.variables)}), the formula over "
                                    f"({', '.join(variables)})")
            parts = item.runs or [item]
            for j, r in enumerate(parts):
                label = name or r.method
                if len(parts) > 1:
                    label = f"{label}, start {j + 1}"
                h = r.history
                out.append(Trajectory(label, np.array([e.nit for e in h], dtype=float),
                                      np.array([e.x for e in h], dtype=float).reshape(len(h), -1),
                                      np.array([e.fun for e in h], dtype=float), r))
        else:
            out.append(_history(item, name or f"run {i + 1}", variables, c))
    return out


def _history(rows: Any, label: str, variables: Sequence[str] | None, c: CompiledExpr | None) -> Trajectory:
    rows = list(rows)
    if not rows:
        raise GradcoreError("a history to draw is empty")
    nit = fun = points = None
    if all(isinstance(r, Mapping) for r in rows):
        keys = list(rows[0])
        loss = next((k for k in ("loss", "fun", "f") if k in keys), None)
        step = next((k for k in ("epoch", "nit", "iteration", "step") if k in keys), None)
        coords = list(variables) if variables is not None else [k for k in keys if k not in (loss, step)]
        try:
            if loss:
                fun = _floats([r[loss] for r in rows])
            if step:
                nit = _floats([r[step] for r in rows])
            if coords:
                points = _floats([[r[k] for k in coords] for r in rows])
        except KeyError as exc:
            raise GradcoreError(f"a history row has no {exc.args[0]!r}") from None
    else:
        table = _floats(rows)
        table = table.reshape(len(rows), -1)
        m = table.shape[1]
        if variables is None:  # a learning curve: losses, or the tutorials' [epoch, loss] rows
            if m not in (1, 2):
                raise GradcoreError("a history for a learning curve is a list of losses, of [epoch, loss] "
                                    f"rows, or of dicts with a 'loss' key; got rows of {m} numbers")
            nit, fun = (None, table[:, 0]) if m == 1 else (table[:, 0], table[:, 1])
        elif m == len(variables):
            points = table
        else:
            raise GradcoreError(f"a path over ({', '.join(variables)}) has {len(variables)} numbers "
                                f"per point; got {m}")
    if variables is not None and points is None:
        raise GradcoreError("a history without points has no path to draw; record the point each step")
    if fun is None and points is not None and c is not None:
        fun = _values(c, *points.T)
    n = len(fun if fun is not None else points)
    return Trajectory(label, np.arange(n, dtype=float) if nit is None else nit, points, fun, None)


# ---- critical points and bounds ---------------------------------------------------------------------

def _kind(w: np.ndarray) -> str:
    """minimum / maximum / saddle / degenerate from the Hessian's eigenvalues w."""
    zero = 1e-8 * max(float(np.max(np.abs(w))), 1e-6)
    pos, neg = int(np.sum(w > zero)), int(np.sum(w < -zero))
    if pos and neg:
        return "saddle"
    return "minimum" if pos == len(w) else "maximum" if neg == len(w) else "degenerate"


def critical_points(c: CompiledExpr, seeds: np.ndarray, steps: int = 60) -> list[Critical]:
    """Newton's method on grad f = 0 from every seed at once: x <- x - H^+ g (the pseudo-inverse, so a
    singular Hessian still steps). Kept where |g| <= 1e-8 max(1, |f|); duplicates merged."""
    x = np.array(seeds, dtype=float).reshape(len(seeds), -1)
    n = x.shape[1]
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", DomainWarning)
        for _ in range(steps + 1):
            g = np.stack(np.broadcast_arrays(*c.grad(*x.T)), axis=-1).reshape(len(x), n)
            H = np.asarray(c.hessian(*x.T), dtype=float).reshape(len(x), n, n)
            ok = np.isfinite(x).all(1) & np.isfinite(g).all(1) & np.isfinite(H).all((1, 2))
            x, g, H = x[ok], g[ok], H[ok]
            if not len(x):
                return []
            if _ < steps:
                x = x - (np.linalg.pinv(H) @ g[:, :, None])[:, :, 0]
        f = _values(c, *x.T).reshape(len(x))
    found: list[Critical] = []
    for xi, fi, gi, Hi in zip(x, f, g, H):
        if not (math.isfinite(fi) and np.linalg.norm(gi) <= 1e-8 * max(1.0, abs(fi))):
            continue
        if any(np.linalg.norm(xi - q.x) <= 1e-6 * max(1.0, float(np.linalg.norm(xi))) for q in found):
            continue
        w = np.linalg.eigvalsh((Hi + Hi.T) / 2)
        scale = 1e-9 * max(1.0, float(np.max(np.abs(xi))))
        found.append(Critical(tuple(0.0 if abs(v) < scale else float(v) for v in xi), float(fi), _kind(w)))
    return sorted(found, key=lambda q: q.fun)


def _names(found: list[Critical], runs: list[Trajectory]) -> list[str]:
    """The kind of each point as a slide says it: with several minima the lowest is the global one
    (unless some run found f unbounded, when none is), the others local; maxima alike. The runs
    searched for one kind only, so the other kind is only ever called local."""
    unbounded = any(t.result is not None and t.result.status == "unbounded" for t in runs)
    sought = {t.result.direction[:3] for t in runs if t.result is not None}  # {"min"}, {"max"}
    names = []
    for q in found:
        same = [p.fun for p in found if p.kind == q.kind]
        if q.kind in ("minimum", "maximum") and sought and q.kind[:3] not in sought:
            names.append(f"local {q.kind}")
            continue
        if q.kind not in ("minimum", "maximum") or (len(same) == 1 and not unbounded):
            names.append(q.kind)
            continue
        best = min(same) if q.kind == "minimum" else max(same)
        names.append(f"{'global' if q.fun == best and not unbounded else 'local'} {q.kind}")
    return names


def _bounds(points: list[np.ndarray], n: int) -> list[tuple[float, float]]:
    """The box around `points` with a 15% margin (1 either side where they do not spread)."""
    finite = [p for p in points if np.isfinite(p).all()]
    if not finite:
        return [tuple(map(float, DEFAULT_BOX))] * n
    a = np.array(finite, dtype=float).reshape(len(finite), n)
    lo, hi = a.min(0), a.max(0)
    span = hi - lo
    pad = np.where(span > 1e-12 * np.maximum(1.0, np.abs(hi)), 0.15 * span, np.maximum(1.0, 0.5 * np.abs(hi)))
    return [(float(l - p), float(h + p)) for l, h, p in zip(lo, hi, pad)]


def _landscape(c: CompiledExpr, runs: list[Trajectory], bounds: Any, n: int) -> tuple[list, list[Critical]]:
    """The drawing box and the critical points to mark: near the runs' ends (and their optima), and
    from a grid of seeds inside the box; without `bounds` the box holds every path and those points."""
    ends = [t.points[-1] for t in runs if t.points is not None and len(t.points)]
    for t in runs:
        r = t.result
        if r is not None:
            ends += [np.array(list(o.point.values())) for o in r.optima]
            if r.critical_point is not None:
                ends.append(np.array(list(r.critical_point.point.values())))
    if bounds is None:
        near = critical_points(c, np.array(ends)) if ends else []
        path_points = [p for t in runs if t.points is not None for p in t.points]
        box = _bounds(path_points + [np.array(q.x) for q in near], n)
    else:
        b = np.asarray(bounds, dtype=float)
        box = [tuple(map(float, b))] * n if b.shape == (2,) else [tuple(map(float, r)) for r in b.reshape(n, 2)]
        if any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi) for lo, hi in box):
            raise GradcoreError(f"bounds must be (low, high) with low < high for each variable, got {bounds!r}")
    axes = [np.linspace(lo, hi, 7)[1:-1] for lo, hi in box]
    seeds = np.stack([g.ravel() for g in np.meshgrid(*axes)], axis=-1)
    if ends:
        seeds = np.vstack([np.array(ends, dtype=float).reshape(len(ends), n), seeds])
    inside = [q for q in critical_points(c, seeds)
              if all(lo <= v <= hi for v, (lo, hi) in zip(q.x, box))]
    return box, inside


# ---- drawing helpers -------------------------------------------------------------------------------

def _title(expr: Expr) -> str:
    text = str(expr)
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"f({', '.join(expr.variables)}) = {text}"


def _path_styles(runs: list[Trajectory], unit: str = "steps") -> list[tuple[str, str]]:
    """(colour, legend label) per run, a result's with its count of steps; past MANY runs, one legend
    entry names them all."""
    styles = []
    for i, t in enumerate(runs):
        label = t.label if t.result is None else f"{t.label} ({t.result.nit} {unit})"
        if len(runs) > MANY:
            label = f"{len(runs)} runs" if i == 0 else "_nolegend_"
        styles.append((COLOURS[i % len(COLOURS)], label))
    return styles


def _dots(t: Trajectory) -> float:
    """Marker size along a path: a dot per point while they can be told apart, none past 80."""
    return 3.5 if len(t.nit) <= 80 else 0


def _ends(ax: Any, xs: Sequence[np.ndarray], colour: str, **kw: Any) -> None:
    """The start (hollow circle) and the end (filled circle) of one path."""
    start = [v[:1] for v in xs]
    end = [v[-1:] for v in xs]
    ax.plot(*start, "o", ms=10, mfc="white", mec=colour, mew=2, zorder=6, label="_nolegend_", **kw)
    ax.plot(*end, "o", ms=8, mfc=colour, mec="black", mew=1, zorder=6, label="_nolegend_", **kw)


def _legend_marks() -> list:
    """Stand-in artists that explain the start and end marks once, in neutral colours."""
    from matplotlib.lines import Line2D
    return [Line2D([], [], ls="", marker="o", ms=9, mfc="white", mec="0.2", mew=2, label="start"),
            Line2D([], [], ls="", marker="o", ms=7, mfc="0.4", mec="black", label="end")]


def _mark_critical(ax: Any, found: list[Critical], names: list[str], variables: Sequence[str],
                   height: bool = False) -> None:
    for q, name in zip(found, names):
        marker, face = KIND_MARKS[name]
        where = point(zip(variables, q.x), digits=4)
        xy = (*q.x, q.fun) if height else q.x
        ax.plot(*[[v] for v in xy], ls="", marker=marker, ms=16 if marker == "*" else 11, mfc=face,
                mec="black", mew=1.2, zorder=5, label=f"{name}: f = {number(q.fun, 4)} at {where}")


def _legend(ax: Any, with_marks: bool = True, below: float = -0.13) -> None:
    """The legend below the picture, where it hides no path."""
    handles, labels = ax.get_legend_handles_labels()
    if with_marks:
        extra = _legend_marks()
        handles, labels = handles + extra, labels + [h.get_label() for h in extra]
    ax.legend(handles, labels, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, below),
              ncol=2, frameon=False)


# ---- the pictures ------------------------------------------------------------------------------------

def learning_curve(*results: Any, labels: Sequence[str] | None = None, log: bool | None = None,
                   ax: Any = None) -> Any:
    """f (or the loss) against the iteration, one line per run (every run of a multi-start result).

    Takes OptimizeResults and histories from Tensor loops (losses, [epoch, loss] rows, or dicts with
    'loss' and 'epoch'). log=None picks a log scale when every value is positive and they span more
    than a factor 100; True or False forces it.
    """
    runs = trajectories(results, labels)
    if not runs:
        raise GradcoreError("learning_curve needs at least one result or history")
    if any(t.fun is None for t in runs):
        raise GradcoreError("a history without losses has no learning curve; record f or the loss")
    fig, ax = _figure_and_axes(ax, (6.4, 4.4))
    plain = all(t.result is None for t in runs)
    for (colour, label), t in zip(_path_styles(runs, "iterations"), runs):
        ax.plot(t.nit, t.fun, "-", color=colour, lw=2, label=label, marker="o" if len(t.fun) <= 30 else None,
                ms=4, gid="curve")
    values = np.concatenate([t.fun[np.isfinite(t.fun)] for t in runs])
    positive = values.size and values.min() > 0
    if log is None:
        log = bool(positive and values.max() > 100 * values.min())
    if log:
        ax.set_yscale("log" if positive else "symlog")
    from matplotlib.ticker import MaxNLocator
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch" if plain else "iteration")
    ax.set_ylabel("loss" if plain else "f")
    ax.set_title("learning curve")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def curve(f: Any, *results: Any, bounds: Any = None, labels: Sequence[str] | None = None,
          title: str | None = None, ax: Any = None) -> Any:
    """A one-variable formula y = f(x) with each run's path on it, start and end marked, and the
    critical points in view marked by kind: with several minima (multi-start's), global vs local."""
    expr, c = _formula(f, 1, "curve")
    runs = trajectories(results, labels, expr.variables, c)
    box, found = _landscape(c, runs, bounds, 1)
    fig, ax = _figure_and_axes(ax, (6.4, 4.6))
    xs = np.linspace(*box[0], GRID[1])
    ax.plot(xs, _values(c, xs), color="0.25", lw=2, label="f", zorder=2)
    for (colour, label), t in zip(_path_styles(runs), runs):
        ax.plot(t.points[:, 0], t.fun, "o-", color=colour, lw=1, ms=_dots(t) + 0.5, alpha=0.9, label=label,
                zorder=4, gid="path")
        _ends(ax, (t.points[:, 0], t.fun), colour)
    _mark_critical(ax, found, _names(found, runs), expr.variables, height=True)
    ax.set_xlim(*box[0])
    heights = [v for t in runs for v in t.fun] + [q.fun for q in found]
    heights = [v for v in heights if math.isfinite(v)]
    if heights and max(heights) > min(heights):
        # The paths and the marked points decide the height shown; the curve's steep ends do not.
        lo, hi = min(heights), max(heights)
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
    ax.set_xlabel(expr.variables[0])
    ax.set_ylabel("f")
    ax.set_title(title or _title(expr))
    ax.grid(True, alpha=0.3)
    _legend(ax, bool(runs))
    return fig


def _grid(c: CompiledExpr, box: list[tuple[float, float]], size: int) -> tuple[np.ndarray, ...]:
    U, V = np.meshgrid(np.linspace(*box[0], size), np.linspace(*box[1], size))
    return U, V, np.ma.masked_invalid(_values(c, U, V))


def _levels(Z: np.ndarray, count: int = 25) -> np.ndarray | None:
    """Contour levels at quantiles of f, so a steep bowl and its flat floor both get lines."""
    finite = Z.compressed() if np.ma.isMaskedArray(Z) else Z[np.isfinite(Z)]
    if not finite.size:
        return None
    levels = np.unique(np.quantile(finite, np.linspace(0, 1, count) ** 1.5))
    return levels if len(levels) > 2 else None


def contour(f: Any, *results: Any, bounds: Any = None, labels: Sequence[str] | None = None,
            title: str | None = None, ax: Any = None) -> Any:
    """A two-variable formula as filled contours, each run's path on it (start and end marked), and
    the critical points in the box marked by kind. Without `bounds` ((lo, hi) or one pair per
    variable) the box holds every path point and the critical points near the runs' ends."""
    expr, c = _formula(f, 2, "contour")
    runs = trajectories(results, labels, expr.variables, c)
    box, found = _landscape(c, runs, bounds, 2)
    fig, ax = _figure_and_axes(ax, (7.2, 5.6))
    U, V, Z = _grid(c, box, GRID[2])
    levels = _levels(Z)
    if levels is not None:
        from matplotlib.colors import BoundaryNorm
        # One step of the colour map per band, so the bands near the floor differ as much as the rest.
        norm = BoundaryNorm(levels, ncolors=256)
        filled = ax.contourf(U, V, Z, levels=levels, cmap=CMAP, norm=norm, zorder=1)
        ax.contour(U, V, Z, levels=levels, colors="white", linewidths=0.5, alpha=0.7, zorder=2)
        fig.colorbar(filled, ax=ax, label="f", format=lambda v, _: number(float(v), 3))
    for (colour, label), t in zip(_path_styles(runs), runs):
        ax.plot(t.points[:, 0], t.points[:, 1], "o-", color=colour, lw=1.6, ms=_dots(t), label=label,
                zorder=4, gid="path")
        _ends(ax, (t.points[:, 0], t.points[:, 1]), colour)
    _mark_critical(ax, found, _names(found, runs), expr.variables)
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    ax.set_xlabel(expr.variables[0])
    ax.set_ylabel(expr.variables[1])
    ax.set_title(title or _title(expr))
    _legend(ax, bool(runs))
    return fig


def surface(f: Any, *results: Any, bounds: Any = None, labels: Sequence[str] | None = None,
            title: str | None = None, ax: Any = None, elev: float = 30, azim: float = -120) -> Any:
    """The surface z = f(u, v) in 3-D with each run's path drawn on it at height f (the tutorials'
    contour3D figure); `elev` and `azim` set the view."""
    expr, c = _formula(f, 2, "surface")
    runs = trajectories(results, labels, expr.variables, c)
    box, found = _landscape(c, runs, bounds, 2)
    fig, ax = _figure_and_axes(ax, (7.2, 6.4), projection="3d")
    U, V, Z = _grid(c, box, 60)
    ax.plot_surface(U, V, Z.filled(np.nan), cmap=CMAP, alpha=0.7, linewidth=0, antialiased=True,
                    rstride=1, cstride=1, zorder=1)
    for (colour, label), t in zip(_path_styles(runs), runs):
        ax.plot(t.points[:, 0], t.points[:, 1], t.fun, "o-", color=colour, lw=2, ms=_dots(t) + 0.5, label=label,
                zorder=4, gid="path")
        _ends(ax, (t.points[:, 0], t.points[:, 1], t.fun), colour)
    _mark_critical(ax, found, _names(found, runs), expr.variables, height=True)
    ax.set_xlim(*box[0])
    ax.set_ylim(*box[1])
    ax.set_xlabel(expr.variables[0])
    ax.set_ylabel(expr.variables[1])
    ax.set_zlabel("f")
    ax.view_init(elev, azim)
    ax.set_title(title or _title(expr))
    _legend(ax, bool(runs), below=0.0)
    return fig


def _predictor(model: Any) -> tuple[Callable[[np.ndarray], np.ndarray], str, bool]:
    """(x -> prediction, legend text, is it a straight line) for (w, b), {'W': w, 'B': b}, a Linear
    module (weight and bias), or any callable model."""
    if hasattr(model, "weight") and hasattr(model, "bias") and callable(model):
        from ..tensors import tensor
        w, b = _floats(model.weight).ravel(), _floats(model.bias if model.bias is not None else 0.0).ravel()
        if w.size == 1:
            return _predictor((w[0], b[0]))
        return (lambda t: _floats(model(tensor(t.reshape(-1, 1)))).ravel()), "model", False
    if isinstance(model, Mapping):
        model = list(model.values())
    if callable(model):
        return (lambda t: _floats(model(t)).ravel()), "model", False
    params = _floats(list(model)).ravel()
    if params.size != 2:
        raise GradcoreError(f"fit_line takes (slope, intercept), a Linear model or a callable; got {model!r}")
    w, b = float(params[0]), float(params[1])
    sign = "-" if b < 0 else "+"
    return (lambda t: w * t + b), f"fit: y = {number(w, 4)} x {sign} {number(abs(b), 4)}", True


def fit_line(x: Any, y: Any, model_or_params: Any, xlabel: str = "x", ylabel: str = "y",
             ax: Any = None) -> Any:
    """The data (x, y) as a scatter and the fitted model over the data's range: y = w x + b for
    (w, b), or the model's prediction for a Linear module or a callable."""
    xs, ys = _floats(x).ravel(), _floats(y).ravel()
    if xs.size != ys.size or not xs.size:
        raise GradcoreError(f"fit_line needs as many x as y values, got {xs.size} and {ys.size}")
    predict, text, straight = _predictor(model_or_params)
    fig, ax = _figure_and_axes(ax, (6.4, 4.6))
    ax.scatter(xs, ys, c="black", s=50, zorder=3, label=f"data ({xs.size} points)")
    line = np.array([xs.min(), xs.max()]) if straight else np.linspace(xs.min(), xs.max(), 200)
    ax.plot(line, predict(line), color="#1f77b4", lw=2, zorder=2, label=text, gid="fit")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel} against {xlabel}: data and fitted line")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=9)
    return fig


def compare(f: Any, methods: Sequence[Any] = ("gd", "momentum", "nesterov", "adam", "bfgs"),
            start: Any = None, ax: Any = None, **options: Any) -> Any:
    """Minimise f from one start with several methods and draw their paths on one landscape (curve
    or contour) beside their learning curves. A method is a name or a dict of minimize's keywords
    (with "method" and an optional "label"); `options` go to every run (lr, tol, max_iter, ...)."""
    expr, _ = _formula(f, None, "compare")
    results, labels = [], []
    for m in methods:
        kw = {"method": m} if isinstance(m, str) else dict(m)
        label = str(kw.pop("label", kw.get("method", "bfgs")))
        r = minimize(expr, start=start, **{**options, **kw})
        results.append(r)
        labels.append(f"{label}: {r.status}")
    n = len(expr.variables)
    if ax is None:
        plt = _pyplot()
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.2), width_ratios=(1.15, 1)) if n in (1, 2) else \
            plt.subplots(1, 1, figsize=(6.4, 4.4))
        axes = list(np.atleast_1d(axes))
    else:
        axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else [ax]
        fig = axes[0].figure
    if n in (1, 2):
        (curve if n == 1 else contour)(expr, *results, labels=labels, ax=axes[0])
        axes = axes[1:]
    if axes:
        learning_curve(*results, labels=labels, ax=axes[0])
    return fig


def picture(f: Any, result: OptimizeResult, ax: Any = None) -> Any:
    """The command line's --plot: the curve with the path for one variable, the contour with the
    path for two, the learning curve for more (every run's, with multi-start)."""
    expr, _ = _formula(f, None, "picture")
    n = len(expr.variables)
    if n == 1:
        return curve(expr, result, ax=ax)
    if n == 2:
        return contour(expr, result, ax=ax)
    fig = learning_curve(result, ax=ax)
    fig.axes[0].set_title(f"learning curve of {_title(expr)}")
    return fig
