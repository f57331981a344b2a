"""The graph a Tensor computation records: one Node per operation, and the order to walk them in.

Every other part of the package builds on these two small classes; none of them knows about Tensor.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable

import numpy as np


class Op:
    """How one kind of operation sends a gradient back: vjp(node, g) -> one array (or None) per parent.

    The op object is shared by every node that applies it; what differs per node (saved arrays,
    an axis, a shape) lives on the node. `name` is PyTorch's grad_fn name (MulBackward0, ...), so
    printed graphs read the same as the tutorials' pictures.
    """

    __slots__ = ("name", "vjp")

    def __init__(self, name: str, vjp: Callable[[Node, np.ndarray], Any]) -> None:
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

    def __init__(self, op: Op, parents: tuple, saved: Any, ctx: Any, out: np.ndarray) -> None:
        self.op = op
        self.parents = parents
        self.saved = saved
        self.ctx = ctx
        self.shape = out.shape
        self.dtype = out.dtype
        self.retain: Any = None  # a weak reference to the tensor, after retain_grad()
        self.seq = next(_COUNTER)


def nodes_from(root: Node) -> list[Node]:
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
