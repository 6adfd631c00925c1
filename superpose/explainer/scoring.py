"""Scores of an explanation: how well simulated activations (or an embedding) match the real ones.

The shared scoring math; :mod:`superpose.explainer.scorers` is the registry of scorers built on it.

Every score is a :class:`Score`: a value, or ``None`` with the reason it is undefined (for
example constant activations, where a correlation does not exist). Undefined is never reported
as 0, because 0 would read as "the explanation is useless" when nothing was measured at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from superpose.activations.formats import ActivationRecord

if TYPE_CHECKING:
    from superpose.explainer.encoder import SentenceEncoder


@dataclass(frozen=True)
class Score:
    """One score value, or ``value=None`` with ``reason`` saying why it is undefined."""

    value: float | None
    reason: str | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None

    def to_json(self) -> float | dict[str, str | None]:
        return self.value if self.value is not None else {"undefined": self.reason}


def undefined(reason: str) -> Score:
    return Score(None, reason)


def pool(parts: Sequence[np.ndarray]) -> np.ndarray:
    if len(parts) == 0:
        return np.zeros(0)
    return np.concatenate([np.asarray(p, dtype=np.float64).ravel() for p in parts])


def pooled_correlation(true: Sequence[np.ndarray], simulated: Sequence[np.ndarray]) -> Score:
    """Pearson correlation over all tokens of all records together, not averaged per record.

    Pooling lets the score reward an explanation that tells active records from quiet ones,
    which a per-record average cannot see (a quiet record has no variance of its own).
    """
    t, s = pool(true), pool(simulated)
    if t.shape != s.shape:
        raise ValueError(f"true and simulated activations differ in size: {t.shape} vs {s.shape}")
    if t.size < 2:
        return undefined("fewer than two tokens")
    if np.ptp(t) == 0:
        return undefined("true activations are constant")
    if np.ptp(s) == 0:
        return undefined("simulated activations are constant")
    # Centre and scale each side to unit range first: correlation does not change, and tiny
    # activations (e.g. 1e-159) no longer lose their precision in subnormal squares.
    t, s = t - t.mean(), s - s.mean()
    t, s = t / np.abs(t).max(), s / np.abs(s).max()
    with np.errstate(invalid="ignore", divide="ignore"):
        r = float(np.corrcoef(t, s)[0, 1])
    if not np.isfinite(r):  # variance too small for floating point (e.g. subnormal spread)
        return undefined("activations vary too little to compute a correlation")
    return Score(r)


@dataclass(frozen=True)
class Calibration:
    """``true ~ slope * simulated + intercept``, fitted by least squares on the calibration set."""

    slope: float
    intercept: float

    def apply(self, simulated: np.ndarray) -> np.ndarray:
        return self.slope * np.asarray(simulated, dtype=np.float64) + self.intercept


def fit_calibration(true: Sequence[np.ndarray], simulated: Sequence[np.ndarray]
                    ) -> Calibration | None:
    """Least-squares line from simulated to true values; ``None`` when simulated is constant."""
    t, s = pool(true), pool(simulated)
    if s.size < 2 or np.ptp(s) == 0:
        return None
    slope, intercept = np.polyfit(s, t, 1)
    return Calibration(float(slope), float(intercept))


def r_squared(true: Sequence[np.ndarray], predicted: Sequence[np.ndarray]) -> Score:
    """Fraction of the variance of the true values explained by the predictions (can be < 0)."""
    t, p = pool(true), pool(predicted)
    if t.size < 2 or np.ptp(t) == 0:
        return undefined("true activations are constant")
    ss_res = float(np.sum((t - p) ** 2))
    ss_tot = float(np.sum((t - t.mean()) ** 2))
    return Score(1.0 - ss_res / ss_tot)


def absolute_deviation_explained(true: Sequence[np.ndarray], predicted: Sequence[np.ndarray]
                                 ) -> Score:
    """``1 - sum|true - predicted| / sum|true - median(true)|``.

    The median is the best constant predictor under absolute error, so 0 means "no better than
    a constant" and 1 means exact, like R^2 but less dominated by the few largest activations.
    """
    t, p = pool(true), pool(predicted)
    if t.size < 2 or np.ptp(t) == 0:
        return undefined("true activations are constant")
    baseline = float(np.sum(np.abs(t - np.median(t))))
    if baseline == 0:
        return undefined("true activations are constant except for fewer than half the tokens")
    return Score(1.0 - float(np.sum(np.abs(t - p))) / baseline)


def calibrated_scores(cal_true: Sequence[np.ndarray], cal_sim: Sequence[np.ndarray],
                      test_true: Sequence[np.ndarray], test_sim: Sequence[np.ndarray]
                      ) -> dict[str, Score]:
    """R^2 and absolute deviation explained on the test set after calibrating on another set.

    Calibrating on records that are not scored keeps the fit honest: a line fitted on the scored
    records themselves would inflate R^2.
    """
    cal = fit_calibration(cal_true, cal_sim)
    if cal is None:
        reason = ("no calibration records" if pool(cal_sim).size == 0
                  else "simulated activations are constant on the calibration set")
        return {"r2": undefined(reason), "abs_dev_explained": undefined(reason)}
    predicted = [cal.apply(s) for s in test_sim]
    return {"r2": r_squared(test_true, predicted),
            "abs_dev_explained": absolute_deviation_explained(test_true, predicted)}


def auc(positive: Sequence[float], negative: Sequence[float]) -> Score:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos = np.asarray(positive, dtype=np.float64)
    neg = np.asarray(negative, dtype=np.float64)
    if pos.size == 0 or neg.size == 0:
        return undefined("needs at least one positive and one negative example")
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return Score(float((greater + 0.5 * ties) / (pos.size * neg.size)))


def context_text(record: ActivationRecord, width: int = 16) -> str:
    """The text of ``width`` tokens around the record's own peak, the part the neuron saw."""
    n = len(record.tokens)
    peak = int(np.argmax(record.activations)) if n else 0
    start = min(max(peak - width // 2, 0), max(n - width, 0))
    return "".join(record.tokens[start:start + width]).strip()


def embedding_auc(explanation: str, positive: Sequence[ActivationRecord],
                  negative: Sequence[ActivationRecord], encoder: SentenceEncoder,
                  width: int = 16) -> Score:
    """AUC of cosine similarity to the explanation, top-activating (positive) vs random."""
    vectors = encoder.encode([explanation] + [context_text(r, width)
                                              for r in [*positive, *negative]])
    sims = vectors[1:] @ vectors[0]
    return auc(sims[:len(positive)], sims[len(positive):])
