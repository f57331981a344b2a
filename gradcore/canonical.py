"""The canonical simplifier: formulas, above all derivatives, written the way a textbook writes them.

One pass over the graph, children before parents: sums are flattened and like terms collected,
products are flattened and powers of one base combined, numbers lead, terms come in textbook order.
The work is counted; past a cap proportional to the graph's size the input comes back unchanged.

It sits below expr.py: it reads nodes by their fields (op, args, value, name) and builds new ones with
the constructors expr hands it (`const`, `raw`), as _sympy.py does, so neither imports the other.
It is longer than most modules because sums, products and powers each build the others (x**(a + b),
c*(a + b), (a*b)**2) inside one run that counts their work; split, they would import in a circle.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterable

from .ops import Record

__all__ = ["simplify", "Simplified", "WORK_PER_NODE", "WORK_BASE", "WORK_MAX", "NODES_MAX", "work_limit", "size"]

# The cap: at most WORK_BASE + WORK_PER_NODE * (distinct nodes of the input) units of work, a unit
# being one node visited, one term or factor merged, or one node measured. Typical formulas need
# 5 to 15 units per node; a graph whose sharing would make flattening explode stops at the cap.
WORK_PER_NODE = 25
WORK_BASE = 2_000
WORK_MAX = 80_000
# A graph of more distinct nodes than this is given back at once, unread: its canonical form could
# not be finished within WORK_MAX anyway (a few units per node), and the refusal then costs nothing.
NODES_MAX = 12_000
# Integers and their quotients stay exact (x/3 stays a third, not 0.333...) up to this magnitude.
_EXACT = 2 ** 53
# Expanding products of sums inside a sum is tried only when it makes at most this many products.
_EXPAND_TERMS = 16

_ADD = ("add", "sub", "neg")
_MUL = ("mul", "div")
_POS, _NONNEG = 2, 1


class _NoFractionYet:
    """Stands for fractions.Fraction until the first exact quotient is made: nothing is an instance."""


# Exact quotients (x/3 stays a third) are fractions.Fraction. That module, with decimal, which it
# imports, costs about 2 ms of start-up, and most formulas never make a quotient (x**2 + 2*x + 3 does
# not), so it is imported by _fraction() when the first one is made. Until then no number can be a
# Fraction, and the isinstance tests read the stand-in above.
Fraction: type = _NoFractionYet


def _fraction(p: int, q: int = 1) -> Any:
    """The exact quotient p/q, a Fraction; fractions is imported here, on first use (see above)."""
    global Fraction
    if Fraction is _NoFractionYet:
        import fractions
        Fraction = fractions.Fraction
    return Fraction(p, q)


class Simplified(Record):
    """What `simplify` did: the result, the units of work spent, and whether the cap was hit."""

    __slots__ = ("expr", "work", "capped")
    _EQ = True
    expr: Any
    work: int
    capped: bool

    def __init__(self, expr: Any, work: int, capped: bool) -> None:
        self._store(expr, work, capped)


class _Abort(Exception):
    """The cap was reached, or a number left float64: give the input back unchanged."""


def work_limit(nodes: int) -> int:
    """The cap on the work for an input of `nodes` distinct nodes: WORK_BASE + WORK_PER_NODE * nodes,
    and never more than WORK_MAX (about half a second)."""
    return min(WORK_MAX, WORK_BASE + WORK_PER_NODE * nodes)


def simplify(root: Any, const: Callable, raw: Callable, limit: int | None = None) -> Simplified:
    """The canonical form of `root`, built with `const(value, name=None)` and `raw(op, *args)`.

    Rules, all of them identities of real arithmetic wherever the input is defined:
        a + a = 2*a,  (x + 1) + (x - 1) = 2*x,  c*(a + b) = c*a + c*b for a number c,
        x*x**2 = x**3,  x/x = 1,  (a*b)**n = a**n*b**n and (a**b)**n = a**(b*n) for an integer n,
        --x = x,  -(a*(-b)) = a*b,  log(e) = 1,  log(exp(a)) = a,
        exp(log(a)) = a only when a is known to be positive (it is undefined for a <= 0).
    Numbers lead products; a sum lists polynomial terms by descending degree, then the others in
    the order they came, then the constant (first when the sum has no polynomial term: 1 + tan(x)**2),
    and never starts with a minus when it has a positive term. Inside a sum, products of sums are
    multiplied out when that is cheap and makes the sum no larger. Past `limit` units of work
    (default `work_limit` of the input's size) the input is returned unchanged, marked capped; with
    the default limit, an input of more than NODES_MAX distinct nodes comes back so without being read.
    """
    order = root.nodes()
    if limit is None and len(order) > NODES_MAX:
        return Simplified(root, 0, True)
    s = _Simplifier(const, raw, work_limit(len(order)) if limit is None else limit)
    # A graph that is much larger written out than stored (a derivative of x**x**...**x) would
    # flatten into a form exponentially long: leave it as it is, after one linear look.
    try:
        out = s.run(root, order)
    except _Abort:
        return Simplified(root, s.work, True)
    return Simplified(out, s.work, False)


def size(root: Any) -> int:
    """The operation count of the formula as written out: operators and calls, each occurrence
    counted; numbers (-3, 1/2) count 0."""
    return _tree_sizes(root, {})[root]


def _tree_sizes(root: Any, memo: dict) -> dict:
    stack = [root]
    while stack:
        n = stack[-1]
        if n in memo:
            stack.pop()
            continue
        missing = [a for a in n.args if a not in memo]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        if n.op == "div" and all(a.op == "const" and a.name is None for a in n.args):
            memo[n] = 0  # p/q is a number, as -3 is
        else:
            memo[n] = (1 if n.args else 0) + sum(memo[a] for a in n.args)
    return memo


def _num(v: float) -> Any:
    """A float as an exact int when it is an integer of moderate size, else the float itself."""
    return int(v) if v.is_integer() and abs(v) < _EXACT else v


def _checked(v: Any) -> Any:
    """`v` kept exact (int, or Fraction for a quotient) while it stays small, as a float otherwise;
    a number leaving float64 stops the pass."""
    if isinstance(v, int):
        if abs(v) < _EXACT:
            return v
        v = float(v)
    elif isinstance(v, Fraction):
        if v.denominator == 1:
            return _checked(v.numerator)
        if abs(v.numerator) < _EXACT and v.denominator < _EXACT:
            return v
        v = float(v)
    if not math.isfinite(v):
        raise _Abort
    return _num(v)


def _mul(a: Any, b: Any) -> Any:
    out = _checked(a * b)
    if out == 0 and a != 0 and b != 0:  # underflow: the product is not really 0
        raise _Abort
    return out


def _power(c: Any, k: int) -> Any:
    """c**k for an integer k, exactly when c is exact; 0**(negative) stops the pass."""
    if c == 0 and k < 0:
        raise _Abort
    if isinstance(c, (int, Fraction)) and abs(c) != 1 and abs(k) > 64:
        c = float(c)
    elif isinstance(c, int) and k < 0:
        c = _fraction(c)
    try:
        return _checked(c ** int(k))
    except (OverflowError, ZeroDivisionError):
        raise _Abort from None


def _isnum(v: Any) -> bool:
    """Whether an exponent or coefficient is a number (else it is an expression)."""
    return isinstance(v, (int, Fraction, float))


def _integer(v: Any) -> bool:
    return isinstance(v, int) or (isinstance(v, Fraction) and v.denominator == 1)


class _Simplifier:
    """One run: canonical forms of the input's nodes, and what is known about the forms it built."""

    def __init__(self, const: Callable, raw: Callable, limit: int) -> None:
        self.const, self.raw, self.limit, self.work = const, raw, limit, 0
        self.sums: dict[Any, tuple[list, Any]] = {}       # built sum -> ([(coef, monic)], constant)
        self.prods: dict[Any, tuple[Any, list]] = {}      # built product or power -> (coef, [(base, exp)])
        self.numbers: dict[Any, Any] = {}                 # built p/q -> Fraction(p, q)
        self.monic: dict[Any, tuple[Any, Any]] = {}       # built product -> (coef, the product without it)
        self.keys: dict[Any, Any] = {}                    # monic -> a key that ignores factor order
        self.sizes: dict[Any, int] = {}
        self.signs: dict[Any, int | None] = {}
        self.flats: dict[Any, bool] = {}
        self.negations: dict[Any, Any] = {}
        self.scaled_forms: dict[tuple, Any] = {}

    def node(self, op: str, *args: Any) -> Any:
        self.spend(1)
        return self.raw(op, *args)

    def spend(self, units: int) -> None:
        self.work += units
        if self.work > self.limit:
            raise _Abort

    # ---- the pass -------------------------------------------------------------------------------
    def run(self, root: Any, order: list) -> Any:
        # A node is a head when its meaning is needed on its own: the root, a node used twice, and
        # a node whose parent is of another kind. Inner links of a chain of + - (or * /) are read
        # by their head in one walk, so a 5,000-term sum costs 5,000 units, not 5,000**2 / 2.
        parent: dict[Any, Any] = {}
        shared: set = set()
        for node in order:
            for a in node.args:
                if a in parent:
                    shared.add(a)
                parent[a] = node
        heads = [node for node in order if node is root or node in shared or not (
            (node.op in _ADD and parent[node].op in _ADD) or (node.op in _MUL and parent[node].op in _MUL))]
        self.spend(2 * len(order))
        self.foresee(order, heads)
        # The cap also holds along the way: after the first i nodes of the input, at most
        # WORK_BASE + WORK_PER_NODE * i more units. A graph that explodes as it is read is refused
        # where it starts to explode, after a fraction of the cap, not at its end.
        cap, base = self.limit, self.work + WORK_BASE
        is_head = set(heads)
        done: dict[Any, Any] = {}
        for i, node in enumerate(order, 1):
            if node in is_head:
                self.limit = min(cap, base + WORK_PER_NODE * i)
                self.spend(1)
                done[node] = self.head(node, done)
        self.limit = cap
        return done[root]

    def foresee(self, order: list, heads: list) -> None:
        """Stop at once when flattening sums alone would pass the cap: a graph whose sums share sums
        (the derivative of x**x**...**x) flattens into exponentially many terms."""
        count: dict[Any, int] = {}
        for node in order:
            if node.op in _ADD:
                n = sum(count[a] if a.op in _ADD else 1 for a in node.args)
            else:  # products rarely explode: their shared factors merge (x/x/.../x) as they are read
                n = 1
            count[node] = min(n, self.limit + 1)
        if sum(count[h] for h in heads) + self.work > self.limit:
            raise _Abort

    def head(self, node: Any, done: dict) -> Any:
        op = node.op
        if op == "const":
            return node if node.name else self.number_expr(_num(node.value))
        if op == "var":
            return node
        if op in _ADD:
            return self.sum_of(self.chain(node, done, _ADD))
        if op in _MUL:
            return self.product_of(self.chain(node, done, _MUL))
        args = [done[a] for a in node.args]
        if op == "pow":
            return self.power(*args)
        return self.function(op, args[0])

    def chain(self, top: Any, done: dict, family: tuple) -> list:
        """The operands of the chain of `family` under `top` with their signs (or exponents), left to right."""
        items: list = []
        stack, signs = [top], [1]
        while stack:
            n, k = stack.pop(), signs.pop()
            self.spend(1)
            if n is not top and n in done:
                items.append((k, done[n]))
            elif n.op in ("add", "mul"):
                stack += [n.args[1], n.args[0]]
                signs += [k, k]
            elif n.op in ("sub", "div"):
                stack += [n.args[1], n.args[0]]
                signs += [-k, k]
            else:  # neg
                stack.append(n.args[0])
                signs.append(-k)
        return items

    # ---- numbers ---------------------------------------------------------------------------------
    def number(self, e: Any) -> Any:
        if e.op == "const" and e.name is None:
            return _num(e.value)
        return self.numbers.get(e)

    def number_expr(self, v: Any) -> Any:
        if isinstance(v, Fraction):
            e = self.node("div", self.const(float(v.numerator)), self.const(float(v.denominator)))
            self.numbers[e] = v
            return e
        return self.const(float(v))

    # ---- sums ------------------------------------------------------------------------------------
    def terms(self, e: Any) -> tuple[list, Any]:
        """e as ([(coef, monic)], constant)."""
        v = self.number(e)
        if v is not None:
            return [], v
        if e in self.sums:
            return self.sums[e]
        return [self.split(e)], 0

    def split(self, e: Any) -> tuple[Any, Any]:
        """A term as (coefficient, the term without it): -3*x -> (-3, x)."""
        if e not in self.prods:
            return 1, e
        found = self.monic.get(e)
        if found is None:
            coef, factors = self.prods[e]
            found = (coef, e) if coef == 1 else (coef, self.build_product(1, factors))
            self.monic[e] = found
        return found

    def key(self, monic: Any) -> Any:
        """Like terms meet whatever the order of their factors: x*y and y*x have one key."""
        k = self.keys.get(monic)
        if k is None:
            k = frozenset(self.prods[monic][1]) if monic in self.prods else monic
            self.keys[monic] = k
        return k

    def sum_of(self, items: Iterable, expand: bool = True) -> Any:
        """The canonical sum of k*e over `items` (pairs (k, e) of a number and a built form)."""
        collected: dict[Any, list] = {}
        constant: Any = 0
        for k, e in items:
            parts, c = self.terms(e)
            self.spend(1 + len(parts))
            if c:
                constant = _checked(constant + _mul(k, c))
            for coef, monic in parts:
                slot = collected.get(self.key(monic))
                if slot is None:
                    collected[self.key(monic)] = [_mul(k, coef), monic]
                else:
                    slot[0] = _checked(slot[0] + _mul(k, coef))
        terms = [(c, m) for c, m in collected.values() if c != 0]
        plain = self.build_sum(terms, constant)
        if expand:
            wide = self.expanded(terms, constant)
            if wide is not None and self.size(wide) <= self.size(plain):
                return wide
        if len(terms) > 1 and constant == 0 and not all(self.degree(m) for _, m in terms):
            # A polynomial stays expanded (3*x**2 + 2*x, not x*(3*x + 2)); other sums lose a shared factor.
            common = self.common(terms)
            if common:
                out = self.build_product(1, common)
                inner = self.sum_of([(c, self.product_of([(1, m), (-1, out)])) for c, m in terms])
                factored = self.product_of([(1, out), (1, inner)])
                if self.size(factored) < self.size(plain):
                    return factored
        return plain

    def common(self, terms: list) -> list:
        """The factors every term shares (x**2*y and x**3 share x**2; 1/x**2 and log(x)/x**2 share 1/x**2)."""
        shared: dict | None = None
        for _, monic in terms:
            factors = self.prods[monic][1] if monic in self.prods else [(monic, 1)]
            self.spend(len(factors))
            here = dict(factors)
            if shared is None:
                shared = here
                continue
            kept = {}
            for b, x in shared.items():
                y = here.get(b)
                if y is None:
                    continue
                if _isnum(x) and _isnum(y):
                    if (x > 0) == (y > 0):
                        kept[b] = min(x, y) if x > 0 else max(x, y)
                elif x == y:
                    kept[b] = x
            shared = kept
            if not shared:
                return []
        return list(shared.items())

    def negated(self, s: Any) -> Any:
        """The sum -s, built (y - 1 for 1 - y)."""
        found = self.negations.get(s)
        if found is None:
            terms, c = self.sums[s]
            found = self.negations[s] = self.build_sum([(-k, m) for k, m in terms], -c)
        return found

    def expanded(self, terms: list, constant: Any) -> Any:
        """The sum with its products of sums multiplied out, or None when there is none or it is not cheap."""
        pieces, count, found = [], 0, False
        for coef, monic in terms:
            factors = self.prods[monic][1] if monic in self.prods else [(monic, 1)]
            self.spend(len(factors))
            sums = [b for b, e in factors if e == 1 and b in self.sums and self.flat(b)]
            if not sums or len(factors) < 2:
                pieces.append((coef, monic))
                count += 1
                continue
            found = True
            rest = [(b, e) for b, e in factors if not (e == 1 and b in sums)]
            others = [(1, self.build_product(1, rest))] if rest else []
            combos: list = [(coef, [])]
            for b in sums:
                parts, c = self.sums[b]
                options = parts + ([(c, None)] if c else [])
                combos = [(_mul(k, ck), chosen + ([] if m is None else [m])) for k, chosen in combos
                          for ck, m in options]
                if count + len(combos) > _EXPAND_TERMS:
                    return None
            count += len(combos)
            self.spend(len(combos))
            pieces += [(k, self.product_of([(1, m) for m in chosen] + others, distribute=False))
                       for k, chosen in combos]
        if not found:
            return None
        return self.sum_of(pieces + [(1, self.number_expr(constant))], expand=False)

    def flat(self, s: Any) -> bool:
        """No term of sum `s` has a sum among its factors, so multiplying `s` out leaves no product of sums."""
        found = self.flats.get(s)
        if found is None:
            terms = self.sums[s][0]
            self.spend(len(terms))
            found = self.flats[s] = not any(m in self.prods and any(b in self.sums for b, _ in self.prods[m][1])
                                            for _, m in terms)
        return found

    def degree(self, monic: Any) -> Any:
        """The total degree of a monomial in the variables (x**2*y -> 3); None for anything else."""
        factors = self.prods[monic][1] if monic in self.prods else [(monic, 1)]
        total = 0
        for b, e in factors:
            numeric = _isnum(e)
            if b.op == "var" and numeric and e > 0:
                total += e
            elif not (b.op == "const" and b.name and numeric):  # pi*x is a monomial; sin(x)*x is not
                return None
        return total if total > 0 else None

    def build_sum(self, terms: list, constant: Any) -> Any:
        if not terms:
            return self.number_expr(constant)
        if len(terms) == 1 and constant == 0:
            coef, monic = terms[0]
            return self.scaled(coef, monic)
        poly, other = [], []
        for coef, monic in terms:
            d = self.degree(monic)
            (other if d is None else poly).append((d, coef, monic))
        poly.sort(key=lambda t: -t[0])
        pieces = [(c, m) for _, c, m in poly] + [(c, m) for _, c, m in other]
        if constant:
            pieces = pieces + [(constant, None)] if poly else [(constant, None)] + pieces
        if pieces[0][0] < 0:
            first = next((i for i, p in enumerate(pieces) if p[0] > 0), None)
            if first is not None:
                pieces.insert(0, pieces.pop(first))
        out = None
        for coef, monic in pieces:
            self.spend(1)
            if out is None:
                out = self.number_expr(coef) if monic is None else self.scaled(coef, monic)
            else:
                op = "sub" if coef < 0 else "add"
                c = -coef if coef < 0 else coef
                out = self.node(op, out, self.number_expr(c) if monic is None else self.scaled(c, monic))
        self.sums[out] = (terms, constant)
        return out

    def scaled(self, coef: Any, monic: Any) -> Any:
        if coef == 1:
            return monic
        out = self.scaled_forms.get((coef, monic))
        if out is None:
            factors = self.prods[monic][1] if monic in self.prods else [(monic, 1)]
            out = self.scaled_forms[(coef, monic)] = self.build_product(coef, factors)
        return out

    # ---- products --------------------------------------------------------------------------------
    def factors(self, e: Any) -> tuple[Any, list]:
        v = self.number(e)
        if v is not None:
            return v, []
        if e in self.prods:
            return self.prods[e]
        if e in self.sums:
            terms, c = self.sums[e]
            if c <= 0 and all(k < 0 for k, _ in terms):  # -1 - tan(x)**2 as a factor is -(1 + tan(x)**2)
                return -1, [(self.negated(e), 1)]
        return 1, [(e, 1)]

    def product_of(self, items: Iterable, distribute: bool = True) -> Any:
        """The canonical product of e**k over `items` (pairs (k, e), k a number)."""
        coef: Any = 1
        bases: dict[Any, Any] = {}

        def merge(c: Any, fs: list, k: Any) -> None:
            """Multiply in (c * prod b**x over fs) ** k, k an integer: a sign, or an integer power."""
            nonlocal coef
            self.spend(1 + len(fs))
            if c != 1:
                coef = _mul(coef, _power(c, k))
            for b, x in fs:
                x = self.scale(x, k)
                bases[b] = self.add_exponents(bases[b], x) if b in bases else x

        for k, e in items:
            merge(*self.factors(e), k)
        # A product kept whole under a fractional power ((x/y)**(1/2): sqrt(x/y)) whose powers add
        # up to a whole number is a product like any other again: sqrt(x/y)**2 * y = (x/y) * y = x.
        whole = [b for b, x in bases.items() if b in self.prods and _integer(x) and x != 0]
        while whole:
            for b in whole:
                merge(*self.prods[b], bases.pop(b))
            whole = [b for b, x in bases.items() if b in self.prods and _integer(x) and x != 0]
        for b in [b for b, x in bases.items() if b in self.sums and _integer(x)]:
            minus = self.negated(b)  # (1 - y)*(y - 1)**2 = -(y - 1)**3
            if minus in bases and _integer(bases[minus]) and b in bases:
                x = bases.pop(b)
                bases[minus] = _checked(bases[minus] + x)
                coef = -coef if x % 2 else coef
        if coef == 0:
            return self.const(0.0)
        factors = [(b, x) for b, x in bases.items() if x != 0]
        if not factors:
            return self.number_expr(coef)
        if len(factors) == 1 and factors[0][1] == 1:
            b = factors[0][0]
            if coef == 1:
                return b
            if distribute and b in self.sums:
                return self.sum_of([(coef, b)])
        return self.build_product(coef, factors)

    def scale(self, x: Any, k: Any) -> Any:
        if k == 1:
            return x
        if _isnum(x):
            return _mul(x, k)
        return self.exponent(self.sum_of([(k, x)]))

    def add_exponents(self, a: Any, b: Any) -> Any:
        if _isnum(a) and _isnum(b):
            return _checked(a + b)
        as_expr = [x if not _isnum(x) else self.number_expr(x) for x in (a, b)]
        return self.exponent(self.sum_of([(1, as_expr[0]), (1, as_expr[1])]))

    def exponent(self, e: Any) -> Any:
        v = self.number(e)
        return e if v is None else v

    def build_product(self, coef: Any, factors: list) -> Any:
        """coef * b1**e1 * ...: numbers first, then constants and variables, then the rest in order;
        factors with a negative number as exponent go below a fraction bar."""
        if coef == 1 and len(factors) == 1 and factors[0][1] == 1:
            return factors[0][0]
        def rank(f: tuple) -> int:
            b = f[0]
            if b.op == "const":
                return 0
            return 1 if b.op == "var" else 2
        top = sorted((f for f in factors if not (_isnum(f[1]) and f[1] < 0)), key=rank)
        bottom = sorted(((b, -x) for b, x in factors if _isnum(x) and x < 0), key=rank)
        self.spend(len(factors))
        num, den = (coef.numerator, coef.denominator) if isinstance(coef, Fraction) else (coef, 1)
        if num == -1 and top and top[0][1] == 1 and top[0][0] in self.sums:
            # -(1 - t)/x**2 would read back as (t - 1)/x**2: write that at once, unless the sum
            # turned round is all minus signs (-(1 + t) stays, since -1 - t reads back as it).
            minus = self.negated(top[0][0])
            terms, c = self.sums[minus]
            if not (c <= 0 and all(k < 0 for k, _ in terms)):
                old = top[0][0]
                top[0] = (minus, 1)
                num, coef = 1, -coef
                factors = [(minus, 1) if b is old and x == 1 else (b, x) for b, x in factors]
        up = [self.power_expr(b, x) for b, x in top]
        if up and num == -1:
            up[0] = self.node("neg", up[0])
        elif num != 1 or not up:
            up.insert(0, self.const(float(num)))
        down = ([self.const(float(den))] if den != 1 else []) + [self.power_expr(b, x) for b, x in bottom]
        out = self.chain_of("mul", up)
        if down:
            out = self.node("div", out, self.chain_of("mul", down))
        self.prods[out] = (coef, factors)
        return out

    def chain_of(self, op: str, parts: list) -> Any:
        out = parts[0]
        for p in parts[1:]:
            out = self.node(op, out, p)
        return out

    def power_expr(self, b: Any, x: Any) -> Any:
        if x == 1:
            return b
        if isinstance(x, Fraction) and x.numerator == 1 and x.denominator == 2:
            return self.node("sqrt", b)
        exponent = self.number_expr(x) if _isnum(x) else x
        return self.node("pow", b, exponent)

    def power(self, base: Any, exponent: Any) -> Any:
        """base**exponent from their canonical forms."""
        nb, ne = self.number(base), self.number(exponent)
        if ne is not None:
            if ne == 0 or nb == 1:
                return self.const(1.0)
            if ne == 1:
                return base
            if nb is not None:
                folded = self.fold_power(nb, ne)
                if folded is not None:
                    return self.number_expr(folded)
                return self.build_product(1, [(base, ne)])
            if _integer(ne):
                return self.product_of([(ne, base)])
            return self.build_product(1, [(base, ne)])
        if nb == 1:
            return self.const(1.0)
        return self.build_product(1, [(base, exponent)])

    def fold_power(self, b: Any, x: Any) -> Any:
        """b**x for numbers, when exact (an integer exponent) or already inexact (a float operand)."""
        if _integer(x) and abs(x) <= 1024:
            return _power(b, x)
        if isinstance(b, float) or isinstance(x, float):
            try:
                out = math.pow(b, x)
            except (ValueError, OverflowError, ZeroDivisionError):
                return None
            return _checked(out)
        return None

    # ---- functions -------------------------------------------------------------------------------
    def function(self, op: str, a: Any) -> Any:
        v = self.number(a)
        if v is not None:
            exact = _exact_value(op, v)
            if exact is not None:
                return self.number_expr(exact)
        if op == "log" and a.op == "const" and a.name == "e":
            return self.const(1.0)
        if op == "log" and a.op == "exp":
            return a.args[0]
        if op == "exp" and a.op == "log" and self.positive(a.args[0]):
            return a.args[0]
        if op == "sqrt":  # sqrt(u) is u**(1/2), so sqrt(u)**2 = u and sqrt(u)*u = u**(3/2)
            return self.power(a, self.number_expr(_fraction(1, 2)))
        return self.node(op, a)

    def positive(self, root: Any) -> bool:
        """Whether `root` (a built form) is known to be > 0: exp(u), x**2 + 1, 2*cosh(u), ..."""
        stack = [root]
        while stack:
            n = stack[-1]
            if n in self.signs:
                stack.pop()
                continue
            parts = self.sign_parts(n)
            missing = [p for p in parts if p not in self.signs]
            if missing:
                stack.extend(missing)
                continue
            stack.pop()
            self.spend(1)
            self.signs[n] = self.sign_of(n)
        return self.signs[root] == _POS

    def sign_parts(self, n: Any) -> list:
        if self.number(n) is not None:
            return []
        if n in self.sums:
            return [m for _, m in self.sums[n][0]]
        if n in self.prods:
            return [b for b, _ in self.prods[n][1]]
        return list(n.args) if n.op in ("sqrt", "abs") else []

    def sign_of(self, n: Any) -> int | None:
        v = self.number(n)
        if v is not None:
            return _POS if v > 0 else _NONNEG if v == 0 else None
        if n.op == "const":
            return _POS if n.value > 0 else None
        if n in self.sums:
            terms, c = self.sums[n]
            signs = [self.signs[m] if coef > 0 else None for coef, m in terms]
            if c < 0 or None in signs:
                return None
            return _POS if c > 0 or _POS in signs else _NONNEG
        if n in self.prods:
            coef, factors = self.prods[n]
            if coef < 0:
                return None
            signs = [_NONNEG if self.signs[b] is None and _integer(x) and x % 2 == 0 else self.signs[b]
                     for b, x in factors]
            return None if None in signs else _NONNEG if _NONNEG in signs else _POS
        if n.op in ("exp", "cosh", "sigmoid"):
            return _POS
        if n.op in ("sqrt", "abs"):
            return _POS if self.signs[n.args[0]] == _POS else _NONNEG
        return None

    def size(self, e: Any) -> int:
        before = len(self.sizes)
        _tree_sizes(e, self.sizes)
        self.spend(len(self.sizes) - before)
        return self.sizes[e]


def _exact_value(op: str, v: Any) -> Any:
    """The function's value at a number when it is a simple exact number: sin(0) = 0, sqrt(4) = 2."""
    if v == 0 and op in ("sin", "tan", "asin", "atan", "sinh", "tanh", "sqrt", "abs", "sign"):
        return 0
    if v == 0 and op in ("cos", "cosh", "exp"):
        return 1
    if v == 0 and op == "sigmoid":
        return _fraction(1, 2)
    if v == 1 and op in ("log", "acos"):
        return 0
    if op == "abs":
        return abs(v)
    if op == "sign":
        return int((v > 0) - (v < 0))
    if op == "sqrt" and _integer(v) and v > 0:
        r = math.isqrt(int(v))
        return r if r * r == v else None
    return None
