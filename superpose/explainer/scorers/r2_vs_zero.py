"""OpenAI's (2023) R^2: ``1 - mean((true - predicted)^2) / mean(true^2)``, zero as baseline.

Against zero, predicting the mean activation already scores above 0, so these values run higher
than :mod:`~superpose.explainer.scorers.r2`; use this one to set figures beside OpenAI's.
"""

from __future__ import annotations

import numpy as np

from superpose.explainer.scorers.calibrated import CalibratedScorer, pool
from superpose.explainer.scoring import Score, undefined


def r_squared_vs_zero(true: list[np.ndarray], predicted: list[np.ndarray]) -> Score:
    t, p = pool(true), pool(predicted)
    denominator = float(np.mean(t ** 2)) if t.size else 0.0
    if denominator == 0:
        return undefined("true activations are all zero")
    return Score(1.0 - float(np.mean((t - p) ** 2)) / denominator)


class RSquaredVsZero(CalibratedScorer):
    name = "r2_vs_zero"
    metric = staticmethod(r_squared_vs_zero)


SCORER = RSquaredVsZero
