"""The plain command-line reader (gradcore._argv) against argparse: on any command line it accepts,
it reads exactly what argparse reads; whatever argparse refuses, it leaves to argparse."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings, strategies as st

import gradcore.cli as cli
from gradcore._argv import Declared, plain_args

COMMANDS = sorted(c for c in cli._COMMANDS if c not in cli._ARGPARSE_ONLY)


def _options(command: str) -> tuple[list[str], dict[str, tuple]]:
    declared = Declared(f"gradcore {command}")
    cli._COMMANDS[command][1](declared)
    assert declared.plain, command  # every subcommand but explain can be read without argparse
    return declared.positionals, declared.options


# Values argparse must convert, refuse or take as they are: numbers, names, points, choices, words
# that start with '-' (a negative number, a formula), the empty word and a bare '--'.
_VALUES = ["0.01", "1e-5", "100", "-3", "x=1", "x=1,y=2", "x**2+2*x+3", "-x**2", "gd", "bfgs", "adam",
           "dot", "svg", "mermaid", "nan", "1.5", "", "--", "abc", "2", "x", "y=0.5"]


@st.composite
def command_lines(draw: st.DrawFn) -> list[str]:
    command = draw(st.sampled_from(COMMANDS))
    positionals, options = _options(command)
    words = [command]
    names = sorted(options) + ["--nope", "-q", "--he", "--lr=0.1"]
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.integers(0, 2))
        if kind == 0:
            words.append(draw(st.sampled_from(_VALUES)))
        else:
            name = draw(st.sampled_from(names))
            words.append(name)
            if draw(st.booleans()):
                words.append(draw(st.sampled_from(_VALUES)))
    if positionals and draw(st.booleans()):
        words.insert(1, draw(st.sampled_from(["x**2+2*x+3", "x*y", "sin(x)"])))
    return words


def _plain(words: list[str]):
    """What main() reads without argparse (None: argparse reads it)."""
    return None if words and words[0] in cli._ARGPARSE_ONLY else plain_args(words, cli._COMMANDS)


def _argparse_reads(words: list[str]) -> dict | None:
    try:
        return vars(cli.build_parser(words[0]).parse_args(words))
    except (cli._Usage, SystemExit):
        return None


@settings(max_examples=600, deadline=None)
@given(command_lines())
def test_the_plain_reader_reads_what_argparse_reads(words: list[str]) -> None:
    plain = _plain(words)
    if plain is not None:
        assert vars(plain) == _argparse_reads(words), words


@pytest.mark.parametrize("words", [
    ["minimize", "x**2+2*x+3"],
    ["minimize", "x**2+2*x+3", "--method", "gd", "--lr", "0.01", "--tol", "1e-5", "--start", "x=5"],
    ["maximize", "4*x-x**2", "--quiet"],
    ["diff", "x*y"],
    ["grad", "x*y", "--at", "x=1,y=2"],
])
def test_common_command_lines_are_read_without_argparse(words: list[str]) -> None:
    plain = _plain(words)
    assert plain is not None and vars(plain) == _argparse_reads(words)


@pytest.mark.parametrize("words", [
    ["minimize", "--help"], ["minimize", "-x**2"], ["minimize", "x", "--lr=0.1"], ["minimize", "x", "--me", "gd"],
    ["minimize", "x", "--lr", "abc"], ["minimize", "x", "--method", "nope"], ["minimize"], ["minimize", "x", "y"],
    ["explain", "x**2"], ["nope"], [],
])
def test_anything_else_is_left_to_argparse(words: list[str]) -> None:
    assert _plain(words) is None


def test_the_plain_path_does_not_load_argparse() -> None:
    code = ("import sys, gradcore.cli as c; c.main(['minimize', 'x**2+2*x+3', '--quiet']); "
            "print(sorted(m for m in ('argparse', 'gettext', 'locale') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]", out.stdout + out.stderr
