"""Pass 1 of a build: documents -> word ids on disk, in parallel worker processes, in order.

The parent reads raw documents (decompression and XML parsing are sequential, except for a
multistream dump, whose streams the workers decompress and parse: :mod:`superpose.corpus.multistream`,
and a text file of one document per line, whose byte ranges of whole lines the workers read
themselves: the parent only finds the line ends the ranges start after) and hands them out in
batches of about ``batch_chars`` characters; a worker prepares each document (e.g. removes wiki
markup, the expensive step), tokenises it and numbers the batch's distinct words
(:class:`~superpose.corpus.batches.TokenBatch`). The parent takes the batches back in order and
maps those local numbers to global ids (:class:`_Numbering`: a binary search per distinct word of
the batch), so the id stream, the word list and every count are identical whatever the number of
workers. Each batch goes to the worker holding the fewest, and at most two per worker are in
flight (:func:`~superpose.corpus.workers.ordered_map`): memory does not grow with the corpus, and a
worker starts its next batch while the parent has yet to take its last. The workers also count
each batch's occurrences per local number, so the parent's work per batch is the binary search of
its distinct words, one gather of its ids (sent as ``uint16`` when it has at most 65,536 distinct
words) and one write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from superpose.core.errors import SuperposeError
from superpose.corpus import multistream
from superpose.corpus.batches import TokenBatch, tokenize_batch, tokenize_lines, tokenize_range
from superpose.corpus.lines import add_histogram
from superpose.corpus.sources import Source, line_ranges
from superpose.corpus.tokenize import spell
from superpose.corpus.workers import ordered_map

BATCH_CHARS = 1 << 20


@dataclass
class Stream:
    """Pass-1 output: the id stream on disk and what was learned while writing it."""

    path: Path
    words: list[str]
    frequency: np.ndarray
    doc_lengths: np.ndarray
    per_source: list[dict] = field(default_factory=list)
    line_histogram: np.ndarray | None = None  # lines per whitespace length (lines mode only)


def _batches(source: Source, batch_chars: int,
             lines: bool = False) -> Iterator[tuple[Callable[[str], str] | None, list[str]]]:
    docs: list[str] = []
    size = 0
    for doc in (source.raw_lines() if lines else source.raw_documents()):
        docs.append(doc)
        size += len(doc)
        if size >= batch_chars:
            yield source.prepare, docs
            docs, size = [], 0
    if docs:
        yield source.prepare, docs


def _token_batches(source: Source, workers: int, batch_chars: int, lines: bool) -> Iterator[TokenBatch]:
    """A source's documents as token batches, in order: a multistream dump decompressed by the
    workers stream by stream (:mod:`superpose.corpus.multistream`; not in ``lines`` mode, which keeps
    every line's length), anything else read here."""
    if source.multistream and workers > 1 and not lines:
        batches = multistream.token_batches(Path(source.path), source.prepare, workers)
        if batches is not None:
            return batches
    if source.line_file and not lines:
        return ordered_map(tokenize_range, line_ranges(Path(source.path), batch_chars), workers)
    worker = tokenize_lines if lines else tokenize_batch
    return ordered_map(worker, _batches(source, batch_chars, lines), workers)


class _Numbering:
    """Global ids of word numbers (:func:`~superpose.corpus.tokenize.word_ids`), found by binary
    search in sorted arrays rather than by a dictionary look-up per word (ten times faster): the
    known numbers, and the recent ones (at most :attr:`RECENT`, kept sorted as they come, then
    merged into the known), so a batch costs O(its words x log vocabulary + RECENT). Words over
    13 letters, numbered per batch, are looked up by spelling."""

    RECENT = 1 << 18

    def __init__(self) -> None:
        empty = np.zeros(0, dtype=np.uint64)
        self.known, self.known_ids, self.recent, self.recent_ids = empty, empty, empty, empty
        self.long: dict[str, int] = {}
        self.words: list[str] = []

    def ids(self, batch: TokenBatch) -> np.ndarray:
        """The global ids of the batch's numbers (``uint32``), new words numbered and spelled."""
        n_short = len(batch.numbers) - len(batch.long_words)
        numbers = batch.numbers[:n_short]
        out = np.full(len(batch.numbers), -1, dtype=np.int64)
        short = out[:n_short]
        for keys, values in ((self.known, self.known_ids), (self.recent, self.recent_ids)):
            if len(keys):
                at = np.searchsorted(keys, numbers).clip(max=len(keys) - 1)
                hit = keys[at] == numbers
                short[hit] = values[at[hit]]
        new = np.flatnonzero(short < 0)
        if len(new):
            short[new] = np.arange(len(self.words), len(self.words) + len(new))
            self.words.extend(spell(numbers[new]))
            at = np.searchsorted(self.recent, numbers[new])
            self.recent = np.insert(self.recent, at, numbers[new])
            self.recent_ids = np.insert(self.recent_ids, at, short[new].astype(np.uint64))
            if len(self.recent) > self.RECENT:
                keys = np.concatenate([self.known, self.recent])
                order = np.argsort(keys, kind="stable")  # two sorted runs: a merge
                self.known, self.known_ids = keys[order], np.concatenate([self.known_ids, self.recent_ids])[order]
                self.recent = self.recent_ids = np.zeros(0, dtype=np.uint64)
        for i, word in enumerate(batch.long_words, n_short):
            if word not in self.long:
                self.long[word] = len(self.words)
                self.words.append(word)
            out[i] = self.long[word]
        return out.astype(np.uint32)


def write_stream(sources: list[Source], path: Path, *, workers: int = 1, progress: bool = False,
                 batch_chars: int = BATCH_CHARS, lines: bool = False) -> Stream:
    """Tokenise every source into ``path`` (uint32 word ids) with ``workers`` processes.

    ``lines``: every line is a document and the histogram of lines per whitespace length is kept
    (the reference's reading, :mod:`superpose.corpus.lines`).
    """
    histogram = np.zeros(0, dtype=np.int64)
    numbering = _Numbering()
    frequency = np.zeros(0, dtype=np.int64)
    lengths: list[np.ndarray] = []
    per_source = []
    for source in sources:  # load what ``prepare`` needs once, here, so forked workers inherit it
        if source.prepare is not None and workers > 1:
            source.prepare("")
    with open(path, "wb") as out, tqdm(desc="reading", unit=" tok", unit_scale=True, disable=not progress) as bar:
        for source in sources:
            docs = tokens = 0
            for batch in _token_batches(source, workers, batch_chars, lines):
                if batch.line_lengths is not None:
                    histogram = add_histogram(histogram, batch.line_lengths)
                if not len(batch.lengths):
                    continue
                mapping = numbering.ids(batch)
                ids = mapping[batch.ids]
                ids.tofile(out)
                if len(numbering.words) > len(frequency):  # grow by doubling: amortised, not per batch
                    grown = np.zeros(max(len(numbering.words), 2 * len(frequency)), dtype=np.int64)
                    grown[: len(frequency)] = frequency
                    frequency = grown
                # local words are distinct, so ``mapping`` has no repeats and += is exact
                frequency[mapping] += batch.counts
                lengths.append(batch.lengths)
                docs += len(batch.lengths)
                tokens += len(ids)
                bar.update(len(ids))
            if docs == 0:
                raise SuperposeError(f"source '{source.name}' has no words: check the file is not empty or corrupt")
            per_source.append(dict(source.describe(), documents=docs, tokens=tokens))
    doc_lengths = np.concatenate(lengths) if lengths else np.zeros(0, dtype=np.int64)
    return Stream(path, numbering.words, frequency[: len(numbering.words)].copy(), doc_lengths, per_source,
                  histogram if lines else None)


__all__ = ["BATCH_CHARS", "Stream", "TokenBatch", "tokenize_batch", "tokenize_lines", "tokenize_range", "write_stream"]
