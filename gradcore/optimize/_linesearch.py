"""The backtracking (Armijo) line search shared by the armijo, bfgs and newton methods.

A trial outside f's domain counts as a step too long; a search that finds no lower point raises Stalled.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ..errors import DomainError

__all__ = ["line_search", "Stalled"]

ARMIJO_C1 = 1e-4
MAX_HALVINGS = 60
MAX_DOUBLINGS = 60


class Stalled(Exception):
    """No step along the search direction lowers f any further in float64.

    `error` is the DomainError of the last trial when every trial left f's domain.
    """

    def __init__(self, evaluations: int, error: DomainError | None = None) -> None:
        super().__init__(evaluations)
        self.evaluations, self.error = evaluations, error


def line_search(vg: Callable, x: np.ndarray, f: float, g: np.ndarray, d: np.ndarray,
                t: float) -> tuple[np.ndarray, float, np.ndarray, float, int]:
    """Backtracking search along d: accept t with f(x + t d) <= f + c1 t (g . d), c1 = 1e-4.

    Returns (x + t d, f there, grad f there, t, evaluations). A trial outside f's domain, or with a
    non-finite value, counts as "too long" and is halved. When the first accepted step decreases f
    by at least 90% of the linear prediction, f is not curving up along d, so the step is doubled
    while f keeps falling: this is what lets an unbounded objective run off quickly instead of crawling.
    """
    slope = float(g @ d)
    if math.isfinite(slope):
        def linear(c: float) -> float:
            """c (g . d): the linear prediction of the change of f, times c."""
            return c * slope
    else:
        # g . d overflows (|g| and |d| near 1e154 and beyond), though c1 t (g . d) need not: the
        # product is taken as ((c u) |g|max) |d|max with u the slope of the scaled vectors.
        gmax, dmax = float(np.max(np.abs(g))), float(np.max(np.abs(d)))
        unit = float((g / gmax) @ (d / dmax))

        def linear(c: float) -> float:
            return c * unit * gmax * dmax
    nev = 0
    error: DomainError | None = None
    for _ in range(MAX_HALVINGS):
        xt = x + t * d
        nev += 1
        try:
            ft, gt = vg(*xt.tolist())  # Python floats: the compiled float path
        except DomainError as exc:
            error = exc
            t *= 0.5
            continue
        error = None
        gt = np.asarray(gt, dtype=float)
        if math.isfinite(ft) and ft <= f + linear(ARMIJO_C1 * t) and np.isfinite(gt).all():
            for _ in range(MAX_DOUBLINGS):
                if not ft - f <= linear(0.9 * t):
                    break
                x2 = x + 2 * t * d
                if not np.isfinite(x2).all():
                    break
                nev += 1
                try:
                    f2, g2 = vg(*x2.tolist())
                except DomainError:
                    break
                g2 = np.asarray(g2, dtype=float)
                if not (math.isfinite(f2) and f2 < ft and np.isfinite(g2).all()):
                    break
                t, xt, ft, gt = 2 * t, x2, f2, g2
            return xt, ft, gt, t, nev
        t *= 0.5
    raise Stalled(nev, error)
