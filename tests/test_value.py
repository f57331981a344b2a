"""Tests of the scalar autograd: operators, table-generated methods, backward semantics (diamonds,
accumulation, no_grad, detach), the generated kernels against the plain sweep, higher order (grad,
hessian), deep graphs, memory, error messages."""

from __future__ import annotations

import ast
import gc
import inspect
import math
import operator
import re
import sys
import types
import weakref

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

import gradcore as gc_
from gradcore import ops
from gradcore.errors import DomainError, GradcoreError, NotDifferentiableError, NumericOverflowError
from gradcore._value_kernels import KERNELS, MASKS
from gradcore.expr import const, interpret, raw, var
from gradcore.value import (Value, apply, backward_by_rules, build, build_nodes, grad, kernel_source,
                            topological_order)
from strategies import expressions, points

WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"
# 2x + 2y - sin(x + 2y) and 2x - 2 sin(x + 2y) at (1, 2), in float64.
DX = 2 * 1.0 + 2 * 2.0 - math.sin(5.0)
DY = 2 * 1.0 - 2 * math.sin(5.0)


# ---- the worked example ------------------------------------------------------------------------

def test_worked_example_gradient_by_hand_built_graph():
    x, y = Value(1.0), Value(2.0)
    f = x ** 2 + 2 * x * y + 3 + (x + 2 * y).cos()
    assert f.data == 1 + 4 + 3 + math.cos(5.0)
    f.backward()
    assert x.grad == DX == 6.958924274663138
    assert y.grad == DY == 3.917848549326277


def test_gradient_of_text_and_expr():
    assert gc_.gradient(WORKED, {"x": 1.0, "y": 2.0}) == {"x": DX, "y": DY}
    e = gc_.parse(WORKED)
    assert list(gc_.gradient(e, {"y": 2, "x": 1})) == ["x", "y"]  # variables order
    assert gc_.gradient("3 + pi", {}) == {}
    assert gc_.gradient("x**2", {"x": 3.0, "unused": 1.0}) == {"x": 6.0}


# ---- operators and generated methods -------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(ops.FUNCTIONS))
def test_every_table_function_is_a_method_with_the_exact_derivative(name):
    x0 = 0.3
    v = Value(x0)
    out = getattr(v, name)()
    assert out.op == name and out.primitive is ops.PRIMITIVES[name]
    assert out.data == ops.PRIMITIVES[name].scalar(x0)
    out.backward()
    t = sp.Symbol("t", real=True)
    exact = sp.diff(ops.PRIMITIVES[name].sympy(sp, t), t).subs(t, sp.Float(x0, 30))
    assert v.grad == pytest.approx(float(sp.N(exact, 30)), rel=1e-13, abs=1e-15)
    assert getattr(Value, name).__doc__.startswith(f"{name}(self)")


def test_methods_are_generated_for_every_row_not_hand_listed():
    # Every function row has a method, and nothing beyond the table pretends to be one.
    for name in ops.FUNCTIONS:
        assert callable(getattr(Value, name))
    assert abs(Value(-2.0)).op == "abs"


OPERATORS = [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a ** b),
]


@pytest.mark.parametrize("name,op", OPERATORS, ids=[n for n, _ in OPERATORS])
def test_operators_in_both_orders_with_numbers(name, op):
    a0, b0 = 1.5, 0.75
    x, y = sp.symbols("x y", real=True)
    f = op(x, y)
    subs = {x: sp.Float(a0, 30), y: sp.Float(b0, 30)}
    da = float(sp.N(sp.diff(f, x).subs(subs), 30))
    db = float(sp.N(sp.diff(f, y).subs(subs), 30))
    # Value op Value
    a, b = Value(a0), Value(b0)
    out = op(a, b)
    assert out.op == name and out.data == ops.PRIMITIVES[name].scalar(a0, b0)
    out.backward()
    assert a.grad == pytest.approx(da, rel=1e-14) and b.grad == pytest.approx(db, rel=1e-14)
    # Value op number: the number is a constant, not a node
    a = Value(a0)
    out = op(a, b0)
    assert out.operands == (a, b0) and out.parents == (a,)
    out.backward()
    assert a.grad == pytest.approx(da, rel=1e-14)
    # number op Value
    b = Value(b0)
    out = op(a0, b)
    assert out.operands == (a0, b) and out.parents == (b,)
    out.backward()
    assert b.grad == pytest.approx(db, rel=1e-14)


