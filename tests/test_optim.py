"""Optimizers against updates computed by hand, on Tensors and on scalar Values."""

from __future__ import annotations

import math

import numpy as np
import pytest

import gradcore
from gradcore import GradcoreError, nn, optim, tensor


class ScalarParam:
    """The smallest thing an optimizer accepts besides a Tensor: float `.data` and `.grad`
    (what a gradcore Value has)."""

    def __init__(self, data: float) -> None:
        self.data = data
        self.grad = 0.0


def run_on_quadratic(make_opt, p0=1.0, steps=2, dtype=np.float64):
    """Minimise f(p) = p**2 (gradient 2p) with a Tensor; return p after each step."""
    p = tensor(p0, requires_grad=True, dtype=dtype)
    opt = make_opt([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        (p * p).backward()
        opt.step()
        out.append(p.item())
    return out


def run_on_scalar(make_opt, p0=1.0, steps=2):
    """The same with a duck-typed scalar parameter: the gradient is set by hand, as Value does."""
    p = ScalarParam(p0)
    opt = make_opt([p])
    out = []
    for _ in range(steps):
        opt.zero_grad()
        assert p.grad == 0.0
        p.grad = 2 * p.data
        opt.step()
        out.append(p.data)
    return out


BOTH = [run_on_quadratic, run_on_scalar]


@pytest.mark.parametrize("run", BOTH)
def test_plain_sgd(run):
    # p <- p - 0.1 * 2p = 0.8 p
    assert run(lambda ps: optim.SGD(ps, lr=0.1)) == pytest.approx([0.8, 0.64], abs=1e-15)


@pytest.mark.parametrize("run", BOTH)
def test_sgd_momentum_uses_pytorchs_convention(run):
    # v1 = g1 = 2;               p1 = 1 - 0.1*2 = 0.8
    # v2 = 0.9*2 + 1.6 = 3.4;    p2 = 0.8 - 0.34 = 0.46
    # v3 = 0.9*3.4 + 0.92 = 3.98; p3 = 0.46 - 0.398 = 0.062
    got = run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), steps=3)
    assert got == pytest.approx([0.8, 0.46, 0.062], abs=1e-14)


@pytest.mark.parametrize("run", BOTH)
def test_sgd_nesterov(run):
    # v1 = 2, d1 = 2 + 0.9*2 = 3.8, p1 = 1 - 0.38 = 0.62
    # g2 = 1.24, v2 = 1.8 + 1.24 = 3.04, d2 = 1.24 + 2.736 = 3.976, p2 = 0.62 - 0.3976 = 0.2224
    got = run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True))
    assert got == pytest.approx([0.62, 0.2224], abs=1e-14)


@pytest.mark.parametrize("run", BOTH)
def test_sgd_weight_decay(run):
    # d = 2p + 0.5p = 2.5p: p <- p - 0.1*2.5p = 0.75p
    assert run(lambda ps: optim.SGD(ps, lr=0.1, weight_decay=0.5)) == pytest.approx([0.75, 0.5625])


@pytest.mark.parametrize("run", BOTH)
def test_sgd_maximize_climbs(run):
    # p <- p + 0.1 * 2p = 1.2p
    assert run(lambda ps: optim.SGD(ps, lr=0.1, maximize=True)) == pytest.approx([1.2, 1.44])


@pytest.mark.parametrize("run", BOTH)
def test_sgd_dampening(run):
    # v1 = g1 = 2 (no damping on the first step); p1 = 0.8
    # v2 = 0.9*2 + (1 - 0.5)*1.6 = 2.6; p2 = 0.8 - 0.26 = 0.54
    got = run(lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.5))
    assert got == pytest.approx([0.8, 0.54], abs=1e-14)


@pytest.mark.parametrize("run", BOTH)
def test_adam_first_steps_by_hand(run):
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8
    # step 1: g = 2, m = 0.2, v = 0.004; m_hat = 2, v_hat = 4: p = 1 - 0.1 * 2/(2 + eps)
    p1 = 1 - lr * 2 / (2 + eps)
    # step 2: g = 2 p1
    g = 2 * p1
    m = b1 * 0.2 + (1 - b1) * g
    v = b2 * 0.004 + (1 - b2) * g * g
    p2 = p1 - lr / (1 - b1 ** 2) * m / (math.sqrt(v) / math.sqrt(1 - b2 ** 2) + eps)
    got = run(lambda ps: optim.Adam(ps, lr=lr))
    assert got == pytest.approx([p1, p2], rel=1e-12)


@pytest.mark.parametrize("run", BOTH)
def test_adam_weight_decay_maximize_and_amsgrad(run):
    # maximize with weight decay 0.5: g = -2p + 0.5p = -1.5 at p = 1; the first Adam step is
    # -lr * sign(g) = +0.1 whatever the size of g.
    got = run(lambda ps: optim.Adam(ps, lr=0.1, weight_decay=0.5, maximize=True), steps=1)
    assert got == pytest.approx([1.1], rel=1e-9)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_amsgrad_divides_by_the_largest_second_moment_so_far(amsgrad):
    p = ScalarParam(1.0)
    opt = optim.Adam([p], lr=0.1, betas=(0.9, 0.5), eps=1e-8, amsgrad=amsgrad)
    p.grad = 4.0
    opt.step()
    # m = 0.4, v = 8: p1 = 1 - (0.1/0.1) * 0.4 / (sqrt(8)/sqrt(0.5) + eps)
    p1 = 1 - 0.4 / (4 + 1e-8)
    assert p.data == pytest.approx(p1, rel=1e-14)
    p.grad = 1.0
    opt.step()
    # m = 0.46, v = 0.5*8 + 0.5*1 = 4.5 (amsgrad keeps max(8, 4.5) = 8)
    v = 8.0 if amsgrad else 4.5
    p2 = p1 - 0.1 / (1 - 0.9 ** 2) * 0.46 / (math.sqrt(v) / math.sqrt(1 - 0.5 ** 2) + 1e-8)
    assert p.data == pytest.approx(p2, rel=1e-14)


