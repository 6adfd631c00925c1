"""Calibrated absolute deviation explained against the median (0 = no better than a constant)."""

from __future__ import annotations

from superpose.explainer.scorers.calibrated import CalibratedScorer
from superpose.explainer.scoring import absolute_deviation_explained


class AbsoluteDeviationExplained(CalibratedScorer):
    name = "abs_dev_explained"
    metric = staticmethod(absolute_deviation_explained)


SCORER = AbsoluteDeviationExplained
