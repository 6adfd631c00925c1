"""A worker's unit of pass 1: a batch of documents tokenised and numbered locally.

Kept apart from :mod:`superpose.corpus.stream` (which hands batches out) and
:mod:`superpose.corpus.multistream` (whose workers make them from a dump's streams), so that both
use it without importing each other. A batch is tokenised at once (:func:`superpose.corpus.
tokenize.word_ids`): its documents are lowercased UTF-8 laid end to end with a newline between
them, and each document's tokens are those that start before its end.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from superpose.corpus.lines import reference_lines
from superpose.corpus.sources import read_line_range
from superpose.corpus.tokenize import lowercase_utf8, word_ids


@dataclass
class TokenBatch:
    """One batch's documents as local word numbers: ``numbers[ids]`` is the token stream."""

    numbers: np.ndarray  # uint64, the batch's distinct words, ascending (superpose.corpus.tokenize.word_ids)
    long_words: list[str]  # the words of the numbers LONG + i (over 13 letters)
    ids: np.ndarray  # local numbers: uint16 where the batch has at most 2**16 distinct words, else uint32
    lengths: np.ndarray  # int64, tokens per (non-empty) document
    counts: np.ndarray  # int64, occurrences of each local number (counted here, in the worker)
    line_lengths: np.ndarray | None = None  # int64, whitespace tokens of every line (lines mode only)


def _batch(low: bytes, doc_ends: np.ndarray) -> TokenBatch:
    """The tokens of ``low`` (lowercased UTF-8), cut into documents that end at ``doc_ends``
    (ascending byte offsets, the last at or after the last token); empty documents skipped."""
    numbers, long_words, ids, starts = word_ids(low)
    lengths = np.diff(np.searchsorted(starts, doc_ends), prepend=0).astype(np.int64)
    counts = np.bincount(ids, minlength=len(numbers))
    if len(numbers) <= 1 << 16:  # half the bytes through the pipe and through the parent's id mapping
        ids = ids.astype(np.uint16)
    return TokenBatch(numbers, long_words, ids, lengths[lengths > 0], counts)


def _joined(texts: list[str]) -> tuple[bytes, np.ndarray]:
    """Lowercased UTF-8 of ``texts`` with a newline after each, and where each one ends."""
    encoded = [text.lower().encode("utf-8") for text in texts]
    ends = np.cumsum(np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded)) + 1) - 1
    return b"\n".join(encoded), ends


def tokenize_batch(job: tuple[Callable[[str], str] | None, list[str]]) -> TokenBatch:
    """Worker: prepare and tokenise documents; skip empty ones."""
    prepare, docs = job
    return _batch(*_joined([prepare(doc) for doc in docs] if prepare is not None else docs))


def tokenize_range(job: tuple[str, int, int]) -> TokenBatch:
    """Worker: the lines of a byte range of a text file (whole lines), each non-empty one a document."""
    low = lowercase_utf8(read_line_range(*job))
    return _batch(low, np.append(np.flatnonzero(np.frombuffer(low, dtype=np.uint8) == 10), len(low)))


def tokenize_lines(job: tuple[Callable[[str], str] | None, list[str]]) -> TokenBatch:
    """Worker: like :func:`tokenize_batch`, with every line a document, and
    the whitespace-token count of every line (blank ones included) in ``line_lengths``."""
    prepare, docs = job
    lines = [line for doc in docs for line in reference_lines(prepare(doc) if prepare is not None else doc)]
    batch = _batch(*_joined(lines))
    batch.line_lengths = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=len(lines))
    return batch


__all__ = ["TokenBatch", "tokenize_batch", "tokenize_lines", "tokenize_range"]
