"""The small data sets of the tutorials gradcore reproduces (docs/worked-examples.md), as numpy arrays.

Each function names the tutorial it comes from, by its own title, and returns fresh arrays, so a
caller may change them freely.
"""

from __future__ import annotations

import numpy as np

__all__ = ["height_weight", "study_hours", "exam_scores", "regression_4x2", "SOURCES"]

# Which tutorial each data set comes from, by the tutorial's own title.
SOURCES = {
    "height_weight": "week6_Chapter3 처음 시작하는 머신 러닝 (a PyTorch workflow: height -> weight)",
    "study_hours": "[PyTorchZeroToAll] 3. Gradient Descent, and 모두의 딥러닝 season2: Lec_3 Gradient Descent "
                   "(hours studied -> score)",
    "exam_scores": "모두의 딥러닝 season2: Lec_3 Gradient Descent (multivariate regression on three exam scores)",
    "regression_4x2": "미분과 경사하강법(Gradient Descent) (linear regression by gradient descent, "
                      "true beta = [1, 2, 3])",
}


def height_weight() -> np.ndarray:
    """Five people's (height cm, weight kg), a 5x2 float64 array: the PyTorch-workflow tutorial's `sampleData1`."""
    return np.array([
        [166.0, 58.7],
        [176.0, 75.7],
        [171.0, 62.1],
        [173.0, 70.4],
        [169.0, 60.1],
    ])


def study_hours() -> tuple[list[float], list[float]]:
    """Hours studied x = [1, 2, 3] and scores y = [2, 4, 6] (so y = 2x), as Python lists:
    PyTorchZeroToAll lecture 3, which trains y = w*x one sample at a time."""
    return [1.0, 2.0, 3.0], [2.0, 4.0, 6.0]


def exam_scores() -> tuple[np.ndarray, np.ndarray]:
    """Three quiz scores (5x3) and the final score (5,), float64: Lec_3's x_train, y_train
    (the source stores y as a 5x1 column; here it is a vector)."""
    x = np.array([
        [73.0, 80.0, 75.0],
        [93.0, 88.0, 93.0],
        [89.0, 91.0, 90.0],
        [96.0, 98.0, 100.0],
        [73.0, 66.0, 70.0],
    ])
    y = np.array([152.0, 185.0, 180.0, 196.0, 142.0])
    return x, y


def regression_4x2() -> tuple[np.ndarray, np.ndarray]:
    """X (4x2) and y = X @ [1, 2] + 3, float64: the differentiation tutorial's example whose answer is
    beta = [1, 2, 3] once an intercept column is appended."""
    x = np.array([[1.0, 1.0], [1.0, 2.0], [2.0, 2.0], [2.0, 3.0]])
    return x, x @ np.array([1.0, 2.0]) + 3.0
