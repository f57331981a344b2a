"""The primitive table: every function gradcore knows, and its derivative, written exactly once.

The symbolic (Expr), scalar (Value), array (Tensor) and compiled interpreters all read these rows.
"""

from __future__ import annotations

import math
import operator
from types import SimpleNamespace
from typing import Any, Callable

import numpy as np

from .errors import DomainError, NumericOverflowError

__all__ = [
    "Primitive", "PRIMITIVES", "FUNCTIONS", "ALIASES", "CONSTANTS", "BINARY", "lookup",
    "Operator", "OPERATORS", "INFIX", "PREFIX", "OPERATOR_OF", "ATOM_PRECEDENCE",
    "namespace", "scalar_call", "domain_error", "FLOAT", "ARRAY", "Record", "EVERYWHERE",
]

# A vector-Jacobian product for one argument: (F, g, out, *args) -> g * d(out)/d(arg).
# `F` is the interpreter's namespace of primitive functions (F.cos, F.log, F.pow, ...), so one rule
# yields an Expr, a float, a Value graph, an ndarray or a line of code depending on who calls it.
# Rules are written "local partial * g" so symbolic results read like a textbook (2*x, not 1*2*x).
Vjp = Callable[..., Any]
# The domain of a primitive defined for every real input: a row's default.
EVERYWHERE = "all real x"


class Record:
    """An immutable record, as a frozen dataclass is, without the dataclass machinery's cost at import.

    The fields are the subclass's __slots__, in order; the subclass's __init__ stores them with
    _store. Records compare by identity unless the subclass sets _EQ, then by their fields.
    """

    __slots__ = ()
    _EQ = False

    def _store(self, *values: Any) -> None:
        for name, value in zip(self.__slots__, values):
            object.__setattr__(self, name, value)

    def _fields(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__qualname__}({shown})"

    def __reduce__(self) -> tuple:
        return (type(self), self._fields())

    def __eq__(self, other: Any) -> Any:
        if not self._EQ:  # identity, as object's own __eq__
            return True if self is other else NotImplemented
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields()) if self._EQ else object.__hash__(self)


class Primitive(Record):
    """One row of the table.

    name:    the spelling in formulas and the attribute name in every interpreter's namespace.
    arity:   number of arguments.
    scalar:  float implementation (math module); may raise ValueError/ZeroDivisionError/OverflowError,
             which `scalar_call` turns into DomainError.
    array:   numpy implementation (elementwise, broadcasting).
    vjps:    one rule per argument, see `Vjp`.
    sympy:   (sympy module, *args) -> the sympy counterpart; sympy is passed in so it loads lazily.
    domain:  where the function is defined, in words, for error messages and docs.
    rule:    the name a textbook gives the derivative rule ("product rule", "chain rule through sin"),
             for step-by-step derivations; the rule itself is `vjps`.
    rule_alone: for binary rows, the name when only argument k depends on the variable
             (c*x: "constant multiple rule"; 2**x: "exponential rule"); empty: `rule` throughout.

    How an operator is spelled and how tightly it binds is not part of the row: see OPERATORS.
    """

    __slots__ = ("name", "arity", "scalar", "array", "vjps", "sympy", "domain", "doc", "rule", "rule_alone")
    name: str
    arity: int
    scalar: Callable[..., float]
    array: Callable[..., Any]
    vjps: tuple[Vjp, ...]
    sympy: Callable[..., Any]
    domain: str
    doc: str
    rule: str
    rule_alone: tuple[str, ...]

    def __init__(self, name: str, arity: int, scalar: Callable[..., float], array: Callable[..., Any],
                 vjps: tuple[Vjp, ...], sympy: Callable[..., Any], domain: str = EVERYWHERE, doc: str = "",
                 rule: str = "", rule_alone: tuple[str, ...] = ()) -> None:
        self._store(name, arity, scalar, array, vjps, sympy, domain, doc, rule, rule_alone)

    @property
    def symbol(self) -> str | None:
        """The infix spelling of a binary operator row ("+", "**"); None for functions and neg."""
        op = OPERATOR_OF.get(self.name)
        return op.symbol if op is not None and op.arity == 2 else None


