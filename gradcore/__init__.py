"""gradcore: exact symbolic derivatives and a hand-built reverse-mode autograd that check each other.

This module only re-exports the public names; see README.md for the map of modules.
"""

import importlib
import sys
import types
from typing import Any

# numpy first, at the shallowest depth: imported from deep inside gradcore's own imports (under
# `python -m gradcore`, deeper still), CPython 3.11 mapped and unmapped a 16 KB frame-stack chunk
# some 440 times while numpy's typing modules loaded, about 3.5 ms of start-up (strace counts the
# munmap calls; 1 when numpy comes first).
import numpy  # noqa: F401

from .errors import DomainError, GradcoreError, NotDifferentiableError, NumericOverflowError, ParseError
from .expr import Expr, const, simplify, var
from .parse import parse
# The packages are named codegen, optimize and tensors, so gc.compile, gc.minimize and gc.tensor are
# plainly the functions: no module shadows them, whatever is imported first.
from .codegen import CompiledExpr, EngineExpr, compile
from .optimize import OptimizeResult, maximize, minimize

# Loaded on first use (PEP 562), so `python -m gradcore minimize ...` does not pay for the teaching
# views, the scalar engine, the Tensor engine, the autograd switch or the tutorials' modules:
# name -> (module, attribute or None).
_LAZY: dict[str, tuple[str, str | None]] = {
    "Value": ("value", "Value"), "grad": ("value", "grad"),
    "no_grad": ("grad_mode", "no_grad"), "enable_grad": ("grad_mode", "enable_grad"),
    "is_grad_enabled": ("grad_mode", "is_grad_enabled"),
    "gradient": ("calculus", "gradient"), "hessian": ("calculus", "hessian"),
    "check_gradient": ("check", "check_gradient"), "GradientCheck": ("check", "GradientCheck"),
    "to_dot": ("viz", "to_dot"), "to_mermaid": ("viz", "to_mermaid"), "trace": ("viz", "trace"),
    "draw": ("viz", "draw"),
    "datasets": ("datasets", None), "nn": ("nn", None), "optim": ("optim", None),
    "data": ("data", None), "utils": ("utils", None),
    "make_dot": ("viz.tensor_graph", "make_dot"), "plot": ("viz.plot", None),
    "fit": ("fitting", "fit"), "FitResult": ("fitting", "FitResult"),
    "explain": ("viz.explain", "explain"),
    **{name: ("tensors", name) for name in (
        "Generator", "Tensor", "arange", "cat", "concatenate", "exp", "float32", "float64",
        "from_numpy", "int64", "linspace", "log", "manual_seed", "matmul", "mean", "ones",
        "ones_like", "rand", "randn", "randperm", "stack", "sum", "tensor", "zeros", "zeros_like")},
}


class _Package(types.ModuleType):
    """gradcore's module type: `gc.derivation` is the function, loaded on first use.

    The function and its module share the name, and importing a submodule sets the package's
    attribute to the module; this property keeps the name the function's, whoever imports the
    module and when, without loading it at start-up.
    """

    @property
    def derivation(self) -> Any:
        fn = self.__dict__.get("_derivation")
        if fn is None:
            fn = importlib.import_module(".derivation", __name__).derivation
            self.__dict__["_derivation"] = fn
        return fn

    @derivation.setter
    def derivation(self, value: Any) -> None:
        if not isinstance(value, types.ModuleType):  # the import system's assignment is ignored
            self.__dict__["_derivation"] = value


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'gradcore' has no attribute {name!r}")
    module, attribute = _LAZY[name]
    loaded = importlib.import_module(f".{module}", __name__)
    value = loaded if attribute is None else getattr(loaded, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"derivation"})


from ._version import __version__  # noqa: E402  (one place for the version)

__all__ = [
    "DomainError", "GradcoreError", "NumericOverflowError", "ParseError",
    "Expr", "const", "var", "parse", "simplify",
    "compile", "CompiledExpr", "EngineExpr",
    "no_grad", "enable_grad", "is_grad_enabled",
    "Value", "grad", "NotDifferentiableError", "gradient", "hessian", "derivation",
    "check_gradient", "GradientCheck", "to_dot", "to_mermaid", "trace", "draw",
    "minimize", "maximize", "OptimizeResult", "fit", "FitResult",
    "Tensor", "tensor", "from_numpy", "cat", "concatenate", "stack", "matmul", "make_dot",
    "zeros", "ones", "zeros_like", "ones_like", "rand", "randn", "manual_seed",
    "Generator", "randperm", "arange", "linspace", "mean", "sum", "exp", "log", "data", "utils",
    "float32", "float64", "int64", "datasets", "nn", "optim", "plot", "explain",
]
