"""Compiled gradients: an expression becomes straight-line Python source for its forward pass and its
reverse (adjoint) sweep, in the tradition of Google's Tangent. Every adjoint line comes from the
table's own rule (`ops.PRIMITIVES[op].vjps`), so no derivative is written here a second time.

_ssa builds the instructions and the reverse sweep, _render prints them as Python (math or numpy),
_naming holds every generated name, and _program compiles, caches and runs them.
"""

from ._naming import safe_names
from ._program import CompiledExpr, DomainWarning, compile_expr

compile = compile_expr

__all__ = ["compile", "CompiledExpr", "DomainWarning", "safe_names"]
