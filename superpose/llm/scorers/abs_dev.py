"""Calibrated absolute deviation explained against the median (0 = no better than a constant)."""

from __future__ import annotations

from superpose.llm.scorers import Evidence, register
from superpose.llm.scorers.calibrated import calibrated_prediction
from superpose.llm.scoring import Score, absolute_deviation_explained


@register
class AbsoluteDeviationExplained:
    name = "abs_dev_explained"
    side = "input"

    def score(self, evidence: Evidence) -> Score:
        sim = evidence.simulation()
        predicted = calibrated_prediction(sim)
        if isinstance(predicted, Score):
            return predicted
        return absolute_deviation_explained(sim.test_true, predicted)