def test_value_exponent_and_negation():
    x, y = Value(2.0), Value(3.0)
    f = x ** y
    f.backward()
    assert f.data == 8.0
    assert x.grad == 3 * 2.0 ** 2 and y.grad == pytest.approx(8 * math.log(2.0), rel=1e-15)
    z = Value(1.5)
    n = -z
    n.backward()
    assert n.data == -1.5 and n.op == "neg" and z.grad == -1.0
    w = Value(2.0)
    (2 ** w).backward()
    assert w.grad == pytest.approx(4 * math.log(2), rel=1e-15)


def test_numpy_and_int_operands_are_constants():
    x = Value(2.0)
    for c in (3, np.float64(3.0), np.float32(3.0), np.int64(3), np.array(3.0)):
        out = c * x
        assert isinstance(out, Value) and out.data == 6.0 and out.operands == (3.0, x)
        out = x * c
        assert isinstance(out, Value) and out.operands == (x, 3.0)


def test_numpy_functions_call_the_value_methods():
    x = Value(0.5)
    y = np.cos(x)
    assert isinstance(y, Value) and y.op == "cos" and y.parents == (x,)


def test_a_subclass_of_value_is_a_graph_node():
    class Param(Value):
        __slots__ = ()

    w, x = Param(3.0), Value(2.0)
    for out in (x * w, w * x, x - w):
        assert w in out.parents
        w.zero_grad()
        out.backward()
        assert w.grad != 0.0


def test_parents_are_a_tuple_in_argument_order():
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    assert (a - b).parents == (a, b)
    assert (b - a).parents == (b, a)
    assert (a * a).parents == (a, a)  # a Value used twice appears twice
    assert a.parents == () and a.is_leaf and a.operands == ()


def test_nodes_share_their_op_and_hold_no_closure():
    a, b = Value(1.0), Value(2.0)
    # The backward rule lives in a per-(primitive, operand pattern) object shared by all nodes.
    assert (a * 2)._op is (b * 3)._op
    assert not hasattr(a, "__dict__")
    node = a * b
    assert not any(isinstance(r, types.FunctionType) for r in gc.get_referents(node))
    assert gc.get_referents(node._op.sweep) and node not in gc.get_referents(node._op)


def test_requires_grad_rules():
    a = Value(1.0)
    c = Value(2.0, requires_grad=False)
    assert a.requires_grad and not c.requires_grad
    out = a * c
    assert out.requires_grad and out.operands == (a, 2.0)  # a no-grad Value is a constant
    both = c * c
    assert not both.requires_grad and both.is_leaf
    with pytest.raises(GradcoreError, match="does not require grad|needs a Value that requires grad"):
        both.backward()
    assert a.requires_grad_(False) is a and not a.requires_grad
    with pytest.raises(GradcoreError, match="only be changed on a leaf"):
        (Value(1.0) * 2).requires_grad_(False)


# ---- backward semantics --------------------------------------------------------------------------

def test_diamond():
    a = Value(3.0)
    b = a + a
    c = b * b
    c.backward()
    # c = 4 a**2: dc/da = 8a; the intermediate b holds dc/db = 2b.
    assert a.grad == 24.0
    assert b.grad == 12.0 and c.grad == 1.0


