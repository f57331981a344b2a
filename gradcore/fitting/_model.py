"""A formula model and its loss, compiled: which variables are parameters and which are data, the
per-row loss l(pred, y), and the evaluator that gives the loss and its gradient on a batch of rows.

The gradient is the compiled adjoint code run on whole columns and summed, never a loop over rows.
For a model linear in its parameters, pred = offset(x) + sum_k theta_k phi_k(x), the columns phi_k
do not depend on theta, so they are evaluated once and the chain rule is a matrix product.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from ..codegen import CompiledExpr, compile as compile_expr
from ..errors import GradcoreError
from ..expr import Expr, call, const, interpret, raw, var
from ..parse import parse

__all__ = ["Model", "LOSSES", "MEAN_LOSSES"]

# The named losses, as the loss of one row in the prediction `pred` and the target `y`.
LOSSES: dict[str, str] = {"mse": "(pred - y)**2", "sse": "(pred - y)**2", "mae": "abs(pred - y)"}
# The same, in the residual r = pred - y alone: a linear model's loop forms r itself, in place, and
# the compiled code then computes only l(r) and dl/dr.
RESIDUAL_LOSSES: dict[str, str] = {"mse": "r**2", "sse": "r**2", "mae": "abs(r)"}
MEAN_LOSSES = ("mse", "mae")  # averaged over the rows of a batch; "sse" is summed


def substitute(e: Expr, values: Mapping[str, Expr], simplify: bool = False) -> Expr:
    """e with each variable named in `values` replaced (an iterative walk, children first)."""
    build = call if simplify else raw
    out = interpret(e, lambda n: values.get(n.name, n) if n.op == "var" else n,
                    lambda n, args: build(n.op, *args))
    return out[e]


def _array_entry(c: CompiledExpr) -> Callable:
    """The generated numpy function behind c.value_and_grad, without the per-call argument checks.

    The public entry costs ~30 us a call (broadcasting, dtypes, the domain policy), which a mini-batch
    loop would pay a thousand times an epoch; the loops call this one under np.errstate(all="ignore")
    and, when a batch gives a non-finite loss, run that batch again through the public entry to
    name the cause. The raw outputs may be plain floats where an adjoint is constant.
    """
    return c._program.array_function("value_and_grad")


class Model:
    """The model formula, its parameters and data variables, its loss, and how to evaluate them."""

    def __init__(self, model: Any, names: Sequence[str], target: str, params: Any, loss: str,
                 bind: Mapping[str, str] | None) -> None:
        self.expr = parse(model) if isinstance(model, str) else model
        if not isinstance(self.expr, Expr):
            raise GradcoreError(f"model must be formula text or an Expr, got {type(model).__name__}")
        bind = dict(bind or {})
        for v, col in bind.items():
            if col not in names:
                raise GradcoreError(f"{v} reads the column {col!r}, which the data does not have "
                                    f"(columns: {', '.join(names)})")
        if target not in names:
            raise GradcoreError(f"no target column {target!r} in the data (columns: {', '.join(names)})")
        self.target = target
        # Which data column each data variable of the model reads.
        self.source = {v: bind.get(v, v) for v in self.expr.variables if v in bind or v in names}
        if target in self.source.values():
            raise GradcoreError(f"the model uses the target column {target!r} as an input")
        self.start = self._params(params, names)
        self.params = tuple(self.start)
        self.inputs = tuple(v for v in self.expr.variables if v in self.source)
        # The loss names the target y; inside, y must not collide with a variable of the model.
        self.y = "y"
        while self.y in self.expr.variables:
            self.y += "_"
        self.loss_name = loss if loss in LOSSES else "formula"
        self.mean = loss in MEAN_LOSSES or self.loss_name == "formula"
        if "pred" in self.expr.variables:
            raise GradcoreError("the model must not use the name pred: it stands for the prediction in the loss")
        ell = self._loss_expr(loss)
        self.ell = compile_expr(ell)
        self.value = compile_expr(self.expr)
        # Linear in the parameters when no first derivative depends on a parameter, and the loss
        # does not read them itself.
        self.phis = [self.expr.diff(p) for p in self.params]
        self.linear = bool(self.params) and all(
            not set(d.variables) & set(self.params) for d in self.phis) and set(ell.variables) <= {"pred", self.y}
        if self.linear:
            zero = const(0.0)
            offset = substitute(self.expr, {p: zero for p in self.params}, simplify=True)
            self.offset = None if offset.is_const and offset.value == 0.0 else offset
        else:
            row = substitute(ell, {"pred": self.expr})
            self.row = compile_expr(row)

    def _params(self, params: Any, names: Sequence[str]) -> dict[str, float]:
        free = [v for v in self.expr.variables if v not in self.source]
        if params is None:
            chosen = {v: 1.0 for v in free}
        elif isinstance(params, Mapping):
            chosen = {**{v: 1.0 for v in free}, **{str(k): float(v) for k, v in params.items()}}
        elif isinstance(params, str):
            chosen = {params: 1.0}
        else:
            chosen = {str(k): 1.0 for k in params}
        for p, v in chosen.items():
            if p not in self.expr.variables:
                raise GradcoreError(f"params: {p} is not a variable of the model {self.expr}")
            if p in self.source:
                raise GradcoreError(f"params: {p} is a data column, not a parameter")
            if not math.isfinite(v):
                raise GradcoreError(f"params: the start of {p} must be finite, got {v}")
        stray = [v for v in free if v not in chosen]
        if stray:
            raise GradcoreError(f"the model uses {', '.join(stray)}, which is neither a data column "
                                f"(columns: {', '.join(names)}) nor a parameter")
        return {p: chosen[p] for p in self.expr.variables if p in chosen}

    def _loss_expr(self, loss: str) -> Expr:
        """l(pred, y) for one row: a named loss, or a formula in pred and the target (y or its name)."""
        if not isinstance(loss, str):
            raise GradcoreError(f"loss must be 'mse', 'sse', 'mae' or a formula in pred and y, got {loss!r}")
        ell = parse(LOSSES.get(loss, loss))
        ell = substitute(ell, {self.target: var(self.y), "y": var(self.y)})
        extra = [v for v in ell.variables if v not in ("pred", self.y) and v not in self.params]
        if extra or not ell.variables:
            raise GradcoreError(f"the loss {loss!r} must be a formula in pred (the prediction) and y "
                                f"(the target, or its name {self.target}); it uses "
                                f"{', '.join(ell.variables) or 'no variables'}")
        return ell

    # ---- batches: what one evaluation needs ----------------------------------------------------

    def batch(self, cols: Mapping[str, np.ndarray], by_rows: bool = True) -> tuple:
        """The arrays one evaluation reads from these rows (linear: the columns phi_k side by side,
        stored row by row when batches of rows will be gathered from them, else column by column,
        which makes the matrix-vector products of a full-batch step about twice as fast)."""
        y = cols[self.target]
        n = len(y)
        inputs = {v: cols[self.source[v]] for v in self.inputs}
        if not self.linear:
            return n, y, tuple(inputs[v] for v in self.row.variables if v in inputs)
        p = len(self.params)
        offset = None if self.offset is None else _evaluate(self.offset, inputs, n)
        if not by_rows:
            phi = np.empty((n, p), order="F")
            for k, d in enumerate(self.phis):
                phi[:, k] = _evaluate(d, inputs, n)
            return n, y, phi, offset, None
        # Row by row, with y beside phi: a batch of shuffled rows is one gather of adjacent bytes.
        block = np.empty((n, p + 1))
        for k, d in enumerate(self.phis):
            block[:, k] = _evaluate(d, inputs, n)
        block[:, p] = y
        return n, block[:, p], block[:, :p], offset, block

    @staticmethod
    def take(batch: tuple, rows: slice | np.ndarray) -> tuple:
        """The same batch restricted to some rows."""
        if len(batch) == 3:
            n, y, arrays = batch
            y = y[rows]
            return len(y), y, tuple(a[rows] for a in arrays)
        n, y, phi, offset, block = batch
        if isinstance(rows, slice):
            part = block[rows]
        else:
            # np.take gathers whole rows about four times faster than block[rows] does.
            part = np.take(block, rows, axis=0)
        off = None if offset is None else offset[rows]
        return len(part), part[:, -1], part[:, :-1], off, part

    def evaluator(self) -> Callable[[np.ndarray, tuple], tuple[float, np.ndarray]]:
        """f(theta, batch) -> (sum over the rows of the loss, sum of its gradient in theta)."""
        if self.linear:
            return self._linear_evaluator()
        fn = _array_entry(self.row)
        order = self.row.variables
        slots = [order.index(p) + 1 for p in self.params]

        def evaluate(theta: np.ndarray, batch: tuple) -> tuple[float, np.ndarray]:
            n = batch[0]
            outs = fn(*self._row_args(theta, batch))
            g = np.array([_total(outs[k], n) for k in slots])
            return _finite_or_nan(_total(outs[0], n), g), g
        return evaluate

    def _row_args(self, theta: np.ndarray, batch: tuple) -> list:
        """The arguments of the per-row loss, in its variables' order: floats for the parameters."""
        n, y, arrays = batch
        point = dict(zip(self.params, theta.tolist()))
        data = iter(arrays)
        return [point[v] if v in point else (y if v == self.y else next(data)) for v in self.row.variables]

    def _linear_evaluator(self) -> Callable:
        """L = sum_i l(pred_i, y_i) with pred = Phi theta + offset; grad L = Phi^T dl/dpred."""
        if self.loss_name in RESIDUAL_LOSSES:
            fn = _array_entry(compile_expr(parse(RESIDUAL_LOSSES[self.loss_name])))

            def evaluate(theta: np.ndarray, batch: tuple) -> tuple[float, np.ndarray]:
                n, y, phi, offset = batch[:4]
                r = phi @ theta
                r -= y
                if offset is not None:
                    r += offset
                loss, u = fn(r)
                # A finite loss means a finite residual, so a finite gradient: the loops test the loss only.
                return float(loss.sum()), u @ phi
            return evaluate

        fn = _array_entry(self.ell)
        order = self.ell.variables
        d_pred = order.index("pred") + 1

        def evaluate_formula(theta: np.ndarray, batch: tuple) -> tuple[float, np.ndarray]:
            n, y, phi, offset = batch[:4]
            pred = phi @ theta
            if offset is not None:
                pred += offset
            outs = fn(*[pred if v == "pred" else y for v in order])
            u = outs[d_pred]
            g = u @ phi if np.ndim(u) else phi.sum(axis=0) * u
            return _finite_or_nan(_total(outs[0], n), g), g
        return evaluate_formula

    def explain(self, theta: np.ndarray, batch: tuple) -> str:
        """Why the loss is not finite on this batch: the public entry's DomainWarning, if it gives one."""
        import warnings
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                if self.linear:
                    n, y, phi, offset = batch[:4]
                    pred = phi @ theta + (0.0 if offset is None else offset)
                    self.ell.value_and_grad(*[pred if v == "pred" else y for v in self.ell.variables])
                else:
                    self.row.value_and_grad(*self._row_args(theta, batch))
            except GradcoreError as exc:
                return str(exc)
        messages = [str(w.message) for w in caught if "outside the domain" in str(w.message)]
        return messages[0] if messages else ""

    # ---- linear models: the exact answer and the curvature ------------------------------------

    def normal_equations(self, batch: tuple) -> tuple[np.ndarray, np.ndarray]:
        """(Phi^T Phi, Phi^T (y - offset)) of a batch; summed over batches they give least squares."""
        n, y, phi, offset = batch[:4]
        r = y if offset is None else y - offset
        return phi.T @ phi, r @ phi

    def least_squares(self, batch: tuple) -> np.ndarray:
        """theta minimising sum (y - offset - Phi theta)^2: the normal equations Phi^T Phi theta =
        Phi^T r, then one step of iterative refinement on the residual, which restores the accuracy
        that squaring the condition number costs (two more passes, when the condition number of
        Phi^T Phi passes 1e6; an SVD of Phi would cost several times more)."""
        n, y, phi, offset = batch[:4]
        r = y if offset is None else y - offset
        A, b = phi.T @ phi, r @ phi
        theta = _solve(A, b)
        if np.linalg.cond(A) > 1e6:
            theta = theta + _solve(A, (r - phi @ theta) @ phi)
        return theta

    def curvature(self, theta: np.ndarray, batch: tuple) -> float | None:
        """lambda, the largest eigenvalue of the Hessian of the batch loss in theta:
        H = Phi diag(l''(pred)) Phi^T (divided by n for a mean loss). None if it cannot be had."""
        if not self.linear:
            return None
        n, y, phi, offset = batch[:4]
        pred = phi @ theta + (0.0 if offset is None else offset)
        try:
            with np.errstate(all="ignore"):
                h = self.ell.hessian(*[pred if v == "pred" else y for v in self.ell.variables])
        except GradcoreError:
            return None
        k = self.ell.variables.index("pred")
        w = np.broadcast_to(h[..., k, k], (n,))
        H = (phi.T * w) @ phi / (n if self.mean else 1.0)
        lam = float(np.linalg.eigvalsh((H + H.T) / 2)[-1]) if np.isfinite(H).all() else math.nan
        return lam if lam > 0 else None

    def predictions(self, theta: np.ndarray, batch: tuple) -> np.ndarray:
        """The model's prediction for each row of a batch."""
        if self.linear:
            n, y, phi, offset = batch[:4]
            return phi @ theta + (0.0 if offset is None else offset)
        n, y, arrays = batch
        point = dict(zip(self.params, theta.tolist()))
        named = dict(zip([v for v in self.row.variables if v in self.source], arrays))
        return np.broadcast_to(self.value.value(*[point[v] if v in point else named[v]
                                                   for v in self.value.variables]), (n,))

    def predict(self, theta: Mapping[str, float], columns: Mapping[str, Any]) -> np.ndarray:
        """The model at the fitted parameters on new columns (named as the model's variables or as
        the data columns they read)."""
        reverse = {col: v for v, col in self.source.items()}
        given = {reverse.get(k, k): v for k, v in columns.items()}
        missing = [v for v in self.inputs if v not in given]
        if missing:
            raise GradcoreError(f"predict needs {', '.join(missing)} (the model's data variables)")
        args = [theta[v] if v in theta else np.asarray(given[v], dtype=np.float64)
                for v in self.value.variables]
        return np.asarray(self.value.value(*args), dtype=np.float64)


def _evaluate(e: Expr, inputs: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """e on the columns, as an array of n rows (a column itself when e is just that variable)."""
    if e.is_var:
        return inputs[e.name]
    if e.is_const:
        return np.full(n, float(e.value))
    c = compile_expr(e)
    return np.broadcast_to(c.value(*[inputs[v] for v in c.variables]), (n,))


def _solve(A: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A x = b for the small symmetric system of the normal equations (lstsq: A may be singular)."""
    return np.linalg.lstsq(A, b, rcond=None)[0]


def _finite_or_nan(loss: float, g: np.ndarray) -> float:
    """The loss, or NaN when the gradient is not finite: then the loops need test the loss alone."""
    return loss if math.isfinite(float(g.sum())) else math.nan


def _total(a: Any, n: int) -> float:
    """The sum of a per-row output over n rows (a constant output stands for n equal rows)."""
    return float(a.sum()) if np.ndim(a) else float(a) * n
