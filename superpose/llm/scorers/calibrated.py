"""The calibrated prediction shared by the R^2 and absolute-deviation scorers (not a scorer)."""

from __future__ import annotations

import numpy as np

from superpose.llm.scorers import Simulation
from superpose.llm.scoring import Score, fit_calibration, undefined


def pool(parts: list[np.ndarray]) -> np.ndarray:
    if not parts:
        return np.zeros(0)
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])


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
