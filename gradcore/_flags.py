"""Reading the command line's values: name=value points (--at, --start, --params) and the usage error.

Every complaint is a `Usage`, which the command line prints as one line and exit status 2.
"""

from __future__ import annotations

import math
from typing import Sequence

__all__ = ["Usage", "parse_assignments", "check_point", "full_point"]


class Usage(Exception):
    """Bad command-line input: printed as one line, exit status 2."""


def parse_assignments(text: str | Sequence[str] | None, flag: str,
                      variables: Sequence[str] = ()) -> dict[str, float]:
    """'x=1,y=2' -> {'x': 1.0, 'y': 2.0}.

    `text` may also be a list (the flag given more than once: --at x=1 --at y=2), and a bare number
    stands for the one variable when `variables` has exactly one. An empty, malformed, repeated or
    non-finite item is a usage error.
    """
    out: dict[str, float] = {}
    if text is None:
        return out
    for chunk in [text] if isinstance(text, str) else text:
        if not chunk.strip():
            raise Usage(f"{flag} is empty; give name=value pairs, e.g. {flag} x=1,y=2")
        for item in chunk.split(","):
            name, eq, value = item.partition("=")
            name = name.strip()
            if not eq and len(variables) == 1 and _is_number(item):
                name, eq, value = variables[0], "=", item
            if not eq or not name:
                hint = f"; the expression uses {', '.join(variables)}" if len(variables) > 1 else ""
                raise Usage(f"{flag} expects name=value pairs separated by commas, e.g. x=1,y=2; "
                             f"got {item!r}{hint}")
            if name in out:
                raise Usage(f"{flag}: {name} is given twice")
            try:
                out[name] = float(value)
            except ValueError:
                raise Usage(f"{flag}: the value of {name} must be a number, got {value.strip()!r}") from None
            if not math.isfinite(out[name]):
                raise Usage(f"{flag}: the value of {name} must be finite, got {value.strip()}")
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_point(expr, point: dict[str, float], flag: str) -> None:
    unknown = [k for k in point if k not in expr.variables]
    if unknown:
        raise Usage(f"{flag}: unknown variable {', '.join(unknown)} "
                     f"(the expression uses {', '.join(expr.variables) or 'no variables'})")


def full_point(expr, text: str | Sequence[str] | None, flag: str = "--at") -> dict[str, float]:
    """The point given by --at, which must name every variable of the expression."""
    point = parse_assignments(text, flag, expr.variables)
    check_point(expr, point, flag)
    missing = [v for v in expr.variables if v not in point]
    if missing:
        raise Usage(f"{flag}: no value for {', '.join(missing)} (the expression uses "
                     f"{', '.join(expr.variables)}; e.g. {flag} {','.join(f'{v}=1' for v in expr.variables)})")
    return {v: point[v] for v in expr.variables}
