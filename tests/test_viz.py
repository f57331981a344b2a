"""Tests of the teaching views: DOT and Mermaid pictures, and the trace table of reverse mode."""

from __future__ import annotations

import json
import re

import pytest

import gradcore as gc
from gradcore.value import Value, build
from gradcore.viz import BackwardRow, ForwardRow, Trace, to_dot, to_mermaid, trace

WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"


def _worked_graph():
    root, inputs = build(gc.parse(WORKED), {"x": 1.0, "y": 2.0}, labels=True)
    root.backward()
    return root, inputs


def test_dot_has_a_record_per_value_and_an_oval_per_operation():
    root, _ = _worked_graph()
    dot = to_dot(root)
    assert dot.startswith("digraph gradcore {\n  rankdir=LR;\n") and dot.endswith("}\n")
    records = re.findall(r'^  (n\d+) \[shape=record, label="\{ (.*) \}"\];$', dot, re.M)
    labels = [label for _, label in records]
    # 2 inputs + 9 operations; constants are not Values, so they are plain text, not records.
    assert len(records) == 11
    assert "x | data 1 | grad 6.95892" in labels and "y | data 2 | grad 3.91785" in labels
    assert "cos(x + 2*y) | data 0.283662 | grad 1" in labels
    assert f"{WORKED} | data 8.28366 | grad 1" in labels
    assert len(re.findall(r"shape=ellipse", dot)) == 9
    assert re.search(r'n\d+_op \[shape=ellipse, label="cos"\];', dot)
    assert len(re.findall(r"shape=plaintext", dot)) == 4  # 2 in 2*x, 3, 2 in 2*y
    # ** has ordered operands: base a, exponent b.
    assert re.search(r'n0 -> n1_op \[label="a"\];', dot) and re.search(r'n1_c1 -> n1_op \[label="b"\];', dot)
    assert dot.count("{") == dot.count("}")


def test_dot_of_a_value_without_labels_and_of_an_expr():
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    dot = to_dot(c)
    assert '[shape=record, label="{ data 3 | grad 24 }"];' in dot
    assert dot.count(" -> n1_op;") == 2  # a + a: two edges from the same node (the diamond)
    expr_dot = to_dot(gc.parse(WORKED))
    assert '[shape=record, label="{ x }"];' in expr_dot and "data" not in expr_dot


def test_dot_escapes_record_characters():
    v = Value(1.0, label='a{b}|"c"<d>')
    assert r'label="{ a\{b\}\|\"c\"\<d\> | data 1 | grad 0 }"' in to_dot(v)


def test_mermaid():
    root, _ = _worked_graph()
    text = to_mermaid(root)
    assert text.startswith("flowchart LR\n")
    assert '["x<br/>data 1<br/>grad 6.95892"]' in text
    assert re.search(r'n\d+_op\(\("cos"\)\)', text)
    assert re.search(r'n\d+_c1\["3"\] --> n\d+_op', text)
    assert "-->|a|" in text and "-->|b|" in text
    v = Value(2.0, label='say "hi" <now>')
    assert 'say #quot;hi#quot; #lt;now#gt;<br/>data 2' in to_mermaid(v)
    with pytest.raises(TypeError, match="expected a Value or an Expr"):
        to_mermaid(3.0)


def test_trace_of_the_worked_example():
    t = trace(WORKED, {"x": 1, "y": 2})
    assert isinstance(t, Trace) and t.expression == WORKED and t.point == {"x": 1.0, "y": 2.0}
    assert t.forward[:2] == (ForwardRow("x", "input", "x", 1.0), ForwardRow("y", "input", "y", 2.0))
    ops = [(r.node, r.operation) for r in t.forward[2:]]
    assert ops == [("v1", "x**2"), ("v2", "2*x"), ("v3", "v2*y"), ("v4", "v1 + v3"), ("v5", "v4 + 3"),
                   ("v6", "2*y"), ("v7", "x + v6"), ("v8", "cos(v7)"), ("v9", "v5 + v8")]
    assert t.forward[-1].value == 8.283662185463227
    assert t.backward[0] == BackwardRow(0, "v9", "", "", None, None, 1.0)
    cos_row = next(r for r in t.backward if r.source == "v8")
    assert cos_row.node == "v7" and cos_row.local_formula == "dv8/dv7 = -sin(v7)"
    assert cos_row.local == pytest.approx(0.9589242746631385, rel=1e-15) and cos_row.upstream == 1.0
    # The last contribution to x completes df/dx.
    x_rows = [r for r in t.backward if r.node == "x"]
    assert [r.source for r in x_rows] == ["v7", "v1", "v2"]
    assert x_rows[-1].adjoint == 6.958924274663138
    assert t.gradient == {"x": 6.958924274663138, "y": 3.917848549326277}
    # Every step is local * upstream added to the node's running adjoint.
    running = {}
    for r in t.backward[1:]:
        running[r.node] = running.get(r.node, 0.0) + r.local * r.upstream
        assert r.adjoint == running[r.node]


def test_trace_reproduces_backward_bit_for_bit():
    text = "sin(x*y)*sin(x*y) + exp(x)/y - sqrt(x**2 + y**2)"
    point = {"x": 0.7, "y": -1.3}
    root, inputs = build(gc.parse(text), point)
    root.backward()
    t = trace(text, point)
    assert t.gradient == {n: v.grad for n, v in inputs.items()}


def test_trace_text():
    text = str(trace(WORKED, {"x": 1, "y": 2}))
    lines = text.splitlines()
    assert lines[0] == f"forward pass: f = {WORKED} at x=1, y=2"
    assert lines[1].split() == ["node", "operation", "expression", "value"]
    assert lines[-1] == "gradient: df/dx = 6.95892, df/dy = 3.91785"
    assert "backward pass, in execution order (adjoint of a node = d f / d node):" in lines
    assert any(re.fullmatch(r"\s+0  v9\s+\(seed: d f / d f\)\s+1", line) for line in lines)


def test_trace_names_do_not_clash_with_variables_and_diamonds_show_two_contributions():
    t = trace("(v1 + v1)*(v1 + v1)", {"v1": 3.0})
    assert [r.node for r in t.forward] == ["v1", "w1", "w2"]
    assert [r.operation for r in t.forward[1:]] == ["v1 + v1", "w1*w1"]
    assert [(r.node, r.source, r.adjoint) for r in t.backward[1:]] == [
        ("w1", "w2", 6.0), ("w1", "w2", 12.0), ("v1", "w1", 12.0), ("v1", "w1", 24.0)]
    assert t.gradient == {"v1": 24.0}


def test_trace_to_dict_and_edge_cases():
    d = trace("x*y", {"x": 2, "y": 3}).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["gradient"] == {"x": 3.0, "y": 2.0}
    assert d["forward"][2] == {"node": "v1", "operation": "x*y", "expression": "x*y", "value": 6.0}
    leaf = trace("x", {"x": 5})
    assert leaf.gradient == {"x": 1.0} and len(leaf.backward) == 1
    const = trace("2*pi", {})
    assert const.gradient == {} and const.backward == ()
    assert "gradient: none (f has no variables)" in str(const)
    with pytest.raises(gc.DomainError, match=r"sqrt\(0\) has no derivative.* at x=0$"):
        trace("sqrt(x)", {"x": 0})


def test_the_mermaid_picture_in_the_autograd_tutorial_is_current():
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "autograd.md").read_text()
    shown = doc.split("```mermaid\n", 1)[1].split("```", 1)[0]
    root, _ = _worked_graph()
    assert shown == to_mermaid(root)
