"""Tensor: reverse-mode autograd on numpy arrays, spelled like PyTorch so its tutorials port unchanged.
Its elementwise methods and operators are made from the primitive table; backward() is at the end.

Longer than the other modules (about 700 lines) on purpose: the class, the operator methods made from
the table, and the backward sweep all reach into the same private fields (_data, _node), so splitting
them would only spread one data structure over several files.
"""

from __future__ import annotations

import numbers
import weakref
from typing import Any, Iterator

import numpy as np

from .. import ops
from ..errors import GradcoreError
from ..grad_mode import _State, is_grad_enabled
from . import _buffers
from ._elementwise import ELEMENTWISE, FORWARD, SAVE_PLAN
from ._node import Node, Op
from ._sweep import sweep
from ._vjps import (CAST, CLAMP, CLONE, GETITEM, MATMUL, MAX, MEAN, MIN, RELU, RESHAPE, SUM,
                    TRANSPOSE, float64_quotient)

# Python floats become float32 tensors, as in PyTorch; numpy arrays keep the dtype they have.
DEFAULT_FLOAT = np.dtype(np.float32)


def as_array(data: Any, dtype: Any = None) -> np.ndarray:
    """A fresh array holding a copy of `data`, with PyTorch's dtype rules.

    Python floats (and lists of them) become float32 and Python ints int64; numpy arrays and numpy
    scalars keep their dtype; `dtype=` overrides both.
    """
    dt = None if dtype is None else np.dtype(dtype)
    if isinstance(data, Tensor):
        return np.array(data._data, dtype=dt, copy=True)
    if isinstance(data, (np.ndarray, np.generic)):
        return np.array(data, dtype=dt, copy=True)
    arr = np.array(data)
    if arr.dtype.kind not in "biuf":
        raise GradcoreError(f"cannot make a tensor from {type(data).__name__} data "
                            f"(numpy saw dtype {arr.dtype})")
    if dt is None:
        dt = {"f": DEFAULT_FLOAT, "i": np.dtype(np.int64), "u": np.dtype(np.int64)}.get(
            arr.dtype.kind, arr.dtype)
    return arr.astype(dt, copy=False)


# ---------------------------------------------------------------------------------------------
# The Tensor


