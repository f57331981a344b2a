"""Text -> Expr: a hand-written tokenizer and an iterative operator-precedence parser.

User text is data: nothing here evaluates, compiles or hands it to sympy. Every failure is a ParseError.
"""

from __future__ import annotations

import keyword
import math

from . import ops
from .errors import DomainError, NumericOverflowError, ParseError
from .expr import Expr, const, raw

__all__ = ["parse", "as_formula", "MAX_LENGTH", "MAX_DEPTH", "MAX_OPERATORS"]

MAX_LENGTH = 10_000     # characters of text
MAX_DEPTH = 200         # levels of parentheses and function calls
MAX_OPERATORS = 1_000   # pending operators (long runs of signs or right-nested powers)

# ASCII digits only: str.isdigit and \d also accept '²' and other scripts' digits.
_DIGITS = "0123456789"
# Names: letters of any script (Unicode categories L*: str.isalpha), ASCII digits after the first
# character, and '_'; each is NFKC-normalised, as Python normalises identifiers, so a fullwidth 'ｘ'
# is x. Digits of other scripts and look-alike punctuation (the Greek question mark ';') are not
# letters and are refused where they stand.
_NAME_REST = frozenset(_DIGITS + "_")
# Greek letters that look like Latin ones: the two in one formula are refused (ο beside o).
_GREEK_LOOKALIKE = dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧαιικνορυχ", "ABEZHIKMNOPTYXaiiKvopux"))
_SPACE = " \t\r\n"
# Operator spellings from the table, longest first, so "**" is read before "*".
_SPELLINGS = sorted({*ops.INFIX, *ops.PREFIX}, key=len, reverse=True)
_OPERATOR_START = {s[0] for s in _SPELLINGS}

# Why a character is refused, so the message teaches instead of just pointing.
_REFUSED = {
    ".": "attributes ('.') are not part of a formula",
    "[": "subscripts ('[') are not part of a formula", "]": "subscripts (']') are not part of a formula",
    "{": "braces are not part of a formula", "}": "braces are not part of a formula",
    "'": "strings are not part of a formula", '"': "strings are not part of a formula",
    "=": "assignment and comparison ('=') are not part of a formula",
    "<": "comparisons ('<') are not part of a formula", ">": "comparisons ('>') are not part of a formula",
    "!": "'!' is not supported (no factorials or comparisons in formulas)",
    ";": "';' separates statements; a formula is one expression",
    ":": "':' is not part of a formula", "@": "'@' is not part of a formula",
    "%": "'%' (remainder) is not supported", "&": "'&' is not part of a formula",
    "|": "'|' is not part of a formula; write abs(x) for |x|", "~": "'~' is not part of a formula",
    "\\": "'\\' is not part of a formula", "#": "comments ('#') are not part of a formula",
    "$": "'$' is not part of a formula", "?": "'?' is not part of a formula", "`": "'`' is not part of a formula",
    "\u2212": "this is a typographic minus sign; type '-' instead",
    "\u00d7": "this is a multiplication sign; type '*' instead",
    "\u00b7": "this is a multiplication dot; type '*' instead",
    "\u00f7": "this is a division sign; type '/' instead",
    "\u00b2": "superscripts are not supported; type **2 instead",
    "\u00b3": "superscripts are not supported; type **3 instead",
}

# Token kinds.
NUM, NAME, OP, LP, RP, COMMA, END = "number", "name", "operator", "(", ")", ",", "end of text"


class _Token:
    __slots__ = ("kind", "text", "pos")

    def __init__(self, kind: str, text: str, pos: int) -> None:
        self.kind, self.text, self.pos = kind, text, pos

    def describe(self) -> str:
        return "the end of the text" if self.kind == END else repr(self.text)


def _number_end(text: str, i: int) -> int:
    """Where the number starting at i ends: digits, '.', digits (either run may be empty, not both:
    the caller has seen a digit at i or after the '.'), then e or E, an optional sign and digits.

    (A scan rather than a regular expression: compiling the pattern cost more start-up time than
    the command line spends parsing.)
    """
    n = len(text)
    j = _digits_end(text, i)
    if j < n and text[j] == ".":
        j = _digits_end(text, j + 1)
    if j < n and text[j] in "eE":
        k = j + 2 if text.startswith(("+", "-"), j + 1) else j + 1
        end = _digits_end(text, k)
        if end > k:  # an exponent needs a digit: in 2e and 2e+x, e is a name
            j = end
    return j


