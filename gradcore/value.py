"""Scalar reverse-mode autograd: `Value`, a float that remembers how it was computed (after micrograd).

Every derivative comes from the primitive table (`ops.PRIMITIVES[name].vjps`); `backward()` walks the
graph in an iterative topological order, so a chain of a million operations needs no recursion.
"""

from __future__ import annotations

import numbers
import operator
from typing import Any, Mapping, Sequence

import numpy as np

from . import ops
from .errors import DomainError, GradcoreError, NotDifferentiableError
from .grad_mode import _State, enable_grad, no_grad
from .ops import PRIMITIVES, Primitive

__all__ = ["Value", "grad", "build", "build_nodes", "apply", "topological_order", "not_differentiable",
           "VALUE", "FAST_FLOAT"]

# Gradient accumulation policy (PyTorch's, so tutorials port line by line):
#   * a LEAF (a Value you made, with requires_grad=True) ADDS each backward() into .grad: two
#     backward() calls give twice the gradient, until you call zero_grad() (or an optimizer does);
#   * an INTERMEDIATE node's .grad is reset at the start of every backward() that passes through it,
#     so a second backward() never counts the first call's adjoints twice. Unlike PyTorch (which keeps
#     no .grad on intermediates) the value is kept: it is d(output)/d(node) of the latest call, and the
#     teaching views (viz.to_dot, viz.trace) show it.


