"""Calibrated absolute deviation explained against the median (0 = no better than a constant)."""

from __future__ import annotations

from superpose.llm.scorers import register
from superpose.llm.scorers.calibrated import CalibratedScorer
from superpose.llm.scoring import absolute_deviation_explained


@register
class AbsoluteDeviationExplained(CalibratedScorer):
    name = "abs_dev_explained"
    metric = staticmethod(absolute_deviation_explained)
