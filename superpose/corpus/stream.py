"""Pass 1 of a build: documents -> word ids on disk, in parallel worker processes, in order.

The parent reads raw documents (decompression and XML parsing are sequential, except for a
multistream dump, whose streams the workers decompress and parse: :mod:`superpose.corpus.multistream`)
and hands them out in batches of about ``batch_chars`` characters; a worker prepares each document (e.g.
removes wiki markup, the expensive step), tokenises it and numbers the batch's words in order
of first appearance. The parent takes the batches back in order and maps those local numbers
to global ids with one dictionary look-up per distinct word of the batch, so the id stream,
the word list and every count are identical whatever the number of workers. At most
one batch per worker is in flight, so memory does not grow with the corpus.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from superpose.core.errors import SuperposeError
from superpose.corpus.sources import Source
from superpose.corpus.tokenize import tokenize
from superpose.corpus.workers import ordered_map

BATCH_CHARS = 1 << 20


@dataclass
class TokenBatch:
    """One batch's documents as local word numbers: ``words[ids]`` is the token stream."""

    words: list[str]
    ids: np.ndarray  # uint32, local numbers
    lengths: np.ndarray  # int64, tokens per (non-empty) document


@dataclass
class Stream:
    """Pass-1 output: the id stream on disk and what was learned while writing it."""

    path: Path
    words: list[str]
    frequency: np.ndarray
    doc_lengths: np.ndarray
    per_source: list[dict] = field(default_factory=list)


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


def _batches(source: Source, batch_chars: int) -> Iterator[tuple[Callable[[str], str] | None, list[str]]]:
    docs: list[str] = []
    size = 0
    for doc in source.raw_documents():
        docs.append(doc)
        size += len(doc)
        if size >= batch_chars:
            yield source.prepare, docs
            docs, size = [], 0
    if docs:
        yield source.prepare, docs


def _token_batches(source: Source, workers: int, batch_chars: int) -> Iterator[TokenBatch]:
    """A source's documents as token batches, in order: a multistream dump decompressed by the
    workers stream by stream (:mod:`superpose.corpus.multistream`), anything else read here."""
    if source.multistream and workers > 1:
        from superpose.corpus.multistream import token_batches

        batches = token_batches(Path(source.path), source.prepare, workers)
        if batches is not None:
            return batches
    return ordered_map(tokenize_batch, _batches(source, batch_chars), workers)


def write_stream(sources: list[Source], path: Path, *, workers: int = 1, progress: bool = False,
                 batch_chars: int = BATCH_CHARS) -> Stream:
    """Tokenise every source into ``path`` (uint32 word ids) with ``workers`` processes."""
    index: dict[str, int] = {}
    setdefault = index.setdefault
    frequency = np.zeros(0, dtype=np.int64)
    lengths: list[np.ndarray] = []
    per_source = []
    for source in sources:  # load what ``prepare`` needs once, here, so forked workers inherit it
        if source.prepare is not None and workers > 1:
            source.prepare("")
    with open(path, "wb") as out, tqdm(desc="reading", unit=" tok", unit_scale=True, disable=not progress) as bar:
        for source in sources:
            docs = tokens = 0
            for batch in _token_batches(source, workers, batch_chars):
                if not len(batch.lengths):
                    continue
                mapping = np.fromiter((setdefault(w, len(index)) for w in batch.words), dtype=np.uint32,
                                      count=len(batch.words))
                ids = mapping[batch.ids]
                ids.tofile(out)
                if len(index) > len(frequency):  # grow by doubling: amortised, not per batch
                    grown = np.zeros(max(len(index), 2 * len(frequency)), dtype=np.int64)
                    grown[: len(frequency)] = frequency
                    frequency = grown
                # local words are distinct, so ``mapping`` has no repeats and += is exact
                frequency[mapping] += np.bincount(batch.ids, minlength=len(batch.words))
                lengths.append(batch.lengths)
                docs += len(batch.lengths)
                tokens += len(ids)
                bar.update(len(ids))
            if docs == 0:
                raise SuperposeError(f"source '{source.name}' has no words: check the file is not empty or corrupt")
            per_source.append(dict(source.describe(), documents=docs, tokens=tokens))
    doc_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    return Stream(path, list(index), frequency[: len(index)].copy(), doc_lengths, per_source)


__all__ = ["BATCH_CHARS", "Stream", "TokenBatch", "tokenize_batch", "write_stream"]