class Value:
    """A float `data` and its gradient `grad` = d(output)/d(self), filled in by `output.backward()`.

    Arithmetic on Values records a graph. Each result keeps the table primitive that made it and its
    operands in argument order: Values, or plain floats for constants, which never become nodes.
    `requires_grad` is True for a Value you build (as in micrograd), and True for a result exactly when
    an operand requires grad and grad mode is on (see `gradcore.no_grad`). `data` and `grad` are plain
    floats that an optimizer may assign.
    """

    # _op: the primitive and which operands are graph nodes (None for a leaf). _a, _b: the operands
    # (_b is None for a one-argument primitive). Two slots rather than a tuple: a tuple per node
    # would be a second object for the cyclic garbage collector to track and traverse, which doubled
    # the cost of building a million-node graph. The public `operands`/`parents` are tuples, in order.
    # _mark: backward()'s count of the node's consumers during a sweep; 0 between sweeps.
    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_a", "_b", "_mark", "__weakref__")

    data: float
    grad: float
    requires_grad: bool
    label: str

    def __init__(self, data: Any, requires_grad: bool = True, label: str = "") -> None:
        number = data if data.__class__ is float else _number(data)
        if number is None:
            raise TypeError(f"Value needs a real number, got {type(data).__name__}")
        self.data = number
        self.grad = 0.0
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = None
        self._a = None
        self._b = None
        self._mark = 0

    # ---- the graph -----------------------------------------------------------------------------
    @property
    def op(self) -> str:
        """The name of the primitive that produced this Value ('' for a leaf)."""
        return self._op.prim.name if self._op is not None else ""

    @property
    def primitive(self) -> Primitive | None:
        """The table row that produced this Value (None for a leaf)."""
        return self._op.prim if self._op is not None else None

    @property
    def operands(self) -> tuple[Any, ...]:
        """The primitive's arguments in order: Values, or floats for constants (() for a leaf)."""
        return _operands(self)

    @property
    def parents(self) -> tuple["Value", ...]:
        """The operands that are graph nodes, in argument order (a Value used twice appears twice)."""
        return tuple(a for a in _operands(self) if isinstance(a, Value))

    @property
    def is_leaf(self) -> bool:
        """True for a Value not computed from graph nodes (made by you, by detach(), or in no_grad)."""
        return self._op is None

    def detach(self) -> "Value":
        """A new leaf with the same data and requires_grad=False: gradients stop here."""
        return Value(self.data, requires_grad=False, label=self.label)

    def requires_grad_(self, requires_grad: bool = True) -> "Value":
        """Set requires_grad on a leaf in place (PyTorch's spelling); returns self."""
        if self._op is not None:
            raise GradcoreError("requires_grad can only be changed on a leaf Value; use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def zero_grad(self) -> None:
        """Reset the accumulated gradient: .grad = 0."""
        self.grad = 0.0

    def item(self) -> float:
        """The float value (PyTorch's spelling of .data)."""
        return self.data

    def __float__(self) -> float:
        return self.data

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    def __pos__(self) -> "Value":
        return self

    def __xor__(self, other: Any) -> "Value":
        raise TypeError("use ** for powers; ^ means power only inside parsed text")

    __rxor__ = __xor__

    # ---- reverse mode --------------------------------------------------------------------------
    def backward(self, gradient: float = 1.0) -> None:
        """Reverse mode: add d(self)/d(leaf) * gradient into the .grad of every leaf under self.

        Nodes are visited consumers-first (a topological order); for each node with adjoint g and
        each graph operand a_i, the table's rule adds adjoint(a_i) += vjp_i(g). Leaves accumulate
        across calls until zero_grad(); intermediate nodes are reset first, so they never double count.
        A rule that is undefined at the point (d sqrt at 0) raises NotDifferentiableError.
        """
        if not self.requires_grad:
            raise GradcoreError("backward() needs a Value that requires grad; this one was built under "
                                "no_grad(), detached, or only from Values with requires_grad=False")
        seed = gradient if gradient.__class__ is float else _number(gradient)
        if seed is None:
            raise TypeError(f"backward(gradient=...) needs a number, got {type(gradient).__name__}")
        _backward(self, seed)


def _operands(node: Value) -> tuple[Any, ...]:
    if node._op is None:
        return ()
    return (node._a,) if node._op.prim.arity == 1 else (node._a, node._b)


# ------------------------------------------------------------------------------------------------
# Numbers

def _number(x: Any) -> float | None:
    """A real number (Python, numpy, a 0-d array, or a Value's data) as a float; None otherwise."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, (np.ndarray, np.generic)) and x.shape == () and x.dtype.kind in "biuf":
        return float(x)
    return None


def _forward(prim: Primitive, *args: float) -> float:
    """prim.scalar(*args), with a domain violation or overflow raised as DomainError (naming both)."""
    return ops.scalar_call(prim, *args)


# ------------------------------------------------------------------------------------------------
# Backward kernels, generated from the table's rules

# The float namespace of the plain backward sweep: the table's own math functions, unwrapped for
# speed. A rule that leaves its domain raises ValueError/ZeroDivisionError/OverflowError, which
# _backward turns into a NotDifferentiableError naming the primitive and its operands.
FAST_FLOAT = ops.namespace(lambda p: p.scalar)


class _Code:
    """A traced float expression: a table rule called with these writes itself out as Python source.

    Every operation is written fully parenthesised, in the order the rule performs it, so the
    generated line does exactly the float operations that calling the rule on floats would do.
    `names` are the rule inputs ('g', 'out', 'a0', 'a1') the code reads.
    """

    __slots__ = ("text", "names")

    def __init__(self, text: str, names: frozenset | None = None) -> None:
        self.text = text
        self.names = frozenset([text]) if names is None else names

    @staticmethod
    def of(x: Any) -> "_Code":
        return x if isinstance(x, _Code) else _Code(repr(float(x)), frozenset())

    def _infix(self, sym: str, other: Any, reflected: bool = False) -> "_Code":
        a, b = (_Code.of(other), self) if reflected else (self, _Code.of(other))
        return _Code(f"({a.text} {sym} {b.text})", a.names | b.names)

    def __add__(self, o): return self._infix("+", o)
    def __radd__(self, o): return self._infix("+", o, True)
    def __sub__(self, o): return self._infix("-", o)
    def __rsub__(self, o): return self._infix("-", o, True)
    def __mul__(self, o): return self._infix("*", o)
    def __rmul__(self, o): return self._infix("*", o, True)
    def __truediv__(self, o): return self._infix("/", o)
    def __rtruediv__(self, o): return self._infix("/", o, True)
    def __pow__(self, o): return self._infix("**", o)
    def __rpow__(self, o): return self._infix("**", o, True)
    def __neg__(self): return _Code(f"(-{self.text})", self.names)


def _traced_call(p: Primitive):
    def call(*args: Any) -> _Code:
        codes = [_Code.of(a) for a in args]
        return _Code(f"{p.name}({', '.join(c.text for c in codes)})",
                     frozenset().union(*(c.names for c in codes)))
    return call


# The tracing namespace: F.cos(a0) records "cos(a0)"; the kernel runs it with FAST_FLOAT's cos.
_TRACE = ops.namespace(_traced_call)


def _make_sweep(prim: Primitive, mask: tuple[bool, ...]):
    """The backward kernel of `prim` when operand i is a graph node iff mask[i].

    Each rule vjp_i(F, g, out, a0, a1) is traced once into a line of Python, and the kernel adds it
    into operand i's .grad. For mul with two graph operands this generates:
        def sweep(node, g):
            p0 = node._a; p1 = node._b; a0 = p0.data; a1 = p1.data
            p0.grad += (a1 * g)
            p1.grad += (a0 * g)
    It saves a Python call per rule per node; the arithmetic is the rule's own.
    """
    inputs = [_Code(f"a{i}") for i in range(prim.arity)]
    body, needed = [], set()
    for i, rule in enumerate(prim.vjps):
        if mask[i]:
            code = rule(_TRACE, _Code("g"), _Code("out"), *inputs)
            body.append(f"    p{i}.grad += {code.text}")
            needed |= code.names
    head = []
    for i, slot in zip(range(prim.arity), ("_a", "_b")):
        if mask[i]:
            head.append(f"    p{i} = node.{slot}")
            if f"a{i}" in needed:
                head.append(f"    a{i} = p{i}.data")
        elif f"a{i}" in needed:
            head.append(f"    a{i} = node.{slot}")
    if "out" in needed:
        head.append("    out = node.data")
    source = "def sweep(node, g):\n" + "\n".join(head + body) + "\n"
    namespace = {name: getattr(FAST_FLOAT, name) for name in PRIMITIVES}
    exec(compile(source, f"<gradcore.value: backward of {prim.name} {mask}>", "exec"), namespace)
    sweep = namespace["sweep"]
    sweep.source = source  # print(gradcore.value._OPS["mul", (True, True)].sweep.source)
    return sweep


class _Op:
    """A primitive applied with a given pattern of graph operands (mask[i]: is operand i a node?).

    `sweep(node, g)` is its backward kernel: it adds each graph operand's vjp into that operand's .grad.
    """

    __slots__ = ("prim", "mask", "sweep")

    def __init__(self, prim: Primitive, mask: tuple[bool, ...]) -> None:
        self.prim = prim
        self.mask = mask
        self.sweep = _make_sweep(prim, mask)

    def __repr__(self) -> str:
        return f"_Op({self.prim.name}, {self.mask})"


# (primitive name, mask) -> _Op, shared by every node of that kind.
_OPS: dict[tuple[str, tuple[bool, ...]], _Op] = {
    (p.name, mask): _Op(p, mask)
    for p in PRIMITIVES.values()
    for mask in ([(True,)] if p.arity == 1 else [(True, True), (True, False), (False, True)])
}


# ------------------------------------------------------------------------------------------------
# Building nodes

_new = object.__new__


def _leaf(data: float) -> Value:
    """A result that records nothing (grad mode is off, or no operand requires grad)."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.requires_grad = False
    out.label = ""
    out._op = None
    out._a = None
    out._b = None
    out._mark = 0
    return out


def apply(prim: Primitive | str, *args: Any) -> Any:
    """Apply a primitive (a table row or name) to Values and/or numbers.

    All-number arguments give a plain float, so a rule evaluated in the Value namespace folds its
    constants. Operands that do not require grad are stored as their floats: to autograd they are
    constants. A domain violation is a DomainError naming the function and its operands.
    """
    if isinstance(prim, str):
        row = PRIMITIVES.get(prim) or ops.lookup(prim)
        if row is None:
            raise GradcoreError(f"unknown primitive {prim!r}")
        prim = row
    if len(args) != prim.arity:
        raise GradcoreError(f"{prim.name} takes {prim.arity} argument(s), got {len(args)}")
    floats = []
    for a in args:
        f = _number(a)
        if f is None:
            raise TypeError(f"{prim.name}: cannot use {type(a).__name__} with Value")
        floats.append(f)
    out = _forward(prim, *floats)
    if not any(isinstance(a, Value) for a in args):
        return out
    mask = tuple(isinstance(a, Value) and a.requires_grad for a in args)
    if not (_State.enabled and any(mask)):
        return _leaf(out)
    stored = [a if m else f for a, m, f in zip(args, mask, floats)] + [None]
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node.requires_grad = True
    node.label = ""
    node._op = _OPS[prim.name, mask]
    node._a = stored[0]
    node._b = stored[1]
    node._mark = 0
    return node


# The Value namespace: F.cos(v) records cos(v). A table rule called with it builds a new graph,
# which is how grad(..., create_graph=True) gets higher derivatives from the same rules.
VALUE = ops.namespace(lambda p: lambda *a: apply(p, *a))


# ------------------------------------------------------------------------------------------------
# Methods generated from the table: one per function (x.sin(), x.log(), ...) and the operators.
#
# Each is generated from a template so that it does only its own work: read the operands, compute
# (inline for + - * /, whose table implementations are Python's own operators), and record a node if
# gradients are needed. A failing or non-finite result is recomputed through ops.scalar_call, which
# raises the DomainError naming the function and its operands (or returns inf/nan when an operand
# was already non-finite).

_RECORD = """
    if not _State.enabled:
        return _leaf(out)
    node = _new(Value)
    node.data = out
    node.grad = 0.0
    node.requires_grad = True
    node.label = ""
    node._op = {op}
    node._a = {a}
    node._b = {b}
    node._mark = 0
    return node
"""

_UNARY = """
def method(self):
    x = self.data
    try:
        out = {compute}
    except (ArithmeticError, ValueError):
        out = _forward(prim, x)
    if out - out != 0.0:
        out = _forward(prim, x)
    if not self.requires_grad:
        return _leaf(out)
""" + _RECORD.format(op="op_v", a="self", b="None")

_BINARY = """
def method(self, other):
    x = self.data
    cls = other.__class__
    if cls is Value:
        y = other.data
    elif cls is float:
        y = other
    elif cls is int:
        y = float(other)
    elif isinstance(other, Value):  # a subclass of Value is a graph node too
        y = other.data
        cls = Value
    else:
        y = _number(other)
        if y is None:
            return NotImplemented
    try:
        out = {compute}
    except (ArithmeticError, ValueError):
        out = _forward(prim, x, y)
    if out - out != 0.0:
        out = _forward(prim, x, y)
    if self.requires_grad:
        if cls is Value and other.requires_grad:
            op = op_vv
            a = self
            b = other
        else:
            op = op_vc
            a = self
            b = y
    elif cls is Value and other.requires_grad:
        op = op_cv
        a = x
        b = other
    else:
        return _leaf(out)
""" + _RECORD.format(op="op", a="a", b="b")

# other OP self, with `other` a number: Python calls this only when `other` is not a Value.
_REFLECTED = """
def method(self, other):
    cls = other.__class__
    x = other if cls is float else float(other) if cls is int else _number(other)
    if x is None:
        return NotImplemented
    y = self.data
    try:
        out = {compute}
    except (ArithmeticError, ValueError):
        out = _forward(prim, x, y)
    if out - out != 0.0:
        out = _forward(prim, x, y)
    if not self.requires_grad:
        return _leaf(out)
""" + _RECORD.format(op="op_cv", a="x", b="self")

_INFIX = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.neg: "-"}


