"""Compiled gradients: generated code agrees with Expr.evaluate, Expr.diff and sympy, at points and on
arrays; names are sanitised; domain errors keep their meaning; compiling twice is a cache hit."""

from __future__ import annotations

import io
import math
import re
import tokenize
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import gradcore as gc
from gradcore import ops
from gradcore.cli import main
from gradcore.codegen import DomainWarning, safe_names
from gradcore.expr import call, const, raw, var
from helpers import close, sympy_partial, sympy_value, well_conditioned
from strategies import expressions, points

WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"


def _reference(e: gc.Expr, p: dict):
    """(value, gradient, hessian) by the symbolic interpreter; None where it raises."""
    args = {v: p[v] for v in e.variables}
    try:
        value = e.evaluate(args)
        grad = [e.diff(v).evaluate(args) for v in e.variables]
        hess = [[e.diff(a).diff(b).evaluate(args) for b in e.variables] for a in e.variables]
    except gc.DomainError:
        return None
    return value, grad, hess


def _scale(*numbers) -> float:
    flat = np.concatenate([np.ravel(np.asarray(n, dtype=float)) for n in numbers])
    return float(max(1.0, np.max(np.abs(flat), initial=0.0)))


# ---- the worked example -------------------------------------------------------------------------

def test_worked_example_value_gradient_and_hessian() -> None:
    f = gc.compile(WORKED)
    assert f.variables == ("x", "y")
    x, y = 1.0, 2.0
    s, c = math.sin(x + 2 * y), math.cos(x + 2 * y)
    assert f.value(x, y) == x**2 + 2*x*y + 3 + c
    # The partials of docs/worked-examples.md, example 2 (the chain rule's factor 2 in the y-partial).
    dx, dy = f.grad(x, y)
    assert math.isclose(dx, 2*x + 2*y - s, rel_tol=1e-15)
    assert math.isclose(dy, 2*x - 2*s, rel_tol=1e-15)
    assert f.value_and_grad(x, y) == (f.value(x, y), (dx, dy))
    h = f.hessian(x, y)
    assert h.shape == (2, 2) and h.dtype == np.float64
    np.testing.assert_allclose(h, [[2 - c, 2 - 2*c], [2 - 2*c, -4*c]], rtol=1e-14)


def test_worked_example_saddle_hessian_is_diag_1_minus_4() -> None:
    # docs/worked-examples.md: x**2 + 2*x*y + cos(x + 2*y) has its only critical point at (0, 0), a saddle.
    f = gc.compile("x**2 + 2*x*y + cos(x + 2*y)")
    assert f.grad(0.0, 0.0) == (0.0, 0.0)
    assert f.hessian(0.0, 0.0).tolist() == [[1.0, 0.0], [0.0, -4.0]]


def test_source_is_readable_and_each_adjoint_line_names_its_forward_line() -> None:
    src = gc.compile(WORKED).source
    assert "cos_8 = math.cos(add_7)" in src
    assert "d_add_7 = -math.sin(add_7)  # from cos_8 = math.cos(add_7)" in src
    # The mul rule x*g for mul_2 = 2.0 * x gives 2.0 * y, which the forward pass already computed.
    assert "d_x = d_add_7 + mul_6 + mul_2  # from add_7 = x + mul_6; mul_2 = 2.0 * x; pow_1 = x ** 2.0" in src
    assert "d_y = 2.0 * d_add_7 + mul_2  # from mul_6 = 2.0 * y; mul_3 = mul_2 * y" in src
    grad = src.split("def grad")[1].split("def value_and_grad")[0]
    # grad keeps only the forward values its adjoint needs.
    assigned = [line.split(" = ")[0].strip() for line in grad.splitlines() if " = " in line.split("#")[0]]
    assert assigned == ["mul_2", "mul_6", "add_7", "d_add_7", "d_y", "d_x"]


def test_common_subexpressions_are_computed_once() -> None:
    f = gc.compile("sin(x*y) + cos(x*y) * sin(x*y)")
    body = f.source.split("def value(")[1].split("def grad")[0]
    assert body.count("x * y") == 1 and body.count("math.sin(") == 1
    assert math.isclose(f.value(0.3, 0.7), math.sin(0.21) + math.cos(0.21) * math.sin(0.21))


# ---- agreement with the symbolic interpreter and with sympy ---------------------------------------

