"""Calibrated R^2 against the mean (the textbook definition: 0 = no better than a constant)."""

from __future__ import annotations

from superpose.llm.scorers import Evidence, register
from superpose.llm.scorers.calibrated import calibrated_prediction
from superpose.llm.scoring import Score, r_squared


@register
class RSquared:
    name = "r2"
    side = "input"

    def score(self, evidence: Evidence) -> Score:
        sim = evidence.simulation()
        predicted = calibrated_prediction(sim)
        return predicted if isinstance(predicted, Score) else r_squared(sim.test_true, predicted)