def _method(prim: Primitive, template: str, name: str, doc: str):
    """Generate the method `name` of Value for `prim` from `template`."""
    sym = _INFIX.get(prim.scalar)
    if prim.arity == 1:
        compute = f"{sym}x" if sym else "f(x)"
    else:
        compute = f"x {sym} y" if sym else "f(x, y)"
    source = template.format(compute=compute)
    namespace = {
        "Value": Value, "_State": _State, "_leaf": _leaf, "_new": _new, "_number": _number,
        "_forward": _forward, "prim": prim, "f": prim.scalar,
        "op_v": _OPS.get((prim.name, (True,))), "op_vv": _OPS.get((prim.name, (True, True))),
        "op_vc": _OPS.get((prim.name, (True, False))), "op_cv": _OPS.get((prim.name, (False, True))),
    }
    exec(compile(source, f"<gradcore.value: Value.{name}>", "exec"), namespace)
    method = namespace["method"]
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = doc
    return method


for _p in ops.FUNCTIONS.values():
    setattr(Value, _p.name, _method(_p, _UNARY, _p.name,
                                    f"{_p.name}(self): {_p.doc}; defined for {_p.domain}."))
Value.__neg__ = _method(PRIMITIVES["neg"], _UNARY, "__neg__", "-self")
Value.__abs__ = Value.abs  # type: ignore[attr-defined]
for _p in ops.BINARY.values():
    _dunder = "truediv" if _p.name == "div" else _p.name
    setattr(Value, f"__{_dunder}__", _method(_p, _BINARY, f"__{_dunder}__", f"self {_p.symbol} other"))
    setattr(Value, f"__r{_dunder}__", _method(_p, _REFLECTED, f"__r{_dunder}__", f"other {_p.symbol} self"))
