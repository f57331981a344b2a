"""The array engines generated code can target besides numpy: how each spells the table's primitives,
what its code's globals hold (imported only when asked for), and the domain policy written in the
engine's own operations, so that it traces under jax.jit, jax.vmap and torch.compile.
"""

from __future__ import annotations

import functools
import importlib
import math
import operator
from typing import Any, Callable

from ..errors import GradcoreError
from ..ops import Record
from ._naming import JAX, JAX_NUMPY, OUTSIDE, SIGN, TORCH

__all__ = ["Engine", "ENGINES", "load"]


class Engine(Record):
    """One target: `alias` is the name its array module has in the code; a numpy function the table
    uses is spelled alias.<same name> (all exist in jax.numpy and torch); `special` spells the rows
    whose numpy implementation is gradcore's own (sigmoid)."""

    __slots__ = ("name", "module", "alias", "special", "extra")
    _EQ = True
    name: str
    module: str
    alias: str
    special: tuple[tuple[str, str], ...]
    extra: str

    def __init__(self, name: str, module: str, alias: str, special: tuple[tuple[str, str], ...],
                 extra: str) -> None:
        self._store(name, module, alias, special, extra)


ENGINES: dict[str, Engine] = {e.name: e for e in (
    Engine("jax", "jax.numpy", JAX_NUMPY, (("sigmoid", f"{JAX}.nn.sigmoid"),), "jax"),
    # torch.sign(nan) is 0, numpy's and the table's is nan: a helper keeps the nan.
    Engine("torch", "torch", TORCH, (("sigmoid", f"{TORCH}.sigmoid"), ("sign", SIGN)), "torch"),
)}


def _import(engine: Engine) -> Any:
    try:
        return importlib.import_module(engine.module)
    except ImportError:
        raise GradcoreError(f"the {engine.name} backend needs {engine.name}: "
                            f"pip install gradcore[{engine.extra}]") from None


@functools.lru_cache(maxsize=None)
def load(name: str) -> tuple[dict[str, Any], Callable[[Any], Any], Callable[[list, int], Any]]:
    """(globals for the generated code, the conversion of one argument, stack(arrays, axis) for the
    Hessian) of engine `name`, importing it now."""
    engine = ENGINES[name]
    mod = _import(engine)
    if name == "jax":
        jax = importlib.import_module("jax")
        env = {JAX: jax, JAX_NUMPY: mod, OUTSIDE: functools.partial(_nan_outside, mod, mod.asarray)}
        return env, functools.partial(_jax_input, mod), lambda arrays, axis: mod.stack(arrays, axis=axis)
    env = {TORCH: mod, OUTSIDE: functools.partial(_nan_outside, mod, None),
           SIGN: functools.partial(_torch_sign, mod)}
    return env, functools.partial(_torch_input, mod), lambda arrays, axis: mod.stack(arrays, dim=axis)


def _jax_input(jnp: Any, a: Any) -> Any:
    # Integers compute in the default float type, as numpy's path computes them in float64.
    if isinstance(a, float):
        return a
    a = jnp.asarray(a)
    return a if jnp.issubdtype(a.dtype, jnp.floating) else a.astype(jnp.result_type(float))


def _torch_input(torch: Any, a: Any) -> Any:
    if isinstance(a, torch.Tensor):
        return a if a.is_floating_point() else a.to(torch.float64)
    a = torch.as_tensor(a)
    return a if a.is_floating_point() else a.to(torch.float64)


def _torch_sign(torch: Any, x: Any) -> Any:
    """sign(x): -1, 0 or 1, and nan at nan."""
    return torch.where(torch.isnan(x), x, torch.sign(x))


def _nan_outside(xp: Any, asarray: Callable | None, results: tuple, checks: tuple, inputs: tuple) -> tuple:
    """The domain policy of the numpy path, as operations of the engine: every result is NaN at each
    point where some result or guard is not finite although every input is, and elsewhere its
    value, broadcast to the inputs' shape and type. No Python test looks at the data."""
    consts = [c for c in (*results, *checks) if isinstance(c, float)]
    arrays = [xp.isfinite(c) for c in (*results, *checks) if not isinstance(c, float)]
    # Python's True stands for "everywhere" until an array comes in; a non-finite constant part is
    # undefined everywhere.
    finite = functools.reduce(operator.and_, arrays, True) if all(map(math.isfinite, consts)) else False
    inside = functools.reduce(operator.and_, [xp.isfinite(a) for a in inputs], True)
    outside = (not inside) if isinstance(inside, bool) else ~inside
    ok = (True if finite else outside) if isinstance(finite, bool) else finite | outside
    if isinstance(ok, bool):  # every result is a constant
        return tuple(_filled(xp, asarray, r if ok else math.nan, inputs) for r in results)
    return tuple(xp.where(ok, _constant(xp, asarray, r, inputs), math.nan) for r in results)


def _constant(xp: Any, asarray: Callable | None, r: Any, inputs: tuple) -> Any:
    """r as an array of the inputs' floating type (and device), so a constant result has the type the
    computed ones have."""
    if asarray is not None:  # jax
        dtype = xp.result_type(*inputs) if inputs else xp.result_type(float)
        return asarray(r, dtype=dtype)
    tensors = [a for a in inputs if isinstance(a, xp.Tensor)]
    dtype = functools.reduce(xp.promote_types, [a.dtype for a in tensors]) if tensors else xp.float64
    return xp.as_tensor(r, dtype=dtype, device=tensors[0].device if tensors else None)


def _filled(xp: Any, asarray: Callable | None, v: float, inputs: tuple) -> Any:
    """The constant v as a fresh array of the inputs' broadcast shape, type and device."""
    like = _constant(xp, asarray, v, inputs)
    shape = xp.broadcast_shapes(*[tuple(getattr(a, "shape", ())) for a in inputs])
    if asarray is not None:
        return xp.full(shape, v, dtype=like.dtype)
    return xp.full(shape, v, dtype=like.dtype, device=like.device)
