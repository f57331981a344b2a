"""The sections of an explain page that read a formula at one point: the formula and its partials in
MathML with their derivations, the computation graph, the trace tables, the generated adjoint code and
the three-way check. Each returns HTML in which every text taken from the formula is escaped.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence

from ..check import AD_ATOL, AD_RTOL, FD_ATOL, FD_RTOL, check_gradient
from ..codegen import compile as compile_expr
from ..derivation import derivation
from ..errors import GradcoreError
from ..expr import Expr, simplify
from ..format import number
from ..printing import mathml_name, to_mathml, to_text
from .graph import DIGITS, draw
from .svg import _text as escape
from .trace import Trace, trace

__all__ = ["escape", "table", "error_note", "formula_section", "graph_section", "trace_section",
           "code_section", "check_section", "node_keys"]


def table(caption: str, header: Sequence[str], rows: Iterable[tuple[dict[str, str], Sequence[str]]],
          numeric: Iterable[int] = ()) -> str:
    """An HTML table with header cells; each row is (its attributes, its cells as ready HTML).

    The caption and header are plain text (escaped here); the cells are HTML their caller escaped."""
    right = set(numeric)

    def cls(i: int) -> str:
        return ' class="num"' if i in right else ""

    out = ["<table>", f"<caption>{escape(caption)}</caption>" if caption else "",
           "<thead><tr>" + "".join(f'<th scope="col"{cls(i)}>{escape(h)}</th>' for i, h in enumerate(header))
           + "</tr></thead><tbody>"]
    for attrs, cells in rows:
        a = "".join(f' {k}="{escape(v)}"' for k, v in attrs.items())
        out.append(f"<tr{a}>" + "".join(f"<td{cls(i)}>{c}</td>" for i, c in enumerate(cells)) + "</tr>")
    out.append("</tbody></table>")
    return f'<div class="scroll" tabindex="0" role="region" aria-label="{escape(caption or "table")}">' \
           + "".join(out) + "</div>"


def error_note(what: str, exc: Exception) -> str:
    """What a section says when it cannot be drawn at this point: the error's own message, escaped."""
    return f'<p class="error" role="note">{escape(what)} cannot be shown here: {escape(str(exc))}</p>'


def _math(fragment: str, display: bool = False) -> str:
    block = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{block}>{fragment}</math>'


def _d(variable: str, partial: bool, inner: str = "") -> str:
    """d/dv (or the partial ∂/∂v) in MathML, applied to `inner` in brackets when it is given."""
    d = "<mo>&#x2202;</mo>" if partial else "<mi>d</mi>"
    op = f"<mfrac>{d}<mrow>{d}{mathml_name(variable)}</mrow></mfrac>"
    return op + (f"<mrow><mo>[</mo>{inner}<mo>]</mo></mrow>" if inner else "")


def _lhs(variable: str, partial: bool) -> str:
    d = "<mo>&#x2202;</mo>" if partial else "<mi>d</mi>"
    return f"<mfrac><mrow>{d}<mi>f</mi></mrow><mrow>{d}{mathml_name(variable)}</mrow></mfrac>"


# Characters of MathML one derivation may take on the page; past it the remaining steps are summed up.
STEPS_BUDGET = 40_000


