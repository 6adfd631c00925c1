"""Output side: does the explanation predict what steering the unit changes, better than other
units' explanations do? AUC of its likelihood gain against the distractors' on the same effect.

0.5 is chance; 1 means the explanation's words gain more under steering than every distractor's.
A ``suppresses`` claim (negative topics) is scored on the negated effect.
"""

from __future__ import annotations

import numpy as np

from superpose.explainer.scorers import Evidence
from superpose.explainer.scoring import Score, undefined


def gains(texts: list[str], evidence: Evidence) -> list[float | None]:
    from superpose.activations.steering import explanation_gain

    sign = -1.0 if evidence.claim == "suppresses" else 1.0
    delta = sign * np.asarray(evidence.effect.delta, dtype=np.float64)
    return [explanation_gain(t, delta, evidence.effect_words) for t in texts]


class SteeringAUC:
    name = "steering_auc"
    side = "output"

    def score(self, evidence: Evidence) -> Score:
        if evidence.effect is None or evidence.effect_words is None:
            raise ValueError("the steering scorer needs a steering effect and its tokenizer")
        if evidence.claim not in ("promotes", "suppresses"):
            raise ValueError(f"claim must be promotes or suppresses, not {evidence.claim!r}")
        own, *others = gains([evidence.explanation, *evidence.distractors], evidence)
        if own is None:
            return undefined("the explanation has no content word")
        rivals = np.array([g for g in others if g is not None])
        if rivals.size == 0:
            return undefined("no distractor explanation with a content word")
        return Score(float(((rivals < own).sum() + 0.5 * (rivals == own).sum()) / rivals.size))


def rank_among(evidence: Evidence) -> int | None:
    """1 + the number of distractors whose words gain more than the explanation's (1 = best)."""
    own, *others = gains([evidence.explanation, *evidence.distractors], evidence)
    if own is None:
        return None
    return 1 + sum(g is not None and g > own for g in others)


SCORER = SteeringAUC
