"""gradcore: exact symbolic derivatives and a hand-built reverse-mode autograd that check each other.

This module only re-exports the public names; see README.md for the map of modules.
"""

import importlib
from typing import Any

from .errors import DomainError, GradcoreError, NotDifferentiableError, NumericOverflowError, ParseError
from .expr import Expr, const, var
from .parse import parse
from .grad_mode import enable_grad, is_grad_enabled, no_grad
# The packages are named codegen, optimize and tensors, so gc.compile, gc.minimize and gc.tensor are
# plainly the functions: no module shadows them, whatever is imported first.
from .codegen import CompiledExpr, compile
from .optimize import OptimizeResult, maximize, minimize
from .tensors import (Tensor, cat, concatenate, float32, float64, from_numpy, int64, manual_seed,
                      matmul, ones, ones_like, rand, randn, stack, tensor, zeros, zeros_like)

# Loaded on first use (PEP 562), so `python -m gradcore minimize ...` does not pay for the teaching
# views, the scalar engine or the tutorials' modules: name -> (module, attribute or None).
_LAZY: dict[str, tuple[str, str | None]] = {
    "Value": ("value", "Value"), "grad": ("value", "grad"),
    "gradient": ("calculus", "gradient"), "hessian": ("calculus", "hessian"),
    "check_gradient": ("check", "check_gradient"), "GradientCheck": ("check", "GradientCheck"),
    "to_dot": ("viz", "to_dot"), "to_mermaid": ("viz", "to_mermaid"), "trace": ("viz", "trace"),
    "datasets": ("datasets", None), "nn": ("nn", None), "optim": ("optim", None),
    "make_dot": ("viz.tensor_graph", "make_dot"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gradcore' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    loaded = importlib.import_module(f".{module}", __name__)
    value = loaded if attribute is None else getattr(loaded, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__version__ = "0.1.0"

__all__ = [
    "DomainError", "GradcoreError", "NumericOverflowError", "ParseError",
    "Expr", "const", "var", "parse",
    "compile", "CompiledExpr",
    "no_grad", "enable_grad", "is_grad_enabled",
    "Value", "grad", "NotDifferentiableError", "gradient", "hessian",
    "check_gradient", "GradientCheck", "to_dot", "to_mermaid", "trace",
    "minimize", "maximize", "OptimizeResult",
    "Tensor", "tensor", "from_numpy", "cat", "concatenate", "stack", "matmul", "make_dot",
    "zeros", "ones", "zeros_like", "ones_like", "rand", "randn", "manual_seed",
    "float32", "float64", "int64", "datasets", "nn", "optim",
]
