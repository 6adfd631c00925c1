"""The ensemble simulator: a local language model and the embedding simulator, averaged.

The two fail in different places (``results/bench_puzzles.md``): the embedding simulator cannot
see positions or letter case, the all-at-once language model often misses whole word lists and
topics. Each part's predictions are standardised over all tokens of the call (zero mean, unit
variance; a constant part contributes zeros) and the two are averaged with equal weight, so
neither scale dominates and there is no weight to tune. Standardising uses only predictions,
never true activations. A variant, not OpenAI's method; values are not on the 0-10 scale
(correlation and the calibrated scores are unaffected).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from superpose.core.registry import Kind
from superpose.explainer.simulators import SimulatorContext
from superpose.explainer.simulators.base import Simulator


def standardized_mean(parts: Sequence[Sequence[np.ndarray]]) -> list[np.ndarray]:
    """Per sequence, the mean over parts of each part's predictions standardised over all
    tokens of all its sequences."""
    if not parts:
        raise ValueError("an ensemble needs at least one part")
    lengths = [len(seq) for seq in parts[0]]
    if not lengths:
        return []
    total = np.zeros(sum(lengths))
    for part in parts:
        if [len(seq) for seq in part] != lengths:
            raise ValueError("the ensemble's parts predicted different numbers of tokens")
        flat = np.concatenate([np.asarray(seq, dtype=np.float64) for seq in part])
        spread = float(flat.std()) if flat.size else 0.0
        if spread > 0:
            total += (flat - flat.mean()) / spread
    return list(np.split(total / len(parts), np.cumsum(lengths)[:-1]))


class EnsembleSimulator:
    """Equal-weight mean of standardised predictions of several simulators."""

    def __init__(self, parts: Sequence[Simulator]) -> None:
        self.parts = list(parts)
        self.name = " + ".join(p.name for p in self.parts)
        self.method = ("ensemble: equal-weight mean of standardised predictions of "
                       + "; ".join(p.method for p in self.parts) + " (a variant, not OpenAI's method)")

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]) -> list[np.ndarray]:
        return standardized_mean([p.simulate(explanation, sequences) for p in self.parts])


def build(ctx: SimulatorContext) -> EnsembleSimulator:
    from superpose.explainer.simulators.all_at_once import build as all_at_once
    from superpose.explainer.simulators.embedding import build as embedding

    return EnsembleSimulator([all_at_once(ctx), embedding(ctx)])


SIMULATOR = Kind("ensemble", "all-at-once on --model and the embedding simulator, standardised and "
                 "averaged (not OpenAI's method)", build)
