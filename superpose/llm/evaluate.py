"""score_explanation: simulate an explanation on held-out records and score it.

Reusable for any explanation text (an LLM's sentence or a topic's word list), any simulator
and optionally the embedding scorer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from superpose.llm.embedding import SentenceEncoder, embedding_auc
from superpose.llm.formats import NeuronRecords, RecordSplit
from superpose.llm.prompts import ExplanationParseError
from superpose.llm.scoring import Score, calibrated_scores, fit_calibration, pooled_correlation
from superpose.llm.simulate import Simulator


@dataclass
class ExplanationScores:
    correlation: Score
    r2: Score
    abs_dev_explained: Score
    embedding_auc: Score | None
    simulator: str
    method: str
    n_tokens: int
    calibration: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "correlation": self.correlation.to_json(), "r2": self.r2.to_json(),
            "abs_dev_explained": self.abs_dev_explained.to_json(),
            "simulator": self.simulator, "simulator_method": self.method,
            "n_holdout_tokens": self.n_tokens, "calibration": self.calibration, **self.extra}
        if self.embedding_auc is not None:
            out["embedding_auc"] = self.embedding_auc.to_json()
        return out


def score_explanation(explanation: str, records: NeuronRecords | RecordSplit,
                      simulator: Simulator, encoder: SentenceEncoder | None = None
                      ) -> ExplanationScores:
    """Correlation (pooled over all held-out tokens), calibrated R^2 and absolute deviation
    explained, and (with ``encoder``) the embedding AUC of held-out top vs random records.
    """
    if not explanation or not explanation.strip():
        raise ExplanationParseError("the explanation is empty")
    split = records.split() if isinstance(records, NeuronRecords) else records
    if not split.holdout:
        raise ValueError("no held-out records to score on")
    sequences = [r.tokens for r in split.holdout + split.calibration]
    simulated = simulator.simulate(explanation, sequences)
    test_sim, cal_sim = simulated[:len(split.holdout)], simulated[len(split.holdout):]
    test_true = [r.activations for r in split.holdout]
    cal_true = [r.activations for r in split.calibration]
    calibrated = calibrated_scores(cal_true, cal_sim, test_true, test_sim)
    cal = fit_calibration(cal_true, cal_sim)
    emb = None
    if encoder is not None:
        emb = embedding_auc(explanation, [r for r in split.holdout if r.kind == "top"],
                            [r for r in split.holdout if r.kind == "random"], encoder)
    return ExplanationScores(
        correlation=pooled_correlation(test_true, test_sim), r2=calibrated["r2"],
        abs_dev_explained=calibrated["abs_dev_explained"], embedding_auc=emb,
        simulator=simulator.name, method=simulator.method,
        n_tokens=int(sum(np.size(a) for a in test_true)),
        calibration=None if cal is None else {"slope": cal.slope, "intercept": cal.intercept})
