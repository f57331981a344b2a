"""The one-variable fixed-rate gd loop as generated straight-line code, and its history kept as x only.

The loop is the hand-written one (x <- x - lr * f'(x) until |f'(x)| < tol) around the compiled
gradient's own statements; f is evaluated at every CHECK_EVERY-th step and at the end, never per step. The
history is made on first read, by repeating the steps (the same floats) in a recording loop.
"""

from __future__ import annotations

import ast
import textwrap
import weakref
from typing import Any, Callable

__all__ = ["CHECK_EVERY", "Trail", "loop_for"]

# f is evaluated (for finiteness) at every 256th step and at the end. A run whose f turns non-finite
# repeats at most this many steps in the general loop; each checkpoint costs a call of f and a
# restart of the inner loop (at every 64th step, 6% of the 693-step descent of x**2+2*x+3).
CHECK_EVERY = 256
_CHUNK = 4096         # the loop hands its x's to the Trail in chunks of at most this many

# The loop's own local names, renamed where a formula's generated code already uses one.
_LOCALS = ("lr", "tol", "max_iter", "far", "xs", "app", "nit", "end", "g", "value", "absorb", "ntol", "nfar", "k")

_LOOPS: "weakref.WeakKeyDictionary[Any, dict[float, Callable | None]]" = weakref.WeakKeyDictionary()


def loop_for(compiled: Any, sign: float) -> Callable | None:
    """The generated gd loop of a one-variable CompiledExpr (for f, or -f if sign < 0), made once.

    loop(x0, g0, lr, tol, max_iter, far, absorb) -> (x, g, nit, None, done) keeps no history;
    loop.replay(x0, g0, lr, nit, absorb) repeats the nit steps, handing their x's to
    absorb(first_nit, xs) in chunks, and returns the last x. `done` is False when the run met
    anything unusual (|x| past `far`, a non-finite or failing gradient, a non-finite f at a
    checkpoint): the caller then runs the general loop, which names the cause exactly.
    None if the gradient's code does not have the expected shape.
    """
    per_sign = _LOOPS.get(compiled)
    if per_sign is None:
        per_sign = _LOOPS[compiled] = {}
    if sign not in per_sign:
        per_sign[sign] = _build(compiled, sign)
    return per_sign[sign]


def _build(compiled: Any, sign: float) -> Callable | None:
    fn = next((n for n in ast.parse(compiled.source).body
               if isinstance(n, ast.FunctionDef) and n.name == "grad"), None)
    if fn is None or len(fn.args.posonlyargs) + len(fn.args.args) != 1:
        return None
    tries = [n for n in fn.body if isinstance(n, ast.Try)]
    ret = fn.body[-1]
    if len(tries) != 1 or not (isinstance(ret, ast.Return) and isinstance(ret.value, ast.Tuple)
                               and len(ret.value.elts) == 1):
        return None
    x = (fn.args.posonlyargs + fn.args.args)[0].arg
    used = {n.id for n in ast.walk(fn) if isinstance(n, ast.Name)} | {x}
    if used & {"abs", "len", "min", "range", "Exception"}:  # a formula's name would hide the loop's builtin
        return None
    name = {}
    for base in _LOCALS:
        candidate = "_" + base
        while candidate in used:
            candidate += "_"
        name[base] = candidate
        used.add(candidate)
    body = "\n".join("                " + line for s in tries[0].body for line in ast.unparse(s).splitlines())
    grad = ast.unparse(ret.value.elts[0])
    grad = f"-({grad})" if sign < 0 else f"({grad})"
    n = name
    step = "\n".join([f"                {x} = {x} - {n['lr']} * {n['g']}", body, f"                {n['g']} = {grad}"])
    # The run itself keeps no history: one test per step (written as comparisons, which a NaN fails
    # exactly as it fails abs(g) >= tol and abs(x) <= far), and a for loop counts the steps.
    source = f"""
def gd_loop({x}, {n['g']}, {n['lr']}, {n['tol']}, {n['max_iter']}, {n['far']}, {n['absorb']}):
    {n['ntol']}, {n['nfar']} = -{n['tol']}, -{n['far']}
    {n['nit']} = 0
    try:
        while True:
            {n['end']} = min({n['nit']} + {CHECK_EVERY}, {n['max_iter']})
            for {n['k']} in range({n['nit']}, {n['end']}):
                if not (({n['g']} >= {n['tol']} or {n['g']} <= {n['ntol']}) and {n['nfar']} <= {x} <= {n['far']}):
                    {n['nit']} = {n['k']}
                    break
{step}
            else:
                {n['nit']} = {n['end']}
            if {n['nit']} < {n['end']} or {n['nit']} == {n['max_iter']}:
                break
            if {n['value']}({x}) * 0.0 != 0.0:
                return {x}, {n['g']}, {n['nit']}, None, False
    except Exception:
        return {x}, {n['g']}, {n['nit']}, None, False
    return {x}, {n['g']}, {n['nit']}, None, (abs({n['g']}) < {n['tol']} or (
        {n['nit']} == {n['max_iter']} and abs({x}) <= {n['far']} and {n['g']} * 0.0 == 0.0))


def gd_trail({x}, {n['g']}, {n['lr']}, {n['max_iter']}, {n['absorb']}):
    {n['xs']} = [{x}]
    {n['app']} = {n['xs']}.append
    {n['nit']} = 0
    while True:
        {n['end']} = min({n['nit']} + {_CHUNK}, {n['max_iter']})
        while {n['nit']} < {n['end']}:
            {n['nit']} += 1
{textwrap.indent(textwrap.dedent(step), " " * 12)}
            {n['app']}({x})
        {n['absorb']}({n['nit']} - len({n['xs']}) + 1, {n['xs']})
        del {n['xs']}[:]
        if {n['nit']} == {n['max_iter']}:
            return {x}
"""
    namespace = dict(compiled.grad.__globals__)
    # The generated code runs with a short list of builtins; the loop needs these too.
    builtins = namespace.get("__builtins__", {})
    builtins = dict(builtins if isinstance(builtins, dict) else vars(builtins))
    builtins.update(abs=abs, len=len, min=min, range=range, Exception=Exception)
    namespace["__builtins__"] = builtins
    namespace[n["value"]] = compiled.value
    exec(compile(source, f"<gradcore gd loop for {compiled.expr}>", "exec"), namespace)  # noqa: S102
    loop = namespace["gd_loop"]
    loop.__gradcore_source__ = source
    loop.replay = namespace["gd_trail"]
    return loop


