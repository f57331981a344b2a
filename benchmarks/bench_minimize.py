"""Benchmark: gradcore.minimize's descent loop and the command line's start-up, as ratios.

1. Worked example 1 (x**2+2*x+3 from x = 5, lr 0.01, tol 1e-5: 693 steps) through gradcore.minimize
   on a parsed expression, against a hand-written Python loop that computes f' only, timed in the
   same process (target: at most 1.5x), and the source tutorials' loop that substitutes into sympy
   at every step. The fixed cost of a call is the time of a max_iter=1 call (target: at most 30 us).
2. `python -m gradcore minimize "x**2+2*x+3"` against `python -c "import numpy"` (target: at most
   1.15x, medians of 15 interleaved runs), with the gradcore modules that cost the most to import.

Run: python3 benchmarks/bench_minimize.py [--quick]
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import gradcore as gc  # noqa: E402

LR, TOL, X0 = 0.01, 1e-5, 5.0
QUICK = "--quick" in sys.argv[1:]  # fewer rounds, no sympy loop: for benchmarks/run_all.py --quick
_CACHE = ""  # the byte-code cache folder of the start-up runs (a temporary directory)


def hand_loop() -> float:
    """The tutorials' loop, written by hand: f'(x) = 2x + 2, step until |f'(x)| < tol."""
    def df(x: float) -> float:
        return 2 * x + 2
    x = X0
    while True:
        g = df(x)
        if abs(g) < TOL:
            return x
        x = x - LR * g


def hand_loop_with_f() -> float:
    """The same loop evaluating f as well, which gradcore does at every step (for its status tests)."""
    def f_and_df(x: float) -> tuple[float, float]:
        return x * x + 2 * x + 3, 2 * x + 2
    x = X0
    while True:
        f, g = f_and_df(x)
        if abs(g) < TOL:
            return x
        x = x - LR * g


def best(fn, number: int, repeat: int = 7) -> float:
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def interleaved(fns: list, number: int, rounds: int = 15, timer=time.perf_counter) -> list[float]:
    """The best time per call of each function, measured in alternating rounds so that load from
    other processes on the machine falls on all of them alike. timer=time.thread_time counts only
    this thread's CPU time, which time spent waiting for a busy core does not inflate."""
    times = [[] for _ in fns]
    for _ in range(rounds):
        for t, fn in zip(times, fns):
            t.append(timeit.Timer(fn, timer=timer).timeit(number=number) / number)
    return [min(t) for t in times]


def sympy_loop_per_step(steps: int = 40) -> float:
    """The source's style: re-substitute into sympy's derivative at every step (time per step)."""
    import sympy as sp

    x = sp.Symbol("x")
    df = sp.diff(x ** 2 + 2 * x + 3, x)

    def run() -> None:
        xv = X0
        for _ in range(steps):
            g = df.subs(x, xv)
            if abs(g) < TOL:
                break
            xv = xv - LR * g

    return best(run, number=1, repeat=3) / steps


