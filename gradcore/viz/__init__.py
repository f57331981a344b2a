"""Teaching views of a computation graph: Graphviz DOT, Mermaid, and a step-by-step trace table.

Text only, no new dependencies: paste the DOT into Graphviz, the Mermaid into a GitHub Markdown file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..expr import Expr, raw, var
from ..ops import PRIMITIVES
from ..value import FAST_FLOAT, Value, build_nodes, not_differentiable, topological_order

__all__ = ["to_dot", "to_mermaid", "trace", "Trace", "ForwardRow", "BackwardRow"]

# Binary primitives whose operands cannot be swapped: their edges say which operand is which.
_ORDERED = {"sub", "div", "pow"}


def _num(v: float) -> str:
    return f"{v:.6g}"


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
                  [(True, keys[id(a)]) if isinstance(a, Value) else (False, _num(a)) for a in v.operands])
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


def _op_text(op: str) -> str:
    return PRIMITIVES[op].symbol or op


def to_dot(root: "Value | Expr", rankdir: str = "LR") -> str:
    """Graphviz DOT of the graph under `root`, drawn as micrograd draws it.

    Each Value is a record {label | data | grad}; each operation is a small oval between its operands
    and its result; constants are plain text. Operands of - / ** are marked a and b. An Expr gives the
    same picture without numbers. Render with: dot -Tsvg graph.dot > graph.svg
    """
    nodes = _graph(root)
    lines = ["digraph gradcore {", f"  rankdir={rankdir};",
             '  node [fontname="Helvetica", fontsize=11];', '  edge [fontname="Helvetica", fontsize=9];']
    for n in nodes:
        fields = " | ".join(_dot_escape(f) for f in _fields(n))
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


def _fields(n: _Node) -> list[str]:
    """What a node's box shows, in both pictures: its label, then data and grad when known."""
    fields = [n.label] if n.label else []
    if n.data is not None:
        fields.append(f"data {_num(n.data)}")
    if n.grad is not None:
        fields.append(f"grad {_num(n.grad)}")
    return fields


def _dot_escape(text: str) -> str:
    # Characters with a meaning inside a DOT record label.
    return re.sub(r'([{}|<>"\\])', r"\\\1", text)


def to_mermaid(root: "Value | Expr") -> str:
    """A Mermaid flowchart of the graph under `root` (GitHub renders ```mermaid blocks).

    Values are boxes with label, data and grad; operations are circles; constants are plain boxes.
    """
    nodes = _graph(root)
    lines = ["flowchart LR"]
    for n in nodes:
        lines.append(f'  {n.key}["{_mermaid_escape("<br/>".join(_fields(n)) or " ")}"]')
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


# ---- the trace table ------------------------------------------------------------------------

@dataclass(frozen=True)
class ForwardRow:
    """One node of the forward pass: its name, how it is computed from earlier names, its value."""

    node: str
    operation: str
    expression: str
    value: float


@dataclass(frozen=True)
class BackwardRow:
    """One step of the backward pass: `node` receives local * upstream from its consumer `source`.

    local is d source / d node (its formula in node names, and its value); upstream is source's
    adjoint; adjoint is node's adjoint after adding this contribution. Step 0 seeds the output with 1.
    """

    step: int
    node: str
    source: str
    local_formula: str
    local: float | None
    upstream: float | None
    adjoint: float


@dataclass(frozen=True)
class Trace:
    """The forward and backward passes of reverse mode on `expression` at `point`, row by row."""

    expression: str
    point: dict[str, float]
    forward: tuple[ForwardRow, ...]
    backward: tuple[BackwardRow, ...]
    gradient: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"expression": self.expression, "point": dict(self.point),
                "forward": [vars(r) for r in self.forward],
                "backward": [vars(r) for r in self.backward],
                "gradient": dict(self.gradient)}

    def __str__(self) -> str:
        at = ", ".join(f"{k}={_num(v)}" for k, v in self.point.items()) or "(no variables)"
        out = [f"forward pass: f = {self.expression} at {at}"]
        out += _table(["node", "operation", "expression", "value"],
                      [(r.node, r.operation, r.expression, _num(r.value)) for r in self.forward],
                      right={3})
        out.append("")
        out.append("backward pass, in execution order (adjoint of a node = d f / d node):")
        rows = []
        for r in self.backward:
            if r.step == 0:
                rows.append(("0", r.node, "", "(seed: d f / d f)", "", "", _num(r.adjoint)))
            else:
                rows.append((str(r.step), r.node, r.source, r.local_formula, _num(r.local),
                             _num(r.upstream), _num(r.adjoint)))
        out += _table(["step", "node", "from", "local derivative", "= value", "upstream", "adjoint"],
                      rows, right={0, 4, 5, 6})
        out.append("")
        out.append("gradient: " + (", ".join(f"df/d{k} = {_num(v)}" for k, v in self.gradient.items())
                                   or "none (f has no variables)"))
        return "\n".join(out)


