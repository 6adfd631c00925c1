"""A worker's unit of pass 1: a batch of documents tokenised and numbered locally.

Kept apart from :mod:`superpose.corpus.stream` (which hands batches out) and
:mod:`superpose.corpus.multistream` (whose workers make them from a dump's streams), so that both
use it without importing each other.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from superpose.corpus.lines import reference_lines
from superpose.corpus.tokenize import tokenize


@dataclass
class TokenBatch:
    """One batch's documents as local word numbers: ``words[ids]`` is the token stream."""

    words: list[str]
    ids: np.ndarray  # uint32, local numbers
    lengths: np.ndarray  # int64, tokens per (non-empty) document
    line_lengths: np.ndarray | None = None  # int64, whitespace tokens of every line (lines mode only)


def tokenize_batch(job: tuple[Callable[[str], str] | None, list[str]]) -> TokenBatch:
    """Worker: prepare and tokenise documents; number words by first appearance; skip empty ones."""
    prepare, docs = job
    index: dict[str, int] = {}
    setdefault = index.setdefault
    ids: list[int] = []
    lengths = array("q")
    for doc in docs:
        words = tokenize(prepare(doc) if prepare is not None else doc)
        if words:
            ids.extend([setdefault(w, len(index)) for w in words])
            lengths.append(len(words))
    return TokenBatch(list(index), np.asarray(ids, dtype=np.uint32), np.frombuffer(lengths, dtype=np.int64))


def tokenize_lines(job: tuple[Callable[[str], str] | None, list[str]]) -> TokenBatch:
    """Worker: like :func:`tokenize_batch`, with every line a document, and
    the whitespace-token count of every line (blank ones included) in ``line_lengths``."""
    prepare, docs = job
    index: dict[str, int] = {}
    setdefault = index.setdefault
    ids: list[int] = []
    lengths = array("q")
    spaced = array("q")
    for doc in docs:
        for line in reference_lines(prepare(doc) if prepare is not None else doc):
            spaced.append(len(line.split()))
            words = tokenize(line)
            if words:
                ids.extend([setdefault(w, len(index)) for w in words])
                lengths.append(len(words))
    return TokenBatch(list(index), np.asarray(ids, dtype=np.uint32), np.frombuffer(lengths, dtype=np.int64),
                      np.frombuffer(spaced, dtype=np.int64))


__all__ = ["TokenBatch", "tokenize_batch", "tokenize_lines"]
