"""The PyTorch-style data tools (TensorDataset, DataLoader, random_split), the tensor helpers that
mini-batch code reaches for (randperm, arange, linspace, mean/sum/exp/log, t, norm, clamp, relu),
nn.Sequential / MSELoss / state_dict, and the mini-batch section of the tutorial
"미분과 경사하강법(Gradient Descent)" running as PyTorch code with only its imports changed.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import gradcore as gc
from gradcore import GradcoreError
from gradcore.data import DataLoader, Subset, TensorDataset, random_split


def _rows(n: int, width: int = 2) -> tuple[gc.Tensor, gc.Tensor]:
    """n rows whose values say which row they are: X[i] = (i, i + 0.5, ...), y[i] = i."""
    i = np.arange(n, dtype=np.float64)
    x = np.stack([i + 0.5 * k for k in range(width)], axis=1)
    return gc.tensor(x), gc.tensor(i)


def _epoch_rows(loader: DataLoader) -> list[int]:
    return [int(v) for _, yb in loader for v in yb.tolist()]


# ---------------------------------------------------------------------------------------------
# DataLoader


@pytest.mark.parametrize("n, size", [(10, 3), (10, 5), (10, 1), (10, 10), (10, 64), (1, 4)])
@pytest.mark.parametrize("shuffle", [False, True])
def test_batches_cover_every_row_once_per_epoch(n: int, size: int, shuffle: bool) -> None:
    X, y = _rows(n)
    loader = DataLoader(TensorDataset(X, y), batch_size=size, shuffle=shuffle)
    for _ in range(3):
        batches = list(loader)
        assert len(batches) == len(loader) == -(-n // size)
        assert all(len(yb) == size for _, yb in batches[:-1]) and 1 <= len(batches[-1][1]) <= size
        seen = _epoch_rows(loader)
        assert sorted(seen) == list(range(n))
        # inputs and targets stay paired
        for xb, yb in batches:
            np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy())
    if not shuffle:
        assert _epoch_rows(loader) == list(range(n))


def test_shuffle_is_reproducible_with_a_seed_and_new_each_epoch() -> None:
    X, y = _rows(50)
    loader = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True)
    gc.manual_seed(3)
    first = [_epoch_rows(loader) for _ in range(3)]
    gc.manual_seed(3)
    again = [_epoch_rows(loader) for _ in range(3)]
    assert first == again
    assert first[0] != first[1] != first[2], "each epoch draws a new order"
    assert first[0] != list(range(50))
    # A generator of one's own repeats without touching the global one.
    a = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True,
                   generator=gc.Generator().manual_seed(7))
    b = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True,
                   generator=gc.Generator().manual_seed(7))
    assert _epoch_rows(a) == _epoch_rows(b)
    c = DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True,
                   generator=np.random.default_rng(7))  # a numpy generator works too
    assert _epoch_rows(c) == _epoch_rows(DataLoader(TensorDataset(X, y), batch_size=8,
                                                    shuffle=True, generator=gc.Generator().manual_seed(7)))


@pytest.mark.parametrize("shuffle", [False, True])
def test_drop_last_leaves_out_the_short_batch(shuffle: bool) -> None:
    X, y = _rows(10)
    loader = DataLoader(TensorDataset(X, y), batch_size=4, shuffle=shuffle, drop_last=True)
    batches = list(loader)
    assert len(loader) == len(batches) == 2 and all(len(yb) == 4 for _, yb in batches)
    assert len(set(_epoch_rows(loader))) == 8
    exact = DataLoader(TensorDataset(X, y), batch_size=5, drop_last=True)
    assert len(exact) == 2 and _epoch_rows(exact) == list(range(10))
    assert list(DataLoader(TensorDataset(X[:3], y[:3]), batch_size=4, drop_last=True)) == []


def test_batches_are_tensors_that_train() -> None:
    X, y = _rows(6)
    xb, yb = next(iter(DataLoader(TensorDataset(X, y), batch_size=4)))
    assert isinstance(xb, gc.Tensor) and xb.shape == (4, 2) and yb.shape == (4,)
    assert xb.dtype == np.float64 and not xb.requires_grad
    # A parameter that requires grad keeps recording through the batch it is used with.
    w = gc.zeros(2, requires_grad=True, dtype=gc.float64)
    ((xb @ w - yb) ** 2).mean().backward()
    np.testing.assert_allclose(w.grad.numpy(), -2 * xb.numpy().T @ yb.numpy() / 4)


def test_any_dataset_is_read_sample_by_sample_and_collated() -> None:
    pairs = [(float(i), i) for i in range(5)]
    batches = list(DataLoader(pairs, batch_size=2))
    assert [len(b[0]) for b in batches] == [2, 2, 1]
    assert batches[0][0].tolist() == [0.0, 1.0] and batches[0][1].dtype == np.int64
    assert [t.tolist() for t in DataLoader([1, 2, 3], batch_size=2)] == [[1, 2], [3]]
    dicts = [{"x": gc.tensor([float(i), 0.0]), "y": i} for i in range(3)]
    batch = next(iter(DataLoader(dicts, batch_size=3)))
    assert batch["x"].shape == (3, 2) and batch["y"].tolist() == [0, 1, 2]
    # batch_size=None: the samples themselves, unbatched; collate_fn= replaces the joining.
    assert list(DataLoader([4, 5], batch_size=None)) == [4, 5]
    assert list(DataLoader([4, 5, 6], batch_size=2, collate_fn=sum)) == [9, 6]


def test_loader_rejects_bad_options() -> None:
    X, y = _rows(4)
    with pytest.raises(GradcoreError, match="batch_size"):
        DataLoader(TensorDataset(X, y), batch_size=0)
    with pytest.raises(GradcoreError, match="unexpected options"):
        DataLoader(TensorDataset(X, y), sampler=[0, 1])
    DataLoader(TensorDataset(X, y), num_workers=2)  # process options are accepted and ignored
    with pytest.raises(GradcoreError, match="same number of rows"):
        TensorDataset(X, y[:3])
    with pytest.raises(GradcoreError, match="generator"):
        list(DataLoader(TensorDataset(X, y), shuffle=True, generator=42))


def test_utils_data_is_the_same_module_as_data() -> None:
    from gradcore.utils.data import DataLoader as UtilsLoader, TensorDataset as UtilsDataset

    assert UtilsLoader is DataLoader and UtilsDataset is TensorDataset
    assert gc.utils.data.random_split is random_split


# ---------------------------------------------------------------------------------------------
# random_split


def test_random_split_sizes_disjoint_and_complete() -> None:
    X, y = _rows(10)
    data = TensorDataset(X, y)
    parts = random_split(data, [7, 3], generator=gc.Generator().manual_seed(0))
    assert [len(p) for p in parts] == [7, 3]
    rows = [set(_epoch_rows(DataLoader(p, batch_size=4))) for p in parts]
    assert not rows[0] & rows[1] and rows[0] | rows[1] == set(range(10))
    # Fractions: floor each, then the leftover rows one each from the first part on.
    assert [len(p) for p in random_split(data, [0.5, 0.3, 0.2])] == [5, 3, 2]
    assert [len(p) for p in random_split(TensorDataset(*_rows(11)), [0.5, 0.25, 0.25])] == [6, 3, 2]
    # Reproducible with a seed, and a sample of a Subset is the dataset's sample.
    again = random_split(data, [7, 3], generator=gc.Generator().manual_seed(0))
    assert [p.indices.tolist() for p in again] == [p.indices.tolist() for p in parts]
    i = int(parts[1].indices[0])
    assert parts[1][0][1].item() == i
    with pytest.raises(GradcoreError, match="add up to 9"):
        random_split(data, [6, 3])
    with pytest.raises(GradcoreError, match="whole numbers or fractions"):
        random_split(data, [7.5, 2.5])


def test_a_subset_of_a_plain_dataset_is_batched_through_its_samples() -> None:
    part = Subset([(float(i), i) for i in range(6)], [4, 0, 2])
    (xb, yb), = list(DataLoader(part, batch_size=3))
    assert yb.tolist() == [4, 0, 2] and xb.tolist() == [4.0, 0.0, 2.0]


# ---------------------------------------------------------------------------------------------
# Tensor helpers


def test_randperm_is_a_seeded_permutation() -> None:
    gc.manual_seed(1)
    p = gc.randperm(20)
    assert p.dtype == np.int64 and sorted(p.tolist()) == list(range(20))
    gc.manual_seed(1)
    assert gc.randperm(20).tolist() == p.tolist()
    assert gc.randperm(5, generator=gc.Generator().manual_seed(2)).tolist() == \
        gc.randperm(5, generator=gc.Generator().manual_seed(2)).tolist()


def test_arange_and_linspace_match_numpy_with_pytorch_dtypes() -> None:
    assert gc.arange(5).tolist() == [0, 1, 2, 3, 4] and gc.arange(5).dtype == np.int64
    assert gc.arange(2, 8, 3).tolist() == [2, 5]
    a = gc.arange(0, 1, 0.25)
    assert a.dtype == np.float32 and a.tolist() == [0.0, 0.25, 0.5, 0.75]
    assert gc.arange(3, dtype=gc.float64).dtype == np.float64
    assert gc.arange(3.0).tolist() == [0.0, 1.0, 2.0]
    s = gc.linspace(-1, 1, 5)
    assert s.dtype == np.float32 and s.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]
    np.testing.assert_allclose(gc.linspace(0, 3, 7).numpy(), np.linspace(0, 3, 7), rtol=1e-7)
    assert gc.linspace(2, 3, 1).tolist() == [2.0] and gc.linspace(0, 1, 0).shape == (0,)
    with pytest.raises(GradcoreError, match="step"):
        gc.arange(0, 1, 0)


def _fd(f, x: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f at x (float64)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        g[i] = (f(up) - f(down)) / (2 * eps)
    return g


def _grad(build, x: np.ndarray) -> np.ndarray:
    t = gc.tensor(x, requires_grad=True)
    build(t).backward()
    return t.grad.numpy()


@pytest.mark.parametrize("name, build, reference", [
    ("mean", lambda t: gc.mean(t), np.mean),
    ("mean dim", lambda t: (gc.mean(t, dim=0) ** 2).sum(), lambda a: (a.mean(axis=0) ** 2).sum()),
    ("sum", lambda t: gc.sum(t * t), lambda a: (a * a).sum()),
    ("sum keepdim", lambda t: (gc.sum(t, 1, keepdim=True) * t).sum(),
     lambda a: (a.sum(axis=1, keepdims=True) * a).sum()),
    ("exp", lambda t: gc.sum(gc.exp(t)), lambda a: np.exp(a).sum()),
    ("log", lambda t: gc.sum(gc.log(t)), lambda a: np.log(a).sum()),
    ("t", lambda t: (t.t() @ t).sum(), lambda a: (a.T @ a).sum()),
    ("norm", lambda t: t.norm(), np.linalg.norm),
    ("norm dim", lambda t: t.norm(dim=1).sum(), lambda a: np.linalg.norm(a, axis=1).sum()),
    ("norm 1", lambda t: t.norm(p=1), lambda a: np.abs(a).sum()),
    ("norm inf", lambda t: t.norm(p=float("inf")), lambda a: np.abs(a).max()),
    ("norm 3", lambda t: t.norm(p=3), lambda a: (np.abs(a) ** 3).sum() ** (1 / 3)),
    ("clamp", lambda t: (t.clamp(0.6, 1.4) ** 2).sum(), lambda a: (np.clip(a, 0.6, 1.4) ** 2).sum()),
    ("relu", lambda t: ((t - 1).relu() * t).sum(), lambda a: (np.maximum(a - 1, 0) * a).sum()),
])
def test_helpers_values_and_gradients_match_numpy_and_finite_differences(name, build, reference):
    x = np.array([[0.3, 1.7, 0.9], [1.2, 0.5, 2.1]])  # positive (log), away from the kinks
    assert float(build(gc.tensor(x)).item()) == pytest.approx(float(reference(x)), rel=1e-12)
    np.testing.assert_allclose(_grad(build, x), _fd(lambda a: float(reference(a)), x),
                               rtol=1e-6, atol=1e-8)


def test_relu_and_clamp_gradients_at_the_kinks_follow_pytorch() -> None:
    x = gc.tensor([-1.0, 0.0, 0.5, 1.0, 2.0], requires_grad=True)
    assert x.relu().tolist() == [0.0, 0.0, 0.5, 1.0, 2.0] and x.relu().grad_fn == "ReluBackward0"
    x.relu().sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 1.0, 1.0, 1.0]  # 0 at 0, as torch.relu
    x.grad = None
    x.clamp(min=0.0, max=1.0).sum().backward()
    assert x.grad.tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]  # the bounds pass the gradient
    assert x.clamp(max=0.5).tolist() == [-1.0, 0.0, 0.5, 0.5, 0.5]
    assert x.clamp(min=0.5).dtype == np.float32 and x.clip(0, 1).tolist() == [0, 0, 0.5, 1, 1]
    with pytest.raises(GradcoreError, match="min=, max="):
        x.clamp()


def test_exp_and_log_work_on_every_engine_and_t_on_small_tensors() -> None:
    v = gc.Value(2.0)
    assert gc.exp(v).data == pytest.approx(np.exp(2.0)) and gc.log(gc.var("x")).diff("x")(x=4.0) == 0.25
    assert gc.exp([0.0, 1.0]).dtype == np.float32
    assert gc.tensor([1.0, 2.0]).t().tolist() == [1.0, 2.0]
    with pytest.raises(GradcoreError, match="at most 2"):
        gc.zeros(2, 2, 2).t()


# ---------------------------------------------------------------------------------------------
# nn


def test_sequential_composes_and_names_parameters_as_pytorch() -> None:
    gc.manual_seed(0)
    model = gc.nn.Sequential(gc.nn.Linear(3, 4), gc.nn.ReLU(), gc.nn.Linear(4, 1))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert len(model) == 3 and isinstance(model[1], gc.nn.ReLU)
    x = gc.randn(5, 3)
    manual = model[2](model[0](x).relu())
    np.testing.assert_array_equal(model(x).detach().numpy(), manual.detach().numpy())
    assert repr(model).splitlines()[:2] == ["Sequential(",
                                            "  (0): Linear(in_features=3, out_features=4, bias=True)"]
    with pytest.raises(GradcoreError, match="Modules"):
        gc.nn.Sequential(gc.nn.Linear(1, 1), "relu")


def test_mse_loss_module_is_the_mean_of_squares() -> None:
    a, b = gc.tensor([1.0, 2.0, 4.0]), gc.tensor([0.0, 2.0, 1.0])
    assert gc.nn.MSELoss()(a, b).item() == pytest.approx(10 / 3)
    assert gc.nn.MSELoss(reduction="sum")(a, b).item() == pytest.approx(10.0)


def test_state_dict_round_trip() -> None:
    gc.manual_seed(0)
    model = gc.nn.Sequential(gc.nn.Linear(2, 3), gc.nn.ReLU(), gc.nn.Linear(3, 1))
    snapshot = copy.deepcopy(model.state_dict())
    x = gc.randn(4, 2)
    before = model(x).detach().numpy().copy()
    opt = gc.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    assert not np.array_equal(model(x).detach().numpy(), before)
    assert not np.array_equal(snapshot["0.weight"].numpy(), model[0].weight.detach().numpy())
    model.load_state_dict(snapshot)
    np.testing.assert_array_equal(model(x).detach().numpy(), before)
    # into a fresh model of the same shape: the same function
    gc.manual_seed(5)
    other = gc.nn.Sequential(gc.nn.Linear(2, 3), gc.nn.ReLU(), gc.nn.Linear(3, 1))
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(other(x).detach().numpy(), before)
    assert other[0].weight.requires_grad and other[0].weight.is_leaf
    # the names and shapes must match
    with pytest.raises(GradcoreError, match="missing"):
        other.load_state_dict({"0.weight": snapshot["0.weight"]})
    result = other.load_state_dict({"0.weight": snapshot["0.weight"], "extra": 1}, strict=False)
    assert result.unexpected_keys == ["extra"] and "0.bias" in result.missing_keys
    with pytest.raises(GradcoreError, match="shape"):
        other.load_state_dict({**snapshot, "0.bias": gc.zeros(4)})


# ---------------------------------------------------------------------------------------------
# The tutorial's mini-batch section, as PyTorch code with only its imports changed

TORCH_IMPORTS = """\
import numpy as np
import torch
from torch.utils.data import TensorDataset, DataLoader
"""
GRADCORE_IMPORTS = """\
import numpy as np
import gradcore as torch
from gradcore.utils.data import TensorDataset, DataLoader
"""
# The source's regression (beta = 1, 2, 3 is the answer, start [10.1, 15.1, -6.5], lr 0.01, T = 5000)
# with each pass over the data split into shuffled mini-batches of 2 rows.
MINI_BATCH = """
X = np.array([[1, 1], [1, 2], [2, 2], [2, 3]])
y = np.dot(X, np.array([1, 2])) + 3
X_ = np.array([np.append(x, [1]) for x in X]) # intercept 항 추가