def _table(header: list[str], rows: list[tuple], right: set[int]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for r in [header, *rows]:
        cells = [str(c).rjust(w) if i in right else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        lines.append("  ".join(cells).rstrip())
    return lines


def trace(expr: "Expr | str", point: Mapping[str, float]) -> Trace:
    """Run reverse mode on `expr` at `point` and record every step, so the chain rule can be followed.

    Forward: each node, the operation that makes it from earlier nodes, and its value. Backward, in
    the order backward() runs: for each node n and each operand u of n, the table rule gives the
    local derivative dn/du, and u's adjoint grows by local * adjoint(n). The recorded adjoints are the
    ones backward() computes, bit for bit.
    """
    from ..parse import as_formula

    expr = as_formula(expr, "trace")
    built, inputs = build_nodes(expr, point, labels=True)
    env = {n: v.data for n, v in inputs.items()}

    # Names: variables keep theirs; computed nodes are v1, v2, ... (another letter if those clash).
    prefix = next(p for p in ("v", "w", "t", "u", "node") if not any(
        re.fullmatch(rf"{p}\d+", name) for name in expr.variables))
    names: dict[int, str] = {id(v): n for n, v in inputs.items()}
    expr_of: dict[int, Expr] = {}
    forward = [ForwardRow(n, "input", n, v.data) for n, v in inputs.items()]
    for node in expr.nodes():
        v = built[node]
        if not isinstance(v, Value) or id(v) in names:
            continue  # constants (folded ones too, like 2*pi) and the inputs
        names[id(v)] = f"{prefix}{len(names) - len(inputs) + 1}"
        expr_of[id(v)] = node
        forward.append(ForwardRow(names[id(v)], str(_in_names(node, built, names)), str(node), v.data))

    root = built[expr]
    if not isinstance(root, Value):
        forward.append(ForwardRow(f"{prefix}1", "constant", str(expr), root))
    backward: list[BackwardRow] = []
    gradient = {n: 0.0 for n in inputs}
    if isinstance(root, Value) and root.requires_grad:
        adjoint = {id(root): 1.0}
        backward.append(BackwardRow(0, names[id(root)], "", "", None, None, 1.0))
        for v in topological_order(root):
            if v._op is None:
                continue
            g = adjoint[id(v)]
            operands = v.operands
            vals = [a.data if isinstance(a, Value) else a for a in operands]
            node_expr = expr_of[id(v)]
            for i, (a, rule) in enumerate(zip(operands, v.primitive.vjps)):
                if not isinstance(a, Value):
                    continue
                try:
                    local = rule(FAST_FLOAT, 1.0, v.data, *vals)
                    adjoint[id(a)] = adjoint.get(id(a), 0.0) + rule(FAST_FLOAT, g, v.data, *vals)
                except (ArithmeticError, ValueError) as exc:
                    raise not_differentiable(v, exc).at(env) from None
                formula = _local_formula(node_expr, i, built, names)
                backward.append(BackwardRow(len(backward), names[id(a)], names[id(v)],
                                            f"d{names[id(v)]}/d{names[id(a)]} = {formula}",
                                            local, g, adjoint[id(a)]))
        gradient = {n: adjoint.get(id(v), 0.0) for n, v in inputs.items()}
    return Trace(str(expr), env, tuple(forward), tuple(backward), gradient)


def _named(arg: Expr, built: dict, names: dict[int, str]) -> Expr:
    """The operand `arg` as the trace names it: a variable for a node, itself for a constant."""
    if not isinstance(built[arg], Value):
        return arg  # a constant, or a subexpression of constants such as 2*pi
    return var(names[id(built[arg])])


def _in_names(node: Expr, built: dict, names: dict[int, str]) -> Expr:
    return raw(node.op, *[_named(a, built, names) for a in node.args])


def _local_formula(node: Expr, i: int, built: dict, names: dict[int, str]) -> Expr:
    """The table's rule for operand i of `node`, with g = 1, as a formula in the trace's names."""
    from ..expr import F, ONE

    args = [_named(a, built, names) for a in node.args]
    out = var(names[id(built[node])])
    return PRIMITIVES[node.op].vjps[i](F, ONE, out, *args)
