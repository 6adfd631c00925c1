"""score_explanation: simulate an explanation on held-out records and score it.

Reusable for any explanation text (an LLM's sentence or a topic's word list), any simulator
and any input-side scorer of the registry (:mod:`superpose.llm.scorers`); one simulation is
shared by all scorers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from superpose.llm.formats import NeuronRecords, RecordSplit
from superpose.llm.prompts import ExplanationParseError
from superpose.llm.scorers import Evidence, get_scorer
from superpose.llm.scoring import Score, fit_calibration
from superpose.llm.simulate import Simulator

INPUT_SCORERS = ("correlation", "r2", "abs_dev_explained", "r2_vs_zero",
                 "abs_dev_explained_vs_zero")


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
    scores: dict[str, Score] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: s.to_json() for name, s in self.scores.items()}
        out.update({
            "correlation": self.correlation.to_json(), "r2": self.r2.to_json(),
            "abs_dev_explained": self.abs_dev_explained.to_json(),
            "simulator": self.simulator, "simulator_method": self.method,
            "n_holdout_tokens": self.n_tokens, "calibration": self.calibration, **self.extra})
        if self.embedding_auc is not None:
            out["embedding_auc"] = self.embedding_auc.to_json()
        return out


def score_explanation(explanation: str, records: NeuronRecords | RecordSplit,
                      simulator: Simulator, encoder: Any = None,
                      scorers: Sequence[str] | None = None) -> ExplanationScores:
    """Correlation (pooled over all held-out tokens), calibrated R^2 and absolute deviation
    explained (ours and OpenAI's definitions), with ``encoder`` the embedding AUC of held-out
    top vs random records, and any further registered ``scorers`` by name.
    """
    if not explanation or not explanation.strip():
        raise ExplanationParseError("the explanation is empty")
    split = records.split() if isinstance(records, NeuronRecords) else records
    if not split.holdout:
        raise ValueError("no held-out records to score on")
    names = list(dict.fromkeys([*INPUT_SCORERS, *(["embedding_auc"] if encoder is not None else []),
                                *(scorers or [])]))
    evidence = Evidence(explanation, split=split, simulator=simulator, encoder=encoder)
    scores = {name: get_scorer(name).score(evidence) for name in names}
    sim = evidence.simulation()
    cal = fit_calibration(sim.cal_true, sim.cal_sim)
    return ExplanationScores(
        correlation=scores["correlation"], r2=scores["r2"],
        abs_dev_explained=scores["abs_dev_explained"], embedding_auc=scores.get("embedding_auc"),
        simulator=simulator.name, method=simulator.method,
        n_tokens=int(sum(np.size(a) for a in sim.test_true)),
        calibration=None if cal is None else {"slope": cal.slope, "intercept": cal.intercept},
        scores=scores)
