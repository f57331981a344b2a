"""Tests of the graph pictures gradcore draws itself: the SVG layout, the Graph object of draw and
make_dot, its files, the command line's --format svg, and the notebook views of results and reports.
"""

from __future__ import annotations

import dataclasses
import html
import math
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import gradcore as gc
from gradcore.value import Value, build, topological_order
from gradcore.viz import Graph
from gradcore.viz.svg import Edge, Shape, layout

ROOT = Path(__file__).resolve().parent.parent
WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"
NS = "{http://www.w3.org/2000/svg}"


def _groups(svg: str, kind: str) -> list[ET.Element]:
    return [g for g in ET.fromstring(svg).iter(f"{NS}g") if g.get("class") == kind]


def _worked_graph() -> Value:
    root, _ = build(gc.parse(WORKED), {"x": 1.0, "y": 2.0}, labels=True)
    root.backward()
    return root


def _dependencies(root: Value) -> int:
    """Arrows micrograd's picture has: one per operand into an operation, one from it to its result."""
    return sum(len(v.operands) + 1 for v in topological_order(root) if v.op)


def _tutorial_loss():
    X = gc.tensor([-5.0, 5.0, 0.0, 2.0, -2.0])
    Y = gc.tensor([-6.7, 10.3, -3.3, 5.0, -5.3])
    W = gc.tensor(1.0, requires_grad=True)
    B = gc.tensor(1.0, requires_grad=True)
    return ((W * X + B - Y) ** 2).mean(), {"W": W, "B": B}


# ---- the picture of a Value graph ----------------------------------------------------------------

def test_svg_has_a_box_per_value_an_oval_per_operation_and_an_edge_per_dependency():
    root = _worked_graph()
    values = topological_order(root)
    svg = gc.draw(root).svg
    boxes = _groups(svg, "box")
    assert len(boxes) == len(values) == 11
    assert len(_groups(svg, "oval")) == sum(1 for v in values if v.op) == 9
    assert len(_groups(svg, "text")) == 4  # the constants 2, 3, 2: plain text, not Values
    assert len(_groups(svg, "edge")) == _dependencies(root) == 26
    texts = [[t.text for t in g.iter(f"{NS}text")] for g in boxes]
    assert ["x", "data 1", "grad 6.95892"] in texts and ["y", "data 2", "grad 3.91785"] in texts
    assert [WORKED, "data 8.28366", "grad 1"] in texts
    tree = ET.fromstring(svg)
    assert tree[0].tag == f"{NS}title" and tree[0].text == f"computation graph of {WORKED}"


def _boxes(svg: str) -> list[tuple[float, float, float, float]]:
    out = []
    for g in _groups(svg, "box"):
        r = g.find(f"{NS}rect")
        out.append(tuple(float(r.get(k)) for k in ("x", "y", "width", "height")))
    return out


@pytest.mark.parametrize("text", [WORKED, "x**2 + 2*x*y + cos(x + 2*y)", "sin(x*y)*sin(x*y) + exp(x)/y"])
def test_the_layout_keeps_shapes_apart_inside_the_picture_and_arrows_end_on_their_targets(text):
    g = gc.draw(text, point={"x": 1, "y": 2})
    lay = layout(list(g.shapes), list(g.edges), g.direction)
    rects = {k: (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
             for k, (cx, cy) in lay.centre.items() for w, h in [lay.size[k]]}
    items = list(rects.values())
    for i, a in enumerate(items):
        assert a[0] >= 0 and a[1] >= 0 and a[2] <= lay.width and a[3] <= lay.height  # nothing clipped
        for b in items[i + 1:]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)  # no overlap
    kinds = {s.key: s.kind for s in g.shapes}
    for e, route in zip(g.edges, lay.routes):
        # The arrow's tip is on the target's left side: its border, or its ellipse.
        (x, y), (cx, cy), (w, h) = route[-1], lay.centre[e.target], lay.size[e.target]
        if kinds[e.target] == "oval":
            assert x < cx and ((x - cx) / (w / 2)) ** 2 + ((y - cy) / (h / 2)) ** 2 == pytest.approx(1)
        else:
            assert x == pytest.approx(cx - w / 2) and abs(y - cy) <= h / 2
    assert ET.fromstring(g.svg).get("viewBox") == f"0 0 {math.ceil(lay.width)} {math.ceil(lay.height)}"


