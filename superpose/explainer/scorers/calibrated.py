"""The calibrated prediction shared by the R^2 and absolute-deviation scorers, and their base class."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import numpy as np

from superpose.explainer.scorers import Evidence, Simulation
from superpose.explainer.scoring import Score, fit_calibration, pool, undefined

__all__ = ["CalibratedScorer", "calibrated_prediction", "pool"]

Metric = Callable[[list[np.ndarray], list[np.ndarray]], Score]


def calibrated_prediction(sim: Simulation) -> list[np.ndarray] | Score:
    """Held-out predictions mapped by a line fitted on the calibration records, or why not.

    Calibrating on records that are not scored keeps the fit honest: a line fitted on the scored
    records themselves would inflate R^2.
    """
    cal = fit_calibration(sim.cal_true, sim.cal_sim)
    if cal is None:
        return undefined("no calibration records" if pool(sim.cal_sim).size == 0
                         else "simulated activations are constant on the calibration set")
    return [cal.apply(s) for s in sim.test_sim]


class CalibratedScorer:
    """An input-side scorer comparing true held-out activations with the calibrated prediction;
    a subclass names itself and its ``metric(true, predicted) -> Score``."""

    side: ClassVar[str] = "input"
    metric: ClassVar[Metric]

    def score(self, evidence: Evidence) -> Score:
        sim = evidence.simulation()
        predicted = calibrated_prediction(sim)
        return predicted if isinstance(predicted, Score) else type(self).metric(sim.test_true, predicted)