def _digits_end(text: str, i: int) -> int:
    """The end of the run of ASCII digits starting at i."""
    n = len(text)
    while i < n and text[i] in _DIGITS:
        i += 1
    return i


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _SPACE:
            i += 1
            continue
        if ch in _DIGITS or (ch == "." and i + 1 < n and text[i + 1] in _DIGITS):
            end = _number_end(text, i)
            number = text[i:end]
            out.append(_Token(NUM, number, i))
            if number == "0" and end + 1 < n and text[end] in "xXbBoO" and text[end + 1].isalnum():
                raise ParseError("hexadecimal, binary and octal literals are not supported", text, i)
            i = end
            continue
        if ch.isalpha() or ch == "_":
            end = i + 1
            while end < n and (text[end].isalpha() or text[end] in _NAME_REST):
                end += 1
            name = text[i:end]
            if not name.isascii():
                import unicodedata  # only a name beyond ASCII needs the Unicode tables
                name = unicodedata.normalize("NFKC", name)
                if not all(c.isalpha() or c in _NAME_REST for c in name):
                    raise ParseError(f"the name {text[i:end]!r} is not made of letters, digits and '_'",
                                     text, i)
            if name.startswith("_") or "__" in name:
                raise ParseError(f"names may not start with '_' or contain '__': {name!r}", text, i)
            if keyword.iskeyword(name):
                hint = "; to name a variable, pick another word such as 'lam'" if name == "lambda" else ""
                raise ParseError(f"{name!r} is a Python keyword, not part of a formula{hint}", text, i)
            out.append(_Token(NAME, name, i))
            i = end
            continue
        if ch == "/" and text.startswith("//", i):
            raise ParseError("floor division '//' is not supported; use '/'", text, i)
        if ch in _OPERATOR_START:
            spelling = next(s for s in _SPELLINGS if text.startswith(s, i))
            out.append(_Token(OP, spelling, i))
            i += len(spelling)
            continue
        if ch in "(),":
            out.append(_Token(ch, ch, i))
        else:
            import unicodedata  # an error path: the Unicode tables load only here
            reason = _REFUSED.get(ch, f"unexpected character {ch!r}" + (
                "" if ch.isascii() else f" (U+{ord(ch):04X} {unicodedata.name(ch, 'unassigned')})"))
            if ch == "=" and text.startswith("==", i):
                reason = "comparisons ('==') are not part of a formula"
            raise ParseError(reason, text, i)
        i += 1
    out.append(_Token(END, "", n))
    _check_scripts(out, text)
    return out


def _script(letter: str) -> str:
    """The script a letter belongs to, from its Unicode name: 'LATIN', 'GREEK', 'CYRILLIC', ..."""
    if letter.isascii():
        return "LATIN"
    import unicodedata  # only letters beyond ASCII need the Unicode tables
    return unicodedata.name(letter, "UNKNOWN").split(" ", 1)[0]


def _check_scripts(tokens: list[_Token], text: str) -> None:
    """Refuse look-alike letters of different scripts in one formula (Greek ο beside Latin o).

    Latin and Greek mix freely (theta*x, θ + x), except a Greek letter that looks like a Latin one
    which the formula also uses; any other script (Cyrillic, ...) must be the formula's only one.
    """
    first: dict[str, tuple[str, int]] = {}  # script -> (a letter of it, its position)
    latin: dict[str, int] = {}
    for tok in tokens:
        if tok.kind != NAME:
            continue
        for k, c in enumerate(tok.text):
            if not c.isalpha():
                continue
            script = _script(c)
            first.setdefault(script, (c, tok.pos + k))
            if script == "LATIN":
                latin.setdefault(c, tok.pos + k)
    for script, (c, pos) in first.items():
        if script in ("LATIN", "GREEK"):
            continue
        other = next((s for s in first if s != script), None)
        if other is not None:
            o, _ = first[other]
            raise ParseError(f"this formula mixes letters of two scripts, {other.title()} {o!r} and "
                             f"{script.title()} {c!r}, which can look alike; write every name in one",
                             text, pos)
    if "GREEK" in first and latin:
        for tok in tokens:
            if tok.kind != NAME:
                continue
            for k, c in enumerate(tok.text):
                twin = _GREEK_LOOKALIKE.get(c)
                if twin is not None and twin in latin:
                    raise ParseError(f"the Greek letter {c!r} looks like the Latin {twin!r}, which this "
                                     f"formula also uses; write one of them", text, tok.pos + k)