def descent() -> float:
    expr = gc.parse("x**2+2*x+3")
    r = gc.minimize(expr, start=X0, method="gd", lr=LR, tol=TOL)
    assert r.nit == 693 and r.x[0] == hand_loop(), (r.nit, r.x[0])
    vg = gc.compile(expr).value_and_grad

    def compiled_loop() -> float:
        """The bare loop around gradcore's compiled f and f' (what minimize adds is the rest)."""
        x = X0
        while True:
            f, (g,) = vg(x)
            if abs(g) < TOL:
                return x
            x = x - LR * g

    t_hand, t_hand_f, t_comp, t_gc, t_one = interleaved(
        [hand_loop, hand_loop_with_f, compiled_loop,
         lambda: gc.minimize(expr, start=X0, method="gd", lr=LR, tol=TOL),
         lambda: gc.minimize(expr, start=X0, method="gd", lr=LR, tol=TOL, max_iter=1)], 20,
        rounds=5 if QUICK else 15)
    cpu_hand, cpu_gc, cpu_one = interleaved(
        [hand_loop, lambda: gc.minimize(expr, start=X0, method="gd", lr=LR, tol=TOL),
         lambda: gc.minimize(expr, start=X0, method="gd", lr=LR, tol=TOL, max_iter=1)], 20,
        rounds=5 if QUICK else 15, timer=time.thread_time)
    t_sympy = math.nan if QUICK else sympy_loop_per_step() * r.nit
    ratio = t_gc / t_hand
    print(f"descent: {r.nit} steps of gd on x**2+2*x+3 from x=5 (ratios to a hand-written Python loop)")
    print(f"  hand-written loop (f' only)                     1.00x")
    print(f"  hand-written loop (f and f')                    {t_hand_f / t_hand:5.2f}x")
    print(f"  bare loop on gradcore.compile(expr)             {t_comp / t_hand:5.2f}x")
    print(f"  gradcore.minimize(parsed expr, method='gd')     {ratio:5.2f}x   target <= 1.5x: "
          f"{'met' if ratio <= 1.5 else 'NOT MET'}")
    print(f"  the source's sympy subs loop (per-step, x693)  {t_sympy / t_hand:7.0f}x")
    print(f"  the same, in CPU time of this thread            {cpu_gc / cpu_hand:5.2f}x")
    us = t_one * 1e6
    print(f"  fixed cost: one minimize(..., max_iter=1) call  {us:5.1f} us   target <= 30 us: "
          f"{'met' if us <= 30 else 'NOT MET'}  (the hand-written loop takes {t_hand * 1e6:.1f} us)")
    print(f"  the same, in CPU time of this thread            {cpu_one * 1e6:5.1f} us")
    return ratio


def _env() -> dict[str, str]:
    # Byte-code is cached as an installed package's would be: in a private folder (outside the work
    # tree), even where PYTHONDONTWRITEBYTECODE is set, so that start-up is not timed as compilation.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)
    env["PYTHONPYCACHEPREFIX"] = _CACHE
    return env


def _wall(cmd: list[str], runs: int) -> list[float]:
    env = _env()
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       cwd=ROOT)
        out.append(time.perf_counter() - t)
    return out


def _import_costs() -> list[tuple[str, int]]:
    """Self import time of each gradcore module (python -X importtime), largest first; a
    subpackage (gradcore.optimize, ...) counts as one, its modules summed."""
    env = _env()
    p = subprocess.run([sys.executable, "-X", "importtime", "-c", "import gradcore.cli"],
                       capture_output=True, text=True, env=env, cwd=ROOT)
    costs: dict[str, int] = {}
    for line in p.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[2].strip().startswith("gradcore"):
            name = ".".join(parts[2].strip().split(".")[:2])
            costs[name] = costs.get(name, 0) + int(parts[0].split(":")[1])
    return sorted(costs.items(), key=lambda c: -c[1])


def startup(runs: int = 15) -> float:
    py = sys.executable
    for cmd in ([py, "-c", "import numpy"], [py, "-m", "gradcore", "minimize", "x"]):
        _wall(cmd, 1)  # warm-up: fills the byte-code cache
    # Interleave the three commands so that machine noise hits them alike.
    numpy_t, gradcore_t, cli_t = [], [], []
    for _ in range(runs):
        numpy_t += _wall([py, "-c", "import numpy"], 1)
        gradcore_t += _wall([py, "-c", "import gradcore"], 1)
        cli_t += _wall([py, "-m", "gradcore", "minimize", "x**2+2*x+3"], 1)
    base_min, base_med = min(numpy_t), statistics.median(numpy_t)
    ratio = statistics.median(cli_t) / base_med
    print(f"start-up ({runs} interleaved runs each; ratios of the medians, of the minimum in brackets)")
    print(f"  python -c \"import numpy\"                        1.00x  ({base_med * 1e3:.0f} ms)")
    print(f"  python -c \"import gradcore\"                     {statistics.median(gradcore_t) / base_med:5.2f}x  "
          f"({min(gradcore_t) / base_min:.2f}x)")
    print(f"  python -m gradcore minimize \"x**2+2*x+3\"         {ratio:5.2f}x  "
          f"({min(cli_t) / base_min:.2f}x)   target <= 1.15x: "
          f"{'met' if ratio <= 1.15 else 'NOT MET'}")
    costs = _import_costs()
    total = sum(c for _, c in costs) or 1
    print("  gradcore's own import time, by module or package (share of gradcore's total self time):")
    for name, c in costs[:5]:
        print(f"    {name:<24} {c / total:6.1%}")
    return ratio


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as _CACHE:
        descent()
        print()
        startup(15)
