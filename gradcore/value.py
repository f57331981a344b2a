"""Scalar reverse-mode autograd: `Value`, a float that remembers how it was computed (after micrograd).

Every derivative comes from the primitive table (`ops.PRIMITIVES[name].vjps`); `backward()` walks the
graph in an iterative topological order, so a chain of a million operations needs no recursion.
"""

# Over 500 lines on purpose: the class, the methods the table makes for it, the plain backward
# sweep, grad() and build() are read together, top to bottom. The fast path is _value_kernels.py.

from __future__ import annotations

import numbers
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from . import ops
from ._value_kernels import FAST_FLOAT, KERNELS, kernel_source, not_differentiable
from ._value_kernels import backward as _backward
from .errors import DomainError, GradcoreError
from .expr import F as SYMBOLIC, ONE, interpret, point_values, raw, var
from .grad_mode import _State, enable_grad, no_grad
from .ops import PRIMITIVES, Primitive, scalar_call

__all__ = ["Value", "grad", "build", "build_nodes", "apply", "topological_order", "backward_by_rules",
           "not_differentiable", "kernel_source", "VALUE", "FAST_FLOAT"]

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

    The operators (__add__, __radd__, ..., __neg__, from ops.OPERATORS) and one method per table
    function (sin, log, sigmoid, ...) are the three plain functions `_unary`, `_binary` and
    `_reflected` below, made once for each row of the table.
    """

    # _op: the shared kernels.Op of the primitive and which operands are graph nodes (None for a
    # leaf). _a, _b: the operands (_b is None for a one-argument primitive). Two slots rather than a
    # tuple: a tuple per node would be a second object for the cyclic garbage collector to track and
    # traverse, which doubled the cost of building a million-node graph. The public `operands` and
    # `parents` are tuples, in order. _mark: backward()'s count of the node's consumers during a
    # sweep; 0 between sweeps.
    __slots__ = ("data", "grad", "requires_grad", "label", "_op", "_a", "_b", "_mark", "__weakref__")

    data: float
    grad: float
    requires_grad: bool
    label: str

    def __init__(self, data: Any, requires_grad: bool = True, label: str = "") -> None:
        number = data if data.__class__ is float else _as_float(data)
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
        `backward_by_rules(self)` is the same sweep written plainly; this one runs generated kernels.
        """
        _backward(self, _seed(self, gradient))


def _operands(node: Value) -> tuple[Any, ...]:
    if node._op is None:
        return ()
    return (node._a,) if node._op.prim.arity == 1 else (node._a, node._b)


def _as_float(x: Any) -> float | None:
    """A real number (Python, numpy, a 0-d array, or a Value's data) as a float; None otherwise."""
    if isinstance(x, Value):
        return x.data
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, (np.ndarray, np.generic)) and x.shape == () and x.dtype.kind in "biuf":
        return float(x)
    return None


# ------------------------------------------------------------------------------------------------
# The methods: f(self), self OP other and other OP self, one of each per table row
#
# Each computes the table's float function and records a node. A failing or non-finite result is
# recomputed through ops.scalar_call, which raises the DomainError naming the function and its
# operands (or returns inf/nan when an operand was already non-finite). These are the hot path of
# building a graph, so the common cases are tested first, the kernels are looked up once per method,
# and each body spells out the node it records. The nine lines repeat in the three bodies on purpose:
# a shared helper costs a Python call per operation, about 6% more work for a gradient in
# benchmarks/bench_value.py. Calling the table's function `f` costs little more than the inline
# operator would (a C function such as operator.mul, called from a closure), so it stays.

_new = object.__new__  # not Value(...): __init__'s checks cost more than the rest of an operation


def _leaf(data: float) -> Value:
    """A result that records nothing: no operand requires grad, or grad mode is off."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.requires_grad = False
    out.label = ""
    out._op = out._a = out._b = None
    out._mark = 0
    return out


def _unary(prim: Primitive) -> Callable[[Value], Value]:
    """Value's method for prim(self), e.g. sin: out = sin(self.data), one graph operand."""
    f, op = prim.scalar, KERNELS[prim.name, (True,)]

    def method(self: Value) -> Value:
        x = self.data
        try:
            out = f(x)
        except (ArithmeticError, ValueError):
            out = scalar_call(prim, x)
        if out - out != 0.0:
            out = scalar_call(prim, x)
        if not (self.requires_grad and _State.enabled):
            return _leaf(out)
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node.requires_grad = True
        node.label = ""
        node._op = op
        node._a = self
        node._b = None
        node._mark = 0
        return node
    return method


def _binary(prim: Primitive) -> Callable[[Value, Any], Value]:
    """Value's method for self OP other, e.g. __mul__; `other` is a Value or a number (a constant)."""
    f, nodes, node_const, const_node = (prim.scalar, KERNELS[prim.name, (True, True)],
                                        KERNELS[prim.name, (True, False)], KERNELS[prim.name, (False, True)])

    def method(self: Value, other: Any) -> Value:
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
            y = _as_float(other)
            if y is None:
                return NotImplemented
        try:
            out = f(x, y)
        except (ArithmeticError, ValueError):
            out = scalar_call(prim, x, y)
        if out - out != 0.0:
            out = scalar_call(prim, x, y)
        if self.requires_grad:
            if cls is Value and other.requires_grad:
                op, a, b = nodes, self, other
            else:
                op, a, b = node_const, self, y
        elif cls is Value and other.requires_grad:
            op, a, b = const_node, x, other
        else:
            return _leaf(out)
        if not _State.enabled:
            return _leaf(out)
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node.requires_grad = True
        node.label = ""
        node._op = op
        node._a = a
        node._b = b
        node._mark = 0
        return node
    return method


