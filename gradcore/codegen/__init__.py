"""Compiled gradients: an expression becomes straight-line Python source for its forward pass and its
reverse (adjoint) sweep, in the tradition of Google's Tangent. Every adjoint line comes from the
table's own rule (`ops.PRIMITIVES[op].vjps`), so no derivative is written here a second time.

_ssa builds the instructions and the reverse sweep, _render prints them as Python (math, numpy, or an
engine of _engines: jax, torch), _naming holds every generated name, _program compiles, caches and
runs them (_dask chunk by chunk), and _backend offers them by backend.
"""

from typing import Any

from ._backend import BACKENDS, EngineExpr, array_point, compile_expr, engine_source
from ._naming import safe_names
from ._program import CompiledExpr, DomainWarning

compile = compile_expr


def __getattr__(name: str) -> Any:
    # dask_batches is loaded on first use (PEP 562): only fitting on dask-backed data needs _dask,
    # and the command line's start-up would load it for nothing.
    if name == "dask_batches":
        from ._dask import batches
        return batches
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["compile", "CompiledExpr", "EngineExpr", "DomainWarning", "safe_names", "BACKENDS", "engine_source",
           "array_point", "dask_batches"]
