"""Immutable, hash-consed expression trees: evaluation, exact differentiation, printing, sympy.

Every walk here is iterative, so a tree thousands of levels deep never meets Python's recursion limit.
It is longer than most modules because Expr's operators and the light simplifier behind them need each
other: apart, they would import each other in a circle.
"""

from __future__ import annotations

import math
import weakref
from typing import Any, Callable, Mapping, Sequence

from . import canonical, ops
from .errors import DomainError, GradcoreError
from .ops import PRIMITIVES, Primitive
from .printing import to_latex, to_text

__all__ = ["Expr", "var", "const", "call", "F", "postorder", "interpret", "as_expr", "as_point", "point_values", "identity",
           "simplify"]

# The intern table: building the same subexpression twice returns the same node. Values are weak,
# so a node lives only while someone holds it; keys hold the children, which a parent keeps anyway.
_INTERN: "weakref.WeakValueDictionary[tuple, Expr]" = weakref.WeakValueDictionary()
# A derivative has two to five times the nodes of its formula, so past this size it could pass
# canonical.NODES_MAX: Expr.diff then simplifies the formula first (x*x*...*x is x**5000).
SIMPLIFY_FIRST = canonical.NODES_MAX // 4


class Expr:
    """A node of a formula: a constant, a variable, or a primitive applied to child nodes.

    Nodes are interned, so structurally equal expressions are the same object and `==` is `is`.
    Arithmetic operators build new expressions with light simplification (x + 0 -> x, 2*3 -> 6).
    """

    # _minus: the left spine of products and quotients ends in a minus sign or a negative number
    # (-3*y*z), worked out once per node from its first child, so asking costs O(1), not O(depth).
    __slots__ = ("op", "args", "value", "name", "_vars", "_order", "_minus", "__weakref__")

    op: str
    args: tuple["Expr", ...]
    value: float | None
    name: str | None

    def __new__(cls, *a: Any, **k: Any) -> "Expr":
        raise TypeError("build expressions with gradcore.parse, gradcore.var or gradcore.const")

    @classmethod
    def _make(cls, op: str, args: tuple["Expr", ...] = (), value: float | None = None,
              name: str | None = None) -> "Expr":
        # Constants are keyed by their sign bit too, so 0.0 and -0.0 stay distinct nodes.
        key = (op, value, math.copysign(1.0, value), name) if op == "const" else (op, name, *args)
        node = _INTERN.get(key)
        if node is None:
            node = object.__new__(cls)
            minus = (args[0]._minus if op in ("mul", "div") else op == "neg" or
                     (op == "const" and name is None and math.copysign(1.0, value) < 0))
            for slot, v in (("op", op), ("args", args), ("value", value), ("name", name),
                            ("_vars", None), ("_order", None), ("_minus", minus)):
                object.__setattr__(node, slot, v)
            _INTERN[key] = node
        return node

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("Expr is immutable")

    def __reduce__(self):
        # Pickle by structure, not by text: every formula the parser accepts round-trips (even ones
        # whose printed form would not re-parse), and unpickling re-interns, so `is` survives.
        return (_rebuild, (_flatten(self),))

    # ---- structure -------------------------------------------------------------------------
    @property
    def is_const(self) -> bool:
        return self.op == "const"

    @property
    def is_var(self) -> bool:
        return self.op == "var"

    @property
    def primitive(self) -> Primitive | None:
        """The table row this node applies (None for constants and variables)."""
        return PRIMITIVES.get(self.op)

    @property
    def variables(self) -> tuple[str, ...]:
        """The names of the variables the expression uses, sorted."""
        if self._vars is None:
            names = sorted({n.name for n in self.nodes() if n.op == "var"})
            object.__setattr__(self, "_vars", tuple(names))
        return self._vars

    def nodes(self) -> list["Expr"]:
        """Every distinct node once, children before parents (an iterative post-order)."""
        if self._order is None:
            # Cache the order without the root itself: a node holding a list that holds the
            # node would be a reference cycle, and interned nodes must die by refcount alone.
            object.__setattr__(self, "_order", tuple(postorder(self)[:-1]))
        return [*self._order, self]

    # ---- evaluation ------------------------------------------------------------------------
    def evaluate(self, point: Mapping[str, float] | None = None, **values: float) -> float:
        """The value at `point` (a dict, or keyword arguments), in float64.

        Raises DomainError (naming the function and the point) for log(-1), 1/0, sqrt(-1), ...,
        NumericOverflowError for results beyond float64, and GradcoreError for a missing variable.
        """
        env = point_values(self, point, values)
        try:
            memo = interpret(self, lambda n: n.value if n.op == "const" else env[n.name],
                             lambda n, args: ops.scalar_call(PRIMITIVES[n.op], *args))
        except DomainError as exc:
            raise exc.at(env) from None
        return memo[self]

    def __call__(self, *args: float, **values: float) -> float:
        """f(x=1, y=2), or positional values in `variables` order: f(1, 2)."""
        if args:
            if len(args) != len(self.variables):
                raise GradcoreError(f"expected {len(self.variables)} values for "
                                    f"{', '.join(self.variables) or 'no variables'}, got {len(args)}")
            values = {**dict(zip(self.variables, args)), **values}
        return self.evaluate(values)

    # ---- differentiation -------------------------------------------------------------------
    def diff(self, name: "str | Expr", times: int = 1, simplify: bool = True) -> "Expr":
        """The exact partial derivative with respect to variable `name`, in canonical form.

        Symbolic reverse mode: each node's adjoint is the sum over its parents of the table's rule
        "local partial * upstream adjoint", built as an expression. With simplify=False the result is
        the rules' output with the light simplifications only (to show where each term comes from);
        otherwise it goes through `simplify` (textbook form, see gradcore.canonical). A formula of
        more than SIMPLIFY_FIRST distinct nodes is put into canonical form before it is differentiated
        too, since the derivative of one that large would be too large for the simplifier.
        """
        if not isinstance(name, (str, Expr)):
            raise TypeError(f"diff needs a variable name or a variable, got {type(name).__name__}")
        if isinstance(name, Expr):
            if not name.is_var:
                raise GradcoreError(f"can only differentiate with respect to a variable, not {name}")
            name = name.name
        result = self
        for _ in range(times):
            if simplify and len(result.nodes()) > SIMPLIFY_FIRST:
                # Its derivative would pass canonical.NODES_MAX and come back unsimplified (x/x/.../x
                # gives 25,000 nodes): differentiate the canonical form, x**-4998, instead.
                result = canonical.simplify(result, const, raw).expr
            result = result._diff_once(name)
            if simplify:
                result = canonical.simplify(result, const, raw).expr
        return result

    def _diff_once(self, name: str) -> "Expr":
        order = self.nodes()
        depends: set[Expr] = set()
        for node in order:
            if (node.op == "var" and node.name == name) or any(a in depends for a in node.args):
                depends.add(node)
        if self not in depends:
            return ZERO
        # Sum each node's contributions in the order its parents are first met reading the formula
        # left to right, so d(x*sin(x)) prints as the textbook sin(x) + x*cos(x).
        rank = _preorder_rank(self)
        pending: dict[Expr, list[tuple[int, Expr]]] = {self: [(0, ONE)]}
        for node in reversed(order):
            parts = pending.pop(node, None)
            if parts is None:
                continue
            parts.sort(key=lambda part: part[0])
            g = parts[0][1]
            for _, p in parts[1:]:
                g = g + p
            if node.op == "var":
                return g
            rules = PRIMITIVES[node.op].vjps
            for arg, rule in zip(node.args, rules):
                if arg in depends:
                    pending.setdefault(arg, []).append((rank[node], rule(F, g, node, *node.args)))
        raise AssertionError("unreachable: the variable was in the dependency set")

    def gradient(self) -> dict[str, "Expr"]:
        """All first partials, as a dict in `variables` order."""
        return {v: self.diff(v) for v in self.variables}

    def simplify(self, light: bool = False) -> "Expr":
        """The canonical form (`gradcore.simplify`); light=True rebuilds the tree with only the
        light rules the arithmetic operators apply."""
        return simplify(self, light)

    # ---- printing --------------------------------------------------------------------------
    def __str__(self) -> str:
        # Exact and re-parseable up to printing.EXACT_LIMIT characters; past that, shared parts are
        # named once ("... where u1 = ..."), so a huge derivative never prints a billion characters.
        return to_text(self, shared=None)

    def __repr__(self) -> str:
        return f"Expr({str(self)!r})"

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def latex(self, shared: bool | None = None) -> str:
        """The formula in LaTeX, term for term as str() prints it (see printing.to_latex)."""
        return to_latex(self, shared=shared)

    def _repr_latex_(self) -> str:
        return "$" + self.latex() + "$"

    # ---- sympy bridge (sympy itself loads on first use; so does the bridge, _sympy, which the
    # command line's start-up would otherwise load for nothing) --------------------------------
    def to_sympy(self) -> Any:
        """The same formula as a sympy expression, built node by node (no text parsing)."""
        from . import _sympy
        return _sympy.to_sympy(self)

    @staticmethod
    def from_sympy(expr: Any) -> "Expr":
        """Convert a sympy expression made of table functions; anything else is a GradcoreError."""
        from . import _sympy
        return _sympy.from_sympy(expr, const=const, var=var, call=call)

    # ---- operators: __add__, __radd__, ..., __neg__ come from ops.OPERATORS (see the end of the
    # module); they simplify lightly, while the parser builds raw trees instead.
    def __pos__(self) -> "Expr": return self
    def __abs__(self) -> "Expr": return call("abs", self)

    def __xor__(self, other: Any) -> "Expr":
        raise TypeError("in Python code use ** for powers; ^ means power only inside parsed text")


