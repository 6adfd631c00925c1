"""Calibrated R^2 against the mean (the textbook definition: 0 = no better than a constant)."""

from __future__ import annotations

from superpose.explainer.scorers.calibrated import CalibratedScorer
from superpose.explainer.scoring import r_squared


class RSquared(CalibratedScorer):
    name = "r2"
    metric = staticmethod(r_squared)


SCORER = RSquared