def _steps(expr: Expr, variable: str, partial: bool) -> tuple[Expr, str]:
    """The derivative (canonical form) and its derivation as an ordered list of rules, in MathML."""
    try:
        d = derivation(expr, variable)
    except GradcoreError as exc:  # too many steps to read: the derivative alone
        return simplify(expr.diff(variable)), error_note("The step-by-step derivation", exc)
    # The derivation's placeholders, spelled d/dv[node] as its LaTeX view spells them.
    atoms = {p: _d(variable, partial, to_mathml(node, shared=None, element=False))
             for p, node in d._pending.items()}

    def show(e: Expr) -> str:
        return to_mathml(e, shared=True, atoms=atoms, element=False)

    items, size = [], 0
    for k, step in enumerate(d.steps):
        if size > STEPS_BUDGET:
            items.append(f'<li class="note">… and {len(d.steps) - k} more steps, not shown to keep the page '
                         f'small: <code>gradcore diff --var {escape(variable)} --steps</code> prints them all.</li>')
            break
        line = (f'<span class="rule">{escape(step.rule)}</span>: '
                + _math(_d(variable, partial, to_mathml(step.target, shared=None, element=False))
                        + "<mo>=</mo>" + show(step.derivative)))
        if step.result is not step.derivative:  # the whole expression, when the step did not rewrite it all
            line += "<br>so the whole is now " + _math(show(step.result))
        items.append(f'<li><div class="step">{line}</div></li>')
        size += len(line)
    head = _math(_d(variable, partial, to_mathml(expr, shared=None, element=False)), display=True)
    n = len(d.steps)
    counted = "1 step, one rule of the table" if n == 1 else f"{n} steps, one rule of the table each"
    body = (f"<details><summary>How it is derived: {counted}"
            f"</summary>{head}<ol class=\"steps\">{''.join(items)}</ol></details>")
    return d.result, body


def formula_section(expr: Expr, point: Mapping[str, float], value: float | None) -> str:
    """The formula, where it is read, and each partial derivative with its derivation."""
    names = "<mo>,</mo>".join(mathml_name(v) for v in expr.variables)
    lhs = f"<mi>f</mi><mo>&#x2061;</mo><mrow><mo>(</mo>{names}<mo>)</mo></mrow>" if names else "<mi>f</mi>"
    out = [f'<div class="formula">{_math(lhs + "<mo>=</mo>" + to_mathml(expr, shared=None, element=False), True)}</div>',
           f'<p>As typed: <code>{escape(str(expr))}</code>.</p>']
    if point:
        at = ", ".join(f"{v} = {number(x, DIGITS)}" for v, x in point.items())
        there = "" if value is None else f", where f = {number(value, DIGITS)}"
        out.append(f"<p>Read at the point {escape(at)}{escape(there)}.</p>")
    partial = len(expr.variables) > 1
    if not expr.variables:
        out.append("<p>f has no variables: it is a constant, and every derivative is 0.</p>")
    for v in expr.variables:
        result, steps = _steps(expr, v, partial)
        name = "The partial derivative" if partial else "The derivative"
        out.append(f"<h3>{name} with respect to {escape(v)}</h3>")
        out.append(f'<div class="formula">{_math(_lhs(v, partial) + "<mo>=</mo>" + to_mathml(result, shared=True, element=False), True)}</div>')
        out.append(steps)
    return "\n".join(out)


# The narrowest the graph picture is shrunk to, in CSS pixels (about 0.6 of its drawn size).
GRAPH_MIN_WIDTH = 640


def node_keys(graph: Any) -> dict[str, str]:
    """The id of each value's box in the graph picture, by the text of the subexpression it holds."""
    return {s.lines[0]: f"node-{s.key}" for s in graph.shapes if s.kind == "box" and s.lines}


def graph_section(expr: Expr, point: Mapping[str, float]) -> tuple[str, dict[str, str]]:
    """The computation graph drawn by gradcore, every node with its value (data) and adjoint (grad);
    and the ids of its boxes, so the tables below can link to them."""
    graph = draw(expr, point)
    shapes = iter(graph.shapes)
    lines = []
    for line in graph.svg.splitlines():
        m = re.match(r'<g class="(box|oval|text)">', line)
        if m:  # the shapes are drawn in their list's order: give each group its node's id
            line = f'<g class="{m.group(1)}" id="node-{next(shapes).key}">' + line[m.end():]
        elif line.startswith("<svg "):
            # As wide as the column allows, never wider than drawn, and never so narrow that the boxes'
            # text is too small to read: a narrow screen scrolls the picture instead.
            width = float(re.search(r'width="([\d.]+)"', line).group(1))
            style = f"width:100%;height:auto;max-width:{width:.0f}px;min-width:{min(width, GRAPH_MIN_WIDTH):.0f}px"
            line = f'<svg class="graph" style="{style}" ' + line[5:]
        lines.append(line)
    operations = sum(s.kind == "oval" for s in graph.shapes)
    text = ("<p>Each box is a value of the forward pass: the subexpression it computes, its value "
            "(data) and its adjoint (grad), the derivative of f with respect to it. Each oval is one "
            f"operation ({operations} here); the arrows run forward, and the backward pass runs them in "
            "reverse. Blue boxes are the inputs, the green one is f.</p>")
    return text + f'<div class="scroll" tabindex="0" role="region" aria-label="the computation graph">' \
                  f'{chr(10).join(lines)}</div>', node_keys(graph)


