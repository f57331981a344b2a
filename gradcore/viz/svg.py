"""Computation graphs drawn as SVG by gradcore itself, with no dependency: a layered layout and a drawing.

The layout is Sugiyama's method in brief: longest-path layers, a point on every layer a long edge
crosses, barycentre sweeps against crossings, then positions that straighten the edges. `Graph` is
the object that `make_dot` and `draw` return: DOT text in `.source`, the SVG picture in notebooks.
About 500 lines: layout, drawing and Graph share the shape and route types and read top to bottom.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from ..errors import GradcoreError

__all__ = ["Shape", "Edge", "Graph", "to_svg"]


@dataclass(frozen=True)
class Shape:
    """One node of a picture: a box (a value, one row per line), an oval (an operation) or plain text."""

    key: str
    kind: str  # "box", "oval" or "text"
    lines: tuple[str, ...]
    fill: str = "white"


@dataclass(frozen=True)
class Edge:
    """An arrow from the shape `source` to the shape `target`, with an optional short label."""

    source: str
    target: str
    label: str = ""


# ---- sizes: a monospace font, so the width of a text is known without measuring it -----------------
FONT = 12
CHAR = 0.62 * FONT  # the advance of a monospace glyph is 0.6 em; a little more, so no text is clipped
ROW = 18  # height of one row of a box
PAD = 8  # space between a box's border and its text
LAYER_GAP = 56  # between layers, where the edges run
NODE_GAP = 16  # between neighbours in a layer
DUMMY = 4  # the width a long edge takes where it crosses a layer
MARGIN = 8
MAX_CHARS = 40  # a longer line is cut, with an ellipsis; its node's tooltip keeps the whole text
SWEEPS = 8  # barycentre sweeps against crossings: few, so the work stays linear in the graph
LARGE = 2000  # shapes and points past which the crossing sweeps are skipped, to bound the work
STRAIGHTEN = 4  # sweeps, down and up, that pull each node towards its neighbours


def _shown(line: str) -> str:
    return line if len(line) <= MAX_CHARS else line[: MAX_CHARS - 1] + "…"


def _size(s: Shape) -> tuple[float, float]:
    """(width, height) of a shape, in pixels."""
    chars = max((len(_shown(t)) for t in s.lines), default=0)
    if s.kind == "box":
        return max(chars * CHAR + 2 * PAD, 24.0), ROW * max(len(s.lines), 1)
    if s.kind == "oval":
        return max(chars * CHAR + 3 * PAD, 32.0), 28.0
    return chars * CHAR + 4, ROW * max(len(s.lines), 1)


# ---- the layout --------------------------------------------------------------------------------------

@dataclass
class _Layout:
    """Where everything goes: centres and sizes of shapes (by key), and each edge's route of points."""

    centre: dict[str, tuple[float, float]]
    size: dict[str, tuple[float, float]]
    routes: list[list[tuple[float, float]]]
    width: float
    height: float


def _topological(keys: list[str], succ: dict[str, list[str]], pred: dict[str, list[str]]) -> list[str]:
    """Kahn's order (sources first); shapes on a cycle, which a computation graph has none of, go last."""
    indegree = {k: len(pred[k]) for k in keys}
    ready = [k for k in reversed(keys) if indegree[k] == 0]
    order = []
    while ready:
        k = ready.pop()
        order.append(k)
        for s in succ[k]:
            indegree[s] -= 1
            if indegree[s] == 0:
                ready.append(s)
    placed = set(order)
    return order + [k for k in keys if k not in placed]


def _layers(keys: list[str], succ: dict[str, list[str]], pred: dict[str, list[str]]) -> dict[str, int]:
    """Longest-path layering from the sinks: each shape sits one layer before its latest-needed consumer,
    so a constant sits next to the operation that uses it rather than with the inputs."""
    height: dict[str, int] = {}
    for k in reversed(_topological(keys, succ, pred)):
        height[k] = 1 + max((height[s] for s in succ[k] if s in height), default=-1)
    top = max(height.values(), default=0)
    return {k: top - h for k, h in height.items()}


