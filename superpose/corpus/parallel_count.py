"""Pass 2 of a build in worker processes: window counts of the id stream, summed exactly.

Two phases, both spread over the workers, so that no step grows with the corpus in one process:

1. *count*: each task is a run of whole documents of the id stream (read by the worker itself
   from the file, so nothing large crosses a pipe). The worker counts it in batches of
   ``batch_tokens`` (:func:`~superpose.corpus.counting.count_pair_keys`: pairs as sorted keys and
   counts), sums the batches as it goes (:func:`~superpose.corpus.counting.add_keyed`), makes
   the sum symmetric and writes it to disk as ``parts`` row blocks (its partial counts, spilled).
   It returns only the number of windows and the windows per word.
2. *merge*: each task is one row block: the worker sums that block of every partial and writes
   the block of the final matrix.

The parent adds the small per-word arrays and then lays the final blocks end to end into the
one symmetric matrix the corpus format stores. Integer sums do not depend on their order, so
the counts are identical for any number of workers, tasks and blocks. Memory: a worker holds one
task's partial counts (bounded by ``task_tokens``) or one block; the spilled partials live on
disk beside the output and are deleted as soon as they are merged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from superpose.corpus.counting import add_keyed, count_pair_keys, drop_unknown, symmetrize, upper_csr
from superpose.corpus.workers import ordered_map

TASK_TOKENS = 1 << 24  # tokens per count task at most: bounds a worker's partial counts


@dataclass(frozen=True)
class CountJob:
    """What every worker shares (inherited when the workers are forked)."""

    path: Path  # the uint32 id stream
    spill: Path  # folder for the partial counts
    remap: np.ndarray  # stream id -> vocabulary id (-1: not a vocabulary word)
    doc_lengths: np.ndarray
    n_vocab: int
    window: int
    filtered: bool
    batch_tokens: int
    bounds: np.ndarray  # row block boundaries (len = blocks + 1)


def _documents(lengths: np.ndarray, target: int) -> list[tuple[int, int, int, int]]:
    """(first doc, end doc, first token, end token) of runs of whole documents of about ``target`` tokens."""
    ends = np.cumsum(lengths)
    runs, doc, token = [], 0, 0
    while doc < len(lengths):
        stop = max(int(np.searchsorted(ends, token + target, side="right")), doc + 1)
        runs.append((doc, stop, token, int(ends[stop - 1])))
        doc, token = stop, int(ends[stop - 1])
    return runs


def _tree_sum(matrices: list[sp.csr_matrix]) -> sp.csr_matrix:
    """Sum of sparse matrices, pairwise (each entry is copied O(log n) times, not O(n))."""
    while len(matrices) > 1:
        matrices = [matrices[i] + matrices[i + 1] if i + 1 < len(matrices) else matrices[i]
                    for i in range(0, len(matrices), 2)]
    return matrices[0]


def _count_task(job: CountJob, task: tuple[int, int, int, int, int]) -> tuple[int, np.ndarray, int]:
    """Phase 1: count one run of documents, spill its symmetric sum as row blocks."""
    number, doc0, doc1, tok0, tok1 = task
    n_windows = 0
    words = np.zeros(job.n_vocab, dtype=np.int64)
    keyed = []
    with open(job.path, "rb") as ids:
        ids.seek(4 * tok0)
        for b0, b1, t0, t1 in _documents(job.doc_lengths[doc0:doc1], job.batch_tokens):
            tokens = job.remap[np.fromfile(ids, dtype=np.uint32, count=t1 - t0).astype(np.int64)]
            offsets = np.concatenate([[0], np.cumsum(job.doc_lengths[doc0 + b0:doc0 + b1])])
            if job.filtered:
                tokens, offsets = drop_unknown(tokens, offsets)
            n, batch_words, keys, sums = count_pair_keys(tokens, offsets, job.window, job.n_vocab)
            n_windows += n
            words += batch_words
            keyed.append((keys, sums))
            # sum as we go, like a binary counter (a part is merged O(log batches) times), so that
            # memory holds about twice the task's distinct pairs, not every batch's
            while len(keyed) > 1 and len(keyed[-2][0]) <= 2 * len(keyed[-1][0]):
                keyed[-2:] = [add_keyed(keyed[-2:])]
    keys, sums = add_keyed(keyed)
    del keyed
    full = symmetrize(upper_csr(keys, sums, job.n_vocab))
    del keys, sums
    for block in range(len(job.bounds) - 1):
        first, stop = full.indptr[int(job.bounds[block])], full.indptr[int(job.bounds[block + 1])]
        with open(job.spill / f"part-{number}-{block}.npy", "wb") as fh:  # raw arrays: no zip, no checksum
            np.save(fh, np.diff(full.indptr[int(job.bounds[block]):int(job.bounds[block + 1]) + 1]))
            np.save(fh, full.indices[first:stop])
            np.save(fh, full.data[first:stop])
    return n_windows, words, full.nnz


def _merge_task(job: CountJob, task: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase 2: one row block of the final matrix, from that block of every partial."""
    block, n_parts = task
    shape = (int(job.bounds[block + 1] - job.bounds[block]), job.n_vocab)
    pieces = []
    for number in range(n_parts):
        path = job.spill / f"part-{number}-{block}.npy"
        with open(path, "rb") as fh:
            lengths, indices, data = np.load(fh), np.load(fh), np.load(fh)
        indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        piece = sp.csr_matrix((data, indices, indptr), shape=shape)
        piece.has_sorted_indices = True
        pieces.append(piece)
        path.unlink()
    merged = _tree_sum(pieces).tocsr()
    merged.sort_indices()
    return np.diff(merged.indptr).astype(np.int64), merged.indices.astype(np.int32), merged.data.astype(np.int64)