# Operator-stack entries: (kind, precedence, right_associative, payload, position).
# Prefix + and - bind as tightly as the table's unary minus: -x**2 is -(x**2), -x*y is (-x)*y.
_UNARY_PREC = ops.PREFIX["-"].precedence
_PRODUCT = ops.INFIX["*"]  # 2x and (x+1)(x-1) multiply, as tightly as '*'


def parse(text: str) -> Expr:
    """Parse a formula into an Expr, exactly as written (no simplification).

    Grammar: numbers (1, 2.5, 1e-3), variables, pi and e, the table's functions called with
    parentheses, + - * / and ** or ^ (power, right-associative), unary - and +, parentheses, and
    implicit products 2x, 2(x+1), (x+1)(x-1), and 2xy read as 2*x*y when x and y are also
    variables of the formula. Raises ParseError with a caret on anything else.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse expects a str, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"the formula is {len(text):,} characters long; the limit is {MAX_LENGTH:,}",
                         text, MAX_LENGTH)
    if not text.strip():
        raise ParseError("the formula is empty", text, 0)
    return _Parser.split_run_together_names(_Parser(text).run())


def as_formula(f: "Expr | str", what: str = "this function") -> Expr:
    """An Expr for an Expr or formula text (parsed); a TypeError naming `what` for anything else."""
    if isinstance(f, Expr):
        return f
    if isinstance(f, str):
        return parse(f)
    raise TypeError(f"{what} needs an Expr or formula text, got {type(f).__name__}")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.operands: list[Expr] = []
        # The float64 value of each operand that is a constant subexpression (None otherwise), so
        # that 9**9**9**9 is reported at once as too large instead of surfacing later as inf.
        self.values: list[float | None] = []
        self.operators: list[tuple] = []
        self.depth = 0

    def fail(self, reason: str, pos: int) -> ParseError:
        return ParseError(reason, self.text, pos)

    def run(self) -> Expr:
        expect_operand = True
        last = None  # kind of the previous operand: "number", "name" or "group"
        tokens = self.tokens
        i = 0
        while True:
            tok = tokens[i]
            if expect_operand:
                i = self.operand(tok, i)
                if i < 0:  # consumed a prefix operator or '(' and still wants an operand
                    i = -i
                    continue
                last = "number" if tok.kind == NUM else "name" if tok.kind == NAME and \
                    tokens[i - 1] is tok else "group"
                expect_operand = False
                continue
            # After an operand: a binary operator, ')', ',', the end, or an implicit product.
            if tok.kind == OP:
                self.binary(tok)
                expect_operand = True
                i += 1
            elif tok.kind == RP:
                self.close(tok)
                last = "group"
                i += 1
            elif tok.kind == COMMA:
                self.comma(tok)
            elif tok.kind == END:
                return self.finish(tok)
            else:
                self.implicit_product(tok, last)
                expect_operand = True

    @staticmethod
    def split_run_together_names(result: Expr) -> Expr:
        """Read 'xy' as x*y when x and y are also variables of the same formula.

        So `x^2 + 2xy + cos(x+2y)` means 2*x*y, as a person writing it by hand means. A name that does
        not split into the formula's other variables ('theta', 'x1', or 'xy' alone) stays a name.
        """
        # Names split only into atoms: variables that do not split themselves. Shortest first, so a
        # name's atoms are known when it is reached; then 'xyy' is x*y*y whether or not 'xy' also
        # appears, and the printed form re-parses to the same variables.
        atoms: set[str] = set()
        lengths: list[int] = []  # the distinct lengths of atoms, longest first
        products, pieces_of = {}, {}
        for name in sorted(result.variables, key=len):
            pieces = _split(name, atoms, lengths) if len(name) > 1 else None
            if not pieces:
                atoms.add(name)
                if len(name) not in lengths:
                    lengths.append(len(name))
                    lengths.sort(reverse=True)
                continue
            product = Expr._make("var", name=pieces[0])
            for piece in pieces[1:]:
                product = raw("mul", product, Expr._make("var", name=piece))
            products[Expr._make("var", name=name)] = product
            pieces_of[Expr._make("var", name=name)] = pieces
        if not products:
            return result
        built: dict[Expr, Expr] = {}
        for node in result.nodes():
            if node.op == "var":
                built[node] = products.get(node, node)
            elif node.op == "const":
                built[node] = node
            elif node.op == "mul" and node.args[1] in products:
                # 2*xy becomes 2*x*y, the same tree as if the stars had been typed.
                out = built[node.args[0]]
                for piece in pieces_of[node.args[1]]:
                    out = raw("mul", out, Expr._make("var", name=piece))
                built[node] = out
            else:
                built[node] = raw(node.op, *[built[a] for a in node.args])
        return built[result]

    # ---- operands -----------------------------------------------------------------------
    def operand(self, tok: _Token, i: int) -> int:
        """Handle a token where an operand is expected; return the next index, negated if the
        token opened something (prefix sign, '(' or call) and an operand is still expected."""
        kind = tok.kind
        if kind == NUM:
            value = float(tok.text)
            if math.isinf(value):
                raise self.fail(f"the number {tok.text[:20]}{'...' if len(tok.text) > 20 else ''} "
                                "is too large for float64", tok.pos)
            self.operands.append(const(value))
            self.values.append(value)
            return i + 1
        if kind == NAME:
            return self.name(tok, i)
        if kind == OP and tok.text in "+-":
            self.push(("neg" if tok.text == "-" else "pos", _UNARY_PREC, True, None, tok.pos))
            return -(i + 1)
        if kind == LP:
            self.open(("(", 0, False, None, tok.pos))
            return -(i + 1)
        if kind == RP and self.operators and self.operators[-1][0] == "call":
            prim = self.operators[-1][3]
            raise self.fail(f"{prim.name}() needs {_args(prim.arity)}, got none", tok.pos)
        if kind == RP and self.operators and self.operators[-1][0] == "(":
            raise self.fail("empty parentheses: expected a number, variable or '(' inside", tok.pos)
        if kind == RP and not any(o[0] in ("(", "call") for o in self.operators):
            raise self.fail("unbalanced ')': there is no '(' to close", tok.pos)
        raise self.fail(f"expected a number, variable, function or '(' but found {tok.describe()}", tok.pos)

    def name(self, tok: _Token, i: int) -> int:
        name = tok.text
        nxt = self.tokens[i + 1]
        prim = ops.lookup(name)
        if prim is not None:
            if nxt.kind != LP:
                raise self.fail(f"the function {name} must be called with parentheses, e.g. {name}(x)",
                                tok.pos)
            self.open(("call", 0, False, prim, tok.pos))
            return -(i + 2)
        if nxt.kind == LP:
            raise self.fail(self.not_a_function(name), tok.pos)
        if name in ops.CONSTANTS:
            self.operands.append(const(ops.CONSTANTS[name], name=name))
            self.values.append(ops.CONSTANTS[name])
        else:
            self.operands.append(Expr._make("var", name=name))
            self.values.append(None)
        return i + 1

    @staticmethod
    def not_a_function(name: str) -> str:
        if name in ops.PRIMITIVES:
            sym = ops.PRIMITIVES[name].symbol
            return f"{name!r} is written as an operator: use {sym!r}" if sym else f"{name!r} is written as '-x'"
        if name in ops.CONSTANTS:
            return f"{name!r} is a constant, not a function; for a product write {name}*(...)"
        import difflib  # only on this error path: it is not needed to parse a good formula

        known = sorted(set(ops.FUNCTIONS) | set(ops.ALIASES))
        close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.6)
        if close:
            return f"unknown function {name!r}: did you mean {close[0]}?"
        if len(name) <= 2:
            return f"{name!r} is not a function; for a product write {name}*(...)"
        return f"unknown function {name!r}; the functions are: {', '.join(known)}"

    # ---- operators ----------------------------------------------------------------------
    def push(self, entry: tuple) -> None:
        if len(self.operators) >= MAX_OPERATORS:
            raise self.fail(f"too many nested operators (the limit is {MAX_OPERATORS})", entry[4])
        self.operators.append(entry)

    def open(self, entry: tuple) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"parentheses nest too deeply (the limit is {MAX_DEPTH} levels)", entry[4])
        self.push(entry)

    def binary(self, tok: _Token) -> None:
        op = ops.INFIX[tok.text]
        self.reduce_while(op.precedence, op.right)
        self.push(("bin", op.precedence, op.right, op.primitive, tok.pos))

    def implicit_product(self, tok: _Token, last: str | None) -> None:
        if tok.kind == NUM:
            raise self.fail(f"expected an operator before {tok.describe()}", tok.pos)
        if last == "name":
            previous = self.operands[-1]
            shown = str(previous)
            if tok.kind == LP:
                raise self.fail(self.not_a_function(shown), tok.pos - 1 if tok.pos else 0)
            raise self.fail(f"expected an operator between {shown} and {tok.text}; "
                            f"for a product write {shown}*{tok.text}", tok.pos)
        # 2x, 2(x+1), (x+1)(x-1), 2sin(x): juxtaposition multiplies, with the precedence of '*'.
        self.reduce_while(_PRODUCT.precedence, _PRODUCT.right)
        self.push(("bin", _PRODUCT.precedence, _PRODUCT.right, _PRODUCT.primitive, tok.pos))

    def reduce_while(self, prec: int, right: bool) -> None:
        ops_ = self.operators
        while ops_:
            kind, p = ops_[-1][0], ops_[-1][1]
            if kind in ("(", "call"):
                return
            if p > prec or (p == prec and not right):
                self.apply(ops_.pop())
            else:
                return

    def apply(self, entry: tuple) -> None:
        kind = entry[0]
        if kind == "neg":
            self.build("neg", 1, entry[4])
        elif kind == "bin":
            self.build(entry[3], 2, entry[4])
        # "pos" (unary plus) changes nothing.

    def build(self, op: str, arity: int, pos: int) -> None:
        args = self.operands[-arity:]
        values = self.values[-arity:]
        del self.operands[-arity:], self.values[-arity:]
        self.operands.append(raw(op, *args))
        value = None
        if None not in values:
            try:
                value = ops.scalar_call(ops.PRIMITIVES[op], *values)
            except NumericOverflowError:
                raise self.fail("this constant is too large for float64", pos) from None
            except DomainError:
                value = None  # log(-1) is a formula that is undefined, reported when evaluated
        self.values.append(value)
    def close(self, tok: _Token) -> None:
        ops_ = self.operators
        while ops_ and ops_[-1][0] not in ("(", "call"):
            self.apply(ops_.pop())
        if not ops_:
            raise self.fail("unbalanced ')': there is no '(' to close", tok.pos)
        kind, _, _, prim, ops_pos = ops_.pop()
        self.depth -= 1
        if kind == "call":
            self.build(prim.name, 1, ops_pos)

    def comma(self, tok: _Token) -> None:
        ops_ = self.operators
        calls = [o for o in ops_ if o[0] in ("(", "call")]
        if calls and calls[-1][0] == "call":
            prim = calls[-1][3]
            count = 2 + self._more_commas(tok)
            raise self.fail(f"{prim.name}() takes {_args(prim.arity)}, got {count}", tok.pos)
        raise self.fail("',' is only allowed between function arguments", tok.pos)

    def _more_commas(self, tok: _Token) -> int:
        # Count the remaining top-level commas of this call, so the message states the real count.
        depth, extra = 0, 0
        for t in self.tokens[self.tokens.index(tok) + 1:]:
            if t.kind == LP:
                depth += 1
            elif t.kind == RP:
                if depth == 0:
                    break
                depth -= 1
            elif t.kind == COMMA and depth == 0:
                extra += 1
        return extra

    def finish(self, tok: _Token) -> Expr:
        ops_ = self.operators
        while ops_:
            entry = ops_.pop()
            if entry[0] in ("(", "call"):
                what = f"{entry[3].name}(" if entry[0] == "call" else "'('"
                raise self.fail(f"unbalanced parentheses: {what} opened here is never closed", entry[4])
            self.apply(entry)
        (result,) = self.operands
        return result


def _split(name: str, parts: set[str], lengths: list[int]) -> list[str] | None:
    """Split `name` into two or more of `parts` ("xy" -> ["x", "y"]), or None if it cannot be.

    `lengths` holds the lengths of `parts`, longest first. Of the splits, the one with the longest
    last piece is kept. The work is len(name) times the number of distinct lengths shorter than it,
    so a 10,000-letter name is cheap.
    """
    lengths = [k for k in lengths if k < len(name)]
    if not lengths:
        return None
    # start_of[i]: where the last piece of a split of name[:i] starts (-1: name[:i] does not split).
    start_of = [0] + [-1] * len(name)
    for end in range(1, len(name) + 1):
        for size in lengths:  # longest piece first: the smallest start, as a left-to-right scan finds
            start = end - size
            if start >= 0 and start_of[start] >= 0 and name[start:end] in parts:
                start_of[end] = start
                break
    if start_of[len(name)] < 0:
        return None
    pieces, end = [], len(name)
    while end > 0:
        pieces.append(name[start_of[end]:end])
        end = start_of[end]
    return pieces[::-1]


def _args(n: int) -> str:
    return "1 argument" if n == 1 else f"{n} arguments"