class Trail:
    """The history of a generated-loop run, kept as the general loop keeps it (every step up to
    2 * limit rows, then every k-th, k doubling), but as x only: f and |g| of each kept row are
    computed on first read by the same compiled function the loop's steps used, so they are the
    numbers the general loop would have recorded."""

    __slots__ = ("_vg", "_nits", "_xs", "_every", "_thin_at", "_rows", "_later")

    def __init__(self, vg: Callable, limit: int) -> None:
        self._vg = vg
        self._nits: list[int] = []
        self._xs: list[float] = []
        self._every, self._thin_at = 1, 2 * limit
        self._rows: list[tuple] | None = None
        self._later: tuple | None = None

    def replay(self, steps: Callable[[Callable], float], nit: int, x: float) -> "Trail":
        """Record the run on first read: steps(absorb) repeats its nit steps (the same float
        operations, so the same x's) handing them to absorb, and must end at the run's x."""
        self._later = (steps, nit, x)
        return self

    def _fill(self) -> None:
        if self._later is not None:
            steps, nit, x = self._later
            self._later = None
            end = steps(self.absorb)
            if end != x:  # the same operations on the same floats: a difference is a bug here
                raise RuntimeError(f"the replayed descent ended at {end!r}, not {x!r}")
            self.close(nit, x)

    def absorb(self, first: int, xs: list[float]) -> None:
        """Take the x's of steps first, first + 1, ...: keep the multiples of k, thinning as
        the general loop does when its row count reaches the limit."""
        last = first + len(xs) - 1
        while first <= last:
            end = min(last, self._thin_at)
            every = self._every
            start = first + (-first) % every
            self._nits.extend(range(start, end + 1, every))
            self._xs.extend(xs[start - first:end - first + 1:every])
            xs = xs[end + 1 - first:]
            first = end + 1
            if end == self._thin_at:  # keep every other row, record half as often
                self._nits, self._xs = self._nits[::2], self._xs[::2]
                self._every, self._thin_at = 2 * every, 2 * self._thin_at

    def close(self, nit: int, x: float) -> "Trail":
        """The last step is always a row."""
        if not self._nits or self._nits[-1] != nit:
            self._nits.append(nit)
            self._xs.append(x)
        return self

    def rows(self) -> list[tuple]:
        """The (nit, x, f, |g|) rows, computed once."""
        if self._rows is None:
            self._fill()
            vg, rows = self._vg, []
            for k, x in zip(self._nits, self._xs):
                f, (g,) = vg(x)
                rows.append((k, x, f, abs(g)))
            self._rows = rows
        return self._rows

    def __iter__(self) -> Any:
        return iter(self.rows())

    def __len__(self) -> int:
        self._fill()
        return len(self._nits)

    def __getitem__(self, i: Any) -> Any:
        return self.rows()[i]

    def __eq__(self, other: Any) -> bool:
        return self.rows() == list(other)

    def __reduce__(self) -> tuple:
        # Copied and pickled as the plain list of rows (the compiled function does not pickle).
        return (list, (self.rows(),))

    def __repr__(self) -> str:
        return repr(self.rows())
