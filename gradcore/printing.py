"""Formulas as text: the printer behind str(expr), with the fewest parentheses that parse back.

It reads operator spelling and precedence from ops.OPERATORS and walks any tree of nodes that have
`op`, `args`, `value` and `name` (an Expr), so it needs nothing from the layers above the table.
"""

from __future__ import annotations

import math
from typing import Any

from .format import number
from .ops import ATOM_PRECEDENCE, OPERATOR_OF

__all__ = ["to_text", "precedence"]

_ADD = OPERATOR_OF["add"].precedence
_NEG = OPERATOR_OF["neg"].precedence


def precedence(node: Any) -> int:
    """How tightly `node` binds when printed: its operator's precedence, a negative number's as
    unary minus (-3 prints like -x), and ATOM_PRECEDENCE for names, numbers and calls."""
    if node.op == "const":
        negative = node.name is None and math.copysign(1.0, node.value) < 0
        return _NEG if negative else ATOM_PRECEDENCE
    op = OPERATOR_OF.get(node.op)
    return op.precedence if op is not None else ATOM_PRECEDENCE


def to_text(root: Any) -> str:
    """The formula as text that gradcore.parse reads back to the same tree.

    An operand is parenthesised when it binds more loosely than its operator, or equally on the side
    the operator does not group towards (a - (b - c), a / (b * c), (x**y)**z); a negative right operand
    is parenthesised too (x * (-2)). Iterative: a tree 100,000 levels deep prints without recursion.
    """
    out: list[str] = []
    stack: list[Any] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        op = OPERATOR_OF.get(item.op)
        if item.op == "const":
            out.append(item.name or number(item.value, signed_zero=True))
        elif item.op == "var":
            out.append(item.name)
        elif op is None:  # a function call
            stack.extend([")", item.args[0]])
            out.append(item.op + "(")
        elif op.arity == 1:
            child = item.args[0]
            wrap = precedence(child) <= op.precedence
            stack.extend([")"] if wrap else [])
            stack.append(child)
            out.append(op.symbol + ("(" if wrap else ""))
        else:
            a, b = item.args
            pa, pb, p = precedence(a), precedence(b), op.precedence
            if op.right:
                wrap_a, wrap_b = pa <= p, pb < p
            else:
                wrap_a, wrap_b = pa < p, pb <= p or pb == _NEG
            sym = f" {op.symbol} " if p == _ADD else op.symbol
            # Pushed in reverse: "(" a ")" sym "(" b ")".
            stack.extend([")", b, "("] if wrap_b else [b])
            stack.append(sym)
            stack.extend([")", a, "("] if wrap_a else [a])
    return "".join(out)
