"""Benchmark: gradcore's canonical derivatives against sympy's, in size and in time.

Over a corpus of formulas (the tutorials', ones drawn from the test suite's hypothesis strategy with
a fixed seed, and hand-written textbook ones), for every partial derivative:
1. the size (operation count, see gradcore.canonical.size) of gradcore's `diff` against sympy's
   `diff` and `simplify(diff)`, all three measured on gradcore trees (sympy's results are brought
   back node by node with Expr.from_sympy), and the share where gradcore's is no larger than
   sympy's plain diff (target: at least 90%);
2. the time per derivative, gradcore's `diff` (canonical form included) against sympy's `diff`
   timed in the same process on the same formulas (target: at least 10x faster).
sympy objects are built from gradcore's trees (`to_sympy()`), never from text.

Run: python3 benchmarks/bench_simplify.py [--list]   (--list prints every derivative's sizes)
"""

from __future__ import annotations

import signal
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout, uninstalled
sys.path.insert(0, str(ROOT / "tests"))  # the hypothesis strategy lives with the tests
import sympy as sp  # noqa: E402
from hypothesis import HealthCheck, given, seed, settings  # noqa: E402

import gradcore as gc  # noqa: E402
from gradcore.canonical import size  # noqa: E402

# The tutorials' formulas (docs/worked-examples.md and the README).
TUTORIALS = [
    "x**2+2*x+3", "x**2 + 2*x*y + 3 + cos(x + 2*y)", "-(x**2)+4*x", "(x*w-y)^2", "(w*x+b-y)^2",
    "x^4-3x^2+x", "1/(1+exp(-x))", "e^x", "(x+1)(x-1)", "x^2 + 2xy + cos(x+2y)", "sigmoid(x)",
    "sqrt(x)*log(x)", "exp(-x**2)", "sin(x)*x", "(x+x)*(x+x)",
]

# Textbook exercises: polynomials, products, quotients, chains of trig, exp and log.
TEXTBOOK = [
    "3*x**5 - 2*x**3 + 7*x - 4", "x**3 + 3*x**2*y + 3*x*y**2 + y**3", "(2*x + 1)**3", "(x**2 - 1)**2",
    "x**2*(x + 1)", "(x + 1)*(x + 2)*(x + 3)", "(x**2 + 1)*(x - 1)", "x/(x + 1)", "(x + 1)/(x - 1)",
    "(x**2 + 1)/(x**2 - 1)", "1/x**2", "1/sqrt(x)", "x**(1/3)", "x*sqrt(x)", "sqrt(1 - x**2)",
    "sin(x)*cos(x)", "sin(x)**2 + cos(x)**2", "tan(x)/x", "sin(2*x)", "cos(x**2)", "sin(cos(x))",
    "exp(sin(x))", "log(cos(x))", "log(x**2 + 1)", "exp(x)*sin(x)", "exp(2*x)*cos(3*x)",
    "x*exp(-x)", "x**2*exp(x)", "x*log(x) - x", "log(log(x))", "log(x)/x", "exp(x)/(1 + exp(x))",
    "atan(x/y)", "asin(2*x)", "acos(x**2)", "sinh(x)*cosh(x)", "tanh(2*x)", "x**x", "2**x",
    "x**y", "e**(x*y)", "sqrt(x**2 + y**2)", "x*y/(x + y)", "exp(-(x**2 + y**2)/2)",
    "log(1 + exp(x))", "x**2*y**3 - 4*x*y + y**2", "sin(x*y) + cos(x - y)", "(x - y)**2 + (x + y)**2",
    "x/(1 + x**2)", "abs(x)*x", "pi*x**2", "x*e**x", "(1 - x)/(1 + x)", "exp(x)/x", "tan(x)**2",
    "cos(x)**3", "sqrt(sin(x))", "log(sqrt(x))", "sigmoid(2*x + 1)", "(3*x - 2)**4*(x + 5)**2",
]