class Tensor:
    """An n-dimensional array that records the operations applied to it, for backward().

    Leaves are the tensors you create; they collect gradients in `.grad` when `requires_grad` is set.
    Every other tensor remembers its parents and the operation that made it (`grad_fn`).
    Called as a class, `Tensor([1, 2])` is float32 whatever the data, as torch.Tensor is;
    `tensor([1, 2])` infers the dtype (int64 here), as torch.tensor does.
    """

    __slots__ = ("_data", "grad", "_requires_grad", "_node", "__weakref__")

    # numpy must not treat a Tensor as an array in `ndarray * tensor` (that would drop the graph);
    # with this, numpy hands such expressions to Tensor.__rmul__ and friends.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        self._data = as_array(data, DEFAULT_FLOAT if dtype is None else dtype)
        self.grad = None
        self._requires_grad = False
        self._node = None
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _make(cls, data: np.ndarray, parents: tuple = (), op: Op | None = None,
              saved: Any = None, ctx: Any = None) -> "Tensor":
        """A new tensor; its operation is recorded only if grad mode is on and a parent needs grad."""
        t = object.__new__(cls)
        if type(data) is not np.ndarray:
            data = np.asarray(data)  # ufuncs return numpy scalars for 0-d inputs
        t._data = data
        t.grad = None
        t._requires_grad = False
        t._node = None
        if op is not None and _State.enabled:
            for p in parents:
                if p._requires_grad:
                    t._requires_grad = True
                    t._node = Node(op, tuple(map(_link, parents)), saved, ctx, data)
                    break
        return t

    # ---- attributes PyTorch users reach for ------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, flag: bool = True) -> "Tensor":
        """Mark a leaf as a parameter (or stop treating it as one). Returns self."""
        if self._node is not None:
            if not flag:
                raise GradcoreError("requires_grad can only be turned off on a leaf; use .detach()")
            return self
        if flag and self._data.dtype.kind not in "fc":
            raise GradcoreError(
                f"only floating-point tensors can require gradients, not {self._data.dtype}")
        self._requires_grad = bool(flag)
        return self

    @property
    def is_leaf(self) -> bool:
        return self._node is None

    @property
    def grad_fn(self) -> str | None:
        """The name of the operation that made this tensor (e.g. 'MulBackward0'); None for a leaf."""
        return None if self._node is None else self._node.op.name

    @property
    def data(self) -> "Tensor":
        """The same numbers as a tensor outside the graph (shares memory, like torch's .data)."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Any) -> None:
        self._data = np.asarray(value._data if isinstance(value, Tensor) else value)

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    def size(self, dim: int | None = None) -> Any:
        return self._data.shape if dim is None else self._data.shape[dim]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return self._data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied)."""
        if self._requires_grad:
            raise GradcoreError("can't call numpy() on a tensor that requires grad; "
                                "use tensor.detach().numpy() instead")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        # What np.asarray, np.array((t1, t2)) and matplotlib see.
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def item(self) -> Any:
        """The single number this tensor holds, as a Python float, int or bool."""
        if self._data.size != 1:
            raise GradcoreError(f"a tensor with {self._data.size} elements cannot be converted "
                                "to a Python number")
        return self._data.item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def detach(self) -> "Tensor":
        """A tensor sharing this one's numbers that is not part of any graph."""
        return Tensor._make(self._data)

    def clone(self) -> "Tensor":
        """A copy of the numbers that stays in the graph (its gradient passes straight through)."""
        return Tensor._make(self._data.copy(), (self,), CLONE)

    def backward(self, gradient: Any = None, retain_graph: Any = None,
                 create_graph: bool = False) -> None:
        """Compute d(self)/d(leaf) for every leaf that requires grad and ADD it to leaf.grad.

        `gradient` is the upstream vector for a non-scalar tensor. The graph is kept, so backward()
        may be called again (retain_graph is accepted for compatibility and has no effect).
        Higher-order gradients (create_graph=True) are not supported by Tensor; use gradcore's
        scalar Value for those.
        """
        if create_graph:
            raise GradcoreError("Tensor.backward(create_graph=True) is not supported")
        _backward(self, gradient)

    def retain_grad(self) -> None:
        """Keep .grad on this non-leaf tensor too after backward()."""
        if self._node is not None:
            self._node.retain = weakref.ref(self)

    def zero_(self) -> "Tensor":
        """Set every element to 0 in place (what `W.grad.zero_()` does). Returns self."""
        if self._data.flags.writeable:
            self._data[...] = 0
        else:
            self._data = np.zeros_like(self._data)
        return self

    def fill_(self, value: float) -> "Tensor":
        self._check_inplace(None)
        self._data[...] = value
        return self

    # ---- conversion ------------------------------------------------------------------------
    def to(self, dtype: Any) -> "Tensor":
        """The tensor in `dtype`.

        Same dtype: self. A leaf that requires grad: a NEW leaf that requires grad (so the idiom
        `W = tensor(1.0, requires_grad=True).float()` always gives a trainable W, whatever the
        dtype was). Anything else: a recorded cast, whose gradient is cast back to the source dtype.
        """
        dtype = np.dtype(dtype)
        if dtype == self._data.dtype:
            return self
        data = self._data.astype(dtype)
        if self._node is None and self._requires_grad:
            return Tensor._make(data).requires_grad_(True)
        return Tensor._make(data, (self,), CAST)

    def float(self) -> "Tensor":
        """float32 (see `to`)."""
        return self.to(np.float32)

    def double(self) -> "Tensor":
        """float64 (see `to`)."""
        return self.to(np.float64)

    def long(self) -> "Tensor":
        return self.to(np.int64)

    # ---- printing --------------------------------------------------------------------------
    def __repr__(self) -> str:
        parts = [_array_text(self._data)]
        if self._data.dtype not in (np.dtype(np.float32), np.dtype(np.int64), np.dtype(np.bool_)):
            parts.append(f"dtype={self._data.dtype}")
        if self._node is not None:
            parts.append(f"grad_fn=<{self._node.op.name}>")
        elif self._requires_grad:
            parts.append("requires_grad=True")
        return "tensor(" + ", ".join(parts) + ")"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        # f'{loss:.4f}' formats the number a 0-d tensor holds, as in PyTorch.
        if self._data.ndim == 0:
            return format(self._data.item(), spec)
        return format(repr(self), spec)

    # ---- Python protocols ------------------------------------------------------------------
    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        for i in range(self._data.shape[0]):
            yield self[i]

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise GradcoreError("the truth value of a tensor with more than one element is "
                                "ambiguous; use .any() or .all()")
        return bool(self._data)

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    __hash__ = object.__hash__  # identity, as in PyTorch; == below compares elementwise

    # ---- in-place updates ------------------------------------------------------------------
    def _check_inplace(self, other: Any) -> None:
        if not is_grad_enabled():
            return
        if self._requires_grad and self._node is None:
            raise GradcoreError("a leaf tensor that requires grad cannot be changed in place while "
                                "gradients are recorded; update it inside `with no_grad():`")
        if self._requires_grad or (isinstance(other, Tensor) and other._requires_grad):
            raise GradcoreError("in-place operations are not recorded for backward(); "
                                "write y = y + x instead of y += x")

    def _inplace(self, other: Any, ufunc: np.ufunc) -> "Tensor":
        self._check_inplace(other)
        value = other._data if isinstance(other, Tensor) else np.asarray(other)
        ufunc(self._data, value, out=self._data, casting="same_kind")
        return self

    def __iadd__(self, other: Any) -> "Tensor": return self._inplace(other, np.add)
    def __isub__(self, other: Any) -> "Tensor": return self._inplace(other, np.subtract)
    def __imul__(self, other: Any) -> "Tensor": return self._inplace(other, np.multiply)
    def __itruediv__(self, other: Any) -> "Tensor": return self._inplace(other, np.true_divide)

    def add_(self, other: Any, alpha: float = 1.0) -> "Tensor":
        """self += alpha * other, in place (outside recording, like the operators above)."""
        return self._inplace(other if alpha == 1.0 else _lift(other, self) * alpha, np.add)

    def sub_(self, other: Any, alpha: float = 1.0) -> "Tensor":
        return self._inplace(other if alpha == 1.0 else _lift(other, self) * alpha, np.subtract)

    def mul_(self, other: Any) -> "Tensor":
        return self._inplace(other, np.multiply)

    def __setitem__(self, index: Any, value: Any) -> None:
        self._check_inplace(value)
        self._data[_index_arrays(index)] = value._data if isinstance(value, Tensor) else value

    # ---- comparisons (results carry no gradient) --------------------------------------------
    def _compare(self, other: Any, ufunc: np.ufunc) -> "Tensor":
        o = _lift(other, self)
        if o is None:
            return NotImplemented
        return Tensor._make(ufunc(self._data, o._data))

    def __lt__(self, other: Any) -> "Tensor": return self._compare(other, np.less)
    def __le__(self, other: Any) -> "Tensor": return self._compare(other, np.less_equal)
    def __gt__(self, other: Any) -> "Tensor": return self._compare(other, np.greater)
    def __ge__(self, other: Any) -> "Tensor": return self._compare(other, np.greater_equal)
    def __eq__(self, other: Any) -> "Tensor": return self._compare(other, np.equal)  # type: ignore[override]
    def __ne__(self, other: Any) -> "Tensor": return self._compare(other, np.not_equal)  # type: ignore[override]

    def any(self) -> "Tensor":
        return Tensor._make(np.any(self._data))

    def all(self) -> "Tensor":
        return Tensor._make(np.all(self._data))

    # ---- non-elementwise operations ---------------------------------------------------------
    def __matmul__(self, other: Any) -> "Tensor":
        o = _lift(other, self)
        return NotImplemented if o is None else matmul(self, o)

    def __rmatmul__(self, other: Any) -> "Tensor":
        o = _lift(other, self)
        return NotImplemented if o is None else matmul(o, self)

    def matmul(self, other: Any) -> "Tensor":
        return matmul(self, other)

    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> "Tensor":
        """Sum over `axis` (all axes by default); `dim`/`keepdim` are PyTorch's spellings."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        return Tensor._make(np.sum(self._data, axis=axis, keepdims=keepdims), (self,), SUM,
                            None, (axis, keepdims, self._data.shape))

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> "Tensor":
        """Mean over `axis`: sum / count, with gradient g / count sent to every element."""
        x = self._data
        if x.dtype.kind not in "fc":
            raise GradcoreError(f"mean() needs a floating-point tensor, not {x.dtype}")
        if axis is None and dim is None and x.size and not (keepdims if keepdim is None else keepdim):
            # A loss: every element into one number.
            total = np.add.reduce(x, None)
            out = float64_quotient(total, x.size)
            if out is None:
                out = np.true_divide(total, x.size, dtype=x.dtype)
            return Tensor._make(out, (self,), MEAN, None, (None, False, x.shape))
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        # np.mean's own steps (a sum in x's dtype, then a division), without its Python overhead
        total = np.add.reduce(x, axis=axis, keepdims=keepdims)
        count = x.size // max(np.size(total), 1) if x.size else 0
        return Tensor._make(np.true_divide(total, count, dtype=x.dtype), (self,), MEAN, None,
                            (axis, keepdims, x.shape))

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> "Tensor":
        """Largest element over `axis`; the gradient is shared equally among tied maxima."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        out = np.max(self._data, axis=axis, keepdims=keepdims)
        return Tensor._make(out, (self,), MAX, (self._data, out), (axis, keepdims))

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> "Tensor":
        """Smallest element over `axis`; the gradient is shared equally among tied minima."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        out = np.min(self._data, axis=axis, keepdims=keepdims)
        return Tensor._make(out, (self,), MIN, (self._data, out), (axis, keepdims))

    def reshape(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor._make(self._data.reshape(shape), (self,), RESHAPE, None, self._data.shape)

    view = reshape

    def flatten(self) -> "Tensor":
        return self.reshape(-1)

    def unsqueeze(self, dim: int) -> "Tensor":
        return self.reshape(np.expand_dims(self._data, dim).shape)

    def squeeze(self, dim: int | None = None) -> "Tensor":
        return self.reshape(np.squeeze(self._data, axis=dim).shape)

    def permute(self, *axes: Any) -> "Tensor":
        """Reorder the axes (numpy's transpose(axes))."""
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        axes = tuple(int(a) % max(self._data.ndim, 1) for a in axes)
        return Tensor._make(self._data.transpose(axes), (self,), TRANSPOSE, None, axes)

    def transpose(self, dim0: int | None = None, dim1: int | None = None) -> "Tensor":
        """transpose(): all axes reversed (like .T); transpose(i, j): swap axes i and j (PyTorch)."""
        axes = list(range(self._data.ndim))
        if dim0 is None and dim1 is None:
            axes.reverse()
        else:
            axes[dim0], axes[dim1] = axes[dim1], axes[dim0]  # type: ignore[index]
        return self.permute(axes)

    @property
    def T(self) -> "Tensor":
        return self.transpose()

    def t(self) -> "Tensor":
        """The transpose of a matrix; a 0-d or 1-D tensor comes back as it is (torch's t())."""
        if self._data.ndim > 2:
            raise GradcoreError(f"t() expects at most 2 dimensions, not {self._data.ndim}; "
                                "use transpose(dim0, dim1) or permute(...)")
        return self.transpose() if self._data.ndim == 2 else self

    # ---- everyday extras built from the operations above --------------------------------------
    def relu(self) -> "Tensor":
        """max(x, 0), elementwise; d/dx = 1 where x > 0, else 0 (also at 0, as PyTorch takes it)."""
        x = self._data
        # The gradient is the table's mul rule for x * (x > 0); only the mask is kept for it.
        return Tensor._make(np.maximum(x, 0), (self,), RELU,
                            x > 0 if self._requires_grad else None)

    def clamp(self, min: Any = None, max: Any = None) -> "Tensor":
        """x limited to [min, max] (either bound may be None); d/dx = 1 where min <= x <= max,
        else 0, as in PyTorch."""
        if min is None and max is None:
            raise GradcoreError("clamp() needs min=, max= or both")
        x = self._data
        min, max = [b._data if isinstance(b, Tensor) else b for b in (min, max)]
        mask = None
        if self._requires_grad:
            mask = np.ones(x.shape, dtype=bool)
            if min is not None:
                mask &= x >= min
            if max is not None:
                mask &= x <= max
        out = np.clip(x, min, max)
        if out.dtype != x.dtype:
            out = out.astype(x.dtype)  # a float bound must not turn float32 into float64
        return Tensor._make(out, (self,), CLAMP, mask)

    clip = clamp

    def norm(self, p: Any = 2, dim: Any = None, keepdim: bool = False) -> "Tensor":
        """The p-norm over `dim` (all elements by default): (sum |x|**p) ** (1/p); p = 2 is
        sqrt(sum x*x), p = inf is max |x|. Built from table operations, so the gradient is theirs:
        x / norm for p = 2, which is nan at the zero vector (PyTorch picks 0 there)."""
        if p == 2:
            return (self * self).sum(dim=dim, keepdim=keepdim).sqrt()
        if p == 1:
            return self.abs().sum(dim=dim, keepdim=keepdim)
        if p == float("inf"):
            return self.abs().max(dim=dim, keepdim=keepdim)
        return (self.abs() ** p).sum(dim=dim, keepdim=keepdim) ** (1.0 / p)

    def __getitem__(self, index: Any) -> "Tensor":
        index = _index_arrays(index)
        return Tensor._make(self._data[index], (self,), GETITEM, None, (index, self._data.shape))


# ---------------------------------------------------------------------------------------------
# Elementwise methods and operators, generated from the table


def _lift(value: Any, like: Tensor) -> Tensor | None:
    """Make `value` an operand for an operation with `like`; None if it cannot be one.

    Python and numpy scalars take like's dtype when like is floating (0.001 * a float32 tensor stays
    float32, as in PyTorch); arrays and lists become constant tensors with their own dtype.
    """
    if isinstance(value, Tensor):
        return value
    if (type(value) is float or type(value) is int) and like._data.dtype.kind == "f":  # made quick
        return Tensor._make(np.asarray(value, dtype=like._data.dtype))
    if isinstance(value, (numbers.Number, np.bool_)) and not isinstance(value, complex):
        dt = like._data.dtype
        if dt.kind not in "fc":
            if isinstance(value, (float, np.floating)):
                dt = DEFAULT_FLOAT
            elif dt.kind == "b" and not isinstance(value, (bool, np.bool_)):
                dt = np.dtype(np.int64)
        return Tensor._make(np.asarray(value, dtype=dt))
    if isinstance(value, (np.ndarray, list, tuple)):
        return Tensor._make(as_array(value))
    return None


def _link(t: Tensor) -> Any:
    """What a new node records for parent t: its node, the leaf itself, or None for a constant."""
    if t._node is not None:
        return t._node
    return t if t._requires_grad else None


def _unary_method(row: ops.Primitive) -> Any:
    op, forward, plan = ELEMENTWISE[row.name], getattr(FORWARD, row.name), SAVE_PLAN[row.name]
    save_out, save_x = plan[(True,)]

    pooled = type(forward) is np.ufunc and forward.nout == 1

    def method(self: Tensor) -> Tensor:
        x = self._data
        buf = _buffers.empty(x.shape, x.dtype) if pooled and x.dtype.kind == "f" else None
        out = forward(x) if buf is None else forward(x, out=buf)
        if type(out) is not np.ndarray:
            out = np.asarray(out)  # ufuncs return numpy scalars for 0-d inputs
        t = object.__new__(Tensor)
        t._data = out
        t.grad = None
        if self._requires_grad and _State.enabled:
            t._requires_grad = True
            t._node = Node(op, (_link(self),), (out if save_out else None, x if save_x else None),
                           None, out)
        else:
            t._requires_grad = False
            t._node = None
        return t
    method.__name__ = row.name
    method.__doc__ = f"{row.doc}, elementwise (defined for {row.domain}); gradient from the table."
    return method


def _binary(op: Op, forward: Any, plan: dict, a: Tensor, b: Tensor) -> Tensor:
    x, y = a._data, b._data
    dt = x.dtype
    if dt is not y.dtype and dt.kind != y.dtype.kind:
        # PyTorch's rule across kinds: an integer (or bool) operand takes the float operand's
        # dtype, so int64 * float32 is float32 (numpy would say float64).
        kx, ky = dt.kind, y.dtype.kind
        if kx == "f" and ky in "biu":
            y = y.astype(dt)
        elif ky == "f" and kx in "biu":
            x = x.astype(y.dtype)
    ra, rb = a._requires_grad, b._requires_grad
    out = None
    if type(forward) is np.ufunc and x.dtype is y.dtype and x.dtype.kind == "f":
        # Float in, same float out: a large result can go into an array the pool has free.
        sx, sy = x.shape, y.shape
        buf = _buffers.empty(sx if sx == sy or not sy else sy if not sx else
                             np.broadcast_shapes(sx, sy), x.dtype)
        if buf is not None:
            out = forward(x, y, buf)
    if out is None:
        out = forward(x, y)
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # ufuncs return numpy scalars for 0-d inputs
    t = object.__new__(Tensor)
    t._data = out
    t.grad = None
    if (ra or rb) and _State.enabled:
        save_out, save_x, save_y = plan[(ra, rb)]
        t._requires_grad = True
        # _link(a), _link(b), written out: this runs for every recorded operation
        na, nb = a._node, b._node
        t._node = Node(op, (na if na is not None else a if ra else None,
                            nb if nb is not None else b if rb else None),
                       (out if save_out else None, x if save_x else None, y if save_y else None),
                       None, out)
    else:
        t._requires_grad = False
        t._node = None
    return t


def _binary_methods(row: ops.Primitive) -> tuple[Any, Any]:
    op, forward, plan = ELEMENTWISE[row.name], getattr(FORWARD, row.name), SAVE_PLAN[row.name]

    def method(self: Tensor, other: Any) -> Tensor:
        o = _lift(other, self)
        return NotImplemented if o is None else _binary(op, forward, plan, self, o)

    def reflected(self: Tensor, other: Any) -> Tensor:
        o = _lift(other, self)
        return NotImplemented if o is None else _binary(op, forward, plan, o, self)

    method.__name__ = row.name
    method.__doc__ = f"{row.doc}, elementwise with broadcasting; gradient from the table."
    return method, reflected


# One method per table row; the rows that are operators (ops.OPERATORS) also become Python's
# operator methods under the dunder name the operator row gives: + is __add__ and __radd__.
for _row in ops.PRIMITIVES.values():
    _operator = ops.OPERATOR_OF.get(_row.name)
    if _row.arity == 1:
        setattr(Tensor, _row.name, _unary_method(_row))
        if _operator is not None:
            setattr(Tensor, f"__{_operator.dunder}__", getattr(Tensor, _row.name))
    else:
        _m, _r = _binary_methods(_row)
        setattr(Tensor, _row.name, _m)
        if _operator is not None:
            setattr(Tensor, f"__{_operator.dunder}__", _m)
            setattr(Tensor, f"__r{_operator.dunder}__", _r)
Tensor.__abs__ = Tensor.abs  # type: ignore[attr-defined]
Tensor.__pos__ = lambda self: self  # type: ignore[assignment]
del _row, _operator, _m, _r


# ---------------------------------------------------------------------------------------------
# matmul, and the helpers the methods share


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules (1-D operands, batches); _vjps.py has its gradient."""
    if not isinstance(a, Tensor):
        a = Tensor._make(as_array(a))
    if not isinstance(b, Tensor):
        b = _lift(b, a)
    x, y = a._data, b._data
    buf = None
    if x.ndim == 2 and y.ndim in (1, 2) and x.dtype is y.dtype and x.dtype.kind == "f" \
            and x.shape[1] == y.shape[0]:
        buf = _buffers.empty(x.shape[:1] + y.shape[1:], x.dtype)
    out = np.matmul(x, y) if buf is None else np.matmul(x, y, buf)
    # dA reads B and dB reads A: keep each operand only if the other one needs a gradient.
    saved = (x if b._requires_grad else None, y if a._requires_grad else None)
    return Tensor._make(out, (a, b), MATMUL, saved, (x.ndim, y.ndim))


def _axis_args(t: Tensor, axis: Any, keepdims: bool, dim: Any, keepdim: bool | None
               ) -> tuple[Any, bool]:
    if dim is not None:
        axis = dim
    if keepdim is not None:
        keepdims = keepdim
    if isinstance(axis, list):
        axis = tuple(axis)
    if axis is not None:
        # Normalise to non-negative axes, so backward's expand_dims puts them back in place.
        nd = max(t._data.ndim, 1)
        axis = tuple(sorted(a % nd for a in axis)) if isinstance(axis, tuple) else axis % nd
    return axis, bool(keepdims)


def _index_arrays(index: Any) -> Any:
    """Replace Tensors inside an index by their arrays."""
    if isinstance(index, Tensor):
        return index._data
    if isinstance(index, tuple):
        return tuple(i._data if isinstance(i, Tensor) else i for i in index)
    if isinstance(index, list):
        return np.asarray(index)
    return index


def _array_text(a: np.ndarray) -> str:
    """numpy's text for `a`, styled like PyTorch's: 4 decimals, or "5." when every value is whole."""
    if a.dtype.kind == "f":
        finite = a[np.isfinite(a)]
        whole = bool(np.all(finite == np.round(finite)))
        return np.array2string(a, precision=4, separator=", ", prefix="tensor(",
                               floatmode="maxprec" if whole else "fixed")
    return np.array2string(a, separator=", ", prefix="tensor(")


# ---------------------------------------------------------------------------------------------
# backward()


def _store_grad(t: Tensor, g: np.ndarray, fresh: bool) -> None:
    # Leaves accumulate across backward() calls until zeroed, like PyTorch: add in place when a
    # gradient is already there, otherwise keep g (copied unless no one else holds it).
    if t.grad is None:
        t.grad = Tensor._make(g if fresh else g.copy())
    elif t.grad._data.shape == g.shape and t.grad._data.flags.writeable:
        np.add(t.grad._data, g, out=t.grad._data, casting="same_kind")
    else:
        t.grad = Tensor._make(t.grad._data + g)


def _backward(root: Tensor, gradient: Any = None) -> None:
    """Reverse mode: seed d(root)/d(root), run the sweep (_sweep.py), store the leaves' share."""
    if not root._requires_grad:
        raise GradcoreError("backward() needs a tensor that requires grad: create a leaf with "
                            "requires_grad=True and compute from it outside no_grad()")
    if gradient is None:
        if root._data.size != 1:
            raise GradcoreError(f"backward() without an argument needs a single-element tensor; "
                                f"this one has shape {root._data.shape}: pass gradient=...")
        shape = root._data.shape  # np.array makes the usual 0-d seed 5x quicker than np.ones
        seed = np.ones(shape, root._data.dtype) if shape else np.array(1, root._data.dtype)
    else:
        seed = np.array(gradient._data if isinstance(gradient, Tensor) else gradient,
                        dtype=root._data.dtype)
        if seed.shape != root._data.shape:
            raise GradcoreError(f"gradient has shape {seed.shape}, but the tensor has shape "
                                f"{root._data.shape}")
    if root._node is None:
        _store_grad(root, seed, True)
        return
    for leaf, (g, fresh) in sweep(root._node, seed, True, _store_grad).items():
        _store_grad(leaf, g, fresh)