def _crossings(upper: dict[str, int], pairs: list[tuple[str, str]], lower: dict[str, int]) -> int:
    """Edge crossings between two neighbouring layers: inversions of the lower ends once the edges are
    sorted by their upper ends (a Fenwick tree counts them in n log n)."""
    ends = [lower[b] for _, b in sorted(pairs, key=lambda p: (upper[p[0]], lower[p[1]]))]
    tree = [0] * (len(lower) + 1)
    count = 0
    for seen, e in enumerate(ends):
        i, below = e + 1, 0
        while i > 0:
            below += tree[i]
            i -= i & -i
        count += seen - below
        i = e + 1
        while i < len(tree):
            tree[i] += 1
            i += i & -i
    return count


def _transpose(rows: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> None:
    """Swap neighbours in a layer wherever that removes crossings with the layers on both sides."""
    pos = [{k: i for i, k in enumerate(r)} for r in rows]

    def cost(a: str, b: str, i: int) -> int:  # crossings among the edges of a and b, with a before b
        c = 0
        for near, j in ((up, i - 1), (down, i + 1)):
            if 0 <= j < len(rows):
                c += sum(pos[j][u] > pos[j][v] for u in near[a] for v in near[b])
        return c

    for _ in range(4):
        better = False
        for i, r in enumerate(rows):
            for j in range(len(r) - 1):
                a, b = r[j], r[j + 1]
                if cost(b, a, i) < cost(a, b, i):
                    r[j], r[j + 1] = b, a
                    pos[i][a], pos[i][b] = j + 1, j
                    better = True
        if not better:
            return


def _order(rows: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]) -> list[list[str]]:
    """Reorder each layer by the barycentre of its neighbours, sweeping down and up, then swap
    neighbours where that helps; keep the order with the fewest crossings."""
    def total(rows: list[list[str]]) -> int:
        pos = [{k: i for i, k in enumerate(r)} for r in rows]
        return sum(_crossings(pos[i], [(a, b) for a in rows[i] for b in down[a]], pos[i + 1])
                   for i in range(len(rows) - 1))

    best, best_count = [list(r) for r in rows], total(rows)
    for sweep in range(SWEEPS):
        if best_count == 0:
            break
        indices = range(1, len(rows)) if sweep % 2 == 0 else range(len(rows) - 2, -1, -1)
        neighbours = up if sweep % 2 == 0 else down
        for i in indices:
            ref = {k: j for j, k in enumerate(rows[i - 1 if sweep % 2 == 0 else i + 1])}
            here = {k: j for j, k in enumerate(rows[i])}

            def barycentre(k: str) -> float:
                near = [ref[n] for n in neighbours[k] if n in ref]
                return sum(near) / len(near) if near else here[k]
            rows[i] = sorted(rows[i], key=barycentre)
        _transpose(rows, up, down)
        count = total(rows)
        if count < best_count:
            best, best_count = [list(r) for r in rows], count
    return best


