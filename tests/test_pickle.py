"""Compiled expressions are portable: Expr and CompiledExpr pickle by structure (the receiver compiles
again, through its cache), so they travel to multiprocessing and concurrent.futures workers and to
a dask.distributed cluster (which skips, with the reason, when dask.distributed is not installed).
"""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest

import gradcore as gc
from gradcore.codegen import DomainWarning

TEXT = "x**2 + 2*x*y + cos(x + 2*y)"


def test_compiled_expr_pickles_by_structure_to_the_cached_object():
    f = gc.compile(TEXT)
    data = pickle.dumps(f)
    assert b"def grad" not in data and len(data) < 2000  # the structure, not the code
    assert pickle.loads(data) is f
    g = gc.compile("log(x) + sqrt(y)")
    g.hessian(1.0, 2.0)
    back = pickle.loads(pickle.dumps([g, g.expr]))
    assert back[0] is g and back[1] is g.expr


def test_a_fresh_process_rebuilds_it_and_gets_the_same_numbers():
    f = gc.compile(TEXT)
    code = ("import pickle, sys; import numpy as np; f = pickle.loads(sys.stdin.buffer.read()); "
            "print(repr(f.grad(1.5, -0.5)), repr(float(f.hessian(np.array([1.5]), -0.5)[0, 0, 1])))")
    out = subprocess.run([sys.executable, "-c", code], input=pickle.dumps(f), capture_output=True, check=True)
    want = (repr(f.grad(1.5, -0.5)), repr(float(f.hessian(np.array([1.5]), -0.5)[0, 0, 1])))
    assert out.stdout.decode().split() == " ".join(want).split()


def _gradient_sum(f, lo: float, hi: float) -> list[float]:
    x = np.linspace(lo, hi, 1000)
    return [float(g.sum()) for g in f.grad(x, 0.5)]


def test_multiprocessing_and_concurrent_futures_workers():
    f = gc.compile(TEXT)
    parts = [(f, -2.0, 0.0), (f, 0.0, 2.0)]
    want = [_gradient_sum(*p) for p in parts]
    ctx = multiprocessing.get_context("spawn")  # nothing inherited: the object must really travel
    with ctx.Pool(2) as pool:
        assert pool.starmap(_gradient_sum, parts) == want
        h = gc.compile("exp(-x**2)")
        assert pool.map(h, [1.0, 2.0]) == [h(1.0), h(2.0)]  # the CompiledExpr itself is the callable
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=ctx) as ex:
        assert list(ex.map(_gradient_sum, *zip(*parts))) == want


def test_dask_distributed_cluster_with_two_worker_processes():
    distributed = pytest.importorskip("dask.distributed",
                                      reason="dask.distributed is not installed (pip install gradcore[dask])")
    import dask.array as da

    f = gc.compile("x**2 + log(x)")
    n = 40_000
    x = np.linspace(-1.0, 3.0, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        want = f.grad(x)[0]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        # The chunks of a dask computation, each run by the numpy code rebuilt in a worker.
        lazy = f.grad(da.from_array(x, chunks=10_000))[0]
        got = client.compute(lazy).result()
        np.testing.assert_array_equal(got, want)  # NaN where log(x) is undefined, as on numpy
        # A CompiledExpr sent as an argument of a task.
        g = gc.compile(TEXT)
        futures = client.map(_gradient_sum, [g, g], [-2.0, 0.0], [0.0, 2.0])
        assert client.gather(futures) == [_gradient_sum(g, -2.0, 0.0), _gradient_sum(g, 0.0, 2.0)]
        assert len(client.scheduler_info()["workers"]) == 2
