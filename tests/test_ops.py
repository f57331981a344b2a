"""The primitive table: every row complete, implementations consistent, rules equal to sympy's."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp

import gradcore as gc
from gradcore import ops
from gradcore.expr import var

# A point inside each function's domain where the derivative exists too.
SAMPLES = {"log": 1.7, "sqrt": 2.3, "asin": 0.3, "acos": -0.4, "tan": 0.6, "abs": -1.2, "sign": 0.7}


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_every_row_is_complete(name: str) -> None:
    row = ops.PRIMITIVES[name]
    assert row.name == name
    assert row.arity in (1, 2)
    assert callable(row.scalar) and callable(row.array) and callable(row.sympy)
    assert len(row.vjps) == row.arity, "one derivative rule per argument"
    assert all(callable(r) for r in row.vjps)
    assert row.domain, "every row states its domain in words"
    assert (row.symbol is not None) == (row.arity == 2)


def test_the_table_covers_the_functions_gradcore_documents() -> None:
    asked = "add sub mul div neg pow sin cos tan asin acos atan sinh cosh tanh exp log sqrt abs sigmoid".split()
    assert set(asked) <= set(ops.PRIMITIVES)
    assert ops.lookup("ln") is ops.PRIMITIVES["log"]
    assert set(ops.CONSTANTS) == {"pi", "e"}


def _args(row: ops.Primitive) -> tuple[float, ...]:
    if row.name == "pow":
        return (1.7, 2.6)
    if row.arity == 2:
        return (1.3, -0.8)
    return (SAMPLES.get(row.name, 0.9),)


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_float_and_numpy_implementations_agree(name: str) -> None:
    row = ops.PRIMITIVES[name]
    args = _args(row)
    assert float(row.array(*[np.float64(a) for a in args])) == pytest.approx(row.scalar(*args), rel=1e-14)


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_each_rule_matches_sympy_exactly(name: str) -> None:
    """Differentiate f(x) (or f(x, y)) with the table's rule and prove it equals sympy.diff."""
    row = ops.PRIMITIVES[name]
    names = ["x", "y"][: row.arity]
    e = gc.expr.call(name, *[var(n) for n in names])
    for n in names:
        ours = e.diff(n).to_sympy()
        theirs = sp.diff(e.to_sympy(), sp.Symbol(n, real=True))
        if name == "sign":
            # sympy's d sign(x) is 2*DiracDelta(x): zero everywhere but 0, where the table says 0 too.
            assert ours == 0 and theirs == 2 * sp.DiracDelta(sp.Symbol("x", real=True))
            continue
        assert sp.simplify(ours - theirs) == 0, f"d{name}/d{n}: {ours} != {theirs}"


@pytest.mark.parametrize("name", sorted(ops.PRIMITIVES))
def test_rules_give_numbers_with_the_float_namespace(name: str) -> None:
    """The same rule, read by a numeric interpreter, equals a central difference."""
    row = ops.PRIMITIVES[name]
    args = list(_args(row))
    out = row.scalar(*args)
    for i, rule in enumerate(row.vjps):
        got = rule(ops.FLOAT, 1.0, out, *args)
        h = 1e-6
        hi, lo = list(args), list(args)
        hi[i] += h
        lo[i] -= h
        assert got == pytest.approx((row.scalar(*hi) - row.scalar(*lo)) / (2 * h), rel=1e-6, abs=1e-8)


@pytest.mark.parametrize("text, function", [
    ("log(-1)", "log"), ("log(0)", "log"), ("sqrt(-1)", "sqrt"), ("1/0", "div"), ("asin(2)", "asin"),
    ("acos(-1.5)", "acos"), ("(-8)**(1/3)", "pow"), ("0**(-1)", "pow"),
])
def test_domain_errors_name_the_function(text: str, function: str) -> None:
    with pytest.raises(gc.DomainError) as info:
        gc.parse(text).evaluate()
    assert info.value.function == function
    assert "undefined" in str(info.value)


