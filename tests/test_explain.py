"""gc.explain and `gradcore explain`: one self-contained HTML page, its sections, its safety and its size."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser

import pytest

import gradcore as gc
from gradcore.viz.explain import SECTIONS

WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"
AT = {"x": 1.0, "y": 2.0}
# Every element a page may hold: HTML, the MathML of the formulas and the SVG of the pictures.
ALLOWED = {"html", "head", "meta", "link", "title", "style", "body", "header", "nav", "main", "section",
           "footer", "h1", "h2", "h3", "p", "a", "ol", "li", "code", "pre", "span", "div", "br", "details",
           "summary", "table", "caption", "thead", "tbody", "tr", "th", "td", "figure", "script",
           "math", "mrow", "mi", "mn", "mo", "mfrac", "msup", "msub", "msqrt", "mspace", "mtext",
           "svg", "g", "rect", "ellipse", "line", "path", "polygon", "polyline", "circle", "text"}


class _Page(HTMLParser):
    """The elements of a page in order: (tag, attributes, line), each heading's level, and the text of
    every element."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[str] = []
        self.text: list[tuple[str, str]] = []  # (enclosing tag, text)
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in ("meta", "link", "br", "line", "rect", "ellipse", "path", "polygon", "polyline",
                       "circle", "mspace"):
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        self.text.append((self.stack[-1] if self.stack else "", data))

    def named(self, tag: str) -> list[dict]:
        return [a for t, a in self.tags if t == tag]


@pytest.fixture(scope="module")
def worked() -> str:
    return gc.explain(WORKED, at=AT).html


@pytest.fixture(scope="module")
def descent() -> str:
    return gc.explain("x**2+2*x+3", minimize=True).html


def test_every_section_is_there_in_order(worked: str, descent: str) -> None:
    ids = [k for k, _ in SECTIONS]
    for page, expected in ((worked, ids[:-1]), (descent, ids)):
        found = [a["id"] for a in _Page(page).named("section")]
        assert found == expected
        for k, heading in SECTIONS:
            if k in expected:
                assert f'<h2 id="{k}-h">' in page and heading in page
    assert "The descent" not in worked


def test_the_formula_and_partials_are_mathml(worked: str) -> None:
    page = _Page(worked)
    blocks = [a for a in page.named("math") if a.get("display") == "block"]
    assert len(blocks) >= 3  # f, and each partial (plus the derivations' first lines)
    assert worked.count("<details>") == 2 and "How it is derived: 9 steps" in worked
    assert "sum rule" in worked and "chain rule through cos" in worked
    # df/dx = 2*x + 2*y - sin(x + 2*y), in MathML: the minus sign and the function applied.
    assert "<mi>sin</mi><mo>&#x2061;</mo>" in worked and "<mo>\u2212</mo>" in worked


def _operations(expr: gc.Expr) -> int:
    """The operation nodes reverse mode records: every node that is neither a leaf nor free of variables."""
    return sum(1 for n in expr.nodes() if n.args and n.variables)


@pytest.mark.parametrize("text", [WORKED, "x*x", "sin(x)*x + exp(-x**2)", "(x+y)*(x+y)/(x-y)"])
def test_the_graph_has_one_node_per_operation(text: str) -> None:
    e = gc.parse(text)
    point = {v: 0.5 + k for k, v in enumerate(e.variables)}
    page = gc.explain(e, at=point).html
    graph = re.search(r'<svg class="graph".*?</svg>', page, re.S).group()
    ovals = re.findall(r'<g class="oval" id="node-(n\d+)_op">', graph)
    assert len(ovals) == _operations(e)
    boxes = set(re.findall(r'<g class="box" id="(node-n\d+)">', graph))
    forward = re.findall(r'<tr id="fwd-[^"]+" data-node="([^"]+)">', page)
    assert len(forward) == _operations(e) + len(e.variables)
    assert set(forward) == boxes  # every row links to a box, one box per row
    for key in forward:
        assert f'href="#{key}"' in page


def test_the_trace_rows_and_code_lines_link_to_their_nodes(worked: str) -> None:
    # v8 = cos(v7): its forward row, the code's cos_8 and the adjoint line from it all point at one box.
    row = re.search(r'<tr id="fwd-v8" data-node="(node-n\d+)">', worked).group(1)
    assert re.search(rf'<a href="#{row}">cos_8</a> = math\.cos\(add_7\)', worked)
    assert re.search(rf'<a href="#{row}">cos_8 = math\.cos\(add_7\)</a>', worked)  # in "# from ..."
    assert 'class="line" id="code-' in worked and "d_add_7" in worked
    backward = re.findall(r"<tr data-node=", worked)
    assert len(backward) == 14  # the seed and 13 chain-rule steps


