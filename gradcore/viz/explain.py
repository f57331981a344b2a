"""`gc.explain`: one self-contained HTML page that teaches a formula's derivative and, if asked, its descent.

The page puts together what the other views show one at a time (MathML partials and their
derivations, the SVG graph, the trace tables, the generated code, the three-way check, the descent),
with no network, fonts or scripts from elsewhere: inline CSS and SVG, and a few lines of plain script.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Mapping

from .._version import __version__
from ..errors import GradcoreError
from ..expr import Expr, point_values
from ..format import number
from ..parse import as_formula
from ._explain_sections import (check_section, code_section, error_note, escape, formula_section,
                                formula_title, graph_section, trace_section)
from ._explain_style import CSS, SCRIPT
from .graph import DIGITS
from .trace import trace

__all__ = ["explain", "ExplainPage", "SECTIONS", "DESCENT_OPTIONS"]

# The sections, in page order: (id, heading). The descent section is there only when asked for.
SECTIONS = (("formula", "The formula and its derivatives"),
            ("graph", "The computation graph"),
            ("trace", "The forward and backward passes"),
            ("code", "The generated adjoint code"),
            ("check", "Three ways to the same gradient"),
            ("descent", "The descent"))
# The options of minimize and maximize that explain passes on.
DESCENT_OPTIONS = ("start", "method", "lr", "tol", "max_iter", "starts", "seed")


class ExplainPage:
    """An explain page: `.html` is the whole document (so is str(page)); `.save(path)` writes it;
    a notebook shows it in a frame of its own, so its style cannot touch the notebook's."""

    def __init__(self, html_text: str, expression: str, sections: tuple[str, ...]) -> None:
        self.html = html_text
        self.expression = expression
        self.sections = sections

    def save(self, path: "str | Path") -> Path:
        """Write the page to `path` as UTF-8; returns the path."""
        path = Path(path)
        path.write_text(self.html, encoding="utf-8")
        return path

    def __str__(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<gradcore ExplainPage of f = {self.expression[:60]}: {len(self.html)} characters; .save(path)>"

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self.html, quote=True)}" title="explain page" '
                'style="width:100%;height:40em;border:1px solid #bbb"></iframe>')


def _point(expr: Expr, at: Mapping[str, float] | None, start: Mapping[str, float] | None) -> dict[str, float]:
    """Where the graph, trace and check are read: `at`, else the descent's start, else every variable at 1."""
    if at is not None:
        return point_values(expr, at)
    return {v: float((start or {}).get(v, 1.0)) for v in expr.variables}


def explain(expr_or_text: "Expr | str", at: Mapping[str, float] | None = None, minimize: bool = False,
            maximize: bool = False, **options: Any) -> ExplainPage:
    """One self-contained HTML page teaching reverse mode on `expr_or_text` at the point `at`.

    Sections: f and each partial df/dv in MathML, each derived rule by rule (collapsible); the
    computation graph with every node's value and adjoint; the forward and backward trace tables (rows
    linked to nodes); the generated value_and_grad, every line linked to its node; the check
    autograd = sympy = central differences with its tolerances. With minimize or maximize (and the
    options of gc.minimize: start, method, lr, tol, max_iter, starts, seed), the run's status and its
    meaning, the landscape with the path (1 or 2 variables), the learning curve and the update rule.
    Without `at` the point is the descent's start, or every variable at 1. Every text from the formula
    is escaped.
    """
    if minimize and maximize:
        raise GradcoreError("explain: ask for minimize or maximize, not both")
    unknown = sorted(set(options) - set(DESCENT_OPTIONS))
    if unknown:
        raise GradcoreError(f"explain: unknown option {', '.join(unknown)} (options: {', '.join(DESCENT_OPTIONS)})")
    if options and not (minimize or maximize):
        raise GradcoreError(f"explain: {', '.join(sorted(options))} is for the descent: add minimize=True or maximize=True")
    expr = as_formula(expr_or_text, "explain")
    result = None
    if minimize or maximize:
        from ..optimize import maximize as run_max, minimize as run_min

        result = (run_min if minimize else run_max)(expr, **options)
    point = _point(expr, at, result.start if result is not None and result.start else options.get("start"))

    bodies: dict[str, str] = {}
    value = None
    try:
        value = expr.evaluate(point)
    except GradcoreError:
        pass  # the sections below say why, each in its own words
    bodies["formula"] = formula_section(expr, point, value)
    keys: dict[str, str] = {}
    try:
        bodies["graph"], keys = graph_section(expr, point)
    except GradcoreError as exc:
        bodies["graph"] = error_note("The graph with values and adjoints", exc)
    try:
        t = trace(expr, point)
        bodies["trace"], names = trace_section(t, keys)
        bodies["code"] = code_section(expr, t, keys, names)
    except GradcoreError as exc:
        bodies["trace"] = error_note("The trace", exc)
        bodies["code"] = code_section(expr, None, keys, {})  # the code is the same at every point
    try:
        bodies["check"] = check_section(expr, point)
    except GradcoreError as exc:
        bodies["check"] = error_note("The check", exc)
    if result is not None:
        from ._explain_descent import descent_section

        bodies["descent"] = descent_section(expr, result)
    sections = tuple(k for k, _ in SECTIONS if k in bodies)
    return ExplainPage(_page(expr, point, bodies), str(expr), sections)


def _page(expr: Expr, point: Mapping[str, float], bodies: Mapping[str, str]) -> str:
    title = formula_title(expr)
    at = ", ".join(f"{k} = {number(v, DIGITS)}" for k, v in point.items())
    heads = [(k, h) for k, h in SECTIONS if k in bodies]
    nav = "".join(f'<li><a href="#{k}">{i}. {escape(h)}</a></li>' for i, (k, h) in enumerate(heads, 1))
    sections = "\n".join(f'<section id="{k}" aria-labelledby="{k}-h"><h2 id="{k}-h">{i}. {escape(h)}</h2>\n'
                         f"{bodies[k]}\n</section>" for i, (k, h) in enumerate(heads, 1))
    lead = f"Reverse mode, step by step, at {at}." if at else "Reverse mode, step by step."
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="generator" content="gradcore {escape(__version__)}">
<link rel="icon" href="data:,">
<title>f = {escape(title)} · gradcore explain</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>How gradcore differentiates f = <code>{escape(title)}</code></h1>
<p class="lead">{escape(lead)} Every number below comes from gradcore's own engines; every picture is drawn in this file.</p>
<nav aria-label="sections"><ol>{nav}</ol></nav>
</header>
<main>
{sections}
</main>
<footer><p>Made by gradcore {escape(__version__)} with <code>gradcore explain</code>. This page needs no network: its style, pictures and script are all inside it.</p></footer>
<script>{SCRIPT}</script>
</body>
</html>
"""
