"""What the command line prints about a search: the human report, the JSON object, the progress log.

Also the optional exact check of a critical point by sympy (imported only when it is asked for).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

from ..expr import Expr
from ..format import json_number, number, point as fmt_point
from ..printing import to_text
from ._result import HistoryEntry, OptimizeResult, Reason, Status, plural, shown_fun, shown_point

__all__ = ["report_dict", "report_text", "headline", "log_header", "log_line", "exact_critical_point"]


def _json(v: float) -> float | None:
    return json_number(float(v))


def _formula(e: Expr) -> str:
    # Shared parts are named once (u1, ...), so even the derivative of x^x^...^x prints in linear size.
    return to_text(e, shared=True)


def report_dict(result: OptimizeResult, expr: Expr | None = None) -> dict[str, Any]:
    """The JSON object `--json` prints: plain types only; inf and nan become null."""
    out: dict[str, Any] = {
        "expression": None if expr is None else _formula(expr),
        "direction": result.direction,
        "method": result.method,
        "status": result.status.value,
        "success": result.success,
        "point": {k: _json(v) for k, v in result.point.items()},
        "fun": _json(result.fun),
        "grad_norm": _json(result.grad_norm),
        "nit": result.nit,
        "message": result.message,
        "test": result.test,
        "reason": None if result.reason is None else result.reason.value,
        "classification": result.classification,
        "variables": list(result.variables),
        "nfev": result.nfev,
        "start": result.start,
    }
    if expr is not None:
        out["gradient"] = {v: _formula(expr.diff(v)) for v in expr.variables}
    if result.critical_point is not None:
        cp = result.critical_point
        out["critical_point"] = {"point": cp.point, "fun": _json(cp.fun), "classification": cp.classification}
    if result.runs:
        out["optima"] = [{"point": o.point, "fun": o.fun, "classification": o.classification,
                          "count": o.count} for o in result.optima]
    return out


def headline(result: OptimizeResult) -> str:
    """One line: what was found, and how sure it is; or why nothing was."""
    goal = "minimum" if result.direction == "minimize" else "maximum"
    side = "below" if goal == "minimum" else "above"
    where = shown_point(result)
    fun = number(shown_fun(result), 10)
    status, reason = result.status, result.reason
    if status is Status.CONVERGED:
        if reason == Reason.BOUNDARY:
            return f"boundary {goal}: f = {fun} at {where}, on the edge of f's domain"
        if result.runs:  # multi-start: the best of the runs, with the tally on the next lines
            return f"{goal}: f = {fun} at {where}"
        if "global" in result.message or not result.variables:
            return f"{goal}: f = {fun} at {where}"
        return f"local {goal}: f = {fun} at {where} (more {goal.replace('um', 'a')} may exist: try --starts 10)"
    if status is Status.UNBOUNDED and reason == Reason.RAY:
        ray = _between(result.message, f"unbounded {side} (", "):")
        return f"local {goal} f = {fun} at {where}; f is unbounded {side} ({ray})"
    if status is Status.UNBOUNDED and reason == Reason.POLE:
        return "no " + goal + ": " + _between(result.message, f"no {goal}: ", "; found")
    if status is Status.UNBOUNDED and reason == Reason.ASYMPTOTE:
        return (f"no {goal}: f only approaches its {'infimum' if goal == 'minimum' else 'supremum'} "
                "as x runs off to infinity")
    if status is Status.UNBOUNDED:
        return f"no {goal}: f is unbounded {side}"
    if status is Status.SADDLE:
        if result.classification == "inflection":
            more = _between(result.message, f"f is unbounded {side} (", "), so")
            more = f"; f is unbounded {side} ({more})" if more != result.message else ""
            return f"no {goal} here: {where} is a stationary inflection point (f = {fun}){more}"
        if result.classification == "degenerate":
            return (f"no {goal} here: the gradient vanishes at {where} (f = {fun}), "
                    f"but f is {'lower' if goal == 'minimum' else 'higher'} nearby")
        what = "a saddle point" if result.classification == "saddle" else f"a {result.classification}"
        return f"no {goal} here: the gradient vanishes at {what}, {where} (f = {fun})"
    if status is Status.MAX_ITER and reason == Reason.PLATEAU:
        return f"no {goal} here: the gradient is merely tiny at {where} (f = {fun}), with no critical point near"
    if status is Status.MAX_ITER and reason == Reason.TIMEOUT:
        return f"no {goal} found: the time limit ran out before the gradient vanished"
    if status is Status.MAX_ITER:
        return f"no {goal} found: the search stopped before the gradient vanished"
    if result.nit == 0 and not math.isfinite(result.fun):
        return f"no {goal} found: f cannot be evaluated at the start"
    if result.message.startswith("diverged"):
        return f"no {goal} found: the iteration diverged"
    return f"no {goal} found: f could not be evaluated on the way"


def _between(text: str, left: str, right: str) -> str:
    """The part of a message between two of its fixed phrases (the one place its words are kept)."""
    start = text.find(left)
    if start < 0:
        return text
    start += len(left)
    end = text.find(right, start)
    return text[start:] if end < 0 else text[start:end]


# The report shows the gradient of a formula up to this many nodes: a person reads a textbook
# formula's gradient, not the hundreds of named parts of a large one (`gradcore diff` prints those).
GRADIENT_SHOWN_NODES = 500


def report_text(result: OptimizeResult, expr: Expr | None = None, verbose: bool = False) -> str:
    """The human summary: the formula and its gradient, the answer, status, classification, cost;
    with `verbose`, also the test that decided the status and the raw point."""
    lines = []
    if expr is not None:
        names = ", ".join(expr.variables)
        lines.append(f"{result.direction} f({names}) = {_formula(expr)}")
        size = len(expr.nodes())
        if size <= GRADIENT_SHOWN_NODES:
            lines += [f"  df/d{v} = {_formula(expr.diff(v))}" for v in expr.variables]
        else:
            lines.append(f"  the gradient is not shown: f's graph has {size:,} nodes "
                         f"(over {GRADIENT_SHOWN_NODES}; gradcore diff prints it)")
        lines.append("")
    lines.append(headline(result))
    lines.append(f"status: {result.status.value} ({result.message})")
    if result.status is not Status.CONVERGED and result.status is not Status.SADDLE:
        lines.append(f"last point: {shown_point(result)} (f = {number(shown_fun(result), 10)})")
    cp = result.critical_point
    if cp is not None:
        lines.append(f"critical point: {fmt_point(cp.point)} (f = {number(cp.fun, 10)}), "
                     f"a {cp.classification}")
    elif result.classification is not None:
        w = result.eigenvalues
        eig = "" if w is None or not w.size else \
            f" (Hessian eigenvalues {', '.join(number(float(v), 10) for v in w)})"
        if result.status in (Status.CONVERGED, Status.SADDLE):
            lines.append(f"classification: {result.classification}{eig}")
        else:
            # The gradient is not zero there: the Hessian describes the shape, not an extremum.
            shape = _SHAPES.get(result.classification, result.classification)
            lines.append(f"curvature at the last point (not a critical point): {shape}{eig}")
    lines.append(f"method: {result.method}, {plural(result.nit, 'iteration')}, "
                 f"{plural(result.nfev, 'evaluation')} of f and its gradient")
    if verbose:
        lines.append(f"decided by: {result.test or 'no test (see the status)'}")
        lines.append(f"raw point: {fmt_point(result.point, digits=None) or '(no variables)'} "
                     f"(f = {number(result.fun)})")
    if result.runs:
        goal = "minima" if result.direction == "minimize" else "maxima"
        lines.append(f"distinct local {goal} from {len(result.runs)} starts (best first):")
        lines += [f"  f = {number(o.fun, 10)} at {fmt_point(o.point)} ({plural(o.count, 'run')})"
                  for o in result.optima] or ["  (none: no run converged)"]
    return "\n".join(lines)


# What the Hessian's signs say at a point that is not critical.
_SHAPES = {"minimum": "convex there, as at a minimum", "maximum": "concave there, as at a maximum",
           "saddle": "curving up one way and down another, as at a saddle"}


def log_header(variables: Sequence[str]) -> str:
    """The header of the --log-every progress table."""
    return f"{'iteration':>9}  {'f':>17}  {'|grad f|':>12}  " + "  ".join(f"{v:>15}" for v in variables)


def log_line(entry: HistoryEntry) -> str:
    """One row of the progress table, like the tutorials' "epoch N: loss = ..." lines."""
    # Fixed-width g-format columns (not format.number), so the rows line up under the header.
    return (f"{entry.nit:>9}  {entry.fun:>17.10g}  {entry.grad_norm:>12.6g}  "
            + "  ".join(f"{v:>15.10g}" for v in entry.x))


