"""Fuzzing (Paulo et al. 2024): a judge reads activating windows of a unit's records with some
tokens marked, either the truly active ones or as many wrongly chosen ones, five at a time, and
answers which are marked right for the explanation. Value: balanced accuracy (0.5 = chance); F1,
AUC of the judge's P(yes), counts and cost beside it (:mod:`superpose.llm.scorers.classifier`).
"""

from __future__ import annotations

from superpose.llm.scorers import register
from superpose.llm.scorers.classifier import ClassifierScorer, fuzzing_score


@register
class Fuzzing(ClassifierScorer):
    name = "fuzzing"
    function = staticmethod(fuzzing_score)
