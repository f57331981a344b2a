"""The few neural-network pieces the tutorials use: Module with parameters(), Linear, mse_loss.

Modelled on torch.nn so that `model = nn.Linear(3, 1); optim.SGD(model.parameters(), lr=...)` ports.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from .tensors import Tensor, generator, matmul, mse_loss, tensor

__all__ = ["Module", "Linear", "MSELoss", "mse_loss"]


class Module:
    """Base class: a callable model whose parameters are the Tensors (requiring grad) and
    sub-Modules stored on it as attributes, or in lists, tuples and dicts of them."""

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def named_parameters(self) -> Iterator[tuple[str, Tensor]]:
        """(dotted name, parameter) pairs, in the order the attributes were set; each tensor once."""
        seen: set[int] = set()
        # An explicit stack of (prefix, object) instead of recursion over sub-modules; pushed in
        # reverse so that the walk comes out in attribute order.
        stack: list[tuple[str, Any]] = [("", self)]
        while stack:
            name, obj = stack.pop()
            if isinstance(obj, Tensor):
                if obj.requires_grad and id(obj) not in seen:
                    seen.add(id(obj))
                    yield name, obj
                continue
            if isinstance(obj, Module):
                children = list(vars(obj).items())
            elif isinstance(obj, dict):
                children = [(str(k), v) for k, v in obj.items()]
            elif isinstance(obj, (list, tuple)):
                children = [(str(i), v) for i, v in enumerate(obj)]
            else:
                continue
            prefix = f"{name}." if name else ""
            for key, child in reversed(children):
                if isinstance(child, (Tensor, Module, list, tuple, dict)):
                    stack.append((prefix + key, child))

    def parameters(self) -> Iterator[Tensor]:
        """Every parameter of this module and its sub-modules (for an optimizer)."""
        for _, p in self.named_parameters():
            yield p

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features).

    Weights and bias start uniform in [-1/sqrt(in_features), 1/sqrt(in_features)], PyTorch's default
    range, drawn from gradcore's generator (gradcore.manual_seed); the numbers differ from torch's.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 dtype: Any = np.float32) -> None:
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features) if in_features else 0.0
        rng = generator()
        self.weight = tensor(
            rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype),
            requires_grad=True)
        self.bias = (tensor(rng.uniform(-bound, bound, (out_features,)).astype(dtype),
                                    requires_grad=True) if bias else None)

    def forward(self, x: Any) -> Tensor:
        y = matmul(x, self.weight.T)
        return y + self.bias if self.bias is not None else y

    def __repr__(self) -> str:
        return (f"Linear(in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None})")


class MSELoss(Module):
    """The module form of mse_loss: criterion = MSELoss(); loss = criterion(pred, target)."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return mse_loss(input, target, self.reduction)