def test_shared_intermediate_takes_the_kahn_path():
    a = Value(0.7)
    t = a.tanh()
    d = t * t + t.sin()
    d.backward()
    expected = (2 * math.tanh(0.7) + math.cos(math.tanh(0.7))) * (1 - math.tanh(0.7) ** 2)
    assert a.grad == pytest.approx(expected, rel=1e-15)
    assert [n._mark for n in topological_order(d)] == [0] * 5  # counters back at 0


def test_leaf_gradients_accumulate_until_zero_grad_and_intermediates_do_not_double_count():
    x, y = Value(0.5), Value(-1.25)
    m = x * y
    f = m.sin() + m
    f.backward()
    first = (x.grad, y.grad, m.grad)
    f.backward()
    assert (x.grad, y.grad) == (2 * first[0], 2 * first[1])  # leaves accumulate (PyTorch)
    assert m.grad == first[2]  # an intermediate holds the latest call's adjoint, not a sum
    x.zero_grad()
    y.zero_grad()
    f.backward()
    assert (x.grad, y.grad, m.grad) == first


def test_backward_with_a_seed_and_on_a_leaf():
    x = Value(2.0)
    (x * x).backward(gradient=0.5)
    assert x.grad == 2.0
    x.backward()
    assert x.grad == 3.0  # a leaf root adds its seed
    with pytest.raises(TypeError, match="needs a number"):
        x.backward("1")


def test_no_grad_context_manager_and_decorator():
    x = Value(2.0)
    with gc_.no_grad():
        y = x * 3 + x.sin()
        assert not gc_.is_grad_enabled()
        with gc_.enable_grad():
            z = x * 3
    assert gc_.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf and y.parents == ()
    assert y.data == 6.0 + math.sin(2.0)
    assert z.requires_grad and z.parents == (x,)

    @gc_.no_grad()
    def step(p: Value) -> Value:
        return p * p

    out = step(x)
    assert not out.requires_grad and out.data == 4.0 and gc_.is_grad_enabled()


def test_detach_stops_gradients():
    x = Value(3.0)
    d = x.detach()
    assert not d.requires_grad and d.data == 3.0 and d is not x
    f = x * d + x
    f.backward()
    assert x.grad == 3.0 + 1.0 and d.grad == 0.0


def test_optimizer_style_updates_of_data_and_grad():
    w = Value(1.0)
    for _ in range(3):
        loss = (w * 2.0 - 4.0) ** 2
        w.zero_grad()
        loss.backward()
        w.data -= 0.1 * w.grad
    # w <- w - 0.1 * 4 (2w - 4) = 0.2 w + 1.6: 1.8, 1.96, 1.992
    assert w.data == pytest.approx(1.992, rel=1e-15)


# ---- the plain sweep and the generated kernels ---------------------------------------------------

def test_operator_methods_come_from_the_operator_table_and_have_real_source():
    for o in ops.OPERATORS:
        names = [f"__{o.dunder}__"] + ([f"__r{o.dunder}__"] if o.arity == 2 else [])
        for name in names:
            method = getattr(Value, name)
            assert method.__qualname__ == f"Value.{name}" and o.symbol in method.__doc__
            source = inspect.getsource(method)  # Python in value.py, not text run by exec
            assert source.lstrip().startswith("def method(self") and "node = _new(Value)" in source
    assert inspect.getsourcefile(Value.sin).endswith("value.py")


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_kernel_source_is_readable_python_for_every_primitive(name):
    prim = ops.PRIMITIVES[name]
    source = kernel_source(name)
    tree = ast.parse(source)
    kernels = [f for f in tree.body if isinstance(f, ast.FunctionDef)]
    assert len(kernels) == len(MASKS[prim.arity]) == len(source.split("\n\n"))
    for mask, kernel, text in zip(MASKS[prim.arity], kernels, source.split("\n\n")):
        pattern = "_".join("node" if m else "const" for m in mask)
        assert kernel.name == f"{name}_backward_{pattern}"
        assert [a.arg for a in kernel.args.args] == ["node", "g"]
        # One line per graph operand, adding its rule's value into that operand's .grad.
        assert [f"p{i}" for i, m in enumerate(mask) if m] == re.findall(r"^    (p\d)\.grad \+= ", text, re.M)
        assert text.strip() == KERNELS[name, mask].source.strip()
        assert KERNELS[name, mask].sweep.__name__ == kernel.name
    with pytest.raises(KeyError, match="no primitive named 'cube'"):
        kernel_source("cube")


