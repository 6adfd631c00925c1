"""Scorers of explanations: one protocol, one registry (one file per scorer), and
:func:`score_explanation`, the entry point of the input side (the math is in
:mod:`superpose.explainer.scoring`).

A scorer reads an :class:`Evidence` (the explanation and whatever it is judged against: held-out
activation records and a simulator on the input side, a steering effect and distractor
explanations on the output side) and returns a :class:`~superpose.explainer.scoring.Score`. Adding a
scorer is adding a module to this package that defines ``SCORER``, a class with ``name``,
``side`` and ``score`` (found by :mod:`superpose.core.registry`); :func:`get_scorer` builds it by
name. ``calibrated`` is a helper, not a scorer.

Built in (input side, from one simulation shared by all): ``correlation`` (pooled, as
published by OpenAI 2023), ``r2`` and ``abs_dev_explained`` (ours: against the mean/median),
``r2_vs_zero`` and ``abs_dev_explained_vs_zero`` (OpenAI's: against zero), ``embedding_auc``;
``detection`` and ``fuzzing`` (a judge model answers yes/no per example, Paulo et al. 2024;
:mod:`~superpose.explainer.scorers.classifier`, a helper); output side: ``steering_auc``
(:mod:`superpose.activations.steering`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from superpose.activations.formats import NeuronRecords, RecordSplit
from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry
from superpose.explainer.prompts import ExplanationParseError
from superpose.explainer.scoring import Score, fit_calibration, undefined
from superpose.explainer.simulators.base import Simulator

SIDES = ("input", "output")


@dataclass
class Simulation:
    """True and simulated activations of the held-out and calibration records."""

    test_true: list[np.ndarray]
    test_sim: list[np.ndarray]
    cal_true: list[np.ndarray]
    cal_sim: list[np.ndarray]


@dataclass
class Evidence:
    """What an explanation is scored against; scorers take what they need and say what's missing.

    ``claim`` is ``"promotes"`` or ``"suppresses"``: what the explanation says the unit does to
    the output (a negative topic claims the unit suppresses its words).
    """

    explanation: str
    split: Any = None  # superpose.activations.formats.RecordSplit
    records: Any = None  # superpose.activations.formats.NeuronRecords (all of the unit's records)
    judge: Any = None  # superpose.explainer.scorers.classifier.Judging (detection, fuzzing)
    simulator: Any = None  # superpose.explainer.simulators.Simulator
    encoder: Any = None  # superpose.explainer.encoder.SentenceEncoder
    effect: Any = None  # superpose.activations.steering.SteeringEffect
    effect_words: Any = None  # superpose.activations.steering.WordTokens of the steered model
    distractors: Sequence[str] = ()
    claim: str = "promotes"
    _simulation: Simulation | None = field(default=None, init=False, repr=False)

    def simulation(self) -> Simulation:
        """The simulator's predictions on held-out then calibration records, computed once."""
        if self._simulation is None:
            if self.split is None or self.simulator is None:
                raise ValueError("this scorer needs activation records and a simulator")
            if not self.split.holdout:
                raise ValueError("no held-out records to score on")
            hold, cal = self.split.holdout, self.split.calibration
            simulated = self.simulator.simulate(self.explanation, [r.tokens for r in hold + cal])
            self._simulation = Simulation([r.activations for r in hold], simulated[:len(hold)],
                                          [r.activations for r in cal], simulated[len(hold):])
        return self._simulation


class Scorer(Protocol):
    """``name`` keys the score in every output; ``side`` says what it judges (input or output)."""

    name: ClassVar[str]
    side: ClassVar[str]

    def score(self, evidence: Evidence) -> Score: ...


def _scorer_name(module: str, cls: Any) -> str:
    """A scorer's key is its ``name``; a scorer without a name or a known side is refused."""
    name, side = getattr(cls, "name", None), getattr(cls, "side", None)
    if not isinstance(name, str) or not name or side not in SIDES:
        raise SuperposeError(f"{__name__}.{module}: SCORER needs a class attribute name and a side in {SIDES}")
    return name


SCORERS: Registry[type] = Registry(__name__, "SCORER", helpers=("calibrated", "classifier"), key=_scorer_name)


