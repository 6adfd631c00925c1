"""The contrast variant: predictions minus those under a neutral explanation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from superpose.explainer.simulators.base import Simulator


class ContrastSimulator:
    """A variant (not OpenAI's method): predictions minus those for a neutral explanation.

    Small local models give each token a prior value that hardly depends on the explanation
    (some tokens always get high numbers). Subtracting the prediction under a neutral
    explanation keeps only what the explanation changes. The baseline is simulated once per
    sequence (the base simulator remembers it), so scoring several explanations on the same
    records costs one extra pass per sequence. Values are differences, not on the 0-10 scale;
    correlation is unaffected by that and R^2 uses a fitted calibration anyway.
    """

    def __init__(self, base: Simulator, baseline: str = "no particular pattern") -> None:
        self.base, self.baseline = base, baseline
        self.name = base.name
        self.method = f"{base.method} minus baseline explanation {baseline!r} (contrast variant)"

    def simulate(self, explanation: str, sequences: Sequence[Sequence[str]]
                 ) -> list[np.ndarray]:
        values = self.base.simulate(explanation, sequences)
        neutral = self.base.simulate(self.baseline, sequences)
        return [v - b for v, b in zip(values, neutral, strict=True)]
