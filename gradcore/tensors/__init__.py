"""gradcore's numpy autograd, re-exported: the Tensor class and backward (_tensor.py), the VJPs of
the non-elementwise operations (_vjps.py), creation and joining (_creation.py), the function
spellings torch.mean(x) and friends (_functions.py), and mse_loss.
"""

from ._creation import (Generator, arange, bool_, cat, concatenate, float32, float64, from_numpy,
                        generator, int64, linspace, manual_seed, ones, ones_like, rand, randn,
                        randperm, rng_of, stack, tensor, zeros, zeros_like)
from ._elementwise import F
from ._functions import exp, log, mean, sum
from ._loss import mse_loss
from ._node import Node, nodes_from
from ._tensor import Tensor, matmul

__all__ = [
    "Tensor", "tensor", "from_numpy", "zeros", "ones", "zeros_like", "ones_like", "randn", "rand",
    "manual_seed", "generator", "Generator", "rng_of", "randperm", "arange", "linspace",
    "mean", "sum", "exp", "log", "cat", "concatenate", "stack", "matmul", "mse_loss",
    "float32", "float64", "int64", "bool_", "F", "Node", "nodes_from",
]