def test_the_check_table_has_the_three_methods_and_tolerances(worked: str) -> None:
    page = _Page(worked)
    headers = [t for tag, t in page.text if tag == "th"]
    for h in ("autograd", "sympy (exact)", "central difference", "|AD − sympy|", "|AD − FD|"):
        assert h in headers
    assert "6.95892427466" in worked and "3.91784854933" in worked
    assert "1e-12 + 1e-12·|sympy|" in worked and "1e-05 + 0.001·|FD|" in worked
    assert "Passed: the three methods agree" in worked
    verdicts = [t for tag, t in page.text if tag == "span" and t in ("agree", "disagree")]
    assert verdicts == ["agree", "agree"]  # one per partial, both comparisons made


@pytest.mark.parametrize("formula, at, cell", [
    ("log(x)", {"x": 1e-7}, "agree (FD n/a)"),
    ("sign(acos(0.9*tanh(y)))", {"y": 0.0}, "agree (sympy n/a)"),
])
def test_a_check_row_names_the_comparison_it_could_not_make(formula: str, at: dict, cell: str) -> None:
    from gradcore.viz._explain_sections import check_section

    section = check_section(gc.parse(formula), at)
    assert f'<span class="ok">{cell}</span>' in section and ">agree<" not in section


def test_the_derivation_summary_counts_its_steps_in_words() -> None:
    one = gc.explain("log(x)", {"x": 2.0}).html
    assert "How it is derived: 1 step, one rule of the table<" in one
    assert re.search(r"How it is derived: \d+ steps, one rule of the table each<", gc.explain(WORKED, AT).html)


def test_a_check_row_with_no_comparison_is_not_an_agreement() -> None:
    from gradcore.viz._explain_sections import _row_verdict

    assert ">not checked<" in _row_verdict(None, None)
    assert ">disagree<" in _row_verdict(False, None) and ">disagree<" in _row_verdict(True, False)
    assert ">agree<" in _row_verdict(True, True)


def test_the_descent_section(descent: str) -> None:
    assert "Status <span class=\"ok\">converged</span>" in descent
    assert "x = -1" in descent and "Quasi-Newton" in descent  # bfgs's update rule, from its docstring
    titles = re.findall(r'<svg class="chart"[^>]*><title>([^<]*)</title>', descent)
    assert len(titles) == 2 and titles[0].startswith("the landscape: f along x")
    two = gc.explain(WORKED, minimize=True, method="gd", start=AT, max_iter=50).html
    assert "contour lines of f over x and y" in two and "Status <span class=\"bad\">max_iter</span>" in two
    assert "x &lt;- x - lr * grad f(x)" in two  # gd's rule, escaped
    three = gc.explain("x**2 + y**2 + z**2", maximize=True).html
    assert "there is no landscape to draw" in three and "unbounded" in three


def test_accessibility(worked: str, descent: str) -> None:
    for text in (worked, descent):
        page = _Page(text)
        levels = [int(t[1]) for t, _ in page.tags if re.fullmatch(r"h[1-6]", t)]
        assert levels[0] == 1 and levels.count(1) == 1
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:])), levels  # no level skipped
        for svg in re.findall(r"<svg\b.*?</svg>", text, re.S):
            assert re.match(r"<svg[^>]*>\s*<title>[^<]+</title>", svg), svg[:200]
        tables = re.findall(r"<table>.*?</table>", text, re.S)
        assert tables and all("<th " in t and "<caption>" in t for t in tables)
        assert re.search(r'<html lang="en">', text) and "prefers-color-scheme: dark" in text
        assert "@media print" in text


def test_self_contained_small_and_offline(worked: str, descent: str) -> None:
    for text in (worked, descent, gc.explain(WORKED, minimize=True, method="gd", start=AT).html):
        assert len(text.encode("utf-8")) < 200_000
        urls = set(re.findall(r"https?://[^\s\"'<>)]+", text))
        assert urls <= {"http://www.w3.org/2000/svg", "http://www.w3.org/1998/Math/MathML"}, urls
        page = _Page(text)
        assert all(not a.get("src") for _, a in page.tags)  # nothing loaded: no script, image or font file
        assert [a.get("href") for a in page.named("link")] == ["data:,"]
        assert "@import" not in text and "url(" not in text


