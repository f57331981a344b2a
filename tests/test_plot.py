"""gradcore.plot: valid files, the drawn path equals the history point for point, bounds hold every
point, drawing changes nothing, the command line's --plot, and the docs' pictures regenerate."""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

import gradcore as gc  # noqa: E402
from gradcore.cli import main  # noqa: E402
from gradcore.viz import plot  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
L = "3*u^2 + 3*v^2 - u*v + 7*u - 7*v + 10"
QUARTIC = "x**4 - 3*x**2 + x"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")


def paths(fig) -> list:
    """The lines drawn as descent paths, from the figure's artists."""
    return [line for ax in fig.axes for line in ax.get_lines() if line.get_gid() == "path"]


def assert_valid(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".png":
        assert data.startswith(PNG)
    elif path.suffix == ".svg":
        assert ET.fromstring(data).tag.endswith("svg")
    else:
        assert data.startswith(b"%PDF-")


def descent() -> gc.OptimizeResult:
    return gc.minimize(L, start=(4, 4), method="gd", lr=0.05, max_iter=21)


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
def test_files_are_valid(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"contour{suffix}"
    plot.save(plot.contour(L, descent()), target)
    assert_valid(target)


def test_bad_suffix_is_refused(tmp_path: Path) -> None:
    with pytest.raises(gc.GradcoreError, match="png, .svg or .pdf"):
        plot.save(plot.learning_curve(descent()), tmp_path / "x.jpg")


def test_contour_path_is_the_history_point_for_point_and_bounds_hold_it() -> None:
    r = descent()
    fig = plot.contour(L, r)
    (line,) = paths(fig)
    expected = np.array([e.x for e in r.history])
    assert len(expected) == 22
    np.testing.assert_array_equal(np.column_stack(line.get_data()), expected)
    ax = fig.axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert (x0 <= expected[:, 0]).all() and (expected[:, 0] <= x1).all()
    assert (y0 <= expected[:, 1]).all() and (expected[:, 1] <= y1).all()
    # The minimum (-1, 1) is found and marked by its kind.
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("minimum: f = 3 at u = -1, v = 1") for t in labels)


def test_surface_path_is_at_height_f() -> None:
    r = descent()
    (line,) = paths(plot.surface(L, r, bounds=(-5, 5)))
    xs, ys, zs = line.get_data_3d()
    np.testing.assert_array_equal(np.column_stack([xs, ys]), [e.x for e in r.history])
    np.testing.assert_array_equal(zs, [e.fun for e in r.history])


def test_curve_draws_every_start_and_marks_global_and_local_minima() -> None:
    r = gc.minimize(QUARTIC, starts=5)
    fig = plot.curve(QUARTIC, r)
    drawn = paths(fig)
    assert len(drawn) == len(r.runs) == 5
    for line, run in zip(drawn, r.runs):
        np.testing.assert_array_equal(line.get_xdata(), [e.x[0] for e in run.history])
        np.testing.assert_array_equal(line.get_ydata(), [e.fun for e in run.history])
        lo, hi = fig.axes[0].get_xlim()
        assert all(lo <= e.x[0] <= hi for e in run.history)
    labels = " | ".join(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert "global minimum: f = -3.514" in labels and "local minimum: f = -1.07" in labels


def test_given_bounds_are_kept() -> None:
    fig = plot.contour(L, descent(), bounds=[(-6, 6), (-2, 7)])
    assert fig.axes[0].get_xlim() == (-6, 6) and fig.axes[0].get_ylim() == (-2, 7)


def test_histories_from_tensor_loops() -> None:
    losses = [13.35, 10.4, 8.5, 7.3]
    (line,) = plot.learning_curve(losses, [[0, 5.0], [10, 4.0]], labels=["a", "b"]).axes[0].get_lines()[:1]
    np.testing.assert_array_equal(line.get_ydata(), losses)
    rows = [{"u": 4.0, "v": 4.0}, {"u": 1.0, "v": 2.0}, {"u": -1.0, "v": 1.0}]
    (path,) = paths(plot.contour(L, rows))
    np.testing.assert_array_equal(np.column_stack(path.get_data()), [[4, 4], [1, 2], [-1, 1]])
    (path,) = paths(plot.curve("x**2", [3.0, 1.0, 0.2]))
    np.testing.assert_array_equal(path.get_ydata(), [9.0, 1.0, 0.04000000000000001])


def test_domain_is_masked() -> None:
    r = gc.minimize("x - log(x)", start={"x": 3.0})
    fig = plot.curve("x - log(x)", r, bounds=(-1, 4))
    ys = [line for line in fig.axes[0].get_lines() if line.get_label() == "f"][0].get_ydata()
    assert np.isnan(ys).any() and np.isfinite(ys).any()


def test_drawing_never_changes_a_result() -> None:
    r = gc.minimize(QUARTIC, starts=3)
    before = copy.deepcopy((r.x, r.fun, r.nit, r.status, r.history, [q.history for q in r.runs], r.optima))
    plot.curve(QUARTIC, r)
    plot.learning_curve(r)
    plot.picture(QUARTIC, r)
    after = (r.x, r.fun, r.nit, r.status, r.history, [q.history for q in r.runs], r.optima)
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1:] == after[1:]


def test_fit_line_and_compare() -> None:
    x, y = gc.datasets.height_weight().T
    fig = plot.fit_line(x, y, (1.8207, -245.57))
    (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_gid() == "fit"]
    np.testing.assert_allclose(line.get_ydata(), [1.8207 * 166 - 245.57, 1.8207 * 176 - 245.57])
    fig = plot.compare(L, methods=["gd", {"method": "gd", "lr": 0.1, "label": "gd 0.1"}], start=(4, 4))
    assert len(paths(fig)) == 2 and len(fig.axes) == 3  # contour, its colour bar, the learning curves


# ---- the command line ------------------------------------------------------------------------------

@pytest.mark.parametrize("formula, extra, name", [
    (QUARTIC, [], "one.png"), (QUARTIC, ["--starts", "4"], "one-starts.svg"),
    (L, ["--method", "gd", "--lr", "0.05"], "two.png"), (L, ["--starts", "3"], "two-starts.pdf"),
    ("x**2 + y**2 + z**2", [], "three.png"), ("x**2 + y**2 + z**2", ["--starts", "3"], "three-starts.png"),
])
def test_cli_plot(tmp_path: Path, capsys, formula: str, extra: list, name: str) -> None:
    target = tmp_path / name
    assert main(["minimize", formula, "--plot", str(target), *extra]) == 0
    assert_valid(target)
    assert "minimum" in capsys.readouterr().out


def test_cli_plot_maximize(tmp_path: Path, capsys) -> None:
    assert main(["maximize", "-(x**2)+4*x", "--plot", str(tmp_path / "m.png")]) == 0
    assert_valid(tmp_path / "m.png")


def test_cli_bad_suffix_exits_2(tmp_path: Path, capsys) -> None:
    assert main(["minimize", "x**2", "--plot", str(tmp_path / "m.gif")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and ".png, .svg or .pdf" in err and not (tmp_path / "m.gif").exists()


def test_cli_plot_without_matplotlib_exits_2_with_the_install_hint(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from gradcore.cli import main\n"
            f"sys.exit(main(['minimize', 'x**2', '--plot', {str(tmp_path / 'm.png')!r}]))\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120)
    assert p.returncode == 2
    assert "pip install gradcore[plot]" in p.stderr and "Traceback" not in p.stderr


def test_make_pictures_regenerates_every_image(tmp_path: Path) -> None:
    p = subprocess.run([sys.executable, str(ROOT / "tools" / "make_pictures.py"), str(tmp_path)],
                       capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert p.returncode == 0, p.stderr
    shown = sorted(set(re.findall(r"\]\(images/([\w.-]+\.png)\)", (ROOT / "docs" / "pictures.md").read_text())))
    assert len(shown) >= 4
    for name in shown:
        assert (ROOT / "docs" / "images" / name).is_file()  # committed beside the page
        assert_valid(tmp_path / name)