# ---------------------------------------------------------------------------------------------
# Building nodes


def const(value: float, name: str | None = None) -> Expr:
    """A constant node. `name` is set only for pi and e, which print by name."""
    v = float(value)
    if not math.isfinite(v):
        raise GradcoreError(f"constants must be finite, got {value!r}")
    return Expr._make("const", value=v, name=name)


def var(name: str) -> Expr:
    """A variable node. Any Python identifier is accepted here (the parser is stricter)."""
    if not isinstance(name, str) or not name.isidentifier():
        raise GradcoreError(f"variable names must be identifiers, got {name!r}")
    if name in ops.CONSTANTS or ops.lookup(name) is not None:
        raise GradcoreError(f"{name!r} is a constant or function name and cannot be a variable")
    return Expr._make("var", name=name)


def as_expr(x: Any) -> Expr:
    """Coerce a Python or numpy number to a constant node; pass expressions through."""
    if isinstance(x, Expr):
        return x
    if isinstance(x, (int, float)) or (hasattr(x, "dtype") and getattr(x, "shape", None) == ()):
        return const(float(x))
    raise TypeError(f"cannot use {type(x).__name__} in an expression")


def raw(op: str, *args: Expr) -> Expr:
    """A node exactly as written, with no simplification (what the parser builds).

    The only rewrite is -c -> a negative constant, so that printing and re-parsing round-trip.
    """
    if op == "neg" and args[0].op == "const" and args[0].name is None:
        return const(-args[0].value)
    return Expr._make(op, tuple(args))


