"""An explainer with no language model: "the tokens A, B, C, D, E", the distinct tokens that a
unit fires on most in the records the explainer sees (the split's explain set, never the held-out
records that are scored).

Why it is a back-end: on real SmolLM2 neurons it beats the explanations SmolLM2 writes against the
shuffled control on the input side (docs/llm.md, "Which explainer"), costs nothing, and so is the
floor any LLM explainer has to clear. ``explain --backend top-tokens`` writes it in the format of
every other explainer, so ``score`` and ``compare`` take it unchanged. It cannot answer chat
prompts: simulators need a real model (``--simulator embedding`` needs none).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from superpose.config import Backend
from superpose.core.registry import Kind
from superpose.explainer.clients.base import ChatClient, DiskCache, LLMError
from superpose.explainer.prompts import DeadNeuronError

TOKENS = 5  # tokens named per unit: the count the committed baseline measured


def top_tokens(records: Sequence[Any], count: int = TOKENS) -> list[str]:
    """The ``count`` distinct stripped tokens with the highest activation above zero (ties: first seen)."""
    best: dict[str, float] = {}
    for record in records:
        for token, value in zip(record.tokens, record.activations, strict=True):
            text = str(token).strip()
            if text and float(value) > best.get(text, float("-inf")):
                best[text] = float(value)
    ranked = sorted(best.items(), key=lambda kv: -kv[1])
    return [text for text, value in ranked if value > 0][:count]


class TopTokensExplainer(ChatClient):
    """Writes explanations from records directly (:meth:`explain_records`); no chat."""

    concurrency = 1

    def __init__(self, count: int = TOKENS) -> None:
        super().__init__(None)
        self.count = count
        self.name = f"top-tokens:{count}"

    def explain_records(self, records: Sequence[Any]) -> str:
        words = top_tokens(records, self.count)
        if not words:
            raise DeadNeuronError("no token above zero in the explain records")
        return "the tokens " + ", ".join(words)

    def _complete(self, request: dict[str, Any]) -> str:
        raise LLMError("the top-tokens back-end writes explanations from records and answers no chat "
                       "prompt: choose --backend local or openai-compatible for a simulator or a judge")


def build(backend: Backend, cache: DiskCache | None) -> TopTokensExplainer:
    return TopTokensExplainer()


CLIENT = Kind("top-tokens", "no language model: the five tokens the unit fires on most in the explain records "
              "(beats SmolLM2's explanations on real neurons; docs/llm.md)", build)
