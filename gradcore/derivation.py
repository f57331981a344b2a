"""Step-by-step derivatives: the rules of the primitive table applied one at a time, as on a blackboard.

`derivation(f, "x")` starts from d/dx[f] and, at each step, rewrites the first derivative still
unevaluated (reading left to right) with the rule of its outermost operation, named from the table.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from . import ops
from .errors import GradcoreError
from .expr import ONE, ZERO, Expr, F, call, const, simplify
from .parse import as_formula
from .printing import latex_name, to_latex, to_text

__all__ = ["derivation", "Derivation", "Step", "MAX_STEPS"]

# A derivation longer than this is no longer something to read step by step (each step reprints the
# whole expression): derivation() refuses it rather than print megabytes.
MAX_STEPS = 300


class Step(NamedTuple):
    """One rule applied: d/dv[target] = derivative, and the whole expression after it (`result`).

    `derivative` and `result` may still hold unevaluated derivatives: constants standing for
    d/dv[node], spelled by the Derivation that made them."""

    rule: str
    target: Expr
    derivative: Expr
    result: Expr


class Derivation:
    """d f / d variable, rule by rule: `steps`, then `result` (canonical form). Print it with text(),
    latex() or markdown(); str() is text()."""

    def __init__(self, expr: Expr, variable: str, steps: list[Step], pending: dict[Expr, Expr],
                 result: Expr) -> None:
        self.expr, self.variable, self.steps, self.result = expr, variable, tuple(steps), result
        self._pending = pending  # placeholder -> the node whose derivative it stands for
        self._partial = len(expr.variables) > 1

    # ---- spelling d/dv[...] --------------------------------------------------------------------
    def _d_text(self, node: Expr) -> str:
        return f"d/d{self.variable}[{to_text(node, shared=None)}]"

    def _d_latex(self, node: Expr) -> str:
        v = latex_name(self.variable)
        d = rf"\frac{{\partial}}{{\partial {v}}}" if self._partial else rf"\frac{{d}}{{d{v}}}"
        return rf"{d}\left[{to_latex(node, shared=None)}\right]"

    def _text(self, e: Expr) -> str:
        return to_text(e, shared=True, atoms={p: self._d_text(n) for p, n in self._pending.items()})

    def _latex(self, e: Expr) -> str:
        return to_latex(e, shared=True, atoms={p: self._d_latex(n) for p, n in self._pending.items()})

    def _lhs(self, latex: bool) -> str:
        v = self.variable
        if not latex:
            return f"df/d{v}"
        v = latex_name(v)
        return rf"\frac{{\partial f}}{{\partial {v}}}" if self._partial else rf"\frac{{df}}{{d{v}}}"

    def _shown(self) -> list[tuple[Step, bool]]:
        """Each step, and whether its whole result is worth a line of its own (not when the step
        rewrote the whole expression, which its own equation already shows)."""
        return [(step, step.result is not step.derivative) for step in self.steps]

    # ---- the three views -------------------------------------------------------------------------
    def text(self) -> str:
        """Plain text: the derivative asked for, one numbered line per rule, then the result."""
        width = len(str(len(self.steps)))
        lines = [self._d_text(self.expr)]
        for k, (step, whole) in enumerate(self._shown(), 1):
            lines.append(f"{k:>{width}}. {step.rule}: {self._d_text(step.target)} = {self._text(step.derivative)}")
            if whole:
                lines.append(" " * (width + 2) + f"= {self._text(step.result)}")
        lines.append(f"{self._lhs(False)} = {to_text(self.result, shared=True)}")
        return "\n".join(lines)

    def latex(self) -> str:
        """LaTeX (an aligned environment): the chain of equalities, each line tagged with its rule."""
        rows = [rf"& {self._d_latex(self.expr)}"]
        for step, whole in self._shown():
            why = rf"\text{{{step.rule}}}"
            if whole:
                why += rf": {self._d_latex(step.target)} = {self._latex(step.derivative)}"
            rows.append(rf"&= {self._latex(step.result)} && {why}")
        rows.append(rf"{self._lhs(True)} &= {to_latex(self.result, shared=True)}")
        return "\\begin{aligned}\n" + " \\\\\n".join(rows) + "\n\\end{aligned}"

    def markdown(self) -> str:
        """Markdown with inline LaTeX, for notebooks and docs: a numbered list of the rules."""
        lines = [f"${self._d_latex(self.expr)}$", ""]
        for k, (step, whole) in enumerate(self._shown(), 1):
            line = f"{k}. **{step.rule}**: ${self._d_latex(step.target)} = {self._latex(step.derivative)}$"
            if whole:
                line += f", so the whole is ${self._latex(step.result)}$"
            lines.append(line)
        lines += ["", f"${self._lhs(True)} = {to_latex(self.result, shared=True)}$"]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The derivation as plain data (for --json): text of every step."""
        return {"variable": self.variable, "expression": str(self.expr),
                "steps": [{"rule": s.rule, "target": str(s.target), "derivative": self._text(s.derivative),
                           "result": self._text(s.result)} for s in self.steps],
                "result": to_text(self.result, shared=True)}

    def __str__(self) -> str:
        return self.text()

    def __repr__(self) -> str:
        return f"<Derivation of d/d{self.variable}[{self.expr}]: {len(self.steps)} steps>"

    def _repr_markdown_(self) -> str:
        return self.markdown()


