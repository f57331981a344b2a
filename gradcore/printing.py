"""Formulas as text, as LaTeX and as MathML, from one walk over the shared graph.

Operator spelling and precedence come from ops.OPERATORS; nodes are read by their fields (`op`, `args`,
`value`, `name`), so nothing from the layers above the table is needed. A subexpression used more than
once and longer than SHARE_THRESHOLD characters can be printed once, by name (`where u1 = ...`), which
keeps the output linear in the number of graph nodes however much the graph shares.
"""

from __future__ import annotations

import itertools
import math
import re
from typing import Any, Iterable, Mapping

from .format import number
from .ops import ATOM_PRECEDENCE, OPERATOR_OF

__all__ = ["to_text", "to_latex", "to_mathml", "mathml_name", "precedence", "shared_names", "fresh_prefix", "latex_name", "EXACT_LIMIT", "SHARE_THRESHOLD"]

# str(expr) is the exact, re-parseable text when that has at most this many characters; past it (only a
# graph that shares a lot gets there: the derivative of x^x^...^x is 10**9 characters written out) it
# names the shared parts instead.
EXACT_LIMIT = 100_000
# A subexpression used more than once is named when its own text is longer than this.
SHARE_THRESHOLD = 40

_ADD = OPERATOR_OF["add"].precedence
_MUL = OPERATOR_OF["mul"].precedence
_NEG = OPERATOR_OF["neg"].precedence
_POW = OPERATOR_OF["pow"].precedence

# A template is what one node prints as: literal pieces and (argument index, parenthesise?) slots.
Template = list

# In LaTeX a product is written by juxtaposition, "2 x y"; this marks the gap, filled with \cdot when
# the next factor begins with a digit (2 \cdot 3) or is a fraction after a number (2 \cdot \frac{1}{x}).
_GAP = object()


class _Text:
    """Plain text that gradcore.parse reads back to the same tree."""

    open, close = "(", ")"

    def __init__(self, atoms: Mapping[Any, str]) -> None:
        self.atoms = atoms

    def leaf(self, node: Any) -> str:
        if node.op == "var":
            return node.name
        return node.name or number(node.value, signed_zero=True)

    def precedence(self, node: Any) -> int:
        return ATOM_PRECEDENCE if node in self.atoms else precedence(node)

    def template(self, node: Any) -> Template:
        op = OPERATOR_OF.get(node.op)
        if op is None:  # a function call
            return [node.op + "(", (0, False), ")"]
        if op.arity == 1:
            return [op.symbol, (0, self.precedence(node.args[0]) <= op.precedence)]
        wrap_a, wrap_b = self.wraps(node)
        return [(0, wrap_a), f" {op.symbol} " if op.precedence == _ADD else op.symbol, (1, wrap_b)]

    def wraps(self, node: Any) -> tuple[bool, bool]:
        """Whether each operand of a binary node needs parentheses: it binds more loosely than the
        operator, or equally on the side the operator does not group towards (a - (b - c),
        a / (b * c), (x**y)**z); a negative right operand is parenthesised too (x * (-2))."""
        op = OPERATOR_OF[node.op]
        pa, pb, p = self.precedence(node.args[0]), self.precedence(node.args[1]), op.precedence
        if op.right:
            return pa <= p, pb < p
        return pa < p, pb <= p or pb == _NEG


# Functions LaTeX knows by a command of their own; the rest are \operatorname{name}.
_LATEX_FUNCTIONS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "asin": r"\arcsin", "acos": r"\arccos",
                    "atan": r"\arctan", "sinh": r"\sinh", "cosh": r"\cosh", "tanh": r"\tanh", "log": r"\log"}
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
          "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega").split()
_GREEK_SET = frozenset(_GREEK)