def hypothesis_formulas(count: int) -> list:
    """`count` trees from tests/strategies.py's safe strategy, the same ones on every run."""
    from strategies import expressions
    drawn: list = []

    @seed(20261122)
    @settings(max_examples=count, database=None, derandomize=True, deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(expressions(max_leaves=8))
    def draw(e):
        if e.variables and e not in drawn:
            drawn.append(e)

    draw()
    return drawn


def corpus() -> list:
    formulas = [gc.parse(t) for t in TUTORIALS + TEXTBOOK]
    return formulas + hypothesis_formulas(260)


class _Slow(Exception):
    pass


def _alarm(signum, frame):
    raise _Slow


def measured(s) -> int | None:
    """The size of a sympy result, counted on the gradcore tree it converts to."""
    try:
        return size(gc.Expr.from_sympy(s))
    except gc.GradcoreError:
        return None


def sympy_simplified(d, seconds: int = 5):
    """simplify(d), or None when sympy takes longer than `seconds` (it can take minutes)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(seconds)
    try:
        return sp.simplify(d)
    except _Slow:
        return None
    finally:
        signal.alarm(0)


def main() -> None:
    listing = "--list" in sys.argv
    formulas = corpus()
    jobs = [(e, v) for e in formulas for v in e.variables]
    symbols = {e: e.to_sympy() for e in formulas}

    # Time: each derivative once per round, gradcore and sympy interleaved; sympy keeps its cache,
    # but a derivative is never asked twice in one round. Rounds after the first hit sympy's cache,
    # so only the first round counts for sympy; gradcore's best round counts (it caches nothing).
    ours_t, theirs_t = [], []
    for r in range(3):
        t0 = time.perf_counter()
        ours = [e.diff(v) for e, v in jobs]
        ours_t.append(time.perf_counter() - t0)
        if r == 0:
            t0 = time.perf_counter()
            theirs = [sp.diff(symbols[e], sp.Symbol(v, real=True)) for e, v in jobs]
            theirs_t.append(time.perf_counter() - t0)

    rows, no_larger, compared, simplified_sizes = [], 0, 0, []
    for (e, v), d, s in zip(jobs, ours, theirs):
        ours_size, plain = size(d), measured(s)
        simp = sympy_simplified(s)
        simp_size = measured(simp) if simp is not None else None
        if plain is not None:
            compared += 1
            no_larger += ours_size <= plain
        if simp_size is not None:
            simplified_sizes.append((ours_size, simp_size))
        rows.append((str(e), v, ours_size, plain, simp_size, str(d)))

    if listing:
        for text, v, a, b, c, d in rows:
            print(f"{a:4} {b if b is not None else '-':>4} {c if c is not None else '-':>4}  d/d{v} {text}  ->  {d}")
    n_formulas = len(formulas)
    print(f"corpus: {n_formulas} formulas ({len(TUTORIALS)} from the tutorials, {len(TEXTBOOK)} textbook, "
          f"{n_formulas - len(TUTORIALS) - len(TEXTBOOK)} from the hypothesis strategy), {len(jobs)} derivatives")
    print(f"size, median over derivatives: gradcore {statistics.median(r[2] for r in rows)}, "
          f"sympy diff {statistics.median(r[3] for r in rows if r[3] is not None)}, "
          f"sympy simplify(diff) {statistics.median(b for _, b in simplified_sizes)} "
          f"({len(simplified_sizes)} finished within 5 s)")
    print(f"size, total: gradcore {sum(r[2] for r in rows if r[3] is not None)}, "
          f"sympy diff {sum(r[3] for r in rows if r[3] is not None)}")
    print(f"gradcore no larger than sympy diff: {no_larger}/{compared} = {no_larger / compared:.1%} (target >= 90%)")
    smaller_simp = sum(a <= b for a, b in simplified_sizes)
    print(f"gradcore no larger than sympy simplify(diff): {smaller_simp}/{len(simplified_sizes)} "
          f"= {smaller_simp / len(simplified_sizes):.1%}")
    per_ours, per_theirs = min(ours_t) / len(jobs), theirs_t[0] / len(jobs)
    print(f"time per derivative: sympy diff / gradcore diff = {per_theirs / per_ours:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
