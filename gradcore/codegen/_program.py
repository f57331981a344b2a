"""One expression as a program: its forward and adjoint instructions, the generated entry points that
run them on floats or numpy arrays (or on dask arrays, chunk by chunk), the runtime those entry points
call back into (type dispatch, domain errors), and the cached public `CompiledExpr`.
"""

from __future__ import annotations

import builtins
import functools
import math
import numbers
import sys
import warnings
from _thread import allocate_lock  # threading.Lock itself; the threading module costs a millisecond at start-up
import weakref
from typing import Any, Callable, Sequence

import numpy as np

from .. import ops
from ..errors import DomainError, GradcoreError, NotDifferentiableError
from ..expr import Expr
from ..ops import PRIMITIVES
from ._engines import ENGINES, load
from ._naming import (ADJOINT, BUILTINS, DISPATCH, EXPLAIN, FILENAME, FIRST_ORDER, MATH, MATRIX,
                      MODULE, NUMPY, SECOND_ADJOINT, safe_names, temporary)
from ._render import ARRAY_BINDINGS, FLOAT_BINDINGS, render
from ._ssa import CONST, INPUT, Builder, reverse, schedule, tri

__all__ = ["CompiledExpr", "DomainWarning"]

_CACHE_SIZE = 256
# The domain the table gives a primitive defined for every real input (the field's default).
_EVERYWHERE = ops.EVERYWHERE
_BUILTINS = {n: getattr(builtins, n) for n in BUILTINS}


class DomainWarning(RuntimeWarning):
    """Array path: some points lie outside the domain; their results are NaN (the message names one)."""


