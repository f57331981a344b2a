"""Printing a program's instructions as Python: `math` code for one point, written to be read, and
array code, written for speed, for numpy or for another engine of _engines (jax, torch). Operator
spelling and precedence come from ops.OPERATORS.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from .. import ops
from ..ops import ATOM_PRECEDENCE, INFIX, OPERATOR_OF, PREFIX, PRIMITIVES
from ._engines import ENGINES
from ._naming import ADJOINT, DISPATCH, EXPLAIN, MATH, MATRIX, NUMPY, OUTSIDE, SECOND_ADJOINT, temporary
from ._ssa import CONST, INPUT, Builder, live, tri

if TYPE_CHECKING:
    from ._program import _Program

__all__ = ["render", "FLOAT_BINDINGS", "ARRAY_BINDINGS"]

# An inlined expression nests at most this deep before it gets its own line, so that generated code
# stays far from the limits of Python's parser and compiler however long the formula is.
_MAX_INLINE_DEPTH = 12
# Finiteness is tested on at most this many results per line of generated code.
_CHECK_CHUNK = 32
_NEG_PRECEDENCE = OPERATOR_OF["neg"].precedence


# ---- spelling: how each primitive is written on each path -------------------------------------------

class _Probe(np.ndarray):
    """An array on which every ufunc call returns the ufunc itself, so applying one of Python's
    operators to it tells which numpy function that operator stands for (+ is np.add)."""

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *args: Any, **kwargs: Any) -> np.ufunc:
        return ufunc


def _numpy_operator(o: ops.Operator) -> Callable:
    probe = np.zeros(()).view(_Probe)
    return getattr(operator, o.dunder)(*[probe] * o.arity)


def _spellings(module: Any, module_name: str, impl: Callable, operators: dict) -> tuple[dict, dict]:
    """Read the table: a row whose implementation is what its operator means (`operators`, by row
    name) is written with the operator's symbol, one that is an attribute of `module` as
    module.name(...), any other is called by its table name, bound in the code's globals."""
    spell: dict[str, str] = {}
    bindings: dict[str, Any] = {}
    for p in PRIMITIVES.values():
        f = impl(p)
        if p.name in operators and operators[p.name] is f:
            spell[p.name] = OPERATOR_OF[p.name].symbol
            continue
        attr = getattr(f, "__name__", "")
        if attr.isidentifier() and getattr(module, attr, None) is f:
            spell[p.name] = f"{module_name}.{attr}"
        else:
            spell[p.name] = p.name
            bindings[p.name] = f
    return spell, bindings


_FLOAT_SPELL, FLOAT_BINDINGS = _spellings(math, MATH, lambda p: p.scalar,
                                          {o.primitive: getattr(operator, o.dunder) for o in ops.OPERATORS})
_ARRAY_SPELL, ARRAY_BINDINGS = _spellings(np, NUMPY, lambda p: p.array,
                                          {o.primitive: _numpy_operator(o) for o in ops.OPERATORS})
# Operators on two Python floats would be Python arithmetic ((-3.0)**0.5 is complex, 1.0/0.0 raises),
# so on the array path an instruction on constants alone calls the ufunc itself: np.power(-3.0, 0.5).
_ARRAY_CALL, _ = _spellings(np, NUMPY, lambda p: p.array, {})
# float ** float is the table's pow (math.pow) except that a negative base with a fractional
# exponent gives a complex number; with a constant integral exponent the two agree, and ** is faster.
_POW_SYMBOL = OPERATOR_OF["pow"].symbol
# The other engines: numpy's np.<name> is alias.<name> there, apart from the rows each spells itself.
_ENGINE_SPELL = {e.name: {**{op: e.alias + s[len(NUMPY):] if s.startswith(NUMPY + ".") else s
                             for op, s in _ARRAY_SPELL.items()}, **dict(e.special)}
                 for e in ENGINES.values()}


def _spelling(b: Builder, i: int, mode: str) -> str:
    """How instruction i is written: an operator symbol or the function to call."""
    op = b.op[i]
    if mode in _ENGINE_SPELL:
        return _ENGINE_SPELL[mode][op]
    if mode == "array":
        constant = all(b.const[a] is not None for a in b.args[i])
        return _ARRAY_CALL[op] if constant else _ARRAY_SPELL[op]
    if op == "pow":
        e = b.const[b.args[i][1]]
        if e is not None and e.is_integer() and b.const[b.args[i][0]] is None:
            return _POW_SYMBOL
    return _FLOAT_SPELL[op]


