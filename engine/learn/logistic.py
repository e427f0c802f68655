"""L2-penalised logistic regression by Newton's method, memory-bounded.

The gradient is exact and costs one gather and one bincount over the compact design
(no dense matrix). The Hessian is summed over dense chunks of at most ``HESSIAN_ROWS``
rows (a fixed-seed sample when there are more, scaled up): Newton's step with an
estimated curvature still converges to the exact optimum, because the gradient is
exact, and a halving line search keeps every step downhill. Only a chunk and the
p x p Hessian are ever dense, so 100,000 contacts fit in a few megabytes beyond the
codes. The intercept is not penalised.
"""

from __future__ import annotations

import numpy as np

from funnel.engine.learn.features import Design

CHUNK = 4096
HESSIAN_ROWS = 20_000
MAX_ITERATIONS = 40
TOLERANCE = 1e-8  # stop when the decrease per row falls below this


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))


def _loss(z: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> float:
    # log(1 + e^z) - y z, computed stably
    return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * l2 * float(w @ w))


def _hessian(design: Design, sample: np.ndarray, w: np.ndarray, b: float, scale: float
             ) -> np.ndarray:
    width = design.width
    hessian = np.zeros((width + 1, width + 1))
    w32 = w.astype(np.float32)
    for start in range(0, len(sample), CHUNK):
        x = design.dense(sample[start:start + CHUNK])
        p = sigmoid((x @ w32).astype(np.float64) + b)
        s = (p * (1.0 - p)).astype(np.float32)
        column_s = x.T @ s
        hessian[0, 0] += float(s.sum())
        hessian[0, 1:] += column_s
        hessian[1:, 0] += column_s
        hessian[1:, 1:] += x.T @ (x * s[:, None])
    return hessian * scale


def fit_logistic(design: Design, y: np.ndarray, l2: float = 1.0, seed: int = 7
                 ) -> tuple[np.ndarray, float]:
    """Weights (``design.width``) and intercept minimising the log loss of ``y`` (one
    label per design row) plus ``l2 / 2 * |w|^2``."""
    rows = design.rows
    w = np.zeros(design.width)
    share = min(max(float(y.mean()) if rows else 0.5, 1e-6), 1 - 1e-6)
    b = float(np.log(share / (1 - share)))
    sample = np.arange(rows)
    if rows > HESSIAN_ROWS:
        sample = np.sort(np.random.default_rng(seed).choice(rows, HESSIAN_ROWS, replace=False))
    scale = rows / max(len(sample), 1)
    z = design.linear(w) + b
    loss = _loss(z, y, w, l2)
    for _ in range(MAX_ITERATIONS):
        residual = sigmoid(z) - y
        gradient = np.concatenate(([residual.sum()], design.transpose_times(residual) + l2 * w))
        hessian = _hessian(design, sample, w, b, scale)
        hessian[1:, 1:] += l2 * np.eye(design.width)
        hessian[0, 0] += 1e-9
        step = np.linalg.solve(hessian, gradient)
        size = 1.0
        while True:  # halve until the loss goes down (an estimated Hessian may overshoot)
            new_w, new_b = w - size * step[1:], b - size * float(step[0])
            new_z = design.linear(new_w) + new_b
            new_loss = _loss(new_z, y, new_w, l2)
            if new_loss <= loss or size < 1e-4:
                break
            size /= 2
        w, b, z = new_w, new_b, new_z
        decrease, loss = loss - new_loss, new_loss
        if decrease / max(rows, 1) < TOLERANCE:
            break
    return w, b