def _sigmoid(x: float) -> float:
    # Two branches so exp never overflows: sigmoid(-1000) is 0.0, not an OverflowError.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_array(x: Any) -> Any:
    # sigmoid(x) = exp(-log(1 + exp(-x))), and logaddexp computes log(1 + exp(-x)) without overflow.
    return np.exp(-np.logaddexp(0.0, -x))


def _sign(x: float) -> float:
    return float((x > 0.0) - (x < 0.0))


def _pow(x: float, y: float) -> float:
    # math.pow, unlike **, raises for a negative base with a fractional exponent instead of
    # returning a complex number, and raises OverflowError instead of returning inf.
    return math.pow(x, y)


def _rows() -> list[Primitive]:
    def row(name, arity, scalar, array, vjps, sympy, domain=EVERYWHERE, doc="", rule=None, alone=()):
        rule = rule or f"chain rule through {name}"
        return Primitive(name, arity, scalar, array, tuple(vjps), sympy, domain, doc, rule, tuple(alone))

    constant_multiple = "constant multiple rule"

    return [
        # Arithmetic. d(x+y) = (1, 1); d(x*y) = (y, x); d(x/y) = (1/y, -x/y**2).
        row("add", 2, operator.add, np.add,
            [lambda F, g, out, x, y: g, lambda F, g, out, x, y: g],
            lambda sp, x, y: x + y, doc="x + y", rule="sum rule"),
        row("sub", 2, operator.sub, np.subtract,
            [lambda F, g, out, x, y: g, lambda F, g, out, x, y: -g],
            lambda sp, x, y: x - y, doc="x - y", rule="difference rule"),
        row("mul", 2, operator.mul, np.multiply,
            [lambda F, g, out, x, y: y * g, lambda F, g, out, x, y: x * g],
            lambda sp, x, y: x * y, doc="x * y", rule="product rule", alone=[constant_multiple] * 2),
        row("div", 2, operator.truediv, np.true_divide,
            [lambda F, g, out, x, y: 1 / y * g, lambda F, g, out, x, y: -x / y ** 2 * g],
            lambda sp, x, y: x / y, domain="y != 0", doc="x / y",
            rule="quotient rule", alone=[constant_multiple, "reciprocal rule"]),
        # d(x**y)/dx = y*x**(y-1); d(x**y)/dy = x**y * log(x), which needs x > 0 (see docs/expressions.md).
        row("pow", 2, _pow, np.power,
            [lambda F, g, out, x, y: y * F.pow(x, y - 1) * g,
             lambda F, g, out, x, y: out * F.log(x) * g],
            lambda sp, x, y: sp.Pow(x, y),
            domain="x > 0; or x = 0 and y >= 0; or x < 0 and y an integer", doc="x ** y (also written x ^ y)",
            rule="generalized power rule", alone=["power rule", "exponential rule"]),
        row("neg", 1, operator.neg, np.negative,
            [lambda F, g, out, x: -g],
            lambda sp, x: -x, doc="-x", rule=constant_multiple),
        # Trigonometric. d sin = cos; d cos = -sin; d tan = 1 + tan**2 (reuses the forward value).
        row("sin", 1, math.sin, np.sin, [lambda F, g, out, x: F.cos(x) * g],
            lambda sp, x: sp.sin(x), doc="sine"),
        row("cos", 1, math.cos, np.cos, [lambda F, g, out, x: -F.sin(x) * g],
            lambda sp, x: sp.cos(x), doc="cosine"),
        row("tan", 1, math.tan, np.tan, [lambda F, g, out, x: (1 + out ** 2) * g],
            lambda sp, x: sp.tan(x), domain="x != pi/2 + k*pi", doc="tangent"),
        row("asin", 1, math.asin, np.arcsin, [lambda F, g, out, x: 1 / F.sqrt(1 - x ** 2) * g],
            lambda sp, x: sp.asin(x), domain="-1 <= x <= 1", doc="inverse sine (also arcsin)"),
        row("acos", 1, math.acos, np.arccos, [lambda F, g, out, x: -1 / F.sqrt(1 - x ** 2) * g],
            lambda sp, x: sp.acos(x), domain="-1 <= x <= 1", doc="inverse cosine (also arccos)"),
        row("atan", 1, math.atan, np.arctan, [lambda F, g, out, x: 1 / (1 + x ** 2) * g],
            lambda sp, x: sp.atan(x), doc="inverse tangent (also arctan)"),
        # Hyperbolic. d tanh = 1 - tanh**2.
        row("sinh", 1, math.sinh, np.sinh, [lambda F, g, out, x: F.cosh(x) * g],
            lambda sp, x: sp.sinh(x), doc="hyperbolic sine"),
        row("cosh", 1, math.cosh, np.cosh, [lambda F, g, out, x: F.sinh(x) * g],
            lambda sp, x: sp.cosh(x), doc="hyperbolic cosine"),
        row("tanh", 1, math.tanh, np.tanh, [lambda F, g, out, x: (1 - out ** 2) * g],
            lambda sp, x: sp.tanh(x), doc="hyperbolic tangent"),
        # Exponential family. d exp = exp (the output itself); d log = 1/x; d sqrt = 1/(2 sqrt x).
        row("exp", 1, math.exp, np.exp, [lambda F, g, out, x: out * g],
            lambda sp, x: sp.exp(x), doc="e ** x"),
        row("log", 1, math.log, np.log, [lambda F, g, out, x: 1 / x * g],
            lambda sp, x: sp.log(x), domain="x > 0", doc="natural logarithm (also ln)"),
        row("sqrt", 1, math.sqrt, np.sqrt, [lambda F, g, out, x: 1 / (2 * out) * g],
            lambda sp, x: sp.sqrt(x), domain="x >= 0", doc="square root"),
        # d|x| = sign(x); at 0 that is 0, the subgradient PyTorch also picks.
        row("abs", 1, abs, np.abs, [lambda F, g, out, x: F.sign(x) * g],
            lambda sp, x: sp.Abs(x), doc="absolute value"),
        row("sign", 1, _sign, np.sign, [lambda F, g, out, x: 0 * g],
            lambda sp, x: sp.sign(x), doc="-1, 0 or 1; its derivative is taken as 0 everywhere"),
        # d sigmoid = sigmoid * (1 - sigmoid).
        row("sigmoid", 1, _sigmoid, _sigmoid_array, [lambda F, g, out, x: out * (1 - out) * g],
            lambda sp, x: 1 / (1 + sp.exp(-x)), doc="logistic function 1/(1 + e**-x)"),
    ]