def derivation(expr: "Expr | str", variable: "str | Expr") -> Derivation:
    """The derivative of `expr` with respect to `variable`, one rule per step.

    Each step takes the first unevaluated d/dv[g] and applies g's rule from the table: d/dv[g] =
    sum over the arguments a_k of g that depend on v of vjp_k(g, upstream = d/dv[a_k]), where
    d/dv[v] is 1 and an argument free of v contributes nothing. A chain of + and - is split in one
    step (the sum rule), and a term free of v then goes by the constant rule, d/dv[c] = 0.
    """
    expr = as_formula(expr, "derivation")
    if isinstance(variable, Expr):
        if not variable.is_var:
            raise GradcoreError(f"can only differentiate with respect to a variable, not {variable}")
        variable = variable.name
    if not isinstance(variable, str):
        raise TypeError(f"derivation needs a variable name, got {type(variable).__name__}")
    return _Deriver(expr, variable).run()


class _Deriver:
    """The state of one derivation: the expression so far and what each placeholder stands for."""

    def __init__(self, expr: Expr, variable: str) -> None:
        self.expr, self.v = expr, variable
        self.pending: dict[Expr, Expr] = {}  # placeholder -> node
        self.placeholder: dict[Expr, Expr] = {}  # node -> placeholder
        self.depends: set[Expr] = set()
        for node in expr.nodes():
            if (node.op == "var" and node.name == variable) or any(a in self.depends for a in node.args):
                self.depends.add(node)

    def d(self, node: Expr) -> Expr:
        """The placeholder for d/dv[node]: a named constant, which the light simplifier leaves alone
        (it folds only plain numbers), spelled d/dv[...] by the printer."""
        if node not in self.placeholder:
            p = const(0.0, name=f"d/d{self.v}#{len(self.placeholder)}")
            self.placeholder[node], self.pending[p] = p, node
        return self.placeholder[node]

    def inner(self, node: Expr) -> Expr | None:
        """What a rule's upstream is for argument `node`: 1 for the variable itself, None (no term)
        for an argument free of it, else the placeholder d/dv[node]."""
        if node not in self.depends:
            return None
        return ONE if node.op == "var" else self.d(node)

    def rewrite(self, node: Expr) -> tuple[str, Expr]:
        """(the rule's name, d/dv[node] one rule deep)."""
        if node not in self.depends:
            return "constant rule", ZERO
        if node.op == "var":
            return "variable rule", ONE
        if node.op in ("add", "sub"):
            return self.sum_rule(node)
        row = ops.PRIMITIVES[node.op]
        terms = []
        for k, (arg, vjp) in enumerate(zip(node.args, row.vjps)):
            g = self.inner(arg)
            if g is not None:
                terms.append((k, vjp(F, g, node, *node.args)))
        rule = row.rule
        if len(terms) == 1 and row.rule_alone:
            rule = row.rule_alone[terms[0][0]]
        out = terms[0][1]
        for _, t in terms[1:]:
            out = out + t
        return rule, out

    def sum_rule(self, node: Expr) -> tuple[str, Expr]:
        """A chain a + b - c + ... in one step: each term's d/dv[...], with the sign the table's
        rule for + or - gives it (g, or -g for what is subtracted)."""
        spine = []
        while node.op in ("add", "sub"):
            spine.append(node)
            node = node.args[0]
        out = self.d(node)
        for link in reversed(spine):
            row = ops.PRIMITIVES[link.op]
            out = out + row.vjps[1](F, self.d(link.args[1]), link, *link.args)
        kinds = sorted({link.op for link in spine}, key=list(ops.PRIMITIVES).index)  # sum, then difference
        return " and ".join(ops.PRIMITIVES[k].rule for k in kinds), out

    def run(self) -> Derivation:
        steps: list[Step] = []
        current = self.d(self.expr)
        while True:
            p = _first_placeholder(current, self.pending)
            if p is None:
                break
            if len(steps) >= MAX_STEPS:
                raise GradcoreError(f"a step-by-step derivation of this formula takes more than {MAX_STEPS} "
                                    f"steps; use diff without --steps for the derivative itself")
            target = self.pending[p]
            rule, derivative = self.rewrite(target)
            current = _substitute(current, p, derivative)
            steps.append(Step(rule, target, derivative, current))
        # Each step is tidied by the light simplifier as it is substituted; the result line is the
        # canonical form, the one diff prints.
        result = simplify(current)
        return Derivation(self.expr, self.v, steps, dict(self.pending), result)


def _first_placeholder(root: Expr, pending: dict[Expr, Expr]) -> Expr | None:
    """The first placeholder reading the printed formula left to right (a parent-first walk)."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node in pending:
            return node
        if node not in seen:
            seen.add(node)
            stack.extend(reversed(node.args))
    return None


def _substitute(root: Expr, old: Expr, new: Expr) -> Expr:
    """`root` with `old` replaced by `new`; only the nodes above `old` are rebuilt (lightly
    simplified, so d/dv[x]*y with d/dv[x] = 1 reads y), the rest is kept exactly as written."""
    built: dict[Expr, Expr] = {}
    for node in root.nodes():
        if node is old:
            built[node] = new
        elif node.args:
            args = [built[a] for a in node.args]
            changed = any(a is not b for a, b in zip(args, node.args))
            built[node] = call(node.op, *args) if changed else node
        else:
            built[node] = node
    return built[root]