def test_inputs_start_the_picture_and_the_result_ends_it():
    g = gc.draw(WORKED, point={"x": 1, "y": 2})
    lay = layout(list(g.shapes), list(g.edges), "LR")
    x_of = {k: c[0] for k, c in lay.centre.items()}
    inputs = [s.key for s in g.shapes if s.lines[:1] in (("x",), ("y",))]
    result = next(s.key for s in g.shapes if s.lines[:1] == (WORKED,))
    assert len({x_of[k] for k in inputs}) == 1 and x_of[inputs[0]] == min(x_of.values())
    assert x_of[result] == max(x_of.values())


def test_a_diamond_draws_two_arrows_and_an_expr_draws_no_numbers():
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    g = gc.draw(c)
    paths = [p.find(f"{NS}path").get("d") for p in _groups(g.svg, "edge")]
    assert len(paths) == 6 and len(set(paths)) == 6  # a + a: two arrows, side by side, not on top
    svg = gc.draw(gc.parse(WORKED)).svg
    assert "data" not in svg and len(_groups(svg, "box")) == 11


def test_drawing_changes_no_value_and_no_gradient():
    root = _worked_graph()
    values = topological_order(root)
    before = [(v.data, v.grad, v.label) for v in values]
    g = gc.draw(root)
    g.svg, g.source, str(g), g._repr_svg_()  # noqa: B018 - every view of it
    gc.to_dot(root), gc.to_mermaid(root)  # noqa: B018
    assert [(v.data, v.grad, v.label) for v in values] == before
    fresh = Value(2.0) * Value(5.0)
    gc.draw(fresh).svg  # noqa: B018 - before backward the grads stay 0
    assert fresh.grad == 0.0 and all(p.grad == 0.0 for p in fresh.parents)
    loss, params = _tutorial_loss()
    loss.backward()
    grads = {k: v.grad.numpy().copy() for k, v in params.items()}
    data = {k: v.detach().numpy().copy() for k, v in params.items()}
    gc.make_dot(loss, params=params).svg  # noqa: B018
    for k, v in params.items():
        np.testing.assert_array_equal(v.grad.numpy(), grads[k])
        np.testing.assert_array_equal(v.detach().numpy(), data[k])


def test_a_graph_holds_no_values_or_tensors():
    root = _worked_graph()
    g = gc.draw(root)
    for item in (*g.shapes, *g.edges):
        assert all(isinstance(getattr(item, f.name), (str, tuple)) for f in dataclasses.fields(item))


HOSTILE = '</text><script>alert("x")</script>&amp; \'q\' <!-- \x01 ]]>'


def test_hostile_labels_are_escaped():
    v = Value(1.0, label=HOSTILE) * Value(2.0, label="<b>")
    svg = gc.draw(v).svg
    tree = ET.fromstring(svg)  # still well-formed XML
    assert not [e for e in tree.iter() if e.tag in (f"{NS}script", "script", f"{NS}b", "b")]
    safe = HOSTILE.replace("\x01", "\ufffd")  # a character XML cannot hold, even escaped
    shown = [t.text for t in tree.iter(f"{NS}text")]
    assert safe[:39] + "…" in shown and "<b>" in shown
    assert f"{safe}\ndata 1\ngrad 0" in [t.text for t in tree.iter(f"{NS}title")]  # the tooltip
    assert "<script>" not in svg and "<b>" not in svg
    loss, params = _tutorial_loss()
    g = gc.make_dot(loss, params={HOSTILE: params["W"], "B": params["B"]})
    tree = ET.fromstring(g.svg)
    assert not [e for e in tree.iter() if e.tag.endswith("script")]
    assert f"{safe}\n()" in [t.text for t in tree.iter(f"{NS}title")]
    assert g.source.count('"') % 2 == 0 and '\\"x\\"' in g.source  # the DOT text is escaped too


