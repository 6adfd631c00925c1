"""What every simulator shares: the protocol, its error and the numeral read-out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Simulator(Protocol):
    name: str
    method: str

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                 ) -> list[np.ndarray]:
        """Predicted activations on the 0-10 scale, one array per sequence of token texts."""
        ...


class SimulationError(ValueError):
    """The simulator could not produce predictions for a sequence."""


def expected_values(numeral_logits: np.ndarray, scale_top: int) -> np.ndarray:
    """Expected numeral under the softmax restricted to the numerals, on the 0-10 scale.

    ``numeral_logits`` is (positions, scale_top + 1), column i the logit of numeral i.
    Restricting the softmax to the numerals is the same as renormalising their probabilities.
    A row of all ``-inf`` (no numeral seen) gives 0.
    """
    z = np.asarray(numeral_logits, dtype=np.float64)
    top = z.max(axis=1, keepdims=True)
    z = z - np.where(np.isfinite(top), top, 0.0)
    p = np.exp(z)
    total = p.sum(axis=1, keepdims=True)
    p = np.divide(p, total, out=np.zeros_like(p), where=total > 0)
    return p @ np.arange(scale_top + 1) * (10.0 / scale_top)