def _graph(expr, point, methods: bool, frozen=("z",)):
    """expr at point as a Value graph: with the operators and methods (methods=True), or with apply().

    Variables in `frozen` are Values with requires_grad=False, so their nodes take the kernels for a
    constant operand.
    """
    inputs = {n: Value(point[n], requires_grad=n not in frozen, label=n) for n in expr.variables}

    def by_methods(node, args):
        if not any(isinstance(a, Value) for a in args):
            return ops.PRIMITIVES[node.op].scalar(*args)
        if node.op in ops.OPERATOR_OF:
            return getattr(operator, ops.OPERATOR_OF[node.op].dunder)(*args)
        return getattr(args[0], node.op)()

    def by_apply(node, args):
        return apply(node.op, *args)

    built = interpret(expr, lambda n: n.value if n.op == "const" else inputs[n.name],
                      by_methods if methods else by_apply)
    return built[expr]


def _same(a: float, b: float) -> bool:
    return a == b and math.copysign(1.0, a) == math.copysign(1.0, b) or (a != a and b != b)


@settings(max_examples=300)
@given(expressions(), points(), st.sampled_from([(), ("z",), ("x", "y")]))
def test_plain_sweep_and_generated_kernels_agree_bit_for_bit(expr, point, frozen):
    fast, plain = _graph(expr, point, True, frozen), _graph(expr, point, False, frozen)
    if not isinstance(fast, Value):
        assert isinstance(plain, float) and _same(fast, plain)
        return
    fast_nodes, plain_nodes = topological_order(fast), topological_order(plain)
    assert [n.op for n in fast_nodes] == [n.op for n in plain_nodes]
    assert all(_same(a.data, b.data) for a, b in zip(fast_nodes, plain_nodes))
    if not fast.requires_grad:
        return
    try:
        fast.backward()
    except NotDifferentiableError as exc:  # sign(...) or abs at a kink: the plain sweep must say so too
        with pytest.raises(NotDifferentiableError, match=re.escape(str(exc))):
            backward_by_rules(plain)
        return
    backward_by_rules(plain)
    fast.backward(0.5)  # a second call: leaves accumulate, intermediates restart, in both sweeps
    backward_by_rules(plain, 0.5)
    assert all(_same(a.grad, b.grad) for a, b in zip(fast_nodes, plain_nodes)), str(expr)


def test_plain_sweep_semantics():
    a = Value(3.0)
    b = a + a
    c = b * b
    backward_by_rules(c)
    assert (a.grad, b.grad, c.grad) == (24.0, 12.0, 1.0)
    backward_by_rules(c)
    assert (a.grad, b.grad) == (48.0, 12.0)
    backward_by_rules(a, 2.0)
    assert a.grad == 50.0
    with pytest.raises(NotDifferentiableError, match=r"^sqrt\(0\) has no derivative"):
        backward_by_rules(Value(0.0).sqrt())
    with pytest.raises(GradcoreError, match="needs a Value that requires grad"):
        backward_by_rules(Value(1.0, requires_grad=False))
    with pytest.raises(TypeError, match="needs a number"):
        backward_by_rules(c, "1")


# ---- grad() and higher order -------------------------------------------------------------------

