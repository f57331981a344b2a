"""Optimizers with PyTorch's names and update rules: SGD (momentum, Nesterov, weight decay) and Adam.

They update gradcore Tensors in place and scalar gradcore Values (anything with float `.data` and
`.grad` attributes) by assignment, so the same loop trains either engine.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

import numpy as np

from .errors import GradcoreError
from .grad_mode import _State, enable_grad
from .tensors import Tensor

__all__ = ["Optimizer", "SGD", "Adam"]

_FLOAT64 = np.dtype(np.float64)


class Optimizer:
    """Holds parameter groups and per-parameter state; subclasses implement `_update`.

    `params` is an iterable of parameters, or of dicts {'params': [...], 'lr': ...} whose entries
    override the defaults for that group (as in torch.optim). `param_groups` may be edited between
    steps, e.g. to change the learning rate.
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        if isinstance(params, Tensor):
            raise GradcoreError("params must be an iterable of tensors (e.g. [W, B]), "
                                "not a single tensor")
        items = list(params)
        if not items:
            raise GradcoreError("optimizer got an empty parameter list")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        self.defaults = dict(defaults)
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[int, dict[str, Any]] = {}
        for group in groups:
            merged = {**self.defaults, **group, "params": list(group["params"])}
            for p in merged["params"]:
                _check_param(p)
            self.param_groups.append(merged)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's gradient before the next backward().

        Tensors get grad = None (PyTorch 2's default; set_to_none=False zeroes in place instead);
        scalar Values get grad = 0.0.
        """
        for group in self.param_groups:
            for p in group["params"]:
                if not isinstance(p, Tensor):
                    p.grad = 0.0
                elif set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient once. `closure` (optional) recomputes and
        returns the loss first, with gradients recorded."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        # As `with no_grad():`, without making a context-manager object at every step.
        previous, _State.enabled = _State.enabled, False
        try:
            state = self.state
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    is_tensor = type(p) is Tensor or isinstance(p, Tensor)
                    if is_tensor:
                        data, grad = p._data, p.grad._data
                    else:
                        # A scalar Value: work on 0-d float64 arrays, then assign the result back.
                        data, grad = np.array(float(p.data)), np.array(float(p.grad))
                    s = state.get(id(p))
                    if s is None:
                        s = state[id(p)] = {}
                    self._update(data, grad, s, group)
                    if not is_tensor:
                        p.data = float(data)
        finally:
            _State.enabled = previous
        return loss

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        raise NotImplementedError


def _check_param(p: Any) -> None:
    if isinstance(p, Tensor):
        if not p.is_leaf:
            raise GradcoreError("can't optimize a non-leaf tensor (one computed from others); "
                                "optimize the tensors you created with requires_grad=True")
        if not p.requires_grad:
            raise GradcoreError("optimizer was given a tensor that does not require grad; "
                                "create it with requires_grad=True")
    elif not (hasattr(p, "data") and hasattr(p, "grad")):
        raise GradcoreError(f"optimizer parameters must be gradcore Tensors or Values, "
                            f"not {type(p).__name__}")


def _subtract_scaled(p: np.ndarray, scale: float, d: np.ndarray) -> None:
    # p -= scale * d in p's own dtype (a float32 parameter stays float32, as in PyTorch).
    if type(scale) is float and p.ndim == 0 == d.ndim and p.dtype == d.dtype == _FLOAT64:
        # A scalar parameter (a bias): Python's float arithmetic is the same IEEE double
        # arithmetic, without two ufunc calls on 0-d arrays (about a microsecond each).
        p[()] = float(p) - scale * float(d)
    elif type(scale) is float and d.dtype == p.dtype:
        # The same arithmetic without dtype= and casting= (same_kind is numpy's default for out=),
        # keywords that slow a small parameter's update. A Python float takes d's dtype; a
        # numpy float64 learning rate would not, hence the type test.
        np.subtract(p, np.multiply(scale, d), out=p)
    else:
        np.subtract(p, np.multiply(scale, d, dtype=p.dtype, casting="same_kind"), out=p,
                    casting="same_kind")


class SGD(Optimizer):
    """Stochastic gradient descent, with PyTorch's conventions:

        d = g (+ weight_decay * p);  d = -d if maximize
        v = d on the first step, then v = momentum * v + (1 - dampening) * d
        d = d + momentum * v (nesterov) or d = v (momentum)
        p = p - lr * d
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        if lr < 0.0:
            raise GradcoreError(f"invalid learning rate: {lr}")
        if momentum < 0.0:
            raise GradcoreError(f"invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise GradcoreError(f"invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0.0 or dampening != 0.0):
            raise GradcoreError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    # _update(p, g, state, group) is sgd_update itself (set below it): one call less per step.


class Adam(Optimizer):
    """Adam (Kingma and Ba), as torch.optim.Adam computes it:

        g = g (+ weight_decay * p);  g = -g if maximize;  t = t + 1
        m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)
    With amsgrad, v in the denominator is the running maximum of v.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        if lr < 0.0:
            raise GradcoreError(f"invalid learning rate: {lr}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise GradcoreError(f"invalid betas: {betas}; each must be in [0, 1)")
        if eps < 0.0:
            raise GradcoreError(f"invalid epsilon value: {eps}")
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, p: np.ndarray, g: np.ndarray, state: dict[str, Any],
                group: dict[str, Any]) -> None:
        adam_update(p, g, state, group)


def sgd_update(p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
    """One SGD step on the array p, in place (the formula is in SGD's docstring).

    `state` keeps the momentum buffer between calls; minimize() runs its momentum methods on it too.
    """
    d = -g if group["maximize"] else g
    if group["weight_decay"]:
        d = d + group["weight_decay"] * p
    momentum = group["momentum"]
    if momentum:
        buf = state.get("momentum_buffer")
        if buf is None:
            buf = state["momentum_buffer"] = np.array(d, dtype=p.dtype, copy=True)
        else:
            buf *= momentum
            buf += (1.0 - group["dampening"]) * d if group["dampening"] else d
        d = d + momentum * buf if group["nesterov"] else buf
    _subtract_scaled(p, group["lr"], d)


SGD._update = staticmethod(sgd_update)  # type: ignore[assignment, method-assign]


def adam_update(p: np.ndarray, g: np.ndarray, state: dict[str, Any], group: dict[str, Any]) -> None:
    """One Adam step on the array p, in place (the formula is in Adam's docstring).

    `state` keeps t, m and v between calls; minimize()'s adam method runs on it too.
    """
    beta1, beta2 = group["betas"]
    if group["maximize"]:
        g = -g
    if group["weight_decay"]:
        g = g + group["weight_decay"] * p
    if not state:
        state["step"] = 0
        state["exp_avg"] = np.zeros_like(p)
        state["exp_avg_sq"] = np.zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = np.zeros_like(p)
    state["step"] += 1
    t = state["step"]
    m, v = state["exp_avg"], state["exp_avg_sq"]
    m += (1.0 - beta1) * (g - m)  # the lerp form PyTorch uses; equals beta1*m + (1-beta1)*g
    v *= beta2
    v += (1.0 - beta2) * g * g
    if group["amsgrad"]:
        np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        v = state["max_exp_avg_sq"]
    step_size = group["lr"] / (1.0 - beta1 ** t)
    denom = np.sqrt(v) / math.sqrt(1.0 - beta2 ** t) + group["eps"]
    _subtract_scaled(p, step_size, m / denom)
