"""An explainer with no language model: "the tokens A, B, C, D, E", the distinct tokens that a
unit fires on most in the records the explainer sees (the split's explain set, never the held-out
records that are scored).

Why it is a back-end: on real SmolLM2 neurons it beats the explanations SmolLM2 writes against the
shuffled control on the input side (docs/llm.md, "Which explainer"), costs nothing, and so is the
floor any LLM explainer has to clear. ``explain --backend top-tokens`` writes it in the format of
every other explainer, so ``score`` and ``compare`` take it unchanged. It cannot answer chat
prompts: simulators need a real model (``--simulator embedding`` needs none).

:class:`~superpose.config.TopTokensParams` chooses how tokens are ranked and how many are named
(peak, activation mass, mean, records peaked; case folding; a share of the mass; the preceding
token); its defaults are the committed five tokens by peak. The variants were measured on a dev
set of neurons (``benchmarks/explainer_variants.py``, docs/llm.md).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from superpose.config import Backend, TopTokensParams
from superpose.core.registry import Kind
from superpose.explainer.clients.base import ChatClient, DiskCache, LLMError
from superpose.explainer.prompts import DeadNeuronError


@dataclass
class _Stats:
    """What the explain records say about one token (after stripping and, if asked, case folding)."""

    peak: float = float("-inf")
    mass: float = 0.0  # sum of its activations above zero, over every occurrence
    total: float = 0.0  # sum of all its activations (for the mean)
    seen: int = 0
    peaked: int = 0  # records whose highest activation is on this token
    spellings: Counter = field(default_factory=Counter)  # spelling -> activation mass, for the shown text
    before: Counter = field(default_factory=Counter)  # preceding token -> activation there


def _token_stats(records: Sequence[Any], fold_case: bool) -> dict[str, _Stats]:
    stats: dict[str, _Stats] = defaultdict(_Stats)
    for record in records:
        texts = [str(t).strip() for t in record.tokens]
        values = [float(v) for v in record.activations]
        best = max(range(len(values)), key=values.__getitem__, default=None)
        for i, (text, value) in enumerate(zip(texts, values, strict=True)):
            if not text:
                continue
            s = stats[text.lower() if fold_case else text]
            s.peak = max(s.peak, value)
            s.mass += max(value, 0.0)
            s.total += value
            s.seen += 1
            s.spellings[text] += max(value, 0.0)
            s.peaked += i == best
            if i > 0 and texts[i - 1] and value > 0:
                s.before[texts[i - 1]] += value
    return stats


def _rank_key(s: _Stats, rank: str) -> tuple[float, ...]:
    """Larger is better; records peaked breaks its ties by mass."""
    return {"peak": (s.peak,), "mass": (s.mass,), "mean": (s.total / s.seen,), "records": (s.peaked, s.mass)}[rank]


def top_tokens(records: Sequence[Any], count: int | None = None,
               params: TopTokensParams | None = None) -> list[str]:
    """The distinct stripped tokens the unit fires on most, best first (ties: first seen).

    Defaults: the ``count`` (5) tokens with the highest peak activation above zero. ``params``
    ranks by mass, mean or records peaked, folds case, stops at a share of the mass, or adds
    the token that most often precedes each ("X after Y")."""
    params = params or TopTokensParams()
    count = params.count if count is None else count
    stats = _token_stats(records, params.fold_case)
    eligible = [(key, s) for key, s in stats.items() if s.peak > 0 and _rank_key(s, params.rank)[0] >= 0]
    ranked = sorted(eligible, key=lambda kv: _rank_key(kv[1], params.rank), reverse=True)[:count]
    if params.share > 0:
        whole = sum(s.mass for s in stats.values())
        kept, covered = [], 0.0
        for key, s in ranked:
            kept.append((key, s))
            covered += s.mass
            if covered >= params.share * whole:
                break
        ranked = kept
    words = []
    for key, s in ranked:
        text = s.spellings.most_common(1)[0][0] if params.fold_case else key
        if params.context and s.before:
            text = f"{text} after {s.before.most_common(1)[0][0]}"
        words.append(text)
    return words


class TopTokensExplainer(ChatClient):
    """Writes explanations from records directly (:meth:`explain_records`); no chat."""

    concurrency = 1

    def __init__(self, params: TopTokensParams | None = None) -> None:
        super().__init__(None)
        self.params = params or TopTokensParams()
        self.name = f"top-tokens:{self.params.describe()}"

    def explain_records(self, records: Sequence[Any]) -> str:
        words = top_tokens(records, params=self.params)
        if not words:
            raise DeadNeuronError("no token above zero in the explain records")
        return self.params.prefix + ", ".join(words)

    def _complete(self, request: dict[str, Any]) -> str:
        raise LLMError("the top-tokens back-end writes explanations from records and answers no chat "
                       "prompt: choose --backend local or openai-compatible for a simulator or a judge")


def build(backend: Backend, cache: DiskCache | None) -> TopTokensExplainer:
    """The explainer with ``explain``'s token options (an :class:`~superpose.config.ExplainBackend`'s
    ``tokens``); the committed five tokens by peak for any other back-end settings."""
    return TopTokensExplainer(getattr(backend, "tokens", None))


CLIENT = Kind("top-tokens", "no language model: the five tokens the unit fires on most in the explain records "
              "(beats SmolLM2's explanations on real neurons; --tokens, --token-rank, --token-share, ... choose "
              "others; docs/llm.md)", build)
