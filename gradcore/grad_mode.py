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
    """Set recording to `enabled` inside a `with` block or a decorated function, then restore it."""

    enabled = True

    def __enter__(self) -> "_Mode":
        self._previous = _State.enabled
        _State.enabled = self.enabled
        return self

    def __exit__(self, *exc: object) -> None:
        _State.enabled = self._previous

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
