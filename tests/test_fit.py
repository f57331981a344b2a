"""gc.fit and `python -m gradcore fit`: the tutorials' fits to their digits, per-sample descent equal to the
hand-written loop, reproducible and complete shuffling, streaming equal to mini-batches in memory, the
least-squares answer, and the command line on good and bad CSV files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gradcore as gc
from gradcore.fitting import csv_batches, read_csv
from gradcore.fitting._data import batch_slices

ROOT = Path(__file__).resolve().parent.parent


def study_hours() -> dict[str, list[float]]:
    x, y = gc.datasets.study_hours()
    return {"x": x, "y": y}


def exam_scores() -> dict[str, np.ndarray]:
    x, y = gc.datasets.exam_scores()
    return {"x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "y": y}


# ---- the tutorials' fits ---------------------------------------------------------------------------


def test_study_hours_per_sample_to_the_tutorials_digits() -> None:
    r = gc.fit("w*x", study_hours(), params={"w": 1.0}, method="sgd", lr=0.01, epochs=100, shuffle=False)
    w = [step.params["w"] for step in r.history]
    assert round(w[0], 6) == 1.260688
    assert w[1] == 1.453417766656 and w[2] == 1.5959051959019805
    assert r.params["w"] == 1.9999999999999236
    assert round((3 * w[0] - 6) ** 2, 5) == 4.91924  # the last sample's loss after epoch 0
    assert round(float(r.predict(x=4.0)), 13) == 7.9999999999997
    assert r.status == "converged" and r.nit == 300 and r.epochs == 100


def test_sgd_equals_the_hand_written_per_sample_loop_exactly() -> None:
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=7), rng.normal(size=7)
    r = gc.fit("w*x + b", {"x": x, "y": y}, params={"w": 0.5, "b": -0.25}, method="sgd", lr=0.05, epochs=20,
               shuffle=False, tol=0)
    w, b = 0.5, -0.25
    for _ in range(20):
        for xi, yi in zip(x, y):
            r_i = w * xi + b - yi
            w, b = w - 0.05 * (2 * r_i * xi), b - 0.05 * (2 * r_i)
    assert r.params == {"b": b, "w": w}


def test_height_weight_centred_as_the_pytorch_tutorial() -> None:
    hw = gc.datasets.height_weight()
    seen: dict[int, float] = {}
    r = gc.fit("W*X + B", {"X": hw[:, 0], "Y": hw[:, 1]}, target="Y", params={"W": 1.0, "B": 1.0}, method="gd",
               lr=0.001, epochs=500, center=True, callback=lambda s: seen.setdefault(s.epoch, s.loss))
    assert [round(seen[e], 4) for e in (0, 10, 20, 490)] == [13.352, 10.3855, 8.5173, 4.6796]
    assert round(r.scaled_params["W"], 6) == 1.820683 and round(r.scaled_params["B"], 6) == 0.367511
    # Back in the data's units: the same line, y = W (x - 171) + B + 65.4.
    assert r.params["W"] == pytest.approx(r.scaled_params["W"])
    assert r.params["B"] == pytest.approx(65.4 + r.scaled_params["B"] - 171 * r.scaled_params["W"])
    assert r.least_squares["W"] == pytest.approx(1.8206897, abs=1e-7)
    assert r.least_squares_loss == pytest.approx(4.539035, abs=1e-6)
    assert r.status == "max_iter"
    mom = gc.fit("W*X + B", {"X": hw[:, 0], "Y": hw[:, 1]}, target="Y", params={"W": 1.0, "B": 1.0},
                 method="momentum", lr=0.001, epochs=500, center=True)
    # The tutorial's float32 prints W = 1.8206898; float64 lands on the least-squares slope 1.8206897.
    assert round(mom.scaled_params["W"], 6) == 1.82069 and abs(mom.scaled_params["B"]) < 1e-5
    assert round(mom.loss, 4) == 4.5390


def test_exam_scores_regression_to_the_tutorials_digits() -> None:
    r = gc.fit("w1*x1 + w2*x2 + w3*x3 + b", exam_scores(), params=dict(w1=0, w2=0, w3=0, b=0), method="gd",
               lr=1e-5, epochs=10000)
    assert [round(r.params[k], 5) for k in ("w1", "w2", "w3")] == [0.88814, 0.46421, 0.65823]
    assert round(r.params["b"], 6) == 0.019540 and round(r.loss, 5) == 0.27122
    assert round(float(r.predict(x1=100, x2=100, x3=60)), 4) == 174.7486
    assert [round(r.least_squares[k], 5) for k in ("w1", "w2", "w3", "b")] == [0.79548, 0.40838, 0.75459, 4.40211]
    assert r.gap > 0.1  # gradient descent has not finished: the tutorial's point
    best = gc.fit("w1*x1 + w2*x2 + w3*x3 + b", exam_scores())
    assert best.status == "converged" and abs(best.gap) < 1e-9
    assert [round(best.params[k], 5) for k in ("w1", "w2", "w3", "b")] == [0.79548, 0.40838, 0.75459, 4.40211]


def test_regression_4x2_to_the_tutorials_digits() -> None:
    x, y = gc.datasets.regression_4x2()
    # The tutorial's loss is (1/2) sum of squares with lr 0.01: the same steps as "sse" with lr 0.005.
    r = gc.fit("b1*x1 + b2*x2 + b3", {"x1": x[:, 0], "x2": x[:, 1], "y": y},
               params={"b1": 10.1, "b2": 15.1, "b3": -6.5}, loss="sse", method="gd", lr=0.005, epochs=5000)
    assert [round(r.params[k], 8) for k in ("b1", "b2", "b3")] == [1.00000367, 1.99999949, 2.99999516]
    half = gc.fit("b1*x1 + b2*x2 + b3", {"x1": x[:, 0], "x2": x[:, 1], "y": y},
                  params={"b1": 10.1, "b2": 15.1, "b3": -6.5}, loss="(pred - y)^2/2", method="gd", lr=0.04,
                  epochs=5000, tol=0)
    assert [round(half.params[k], 6) for k in ("b1", "b2", "b3")] == [1.000004, 1.999999, 2.999995]


# ---- mini-batches, shuffling and streams -----------------------------------------------------------


def test_minibatch_with_a_seed_is_reproducible_and_seeds_differ() -> None:
    d = exam_scores()
    kw = dict(method="minibatch", batch_size=2, lr=1e-5, epochs=20, seed=7)
    a, b = gc.fit("w1*x1 + w2*x2 + w3*x3 + b", d, **kw), gc.fit("w1*x1 + w2*x2 + w3*x3 + b", d, **kw)
    assert a.params == b.params and [s.loss for s in a.history] == [s.loss for s in b.history]
    c = gc.fit("w1*x1 + w2*x2 + w3*x3 + b", d, **{**kw, "seed": 8})
    assert c.params != a.params


def test_shuffling_visits_every_row_once_per_epoch() -> None:
    rng = np.random.default_rng(0)
    orders = []
    for _ in range(3):
        batches = list(batch_slices(10, 3, rng))
        assert [len(b) for b in batches] == [3, 3, 3, 1]
        seen = np.concatenate(batches)
        assert sorted(seen.tolist()) == list(range(10))
        orders.append(seen.tolist())
    assert orders[0] != orders[1]
    assert [(s.start, s.stop) for s in batch_slices(5, 2, None)] == [(0, 2), (2, 4), (4, 5)]


def test_streaming_equals_in_memory_minibatch_for_the_same_batches(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=40)
    y = 3 * x - 1 + 0.1 * rng.normal(size=40)
    kw = dict(params={"w": 0.0, "b": 0.0}, method="minibatch", lr=0.05, epochs=5, shuffle=False)
    memory = gc.fit("w*x + b", {"x": x, "y": y}, batch_size=8, **kw)
    chunks = [{"x": x[i:i + 8], "y": y[i:i + 8]} for i in range(0, 40, 8)]
    streamed = gc.fit("w*x + b", chunks, **kw)
    assert streamed.params == memory.params
    assert [s.loss for s in streamed.history] == [s.loss for s in memory.history]
    path = tmp_path / "line.csv"
    path.write_text("x,y\n" + "".join(f"{float(a)!r},{float(b)!r}\n" for a, b in zip(x, y)))
    from_csv = gc.fit("w*x + b", csv_batches(path, rows=16), batch_size=8, **kw)
    assert from_csv.params == memory.params
    assert from_csv.least_squares == pytest.approx(memory.least_squares, rel=1e-10)
    assert from_csv.r2 == pytest.approx(1 - ((from_csv.predict(x=x) - y) ** 2).sum() / ((y - y.mean()) ** 2).sum(),
                                        abs=0.05)
    once = gc.fit("w*x + b", iter(chunks), **{**kw, "epochs": 1})
    assert once.epochs == 1
    with pytest.raises(gc.GradcoreError, match="one-shot iterator"):
        gc.fit("w*x + b", iter(chunks), **kw)


def test_linear_gd_approaches_least_squares() -> None:
    rng = np.random.default_rng(2)
    d = {"x1": rng.normal(size=200), "x2": rng.normal(size=200)}
    d["y"] = 2 * d["x1"] - 3 * d["x2"] + 0.5 + 0.2 * rng.normal(size=200)
    gaps = [gc.fit("a*x1 + b*x2 + c", d, method="gd", lr=0.05, epochs=e, tol=0).gap for e in (10, 50, 400)]
    assert gaps[0] > gaps[1] > gaps[2] >= -1e-12 and gaps[2] < 1e-12
    r = gc.fit("a*x1 + b*x2 + c", d, method="gd", lr=0.05, epochs=400, tol=0)
    assert r.params == pytest.approx(r.least_squares, abs=1e-8)
    assert 0.9 < r.r2 <= 1 and r.rmse == pytest.approx(np.sqrt(r.loss))


# ---- statuses, options and data forms ----------------------------------------------------------------


def test_a_rate_too_large_is_non_finite_with_the_stable_rate() -> None:
    x, y = gc.datasets.regression_4x2()
    r = gc.fit("b1*x1 + b2*x2 + b3", {"x1": x[:, 0], "x2": x[:, 1], "y": y}, method="gd", lr=1.0)
    assert r.status == "non_finite"
    assert "lr too large: the largest stable rate here is about 2/λ = 0.128" in r.message
    lam = 2 * np.linalg.eigvalsh(np.column_stack([x, np.ones(4)]).T @ np.column_stack([x, np.ones(4)]) / 4)[-1]
    assert f"λ = {lam:.3g}" in r.message


def test_a_nonlinear_model_and_its_domain() -> None:
    t = np.linspace(0, 5, 50)
    r = gc.fit("a*exp(-k*t) + c", {"t": t, "y": 3 * np.exp(-1.3 * t) + 0.5})
    assert r.status == "converged" and r.least_squares is None
    assert r.params == pytest.approx({"a": 3.0, "c": 0.5, "k": 1.3}, abs=1e-5)
    bad = gc.fit("log(a*x) + b", {"x": [1.0, 2.0, 3.0], "y": [0.0, 0.7, 1.1]}, method="gd", lr=5,
                 params={"a": 1, "b": 0})
    assert bad.status == "non_finite" and "log(" in bad.message and "is undefined" in bad.message


def test_data_forms_give_the_same_fit(tmp_path: Path) -> None:
    x, y = gc.datasets.exam_scores()
    model = "w1*x1 + w2*x2 + w3*x3 + b"
    base = gc.fit(model, exam_scores()).params
    table = np.column_stack([x, y])
    assert gc.fit(model, table, columns=["x1", "x2", "x3", "y"]).params == base
    path = tmp_path / "exam.csv"
    path.write_text("x1,x2,x3,y\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in table))
    assert gc.fit(model, str(path)).params == base
    assert gc.fit("w1*a + w2*x2 + w3*x3 + b", exam_scores(), bind={"a": "x1"}).params == {
        k.replace("a", "x1") if k == "a" else k: v for k, v in base.items()}


def test_pandas_dataframe_when_pandas_is_installed() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({**exam_scores(), "student": list("abcde")})  # a text column is left out
    assert gc.fit("w1*x1 + w2*x2 + w3*x3 + b", df).params == gc.fit("w1*x1 + w2*x2 + w3*x3 + b", exam_scores()).params


@pytest.mark.parametrize("kwargs, message", [
    (dict(model="w*x + b + z", params=["w", "b"]), "neither a data column"),
    (dict(target="score"), "no target column 'score'"),
    (dict(method="newton"), "unknown method"),
    (dict(method="gd", batch_size=4), "for batches use method='minibatch'"),
    (dict(method="sgd", batch_size=4), "batch_size 1"),
    (dict(lr=-1.0, method="gd"), "lr must be"),
    (dict(loss="(pred - q)^2"), "must be a formula in pred"),
    (dict(center=True, model="w*x"), "w1\\*x1 \\+ ... \\+ b"),
    (dict(params={"x": 1.0}), "is a data column"),
])
def test_bad_options_are_clear_errors(kwargs: dict, message: str) -> None:
    kw = {"model": "w*x + b", **kwargs}
    with pytest.raises(gc.GradcoreError, match=message):
        gc.fit(kw.pop("model"), study_hours(), **kw)


def test_history_is_bounded_and_keeps_the_last_epoch() -> None:
    r = gc.fit("w*x", study_hours(), method="gd", lr=0.001, epochs=5000, tol=0)
    assert len(r.history) <= 2001 and r.history[-1].epoch == 4999 and r.history[0].epoch == 0


def test_importing_the_module_does_not_hide_the_function() -> None:
    import gradcore.fitting  # noqa: F401
    assert callable(gc.fit) and gc.fit.__module__ == "gradcore.fitting._driver"


# ---- CSV files ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("", "empty.csv, line 1: the file is empty"),
    ("height,weight\n", "no data rows"),
    ("height,weight\n166,58.7\n176,abc\n", "line 3, column 2 (weight): 'abc' is not a number"),
    ("height,weight\n166,58.7\n176,\n", "line 3, column 2 (weight): '' is not a number"),
    ("height,weight\n166,58.7\n\n176\n", "line 4: 1 cell where the header names 2; column 2 (weight) is missing"),
    ("height,weight\n166,58.7,1\n", "line 2: 3 cells where the header names 2; column 3 is one too many"),
    ("height,height\n1,2\n", "line 1, column 2: the name 'height' is used twice"),
    ("height,weight\n166,nan\n", "line 2, column 2 (weight): 'nan' is not a finite number"),
])
def test_bad_csv_files_name_file_line_and_column(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "empty.csv"
    path.write_text(text)
    with pytest.raises(gc.GradcoreError, match=message.replace("(", "\\(").replace(")", "\\)")):
        read_csv(path)


def test_csv_reading_accepts_blank_lines_quotes_and_spaces(tmp_path: Path) -> None:
    path = tmp_path / "ok.csv"
    path.write_text('\ufeffa, b\n1, 2\n\n"3",4\n')
    cols = read_csv(path)
    assert list(cols) == ["a", "b"] and cols["a"].tolist() == [1.0, 3.0] and cols["b"].tolist() == [2.0, 4.0]


# ---- the command line -----------------------------------------------------------------------------------


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "gradcore", "fit", *args], capture_output=True, text=True,
                          timeout=60, cwd=cwd, env=env)


HEIGHTS = "height,weight\n166,58.7\n176,75.7\n171,62.1\n173,70.4\n169,60.1\n"


def test_cli_fits_a_csv(tmp_path: Path) -> None:
    (tmp_path / "heights.csv").write_text(HEIGHTS)
    out = run("w*x + b", "--data", "heights.csv", "--target", "weight", "--x", "height", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "w      1.820689655         1.820689655" in out.stdout
    assert "loss: 4.539034483 (least squares: 4.539034483" in out.stdout
    assert "R²: 0.894421" in out.stdout and "status: converged" in out.stdout
    js = run("w*x + b", "--data", "heights.csv", "--target", "weight", "--x", "height", "--json", cwd=tmp_path)
    report = json.loads(js.stdout)
    assert report["status"] == "converged" and report["params"]["w"] == pytest.approx(1.8206897, abs=1e-7)
    mb = run("w*x + b", "--data", "heights.csv", "--target", "weight", "--x", "height", "--method", "minibatch",
             "--batch-size", "2", "--epochs", "100", "--lr", "0.0001", "--seed", "0", "--center",
             "--log-every", "50", cwd=tmp_path)
    assert mb.returncode == 1 and "status: max_iter" in mb.stdout  # 100 epochs do not reach tol
    assert mb.stdout.count("epoch ") == 2 and "Traceback" not in mb.stderr


@pytest.mark.parametrize("text, args, message", [
    ("height,weight\n166,58.7\n176,abc\n", (), "bad.csv, line 3, column 2 (weight): 'abc' is not a number"),
    ("height,weight\n166,58.7\n176\n", (), "bad.csv, line 3: 1 cell where the header names 2"),
    ("", (), "bad.csv, line 1: the file is empty"),
    (HEIGHTS, ("--target", "mass"), "bad.csv, line 1: no column 'mass' (the header names height, weight)"),
    (HEIGHTS, ("--x", "age"), "bad.csv, line 1: no column 'age'"),
    (HEIGHTS, ("--method", "gd", "--batch-size", "2"), "minibatch"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path: Path, text: str, args: tuple, message: str) -> None:
    (tmp_path / "bad.csv").write_text(text)
    base = ["--target", "weight", "--x", "height"]
    if "--target" in args:
        base = ["--x", "height"]
    if "--x" in args:
        base = ["--target", "weight"]
    out = run("w*x + b", "--data", "bad.csv", *base, *args, cwd=tmp_path)
    assert out.returncode == 2, out.stdout
    assert message in out.stderr and out.stderr.count("\n") == 1 and "Traceback" not in out.stderr


def test_cli_missing_file_exits_2(tmp_path: Path) -> None:
    out = run("w*x + b", "--data", "nope.csv", cwd=tmp_path)
    assert out.returncode == 2 and "cannot read nope.csv" in out.stderr
