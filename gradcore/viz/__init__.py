"""Teaching views of a computation graph: DOT, Mermaid and `draw` (graph.py), the SVG layout and the
Graph object (svg.py), trace tables (trace.py), and the Tensor picture `make_dot` (tensor_graph.py).
This module only re-exports them.
"""

from __future__ import annotations

import importlib
from typing import Any

from .graph import draw, to_dot, to_mermaid
from .svg import Graph
from .trace import BackwardRow, ForwardRow, Trace, trace

__all__ = ["to_dot", "to_mermaid", "draw", "Graph", "trace", "Trace", "ForwardRow", "BackwardRow", "make_dot"]


def __getattr__(name: str) -> Any:
    # make_dot is loaded on first use (PEP 562): the Tensor picture needs numpy's Tensor engine,
    # which the Value pictures and the trace table do not.
    if name == "make_dot":
        make_dot = importlib.import_module(".tensor_graph", __name__).make_dot
        globals()["make_dot"] = make_dot
        return make_dot
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