def test_grad_returns_gradients_without_touching_dot_grad():
    x, y = Value(1.0), Value(2.0)
    f = x ** 2 + 2 * x * y + 3 + (x + 2 * y).cos()
    assert grad(f, [x, y]) == (DX, DY)
    assert (x.grad, y.grad) == (0.0, 0.0)
    assert grad(f, x) == (DX,)
    assert grad([f, f], [y]) == (2 * DY,)
    unused = Value(5.0)
    assert grad(f, [unused]) == (0.0,)


def test_create_graph_gives_higher_derivatives():
    x = Value(0.4)
    f = x.sin()
    (d1,) = grad(f, x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    assert isinstance(d1, Value) and d1.requires_grad
    assert (d1.data, d2.data, d3) == (math.cos(0.4), -math.sin(0.4), -math.cos(0.4))
    # A rule that reads `out` (exp's is out * g) still differentiates correctly.
    (e1,) = grad(x.exp(), x, create_graph=True)
    assert grad(e1, x) == (math.exp(0.4),)


def test_grad_errors():
    x = Value(1.0)
    with pytest.raises(GradcoreError, match=r"outputs\[0\] does not require grad"):
        grad(Value(1.0, requires_grad=False), x)
    with pytest.raises(GradcoreError, match=r"inputs\[0\] does not require grad"):
        grad(x * 2, Value(1.0, requires_grad=False))
    with pytest.raises(TypeError, match=r"inputs must be a Value or a sequence of Values, got float"):
        grad(x * 2, 1.0)
    with pytest.raises(TypeError, match=r"inputs\[1\] is a float"):
        grad(x * 2, [x, 1.0])


def test_hessian_worked_examples():
    h = gc_.hessian(WORKED, {"x": 1.0, "y": 2.0})
    c = math.cos(5.0)
    np.testing.assert_allclose(h, [[2 - c, 2 - 2 * c], [2 - 2 * c, -4 * c]], rtol=1e-15)
    # The saddle of the same formula without the 3: diag(1, -4) at the origin.
    h0 = gc_.hessian("x**2 + 2*x*y + cos(x + 2*y)", {"x": 0.0, "y": 0.0})
    assert h0.tolist() == [[1.0, 0.0], [0.0, -4.0]]
    assert h0.dtype == np.float64
    assert gc_.hessian("x + 1", {"x": 2.0}).tolist() == [[0.0]]


def test_hessian_of_a_python_function_follows_the_callers_order():
    f = lambda x, y: x ** 2 * y + y.exp()  # noqa: E731
    h = gc_.hessian(f, {"y": 0.5, "x": 2.0})  # rows: y, then x (the dict's order)
    np.testing.assert_allclose(h, [[math.exp(0.5), 4.0], [4.0, 1.0]], rtol=1e-15)
    h2 = gc_.hessian(f, [2.0, 0.5])  # positional: x, y
    np.testing.assert_allclose(h2, [[1.0, 4.0], [4.0, math.exp(0.5)]], rtol=1e-15)
    assert gc_.gradient(f, {"y": 0.5, "x": 2.0}) == {"y": 4.0 + math.exp(0.5), "x": 2.0}


@settings(max_examples=40)
@given(expressions(max_leaves=6, names=("x", "y")), points(names=("x", "y")))
def test_hessian_matches_sympy(expr, point):
    assume(_smooth_at(expr, point))
    assume(len(expr.variables) > 0)
    h = gc_.hessian(expr, point)
    s = expr.to_sympy()
    syms = [sp.Symbol(v, real=True) for v in expr.variables]
    subs = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in point.items()}
    for i, a in enumerate(syms):
        for j, b in enumerate(syms):
            second = sp.diff(s, a, b)
            assume(not second.has(sp.Derivative))  # sympy cannot differentiate sign(acos(u)) at all
            exact = float(sp.N(second.subs(subs), 30))
            assert h[i, j] == pytest.approx(exact, rel=1e-9, abs=1e-9), (str(expr), i, j)


# ---- random expressions: autograd = sympy = finite differences ----------------------------------