class _Latex(_Text):
    """The same tree in LaTeX: x^{2}, \\frac{a}{b}, \\sqrt{x}, \\sin\\left(x\\right), e^{x}, \\theta.

    Only the spelling differs from _Text: a fraction or a root needs no parentheses (its braces
    group it), an exponent never does, and a power or e^{x} as the base of a power does."""

    open, close = r"\left(", r"\right)"

    def leaf(self, node: Any) -> str:
        if node.op == "var":
            return latex_name(node.name)
        if node.name == "pi":
            return r"\pi"
        if node.name:
            return node.name
        text = number(node.value, signed_zero=True)
        mantissa, e, exponent = text.partition("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}" if e else text

    def precedence(self, node: Any) -> int:
        if node in self.atoms or node.op in ("div", "sqrt", "abs"):
            return ATOM_PRECEDENCE
        if node.op == "exp":
            return _POW
        if node.op == "const" and node.name is None and "e" in number(node.value):
            return _MUL  # 1 \times 10^{-7} reads as a product
        return precedence(node)

    def template(self, node: Any) -> Template:
        op = node.op
        if op == "div":
            return [r"\frac{", (0, False), "}{", (1, False), "}"]
        if op == "pow":
            base = node.args[0]
            wrap = self.precedence(base) <= _POW or (base.op == "div" and base not in self.atoms)
            return [(0, wrap), "^{", (1, False), "}"]
        if op == "mul":
            wrap_a, wrap_b = self.wraps(node)
            return [(0, wrap_a), _GAP, (1, wrap_b)]
        if op == "sqrt":
            return [r"\sqrt{", (0, False), "}"]
        if op == "abs":
            return [r"\left|", (0, False), r"\right|"]
        if op == "exp":
            return ["e^{", (0, False), "}"]
        if OPERATOR_OF.get(op) is None:
            name = _LATEX_FUNCTIONS.get(op, rf"\operatorname{{{op}}}")
            return [name + r"\left(", (0, False), r"\right)"]
        return super().template(node)


# MathML spellings: the invisible operators say what juxtaposition means (a product, a function
# applied), so a screen reader reads "2 times x" and "sine of x".
_TIMES, _APPLY, _MINUS = "<mo>&#x2062;</mo>", "<mo>&#x2061;</mo>", "\u2212"
_MATHML_FUNCTIONS = {"asin": "arcsin", "acos": "arccos", "atan": "arctan"}


class _MathML(_Latex):
    """The same tree as presentation MathML, which browsers lay out natively: <mfrac>, <msup>,
    <msqrt>, sin&#x2061;(x). It groups exactly as _Latex does (fractions, roots and exponents need no
    parentheses), so it inherits its precedence; only the spelling of each piece differs. Every
    name is XML-escaped."""

    open, close = "<mo>(</mo>", "<mo>)</mo>"

    def leaf(self, node: Any) -> str:
        if node.op == "var":
            return mathml_name(node.name)
        if node.name:
            return f"<mi>{'π' if node.name == 'pi' else _escape(node.name)}</mi>"
        text = number(node.value, signed_zero=True)
        sign, text = ("<mo>" + _MINUS + "</mo>", text[1:]) if text.startswith("-") else ("", text)
        mantissa, e, exponent = text.partition("e")
        if e:
            return (f"{sign}<mn>{mantissa}</mn><mo>&#xD7;</mo><msup><mn>10</mn>"
                    f"<mrow>{_mn(str(int(exponent)))}</mrow></msup>")
        return f"{sign}<mn>{text}</mn>"

    def template(self, node: Any) -> Template:
        op = node.op
        if op == "div":
            return ["<mfrac><mrow>", (0, False), "</mrow><mrow>", (1, False), "</mrow></mfrac>"]
        if op == "pow":
            base = node.args[0]
            wrap = self.precedence(base) <= _POW or (base.op == "div" and base not in self.atoms)
            return ["<msup><mrow>", (0, wrap), "</mrow><mrow>", (1, False), "</mrow></msup>"]
        if op == "sqrt":
            return ["<msqrt><mrow>", (0, False), "</mrow></msqrt>"]
        if op == "abs":
            return ['<mrow><mo fence="true">|</mo>', (0, False), '<mo fence="true">|</mo></mrow>']
        if op == "exp":
            return ["<msup><mi>e</mi><mrow>", (0, False), "</mrow></msup>"]
        if op == "mul":
            wrap_a, wrap_b = self.wraps(node)
            return [(0, wrap_a), _GAP, (1, wrap_b)]
        operator = OPERATOR_OF.get(op)
        if operator is None:
            name = _MATHML_FUNCTIONS.get(op, op)
            return [f"<mi>{name}</mi>{_APPLY}<mrow><mo>(</mo>", (0, False), "<mo>)</mo></mrow>"]
        symbol = _MINUS if operator.symbol == "-" else operator.symbol
        if operator.arity == 1:
            return [f"<mo>{symbol}</mo>", (0, self.precedence(node.args[0]) <= operator.precedence)]
        wrap_a, wrap_b = self.wraps(node)
        return [(0, wrap_a), f"<mo>{_escape(symbol)}</mo>", (1, wrap_b)]


def _escape(text: str) -> str:
    """text XML-escaped (html.escape); the html module loads only when MathML is asked for."""
    from html import escape
    return escape(text)


def _mn(text: str) -> str:
    return f"<mo>{_MINUS}</mo><mn>{text[1:]}</mn>" if text.startswith("-") else f"<mn>{text}</mn>"


def mathml_name(name: str) -> str:
    """A variable's name in MathML, as latex_name spells it in LaTeX: theta -> θ, x1 and x_1 -> x with
    subscript 1, x_max -> x with subscript max; anything else is one escaped <mi>."""
    return _spell_name(name, _mathml_word, lambda base, sub: f"<msub>{base}{sub}</msub>",
                       lambda digits: f"<mn>{_escape(digits)}</mn>")


def _mathml_word(word: str) -> str:
    if word in _GREEK_SET:
        import unicodedata  # here, not at the top: only Greek names need the Unicode tables
        case = "CAPITAL" if word[0].isupper() else "SMALL"
        word = unicodedata.lookup(f"GREEK {case} LETTER {word.upper()}")
    return f"<mi>{_escape(word)}</mi>"


# Structure that opens before the first token of a factor: skipped when deciding how a product reads.
# A pattern, not a compiled one: re compiles it (once) when MathML is first written, not at import.
_OPENING = r"(?:<(?:mrow|msup|msub|mfrac|msqrt)>)+"


def _join_mathml(pieces: list) -> str:
    """Concatenate the pieces, filling each product gap with an invisible times, or a visible dot
    where juxtaposition would misread: before a number (2·3, x·2) or a fraction after a number."""
    opening = re.compile(_OPENING)
    out = []
    for i, piece in enumerate(pieces):
        if piece is not _GAP:
            out.append(piece)
            continue
        after = next((p for p in pieces[i + 1:i + 64] if p is not _GAP and p and not opening.fullmatch(p)), "")
        first = next((p for p in pieces[i + 1:i + 64] if p is not _GAP and p), "")
        digit_next = after.startswith(("<mn>", "<mo>" + _MINUS)) and not first.startswith("<mfrac>")
        fraction_after_number = first.startswith("<mfrac>") and (out[-1] if out else "").endswith("</mn>")
        out.append("<mo>&#xB7;</mo>" if digit_next or fraction_after_number else _TIMES)
    return "".join(out)


def precedence(node: Any) -> int:
    """How tightly `node` binds when printed as text: its operator's precedence, a negative number's
    as unary minus (-3 prints like -x), and ATOM_PRECEDENCE for names, numbers and calls."""
    if node.op == "const":
        negative = node.name is None and math.copysign(1.0, node.value) < 0
        return _NEG if negative else ATOM_PRECEDENCE
    op = OPERATOR_OF.get(node.op)
    return op.precedence if op is not None else ATOM_PRECEDENCE


def latex_name(name: str) -> str:
    """A variable's name in LaTeX: theta and θ -> \\theta, x1 and x_1 -> x_{1}, rate -> \\mathit{rate}."""
    return _spell_name(name, _latex_word, lambda base, sub: f"{base}_{{{sub}}}", str)


def _spell_name(name: str, word: Any, subscript: Any, digits: Any) -> str:
    """A name with its subscripts, in the words of one dialect: `word` spells a run of letters,
    `subscript(base, sub)` attaches a subscript, `digits` spells trailing digits. x_i_j nests as
    x_{i_{j}}, x1 is x_{1}; in x_, _x or x__y the underscores are part of the name."""
    parts = name.split("_")
    if len(parts) > 1 and not all(parts):
        return word(name)

    def part(text: str) -> str:
        found = re.search(r"(?<=[^\W\d_])\d+$", text)
        if found:
            return subscript(word(text[:found.start()]), digits(found.group()))
        return digits(text) if text.isdigit() and text.isascii() else word(text)

    out = part(parts[-1])
    for p in reversed(parts[:-1]):
        out = subscript(part(p), out)
    return out


def _latex_word(word: str) -> str:
    if word in _GREEK_SET:
        return "\\" + word
    import unicodedata  # loaded on the LaTeX path only, which start-up does not take
    if len(word) == 1 and "GREEK" in unicodedata.name(word, ""):
        # θ -> \theta, Ω -> \Omega; a Greek capital LaTeX writes as a Latin letter stays as typed.
        parts = unicodedata.name(word).split()
        letter = parts[-1].lower() if "SMALL" in parts else parts[-1].capitalize()
        return "\\" + letter if letter in _GREEK_SET else rf"\text{{{word}}}"
    escaped = word.replace("_", r"\_")
    if not word.isascii():
        return rf"\text{{{escaped}}}"
    return escaped if len(word) == 1 else rf"\mathit{{{escaped}}}"


# ---- the one walk -------------------------------------------------------------------------------

def _walk(root: Any, dialect: _Text, limit: float = math.inf, define: bool = False,
          known: Mapping[Any, str] | None = None) -> list | None:
    """The pieces that print `root`, in order. A node in `dialect.atoms` prints as its atom, except the
    root when `define` (the right side of "u1 = ..."); a node in `known` is already printed there.
    Iterative, so a tree 100,000 levels deep prints without recursion. None past `limit` characters."""
    out: list = []
    size = 0
    stack: list[Any] = [root]
    atoms, known = dialect.atoms, known or {}
    while stack:
        item = stack.pop()
        if isinstance(item, str) or item is _GAP:
            text = item
        elif item in atoms and not (define and item is root):
            text = atoms[item]
        elif item in known and item is not root:
            text = known[item]
        elif not item.args:
            text = dialect.leaf(item)
        else:
            for piece in reversed(dialect.template(item)):
                if isinstance(piece, tuple):
                    k, wrap = piece
                    stack.extend((dialect.close, item.args[k], dialect.open) if wrap else (item.args[k],))
                else:
                    stack.append(piece)
            continue
        out.append(text)
        size += 1 if text is _GAP else len(text)
        if size > limit:
            return None
    return out


def _join(pieces: list) -> str:
    """Concatenate the pieces, filling each product gap with a space or \\cdot."""
    out = []
    for i, piece in enumerate(pieces):
        if piece is not _GAP:
            out.append(piece)
            continue
        after = next((p for p in pieces[i + 1:i + 64] if p is not _GAP and p), "")
        before = out[-1] if out else ""
        digit_next = after[:1].isdigit() or after[:1] == "."
        fraction_after_number = after.startswith(r"\frac") and before[-1:].isdigit()
        out.append(r" \cdot " if digit_next or fraction_after_number else " ")
    return "".join(out)


# How each dialect joins its pieces, and spells the name of a shared part (u1 -> u_{1} in LaTeX).
_SPELLING: dict[type, tuple[Any, Any]] = {_Text: ("".join, str), _Latex: (_join, latex_name),
                                          _MathML: (_join_mathml, mathml_name)}


def _plan(root: Any, threshold: int, atoms: Mapping[Any, str], share: bool) -> tuple[dict, dict]:
    """(names, lengths): the nodes to print by name (if `share`) and each node's text length.

    A node is named when it is used more than once in the graph and its text, with the names already
    given inside it, is longer than `threshold`. Why the output is then linear: a node left unnamed is
    used once or is short, so each edge of the graph adds at most `threshold` characters plus a name.
    """
    order = root.nodes()
    uses: dict[Any, int] = {}
    for node in order:
        for child in node.args:
            uses[child] = uses.get(child, 0) + 1
    prefix = fresh_prefix(n.name for n in order if n.op == "var")
    names: dict[Any, str] = {}
    dialect = _Text(names)
    length: dict[Any, int] = {}
    for node in order:
        if node in atoms or not node.args:
            length[node] = len(atoms[node]) if node in atoms else len(dialect.leaf(node))
            continue
        size = 0
        for piece in dialect.template(node):
            if isinstance(piece, tuple):
                child = node.args[piece[0]]
                size += (len(names[child]) if child in names else length[child]) + 2 * piece[1]
            else:
                size += len(piece)
        length[node] = size
        if share and node is not root and uses.get(node, 0) > 1 and size > threshold:
            names[node] = f"{prefix}{len(names) + 1}"
    return names, length


def shared_names(root: Any, threshold: int = SHARE_THRESHOLD,
                 atoms: Mapping[Any, str] | None = None) -> dict[Any, str]:
    """The subexpressions of `root` that shared printing writes once, by name (u1, u2, ...): each
    used more than once and longer than `threshold` characters, innermost first. Linear time."""
    return _plan(root, threshold, atoms or {}, True)[0]


def fresh_prefix(variables: Iterable[str]) -> str:
    """A letter for named intermediates (u1, u2, ...) that no variable's name could be taken for."""
    # Only a name ending in a digit can match, so most formulas never compile the pattern.
    taken = {m.group(1) for v in variables if v[-1:].isdecimal() and (m := re.fullmatch(r"(\D+)\d+", v))}
    # The long candidates (uu, uuu, ...) are made only when the six letters are all taken.
    return next(p for p in itertools.chain(("u", "v", "w", "s", "t", "q"), ("u" * k for k in range(2, 99)))
                if p not in taken)


def _short_texts(root: Any, dialect: _Text, length: Mapping[Any, int], limit: int) -> dict[Any, str]:
    """The printed text of every subexpression at most `limit` characters long, built children first,
    so a short part used in many places is walked once (each string costs its own length)."""
    known: dict[Any, str] = {}
    join = _SPELLING[type(dialect)][0]
    for node in root.nodes():
        if not node.args or length[node] > limit or node in dialect.atoms:
            continue
        parts: list = []
        for piece in dialect.template(node):
            if isinstance(piece, tuple):
                child = node.args[piece[0]]
                text = dialect.atoms.get(child) or known.get(child) or dialect.leaf(child)
                parts.extend((dialect.open, text, dialect.close) if piece[1] else (text,))
            else:
                parts.append(piece)
        known[node] = join(parts)
    return known


def _render(root: Any, dialect_class: type, shared: bool | None, atoms: Mapping[Any, str] | None,
            threshold: int) -> tuple[list, list[tuple[str, list]]]:
    """The pieces of the main formula and, for each named subexpression, (its name, its pieces)."""
    atoms = dict(atoms or {})
    if shared is not True:
        pieces = _walk(root, dialect_class(atoms), EXACT_LIMIT if shared is None else math.inf)
        if pieces is not None:
            return pieces, []
    names, length = _plan(root, threshold, atoms, True)
    atoms.update({node: _SPELLING[dialect_class][1](name) for node, name in names.items()})
    dialect = dialect_class(atoms)
    known = _short_texts(root, dialect, length, threshold)
    where = [(atoms[node], _walk(node, dialect, define=True, known=known)) for node in names]
    return _walk(root, dialect, known=known), where


def to_text(root: Any, shared: bool | None = False, atoms: Mapping[Any, str] | None = None,
            threshold: int = SHARE_THRESHOLD) -> str:
    """The formula as text.

    shared=False: exact text that gradcore.parse reads back to the same tree, however long.
    shared=True: each subexpression used more than once and longer than `threshold` characters is
        written once, after the formula: "u1**2 + u1\\n  where u1 = ..."; size linear in the graph.
    shared=None: exact up to EXACT_LIMIT characters, else as shared=True (what str(expr) does).
    `atoms` maps nodes to text printed in their place as a unit (a derivation's d/dx[...]).
    """
    pieces, where = _render(root, _Text, shared, atoms, threshold)
    text = "".join(pieces)
    if where:
        lines = [f"{name} = {''.join(p)}" for name, p in where]
        text += "\n  where " + "\n        ".join(lines)
    return text


def to_latex(root: Any, shared: bool | None = False, atoms: Mapping[Any, str] | None = None,
             threshold: int = SHARE_THRESHOLD) -> str:
    """The formula in LaTeX, from the same walk as to_text and with the same terms, parentheses and
    named subexpressions (`shared` and `atoms` as there): x^{2}, \\frac{a}{b}, \\sqrt{x}, e^{x},
    \\sin\\left(x\\right), \\theta. Named parts follow as "\\quad \\text{where } u_{1} = ...".
    """
    pieces, where = _render(root, _Latex, shared, atoms, threshold)
    text = _join(pieces)
    if where:
        text += r" \quad \text{where } " + r",\; ".join(f"{name} = {_join(p)}" for name, p in where)
    return text


def to_mathml(root: Any, shared: bool | None = False, atoms: Mapping[Any, str] | None = None,
              threshold: int = SHARE_THRESHOLD, display: bool = False, element: bool = True) -> str:
    """The formula as presentation MathML, from the same walk as to_text and to_latex and with the
    same terms, parentheses and named subexpressions (`shared` and `atoms` as there; an atom is a
    MathML fragment). Named parts follow as "where u1 = ...". With `element`, the result is one
    <math> element (display="block" if `display`); without, the bare fragment, to nest in another.
    """
    pieces, where = _render(root, _MathML, shared, atoms, threshold)
    text = _join_mathml(pieces)
    if where:
        text += '<mspace width="1em"/><mtext>where</mtext><mspace width="0.5em"/>' + "<mo>,</mo>".join(
            f"{name}<mo>=</mo>{_join_mathml(p)}" for name, p in where)
    if not element:
        return f"<mrow>{text}</mrow>"
    block = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{block}><mrow>{text}</mrow></math>'
