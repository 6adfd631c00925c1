"""The one interface through which ``coherence``, ``mine``, ``baseline`` and the API read NPMI.

Two implementations: window counts (:class:`superpose.corpus.store.CorpusCounts`) and a published
NPMI matrix used as it is (:class:`superpose.corpus.matrix.NpmiMatrix`); kept apart from both so
that neither imports the other.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np


def corpus_convention(meta: dict) -> str:
    """The counting convention a corpus was built under (folders from before conventions: superpose)."""
    return meta.get("convention", "superpose")


def vocab_fingerprint(vocab: Sequence[str]) -> str:
    """sha256 of the vocabulary in id order: identifies the corpus word ids a pool refers to."""
    digest = hashlib.sha256()
    for word in vocab:
        digest.update(word.encode("utf-8") + b"\n")
    return digest.hexdigest()


@dataclass(frozen=True)
class PairScores:
    """NPMI of every pair of some words, and the windows they share where the source knows them."""

    npmi: np.ndarray  # float64 [n, n], symmetric, diagonal 0 (unused)
    shared: np.ndarray | None  # windows containing both words (as NPMI saw them); None: not known
    # npmi is float64, finite, exactly symmetric with a zero diagonal by construction (no need to check it)
    exact: bool = False


class NpmiSource(ABC):
    """A reference that scores word pairs by NPMI: a vocabulary and :meth:`scores`.

    Subclasses set ``vocab`` (word ids are positions in it), ``meta`` (its ``meta.json``) and
    ``n_windows`` (the number NPMI divides by; None where the source has no counts).
    """

    vocab: list[str]
    meta: dict
    n_windows: int | None

    @cached_property
    def index(self) -> dict[str, int]:
        """Word -> id."""
        return {word: i for i, word in enumerate(self.vocab)}

    @cached_property
    def fingerprint(self) -> str:
        """sha256 of the vocabulary in id order: identifies what the corpus word ids refer to."""
        return vocab_fingerprint(self.vocab)

    @property
    def convention(self) -> str:
        return corpus_convention(self.meta)

    def identity(self, path: str | Path) -> dict:
        """What a run records of the corpus it was mined with."""
        return {"path": str(Path(path).resolve()), "n_windows": self.n_windows, "vocab_size": len(self.vocab),
                "window": self.meta.get("window"), "windowing": self.meta.get("windowing"),
                "convention": self.convention, "created": self.meta.get("created")}

    def ids(self, words: list[str]) -> tuple[list[int], list[str]]:
        """Ids of the known words (in input order) and the list of unknown words."""
        known, unknown = [], []
        for word in words:
            (known.append(self.index[word]) if word in self.index else unknown.append(word))
        return known, unknown

    @abstractmethod
    def scores(self, ids: np.ndarray | list[int]) -> PairScores:
        """NPMI (and shared windows) of every pair of the given word ids."""


__all__ = ["NpmiSource", "PairScores", "corpus_convention", "vocab_fingerprint"]
