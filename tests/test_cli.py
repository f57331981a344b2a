"""The command line as a whole: help with examples, formulas that start with '-', bad points,
closed pipes; always an exit status and never a traceback."""

from __future__ import annotations

import json
import os
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


def test_no_arguments_prints_one_line_and_exits_2() -> None:
    out = run()
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("gradcore: error: no command given")
    assert "minimize" in out.stderr and "--help" in out.stderr


def test_version() -> None:
    from gradcore import __version__
    out = run("--version")
    assert out.returncode == 0 and out.stdout == f"gradcore {__version__}\n"


def test_a_full_disk_is_one_line_and_a_non_zero_exit() -> None:
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full to write to")
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "gradcore", "minimize", "x**2+2*x+3"], stdout=full,
                             stderr=subprocess.PIPE, text=True, timeout=60)
    assert out.returncode == 1
    assert out.stderr == "gradcore: error: could not write the output: No space left on device\n"


def test_an_encoding_the_terminal_cannot_show_is_one_line() -> None:
    env = dict(os.environ, PYTHONIOENCODING="ascii")
    out = subprocess.run([sys.executable, "-m", "gradcore", "diff", "theta**2"], capture_output=True,
                         text=True, timeout=60, env=env)
    assert out.returncode == 0 and out.stdout  # plain ASCII output goes through
    out = subprocess.run([sys.executable, "-m", "gradcore", "diff", "\u03b8**2"], capture_output=True,
                         timeout=60, env=env)
    assert out.returncode == 1 and b"Traceback" not in out.stderr
    assert out.stderr.decode().startswith("gradcore: error: the output cannot be written in this terminal's "
                                          "encoding (ascii)")


@pytest.mark.parametrize("argv, message", [
    (["minimize", "x**2", "--start", ""], "--start is empty"),
    (["grad", "x**2", "--at", " "], "--at is empty"),
    (["grad", "x*y", "--at", "3"], "the expression uses x, y"),
])
def test_empty_or_nameless_points_are_errors(argv, message) -> None:
    out = run(*argv)
    assert out.returncode == 2 and message in out.stderr and "Traceback" not in out.stderr


def test_a_point_may_be_repeated_flags_or_a_bare_number() -> None:
    both = run("grad", "x**2*y", "--at", "x=3", "--at", "y=2", "--json")
    joined = run("grad", "x**2*y", "--at", "x=3,y=2", "--json")
    assert both.returncode == 0 and both.stdout == joined.stdout
    bare = run("minimize", "(x-2)**2", "--start", "5", "--json")
    named = run("minimize", "(x-2)**2", "--start", "x=5", "--json")
    assert bare.returncode == 0 and bare.stdout == named.stdout


def test_the_minimize_path_loads_neither_sympy_nor_the_teaching_modules() -> None:
    code = ("import sys, gradcore.cli as c; c.main(['minimize', 'x**2+2*x+3', '--quiet']); "
            "print(sorted(m for m in sys.modules if m in ('sympy', 'matplotlib') or m in "
            "('gradcore.value', 'gradcore.viz', 'gradcore.check', 'gradcore.nn', 'gradcore.optim', "
            "'numpy.random', 'gradcore.tensors', 'gradcore.derivation')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines()[-1] == "[]"


def test_the_minimize_path_leaves_json_threading_and_unicode_tables_unloaded() -> None:
    # Start-up time: json loads only for --json, threading's lock comes from _thread, and the
    # Unicode tables only for names beyond ASCII.
    code = ("import sys, gradcore.cli as c; c.main(['minimize', 'x**2+2*x+3']); "
            "print(sorted(m for m in sys.modules if m in ('json', 'threading', 'unicodedata')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.splitlines()[-1] == "[]"


@pytest.mark.parametrize("argv", [
    ["minimize", "x**2+2*x+3"], ["maximize", "-(x**2)+4*x", "--method", "gd", "--lr", "0.1", "--json"],
    ["diff", "x*y", "--var", "y", "--steps"], ["grad", "x**2", "--at", "x=3"],
    ["codegen", "exp(-x**2)", "--hessian"], ["fit", "w*x + b", "--data", "a.csv", "--target", "y"],
])
def test_a_parser_built_for_one_command_reads_it_as_the_whole_parser_does(argv: list[str]) -> None:
    assert cli.build_parser(argv[0]).parse_args(argv) == cli.build_parser().parse_args(argv)
