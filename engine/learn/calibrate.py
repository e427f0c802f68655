"""Calibration: a likelihood of 70% should convert about 70% of the time.

Platt scaling: ``p = sigmoid(slope * z + shift)`` fitted by Newton's method on scores
``z`` of contacts the model was not fitted on, so it corrects the model's over- or
under-confidence measured honestly.
"""

from __future__ import annotations

import numpy as np

from funnel.engine.learn.logistic import sigmoid


def fit_platt(z: np.ndarray, y: np.ndarray, iterations: int = 50) -> tuple[float, float]:
    """(slope, shift) minimising the log loss of ``sigmoid(slope * z + shift)``."""
    slope, shift = 1.0, 0.0
    ridge = 1e-3  # keeps the 2x2 system solvable when z hardly varies
    for _ in range(iterations):
        p = sigmoid(slope * z + shift)
        r = p - y
        s = p * (1 - p)
        gradient = np.array([(r * z).sum() + ridge * (slope - 1), r.sum()])
        hessian = np.array([[(s * z * z).sum() + ridge, (s * z).sum()],
                            [(s * z).sum(), s.sum() + ridge]])
        step = np.linalg.solve(hessian, gradient)
        slope, shift = slope - float(step[0]), shift - float(step[1])
        if abs(step).max() < 1e-9:
            break
    return slope, shift