def _smooth_at(expr, point, margin=1e-3) -> bool:
    """False if an abs or sign in expr is within `margin` of its kink at point (no derivative there)."""
    built, _ = build_nodes(expr, point)
    for node in expr.nodes():
        if node.op in ("abs", "sign"):
            arg = built[node.args[0]]
            if abs(float(arg)) < margin:
                return False
    return True


# Where the table's float rules for tanh and sigmoid lose digits (docs/expressions.md): past these
# arguments 1 - tanh(x)**2 and 1 - sigmoid(x) keep fewer than the 12 digits the comparison with
# sympy asks for. Such points are ill-conditioned for the rule, not disagreements of the engines.
_SATURATED = {"tanh": 4.5, "sigmoid": 8.0}


def _well_conditioned_at(expr, point) -> bool:
    """False if a tanh or sigmoid in expr is evaluated where its rule loses digits (see above)."""
    built, _ = build_nodes(expr, point)
    for node in expr.nodes():
        limit = _SATURATED.get(node.op)
        if limit is not None and abs(float(built[node.args[0]])) > limit:
            return False
    return True


def test_saturated_tanh_is_ill_conditioned_and_excluded_but_moderate_arguments_are_kept() -> None:
    # The case a random run found: tanh((x + x)**2) at x = 2 is tanh(16), where AD keeps 3 digits.
    f = gc_.parse("tanh((x + x)**2)")
    assert not _well_conditioned_at(f, {"x": 2.0}) and _well_conditioned_at(f, {"x": 1.0})
    report = gc_.check_gradient(gc_.parse("tanh(x)"), {"x": 4.5})
    assert report.passed  # at the limit the rule still has the digits the check asks for


@settings(max_examples=300)
@given(expressions(), points())
@example(raw("sign", raw("acos", raw("mul", const(0.9), raw("tanh", var("y"))))), {"x": 0.0, "y": 0.0, "z": 0.0})
def test_autograd_sympy_and_finite_differences_agree(expr, point):
    assume(_smooth_at(expr, point) and _well_conditioned_at(expr, point))
    report = gc_.check_gradient(expr, point)
    for p in report.partials:
        # ad_ok is None only where sympy cannot differentiate at all: it leaves sign(acos(u))'
        # unevaluated, unable to prove acos(u) real. Finite differences and Expr.diff still check AD.
        assert p.ad_ok is not False, f"{expr} d/d{p.variable}: AD {p.autograd!r} vs sympy {p.exact!r}"
        assert p.ad_ok or (p.exact is None and "sign" in str(expr)), (str(expr), p)
        assert p.fd_ok, f"{expr} d/d{p.variable}: AD {p.autograd!r} vs FD {p.finite_difference!r}"
        # And the symbolic derivative (Expr.diff of the same table) agrees too.
        assert p.autograd == pytest.approx(expr.diff(p.variable).evaluate(point), rel=1e-9, abs=1e-12)
    assert report.passed


# ---- deep graphs and memory ---------------------------------------------------------------------

def test_200k_operation_chain_under_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 1000 or pytest.skip("recursion limit was raised elsewhere")
    x = Value(0.5)
    v = x
    for _ in range(100_000):
        v = v * 1.0000001 + 0.001
    v.backward()
    expected = 1.0
    for _ in range(100_000):
        expected = 1.0000001 * expected  # the same multiplications backward() performs
    assert x.grad == expected
    assert (v.grad, math.isfinite(v.data)) == (1.0, True)


def test_200k_chain_through_grad_and_topological_order():
    x = Value(0.1)
    v = x
    for _ in range(200_000):
        v = v + x  # every node is shared with x: Kahn's order over a long, wide graph
    assert len(topological_order(v)) == 200_001
    assert grad(v, x) == (200_001.0,)


