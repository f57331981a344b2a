"""gradcore: exact symbolic derivatives and a hand-built reverse-mode autograd that check each other.

This module only re-exports the public names; see README.md for the map of modules.
"""

from .errors import DomainError, GradcoreError, NumericOverflowError, ParseError
from .expr import Expr, const, var
from .parse import parse
from .compile import CompiledExpr, compile
from .grad_mode import enable_grad, is_grad_enabled, no_grad
from .errors import NotDifferentiableError
from .value import Value, grad
from .calculus import gradient, hessian
from .check import GradientCheck, check_gradient
from .viz import to_dot, to_mermaid, trace
from .minimize import OptimizeResult, maximize, minimize
from .tensor import (Tensor, cat, concatenate, float32, float64, from_numpy, int64, make_dot,
                     manual_seed, matmul, ones, ones_like, rand, randn, stack, tensor, zeros,
                     zeros_like)
from . import datasets, nn, optim

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
