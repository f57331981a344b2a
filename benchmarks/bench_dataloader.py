"""A mini-batch epoch on gradcore Tensors with a DataLoader against a hand-written numpy mini-batch loop.

The model is y_hat = w1*x1 + w2*x2 + w3*x3 + b with the MSE loss; one shuffled epoch over 1,000,000
float32 rows in batches of 1,024 (977 updates). The baseline indexes each batch out of the arrays
and applies the gradient derived by hand (2/m X^T err); gradcore's loop is the one PyTorch users
write (TensorDataset, DataLoader, loss.backward(), optimizer.step()), once with the parameters as
two tensors and once with nn.Linear and nn.MSELoss. PyTorch's own DataLoader loop is timed too
when torch is installed. Both sides visit the rows in the same order, and their answers are
compared before their times. Only time ratios are printed.
Run: python3 benchmarks/bench_dataloader.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Imported first on purpose: bench_tensor sets one BLAS thread before numpy loads (a threaded matmul
# on a small shared machine swings the time several-fold) and puts this checkout on the path; its
# best_times runs the sides in turn, so that a burst of load slows all of them alike.
from bench_tensor import best_times  # noqa: E402, I001

import numpy as np  # noqa: E402

import gradcore as gc  # noqa: E402
from gradcore.utils.data import DataLoader, TensorDataset  # noqa: E402

ROWS = 1_000_000
BATCH = 1024
LR = 0.05
SEED = 0
TARGET = 3.0


def data(n: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 3)).astype(np.float32)
    y = (x @ np.array([1.5, -2.0, 0.5], dtype=np.float32) + np.float32(0.3)
         + np.float32(0.1) * rng.standard_normal(n).astype(np.float32))
    return x, y


def numpy_epoch(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The baseline: shuffle once, then per batch index the rows out and step along the gradient
    derived by hand (dL/dw = 2/m X^T err, dL/db = 2 mean(err)), written plainly."""
    w = np.zeros(3, dtype=np.float32)
    b = np.float32(0.0)
    order = np.random.default_rng(SEED).permutation(len(y))
    for start in range(0, len(y), BATCH):
        idx = order[start:start + BATCH]
        xb, yb = x[idx], y[idx]
        err = xb @ w + b - yb
        w -= np.float32(LR * 2.0 / len(idx)) * (xb.T @ err)
        b -= np.float32(LR * 2.0) * err.mean()
    return w, float(b)


def tensor_epoch(lib: object, loader: object, mse_loss: object) -> tuple[np.ndarray, float]:
    """One epoch of the loop PyTorch users write, for `lib` = gradcore or torch (same spelling)."""
    w = lib.zeros(3, requires_grad=True)
    b = lib.zeros((), requires_grad=True)
    opt = lib.optim.SGD([w, b], lr=LR)
    for xb, yb in loader:
        loss = mse_loss(xb @ w + b, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return w.detach().numpy().copy(), float(b.item())


def gradcore_epoch(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """gradcore: TensorDataset + DataLoader, backward(), SGD.step()."""
    loader = DataLoader(TensorDataset(gc.from_numpy(x), gc.from_numpy(y)), batch_size=BATCH,
                        shuffle=True, generator=gc.Generator().manual_seed(SEED))
    return tensor_epoch(gc, loader, gc.nn.mse_loss)


def gradcore_module_epoch(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The same with nn.Linear(3, 1) and nn.MSELoss(), targets as an (n, 1) column."""
    loader = DataLoader(TensorDataset(gc.from_numpy(x), gc.from_numpy(y[:, None])),
                        batch_size=BATCH, shuffle=True, generator=gc.Generator().manual_seed(SEED))
    model = gc.nn.Linear(3, 1)
    with gc.no_grad():
        model.weight[...] = 0.0
        model.bias[...] = 0.0
    criterion = gc.nn.MSELoss()
    opt = gc.optim.SGD(model.parameters(), lr=LR)
    for xb, yb in loader:
        loss = criterion(model(xb), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.weight.detach().numpy()[0].copy(), float(model.bias.item())


def torch_epoch(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """PyTorch's DataLoader loop, for the anchor (its shuffle order is torch's, not numpy's)."""
    import torch
    from torch.utils.data import DataLoader as TorchLoader, TensorDataset as TorchDataset

    loader = TorchLoader(TorchDataset(torch.from_numpy(x), torch.from_numpy(y)), batch_size=BATCH,
                         shuffle=True, generator=torch.Generator().manual_seed(SEED))
    return tensor_epoch(torch, loader, torch.nn.functional.mse_loss)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed epochs per side (best is kept)")
    args = parser.parse_args()
    try:
        import torch  # noqa: F401
        have_torch = True
    except ImportError:
        have_torch = False
    sides = [numpy_epoch, gradcore_epoch, gradcore_module_epoch] + ([torch_epoch] if have_torch else [])
    x, y = data(ROWS)
    results = [side(x, y) for side in sides]
    # Same rows in the same order, same float32 arithmetic up to rounding: the answers must agree
    # before the times mean anything (torch shuffles differently, so it only has to fit as well).
    for w, b in results[1:3]:
        assert np.allclose(w, results[0][0], rtol=1e-4, atol=1e-5), (w, results[0][0])
        assert abs(b - results[0][1]) < 1e-4, (b, results[0][1])
    for w, b in results[3:]:
        assert np.allclose(w, [1.5, -2.0, 0.5], atol=0.05) and abs(b - 0.3) < 0.05, (w, b)
    times = best_times(sides, x, y, repeat=args.repeat)
    t_np = times[0]
    ratio = times[1] / t_np
    verdict = "meets" if ratio <= TARGET else "MISSES"
    print(f"one shuffled mini-batch epoch, {ROWS:,} x 3 float32 rows, batch {BATCH:,} "
          f"({-(-ROWS // BATCH)} updates), best of {args.repeat}; ratio = time / numpy loop time")
    print(f"  gradcore Tensor + DataLoader: {ratio:.2f}x (target <= {TARGET}x: {verdict}); "
          f"with nn.Linear + nn.MSELoss {times[2] / t_np:.2f}x")
    if have_torch:
        print(f"  PyTorch Tensor + DataLoader: {times[3] / t_np:.2f}x "
              f"(gradcore / PyTorch {times[1] / times[3]:.2f}x)")
    else:
        print("  PyTorch: not installed here, so its DataLoader loop was not timed")


if __name__ == "__main__":
    main()
