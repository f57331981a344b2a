"""The explain page in a real browser: headless Chromium loads it, lays it out and runs its script.

Chromium is driven over the DevTools protocol on a pipe, with the standard library only (the client
lives in tools/make_explain_pictures.py, which makes the docs' screenshots with it). Skipped, saying
why, only where no Chromium is installed; CI installs Debian's `chromium` package first.
"""

from __future__ import annotations

import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import gradcore as gc
from gradcore.viz.explain import SECTIONS

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
from make_explain_pictures import Chromium, find_chromium  # noqa: E402

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium installed (apt-get install chromium; "
                                                          ".ci/run installs it): the page is not tested in a browser")
WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"

# What the page looks like once laid out, read in the page itself: sections, graph nodes, the size of
# every MathML formula, overflow, and the colours text is drawn in.
_PROBE = """JSON.stringify((() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
  const colour = (e, p) => getComputedStyle(e)[p];
  const body = document.body, link = document.querySelector("nav a");
  const graph = document.querySelector("svg.graph");
  return {
    sections: [...document.querySelectorAll("main > section")].map(s => s.id),
    headings: [...document.querySelectorAll("h1, h2, h3")].map(h => h.tagName),
    ovals: graph ? graph.querySelectorAll("g.oval").length : -1,
    boxes: graph ? graph.querySelectorAll("g.box").length : -1,
    graphBox: graph ? box(graph) : null,
    operations: [...document.querySelectorAll("#trace tr[id^='fwd-']")]
      .filter(r => r.cells[1].textContent !== "input").length,
    math: [...document.querySelectorAll("math")].filter(m => !m.closest("details")).map(box),
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
    text: [colour(body, "color"), colour(document.documentElement, "backgroundColor")],
    link: colour(link, "color"),
    muted: colour(document.querySelector(".lead"), "color"),
  };
})())"""


def _rgb(css: str) -> tuple[float, ...]:
    return tuple(float(v) for v in re.findall(r"[\d.]+", css)[:3])


def _contrast(a: str, b: str) -> float:
    """The WCAG contrast ratio of two CSS colours: (L1 + 0.05) / (L2 + 0.05) of their luminances."""
    def luminance(css: str) -> float:
        c = [v / 255 for v in _rgb(css)]
        c = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


@pytest.fixture(scope="module")
def browser():
    with Chromium(CHROMIUM) as b:
        yield b


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> dict[str, tuple[Path, gc.Expr]]:
    folder = tmp_path_factory.mktemp("explain")
    out = {}
    for name, text, kwargs in (("worked", WORKED, {"at": {"x": 1.0, "y": 2.0}}),
                               ("minimize", "x**2+2*x+3", {"minimize": True}),
                               ("saddle", WORKED, {"minimize": True, "method": "gd", "start": {"x": 1, "y": 2}})):
        out[name] = (gc.explain(text, **kwargs).save(folder / f"{name}.html"), gc.parse(text))
    return out


def _operations(expr: gc.Expr) -> int:
    return sum(1 for n in expr.nodes() if n.args and n.variables)


@pytest.mark.parametrize("name", ["worked", "minimize", "saddle"])
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_the_page_in_chromium(browser: Chromium, pages: dict, tmp_path: Path, name: str, width: int,
                              dark: bool) -> None:
    path, expr = pages[name]
    browser.events.clear()
    browser.open(path, width, dark=dark)
    seen = json.loads(browser.evaluate(_PROBE))
    shot = browser.screenshot(tmp_path / f"{name}-{width}.png")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000

    assert browser.errors() == []
    expected = [k for k, _ in SECTIONS if name != "worked" or k != "descent"]
    assert seen["sections"] == expected
    assert seen["headings"][0] == "H1" and seen["headings"].count("H1") == 1
    assert seen["ovals"] == seen["operations"] == _operations(expr)
    assert seen["boxes"] == _operations(expr) + len(expr.variables)
    assert seen["graphBox"][0] > 100 and seen["graphBox"][1] > 50
    # MathML is laid out natively: every formula outside a closed <details> has a real size.
    assert len(seen["math"]) >= 2 and all(w > 10 and h > 8 for w, h in seen["math"]), seen["math"]
    assert seen["scrollWidth"] <= seen["clientWidth"] == width  # no horizontal overflow
    # ... nor with every derivation opened: a long step scrolls inside its own line.
    opened = browser.evaluate('document.querySelectorAll("details").forEach(d => d.open = true); '
                              "document.documentElement.scrollWidth")
    assert opened <= width
    # Contrast, in the scheme asked for: body text and links at least 7:1, muted text 4.5:1.
    fg, bg = seen["text"]
    assert (_contrast("rgb(0,0,0)", bg) < 3) == dark  # the dark scheme is in force when asked for
    assert _contrast(fg, bg) >= 7 and _contrast(seen["link"], bg) >= 7 and _contrast(seen["muted"], bg) >= 4.5


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.details: int = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "section":
            self.ids.append(a.get("id", ""))
        self.details += tag == "details"


def test_the_dumped_dom_and_the_derivations_open(browser: Chromium, pages: dict) -> None:
    path, expr = pages["worked"]
    browser.events.clear()
    browser.open(path, 1280)
    dom = browser.evaluate("document.documentElement.outerHTML")
    tags = _Tags()
    tags.feed(dom)
    assert tags.ids == [k for k, _ in SECTIONS][:-1] and tags.details == 2
    # Opened, a derivation's steps are MathML with a size too.
    sizes = browser.evaluate("""JSON.stringify((() => {
      document.querySelectorAll("details").forEach(d => d.open = true);
      return [...document.querySelectorAll("details math")].map(m => m.getBoundingClientRect().height);
    })())""")
    heights = json.loads(sizes)
    assert len(heights) >= 9 + 8 and min(heights) > 8
    # Hovering a trace row highlights its node in the graph (the page's own script).
    lit = browser.evaluate("""(() => {
      const row = document.querySelector("#fwd-v8");
      row.dispatchEvent(new MouseEvent("mouseover", {bubbles: true}));
      const node = document.querySelector("svg.graph .hl");
      return node ? node.id === row.getAttribute("data-node") : false;
    })()""")
    assert lit is True
    # Without the script, the row's link still leads to the node (an anchor, :target).
    href = browser.evaluate("document.querySelector('#fwd-v8 a').getAttribute('href')")
    assert browser.evaluate(f"document.getElementById({json.dumps(href[1:])}).tagName") == "g"
    assert browser.errors() == []


def test_the_probes_can_fail(browser: Chromium, tmp_path: Path) -> None:
    # A page that overflows, throws and logs an error: the same probes must see all three.
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><head><meta charset="utf-8">'
                   '<meta name="viewport" content="width=device-width"><title>bad</title></head><body>'
                   '<div style="width:2000px">wide</div><math><mi>x</mi></math>'
                   '<script>console.error("logged"); null.boom();</script></body></html>', encoding="utf-8")
    browser.events.clear()
    browser.open(bad, 390)
    errors = browser.errors()
    assert any("logged" in e for e in errors) and any("Uncaught" in e or "TypeError" in e for e in errors)
    width = json.loads(browser.evaluate("JSON.stringify([document.documentElement.scrollWidth, "
                                        "document.documentElement.clientWidth])"))
    assert width[0] > width[1] == 390
    browser.events.clear()
