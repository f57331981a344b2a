"""Benchmark: hostile formulas on the command line, each well inside the parser's limits.

Times the whole process (`python -m gradcore diff|minimize|grad|check FORMULA`, interpreter start
included) for every shape of tests/test_bounded.py: power towers, long quotients, sums and products,
nested compositions, continued fractions, runs of minus signs, long names, many variables. The
target is under one second each, answered or refused with a one-line message. Best of 3 runs.
Byte-code is cached, as an installed package's is, in a private folder even where
PYTHONDONTWRITEBYTECODE is set (so the first run of each command compiles gradcore, the next do not).

Run: python3 benchmarks/bench_bounded.py [SHAPE ...]   (names from the first column; default all)
"""

from __future__ import annotations

import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
ROOT = Path(os.environ.get("BENCH_ROOT") or HERE)  # the checkout whose command line is timed
sys.path.insert(0, str(HERE))  # run from a checkout, uninstalled
sys.path.insert(0, str(HERE / "tests"))  # the shapes live with the tests that check their output
from test_bounded import COMMANDS, SHAPES, arguments  # noqa: E402

TARGET = 1.0  # seconds, whole process
RUNS = int(os.environ.get("BENCH_RUNS", 3))
GIVE_UP = float(os.environ.get("BENCH_GIVE_UP", 60))  # seconds; a run past this is shown as "> 60 s"


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def best_time(argv: list[str]) -> tuple[float, float, int, int]:
    """(best wall time and best CPU time of RUNS runs, exit status, characters printed) of one
    command line. CPU time is shown too: on a shared, busy machine it is the steadier of the two."""
    wall, cpu, status, printed = float("inf"), float("inf"), 0, 0
    for _ in range(RUNS):
        start, used = time.perf_counter(), _cpu()
        try:
            done = subprocess.run([sys.executable, "-m", "gradcore", *argv], capture_output=True, text=True,
                                  cwd=ROOT, timeout=GIVE_UP, env=_ENV)
        except subprocess.TimeoutExpired:
            return math.inf, math.inf, -1, 0
        wall, cpu = min(wall, time.perf_counter() - start), min(cpu, _cpu() - used)
        status, printed = done.returncode, len(done.stdout) + len(done.stderr)
    return wall, cpu, status, printed


def main(names: list[str]) -> None:
    shapes = {k: v for k, v in SHAPES.items() if not names or k in names}
    print(f"| shape | chars | " + " | ".join(COMMANDS) + " |")
    print("|---|---:|" + "---:|" * len(COMMANDS))
    worst = 0.0
    for name, text in shapes.items():
        cells = []
        for command in COMMANDS:
            wall, cpu, status, printed = best_time(arguments(command, text))
            worst = max(worst, wall)
            cells.append(f"> {GIVE_UP:.0f} s" if status < 0 else f"{wall:.2f} s ({cpu:.2f}) [{status}] {printed:,}")
        print(f"| {name} | {len(text):,} | " + " | ".join(cells) + " |", flush=True)
    print(f"\neach cell: best of {RUNS} wall times (CPU time), [exit status], characters printed; "
          f"worst wall time {worst:.2f} s against a target of {TARGET:.0f} s")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as cache:
        _ENV["PYTHONPYCACHEPREFIX"] = cache
        main(sys.argv[1:])
