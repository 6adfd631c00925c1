"""OpenAI's (2023) absolute deviation explained: ``1 - mean|true - predicted| / mean|true|``."""

from __future__ import annotations

import numpy as np

from superpose.explainer.scorers.calibrated import CalibratedScorer, pool
from superpose.explainer.scoring import Score, undefined


def absolute_deviation_explained_vs_zero(true: list[np.ndarray], predicted: list[np.ndarray]) -> Score:
    t, p = pool(true), pool(predicted)
    denominator = float(np.mean(np.abs(t))) if t.size else 0.0
    if denominator == 0:
        return undefined("true activations are all zero")
    return Score(1.0 - float(np.mean(np.abs(t - p))) / denominator)


class AbsoluteDeviationExplainedVsZero(CalibratedScorer):
    name = "abs_dev_explained_vs_zero"
    metric = staticmethod(absolute_deviation_explained_vs_zero)


SCORER = AbsoluteDeviationExplainedVsZero
