"""The embedding simulator: judge-free, deterministic and cheap (a variant, not OpenAI's method).

A token's predicted activation is 10 x the cosine similarity between the token's text and the
whole explanation, both embedded by all-MiniLM-L6-v2 (:class:`superpose.explainer.encoder.
SentenceEncoder`). It reads no context, so it cannot follow explanations about positions
("the word after ...") or letter case (MiniLM is uncased); it follows explanations that name a
kind of word, a list of words, punctuation or numbers far more closely than the small local
LLMs (``results/bench_puzzles.md``). Each distinct token is embedded once, alone, and kept, so
a value never depends on which other tokens or neurons were simulated before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from superpose.core.registry import Kind
from superpose.explainer.simulators import SimulatorContext
from superpose.explainer.simulators.base import SimulationError

ENCODER_NAME = "all-MiniLM-L6-v2"


def token_text(token: str) -> str:
    """What the encoder reads for a token: its text without surrounding whitespace (a
    whitespace-only token as it is)."""
    return token.strip() or token


class EmbeddingSimulator:
    """Predicts 10 x cosine(token, explanation) for every token; values below 0 are possible."""

    method = ("embedding: 10 x cosine similarity of each token's text to the explanation "
              f"({ENCODER_NAME}; no context; a variant, not OpenAI's method)")

    def __init__(self, encoder: Any, name: str = f"embedding ({ENCODER_NAME})") -> None:
        self.encoder, self.name = encoder, name
        self._vectors: dict[str, np.ndarray] = {}

    def _vector(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self._vectors[text] = np.asarray(self.encoder.encode([text])[0], dtype=np.float64)
        return self._vectors[text]

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                 ) -> list[np.ndarray]:
        if not explanation.strip():
            raise SimulationError("the explanation is empty: there is nothing to compare tokens with")
        target = self._vector(explanation.strip())
        out = []
        for tokens in sequences:
            vectors = [self._vector(token_text(t)) for t in tokens]
            out.append(10.0 * (np.stack(vectors) @ target) if vectors else np.zeros(0))
        return out


def build(ctx: SimulatorContext) -> EmbeddingSimulator:
    """The encoder runs where ``--device`` says (in float32: it is small)."""
    from superpose.explainer.encoder import SentenceEncoder

    return EmbeddingSimulator(SentenceEncoder(device=ctx.backend.placement.device))


SIMULATOR = Kind("embedding", f"judge-free: 10 x cosine similarity of each token to the explanation "
                 f"({ENCODER_NAME}, no context; not OpenAI's method)", build)
