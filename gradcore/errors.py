"""The exceptions gradcore raises for failures a user can cause.

Every one is a ValueError, so callers that only know the standard library still catch them.
"""

from __future__ import annotations

from .format import number

__all__ = ["GradcoreError", "ParseError", "DomainError", "NumericOverflowError", "NotDifferentiableError",
           "caret_excerpt"]

# How many characters either side of a fault a caret excerpt shows; long inputs are cut.
_WINDOW = 36


class GradcoreError(ValueError):
    """Base class of every error gradcore raises on purpose."""


def caret_excerpt(text: str, position: int) -> str:
    """Return two lines: `text` (cut to a window around `position`) and a caret under it."""
    position = max(0, min(position, len(text)))
    start = max(0, position - _WINDOW)
    end = min(len(text), position + _WINDOW)
    prefix = "..." if start > 0 else ""
    suffix = "..." if end < len(text) else ""
    # Only the window is looked at, so refusing a text of megabytes costs no more than a short one.
    flat = "".join(" " if ch in "\t\r\n\v\f" else ch for ch in text[start:end])
    shown = prefix + flat + suffix
    return f"  {shown}\n  {' ' * (len(prefix) + position - start)}^"


class ParseError(GradcoreError):
    """The text is not a formula gradcore accepts.

    `position` is the 0-based index of the fault in `text`; `reason` is the one-line message
    without the excerpt. `str(err)` shows the reason, then the text with a caret under the fault.
    """

    def __init__(self, reason: str, text: str, position: int) -> None:
        self.reason = reason
        self.text = text
        self.position = position
        super().__init__(f"{reason} (at position {position})\n{caret_excerpt(text, position)}")

    def excerpt(self) -> str:
        """The text with a caret under the fault (two lines)."""
        return caret_excerpt(self.text, self.position)


class DomainError(GradcoreError, ArithmeticError):
    """A function was evaluated outside its domain, e.g. log(-1), sqrt(-1), 1/0, asin(2).

    `function` names the primitive, `operands` holds its arguments, `point` (when known) the
    variables' values at which the whole expression was being evaluated.
    """

    def __init__(self, function: str, operands: tuple, detail: str = "", point: dict | None = None,
                 symbol: str | None = None) -> None:
        self.function = function
        self.operands = tuple(operands)
        self.detail = detail
        self.point = dict(point) if point else None
        self.symbol = symbol
        shown = [number(a) for a in self.operands]
        infix = [f"({t})" if t.startswith("-") else t for t in shown]
        call = symbol.join(infix) if symbol and len(shown) == 2 else f"{function}({', '.join(shown)})"
        message = f"{call} {self._verb}"
        if detail:
            message += f": {detail}"
        if self.point:
            message += " at " + ", ".join(f"{k}={number(v)}" for k, v in self.point.items())
        super().__init__(message)

    _verb = "is undefined"

    def at(self, point: dict) -> "DomainError":
        """Return the same error, now also naming the point being evaluated."""
        return type(self)(self.function, self.operands, self.detail, point, self.symbol)


class NumericOverflowError(DomainError, OverflowError):
    """A result too large for float64, e.g. exp(1000): reported, never a silent inf."""

    _verb = "overflows float64"


class NotDifferentiableError(DomainError):
    """The table's derivative rule is undefined at the point, e.g. sqrt at 0 (its rule is g/(2*out)).

    Raised by every interpreter that evaluates a derivative numerically (Value, compiled code).
    """

    _verb = "has no derivative"
