"""The Tensor engine's evaluation shortcuts give exactly the table's numbers, and the fast gd loop
runs exactly the general loop's steps."""

from __future__ import annotations

import numpy as np
import pytest

import gradcore as gc
from gradcore import ops
from gradcore.tensors._elementwise import F, square_times

_POW_RULE = ops.PRIMITIVES["pow"].vjps[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_square_shortcut_is_the_pow_rule_bit_for_bit(dtype: type) -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal(10_000) * 10.0 ** rng.integers(-30, 30, 10_000)).astype(dtype)
    two = np.asarray(2, dtype=dtype)
    for s in (1e-5, 0.37, -3.0, 1e-300 if dtype == np.float64 else 1e-30):
        g = np.asarray(s, dtype=dtype)
        table = _POW_RULE(F, np.broadcast_to(g, x.shape), None, x, two)
        np.testing.assert_array_equal(square_times(x, two, g), table)
    assert square_times(x, np.asarray(3, dtype=dtype), np.asarray(1, dtype=dtype)) is None


def test_a_mean_of_squares_and_mse_loss_give_the_table_gradient() -> None:
    rng = np.random.default_rng(4)
    a, t = rng.standard_normal(1000), rng.standard_normal(1000)
    expected = 2.0 * (a - t) * (1.0 / 1000)
    for loss in (lambda x: ((x - gc.from_numpy(t)) ** 2).mean(),
                 lambda x: gc.nn.mse_loss(x, gc.from_numpy(t))):
        x = gc.tensor(a, requires_grad=True)
        loss(x).backward()
        np.testing.assert_array_equal(x.grad.numpy(), expected)


def test_the_generated_gd_loop_runs_the_general_loops_steps() -> None:
    # Without a callback, one-variable gd runs a generated loop that evaluates f only at checkpoints;
    # with one, the general loop evaluates f at every step. Same iterates, statuses, messages, history.
    cases = [("x**4 - 3*x", 1.0, {}), ("exp(x) + exp(-x)", 2.0, {"lr": 0.1}),
             ("sin(x)", 1.0, {"max_iter": 5000}), ("log(x)", 1.0, {}), ("-x", 0.0, {"lr": 1e5}),
             ("x**2", 5.0, {"lr": 1e-7, "max_iter": 9000}), ("x**2", 1.0, {"lr": 1.5})]
    for f, start, kwargs in cases:
        fast = gc.minimize(f, start=start, method="gd", **kwargs)
        general = gc.minimize(f, start=start, method="gd", callback=lambda e: None, **kwargs)
        assert (fast.x[0], fast.fun, fast.nit, fast.nfev, fast.status, fast.message) == \
            (general.x[0], general.fun, general.nit, general.nfev, general.status, general.message), f
        assert fast.history == general.history, f


def test_a_pooled_array_is_reused_only_when_nothing_refers_to_it() -> None:
    from gradcore.tensors import _buffers

    x = gc.from_numpy(np.ones(100_000))
    a = (x + x).numpy()          # the user keeps this array
    b = (x * 3.0).numpy()
    assert a is not b and a[0] == 2.0 and b[0] == 3.0  # a was in use, so b got another array
    ident = id(b)
    del b
    c = (x - x).numpy()
    assert id(c) == ident and c[0] == 0.0 and a[0] == 2.0  # b's array, free again, was reused
    small = gc.from_numpy(np.ones(10))
    assert _buffers.empty(small.shape, small.dtype) is None  # small arrays are numpy's own


def test_the_generated_gd_loop_itself_finishes_an_ordinary_run() -> None:
    # Otherwise a broken generated loop would fall back to the general loop unseen, and the
    # comparison above would still pass.
    from gradcore.optimize._fixed import loop_for

    c = gc.compile(gc.parse("x**2 + 2*x + 3"))
    loop = loop_for(c, 1.0)
    assert loop is not None
    x0 = 5.0
    (g0,) = c.grad(x0)
    x, g, nit, _, done = loop(x0, g0, 0.01, 1e-5, 10_000, 1e12, lambda first, xs: None)
    assert done and nit == 693 and abs(g) < 1e-5 and abs(x + 1.0) < 1e-5