def test_graph_is_freed_without_the_cyclic_collector():
    gc.collect()
    gc.disable()
    try:
        x = Value(1.0)
        v = x
        for _ in range(1000):
            v = (v * 0.5 + 0.25).cos()
        middle = weakref.ref(v._a._a)
        v.backward()
        (g,) = grad(v, x, create_graph=True)
        root, leaf, gref = weakref.ref(v), weakref.ref(x), weakref.ref(g)
        del v, x, g
        assert root() is None and middle() is None and leaf() is None and gref() is None
        e, inputs = build(gc_.parse(WORKED), {"x": 1.0, "y": 2.0}, labels=True)
        e.backward()
        refs = [weakref.ref(n) for n in topological_order(e)]
        del e, inputs
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


# ---- error messages -----------------------------------------------------------------------------

def test_domain_errors_name_the_function_and_operands():
    with pytest.raises(DomainError, match=r"^log\(-1\) is undefined: log is defined for x > 0$"):
        Value(-1.0).log()
    with pytest.raises(DomainError, match=r"^1/0 is undefined: x/y needs y != 0$"):
        Value(1.0) / 0
    with pytest.raises(DomainError, match=r"^asin\(2\) is undefined"):
        Value(2.0).asin()
    with pytest.raises(NumericOverflowError, match=r"^exp\(1000\) overflows float64$"):
        Value(1000.0).exp()
    with pytest.raises(NumericOverflowError, match=r"overflows float64"):
        Value(1e200) * 1e200
    with pytest.raises(DomainError, match=r"^\(-8\)\*\*0.5 is undefined"):
        Value(-8.0) ** 0.5
    with pytest.raises(DomainError, match=r"log\(-1\) is undefined.* at x=-1$"):
        gc_.gradient("log(x)", {"x": -1.0})


def test_undefined_derivatives_raise_not_differentiable():
    x = Value(0.0)
    with pytest.raises(NotDifferentiableError,
                       match=r"^sqrt\(0\) has no derivative: its derivative rule fails there"):
        x.sqrt().backward()
    # The marks were reset: the same graph can be swept again after the error.
    y = Value(4.0)
    s = y.sqrt() * y.sqrt()
    s.backward()
    assert y.grad == pytest.approx(1.0, rel=1e-15)
    with pytest.raises(DomainError, match=r"sqrt\(0\) has no derivative.* at x=0$"):
        gc_.gradient("sqrt(x)", {"x": 0.0})
    base, exponent = Value(0.0), Value(2.0)
    with pytest.raises(NotDifferentiableError, match=r"^0\*\*2 has no derivative"):
        (base ** exponent).backward()  # d/dy x**y = x**y log x needs x > 0
    assert isinstance(NotDifferentiableError("sqrt", (0.0,)), DomainError)


def test_type_errors():
    with pytest.raises(TypeError, match="Value needs a real number, got str"):
        Value("1")
    with pytest.raises(TypeError):
        Value(1.0) + "a"
    with pytest.raises(TypeError, match=r"use \*\* for powers"):
        Value(1.0) ^ 2
    with pytest.raises(GradcoreError, match="no value given for y"):
        gc_.gradient("x*y", {"x": 1.0})


def test_repr_and_conversions():
    v = Value(2.5, label="w")
    assert repr(v) == "Value(data=2.5, grad=0.0, label='w')"
    assert float(v) == 2.5 and v.item() == 2.5
    assert repr(Value(1)) == "Value(data=1.0, grad=0.0)"


def test_no_grad_nests_and_decorates_with_or_without_parentheses():
    from gradcore.grad_mode import is_grad_enabled
    mode = gc_.no_grad()
    with mode:
        with mode:  # the same object entered twice restores each level correctly
            assert not is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()

    @gc_.no_grad
    def bare(v):
        return v * v

    @gc_.no_grad()
    def called(v):
        return v * v

    for fn in (bare, called):
        out = fn(Value(3.0))
        assert out.data == 9.0 and not out.requires_grad
    assert is_grad_enabled()
