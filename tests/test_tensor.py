"""Tensor autograd: every gradient checked against finite differences, plus PyTorch's semantics
(creation dtypes, accumulation, no_grad, in-place updates, printing) that the tutorials rely on."""

from __future__ import annotations

import gc as pygc
import subprocess
import sys
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gradcore
from gradcore import GradcoreError, ops
from gradcore.tensors import Tensor, tensor
from gradcore.viz.tensor_graph import make_dot

# ---------------------------------------------------------------------------------------------
# helpers


def numeric_grad(f, arrays, i, eps=1e-6):
    """Central differences of the scalar f(*arrays) with respect to arrays[i] (float64)."""
    base = [np.array(a, dtype=np.float64) for a in arrays]
    grad = np.zeros_like(base[i])
    for idx in np.ndindex(base[i].shape):
        up = [a.copy() for a in base]
        down = [a.copy() for a in base]
        up[i][idx] += eps
        down[i][idx] -= eps
        grad[idx] = (f(*up) - f(*down)) / (2 * eps)
    return grad


def check_gradients(build, *arrays, rtol=1e-5, atol=1e-6, seed=0):
    """backward() of sum(build(*tensors) * w) for random w equals finite differences, for every input.

    A random upstream weight w makes a wrong broadcast sum or a transposed gradient visible."""
    rng = np.random.default_rng(seed)
    ts = [tensor(np.array(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = build(*ts)
    w = rng.uniform(0.5, 1.5, out.shape)
    (out * tensor(w)).sum().backward()

    def f(*xs):
        return float((build(*[tensor(x) for x in xs]).numpy() * w).sum())

    for i, t in enumerate(ts):
        assert t.grad is not None, f"input {i} got no gradient"
        assert t.grad.shape == t.shape, (t.grad.shape, t.shape)
        assert t.grad.dtype == t.dtype
        np.testing.assert_allclose(t.grad.numpy(), numeric_grad(f, arrays, i), rtol=rtol, atol=atol)


# Inputs inside each primitive's domain (and away from kinks), by argument.
_SAFE = {
    "log": [(0.3, 2.0)], "sqrt": [(0.3, 2.0)], "asin": [(-0.8, 0.8)], "acos": [(-0.8, 0.8)],
    "tan": [(-1.2, 1.2)], "abs": [(0.2, 2.0)], "sign": [(0.2, 2.0)],
    "div": [(-2.0, 2.0), (0.5, 2.0)], "pow": [(0.5, 2.0), (-2.0, 2.0)],
}


def _inputs(name, shape, rng):
    row = ops.PRIMITIVES[name]
    ranges = _SAFE.get(name, [(-2.0, 2.0)] * row.arity)
    arrays = [rng.uniform(lo, hi, shape) for lo, hi in ranges]
    if name in ("abs", "sign"):  # both signs, never near the kink at 0
        arrays[0] *= rng.choice([-1.0, 1.0], shape)
    return arrays


# ---------------------------------------------------------------------------------------------
# every primitive of the table


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_every_table_primitive_is_a_tensor_method_with_the_tables_gradient(name):
    row = ops.PRIMITIVES[name]
    arrays = _inputs(name, (2, 3), np.random.default_rng(1))
    check_gradients(lambda *ts: getattr(ts[0], name)(*ts[1:]), *arrays)
    # the forward value is the table's numpy implementation
    out = getattr(tensor(arrays[0]), name)(*[tensor(a) for a in arrays[1:]])
    np.testing.assert_array_equal(out.numpy(), row.array(*arrays))


@pytest.mark.parametrize("operator", ops.OPERATORS, ids=lambda o: o.primitive)
def test_every_table_operator_is_a_tensor_operator(operator):
    # ops.OPERATORS names the dunder; Tensor's operator methods are the table row's method.
    method = getattr(Tensor, operator.primitive)
    assert getattr(Tensor, f"__{operator.dunder}__") is method
    x, y = tensor(np.array([1.5, 2.0])), tensor(np.array([0.5, 3.0]))
    row = ops.PRIMITIVES[operator.primitive]
    if operator.arity == 1:
        np.testing.assert_array_equal(getattr(x, f"__{operator.dunder}__")().numpy(),
                                      row.array(x.numpy()))
    else:
        reflected = getattr(x, f"__r{operator.dunder}__")(y)
        np.testing.assert_array_equal(reflected.numpy(), row.array(y.numpy(), x.numpy()))


@pytest.mark.parametrize("name", sorted(n for n, r in ops.PRIMITIVES.items() if r.arity == 2))
@pytest.mark.parametrize("which", [0, 1])
def test_a_node_saves_only_what_the_needed_rules_read(name, which):
    # Only one argument needs a gradient: the node keeps just what that argument's rule reads,
    # and backward still gives the right answer.
    a, b = _inputs(name, (4,), np.random.default_rng(9))
    ts = [tensor(a), tensor(b)]
    ts[which].requires_grad_(True)
    out = getattr(ts[0], name)(ts[1])
    saved = out._node.saved
    if name in ("add", "sub"):
        assert saved == (None, None, None)
    if name == "mul":  # d(xy)/dx = y: keep only the other argument
        assert saved[1 + which] is None and saved[2 - which] is not None
    out.sum().backward()

    def f(*xs):
        return float(getattr(tensor(xs[0]), name)(tensor(xs[1])).numpy().sum())

    np.testing.assert_allclose(ts[which].grad.numpy(), numeric_grad(f, [a, b], which),
                               rtol=1e-5, atol=1e-6)
    assert ts[1 - which].grad is None


def test_unary_nodes_save_the_output_or_the_input_as_their_rule_needs():
    x = tensor([0.5, 1.0], requires_grad=True)
    assert x.exp()._node.saved[1] is None and x.exp()._node.saved[0] is not None  # exp' = exp
    assert x.sin()._node.saved[0] is None and x.sin()._node.saved[1] is x._data  # sin' = cos x
    assert x.neg()._node.saved == (None, None)


@pytest.mark.parametrize("symbol", sorted(ops.BINARY))
def test_operators_and_reflected_operators_follow_the_table(symbol):
    name = ops.BINARY[symbol].name
    a, b = _inputs(name, (3,), np.random.default_rng(2))
    py = {"+": lambda x, y: x + y, "-": lambda x, y: x - y, "*": lambda x, y: x * y,
          "/": lambda x, y: x / y, "**": lambda x, y: x ** y}[symbol]
    check_gradients(py, a, b)
    # a Python number or a numpy array on the left goes through the reflected method
    t = tensor(b, requires_grad=True)
    out = py(1.5, t)
    np.testing.assert_allclose(out.detach().numpy(), py(1.5, b))
    assert out.requires_grad
    out2 = py(np.asarray(a), t)
    assert isinstance(out2, Tensor) and out2.requires_grad
    np.testing.assert_allclose(out2.detach().numpy(), py(a, b))


def test_unary_operators_neg_abs_pos():
    x = tensor([-2.0, 3.0], requires_grad=True, dtype=np.float64)
    (-x).sum().backward()
    assert x.grad.tolist() == [-1.0, -1.0]
    x.grad = None
    abs(x).sum().backward()
    assert x.grad.tolist() == [-1.0, 1.0]
    assert (+x) is x


def test_pow_with_a_constant_exponent_never_evaluates_the_exponent_rule():
    # d(x**2)/dy would need log(x): at x < 0 that is nan, but nobody asked for it.
    x = tensor([-3.0, 2.0], requires_grad=True, dtype=np.float64)
    with np.errstate(all="raise"):
        (x ** 2).sum().backward()
    assert x.grad.tolist() == [-6.0, 4.0]


# ---------------------------------------------------------------------------------------------
# broadcasting: one central sum back to the input's shape


@settings(max_examples=40, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3),
       name=st.sampled_from(["add", "sub", "mul", "div", "pow"]),
       seed=st.integers(0, 2**16))
def test_broadcasting_gradients_have_the_input_shapes_and_match_finite_differences(shapes, name,
                                                                                   seed):
    rng = np.random.default_rng(seed)
    ranges = _SAFE.get(name, [(-2.0, 2.0)] * 2)
    a = rng.uniform(*ranges[0], shapes.input_shapes[0])
    b = rng.uniform(*ranges[1], shapes.input_shapes[1])
    check_gradients(lambda x, y: getattr(x, name)(y), a, b, seed=seed)


@settings(max_examples=25, deadline=None)
@given(shapes=hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3),
       seed=st.integers(0, 2**16))
def test_broadcasting_through_a_chain_of_operations(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b, c = (rng.uniform(0.5, 2.0, s) for s in shapes.input_shapes)
    check_gradients(lambda x, y, z: (x * y - z).sin() / (z + y) ** 2, a, b, c, seed=seed)


def test_a_float32_parameter_gets_a_float32_gradient_from_float64_arithmetic():
    w = tensor(2.0, requires_grad=True)  # float32
    x = tensor(np.array([1.0, 2.0, 3.0]))  # float64
    (w * x).sum().backward()
    assert w.grad.dtype == np.float32 and w.grad.shape == ()
    assert w.grad.item() == 6.0


# ---------------------------------------------------------------------------------------------
# matmul, reductions, reshapes, indexing, concatenation


@pytest.mark.parametrize("sa,sb", [
    ((3, 4), (4, 2)), ((3, 4), (4,)), ((4,), (4, 2)), ((4,), (4,)),
    ((2, 3, 4), (4, 2)), ((2, 3, 4), (2, 4, 5)), ((1, 3, 4), (2, 4, 2)), ((4,), (2, 4, 3)),
    ((2, 3, 4), (4,)),
])
def test_matmul_gradients_for_every_operand_rank(sa, sb):
    rng = np.random.default_rng(3)
    check_gradients(lambda a, b: a @ b, rng.normal(size=sa), rng.normal(size=sb))
    check_gradients(gradcore.matmul, rng.normal(size=sa), rng.normal(size=sb))


def test_matmul_with_a_constant_operand_saves_only_what_backward_reads():
    x = tensor(np.ones((3, 2)))
    w = tensor(np.ones(2), requires_grad=True)
    y = x @ w
    a_saved, b_saved = y._node.saved
    assert a_saved is x._data and b_saved is None  # dW reads X; nobody needs dX


@pytest.mark.parametrize("method", ["sum", "mean", "max", "min"])
@pytest.mark.parametrize("axis", [None, 0, 1, -1, (0, 2), (-1, 0)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduction_gradients(method, axis, keepdims):
    rng = np.random.default_rng(4)
    x = rng.permutation(24).reshape(2, 3, 4) / 7.0  # distinct values: max and min are unique
    check_gradients(lambda t: getattr(t, method)(axis=axis, keepdims=keepdims), x)
    out = getattr(tensor(x), method)(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(out.numpy(), getattr(np, method)(x, axis=axis, keepdims=keepdims))


def test_reductions_accept_pytorchs_dim_and_keepdim():
    x = tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    y = x.sum(dim=1, keepdim=True)
    assert y.shape == (2, 1)
    y.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2


def test_max_shares_the_gradient_among_ties():
    x = tensor([1.0, 3.0, 3.0], requires_grad=True)
    x.max().backward()
    assert x.grad.tolist() == [0.0, 0.5, 0.5]
    y = tensor([[1.0, 5.0], [5.0, 5.0]], requires_grad=True)
    y.min(axis=1).sum().backward()
    assert y.grad.tolist() == [[1.0, 0.0], [0.5, 0.5]]


def test_reshape_transpose_permute_gradients():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 4))
    check_gradients(lambda t: t.reshape(4, 6), x)
    check_gradients(lambda t: t.reshape((6, -1)).T, x)
    check_gradients(lambda t: t.transpose(0, 2), x)
    check_gradients(lambda t: t.permute(1, 2, 0), x)
    check_gradients(lambda t: t.unsqueeze(1).squeeze(1).flatten(), x)
    assert tensor(x).transpose(0, 2).shape == (4, 3, 2)
    assert tensor(x).T.shape == (4, 3, 2)


@pytest.mark.parametrize("index", [
    1, -1, slice(None, None, 2), (slice(None), 0), (Ellipsis, 1), (None, 0),
    ([0, 0, 2],), (np.array([1, 1, 1]), slice(1, 3)), ([0, 2], [1, 1]),
])
def test_indexing_gradients_scatter_back_with_repeats_added(index):
    rng = np.random.default_rng(6)
    check_gradients(lambda t: t[index], rng.normal(size=(3, 4)))


def test_indexing_with_repeats_counts_each_use():
    x = tensor([10.0, 20.0, 30.0], requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    y = tensor([1.0, -2.0, 3.0], requires_grad=True)
    y[y > 0].sum().backward()  # a boolean mask given as a Tensor
    assert y.grad.tolist() == [1.0, 0.0, 1.0]


def test_iteration_and_len_follow_the_first_axis():
    x = tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], requires_grad=True)
    assert len(x) == 3
    rows = list(x)
    assert [r.tolist() for r in rows] == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    (rows[0] * rows[2]).sum().backward()
    assert x.grad.tolist() == [[5.0, 6.0], [0.0, 0.0], [1.0, 2.0]]
    with pytest.raises(TypeError, match="0-d"):
        len(tensor(1.0))


def test_cat_and_stack_gradients():
    rng = np.random.default_rng(7)
    a, b, c = rng.normal(size=(2, 3)), rng.normal(size=(1, 3)), rng.normal(size=(4, 3))
    check_gradients(lambda x, y, z: gradcore.cat([x, y, z]) ** 2, a, b, c)
    check_gradients(lambda x, y: gradcore.cat([x, y], dim=-1), a, a + 1)
    check_gradients(lambda x, y: gradcore.stack([x, y], dim=1).sin(), a, a * 2)
    assert gradcore.concatenate([tensor(a), tensor(c)], axis=0).shape == (6, 3)


# ---------------------------------------------------------------------------------------------
# backward(): accumulation, retain_grad, seeds, long chains, no cycles


def test_leaf_gradients_accumulate_until_zeroed():
    w = tensor(3.0, requires_grad=True, dtype=np.float64)
    (w * w).backward()
    assert w.grad.item() == 6.0
    grad_object = w.grad
    (w * w).backward()
    assert w.grad.item() == 12.0 and w.grad is grad_object  # added in place, like PyTorch
    w.grad.zero_()
    assert w.grad.item() == 0.0
    (w * 5).backward()
    assert w.grad.item() == 5.0


def test_a_graph_may_be_walked_again():
    x = tensor([1.0, 2.0], requires_grad=True)
    y = (x * x).sum()
    y.backward()
    y.backward()
    assert x.grad.tolist() == [4.0, 8.0]


def test_shared_gradients_are_never_aliased_between_leaves():
    # d(a+b)/da and d(a+b)/db are the same upstream array; zeroing one must not zero the other.
    a = tensor([1.0, 2.0], requires_grad=True)
    b = tensor([3.0, 4.0], requires_grad=True)
    (a + b).backward(gradient=tensor([1.0, 1.0]))
    a.grad.zero_()
    assert b.grad.tolist() == [1.0, 1.0]
    c = tensor([1.0, 2.0], requires_grad=True)
    c.sum().backward()  # the gradient is a read-only broadcast view inside backward
    c.grad += 1
    assert c.grad.tolist() == [2.0, 2.0]


def test_intermediate_tensors_keep_no_grad_unless_asked():
    x = tensor(2.0, requires_grad=True)
    y = x * 3
    z = y * y
    y.retain_grad()
    z.backward()
    assert y.grad.item() == 12.0 and x.grad.item() == 36.0
    u = x * 3
    (u * u).backward()
    assert u.grad is None


def test_backward_errors_are_explained():
    with pytest.raises(GradcoreError, match="requires grad"):
        tensor(1.0).backward()
    v = tensor([1.0, 2.0], requires_grad=True) * 2
    with pytest.raises(GradcoreError, match="single-element"):
        v.backward()
    with pytest.raises(GradcoreError, match=r"shape \(3,\)"):
        v.backward(gradient=[1.0, 2.0, 3.0])
    v.backward(gradient=[1.0, 10.0])


def test_a_long_chain_needs_no_recursion():
    x = tensor(1.0, requires_grad=True, dtype=np.float64)
    y = x
    for _ in range(100_000):
        y = y + x
    assert sys.getrecursionlimit() <= 10_000
    y.backward()
    assert x.grad.item() == 100_001.0


def test_nodes_form_no_reference_cycles():
    # With the cycle collector off, a dropped graph must still be freed by reference counting.
    pygc.disable()
    try:
        w = tensor([1.0, 2.0], requires_grad=True)
        hidden = (w * 3).exp()
        loss = (hidden * hidden).sum()
        loss.backward()
        node = weakref.ref(loss._node)
        kept = weakref.ref(hidden)
        del hidden
        assert kept() is None  # the graph does not hold intermediate tensors
        del loss
        assert node() is None
    finally:
        pygc.enable()


# ---------------------------------------------------------------------------------------------
# no_grad and in-place updates


def test_no_grad_records_nothing_and_works_as_a_decorator():
    w = tensor(1.0, requires_grad=True)
    with gradcore.no_grad():
        y = w * 2
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf

    @gradcore.no_grad()
    def f(t):
        return t * 2

    assert not f(w).requires_grad
    assert (w * 2).requires_grad and (w * 2).grad_fn == "MulBackward0"


def test_in_place_updates_of_parameters_inside_no_grad():
    w = tensor(1.0, requires_grad=True)
    (w * 4).backward()
    with pytest.raises(GradcoreError, match="no_grad"):
        w -= 0.1 * w.grad
    same = w
    with gradcore.no_grad():
        w -= 0.1 * w.grad
        w += 0.05
        w *= 2
    assert w is same and w.is_leaf and w.requires_grad
    assert w.dtype == np.float32
    assert w.item() == pytest.approx((1.0 - 0.4 + 0.05) * 2)
    with pytest.raises(GradcoreError, match="in-place"):
        y = w * 2
        y += 1


def test_in_place_on_plain_tensors_is_always_allowed():
    t = tensor([1.0, 2.0])
    t += tensor([1.0, 1.0])
    t[0] = 7.0
    assert t.tolist() == [7.0, 3.0]


# ---------------------------------------------------------------------------------------------
# creation, dtypes, conversion


def test_creation_dtypes_follow_pytorch():
    assert tensor(1.0).dtype == np.float32
    assert tensor([1.0, 2]).dtype == np.float32
    assert tensor(3).dtype == np.int64
    assert tensor(True).dtype == np.bool_
    assert tensor(np.array([1.0, 2.0])).dtype == np.float64  # numpy keeps its dtype
    assert tensor(np.float64(1.0)).dtype == np.float64
    assert tensor(1.0, dtype=gradcore.float64).dtype == np.float64
    assert tensor([1, 2], dtype="float32").dtype == np.float32


def test_the_class_constructor_makes_float32_as_torch_tensor_does():
    # torch.Tensor([1, 2]) is float32 while torch.tensor([1, 2]) is int64; gradcore matches both.
    assert Tensor([1, 2]).dtype == np.float32 and Tensor([1, 2]).tolist() == [1.0, 2.0]
    assert gradcore.Tensor(np.array([1.0, 2.0])).dtype == np.float32
    assert Tensor([1, 2], dtype=gradcore.float64).dtype == np.float64
    assert tensor([1, 2]).dtype == np.int64
    assert (tensor([1.0, 2.0], dtype=gradcore.float64) * [1, 2]).dtype == np.float64  # lifted lists


def test_creation_copies_but_from_numpy_shares():
    a = np.array([1.0, 2.0])
    t, s = tensor(a), gradcore.from_numpy(a)
    a[0] = 9.0
    assert t.tolist() == [1.0, 2.0] and s.tolist() == [9.0, 2.0]
    with pytest.raises(GradcoreError, match="numpy.ndarray"):
        gradcore.from_numpy([1.0])


def test_only_floating_tensors_can_require_grad():
    with pytest.raises(GradcoreError, match="floating-point"):
        tensor([1, 2], requires_grad=True)
    with pytest.raises(GradcoreError, match="cannot make a tensor"):
        tensor("abc")


def test_python_scalars_keep_a_float32_tensor_float32():
    x = tensor([1.0, 2.0])
    for y in (x * 0.001, 0.001 * x, x - np.float64(0.5), x ** 2, x / 3):
        assert y.dtype == np.float32
    assert (tensor([1, 2]) * 0.5).dtype == np.float32  # an int tensor meets a float
    assert (tensor([1, 2]) * 2).dtype == np.int64
    assert (x * tensor(np.ones(2))).dtype == np.float64  # two tensors: numpy's promotion


def test_float_on_a_leaf_keeps_the_tutorials_idiom_working():
    w = tensor(1.0, requires_grad=True).float()  # already float32: the same leaf
    assert w.is_leaf and w.requires_grad and w.dtype == np.float32
    v = tensor(1.0, requires_grad=True, dtype=np.float64)
    w = v.float()  # a different dtype: a new float32 leaf that still requires grad
    assert w is not v and w.is_leaf and w.requires_grad and w.dtype == np.float32
    (w * 2).backward()
    assert w.grad.item() == 2.0
    d = w.double()
    assert d.dtype == np.float64 and d.is_leaf and d.requires_grad


def test_casting_an_intermediate_is_recorded_and_casts_the_gradient_back():
    x = tensor([1.0, 2.0], requires_grad=True)  # float32
    y = (x * 3).double()
    assert y.dtype == np.float64 and y.grad_fn == "ToCopyBackward0"
    (y * y).sum().backward()
    assert x.grad.dtype == np.float32 and x.grad.tolist() == [18.0, 36.0]
    assert x.to(np.float32) is x


def test_importing_gradcore_does_not_load_numpy_random():
    # The generator behind randn is made on first use, so a start-up without random numbers
    # does not pay for numpy.random.
    code = ("import sys, gradcore, gradcore.nn, gradcore.optim; "
            "assert 'numpy.random' not in sys.modules; "
            "gradcore.randn(2); assert 'numpy.random' in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_helpers_zeros_ones_randn_are_seeded():
    assert gradcore.zeros(2, 3).shape == (2, 3)
    assert gradcore.ones((2,), requires_grad=True).requires_grad
    gradcore.manual_seed(0)
    a = gradcore.randn(3)
    gradcore.manual_seed(0)
    assert gradcore.randn(3).tolist() == a.tolist()
    assert gradcore.zeros_like(a).tolist() == [0.0] * 3
    assert gradcore.ones_like(a).dtype == np.float32


# ---------------------------------------------------------------------------------------------
# attributes and printing


def test_pytorch_style_attributes():
    w = tensor([[1.0, 2.0, 3.0]], requires_grad=True)
    assert w.shape == (1, 3) and w.size() == (1, 3) and w.size(1) == 3 and w.ndim == 2
    assert w.dim() == 2 and w.numel() == 3 and w.dtype == np.float32
    with pytest.raises(GradcoreError, match=r"detach\(\)\.numpy\(\)"):
        w.numpy()
    d = w.data
    assert not d.requires_grad and np.shares_memory(d.numpy(), w.detach().numpy())
    with pytest.raises(GradcoreError, match="3 elements"):
        w.item()
    assert tensor([2.5]).item() == 2.5 and isinstance(tensor(2).item(), int)
    assert float(tensor(1.5)) == 1.5 and int(tensor(3.0)) == 3
    assert np.asarray(w.detach()).shape == (1, 3)
    assert np.array((tensor(1.0), tensor(2.0))).tolist() == [1.0, 2.0]


def test_printing_matches_pytorchs_layout():
    assert repr(tensor([-5.0, 5.0, 0.0, 2.0, -2.0])) == "tensor([-5.,  5.,  0.,  2., -2.])"
    assert repr(tensor([-6.7, 10.3, -3.3, 5.0, -5.3])) == \
        "tensor([-6.7000, 10.3000, -3.3000,  5.0000, -5.3000])"
    w = tensor(1.0, requires_grad=True)
    assert repr(w) == "tensor(1., requires_grad=True)"
    assert repr(w * 2) == "tensor(2., grad_fn=<MulBackward0>)"
    assert repr(tensor(np.array([1.5]))) == "tensor([1.5000], dtype=float64)"
    assert repr(tensor([1, 2])) == "tensor([1, 2])"
    loss = tensor(13.352)
    assert f"{loss:.4f}" == "13.3520" and f"{loss:.1f}" == "13.4"
    assert str(loss) == "tensor(13.3520)"


def test_make_dot_draws_the_graph_in_dot():
    W = tensor(1.0, requires_grad=True)
    B = tensor(1.0, requires_grad=True)
    X = tensor([-5.0, 5.0, 0.0])
    graph = make_dot(W * X + B, params={"W": W, "B": B})
    dot = graph.source
    assert str(graph) == dot and "MulBackward0" in graph  # what callers that printed the text see
    assert dot.splitlines() == [
        "digraph {",
        '  graph [size="12,12"]',
        "  node [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 shape=box "
        "style=filled]",
        '  n0 [label="W\\n ()" fillcolor=lightblue]',
        '  n1 [label="MulBackward0" fillcolor=lightgrey]',
        "  n0 -> n1",
        '  n2 [label="B\\n ()" fillcolor=lightblue]',
        '  n3 [label="AddBackward0" fillcolor=lightgrey]',
        "  n1 -> n3",
        "  n2 -> n3",
        '  out [label="(3)" fillcolor=darkolivegreen1]',
        "  n3 -> out",
        "}",
    ]


def test_comparisons_give_boolean_tensors_without_gradients():
    x = tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = x > 1.5
    assert m.dtype == np.bool_ and not m.requires_grad and m.tolist() == [False, True, True]
    assert (x == 2.0).tolist() == [False, True, False]
    assert bool((x < 5).all()) and not bool((x > 5).any())
    assert x != None  # noqa: E711 - falls back to identity, as for any object
    with pytest.raises(GradcoreError, match="ambiguous"):
        bool(m)
    assert {x: "usable as a dict key"}[x] == "usable as a dict key"  # hashed by identity


# ---------------------------------------------------------------------------------------------
# mse_loss: one node whose gradient chains the table's rules


@pytest.mark.parametrize("shape", [(), (5,), (3, 2)])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_gradients(shape, reduction):
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=shape), rng.normal(size=shape)
    check_gradients(lambda x, t: gradcore.nn.mse_loss(x, t, reduction=reduction), a, b)
    got = gradcore.nn.mse_loss(tensor(a), tensor(b), reduction=reduction).numpy()
    want = {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction]((a - b) ** 2)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_mse_loss_is_one_node_and_checks_its_arguments():
    x = tensor([1.0, 2.0], requires_grad=True)
    loss = gradcore.nn.mse_loss(x, [0.0, 0.0])
    assert loss.grad_fn == "MseLossBackward0" and loss.dtype == np.float32
    assert loss.item() == 2.5
    loss.backward()
    assert x.grad.tolist() == [1.0, 2.0]
    with pytest.raises(GradcoreError, match="reduction must be"):
        gradcore.nn.mse_loss(x, x, reduction="max")
    with pytest.raises(GradcoreError, match=r"input has shape \(2,\) but target has shape \(\)"):
        gradcore.nn.mse_loss(x, 1.0)
