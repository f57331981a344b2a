"""Tests of check_gradient: the three-way report, its tolerances, its verdicts and its output forms."""

from __future__ import annotations

import json
import math

import pytest

import gradcore as gc
from gradcore import check
from gradcore.check import GradientCheck, PartialCheck

WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"


def test_documented_tolerances():
    assert (check.EPS, check.AD_RTOL, check.AD_ATOL, check.FD_RTOL, check.FD_ATOL) == (
        1e-6, 1e-12, 1e-12, 1e-3, 1e-5)


def test_worked_example_three_ways():
    r = gc.check_gradient(WORKED, {"x": 1, "y": 2})
    assert isinstance(r, GradientCheck) and r.passed and bool(r)
    assert r.expression == WORKED and r.point == {"x": 1.0, "y": 2.0}
    assert r.value == 8 + math.cos(5.0)
    x, y = r.partials
    assert isinstance(x, PartialCheck) and (x.variable, y.variable) == ("x", "y")
    assert x.symbolic == "2*x + 2*y - sin(x + 2*y)" and y.symbolic == "2*x - 2*sin(x + 2*y)"
    assert x.autograd == 6.958924274663138 and y.autograd == 3.917848549326277
    assert x.exact == x.autograd and y.exact == y.autograd  # sympy at 30 digits, rounded to float64
    # Central differences with h = 1e-6 agree to about 1e-9 here.
    assert abs(x.finite_difference - x.autograd) < 1e-8 and abs(y.finite_difference - y.autograd) < 1e-8
    assert r.max_ad_error == 0.0 and 0 < r.max_fd_error < 1e-8
    assert r.worst in (x, y)


def test_report_text():
    text = str(gc.check_gradient(WORKED, {"x": 1, "y": 2}))
    lines = text.splitlines()
    assert lines[0] == f"gradient check of f = {WORKED} at x=1, y=2"
    assert lines[1].split() == ["autograd", "sympy", "(exact)", "central", "diff.", "|AD", "-", "sympy|",
                                "|AD", "-", "FD|"]
    assert lines[2].startswith("df/dx  6.95892427466  6.95892427466  6.958924274") and lines[2].endswith("ok")
    assert lines[3].startswith("df/dy  3.91784854933  3.91784854933  3.91784854") and lines[3].endswith("ok")
    assert "largest |AD - sympy| = 0.0e+00   (allowed per variable: 1e-12 + 1e-12*|sympy|)" in lines
    assert any(line.startswith("largest |AD - FD|    = ") and "as torch.autograd.gradcheck" in line
               for line in lines)
    assert lines[-1] == "passed: the three methods agree"


def test_to_dict_is_json_ready():
    d = gc.check_gradient(WORKED, {"x": 1, "y": 2}).to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["passed"] is True and d["worst"] in ("x", "y")
    assert d["partials"]["x"]["autograd"] == 6.958924274663138
    assert d["partials"]["y"]["symbolic"] == "2*x - 2*sin(x + 2*y)"
    assert d["tolerances"] == {"ad_rtol": 1e-12, "ad_atol": 1e-12, "fd_rtol": 1e-3, "fd_atol": 1e-5}


def test_a_jump_fails_and_says_why():
    r = gc.check_gradient("sign(x)", {"x": 0.0})
    assert not r.passed
    (p,) = r.partials
    assert p.autograd == 0.0 and math.isnan(p.exact)  # sympy: 2*DiracDelta(0)
    assert p.finite_difference == pytest.approx(1e6)  # (1 - (-1)) / 2e-6
    assert r.worst is p and not p.ad_ok and not p.fd_ok
    text = str(r)
    assert "FAIL" in text and text.endswith("FAILED: the methods disagree beyond the tolerances")
    assert "nan: sympy's derivative is not a finite real number here" in text
    d = r.to_dict()
    assert d["partials"]["x"]["sympy"] is None and d["passed"] is False
    json.dumps(d)


def test_a_kink_where_the_subgradient_is_symmetric_passes():
    r = gc.check_gradient("abs(x)", {"x": 0.0})
    assert r.passed and r.partials[0].autograd == 0.0 and r.partials[0].finite_difference == 0.0


def test_finite_differences_outside_the_domain_are_not_available():
    r = gc.check_gradient("log(x)", {"x": 1e-7})
    (p,) = r.partials
    assert p.finite_difference is None and p.fd_error is None and p.fd_ok is None
    assert p.autograd == pytest.approx(1e7, rel=1e-15) and r.passed
    assert "n/a: f(v - 1e-06) or f(v + 1e-06) is outside the domain of f" in str(r)