def exact_critical_point(expr: Expr, point: Mapping[str, float], timeout: float = 2.0) -> str:
    """Ask sympy whether a simple closed form near `point` is an exact critical point.

    Each coordinate is guessed with sympy.nsimplify (rationals, pi, e, square roots) at a few
    tolerances, and a guess is kept only if every partial derivative is exactly 0 there. sympy
    runs in a daemon thread that is abandoned after `timeout` seconds, so this never hangs.
    """
    import threading

    found: list[str] = []

    def work() -> None:
        import sympy as sp

        s = expr.to_sympy()
        symbols = {sym.name: sym for sym in s.free_symbols}
        syms = [symbols.get(v, sp.Symbol(v, real=True)) for v in expr.variables]
        partials = [sp.diff(s, sym) for sym in syms]
        for tol in (1e-12, 1e-9, 1e-6, 1e-4):
            guess = {sym: sp.nsimplify(float(point[v]), [sp.pi, sp.E], tolerance=tol)
                     for sym, v in zip(syms, expr.variables)}
            if all(sp.simplify(d.subs(guess)) == 0 for d in partials):
                value = sp.simplify(s.subs(guess))
                coords = ", ".join(f"{sym} = {guess[sym]}" for sym in syms)
                found.append(f"exact critical point (sympy): {coords}, f = {value}")
                return
        found.append("exact critical point (sympy): no simple closed form found near this point")

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(timeout)
    if found:
        return found[0]
    return f"exact critical point (sympy): not found within {number(timeout, 10)} s"
