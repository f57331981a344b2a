"""`gradcore.compile(expr, backend=...)`: the one program of an expression, run by numpy (with math for
single points) or spelled for JAX or PyTorch, where it is traced by jax.jit / jax.vmap / torch.compile
like any function of the engine's arrays. The adjoint is gradcore's own, emitted, not re-derived.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from ..errors import GradcoreError
from ..expr import Expr
from ..parse import as_formula
from ._engines import ENGINES, load
from ._naming import FIRST_ORDER, OUTSIDE
from ._program import CompiledExpr, _compiled
from ._ssa import tri

__all__ = ["compile_expr", "EngineExpr", "BACKENDS", "engine_source", "array_point"]

# "numpy" and "math" name the same CompiledExpr: floats run its math code, arrays its numpy code.
BACKENDS = ("numpy", "math", *ENGINES)


class EngineExpr:
    """An expression compiled for JAX or PyTorch: value, grad, value_and_grad and hessian take one
    array (or number) per variable, in `variables` order, and return the engine's arrays.

    Points outside the domain give NaN, decided by `where` inside the computation (the numpy path's
    policy, without its warning: a traced function cannot warn about data it has not seen).
    """

    __slots__ = ("expr", "variables", "names", "backend", "_program", "_fns", "_convert", "_stack",
                 "__weakref__")

    def __init__(self, compiled: CompiledExpr, backend: str) -> None:
        env, self._convert, self._stack = load(backend)
        self.expr = compiled.expr
        self.variables = compiled.variables
        self.names = compiled.names
        self.backend = backend
        self._program = compiled._program
        # Every entry, the Hessian too, is built now: nothing may lock or compile while jax.jit or
        # torch.compile traces an entry.
        with self._program.lock:
            self._fns: dict[str, Callable] = self._program.build((*FIRST_ORDER, "hessian"), backend)

    def _run(self, kind: str, args: tuple) -> Any:
        if len(args) != len(self.variables):
            raise GradcoreError(f"{kind} takes {len(self.variables)} arguments "
                                f"({', '.join(self.variables)}), got {len(args)}")
        return self._fns[kind](*[self._convert(a) for a in args])

    def value(self, *args: Any) -> Any:
        """f at the arguments (broadcast together)."""
        return self._run("value", args)[0]

    def grad(self, *args: Any) -> tuple:
        """(df/dx1, ..., df/dxn), each of the broadcast shape."""
        return self._run("grad", args)

    def value_and_grad(self, *args: Any) -> tuple[Any, tuple]:
        """(f, (df/dx1, ..., df/dxn)) from one forward and one adjoint pass."""
        out = self._run("value_and_grad", args)
        return out[0], out[1:]

    def hessian(self, *args: Any) -> Any:
        """H[..., i, j] = d2f/dxi dxj, of shape S + (n, n) for arguments of broadcast shape S."""
        upper = self._run("hessian", args)
        n = len(self.variables)
        if not n:
            return self._convert(np.zeros((0, 0)))
        rows = [self._stack([upper[tri(i, j, n)] for j in range(n)], -1) for i in range(n)]
        return self._stack(rows, -2)

    def __call__(self, *args: Any) -> Any:
        return self.value(*args)

    @property
    def source(self) -> str:
        """The code of value, grad and value_and_grad, as it runs."""
        return self._program.source(FIRST_ORDER, self.backend)

    @property
    def hessian_source(self) -> str:
        """The code of the Hessian."""
        return self._program.source(("hessian",), self.backend)

    def __reduce__(self) -> tuple:
        # By structure, like CompiledExpr: the receiving process compiles the expression again.
        return (compile_expr, (self.expr, self.backend))

    def __repr__(self) -> str:
        return f"EngineExpr({str(self.expr)!r}, backend={self.backend!r})"


@functools.lru_cache(maxsize=64)
def _engine(expr: Expr, backend: str) -> EngineExpr:
    return EngineExpr(_compiled(expr), backend)


def compile_expr(expr: Expr | str, backend: str = "numpy") -> CompiledExpr | EngineExpr:
    """Generate and compile forward and adjoint code for `expr` (an Expr or formula text).

    Reverse mode as source: the forward pass computes each distinct node once; the adjoint sweep
    gives each node v the sum over its users u of the table rule "d u / d v * adjoint of u".
    backend "numpy" (or "math", the same object) gives a CompiledExpr: floats run math code, numpy
    arrays numpy code, dask arrays numpy code chunk by chunk. "jax" or "torch" gives an EngineExpr
    of the same program spelled for that engine (pip install gradcore[jax] / gradcore[torch]).
    The same expression compiles once (a cache of the last 256, and of 64 per engine, keyed by the
    hash-consed node). Exported as gradcore.compile.
    """
    if backend not in BACKENDS:
        raise GradcoreError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    e = as_formula(expr, "compile")
    return _compiled(e) if backend in ("numpy", "math") else _engine(e, backend)


def array_point(expr: Expr, point: Any) -> list | None:
    """The values of `point` in `expr.variables` order when some is an array (numpy or dask) and
    every variable has one, for gradient / hessian over many points at once; else None."""
    if not hasattr(point, "get") or any(v not in point for v in expr.variables):
        return None
    values = [point[v] for v in expr.variables]
    return values if any(getattr(a, "ndim", 0) for a in values) else None


def engine_source(expr: Expr | str, backend: str, hessian: bool = False) -> str:
    """The generated code of `expr` for `backend`, without importing the engine (for reading)."""
    prog = _compiled(as_formula(expr, "compile"))._program
    mode = "array" if backend == "numpy" else "float" if backend == "math" else backend
    kinds = ("hessian",) if hessian else FIRST_ORDER
    with prog.lock:
        texts = prog.render(kinds, mode)
    head = _POLICY_NOTE if backend in ENGINES else ""
    return head + "\n\n".join(texts.values()) + "\n"


# What the engines' code calls at its end, for a reader of engine_source (see _engines._nan_outside).
_POLICY_NOTE = f"""\
# {OUTSIDE}(results, guards, inputs): each result, with NaN wherever a result or a guard
# (a value that can leave its domain) is not finite while every input is: engine.where, traced.
"""


def _cache_clear() -> None:
    _compiled.cache_clear()
    _engine.cache_clear()


compile_expr.cache_info = _compiled.cache_info  # type: ignore[attr-defined]
compile_expr.cache_clear = _cache_clear  # type: ignore[attr-defined]
