"""Pictures of a computation graph, of a Value graph or an Expr: Graphviz DOT, Mermaid, and `draw`'s
Graph, which gradcore draws as SVG itself. One walk and one list of shapes feed all three.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping

from ..errors import GradcoreError
from ..expr import Expr
from ..format import number, point as number_point
from ..ops import PRIMITIVES
from ..parse import as_formula
from ..value import Value, build
from .svg import Edge, Graph, Shape

__all__ = ["to_dot", "to_mermaid", "draw"]

# Binary primitives whose operands cannot be swapped: their edges say which operand is which.
_ORDERED = {"sub", "div", "pow"}
# Significant digits of the numbers in a picture: enough to recognise a value, short enough to fit a box.
DIGITS = 6
# Fills of the SVG picture, in torchviz's colours: inputs blue, the result green, operations grey.
_INPUT, _OUTPUT, _OPERATION = "#dbeafe", "#d9f99d", "#eeeeee"


@dataclass
class _Node:
    """One node of a drawing: a Value (or Expr) with its label, numbers, and operation."""

    key: str
    label: str
    data: float | None
    grad: float | None
    op: str  # primitive name, '' for a leaf
    operands: list[tuple[bool, str]]  # (True, key of an operand node) or (False, a constant's text)


def _graph_of_value(root: Value) -> list[_Node]:
    """Nodes under `root`, operands before the nodes that use them (an iterative post-order)."""
    order: list[Value] = []
    done: set[int] = set()
    expanded: set[int] = set()
    stack = [root]
    while stack:
        v = stack.pop()
        if id(v) in done:
            continue
        parents = [a for a in v.operands if isinstance(a, Value)]
        if id(v) in expanded or not parents:
            done.add(id(v))
            order.append(v)
            continue
        expanded.add(id(v))
        stack.append(v)
        stack.extend(p for p in reversed(parents) if id(p) not in done)
    keys = {id(v): f"n{i}" for i, v in enumerate(order)}
    return [_Node(keys[id(v)], v.label, v.data, v.grad, v.op,
                  [(True, keys[id(a)]) if isinstance(a, Value) else (False, number(a, DIGITS))
                   for a in v.operands])
            for v in order]


def _graph_of_expr(root: Expr) -> list[_Node]:
    """Nodes of an expression without numbers: variables and operations (constants stay inline)."""
    nodes = [n for n in root.nodes() if n.op != "const"]
    keys = {n: f"n{i}" for i, n in enumerate(nodes)}
    out = []
    for n in nodes:
        operands = [(False, str(a)) if a.op == "const" else (True, keys[a]) for a in n.args]
        out.append(_Node(keys[n], str(n), None, None, "" if n.op == "var" else n.op, operands))
    if root.op == "const":
        out.append(_Node("n0", str(root), root.value, None, "", []))
    return out


def _graph(obj: Any) -> list[_Node]:
    if isinstance(obj, Value):
        return _graph_of_value(obj)
    if isinstance(obj, Expr):
        return _graph_of_expr(obj)
    raise TypeError(f"expected a Value or an Expr, got {type(obj).__name__}")


def _box(n: _Node) -> list[str]:
    """What a node's box shows, in both pictures: its label, then data and grad when known."""
    fields = [n.label] if n.label else []
    if n.data is not None:
        fields.append(f"data {number(n.data, DIGITS)}")
    if n.grad is not None:
        fields.append(f"grad {number(n.grad, DIGITS)}")
    return fields


def _op_text(op: str) -> str:
    return PRIMITIVES[op].symbol or op


def _elements(nodes: list[_Node]) -> Iterator["Shape | Edge"]:
    """The shapes and arrows of the picture, in the order the DOT and Mermaid texts list them.

    Each Value is a box {label | data | grad}; each operation an oval between its operands and its
    result; a constant is plain text with an arrow into the operation that uses it.
    """
    for n in nodes:
        fill = _OUTPUT if n is nodes[-1] else _INPUT if not n.op else "white"
        yield Shape(n.key, "box", tuple(_box(n)), fill)
        if n.op:
            yield Shape(f"{n.key}_op", "oval", (_op_text(n.op),), _OPERATION)
            for i, (is_node, a) in enumerate(n.operands):
                label = "ab"[i] if n.op in _ORDERED else ""
                if not is_node:
                    yield Shape(f"{n.key}_c{i}", "text", (a,))
                    a = f"{n.key}_c{i}"
                yield Edge(a, f"{n.key}_op", label)
            yield Edge(f"{n.key}_op", n.key)