def _pool(targets: list[float], weights: list[float]) -> list[float]:
    """The nondecreasing sequence nearest to `targets` in weighted least squares (pool adjacent violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, w in zip(targets, weights):
        blocks.append([t, w, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, n2 = blocks.pop()
            m1, w1, n1 = blocks.pop()
            blocks.append([(m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, n1 + n2])
    out: list[float] = []
    for m, _, n in blocks:
        out += [m] * int(n)
    return out


def _straighten(rows: list[list[str]], along: dict[str, float],
                up: dict[str, list[str]], down: dict[str, list[str]]) -> dict[str, float]:
    """Positions across the layers. Sweeping down, each node goes as near the mean of its parents as
    the order and the gaps allow; sweeping up, of its children. With gaps g_i, z_i = p_i - (g_1 +
    ... + g_i) must not decrease, so each layer's best placement is an isotonic regression, solved
    exactly. A chain thus runs straight after one sweep."""
    def gap(a: str, b: str) -> float:
        real = (along[a] > DUMMY) + (along[b] > DUMMY)
        return (along[a] + along[b]) / 2 + NODE_GAP * real / 2

    pos: dict[str, float] = {}
    for r in rows:
        p = 0.0
        for i, k in enumerate(r):
            p += gap(r[i - 1], k) if i else 0.0
            pos[k] = p
        for k in r:
            pos[k] -= p / 2
    for sweep in range(STRAIGHTEN):
        first, second = (up, down) if sweep % 2 == 0 else (down, up)
        for r in (rows if sweep % 2 == 0 else reversed(rows)):
            offsets = [0.0]
            for a, b in zip(r, r[1:]):
                offsets.append(offsets[-1] + gap(a, b))
            targets, weights = [], []
            for k, c in zip(r, offsets):
                near = [pos[n] for n in first[k]] or [pos[n] for n in second[k]]
                targets.append((sum(near) / len(near) if near else pos[k]) - c)
                # A long edge's points pull harder, so long edges run straight.
                weights.append((len(near) or 0.1) * (2.0 if along[k] <= DUMMY else 1.0))
            for k, z, c in zip(r, _pool(targets, weights), offsets):
                pos[k] = z + c
    return pos


def layout(shapes: list[Shape], edges: list[Edge], direction: str = "LR") -> _Layout:
    """Place `shapes` in layers (left to right for "LR", top to bottom for "TB") and route `edges`."""
    keys = [s.key for s in shapes]
    size = {s.key: _size(s) for s in shapes}
    kinds = {s.key: s.kind for s in shapes}
    succ: dict[str, list[str]] = {k: [] for k in keys}
    pred: dict[str, list[str]] = {k: [] for k in keys}
    for e in edges:
        succ[e.source].append(e.target)
        pred[e.target].append(e.source)
    layer = _layers(keys, succ, pred)
    for k in keys:
        if not pred[k] and kinds[k] != "text":
            layer[k] = 0  # the inputs start the picture; constants stay beside their operations
    lr = direction == "LR"
    # along: a node's extent across its layer (height for LR); thick: its extent along the flow.
    along = {k: size[k][1 if lr else 0] for k in keys}
    thick = {k: size[k][0 if lr else 1] for k in keys}

    # Long edges cross layers through dummy points, so every segment joins neighbouring layers. The
    # long edges out of one shape share one trunk of points and branch off it: an input used all
    # along a long sum costs one point per layer, not one per use and layer.
    up: dict[str, list[str]] = {k: [] for k in keys}
    down: dict[str, list[str]] = {k: [] for k in keys}

    def link(a: str, b: str, again: bool = False) -> None:
        # A trunk's segments are shared; an edge's last segment is its own (a + a draws two arrows).
        if again or b not in down[a]:
            down[a].append(b)
            up[b].append(a)

    chains = []
    trunks: dict[str, list[str]] = {}
    for e in edges:
        trunk = trunks.setdefault(e.source, [])
        for j in range(layer[e.source] + 1 + len(trunk), layer[e.target]):
            d = f"\0{e.source}.{j}"
            layer[d], along[d], thick[d], up[d], down[d] = j, DUMMY, 0.0, [], []
            link(trunk[-1] if trunk else e.source, d)
            trunk.append(d)
        n = layer[e.target] - layer[e.source] - 1  # the edge runs along the first n points of the trunk
        link(trunk[n - 1] if n else e.source, e.target, again=True)
        chains.append((e.source, n, e.target))
    rows: list[list[str]] = [[] for _ in range(max(layer.values(), default=0) + 1)]
    for k in layer:
        rows[layer[k]].append(k)
    if len(layer) <= LARGE:
        rows = _order(rows, up, down)
    across = _straighten(rows, along, up, down)

    depth: dict[str, float] = {}
    row_half: dict[str, float] = {}  # half the thickness of the shape's layer
    start = MARGIN
    for r in rows:
        t = max((thick[k] for k in r), default=0.0)
        for k in r:
            depth[k], row_half[k] = start + t / 2, t / 2
        start += t + LAYER_GAP
    low = min((across[k] - along[k] / 2 for k in across), default=0.0)
    for k in across:
        across[k] += MARGIN - low
    extent = max((across[k] + along[k] / 2 for k in across), default=0.0) + MARGIN
    length = start - LAYER_GAP + MARGIN

    # Where edges meet a shape: spread over its side in the order of where they come from or go to
    # (edges on one trunk leave by one port).
    offset: dict[tuple[str, str, int, int], float] = {}  # (from, to, which of equal edges, end)
    for k in keys:
        for near, sign in ((up[k], -1), (down[k], 1)):
            ends = sorted(near, key=across.__getitem__)
            step = min(10.0, 0.8 * along[k] / len(ends)) if len(ends) > 1 else 0.0
            seen: dict[str, int] = {}
            for j, n in enumerate(ends):
                seen[n] = seen.get(n, -1) + 1
                offset[(k, n, seen[n], 1) if sign > 0 else (n, k, seen[n], -1)] = (j - (len(ends) - 1) / 2) * step

    def meet(k: str, segment: tuple[str, str, int], side: int) -> list[tuple[float, float]]:
        """Where `segment` meets shape k, on its incoming side (-1) or outgoing (+1): the point on
        its border, and the point where the line leaves (or enters) k's layer. Inside a layer an
        edge runs straight along the flow, so it can cross no other shape there; it bends only in
        the gaps between layers."""
        if k.startswith("\0"):
            return [(depth[k] - row_half[k], across[k]), (depth[k] + row_half[k], across[k])]
        shift = offset[(*segment, side)]
        half = thick[k] / 2
        if kinds[k] == "oval":
            half *= math.sqrt(max(0.0, 1 - (2 * shift / along[k]) ** 2))
        border, edge = (depth[k] + side * half, across[k] + shift), (depth[k] + side * row_half[k], across[k] + shift)
        if abs(edge[0] - border[0]) < 10:
            return [border]
        return [border, edge] if side > 0 else [edge, border]

    routes = []
    drawn: dict[str, int] = {}  # how much of each trunk is drawn already
    uses: dict[tuple[str, str], int] = {}
    for u, n, v in chains:
        trunk = trunks[u]
        last = (trunk[n - 1] if n else u, v)
        uses[last] = uses.get(last, -1) + 1
        # A trunk is drawn once, with the first edges that run along it; the others draw their branch.
        done = min(drawn.get(u, 0), n)
        drawn[u] = max(drawn.get(u, 0), n)
        pts = meet(u, (u, trunk[0] if n else v, 0 if n else uses[last]), 1) if done == 0 else []
        for d in trunk[max(done - 1, 0):n]:
            pts += meet(d, last, 0) if pts else meet(d, last, 0)[1:]
        pts += meet(v, (*last, uses[last]), -1)
        routes.append(pts if lr else [(c, m) for m, c in pts])
    centre = {k: ((depth[k], across[k]) if lr else (across[k], depth[k])) for k in keys}
    width, height = (length, extent) if lr else (extent, length)
    return _Layout(centre, size, routes, width, height)


# ---- the drawing -------------------------------------------------------------------------------------

# Characters XML 1.0 forbids even when escaped: a hostile label must not make the file unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(s: str) -> str:
    """`s` safe inside an XML element or a quoted attribute."""
    return html.escape(_NOT_XML.sub("\ufffd", s), quote=True)


def _n(v: float) -> str:
    # A coordinate, not a number shown to a person: a tenth of a pixel, fast (a picture has thousands).
    return f"{v:.1f}"


def _curve(pts: list[tuple[float, float]], lr: bool) -> tuple[str, tuple[float, float]]:
    """An SVG path through `pts`, leaving and entering each point along the flow; and the end's direction."""
    out = [f"M{_n(pts[0][0])},{_n(pts[0][1])}"]
    tx, ty = (1.0, 0.0) if lr else (0.0, 1.0)
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        if x0 == x1 or y0 == y1:  # along the flow, inside a layer
            norm = math.hypot(x1 - x0, y1 - y0) or 1.0
            tx, ty = (x1 - x0) / norm, (y1 - y0) / norm
            out.append(f"L{_n(x1)},{_n(y1)}")
            continue
        if lr:
            h = (x1 - x0) / 2
            c1, c2 = (x0 + h, y0), (x1 - h, y1)
        else:
            h = (y1 - y0) / 2
            c1, c2 = (x0, y0 + h), (x1, y1 - h)
        dx, dy = x1 - c2[0], y1 - c2[1]
        norm = math.hypot(dx, dy) or 1.0
        tx, ty = dx / norm, dy / norm
        out.append(f"C{_n(c1[0])},{_n(c1[1])} {_n(c2[0])},{_n(c2[1])} {_n(x1)},{_n(y1)}")
    return " ".join(out), (tx, ty)


