"""PyTorch's `torch.utils` spelling, so that `from gradcore.utils.data import DataLoader` ports.

Only `data` lives here; it re-exports gradcore.data.
"""

from . import data

__all__ = ["data"]
