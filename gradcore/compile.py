"""Compiled gradients: an expression becomes straight-line Python source for its forward pass and its
reverse (adjoint) sweep, in the tradition of Google's Tangent. Every adjoint line is produced by the
table's own rule (`ops.PRIMITIVES[op].vjps`), so no derivative is written here a second time.
"""

from __future__ import annotations

import builtins
import dataclasses
import functools
import keyword
import math
import numbers
import operator
import re
import threading
import warnings
from typing import Any, Callable, Sequence

import numpy as np

from . import ops
from .errors import DomainError, GradcoreError, NotDifferentiableError
from .expr import Expr
from .ops import PRIMITIVES

__all__ = ["compile", "CompiledExpr", "DomainWarning"]

ENTRIES = ("value", "grad", "value_and_grad", "hessian")
_CACHE_SIZE = 256
# An inlined expression nests at most this deep before it gets its own line, so that generated code
# stays far from the limits of Python's parser and compiler however long the formula is.
_MAX_INLINE_DEPTH = 12


class DomainWarning(RuntimeWarning):
    """Array path: some points lie outside the domain; their results are NaN (the message names one)."""


# ---- the intermediate form ------------------------------------------------------------------------

_INPUT, _CONST = "input", "const"
# The domain the table gives a primitive defined for every real input (the field's default).
_EVERYWHERE = next(f.default for f in dataclasses.fields(ops.Primitive) if f.name == "domain")


class _Builder:
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
        if op in (_INPUT, _CONST):
            self.seq.append(0)
        else:
            self._count += 1
            self.seq.append(self._count)
        self.origin.append(self.now)
        self._keys[key] = i
        return i

    def input(self, k: int) -> int:
        return self._new((_INPUT, k), _INPUT, (), None, True)

    def constant(self, v: float) -> int:
        # Keyed by the sign bit too: 0.0 and -0.0 are different constants.
        return self._new((_CONST, v, math.copysign(1.0, v)), _CONST, (), v, False)

    def apply(self, op: str, *ids: int, simplify: bool = True) -> int:
        """The value op(*ids): folded when every argument is a constant and the result is finite,
        lightly simplified when `simplify` (x*1, x+0, 0*x, x**1, --x), else a new instruction."""
        cs = [self.const[i] for i in ids]
        if None not in cs:
            try:
                return self.constant(ops.scalar_call(PRIMITIVES[op], *cs))
            except GradcoreError:
                pass  # undefined everywhere: keep it, so that calling reports the DomainError
        elif simplify:
            same = self._simplified(op, ids, cs)
            if same is not None:
                return same
        return self._new((op, *ids), op, ids, None, any(self.dep[i] for i in ids))

    def _simplified(self, op: str, ids: tuple[int, ...], cs: list) -> int | None:
        # The same light identities Expr's operators apply, so the code reads like the textbook.
        if op == "add":
            return ids[1] if cs[0] == 0.0 else ids[0] if cs[1] == 0.0 else None
        if op == "sub":
            if cs[1] == 0.0:
                return ids[0]
            return self.apply("neg", ids[1]) if cs[0] == 0.0 else None
        if op == "mul":
            for k in (0, 1):
                if cs[k] == 1.0:
                    return ids[1 - k]
                if cs[k] == 0.0:
                    return self.constant(0.0)
                if cs[k] == -1.0:
                    return self.apply("neg", ids[1 - k])
            return None
        if op == "div":
            if cs[1] == 1.0:
                return ids[0]
            return self.constant(0.0) if cs[0] == 0.0 else None
        if op == "pow":
            if cs[1] == 1.0:
                return ids[0]
            return self.constant(1.0) if cs[1] == 0.0 else None
        if op == "neg" and self.op[ids[0]] == "neg":
            return self.args[ids[0]][0]
        return None


class _Val:
    """A code-building operand: arithmetic on it records instructions instead of computing numbers,
    so a table rule such as `lambda F, g, out, x: -F.sin(x) * g` yields the adjoint code."""

    __slots__ = ("b", "i")

    def __init__(self, b: _Builder, i: int) -> None:
        self.b = b
        self.i = i


def _operand(b: _Builder, x: Any) -> int:
    return x.i if isinstance(x, _Val) else b.constant(float(x))


