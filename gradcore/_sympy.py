"""The bridge to sympy, built node by node from gradcore's own tree (never from text).

sympy is imported on first use, so `import gradcore` does not load it. This module sits below
expr.py: it reads nodes by their fields and builds new ones with the constructors it is handed.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, Callable

from . import ops
from .errors import GradcoreError

__all__ = ["to_sympy", "from_sympy"]


class _LazySympy:
    """`sp.<name>` imports sympy the first time it is asked for anything."""

    def __getattr__(self, name: str) -> Any:
        import sympy
        return getattr(sympy, name)


sp = _LazySympy()


def to_sympy(root: Any) -> Any:
    """Build the sympy expression for `root`, node by node.

    A chain of + (or of *) becomes one n-ary Add (Mul): a 5,000-term sum costs one sympy call
    instead of 5,000 re-flattenings. Only chain heads are built; inner links are skipped.
    """
    order = root.nodes()
    heads = {root}
    for node in order:
        for child in node.args:
            if child.op in ("add", "mul") and child.op != node.op:
                heads.add(child)
    built: dict[Expr, Any] = {}
    for node in order:
        op = node.op
        if op == "const":
            built[node] = _const(node)
        elif op == "var":
            built[node] = sp.Symbol(node.name, real=True)
        elif op in ("add", "mul"):
            if node in heads:
                terms = [built[t] for t in _chain(node, heads)]
                built[node] = sp.Add(*terms) if op == "add" else sp.Mul(*terms)
        else:
            built[node] = ops.PRIMITIVES[op].sympy(sp, *[built[a] for a in node.args])
    return built[root]


def _const(node: Any) -> Any:
    if node.name == "pi":
        return sp.pi
    if node.name == "e":
        return sp.E
    v = node.value
    return sp.Integer(int(v)) if v.is_integer() and abs(v) < 2**53 else sp.Float(v, 17)


def _chain(head: Any, heads: set) -> list[Any]:
    """The operands of the same-op chain under `head`, left to right, without recursion."""
    terms: list[Expr] = []
    stack = [head]
    while stack:
        n = stack.pop()
        if n.op == head.op and (n is head or n not in heads):
            stack.extend(reversed(n.args))
        else:
            terms.append(n)
    return terms


# sympy function class -> table name, found by asking each row for its own counterpart.
_FROM: dict[Any, str] | None = None


def _function_map() -> dict[Any, str]:
    global _FROM
    if _FROM is None:
        t = sp.Symbol("t")
        _FROM = {}
        for name in ops.FUNCTIONS:
            if name in ("sqrt", "sigmoid"):
                continue  # sympy spells these as Pow and 1/(1+exp(-x)); handled below
            _FROM[ops.PRIMITIVES[name].sympy(sp, t).func] = name
    return _FROM


def from_sympy(expr: Any, const: Callable, var: Callable, call: Callable) -> Any:
    """Convert a sympy expression made of table functions into an Expr (iteratively), built with
    the constructors `const(value, name=None)`, `var(name)` and `call(op, *args)`.

    Rationals become float constants; pi and E become the named constants. Anything outside the
    table (gamma, integrals, complex numbers, infinities, ...) is a GradcoreError naming it.
    """
    b = SimpleNamespace(const=const, var=var, call=call)
    if isinstance(expr, (int, float)):
        expr = sp.Integer(expr) if isinstance(expr, int) else sp.Float(expr)
    if not isinstance(expr, sp.Basic):
        raise GradcoreError(f"from_sympy expects a sympy expression, got {type(expr).__name__}")
    fmap = _function_map()
    built: dict[Any, Any] = {}
    stack: list[Any] = [expr]
    while stack:
        node = stack[-1]
        if node in built:
            stack.pop()
            continue
        _check_supported(node, fmap)
        pending = [a for a in _children(node) if a not in built]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        built[node] = _convert(node, built, fmap, b)
    return built[expr]


def _check_supported(node: Any, fmap: dict) -> None:
    if node.is_Atom or node.is_Add or node.is_Mul or node.is_Pow or node.func is sp.exp:
        return
    if fmap.get(node.func) is None or len(node.args) != 1:
        raise GradcoreError(f"{node} uses {node.func.__name__}, which is not in gradcore's table of functions")


def _children(node: Any) -> tuple:
    return () if node.is_Atom else node.args


def _convert(node: Any, built: dict, fmap: dict, b: SimpleNamespace) -> Any:
    if node is sp.pi:
        return b.const(math.pi, "pi")
    if node is sp.E:
        return b.const(math.e, "e")
    if node.is_Symbol:
        try:
            return b.var(node.name)
        except GradcoreError as exc:
            raise GradcoreError(f"sympy symbol {node.name!r} cannot be a gradcore variable: {exc}") from None
    if node.is_Number:
        if not node.is_finite or not node.is_real:
            raise GradcoreError(f"sympy number {node} is not a finite real number")
        return b.const(float(node))
    if node.is_Add:
        terms = [built[a] for a in node.as_ordered_terms()]
        out = terms[0]
        for t in terms[1:]:
            out = b.call("add", out, t)
        return out
    if node.is_Mul:
        factors = sorted(node.args, key=lambda a: not a.is_Number)  # coefficient first: 2*x
        num = [built[a] for a in factors if not _is_reciprocal(a)]
        den = [built[a.base] if a.exp == -1 else b.call("pow", built[a.base], _number(-a.exp, b))
               for a in factors if _is_reciprocal(a)]
        out = _product(num, b)
        return b.call("div", out, _product(den, b)) if den else out
    if node.is_Pow:
        base, exp = built[node.base], node.exp
        if exp == sp.Rational(1, 2):
            return b.call("sqrt", base)
        if exp == -1:
            return b.call("div", b.const(1.0), base)
        return b.call("pow", base, built[exp])
    if node.func is sp.exp:
        return b.call("exp", built[node.args[0]])
    name = fmap.get(node.func)
    if name is not None and len(node.args) == 1:
        return b.call(name, built[node.args[0]])
    raise GradcoreError(f"{node} uses {node.func.__name__}, which is not in gradcore's table of functions")


def _product(factors: list[Any], b: SimpleNamespace) -> Any:
    out = factors[0] if factors else b.const(1.0)
    for f in factors[1:]:
        out = b.call("mul", out, f)
    return out


def _is_reciprocal(a: Any) -> bool:
    return a.is_Pow and a.exp.is_Number and a.exp < 0


def _number(n: Any, b: SimpleNamespace) -> Any:
    return from_sympy(n, b.const, b.var, b.call)