ZERO = const(0.0)
ONE = const(1.0)


def _c(e: Expr) -> float | None:
    """The numeric value of an unnamed constant, else None (pi and e are kept symbolic)."""
    return e.value if e.op == "const" and e.name is None else None


def _fold(op: str, *vals: float) -> Expr | None:
    # Fold only in float64 and only when the result is finite: 9**9**9**9 stays a tree, never a hang.
    try:
        out = PRIMITIVES[op].scalar(*vals)
    except (ArithmeticError, ValueError):
        return None
    return const(out) if math.isfinite(out) else None


def _negated(e: Expr) -> Expr | None:
    """-e, if e is written with a leading minus (so a + e can print as a - (-e)), else None.

    Looks down the left spine of products and quotients: (-3*y)*z is negative, -(3*y)*z rebuilt.
    Only a node that does lead with a minus is walked, so x*x*...*x + y costs O(1), not O(length).
    """
    if not e._minus:
        return None
    spine: list[Expr] = []
    while e.op in ("mul", "div"):
        spine.append(e)
        e = e.args[0]
    if e.op == "neg":
        out = e.args[0]
    else:
        v = _c(e)
        if v is None or math.copysign(1.0, v) > 0:
            return None
        out = const(-v)
    for node in reversed(spine):
        out = _mul(out, node.args[1]) if node.op == "mul" else _div(out, node.args[1])
    return out