PRIMITIVES: dict[str, Primitive] = {p.name: p for p in _rows()}


class Operator(Record):
    """How one primitive is written as an operator, for every reader and printer of formulas.

    symbol:      the canonical spelling ("**"); `aliases` are other spellings a formula may use ("^").
    primitive:   the table row it applies.
    arity:       2 for infix operators, 1 for prefix minus.
    precedence:  higher binds tighter; an operand of lower precedence is printed in parentheses.
    right:       right-associative (x**y**z is x**(y**z)); the others group from the left.
    dunder:      Python's method name, so Expr, Value and Tensor define __add__/__radd__, ... from here.
    """

    __slots__ = ("symbol", "primitive", "arity", "precedence", "right", "dunder", "aliases")
    _EQ = True
    symbol: str
    primitive: str
    arity: int
    precedence: int
    right: bool
    dunder: str
    aliases: tuple[str, ...]

    def __init__(self, symbol: str, primitive: str, arity: int, precedence: int, right: bool, dunder: str,
                 aliases: tuple[str, ...] = ()) -> None:
        self._store(symbol, primitive, arity, precedence, right, dunder, aliases)


# The one description of operator spelling and precedence: the parser, the text printer, the code
# generator and the operator methods of Expr, Value and Tensor all read it. Unary minus binds between
# * and **, so -x**2 is -(x**2) and -x*y is (-x)*y, as in Python and on the blackboard.
OPERATORS: tuple[Operator, ...] = (
    Operator("+", "add", 2, 1, False, "add"),
    Operator("-", "sub", 2, 1, False, "sub"),
    Operator("*", "mul", 2, 2, False, "mul"),
    Operator("/", "div", 2, 2, False, "truediv"),
    Operator("-", "neg", 1, 3, True, "neg"),
    Operator("**", "pow", 2, 4, True, "pow", aliases=("^",)),
)
# Binding strength of a number, a name, a call or a parenthesised group: tighter than any operator.
ATOM_PRECEDENCE = 5
# Every infix spelling (aliases included) -> its operator; prefix spellings likewise.
INFIX: dict[str, Operator] = {s: o for o in OPERATORS if o.arity == 2 for s in (o.symbol, *o.aliases)}
PREFIX: dict[str, Operator] = {o.symbol: o for o in OPERATORS if o.arity == 1}
# Primitive name -> its operator ("add" -> +); functions are absent and are written name(x).
OPERATOR_OF: dict[str, Operator] = {o.primitive: o for o in OPERATORS}
# Canonical infix symbol -> its row, for the binary operators.
BINARY: dict[str, Primitive] = {o.symbol: PRIMITIVES[o.primitive] for o in OPERATORS if o.arity == 2}
# Functions a formula may call by name (operators and neg are spelled with symbols instead).
FUNCTIONS: dict[str, Primitive] = {
    name: p for name, p in PRIMITIVES.items() if p.symbol is None and name != "neg"
}
ALIASES: dict[str, str] = {"ln": "log", "arcsin": "asin", "arccos": "acos", "arctan": "atan"}
CONSTANTS: dict[str, float] = {"pi": math.pi, "e": math.e}