dataset = TensorDataset(torch.tensor(X_).float(), torch.tensor(y).float())
torch.manual_seed(0)
loader = DataLoader(dataset, batch_size=2, shuffle=True)

beta = torch.tensor([10.1, 15.1, -6.5], requires_grad=True) # [1, 2, 3]이 정답
optimizer = torch.optim.SGD([beta], lr=0.01)

for t in range(5000):
    for xb, yb in loader:
        error = yb - xb @ beta
        loss = (error ** 2).sum() / 2 # its gradient is -xb^T error, the source's grad
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
"""


def test_the_mini_batch_section_runs_with_only_its_imports_changed() -> None:
    assert "gradcore" not in MINI_BATCH
    assert TORCH_IMPORTS.replace("import torch", "import gradcore as torch").replace(
        "torch.utils.data", "gradcore.utils.data") == GRADCORE_IMPORTS
    ns: dict = {}
    exec(GRADCORE_IMPORTS + MINI_BATCH, ns)  # noqa: S102 - our own test code
    beta = ns["beta"]
    assert beta.dtype == np.float32 and len(ns["loader"]) == 2
    np.testing.assert_allclose(beta.detach().numpy(), [1.0, 2.0, 3.0], atol=1e-4)


def test_batch_size_4_unshuffled_is_the_source_full_batch_loop() -> None:
    # One batch of all four rows per pass is the source's gradient descent, to its digits.
    X, y = gc.datasets.regression_4x2()
    X_ = np.column_stack([X, np.ones(4)])
    loader = DataLoader(TensorDataset(gc.from_numpy(X_), gc.from_numpy(y)), batch_size=4)
    beta = gc.tensor([10.1, 15.1, -6.5], requires_grad=True, dtype=gc.float64)
    optimizer = gc.optim.SGD([beta], lr=0.01)
    for _ in range(5000):
        for xb, yb in loader:
            loss = ((yb - xb @ beta) ** 2).sum() / 2
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    np.testing.assert_allclose(beta.detach().numpy(), [1.00000367, 1.99999949, 2.99999516],
                               atol=5e-9)