@settings(max_examples=250)
@given(expressions(), points())
def test_compiled_agrees_with_evaluate_and_diff(e: gc.Expr, p: dict) -> None:
    ref = _reference(e, p)
    f = gc.compile(e)
    args = [p[v] for v in f.variables]
    if ref is None:
        # Where the symbolic path reports a DomainError, the compiled value or derivatives must too.
        with pytest.raises(gc.DomainError):
            f.value(*args)
            f.grad(*args)
            f.hessian(*args)
        return
    value, grad, hess = ref
    assume(_scale(value, grad, hess) < 1e8)
    tol = 1e-9 * _scale(value, grad, hess)
    assert close(f.value(*args), value, rel=1e-12, abs_=1e-12), str(e)
    got = f.grad(*args)
    assert isinstance(got, tuple) and len(got) == len(args)
    for a, b in zip(got, grad):
        assert close(a, b, rel=1e-9, abs_=tol), str(e)
    v2, g2 = f.value_and_grad(*args)
    assert v2 == f.value(*args) and g2 == got
    h = f.hessian(*args)
    assert h.shape == (len(args), len(args))
    np.testing.assert_allclose(h, np.array(hess).reshape(h.shape), rtol=1e-8, atol=tol, err_msg=str(e))
    np.testing.assert_array_equal(h, h.T)


@settings(max_examples=200)
@given(expressions(safe=False, max_leaves=8), st.lists(points(), min_size=1, max_size=4))
def test_domain_errors_anywhere_in_the_table(e: gc.Expr, pts: list) -> None:
    """Any tree at all: the float path raises exactly the DomainError Expr.evaluate raises, and the
    array path gives NaN (with a warning) exactly at those points."""
    f = gc.compile(e)
    expected = []
    for p in pts:
        args = [p[v] for v in f.variables]
        try:
            value = e.evaluate(p)
        except gc.DomainError as exc:
            assert _message(f.value, *args) == str(exc.at({v: p[v] for v in f.variables}))
            expected.append(None)
            continue
        assert f.value(*args) == value or close(f.value(*args), value, rel=1e-12, abs_=1e-300), str(e)
        expected.append(value)
    assume(f.variables)
    arrays = [np.array([p[v] for p in pts]) for v in f.variables]
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        got = f.value(*arrays)
    assert [w.category for w in record] == ([DomainWarning] if None in expected else []), str(e)
    for g, v in zip(got, expected):
        assert (math.isnan(g) if v is None else close(g, v, rel=1e-9, abs_=1e-9)), (str(e), g, v)


@settings(max_examples=40)
@given(expressions(max_leaves=6), points())
def test_compiled_agrees_with_sympy(e: gc.Expr, p: dict) -> None:
    f = gc.compile(e)
    args = [p[v] for v in f.variables]
    try:
        value, grad = f.value_and_grad(*args)
    except gc.DomainError:
        assume(False)
    assume(_scale(value, grad) < 1e8)
    # Compare only where float64 can evaluate well (see helpers.well_conditioned).
    assume(well_conditioned(e, p) and all(well_conditioned(e.diff(n), p) for n in f.variables))
    tol = 1e-8 * _scale(value, grad)
    assert close(value, sympy_value(e, p), rel=1e-9, abs_=tol)
    for name, g in zip(f.variables, grad):
        try:
            exact = sympy_partial(e, name, p)
        except TypeError:  # sympy's DiracDelta at a jump of sign: no number to compare
            assume(False)
        except RecursionError:  # sympy's own recursive evaluation of a deep tree: no number to compare
            assume(False)
        assert close(g, exact, rel=1e-8, abs_=tol), (str(e), name)


@settings(max_examples=15)
@given(expressions(max_leaves=5), points())
def test_compiled_hessian_agrees_with_sympy(e: gc.Expr, p: dict) -> None:
    import sympy as sp
    f = gc.compile(e)
    args = [p[v] for v in f.variables]
    try:
        h = f.hessian(*args)
    except gc.DomainError:
        assume(False)
    assume(_scale(h) < 1e8)
    s = e.to_sympy()
    symbols = [sp.Symbol(v, real=True) for v in f.variables]
    subs = {sym: sp.Float(v, 30) for sym, v in zip(symbols, args)}
    for i, a in enumerate(symbols):
        for j, b in enumerate(symbols):
            try:
                exact = float(sp.N(sp.diff(s, a, b).subs(subs), 30))
            except TypeError:  # sympy's DiracDelta at a kink of abs or sign: no number to compare
                assume(False)
            assert close(h[i, j], exact, rel=1e-8, abs_=1e-8 * _scale(h)), (str(e), i, j)


