"""`python -m gradcore grad|check|graph|trace`: run in subprocesses, checking output, JSON and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKED = "x**2 + 2*x*y + 3 + cos(x + 2*y)"


def run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "gradcore", *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=120)


def test_grad_prints_the_partials_by_autograd_and_by_the_symbolic_derivative() -> None:
    p = run("grad", WORKED, "--at", "x=1,y=2")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.splitlines() == [
        f"f = {WORKED}",
        "at x=1, y=2: f = 8.283662185463227",
        "df/dx = 2*x + 2*y - sin(x + 2*y)",
        "  autograd 6.958924274663138   symbolic 6.958924274663138   agree",
        "df/dy = 2*x - 2*sin(x + 2*y)",
        "  autograd 3.917848549326277   symbolic 3.917848549326277   agree",
        "autograd and the symbolic derivative agree (largest difference 0.0e+00)",
    ]


def test_grad_json_without_sympy() -> None:
    p = run("grad", "x^2 + 2xy + cos(x+2y)", "--at", "y=2,x=1", "--json")
    assert p.returncode == 0 and p.stdout.count("\n") == 1
    d = json.loads(p.stdout)
    assert d["expression"] == "x**2 + 2*x*y + cos(x + 2*y)" and d["point"] == {"x": 1.0, "y": 2.0}
    assert d["agree"] is True and d["not_checked"] == [] and "sympy" not in p.stdout
    assert d["partials"]["x"] == {"symbolic": "2*x + 2*y - sin(x + 2*y)", "autograd": 6.958924274663138,
                                  "symbolic_value": 6.958924274663138, "agree": True}
    assert d["partials"]["y"]["symbolic_value"] == 3.917848549326277


def test_grad_without_sympy_never_loads_it() -> None:
    code = ("import sys, io, contextlib\n"
            "from gradcore.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    status = main(['grad', {WORKED!r}, '--at', 'x=1,y=2'])\n"
            "print(status, 'sympy' in sys.modules)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert p.stdout.split() == ["0", "False"], p.stderr
    p = subprocess.run([sys.executable, "-c", code.replace("'x=1,y=2']", "'x=1,y=2', '--sympy']")],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=120)
    assert p.stdout.split() == ["0", "True"], p.stderr  # the probe can fail: --sympy does load it


def test_grad_exits_1_when_autograd_and_the_symbolic_derivative_disagree(monkeypatch, capsys) -> None:
    from gradcore import check
    from gradcore.cli import main
    from gradcore.expr import Expr
    real = Expr.diff
    monkeypatch.setattr(Expr, "diff", lambda self, name, *a, **k: real(self, name, *a, **k) + 1)  # a wrong rule
    assert main(["grad", "x*y", "--at", "x=2,y=3"]) == 1
    out = capsys.readouterr().out
    assert "  autograd 3.0   symbolic 4.0   DISAGREE" in out
    assert out.splitlines()[-1] == "autograd and the symbolic derivative DISAGREE (largest difference 1.0e+00)"
    assert main(["grad", "x*y", "--at", "x=2,y=3", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["agree"] is False and d["partials"]["x"]["agree"] is False
    report = check.symbolic_gradient("x*y", {"x": 2.0, "y": 3.0})
    assert report.max_error == 1.0 and [p.agree for p in report.partials] == [False, False]


def test_grad_without_sympy_says_which_partial_has_no_value(monkeypatch, capsys) -> None:
    from gradcore.cli import main
    from gradcore.expr import Expr, const, raw
    real = Expr.diff
    # A derivative formula that leaves its domain at the point (log(-1)) has no number to compare.
    monkeypatch.setattr(Expr, "diff", lambda self, name, *a, **k:
                        raw("add", real(self, name), raw("log", const(-1.0))) if name == "x" else real(self, name))
    assert main(["grad", "x*y", "--at", "x=2,y=3"]) == 1
    out = capsys.readouterr().out
    assert "(the derivative has no value here)" in out
    assert "autograd and the symbolic derivative agree on df/dy" in out
    assert out.splitlines()[-1] == "not checked: df/dx (the symbolic derivative has no value there)"
    assert main(["grad", "x*y", "--at", "x=2,y=3", "--json"]) == 1
    d = json.loads(capsys.readouterr().out)
    assert d["agree"] is None and d["not_checked"] == ["x"] and d["partials"]["x"]["symbolic_value"] is None


def test_grad_with_sympy_prints_symbolic_partials_and_both_values() -> None:
    p = run("grad", WORKED, "--at", "x=1,y=2", "--sympy")
    assert p.returncode == 0 and p.stderr == ""
    assert p.stdout.splitlines() == [
        f"f = {WORKED}",
        "at x=1, y=2: f = 8.283662185463227",
        "df/dx = 2*x + 2*y - sin(x + 2*y)",
        "  autograd 6.958924274663138   sympy 6.958924274663138   agree",
        "df/dy = 2*x - 2*sin(x + 2*y)",
        "  autograd 3.917848549326277   sympy 3.917848549326277   agree",
        "autograd and sympy agree (largest difference 0.0e+00)",
    ]


def test_grad_json_with_sympy() -> None:
    p = run("grad", "x^2 + 2xy + cos(x+2y)", "--at", "y=2,x=1", "--json", "--sympy")
    assert p.returncode == 0 and p.stdout.count("\n") == 1
    d = json.loads(p.stdout)
    assert d["expression"] == "x**2 + 2*x*y + cos(x + 2*y)" and d["point"] == {"x": 1.0, "y": 2.0}
    assert d["agree"] is True
    assert d["partials"]["x"] == {"symbolic": "2*x + 2*y - sin(x + 2*y)", "autograd": 6.958924274663138,
                                  "sympy": 6.958924274663138, "agree": True}
    assert d["partials"]["y"]["autograd"] == 3.917848549326277


def test_grad_of_a_formula_starting_with_a_minus() -> None:
    p = run("grad", "-x**2", "--at", "x=3", "--json")
    assert p.returncode == 0 and json.loads(p.stdout)["partials"]["x"]["autograd"] == -6.0


def test_check_text_json_and_a_failing_check() -> None:
    p = run("check", WORKED, "--at", "x=1,y=2")
    assert p.returncode == 0 and p.stdout.splitlines()[-1] == "passed: the three methods agree"
    p = run("check", WORKED, "--at", "x=1,y=2", "--json")
    d = json.loads(p.stdout)
    assert p.returncode == 0 and d["passed"] is True and d["partials"]["x"]["sympy"] == 6.958924274663138
    p = run("check", "sign(x)", "--at", "x=0")
    assert p.returncode == 1 and "FAILED" in p.stdout and p.stderr == ""


def test_graph_dot_and_mermaid() -> None:
    p = run("graph", WORKED, "--at", "x=1,y=2")
    assert p.returncode == 0 and p.stdout.startswith("digraph gradcore {") and p.stdout.endswith("}\n")
    assert '"{ x | data 1 | grad 6.95892 }"' in p.stdout
    p = run("graph", WORKED, "--format", "mermaid")
    assert p.returncode == 0 and p.stdout.startswith("flowchart LR\n")
    assert '["x"]' in p.stdout and "data" not in p.stdout  # no point: structure only
    p = run("graph", WORKED, "--at", "x=1,y=2", "--format", "mermaid")
    assert '["x<br/>data 1<br/>grad 6.95892"]' in p.stdout


def test_trace_text_and_json() -> None:
    p = run("trace", WORKED, "--at", "x=1,y=2")
    assert p.returncode == 0 and p.stderr == ""
    lines = p.stdout.splitlines()
    assert lines[0] == f"forward pass: f = {WORKED} at x=1, y=2"
    assert lines[-1] == "gradient: df/dx = 6.95892, df/dy = 3.91785"
    p = run("trace", "x*y", "--at", "x=2,y=3", "--json")
    d = json.loads(p.stdout)
    assert d["gradient"] == {"x": 3.0, "y": 2.0} and d["backward"][0]["node"] == "v1"


@pytest.mark.parametrize("args,message", [
    (("grad", "x*y", "--at", "x=1"),
     "gradcore: error: --at: no value for y (the expression uses x, y; e.g. --at x=1,y=1)"),
    (("trace", "x*y"), "gradcore: error: --at: no value for x, y (the expression uses x, y; e.g. --at x=1,y=1)"),
    (("check", "x", "--at", "z=1"), "gradcore: error: --at: unknown variable z (the expression uses x)"),
    (("grad", "x", "--at", "x=one"), "gradcore: error: --at: the value of x must be a number, got 'one'"),
    (("grad", "x", "--at", "x"), "gradcore: error: --at expects name=value pairs separated by commas, "
                                 "e.g. x=1,y=2; got 'x'"),
    (("grad", "log(x)", "--at", "x=-1"), "gradcore: error: log(-1) is undefined: log is defined for x > 0 at x=-1"),
    (("trace", "sqrt(x)", "--at", "x=0"), "gradcore: error: sqrt(0) has no derivative: its derivative rule "
                                          "fails there (float division by zero) at x=0"),
    (("graph", "x", "--format", "png"), None),
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(args, message) -> None:
    p = run(*args)
    assert p.returncode == 2 and p.stdout == ""
    assert "Traceback" not in p.stderr and p.stderr.count("\n") == 1, p.stderr
    if message:
        assert p.stderr.strip() == message
    else:
        assert p.stderr.startswith("gradcore: error: argument --format: invalid choice: 'png'")


def test_parse_error_shows_a_caret_and_exits_2() -> None:
    p = run("grad", "x +* 2", "--at", "x=1")
    assert p.returncode == 2 and "Traceback" not in p.stderr
    assert p.stderr.splitlines()[0].startswith("gradcore: error: ")
    assert p.stderr.splitlines()[-1].strip() == "^"


def test_help_lists_the_new_commands() -> None:
    p = run("--help")
    assert p.returncode == 0
    for cmd in ("grad", "check", "graph", "trace"):
        assert cmd in p.stdout
    assert 'python -m gradcore trace "x**2 + 2*x*y + 3 + cos(x + 2*y)" --at x=1,y=2' in p.stdout


def test_grad_never_says_agree_for_a_partial_sympy_gave_no_value_for() -> None:
    # sympy has no number for d/dx sign(acos(...)) here; the report may speak of df/dy only.
    out = subprocess.run([sys.executable, "-m", "gradcore", "grad", "sign(acos(0.9*tanh(abs(x^2)))) + y",
                          "--at", "x=-1.2,y=1", "--sympy"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "autograd and sympy agree on df/dy" in out.stdout
    assert "not checked by sympy: df/dx" in out.stdout
    js = subprocess.run([sys.executable, "-m", "gradcore", "grad", "sign(acos(0.9*tanh(abs(x^2)))) + y",
                         "--at", "x=-1.2,y=1", "--json", "--sympy"], capture_output=True, text=True, timeout=120)
    data = json.loads(js.stdout)
    assert data["agree"] is None and data["not_checked"] == ["x"] and data["partials"]["y"]["agree"] is True
