"""Compiled code on dask arrays: lazily, chunk by chunk (nothing computes the whole input), with the
numpy path's results and domain policy, and domain warnings that name the index in the whole array.
Skips when dask is not installed.
"""

from __future__ import annotations

import threading
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gradcore as gc
from gradcore.codegen import DomainWarning
from strategies import VARIABLES, expressions

da = pytest.importorskip("dask.array", reason="dask is not installed (pip install gradcore[dask])")
import dask  # noqa: E402

GRID = {v: np.linspace(-2.0, 2.0, 23) + 0.1 * k for k, v in enumerate(VARIABLES)}


def _quiet(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        return fn(*args)


def _computed(out):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        return dask.compute(out, scheduler="sync")[0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions(safe=False, max_leaves=6), chunks=st.sampled_from([4, 7, 23]))
def test_dask_results_equal_numpy(expr, chunks):
    assume(expr.variables)
    f = gc.compile(expr)
    arrays = [GRID[v] for v in expr.variables]
    lazy = [da.from_array(a, chunks=chunks) for a in arrays]
    value, grads = f.value_and_grad(*lazy)
    assert isinstance(value, da.Array) and all(isinstance(g, da.Array) for g in grads)
    want_v, want_g = _quiet(f.value_and_grad, *arrays)
    got_v, got_g = _computed((value, grads))
    np.testing.assert_array_equal(got_v, want_v)
    for a, b in zip(got_g, want_g):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(_computed(f.value(*lazy)), _quiet(f.value, *arrays))
    np.testing.assert_array_equal(_computed(f.grad(*lazy)), _quiet(f.grad, *arrays))
    h = f.hessian(*lazy)
    assert h.shape == (23, len(arrays), len(arrays))
    np.testing.assert_array_equal(_computed(h), _quiet(f.hessian, *arrays))


def test_nothing_is_computed_until_asked_and_then_chunk_by_chunk():
    seen = []
    lock = threading.Lock()

    def load(block, block_info=None):
        with lock:
            seen.append(block_info[0]["array-location"][0])
        return block

    x = da.from_array(np.linspace(0.5, 2.0, 40), chunks=10).map_blocks(load, dtype=float)
    f = gc.compile("x**2 + log(x)")
    g = f.grad(x)[0]
    v = f(x)
    assert seen == [] and g.chunks == ((10, 10, 10, 10),) and v.chunks == g.chunks
    total = g.sum().compute(scheduler="sync")
    assert sorted(seen) == [(0, 10), (10, 20), (20, 30), (30, 40)]
    np.testing.assert_allclose(total, (2 * np.linspace(0.5, 2.0, 40) + 1 / np.linspace(0.5, 2.0, 40)).sum())


def test_domain_warnings_name_the_global_index():
    x = np.linspace(1.0, 3.0, 20)
    x[13] = -1.0
    f = gc.compile("log(x)")
    with pytest.warns(DomainWarning, match=r"NaN at 1 of 5 points of a chunk \(20 in all\) outside the "
                                           r"domain; the first is index 13: log\(-1\) is undefined"):
        out = f(da.from_array(x, chunks=5)).compute(scheduler="sync")
    assert np.isnan(out[13]) and np.isfinite(np.delete(out, 13)).all()
    grid = np.ones((6, 8))
    grid[4, 6] = 0.0
    with pytest.warns(DomainWarning, match=r"the first is index \(4, 6\): ") as record:
        gx = gc.compile("sqrt(x) * y").grad(da.from_array(grid, chunks=(3, 4)), 2.0)[0]
        assert np.isnan(gx.compute(scheduler="sync")[4, 6])
    assert len(record) == 1  # only the chunk that holds the point warns


def test_broadcasting_scalars_numpy_arrays_and_integers():
    f = gc.compile("x*y + 2**x")
    x = da.from_array(np.arange(6).reshape(2, 3), chunks=(1, 3))  # integers compute as float64
    y = np.array([1.0, 2.0, 3.0])
    gx, gy = f.grad(x, y)
    assert gx.shape == (2, 3) and gx.dtype == np.float64
    want = f.grad(np.arange(6.0).reshape(2, 3), y)
    np.testing.assert_array_equal(gx.compute(), want[0])
    np.testing.assert_array_equal(gy.compute(), want[1])
    v = f(x, 1.5)
    np.testing.assert_array_equal(v.compute(), f(np.arange(6.0).reshape(2, 3), 1.5))
    x32 = da.from_array(np.linspace(0, 1, 8, dtype=np.float32), chunks=3)
    assert f.grad(x32, 2.0)[0].dtype == np.float32 and f.grad(x32, 2.0)[0].compute().dtype == np.float32


def test_threaded_scheduler_gives_the_same_sums_as_numpy():
    n = 200_000
    x, y = np.linspace(-2, 2, n), np.linspace(-1, 3, n)
    f = gc.compile("x**2+2*x*y+cos(x+2*y)")
    lazy = f.grad(da.linspace(-2, 2, n, chunks=30_000), da.linspace(-1, 3, n, chunks=30_000))
    sums = dask.compute(*[g.sum() for g in lazy], scheduler="threads")
    np.testing.assert_allclose(sums, [g.sum() for g in f.grad(x, y)], rtol=1e-12)


def test_gradient_and_hessian_of_a_formula_at_dask_points():
    x = np.linspace(0.5, 2.0, 12)
    g = gc.gradient("x*y + log(x)", {"x": da.from_array(x, chunks=5), "y": 2.0})
    assert isinstance(g["x"], da.Array)
    np.testing.assert_allclose(g["x"].compute(), 2.0 + 1 / x)
    np.testing.assert_allclose(g["y"].compute(), x)
    h = gc.hessian("x*y + log(x)", {"x": da.from_array(x, chunks=5), "y": np.ones(12)})
    assert isinstance(h, da.Array) and h.shape == (12, 2, 2)
    np.testing.assert_allclose(h.compute(), gc.hessian("x*y + log(x)", {"x": x, "y": np.ones(12)}))
    assert gc.gradient("x*y", {"x": 1.0, "y": 2.0}) == {"x": 2.0, "y": 1.0}  # points stay floats


def test_fit_on_dask_columns_streams_their_chunks():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 3000)
    y = 3 * x + 0.5 + 0.01 * rng.normal(size=3000)
    lazy = {"x": da.from_array(x, chunks=500), "y": da.from_array(y, chunks=(1000,))}
    got = gc.fit("w*x + b", lazy, method="minibatch", batch_size=50, epochs=30, seed=1)
    # The same as a stream of the same chunks, read one at a time.
    chunks = [{"x": x[i:i + 500], "y": y[i:i + 500]} for i in range(0, 3000, 500)]
    want = gc.fit("w*x + b", chunks, method="minibatch", batch_size=50, epochs=30, seed=1)
    assert got.params == want.params
    assert abs(got.params["w"] - 3.0) < 0.05 and abs(got.params["b"] - 0.5) < 0.05
