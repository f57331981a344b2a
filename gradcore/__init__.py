"""gradcore: exact symbolic derivatives and a hand-built reverse-mode autograd that check each other.

This module only re-exports the public names; see README.md for the map of modules.
"""

from .errors import DomainError, GradcoreError, NumericOverflowError, ParseError
from .expr import Expr, const, var
from .parse import parse

__version__ = "0.1.0"

__all__ = [
    "DomainError", "GradcoreError", "NumericOverflowError", "ParseError",
    "Expr", "const", "var", "parse",
]
