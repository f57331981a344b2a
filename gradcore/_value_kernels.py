"""The fast path behind `Value.backward()`: backward kernels generated once from the table's rules,
and the sweep that runs them. value.py reads like the algorithm (`backward_by_rules`); this is it, fast.
Each kernel's source can be read with `gradcore.value.kernel_source("mul")`.
"""

from __future__ import annotations

import linecache
from typing import Any, Callable

from . import ops
from .errors import DomainError, NotDifferentiableError
from .ops import PRIMITIVES, Primitive

__all__ = ["FAST_FLOAT", "Op", "KERNELS", "MASKS", "kernel_source", "backward", "not_differentiable"]

# The float namespace of every backward sweep: the table's own math functions, unwrapped for speed.
# A rule that leaves its domain raises ValueError/ZeroDivisionError/OverflowError, which the sweep
# turns into a NotDifferentiableError naming the primitive and its operands.
FAST_FLOAT = ops.namespace(lambda p: p.scalar)

# Which operands of a node are graph nodes (True) rather than constants stored as floats. A binary
# node never has two constants: that result is a plain float or an untracked leaf.
MASKS: dict[int, tuple[tuple[bool, ...], ...]] = {
    1: ((True,),),
    2: ((True, True), (True, False), (False, True)),
}


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


def _infix(symbol: str, reflected: bool) -> Callable[[_Code, Any], _Code]:
    def method(self: _Code, other: Any) -> _Code:
        a, b = (_Code.of(other), self) if reflected else (self, _Code.of(other))
        return _Code(f"({a.text} {symbol} {b.text})", a.names | b.names)
    return method


def _prefix(symbol: str) -> Callable[[_Code], _Code]:
    def method(self: _Code) -> _Code:
        return _Code(f"({symbol}{self.text})", self.names)
    return method


# _Code spells each operator as ops.OPERATORS does: rule `y * g` traces to "(a1 * g)".
for _o in ops.OPERATORS:
    if _o.arity == 1:
        setattr(_Code, f"__{_o.dunder}__", _prefix(_o.symbol))
    else:
        setattr(_Code, f"__{_o.dunder}__", _infix(_o.symbol, False))
        setattr(_Code, f"__r{_o.dunder}__", _infix(_o.symbol, True))
del _o


def _traced_call(p: Primitive) -> Callable[..., _Code]:
    def call(*args: Any) -> _Code:
        codes = [_Code.of(a) for a in args]
        return _Code(f"{p.name}({', '.join(c.text for c in codes)})",
                     frozenset().union(*(c.names for c in codes)))
    return call


# The tracing namespace: F.cos(a0) records "cos(a0)"; the kernel then runs FAST_FLOAT's cos.
_TRACE = ops.namespace(_traced_call)


def _describe(prim: Primitive, mask: tuple[bool, ...]) -> str:
    return f"{prim.name}({', '.join('node' if m else 'constant' for m in mask)})"


def _kernel_name(prim: Primitive, mask: tuple[bool, ...]) -> str:
    return f"{prim.name}_backward_{'_'.join('node' if m else 'const' for m in mask)}"


def _kernel_source(prim: Primitive, mask: tuple[bool, ...]) -> str:
    """The kernel of `prim` when operand i is a graph node iff mask[i]: each rule, traced into a line.

    Operand i of a node sits in slot _a (i = 0) or _b (i = 1): the Value itself if it is a graph
    node, its float if it is a constant. For mul with two graph operands this gives
        def mul_backward_node_node(node, g):
            p0 = node._a
            a0 = p0.data
            ...
            p0.grad += (a1 * g)
            p1.grad += (a0 * g)
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
    return (f"def {_kernel_name(prim, mask)}(node, g):\n    # {_describe(prim, mask)}, g = its adjoint\n"
            + "\n".join(head + body) + "\n")


class Op:
    """A primitive applied with a given pattern of graph operands (mask[i]: is operand i a node?).

    Every node of that kind shares this object (a node's `_op`). `sweep(node, g)` is its backward
    kernel, compiled from `source`: it adds each graph operand's vjp into that operand's .grad.
    """

    __slots__ = ("prim", "mask", "source", "sweep")

    def __init__(self, prim: Primitive, mask: tuple[bool, ...]) -> None:
        self.prim = prim
        self.mask = mask
        self.source = _kernel_source(prim, mask)
        filename = f"<gradcore kernel {_describe(prim, mask)}>"
        # Registered with linecache, so a traceback through a kernel shows its lines.
        linecache.cache[filename] = (len(self.source), None, self.source.splitlines(True), filename)
        namespace = {name: getattr(FAST_FLOAT, name) for name in PRIMITIVES}
        exec(compile(self.source, filename, "exec"), namespace)
        self.sweep = namespace[_kernel_name(prim, mask)]

    def __repr__(self) -> str:
        return f"Op({_describe(self.prim, self.mask)})"


# (primitive name, mask) -> its Op, made once at import.
KERNELS: dict[tuple[str, tuple[bool, ...]], Op] = {
    (p.name, mask): Op(p, mask) for p in PRIMITIVES.values() for mask in MASKS[p.arity]
}


def kernel_source(name: str) -> str:
    """The generated backward kernels of the primitive `name`, one per pattern of graph operands.

    Each adds g * d(out)/d(a_i), the table's vjp_i, into the .grad of every operand a_i that is a node.
    """
    if name not in PRIMITIVES:
        raise KeyError(f"no primitive named {name!r}; the table has {', '.join(PRIMITIVES)}")
    return "\n".join(KERNELS[name, mask].source for mask in MASKS[PRIMITIVES[name].arity])


# ------------------------------------------------------------------------------------------------
# The sweep
#
# A node's operand slots _a and _b hold a Value (a graph node), a float (a constant) or, in _b of a
# one-argument node, None. Results are always exactly Value, so `p.__class__ is not float` and
# `p._op is not None` pick out the intermediate nodes without this module knowing the Value class.

def backward(root: Any, seed: float) -> None:
    """value.backward_by_rules(root, seed), fast: each node runs its generated kernel, and the walk
    keeps its counts in the nodes' _mark slots instead of a dict.

    Operands are read from the two slots directly (no tuple per node), and leaves are never visited,
    because the kernels add straight into their .grad.
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
            if p.__class__ is not float and p._op is not None:
                if p._mark:
                    shared = True
                else:
                    p.grad = 0.0
                    order.append(p)
                p._mark += 1
            p = node._b
            if p is not None and p.__class__ is not float and p._op is not None:
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
                if p.__class__ is not float and p._op is not None:
                    p._mark -= 1
                    if not p._mark:
                        ready.append(p)
                p = node._b
                if p is not None and p.__class__ is not float and p._op is not None:
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


def _unmark(order: list) -> None:
    for node in order:
        node._mark = 0


def not_differentiable(node: Any, exc: BaseException) -> NotDifferentiableError:
    """The error for `node`'s derivative rule failing at its operands (d sqrt at 0), naming the primitive."""
    prim = node._op.prim
    args = (node._a,) if prim.arity == 1 else (node._a, node._b)
    operands = tuple(a if a.__class__ is float else a.data for a in args)
    return NotDifferentiableError(prim.name, operands, f"its derivative rule fails there ({exc})",
                                  symbol=prim.symbol)
