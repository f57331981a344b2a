"""Every name the generated code uses, in one place: temporaries, adjoints, renamed variables, the
helpers and modules it calls, and `safe_names`, which keeps a user's variable clear of all of them.
"""

from __future__ import annotations

import builtins
import keyword
from typing import Sequence

from ..ops import PRIMITIVES

__all__ = [
    "ENTRIES", "FIRST_ORDER", "TEMPORARY", "ADJOINT", "SECOND_ADJOINT", "RENAMED",
    "DISPATCH", "EXPLAIN", "MATRIX", "HELPERS", "MATH", "NUMPY", "JAX", "JAX_NUMPY", "TORCH", "OUTSIDE", "SIGN",
    "BUILTINS", "MODULE", "FILENAME",
    "temporary", "safe_names",
]

# The generated functions. The first three are compiled together; the Hessian on first use.
ENTRIES = ("value", "grad", "value_and_grad", "hessian")
FIRST_ORDER = ENTRIES[:3]

# Instruction n of the program, named after its primitive: pow_1, add_4, cos_8.
TEMPORARY = "{op}_{n}"
# df/dv for a value v of the forward pass is ADJOINT + the name of v: d_x, d_add_7.
ADJOINT = "d_"
# d(df/dx)/dv, from the Hessian's second sweep for variable x, is SECOND_ADJOINT.format(x=x) + the
# name of v: dx_y, dx_add_6.
SECOND_ADJOINT = "d{x}_"
# A variable whose own name cannot be a Python local (a keyword, a builtin, θ, ...), by its position.
RENAMED = "var_{index}"

# Runtime helpers the float code calls by these names (bound in its globals).
DISPATCH, EXPLAIN, MATRIX = "_dispatch", "_explain", "_matrix"
HELPERS = (DISPATCH, EXPLAIN, MATRIX)
MATH, NUMPY = "math", "np"
# The modules of the other engines' code, and its helper applying the domain policy (see _engines).
JAX, JAX_NUMPY, TORCH = "jax", "jnp", "torch"
OUTSIDE, SIGN = "_nan_outside", "_sign"
# The only builtins generated code may see.
BUILTINS = ("type", "float", "ArithmeticError", "ValueError")
# The module name and file name that tracebacks through generated code show.
MODULE = "gradcore.compiled"
FILENAME = "<gradcore.codegen {mode}>"

# The <op> of TEMPORARY names, and RENAMED's "var".
_NUMBERED = frozenset({*PRIMITIVES, "var"})
_RESERVED = frozenset({*dir(builtins), MATH, NUMPY, JAX, JAX_NUMPY, TORCH, *PRIMITIVES, *ENTRIES, *HELPERS})


def temporary(op: str, n: int) -> str:
    """The TEMPORARY name of instruction n, a use of primitive `op`."""
    return TEMPORARY.format(op=op, n=n)


def safe_names(variables: Sequence[str]) -> tuple[str, ...]:
    """The local name each variable gets in generated code.

    An ASCII name (letters, digits, underscores, not leading) keeps its spelling unless it is a
    keyword, a builtin, a name the generated code uses, or shaped like a generated name (add_3,
    var_0, d_x); any other becomes var_<index>.
    """
    out = []
    for i, name in enumerate(variables):
        ok = (_plain(name) and not _generated(name) and not keyword.iskeyword(name)
              and not keyword.issoftkeyword(name) and name not in _RESERVED)
        out.append(name if ok else RENAMED.format(index=i))
    return tuple(out)


# These two are string tests rather than regular expressions: compiling the patterns cost more of
# the command line's start-up than every later call together.
def _plain(name: str) -> bool:
    """Whether `name` is [A-Za-z][A-Za-z0-9_]*: an ASCII identifier not starting with '_'."""
    return name.isascii() and name.isidentifier() and name[0] != "_"


def _generated(name: str) -> bool:
    """Whether a plain name is shaped like a generated one: like TEMPORARY or RENAMED (<op>_<digits>,
    var_<digits>), or like ADJOINT and SECOND_ADJOINT ('d', then a '_' somewhere after it)."""
    op, _, n = name.rpartition("_")
    return (op in _NUMBERED and n.isdigit()) or (name[0] == "d" and "_" in name[1:])