def test_an_ad_bug_would_be_caught(monkeypatch):
    # Pretend autograd got cos' wrong by one part in 1e9: the sympy comparison catches it,
    # even though finite differences (tolerance 1e-3) would not.
    from gradcore import value

    original = value._backward

    def off_by_a_little(root, seed):
        original(root, seed * (1 + 1e-9))

    monkeypatch.setattr(value, "_backward", off_by_a_little)
    r = gc.check_gradient("cos(x)", {"x": 0.5})
    (p,) = r.partials
    assert not p.ad_ok and p.fd_ok and not r.passed


def test_no_variables_and_errors():
    r = gc.check_gradient("2 + pi", {})
    assert r.passed and r.partials == () and r.value == 2 + math.pi
    assert "f has no variables: nothing to check" in str(r)
    with pytest.raises(gc.DomainError, match=r"log\(-1\) is undefined.* at x=-1$"):
        gc.check_gradient("log(x)", {"x": -1.0})
    with pytest.raises(gc.DomainError, match=r"sqrt\(0\) has no derivative.* at x=0$"):
        gc.check_gradient("sqrt(x)", {"x": 0.0})
    with pytest.raises(gc.GradcoreError, match="no value given for y"):
        gc.check_gradient("x*y", {"x": 1.0})
    with pytest.raises(gc.ParseError):
        gc.check_gradient("x +", {"x": 1.0})
    with pytest.raises(TypeError, match="needs an Expr or formula text"):
        gc.check_gradient(3.0, {})


def test_when_sympy_cannot_differentiate_the_comparison_is_unavailable_not_failed():
    # sympy leaves d/dy sign(acos(0.9*tanh(y))) unevaluated: it cannot prove acos(...) is real.
    r = gc.check_gradient("sign(acos(0.9*tanh(y)))", {"y": 0.0})
    (p,) = r.partials
    assert p.exact is None and p.ad_error is None and p.ad_ok is None
    assert p.autograd == 0.0 and p.finite_difference == 0.0 and p.fd_ok and r.passed
    assert "sympy n/a: sympy could not differentiate or evaluate this formula" in str(r)


@pytest.mark.parametrize("point", [{"x": 3.0, "y": 2.0}, [3.0, 2.0], (3.0, 2.0)])
def test_a_point_may_be_a_dict_or_a_sequence_in_variables_order(point) -> None:
    e = gc.parse("x**2*y")
    assert gc.gradient(e, point) == {"x": 12.0, "y": 9.0}
    assert gc.hessian(e, point).tolist() == [[4.0, 6.0], [6.0, 0.0]]
    assert gc.check_gradient(e, point).passed
    assert e.evaluate(point) == 18.0


def test_a_bare_number_is_the_point_of_a_formula_of_one_variable() -> None:
    assert gc.gradient("x**3", 2.0) == {"x": 12.0}
    assert gc.hessian("x**3", 2).tolist() == [[12.0]]
    assert gc.check_gradient("x**3", 2.0).passed
    with pytest.raises(gc.GradcoreError, match="the point has 1 value; the expression uses x, y"):
        gc.gradient("x*y", 2.0)
    with pytest.raises(gc.GradcoreError, match="the point has 3 values"):
        gc.hessian("x*y", [1, 2, 3])


def test_the_verdict_names_only_the_comparisons_that_were_made():
    # sympy has no number for d/dx sign(acos(...)) here: two methods on df/dx, three on df/dy.
    mixed = gc.check_gradient("sign(acos(0.9*tanh(abs(x^2)))) + y", {"x": -1.2, "y": 1.0})
    assert mixed.passed and mixed.compared == (1, 2)
    assert mixed.verdict == ("passed: autograd agrees wherever it could be compared (with sympy on 1 of 2 "
                             "partials, with finite differences on 2 of 2)")
    assert str(mixed).splitlines()[-1] == mixed.verdict and "three" not in str(mixed)
    # Written out as a tree, the derivative of sin(sin(...)) 60 deep is too large to send to sympy.
    deep = gc.check_gradient("sin(" * 60 + "x" + ")" * 60, {"x": 0.5})
    assert deep.sympy_skipped == "df/dx too large written out: more than 1,500 nodes as a tree"
    assert deep.compared == (0, 1) and deep.verdict.startswith("passed: autograd matches finite differences")
    assert "largest |AD - sympy| = n/a" in str(deep) and deep.to_dict()["max_ad_error"] is None
    # 20 deep is still checked three ways.
    assert gc.check_gradient("sin(" * 20 + "x" + ")" * 20, {"x": 0.5}).verdict == "passed: the three methods agree"
