"""The one number formatter: how gradcore shows a float to a person.

Error messages, optimisation reports, gradient checks, pictures and the formula printer all call it.
Notebook views put those texts into `html_table`, escaped.
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

__all__ = ["number", "point", "json_number", "html_table"]

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


def html_table(header: Sequence[str], rows: Iterable[Sequence[Any]], caption: str = "",
               right: Iterable[int] = (), notes: Iterable[str] = ()) -> str:
    """An HTML table for a notebook view: every cell is str()-ed and escaped, so no text is markup.

    `right` lists the columns aligned right (numbers); `caption` is shown above the table and each
    of `notes` as a paragraph below it.
    """
    import html  # only notebook views need it: the command line's start-up does not load it

    def cell(tag: str, i: int, v: Any) -> str:
        style = ' style="text-align:right"' if i in aligned else ' style="text-align:left"'
        return f"<{tag}{style}>{html.escape(str(v))}</{tag}>"

    aligned = set(right)
    out = ["<table>"]
    if caption:
        out.append(f'<caption style="text-align:left">{html.escape(caption)}</caption>')
    if header:
        out.append("<thead><tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)) + "</tr></thead>")
    out.append("<tbody>")
    out += ["<tr>" + "".join(cell("td", i, v) for i, v in enumerate(r)) + "</tr>" for r in rows]
    out.append("</tbody></table>")
    out += [f"<p>{html.escape(n)}</p>" for n in notes]
    return "\n".join(out)


def json_number(v: float | None) -> float | None:
    """v for JSON: NaN and infinities become None (null), since JSON has no spelling for them."""
    return v if v is not None and math.isfinite(v) else None