def test_long_labels_are_cut_in_the_box_and_whole_in_the_tooltip():
    text = " + ".join(f"sin({i}*x)" for i in range(1, 12))
    g = gc.draw(text, point={"x": 0.5})
    root_box = _groups(g.svg, "box")[-1]
    label = root_box.find(f"{NS}text").text
    assert label.endswith("…") and len(label) == 40
    assert root_box.find(f"{NS}title").text.startswith(text)


def test_large_graphs_are_drawn_with_bounded_work():
    # x is used by every term of a long sum: one shared trunk of points, not one per use and layer.
    text = " + ".join(f"sin({i}*x + y)" for i in range(150))
    g = gc.draw(gc.parse(text))
    svg = g.svg
    assert len(_groups(svg, "edge")) == len(g.edges) and len(svg) < 40 * len(text) * 10
    chain = Value(1.0)
    for _ in range(3000):
        chain = chain * 1.001
    assert len(_groups(gc.draw(chain).svg, "box")) == 3001  # iterative: no recursion limit


def test_layout_of_an_empty_and_a_one_node_graph():
    assert layout([], []).routes == []
    svg = Graph("digraph {}\n", [Shape("a", "box", ("a",))], []).svg
    assert len(_groups(svg, "box")) == 1
    g = Graph("", [Shape("a", "text", ("1",)), Shape("b", "oval", ("+",))], [Edge("a", "b", "a")], "TB")
    assert len(_groups(g.svg, "edge")) == 1


# ---- make_dot and draw return a Graph ------------------------------------------------------------

def test_make_dot_returns_a_graph_whose_text_is_the_dot():
    loss, params = _tutorial_loss()
    g = gc.make_dot(loss, params=params)
    assert isinstance(g, Graph) and str(g) == g.source and g.source.startswith("digraph {")
    assert 'label="MeanBackward0"' in g and "PowBackward0" in g  # as when make_dot returned text
    svg = g._repr_svg_()
    boxes = _groups(svg, "box")
    # W, B, five operations and the output; one arrow per parent link plus the one into the output.
    assert len(boxes) == 8 and len(_groups(svg, "edge")) == g.source.count(" -> ") == 7
    assert [t.text for t in boxes[0].iter(f"{NS}text")] == ["W", "()"]
    assert g.direction == "TB"
    assert repr(g) == "<gradcore Graph: 8 nodes, 7 edges; .source is DOT, .svg SVG>"


def test_draw_takes_values_formulas_points_and_tensors():
    g = gc.draw(WORKED, point={"x": 1, "y": 2})
    assert g.source == gc.to_dot(_worked_graph())
    assert ET.fromstring(g.svg)[0].text == f"computation graph of f = {WORKED} at x=1, y=2"
    assert gc.draw(gc.parse("x*y")).source == gc.to_dot(gc.parse("x*y"))
    loss, params = _tutorial_loss()
    assert gc.draw(loss).source == gc.make_dot(loss).source
    with pytest.raises(gc.GradcoreError, match="a point is for a formula"):
        gc.draw(Value(1.0), point={"x": 1})
    with pytest.raises(TypeError, match="expected a Value, an Expr, formula text or a Tensor"):
        gc.draw(3.0)
    with pytest.raises(gc.ParseError):
        gc.draw("x*")
    assert "draw" in gc.__all__


