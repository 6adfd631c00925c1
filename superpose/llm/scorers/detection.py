"""Detection (Paulo et al. 2024): a judge reads windows of a unit's records, activating ones
drawn across activation quantiles and non-activating ones, five at a time, and answers which
the explanation describes. Value: balanced accuracy (0.5 = chance); F1, AUC of the judge's
P(yes), counts and cost beside it (:mod:`superpose.llm.scorers.classifier`).
"""

from __future__ import annotations

from superpose.llm.scorers import register
from superpose.llm.scorers.classifier import ClassifierScorer, detection_score


@register
class Detection(ClassifierScorer):
    name = "detection"
    function = staticmethod(detection_score)
