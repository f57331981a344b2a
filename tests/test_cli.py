"""The command line as a whole: help with examples, formulas that start with '-', bad points,
closed pipes; always an exit status and never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import gradcore.cli as cli


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gradcore", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.mark.parametrize("command", sorted(cli._COMMANDS))
def test_every_subcommand_has_help_with_examples(command: str) -> None:
    out = run(command, "--help")
    assert out.returncode == 0 and "examples:" in out.stdout
    assert f"python -m gradcore {command} " in out.stdout


@pytest.mark.parametrize("args, expected", [
    (["diff", "-x*y"], "df/dx = -y"),
    (["codegen", "-(x**2)+4*x"], "def value(x, /):"),
    (["grad", "-x**2", "--at", "x=3"], "df/dx = -2*x"),
    (["maximize", "-(x**2)+4*x", "--quiet"], "maximum: f = 4 at x = 2"),
])
def test_a_formula_may_start_with_a_minus(args: list[str], expected: str) -> None:
    out = run(*args)
    assert out.returncode == 0, out.stderr
    assert expected in out.stdout


@pytest.mark.parametrize("args, message", [
    (["grad", "x", "--at", "x=nan"], "--at: the value of x must be finite, got nan"),
    (["check", "x", "--at", "x=1e400"], "--at: the value of x must be finite, got 1e400"),
    (["minimize", "x**2", "--start", "x=inf"], "--start: the value of x must be finite, got inf"),
    (["minimize", "x**2", "--start", "x=1,x=2"], "--start: x is given twice"),
    (["minimize", "x**2", "--lr", "inf"], "--lr must be a positive finite number, got inf"),
    (["minimize", "x**2", "--seed", "-1", "--starts", "3"], "seed must be a whole number >= 0, got -1"),
    (["trace", "x*y", "--at", "x=1"], "--at: no value for y"),
    (["frobnicate"], "invalid choice: 'frobnicate'"),
])
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    out = run(*args)
    assert out.returncode == 2
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("gradcore: error: ") and message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_json_never_holds_nan_or_infinity() -> None:
    for args in (["minimize", "x**2+2*x*y+cos(x+2*y)", "--json"], ["minimize", "log(x)", "--json"],
                 ["grad", "x**2", "--at", "x=3", "--json"]):
        out = run(*args)
        json.loads(out.stdout, parse_constant=lambda token: pytest.fail(f"bare {token} in {args}"))


def test_a_closed_pipe_ends_quietly() -> None:
    cmd = (f"{sys.executable} -m gradcore minimize 'x**2+2*x+3' --method gd --start x=5 "
           "--log-every 1 | head -n 2")
    out = subprocess.run(["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, text=True,
                         timeout=60)
    assert out.stdout.count("\n") == 2
    assert "Traceback" not in out.stderr and "BrokenPipe" not in out.stderr
    assert out.returncode == 141


def test_no_arguments_prints_help_and_exits_2() -> None:
    out = run()
    assert out.returncode == 2 and "usage: gradcore" in out.stdout


def test_the_minimize_path_loads_neither_sympy_nor_the_teaching_modules() -> None:
    code = ("import sys, gradcore.cli as c; c.main(['minimize', 'x**2+2*x+3', '--quiet']); "
            "print(sorted(m for m in sys.modules if m in ('sympy', 'matplotlib') or m in "
            "('gradcore.value', 'gradcore.viz', 'gradcore.check', 'gradcore.nn', 'gradcore.optim')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines()[-1] == "[]"