def _dot(elements: Iterable["Shape | Edge"], rankdir: str = "LR") -> str:
    lines = ["digraph gradcore {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];']
    for el in elements:
        if isinstance(el, Edge):
            label = f' [label="{_dot_escape(el.label)}"]' if el.label else ""
            lines.append(f"  {el.source} -> {el.target}{label};")
        elif el.kind == "box":
            fields = " | ".join(_dot_escape(f) for f in el.lines)
            lines.append(f'  {el.key} [shape=record, label="{{ {fields or " "} }}"];')
        else:
            shape = "ellipse" if el.kind == "oval" else "plaintext"
            lines.append(f'  {el.key} [shape={shape}, label="{_dot_escape(el.lines[0])}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_dot(root: "Value | Expr", rankdir: str = "LR") -> str:
    """Graphviz DOT of the graph under `root`, drawn as micrograd draws it.

    Each Value is a record {label | data | grad}; each operation is a small oval between its operands
    and its result; constants are plain text. Operands of - / ** are marked a and b. An Expr gives the
    same picture without numbers. Render with: dot -Tsvg graph.dot > graph.svg
    """
    return _dot(_elements(_graph(root)), rankdir)


def draw(obj: "Value | Expr | str | Any", point: Mapping[str, float] | None = None) -> Graph:
    """The computation graph of `obj` as a picture (a Graph: SVG in a notebook, DOT in `.source`).

    A Value is drawn as it stands: label, data and grad of every node (grads are there after
    backward()). A formula (an Expr or its text) is drawn without numbers, or, given `point`,
    evaluated and backpropagated there on a graph of its own, so every box shows data and grad =
    d f / d node. A Tensor is drawn as make_dot draws it. Drawing changes no value and no gradient.
    """
    if isinstance(obj, str):
        obj = as_formula(obj, "draw")
    if point is not None:
        if not isinstance(obj, Expr):
            raise GradcoreError("draw: a point is for a formula; a Value already holds its numbers")
        at = number_point(point, DIGITS, sep="=")
        obj, _ = build(obj, point, labels=True)
        if obj.requires_grad:
            obj.backward()
        title = f"computation graph of f = {obj.label}" + (f" at {at}" if at else "")
    elif isinstance(obj, Expr):
        title = f"computation graph of f = {obj}"
    elif isinstance(obj, Value):
        title = f"computation graph of {obj.label or 'a Value'}"
    else:
        from ..tensors import Tensor  # the Tensor picture needs the numpy engine; the others do not
        if not isinstance(obj, Tensor):
            raise TypeError(f"draw: expected a Value, an Expr, formula text or a Tensor, got {type(obj).__name__}")
        from .tensor_graph import make_dot
        return make_dot(obj)
    elements = list(_elements(_graph(obj)))
    return Graph(_dot(elements), [e for e in elements if isinstance(e, Shape)],
                 [e for e in elements if isinstance(e, Edge)], "LR", title[:200])


def _dot_escape(text: str) -> str:
    # Characters with a meaning inside a DOT record label.
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def to_mermaid(root: "Value | Expr") -> str:
    """A Mermaid flowchart of the graph under `root` (GitHub renders ```mermaid blocks).

    Values are boxes with label, data and grad; operations are circles; constants are plain boxes.
    """
    lines = ["flowchart LR"]
    constant = ""  # a constant is written where its arrow is
    for el in _elements(_graph(root)):
        if isinstance(el, Edge):
            arrow = f"-->|{el.label}|" if el.label else "-->"
            lines.append(f"  {constant or el.source} {arrow} {el.target}")
            constant = ""
        elif el.kind == "text":
            constant = f'{el.key}["{_mermaid_escape(el.lines[0])}"]'
        elif el.kind == "oval":
            lines.append(f'  {el.key}(("{_mermaid_escape(el.lines[0])}"))')
        else:
            lines.append(f'  {el.key}["{_mermaid_escape("<br/>".join(el.lines)) or " "}"]')
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    # Keep the <br/> line breaks; escape the characters Mermaid would read as markup.
    parts = text.split("<br/>")
    return "<br/>".join(p.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
                        .replace(">", "#gt;") for p in parts)
