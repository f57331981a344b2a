"""The code generator's intermediate form: values in static single assignment, built with value
numbering and the light identities of `expr.identity`, and the reverse sweep that appends the
adjoint instructions by calling the table's own rules on code-building operands.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

from .. import ops
from ..errors import GradcoreError
from ..expr import identity
from ..ops import PRIMITIVES

__all__ = ["INPUT", "CONST", "Builder", "CODE", "reverse", "live", "schedule", "tri"]

INPUT, CONST = "input", "const"


class Builder:
    """Values in static single assignment: value i is an input, a constant or a primitive applied to
    earlier values. Applying the same primitive to the same values again returns the existing value
    (value numbering), so every common subexpression is computed once."""

    __slots__ = ("op", "args", "const", "dep", "seq", "origin", "now", "_keys", "_count")

    def __init__(self) -> None:
        self.op: list[str] = []
        self.args: list[tuple[int, ...]] = []
        self.const: list[float | None] = []
        self.dep: list[bool] = []          # does the value depend on any input?
        self.seq: list[int] = []           # instructions are numbered 1, 2, ... for their names
        self.origin: list[int] = []        # the value whose table rule created this one, or -1
        self.now = -1                      # the value whose rule is being applied
        self._keys: dict[tuple, int] = {}
        self._count = 0

    def _new(self, key: tuple, op: str, args: tuple[int, ...], const: float | None, dep: bool) -> int:
        i = self._keys.get(key)
        if i is not None:
            return i
        i = len(self.op)
        self.op.append(op)
        self.args.append(args)
        self.const.append(const)
        self.dep.append(dep)
        if op in (INPUT, CONST):
            self.seq.append(0)
        else:
            self._count += 1
            self.seq.append(self._count)
        self.origin.append(self.now)
        self._keys[key] = i
        return i

    def input(self, k: int) -> int:
        return self._new((INPUT, k), INPUT, (), None, True)

    def constant(self, v: float) -> int:
        # Keyed by the sign bit too: 0.0 and -0.0 are different constants.
        return self._new((CONST, v, math.copysign(1.0, v)), CONST, (), v, False)

    def apply(self, op: str, *ids: int, simplify: bool = True) -> int:
        """The value op(*ids): folded when every argument is a constant and the result is finite,
        lightly simplified when `simplify` (the identities of expr.identity, and --x = x), else a
        new instruction."""
        cs = [self.const[i] for i in ids]
        if None not in cs:
            try:
                return self.constant(ops.scalar_call(PRIMITIVES[op], *cs))
            except GradcoreError:
                pass  # undefined everywhere: keep it, so that calling reports the DomainError
        elif simplify:
            # The identities Expr's builders apply, so the code reads like the textbook.
            found = identity(op, cs)
            if found is not None:
                kind, what = found
                if kind == "const":
                    return self.constant(what)
                return ids[what] if kind == "arg" else self.apply("neg", ids[what])
            if op == "neg" and self.op[ids[0]] == "neg":
                return self.args[ids[0]][0]
        return self._new((op, *ids), op, ids, None, any(self.dep[i] for i in ids))


class _Val:
    """A code-building operand: arithmetic on it records instructions instead of computing numbers,
    so a table rule such as `lambda F, g, out, x: -F.sin(x) * g` yields the adjoint code."""

    __slots__ = ("b", "i")

    def __init__(self, b: Builder, i: int) -> None:
        self.b = b
        self.i = i


def _operand(b: Builder, x: Any) -> int:
    return x.i if isinstance(x, _Val) else b.constant(float(x))


def _install_operators() -> None:
    """Give _Val Python's operator methods for every row of ops.OPERATORS (both sides of infix ones)."""
    for o in ops.OPERATORS:
        if o.arity == 1:
            def prefix(a: _Val, _op: str = o.primitive) -> _Val:
                return _Val(a.b, a.b.apply(_op, a.i))

            setattr(_Val, f"__{o.dunder}__", prefix)
            continue

        def forward(a: _Val, other: Any, _op: str = o.primitive) -> _Val:
            return _Val(a.b, a.b.apply(_op, a.i, _operand(a.b, other)))

        def reflected(a: _Val, other: Any, _op: str = o.primitive) -> _Val:
            return _Val(a.b, a.b.apply(_op, _operand(a.b, other), a.i))

        setattr(_Val, f"__{o.dunder}__", forward)
        setattr(_Val, f"__r{o.dunder}__", reflected)


_install_operators()


def _code_call(name: str, args: tuple) -> _Val:
    b = next(a.b for a in args if isinstance(a, _Val))
    return _Val(b, b.apply(name, *[_operand(b, a) for a in args]))


# The code-building interpreter's namespace: F.cos(v) records a cos instruction.
CODE = ops.namespace(lambda p: lambda *a: _code_call(p.name, a))


def reverse(b: Builder, root: int, name: Callable[[int], str], names: dict[int, str],
            notes: dict[int, list[int]]) -> dict[int, int]:
    """Reverse mode over the instructions: d(root)/dv for every value v that root depends on.

    Walking from root down, v's adjoint is the sum over v's users u of the table's rule
    vjps[k](F, g=adjoint of u, out=u, *args of u), "local partial * g", recorded as code.
    A new adjoint value is named name(v); `notes` remembers the users it came from.
    """
    one = b.constant(1.0)
    start = len(b.op)  # only values this sweep creates are named after it
    pending: dict[int, list[int]] = {root: [one]}
    sources: dict[int, list[int]] = {}
    adjoint: dict[int, int] = {}
    for v in range(root, -1, -1):
        parts = pending.pop(v, None)
        if parts is None:
            continue
        b.now = -1
        g = parts[0]
        for p in parts[1:]:
            g = b.apply("add", g, p)
        adjoint[v] = g
        if g >= start and g not in names and b.op[g] not in (INPUT, CONST):
            names[g] = name(v)
            notes[g] = sources.get(v, [])
        op = b.op[v]
        if op in (INPUT, CONST):
            continue
        args = b.args[v]
        b.now = v
        operands = [_Val(b, a) for a in args]
        for a, rule in zip(args, PRIMITIVES[op].vjps):
            if not b.dep[a]:
                continue  # constants and variable-free parts need no adjoint
            c = rule(CODE, _Val(b, g), _Val(b, v), *operands).i
            if b.const[c] == 0.0:
                continue
            pending.setdefault(a, []).append(c)
            sources.setdefault(a, []).append(v)
    b.now = -1
    return adjoint


def live(b: Builder, roots: Sequence[int]) -> bytearray:
    """Marks (1) for the values `roots` need: the roots and, transitively, their arguments."""
    marks = bytearray(len(b.op))
    for r in roots:
        marks[r] = 1
    for i in range(max(roots, default=-1), -1, -1):
        if marks[i]:
            for a in b.args[i]:
                marks[a] = 1
    return marks


def schedule(b: Builder, roots: Sequence[int]) -> list[int]:
    """The instructions that compute `roots`, in the order they run (inputs and constants excluded)."""
    marks = live(b, roots)
    return [i for i in range(len(marks)) if marks[i] and b.op[i] not in (INPUT, CONST)]


def tri(i: int, j: int, n: int) -> int:
    """Position of Hessian entry (i, j) in the row-major upper triangle the program computes."""
    i, j = min(i, j), max(i, j)
    return i * n - i * (i - 1) // 2 + (j - i)
