"""The few neural-network pieces the tutorials use: Module with parameters() and state_dict(),
Linear, ReLU, Sequential, MSELoss and mse_loss.

Modelled on torch.nn so that `model = nn.Linear(3, 1); optim.SGD(model.parameters(), lr=...)` ports.
"""

from __future__ import annotations

import math
from typing import Any, Iterator, NamedTuple

import numpy as np

from .errors import GradcoreError
from .grad_mode import no_grad
from .tensors import Tensor, generator, matmul, mse_loss, tensor

__all__ = ["Module", "Linear", "ReLU", "Sequential", "MSELoss", "mse_loss"]


class LoadResult(NamedTuple):
    """What load_state_dict(strict=False) skipped: names the model has that the dict lacks, and back."""

    missing_keys: list[str]
    unexpected_keys: list[str]


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

    def state_dict(self) -> dict[str, Tensor]:
        """{dotted name: parameter}, detached and sharing memory with the model, as in PyTorch
        (clone the tensors, or deepcopy the dict, to keep a snapshot that later steps leave alone)."""
        return {name: p.detach() for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> LoadResult:
        """Copy the values of `state_dict` into the parameters of the same names, in place.

        With strict=True a missing or unexpected name is an error; a shape mismatch always is.
        """
        own = dict(self.named_parameters())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise GradcoreError(f"load_state_dict: missing {missing}, unexpected {unexpected}")
        for name, p in own.items():
            if name not in state_dict:
                continue
            value = np.asarray(state_dict[name])
            if value.shape != p.shape:
                raise GradcoreError(f"load_state_dict: {name} has shape {p.shape} in the model "
                                    f"but {value.shape} in the state dict")
            with no_grad():
                p[...] = value
        return LoadResult(missing, unexpected)

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


class ReLU(Module):
    """max(x, 0), elementwise, as a layer (Tensor.relu: the gradient is 0 at 0, as in PyTorch)."""

    def forward(self, x: Tensor) -> Tensor:
        return x.relu()


class Sequential(Module):
    """Modules applied one after another: Sequential(Linear(3, 8), ReLU(), Linear(8, 1)).

    The modules are attributes named "0", "1", ..., so their parameters are named "0.weight", ...
    as in PyTorch's state_dict.
    """

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise GradcoreError(f"Sequential takes Modules, not {type(m).__name__} (item {i})")
            setattr(self, str(i), m)

    def _modules(self) -> list[Module]:
        return list(vars(self).values())

    def forward(self, x: Any) -> Any:
        for m in self._modules():
            x = m(x)
        return x

    def __getitem__(self, i: int) -> Module:
        return self._modules()[i]

    def __len__(self) -> int:
        return len(vars(self))

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules())

    def __repr__(self) -> str:
        # PyTorch's layout, nested Sequentials indented, written with a stack rather than recursion.
        lines = [f"{type(self).__name__}("]
        stack: list[tuple[int, str, Any]] = [(1, k, m) for k, m in reversed(vars(self).items())]
        while stack:
            depth, key, m = stack.pop()
            pad = "  " * depth
            if key == ")":
                lines.append(pad + ")")
            elif isinstance(m, Sequential):
                lines.append(f"{pad}({key}): {type(m).__name__}(")
                stack.append((depth, ")", None))
                stack.extend((depth + 1, k, c) for k, c in reversed(vars(m).items()))
            else:
                lines.append(f"{pad}({key}): {m!r}")
        return "\n".join(lines + [")"])


class MSELoss(Module):
    """The module form of mse_loss: criterion = MSELoss(); loss = criterion(pred, target)."""

    def __init__(self, reduction: str = "mean") -> None:
        self.reduction = reduction

    def forward(self, input: Tensor, target: Any) -> Tensor:
        return mse_loss(input, target, self.reduction)