def _assert_inert(text: str, hostile: str) -> None:
    """No element or attribute outside the page's own vocabulary, one script (gradcore's own), and
    the hostile text present only as text."""
    page = _Page(text)
    assert {t for t, _ in page.tags} <= ALLOWED
    assert len(page.named("script")) == 1 and "function gcMark" in text
    for _, attrs in page.tags:
        assert not any(k.startswith("on") for k in attrs), attrs
        assert all(not (v or "").lstrip().lower().startswith("javascript:") for v in attrs.values())
    assert hostile not in text  # every occurrence is escaped ...
    assert any(hostile in data for _, data in page.text)  # ... and reads as text


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>&amp;'


@pytest.mark.parametrize("at", [{"script": 1.5, "onerror": 2.0}, {"script": -1.0, "onerror": 2.0}])
def test_hostile_names_and_text_are_escaped_everywhere(at: dict) -> None:
    # Variable names are identifiers, so the hostile text rides in a named constant, which every
    # printer shows by its name; the names themselves are words a careless page would turn into markup.
    c = gc.const(3.0, name=HOSTILE)
    script, onerror = gc.var("script"), gc.var("onerror")
    f = c * script ** 2 + (script * onerror).log() + onerror.sin()
    for page in (gc.explain(f, at=at), gc.explain(f, at=at, minimize=True, max_iter=5)):
        _assert_inert(page.html, HOSTILE)
        assert "<mi>script</mi>" in page.html
    # At script = -1 the log is undefined: the error messages, which quote the point, are escaped too.
    if at["script"] < 0:
        assert 'class="error"' in gc.explain(f, at=at).html


def test_hostile_text_in_errors_is_escaped() -> None:
    # A domain error's message names the formula's own constant; it reaches the page as text only.
    c = gc.const(-1.0, name=HOSTILE)
    f = (gc.var("x") * c).sqrt()
    text = gc.explain(f, at={"x": 2.0}).html
    _assert_inert(text, HOSTILE)
    assert text.count('class="error"') >= 2


def test_the_page_object() -> None:
    page = gc.explain("x**2", at={"x": 3.0})
    assert str(page) == page.html and page.sections == ("formula", "graph", "trace", "code", "check")
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and "<script>" not in frame and "&lt;script&gt;" in frame
    assert "ExplainPage" in repr(page)


def test_bad_calls_say_what_is_wrong() -> None:
    with pytest.raises(gc.GradcoreError, match="not both"):
        gc.explain("x", minimize=True, maximize=True)
    with pytest.raises(gc.GradcoreError, match="for the descent"):
        gc.explain("x", method="gd")
    with pytest.raises(gc.GradcoreError, match="unknown option"):
        gc.explain("x", minimize=True, colour="red")
    with pytest.raises(gc.GradcoreError, match="no value given for y"):
        gc.explain("x*y", at={"x": 1})


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradcore", "explain", *argv], capture_output=True,
                          text=True, timeout=180)


def test_command_line(tmp_path) -> None:
    out = tmp_path / "page.html"
    run = _cli(WORKED, "--at", "x=1,y=2", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert run.stdout == "" and "wrote" in run.stderr
    assert out.read_text(encoding="utf-8") == gc.explain(WORKED, at=AT).html
    run = _cli("x**2+2*x+3", "--minimize", "--method", "gd", "--start", "x=5", "--max-iter", "20")
    assert run.returncode == 0 and run.stdout.startswith("<!DOCTYPE html>")
    assert 'id="descent"' in run.stdout and "max_iter" in run.stdout
    for argv, message in ((["x+"], "expected"), (["x", "--method", "gd"], "for the descent"),
                          (["x", "--minimize", "--method", "nope"], "unknown method"),
                          (["x*y", "--at", "x=1"], "no value for y"),
                          (["x", "--minimize", "--maximize"], "not allowed with")):
        run = _cli(*argv)
        assert run.returncode == 2 and message in run.stderr and "Traceback" not in run.stderr, run.stderr
        assert len(run.stderr.strip().splitlines()) <= 3


def test_a_long_derivation_is_cut_short_and_the_page_stays_bounded() -> None:
    text = gc.explain("*".join(["(x+y)"] * 40), at={"x": 1.0, "y": 2.0}).html
    assert text.count("more steps, not shown") == 2 and "gradcore diff --var x --steps" in text
    assert len(text.encode("utf-8")) < 400_000


@pytest.mark.parametrize("formula", ["-o*x", "-(x**2)+4*x"])
def test_a_formula_may_start_with_a_minus_even_beside_o(formula: str, tmp_path) -> None:
    out = tmp_path / "page.html"
    run = _cli(formula, "--maximize", "--max-iter", "3", "-o", str(out))
    assert run.returncode == 0, run.stderr
    assert f"<title>f = {gc.parse(formula)} · gradcore explain</title>" in out.read_text(encoding="utf-8")