def _unneg(e: Expr) -> Expr:
    """e with any run of leading minus signs reduced to at most one, in a loop: - - - x -> -x.

    The builders below then never recurse once per sign (a parsed '------x' can hold 999 of them).
    """
    flip = False
    while e.op == "neg":
        e, flip = e.args[0], not flip
    return raw("neg", e) if flip else e


def identity(op: str, consts: Sequence[float | None]) -> tuple[str, float] | None:
    """The light identities every builder of formulas applies (Expr's operators and the code generator).

    `consts` holds each argument's value when it is a plain number, else None. The answer is
    ("arg", k): the result is argument k; ("neg", k): it is minus argument k; ("const", v): it is the
    number v; or None when no identity applies:
        x + 0 = 0 + x = x,  x - 0 = x,  0 - x = -x,
        1*x = x*1 = x,  0*x = x*0 = 0,  (-1)*x = x*(-1) = -x,
        x/1 = x,  x/(-1) = -x,  0/x = 0 (x not 0),
        x**1 = x,  x**0 = 1,  1**x = 1,  -(-x) = x (the caller sees the double minus).
    """
    if op == "add":
        return ("arg", 1) if consts[0] == 0.0 else ("arg", 0) if consts[1] == 0.0 else None
    if op == "sub":
        return ("arg", 0) if consts[1] == 0.0 else ("neg", 1) if consts[0] == 0.0 else None
    if op == "mul":
        for k in (0, 1):
            c = consts[k]
            if c == 0.0:
                return ("const", 0.0)
            if c == 1.0:
                return ("arg", 1 - k)
            if c == -1.0:
                return ("neg", 1 - k)
        return None
    if op == "div":
        if consts[1] == 1.0:
            return ("arg", 0)
        if consts[1] == -1.0:
            return ("neg", 0)
        return ("const", 0.0) if consts[0] == 0.0 and consts[1] != 0.0 else None
    if op == "pow":
        if consts[1] == 1.0:
            return ("arg", 0)
        return ("const", 1.0) if consts[1] == 0.0 or consts[0] == 1.0 else None
    return None


def _identity(op: str, a: Expr, b: Expr, ca: float | None, cb: float | None) -> Expr | None:
    found = identity(op, (ca, cb))
    if found is None:
        return None
    kind, what = found
    if kind == "const":
        return const(what)
    arg = (a, b)[int(what)]
    return _neg(arg) if kind == "neg" else arg


def _add(a: Expr, b: Expr) -> Expr:
    a, b = _unneg(a), _unneg(b)
    ca, cb = _c(a), _c(b)
    if ca is not None and cb is not None:
        return _fold("add", ca, cb) or raw("add", a, b)
    same = _identity("add", a, b, ca, cb)
    if same is not None:
        return same
    nb = _negated(b)
    if nb is not None:
        return _sub(a, nb)
    na = _negated(a)
    if na is not None:
        return _sub(b, na)
    return raw("add", a, b)


def _sub(a: Expr, b: Expr) -> Expr:
    a, b = _unneg(a), _unneg(b)
    ca, cb = _c(a), _c(b)
    if ca is not None and cb is not None:
        return _fold("sub", ca, cb) or raw("sub", a, b)
    if a is b:
        return ZERO
    same = _identity("sub", a, b, ca, cb)
    if same is not None:
        return same
    nb = _negated(b)
    if nb is not None:
        return _add(a, nb)
    return raw("sub", a, b)


def _mul(a: Expr, b: Expr) -> Expr:
    a, b = _unneg(a), _unneg(b)
    ca, cb = _c(a), _c(b)
    if ca is not None and cb is not None:
        return _fold("mul", ca, cb) or raw("mul", a, b)
    same = _identity("mul", a, b, ca, cb)
    if same is not None:
        return same
    if cb is not None or (b.op == "var" and a.op in ops.FUNCTIONS):
        # Constants, then variables, lead a product: x*2 -> 2*x, cos(x)*x -> x*cos(x).
        a, b, ca, cb = b, a, cb, ca
    if ca is not None and b.op == "mul" and _c(b.args[0]) is not None:
        return _mul(_mul(a, b.args[0]), b.args[1])
    if b.op == "neg":  # a*(-c) -> (-a)*c, so the sign leads and sums print as differences
        return _mul(_neg(a), b.args[0])
    return raw("mul", a, b)