def test_domain_error_messages_read_like_the_formula() -> None:
    with pytest.raises(gc.DomainError, match=r"^log\(-1\) is undefined: log is defined for x > 0$"):
        gc.parse("log(-1)").evaluate()
    with pytest.raises(gc.DomainError, match=r"^1/0 is undefined: x/y needs y != 0 at x=0$"):
        gc.parse("1/x").evaluate(x=0)
    with pytest.raises(gc.DomainError, match=r"^\(-8\)\*\*0\.333"):
        gc.parse("(-8)**(1/3)").evaluate()


@pytest.mark.parametrize("text, x", [("exp(x)", 1000.0), ("cosh(x)", 800.0), ("10**x", 400.0), ("x*x", 1e200)])
def test_overflow_is_an_error_not_a_silent_inf(text: str, x: float) -> None:
    with pytest.raises(gc.NumericOverflowError, match="overflows float64"):
        gc.parse(text).evaluate(x=x)
    with pytest.raises(gc.NumericOverflowError, match=r"^exp\(1000\) overflows float64$"):
        gc.expr.call("exp", 1000).evaluate()
    # Written as a constant, the same overflow is caught by the parser, with a caret.
    with pytest.raises(gc.ParseError, match="too large for float64"):
        gc.parse("exp(1000)")
    assert issubclass(gc.NumericOverflowError, OverflowError)
    assert issubclass(gc.NumericOverflowError, gc.DomainError)


def test_sigmoid_is_stable_at_both_ends() -> None:
    row = ops.PRIMITIVES["sigmoid"]
    assert row.scalar(-1000.0) == 0.0 and row.scalar(1000.0) == 1.0
    assert row.scalar(-30.0) == pytest.approx(1 / (1 + math.exp(30)), rel=1e-15)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the right answer
        np.testing.assert_allclose(row.array(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_pow_exponent_partial_is_out_times_log_base_and_needs_a_positive_base() -> None:
    e = gc.parse("x**y")
    assert str(e.diff("y")) == "x**y*log(x)"
    assert e.diff("y").evaluate(x=2.0, y=3.0) == pytest.approx(8 * math.log(2))
    # Documented: for x <= 0 the exponent partial involves log(x) and is a DomainError.
    with pytest.raises(gc.DomainError, match="log"):
        e.diff("y").evaluate(x=-2.0, y=2.0)
    # The base partial is fine there.
    assert e.diff("x").evaluate(x=-2.0, y=2.0) == -4.0


def test_every_operator_names_a_row_and_python_method() -> None:
    import operator

    for o in ops.OPERATORS:
        row = ops.PRIMITIVES[o.primitive]
        assert row.arity == o.arity
        assert getattr(operator, o.dunder) is row.scalar or o.primitive == "pow"
    assert ops.INFIX["^"] is ops.INFIX["**"]
    assert {p.name for p in ops.BINARY.values()} == {"add", "sub", "mul", "div", "pow"}
    assert all(o.precedence < ops.ATOM_PRECEDENCE for o in ops.OPERATORS)


def test_the_parser_and_printer_follow_the_operator_table() -> None:
    import gradcore as gc

    # -x**2 is -(x**2): unary minus binds looser than ** and tighter than *.
    assert ops.OPERATOR_OF["mul"].precedence < ops.PREFIX["-"].precedence < ops.INFIX["**"].precedence
    assert gc.parse("-x**2") is gc.parse("-(x**2)")
    assert gc.parse("2**3**2").evaluate() == 512.0  # ** groups to the right
    assert gc.parse("8/4/2").evaluate() == 1.0      # / groups to the left
    for text in ["(a - b) - c", "a - (b - c)", "(x**y)**z", "x**(y**z)", "-(x*y)", "(-x)**2", "a/(b*c)"]:
        e = gc.parse(text)
        assert gc.parse(str(e)) is e
