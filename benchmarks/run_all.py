"""Run every benchmark, each in its own process, and print one table of figures against their targets.

A regression guard, not a test: the test suite has no timing assertions. Each row is read from the
line the benchmark prints; a figure that misses its target is marked MISS, a row whose line was not
found is marked "not found" (the benchmark changed its output or failed; its output is shown).
Run: python3 benchmarks/run_all.py [--quick]   (--quick: fewer repeats, the slowest parts skipped)
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
NUMBER = r"([0-9][0-9,]*\.?[0-9]*)"


class Row(NamedTuple):
    script: str
    name: str
    pattern: str       # a regex whose first group is the figure
    target: float
    unit: str
    lower: bool = True  # True: the figure must be <= target; False: >= target


# The targets of docs/performance.md, one row each.
ROWS: list[Row] = [
    Row("bench_minimize.py", "minimize gd, 693 steps / hand loop (f' only)",
        r"gradcore\.minimize\(parsed expr, method='gd'\)\s+" + NUMBER + "x", 1.5, "x"),
    Row("bench_minimize.py", "minimize max_iter=1 call (fixed cost)",
        r"max_iter=1\) call\s+" + NUMBER + " us", 30.0, "us"),
    Row("bench_minimize.py", "CLI minimize start-up / import numpy (medians)",
        r"python -m gradcore minimize \"x\*\*2\+2\*x\+3\"\s+" + NUMBER + "x", 1.15, "x"),
    Row("bench_tensor.py", "Tensor regression 1e5 rows, spelled-out loss / numpy",
        r"100,000 x 3: spelled-out loss " + NUMBER + "x", 1.3, "x"),
    Row("bench_tensor.py", "Tensor regression 1e5 rows, mse_loss / spelled-out",
        r"100,000 x 3: .*?= " + NUMBER + "x the spelled-out", 1.0, "x"),
    Row("bench_tensor.py", "Tensor regression 1e6 rows, spelled-out loss / numpy",
        r"1,000,000 x 3: spelled-out loss " + NUMBER + "x", 1.3, "x"),
    Row("bench_tensor.py", "Tensor regression 1e6 rows, mse_loss / spelled-out",
        r"1,000,000 x 3: .*?= " + NUMBER + "x the spelled-out", 1.0, "x"),
    Row("bench_value.py", "Value one gradient / closure engine",
        r"Value / closure engine: " + NUMBER + "x", 0.5, "x"),
    Row("bench_value.py", "Value chain of 1e6 ops, build + backward",
        r"Value: " + NUMBER + " us per operation", 1.5, "us/op"),
    Row("bench_value.py", "Value memory per chain node",
        r"Value: " + NUMBER + " bytes", 200.0, "B"),
    Row("bench_compile.py", "compiled gradient at a point / hand-written",
        r"hand-written Python = " + NUMBER + "x", 2.0, "x"),
    Row("bench_compile.py", "compiled gradient at 1e6 points / numpy",
        r"hand-written numpy = " + NUMBER + "x", 1.2, "x"),
    Row("bench_compile.py", "cold compile",
        r"compile time, cold: " + NUMBER + " ms", 5.0, "ms"),
    Row("bench_fit.py", "fit full-batch gd / numpy",
        r"full-batch gd, 100 epochs, .*?numpy:\s+" + NUMBER + "x", 1.3, "x"),
    Row("bench_fit.py", "fit mini-batch / numpy",
        r"mini-batch \d+, one epoch, .*?numpy:\s+" + NUMBER + "x", 1.5, "x"),
    Row("bench_fit.py", "fit streaming CSV, peak resident memory",
        r"peak resident memory of the process " + NUMBER + " MB", 200.0, "MB"),
    Row("bench_dataloader.py", "Tensor + DataLoader epoch / numpy",
        r"gradcore Tensor \+ DataLoader: " + NUMBER + "x", 3.0, "x"),
    Row("bench_simplify.py", "derivatives no larger than sympy diff",
        r"no larger than sympy diff: \d+/\d+ = " + NUMBER + "%", 90.0, "%", lower=False),
    Row("bench_bounded.py", "hostile inputs: slowest command, wall time",
        r"worst wall time " + NUMBER + " s", 1.0, "s"),
    Row("bench_simplify.py", "time per derivative, sympy / gradcore",
        r"sympy diff / gradcore diff = " + NUMBER + "x", 10.0, "x", lower=False),
]

# What --quick passes to each script; a script not listed here is skipped by --quick (its
# figures then read "skipped"), since its quick form, if any, is not known.
QUICK_ARGS: dict[str, list[str]] = {
    "bench_minimize.py": ["--quick"], "bench_tensor.py": ["--quick"], "bench_value.py": ["--quick"],
    "bench_dataloader.py": ["--repeat", "2"], "bench_compile.py": [],
}


def run(script: str, quick: bool) -> tuple[str | None, float, int]:
    """The script's output (None if skipped), its wall time in seconds and its exit status."""
    args: list[str] | None = QUICK_ARGS.get(script) if quick else []
    if args is None:
        return None, 0.0, 0
    t = time.perf_counter()
    p = subprocess.run([sys.executable, str(HERE / script), *args], capture_output=True, text=True,
                       cwd=HERE.parent)
    out = p.stdout + (f"\n[exit {p.returncode}]\n{p.stderr}" if p.returncode else "")
    return out, time.perf_counter() - t, p.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats; skip the slowest benchmarks")
    args = parser.parse_args()
    scripts = sorted(p.name for p in HERE.glob("bench_*.py"))
    outputs: dict[str, str | None] = {}
    failed: list[str] = []
    for script in scripts:
        out, seconds, status = run(script, args.quick)
        outputs[script] = out
        if status:
            failed.append(script)
        print(f"ran {script:<22} {'skipped (--quick)' if out is None else f'{seconds:6.1f} s'}",
              file=sys.stderr)
    print(f"{'benchmark':<56} {'figure':>10} {'target':>12}  verdict")
    misses = 0
    for row in ROWS:
        out = outputs.get(row.script)
        target = f"{'<=' if row.lower else '>='} {row.target:g} {row.unit}"
        if out is None:
            print(f"{row.name:<56} {'-':>10} {target:>12}  skipped")
            continue
        m = re.search(row.pattern, out)
        if m is None:
            print(f"{row.name:<56} {'?':>10} {target:>12}  not found")
            misses += 1
            continue
        value = float(m.group(1).replace(",", ""))
        ok = value <= row.target if row.lower else value >= row.target
        misses += not ok
        print(f"{row.name:<56} {value:>10g} {target:>12}  {'met' if ok else 'MISS'}")
    # Benchmarks with no row here (a new script) are listed, so that nothing runs unseen.
    known = {r.script for r in ROWS}
    for script in scripts:
        if script not in known and outputs[script] is not None:
            print(f"\n{script} (no rows in run_all.py; its output):\n{outputs[script]}")
    for script in failed:  # by its exit status: an output may well mention "exit"
        print(f"\n{script} failed:\n{outputs[script]}")
    print(f"\n{misses} figure(s) missed or not found, {len(failed)} benchmark(s) failed; timings are noisy "
          f"on a shared machine: run twice")
    return 1 if misses or failed else 0


if __name__ == "__main__":
    sys.exit(main())