def row_blocks(frequency: np.ndarray, blocks: int) -> np.ndarray:
    """Row boundaries of up to ``blocks`` non-empty blocks of about equal total word frequency (a
    row's number of pairs grows with its word's frequency)."""
    share = np.cumsum(np.asarray(frequency, dtype=np.float64))
    if len(share) == 0:
        return np.zeros(1, dtype=np.int64)
    cuts = np.searchsorted(share, share[-1] * np.arange(1, blocks) / blocks, side="right")
    return np.unique(np.concatenate([[0], cuts, [len(share)]]).clip(0, len(share))).astype(np.int64)


def count_parallel(path: Path, spill: Path, remap: np.ndarray, n_vocab: int, doc_lengths: np.ndarray,
                   frequency: np.ndarray, window: int, filtered: bool, *, workers: int,
                   batch_tokens: int = 1 << 20, task_tokens: int = TASK_TOKENS,
                   on_tokens=None) -> tuple[int, np.ndarray, sp.csr_matrix]:
    """Window counts of the id stream at ``path``: (windows, windows per word, symmetric pairs).

    ``frequency`` (occurrences per vocabulary word) sizes the row blocks; ``on_tokens(n)`` reports
    progress. ``spill`` must be an existing, empty folder; it is left empty.
    """
    total = int(doc_lengths.sum())
    # one task per worker, none above task_tokens: every task's partial counts are symmetrised,
    # spilled and merged, so more tasks are more work (and tasks go to the workers in turn, so
    # more would not balance them either)
    target = max(1, min(task_tokens, math.ceil(total / workers) if total else 1))
    runs = _documents(np.asarray(doc_lengths, dtype=np.int64), target)
    bounds = row_blocks(frequency, 4 * workers)
    job = CountJob(Path(path), Path(spill), remap, np.asarray(doc_lengths, dtype=np.int64), n_vocab, window,
                   filtered, batch_tokens, bounds)
    n_windows = 0
    words = np.zeros(n_vocab, dtype=np.int64)
    count_tasks = [(number, *run) for number, run in enumerate(runs)]
    for (_, _, _, tok0, tok1), (n, batch_words, _nnz) in zip(
            count_tasks, ordered_map(partial(_count_task, job), count_tasks, workers), strict=True):
        n_windows += n
        words += batch_words
        if on_tokens is not None:
            on_tokens(tok1 - tok0)
    lengths, indices, data = [], [], []
    for row_lengths, block_indices, block_data in ordered_map(
            partial(_merge_task, job), [(block, len(runs)) for block in range(len(bounds) - 1)], workers):
        lengths.append(row_lengths)
        indices.append(block_indices)
        data.append(block_data)
    indptr = np.concatenate([[0], np.cumsum(np.concatenate(lengths))]).astype(np.int64)
    pairs = sp.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(n_vocab, n_vocab))
    pairs.has_sorted_indices = True
    return n_windows, words, pairs


__all__ = ["TASK_TOKENS", "count_parallel", "row_blocks"]
