"""The one number formatter: how gradcore shows a float to a person.

Error messages, optimisation reports, gradient checks, pictures and the formula printer all call it.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping

__all__ = ["number", "point", "json_number"]

# Integral floats below this print as integers; past it, float64 no longer holds every integer.
_EXACT_INTEGERS = 1e16


def number(v: Any, digits: int | None = None, signed_zero: bool = False) -> str:
    """A float as a person writes it: 3 not 3.0, then `digits` significant digits (None: the shortest
    text that reads back to the same float). inf, -inf and nan print as such; -0.0 prints as 0 unless
    `signed_zero` (the formula printer keeps it, so the text parses back to the same constant).

    Anything that is not a real number is shown with str().
    """
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        try:
            v = float(v)  # numpy scalars
        except (TypeError, ValueError):
            return str(v)
    v = float(v)
    if not math.isfinite(v):
        return repr(v)
    if v.is_integer() and abs(v) < _EXACT_INTEGERS:
        if v == 0 and signed_zero and math.copysign(1.0, v) < 0:
            return "-0"
        return str(int(v))
    return repr(v) if digits is None else format(v, f".{digits}g")


def point(values: Mapping[str, float] | Iterable[tuple[str, float]], digits: int | None = 10,
          sep: str = " = ") -> str:
    """A point as "x = 1, y = 2.5" (or with sep="=": "x=1, y=2.5")."""
    items = values.items() if isinstance(values, Mapping) else values
    return ", ".join(f"{k}{sep}{number(v, digits)}" for k, v in items)


def json_number(v: float | None) -> float | None:
    """v for JSON: NaN and infinities become None (null), since JSON has no spelling for them."""
    return v if v is not None and math.isfinite(v) else None