def lookup(name: str) -> Primitive | None:
    """The function row a formula means by `name` (aliases included), or None."""
    return FUNCTIONS.get(ALIASES.get(name, name))


def namespace(make: Callable[[Primitive], Callable[..., Any]]) -> SimpleNamespace:
    """Build an interpreter's `F`: one attribute per primitive, made by `make(row)`."""
    return SimpleNamespace(**{name: make(p) for name, p in PRIMITIVES.items()})


def scalar_call(prim: Primitive, *args: float) -> float:
    """Apply `prim` to floats; a domain violation or overflow becomes a DomainError naming it.

    Overflow that Python reports silently (inf from finite operands, as in 1e200*1e200) is caught too.
    """
    try:
        out = prim.scalar(*args)
    except (ZeroDivisionError, ValueError) as exc:
        if isinstance(exc, DomainError):
            raise
        raise domain_error(prim, args) from None
    except OverflowError:
        raise NumericOverflowError(prim.name, args, symbol=prim.symbol) from None
    if out - out != 0.0 and all(a - a == 0.0 for a in args):  # inf or nan from finite inputs
        if out != out:
            raise domain_error(prim, args)
        raise NumericOverflowError(prim.name, args, symbol=prim.symbol)
    return out


def domain_error(prim: Primitive, args: tuple) -> DomainError:
    """The DomainError for `prim` applied to `args`, saying where `prim` is defined."""
    if not all(math.isfinite(a) for a in args):  # cos(inf): the operand, not the domain, is the fault
        return DomainError(prim.name, args, "an operand is inf or nan", symbol=prim.symbol)
    if prim.symbol:
        return DomainError(prim.name, args, f"x{prim.symbol}y needs {prim.domain}", symbol=prim.symbol)
    return DomainError(prim.name, args, f"{prim.name} is defined for {prim.domain}")


# The two numeric namespaces. FLOAT checks domains (a rule such as 1/x at x=0 raises DomainError);
# ARRAY is plain numpy: arrays follow IEEE rules and the caller decides what NaN means.
FLOAT = namespace(lambda p: lambda *a: scalar_call(p, *a))
ARRAY = namespace(lambda p: p.array)
