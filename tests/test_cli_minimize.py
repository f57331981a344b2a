"""`python -m gradcore minimize|maximize`: run in subprocesses, checking output, JSON and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"expression", "direction", "method", "status", "success", "point", "fun", "grad_norm", "nit",
        "message", "classification"}


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "gradcore", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def run_json(*args: str) -> tuple[dict, int]:
    p = run(*args, "--json")
    assert p.stdout.count("\n") == 1, p.stdout  # exactly one object, on one line
    return json.loads(p.stdout), p.returncode


def test_the_main_job_prints_the_minimum_and_exits_0() -> None:
    p = run("minimize", "x**2+2*x+3")
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    assert lines[0] == "minimize f(x) = x**2 + 2*x + 3"
    assert lines[1] == "  df/dx = 2*x + 2"
    assert "minimum: f = 2 at x = -1" in lines
    assert any(l.startswith("status: converged (the gradient norm") for l in lines)
    assert "classification: minimum (Hessian eigenvalues 2)" in lines
    assert any(l.startswith("method: bfgs, ") for l in lines)


def test_worked_example_1_from_the_command_line() -> None:
    out, code = run_json("minimize", "x**2+2*x+3", "--method", "gd", "--lr", "0.01", "--tol", "1e-5",
                         "--start", "x=5")
    assert code == 0
    assert KEYS <= set(out)
    assert out["nit"] == 693 and out["status"] == "converged" and out["success"] is True
    assert out["point"] == {"x": -0.9999950132028192}
    assert out["fun"] == pytest.approx(2.0000000000249, abs=1e-13)
    assert out["expression"] == "x**2 + 2*x + 3" and out["direction"] == "minimize"
    assert out["method"] == "gd" and out["classification"] == "minimum"
    assert out["gradient"] == {"x": "2*x + 2"}


def test_maximize_a_formula_that_starts_with_a_minus() -> None:
    out, code = run_json("maximize", "-(x**2)+4*x")
    assert code == 0 and out["direction"] == "maximize"
    assert out["point"]["x"] == pytest.approx(2.0) and out["fun"] == pytest.approx(4.0)
    assert out["classification"] == "maximum"


def test_the_saddle_example_is_unbounded_exit_1() -> None:
    p = run("minimize", "x**2+2*x*y+cos(x+2*y)")
    assert p.returncode == 1 and p.stderr == ""
    assert "no minimum: f is unbounded below" in p.stdout.splitlines()
    assert "  df/dy = 2*x - 2*sin(x + 2*y)" in p.stdout.splitlines()
    out, code = run_json("minimize", "x**2+2*x*y+cos(x+2*y)")
    assert code == 1 and out["status"] == "unbounded" and out["success"] is False
    assert "unbounded below" in out["message"]


@pytest.mark.parametrize("args, status", [
    (("x**2", "--method", "gd", "--lr", "1e-6", "--max-iter", "50"), "max_iter"),
    (("log(x)", "--method", "gd", "--start", "x=1"), "non_finite"),
    (("x**2 - y**2", "--start", "x=0,y=0"), "saddle"),
    (("x**2", "--method", "gd", "--lr", "1.5", "--start", "x=5"), "non_finite"),
])
def test_every_failure_status_exits_1_with_json(args, status) -> None:
    out, code = run_json("minimize", *args)
    assert code == 1 and out["status"] == status and out["success"] is False
    assert KEYS <= set(out)


def test_non_finite_names_the_function_and_the_point() -> None:
    out, _ = run_json("minimize", "log(x)", "--method", "gd", "--start", "x=1")
    assert out["message"].startswith("log(-0.0917084258") and "at x=-0.0917" in out["message"]
    p = run("minimize", "x**2", "--method", "gd", "--lr", "1.5", "--start", "x=5")
    assert "no minimum found: the iteration diverged" in p.stdout
    assert "learning rate 1.5 is too large" in p.stdout


def test_multi_start_lists_the_distinct_minima() -> None:
    p = run("minimize", "x**4 - 3*x**2 + x", "--starts", "10", "--seed", "0")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert "minimum: f = -3.513905039 at x = -1.300839566" in lines
    assert "distinct local minima from 10 starts (best first):" in lines
    assert any(l.startswith("  f = -1.070230182 at x = 1.1309011") for l in lines)
    out, _ = run_json("minimize", "x**4 - 3*x**2 + x", "--starts", "10")
    assert [round(o["point"]["x"], 4) for o in out["optima"]] == [-1.3008, 1.1309]


def test_log_every_prints_a_progress_table() -> None:
    p = run("minimize", "x**2+2*x+3", "--method", "gd", "--lr", "0.01", "--tol", "1e-5", "--start", "x=5",
            "--log-every", "100")
    assert p.returncode == 0
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["iteration", "f", "|grad", "f|", "x"]
    rows = [l.split() for l in lines[1:9]]
    assert [int(r[0]) for r in rows] == [0, 100, 200, 300, 400, 500, 600, 693]
    assert rows[0][1:] == ["38", "12", "5"]
    # With --json the table goes to stderr and stdout stays one JSON object.
    q = run("minimize", "x**2+2*x+3", "--log-every", "1", "--json")
    assert json.loads(q.stdout)["status"] == "converged" and "iteration" in q.stderr


def test_with_several_starts_each_progress_row_names_its_run() -> None:
    p = run("minimize", "(x**2-1)**2", "--starts", "3", "--log-every", "2", "--method", "gd",
            "--max-iter", "5")
    lines = p.stdout.splitlines()
    assert lines[0].split()[:2] == ["run", "iteration"]
    rows = [l.split() for l in lines[1:] if l[:1] == " " and l.split()[0].isdigit()]
    # (run, iteration): every 2nd iteration of each run, and each run's last one (5) as well.
    assert [(int(r[0]), int(r[1])) for r in rows] == [(1, 0), (2, 0), (2, 2), (2, 4), (2, 5),
                                                      (3, 0), (3, 2), (3, 4), (3, 5)]


def test_a_start_outside_the_domain_is_a_failed_search_not_bad_input() -> None:
    p = run("minimize", "log(x)", "--start", "x=-1")
    assert p.returncode == 1 and p.stderr == ""
    assert "no minimum found: f cannot be evaluated at the start" in p.stdout
    assert "log(-1) is undefined" in p.stdout


def test_quiet_prints_one_line() -> None:
    p = run("minimize", "(x-3)**2 + 1", "--quiet")
    assert p.returncode == 0 and p.stdout == "minimum: f = 1 at x = 3\n"


def test_exact_asks_sympy_for_a_closed_form() -> None:
    p = run("minimize", "x**2+2*x+3", "--method", "gd", "--start", "x=5", "--exact")
    assert p.returncode == 0
    assert "exact critical point (sympy): x = -1, f = 2" in p.stdout.splitlines()


@pytest.mark.parametrize("args, message", [
    (("minimize", "x**2+"), "expected a number"),
    (("minimize", "x**2", "--start", "z=1"), "--start: unknown variable z (the expression uses x)"),
    (("minimize", "x**2", "--start", "x"), "--start expects name=value pairs"),
    (("minimize", "x**2", "--start", "x=nan"), "--start: the value of x must be finite, got nan"),
    (("minimize", "x**2", "--start", "x=abc"), "--start: the value of x must be a number"),
    (("minimize", "x**2", "--lr", "0"), "--lr must be a positive finite number, got 0.0"),
    (("minimize", "x**2", "--lr", "-0.5"), "--lr must be a positive finite number, got -0.5"),
    (("minimize", "x**2", "--tol", "-1"), "--tol must be a positive finite number, got -1.0"),
    (("minimize", "x**2", "--starts", "0"), "--starts must be >= 1, got 0"),
    (("minimize", "x**2", "--max-iter", "-3"), "--max-iter must be >= 0"),
    (("minimize", "x**2", "--method", "sgd"), "invalid choice: 'sgd'"),
    (("minimise", "x**2"), "invalid choice: 'minimise'"),
    (("minimize",), "the following arguments are required: expr"),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, message) -> None:
    p = run(*args)
    assert p.returncode == 2
    assert p.stdout == ""
    assert "Traceback" not in p.stderr
    assert p.stderr.startswith("gradcore: error: ") and message in p.stderr.splitlines()[0]


def test_a_parse_error_shows_a_caret() -> None:
    p = run("minimize", "x**2 + * 3")
    assert p.returncode == 2
    lines = p.stderr.splitlines()
    assert lines[1] == "  x**2 + * 3" and lines[2] == "         ^"


def test_help_shows_examples() -> None:
    for cmd in ("minimize", "maximize"):
        p = run(cmd, "--help")
        assert p.returncode == 0 and "examples:" in p.stdout and f"python -m gradcore {cmd}" in p.stdout
        assert "exit status" in p.stdout
    top = run("--help")
    assert 'python -m gradcore minimize "x**2+2*x+3"' in top.stdout


def test_the_plain_path_imports_neither_sympy_nor_matplotlib() -> None:
    code = ("import sys, io, contextlib\n"
            "from gradcore.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['minimize', 'x**2+2*x*y+cos(x+2*y)'])\n"
            "    main(['maximize', '-(x**2)+4*x', '--json', '--starts', '3', '--log-every', '5'])\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'matplotlib', 'scipy'))\n"
            "print(heavy)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "[]"


def test_a_large_formula_is_minimized_without_printing_its_gradient(capsys) -> None:
    # 999 powers: its gradient prints as hundreds of named parts, which `gradcore diff` shows.
    from gradcore.cli import main
    from gradcore.optimize._report import GRADIENT_SHOWN_NODES

    assert main(["minimize", "^".join(["x"] * 1000)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == (f"  the gradient is not shown: f's graph has 1,000 nodes (over {GRADIENT_SHOWN_NODES}; "
                        "gradcore diff prints it)")
    assert "local minimum: f = 0.3702799315 at x = 0.0679509114 (more minima may exist: try --starts 10)" in lines
    assert not any(line.startswith("  df/dx") for line in lines)