def _div(a: Expr, b: Expr) -> Expr:
    a, b = _unneg(a), _unneg(b)
    ca, cb = _c(a), _c(b)
    if ca is not None and cb is not None and cb != 0.0 and not (ca.is_integer() and cb.is_integer() and ca % cb):
        # 1/3 stays a fraction rather than 0.3333333333333333; 6/3 folds to 2.
        return _fold("div", ca, cb) or raw("div", a, b)
    same = _identity("div", a, b, ca, cb)
    if same is not None:
        return same
    if b.op == "neg":
        return _div(_neg(a), b.args[0])
    return raw("div", a, b)


def _pow(a: Expr, b: Expr) -> Expr:
    ca, cb = _c(a), _c(b)
    if ca is not None and cb is not None:
        return _fold("pow", ca, cb) or raw("pow", a, b)
    same = _identity("pow", a, b, ca, cb)
    return raw("pow", a, b) if same is None else same


def _neg(a: Expr) -> Expr:
    a = _unneg(a)
    if a.op == "neg":
        return a.args[0]
    if a.op == "mul" and _c(a.args[0]) is not None:  # -(2*y) -> -2*y
        return _mul(const(-a.args[0].value), a.args[1])
    return raw("neg", a)


_SIMPLIFYING = {"add": _add, "sub": _sub, "mul": _mul, "div": _div, "pow": _pow, "neg": _neg}


def call(op: str, *args: Any) -> Expr:
    """Apply primitive `op` (a table name or alias) to expressions or numbers, simplifying lightly."""
    prim = PRIMITIVES.get(op) or ops.lookup(op)
    if prim is None:
        raise GradcoreError(f"unknown function {op!r}")
    if len(args) != prim.arity:
        raise GradcoreError(f"{prim.name} takes {prim.arity} argument(s), got {len(args)}")
    exprs = [as_expr(a) for a in args]
    build = _SIMPLIFYING.get(prim.name)
    if build is not None:
        return build(*exprs)
    return raw(prim.name, *exprs)


def simplify(e: Expr, light: bool = False) -> Expr:
    """e in canonical form: like terms collected, powers of a base combined, numbers first, terms
    in textbook order (the rules are listed in gradcore.canonical.simplify). Its work is capped in
    proportion to e's size; past the cap the lightly simplified tree comes back. light=True stops there."""
    if not light:
        done = canonical.simplify(e, const, raw)
        if not done.capped:
            return done.expr
    return interpret(e, lambda n: n, lambda n, args: call(n.op, *args))[e]


# The symbolic interpreter's namespace: F.sin(x) builds sin(x), F.pow(x, y) builds x**y, ...
F = ops.namespace(lambda p: lambda *a: call(p.name, *a))


def _function_method(name: str):
    def method(self: Expr) -> Expr:
        return call(name, self)
    method.__name__ = name
    method.__doc__ = f"{name}(self), built with the same light simplification as the operators."
    return method


# x.sin(), x.exp(), x.sigmoid(), ...: one method per function row of the table, as on Value.
for _name in ops.FUNCTIONS:
    setattr(Expr, _name, _function_method(_name))


def _operator_methods(o: ops.Operator) -> None:
    """Give Expr the Python methods of operator `o`: x + y calls _add(x, y), 2 + x calls _add(2, x)."""
    build = _SIMPLIFYING[o.primitive]
    if o.arity == 1:
        def unary(self: Expr) -> Expr:
            return build(self)
        methods = {f"__{o.dunder}__": unary}
    else:
        def forward(self: Expr, other: Any) -> Expr:
            return build(self, as_expr(other))

        def reflected(self: Expr, other: Any) -> Expr:
            return build(as_expr(other), self)
        methods = {f"__{o.dunder}__": forward, f"__r{o.dunder}__": reflected}
    for name, method in methods.items():
        method.__name__ = method.__qualname__ = name
        method.__doc__ = f"{o.symbol} ({o.primitive}), built with the light simplifications of `identity`."
        setattr(Expr, name, method)


for _op in ops.OPERATORS:
    _operator_methods(_op)


# ---------------------------------------------------------------------------------------------
# Walks


