"""The trace table of reverse mode: every forward node and every chain-rule step of the backward pass.

`trace(expr, point)` records the very sweep `Value.backward()` runs, so its adjoints are backward()'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping

from ..expr import F as SYMBOLIC, ONE, Expr, raw, var
from ..format import html_table, number, point as point_text
from ..ops import PRIMITIVES
from ..parse import as_formula
from ..value import FAST_FLOAT, Value, build_nodes, not_differentiable, topological_order
from .graph import DIGITS  # the printed table rounds as the pictures do; its rows keep full floats

__all__ = ["trace", "Trace", "ForwardRow", "BackwardRow"]


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

    def _forward_rows(self) -> list[tuple]:
        return [(r.node, r.operation, r.expression, number(r.value, DIGITS)) for r in self.forward]

    def _backward_rows(self) -> list[tuple]:
        rows = []
        for r in self.backward:
            if r.step == 0:
                rows.append(("0", r.node, "", "(seed: d f / d f)", "", "", number(r.adjoint, DIGITS)))
            else:
                rows.append((str(r.step), r.node, r.source, r.local_formula, number(r.local, DIGITS),
                             number(r.upstream, DIGITS), number(r.adjoint, DIGITS)))
        return rows

    def _lines(self) -> tuple[str, str, str]:
        """The title of the forward table, of the backward table, and the gradient line."""
        at = point_text(self.point, DIGITS, sep="=") or "(no variables)"
        partials = ((f"df/d{k}", v) for k, v in self.gradient.items())
        return (f"forward pass: f = {self.expression} at {at}",
                "backward pass, in execution order (adjoint of a node = d f / d node):",
                "gradient: " + (point_text(partials, DIGITS) or "none (f has no variables)"))

    def __str__(self) -> str:
        forward, backward, gradient = self._lines()
        out = [forward, *_table(*_FORWARD, self._forward_rows()), ""]
        out += [backward, *_table(*_BACKWARD, self._backward_rows()), ""]
        out.append(gradient)
        return "\n".join(out)

    def _repr_html_(self) -> str:
        """The same two tables as print shows, as HTML for a notebook (every text escaped)."""
        forward, backward, gradient = self._lines()
        (fh, fr), (bh, br) = _FORWARD, _BACKWARD
        return "\n".join([html_table(fh, self._forward_rows(), forward, fr),
                          html_table(bh, self._backward_rows(), backward, br, notes=[gradient])])


# The header and the right-aligned (number) columns of each table, for print and for notebooks.
_FORWARD = (["node", "operation", "expression", "value"], {3})
_BACKWARD = (["step", "node", "from", "local derivative", "= value", "upstream", "adjoint"], {0, 4, 5, 6})


def _table(header: list[str], right: set[int], rows: list[tuple]) -> list[str]:
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
    args = [_named(a, built, names) for a in node.args]
    out = var(names[id(built[node])])
    return PRIMITIVES[node.op].vjps[i](SYMBOLIC, ONE, out, *args)