def to_svg(shapes: list[Shape], edges: list[Edge], direction: str = "LR", title: str = "") -> str:
    """An SVG picture of the graph: boxes with one row per line, ovals, plain text, arrows between them.

    Every text is XML-escaped; the picture's <title> (its accessible name) is `title`, and each node's
    own <title> gives its full text as a tooltip.
    """
    lay = layout(shapes, edges, direction)
    lr = direction == "LR"
    w, h = math.ceil(lay.width), math.ceil(lay.height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" '
           f'role="img" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="{FONT}">',
           f"<title>{_text(title or 'computation graph')}</title>",
           f'<rect class="background" width="{w}" height="{h}" fill="white"/>']
    for e, pts in zip(edges, lay.routes):
        # End the line at the arrowhead's base, so the head's tip is sharp.
        (x, y), back = pts[-1], 7.0
        path, (tx, ty) = _curve(pts[:-1] + [(x - back * (1.0 if lr else 0.0), y - back * (0.0 if lr else 1.0))], lr)
        head = [(x, y), (x - 8 * tx - 4 * ty, y - 8 * ty + 4 * tx), (x - 8 * tx + 4 * ty, y - 8 * ty - 4 * tx)]
        out.append(f'<g class="edge"><path d="{path}" fill="none" stroke="#555" stroke-width="1.2"/>'
                   f'<polygon points="{" ".join(f"{_n(a)},{_n(b)}" for a, b in head)}" fill="#555"/>')
        if e.label:
            # Beside the arrow, on the side away from the other arrows into the same shape.
            side = -1.0 if y <= lay.centre[e.target][1 if lr else 0] else 1.0
            lx, ly = (x - 16, y + side * 7) if lr else (x + side * 9, y - 14)
            out.append(f'<text x="{_n(lx)}" y="{_n(ly)}" text-anchor="middle" dominant-baseline="central" '
                       f'font-size="{FONT - 2}" fill="#555">{_text(e.label)}</text>')
        out.append("</g>")
    for s in shapes:
        (cx, cy), (sw, sh) = lay.centre[s.key], lay.size[s.key]
        x0, y0 = cx - sw / 2, cy - sh / 2
        out.append(f'<g class="{s.kind}"><title>{_text(chr(10).join(s.lines)[:500])}</title>')
        if s.kind == "box":
            out.append(f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(sw)}" height="{_n(sh)}" rx="3" '
                       f'fill="{_text(s.fill)}" stroke="#333"/>')
            out += [f'<line x1="{_n(x0)}" y1="{_n(y0 + i * ROW)}" x2="{_n(x0 + sw)}" y2="{_n(y0 + i * ROW)}" '
                    f'stroke="#999"/>' for i in range(1, len(s.lines))]
        elif s.kind == "oval":
            out.append(f'<ellipse cx="{_n(cx)}" cy="{_n(cy)}" rx="{_n(sw / 2)}" ry="{_n(sh / 2)}" '
                       f'fill="{_text(s.fill)}" stroke="#333"/>')
        for i, line in enumerate(s.lines):
            ty = y0 + (i + 0.5) * (ROW if s.kind != "oval" else sh)
            out.append(f'<text x="{_n(cx)}" y="{_n(ty)}" text-anchor="middle" dominant-baseline="central">'
                       f"{_text(_shown(line))}</text>")
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


