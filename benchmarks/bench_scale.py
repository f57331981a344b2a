"""Benchmark: the gradient of f = x**2+2*x*y+cos(x+2*y) at n points on each engine, and the sums of its
two components (so that every engine's answer can be compared and nothing big is returned).

Engines: numpy (gradcore.compile, arrays in memory), dask threaded and dask.distributed (a
LocalCluster of 2 worker processes, 1 thread each; the inputs are lazy da.linspace chunks, so no
engine holds all n points), jax.jit (after compilation), torch eager and torch.compile (after
compilation; CPU, or CUDA when available). Each engine runs in a fresh process that reports its time
(best of --repeat) and its peak resident memory (ru_maxrss of itself, plus its largest child for the
cluster's workers). Targets: dask at 1e8 points uses at most 1/10 of numpy's peak memory and is no
slower than numpy; jax.jit is within 1.5x of numpy.

Run: python3 benchmarks/bench_scale.py --n 1e7 [--n 1e8] [--repeat 3] [--only numpy,dask-threads]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout, uninstalled
import gradcore as gc  # noqa: E402

TEXT = "x**2+2*x*y+cos(x+2*y)"
# The points: x and y on two lines through [-2, 2] and [-1, 3].
X_RANGE, Y_RANGE = (-2.0, 2.0), (-1.0, 3.0)
CHUNK = 2_500_000
ENGINES = ("numpy", "dask-threads", "dask-distributed", "jax-jit", "torch-eager", "torch-compile")


def _best(run, repeat: int) -> tuple[float, list[float]]:
    best, sums = float("inf"), []
    for _ in range(repeat):
        t = time.perf_counter()
        sums = run()
        best = min(best, time.perf_counter() - t)
    return best, [float(s) for s in sums]


def _numpy(n: int, repeat: int) -> dict:
    f = gc.compile(TEXT)
    x, y = np.linspace(*X_RANGE, n), np.linspace(*Y_RANGE, n)
    f.grad(x[:10], y[:10])  # the numpy code is generated on first use

    def run():
        return [g.sum() for g in f.grad(x, y)]
    t, sums = _best(run, repeat)
    return {"seconds": t, "sums": sums}


def _dask(n: int, repeat: int, distributed: bool) -> dict:
    import dask
    import dask.array as da

    f = gc.compile(TEXT)
    x = da.linspace(*X_RANGE, n, chunks=CHUNK)
    y = da.linspace(*Y_RANGE, n, chunks=CHUNK)
    out: dict = {}
    if distributed:
        from dask.distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
        client = Client(cluster)

        def run():
            return client.gather(client.compute([g.sum() for g in f.grad(x, y)]))
        try:
            out["seconds"], out["sums"] = _best(run, repeat)
        finally:
            client.close()
            cluster.close()
    else:
        def run():
            return dask.compute(*[g.sum() for g in f.grad(x, y)], scheduler="threads", num_workers=2)
        out["seconds"], out["sums"] = _best(run, repeat)
    return out


def _jax(n: int, repeat: int) -> dict:
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    f = gc.compile(TEXT, backend="jax")
    x, y = jnp.linspace(*X_RANGE, n), jnp.linspace(*Y_RANGE, n)
    sums = jax.jit(lambda a, b: [g.sum() for g in f.grad(a, b)])
    t = time.perf_counter()
    jax.block_until_ready(sums(x, y))
    first = time.perf_counter() - t

    def run():
        return jax.block_until_ready(sums(x, y))
    seconds, s = _best(run, repeat)
    return {"seconds": seconds, "sums": s, "first_call_seconds": first - seconds}


def _torch(n: int, repeat: int, compiled: bool) -> dict:
    import torch

    device = "cuda" if torch.cuda.is_available() else "cpu"
    f = gc.compile(TEXT, backend="torch")
    x = torch.linspace(*X_RANGE, n, dtype=torch.float64, device=device)
    y = torch.linspace(*Y_RANGE, n, dtype=torch.float64, device=device)

    def sums(a, b):
        return [g.sum() for g in f.grad(a, b)]
    out = {"device": device}
    if compiled:
        sums = torch.compile(sums)
        t = time.perf_counter()
        sums(x, y)
        out["first_call_seconds"] = time.perf_counter() - t

    def run():
        s = sums(x, y)
        if device == "cuda":
            torch.cuda.synchronize()
        return [v.item() for v in s]
    out["seconds"], out["sums"] = _best(run, repeat)
    return out


def _child(engine: str, n: int, repeat: int) -> None:
    """One engine in this process; prints one JSON line."""
    run = {"numpy": lambda: _numpy(n, repeat),
           "dask-threads": lambda: _dask(n, repeat, False),
           "dask-distributed": lambda: _dask(n, repeat, True),
           "jax-jit": lambda: _jax(n, repeat),
           "torch-eager": lambda: _torch(n, repeat, False),
           "torch-compile": lambda: _torch(n, repeat, True)}[engine]
    try:
        out = run()
    except ImportError as exc:
        out = {"skipped": f"{exc.name} is not installed"}
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out.update(engine=engine, n=n, peak_mib=kib / 1024, largest_child_mib=child / 1024)
    print(json.dumps(out))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=float, action="append", help="points (repeatable); default 1e7")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--only", default=",".join(ENGINES), help="comma-separated engines")
    p.add_argument("--child", help=argparse.SUPPRESS)
    a = p.parse_args()
    sizes = [int(v) for v in (a.n or [1e7])]
    if a.child:
        _child(a.child, sizes[0], a.repeat)
        return
    for n in sizes:
        rows = []
        for engine in a.only.split(","):
            res = subprocess.run([sys.executable, __file__, "--child", engine, "--n", str(n),
                                  "--repeat", str(a.repeat)], capture_output=True, text=True)
            if res.returncode != 0:
                rows.append({"engine": engine, "skipped": res.stderr.strip().splitlines()[-1:]})
            else:
                rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
        _report(n, rows)


def _report(n: int, rows: list[dict]) -> None:
    base = next((r for r in rows if r["engine"] == "numpy" and "seconds" in r), None)
    print(f"\nn = {n:.0e} points, float64; time: best run; peak: max resident set size")
    print(f"{'engine':<18}{'seconds':>9}{'x numpy':>9}{'peak MiB':>10}{'x numpy':>9}  sums agree  notes")
    for r in rows:
        if "seconds" not in r:
            print(f"{r['engine']:<18}  skipped: {r.get('skipped')}")
            continue
        peak = r["peak_mib"] + (r["largest_child_mib"] if r["engine"] == "dask-distributed" else 0.0)
        ratio = r["seconds"] / base["seconds"] if base else float("nan")
        mem = peak / base["peak_mib"] if base else float("nan")
        agree = base is not None and np.allclose(r["sums"], base["sums"], rtol=1e-9)
        notes = []
        if "first_call_seconds" in r:
            notes.append(f"compile {r['first_call_seconds']:.1f} s")
        if r["engine"] == "dask-distributed":
            notes.append(f"client {r['peak_mib']:.0f} + largest worker {r['largest_child_mib']:.0f} MiB")
        if "device" in r:
            notes.append(r["device"])
        print(f"{r['engine']:<18}{r['seconds']:>9.3f}{ratio:>9.2f}{peak:>10.0f}{mem:>9.3f}  "
              f"{'yes' if agree else 'NO':<10}  {'; '.join(notes)}")


if __name__ == "__main__":
    main()