def _const_text(v: float) -> tuple[str, int]:
    # repr, not format.number: code needs the float literal that reads back exactly (2.0, not 2).
    t = repr(v)
    return t, (_NEG_PRECEDENCE if t.startswith("-") else ATOM_PRECEDENCE)


def _prefix(s: str, operand: tuple[str, int, int]) -> tuple[str, int]:
    t, p, _ = operand
    prec = PREFIX[s].precedence
    return (f"{s}({t})" if p <= prec else s + t), prec


def _infix(s: str, parts: list[tuple[str, int, int]]) -> tuple[str, int]:
    o = INFIX[s]
    (lt, lp, _), (rt, rp, _) = parts
    # An operand binding equally tight is wrapped on the side the operator does not group towards.
    wrap_l = lp <= o.precedence if o.right else lp < o.precedence
    wrap_r = rp < o.precedence if o.right else rp <= o.precedence
    return f"{'(' + lt + ')' if wrap_l else lt} {s} {'(' + rt + ')' if wrap_r else rt}", o.precedence


def _spell_once(s: str, shown: list[str]) -> str:
    """An instruction applied to names, one level deep, for comments."""
    if len(shown) == 1 and s in PREFIX:
        return s + shown[0]
    if s in INFIX:
        return f" {s} ".join(shown)
    return f"{s}({', '.join(shown)})"


# ---- which values get a line of their own -------------------------------------------------------------

def _takes_sign(b: Builder, u: int, i: int) -> bool:
    """Can instruction u absorb the negation i among its arguments (see _Writer.absorb_sign)?"""
    a = b.args[u]
    if b.op[u] == "add":
        return a.count(i) == 1
    if b.op[u] == "sub":
        return a[1] == i and a[0] != i
    if b.op[u] == "mul":
        return a.count(i) == 1 and b.const[a[1] if a[0] == i else a[0]] is not None
    return False


def _use_counts(b: Builder, marks: bytearray, roots: list[int], mode: str) -> list[int]:
    """How often each value is read; a result counts twice, so it is never inlined."""
    uses = [0] * len(b.op)
    users: dict[int, list[int]] = {}
    for i in range(len(b.op)):
        if marks[i]:
            for a in b.args[i]:
                uses[a] += 1
                users.setdefault(a, []).append(i)
    for r in roots:
        uses[r] += 2
    # numpy code: a negation whose every user can take the sign itself (a + -s is a - s, 2*-s is
    # -2*s) is written into those users, so the array is never negated: one pass fewer.
    if mode != "float":
        for i, us in users.items():
            if b.op[i] == "neg" and uses[i] == len(us) > 1 and all(_takes_sign(b, u, i) for u in us):
                uses[i] = 1  # inlined as -s in each user, where absorb_sign removes it
                uses[b.args[i][0]] += len(us) - 1
    return uses


def _own_line(prog: _Program, mode: str, i: int, uses: int, depth: int) -> bool:
    # Float code is for reading: every node of the expression and every named adjoint gets a line.
    # Array code inlines every value used once, so numpy can reuse the temporary buffers.
    if uses > 1 or depth > _MAX_INLINE_DEPTH:
        return True
    return mode == "float" and (i < prog.fwd_end or i in prog.names)


# ---- writing one function ---------------------------------------------------------------------------