# ---- the object a notebook displays -----------------------------------------------------------------

_GRAPHVIZ = ("png", "pdf")
_FORMATS = ("svg", "dot", "gv", *_GRAPHVIZ)


class Graph:
    """A computation graph as a picture, like torchviz's: `.source` is its Graphviz DOT text (so is
    `str(graph)`), `.svg` its SVG drawn by gradcore, which a notebook shows (`_repr_svg_`), and
    `.render(path, format)` or `.save(path)` write it to a file.

    It holds text and numbers only, copied when it was made, never the Values or Tensors it shows.
    """

    def __init__(self, source: str, shapes: list[Shape], edges: list[Edge], direction: str = "LR",
                 title: str = "") -> None:
        self.source = source
        self.shapes = tuple(shapes)
        self.edges = tuple(edges)
        self.direction = direction
        self.title = title
        self._svg: str | None = None

    @property
    def svg(self) -> str:
        """The SVG text (drawn on first use)."""
        if self._svg is None:
            self._svg = to_svg(list(self.shapes), list(self.edges), self.direction, self.title)
        return self._svg

    def _repr_svg_(self) -> str:
        return self.svg

    def __str__(self) -> str:
        return self.source

    def __contains__(self, text: str) -> bool:
        # `"MulBackward0" in make_dot(...)` kept working when make_dot returned the DOT text.
        return text in self.source

    def __repr__(self) -> str:
        return f"<gradcore Graph: {len(self.shapes)} nodes, {len(self.edges)} edges; .source is DOT, .svg SVG>"

    def save(self, path: "str | Path") -> Path:
        """Write the picture to `path`, in the format its suffix names: .svg (no dependency), .dot or
        .gv (the DOT text), .png or .pdf (through Graphviz's `dot` program)."""
        path = Path(path)
        return self._write(path, path.suffix[1:].lower())

    def render(self, path: "str | Path", format: str = "svg") -> Path:
        """Write the picture as `format` (svg, dot, png or pdf) to `path`, adding the suffix if it is
        missing (graphviz's render writes `graph.png` for render("graph", format="png"))."""
        path, format = Path(path), format.lower()
        if path.suffix.lower() != f".{format}":
            path = path.with_name(f"{path.name}.{format}")
        return self._write(path, format)

    def _write(self, path: Path, format: str) -> Path:
        if format not in _FORMATS:
            raise GradcoreError(f"cannot write a graph as {format or 'a file without a suffix'!r}: "
                                f"use one of {', '.join(_FORMATS)}")
        if format in _GRAPHVIZ:
            dot = shutil.which("dot")
            if dot is None:
                raise GradcoreError(f"writing {format.upper()} needs Graphviz's `dot` program, which is not "
                                    "installed (e.g. apt-get install graphviz); .svg needs nothing")
            try:
                subprocess.run([dot, f"-T{format}", "-o", str(path)], input=self.source.encode(),
                               capture_output=True, timeout=60, check=True)
            except (subprocess.SubprocessError, OSError) as exc:
                raise GradcoreError(f"Graphviz could not write {path}: {exc}") from None
            return path
        path.write_text(self.svg if format == "svg" else self.source, encoding="utf-8")
        return path
