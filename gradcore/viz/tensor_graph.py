"""A Tensor computation as Graphviz DOT text, drawn the way torchviz's make_dot draws PyTorch graphs.

Only text is produced; rendering it (`dot -Tpng`) is up to the reader.
"""

from __future__ import annotations

from ..tensors import Node, Tensor, nodes_from

__all__ = ["make_dot"]


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
        for node in reversed(nodes_from(t._node)):  # parents first
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