def test_render_and_save_write_svg_and_dot(tmp_path):
    g = gc.draw(WORKED, point={"x": 1, "y": 2})
    assert g.save(tmp_path / "g.svg").read_text() == g.svg
    assert g.save(tmp_path / "g.dot").read_text() == g.source
    written = g.render(tmp_path / "graph", format="svg")  # graphviz's naming: graph -> graph.svg
    assert written == tmp_path / "graph.svg" and ET.parse(written).getroot().tag == f"{NS}svg"
    assert g.render(tmp_path / "same.svg") == tmp_path / "same.svg"
    with pytest.raises(gc.GradcoreError, match="cannot write a graph as 'txt'"):
        g.save(tmp_path / "g.txt")
    with pytest.raises(gc.GradcoreError, match="without a suffix"):
        g.save(tmp_path / "g")


def test_png_and_pdf_need_graphviz(tmp_path, monkeypatch):
    import shutil

    g = gc.make_dot(*_tutorial_loss())
    if shutil.which("dot"):
        assert g.save(tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert g.render(tmp_path / "g", format="pdf").read_bytes()[:5] == b"%PDF-"
    monkeypatch.setattr(shutil, "which", lambda name: None)
    for name in ("g.png", "g.pdf"):
        with pytest.raises(gc.GradcoreError, match=r"needs Graphviz's `dot` program.*\.svg needs nothing"):
            g.save(tmp_path / name)
    assert not (tmp_path / "g.pdf").exists() or shutil.which("dot") is None


# ---- the command line ----------------------------------------------------------------------------

def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradcore", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_cli_graph_format_svg():
    run = _cli("graph", WORKED, "--at", "x=1,y=2", "--format", "svg")
    assert run.returncode == 0, run.stderr
    assert run.stdout == gc.draw(_worked_graph()).svg
    assert len(_groups(run.stdout, "box")) == 11 and len(_groups(run.stdout, "edge")) == 26
    run = _cli("graph", "sin(x)*x", "--format", "svg")
    assert run.returncode == 0 and "data" not in run.stdout and len(_groups(run.stdout, "oval")) == 2
    bad = _cli("graph", "x*", "--format", "svg")
    assert bad.returncode == 2 and "Traceback" not in bad.stderr and bad.stdout == ""
    assert "svg" in _cli("graph", "--help").stdout
    for fmt in ("dot", "mermaid"):  # the old formats stay
        assert _cli("graph", "x*y", "--format", fmt).returncode == 0


# ---- notebook views ------------------------------------------------------------------------------

def _cells(table_html: str) -> list[list[str]]:
    root = ET.fromstring(f"<div>{table_html}</div>")  # well-formed: every text escaped
    return [[c.text or "" for c in tr] for tr in root.iter("tr")]


def test_trace_html_shows_the_printed_tables_escaped():
    t = gc.trace(WORKED, {"x": 1, "y": 2})
    rows = _cells(t._repr_html_())
    assert rows[0] == ["node", "operation", "expression", "value"]
    assert ["v8", "cos(v7)", "cos(x + 2*y)", "0.283662"] in rows
    assert any(r[:4] == ["0", "v9", "", "(seed: d f / d f)"] for r in rows)
    assert "<p>gradient: df/dx = 6.95892, df/dy = 3.91785</p>" in t._repr_html_()
    hostile = dataclasses.replace(t, expression=HOSTILE.replace("\x01", ""))
    out = hostile._repr_html_()
    assert "<script>" not in out and html.escape("<script>") in out
    ET.fromstring(f"<div>{out}</div>")


def test_gradient_check_html():
    report = gc.check_gradient(WORKED, {"x": 1, "y": 2})
    out = report._repr_html_()
    rows = _cells(out)
    assert rows[0] == ["", "autograd", "sympy (exact)", "central diff.", "|AD - sympy|", "|AD - FD|", ""]
    printed = [line.split() for line in str(report).splitlines()[2:4]]
    assert rows[1:] == printed and rows[1][0] == "df/dx" and rows[1][-1] == "ok"
    assert "<p>passed: the three methods agree</p>" in out
    assert "<caption" in out and html.escape(f"gradient check of f = {WORKED}") in out
    hostile = dataclasses.replace(report, expression="<img src=x onerror=alert(1)>")
    assert "<img" not in hostile._repr_html_()
    assert "nothing to check" in gc.check_gradient("3", {})._repr_html_()


def test_optimize_result_html():
    r = gc.minimize("x**2+2*x+3")
    rows = _cells(r._repr_html_())
    assert rows[0] == ["point", "x = -1"] and rows[1] == ["value", "f = 2"]
    assert [k for k, _ in rows] == ["point", "value", "gradient norm", "classification", "iterations", "message"]
    assert rows[-1][1] == r.message
    multi = gc.minimize("x**4 - x**2", starts=4)
    out = multi._repr_html_()
    assert "distinct optima found (4 starts)" in out and ["point", "f", "found by"] in _cells(out)
    hostile = r.copy(message="<script>alert(1)</script>")
    assert "<script>" not in hostile._repr_html_() and "&lt;script&gt;" in hostile._repr_html_()


def test_compiled_expr_html_shows_its_source():
    c = gc.compile("x**2 + 2*x*y")
    out = c._repr_html_()
    root = ET.fromstring(f"<div>{out}</div>")
    assert root.find("p").text == "compiled f(x, y) = x**2 + 2*x*y"
    assert root.find("pre").text == c.source


def test_a_notebook_displays_make_dot_as_svg(tmp_path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    cells = [
        "\n".join(["import gradcore as torch",
                   "from gradcore import make_dot",
                   "from IPython.display import display",
                   "X = torch.tensor([-5.0, 5.0, 0.0, 2.0, -2.0])",
                   "Y = torch.tensor([-6.7, 10.3, -3.3, 5.0, -5.3])",
                   "W = torch.tensor(1.0, requires_grad=True)",
                   "B = torch.tensor(1.0, requires_grad=True)",
                   "loss = ((W * X + B - Y) ** 2).mean()",
                   "display(make_dot(loss, params={'W': W, 'B': B}))"]),
        "torch.draw('x**2 + 2*x*y + cos(x + 2*y)', point={'x': 1, 'y': 2})",
        "torch.trace('x*y', {'x': 1, 'y': 2})",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbformat.write(nb, tmp_path / "graph.ipynb")
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=120,
                                     resources={"metadata": {"path": str(ROOT)}})
    try:
        client.execute()
    except Exception as exc:  # noqa: BLE001 - only a kernel that cannot start is a reason to skip
        if "kernel" in type(exc).__name__.lower() or "No such kernel" in str(exc):
            pytest.skip(f"the python3 Jupyter kernel cannot start here: {exc}")
        raise

    def data(cell: int, mime: str) -> list[str]:
        outputs = nb.cells[cell].outputs
        assert not [o for o in outputs if o.output_type == "error"], outputs
        return [o.data[mime] for o in outputs if mime in o.get("data", {})]

    shown = data(0, "image/svg+xml")  # display(make_dot(...))
    assert len(shown) == 1 and len(_groups(shown[0], "box")) == 8
    drawn = data(1, "image/svg+xml")  # a Graph as a cell's value
    assert len(drawn) == 1 and len(_groups(drawn[0], "box")) == 10
    assert "<table>" in data(2, "text/html")[0]


# ---- the committed pictures ----------------------------------------------------------------------

def test_the_graph_pictures_in_docs_regenerate(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "tools" / "make_graph_pictures.py"), str(tmp_path)],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    made = sorted(p.name for p in tmp_path.glob("graph-*.svg"))
    assert made and made == sorted(p.name for p in (ROOT / "docs" / "images").glob("graph-*.svg"))
    for name in made:
        ET.parse(tmp_path / name)
        assert (tmp_path / name).read_text() == (ROOT / "docs" / "images" / name).read_text(), name
    assert re.search(r"graph-\S+\.svg", (ROOT / "docs" / "autograd.md").read_text())