def test_adam_on_float32_stays_float32():
    p = tensor([1.0, -2.0], requires_grad=True)
    opt = optim.Adam([p], lr=0.01)
    (p * p).sum().backward()
    opt.step()
    assert p.dtype == np.float32
    np.testing.assert_allclose(p.tolist(), [0.99, -1.99], rtol=1e-6)


def test_the_optimizer_updates_tensors_in_place():
    w = tensor([1.0, 2.0], requires_grad=True)
    before = w._data
    opt = optim.SGD([w], lr=0.5)
    (w * w).sum().backward()
    opt.step()
    assert w._data is before and w.tolist() == [0.0, 0.0]


def test_zero_grad_sets_tensor_grads_to_none_or_zero():
    w = tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    w.sum().backward()
    opt.zero_grad(set_to_none=False)
    assert w.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert w.grad is None
    opt.step()  # nothing to do without a gradient
    assert w.tolist() == [1.0, 2.0]


def test_param_groups_have_their_own_settings():
    a = tensor(1.0, requires_grad=True, dtype=np.float64)
    b = tensor(1.0, requires_grad=True, dtype=np.float64)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    (a * a + b * b).backward()
    opt.step()
    assert (a.item(), b.item()) == (pytest.approx(0.8), pytest.approx(0.0))
    opt.param_groups[0]["lr"] = 0.25
    opt.zero_grad()
    (a * a).backward()
    opt.step()
    assert a.item() == pytest.approx(0.8 - 0.25 * 1.6)


def test_step_with_a_closure_returns_the_loss():
    w = tensor(3.0, requires_grad=True, dtype=np.float64)
    opt = optim.SGD([w], lr=0.1)

    def closure():
        opt.zero_grad()
        loss = w * w
        loss.backward()
        return loss

    with gradcore.no_grad():  # the closure records its graph even so
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == pytest.approx(2.4)


def test_optimizer_errors_are_explained():
    with pytest.raises(GradcoreError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    w = tensor(1.0, requires_grad=True)
    with pytest.raises(GradcoreError, match="non-leaf"):
        optim.SGD([w * 2], lr=0.1)
    with pytest.raises(GradcoreError, match="does not require grad"):
        optim.SGD([tensor(1.0)], lr=0.1)
    with pytest.raises(GradcoreError, match="learning rate"):
        optim.SGD([w], lr=-1)
    with pytest.raises(GradcoreError, match="Nesterov"):
        optim.SGD([w], lr=0.1, nesterov=True)
    with pytest.raises(GradcoreError, match="betas"):
        optim.Adam([w], betas=(1.0, 0.9))
    with pytest.raises(GradcoreError, match="iterable"):
        optim.SGD(w, lr=0.1)
    with pytest.raises(GradcoreError, match="Tensors or Values"):
        optim.SGD([1.0], lr=0.1)


def test_optimizers_train_gradcore_values():
    value = pytest.importorskip("gradcore.value")
    x = value.Value(5.0)
    opt = optim.SGD([x], lr=0.01)
    for _ in range(693):  # worked example 1: f(x) = x**2 + 2x + 3 from x = 5
        opt.zero_grad()
        f = x * x + 2 * x + 3
        f.backward()
        opt.step()
    assert x.data == pytest.approx(-0.9999950132, abs=1e-9)
    y = value.Value(0.0)
    adam = optim.Adam([y], lr=0.1, maximize=True)
    for _ in range(300):  # maximize -(y**2) + 4y: y = 2
        adam.zero_grad()
        (-(y * y) + 4 * y).backward()
        adam.step()
    assert y.data == pytest.approx(2.0, abs=1e-3)


def test_nn_linear_and_mse_loss_train_with_sgd():
    x, y = gradcore.datasets.exam_scores()
    gradcore.manual_seed(0)
    model = nn.Linear(3, 1, dtype=np.float64)
    assert [p.shape for p in model.parameters()] == [(1, 3), (1,)]
    assert [n for n, _ in model.named_parameters()] == ["weight", "bias"]
    X = gradcore.from_numpy(x)
    Y = gradcore.from_numpy(y.reshape(-1, 1))
    opt = optim.SGD(model.parameters(), lr=1e-5)
    first = nn.mse_loss(model(X), Y).item()
    for _ in range(2000):
        opt.zero_grad()
        loss = nn.MSELoss()(model(X), Y)
        loss.backward()
        opt.step()
    assert loss.item() < first / 100
    with pytest.raises(GradcoreError, match=r"shape \(5, 1\) but target has shape \(5,\)"):
        nn.mse_loss(model(X), gradcore.from_numpy(y))


def test_module_parameters_walk_nested_modules_in_order():
    class Two(nn.Module):
        def __init__(self):
            self.first = nn.Linear(2, 3)
            self.rest = [nn.Linear(3, 3), nn.Linear(3, 1, bias=False)]
            self.scale = tensor(1.0, requires_grad=True)
            self.constant = tensor(2.0)

        def forward(self, x):
            h = self.first(x).tanh()
            for layer in self.rest:
                h = layer(h)
            return h * self.scale

    m = Two()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["first.weight", "first.bias", "rest.0.weight", "rest.0.bias",
                     "rest.1.weight", "scale"]
    out = m(tensor([[1.0, 2.0]]))
    assert out.shape == (1, 1)
    out.sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