class _Writer:
    """How each value of one generated function is written so far: inline text (with its precedence
    and nesting depth) or the name of its line."""

    __slots__ = ("prog", "b", "mode", "names", "text", "printed", "line_of", "taken", "folded")

    def __init__(self, prog: _Program, mode: str) -> None:
        self.prog = prog
        self.b = prog.b
        self.mode = mode
        self.names = prog.names
        self.text: dict[int, tuple[str, int, int]] = {}
        self.printed: dict[int, str] = {}
        self.line_of: dict[int, str] = {}
        self.taken = set(prog.locals)
        self.folded: dict[int, float] = {}
        for k, local in enumerate(prog.locals):
            self.text[self.b.input(k)] = (local, ATOM_PRECEDENCE, 0)

    def arg(self, i: int) -> tuple[str, int, int]:
        c = self.b.const[i]
        if c is not None:
            t, p = _const_text(c)
            return t, p, 0
        return self.text[i]

    def name_of(self, i: int) -> str:
        b = self.b
        return self.printed.get(i) or self.names.get(i) or temporary(b.op[i], b.seq[i])

    def fold(self, i: int) -> str:
        """A value of constants alone that the table leaves undefined (log(-1.0), and what uses it),
        computed as numpy computes it, for the engines, whose functions take no Python floats:
        float('nan')."""
        b = self.b
        with np.errstate(all="ignore"):
            v = self.folded[i] = float(PRIMITIVES[b.op[i]].array(*[
                self.folded[a] if b.const[a] is None else b.const[a] for a in b.args[i]]))
        return repr(v) if math.isfinite(v) else f"float('{v!r}')"

    def inlined_neg(self, i: int) -> bool:
        return self.b.op[i] == "neg" and self.text[i][0].startswith("-")

    def expression(self, i: int) -> tuple[str, int, int]:
        """Instruction i written out: (text, precedence, nesting depth)."""
        b = self.b
        if self.mode in _ENGINE_SPELL and not b.dep[i]:
            return self.fold(i), ATOM_PRECEDENCE, 0
        parts = [self.arg(a) for a in b.args[i]]
        depth = 1 + max(d for _, _, d in parts)
        s = _spelling(b, i, self.mode)
        if len(parts) == 1 and s in PREFIX:
            return (*_prefix(s, parts[0]), depth)
        if s in INFIX:
            if b.op[b.args[i][0]] == "neg" or b.op[b.args[i][1]] == "neg":
                s, parts = self.absorb_sign(i, s, parts)
            return (*_infix(s, parts), depth)
        return f"{s}({', '.join(t for t, _, _ in parts)})", ATOM_PRECEDENCE, depth

    def absorb_sign(self, i: int, s: str, parts: list) -> tuple[str, list]:
        """a + -b is written a - b, a - -b as a + b, -a + b as b - a, and c * -a as (-c) * a:
        the same number, one step fewer."""
        b = self.b
        op = b.op[i]
        left, right = b.args[i]
        if op in ("add", "sub") and self.inlined_neg(right):
            s = OPERATOR_OF["sub" if op == "add" else "add"].symbol
            parts[1] = self.arg(b.args[right][0])
        elif op == "add" and self.inlined_neg(left):
            s, parts = OPERATOR_OF["sub"].symbol, [parts[1], self.arg(b.args[left][0])]
        elif op == "mul" and (self.inlined_neg(left) or self.inlined_neg(right)):
            k = 1 if self.inlined_neg(right) else 0
            c = b.const[b.args[i][1 - k]]
            if c is not None:
                t, p = _const_text(-c)
                parts[1 - k] = (t, p, 0)
                parts[k] = self.arg(b.args[b.args[i][k]][0])
        return s, parts

    def claim(self, i: int, expr: str) -> str:
        """Give instruction i its own line: choose its name and remember what it holds."""
        name = self.name_of(i)
        if name in self.taken:  # two role names can meet (d + "x_1" + "_add_y" = d + "x_1_add" + "_y")
            name = temporary(self.b.op[i], self.b.seq[i])
            if name in self.taken:
                raise AssertionError(f"generated name {name} used twice")  # op_<n> is unique
        self.taken.add(name)
        self.printed[i] = name
        self.line_of[i] = expr
        self.text[i] = (name, ATOM_PRECEDENCE, 0)
        return name

    def describe(self, i: int) -> str:
        # A user of a value that this function does not print is shown one level deep.
        if i in self.line_of:
            return f"{self.name_of(i)} = {self.line_of[i]}"
        b = self.b
        shown = [_const_text(b.const[a])[0] if b.const[a] is not None else
                 self.text[a][0] if b.op[a] == INPUT else self.name_of(a) for a in b.args[i]]
        return f"{self.name_of(i)} = {_spell_once(_spelling(b, i, 'float'), shown)}"

    def comment(self, i: int, needed: bytearray) -> str:
        """Where line i comes from: the forward lines whose rules gave it, for a reader."""
        notes = self.prog.notes.get(i)
        if notes:
            more = f"; and {len(notes) - 3} more" if len(notes) > 4 else ""
            return "from " + "; ".join(self.describe(u) for u in notes[:3 if more else 4]) + more
        if self.b.origin[i] >= 0:
            return "from " + self.describe(self.b.origin[i])
        return "" if needed[i] else "computed only to check the domain"


def _adjoint_heading(prog: _Program, kind: str) -> str:
    if kind == "hessian":
        x = prog.locals[0]
        return (f"# second sweeps, one per variable: {SECOND_ADJOINT.format(x=x)}w is "
                f"d({ADJOINT}{x})/dw, where {ADJOINT}{x} is df/d{x}")
    return f"# adjoint sweep, last line first: {ADJOINT}v is df/dv"