def _link(name: str, key: str | None) -> str:
    return f'<a href="#{key}">{escape(name)}</a>' if key else escape(name)


def trace_section(t: Trace, keys: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """The forward and backward tables, each row linked to its node; and each trace name's node id."""
    by_name = {r.node: keys.get(r.expression) for r in t.forward}
    forward = []
    for r in t.forward:
        attrs = {"id": f"fwd-{r.node}"}
        if by_name[r.node]:
            attrs["data-node"] = by_name[r.node]
        forward.append((attrs, [_link(r.node, by_name[r.node]), f"<code>{escape(r.operation)}</code>",
                                f"<code>{escape(r.expression)}</code>", number(r.value, DIGITS)]))
    backward = []
    for r in t.backward:
        attrs = {"data-node": by_name[r.node]} if by_name.get(r.node) else {}
        if r.step == 0:
            cells = ["0", _link(r.node, by_name.get(r.node)), "", "seed: df/df = 1", "", "", number(r.adjoint, DIGITS)]
        else:
            cells = [str(r.step), _link(r.node, by_name.get(r.node)), _link(r.source, by_name.get(r.source)),
                     f"<code>{escape(r.local_formula)}</code>", number(r.local, DIGITS),
                     number(r.upstream, DIGITS), number(r.adjoint, DIGITS)]
        backward.append((attrs, cells))
    gradient = ", ".join(f"df/d{k} = {number(v, DIGITS)}" for k, v in t.gradient.items())
    out = ["<h3>Forward pass</h3>",
           "<p>Each node is computed from earlier ones, inputs first. A node's name links to its box in "
           "the graph.</p>",
           table("forward pass: each node's value", ["node", "operation", "expression", "value"], forward, {3}),
           "<h3>Backward pass</h3>",
           "<p>From f back to the inputs, in the order backward() runs: each step multiplies the local "
           "derivative (the table's rule) by the upstream adjoint and adds it to the node's adjoint.</p>",
           table("backward pass: one chain-rule step per row",
                 ["step", "node", "from", "local derivative", "= value", "upstream", "adjoint"], backward,
                 {0, 4, 5, 6}),
           f"<p>So the gradient is {escape(gradient or 'empty: f has no variables')}.</p>"]
    return "\n".join(out), by_name


_ASSIGN = re.compile(r"^(\s+)(\w+)( = .*?)(  # from (.*))?$")


def code_section(expr: Expr, t: Trace | None, keys: Mapping[str, str], trace_keys: Mapping[str, str]) -> str:
    """The generated value_and_grad, line by line: each forward temporary and each adjoint linked to its
    node, and each provenance comment's instructions linked to theirs."""
    compiled = compile_expr(expr)
    source = compiled.source
    start = source.find("def value_and_grad")
    lines = source[start:].rstrip().splitlines()
    # The forward temporaries are the trace's computed nodes in the same order (the forward pass is
    # the formula as written); a temporary is linked only when its primitive is the node's.
    nodes = {str(n): n for n in expr.nodes()}
    computed = [r for r in t.forward if r.operation not in ("input", "constant")] if t else []
    temps = [m.group(2) for m in map(_ASSIGN.match, lines) if m and not m.group(2).startswith("d_")]
    node_of: dict[str, str | None] = {}
    for temp, row in zip(temps, computed):
        op = temp.rpartition("_")[0]
        node_of[temp] = trace_keys.get(row.node) if nodes.get(row.expression) is not None \
            and nodes[row.expression].op == op else None
    for name, local in compiled.names.items():
        node_of[local] = keys.get(name)

    def adjoint_of(name: str) -> str | None:
        return node_of.get(name[2:]) if name.startswith("d_") else node_of.get(name)

    out = []
    for k, line in enumerate(lines, 1):
        m = _ASSIGN.match(line)
        if not m:
            cls = "line comment" if line.strip().startswith("#") else "line"
            out.append(f'<span class="{cls}" id="code-{k}">{escape(line) or " "}</span>')
            continue
        indent, name, rhs, _, provenance = m.groups()
        key = adjoint_of(name)
        html_line = indent + _link(name, key) + escape(rhs)
        if provenance:
            parts = []
            for part in provenance.split("; "):
                target = part.partition(" = ")[0]
                parts.append(_link(part, node_of.get(target)))
            html_line += '<span class="comment">  # from ' + "; ".join(parts) + "</span>"
        attrs = f' data-node="{key}"' if key else ""
        out.append(f'<span class="line" id="code-{k}"{attrs}>{html_line}</span>')
    intro = ("<p>gradcore generates this Python for f: the forward pass computes each distinct node once, "
             "then the adjoint sweep, last line first, gives each value v its d_v = df/dv. Each adjoint "
             "line's comment names the forward instructions it comes from, by the table's rule; every "
             "name links to its node in the graph.</p>")
    return intro + '<div class="scroll" tabindex="0" role="region" aria-label="generated code">' \
                   f'<pre class="code"><code>{"".join(out)}</code></pre></div>'


def check_section(expr: Expr, point: Mapping[str, float]) -> str:
    """Autograd, sympy's exact derivative and central differences side by side, with the verdicts."""
    report = check_gradient(expr, point)
    if not report.partials:
        return "<p>f has no variables: there is nothing to check.</p>"

    def shown(v: float | None, digits: int = 12) -> str:
        return "n/a" if v is None else number(v, digits)

    rows = []
    for p in report.partials:
        verdict = _row_verdict(p.ad_ok, p.fd_ok)
        rows.append(({}, [f"df/d{escape(p.variable)}", shown(p.autograd),
                          shown(p.exact), shown(p.finite_difference), shown(p.ad_error, 2),
                          shown(p.fd_error, 2), verdict]))
    header = ["partial", "autograd", "sympy (exact)", "central difference",
              "|AD − sympy|", "|AD − FD|", "verdict"]
    eps = number(report.eps)
    out = [table(f"gradient check at {', '.join(f'{k}={number(v, DIGITS)}' for k, v in report.point.items())}",
                 header, rows, {1, 2, 3, 4, 5}),
           "<p>Tolerances, per variable: autograd and sympy must agree to "
           f"|AD − sympy| ≤ {number(AD_ATOL)} + {number(AD_RTOL)}·|sympy| (both are exact up to float64 "
           f"rounding); finite differences, with step h = {eps}·max(1, |v|), to |AD − FD| ≤ "
           f"{number(FD_ATOL)} + {number(FD_RTOL)}·|FD|, as torch.autograd.gradcheck allows.</p>",
           f'<p class="{"ok" if report.passed else "bad"}">{escape(_sentence(report.verdict))}.</p>']
    return "\n".join(out)


def _row_verdict(ad_ok: bool | None, fd_ok: bool | None) -> str:
    """One partial's verdict cell: "agree" only where both comparisons were made and passed; a
    comparison that could not be made (None) is named, never counted as an agreement."""
    if False in (ad_ok, fd_ok):
        return '<span class="bad">disagree</span>'
    if ad_ok is None and fd_ok is None:
        return '<span class="bad">not checked</span>'
    if ad_ok is None:
        return '<span class="ok">agree (sympy n/a)</span>'
    if fd_ok is None:
        return '<span class="ok">agree (FD n/a)</span>'
    return '<span class="ok">agree</span>'


def _sentence(verdict: str) -> str:
    """"passed: ..." as "Passed: ...", "FAILED: ..." as "Failed: ..." (the rest as it is: names keep their case)."""
    head, _, rest = verdict.partition(":")
    return head.capitalize() + ":" + rest


def formula_title(expr: Expr, limit: int = 120) -> str:
    """The formula's text for a title or a heading, cut with an ellipsis past `limit` characters."""
    text = to_text(expr, shared=None)
    return text if len(text) <= limit else text[: limit - 1] + "…"
