"""Calibrated R^2 against the mean (the textbook definition: 0 = no better than a constant)."""

from __future__ import annotations

from superpose.llm.scorers import register
from superpose.llm.scorers.calibrated import CalibratedScorer
from superpose.llm.scoring import r_squared


@register
class RSquared(CalibratedScorer):
    name = "r2"
    metric = staticmethod(r_squared)