def render(prog: _Program, kind: str, mode: str) -> str:
    """The source of entry `kind` (value, grad, ...) for `mode` ("float": math, one point; "array":
    numpy; or an engine of _engines, "jax" or "torch", written like numpy's). Float code has one
    line per node of the expression and one per adjoint, each adjoint commented with the forward
    lines whose rules produced it."""
    b = prog.b
    outputs, guards = prog.entries[kind]
    marks = live(b, outputs + guards)
    needed = live(b, outputs)
    uses = _use_counts(b, marks, outputs + guards, mode)
    w = _Writer(prog, mode)
    lines: list[str] = []
    in_sweep = False
    for i in range(len(b.op)):
        if not marks[i] or b.op[i] in (INPUT, CONST):
            continue
        expr, prec, depth = w.expression(i)
        if not _own_line(prog, mode, i, uses[i], depth):
            w.text[i] = (expr, prec, depth)
            continue
        if i >= prog.fwd_end and not in_sweep:
            in_sweep = True
            lines.append(_adjoint_heading(prog, kind))
        line = f"{w.claim(i, expr)} = {expr}"
        comment = w.comment(i, needed) if mode == "float" else ""
        lines.append(f"{line}  # {comment}" if comment else line)
    results = [w.arg(r)[0] for r in outputs]
    if mode in _ENGINE_SPELL:
        return _engine_function(prog, kind, lines, results, [w.arg(g)[0] for g in guards])
    if mode == "array":
        return _array_function(prog, kind, lines, results + [w.arg(g)[0] for g in guards])
    checked = [w.arg(r)[0] for r in outputs if b.op[r] not in (INPUT, CONST)]
    return _float_function(prog, kind, lines, results, checked)


# ---- the function around the body ---------------------------------------------------------------------

def _head(prog: _Program, kind: str) -> str:
    params = ", ".join(prog.locals)
    return f"def {kind}({params}, /):" if params else f"def {kind}():"


def _array_function(prog: _Program, kind: str, body: list[str], results: list[str]) -> str:
    """Array code returns its results and then the guards, whose non-finite values mark the points
    outside the domain."""
    return "\n".join([_head(prog, kind), *("    " + s for s in body), f"    return {_tuple(results)}"])


def _engine_function(prog: _Program, kind: str, body: list[str], results: list[str],
                     guards: list[str]) -> str:
    """Engine code applies the domain policy itself, in the engine's operations (see _engines)."""
    policy = f"{OUTSIDE}({_tuple(results)}, {_tuple(guards)}, {_tuple(list(prog.locals))})"
    return "\n".join([_head(prog, kind), *("    " + s for s in body), f"    return {policy}"])


def _float_result(kind: str, results: list[str], n: int) -> str:
    if kind == "value":
        return results[0]
    if kind == "grad":
        return _tuple(results)
    if kind == "value_and_grad":
        return f"{results[0]}, {_tuple(results[1:])}"
    if not n:
        return f"{MATRIX}(()).reshape(0, 0)"
    rows = [[results[tri(i, j, n)] for j in range(n)] for i in range(n)]
    return f"{MATRIX}({_tuple([_tuple(r) for r in rows])})"


def _float_function(prog: _Program, kind: str, body: list[str], results: list[str],
                    checked: list[str]) -> str:
    """Float code with its guards: any argument that is not a float goes to the dispatcher; what
    math raises, or a result that is not finite, goes to the explainer."""
    params = ", ".join(prog.locals)
    again = f"{kind}, {params}" if params else kind
    out = [_head(prog, kind)]
    if params:
        cond = " or ".join(f"type({v}) is not float" for v in prog.locals)
        out += [f"    if {cond}:", f"        return {DISPATCH}({again})"]
    if body:
        out.append("    try:")
        out += ["        " + s for s in body]
        out += ["    except (ArithmeticError, ValueError):", f"        return {EXPLAIN}({again})"]
    # One test for all results: (a + b + ...) * 0.0 is 0.0 exactly when every term is finite
    # (a false alarm from a sum that overflows only costs a re-check).
    for start in range(0, len(checked), _CHECK_CHUNK):
        chunk = checked[start:start + _CHECK_CHUNK]
        test = f"({' + '.join(chunk)})" if len(chunk) > 1 else chunk[0]
        out += [f"    if {test} * 0.0 != 0.0:", f"        return {EXPLAIN}({again})"]
    out.append(f"    return {_float_result(kind, results, len(prog.variables))}")
    return "\n".join(out)


def _tuple(items: list[str]) -> str:
    if not items:
        return "()"
    return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"
