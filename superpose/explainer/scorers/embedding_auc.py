"""Embedding AUC: does MiniLM similarity to the explanation tell held-out top from random records?"""

from __future__ import annotations

from superpose.explainer.scorers import Evidence
from superpose.explainer.scoring import Score


class EmbeddingAUC:
    name = "embedding_auc"
    side = "input"

    def score(self, evidence: Evidence) -> Score:
        from superpose.explainer.scoring import embedding_auc

        if evidence.encoder is None or evidence.split is None:
            raise ValueError("the embedding scorer needs a sentence encoder and activation records")
        hold = evidence.split.holdout
        return embedding_auc(evidence.explanation, [r for r in hold if r.kind == "top"],
                             [r for r in hold if r.kind == "random"], evidence.encoder)


SCORER = EmbeddingAUC
