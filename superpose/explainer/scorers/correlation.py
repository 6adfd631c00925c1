"""Pooled correlation of simulated and true activations: the score OpenAI (2023) publishes."""

from __future__ import annotations

from superpose.explainer.scorers import Evidence
from superpose.explainer.scoring import Score, pooled_correlation


class Correlation:
    name = "correlation"
    side = "input"

    def score(self, evidence: Evidence) -> Score:
        sim = evidence.simulation()
        return pooled_correlation(sim.test_true, sim.test_sim)


SCORER = Correlation
