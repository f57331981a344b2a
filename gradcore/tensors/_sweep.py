"""The reverse sweep behind Tensor.backward(): each node's gradient goes to its parents through its
op's VJP, children first, summed where paths meet; what reaches the leaves is handed back."""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any, Callable

import numpy as np

from ._node import Node
from ._vjps import sum_to_shape

_ndarray = np.ndarray


def sweep(root: Node, seed: np.ndarray, own_seed: bool,
          keep: Callable[[Any, np.ndarray, bool], None]) -> dict:
    """Run the sweep from `root` with d(root)/d(root) = seed; return {leaf: [gradient, owned]}.

    `owned` says whether nobody else holds that array (then the caller may keep it as .grad).
    A node marked by retain_grad() passes its gradient to keep(tensor, g, False) on the way.

    One walk: a node is taken from a heap (latest created first) only when every node made after
    it has been taken, so all of its gradient has arrived. Creation order is a topological order
    (see _node.py), so the nodes are visited in the order nodes_from lists them, without a
    separate walk to find them and a sort.
    """
    # pending[x] = [gradient so far, whether the sweep owns that array], for nodes and leaves. Nodes
    # and tensors hash by identity (Tensor sets object.__hash__), so they are their own keys.
    pending: dict[Any, list] = {root: [seed, own_seed]}
    heap = [(-root.seq, root)]  # seq is unique, so nodes themselves are never compared
    while heap:
        node = heappop(heap)[1]
        g = pending.pop(node)[0]
        if node.retain is not None:
            kept = node.retain()
            if kept is not None:
                keep(kept, g, False)
        for parent, gp in zip(node.parents, node.op.vjp(node, g)):
            if parent is None or gp is None:
                continue
            if type(gp) is not _ndarray:
                gp = np.asarray(gp)
            if type(parent) is Node:
                shape, dtype = parent.shape, parent.dtype
            else:
                shape, dtype = parent._data.shape, parent._data.dtype
            owned = None
            if gp.shape != shape or gp.dtype != dtype:
                summed = sum_to_shape(gp, shape, dtype)
                if summed is not gp:
                    # A sum or a cast allocates (ours to keep); a bare broadcast is a read-only view.
                    owned, gp = summed.flags.writeable, summed
            seen = pending.get(parent)
            if seen is None:
                if owned is None:
                    # The sweep may keep or add into gp only if nobody else holds it: not the
                    # upstream array passed through (d(x+y)/dx = g), not a view (reshape, split).
                    owned = gp is not g and gp.base is None and gp.flags.writeable
                pending[parent] = [gp, owned]
                if type(parent) is Node:
                    heappush(heap, (-parent.seq, parent))
            elif seen[1]:
                np.add(seen[0], gp, out=seen[0])
            else:
                seen[0] = np.asarray(seen[0] + gp)  # 0-d sums come back as scalars
                seen[1] = True
    return pending  # only leaves are left: their share