Value.pow = Value.__pow__  # type: ignore[attr-defined]
del _p, _dunder


# ------------------------------------------------------------------------------------------------
# Topological order and the backward sweep
#
# Reverse mode must finish a node's adjoint before passing it on: in the diamond b = a + a; c = b * b,
# b collects its whole adjoint from c before sending it on to a. So nodes are processed in a
# topological order, consumers before operands, found iteratively by Kahn's algorithm: count each
# node's consumers inside the graph, and release a node when the last of them is done.

def topological_order(root: Value) -> list[Value]:
    """Every node under `root` once, consumers before operands, in the order backward() runs them.

    The intermediate nodes come first, in backward()'s execution order (so a trace made from this
    order reproduces backward()'s sums exactly); the leaves follow, in the order they were found.
    This is the readable twin of the hot loop in _backward, with a dict instead of the _mark slots.
    """
    consumers: dict[int, int] = {}
    found = [root]
    shared = False
    for node in found:  # the list grows while we walk it: an iterative breadth-first collection
        for p in _operands(node):
            if isinstance(p, Value):
                if id(p) in consumers:
                    shared = shared or p._op is not None
                else:
                    consumers[id(p)] = 0
                    found.append(p)
                consumers[id(p)] += 1
    inner = [n for n in found if n._op is not None]
    leaves = [n for n in found if n._op is None]
    if not shared:
        return inner + leaves
    order = []
    ready = [root] if root._op is not None else []
    while ready:
        node = ready.pop()
        order.append(node)
        for p in _operands(node):
            if isinstance(p, Value) and p._op is not None:
                consumers[id(p)] -= 1
                if not consumers[id(p)]:
                    ready.append(p)
    return order + leaves