@settings(max_examples=100)
@given(expressions(), st.lists(points(), min_size=1, max_size=6))
def test_array_path_agrees_with_the_float_path_point_by_point(e: gc.Expr, pts: list) -> None:
    f = gc.compile(e)
    assume(f.variables)  # without variables there is nothing to pass an array for
    arrays = [np.array([p[v] for p in pts]) for v in f.variables]
    try:
        per_point = [f.value_and_grad(*[p[v] for v in f.variables]) for p in pts]
        hess = [f.hessian(*[p[v] for v in f.variables]) for p in pts]
    except gc.DomainError:
        assume(False)
    assume(_scale([v for v, _ in per_point], [g for _, g in per_point], hess) < 1e8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # inside the domain: no warning at all
        value, grad = f.value_and_grad(*arrays)
        h = f.hessian(*arrays)
        only_grad = f.grad(*arrays)
        only_value = f.value(*arrays)
    n = len(pts)
    assert value.shape == (n,) and all(g.shape == (n,) for g in grad) and h.shape == (n, len(arrays), len(arrays))
    for k, (v, g) in enumerate(per_point):
        tol = 1e-9 * _scale(v, g, hess[k])
        assert close(value[k], v, rel=1e-12, abs_=tol) and close(only_value[k], v, rel=1e-12, abs_=tol)
        for a, b, c in zip(grad, only_grad, g):
            assert close(a[k], c, rel=1e-9, abs_=tol) and close(b[k], c, rel=1e-9, abs_=tol)
        np.testing.assert_allclose(h[k], hess[k], rtol=1e-9, atol=tol)


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_every_row_of_the_table_compiles_on_both_paths(name: str) -> None:
    prim = ops.PRIMITIVES[name]
    x, y = var("x"), var("y")
    e = raw(name, x, y) if prim.arity == 2 else raw(name, x * y)
    f = gc.compile(e)
    p = {"x": 0.7, "y": 0.4}
    args = [p[v] for v in f.variables]
    value, grad = f.value_and_grad(*args)
    assert value == pytest.approx(e.evaluate(p), rel=1e-15)
    for v, g in zip(f.variables, grad):
        assert g == pytest.approx(e.diff(v).evaluate(p), rel=1e-13, abs=1e-15)
    arrays = [np.full(3, a) for a in args]
    av, ag = f.value_and_grad(*arrays)
    np.testing.assert_allclose(av, value, rtol=1e-14)
    np.testing.assert_allclose(np.array(ag), np.array(grad)[:, None] * np.ones(3), rtol=1e-13, atol=1e-15)


# ---- arguments, shapes, dtypes -------------------------------------------------------------------

def test_arrays_broadcast_against_each_other() -> None:
    f = gc.compile("x*y + x")
    X = np.arange(3.0).reshape(3, 1)
    Y = np.arange(4.0).reshape(1, 4)
    value, (dx, dy) = f.value_and_grad(X, Y)
    assert value.shape == dx.shape == dy.shape == (3, 4)
    np.testing.assert_array_equal(dx, np.broadcast_to(Y + 1, (3, 4)))
    np.testing.assert_array_equal(dy, np.broadcast_to(X, (3, 4)))
    h = f.hessian(X, Y)
    assert h.shape == (3, 4, 2, 2)
    np.testing.assert_array_equal(h[2, 3], [[0.0, 1.0], [1.0, 0.0]])
    # A scalar with an array broadcasts too, and a list is an array.
    np.testing.assert_array_equal(f.grad([1.0, 2.0], 5.0)[0], [6.0, 6.0])


def test_results_are_fresh_arrays_never_the_callers_input() -> None:
    f = gc.compile("x*y")
    X, Y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    dx, dy = f.grad(X, Y)
    assert dx is not Y and dy is not X
    dx[0] = 99.0
    assert Y[0] == 3.0
    g = gc.compile("(x + y)**2")  # both partials are the same value in the generated code
    a, b = g.grad(X, Y)
    a[0] = -1.0
    assert b[0] == 8.0


def test_numbers_take_the_float_path_and_return_python_floats() -> None:
    f = gc.compile("x**2 + y")
    for args in [(2, 3), (np.float64(2.0), np.int64(3)), (True, 3.0)]:
        value = f.value(*args)
        assert type(value) is float and value == (4.0 if args[0] is not True else 1.0) + 3.0
        assert all(type(g) is float for g in f.grad(*args))
    assert f.value(np.array(2.0), 3.0).shape == ()  # a 0-d array is an array


def test_float32_arrays_stay_float32() -> None:
    f = gc.compile("x*sin(y)")
    dx, dy = f.grad(np.ones(3, np.float32), 0.5)
    assert dx.dtype == dy.dtype == np.float32


def test_bad_arguments_are_reported() -> None:
    f = gc.compile("x*y")
    with pytest.raises(gc.GradcoreError, match="the value of x must be a number or an array of numbers"):
        f.grad("1", 2.0)
    with pytest.raises(gc.GradcoreError, match=r"do not broadcast together: shapes x\(3,\), y\(4,\)"):
        f.grad(np.ones(3), np.ones(4))
    with pytest.raises(TypeError):
        f.grad(1.0)  # one argument per variable, positionally


def test_no_variables() -> None:
    f = gc.compile("3 + pi")
    assert f.variables == () and f.value() == 3 + math.pi and f.grad() == ()
    assert f.value_and_grad() == (3 + math.pi, ())
    assert f.hessian().shape == (0, 0)


# ---- names ---------------------------------------------------------------------------------------

HOSTILE = ["lambda", "None", "__import__", "math", "np", "d_x", "dx_y", "add_1", "var_0", "grad",
           "value", "float", "type", "print", "_", "_dispatch", "θ", "x", "y", "x_1", "x_1_add", "add_y"]


def _hostile_expr() -> gc.Expr:
    vs = [var(n) for n in HOSTILE]
    e = const(0.0)
    for k, v in enumerate(vs):
        e = e + call("sin", v * (k + 1)) * vs[(k + 1) % len(vs)]
    return e


def test_safe_names_keep_plain_names_and_rename_the_rest() -> None:
    assert safe_names(["x", "y2", "theta", "x_1", "delta", "d"]) == ("x", "y2", "theta", "x_1", "delta", "d")
    renamed = ["lambda", "math", "d_x", "dx_y", "sin_1", "var_9", "θ", "_", "_x", "type", "match"]
    assert safe_names(renamed) == tuple(f"var_{i}" for i in range(len(renamed)))


def test_keyword_and_hostile_variable_names_compile_and_agree() -> None:
    e = _hostile_expr()
    f = gc.compile(e)
    assert f.variables == tuple(sorted(HOSTILE))
    assert f.names["lambda"].startswith("var_") and f.names["x"] == "x" and f.names["x_1"] == "x_1"
    rng = np.random.default_rng(0)
    point = {v: float(rng.uniform(-2, 2)) for v in f.variables}
    args = [point[v] for v in f.variables]
    value, grad = f.value_and_grad(*args)
    assert close(value, e.evaluate(point), rel=1e-12)
    for v, g in zip(f.variables, grad):
        assert close(g, e.diff(v).evaluate(point), rel=1e-10, abs_=1e-12), v
    h = f.hessian(*args)
    for i, u in enumerate(f.variables):
        for j, v in enumerate(f.variables):
            assert close(h[i, j], e.diff(u).diff(v).evaluate(point), rel=1e-10, abs_=1e-12), (u, v)
    arrays = [np.full(2, a) for a in args]
    np.testing.assert_allclose(f.grad(*arrays)[0], grad[0], rtol=1e-14)
    # Keyword arguments are not a way in: the generated entry points are positional-only.
    with pytest.raises(TypeError):
        f.value(**point)


def test_generated_source_contains_no_user_text_beyond_sanitised_names() -> None:
    f = gc.compile(_hostile_expr())
    f.hessian  # noqa: B018 - build the Hessian code too
    allowed = set(f.names.values()) | {"math", "np", "sin", "cos", "type", "float", "pow", "sign",
                                       "sigmoid", "abs", "ArithmeticError", "ValueError", "_dispatch",
                                       "_explain", "_matrix", "value", "grad", "value_and_grad",
                                       "hessian", "from", "is", "not", "or", "if", "try", "except",
                                       "return", "def"}
    generated = re.compile(r"(d[A-Za-z0-9_]*_)?([a-z]+_\d+|var_\d+|[A-Za-z][A-Za-z0-9]*)")
    sources = [f.source, f.array_source, f.hessian_source, f.hessian_array_source]
    for src in sources:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            words = re.findall(r"[^\W\d]\w*", tok.string) if tok.type in (tokenize.NAME, tokenize.COMMENT) else []
            for w in words:
                assert w in allowed or generated.fullmatch(w), w
        for hostile in ("lambda", "__import__", "θ", "None", "print", "d_x_"):
            assert not re.search(rf"(?<![\w]){re.escape(hostile)}(?![\w])", src), hostile


# ---- the cache -----------------------------------------------------------------------------------

def test_compiling_the_same_expression_again_is_a_cache_hit() -> None:
    e = gc.parse("x*exp(y) - x")
    f = gc.compile(e)
    hits = gc.compile.cache_info().hits
    assert gc.compile(e) is f
    assert gc.compile(gc.parse("x*exp(y) - x")) is f  # hash-consing: the same node
    assert gc.compile("x*exp(y) - x") is f
    assert gc.compile(var("x") * var("y").exp() - var("x")) is f  # built by operators: the same node
    assert gc.compile.cache_info().hits == hits + 4
    gc.compile.cache_clear()
    assert gc.compile(e) is not f


def test_a_dropped_compiled_expression_is_freed_without_the_cycle_collector() -> None:
    import gc as collector
    import weakref

    f = gc.CompiledExpr(gc.parse("log(x) * y + x"))  # built directly: the cache keeps no reference
    f.value(np.float64(2.0), 1)  # through the dispatcher
    f.grad(np.ones(2), 1.0)
    f.hessian(2.0, 1.0)
    f.hessian(np.ones(2), 1.0)
    assert f.array_source and f.hessian_source
    program, entry = weakref.ref(f._program), weakref.ref(f.grad)
    collector.disable()
    try:
        del f
        assert program() is None and entry() is None  # no reference cycle kept them alive
    finally:
        collector.enable()


def test_compile_refuses_other_objects() -> None:
    with pytest.raises(TypeError, match="compile needs an Expr or formula text, got int"):
        gc.compile(42)
    with pytest.raises(gc.ParseError):
        gc.compile("x +")


# ---- domain errors -------------------------------------------------------------------------------

def _message(fn, *args) -> str:
    with pytest.raises(gc.DomainError) as info:
        fn(*args)
    return str(info.value)


@pytest.mark.parametrize("text, point", [
    ("log(x) + y", {"x": -1.0, "y": 2.0}),
    ("sqrt(x) * y", {"x": -4.0, "y": 1.0}),
    ("asin(x) + y", {"x": 2.0, "y": 0.0}),
    ("y / x", {"x": 0.0, "y": 1.0}),
    ("x ** y", {"x": -8.0, "y": 1 / 3}),
    ("exp(x) + y", {"x": 1000.0, "y": 0.0}),
    ("x * x + y", {"x": 1e200, "y": 0.0}),
])
def test_float_domain_errors_match_evaluate(text: str, point: dict) -> None:
    e = gc.parse(text)
    f = gc.compile(e)
    expected = _message(e.evaluate, point)
    args = [point[v] for v in f.variables]
    assert _message(f.value, *args) == expected
    assert _message(f.value_and_grad, *args) == expected


def test_domain_error_messages_name_function_and_point() -> None:
    f = gc.compile("log(x) + y")
    assert _message(f.value, -1.0, 2.0) == "log(-1) is undefined: log is defined for x > 0 at x=-1, y=2"
    # grad needs 1/x, not log(x), yet f is undefined there: grad says so too.
    assert _message(f.grad, -1.0, 2.0) == "log(-1) is undefined: log is defined for x > 0 at x=-1, y=2"
    with pytest.raises(gc.NumericOverflowError, match=r"^exp\(1000\) overflows float64 at x=1000$"):
        gc.compile("exp(x)").value(1000.0)
    with pytest.raises(gc.NumericOverflowError, match=r"^exp\(800\) overflows float64 at x=800$"):
        gc.compile("exp(x)").grad(800.0)


def test_a_derivative_undefined_where_the_function_is_defined() -> None:
    # sqrt is defined at 0 but its derivative 1/(2*sqrt(x)) is not. The compiled code names the
    # primitive whose rule failed, as the Value engine does, not just the division inside the rule.
    e = gc.parse("sqrt(x)")
    f = gc.compile(e)
    assert f.value(0.0) == 0.0
    with pytest.raises(gc.NotDifferentiableError) as info:
        f.grad(0.0)
    assert str(info.value) == ("sqrt(0) has no derivative: its derivative rule fails there "
                               "(1/0 is undefined: x/y needs y != 0) at x=0")
    assert isinstance(info.value, gc.DomainError) and info.value.function == "sqrt"
    with pytest.raises(gc.NotDifferentiableError, match=r"^sqrt\(0\) has no derivative"):
        gc.Value(0.0).sqrt().backward()


def test_a_constant_part_outside_its_domain_fails_at_every_point() -> None:
    f = gc.compile(raw("add", var("x"), raw("log", const(-1.0))))
    assert _message(f.value, 1.0) == "log(-1) is undefined: log is defined for x > 0 at x=1"


def test_non_finite_inputs_are_not_domain_errors() -> None:
    f = gc.compile("x + 1")
    assert f.value(math.inf) == math.inf
    assert math.isnan(f.value(math.nan))
    assert f.grad(math.inf) == (1.0,)


def test_array_domain_policy_nan_and_one_warning() -> None:
    f = gc.compile("log(x) + y")
    X = np.array([1.0, -1.0, 2.0, 0.0])
    with pytest.warns(DomainWarning) as record:
        value, (dx, dy) = f.value_and_grad(X, 3.0)
    assert len(record) == 1
    assert str(record[0].message) == ("NaN at 2 of 4 points outside the domain; the first is index 1: "
                                      "log(-1) is undefined: log is defined for x > 0 at x=-1, y=3")
    assert record[0].filename == __file__  # the warning points at the caller's line
    np.testing.assert_array_equal(np.isnan(value), [False, True, False, True])
    np.testing.assert_array_equal(np.isnan(dy), [False, True, False, True])
    np.testing.assert_allclose(value[[0, 2]], [3.0, 3.0 + math.log(2.0)])
    np.testing.assert_allclose(dx[[0, 2]], [1.0, 0.5])


def test_array_domain_warning_names_a_multi_dimensional_index() -> None:
    f = gc.compile("sqrt(x)")
    X = np.array([[1.0, 4.0], [9.0, -1.0]])
    with pytest.warns(DomainWarning, match=r"NaN at 1 of 4 points outside the domain; the first is "
                                           r"index \(1, 1\): sqrt\(-1\) is undefined"):
        assert np.isnan(f.grad(X)[0][1, 1])


def test_array_overflow_is_reported_like_a_domain_error() -> None:
    with pytest.warns(DomainWarning, match=r"index 1: exp\(1000\) overflows float64 at x=1000"):
        v = gc.compile("exp(x)").value(np.array([0.0, 1000.0]))
    assert v[0] == 1.0 and np.isnan(v[1])


def test_nan_inputs_give_nan_without_a_warning() -> None:
    f = gc.compile("log(x)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = f.value(np.array([1.0, np.nan]))
    assert v[0] == 0.0 and np.isnan(v[1])


# ---- scale ---------------------------------------------------------------------------------------

def test_long_chains_compile_without_recursion() -> None:
    x = var("x")
    e = x
    for _ in range(3000):
        e = raw("sin", e)
    s = x
    for k in range(2000):
        s = raw("add", s, raw("mul", const(float(k % 7)), x))
    for expr in (e, s):
        f = gc.compile(expr)
        assert close(f.value(0.5), expr.evaluate({"x": 0.5}), rel=1e-12)
        assert close(f.grad(0.5)[0], f.grad(np.array([0.5]))[0][0], rel=1e-12)
    assert close(gc.compile(s).grad(0.5)[0], 1 + sum(k % 7 for k in range(2000)), rel=1e-15)


# ---- command line --------------------------------------------------------------------------------

def test_codegen_prints_the_generated_code(capsys) -> None:
    assert main(["codegen", WORKED]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# f = x**2 + 2*x*y + 3 + cos(x + 2*y)\ndef value(x, y, /):")
    assert out.endswith(gc.compile(WORKED).source)
    assert main(["codegen", WORKED, "--hessian"]) == 0
    out = capsys.readouterr().out
    assert "def hessian(x, y, /):" in out and "return _matrix(((dx_x, dx_y), (dx_y, dy_y)))" in out
    assert main(["codegen", WORKED, "--numpy"]) == 0
    assert "np.cos(" in capsys.readouterr().out


def test_codegen_bad_input_exits_2_without_traceback(capsys) -> None:
    assert main(["codegen", "x +"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("gradcore: error: ") and "Traceback" not in err


def test_a_hessian_outside_the_domain_raises_a_domain_error_not_a_key_error() -> None:
    # The Hessian program never computes x/y itself, only its derivatives' lines: the error must
    # still name the point, and be gradcore's own.
    f = gc.compile(gc.parse("x + x/y"))
    with pytest.raises(gc.DomainError, match="y=0"):
        f.hessian(1.0, 0.0)
