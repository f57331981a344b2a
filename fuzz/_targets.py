"""The two fuzz targets, shared by the atheris harnesses and the soak script.

`parse_only` must raise nothing but ParseError; `pipeline` runs parse -> diff -> compile -> gradient
and must raise nothing but gradcore's own errors. Anything else is a bug in gradcore.
"""

from __future__ import annotations

import math

import gradcore as gc


def parse_only(text: str) -> None:
    """Parse `text`; a ParseError is a fine answer, any other exception is a finding."""
    try:
        gc.parse(text)
    except gc.ParseError:
        pass


def pipeline(text: str) -> None:
    """Parse, differentiate, compile and take a gradient at (0.5, 0.5, ...); only gradcore's errors may end it."""
    try:
        expr = gc.parse(text)
        point = {v: 0.5 for v in expr.variables}
        for v in expr.variables:
            expr.diff(v)
        compiled = gc.compile(expr)
        value, grad = compiled.value_and_grad(*[point[v] for v in compiled.variables])
        # The compiled gradient and the symbolic one are the same rules: they must agree where finite.
        for v, g in zip(compiled.variables, grad):
            exact = expr.diff(v).evaluate(point)
            if math.isfinite(g) and math.isfinite(exact):
                assert math.isclose(g, exact, rel_tol=1e-9, abs_tol=1e-9), (text, v, g, exact)
    except gc.GradcoreError:
        pass


def bytes_to_text(data: bytes) -> str:
    """Fuzzers hand over bytes; formulas are text (invalid UTF-8 becomes U+FFFD, which the parser refuses)."""
    return data.decode("utf-8", errors="replace")