def _backward(root: Value, seed: float) -> None:
    """Fill .grad under root with d(root)/d(node) * seed (leaves accumulate, intermediates reset).

    The hot loop: operands are read from the two slots directly (no tuple per node), and leaves are
    never visited, because the kernels add straight into their .grad.
    """
    if root._op is None:
        root.grad += seed
        return
    # Pass 1: collect each intermediate node once, count its consumers in _mark, zero its adjoint.
    order = [root]
    shared = False
    try:
        for node in order:  # the list grows while we walk it: an iterative breadth-first collection
            p = node._a
            if p.__class__ is Value and p._op is not None:
                if p._mark:
                    shared = True
                else:
                    p.grad = 0.0
                    order.append(p)
                p._mark += 1
            p = node._b
            if p.__class__ is Value and p._op is not None:
                if p._mark:
                    shared = True
                else:
                    p.grad = 0.0
                    order.append(p)
                p._mark += 1
        root.grad = seed
        if not shared:
            # Each intermediate node has one consumer and was collected after it, so the collection
            # order is already topological (every chain and every tree takes this path).
            for node in order:
                node._mark = 0
                node._op.sweep(node, node.grad)
        else:
            # Pass 2, Kahn: run a node's kernel once all of its consumers have run; counts end at 0.
            ready = [root]
            while ready:
                node = ready.pop()
                node._op.sweep(node, node.grad)
                p = node._a
                if p.__class__ is Value and p._op is not None:
                    p._mark -= 1
                    if not p._mark:
                        ready.append(p)
                p = node._b
                if p.__class__ is Value and p._op is not None:
                    p._mark -= 1
                    if not p._mark:
                        ready.append(p)
    except (ArithmeticError, ValueError) as exc:
        _unmark(order)
        if isinstance(exc, DomainError):
            raise
        raise not_differentiable(node, exc) from None
    except BaseException:  # e.g. KeyboardInterrupt: the counts must be 0 for the next sweep
        _unmark(order)
        raise


def _unmark(order: list[Value]) -> None:
    for node in order:
        node._mark = 0


def not_differentiable(node: Value, exc: BaseException) -> NotDifferentiableError:
    """The error for `node`'s derivative rule failing at its operands (d sqrt at 0), naming the primitive."""
    prim = node._op.prim
    operands = tuple(a.data if isinstance(a, Value) else a for a in _operands(node))
    return NotDifferentiableError(prim.name, operands, f"its derivative rule fails there ({exc})",
                                  symbol=prim.symbol)


# ------------------------------------------------------------------------------------------------
# Gradients as return values (torch.autograd.grad), first and higher order