def _install_operators() -> None:
    """Give _Val one operator pair per infix row of the table (plus unary minus for `neg`)."""
    dunder = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}
    for symbol, row in ops.BINARY.items():
        name = dunder[symbol]

        def forward(a: _Val, o: Any, _op: str = row.name) -> _Val:
            return _Val(a.b, a.b.apply(_op, a.i, _operand(a.b, o)))

        def reflected(a: _Val, o: Any, _op: str = row.name) -> _Val:
            return _Val(a.b, a.b.apply(_op, _operand(a.b, o), a.i))

        setattr(_Val, f"__{name}__", forward)
        setattr(_Val, f"__r{name}__", reflected)
    _Val.__neg__ = lambda a: _Val(a.b, a.b.apply("neg", a.i))  # type: ignore[attr-defined]


_install_operators()


def _code_call(name: str, args: tuple) -> _Val:
    b = next(a.b for a in args if isinstance(a, _Val))
    return _Val(b, b.apply(name, *[_operand(b, a) for a in args]))


# The code-building interpreter's namespace: F.cos(v) records a cos instruction.
CODE = ops.namespace(lambda p: lambda *a: _code_call(p.name, a))


def _reverse(b: _Builder, root: int, prefix: str, names: dict[int, str],
             notes: dict[int, list[int]], base: Callable[[int], str]) -> dict[int, int]:
    """Reverse mode over the instructions: d(root)/dv for every value v that root depends on.

    Walking from root down, v's adjoint is the sum over v's users u of the table's rule
    vjps[k](F, g=adjoint of u, out=u, *args of u), "local partial * g", recorded as code.
    A new adjoint value is named prefix + v's name; `notes` remembers the users it came from.
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
        if g >= start and g not in names and b.op[g] not in (_INPUT, _CONST):
            names[g] = prefix + base(v)
            notes[g] = sources.get(v, [])
        op = b.op[v]
        if op in (_INPUT, _CONST):
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


# ---- spelling: how each primitive is written on each path -------------------------------------------

_PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "**": 4}
_NEG_PREC, _ATOM = 3, 5
_PY_OPERATOR = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
                "**": operator.pow}
_NP_OPERATOR = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide, "**": np.power}


def _spellings(module: Any, module_name: str, impl: Callable, infix: dict) -> tuple[dict, dict]:
    """Read the table: a row whose implementation is the operator for its symbol is written infix,
    one that is an attribute of `module` as module.name(...), any other is bound by its table name."""
    spell: dict[str, str] = {}
    bindings: dict[str, Any] = {}
    for p in PRIMITIVES.values():
        f = impl(p)
        if p.symbol and infix.get(p.symbol) is f:
            spell[p.name] = p.symbol
        elif infix and (f is operator.neg or f is np.negative):
            spell[p.name] = "neg"
        else:
            attr = getattr(f, "__name__", "")
            if attr.isidentifier() and getattr(module, attr, None) is f:
                spell[p.name] = f"{module_name}.{attr}"
            else:
                spell[p.name] = p.name
                bindings[p.name] = f
    return spell, bindings


_FLOAT_SPELL, _FLOAT_BIND = _spellings(math, "math", lambda p: p.scalar, _PY_OPERATOR)
_ARRAY_SPELL, _ARRAY_BIND = _spellings(np, "np", lambda p: p.array, _NP_OPERATOR)
# Operators on two Python floats would be Python arithmetic ((-3.0)**0.5 is complex, 1.0/0.0 raises),
# so on the array path an instruction on constants alone calls the ufunc itself: np.power(-3.0, 0.5).
_ARRAY_CALL, _ = _spellings(np, "np", lambda p: p.array, {})
# float ** float is the table's pow (math.pow) except that a negative base with a fractional
# exponent gives a complex number; with a constant integral exponent the two agree, and ** is faster.
_POW_SYMBOL = ops.PRIMITIVES["pow"].symbol

_BUILTINS = {n: getattr(builtins, n) for n in ("type", "float", "ArithmeticError", "ValueError")}
_HELPERS = ("_dispatch", "_explain", "_matrix")
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
# The shapes of generated names: temporaries op_<n> (and var_<n>), adjoints d_... and d<x>_...
_GENERATED = re.compile(r"(?:%s)_\d+|d\w*_\w*" % "|".join(sorted({*PRIMITIVES, "var"})))
_RESERVED = (set(dir(builtins)) | {"math", "np"} | set(PRIMITIVES) | set(ENTRIES) | set(_HELPERS))


def safe_names(variables: Sequence[str]) -> tuple[str, ...]:
    """The local name each variable gets in generated code.

    An ASCII name (letters, digits, underscores, not leading) keeps its spelling unless it is a
    keyword, a builtin, a name the generated code uses, or shaped like a generated name (add_3,
    var_0, d_x); any other becomes var_<index>.
    """
    out = []
    for i, name in enumerate(variables):
        ok = (_IDENT.fullmatch(name) is not None and _GENERATED.fullmatch(name) is None
              and not keyword.iskeyword(name) and not keyword.issoftkeyword(name)
              and name not in _RESERVED)
        out.append(name if ok else f"var_{i}")
    return tuple(out)


# ---- printing the instructions as Python -----------------------------------------------------------

def _const_text(v: float) -> tuple[str, int]:
    t = repr(v)
    return t, (_NEG_PREC if t.startswith("-") else _ATOM)


class _Function:
    """One generated function: its source lines, and the instructions it runs in order."""

    __slots__ = ("text", "order")

    def __init__(self, text: str, order: list[int]) -> None:
        self.text = text
        self.order = order


def _live(b: _Builder, roots: Sequence[int]) -> bytearray:
    live = bytearray(len(b.op))
    for r in roots:
        live[r] = 1
    for i in range(max(roots, default=-1), -1, -1):
        if live[i]:
            for a in b.args[i]:
                live[a] = 1
    return live


def _render_function(prog: "_Program", kind: str, mode: str) -> _Function:
    """Write `kind` (value, grad, ...) for `mode` ("float": math, one point; "array": numpy).

    Float code is for reading: one line per node of the expression, one per adjoint, each adjoint
    commented with the forward lines whose rules produced it. Array code inlines every value used
    once, so numpy can reuse the temporary buffers of a nested expression instead of allocating.
    """
    b = prog.b
    outputs, guards = prog.entries[kind]
    live = _live(b, outputs + guards)
    needed = _live(b, outputs)
    uses = [0] * len(b.op)
    users: dict[int, list[int]] = {}
    for i in range(len(b.op)):
        if live[i]:
            for a in b.args[i]:
                uses[a] += 1
                users.setdefault(a, []).append(i)
    for r in outputs + guards:
        uses[r] += 2
    # numpy code: a negation whose every user can take the sign itself (a + -s is a - s, 2*-s is
    # -2*s) is written into those users, so the array is never negated: one pass fewer.
    for i, us in users.items():
        if (mode == "array" and b.op[i] == "neg" and uses[i] == len(us) > 1
                and all(_takes_sign(b, u, i) for u in us)):
            uses[i] = 1  # inlined as -s in each user, where the peepholes below remove it
            uses[b.args[i][0]] += len(us) - 1
    names = prog.names
    text: dict[int, tuple[str, int, int]] = {}
    line_of: dict[int, str] = {}
    printed: dict[int, str] = {}
    lines: list[str] = []
    order: list[int] = []
    adjoint_started = False
    taken = set(prog.locals)

    def arg(i: int) -> tuple[str, int, int]:
        c = b.const[i]
        if c is not None:
            t, p = _const_text(c)
            return t, p, 0
        return text[i]

    def inlined_neg(i: int) -> bool:
        return b.op[i] == "neg" and text[i][0].startswith("-")

    def name_of(i: int) -> str:
        return printed.get(i) or names.get(i) or f"{b.op[i]}_{b.seq[i]}"

    def describe(i: int) -> str:
        # A user of a value that this function does not print is shown one level deep.
        if i in line_of:
            return f"{name_of(i)} = {line_of[i]}"
        shown = [_const_text(b.const[a])[0] if b.const[a] is not None else
                 text[a][0] if b.op[a] == _INPUT else name_of(a) for a in b.args[i]]
        return f"{name_of(i)} = {_spell_once(_spelling(b, i, 'float'), shown)}"

    for k, local in enumerate(prog.locals):
        text[b.input(k)] = (local, _ATOM, 0)
    for i in range(len(b.op)):
        if not live[i] or b.op[i] in (_INPUT, _CONST):
            continue
        order.append(i)
        op = b.op[i]
        parts = [arg(a) for a in b.args[i]]
        depth = 1 + max(d for _, _, d in parts)
        s = _spelling(b, i, mode)
        if s == "neg":
            t, p, _ = parts[0]
            expr, prec = ("-(" + t + ")" if p <= _NEG_PREC else "-" + t), _NEG_PREC
        elif s in _PREC:
            left, right = b.args[i]
            if s in "+-" and inlined_neg(right):
                # a + -b is written a - b (and a - -b as a + b): the same number, one step fewer.
                s = "-" if s == "+" else "+"
                parts[1] = arg(b.args[right][0])
            elif s == "+" and inlined_neg(left):
                s, parts = "-", [parts[1], arg(b.args[left][0])]  # -a + b is b - a
            elif s == "*" and (inlined_neg(left) or inlined_neg(right)):
                k = 1 if inlined_neg(right) else 0
                c = b.const[b.args[i][1 - k]]
                if c is not None:  # c * -a is (-c) * a
                    t, p = _const_text(-c)
                    parts[1 - k] = (t, p, 0)
                    parts[k] = arg(b.args[b.args[i][k]][0])
            prec = _PREC[s]
            (lt, lp, _), (rt, rp, _) = parts
            wrap_l = lp <= prec if s == "**" else lp < prec
            wrap_r = rp < prec if s == "**" else rp <= prec
            expr = f"{'(' + lt + ')' if wrap_l else lt} {s} {'(' + rt + ')' if wrap_r else rt}"
        else:
            expr, prec = f"{s}({', '.join(t for t, _, _ in parts)})", _ATOM
        if mode == "float":
            own_line = i < prog.fwd_end or i in names or uses[i] > 1 or depth > _MAX_INLINE_DEPTH
        else:
            own_line = uses[i] > 1 or depth > _MAX_INLINE_DEPTH
        if not own_line:
            text[i] = (expr, prec, depth)
            continue
        name = name_of(i)
        if name in taken:  # two role names can meet (d + "x_1" + "_add_y" = d + "x_1_add" + "_y")
            name = f"{op}_{b.seq[i]}"
            if name in taken:
                raise AssertionError(f"generated name {name} used twice")  # op_<n> is unique
        taken.add(name)
        printed[i] = name
        line_of[i] = expr
        text[i] = (name, _ATOM, 0)
        if i >= prog.fwd_end and not adjoint_started:
            adjoint_started = True
            lines.append(prog.adjoint_heading(kind))
        comment = ""
        if i in prog.notes and prog.notes[i]:
            users = prog.notes[i]
            more = f"; and {len(users) - 3} more" if len(users) > 4 else ""
            comment = "from " + "; ".join(describe(u) for u in users[:3 if more else 4]) + more
        elif b.origin[i] >= 0:
            comment = "from " + describe(b.origin[i])
        elif not needed[i]:
            comment = "computed only to check the domain"
        line = f"{name} = {expr}"
        lines.append(f"{line}  # {comment}" if comment and mode == "float" else line)
    results = [arg(r)[0] for r in outputs]
    return _Function(_wrap(prog, kind, mode, lines, results, [r for r in outputs if b.op[r] not in
                                                              (_INPUT, _CONST)], arg), order)


def _takes_sign(b: _Builder, u: int, i: int) -> bool:
    """Can instruction u absorb the negation i among its arguments (see the peepholes above)?"""
    a = b.args[u]
    if b.op[u] == "add":
        return a.count(i) == 1
    if b.op[u] == "sub":
        return a[1] == i and a[0] != i
    if b.op[u] == "mul":
        return a.count(i) == 1 and b.const[a[1] if a[0] == i else a[0]] is not None
    return False


def _spelling(b: _Builder, i: int, mode: str) -> str:
    """How instruction i is written: an infix symbol, "neg", or the function to call."""
    op = b.op[i]
    if mode == "array":
        constant = all(b.const[a] is not None for a in b.args[i])
        return _ARRAY_CALL[op] if constant else _ARRAY_SPELL[op]
    if op == "pow":
        e = b.const[b.args[i][1]]
        if e is not None and e.is_integer() and b.const[b.args[i][0]] is None:
            return _POW_SYMBOL
    return _FLOAT_SPELL[op]


def _spell_once(s: str, shown: list[str]) -> str:
    """An instruction applied to names, one level deep, for comments."""
    if s == "neg":
        return "-" + shown[0]
    if s in _PREC:
        return f" {s} ".join(shown)
    return f"{s}({', '.join(shown)})"


def _wrap(prog: "_Program", kind: str, mode: str, body: list[str], results: list[str],
          checked: list[int], arg: Callable) -> str:
    """Put the body in a function: on the float path with the type dispatch and the error checks."""
    params = ", ".join(prog.locals)
    head = f"def {kind}({params}, /):" if params else f"def {kind}():"
    again = f"{kind}, {params}" if params else kind
    if mode == "array":
        out = _tuple(results + [arg(g)[0] for g in prog.entries[kind][1]])
        return "\n".join([head, *("    " + s for s in body), f"    return {out}"])
    n = len(prog.variables)
    if kind == "value":
        result = results[0]
    elif kind == "grad":
        result = _tuple(results)
    elif kind == "value_and_grad":
        result = f"{results[0]}, {_tuple(results[1:])}"
    else:
        rows = [[results[_tri(i, j, n)] for j in range(n)] for i in range(n)]
        result = f"_matrix({_tuple([_tuple(r) for r in rows])})" if n else "_matrix(()).reshape(0, 0)"
    out = [head]
    if params:
        cond = " or ".join(f"type({v}) is not float" for v in prog.locals)
        out += [f"    if {cond}:", f"        return _dispatch({again})"]
    if body:
        out.append("    try:")
        out += ["        " + s for s in body]
        out += ["    except (ArithmeticError, ValueError):", f"        return _explain({again})"]
    # One test for all results: (a + b + ...) * 0.0 is 0.0 exactly when every term is finite
    # (a false alarm from a sum that overflows only costs a re-check).
    terms = [arg(i)[0] for i in checked]
    for start in range(0, len(terms), 32):
        chunk = terms[start:start + 32]
        test = f"({' + '.join(chunk)})" if len(chunk) > 1 else chunk[0]
        out += [f"    if {test} * 0.0 != 0.0:", f"        return _explain({again})"]
    out.append(f"    return {result}")
    return "\n".join(out)


def _tuple(items: list[str]) -> str:
    return "(" + items[0] + ",)" if len(items) == 1 else "(" + ", ".join(items) + ")"


def _tri(i: int, j: int, n: int) -> int:
    """Position of Hessian entry (i, j) in the row-major upper triangle."""
    i, j = min(i, j), max(i, j)
    return i * n - i * (i - 1) // 2 + (j - i)


def _matrix(rows: tuple) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


# ---- the program: instructions plus the entry points that run them ----------------------------------

class _Program:
    """The instructions of one expression and its compiled entry points, built lazily where costly."""

    __slots__ = ("b", "variables", "locals", "fwd_end", "root", "grads", "names", "notes", "guards",
                 "entries", "functions", "_sources", "_inputs", "_lock")

    def __init__(self, expr: Expr) -> None:
        b = self.b = _Builder()
        self.variables = expr.variables
        self.locals = safe_names(self.variables)
        self.names: dict[int, str] = {}
        self.notes: dict[int, list[int]] = {}
        inputs = {name: b.input(k) for k, name in enumerate(self.variables)}
        self._inputs = {i: k for k, i in enumerate(inputs.values())}
        ids: dict[Expr, int] = {}
        self.guards: list[int] = []
        for node in expr.nodes():
            if node.op == "const":
                ids[node] = b.constant(node.value)
            elif node.op == "var":
                ids[node] = inputs[node.name]
            else:
                # The forward pass is the expression as written: no simplification, so it fails
                # exactly where Expr.evaluate does.
                i = ids[node] = b.apply(node.op, *[ids[a] for a in node.args], simplify=False)
                if self._can_fail(i):
                    self.guards.append(i)
        self.root = ids[expr]
        self.fwd_end = len(b.op)
        for i in range(self.fwd_end):
            if b.op[i] not in (_INPUT, _CONST):
                self.names[i] = f"{b.op[i]}_{b.seq[i]}"
        adjoint = _reverse(b, self.root, "d_", self.names, self.notes, self._base)
        zero = b.constant(0.0)
        self.grads = [adjoint.get(i, zero) for i in inputs.values()]
        # Every entry also runs the guards: on the float path they raise, on the array path their
        # non-finite values mark the points outside the domain.
        self.entries: dict[str, tuple[list[int], list[int]]] = {
            "value": ([self.root], self.guards),
            "grad": (list(self.grads), self.guards),
            "value_and_grad": ([self.root, *self.grads], self.guards),
        }
        self.functions: dict[tuple[str, str], Callable] = {}
        self._sources: dict[str, str] = {}
        self._lock = threading.Lock()

    def _base(self, i: int) -> str:
        """The name the adjoint of value i is built from: x for d_x, add_7 for d_add_7."""
        if i in self._inputs:
            return self.locals[self._inputs[i]]
        return self.names.get(i) or f"{self.b.op[i]}_{self.b.seq[i]}"

    def _can_fail(self, i: int) -> bool:
        """Could this forward instruction leave its domain? (Kept in `grad` even when the gradient
        does not need its value, so that grad fails exactly where the function is undefined.)"""
        b = self.b
        op = b.op[i]
        if op in (_INPUT, _CONST) or PRIMITIVES[op].domain == _EVERYWHERE:
            return False
        c = [b.const[a] for a in b.args[i]]
        if op == "pow" and c[1] is not None and c[1].is_integer() and c[1] >= 0:
            return False  # x**2, x**3: defined for every x
        if op == "div" and c[1] is not None and c[1] != 0.0:
            return False
        return True

    def adjoint_heading(self, kind: str) -> str:
        if kind == "hessian":
            v = self.locals[0]
            return f"# second sweeps, one per variable: d{v}_w is d(d_{v})/dw, where d_{v} is df/d{v}"
        return "# adjoint sweep, last line first: d_v is df/dv"

    # ---- building the hessian (lazily: n more reverse sweeps) ----
    def _build_hessian(self) -> None:
        b = self.b
        zero = b.constant(0.0)
        inputs = [b.input(k) for k in range(len(self.locals))]
        rows = []
        for loc, g in zip(self.locals, self.grads):
            if b.op[g] == _CONST:
                rows.append([zero] * len(inputs))
                continue
            adjoint = _reverse(b, g, f"d{loc}_", self.names, self.notes, self._base)
            rows.append([adjoint.get(i, zero) for i in inputs])
        n = len(inputs)
        upper = [rows[i][j] for i in range(n) for j in range(i, n)]
        self.entries["hessian"] = (upper, self.guards)

    # ---- compiling ----
    def function(self, kind: str, mode: str) -> Callable:
        fn = self.functions.get((kind, mode))
        if fn is None:
            with self._lock:
                fn = self.functions.get((kind, mode))
                if fn is None:
                    fn = self._compile(kind, mode)
        return fn

    def source(self, kinds: Sequence[str], mode: str) -> str:
        for kind in kinds:
            self.function(kind, mode)
        return "\n\n".join(self._sources[f"{mode}:{k}"] for k in kinds) + "\n"

    def _compile(self, kind: str, mode: str) -> Callable:
        if kind == "hessian":
            if "hessian" not in self.entries:
                self._build_hessian()
            kinds = ["hessian"]
        else:  # value, grad and value_and_grad go through Python's compiler together
            kinds = [k for k in ENTRIES[:3] if (k, mode) not in self.functions]
        texts = {k: _render_function(self, k, mode) for k in kinds}
        env: dict[str, Any] = {"__builtins__": _BUILTINS, "__name__": "gradcore.compiled"}
        if mode == "float":
            env.update(math=math, _dispatch=_dispatch, _explain=_explain, _matrix=_matrix, **_FLOAT_BIND)
        else:
            env.update(np=np, **_ARRAY_BIND)
        source = "\n\n".join(t.text for t in texts.values()) + "\n"
        # Only text generated above reaches Python's compiler: names are sanitised locals,
        # numbers are repr(float), functions come from the table.
        code = builtins.compile(source, f"<gradcore.compile {mode}>", "exec")
        exec(code, env)
        for k, t in texts.items():
            fn = env[k]
            fn.__gradcore__ = (self, k, t.order)
            self._sources[f"{mode}:{k}"] = t.text
            self.functions[(k, mode)] = fn
        return self.functions[(kind, mode)]

    # ---- running ----
    def checked(self, kind: str, args: tuple) -> Any:
        """Interpret `kind` at a float point with the domain-checking FLOAT namespace of the table.

        Runs the same instructions as the generated code, so the first one that leaves its domain
        (or overflows from finite operands) raises the DomainError naming it, now with the point.
        """
        b = self.b
        order = self.function(kind, "float").__gradcore__[2]
        vals: dict[int, float] = {b.input(k): float(a) for k, a in enumerate(args)}
        point = dict(zip(self.variables, map(float, args)))
        for i in order:
            try:
                vals[i] = ops.scalar_call(PRIMITIVES[b.op[i]], *[
                    vals[a] if b.const[a] is None else b.const[a] for a in b.args[i]])
            except DomainError as exc:
                o = b.origin[i]
                if o < 0 or o == i:
                    raise exc.at(point) from None
                # An adjoint line failed: name the primitive whose derivative rule it came from,
                # e.g. sqrt(0) has no derivative (its rule divides by 2*sqrt(x)).
                prim = PRIMITIVES[b.op[o]]
                operands = tuple(vals[a] if b.const[a] is None else b.const[a] for a in b.args[o])
                raise NotDifferentiableError(prim.name, operands, f"its derivative rule fails there ({exc})",
                                             point, prim.symbol) from None
        outs = [vals[r] if b.const[r] is None else b.const[r] for r in self.entries[kind][0]]
        return _assemble(kind, outs, len(self.variables))

    def call_arrays(self, kind: str, args: tuple) -> Any:
        """The numpy path: broadcast the arguments, run the array code, shape the results."""
        arrays = []
        for name, a in zip(self.variables, args):
            if isinstance(a, numbers.Real) and not isinstance(a, np.ndarray):
                arrays.append(float(a))  # a Python scalar stays "weak": float32 arrays stay float32
                continue
            arr = np.asarray(a)
            if arr.dtype.kind in "biu":
                arr = arr.astype(np.float64)
            elif arr.dtype.kind != "f":
                raise GradcoreError(f"the value of {name} must be a number or an array of numbers, "
                                    f"got {type(a).__name__} of {arr.dtype}")
            arrays.append(arr)
        shapes = [np.shape(a) for a in arrays]
        try:
            shape = np.broadcast_shapes(*shapes)
        except ValueError:
            raise GradcoreError("the arrays do not broadcast together: shapes " +
                                ", ".join(f"{n}{s}" for n, s in zip(self.variables, shapes))) from None
        real = [a for a in arrays if isinstance(a, np.ndarray)]
        dtype = np.result_type(*real) if real else np.dtype(np.float64)
        fn = self.function(kind, "array")
        n_out = len(self.entries[kind][0])
        with np.errstate(divide="raise", over="raise", invalid="raise"):
            try:
                outs = fn(*arrays)
            except (ArithmeticError, ValueError):
                outs = None
        if outs is None:
            outs = self._array_outside_domain(kind, fn, arrays, shape, dtype)
        else:
            outs = _full(outs[:n_out], shape, dtype, real)
        return _assemble_arrays(kind, outs, len(self.variables), shape, dtype)

    def _array_outside_domain(self, kind: str, fn: Callable, arrays: list, shape: tuple,
                              dtype: np.dtype) -> list[np.ndarray]:
        """Policy for arrays: every result is NaN at each point where some value left its domain
        (or overflowed) from finite inputs, and one DomainWarning names how many and the first."""
        try:
            with np.errstate(all="ignore"):
                raw = fn(*arrays)
        except (ArithmeticError, ValueError):
            # Only Python-level arithmetic raises here: a constant part is undefined everywhere.
            self.checked(kind, tuple(float(np.ravel(a)[0]) for a in arrays))
            raise
        n_out = len(self.entries[kind][0])
        real = [a for a in arrays if isinstance(a, np.ndarray)]
        outs = _full(raw[:n_out], shape, dtype, real, copy=True)
        bad = np.zeros(shape, dtype=bool)
        for o in raw:
            bad |= ~np.isfinite(o)
        for a in real:
            bad &= np.isfinite(a)
        count = int(np.count_nonzero(bad))
        if count:
            first = np.unravel_index(int(np.flatnonzero(bad)[0]), shape)
            point = tuple(float(np.broadcast_to(a, shape)[first]) for a in arrays)
            try:
                self.checked(kind, point)
                why = f"the result is not finite in {dtype}"
            except DomainError as exc:
                why = str(exc)
            where = first[0] if len(first) == 1 else tuple(int(k) for k in first)
            for o in outs:
                o[bad] = np.nan
            # stacklevel 5: this method, call_arrays, _dispatch, the generated entry, the caller.
            warnings.warn(DomainWarning(
                f"NaN at {count} of {int(np.prod(shape))} points outside the domain; "
                f"the first is index {where}: {why}"), stacklevel=5)
        return outs


def _full(outs: Sequence, shape: tuple, dtype: np.dtype, inputs: list, copy: bool = False) -> list:
    """Each result as its own array of the broadcast shape (never the caller's input, never shared)."""
    done: list[np.ndarray] = []
    for o in outs:
        if (not copy and isinstance(o, np.ndarray) and o.shape == shape and o.dtype == dtype
                and all(o is not a for a in inputs) and all(o is not d for d in done)):
            done.append(o)
        else:
            full = np.empty(shape, dtype=dtype)
            full[...] = o
            done.append(full)
    return done


def _assemble(kind: str, outs: list, n: int) -> Any:
    if kind == "value":
        return outs[0]
    if kind == "grad":
        return tuple(outs)
    if kind == "value_and_grad":
        return outs[0], tuple(outs[1:])
    return _matrix(tuple(tuple(outs[_tri(i, j, n)] for j in range(n)) for i in range(n))).reshape(n, n)


def _assemble_arrays(kind: str, outs: list, n: int, shape: tuple, dtype: np.dtype) -> Any:
    if kind != "hessian":
        return _assemble(kind, outs, n)
    h = np.empty(shape + (n, n), dtype=dtype)
    for i in range(n):
        for j in range(n):
            h[..., i, j] = outs[_tri(i, j, n)]
    return h


# Scalar types seen most often (checked before the slower numbers.Real test).
_SCALARS = frozenset({int, bool, np.float64, np.float32, np.int64, np.int32})


def _dispatch(fn: Callable, *args: Any) -> Any:
    """Called by generated code when an argument is not a float: numbers are converted and the
    float path runs; anything else takes the numpy path. The choice is made once per call."""
    prog, kind, _ = fn.__gradcore__
    floats = []
    for name, a in zip(prog.variables, args):
        if type(a) in _SCALARS or (not isinstance(a, np.ndarray) and isinstance(a, numbers.Real)):
            try:
                floats.append(float(a))
            except OverflowError:
                raise GradcoreError(f"the value of {name} is too large for float64") from None
        else:
            return prog.call_arrays(kind, args)
    return fn(*floats)


def _explain(fn: Callable, *args: float) -> Any:
    """Called by generated code when the float path raised or gave a non-finite result."""
    prog, kind, _ = fn.__gradcore__
    return prog.checked(kind, args)


# ---- the public face --------------------------------------------------------------------------------

class CompiledExpr:
    """An expression compiled to Python: value, gradient and Hessian at floats or numpy arrays.

    Every entry point takes one positional argument per variable, in `variables` order. Floats run
    the `math` code; numpy arrays (broadcasting against each other) run the numpy code.
    """

    __slots__ = ("expr", "variables", "names", "value", "grad", "value_and_grad", "_program",
                 "__weakref__")

    def __init__(self, expr: Expr) -> None:
        prog = _Program(expr)
        self.expr = expr
        self.variables: tuple[str, ...] = expr.variables
        # How each variable is spelled in the generated code (keywords and odd names are renamed).
        self.names: dict[str, str] = dict(zip(prog.variables, prog.locals))
        self._program = prog
        self.value = prog.function("value", "float")
        self.grad = prog.function("grad", "float")
        self.value_and_grad = prog.function("value_and_grad", "float")

    @property
    def hessian(self) -> Callable[..., np.ndarray]:
        """H[i][j] = d2f/dxi dxj: n more reverse sweeps over the generated gradient (built on first use).

        Floats give an (n, n) array; arrays of broadcast shape S give an S + (n, n) array.
        """
        return self._program.function("hessian", "float")

    @property
    def source(self) -> str:
        """The float-path code of value, grad and value_and_grad, as it runs."""
        return self._program.source(ENTRIES[:3], "float")

    @property
    def array_source(self) -> str:
        """The numpy-path code of value, grad and value_and_grad (compiled on first use)."""
        return self._program.source(ENTRIES[:3], "array")

    @property
    def hessian_source(self) -> str:
        """The float-path code of the Hessian."""
        return self._program.source(("hessian",), "float")

    @property
    def hessian_array_source(self) -> str:
        """The numpy-path code of the Hessian."""
        return self._program.source(("hessian",), "array")

    def __call__(self, *args: Any) -> Any:
        return self.value(*args)

    def __repr__(self) -> str:
        return f"CompiledExpr({str(self.expr)!r})"


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compiled(expr: Expr) -> CompiledExpr:
    return CompiledExpr(expr)


def compile(expr: "Expr | str") -> CompiledExpr:
    """Generate and compile forward and adjoint Python code for `expr` (an Expr or formula text).

    Reverse mode as source: the forward pass computes each distinct node once; the adjoint sweep
    gives each node v the sum over its users u of the table rule "d u / d v * adjoint of u".
    The same expression compiles once (a cache of the last 256, keyed by the hash-consed node).
    """
    from .parse import as_formula

    return _compiled(as_formula(expr, "compile"))


compile.cache_info = _compiled.cache_info  # type: ignore[attr-defined]
compile.cache_clear = _compiled.cache_clear  # type: ignore[attr-defined]
