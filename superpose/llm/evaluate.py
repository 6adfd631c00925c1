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
from superpose.llm.scoring import Score, fit_calibration, undefined
from superpose.llm.simulate import Simulator

INPUT_SCORERS = ("correlation", "r2", "abs_dev_explained", "r2_vs_zero",
                 "abs_dev_explained_vs_zero")


@dataclass
class ExplanationScores:
    correlation: Score | None  # None: not simulated (only scorers that need no simulation ran)
    r2: Score | None
    abs_dev_explained: Score | None
    embedding_auc: Score | None
    simulator: str | None
    method: str | None
    n_tokens: int
    calibration: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, s in self.scores.items():
            out[name] = s.to_json()
            if hasattr(s, "extra_json"):  # scorers with more than one number (detection, fuzzing)
                out.update(s.extra_json(name))
        if self.correlation is not None and self.r2 is not None and self.abs_dev_explained is not None:
            out.update({
                "correlation": self.correlation.to_json(), "r2": self.r2.to_json(),
                "abs_dev_explained": self.abs_dev_explained.to_json(),
                "simulator": self.simulator, "simulator_method": self.method,
                "n_holdout_tokens": self.n_tokens, "calibration": self.calibration})
        out.update(self.extra)
        if self.embedding_auc is not None:
            out["embedding_auc"] = self.embedding_auc.to_json()
        return out


def score_explanation(explanation: str, records: NeuronRecords | RecordSplit,
                      simulator: Simulator | None, encoder: Any = None,
                      scorers: Sequence[str] | None = None, *, judge: Any = None,
                      simulation: bool = True, unit: NeuronRecords | None = None) -> ExplanationScores:
    """Correlation (pooled over all held-out tokens), calibrated R^2 and absolute deviation
    explained (ours and OpenAI's definitions), with ``encoder`` the embedding AUC of held-out
    top vs random records, and any further registered ``scorers`` by name (``judge``, a
    :class:`~superpose.llm.scorers.classifier.Judging`, for detection and fuzzing).

    ``simulation=False`` runs only ``scorers``: nothing is simulated unless one of them asks.
    ``unit``: all of the unit's records, for scorers that draw their own examples (detection and
    fuzzing; default: ``records`` when they are a unit's records).
    """
    if not explanation or not explanation.strip():
        raise ExplanationParseError("the explanation is empty")
    split = records.split() if isinstance(records, NeuronRecords) else records
    if not split.holdout:
        raise ValueError("no held-out records to score on")
    defaults = [*INPUT_SCORERS, *(["embedding_auc"] if encoder is not None else [])] if simulation else []
    names = list(dict.fromkeys([*defaults, *(scorers or [])]))
    if not names:
        raise ValueError("no scorer to run")
    evidence = Evidence(explanation, split=split, simulator=simulator, encoder=encoder, judge=judge,
                        records=unit or (records if isinstance(records, NeuronRecords) else None))
    scores = {name: get_scorer(name).score(evidence) for name in names}
    if evidence._simulation is None:  # no scorer simulated
        return ExplanationScores(None, None, None, scores.get("embedding_auc"), None, None, 0,
                                 scores=scores)
    sim = evidence.simulation()
    cal = fit_calibration(sim.cal_true, sim.cal_sim)
    return ExplanationScores(
        correlation=scores.get("correlation") or undefined("not scored"),
        r2=scores.get("r2") or undefined("not scored"),
        abs_dev_explained=scores.get("abs_dev_explained") or undefined("not scored"),
        embedding_auc=scores.get("embedding_auc"),
        simulator=simulator.name, method=simulator.method,
        n_tokens=int(sum(np.size(a) for a in sim.test_true)),
        calibration=None if cal is None else {"slope": cal.slope, "intercept": cal.intercept},
        scores=scores)