def scorer_names(side: str | None = None) -> list[str]:
    return [n for n, c in SCORERS.all().items() if side is None or c.side == side]


def get_scorer(name: str, **params: Any) -> Scorer:
    """A scorer by name; an unknown name is a one-line error listing the known ones."""
    found = SCORERS.all()
    if name not in found:
        raise SuperposeError(f"unknown scorer {name!r}; known: {', '.join(found)}")
    return found[name](**params)


INPUT_SCORERS = ("correlation", "r2", "abs_dev_explained", "r2_vs_zero",
                 "abs_dev_explained_vs_zero")


@dataclass
class ExplanationScores:
    correlation: Score | None  # None: not simulated (only scorers that need no simulation ran)
    r2: Score | None
    abs_dev_explained: Score | None
    embedding_auc: Score | None
    simulator: str | None
    method: str | None
    n_tokens: int
    calibration: dict[str, float] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Score] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, s in self.scores.items():
            out[name] = s.to_json()
            if hasattr(s, "extra_json"):  # scorers with more than one number (detection, fuzzing)
                out.update(s.extra_json(name))
        if self.correlation is not None and self.r2 is not None and self.abs_dev_explained is not None:
            out.update({
                "correlation": self.correlation.to_json(), "r2": self.r2.to_json(),
                "abs_dev_explained": self.abs_dev_explained.to_json(),
                "simulator": self.simulator, "simulator_method": self.method,
                "n_holdout_tokens": self.n_tokens, "calibration": self.calibration})
        out.update(self.extra)
        if self.embedding_auc is not None:
            out["embedding_auc"] = self.embedding_auc.to_json()
        return out


def score_explanation(explanation: str, records: NeuronRecords | RecordSplit,
                      simulator: Simulator | None, encoder: Any = None,
                      scorers: Sequence[str] | None = None, *, judge: Any = None,
                      simulation: bool = True, unit: NeuronRecords | None = None) -> ExplanationScores:
    """Correlation (pooled over all held-out tokens), calibrated R^2 and absolute deviation
    explained (ours and OpenAI's definitions), with ``encoder`` the embedding AUC of held-out
    top vs random records, and any further registered ``scorers`` by name (``judge``, a
    :class:`~superpose.explainer.scorers.classifier.Judging`, for detection and fuzzing).

    ``simulation=False`` runs only ``scorers``: nothing is simulated unless one of them asks.
    ``unit``: all of the unit's records, for scorers that draw their own examples (detection and
    fuzzing; default: ``records`` when they are a unit's records).
    """
    if not explanation or not explanation.strip():
        raise ExplanationParseError("the explanation is empty")
    split = records.split() if isinstance(records, NeuronRecords) else records
    if not split.holdout:
        raise ValueError("no held-out records to score on")
    defaults = [*INPUT_SCORERS, *(["embedding_auc"] if encoder is not None else [])] if simulation else []
    names = list(dict.fromkeys([*defaults, *(scorers or [])]))
    if not names:
        raise ValueError("no scorer to run")
    evidence = Evidence(explanation, split=split, simulator=simulator, encoder=encoder, judge=judge,
                        records=unit or (records if isinstance(records, NeuronRecords) else None))
    scores = {name: get_scorer(name).score(evidence) for name in names}
    if evidence._simulation is None:  # no scorer simulated
        return ExplanationScores(None, None, None, scores.get("embedding_auc"), None, None, 0,
                                 scores=scores)
    sim = evidence.simulation()
    cal = fit_calibration(sim.cal_true, sim.cal_sim)
    return ExplanationScores(
        correlation=scores.get("correlation") or undefined("not scored"),
        r2=scores.get("r2") or undefined("not scored"),
        abs_dev_explained=scores.get("abs_dev_explained") or undefined("not scored"),
        embedding_auc=scores.get("embedding_auc"),
        simulator=simulator.name, method=simulator.method,
        n_tokens=int(sum(np.size(a) for a in sim.test_true)),
        calibration=None if cal is None else {"slope": cal.slope, "intercept": cal.intercept},
        scores=scores)