class _Program:
    """The instructions of one expression and its numpy entry points, built lazily where costly.

    The float entry points belong to the CompiledExpr: they refer to the program (to dispatch and
    to explain errors) and the program does not refer to them, so dropping one frees the other.
    """

    __slots__ = ("expr", "b", "variables", "locals", "fwd_end", "root", "grads", "names", "notes", "guards",
                 "entries", "lock", "_arrays", "_sources", "_orders", "_inputs", "__weakref__")

    def __init__(self, expr: Expr) -> None:
        b = self.b = Builder()
        self.expr = expr
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
            if b.op[i] not in (INPUT, CONST):
                self.names[i] = temporary(b.op[i], b.seq[i])
        adjoint = reverse(b, self.root, lambda v: ADJOINT + self._base(v), self.names, self.notes)
        zero = b.constant(0.0)
        self.grads = [adjoint.get(i, zero) for i in inputs.values()]
        # Every entry also runs the guards: on the float path they raise, on the array path their
        # non-finite values mark the points outside the domain.
        self.entries: dict[str, tuple[list[int], list[int]]] = {
            "value": ([self.root], self.guards),
            "grad": (list(self.grads), self.guards),
            "value_and_grad": ([self.root, *self.grads], self.guards),
        }
        self.lock = allocate_lock()
        self._arrays: dict[str, Callable] = {}
        self._sources: dict[tuple[str, str], str] = {}
        self._orders: dict[str, list[int]] = {}

    def _base(self, i: int) -> str:
        """The name the adjoint of value i is built from: x for d_x, add_7 for d_add_7."""
        if i in self._inputs:
            return self.locals[self._inputs[i]]
        return self.names.get(i) or temporary(self.b.op[i], self.b.seq[i])

    def _can_fail(self, i: int) -> bool:
        """Could this forward instruction leave its domain? (Kept in `grad` even when the gradient
        does not need its value, so that grad fails exactly where the function is undefined.)"""
        b = self.b
        op = b.op[i]
        if op in (INPUT, CONST) or PRIMITIVES[op].domain == _EVERYWHERE:
            return False
        c = [b.const[a] for a in b.args[i]]
        if op == "pow" and c[1] is not None and c[1].is_integer() and c[1] >= 0:
            return False  # x**2, x**3: defined for every x
        if op == "div" and c[1] is not None and c[1] != 0.0:
            return False
        return True

    def _build_hessian(self) -> None:
        """n more reverse sweeps, one per variable, over the gradient's instructions."""
        b = self.b
        zero = b.constant(0.0)
        inputs = [b.input(k) for k in range(len(self.locals))]
        rows = []
        for x, g in zip(self.locals, self.grads):
            if b.op[g] == CONST:
                rows.append([zero] * len(inputs))
                continue
            prefix = SECOND_ADJOINT.format(x=x)
            adjoint = reverse(b, g, lambda v: prefix + self._base(v), self.names, self.notes)
            rows.append([adjoint.get(i, zero) for i in inputs])
        n = len(inputs)
        upper = [rows[i][j] for i in range(n) for j in range(i, n)]
        self.entries["hessian"] = (upper, self.guards)

    # ---- generating code (callers hold self.lock) ----
    def render(self, kinds: Sequence[str], mode: str) -> dict[str, str]:
        """The source of `kinds` for `mode` (float, array, or an engine of _engines), not compiled."""
        if "hessian" in kinds and "hessian" not in self.entries:
            self._build_hessian()
        return {k: render(self, k, mode) for k in kinds}

    def build(self, kinds: Sequence[str], mode: str) -> dict[str, Callable]:
        """Render `kinds` for `mode` and run the source through Python's compiler, all in one go."""
        texts = self.render(kinds, mode)
        env: dict[str, Any] = {"__builtins__": _BUILTINS, "__name__": MODULE}
        if mode == "float":
            env.update(FLOAT_BINDINGS)
            env.update({MATH: math, DISPATCH: _dispatch, EXPLAIN: _explain, MATRIX: _matrix})
        elif mode in ENGINES:
            # No module name: torch.compile would import the module a function's globals name.
            del env["__name__"]
            env.update(load(mode)[0])
        else:
            env.update(ARRAY_BINDINGS)
            env[NUMPY] = np
        source = "\n\n".join(texts.values()) + "\n"
        # Only text generated above reaches Python's compiler: names are sanitised locals,
        # numbers are repr(float), functions come from the table.
        exec(compile(source, FILENAME.format(mode=mode), "exec"), env)
        functions = {}
        for k, text in texts.items():
            self._sources[(mode, k)] = text
            fn = functions[k] = env.pop(k)
            if mode == "float":
                # The float code passes itself to the helpers by name; a weak reference there keeps
                # the function and its globals out of a reference cycle.
                fn.__gradcore__ = (self, k)
                env[k] = weakref.ref(fn)
        return functions

    def array_function(self, kind: str) -> Callable:
        """The numpy code of `kind`, generated on first use (value, grad and value_and_grad together)."""
        fn = self._arrays.get(kind)
        if fn is None:
            with self.lock:
                fn = self._arrays.get(kind)
                if fn is None:
                    kinds = [kind] if kind == "hessian" else [k for k in FIRST_ORDER if k not in self._arrays]
                    self._arrays.update(self.build(kinds, "array"))
                    fn = self._arrays[kind]
        return fn

    def source(self, kinds: Sequence[str], mode: str) -> str:
        """The generated text of `kinds`, as compiled (each must have been built)."""
        return "\n\n".join(self._sources[(mode, k)] for k in kinds) + "\n"

    # ---- running ----
    def checked(self, kind: str, args: tuple) -> Any:
        """Interpret `kind` at a float point with the domain-checking FLOAT namespace of the table.

        Runs the same instructions as the generated code, so the first one that leaves its domain
        (or overflows from finite operands) raises the DomainError naming it, now with the point.
        """
        b = self.b
        outputs, guards = self.entries[kind]
        order = self._orders.get(kind)
        if order is None:
            order = self._orders[kind] = schedule(b, outputs + guards)
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
                if any(b.const[a] is None and a not in vals for a in b.args[o]):
                    # This entry (a Hessian, say) never needed the primitive's own operands: the
                    # failing line is the message, at the point.
                    raise exc.at(point) from None
                operands = tuple(vals[a] if b.const[a] is None else b.const[a] for a in b.args[o])
                raise NotDifferentiableError(prim.name, operands, f"its derivative rule fails there ({exc})",
                                             point, prim.symbol) from None
        outs = [vals[r] if b.const[r] is None else b.const[r] for r in outputs]
        return _assemble(kind, outs, len(self.variables))

    def call_arrays(self, kind: str, args: tuple, block: tuple | None = None) -> Any:
        """The numpy path: broadcast the arguments, run the array code, shape the results. Dask
        arrays run it chunk by chunk, lazily; `block` is (the chunk's offset, the whole shape) then."""
        # A caller with dask arrays has imported dask.array; until then no argument can be one, and
        # _dask stays unloaded (the command line's start-up does not need it).
        if "dask.array" in sys.modules:
            from . import _dask
            if _dask.has_dask(args):
                return _dask.blockwise(functools.partial(_run_block, self.expr, kind), kind, args,
                                       len(self.entries[kind][0]) if kind != "hessian" else len(self.variables))
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
        fn = self.array_function(kind)
        n_out = len(self.entries[kind][0])
        with np.errstate(divide="raise", over="raise", invalid="raise"):
            try:
                outs = fn(*arrays)
            except (ArithmeticError, ValueError):
                outs = None
        if outs is None:
            outs = self._array_outside_domain(kind, fn, arrays, shape, dtype, block)
        else:
            outs = _full(outs[:n_out], shape, dtype, real)
        return _assemble_arrays(kind, outs, len(self.variables), shape, dtype)

    def _array_outside_domain(self, kind: str, fn: Callable, arrays: list, shape: tuple,
                              dtype: np.dtype, block: tuple | None = None) -> list[np.ndarray]:
        """Policy for arrays: every result is NaN at each point where some value left its domain
        (or overflowed) from finite inputs, and one DomainWarning names how many and the first (for
        a chunk of a dask array, its index in the whole array)."""
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
            of = f"{int(np.prod(shape))} points"
            if block is not None:
                offset, whole = block
                first = tuple(int(k) + o for k, o in zip(first, offset))
                of = f"{of} of a chunk ({int(np.prod(whole))} in all)"
            where = first[0] if len(first) == 1 else tuple(int(k) for k in first)
            for o in outs:
                o[bad] = np.nan
            # stacklevel 5: this method, call_arrays, _dispatch, the generated entry, the caller.
            warnings.warn(DomainWarning(
                f"NaN at {count} of {of} outside the domain; the first is index {where}: {why}"),
                stacklevel=5)
        return outs


