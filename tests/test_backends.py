"""The jax and torch backends of gradcore.compile: for random formulas from the shared strategy they
give the numpy path's values, gradients, Hessians and NaN masks in float64, and they trace under
jax.jit / jax.vmap / torch.compile. Each engine's tests skip when it is not installed.
"""

from __future__ import annotations

import importlib.util
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import gradcore as gc
from gradcore.codegen import DomainWarning, engine_source
from gradcore.errors import GradcoreError
from strategies import VARIABLES, expressions

HAVE = {name: importlib.util.find_spec(name) is not None for name in ("jax", "torch")}
ENGINES = [pytest.param(name, marks=pytest.mark.skipif(not HAVE[name], reason=f"{name} is not installed "
                                                        f"(pip install gradcore[{name}])"))
           for name in ("jax", "torch")]

if HAVE["jax"]:
    import jax
    jax.config.update("jax_enable_x64", True)  # float64, to compare with numpy exactly
if HAVE["torch"]:
    import torch

# Each variable's values on one grid of 17 points in [-2, 2] (0 included), shifted per variable so
# the arrays differ; the points of a formula are their broadcast.
GRID = {v: np.linspace(-2.0, 2.0, 17) + 0.1 * k for k, v in enumerate(VARIABLES)}


def _engine_arrays(engine: str, arrays: list[np.ndarray]) -> list:
    return [torch.from_numpy(a) for a in arrays] if engine == "torch" else arrays


def _numpy(a) -> np.ndarray:
    if HAVE["torch"] and isinstance(a, torch.Tensor):
        return a.detach().numpy()
    return np.asarray(a)


def _same(got, want, what: str) -> None:
    got, want = _numpy(got), np.asarray(want)
    assert got.shape == want.shape, what
    assert got.dtype == np.float64, what
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want), err_msg=f"NaN mask of {what}")
    # The engines' libm differs from numpy's by an ulp here and there, and a Hessian entry can be a
    # sum of cancelling terms: the tolerance is relative to the largest entry.
    finite = np.abs(want[np.isfinite(want)])
    scale = 1.0 + (finite.max() if finite.size else 0.0)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10 * scale, equal_nan=True, err_msg=what)


def _compare(engine: str, expr) -> None:
    assume(expr.variables)  # with no variable there is no array, and the float path raises instead
    ref = gc.compile(expr)
    f = gc.compile(expr, backend=engine)
    arrays = [GRID[v] for v in expr.variables]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        want_v, want_g = ref.value_and_grad(*arrays)
        want_h = ref.hessian(*arrays)
        want_value = ref.value(*arrays)
    args = _engine_arrays(engine, arrays)
    _same(f.value(*args), want_value, f"value of {expr}")
    v, g = f.value_and_grad(*args)
    _same(v, want_v, f"value_and_grad value of {expr}")
    for name, a, b in zip(expr.variables, g, want_g):
        _same(a, b, f"d/d{name} of {expr}")
    for a, b in zip(f.grad(*args), want_g):
        _same(a, b, f"grad of {expr}")
    _same(f.hessian(*args), want_h, f"hessian of {expr}")


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions(safe=True, max_leaves=8))
def test_engine_equals_numpy_inside_the_domain(engine, expr):
    _compare(engine, expr)


@pytest.mark.parametrize("engine", ENGINES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expr=expressions(safe=False, max_leaves=6))
def test_engine_equals_numpy_with_nan_outside_the_domain(engine, expr):
    # Any tree at all: log of negatives, division by zero, asin(2): the NaN masks must agree.
    _compare(engine, expr)


@pytest.mark.parametrize("engine", ENGINES)
def test_abs_at_zero_has_the_tables_derivative(engine):
    # Emitted, not re-derived: d|x|/dx at 0 is sign(0) = 0 as the table says (jax.grad says 1).
    f = gc.compile("abs(x)", backend=engine)
    (g,) = f.grad(*_engine_arrays(engine, [np.array([-1.0, 0.0, 2.0])]))
    np.testing.assert_array_equal(_numpy(g), [-1.0, 0.0, 1.0])


@pytest.mark.parametrize("engine", ENGINES)
def test_nan_outside_the_domain_only_where_the_inputs_are_finite(engine):
    f = gc.compile("log(x) + y", backend=engine)
    x, y = _engine_arrays(engine, [np.array([-1.0, 1.0, np.inf, 1.0]), np.array([0.0, 0.0, 0.0, np.nan])])
    v = _numpy(f.value(x, y))
    assert np.isnan(v[0]) and v[1] == 0.0 and v[2] == np.inf and np.isnan(v[3])
    # A part undefined everywhere (log(-1)) makes every point NaN.
    (g,) = gc.compile("log(-1) + x", backend=engine).grad(*_engine_arrays(engine, [np.ones(3)]))
    assert np.isnan(_numpy(g)).all() and _numpy(g).shape == (3,)


@pytest.mark.parametrize("engine", ENGINES)
def test_constant_results_take_the_inputs_shape_and_type(engine):
    f = gc.compile("x + 2*y", backend=engine)
    x, y = _engine_arrays(engine, [np.ones((2, 1), np.float32), np.ones(3, np.float32)])
    gx, gy = f.grad(x, y)
    assert _numpy(gx).shape == (2, 3) and _numpy(gx).dtype == np.float32
    np.testing.assert_array_equal(_numpy(gy), np.full((2, 3), 2.0, np.float32))
    # Python numbers and integers are accepted; integers compute as floats.
    (g,) = gc.compile("x**2", backend=engine).grad(np.array([1, 2, 3]))
    np.testing.assert_array_equal(_numpy(g), [2.0, 4.0, 6.0])


