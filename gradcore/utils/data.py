"""`gradcore.utils.data`: the same objects as gradcore.data, under torch.utils.data's name."""

from ..data import DataLoader, Dataset, Subset, TensorDataset, default_collate, random_split

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "default_collate"]