def _run_block(expr: Expr, kind: str, block: tuple, *chunks: Any) -> Any:
    """One chunk of a dask computation: the numpy path of `expr`'s compiled `kind` (rebuilt from the
    cache in a worker process), at `block` = (the chunk's offset, the whole shape)."""
    return _compiled(expr)._program.call_arrays(kind, chunks, block)


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
    return _matrix(tuple(tuple(outs[tri(i, j, n)] for j in range(n)) for i in range(n))).reshape(n, n)


def _assemble_arrays(kind: str, outs: list, n: int, shape: tuple, dtype: np.dtype) -> Any:
    if kind != "hessian":
        return _assemble(kind, outs, n)
    h = np.empty(shape + (n, n), dtype=dtype)
    for i in range(n):
        for j in range(n):
            h[..., i, j] = outs[tri(i, j, n)]
    return h


# ---- the runtime the float code calls back into ----------------------------------------------------

def _matrix(rows: tuple) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


# Scalar types seen most often (checked before the slower numbers.Real test).
_SCALARS = frozenset({int, bool, np.float64, np.float32, np.int64, np.int32})


def _dispatch(entry: weakref.ref, *args: Any) -> Any:
    """Called by generated code when an argument is not a float: numbers are converted and the
    float path runs; anything else takes the numpy path. The choice is made once per call."""
    fn = entry()
    prog, kind = fn.__gradcore__
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


def _explain(entry: weakref.ref, *args: float) -> Any:
    """Called by generated code when the float path raised or gave a non-finite result."""
    prog, kind = entry().__gradcore__
    return prog.checked(kind, args)


# ---- the public face --------------------------------------------------------------------------------

class CompiledExpr:
    """An expression compiled to Python: value, gradient and Hessian at floats or numpy arrays.

    Every entry point takes one positional argument per variable, in `variables` order. Floats run
    the `math` code; numpy arrays (broadcasting against each other) run the numpy code.
    """

    __slots__ = ("expr", "variables", "names", "value", "grad", "value_and_grad", "_program",
                 "_hessian", "__weakref__")

    def __init__(self, expr: Expr) -> None:
        prog = _Program(expr)
        self.expr = expr
        self.variables: tuple[str, ...] = expr.variables
        # How each variable is spelled in the generated code (keywords and odd names are renamed).
        self.names: dict[str, str] = dict(zip(prog.variables, prog.locals))
        self._program = prog
        with prog.lock:
            first = prog.build(FIRST_ORDER, "float")
        self.value, self.grad, self.value_and_grad = (first[k] for k in FIRST_ORDER)
        self._hessian: Callable[..., np.ndarray] | None = None

    @property
    def hessian(self) -> Callable[..., np.ndarray]:
        """H[i][j] = d2f/dxi dxj: n more reverse sweeps over the generated gradient (built on first use).

        Floats give an (n, n) array; arrays of broadcast shape S give an S + (n, n) array.
        """
        fn = self._hessian
        if fn is None:
            with self._program.lock:
                fn = self._hessian
                if fn is None:
                    fn = self._hessian = self._program.build(("hessian",), "float")["hessian"]
        return fn

    @property
    def source(self) -> str:
        """The float-path code of value, grad and value_and_grad, as it runs."""
        return self._program.source(FIRST_ORDER, "float")

    @property
    def array_source(self) -> str:
        """The numpy-path code of value, grad and value_and_grad (compiled on first use)."""
        self._program.array_function(FIRST_ORDER[0])
        return self._program.source(FIRST_ORDER, "array")

    @property
    def hessian_source(self) -> str:
        """The float-path code of the Hessian."""
        self.hessian  # noqa: B018 - generated on first use
        return self._program.source(("hessian",), "float")

    @property
    def hessian_array_source(self) -> str:
        """The numpy-path code of the Hessian."""
        self._program.array_function("hessian")
        return self._program.source(("hessian",), "array")

    def __call__(self, *args: Any) -> Any:
        return self.value(*args)

    def __reduce__(self) -> tuple:
        # Pickled by structure: the expression travels, and unpickling compiles it again (once per
        # process, through the cache), since generated functions cannot be pickled.
        return (_compiled, (self.expr,))

    def __repr__(self) -> str:
        return f"CompiledExpr({str(self.expr)!r})"

    def _repr_html_(self) -> str:
        """The generated code of value, grad and value_and_grad, for a notebook (escaped)."""
        from html import escape  # only a notebook asks for HTML
        caption = f"compiled f({', '.join(self.variables)}) = {self.expr}"
        return f"<p>{escape(caption)}</p>\n<pre>{escape(self.source)}</pre>"


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _compiled(expr: Expr) -> CompiledExpr:
    return CompiledExpr(expr)
