"""The tutorials' code runs on gradcore and reproduces their numbers (docs/worked-examples.md, 4-6).

PYTORCH_WORKFLOW is the PyTorch code of the tutorial "week6_Chapter3 처음 시작하는 머신 러닝"
(height -> weight), block by block, with only
its import lines changed to gradcore. The blog lost the indentation of two loops when it split them
across boxes; it is restored here and nothing else is touched. Plotting goes to a stand-in `plt`
(matplotlib is not a dependency) and `display` to a list, so every line of the source still runs.
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import gradcore as gc

# The source's imports were `import numpy as np`, `import matplotlib.pyplot as plt`, `import torch`
# and `from torchviz import make_dot`; matplotlib is supplied by the test (see `Recorder`).
IMPORTS_001 = """
import numpy as np
import gradcore as torch
from gradcore import make_dot
"""

PYTORCH_WORKFLOW = [
    # 1. the 3-D picture of gradient descent on L(u, v) (numpy only)
    '''
def L(u, v):
    return 3 * u**2 + 3 * v**2 - u*v + 7*u - 7*v + 10
def Lu(u, v):
    return 6* u - v + 7
def Lv(u, v):
    return 6* v - u - 7

u = np.linspace(-5, 5, 501)
v = np.linspace(-5, 5, 501)
U, V = np.meshgrid(u, v)
Z = L(U, V)

# 경사 하강법 시뮬레이션
W = np.array([4.0, 4.0])
W1 = [W[0]]
W2 = [W[1]]
N = 21
alpha = 0.05
for i in range(N):
    W = W - alpha *np.array([Lu(W[0], W[1]), Lv(W[0], W[1])])
    W1.append(W[0])
    W2.append(W[1])


n_loop=11

WW1 = np.array(W1[:n_loop])
WW2 = np.array(W2[:n_loop])
ZZ = L(WW1, WW2)
''',
    '''
fig = plt.figure(figsize=(8,8))
ax = plt.axes(projection='3d')
ax.set_zlim(0,250)
ax.set_xlabel('W')
ax.set_ylabel('B')
ax.set_zlabel('loss')
ax.view_init(30, 240)
ax.xaxis._axinfo["grid"]['linewidth'] = 2.
ax.yaxis._axinfo["grid"]['linewidth'] = 2.
ax.zaxis._axinfo["grid"]['linewidth'] = 2.
ax.contour3D(U, V, Z, 100, cmap='Blues', alpha=0.7)
ax.plot3D(WW1, WW2, ZZ, 'o-', c='r', alpha=1, markersize=7)
plt.show()
''',
    # 2. data
    '''
# 샘플 데이터 선언
sampleData1 = np.array([
    [166, 58.7],
    [176.0, 75.7],
    [171.0, 62.1],
    [173.0, 70.4],
    [169.0, 60.1]
])
print(sampleData1)

# 머신러닝 모델에서 사용하기 위해, 신장을 변수 x로,
# 체중을 변수 y로 함


x = sampleData1[:,0] #height
y = sampleData1[:,1] #weight

# 산포도 출력 확인

plt.scatter(x, y, c='k', s=50)
# plt.plot([166, 176], [60, 75], 'r:')
plt.xlabel('$x$: Height (cm) ')
plt.ylabel('$y$: Weight (kg)')
plt.title('Height vs Weight')
plt.show()
''',
    # 3. centring
    '''
X = x - x.mean()
Y = y - y.mean()

# 산포도를 통해 결과 확인

plt.scatter(X, Y, c='k', s=50)
plt.xlabel('Height (cm)')
plt.ylabel('Weight (kg)')
plt.title('Height vs Weight')
plt.show()
''',
    # 4. prediction
    '''
# X와 Y를 텐서 변수로 변환

X = torch.tensor(X).float()
Y = torch.tensor(Y).float()

print(X.dtype)
print(Y.dtype)
#torch.float32
#torch.float32
# 결과 확인
''',
    '''
print(X)
print(Y)
#tensor([-5., 5., 0., 2., -2.])
#tensor([-6.7000, 10.3000, -3.3000, 5.0000, -5.3000])
''',
    '''
# 파라미터 정의
# W와 B는 경사 계산을 위해, requires_grad=True 로 설정함


W = torch.tensor(1.0, requires_grad=True).float()
B = torch.tensor(1.0, requires_grad=True).float()

# 예측 함수는 1차 함수(perceptron)

def pred(X): #퍼셉트론
    return W * X + B #W=1, B=1이기에 초기값

# 예측 값 계산
Yp = pred(X)
# 결과 확인
print(Yp)
#tensor([-4., 6., 1., 3., -1.], grad_fn=<AddBackward0>)
# 예측 값의 계산 그래프 표시
params = {'W': W, 'B': B}
g = make_dot(Yp, params=params)
display(g)
''',
    # 5. loss
    '''
#손실함수, Loss function/ Cost function
##mse loss
def mse(Yp, Y):
    loss = ((Yp - Y) ** 2).mean()
    return loss

# 손실 계산
loss = mse(Yp, Y)

# 결과 표시
print(loss) #여기서 loss는 1차 함수 계수인 W, 정수항 B의 함수
''',
    '''
#tensor(13.3520, grad_fn=<MeanBackward0>)
# 손실 계산 그래프 출력

params = {'W': W, 'B': B}
g = make_dot(loss, params=params)
display(g)
''',
    # 6. gradients
    '''
loss.backward() #모든 점에서 미분 값
# loss.backward(retain_graph=True)
''',
    '''
# 경사값 확인
print(W.grad)
print(B.grad)
#tensor(-19.0400) #W=1에서의 기울기 값
#tensor(2.0000)
''',
    # 7. one update
    '''
lr = 0.001
''',
    '''
with torch.no_grad():
    W -= lr * W.grad #기울기 방향으로 W를 업데이트
    B -= lr * B.grad #기울기 방향으로 B를 업데이트
''',
    '''
W.grad.zero_()
B.grad.zero_()
''',
    '''
print(W) #학습 진행하면서 값 update
print(B)
print(W.grad) #0으로 초기화.
print(B.grad)
#tensor(1.0190, requires_grad=True)
#tensor(0.9980, requires_grad=True)
#tensor(0.)
#tensor(0.)
''',
    # 8. the loop
    '''
# 초기화

# W와 B를 변수로 사용
W = torch.tensor(1.0, requires_grad=True).float()
B = torch.tensor(1.0, requires_grad=True).float()

# 반복 횟수
num_epochs = 500

# 학습률
lr = 0.001

# history 기록을 위한 배열 초기화
history = np.zeros((0, 2))
''',
    '''
# 루프 처리

for epoch in range(num_epochs):

    # 예측 계산
    Yp = pred(X)

    # 손실 계산

    loss = mse(Yp, Y) #torch.tensor

    # 경사 계산
    loss.backward()

    with torch.no_grad():
        # 파라미터 수정
        W -= lr * W.grad
        B -= lr * B.grad

    # 경사값 초기화
    W.grad.zero_()
    B.grad.zero_()

    # 손실 기록
    # 몇 회 째의 반복인지와 그때 손실값 출력
    if (epoch %10 == 0):
        item = np.array([epoch, loss.item()]) #loss가 주는 방향으로 가야 하기에 loss
        history = np.vstack((history, item)) #vertical 방향으로 item stack.
        print(f'epoch = {epoch} loss = {loss:.4f}')
''',
    # 9. results
    '''
# 최종 파라미터 값
print('W = ', W.data.numpy())
print('B = ', B.data.numpy())

# 손실 확인
''',
    '''
print(f'초기상태 : 손실:{history[0,1]:.4f}')
print(f'최종상태 : 손실:{history[-1,1]:.4f}')
#W = 1.820683
#B = 0.3675114
#초기상태 : 손실:13.3520
#최종상태 : 손실:4.6796
''',
    '''
plt.plot(history[:,0], history[:,1], 'b')
plt.xlabel('epoch')
plt.ylabel('loss')
plt.title('learning curve')
plt.show()
''',
    # 10. the fitted line
    '''
print(W.item())
print(B.item())
#1.8206830024719238
#0.3675113916397095

W_numpy = W.item() #W의 기울기
B_numpy = B.item()

# x의 범위를 구함(Xrange)
X_max = X.max()
X_min = X.min()
X_range = np.array((X_min, X_max))
X_range = torch.from_numpy(X_range).float()
print(X_range)
#tensor([-5., 5.])


# 이와 대응하는 예측값 y를 구함
Y_range = pred(X_range)
print(Y_range.data)
#tensor([-8.7359, 9.4709])
''',
    '''
# 그래프 출력
#Y = W*X + B
plt.scatter(X, Y, c='k', s=100)
plt.xlabel('Height')
plt.ylabel('Weight')
#plt.plot(X_range.data, Y_range.data, lw=2, c='b')
plt.plot([-5,5], [W_numpy*-5 + B_numpy, W_numpy*5 + B_numpy],c="b")
plt.title('Height vs Weight')
plt.show()
''',
    # 11. back to the raw data
    '''
# y좌표와 x좌표 값 계산
# 역으로 연산 진행
x_range = X_range + x.mean()
yp_range = Y_range + y.mean()

# 그래프 출력
plt.scatter(x, y, c='k', s=50)
plt.xlabel('Height')
plt.ylabel('Weight')
plt.plot(x_range, yp_range.data, lw=2, c='b')
plt.title('Height vs Weight')
plt.show()
''',
    # 12. optim.SGD
    '''
# 초기화

# W와 B를 변수로 사용
W = torch.tensor(1.0, requires_grad=True).float()
B = torch.tensor(1.0, requires_grad=True).float()

# 반복 횟수
num_epochs = 500
''',
    '''
# 학습률
lr = 0.001

# optimizer 로 SGD(확률적 경사 하강법)을 사용
import gradcore.optim as optim
optimizer = optim.SGD([W, B], lr=lr)

# history 기록을 위한 배열 초기화
history = np.zeros((0, 2))

# 루프 처리
for epoch in range(num_epochs):

    # 예측 계산
    Yp = pred(X)

    # 손실 계산
    loss = mse(Yp, Y)

    # 경사값 초기화
    optimizer.zero_grad()

    # 경사 계산
    loss.backward()

    # 파라미터 수정
    optimizer.step()

    # 손실 기록
    if (epoch % 10 == 0):
        item = np.array([epoch, loss.item()])
        history = np.vstack((history, item))
        print(f'epoch = {epoch} loss = {loss:.4f}')
''',
    '''
# 최종 파라미터 값
print('W = ', W.data.numpy())
print('B = ', B.data.numpy())

# 손실 확인
print(f'초기상태 : 손실:{history[0,1]:.4f}')
print(f'최종상태 : 손실:{history[-1,1]:.4f}')
''',
    '''
plt.plot(history[:,0], history[:,1], 'b')
plt.xlabel('epoch')
plt.ylabel('loss')
plt.title('learning curve')
plt.show()
''',
    # 13. momentum
    '''
# 초기화

# W와 B를 변수로 사용
W = torch.tensor(1.0, requires_grad=True).float()
B = torch.tensor(1.0, requires_grad=True).float()
''',
    '''
# 반복 횟수
num_epochs = 500

# 학습률
lr = 0.001

# optimizer로 SGD(확률적 경사 하강법)을 사용
import gradcore.optim as optim
optimizer = optim.SGD([W, B], lr=lr, momentum=0.9) #Optimizer

# history 기록을 위한 배열 초기화
history2 = np.zeros((0, 2))

# 루프 처리

for epoch in range(num_epochs):

    # 예측 계산
    Yp = pred(X)

    # 손실 계산
    loss = mse(Yp, Y)

    # 경사 계산
    loss.backward()

    # 파라미터 수정
    optimizer.step()


    # 경사값 초기화
    optimizer.zero_grad()

    # 손실 기록
    if (epoch % 10 == 0):
        item = np.array([epoch, loss.item()])
        history2 = np.vstack((history2, item))
        print(f'epoch = {epoch} loss = {loss:.4f}')
''',
    '''
plt.plot(history[:,0], history[:,1], 'r', label='SGD')
plt.plot(history2[:,0], history2[:,1], 'b', label='SGD + momentum')
plt.xlabel('epoch')
plt.ylabel('loss')
plt.legend()
plt.title('epoch vs loss')
plt.show()
''',
]


class Recorder:
    """Stands in for matplotlib: accepts any call, attribute or item, and records the calls."""

    def __init__(self, log: list, name: str = "plt") -> None:
        self._log = log
        self._name = name

    def __getattr__(self, name: str) -> "Recorder":
        return Recorder(self._log, f"{self._name}.{name}")

    def __call__(self, *args, **kwargs) -> "Recorder":
        # Plotting functions turn their data into arrays; so does this, so tensors must allow it.
        self._log.append((self._name, [np.asarray(a) for a in args
                                       if not isinstance(a, (str, int, float))]))
        return Recorder(self._log, self._name + "()")

    def __getitem__(self, key) -> "Recorder":
        return Recorder(self._log, f"{self._name}[{key!r}]")

    def __setitem__(self, key, value) -> None:
        pass


@pytest.fixture(scope="module")
def run_001():
    """Run PYTORCH_WORKFLOW once: (namespace after each block, printed text of each block, plot log)."""
    plots: list = []
    shown: list = []
    ns: dict = {"plt": Recorder(plots), "display": shown.append}
    exec(IMPORTS_001, ns)  # noqa: S102 - our own test code
    printed, snapshots = [], []
    for block in PYTORCH_WORKFLOW:
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(block, ns)  # noqa: S102
        printed.append(buffer.getvalue())
        snapshots.append(dict(ns))
    return snapshots, printed, plots, shown


def _block(marker: str) -> int:
    return next(i for i, b in enumerate(PYTORCH_WORKFLOW) if marker in b)


def test_001_prints_what_the_source_shows(run_001):
    snapshots, printed, _, _ = run_001
    out = "".join(printed)
    for line in [
        "float32",
        "tensor([-5.,  5.,  0.,  2., -2.])",
        "tensor([-6.7000, 10.3000, -3.3000,  5.0000, -5.3000])",
        "tensor([-4.,  6.,  1.,  3., -1.], grad_fn=<AddBackward0>)",
        "tensor(13.3520, grad_fn=<MeanBackward0>)",
        "tensor(-19.0400)",
        "tensor(2.)",
        "tensor(1.0190, requires_grad=True)",
        "tensor(0.9980, requires_grad=True)",
        "tensor(0.)",
        "초기상태 : 손실:13.3520",
        "최종상태 : 손실:4.6796",
        "tensor([-5.,  5.])",
        "tensor([-8.7359,  9.4709])",
    ]:
        assert line in out.splitlines(), line


@pytest.mark.parametrize("marker", ["# 루프 처리\n\nfor epoch", "optim.SGD([W, B], lr=lr)\n"])
def test_001_plain_gradient_descent_loop_and_optim_sgd(run_001, marker):
    snapshots, printed, _, _ = run_001
    i = _block(marker)
    lines = printed[i].splitlines()
    assert len(lines) == 50
    assert lines[:3] == ["epoch = 0 loss = 13.3520", "epoch = 10 loss = 10.3855",
                         "epoch = 20 loss = 8.5173"]
    assert lines[-2:] == ["epoch = 480 loss = 4.6854", "epoch = 490 loss = 4.6796"]
    ns = snapshots[i]
    # float32 throughout, as in the source
    assert ns["W"].dtype == np.float32 and ns["B"].dtype == np.float32
    assert ns["W"].is_leaf and ns["W"].requires_grad
    # The source printed W.item() = 1.8206830024719238: the same float32, bit for bit.
    assert ns["W"].item() == 1.8206830024719238
    # B: the source printed 0.3675113916397095; gradcore's float32 sums of five numbers run in
    # numpy's order, not PyTorch's, and land one float32 step (3e-8) below it.
    assert f"{ns['B'].item():.6f}" == "0.367511"
    assert abs(ns["B"].item() - 0.3675113916397095) <= float(np.spacing(np.float32(0.3675114)))


def test_001_final_parameters_printed_as_in_the_source(run_001):
    snapshots, printed, _, _ = run_001
    # numpy prints a float32 with as many digits as it needs: B is one float32 step below the
    # source's 0.3675114 (see the test above), which takes 8 digits to show.
    i = _block("print('W = ', W.data.numpy())")
    assert printed[i].splitlines() == ["W =  1.820683", "B =  0.36751136"]
    i = _block("print(W.item())")
    assert printed[i].splitlines()[0] == "1.8206830024719238"


def test_001_momentum_reaches_the_least_squares_optimum(run_001):
    snapshots, printed, _, _ = run_001
    i = _block("momentum=0.9")
    lines = printed[i].splitlines()
    assert lines[0] == "epoch = 0 loss = 13.3520" and lines[-1] == "epoch = 490 loss = 4.5390"
    ns = snapshots[i]
    assert ns["W"].item() == pytest.approx(1.8206898, abs=1e-7)
    assert abs(ns["B"].item()) < 1e-5 and f"{ns['B'].item():.1e}" == "2.3e-06"
    # the least-squares line through the centred data: slope 1.8206897, intercept 0, MSE 4.539035
    X, Y = ns["X"].numpy().astype(float), ns["Y"].numpy().astype(float)
    slope = (X @ Y) / (X @ X)
    assert slope == pytest.approx(1.8206897, abs=1e-7)
    assert float(np.mean((slope * X - Y) ** 2)) == pytest.approx(4.539035, abs=1e-6)
    assert ns["mse"](ns["pred"](ns["X"]), ns["Y"]).item() == pytest.approx(4.539035, abs=1e-5)


def test_001_graph_picture_and_plots(run_001):
    snapshots, printed, plots, shown = run_001
    assert len(shown) == 2
    assert 'label="MeanBackward0"' in shown[1] and 'label="W\\n ()"' in shown[1]
    assert "PowBackward0" in shown[1] and "PowBackward0" not in shown[0]
    # the plots received the tensors' numbers
    scatter = [args for name, args in plots if name == "plt.scatter"]
    np.testing.assert_allclose(scatter[2][0], [-5, 5, 0, 2, -2])
    lines = [args for name, args in plots if name == "plt.plot"]
    np.testing.assert_allclose(lines[2][0], [166.0, 176.0])
    np.testing.assert_allclose(lines[2][1], [56.6641, 74.8709], atol=1e-4)
    # and the 3-D descent of worked example 3: 21 steps from (4, 4)
    ns = snapshots[0]
    assert (ns["W1"][-1], ns["W2"][-1]) == (pytest.approx(-0.99036855), pytest.approx(1.00939583))
    assert ns["L"](ns["W1"][-1], ns["W2"][-1]) == pytest.approx(3.00045264)


# ---------------------------------------------------------------------------------------------
# Worked example 4: study hours -> score, one update per sample (sources 000 and 002)


def test_study_hours_per_sample_sgd_with_autograd():
    x_data, y_data = gc.datasets.study_hours()
    w = gc.tensor(1.0, requires_grad=True, dtype=gc.float64)
    assert (4 * w).item() == 4.0  # the prediction before training
    after = []
    for epoch in range(100):
        for x_val, y_val in zip(x_data, y_data):
            l = (x_val * w - y_val) ** 2
            l.backward()
            assert w.grad.item() == pytest.approx(2 * x_val * (x_val * w.item() - y_val))
            with gc.no_grad():
                w -= 0.01 * w.grad
            w.grad.zero_()
        after.append(w.item())
        if epoch == 0:
            last_loss = ((x_val * w - y_val) ** 2).item()  # the source computes it after the step
    assert after[0] == pytest.approx(1.260688, abs=1e-12)
    assert last_loss == pytest.approx(4.91924, abs=5e-6)
    assert after[1] == pytest.approx(1.453417766656, abs=1e-15)
    assert after[2] == pytest.approx(1.5959051959019805, abs=1e-15)
    assert after[99] == pytest.approx(1.9999999999999236, abs=1e-15)
    assert f"{(4 * w).item():.13f}" == "7.9999999999997"


def test_study_hours_with_optim_sgd_matches_the_hand_loop():
    x_data, y_data = gc.datasets.study_hours()
    w = gc.tensor(1.0, requires_grad=True, dtype=gc.float64)
    opt = gc.optim.SGD([w], lr=0.01)
    for _ in range(100):
        for x_val, y_val in zip(x_data, y_data):
            opt.zero_grad()
            ((x_val * w - y_val) ** 2).backward()
            opt.step()
    assert w.item() == pytest.approx(1.9999999999999236, abs=1e-15)


# ---------------------------------------------------------------------------------------------
# Worked example 6: multivariate linear regression (sources 004 and 000)


def test_regression_4x2_gradient_descent_004():
    X, y = gc.datasets.regression_4x2()
    X_ = np.array([np.append(x, [1]) for x in X])  # the intercept column, as in the source
    beta = gc.tensor([10.1, 15.1, -6.5], requires_grad=True, dtype=gc.float64)
    Xt, yt = gc.from_numpy(X_), gc.from_numpy(y)
    for _ in range(5000):
        # loss = ||y - X beta||^2 / 2, so beta.grad = -X^T (y - X beta): the source's grad
        loss = ((yt - Xt @ beta) ** 2).sum() / 2
        loss.backward()
        with gc.no_grad():
            beta -= 0.01 * beta.grad
        beta.grad.zero_()
    np.testing.assert_allclose(beta.detach().numpy(), [1.00000367, 1.99999949, 2.99999516],
                               atol=5e-9)


def test_exam_scores_mse_gradient_descent_000():
    x, y = gc.datasets.exam_scores()
    X, Y = gc.from_numpy(x), gc.from_numpy(y)
    W = gc.zeros(3, requires_grad=True, dtype=gc.float64)
    b = gc.zeros((), requires_grad=True, dtype=gc.float64)
    opt = gc.optim.SGD([W, b], lr=1e-5)
    for _ in range(10000):
        opt.zero_grad()
        loss = ((X @ W + b - Y) ** 2).mean()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(W.detach().numpy(), [0.88814, 0.46421, 0.65823], atol=5e-6)
    assert b.item() == pytest.approx(0.019540, abs=5e-7)
    assert ((X @ W + b - Y) ** 2).mean().item() == pytest.approx(0.27122, abs=5e-6)
    assert (gc.tensor([100.0, 100.0, 60.0], dtype=gc.float64) @ W + b).item() == \
        pytest.approx(174.7486, abs=5e-5)
    # the least-squares fit the descent is heading for
    A = np.column_stack([x, np.ones(5)])
    fit = np.linalg.lstsq(A, y, rcond=None)[0]
    np.testing.assert_allclose(fit, [0.79548, 0.40838, 0.75459, 4.40211], atol=5e-6)


def test_datasets_name_their_sources():
    assert set(gc.datasets.SOURCES) == {"height_weight", "study_hours", "exam_scores",
                                        "regression_4x2"}
    assert gc.datasets.height_weight().shape == (5, 2)
    x, y = gc.datasets.exam_scores()
    assert x.shape == (5, 3) and y.shape == (5,)
    x, y = gc.datasets.regression_4x2()
    assert x.shape == (4, 2) and y.tolist() == [6.0, 8.0, 9.0, 11.0]
    a = gc.datasets.height_weight()
    a[0, 0] = 0
    assert gc.datasets.height_weight()[0, 0] == 166.0  # fresh arrays each call
