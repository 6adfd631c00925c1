"""Embedding AUC: does MiniLM similarity to the explanation tell held-out top from random records?"""

from __future__ import annotations

from superpose.llm.scorers import Evidence, register
from superpose.llm.scoring import Score


@register
class EmbeddingAUC:
    name = "embedding_auc"
    side = "input"

    def score(self, evidence: Evidence) -> Score:
        from superpose.llm.embedding import embedding_auc

        if evidence.encoder is None or evidence.split is None:
            raise ValueError("the embedding scorer needs a sentence encoder and activation records")
        hold = evidence.split.holdout
        return embedding_auc(evidence.explanation, [r for r in hold if r.kind == "top"],
                             [r for r in hold if r.kind == "random"], evidence.encoder)