def interpret(root: Expr, leaf: Callable[[Expr], Any], apply: Callable[[Expr, list], Any]) -> dict[Expr, Any]:
    """Give every node under `root` a meaning, children first: leaf(node) for constants and
    variables, apply(node, meanings of its children) for the rest. Evaluation, simplification and
    building a Value graph are each this walk with a different `apply`."""
    out: dict[Expr, Any] = {}
    for node in root.nodes():
        out[node] = apply(node, [out[a] for a in node.args]) if node.args else leaf(node)
    return out


def postorder(root: Expr) -> list[Expr]:
    """Distinct nodes under `root`, each after all of its children; no recursion.

    A node is pushed once to be expanded and once more to be emitted, so the stack holds nodes
    only (no per-node tuples).
    """
    order: list[Expr] = []
    done: set[Expr] = set()
    expanded: set[Expr] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node in done:
            continue
        if node in expanded or not node.args:
            done.add(node)
            order.append(node)
            continue
        expanded.add(node)
        stack.append(node)
        for child in reversed(node.args):
            if child not in done:
                stack.append(child)
    return order


def _preorder_rank(root: Expr) -> dict[Expr, int]:
    """Each distinct node's position in a left-to-right, parent-first reading of the tree."""
    rank: dict[Expr, int] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        if node not in rank:
            rank[node] = len(rank)
            stack.extend(reversed(node.args))
    return rank


def as_point(e: Expr, point: Any) -> Mapping[str, Any] | None:
    """A point as a dict by name: a dict as it is, a sequence in `e.variables` order, or a bare number
    for a formula of one variable. A sequence of the wrong length is a GradcoreError naming the variables."""
    if point is None or isinstance(point, Mapping):
        return point
    if isinstance(point, (str, bytes)):
        raise GradcoreError(f"the point must be a dict of values by name, a sequence or a number, "
                            f"e.g. {{'x': 1.0}}; got {type(point).__name__}")
    try:
        values = list(point)
    except TypeError:  # one number (or a 0-d array)
        values = [point]
    if len(values) != len(e.variables):
        names = ", ".join(e.variables) or "no variables"
        raise GradcoreError(f"the point has {len(values)} value{'s' * (len(values) != 1)}; the expression "
                            f"uses {names}: give {len(e.variables)}, in that order, or a dict by name")
    return dict(zip(e.variables, values))


def point_values(e: Expr, point: Any, values: Mapping[str, float] | None = None) -> dict[str, float]:
    """The values of `e`'s variables from `point` and `values` as floats, in `e.variables` order.

    `point` is a dict by name, a sequence in `e.variables` order, or a number for one variable
    (see as_point). Extra names are ignored; a missing variable or a non-number is a GradcoreError
    naming it.
    """
    env = dict(as_point(e, point) or {})
    env.update(values or {})
    missing = [v for v in e.variables if v not in env]
    if missing:
        raise GradcoreError(f"no value given for {', '.join(missing)} "
                            f"(the expression uses {', '.join(e.variables)})")
    out = {}
    for k in e.variables:
        try:
            if isinstance(env[k], (str, bytes)):  # float("1") would work, and hide a caller's slip
                raise TypeError
            out[k] = float(env[k])
        except (TypeError, ValueError):
            raise GradcoreError(f"the value of {k} must be a number, got {env[k]!r}") from None
    return out


# ---------------------------------------------------------------------------------------------
# Pickling by structure


def _flatten(root: Expr) -> tuple:
    """The tree as a flat tuple in post-order: (op, value, name, indices of the children) per node."""
    order = root.nodes()
    index = {node: i for i, node in enumerate(order)}
    return tuple((n.op, n.value, n.name, tuple(index[a] for a in n.args)) for n in order)


def _rebuild(rows: tuple) -> Expr:
    """The Expr that `_flatten` wrote, node by node and exactly as it was (no simplification)."""
    built: list[Expr] = []
    for op, value, name, children in rows:
        if op == "const":
            built.append(const(value, name=name))
        elif op == "var":
            built.append(var(name))
        else:
            if op not in PRIMITIVES or len(children) != PRIMITIVES[op].arity:
                raise GradcoreError(f"cannot unpickle a formula: unknown node {op!r}")
            built.append(raw(op, *[built[i] for i in children]))
    if not built:
        raise GradcoreError("cannot unpickle a formula: no nodes")
    return built[-1]
