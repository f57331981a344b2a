"""The one printer: text that parses back, LaTeX with the same terms, and output linear in graph size."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from hypothesis import given, settings

import gradcore as gc
from gradcore import printing
from gradcore.expr import call, const, raw, var
from gradcore.printing import latex_name, shared_names, to_latex, to_mathml, to_text

from strategies import expressions

x, y = gc.var("x"), gc.var("y")


# ---- LaTeX read back: a tiny reader of exactly what to_latex writes --------------------------------

_MACROS = {r"\sin": "sin", r"\cos": "cos", r"\tan": "tan", r"\arcsin": "asin", r"\arccos": "acos",
           r"\arctan": "atan", r"\sinh": "sinh", r"\cosh": "cosh", r"\tanh": "tanh", r"\log": "log",
           r"\pi": "pi", r"\cdot": "*", r"\left(": "(", r"\right)": ")", r"\left|": "abs(", r"\right|": ")",
           r"\_": "_"}
_TOKEN = re.compile(r"\\left[(|]|\\right[)|]|\\[A-Za-z]+|\\_|\d+(?:\.\d*)?(?:e[-+]?\d+)?|\.\d+|\s+|.")
_OPERAND_END = re.compile(r"[\w)]$")


def latex_to_text(latex: str) -> str:
    """gradcore text for LaTeX that to_latex wrote: \\frac{a}{b} -> ((a)/(b)), x^{2} -> x**(2),
    e^{a} -> exp(a), a space between factors -> *, 2.5 \\times 10^{20} -> 2.5e20."""
    latex = re.sub(r"(\d+(?:\.\d+)?) \\times 10\^\{(-?\d+)\}", r"\1e\2", latex)
    tokens = _TOKEN.findall(latex)
    out: list[str] = []
    closers: list[str] = []  # what each open brace closes with
    pending: list[str] = []  # the brace openers announced by \frac, \sqrt, ^, ...
    for i, tok in enumerate(tokens):
        if tok.isspace():
            nxt = next((t for t in tokens[i + 1:] if not t.isspace()), "")
            prev = "".join(out)
            if _OPERAND_END.search(prev) and nxt not in ("+", "-", r"\cdot", r"\right)", r"\right|", "}"):
                out.append("*")
            continue
        if tok == "{":
            opener, closer = pending.pop() if pending else ("", "")
            out.append(opener)
            closers.append(closer)
        elif tok == "}":
            out.append(closers.pop())
        elif tok == r"\frac":
            pending += [("", "))"), ("((", ")/(")]  # a stack: the numerator's brace comes first
        elif tok == r"\sqrt":
            pending.append(("sqrt((", "))"))
        elif tok == "^":
            if out and out[-1] == "e":
                out[-1] = "exp"
                pending.append(("(", ")"))
            else:
                pending.append(("**(", ")"))
        elif tok == "_":
            pending.append(("_", ""))
        elif tok in (r"\mathit", r"\text", r"\operatorname"):  # the letters of one name follow
            pending.append(("", ""))
        elif tok in _MACROS:
            out.append(_MACROS[tok])
        elif tok.startswith("\\"):
            out.append(tok[1:])  # a Greek letter: \theta -> theta
        else:
            out.append(tok)
    return "".join(out)


def _exp_for_e_powers(e: gc.Expr) -> gc.Expr:
    """e**a and exp(a) are both e^{a} in LaTeX, so compare with every e**a written exp(a)."""
    built: dict = {}
    for n in e.nodes():
        args = [built[a] for a in n.args]
        if n.op == "pow" and n.args[0].op == "const" and n.args[0].name == "e":
            built[n] = raw("exp", args[1])
        else:
            built[n] = raw(n.op, *args) if n.args else n
    return built[e]


def test_the_latex_reader_reads_what_the_printer_writes() -> None:
    for text in ["x^2+2x+3", "sqrt(x)/2", "(x^y)^z", "-(x*y)", "1e-7*x", "exp(x)**2", "2*(1/x)"]:
        e = gc.parse(text)
        assert gc.parse(latex_to_text(e.latex())) is _exp_for_e_powers(e), (text, e.latex())


# ---- properties -------------------------------------------------------------------------------------

@settings(max_examples=300, deadline=None)
@given(expressions(safe=False, max_leaves=14))
def test_text_parses_back_and_latex_has_the_same_terms(e: gc.Expr) -> None:
    text = to_text(e)
    assert text == str(e)
    try:
        again = gc.parse(text)
    except gc.ParseError as err:  # a constant part beyond float64, as in test_expr
        assert err.reason == "this constant is too large for float64"
        return
    assert again is e
    # The LaTeX, read back by a reader that knows only LaTeX, is the very same tree.
    assert gc.parse(latex_to_text(e.latex())) is _exp_for_e_powers(e), e.latex()


def _doubling(n: int) -> gc.Expr:
    """t -> t*t + sin(t), n times: n*4 nodes, but 2**n copies of x written out."""
    t = x + y
    for _ in range(n):
        t = raw("add", raw("mul", t, t), call("sin", t))
    return t


@pytest.mark.parametrize("make", [
    lambda: _doubling(60),
    lambda: gc.parse("^".join(["x"] * 300)).diff("x"),
    lambda: gc.parse("/".join(["x"] * 600)).diff("x"),
    lambda: gc.parse("sin(" * 150 + "x*x" + ")" * 150).diff("x", times=2),
])
def test_printed_size_is_linear_in_graph_nodes(make) -> None:
    e = make()
    nodes = len(e.nodes())
    for shown in (to_text(e, shared=True), str(e), e.latex(), e._repr_latex_()):
        assert len(shown) <= 200 * nodes, (len(shown), nodes)
    assert len(to_text(e, shared=True)) <= 60 * nodes


def test_str_is_exact_below_the_limit_and_shared_above() -> None:
    small = _doubling(4)
    assert str(small) == to_text(small, shared=False) and "where" not in str(small)
    big = _doubling(40)  # 2**40 copies written out
    shown = str(big)
    assert "\n  where u1 = " in shown and len(shown) < 10_000
    assert big.latex().count(r"\text{where }") == 1


def test_shared_text_names_each_repeated_part_once_innermost_first() -> None:
    t = _doubling(3)
    names = shared_names(t, threshold=10)
    assert list(names.values()) == [f"u{k}" for k in range(1, len(names) + 1)]
    shown = to_text(t, shared=True, threshold=10)
    main, _, where = shown.partition("\n  where ")
    assert "u1" in where.splitlines()[0] and main.count("u") >= 1
    # Each definition uses only names defined above it.
    for k, line in enumerate(where.splitlines(), 1):
        used = {int(m) for m in re.findall(r"u(\d+)", line.split("=", 1)[1])}
        assert all(u < k for u in used), line


def test_names_avoid_the_formulas_own_variables() -> None:
    u1 = var("u1")
    t = u1 + x
    for _ in range(8):
        t = raw("mul", t, t)
    shown = to_text(t, shared=True, threshold=10)
    assert "v1" in shown and " u1 = " not in shown


def test_short_repeats_stay_inline() -> None:
    d = gc.parse("sigmoid(x)").diff("x")
    assert to_text(d, shared=True) == str(d) == "sigmoid(x)*(1 - sigmoid(x))"


# ---- LaTeX forms --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, latex", [
    ("sqrt(x)/2", r"\frac{\sqrt{x}}{2}"),
    ("x^2+2x+3", r"x^{2} + 2 x + 3"),
    ("x**2 + 2*x*y + 3 + cos(x + 2*y)", r"x^{2} + 2 x y + 3 + \cos\left(x + 2 y\right)"),
    ("(x+1)(x-1)", r"\left(x + 1\right) \left(x - 1\right)"),
    ("exp(-x)/(1+exp(-x))**2", r"\frac{e^{-x}}{\left(1 + e^{-x}\right)^{2}}"),
    ("x**(-2)", r"x^{-2}"),
    ("2^3^2", r"2^{3^{2}}"),
    ("(x^y)^z", r"\left(x^{y}\right)^{z}"),
    ("(x/y)**2", r"\left(\frac{x}{y}\right)^{2}"),
    ("-(x*y)", r"-\left(x y\right)"),
    ("x*2", r"x \cdot 2"),
    ("2*(1/x)", r"2 \cdot \frac{1}{x}"),
    ("1e-7*x", r"1 \times 10^{-7} x"),
    ("abs(x) + sign(x) + asin(x) + log(x) + pi", r"\left|x\right| + \operatorname{sign}\left(x\right) "
                                                 r"+ \arcsin\left(x\right) + \log\left(x\right) + \pi"),
    ("theta*θ + x_1 + x1 + rate", r"\theta \theta + x_{1} + x_{1} + \mathit{rate}"),
])
def test_latex_forms(text: str, latex: str) -> None:
    e = gc.parse(text)
    assert e.latex() == latex
    assert e._repr_latex_() == f"${latex}$"


def test_latex_does_not_need_sympy() -> None:
    code = "import gradcore, sys; gradcore.parse('sqrt(x)/2')._repr_latex_(); print('sympy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("name, latex", [
    ("theta", r"\theta"), ("θ", r"\theta"), ("Ω", r"\Omega"), ("Α", r"\text{Α}"), ("lambda", r"\lambda"),
    ("x_1", "x_{1}"), ("theta2", r"\theta_{2}"), ("x_max", r"x_{\mathit{max}}"), ("a_b_c", "a_{b_{c}}"),
    ("_", r"\_"), ("x_", r"\mathit{x\_}"), ("a__b", r"\mathit{a\_\_b}"), ("변수", r"\text{변수}"),
    ("x٣", r"x_{٣}"),
])
def test_hostile_names_in_latex(name: str, latex: str) -> None:
    assert latex_name(name) == latex
    shown = to_latex(var(name) ** 2 + 1)
    assert shown.count("{") == shown.count("}")
    assert re.search(r"(?<!\\)_(?!\{)", shown) is None  # every bare _ opens a subscript
    assert to_text(var(name) ** 2 + 1) == f"{name}**2 + 1"


def test_negative_zero_and_named_constants() -> None:
    assert to_text(raw("mul", const(-0.0), x)) == "-0*x" and to_latex(raw("mul", const(-0.0), x)) == "-0 x"
    assert to_latex(gc.parse("e^x + pi")) == r"e^{x} + \pi"
    assert to_latex(gc.parse("exp(x)")) == "e^{x}"


# ---- the command line never explodes -------------------------------------------------------------

def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradcore", *argv], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("formula", [
    "^".join(["x"] * 1000),                       # a power tower of 999 powers: 1,999 characters
    "/".join(["x"] * 5000),                       # x/x/.../x, 10 KB
    "sin(" * 199 + "x*x" + ")" * 199,             # nested compositions at the depth limit
    "*".join(["(x+y)"] * 1666),                   # a long product of one shared sum
])
def test_diff_on_explosive_formulas_prints_bounded_output(formula: str) -> None:
    out = _run("diff", formula)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout) <= 2_000_000
    assert out.stdout.startswith("f = ")


def test_minimize_on_a_power_tower_prints_bounded_output() -> None:
    out = _run("minimize", "^".join(["x"] * 1000), "--max-iter", "5")
    assert out.returncode in (0, 1), out.stderr
    assert 0 < len(out.stdout) <= 20_000
    # The gradient's hundreds of named parts are left to `gradcore diff` (which names them u1, ...).
    assert "the gradient is not shown: f's graph has 1,000 nodes" in out.stdout
    assert "where u1 = " not in out.stdout


# ---- MathML read back: a reader of exactly what to_mathml writes -----------------------------------

_MATHML_NS = "{http://www.w3.org/1998/Math/MathML}"
_MATHML_OPERATORS = {"\u2062": "*", "\u00b7": "*", "\u00d7": "*", "\u2212": "-", "\u2061": ""}
_MATHML_FUNCTIONS = {"arcsin": "asin", "arccos": "acos", "arctan": "atan"}


def mathml_to_text(mathml: str) -> str:
    """gradcore text for MathML that to_mathml wrote: <mfrac> -> ((a)/(b)), <msup> -> (a)**(b),
    e to a power -> exp(...), an invisible times -> *, |a| -> abs(a), m × 10^k -> mek."""
    import xml.etree.ElementTree as ET

    def read(el) -> str:
        tag = el.tag.removeprefix(_MATHML_NS)
        kids = list(el)
        if tag in ("math", "mrow"):
            out, fence = [], False
            for k in kids:
                if k.tag.endswith("mo") and k.get("fence") == "true":
                    out.append(")" if fence else "abs(")
                    fence = not fence
                else:
                    out.append(read(k))
            return "".join(out)
        if tag == "mi":
            return {"π": "pi"}.get(el.text, _MATHML_FUNCTIONS.get(el.text, el.text))
        if tag == "mn":
            return el.text
        if tag == "mo":
            return _MATHML_OPERATORS.get(el.text, el.text)
        if tag == "mfrac":
            return f"(({read(kids[0])})/({read(kids[1])}))"
        if tag == "msqrt":
            return f"sqrt({read(kids[0])})"
        if tag == "msub":
            return read(kids[0]) + read(kids[1])
        if tag == "msup":
            base, power = read(kids[0]), read(kids[1])
            return f"exp({power})" if base == "e" else f"({base})**({power})"
        raise AssertionError(f"unexpected MathML element {tag}")

    text = read(ET.fromstring(mathml))
    return re.sub(r"(\d+(?:\.\d*)?)\*\(10\)\*\*\((-?\d+)\)", r"\1e\2", text)


@pytest.mark.parametrize("text", ["x^2+2x+3", "sqrt(x)/2", "(x^y)^z", "-(x*y)", "1e-7*x", "exp(x)**2",
                                  "2*(1/x)", "x*2", "abs(x-1)*asin(y)", "2**x*3", "(x/y)**2", "-2*x - -3",
                                  "x**(-2)", "pi*e**x"])
def test_the_mathml_reader_reads_what_the_printer_writes(text: str) -> None:
    e = gc.parse(text)
    assert gc.parse(mathml_to_text(to_mathml(e))) is _exp_for_e_powers(e), (text, to_mathml(e))


@settings(max_examples=300, deadline=None)
@given(expressions(safe=False, max_leaves=14))
def test_mathml_has_the_same_terms_as_text(e: gc.Expr) -> None:
    try:
        gc.parse(str(e))
    except gc.ParseError:  # a constant part beyond float64, as above
        return
    shown = to_mathml(e)
    assert gc.parse(mathml_to_text(shown)) is _exp_for_e_powers(e), shown


@pytest.mark.parametrize("text, mathml", [
    ("2*x", "<mn>2</mn><mo>&#x2062;</mo><mi>x</mi>"),
    ("x*2", "<mi>x</mi><mo>&#xB7;</mo><mn>2</mn>"),
    ("x/y", "<mfrac><mrow><mi>x</mi></mrow><mrow><mi>y</mi></mrow></mfrac>"),
    ("sin(x)", "<mi>sin</mi><mo>&#x2061;</mo><mrow><mo>(</mo><mi>x</mi><mo>)</mo></mrow>"),
    ("x - y", "<mi>x</mi><mo>\u2212</mo><mi>y</mi>"),
    ("theta + x1", "<mi>θ</mi><mo>+</mo><msub><mi>x</mi><mn>1</mn></msub>"),
])
def test_mathml_forms(text: str, mathml: str) -> None:
    shown = to_mathml(gc.parse(text), element=False)
    assert shown == f"<mrow>{mathml}</mrow>"
    assert to_mathml(gc.parse(text), display=True).startswith(
        '<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"><mrow>')


def test_mathml_escapes_names_and_shares_like_text() -> None:
    hostile = const(2.0, name='<script>alert("x")</script>&')
    shown = to_mathml(hostile * x + var("lt"))
    assert "<script>" not in shown and "&lt;script&gt;" in shown and "&amp;" in shown
    assert "<mi>lt</mi>" in shown
    e = _doubling(8)
    shared = to_mathml(e, shared=True)
    assert "<mtext>where</mtext>" in shared and len(shared) <= 400 * len(e.nodes())
    names = shared_names(e)
    assert all(f"<msub><mi>{n[0]}</mi><mn>{n[1:]}</mn></msub>" in shared for n in names.values())
