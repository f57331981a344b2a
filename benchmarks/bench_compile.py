"""Benchmark: compiled gradients of f = x**2+2*x*y+cos(x+2*y), as ratios against baselines timed here.

1. One gradient at a point: gradcore.compile(f).grad against a hand-written Python function
   (target: at most 2x; sympy lambdify is shown for comparison).
2. The same gradient at 1,000,000 points (float64 arrays) against hand-written numpy
   (target: at most 1.2x; sympy lambdify with and without cse for comparison).
3. Compile time, cold (gradcore's cache cleared): milliseconds, and the ratio to sympy diff plus
   lambdify timed in the same process (target: at most 5 ms).

Run: python3 benchmarks/bench_compile.py
"""

from __future__ import annotations

import math
import statistics
import sys
import time
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, uninstalled
import gradcore as gc  # noqa: E402

TEXT = "x**2+2*x*y+cos(x+2*y)"
N = 1_000_000


def grad_python(x: float, y: float) -> tuple[float, float]:
    """df/dx = 2x + 2y - sin(x + 2y), df/dy = 2x - 2 sin(x + 2y), by hand."""
    s = math.sin(x + 2 * y)
    return 2 * x + 2 * y - s, 2 * x - 2 * s


def grad_numpy(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The same partials as a numpy programmer would write them."""
    s = np.sin(x + 2 * y)
    return 2 * x + 2 * y - s, 2 * x - 2 * s


def best(candidates: dict, args: tuple, number: int, rounds: int) -> dict[str, float]:
    """Seconds per call of each candidate: the fastest of `rounds` rounds, rounds interleaved so that
    a noisy neighbour slows every candidate alike."""
    times: dict[str, list[float]] = {k: [] for k in candidates}
    for _ in range(rounds):
        for name, fn in candidates.items():
            t = timeit.timeit(lambda: fn(*args), number=number)
            times[name].append(t / number)
    return {k: min(v) for k, v in times.items()}


def sympy_gradient(kind: str, cse: bool = False):
    import sympy as sp
    x, y = sp.symbols("x y", real=True)
    f = gc.parse(TEXT).to_sympy().subs({sp.Symbol("x", real=True): x, sp.Symbol("y", real=True): y})
    return sp.lambdify((x, y), [sp.diff(f, x), sp.diff(f, y)], kind, cse=cse)


def compile_times(rounds: int = 30) -> tuple[float, float]:
    """Median milliseconds of a cold gradcore.compile and of sympy diff + lambdify."""
    import sympy as sp
    from sympy.core.cache import clear_cache
    expr = gc.parse(TEXT)
    x, y = sp.symbols("x y", real=True)
    s = expr.to_sympy()
    ours, theirs = [], []
    for _ in range(rounds):
        gc.compile.cache_clear()
        t = time.perf_counter()
        gc.compile(expr)
        ours.append(time.perf_counter() - t)
        clear_cache()
        t = time.perf_counter()
        sp.lambdify((x, y), [sp.diff(s, x), sp.diff(s, y)], "math")
        theirs.append(time.perf_counter() - t)
    return statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3


def main() -> None:
    f = gc.compile(TEXT)
    print(f"gradcore.compile benchmark: f = {TEXT}")
    # Every candidate must compute the same gradient before it is timed.
    point = (0.3, -1.2)
    expected = grad_python(*point)
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip(f.grad(*point), expected))

    one = best({"hand": grad_python, "compiled": f.grad, "sympy": sympy_gradient("math")},
               point, number=100_000, rounds=7)
    print(f"1. gradient at one point: compiled / hand-written Python = "
          f"{one['compiled'] / one['hand']:.2f}x (target <= 2x); "
          f"sympy lambdify / hand-written = {one['sympy'] / one['hand']:.2f}x")

    rng = np.random.default_rng(0)
    X, Y = rng.uniform(-2, 2, N), rng.uniform(-2, 2, N)
    for a, b in zip(f.grad(X, Y), grad_numpy(X, Y)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    many = best({"hand": grad_numpy, "compiled": f.grad, "sympy_cse": sympy_gradient("numpy", cse=True),
                 "sympy": sympy_gradient("numpy")}, (X, Y), number=3, rounds=15)
    print(f"2. gradient at {N:,} points: compiled / hand-written numpy = "
          f"{many['compiled'] / many['hand']:.2f}x (target <= 1.2x); sympy lambdify / hand-written = "
          f"{many['sympy_cse'] / many['hand']:.2f}x with cse, {many['sympy'] / many['hand']:.2f}x without")

    ours, theirs = compile_times()
    print(f"3. compile time, cold: {ours:.2f} ms (target <= 5 ms) = {ours / theirs:.2f}x "
          f"sympy diff + lambdify ({theirs:.2f} ms)")


if __name__ == "__main__":
    main()
