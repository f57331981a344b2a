"""Hostile formulas inside the parser's limits: every command answers or refuses in one line.

Power towers, long quotients, sums and products, nested compositions, continued fractions, runs of
minus signs, long names and many variables, each run through the command line in-process: the exit
status is one the command may give, nothing prints a traceback, and what is printed stays linear in
the size of the formula's graph. (How long each takes is measured by benchmarks/bench_bounded.py,
not asserted here.)
"""

from __future__ import annotations

import pytest

import gradcore as gc
from gradcore.check import PARTIALS_LIMIT, SYMPY_LIMIT, SYMPY_TREE_LIMIT
from gradcore.cli import main
from gradcore.errors import ParseError
from gradcore.parse import MAX_DEPTH, MAX_LENGTH

COMMANDS = ("diff", "minimize", "grad", "check")
DEEP = MAX_DEPTH - 1

SHAPES = {
    "tower": "^".join(["x"] * 1000),                          # x^x^...^x, 999 powers
    "tower-vars": "^".join(f"x{i}" for i in range(600)),      # a^b^c^..., all distinct
    "quotient": "/".join(["x"] * 5000),                       # x/x/.../x, 10 KB
    "sum": "+".join(["x"] * 5000),
    "product": "*".join(["x"] * 5000),
    "sum-vars": "+".join(f"x{i}" for i in range(1800)),       # many distinct variables
    "product-vars": "*".join(f"x{i}" for i in range(1800)),
    "sin-nest": "sin(" * DEEP + "x" + ")" * DEEP,
    "exp-nest": "exp(" * DEEP + "x" + ")" * DEEP,
    "fraction": "1/(1+" * DEEP + "x" + ")" * DEEP,            # 1/(1+1/(1+...x))
    "minus-run": "-" * 999 + "x",
    "minus-chain": "-x" * 4999,                               # -x-x-x-...-x
    "run-together": "x" * 9997 + "+x",                        # xxx...x read as a product of x
    "long-name": "a" * (MAX_LENGTH - 1),
    "power-sums": "*".join(f"(x+{i})" for i in range(1, 1200)),  # a polynomial of degree 1199
    "square-nest": "(" * DEEP + "x" + ")^2" * DEEP,           # ((x^2)^2)^2...
    "too-long": "x+" * (MAX_LENGTH // 2) + "x",               # over the limit: refused
}

# What each command may answer: 0, 1 (minimize did not converge; grad or check did not agree or
# could not check), 2 (refused as bad input, with a one-line message).
ALLOWED = {"diff": {0, 2}, "minimize": {0, 1, 2}, "grad": {0, 1, 2}, "check": {0, 1, 2}}
# Printed characters per node of the formula's graph and of its derivatives' graphs, and per
# character of the formula (which is echoed, and whose variables' names label the partials).
CHARS_PER_NODE = 60
CHARS_PER_CHAR = 6


def arguments(command: str, text: str) -> list[str]:
    """The command line for one shape: grad and check get a point naming every variable."""
    argv = [command, text]
    if command in ("grad", "check"):
        try:
            names = gc.parse(text).variables
        except ParseError:
            names = ("x",)
        argv += ["--at", ",".join(f"{n}=1" for n in names)]  # 0.5**-4999 would overflow
    if command == "minimize":
        argv += ["--quiet"]
    return argv


def graph_nodes(text: str) -> int:
    """Distinct nodes of the formula and of its unsimplified first partials (what could be printed)."""
    try:
        e = gc.parse(text)
    except ParseError:
        return 1
    nodes = set(e.nodes())
    for name in e.variables:
        nodes.update(e.diff(name, simplify=False).nodes())
    return len(nodes)


@pytest.fixture(scope="module")
def sizes() -> dict[str, int]:
    return {}


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_formula_is_answered_or_refused_in_one_line(shape: str, command: str, capsys, sizes) -> None:
    text = SHAPES[shape]
    status = main(arguments(command, text))
    out, err = capsys.readouterr()
    assert status in ALLOWED[command], (status, err[-500:])
    assert "Traceback" not in out + err and "RecursionError" not in out + err
    if status == 2:
        assert err.startswith("gradcore: error: ")
    else:
        assert not err.strip() or command == "minimize", err[-500:]
    printed = len(out) + len(err)
    if printed > CHARS_PER_CHAR * len(text) + 2_000:  # only then is the graph worth measuring
        if shape not in sizes:
            sizes[shape] = graph_nodes(text)
        assert printed <= CHARS_PER_NODE * sizes[shape] + CHARS_PER_CHAR * len(text) + 2_000, (
            printed, sizes[shape])


def test_the_too_long_formula_is_refused_with_its_length(capsys) -> None:
    assert main(["diff", SHAPES["too-long"]]) == 2
    assert "the formula is 10,001 characters long; the limit is 10,000" in capsys.readouterr().err


def test_many_partials_of_a_large_formula_are_refused_in_one_line(capsys) -> None:
    text = SHAPES["product-vars"]
    for argv in (["diff", text], arguments("grad", text), arguments("check", text)):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"> {PARTIALS_LIMIT:,})" in err and len(err.strip().splitlines()) == 1
    assert main(["diff", text, "--var", "x7"]) == 0  # one partial is fine
    assert "df/dx7 = " in capsys.readouterr().out


def test_a_huge_text_is_refused_with_a_short_excerpt() -> None:
    text = "x+" * 5_000_000
    with pytest.raises(ParseError) as caught:
        gc.parse(text)
    assert "10,000,000 characters long" in str(caught.value)
    assert len(caught.value.excerpt()) < 300


@pytest.mark.parametrize("shape", ["tower", "quotient", "fraction"])
def test_sympy_is_skipped_above_its_limit_and_says_why(shape: str, capsys) -> None:
    text = SHAPES[shape]
    status = main(arguments("grad", text) + ["--sympy"])
    out, _ = capsys.readouterr()
    assert status == 1
    assert "not checked by sympy (formula too large:" in out and f"> {SYMPY_LIMIT:,}" in out
    assert "agree" not in out.replace("DISAGREE", "").replace("do not agree", "")


def test_check_says_which_two_methods_it_compared_when_sympy_is_skipped(capsys) -> None:
    assert main(arguments("check", SHAPES["fraction"])) == 0
    out = capsys.readouterr().out
    assert "not checked by sympy (formula too large: 400 nodes > " in out
    assert "passed: autograd matches finite differences; not checked by sympy" in out
    assert "three methods agree" not in out
    report = gc.check_gradient(SHAPES["fraction"], {"x": 1.0})
    assert report.to_dict()["sympy_skipped"].startswith("formula too large: 400 nodes")


def test_grad_never_says_agree_when_sympy_compared_nothing(capsys) -> None:
    # sin(sin(...)) 199 deep has few nodes, but its derivative written out as a tree (sympy's form)
    # has some 20,000: sympy is not asked, and the report says why.
    assert main(arguments("grad", SHAPES["sin-nest"]) + ["--sympy"]) == 1
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == (f"autograd not checked by sympy (df/dx too large written out: more than "
                                    f"{SYMPY_TREE_LIMIT:,} nodes as a tree)")
    assert "agree" not in out


def test_below_the_limit_sympy_still_checks(capsys) -> None:
    status = main(["grad", "x**2 + 2*x*y + 3 + cos(x + 2*y)", "--at", "x=1,y=2", "--sympy"])
    out, _ = capsys.readouterr()
    assert status == 0 and "autograd and sympy agree" in out and "not checked" not in out


@pytest.mark.parametrize("shape", ["tower", "quotient", "fraction", "sin-nest", "run-together"])
def test_without_sympy_grad_checks_autograd_against_the_symbolic_derivative(shape: str, capsys) -> None:
    # No size limit applies: gradcore's own derivative is a shared graph, evaluated by an iterative walk.
    assert main(arguments("grad", SHAPES[shape])) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith("autograd and the symbolic derivative agree (largest difference ")
    assert "sympy" not in out


def test_run_together_letters_still_split_into_the_formulas_variables() -> None:
    e = gc.parse(SHAPES["run-together"])
    assert e.variables == ("x",)
    assert e.evaluate(x=1.0) == 2.0
    assert gc.parse("xy + x + y").evaluate(x=2.0, y=3.0) == 11.0
    assert gc.parse(SHAPES["long-name"]).variables == ("a" * (MAX_LENGTH - 1),)


@pytest.mark.parametrize("shape,derivative", [("quotient", "-4998/x**4999"), ("run-together", "9997*x**9996 + 1"),
                                              ("product", "5000*x**4999"), ("sum", "5000")])
def test_a_large_formula_is_simplified_before_it_is_differentiated(shape: str, derivative: str, capsys) -> None:
    # Past expr.SIMPLIFY_FIRST nodes the derivative of the formula as written would be too large to
    # simplify; the derivative of its canonical form is the textbook one.
    e = gc.parse(SHAPES[shape])
    assert len(e.nodes()) > gc.expr.SIMPLIFY_FIRST
    assert main(["diff", SHAPES[shape]]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"df/dx = {derivative}"
    assert e.diff("x").evaluate(x=1.0) == e.diff("x", simplify=False).evaluate(x=1.0)
