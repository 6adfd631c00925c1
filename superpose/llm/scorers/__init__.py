"""Scorers of explanations, one protocol and one registry (one file per scorer).

A scorer reads an :class:`Evidence` (the explanation and whatever it is judged against: held-out
activation records and a simulator on the input side, a steering effect and distractor
explanations on the output side) and returns a :class:`~superpose.llm.scoring.Score`. Adding a
scorer is adding a module that defines a class with ``name``, ``side`` and ``score`` and
decorates it with :func:`register`; :func:`get_scorer` builds it by name.

Built in (input side, from one simulation shared by all): ``correlation`` (pooled, as
published by OpenAI 2023), ``r2`` and ``abs_dev_explained`` (ours: against the mean/median),
``r2_vs_zero`` and ``abs_dev_explained_vs_zero`` (OpenAI's: against zero), ``embedding_auc``;
``detection`` and ``fuzzing`` (a judge model answers yes/no per example, Paulo et al. 2024;
:mod:`~superpose.llm.scorers.classifier`); output side: ``steering_auc``
(:mod:`superpose.llm.steering`).
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.llm.scoring import Score

SIDES = ("input", "output")
_BUILT_IN = ("correlation", "r2", "abs_dev", "r2_vs_zero", "abs_dev_vs_zero", "embedding_auc",
             "steering_auc", "detection", "fuzzing")


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
    split: Any = None  # superpose.llm.formats.RecordSplit
    records: Any = None  # superpose.llm.formats.NeuronRecords (all of the unit's records)
    judge: Any = None  # superpose.llm.scorers.classifier.Judging (detection, fuzzing)
    simulator: Any = None  # superpose.llm.simulate.Simulator
    encoder: Any = None  # superpose.llm.embedding.SentenceEncoder
    effect: Any = None  # superpose.llm.steering.SteeringEffect
    effect_words: Any = None  # superpose.llm.steering.WordTokens of the steered model
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


_REGISTRY: dict[str, type] = {}


def register(cls: type) -> type:
    """Class decorator: make a scorer available by its ``name``."""
    name, side = getattr(cls, "name", None), getattr(cls, "side", None)
    if not isinstance(name, str) or not name or side not in SIDES:
        raise TypeError(f"{cls.__name__} needs a class attribute name and a side in {SIDES}")
    if name in _REGISTRY and _REGISTRY[name] is not cls:
        raise ValueError(f"a scorer named {name!r} is already registered")
    _REGISTRY[name] = cls
    return cls


def unregister(name: str) -> None:
    """Remove a scorer (tests and plug-ins that register temporary ones)."""
    _REGISTRY.pop(name, None)


def _load_built_in() -> None:
    for module in _BUILT_IN:
        importlib.import_module(f"{__name__}.{module}")


def scorer_names(side: str | None = None) -> list[str]:
    _load_built_in()
    return sorted(n for n, c in _REGISTRY.items() if side is None or c.side == side)


def get_scorer(name: str, **params: Any) -> Scorer:
    """A scorer by name; an unknown name is a one-line error listing the known ones."""
    _load_built_in()
    if name not in _REGISTRY:
        raise SuperposeError(f"unknown scorer {name!r}; known: {', '.join(scorer_names())}")
    return _REGISTRY[name](**params)
