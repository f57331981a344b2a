"""Three independent gradients side by side: reverse-mode autograd, sympy's exact derivative, and
float64 central differences, with the tolerances that decide whether they agree; and the sympy-free
pair (autograd against gradcore's own symbolic derivative) that `gradcore grad` prints by default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import DomainError, GradcoreError
from .expr import Expr, point_values
from .format import html_table, json_number, number
from .printing import to_text
from .value import build

__all__ = ["check_gradient", "GradientCheck", "PartialCheck", "symbolic_gradient", "SymbolicCheck", "SymbolicPartial",
           "EPS", "AD_RTOL", "AD_ATOL", "FD_RTOL", "FD_ATOL", "SYMPY_LIMIT",
           "PARTIALS_LIMIT", "refuse_many_partials"]

# Step of the central difference (f(v + h) - f(v - h)) / 2h: its truncation error is about
# h**2 * |f'''| / 6 and its rounding error about 1e-16 * |f| / h, both tiny next to FD_ATOL at h = 1e-6.
EPS = 1e-6
# Autograd against sympy: both are exact up to float64 rounding, so they must agree to about 1e-12,
# |ad - exact| <= AD_ATOL + AD_RTOL * |exact|.
AD_RTOL = 1e-12
AD_ATOL = 1e-12
# Finite differences against autograd, as torch.autograd.gradcheck: |ad - fd| <= FD_ATOL + FD_RTOL * |fd|.
FD_RTOL = 1e-3
FD_ATOL = 1e-5
# sympy differentiates and evaluates a tree, not a shared graph, with recursive code: a formula of
# more distinct nodes than this (a 1,000-story power tower, a 5,000-factor quotient) could take
# minutes or exhaust the stack, so sympy is not asked and the report says so.
SYMPY_LIMIT = 300
# sympy's derivative is a tree: the partials of sin(sin(...(x)...)), 120 deep, have 7,000 nodes
# once their shared parts are written out, and sympy takes seconds on them. A partial whose tree
# (gradcore's own derivative, shared parts counted each time they are used) is larger than this is
# not sent to sympy either.
SYMPY_TREE_LIMIT = 1500
# Every partial of a formula is one more walk over it, and one more formula printed: the variables
# times the distinct nodes must stay below this, or the command line asks for fewer partials.
PARTIALS_LIMIT = 250_000


@dataclass(frozen=True)
class PartialCheck:
    """One variable: d f / d variable three ways, and how far apart they are.

    exact: sympy's derivative evaluated at 30 digits; nan if it is no finite real number there (a
        jump or a pole); None if sympy cannot differentiate the formula at all (it leaves
        sign(acos(u))' unevaluated, unable to prove acos(u) real), so that comparison is unavailable.
    finite_difference: None if f + h or f - h leaves the domain (e.g. log near 0).
    ad_ok, fd_ok: the comparison's verdict, or None when it is unavailable.
    """

    variable: str
    symbolic: str
    autograd: float
    exact: float | None
    finite_difference: float | None
    ad_error: float | None
    fd_error: float | None
    ad_ok: bool | None
    fd_ok: bool | None

    @property
    def passed(self) -> bool:
        """No comparison failed, and at least one was made."""
        verdicts = [ok for ok in (self.ad_ok, self.fd_ok) if ok is not None]
        return bool(verdicts) and all(verdicts)


@dataclass(frozen=True)
class GradientCheck:
    """The report of `check_gradient`: one PartialCheck per variable, and the verdict."""

    expression: str
    point: dict[str, float]
    value: float
    partials: tuple[PartialCheck, ...]
    eps: float = EPS
    tolerances: dict[str, float] = field(default_factory=lambda: {
        "ad_rtol": AD_RTOL, "ad_atol": AD_ATOL, "fd_rtol": FD_RTOL, "fd_atol": FD_ATOL})
    # Why sympy was not asked at all, e.g. "formula too large: 1,999 nodes > 300"; None when it was.
    sympy_skipped: str | None = None

    @property
    def passed(self) -> bool:
        """True when, for every variable, no comparison fails and at least one could be made:
        autograd agrees with sympy (where sympy can differentiate) and with finite differences
        (where f is defined at v +- eps)."""
        return all(p.passed for p in self.partials)

    def __bool__(self) -> bool:
        return self.passed

    @property
    def max_ad_error(self) -> float:
        """The largest |autograd - sympy| over the variables where sympy gave a value."""
        return max((p.ad_error for p in self.partials if p.ad_error is not None), default=0.0)

    @property
    def max_fd_error(self) -> float:
        """The largest |autograd - finite difference| over the variables where it exists."""
        return max((p.fd_error for p in self.partials if p.fd_error is not None), default=0.0)

    @property
    def worst(self) -> PartialCheck | None:
        """The variable with the largest disagreement, measured as error / allowed error."""
        return max(self.partials, key=_score, default=None)

    @property
    def compared(self) -> tuple[int, int]:
        """How many partials autograd was compared on with sympy, and with finite differences."""
        return (sum(p.ad_ok is not None for p in self.partials),
                sum(p.fd_ok is not None for p in self.partials))

    @property
    def verdict(self) -> str:
        """The closing sentence: the comparisons that were made, and whether they agree. "The three
        methods agree" only when all three gave a value for every partial."""
        n = len(self.partials)
        by_sympy, by_fd = self.compared
        if self.passed:
            if by_sympy == n and by_fd == n:
                return "passed: the three methods agree"
            if by_sympy == 0:
                return "passed: autograd matches finite differences; not checked by sympy"
            if by_fd == 0:
                return "passed: autograd matches sympy; finite differences n/a (f is undefined at v +- eps)"
            return (f"passed: autograd agrees wherever it could be compared (with sympy on {by_sympy} of "
                    f"{n} partials, with finite differences on {by_fd} of {n})")
        unchecked = [p.variable for p in self.partials if p.ad_ok is None and p.fd_ok is None]
        if unchecked and not any(False in (p.ad_ok, p.fd_ok) for p in self.partials):
            return ("FAILED: nothing could check " + ", ".join(f"df/d{v}" for v in unchecked)
                    + " (sympy and finite differences both n/a)")
        if by_sympy == 0:
            return "FAILED: autograd and finite differences differ beyond the tolerances"
        return "FAILED: the methods disagree beyond the tolerances"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (non-finite numbers become None)."""
        worst = self.worst
        return {
            "expression": self.expression,
            "point": dict(self.point),
            "value": json_number(self.value),
            "eps": self.eps,
            "tolerances": dict(self.tolerances),
            "partials": {p.variable: {
                "symbolic": p.symbolic, "autograd": json_number(p.autograd), "sympy": json_number(p.exact),
                "finite_difference": json_number(p.finite_difference),
                "ad_error": json_number(p.ad_error), "fd_error": json_number(p.fd_error), "passed": p.passed}
                for p in self.partials},
            "max_ad_error": json_number(self.max_ad_error) if self.compared[0] else None,
            "max_fd_error": json_number(self.max_fd_error) if self.compared[1] else None,
            "worst": worst.variable if worst else None,
            "sympy_skipped": self.sympy_skipped,
            "passed": self.passed,
            "verdict": self.verdict,
        }

    def __str__(self) -> str:
        at = ", ".join(f"{k}={number(v, 12)}" for k, v in self.point.items()) or "(no variables)"
        lines = [f"gradient check of f = {self.expression} at {at}"]
        if not self.partials:
            lines.append("f has no variables: nothing to check")
            return "\n".join(lines)
        rows = [("", "autograd", "sympy (exact)", "central diff.", "|AD - sympy|", "|AD - FD|", "")]
        for p in self.partials:
            rows.append((f"df/d{p.variable}", number(p.autograd, 12), "n/a" if p.exact is None else number(p.exact, 12),
                         "n/a" if p.finite_difference is None else number(p.finite_difference, 12),
                         "n/a" if p.ad_error is None else f"{p.ad_error:.1e}",
                         "n/a" if p.fd_error is None else f"{p.fd_error:.1e}",
                         "ok" if p.passed else "FAIL"))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        for r in rows:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        if any(p.exact is not None and math.isnan(p.exact) for p in self.partials):
            lines.append("nan: sympy's derivative is not a finite real number here (a jump or a pole)")
        if self.sympy_skipped:
            lines.append(f"sympy n/a: not checked by sympy ({self.sympy_skipped})")
        elif any(p.exact is None for p in self.partials):
            lines.append("sympy n/a: sympy could not differentiate or evaluate this formula")
        if any(p.finite_difference is None for p in self.partials):
            lines.append(f"n/a: f(v - {self.eps:g}) or f(v + {self.eps:g}) is outside the domain of f")
        by_sympy, by_fd = self.compared
        lines.append(f"largest |AD - sympy| = {f'{self.max_ad_error:.1e}' if by_sympy else 'n/a'}   "
                     f"(allowed per variable: {AD_ATOL:g} + {AD_RTOL:g}*|sympy|)")
        lines.append(f"largest |AD - FD|    = {f'{self.max_fd_error:.1e}' if by_fd else 'n/a'}   "
                     f"(allowed per variable: {FD_ATOL:g} + {FD_RTOL:g}*|FD|, as torch.autograd.gradcheck)")
        lines.append(f"largest disagreement for its tolerance: df/d{self.worst.variable} "
                     f"(error / allowed = {_score(self.worst):.1e})")
        lines.append(self.verdict)
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """The report print shows, for a notebook: its table as an HTML table, every text escaped."""
        # Read back from the printed text, so the two views cannot drift apart (no cell holds two spaces).
        title, *lines = str(self).splitlines()
        n = len(self.partials) + 1 if self.partials else 0
        rows = [re.split(r"\s{2,}", line.strip()) for line in lines[:n]]
        header = ["", *rows[0], ""] if rows else []
        return html_table(header, rows[1:], title, right=range(1, 6), notes=lines[n:])


def check_gradient(expr: "Expr | str", point: Mapping[str, float], eps: float = EPS) -> GradientCheck:
    """Compare, for each variable v of `expr` at `point`:
    autograd (reverse mode through Value), sympy's exact d expr/dv evaluated at 30 digits, and the
    central difference (f(v + h) - f(v - h)) / (2 h) in float64, with h = eps * max(1, |v|).

    Passes when |AD - sympy| <= AD_ATOL + AD_RTOL*|sympy| and |AD - FD| <= FD_ATOL + FD_RTOL*|FD|.
    A point outside the domain of f raises DomainError; so does one where a derivative rule is undefined.
    """
    expr, env, root, inputs = _backpropagated(expr, point, "check_gradient")
    derivatives = {name: expr.diff(name) for name in expr.variables}
    skipped = _sympy_skipped(expr, derivatives)
    s = subs = sp = None
    if skipped is None:
        import sympy as sp  # only here: a formula sympy is not asked about never loads it

        subs = {sp.Symbol(k, real=True): sp.Float(v, 30) for k, v in env.items()}  # the exact float64 point
        try:
            s = expr.to_sympy()
        except RecursionError:
            skipped = "formula too deep for sympy"
    partials = []
    for name in expr.variables:
        ad = inputs[name].grad
        exact = None if s is None else _sympy_partial(s, name, subs, sp)
        fd = _central_difference(expr, env, name, eps)
        if exact is None:
            ad_error, ad_ok = None, None
        else:
            ad_error = abs(ad - exact) if math.isfinite(exact) else math.inf
            ad_ok = ad_error <= AD_ATOL + AD_RTOL * abs(exact)
        fd_error = None if fd is None else abs(ad - fd)
        fd_ok = None if fd is None else fd_error <= FD_ATOL + FD_RTOL * abs(fd)
        # Shared parts are named (where u1 = ...), so the report stays linear in the graph's size.
        partials.append(PartialCheck(name, to_text(derivatives[name], shared=True), ad, exact, fd, ad_error,
                                     fd_error, ad_ok, fd_ok))
    return GradientCheck(to_text(expr, shared=True), env, root.data, tuple(partials), eps, sympy_skipped=skipped)


@dataclass(frozen=True)
class SymbolicPartial:
    """One variable: autograd's d f / d variable against gradcore's own exact derivative (`Expr.diff`)
    evaluated in float64 at the point. symbolic_value is None where that derivative has no value
    (its formula leaves a function's domain there); then agree is None too."""

    variable: str
    symbolic: str
    autograd: float
    symbolic_value: float | None
    error: float | None
    agree: bool | None


@dataclass(frozen=True)
class SymbolicCheck:
    """The report of `symbolic_gradient`: the formula's text, the point, f there, one SymbolicPartial
    per variable."""

    expression: str
    point: dict[str, float]
    value: float
    partials: tuple[SymbolicPartial, ...]

    @property
    def max_error(self) -> float:
        """The largest |autograd - symbolic| over the variables where the derivative has a value."""
        return max((p.error for p in self.partials if p.error is not None), default=0.0)


def symbolic_gradient(expr: "Expr | str", point: Mapping[str, float]) -> SymbolicCheck:
    """Autograd's partials of `expr` at `point` against `Expr.diff` evaluated there: they agree when
    |ad - symbolic| <= AD_ATOL + AD_RTOL*|symbolic|.

    Both are exact up to float64 rounding, computed by two separate walks (reverse-mode numbers and
    a derivative formula), and neither loads sympy; `check_gradient` adds sympy and finite differences.
    """
    expr, env, root, inputs = _backpropagated(expr, point, "symbolic_gradient")
    partials = []
    for name in expr.variables:
        ad, derivative = inputs[name].grad, expr.diff(name)
        try:
            value: float | None = derivative.evaluate(env)
        except GradcoreError:  # DomainError and overflow included: no number to compare with
            value = None
        error = None if value is None else abs(ad - value) if math.isfinite(value) else math.inf
        agree = None if value is None else error <= AD_ATOL + AD_RTOL * abs(value)
        partials.append(SymbolicPartial(name, to_text(derivative, shared=True), ad, value, error, agree))
    return SymbolicCheck(to_text(expr, shared=True), env, root.data, tuple(partials))


def _backpropagated(expr: "Expr | str", point: Mapping[str, float], caller: str) -> tuple:
    """(the formula, the full point, its Value root after backward(), the input Values by name)."""
    from .parse import as_formula

    expr = as_formula(expr, caller)
    env = point_values(expr, point)
    root, inputs = build(expr, env)
    if root.requires_grad:
        try:
            root.backward()
        except DomainError as exc:
            raise exc.at(env) from None
    return expr, env, root, inputs


def refuse_many_partials(expr: Expr, count: int, hint: str = "") -> None:
    """Raise GradcoreError when `count` partials of `expr` (each a walk over its distinct nodes) would
    pass PARTIALS_LIMIT, so a 1,800-variable product is refused at once instead of printed for minutes."""
    nodes = len(expr.nodes())
    if count * nodes > PARTIALS_LIMIT:
        raise GradcoreError(f"{count:,} partial derivatives of a formula of {nodes:,} nodes are too many to "
                            f"compute and print (variables x nodes = {count * nodes:,} > {PARTIALS_LIMIT:,}){hint}")


def _sympy_skipped(expr: Expr, derivatives: Mapping[str, Expr]) -> str | None:
    """Why sympy must not be asked about `expr` (more than SYMPY_LIMIT distinct nodes, or a partial
    whose tree has more than SYMPY_TREE_LIMIT nodes), or None."""
    nodes = len(expr.nodes())
    if nodes > SYMPY_LIMIT:
        return f"formula too large: {nodes:,} nodes > {SYMPY_LIMIT:,}"
    for name, d in derivatives.items():
        size = _tree_size(d, SYMPY_TREE_LIMIT)
        if size > SYMPY_TREE_LIMIT:
            return f"df/d{name} too large written out: more than {SYMPY_TREE_LIMIT:,} nodes as a tree"
    return None


def _tree_size(e: Expr, limit: int) -> int:
    """The number of nodes of e written out as a tree (a shared part counted at each use), or
    limit + 1 if it is larger: one pass over the graph, children before parents."""
    size: dict[Expr, int] = {}
    for n in e.nodes():
        size[n] = min(limit + 1, 1 + sum(size[a] for a in n.args))
    return size[e]


def _sympy_partial(s: Any, name: str, subs: dict, sp: Any) -> float | None:
    """d s / d name at the point, by sympy: a float; nan if it is not a finite real number there;
    None if sympy cannot differentiate s or fails while evaluating (its limits, not a verdict)."""
    try:
        derivative = sp.diff(s, sp.Symbol(name, real=True))
        if derivative.has(sp.Derivative):
            return None
        value = sp.N(derivative.subs(subs), 30)
    except (RecursionError, ArithmeticError, ValueError, TypeError, AttributeError):
        return None
    try:
        z = complex(value)
    except (TypeError, ValueError):
        return math.nan
    if z.imag != 0.0 or not math.isfinite(z.real):
        return math.nan
    return z.real


def _central_difference(expr: Expr, env: dict[str, float], name: str, eps: float) -> float | None:
    # The step scales with |v|: at v = 1e154 a step of 1e-6 is below v's own spacing and the
    # difference would be 0/(2 eps). h = eps * max(1, |v|), exactly representable around v.
    v = env[name]
    h = eps * max(1.0, abs(v))
    h = (v + h) - v
    try:
        up = expr.evaluate({**env, name: v + h})
        down = expr.evaluate({**env, name: v - h})
    except GradcoreError:  # DomainError included: the step left f's domain
        return None
    return (up - down) / (2 * h)


def _score(p: PartialCheck) -> float:
    """How close a variable comes to failing: max over the comparisons of error / allowed error."""
    s = 0.0 if p.ad_error is None else _ratio(p.ad_error, AD_ATOL + AD_RTOL * abs(p.exact))
    if p.fd_error is not None:
        s = max(s, _ratio(p.fd_error, FD_ATOL + FD_RTOL * abs(p.finite_difference)))
    return s


def _ratio(error: float, allowed: float) -> float:
    return error / allowed if allowed > 0 else math.inf
