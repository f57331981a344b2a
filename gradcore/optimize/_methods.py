"""The descent methods, one small function each: method(vg, lr, n, hess) returns step(x, f, g).

step(x, f, g) takes the point (a list), f and its gradient there, and returns the next point, f and
the gradient there, and how many evaluations of f it spent. vg(*x) gives (f, grad); hess(*x) the Hessian.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import DomainError
from ._linesearch import Stalled, line_search

__all__ = ["STEPPERS", "METHODS", "DEFAULT_LR", "FIXED_STEP"]

# Learning rate (or first trial step, for the line-search methods) when `lr` is not given.
DEFAULT_LR: dict[str, float] = {
    "bfgs": 1.0, "newton": 1.0, "armijo": 1.0,
    "gd": 0.01, "momentum": 0.01, "nesterov": 0.01, "adam": 0.1,
}
METHODS: tuple[str, ...] = tuple(DEFAULT_LR)
FIXED_STEP: tuple[str, ...] = ("gd", "momentum", "nesterov", "adam")
MOMENTUM = 0.9                                   # beta for momentum and Nesterov, as torch.optim.SGD
ADAM_BETAS, ADAM_EPS = (0.9, 0.999), 1e-8       # torch.optim.Adam's defaults

Step = Callable[[list, float, list], tuple[list, float, list, int]]


def gd(vg: Callable, lr: float, n: int, hess: Callable) -> Step:
    """Plain gradient descent: x <- x - lr * grad f(x), the tutorials' loop term for term."""
    def step(x, f, g):
        x = [xi - lr * gi for xi, gi in zip(x, g)]
        f, g = vg(*x)
        return x, f, g, 1
    return step


def momentum(vg: Callable, lr: float, n: int, hess: Callable, nesterov: bool = False) -> Step:
    """torch.optim.SGD's rule: v <- beta v + g; x <- x - lr v (Nesterov: x <- x - lr (g + beta v))."""
    # Taken from gradcore.optim so that the rule is written once.
    from ..optim import sgd_update

    group = dict(lr=lr, momentum=MOMENTUM, dampening=0.0, weight_decay=0.0, nesterov=nesterov,
                 maximize=False)
    return _optimizer_step(vg, sgd_update, group)


def nesterov(vg: Callable, lr: float, n: int, hess: Callable) -> Step:
    """Nesterov momentum: x <- x - lr (g + beta v), v <- beta v + g."""
    return momentum(vg, lr, n, hess, nesterov=True)


def adam(vg: Callable, lr: float, n: int, hess: Callable) -> Step:
    """torch.optim.Adam: m <- b1 m + (1-b1) g, v <- b2 v + (1-b2) g^2,
    x <- x - lr m/(1-b1^t) / (sqrt(v/(1-b2^t)) + eps)."""
    from ..optim import adam_update

    group = dict(lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, weight_decay=0.0, amsgrad=False, maximize=False)
    return _optimizer_step(vg, adam_update, group)


def _optimizer_step(vg: Callable, update: Callable, group: dict) -> Step:
    """A step that applies one of gradcore.optim's update rules to x as a float64 array."""
    state: dict = {}

    def step(x, f, g):
        p = np.array(x, dtype=float)
        update(p, np.array(g, dtype=float), state, group)
        x = p.tolist()
        f, g = vg(*x)
        return x, f, g, 1
    return step


def armijo(vg: Callable, lr: float, n: int, hess: Callable) -> Step:
    """Steepest descent d = -grad f with a backtracking line search."""
    # Each search starts at twice the last accepted step, so a good step length is found again in
    # one or two evaluations.
    t_last = lr / 2

    def step(x, f, g):
        nonlocal t_last
        xa, ga = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        xn, fn, gn, t_last, nev = line_search(vg, xa, f, ga, -ga, 2 * t_last)
        return xn.tolist(), fn, gn.tolist(), nev
    return step


def bfgs(vg: Callable, lr: float, n: int, hess: Callable) -> Step:
    """Quasi-Newton: d = -H g, with H <- (I - r s y^T) H (I - r y s^T) + r s s^T, r = 1/(y . s),
    from s = x1 - x0 and y = g1 - g0; then a backtracking line search from step lr."""
    # The update is skipped when y . s <= 0 (f curves down along s), which keeps H positive definite.
    eye = np.eye(n)
    H: np.ndarray | None = None

    def step(x, f, g):
        nonlocal H
        xa, ga = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        first = H is None
        if first:
            H = eye.copy()
        d = -H @ ga
        if not float(ga @ d) < 0:  # H lost positive definiteness to rounding: restart from -g
            H, d, first = eye.copy(), -ga, True
        # The very first step is capped at length lr, so a steep start does not leap across the plane.
        t = min(lr, lr / float(np.linalg.norm(d))) if first else lr
        try:
            xn, fn, gn, _, nev = line_search(vg, xa, f, ga, d, t)
        except Stalled as exc:
            if first:
                raise
            H = None  # retry once from steepest descent before giving up
            try:
                xr, fr, gr, k = step(x, f, g)
            except Stalled as again:
                raise Stalled(exc.evaluations + again.evaluations, again.error) from None
            return xr, fr, gr, k + exc.evaluations
        s, y = xn - xa, gn - ga
        ys = float(y @ s)
        if ys > 1e-12 * float(np.linalg.norm(y)) * float(np.linalg.norm(s)):
            if first:  # scale the identity to the curvature just seen (Nocedal & Wright, eq. 6.20)
                H = eye * (ys / float(y @ y))
            r = 1.0 / ys
            A = eye - r * np.outer(s, y)
            H = A @ H @ A.T + r * np.outer(s, s)
        return xn.tolist(), fn, gn.tolist(), nev
    return step


def newton(vg: Callable, lr: float, n: int, hess: Callable) -> Step:
    """Saddle-free Newton: d = -V diag(1/max(|w|, floor)) V^T g from the Hessian's eigenvalues w and
    eigenvectors V; then a backtracking line search from step lr."""
    # Taking |w| where H is not positive definite keeps d a descent direction, so a saddle repels
    # rather than attracts.
    def step(x, f, g):
        xa, ga = np.asarray(x, dtype=float), np.asarray(g, dtype=float)
        try:
            H = np.asarray(hess(*x), dtype=float)
            ok = bool(np.isfinite(H).all())
        except DomainError:
            ok = False
        if ok:
            w, V = np.linalg.eigh((H + H.T) / 2)
            floor = 1e-8 * max(1.0, float(np.abs(w).max()))
            d = -V @ ((V.T @ ga) / np.maximum(np.abs(w), floor))
        else:
            d = -ga
        xn, fn, gn, _, nev = line_search(vg, xa, f, ga, d, lr)
        return xn.tolist(), fn, gn.tolist(), nev
    return step


STEPPERS: dict[str, Callable[..., Step]] = {
    "gd": gd, "momentum": momentum, "nesterov": nesterov, "adam": adam,
    "armijo": armijo, "bfgs": bfgs, "newton": newton,
}
