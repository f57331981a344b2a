"""Tensor: reverse-mode autograd on numpy arrays, spelled like PyTorch so its tutorials port unchanged.

Elementwise operations and their derivatives come from the primitive table (gradcore/ops.py); only the
operations that are not scalar primitives (matmul, reductions, reshapes, indexing, concatenation) carry
their own vector-Jacobian products here.
"""

from __future__ import annotations

import dis
import itertools
import math
import numbers
import weakref
from typing import Any, Iterator, Sequence

import numpy as np

from . import ops
from .errors import GradcoreError
from .grad_mode import _State, is_grad_enabled

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "zeros_like", "ones_like", "randn", "rand",
    "manual_seed", "cat", "concatenate", "stack", "matmul", "make_dot", "float32", "float64",
    "int64", "bool_", "F",
]

float32 = np.float32
float64 = np.float64
int64 = np.int64
bool_ = np.bool_

# Python floats become float32 tensors, as in PyTorch; numpy arrays keep the dtype they have.
_DEFAULT_FLOAT = np.dtype(np.float32)


# ---------------------------------------------------------------------------------------------
# The array namespace the table's rules are read with


def _pow(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x ** y, elementwise. For the exponents 1 and 2 the result is exact either way, so skip the
    general pow loop: the pow rule's own derivative asks for x ** (2 - 1) at every backward step."""
    if np.ndim(y) == 0 and getattr(y, "dtype", x.dtype) == x.dtype:
        e = float(y)
        if e == 1.0:
            return x
        if e == 2.0:
            return np.square(x)
    return np.power(x, y)


def _pow_forward(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    out = _pow(x, y)
    return out.copy() if out is x else out  # a new tensor must not share memory with its input


# F: the table's `array` implementations, with the fast path above for pow. The table's VJP rules are
# evaluated with it, so a rule such as "y * pow(x, y - 1) * g" computes arrays. Forward passes use
# _FORWARD, the same functions except that pow never hands back its input array.
F = ops.namespace(lambda row: _pow if row.name == "pow" else row.array)
_FORWARD = ops.namespace(lambda row: _pow_forward if row.name == "pow" else row.array)


# ---------------------------------------------------------------------------------------------
# Graph nodes


class _Op:
    """How one kind of operation sends a gradient back: vjp(node, g) -> one array (or None) per parent.

    The op object is shared by every node that applies it; what differs per node (saved arrays,
    an axis, a shape) lives on the node.
    """

    __slots__ = ("name", "vjp")

    def __init__(self, name: str, vjp: Any) -> None:
        self.name = name
        self.vjp = vjp


_COUNTER = itertools.count()


class Node:
    """One recorded operation: the op, its parents, and only the arrays its VJP will read.

    A parent is another Node, a leaf Tensor that requires grad (where the gradient is stored), or
    None (a constant). A node never holds its own output tensor, so intermediate results are freed
    as soon as the user's code drops them, as in PyTorch; and it never refers to itself.
    `seq` numbers nodes in creation order, which is a topological order: parents come first.
    """

    __slots__ = ("op", "parents", "saved", "ctx", "shape", "dtype", "retain", "seq",
                 "__weakref__")

    def __init__(self, op: _Op, parents: tuple, saved: Any, ctx: Any, out: np.ndarray) -> None:
        self.op = op
        self.parents = parents
        self.saved = saved
        self.ctx = ctx
        self.shape = out.shape
        self.dtype = out.dtype
        self.retain: Any = None  # a weak reference to the tensor, after retain_grad()
        self.seq = next(_COUNTER)


def _reads(rule: Any) -> set[int]:
    """Which of (out, arg0, arg1, ...) a VJP rule `rule(F, g, out, *args)` reads, found in its
    bytecode, so that a node saves only those arrays: d(x + y) reads nothing, d(x * y) reads both
    arguments, d(exp x) reads the output. Anything unusual counts as reading everything."""
    code = getattr(rule, "__code__", None)
    if code is None or code.co_flags & 0x04:  # not plain Python code, or *args
        return set(range(8))
    params = code.co_varnames[:code.co_argcount]
    read: set[str] = set()
    for ins in dis.get_instructions(rule):
        if "FAST" in ins.opname or "DEREF" in ins.opname or "CLOSURE" in ins.opname:
            read.update(ins.argval if isinstance(ins.argval, tuple) else (ins.argval,))
    return {i for i, name in enumerate(params[2:]) if name in read}


def _elementwise_vjp(row: ops.Primitive) -> Any:
    # The table's rule for argument i, evaluated on arrays, and only for the arguments that need a
    # gradient: x ** 2 never evaluates log(x) (the exponent's rule) at a negative x.
    if row.arity == 1:
        (rule,) = row.vjps

        def vjp(node: Node, g: np.ndarray) -> list:
            out, x = node.saved
            return [rule(F, g, out, x)]
        return vjp

    if row.arity != 2:
        rules = row.vjps

        def vjp_n(node: Node, g: np.ndarray) -> list:
            out, *args = node.saved
            return [None if p is None else rule(F, g, out, *args)
                    for rule, p in zip(rules, node.parents)]
        return vjp_n

    rule_x, rule_y = row.vjps

    def vjp2(node: Node, g: np.ndarray) -> list:
        out, x, y = node.saved
        px, py = node.parents
        return [None if px is None else rule_x(F, g, out, x, y),
                None if py is None else rule_y(F, g, out, x, y)]
    return vjp2


def _save_plan(row: ops.Primitive) -> dict[tuple[bool, ...], tuple[bool, ...]]:
    """For each pattern of which arguments need a gradient: whether to save (out, arg0, arg1, ...)."""
    plan = {}
    for mask in np.ndindex(*([2] * row.arity)):
        read = set().union(*[_reads(r) for r, m in zip(row.vjps, mask) if m])
        plan[tuple(bool(m) for m in mask)] = tuple(i in read for i in range(row.arity + 1))
    return plan


# One op per table row, named as PyTorch names its grad_fn (MulBackward0, ...), so printed graphs
# read the same as the tutorials' pictures.
_ELEMENTWISE: dict[str, _Op] = {
    name: _Op(name.capitalize() + "Backward0", _elementwise_vjp(row))
    for name, row in ops.PRIMITIVES.items()
}
_SAVE_PLAN = {name: _save_plan(row) for name, row in ops.PRIMITIVES.items()}


def _sum_to_shape(g: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Undo broadcasting: sum g over the axes that broadcasting added or stretched, so that the
    gradient has exactly the input's shape (and dtype). This is the one place broadcasting is undone."""
    if not shape and g.ndim:
        g = np.asarray(np.add.reduce(g, axis=None))  # the common case: a scalar parameter
    if g.shape != shape:
        lead = g.ndim - len(shape)
        if lead < 0 or any(n != 1 and n != m for n, m in zip(shape, g.shape[lead:])):
            g = np.broadcast_to(g, np.broadcast_shapes(g.shape, shape))
            lead = g.ndim - len(shape)
        axes = tuple(range(lead)) + tuple(
            lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1)
        if axes:
            g = g.sum(axis=axes, keepdims=True)
        if g.shape != shape:
            g = g.reshape(shape)
    if g.dtype != dtype:
        g = g.astype(dtype)
    return g


# ---------------------------------------------------------------------------------------------
# The Tensor


class Tensor:
    """An n-dimensional array that records the operations applied to it, for backward().

    Leaves are the tensors you create; they collect gradients in `.grad` when `requires_grad` is set.
    Every other tensor remembers its parents and the operation that made it (`grad_fn`).
    """

    __slots__ = ("_data", "grad", "_requires_grad", "_node", "__weakref__")

    # numpy must not treat a Tensor as an array in `ndarray * tensor` (that would drop the graph);
    # with this, numpy hands such expressions to Tensor.__rmul__ and friends.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = False, dtype: Any = None) -> None:
        other = tensor(data, requires_grad=requires_grad, dtype=dtype)
        self._data = other._data
        self.grad = None
        self._requires_grad = other._requires_grad
        self._node = None

    @classmethod
    def _make(cls, data: np.ndarray, parents: tuple = (), op: _Op | None = None,
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
                    t._node = Node(op, tuple([_link(q) for q in parents]), saved, ctx, data)
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
        return Tensor._make(self._data.copy(), (self,), _IDENTITY_COPY)

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
        return Tensor._make(data, (self,), _CAST)

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
        return Tensor._make(np.sum(self._data, axis=axis, keepdims=keepdims), (self,), _SUM,
                            None, (axis, keepdims, self._data.shape))

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
             keepdim: bool | None = None) -> "Tensor":
        """Mean over `axis`: sum / count, with gradient g / count sent to every element."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        x = self._data
        if x.dtype.kind not in "fc":
            raise GradcoreError(f"mean() needs a floating-point tensor, not {x.dtype}")
        # np.mean's own steps (a sum in x's dtype, then a division), without its Python overhead
        total = np.add.reduce(x, axis=axis, keepdims=keepdims)
        count = x.size // max(np.size(total), 1) if x.size else 0
        return Tensor._make(np.true_divide(total, count, dtype=x.dtype), (self,), _MEAN, None,
                            (axis, keepdims, x.shape))

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> "Tensor":
        """Largest element over `axis`; the gradient is shared equally among tied maxima."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        out = np.max(self._data, axis=axis, keepdims=keepdims)
        return Tensor._make(out, (self,), _MAX, (self._data, out), (axis, keepdims))

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None,
            keepdim: bool | None = None) -> "Tensor":
        """Smallest element over `axis`; the gradient is shared equally among tied minima."""
        axis, keepdims = _axis_args(self, axis, keepdims, dim, keepdim)
        out = np.min(self._data, axis=axis, keepdims=keepdims)
        return Tensor._make(out, (self,), _MIN, (self._data, out), (axis, keepdims))

    def reshape(self, *shape: Any) -> "Tensor":
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return Tensor._make(self._data.reshape(shape), (self,), _RESHAPE, None, self._data.shape)

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
        return Tensor._make(self._data.transpose(axes), (self,), _TRANSPOSE, None, axes)

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

    def __getitem__(self, index: Any) -> "Tensor":
        index = _index_arrays(index)
        return Tensor._make(self._data[index], (self,), _GETITEM, None, (index, self._data.shape))


# ---------------------------------------------------------------------------------------------
# Elementwise methods and operators, generated from the table


def _lift(value: Any, like: Tensor) -> Tensor | None:
    """Make `value` an operand for an operation with `like`; None if it cannot be one.

    Python and numpy scalars take like's dtype when like is floating (0.001 * a float32 tensor stays
    float32, as in PyTorch); arrays and lists become constant tensors with their own dtype.
    """
    if isinstance(value, Tensor):
        return value
    if type(value) is float and like._data.dtype.kind == "f":  # the common case, made quick
        return Tensor._make(np.asarray(value, dtype=like._data.dtype))
    if isinstance(value, (numbers.Number, np.bool_)) and not isinstance(value, complex):
        dt = like._data.dtype
        if dt.kind not in "fc":
            if isinstance(value, (float, np.floating)):
                dt = _DEFAULT_FLOAT
            elif dt.kind == "b" and not isinstance(value, (bool, np.bool_)):
                dt = np.dtype(np.int64)
        return Tensor._make(np.asarray(value, dtype=dt))
    if isinstance(value, (np.ndarray, list, tuple)):
        return tensor(value)
    return None


def _link(t: Tensor) -> Any:
    """What a new node records for parent t: its node, the leaf itself, or None for a constant."""
    if t._node is not None:
        return t._node
    return t if t._requires_grad else None


def _unary_method(row: ops.Primitive) -> Any:
    op, forward, plan = _ELEMENTWISE[row.name], getattr(_FORWARD, row.name), _SAVE_PLAN[row.name]
    save_out, save_x = plan[(True,)]

    def method(self: Tensor) -> Tensor:
        x = self._data
        out = forward(x)
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


def _binary(op: _Op, forward: Any, plan: dict, a: Tensor, b: Tensor) -> Tensor:
    x, y = a._data, b._data
    kx, ky = x.dtype.kind, y.dtype.kind
    if kx != ky:
        # PyTorch's rule across kinds: an integer (or bool) operand takes the float operand's
        # dtype, so int64 * float32 is float32 (numpy would say float64).
        if kx == "f" and ky in "biu":
            y = y.astype(x.dtype)
        elif ky == "f" and kx in "biu":
            x = x.astype(y.dtype)
    ra, rb = a._requires_grad, b._requires_grad
    record = (ra or rb) and _State.enabled
    out = forward(x, y)
    if type(out) is not np.ndarray:
        out = np.asarray(out)  # ufuncs return numpy scalars for 0-d inputs
    t = object.__new__(Tensor)
    t._data = out
    t.grad = None
    if record:
        save_out, save_x, save_y = plan[(ra, rb)]
        t._requires_grad = True
        t._node = Node(op, (_link(a), _link(b)),
                       (out if save_out else None, x if save_x else None, y if save_y else None),
                       None, out)
    else:
        t._requires_grad = False
        t._node = None
    return t


def _binary_methods(row: ops.Primitive) -> tuple[Any, Any]:
    op, forward, plan = _ELEMENTWISE[row.name], getattr(_FORWARD, row.name), _SAVE_PLAN[row.name]

    def method(self: Tensor, other: Any) -> Tensor:
        o = _lift(other, self)
        return NotImplemented if o is None else _binary(op, forward, plan, self, o)

    def reflected(self: Tensor, other: Any) -> Tensor:
        o = _lift(other, self)
        return NotImplemented if o is None else _binary(op, forward, plan, o, self)

    method.__name__ = row.name
    method.__doc__ = f"{row.doc}, elementwise with broadcasting; gradient from the table."
    return method, reflected


# Python's operator method names for the table's infix symbols (a fact about Python, not maths).
_DUNDER = {"+": "add", "-": "sub", "*": "mul", "/": "truediv", "**": "pow"}

for _row in ops.PRIMITIVES.values():
    if _row.arity == 1:
        setattr(Tensor, _row.name, _unary_method(_row))
    else:
        _m, _r = _binary_methods(_row)
        setattr(Tensor, _row.name, _m)
        if _row.symbol in _DUNDER:
            setattr(Tensor, f"__{_DUNDER[_row.symbol]}__", _m)
            setattr(Tensor, f"__r{_DUNDER[_row.symbol]}__", _r)
Tensor.__neg__ = Tensor.neg  # type: ignore[attr-defined]
Tensor.__abs__ = Tensor.abs  # type: ignore[attr-defined]
Tensor.__pos__ = lambda self: self  # type: ignore[assignment]
del _row, _m, _r


# ---------------------------------------------------------------------------------------------
# VJPs of the operations that are not scalar primitives


def _identity_vjp(node: Node, g: np.ndarray) -> list:
    # d(copy)/dx = 1; a cast's gradient is cast back by _sum_to_shape, which knows the source dtype.
    return [g]


_IDENTITY_COPY = _Op("CloneBackward0", _identity_vjp)
_CAST = _Op("ToCopyBackward0", _identity_vjp)


def _matmul_vjp(node: Node, g: np.ndarray) -> list:
    """C = A @ B: dA = g @ B^T, dB = A^T @ g, with numpy's rules for 1-D operands and batches."""
    a, b = node.saved
    a_nd, b_nd = node.ctx
    need_a, need_b = node.parents[0] is not None, node.parents[1] is not None
    ga = gb = None
    if a_nd <= 2 and b_nd <= 2:
        if a_nd == 2 and b_nd == 2:
            ga = g @ b.T if need_a else None
            gb = a.T @ g if need_b else None
        elif a_nd == 2:  # (n, k) @ (k,) -> (n,)
            ga = np.multiply.outer(g, b) if need_a else None
            gb = a.T @ g if need_b else None
        elif b_nd == 2:  # (k,) @ (k, m) -> (m,)
            ga = b @ g if need_a else None
            gb = np.multiply.outer(a, g) if need_b else None
        else:  # (k,) @ (k,) -> ()
            ga = g * b if need_a else None
            gb = g * a if need_b else None
        return [ga, gb]
    # Batched: view 1-D operands as a row / a column, then drop that axis again; _sum_to_shape
    # sums the batch axes that broadcasting added.
    g2 = g
    if a_nd == 1:
        g2 = np.expand_dims(g2, -2)
    if b_nd == 1:
        g2 = np.expand_dims(g2, -1)
    if need_a:
        b2 = b[:, None] if b_nd == 1 else b
        ga = g2 @ np.swapaxes(b2, -1, -2)
        if a_nd == 1:
            ga = ga[..., 0, :]
    if need_b:
        a2 = a[None, :] if a_nd == 1 else a
        gb = np.swapaxes(a2, -1, -2) @ g2
        if b_nd == 1:
            gb = gb[..., 0]
    return [ga, gb]


_MATMUL = _Op("MmBackward0", _matmul_vjp)


def _expand_reduced(g: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    """Put back the axes a reduction removed, so that g broadcasts against the input."""
    if axis is not None and not keepdims:
        g = np.expand_dims(g, axis)
    return g


def _spread(g: np.ndarray, shape: tuple, axis: Any, keepdims: bool) -> np.ndarray:
    """g sent to every element a reduction combined: a read-only broadcast view, no copy."""
    if g.ndim == 0:
        # The whole-array case, built directly: np.broadcast_to costs more than the rest of
        # the backward step on small inputs.
        view = np.ndarray(shape, g.dtype, g, 0, (0,) * len(shape))
        view.flags.writeable = False
        return view
    return np.broadcast_to(_expand_reduced(g, axis, keepdims), shape)


def _sum_vjp(node: Node, g: np.ndarray) -> list:
    # d(sum x)/dx_i = 1: every element receives g.
    axis, keepdims, shape = node.ctx
    return [_spread(g, shape, axis, keepdims)]


def _mean_vjp(node: Node, g: np.ndarray) -> list:
    # d(mean x)/dx_i = 1/count.
    axis, keepdims, shape = node.ctx
    count = max(math.prod(shape) // max(math.prod(node.shape), 1), 1)
    return [_spread(np.asarray(g / count), shape, axis, keepdims)]


def _extremum_vjp(node: Node, g: np.ndarray) -> list:
    # d(max x)/dx_i = 1 where x_i is the maximum; ties share it equally (as torch.amax does).
    x, out = node.saved
    axis, keepdims = node.ctx
    hit = x == _expand_reduced(out, axis, keepdims)
    share = hit / np.sum(hit, axis=axis, keepdims=True)
    return [share * _expand_reduced(g, axis, keepdims)]


_SUM = _Op("SumBackward0", _sum_vjp)
_MEAN = _Op("MeanBackward0", _mean_vjp)
_MAX = _Op("MaxBackward0", _extremum_vjp)
_MIN = _Op("MinBackward0", _extremum_vjp)


def _reshape_vjp(node: Node, g: np.ndarray) -> list:
    return [g.reshape(node.ctx)]


def _transpose_vjp(node: Node, g: np.ndarray) -> list:
    return [g.transpose(np.argsort(node.ctx))]


def _getitem_vjp(node: Node, g: np.ndarray) -> list:
    # Scatter g back into zeros. Basic indexing (ints, slices) never repeats an element, so plain
    # assignment is enough; advanced indexing can (x[[0, 0]]), so np.add.at adds the repeats.
    index, shape = node.ctx
    full = np.zeros(shape, dtype=g.dtype)
    if _is_basic(index):
        full[index] = g
    else:
        np.add.at(full, index, g)
    return [full]


_RESHAPE = _Op("ViewBackward0", _reshape_vjp)
_TRANSPOSE = _Op("PermuteBackward0", _transpose_vjp)
_GETITEM = _Op("IndexBackward0", _getitem_vjp)


def _cat_vjp(node: Node, g: np.ndarray) -> list:
    # Each input gets back its own slab of g.
    axis, bounds = node.ctx
    return np.split(g, bounds, axis=axis)


_CAT = _Op("CatBackward0", _cat_vjp)


_SUB_RULES = ops.PRIMITIVES["sub"].vjps
_POW_RULE = ops.PRIMITIVES["pow"].vjps[0]


def _mse_vjp(node: Node, g: np.ndarray) -> list:
    """mean((x - t) ** 2) as one node: the table's rules for sub and pow, chained after mean's g / n.

    Nothing new is derived here; one node instead of three saves a full-size array per step.
    """
    diff, two, count = node.saved
    g_sq = _POW_RULE(F, np.asarray(g / count), None, diff, two)
    px, pt = node.parents
    return [None if px is None else _SUB_RULES[0](F, g_sq, None, None, None),
            None if pt is None else _SUB_RULES[1](F, g_sq, None, None, None)]


_MSE = _Op("MseLossBackward0", _mse_vjp)


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error, mean((input - target) ** 2); 'sum' adds the squares instead, 'none'
    returns them. Shapes must match: broadcasting (n, 1) against (n,) would silently compare every
    prediction with every target, so it is an error here (PyTorch only warns)."""
    t = target if isinstance(target, Tensor) else _lift(target, input)
    if t is None:
        raise GradcoreError(f"mse_loss: cannot use a {type(target).__name__} as the target")
    if t._data.shape != input._data.shape:
        raise GradcoreError(f"mse_loss: input has shape {input._data.shape} but target has shape "
                            f"{t._data.shape}; reshape one of them so they match")
    if reduction == "none":
        return (input - t) ** 2
    if reduction not in ("mean", "sum"):
        raise GradcoreError(f"reduction must be 'mean', 'sum' or 'none', not {reduction!r}")
    diff = _FORWARD.sub(input._data, t._data)
    if input._data.dtype.kind != "f":
        raise GradcoreError(f"mse_loss needs floating-point tensors, not {input._data.dtype}")
    count = diff.size if reduction == "mean" and diff.size else 1
    # The sum of squares as a dot product: no array of squares is made.
    total = np.vdot(diff, diff).astype(diff.dtype) if diff.ndim else diff * diff
    two = np.asarray(2, dtype=diff.dtype)
    return Tensor._make(np.true_divide(total, count, dtype=diff.dtype), (input, t), _MSE,
                        (diff, two, count))


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


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (slice, int, np.integer))
               and not isinstance(i, (bool, np.bool_)) for i in items)


# ---------------------------------------------------------------------------------------------
# backward()


def _nodes(root: Node) -> list[Node]:
    """Every node root depends on, children before parents (latest created first).

    Creation order is a topological order, so a plain stack walk to find the nodes and a sort by
    `seq` replace a recursive depth-first search: a chain of a million operations is fine.
    """
    found = [root]
    seen = {id(root)}
    stack = [root]
    while stack:
        for p in stack.pop().parents:
            if type(p) is Node and id(p) not in seen:
                seen.add(id(p))
                found.append(p)
                stack.append(p)
    found.sort(key=_by_seq, reverse=True)
    return found


def _by_seq(node: Node) -> int:
    return node.seq


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
    """Reverse-mode sweep: seed d(root)/d(root), then visit nodes children-first, sending each
    node's gradient to its parents through its op's VJP and summing what arrives at each one."""
    if not root._requires_grad:
        raise GradcoreError("backward() needs a tensor that requires grad: create a leaf with "
                            "requires_grad=True and compute from it outside no_grad()")
    if gradient is None:
        if root._data.size != 1:
            raise GradcoreError(f"backward() without an argument needs a single-element tensor; "
                                f"this one has shape {root._data.shape}: pass gradient=...")
        seed = np.ones(root._data.shape, dtype=root._data.dtype)
    else:
        seed = np.array(gradient._data if isinstance(gradient, Tensor) else gradient,
                        dtype=root._data.dtype)
        if seed.shape != root._data.shape:
            raise GradcoreError(f"gradient has shape {seed.shape}, but the tensor has shape "
                                f"{root._data.shape}")
    if root._node is None:
        _store_grad(root, seed, True)
        return
    # pending[id(x)] = [x, gradient so far, whether backward owns that array], for nodes and leaves
    pending: dict[int, list] = {id(root._node): [root._node, seed, True]}
    for node in _nodes(root._node):
        entry = pending.pop(id(node), None)
        if entry is None:
            continue
        g = entry[1]
        if node.retain is not None:
            kept = node.retain()
            if kept is not None:
                _store_grad(kept, g, False)
        for parent, gp in zip(node.parents, node.op.vjp(node, g)):
            if parent is None or gp is None:
                continue
            if type(gp) is not np.ndarray:
                gp = np.asarray(gp)
            # Backward may keep or add into gp only if nobody else holds it: not the upstream
            # array passed through (d(x+y)/dx = g), not a view (reshape, broadcast, split).
            new = gp is not g and gp.base is None and gp.flags.writeable
            if type(parent) is Node:
                shape, dtype = parent.shape, parent.dtype
            else:
                shape, dtype = parent._data.shape, parent._data.dtype
            if gp.shape != shape or gp.dtype != dtype:
                summed = _sum_to_shape(gp, shape, dtype)
                # A sum or a cast allocates (ours to keep); a bare broadcast is a read-only view.
                new = new if summed is gp else summed.flags.writeable
                gp = summed
            key = id(parent)
            seen = pending.get(key)
            if seen is None:
                pending[key] = [parent, gp, new]
            elif seen[2]:
                np.add(seen[1], gp, out=seen[1])
            else:
                seen[1] = np.asarray(seen[1] + gp)  # 0-d sums come back as scalars
                seen[2] = True
    # What is left is the leaves' share.
    for leaf, g, fresh in pending.values():
        _store_grad(leaf, g, fresh)


def _tensor_backward(self: Tensor, gradient: Any = None, retain_graph: Any = None,
                     create_graph: bool = False) -> None:
    """Compute d(self)/d(leaf) for every leaf that requires grad and ADD it to leaf.grad.

    `gradient` is the upstream vector for a non-scalar tensor. The graph is kept, so backward() may
    be called again (retain_graph is accepted for compatibility and has no effect). Higher-order
    gradients (create_graph=True) are not supported by Tensor; use gradcore's scalar Value for those.
    """
    if create_graph:
        raise GradcoreError("Tensor.backward(create_graph=True) is not supported")
    _backward(self, gradient)


Tensor.backward = _tensor_backward  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Creation


def _dtype(dtype: Any) -> np.dtype | None:
    return None if dtype is None else np.dtype(dtype)


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None) -> Tensor:
    """A new leaf tensor holding a copy of `data`.

    Python floats (and lists of them) become float32 and Python ints int64, as in PyTorch; numpy
    arrays and numpy scalars keep their dtype; `dtype=` overrides both.
    """
    dt = _dtype(dtype)
    if isinstance(data, Tensor):
        arr = np.array(data._data, dtype=dt, copy=True)
    elif isinstance(data, (np.ndarray, np.generic)):
        arr = np.array(data, dtype=dt, copy=True)
    else:
        arr = np.array(data)
        if arr.dtype.kind not in "biuf":
            raise GradcoreError(f"cannot make a tensor from {type(data).__name__} data "
                                f"(numpy saw dtype {arr.dtype})")
        if dt is None:
            dt = {"f": _DEFAULT_FLOAT, "i": np.dtype(np.int64), "u": np.dtype(np.int64)}.get(
                arr.dtype.kind, arr.dtype)
        arr = arr.astype(dt, copy=False)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with a numpy array (no copy; changes show through both ways)."""
    if not isinstance(array, np.ndarray):
        raise GradcoreError(f"from_numpy expects a numpy.ndarray, not {type(array).__name__}")
    return Tensor._make(array)


_RNG = np.random.default_rng()


def manual_seed(seed: int) -> None:
    """Seed the generator behind randn, rand and nn.Linear's initial weights."""
    global _RNG
    _RNG = np.random.default_rng(seed)


def generator() -> np.random.Generator:
    """The random generator gradcore draws from (reset by manual_seed)."""
    return _RNG


def _shape_args(shape: tuple) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def zeros(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    return tensor(np.zeros(_shape_args(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    return tensor(np.ones(_shape_args(shape), dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return zeros(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return ones(t.shape, dtype=t.dtype, requires_grad=requires_grad)


def randn(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    """Standard normal samples (numpy's generator: the numbers differ from torch.randn's)."""
    data = _RNG.standard_normal(_shape_args(shape)).astype(dtype)
    return tensor(data, requires_grad=requires_grad)


def rand(*shape: Any, requires_grad: bool = False, dtype: Any = np.float32) -> Tensor:
    """Uniform samples in [0, 1)."""
    data = _RNG.random(_shape_args(shape)).astype(dtype)
    return tensor(data, requires_grad=requires_grad)


# ---------------------------------------------------------------------------------------------
# Functions over several tensors


def matmul(a: Any, b: Any) -> Tensor:
    """Matrix product with numpy's rules (1-D operands, batches); see _matmul_vjp for the gradient."""
    if not isinstance(a, Tensor):
        a = tensor(a)
    if not isinstance(b, Tensor):
        b = _lift(b, a)
    # dA reads B and dB reads A: keep each operand only if the other one needs a gradient.
    saved = (a._data if b._requires_grad else None, b._data if a._requires_grad else None)
    return Tensor._make(np.matmul(a._data, b._data), (a, b), _MATMUL, saved,
                        (a._data.ndim, b._data.ndim))


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing axis `dim` (torch.cat, numpy.concatenate)."""
    ts = tuple(t if isinstance(t, Tensor) else tensor(t) for t in tensors)
    if not ts:
        raise GradcoreError("cat() needs at least one tensor")
    data = np.concatenate([t._data for t in ts], axis=dim)
    axis = dim % data.ndim
    bounds = np.cumsum([t._data.shape[axis] for t in ts[:-1]]).tolist()
    return Tensor._make(data, ts, _CAT, None, (axis, bounds))


def concatenate(tensors: Sequence[Any], axis: int = 0) -> Tensor:
    """numpy's spelling of cat."""
    return cat(tensors, dim=axis)


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along a new axis `dim`."""
    ts = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    return cat([t.unsqueeze(dim) for t in ts], dim=dim)


# ---------------------------------------------------------------------------------------------
# Printing


def _array_text(a: np.ndarray) -> str:
    """numpy's text for `a`, styled like PyTorch's: 4 decimals, or "5." when every value is whole."""
    if a.dtype.kind == "f":
        finite = a[np.isfinite(a)]
        whole = bool(np.all(finite == np.round(finite)))
        return np.array2string(a, precision=4, separator=", ", prefix="tensor(",
                               floatmode="maxprec" if whole else "fixed")
    return np.array2string(a, separator=", ", prefix="tensor(")


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def make_dot(t: Tensor, params: dict[str, Tensor] | None = None) -> str:
    """The computational graph behind `t` as Graphviz DOT text (what torchviz.make_dot draws).

    Operations are grey boxes named by grad_fn, leaves that require grad are blue boxes named from
    `params` ({'W': W, ...}) with their shape, and `t` itself is the green box at the bottom.
    Render with `dot -Tpng`; no Graphviz is needed to produce the text.
    """
    names = {id(v): k for k, v in (params or {}).items()}
    lines = ["digraph {",
             '  graph [size="12,12"]',
             "  node [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 "
             "shape=box style=filled]"]

    def leaf_label(leaf: Tensor) -> str:
        name = names.get(id(leaf), "")
        return f"{name}\\n {_shape_text(leaf.shape)}" if name else _shape_text(leaf.shape)

    if t._node is None:
        lines.append(f'  n0 [label="{leaf_label(t)}" fillcolor=lightblue]')
    else:
        ids: dict[int, str] = {}
        for node in reversed(_nodes(t._node)):  # parents first
            for p in node.parents:
                if p is not None and type(p) is not Node and id(p) not in ids:
                    ids[id(p)] = f"n{len(ids)}"
                    lines.append(f'  {ids[id(p)]} [label="{leaf_label(p)}" fillcolor=lightblue]')
            nid = ids[id(node)] = f"n{len(ids)}"
            lines.append(f'  {nid} [label="{node.op.name}" fillcolor=lightgrey]')
            for p in node.parents:
                if p is not None:
                    lines.append(f"  {ids[id(p)]} -> {nid}")
        lines.append(f'  out [label="{leaf_label(t)}" fillcolor=darkolivegreen1]')
        lines.append(f"  {ids[id(t._node)]} -> out")
    lines.append("}")
    return "\n".join(lines) + "\n"