def _reflected(prim: Primitive) -> Callable[[Value, Any], Value]:
    """Value's method for other OP self, e.g. __rmul__: Python calls it only when `other` is a number."""
    f, const_node = prim.scalar, KERNELS[prim.name, (False, True)]

    def method(self: Value, other: Any) -> Value:
        cls = other.__class__
        x = other if cls is float else float(other) if cls is int else _as_float(other)
        if x is None:
            return NotImplemented
        y = self.data
        try:
            out = f(x, y)
        except (ArithmeticError, ValueError):
            out = scalar_call(prim, x, y)
        if out - out != 0.0:
            out = scalar_call(prim, x, y)
        if not (self.requires_grad and _State.enabled):
            return _leaf(out)
        node = _new(Value)
        node.data = out
        node.grad = 0.0
        node.requires_grad = True
        node.label = ""
        node._op = const_node
        node._a = x
        node._b = self
        node._mark = 0
        return node
    return method


def _install(name: str, method: Callable, doc: str) -> None:
    # A code object of its own per method: the interpreter specialises each instruction to the
    # types and the function `f` it meets, and one code shared by + * / ** would keep mixing them.
    method.__code__ = method.__code__.replace(co_name=name, co_qualname=f"Value.{name}")
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__doc__ = doc
    setattr(Value, name, method)


def _derivatives(prim: Primitive, wanted: tuple[int, ...] = (0, 1)) -> str:
    """The table's rules as text, read by the symbolic interpreter: "d/dx = y, d/dy = x" for mul."""
    args = (var("x"), var("y"))[:prim.arity]
    return ", ".join(f"d/d{args[i]} = {prim.vjps[i](SYMBOLIC, ONE, raw(prim.name, *args), *args)}"
                     for i in wanted if i < prim.arity)


for _o in ops.OPERATORS:
    _p = PRIMITIVES[_o.primitive]
    if _o.arity == 1:
        _install(f"__{_o.dunder}__", _unary(_p), f"{_o.symbol}self, with x = self: {_derivatives(_p)}")
    else:
        _install(f"__{_o.dunder}__", _binary(_p),
                 f"self {_o.symbol} other, with x = self, y = other: {_derivatives(_p)}")
        _install(f"__r{_o.dunder}__", _reflected(_p),
                 f"other {_o.symbol} self, with x = other, y = self: {_derivatives(_p, (1,))}")
for _p in ops.FUNCTIONS.values():
    _install(_p.name, _unary(_p),
             f"{_p.name}(self): {_p.doc}, with x = self: {_derivatives(_p)}; defined for {_p.domain}.")
Value.__abs__ = Value.abs  # type: ignore[attr-defined]
Value.pow = Value.__pow__  # type: ignore[attr-defined]
del _o, _p


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
        f = _as_float(a)
        if f is None:
            raise TypeError(f"{prim.name}: cannot use {type(a).__name__} with Value")
        floats.append(f)
    out = scalar_call(prim, *floats)
    if not any(isinstance(a, Value) for a in args):
        return out
    mask = tuple(isinstance(a, Value) and a.requires_grad for a in args)
    if not (any(mask) and _State.enabled):
        return _leaf(out)
    stored = [a if m else f for a, m, f in zip(args, mask, floats)] + [None]
    node = _leaf(out)
    node.requires_grad = True
    node._op, node._a, node._b = KERNELS[prim.name, mask], stored[0], stored[1]
    return node


# The Value namespace: F.cos(v) records cos(v). A table rule called with it builds a new graph,
# which is how grad(..., create_graph=True) gets higher derivatives from the same rules.
VALUE = ops.namespace(lambda p: lambda *a: apply(p, *a))


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
    It is the readable twin of the fast sweep in _value_kernels, with a dict instead of _mark slots.
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


def backward_by_rules(root: Value, gradient: float = 1.0) -> None:
    """root.backward(gradient), written plainly: adjoint(a_i) += vjp_i(F, adjoint(node), out, *args).

    Each node's rules are called from the table in the float namespace, in topological_order(root).
    The result is backward()'s bit for bit (the generated kernels perform the same float operations
    in the same order); this is the version to read, and the tests hold the two equal.
    """
    seed = _seed(root, gradient)
    if root._op is None:
        root.grad += seed
        return
    order = topological_order(root)
    for node in order:
        if node._op is not None:
            node.grad = 0.0
    root.grad = seed
    for node in order:
        if node._op is None:
            continue
        args = _operands(node)
        values = [a.data if isinstance(a, Value) else a for a in args]
        for a, rule in zip(args, node._op.prim.vjps):
            if isinstance(a, Value):
                try:
                    a.grad += rule(FAST_FLOAT, node.grad, node.data, *values)
                except (ArithmeticError, ValueError) as exc:
                    if isinstance(exc, DomainError):
                        raise
                    raise not_differentiable(node, exc) from None


def _seed(root: Value, gradient: Any) -> float:
    if not root.requires_grad:
        raise GradcoreError("backward() needs a Value that requires grad; this one was built under "
                            "no_grad(), detached, or only from Values with requires_grad=False")
    seed = gradient if gradient.__class__ is float else _as_float(gradient)
    if seed is None:
        raise TypeError(f"backward(gradient=...) needs a number, got {type(gradient).__name__}")
    return seed


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
