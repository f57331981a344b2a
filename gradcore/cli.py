"""The command line: `python -m gradcore SUBCOMMAND ...` and the `gradcore` console script.

Exit status: 0 success, 1 an optimisation that did not succeed, 2 bad input (never a traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Callable, Sequence

from .errors import GradcoreError, ParseError

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_EPILOG = """examples:
  python -m gradcore diff "x**2+2*x+3"
  python -m gradcore diff "x^2 + 2xy + cos(x+2y)" --var y
"""


class _Usage(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    # argparse prints usage and exits itself; route its complaints through our one-line policy.
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _Usage(f"{message} (see: {self.prog} --help)")


def _parse_expr(text: str):
    from .parse import parse
    return parse(text)


def parse_assignments(text: str | None, flag: str) -> dict[str, float]:
    """'x=1,y=2' -> {'x': 1.0, 'y': 2.0}; a malformed item is a usage error naming it."""
    out: dict[str, float] = {}
    if not text:
        return out
    for item in text.split(","):
        name, eq, value = item.partition("=")
        name = name.strip()
        if not eq or not name:
            raise _Usage(f"{flag} expects name=value pairs separated by commas, e.g. x=1,y=2; got {item!r}")
        try:
            out[name] = float(value)
        except ValueError:
            raise _Usage(f"{flag}: the value of {name} must be a number, got {value.strip()!r}") from None
    return out


def check_point(expr, point: dict[str, float], flag: str) -> None:
    unknown = [k for k in point if k not in expr.variables]
    if unknown:
        raise _Usage(f"{flag}: unknown variable {', '.join(unknown)} "
                     f"(the expression uses {', '.join(expr.variables) or 'no variables'})")


# ---- subcommands --------------------------------------------------------------------------------

def _cmd_diff(args: argparse.Namespace) -> int:
    expr = _parse_expr(args.expr)
    names = [args.var] if args.var else list(expr.variables)
    for name in names:
        if name not in expr.variables:
            raise _Usage(f"--var: {name} is not a variable of the expression "
                         f"(it uses {', '.join(expr.variables) or 'no variables'})")
    partials = {n: expr.diff(n) for n in names}
    if args.json:
        print(json.dumps({"expression": str(expr), "variables": list(expr.variables),
                          "partials": {n: str(d) for n, d in partials.items()}}))
    else:
        print(f"f = {expr}")
        if not names:
            print("f has no variables: every derivative is 0")
        for n, d in partials.items():
            print(f"df/d{n} = {d}")
    return EXIT_OK


def _diff_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("expr", help="the formula, e.g. \"x**2+2*x+3\"")
    p.add_argument("--var", help="differentiate with respect to this variable only")
    p.add_argument("--json", action="store_true", help="print one JSON object")


# name -> (help, add_arguments, run). Each run returns the exit status.
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {
    "diff": ("exact symbolic partial derivatives", _diff_args, _cmd_diff),
}


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="gradcore", description="Differentiate formulas three ways and find their extrema.",
                     epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, (help_, add_arguments, _) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        add_arguments(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status instead of raising."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if not args.command:
            parser.print_help()
            return EXIT_USAGE
        return _COMMANDS[args.command][2](args)
    except ParseError as exc:
        print(f"gradcore: error: {exc.reason}\n{exc.excerpt()}", file=sys.stderr)
        return EXIT_USAGE
    except _Usage as exc:
        print(f"gradcore: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except GradcoreError as exc:
        print(f"gradcore: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gradcore: interrupted", file=sys.stderr)
        return 130
