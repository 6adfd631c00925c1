"""Scores against direct numpy on known data, and undefined scores reported as undefined."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from superpose.explainer.scoring import (
    absolute_deviation_explained,
    auc,
    calibrated_scores,
    fit_calibration,
    pooled_correlation,
    r_squared,
)


def test_pooled_correlation_is_over_all_tokens_not_a_mean_per_sequence():
    true = [np.array([0.0, 1.0, 2.0]), np.array([5.0, 5.5, 9.0])]
    sim = [np.array([0.0, 2.0, 1.0]), np.array([7.0, 6.0, 8.0])]
    pooled = np.corrcoef(np.concatenate(true), np.concatenate(sim))[0, 1]
    per_seq = np.mean([np.corrcoef(t, s)[0, 1] for t, s in zip(true, sim, strict=True)])
    got = pooled_correlation(true, sim)
    assert got.value == pytest.approx(pooled)
    assert abs(got.value - per_seq) > 0.1


def test_constant_activations_are_undefined_not_zero():
    got = pooled_correlation([np.zeros(5)], [np.arange(5.0)])
    assert got.value is None and "constant" in got.reason
    assert got.to_json() == {"undefined": got.reason}
    assert pooled_correlation([np.arange(5.0)], [np.ones(5)]).value is None
    assert r_squared([np.ones(4)], [np.arange(4.0)]).value is None
    assert absolute_deviation_explained([np.zeros(4)], [np.arange(4.0)]).value is None


def test_r_squared_and_abs_dev_match_numpy():
    rng = np.random.default_rng(0)
    t = rng.normal(size=50)
    p = t + rng.normal(scale=0.5, size=50)
    r2 = 1 - np.sum((t - p) ** 2) / np.sum((t - t.mean()) ** 2)
    ade = 1 - np.sum(np.abs(t - p)) / np.sum(np.abs(t - np.median(t)))
    assert r_squared([t[:20], t[20:]], [p[:20], p[20:]]).value == pytest.approx(r2)
    assert absolute_deviation_explained([t], [p]).value == pytest.approx(ade)


def test_calibration_is_fitted_on_the_calibration_set_only():
    cal_sim = np.arange(10.0)
    cal_true = 3 * cal_sim + 1
    cal = fit_calibration([cal_true], [cal_sim])
    assert (cal.slope, cal.intercept) == pytest.approx((3.0, 1.0))
    test_sim = np.array([0.0, 1.0, 4.0])
    test_true = np.array([1.0, 4.0, 13.0])  # exactly the calibrated line
    scores = calibrated_scores([cal_true], [cal_sim], [test_true], [test_sim])
    assert scores["r2"].value == pytest.approx(1.0)
    assert scores["abs_dev_explained"].value == pytest.approx(1.0)
    wrong = calibrated_scores([cal_true], [cal_sim], [test_true], [-test_sim])
    assert wrong["r2"].value < 0
    flat = calibrated_scores([cal_true], [np.ones(10)], [test_true], [test_sim])
    assert flat["r2"].value is None and "calibration" in flat["r2"].reason
    none = calibrated_scores([], [], [test_true], [test_sim])
    assert none["abs_dev_explained"].reason == "no calibration records"


def test_auc_matches_pairwise_count_and_handles_ties():
    assert auc([3, 4], [1, 2]).value == 1.0
    assert auc([1, 2], [3, 4]).value == 0.0
    assert auc([1, 2], [1, 2]).value == 0.5
    assert auc([], [1]).value is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=3, max_size=30),
       st.floats(0.1, 10), st.floats(-5, 5))
@example([0.0, 0.0, 7.45e-159], 0.1, 0.0)  # subnormal squares once lost the precision here
def test_correlation_is_invariant_to_positive_linear_maps(values, a, b):
    t = np.array(values)
    s = np.sin(t) + t
    base = pooled_correlation([t], [s])
    mapped = pooled_correlation([t], [a * s + b])
    if base.value is None or mapped.value is None:
        return
    assert mapped.value == pytest.approx(base.value, abs=1e-6)