def _tutorial(engine: str) -> tuple:
    """The tutorials' formula (with a log, so some points are outside the domain) for `engine`,
    9 points, and numpy's gradient and Hessian there."""
    text = "x**2 + 2*x*y + cos(x + 2*y) + log(x)"
    ref = gc.compile(text)
    x, y = np.linspace(-1.0, 2.0, 9), np.linspace(0.0, 1.0, 9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DomainWarning)
        return gc.compile(text, backend=engine), x, y, ref.grad(x, y), ref.hessian(x, y)


@pytest.mark.skipif(not HAVE["jax"], reason="jax is not installed (pip install gradcore[jax])")
def test_jax_entries_jit_and_vmap():
    f, x, y, want, want_h = _tutorial("jax")
    for got, w in zip(jax.jit(f.grad)(x, y), want):
        _same(got, w, "jit grad")
    for got, w in zip(jax.vmap(f.grad)(x, y), want):
        _same(got, w, "vmap grad")
    _same(jax.jit(f.hessian)(x, y), want_h, "jit hessian")
    _same(jax.jit(jax.vmap(f.hessian))(x, y), want_h, "jit vmap hessian")


@pytest.mark.skipif(not HAVE["torch"], reason="torch is not installed (pip install gradcore[torch])")
def test_torch_entries_trace_under_torch_compile():
    # backend="eager" runs dynamo's tracing (fullgraph: no graph break, no Python-side check of the
    # data) without inductor's C++ build, which takes half a minute here; docs/scale.md times it.
    f, x, y, want, want_h = _tutorial("torch")
    grad = torch.compile(f.grad, backend="eager", fullgraph=True)
    for got, w in zip(grad(torch.from_numpy(x), torch.from_numpy(y)), want):
        _same(got, w, "compiled grad")
    hessian = torch.compile(f.hessian, backend="eager", fullgraph=True)
    _same(hessian(torch.from_numpy(x), torch.from_numpy(y)), want_h, "compiled hessian")


@pytest.mark.parametrize("engine", ENGINES)
def test_engine_objects_pickle_by_structure_and_are_cached(engine):
    f = gc.compile("x*exp(-y)", backend=engine)
    assert gc.compile("x*exp(-y)", backend=engine) is f
    assert pickle.loads(pickle.dumps(f)) is f
    assert f.backend == engine and f.variables == ("x", "y") and repr(f).startswith("EngineExpr(")
    assert f"{'jnp' if engine == 'jax' else 'torch'}.exp(" in f.source and "def hessian(" in f.hessian_source


def test_engine_source_reads_without_the_engine_and_the_command_line_prints_it():
    text = engine_source("sigmoid(x) + sign(x)", "jax")
    assert "jax.nn.sigmoid(x)" in text and "jnp.sign(x)" in text and "_nan_outside(" in text
    assert "torch.sigmoid(x)" in engine_source("sigmoid(x)", "torch")
    assert engine_source("log(x)", "numpy") == gc.compile("log(x)").array_source
    assert engine_source("log(x)", "math") == gc.compile("log(x)").source
    out = subprocess.run([sys.executable, "-m", "gradcore", "codegen", "x**2+2*x*y+cos(x+2*y)",
                          "--backend", "torch", "--hessian"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "torch.cos(" in out.stdout and "def hessian(x, y, /):" in out.stdout
    bad = subprocess.run([sys.executable, "-m", "gradcore", "codegen", "x", "--backend", "tpu"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_unknown_backend_and_missing_engine_are_clear_errors(monkeypatch):
    with pytest.raises(GradcoreError, match="unknown backend 'tpu'"):
        gc.compile("x", backend="tpu")
    assert gc.compile("x", backend="math") is gc.compile("x", backend="numpy") is gc.compile("x")
    from gradcore.codegen import _engines

    monkeypatch.setitem(_engines.ENGINES, "jax", _engines.Engine("jax", "no_such_module_here", "jnp", (), "jax"))
    with pytest.raises(GradcoreError, match=r"pip install gradcore\[jax\]"):
        _engines._import(_engines.ENGINES["jax"])


@st.composite
def _names(draw):
    return draw(st.sampled_from(["jnp", "torch", "jax"]))


@given(name=_names())
@settings(max_examples=5)
def test_a_variable_named_like_an_engine_module_is_renamed(name):
    assert gc.compile(f"{name} + 1").names[name] == "var_0"


@pytest.mark.skipif(not HAVE["torch"], reason="torch is not installed (pip install gradcore[torch])")
def test_the_scale_docs_training_loop_runs_on_pytorch_with_one_changed_line(capsys):
    from pathlib import Path

    from test_docs import blocks

    doc = Path(__file__).resolve().parent.parent / "docs" / "scale.md"
    (_, code, expected, _), = [b for b in blocks(doc) if "import gradcore as torch" in b[1]]
    exec(compile(code.replace("import gradcore as torch", "import torch"), str(doc), "exec"), {})
    assert capsys.readouterr().out == expected
