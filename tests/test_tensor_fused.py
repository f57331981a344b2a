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


def test_the_sweep_visits_each_node_once_after_all_its_children() -> None:
    # A diamond with a shared middle and a skip edge: every node's VJP must run once, in the order
    # nodes_from lists the nodes, and only after every gradient for it has arrived.
    from gradcore.tensors import nodes_from
    from gradcore.tensors._node import Op
    from gradcore.tensors._tensor import Tensor

    visits = []

    def recorder(name):
        def vjp(node, g):
            visits.append((name, float(np.sum(g))))
            return [g] * len(node.parents)
        return Op(name, vjp)

    x = gc.tensor(np.ones(3), requires_grad=True)
    a = Tensor._make(x._data.copy(), (x,), recorder("a"))
    b = Tensor._make(a._data.copy(), (a,), recorder("b"))
    c = Tensor._make(a._data.copy(), (a, b), recorder("c"))
    d = Tensor._make(b._data.copy(), (b, c, x), recorder("d"))
    d.backward(np.ones(3))
    order = [n.op.name for n in nodes_from(d._node)]
    assert [name for name, _ in visits] == order == ["d", "c", "b", "a"]
    # d sends 3 to each parent; b gets 3 from d and 3 from c; a gets 3 from c and 6 from b.
    assert dict(visits) == {"d": 3.0, "c": 3.0, "b": 6.0, "a": 9.0}
    np.testing.assert_array_equal(x.grad.numpy(), np.full(3, 4.0))  # 1 from d, 3 from a


def test_the_loss_shortcuts_are_the_general_paths_bit_for_bit() -> None:
    # mean over every element, its VJP, the float64 seed and the bias update use Python float
    # arithmetic for float64; each must equal numpy's own result exactly.
    rng = np.random.default_rng(5)
    for dtype in (np.float32, np.float64):
        data = (rng.standard_normal(1001) * 1e3).astype(dtype)
        x = gc.tensor(data, requires_grad=True)
        m = x.mean()
        assert m.dtype == dtype
        assert m.item() == np.true_divide(np.add.reduce(data), data.size, dtype=dtype)
        kept = x.mean(keepdim=True)
        assert kept.shape == (1,) and kept.item() == m.item()
        m.backward()
        np.testing.assert_array_equal(x.grad.numpy(), np.full(data.shape, np.asarray(1, dtype) / 1001))
        assert x.grad.dtype == dtype


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_quick_sgd_updates_are_the_general_update_bit_for_bit(dtype: type) -> None:
    # p -= lr * g without dtype=/casting=, and the 0-d float64 update in Python floats, against
    # the general formula; a numpy float64 learning rate must still update in p's dtype.
    rng = np.random.default_rng(6)
    for lr in (0.1, 1e-3, np.float64(0.1)):
        for shape in ((), (7,)):
            start = np.asarray(rng.standard_normal(shape), dtype=dtype)
            grad = np.asarray(rng.standard_normal(shape), dtype=dtype)
            p = gc.tensor(start.copy(), requires_grad=True)
            p.grad = gc.tensor(grad.copy())
            gc.optim.SGD([p], lr=lr).step()
            expected = np.subtract(start, np.multiply(lr, grad, dtype=dtype), dtype=dtype)
            assert p.dtype == dtype
            np.testing.assert_array_equal(p.detach().numpy(), expected)


def test_pooled_arrays_do_not_change_results_or_gradients() -> None:
    # Large arrays come from the pool and are reused from step to step; with the pool off every
    # array is new. Ten steps of the regression must give the same bits either way.
    from gradcore.tensors import _buffers

    rng = np.random.default_rng(7)
    x, y = rng.standard_normal((40_000, 3)), rng.standard_normal(40_000)

    def train(loss_of):
        X, Y = gc.from_numpy(x), gc.from_numpy(y)
        w = gc.zeros(3, dtype=gc.float64, requires_grad=True)
        b = gc.zeros((), dtype=gc.float64, requires_grad=True)
        opt = gc.optim.SGD([w, b], lr=0.1)
        seen = []
        for _ in range(10):
            opt.zero_grad()
            loss = loss_of(X @ w + b, Y)
            loss.backward()
            seen.append((loss.item(), w.grad.numpy().copy(), b.grad.item()))
            opt.step()
        return seen, w.detach().numpy().copy(), b.item()

    losses = [lambda q, t: ((q - t) ** 2).mean(), gc.nn.mse_loss]
    pooled = [train(f) for f in losses]
    assert _buffers.pooled_bytes() > 0
    old = _buffers.MIN_BYTES
    try:
        _buffers.MIN_BYTES = 1 << 62
        _buffers.clear()
        fresh = [train(f) for f in losses]
    finally:
        _buffers.MIN_BYTES = old
    for (steps_a, w_a, b_a), (steps_b, w_b, b_b) in zip(pooled, fresh):
        np.testing.assert_array_equal(w_a, w_b)
        assert b_a == b_b
        for (la, ga, gba), (lb, gb, gbb) in zip(steps_a, steps_b):
            assert la == lb and gba == gbb
            np.testing.assert_array_equal(ga, gb)
    assert pooled[0][1].tolist() == pytest.approx(pooled[1][1].tolist(), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mse_loss_is_the_spelled_out_loss_bit_for_bit(dtype: type) -> None:
    # Same sum of squares, same division, same gradient; the exponent 2 that every mse node
    # shares is read-only, so no rule can change it for the next loss.
    rng = np.random.default_rng(8)
    a, t = rng.standard_normal(999).astype(dtype), rng.standard_normal(999).astype(dtype)
    for _ in range(2):
        x1, x2 = gc.tensor(a, requires_grad=True), gc.tensor(a, requires_grad=True)
        one, two = gc.nn.mse_loss(x1, gc.from_numpy(t)), ((x2 - gc.from_numpy(t)) ** 2).mean()
        assert one.dtype == two.dtype == dtype and one.item() == two.item()
        one.backward()
        two.backward()
        np.testing.assert_array_equal(x1.grad.numpy(), x2.grad.numpy())
        assert not one._node.saved[1].flags.writeable and one._node.saved[1] == 2
