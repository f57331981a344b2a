"""The look of an explain page: its style sheet (light and dark schemes from the reader's system setting,
a print style) and its few lines of script, which only add hover highlights and open the derivations
for printing; the page reads the same with scripts off.
"""

from __future__ import annotations

__all__ = ["CSS", "SCRIPT"]

# Colours are chosen for contrast: body text and links at least 7:1 on their background in both
# schemes, muted text at least 4.5:1, lines and marks of the pictures at least 3:1.
CSS = """
:root { color-scheme: light dark;
  --bg: #ffffff; --fg: #1a1a1a; --muted: #4d4d4d; --accent: #0b57a4; --border: #bdbdbd;
  --panel: #f4f5f7; --hl: #fff0a8; --ok: #116329; --bad: #a4161a; --edge: #555555;
  --node: #ffffff; --input: #dbeafe; --output: #d9f99d; --op: #eeeeee; --path: #c0362c;
  --level0: #1d4ed8; --level1: #7c3aed; --level2: #b45309; }
@media (prefers-color-scheme: dark) { :root {
  --bg: #121417; --fg: #e9e9e9; --muted: #b8b8b8; --accent: #8cc4ff; --border: #4a4f57;
  --panel: #1d2127; --hl: #5a4a00; --ok: #7ee2a0; --bad: #ff9b94; --edge: #a9b0b8;
  --node: #1d2127; --input: #173253; --output: #2c4410; --op: #2e333a; --path: #ff8a7a;
  --level0: #7fb0ff; --level1: #c4a4ff; --level2: #f5b45a; } }
* { box-sizing: border-box; }
html { background: var(--bg); color: var(--fg); }
body { margin: 0 auto; max-width: 68rem; padding: 1rem clamp(0.75rem, 3vw, 2rem) 3rem;
  font: 17px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
  overflow-wrap: anywhere; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 0.5rem 0 0.25rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 0.5rem; padding-top: 0.6rem; border-top: 2px solid var(--border); }
h3 { font-size: 1.05rem; margin: 1.3rem 0 0.4rem; }
p { margin: 0.4rem 0 0.7rem; }
a { color: var(--accent); }
code, pre, .mono { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 0.88em; }
.lead { color: var(--muted); margin-top: 0; }
nav ol { display: flex; flex-wrap: wrap; gap: 0.2rem 1.4rem; list-style: none; padding: 0; margin: 0.5rem 0; }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid var(--border); border-radius: 6px;
  background: var(--panel); padding: 0.5rem; margin: 0.5rem 0 0.8rem; }
.scroll:focus { outline: 2px solid var(--accent); }
math { font-size: 1.15em; }
math[display="block"] { margin: 0.3rem 0; }
.formula { overflow-x: auto; max-width: 100%; padding: 0.2rem 0; }
details { margin: 0.3rem 0 0.9rem; }
summary { cursor: pointer; color: var(--accent); }
ol.steps li { margin: 0.45rem 0; }
.step { overflow-x: auto; max-width: 100%; }
.rule { font-weight: 600; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; width: max-content; min-width: 100%; }
caption { text-align: left; color: var(--muted); padding: 0 0 0.3rem; }
th, td { border-bottom: 1px solid var(--border); padding: 0.2rem 0.6rem; text-align: left; vertical-align: top; }
th { font-weight: 600; }
td.num, th.num { text-align: right; }
tr[data-node]:hover, tr[data-node]:focus-within, tr:target, .line:target, .line[data-node]:hover { background: var(--hl); }
.ok { color: var(--ok); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); font-size: 0.95em; }
.error { border-left: 4px solid var(--bad); padding: 0.3rem 0.7rem; background: var(--panel); }
pre.code { margin: 0; line-height: 1.45; }
pre.code .line { display: block; padding: 0 0.3rem; }
pre.code .comment { color: var(--muted); }
pre.code a { color: inherit; text-decoration-color: var(--accent); }
svg { display: block; }
svg text { fill: var(--fg); }
svg .background { fill: var(--panel); }
svg.graph path { stroke: var(--edge); }
svg.graph polygon, svg.graph .edge text { fill: var(--edge); }
svg.graph rect, svg.graph ellipse { stroke: var(--fg); }
svg.graph rect[fill="white"] { fill: var(--node); }
svg.graph rect[fill="#dbeafe"] { fill: var(--input); }
svg.graph rect[fill="#d9f99d"] { fill: var(--output); }
svg.graph ellipse { fill: var(--op); }
svg.graph rect.background { fill: var(--panel); stroke: none; }
svg.graph line { stroke: var(--border); }
svg.graph g:target rect, svg.graph g.hl rect, svg.graph g:target ellipse, svg.graph g.hl ellipse {
  stroke: var(--path); stroke-width: 3; }
svg.chart { max-width: 100%; height: auto; }
svg.chart .axis { stroke: var(--fg); }
svg.chart .gridline { stroke: var(--border); }
svg.chart .curve { stroke: var(--accent); }
svg.chart .path { stroke: var(--path); }
svg.chart .mark { fill: var(--path); }
svg.chart .l0 { stroke: var(--level0); } svg.chart .l1 { stroke: var(--level1); } svg.chart .l2 { stroke: var(--level2); }
footer { margin-top: 3rem; color: var(--muted); font-size: 0.9em; }
@media print {
  :root { color-scheme: light; --bg: #fff; --fg: #000; --muted: #333; --accent: #000; --panel: #fff;
    --border: #999; --node: #fff; --input: #e8f0fe; --output: #eef9d8; --op: #f0f0f0; --edge: #444;
    --hl: transparent; }
  body { max-width: none; font-size: 11pt; padding: 0; }
  nav, summary::marker { display: none; }
  .scroll { overflow: visible; border: 0; padding: 0; }
  svg.graph { max-width: 100%; height: auto; min-width: 0 !important; }
  pre.code { white-space: pre-wrap; }
  .step, .formula { overflow: visible; } ol.steps math { font-size: 0.9em; }
  table { width: 100%; min-width: 0; font-size: 9pt; }
  h2 { break-after: avoid; }
  table, svg, pre, figure, li { break-inside: avoid; }
  a { text-decoration: none; }
}
"""

# Hovering (or focusing) a row of a trace table or a line of code highlights its node in the graph;
# the same rows link to the node by anchor, so without scripts a click shows it (:target). Printing
# opens every derivation.
SCRIPT = """
function gcMark(e) {
  document.querySelectorAll("svg.graph .hl").forEach(function (n) { n.classList.remove("hl"); });
  var row = e.target.closest ? e.target.closest("[data-node]") : null;
  var node = row ? document.getElementById(row.getAttribute("data-node")) : null;
  if (node) { node.classList.add("hl"); }
}
document.addEventListener("mouseover", gcMark);
document.addEventListener("focusin", gcMark);
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("details").forEach(function (d) { d.open = true; });
});
"""
