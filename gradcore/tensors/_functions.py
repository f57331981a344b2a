"""The function spellings of Tensor methods that PyTorch code uses (torch.mean(x), torch.exp(x), ...).

Each one calls the method, so its gradient is the method's; nothing here records a node of its own.
"""

from __future__ import annotations

from typing import Any

from ._creation import tensor
from ._tensor import Tensor


def _as_tensor(input: Any) -> Tensor:
    return input if isinstance(input, Tensor) else tensor(input)


def sum(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001 - torch's name
    """sum of the elements over `dim` (all of them by default), as input.sum(dim, keepdim)."""
    return _as_tensor(input).sum(dim=dim, keepdim=keepdim)


def mean(input: Any, dim: Any = None, keepdim: bool = False) -> Tensor:
    """sum / count over `dim` (all elements by default), as input.mean(dim, keepdim)."""
    return _as_tensor(input).mean(dim=dim, keepdim=keepdim)


def exp(input: Any) -> Any:
    """e ** x, elementwise; d/dx = e ** x. A Value or an Expr gets its own exp(); other data a Tensor's."""
    return input.exp() if hasattr(input, "exp") else tensor(input).exp()


def log(input: Any) -> Any:
    """natural logarithm, elementwise; d/dx = 1/x. A Value or an Expr gets its own log(); other
    data a Tensor's."""
    return input.log() if hasattr(input, "log") else tensor(input).log()
