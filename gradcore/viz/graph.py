"""Pictures of a computation graph as text: Graphviz DOT and Mermaid, of a Value graph or an Expr.

No dependencies: paste the DOT into Graphviz, the Mermaid into a GitHub Markdown file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ..expr import Expr
from ..format import number
from ..ops import PRIMITIVES
from ..value import Value

__all__ = ["to_dot", "to_mermaid"]

# Binary primitives whose operands cannot be swapped: their edges say which operand is which.
_ORDERED = {"sub", "div", "pow"}
# Significant digits of the numbers in a picture: enough to recognise a value, short enough to fit a box.
DIGITS = 6


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


def to_dot(root: "Value | Expr", rankdir: str = "LR") -> str:
    """Graphviz DOT of the graph under `root`, drawn as micrograd draws it.

    Each Value is a record {label | data | grad}; each operation is a small oval between its operands
    and its result; constants are plain text. Operands of - / ** are marked a and b. An Expr gives the
    same picture without numbers. Render with: dot -Tsvg graph.dot > graph.svg
    """
    lines = ["digraph gradcore {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];']
    for n in _graph(root):
        fields = " | ".join(_dot_escape(f) for f in _box(n))
        lines.append(f'  {n.key} [shape=record, label="{{ {fields or " "} }}"];')
        if n.op:
            lines.append(f'  {n.key}_op [shape=ellipse, label="{_dot_escape(_op_text(n.op))}"];')
            for i, (is_node, a) in enumerate(n.operands):
                edge = f' [label="{"ab"[i]}"]' if n.op in _ORDERED else ""
                if is_node:
                    lines.append(f"  {a} -> {n.key}_op{edge};")
                else:
                    lines.append(f'  {n.key}_c{i} [shape=plaintext, label="{_dot_escape(a)}"];')
                    lines.append(f"  {n.key}_c{i} -> {n.key}_op{edge};")
            lines.append(f"  {n.key}_op -> {n.key};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_escape(text: str) -> str:
    # Characters with a meaning inside a DOT record label.
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def to_mermaid(root: "Value | Expr") -> str:
    """A Mermaid flowchart of the graph under `root` (GitHub renders ```mermaid blocks).

    Values are boxes with label, data and grad; operations are circles; constants are plain boxes.
    """
    lines = ["flowchart LR"]
    for n in _graph(root):
        lines.append(f'  {n.key}["{_mermaid_escape("<br/>".join(_box(n)) or " ")}"]')
        if n.op:
            lines.append(f'  {n.key}_op(("{_mermaid_escape(_op_text(n.op))}"))')
            for i, (is_node, a) in enumerate(n.operands):
                edge = f'-->|{"ab"[i]}|' if n.op in _ORDERED else "-->"
                if is_node:
                    lines.append(f"  {a} {edge} {n.key}_op")
                else:
                    lines.append(f'  {n.key}_c{i}["{_mermaid_escape(a)}"] {edge} {n.key}_op')
            lines.append(f"  {n.key}_op --> {n.key}")
    return "\n".join(lines) + "\n"


def _mermaid_escape(text: str) -> str:
    # Keep the <br/> line breaks; escape the characters Mermaid would read as markup.
    parts = text.split("<br/>")
    return "<br/>".join(p.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;")
                        .replace(">", "#gt;") for p in parts)
