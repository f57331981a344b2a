"""A plain command line read without argparse, from the subcommand's own add_argument calls.

argparse, with gettext and locale, which it loads to translate its messages, and the building of
the parser cost about as much start-up as gradcore's own modules. A command line made only of a
subcommand, its formula and options spelled out in full, each value a separate word that does not
start with '-' (minimize "x**2+2*x+3" --method gd --lr 0.01) is read here instead. Anything else
(--help, an abbreviation, --lr=0.1, a formula starting with '-', a value argparse would refuse, any
mistake) goes to argparse, which reads it, or words its complaint, exactly as it always did.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Mapping, Sequence

__all__ = ["Declared", "plain_args"]


class Declared:
    """Stands in for a subcommand's parser while its add-arguments function runs, and records what
    each argument is. Any argparse feature beyond store, store_true and append of one value per
    word leaves the subcommand to argparse (`plain` is False)."""

    _PLAIN_KEYS = frozenset({"help", "metavar", "default", "type", "choices", "action", "required"})
    _PLAIN_ACTIONS = ("store", "store_true", "append")

    def __init__(self, prog: str) -> None:
        self.prog = prog
        self.epilog: str | None = None
        self.plain = True
        self.positionals: list[str] = []
        self.options: dict[str, tuple[str, str, Any, Any]] = {}  # "--lr" -> (dest, action, type, choices)
        self.required: list[str] = []
        self.defaults: dict[str, Any] = {}

    def add_argument(self, *names: str, **kwargs: Any) -> None:
        action = kwargs.get("action", "store")
        if set(kwargs) - self._PLAIN_KEYS or action not in self._PLAIN_ACTIONS:
            self.plain = False
            return
        if not names[0].startswith("-"):  # a positional: one word, stored as it is
            if len(names) > 1 or set(kwargs) - {"help", "metavar"}:
                self.plain = False
            self.positionals.append(names[0])
            return
        # argparse's dest: the first --long spelling, '-' read as '_'.
        dest = next((n[2:] for n in names if n.startswith("--")), names[0][1:]).replace("-", "_")
        default = kwargs.get("default", False if action == "store_true" else None)
        if isinstance(default, str) and kwargs.get("type") is not None:
            default = kwargs["type"](default)  # argparse converts a default given as text
        self.defaults[dest] = default
        if kwargs.get("required"):
            self.required.append(dest)
        for name in names:
            self.options[name] = (dest, action, kwargs.get("type"), kwargs.get("choices"))


def plain_args(words: Sequence[str], commands: Mapping[str, tuple]) -> SimpleNamespace | None:
    """What argparse would read from `words` (the subcommand first), when they are plain (see
    above); None when argparse must read them. commands[name][1] declares a subcommand's arguments
    (add_argument calls on the parser it is given)."""
    if not words or words[0] not in commands:
        return None
    declared = Declared(f"gradcore {words[0]}")
    commands[words[0]][1](declared)
    if not declared.plain:
        return None
    values: dict[str, Any] = {"command": words[0], **declared.defaults}
    given: set[str] = set()
    positionals: list[str] = []
    rest = iter(words[1:])
    for word in rest:
        if not word.startswith("-"):
            positionals.append(word)
            continue
        if word not in declared.options:
            return None
        dest, action, convert, choices = declared.options[word]
        given.add(dest)
        if action == "store_true":
            values[dest] = True
            continue
        text = next(rest, None)
        if text is None or text.startswith("-"):
            return None
        try:
            value = text if convert is None else convert(text)
        except (TypeError, ValueError):
            return None
        if choices is not None and value not in choices:
            return None
        values[dest] = [*(values[dest] or []), value] if action == "append" else value
    if len(positionals) != len(declared.positionals) or not given.issuperset(declared.required):
        return None
    values.update(zip(declared.positionals, positionals))
    return SimpleNamespace(**values)
