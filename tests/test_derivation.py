"""Step-by-step derivations: each rule named from the table, the whole expression after each step."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import assume, given, settings

import gradcore as gc
from gradcore import ops
from gradcore.derivation import MAX_STEPS, derivation

from helpers import close
from strategies import expressions, points

WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"

GOLDEN_Y = """\
d/dy[x**2 + 2*x*y + 3 + cos(x + 2*y)]
1. sum rule: d/dy[x**2 + 2*x*y + 3 + cos(x + 2*y)] = d/dy[x**2] + d/dy[2*x*y] + d/dy[3] + d/dy[cos(x + 2*y)]
2. constant rule: d/dy[x**2] = 0
   = d/dy[2*x*y] + d/dy[3] + d/dy[cos(x + 2*y)]
3. constant multiple rule: d/dy[2*x*y] = 2*x
   = 2*x + d/dy[3] + d/dy[cos(x + 2*y)]
4. constant rule: d/dy[3] = 0
   = 2*x + d/dy[cos(x + 2*y)]
5. chain rule through cos: d/dy[cos(x + 2*y)] = -sin(x + 2*y)*d/dy[x + 2*y]
   = 2*x - sin(x + 2*y)*d/dy[x + 2*y]
6. sum rule: d/dy[x + 2*y] = d/dy[x] + d/dy[2*y]
   = 2*x - sin(x + 2*y)*(d/dy[x] + d/dy[2*y])
7. constant rule: d/dy[x] = 0
   = 2*x - sin(x + 2*y)*d/dy[2*y]
8. constant multiple rule: d/dy[2*y] = 2
   = 2*x - 2*sin(x + 2*y)
df/dy = 2*x - 2*sin(x + 2*y)"""


def test_the_worked_example_in_y_shows_where_the_factor_2_comes_from() -> None:
    d = gc.derivation(gc.parse(WORKED), "y")
    assert d.text() == GOLDEN_Y == str(d)
    assert [s.rule for s in d.steps][4:] == ["chain rule through cos", "sum rule", "constant rule",
                                              "constant multiple rule"]
    assert str(d.result) == "2*x - 2*sin(x + 2*y)"


def test_the_command_line_prints_the_same_steps() -> None:
    out = subprocess.run([sys.executable, "-m", "gradcore", "diff", WORKED, "--var", "y", "--steps"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout == GOLDEN_Y + "\n"


def test_the_worked_example_in_x() -> None:
    d = derivation(WORKED, "x")
    assert [s.rule for s in d.steps] == [
        "sum rule", "power rule", "constant multiple rule", "constant multiple rule", "constant rule",
        "chain rule through cos", "sum rule", "variable rule", "constant rule"]
    assert str(d.result) == "2*x + 2*y - sin(x + 2*y)"


@pytest.mark.parametrize("text, rules", [
    ("x*sin(x)", ["product rule", "chain rule through sin"]),
    ("(x+1)/(x-1)", ["quotient rule", "sum rule", "variable rule", "constant rule", "difference rule",
                     "variable rule", "constant rule"]),
    ("2^x", ["exponential rule"]),
    ("x^x", ["generalized power rule"]),
    ("1/x", ["reciprocal rule"]),
    ("x/3", ["constant multiple rule"]),
    ("-x", ["constant multiple rule"]),
    ("x - 1 + y", ["sum rule and difference rule", "variable rule", "constant rule", "constant rule"]),
    ("5", ["constant rule"]),
    ("x", ["variable rule"]),
])
def test_rules_are_named_from_the_table(text: str, rules: list[str]) -> None:
    assert [s.rule for s in derivation(text, "x").steps] == rules


@pytest.mark.parametrize("text", ["1/(1+exp(-x))", "(x+1)(x-1)", "sqrt(1+x^2)", "e^x", "x^4-3x^2+x",
                                  "(x*w-y)^2", WORKED])
def test_the_result_line_is_the_canonical_form_diff_prints(text: str) -> None:
    d = derivation(text, "x")
    assert d.result is gc.parse(text).diff("x")
    assert d.text().splitlines()[-1] == f"df/dx = {d.result}"


def test_every_rule_name_comes_from_the_table_or_is_a_leaf_rule() -> None:
    names = {p.rule for p in ops.PRIMITIVES.values()} | {r for p in ops.PRIMITIVES.values() for r in p.rule_alone}
    assert all(p.rule for p in ops.PRIMITIVES.values())
    assert ops.PRIMITIVES["cos"].rule == "chain rule through cos"
    seen = {s.rule for t in ["sin(x)*x**2/(1 + exp(-x)) - sqrt(x)", "tanh(x)^x", WORKED] for s in derivation(t, "x").steps}
    leaf = {"constant rule", "variable rule", "sum rule and difference rule"}
    assert seen <= names | leaf


@settings(max_examples=60, deadline=None)
@given(expressions(max_leaves=6), points())
def test_the_result_is_the_derivative(e: gc.Expr, p: dict) -> None:
    d = derivation(e, "x")
    try:
        want = e.diff("x").evaluate(p)
        got = d.result.evaluate(p)
    except gc.DomainError:
        assume(False)
    assume(abs(want) < 1e8)
    assert close(got, want, rel=1e-9, abs_=1e-9), (str(e), str(d.result))
    # Each step leaves one placeholder fewer to evaluate, and the last leaves none.
    assert d.steps[-1].result.evaluate(p) == got or close(d.steps[-1].result.evaluate(p), got)


def test_latex_and_markdown_views() -> None:
    d = derivation(WORKED, "y")
    latex = d.latex()
    assert latex.startswith("\\begin{aligned}") and latex.endswith("\\end{aligned}")
    assert latex.count("{") == latex.count("}")
    assert r"\text{chain rule through cos}: \frac{\partial}{\partial y}\left[\cos\left(x + 2 y\right)\right]" in latex
    assert latex.splitlines()[-2] == r"\frac{\partial f}{\partial y} &= 2 x - 2 \sin\left(x + 2 y\right)"
    md = d.markdown()
    assert "8. **constant multiple rule**: $\\frac{\\partial}{\\partial y}\\left[2 y\\right] = 2$" in md
    assert d._repr_markdown_() == md
    one = derivation("x**2", "x").latex()
    assert r"\frac{d}{dx}\left[x^{2}\right]" in one  # one variable: d, not the partial sign
    assert d.to_dict()["steps"][7] == {"rule": "constant multiple rule", "target": "2*y", "derivative": "2",
                                       "result": "2*x - 2*sin(x + 2*y)"}


def test_bad_input() -> None:
    with pytest.raises(gc.GradcoreError):
        derivation("x", gc.parse("x + 1"))
    with pytest.raises(TypeError):
        derivation("x", 3)
    with pytest.raises(gc.ParseError):
        derivation("sin(", "x")
    assert str(derivation("x**2", "y").result) == "0"


def test_long_derivations_are_refused_with_a_message() -> None:
    tower = "^".join(["x"] * 400)
    with pytest.raises(gc.GradcoreError, match=f"more than {MAX_STEPS} steps"):
        derivation(tower, "x")
    out = subprocess.run([sys.executable, "-m", "gradcore", "diff", tower, "--steps"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_steps_as_json() -> None:
    import json
    out = subprocess.run([sys.executable, "-m", "gradcore", "diff", "x*y", "--steps", "--json"],
                         capture_output=True, text=True, timeout=60)
    data = json.loads(out.stdout)
    assert data["derivations"]["y"]["steps"][0]["rule"] == "constant multiple rule"
    assert data["derivations"]["y"]["result"] == "x"
