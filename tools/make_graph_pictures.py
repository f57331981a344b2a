"""Draw the computation-graph pictures of the docs (docs/images/graph-*.svg) with gradcore's own SVG.

Usage: python tools/make_graph_pictures.py [OUTPUT_DIR]   (default: docs/images). Needs nothing beyond
gradcore. Prints each file written. tests/test_svg.py runs it and checks the committed files match.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout, even uninstalled

import gradcore as gc  # noqa: E402


def worked_example() -> gc.viz.Graph:
    """The autograd page's formula at (1, 2), after backward: every box shows data and grad."""
    return gc.draw("x**2 + 2*x*y + cos(x + 2*y)", point={"x": 1, "y": 2})


def tutorial_loss() -> gc.viz.Graph:
    """The PyTorch-workflow tutorial's loss graph, as its `make_dot(loss, params=params)` draws it."""
    data = gc.datasets.height_weight()
    x, y = data[:, 0], data[:, 1]
    X = gc.tensor(x - x.mean()).float()
    Y = gc.tensor(y - y.mean()).float()
    W = gc.tensor(1.0, requires_grad=True).float()
    B = gc.tensor(1.0, requires_grad=True).float()
    loss = ((W * X + B - Y) ** 2).mean()
    return gc.make_dot(loss, params={"W": W, "B": B})


PICTURES = {"graph-worked-example.svg": worked_example, "graph-tutorial-loss.svg": tutorial_loss}


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "images"
    out.mkdir(parents=True, exist_ok=True)
    for name, make in PICTURES.items():
        print(make().save(out / name))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
