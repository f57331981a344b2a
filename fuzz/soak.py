"""A release soak: for a given time, compare every gradient gradcore computes with sympy's on random formulas.

For each random formula from the shared test strategy (tests/strategies.py) and a random point, the
partials by Expr.diff, by the compiled adjoint code and by Value's reverse mode must equal sympy's
exact derivative (30 digits) within 1e-8, wherever float64 evaluates the derivative well.
Not part of the test suite. Run from the repository root:

    python fuzz/soak.py --minutes 30
"""

from __future__ import annotations

import argparse
import math
import pathlib
import sys
import time

_ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path[:0] = [str(_ROOT), str(_ROOT / "tests")]  # gradcore from this checkout, and the shared strategy

from hypothesis import HealthCheck, Phase, assume, given, settings  # noqa: E402

import gradcore as gc  # noqa: E402
from gradcore.check import check_gradient  # noqa: E402
from helpers import close, sympy_partial, well_conditioned  # noqa: E402
from strategies import expressions, points  # noqa: E402


class _TimeUp(Exception):
    """Raised inside the property when the soak's time is over: ends hypothesis's run at once."""


def soak(seconds: float) -> dict[str, int]:
    """Run the comparison until `seconds` have passed; return counts of formulas and partials checked."""
    counts = {"formulas": 0, "partials": 0, "skipped": 0}
    stop = time.monotonic() + seconds

    @settings(max_examples=10**9, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(expressions(max_leaves=12), points())
    def compare(e: gc.Expr, p: dict) -> None:
        if time.monotonic() > stop:
            raise _TimeUp
        try:
            compiled = gc.compile(e)
            _, by_code = compiled.value_and_grad(*[p[v] for v in compiled.variables])
            by_value = {c.variable: c.autograd for c in check_gradient(e, p).partials}
        except gc.DomainError:
            assume(False)
        counts["formulas"] += 1
        for name, code in zip(compiled.variables, by_code):
            symbolic = e.diff(name).evaluate(p)
            if not (math.isfinite(symbolic) and abs(symbolic) < 1e10 and well_conditioned(e.diff(name), p)):
                counts["skipped"] += 1
                continue
            try:
                exact = sympy_partial(e, name, p)
            except (RecursionError, TypeError):
                counts["skipped"] += 1
                continue
            for how, ours in (("Expr.diff", symbolic), ("compiled", code), ("Value", by_value[name])):
                assert close(ours, exact, rel=1e-8, abs_=1e-8), (how, str(e), name, p, ours, exact)
            counts["partials"] += 1

    try:
        compare()
    except _TimeUp:
        pass
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to run (10)")
    args = parser.parse_args()
    counts = soak(60.0 * args.minutes)
    print(f"{counts['formulas']} formulas, {counts['partials']} partials agreed with sympy "
          f"(each three ways); {counts['skipped']} skipped as ill-conditioned or beyond sympy")


if __name__ == "__main__":
    main()