def grad(outputs: "Value | Sequence[Value]", inputs: "Value | Sequence[Value]",
         create_graph: bool = False) -> tuple[Any, ...]:
    """d(sum of outputs)/d(input) for each input, as a tuple in input order; no .grad is touched.

    The sweep is backward()'s: adjoint(a_i) += vjp_i(adjoint(node)) in a topological order, seeded
    with 1 at each output. With create_graph=False the rules run on floats and the results are floats.
    With create_graph=True they run in the Value namespace, so each result is a Value with its own
    graph that can be differentiated again (second derivatives, Hessians). An input that the outputs
    do not depend on gets 0 (a float, or a constant Value with create_graph=True).
    """
    outs, ins = _values(outputs, "outputs"), _values(inputs, "inputs")
    for kind, items in (("outputs", outs), ("inputs", ins)):
        for i, v in enumerate(items):
            if not isinstance(v, Value):
                raise TypeError(f"grad(): {kind}[{i}] is a {type(v).__name__}, not a Value")
    for i, v in enumerate(outs):
        if not v.requires_grad:
            raise GradcoreError(f"grad(): outputs[{i}] does not require grad, so there is no graph to "
                                "differentiate (built under no_grad(), detached, or from constants)")
    for i, v in enumerate(ins):
        if not v.requires_grad:
            raise GradcoreError(f"grad(): inputs[{i}] does not require grad; "
                                "make it with Value(..., requires_grad=True)")
    total: dict[int, Any] = {}
    with (enable_grad() if create_graph else no_grad()):
        for out in outs:
            adjoint = _adjoints(out, ins, create_graph)
            for v in ins:
                g = adjoint.get(id(v))
                if g is not None:
                    total[id(v)] = g if id(v) not in total else total[id(v)] + g
    results = []
    for v in ins:
        g = total.get(id(v), 0.0)
        if create_graph and not isinstance(g, Value):
            g = Value(g, requires_grad=False)
        results.append(g)
    return tuple(results)


def _values(items: Any, kind: str) -> list[Value]:
    if isinstance(items, Value):
        return [items]
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"grad(): {kind} must be a Value or a sequence of Values, "
                        f"got {type(items).__name__}") from None


def _adjoints(root: Value, wanted: Sequence[Value], create_graph: bool) -> dict[int, Any]:
    """{id(node): d(root)/d(node)} for the graph under root (floats, or Values with create_graph)."""
    keep = {id(v) for v in wanted}
    F = VALUE if create_graph else FAST_FLOAT
    adjoint: dict[int, Any] = {id(root): 1.0}
    node = root
    try:
        for node in topological_order(root):
            g = adjoint.get(id(node)) if id(node) in keep else adjoint.pop(id(node), None)
            if g is None or node._op is None:
                continue
            args = _operands(node)
            if create_graph:
                out, vals = node, args  # rules read the node itself, so its graph is reused
            else:
                out, vals = node.data, [a.data if isinstance(a, Value) else a for a in args]
            for a, rule in zip(args, node._op.prim.vjps):
                if isinstance(a, Value):
                    c = rule(F, g, out, *vals)
                    prev = adjoint.get(id(a))
                    adjoint[id(a)] = c if prev is None else prev + c
    except (ArithmeticError, ValueError) as exc:
        if isinstance(exc, DomainError):
            raise
        raise not_differentiable(node, exc) from None
    return adjoint


# ------------------------------------------------------------------------------------------------
# From an expression to a graph

def build(expr: Any, point: Mapping[str, float], labels: bool = False) -> tuple[Value, dict[str, Value]]:
    """Evaluate the Expr `expr` at `point` with Values: returns (result, {variable: input Value}).

    Inputs are leaves labelled with their names, in `expr.variables` order; constants stay floats.
    With labels=True every node's label is the text of the subexpression it computes (for the
    teaching views). A constant expression gives a Value with requires_grad=False. A domain
    violation is a DomainError naming the point.
    """
    built, inputs = build_nodes(expr, point, labels)
    root = built[expr]
    if not isinstance(root, Value):
        root = Value(root, requires_grad=False, label=str(expr) if labels else "")
    return root, inputs


def build_nodes(expr: Any, point: Mapping[str, float], labels: bool = False) -> tuple[dict, dict[str, Value]]:
    """Like build, but return {Expr node: Value or float} for every node of `expr`, and the inputs."""
    from .expr import interpret, point_values

    env = point_values(expr, point)
    inputs = {name: Value(env[name], label=name) for name in expr.variables}

    def node_value(node: Any, args: list) -> Any:
        v = apply(PRIMITIVES[node.op], *args)
        if labels and isinstance(v, Value):
            v.label = str(node)
        return v

    try:
        built = interpret(expr, lambda n: n.value if n.op == "const" else inputs[n.name], node_value)
    except DomainError as exc:
        raise exc.at(env) from None
    return built, inputs
