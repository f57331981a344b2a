"""Whether autograd records operations: the one switch shared by Value and Tensor.

`no_grad()` turns recording off, as a context manager or as a decorator, like torch.no_grad.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

__all__ = ["no_grad", "enable_grad", "is_grad_enabled"]

T = TypeVar("T", bound=Callable[..., Any])


class _State:
    # A plain module-level flag: gradcore's engines are single-threaded, like micrograd's.
    enabled = True


def is_grad_enabled() -> bool:
    """True when new operations are being recorded for backward()."""
    return _State.enabled


class _Mode:
    """Set recording to `enabled` inside a `with` block or a decorated function, then restore it.

    Usable as `with no_grad():`, `@no_grad()` and `@no_grad`. The previous states are kept on a
    stack, so one object may be entered again while it is already active.
    """

    enabled = True

    def __new__(cls, fn: Any = None):
        if fn is not None:  # @no_grad without parentheses
            if not callable(fn):
                raise TypeError(f"{cls.__name__}() takes no arguments (or decorates a function)")
            return cls()(fn)
        return super().__new__(cls)

    def __init__(self, fn: Any = None) -> None:
        self._previous: list[bool] = []

    def __enter__(self) -> "_Mode":
        self._previous.append(_State.enabled)
        _State.enabled = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        _State.enabled = self._previous.pop()

    def __call__(self, fn: T) -> T:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper  # type: ignore[return-value]


class no_grad(_Mode):
    """Operations inside build no graph: results have requires_grad=False and no parents."""

    enabled = False


class enable_grad(_Mode):
    """Turn recording back on inside a no_grad region."""

    enabled = True
