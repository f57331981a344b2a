"""A Tensor computation as a picture, drawn the way torchviz's make_dot draws PyTorch graphs.

`make_dot` returns a Graph: its `.source` is the Graphviz DOT text, and gradcore draws it as SVG.
"""

from __future__ import annotations

from ..tensors import Node, Tensor, nodes_from
from .svg import Edge, Graph, Shape

__all__ = ["make_dot"]

# torchviz's colours: parameters light blue, operations light grey, the result green.
_LEAF, _OPERATION, _OUTPUT = "lightblue", "lightgrey", "darkolivegreen1"
# The same colours for the SVG, as hex (SVG knows no darkolivegreen1).
_FILL = {_LEAF: "#add8e6", _OPERATION: "#d3d3d3", _OUTPUT: "#caff70"}


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def make_dot(t: Tensor, params: dict[str, Tensor] | None = None) -> Graph:
    """The computational graph behind `t` (what torchviz.make_dot draws), as a Graph.

    Operations are grey boxes named by grad_fn, leaves that require grad are blue boxes named from
    `params` ({'W': W, ...}) with their shape, and `t` itself is the green box at the bottom.
    `print(graph)` or `graph.source` gives the DOT text; a notebook shows the SVG; `graph.save("g.svg")`.
    """
    names = {id(v): k for k, v in (params or {}).items()}
    shapes: list[Shape] = []
    edges: list[Edge] = []
    dot = ["digraph {",
           '  graph [size="12,12"]',
           "  node [align=left fontname=monospace fontsize=10 height=0.2 ranksep=0.1 "
           "shape=box style=filled]"]

    def box(key: str, lines: tuple[str, ...], colour: str) -> None:
        shapes.append(Shape(key, "box", lines, _FILL[colour]))
        label = "\\n ".join(t.replace("\\", "\\\\").replace('"', '\\"') for t in lines)
        dot.append(f'  {key} [label="{label}" fillcolor={colour}]')

    def arrow(a: str, b: str) -> None:
        edges.append(Edge(a, b))
        dot.append(f"  {a} -> {b}")

    def leaf_lines(leaf: Tensor) -> tuple[str, ...]:
        name = names.get(id(leaf), "")
        return (name, _shape_text(leaf.shape)) if name else (_shape_text(leaf.shape),)

    if t._node is None:
        box("n0", leaf_lines(t), _LEAF)
    else:
        ids: dict[int, str] = {}
        for node in reversed(nodes_from(t._node)):  # parents first
            for p in node.parents:
                if p is not None and type(p) is not Node and id(p) not in ids:
                    ids[id(p)] = f"n{len(ids)}"
                    box(ids[id(p)], leaf_lines(p), _LEAF)
            nid = ids[id(node)] = f"n{len(ids)}"
            box(nid, (node.op.name,), _OPERATION)
            for p in node.parents:
                if p is not None:
                    arrow(ids[id(p)], nid)
        box("out", leaf_lines(t), _OUTPUT)
        arrow(ids[id(t._node)], "out")
    dot.append("}")
    made = f" made by {t._node.op.name}" if t._node is not None else ""
    title = f"computation graph of a tensor{made}, shape {_shape_text(t.shape)}"
    return Graph("\n".join(dot) + "\n", shapes, edges, "TB", title)
