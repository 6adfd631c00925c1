"""The top and bottom ``tau`` tokens of each row of scores, in one compiled pass per row.

A unit's pool starts from its ``tau`` highest and lowest scoring tokens, best first, equal scores
by lower token id. :func:`extremes_cpu` finds them for float rows on the CPU without sorting a
row: one vectorised pass takes the maximum and minimum of each block of 16 consecutive tokens;
a cut is chosen among the blocks' maxima such that at least ``tau`` of them reach it (they are
counted in 256 bins from the best end, so no selection or sort is needed), so at least ``tau``
tokens reach it too, and every token of the answer, ties at the ``tau``-th score included, scores
at least that. Only the blocks whose maximum reaches the cut can hold such a token; their tokens
that reach it are the candidates (about 1,050 of 49,152 for real units at tau 900), in id order.
A stable radix sort of the candidates' scores, which keeps equal scores in id order, gives the
answer. The smallest end is the same with minima.

The answer is a function of the row alone and equals a stable sort of the whole row
(tests/test_ranking.py), so it is the same bits as the torch path in
:func:`superpose.projection.project.extremes`, which handles every other case (GPU tensors, NaN).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from numba import njit

_GROUP = 16  # tokens per group whose maximum and minimum bound the candidates
_ROWS_PER_THREAD = 32  # fewer rows than this per thread are ranked in the calling thread

__all__ = ["extremes_cpu"]


@njit(cache=True, nogil=True)
def _keep(ids: np.ndarray, values: np.ndarray, n: int, tau: int, largest: bool,
          ids_out: np.ndarray, values_out: np.ndarray) -> None:
    """The ``tau`` best of ``n`` candidates (in id order) into the outputs, best first, equal
    scores by lower id: a stable least-significant-digit radix sort of the scores' order keys
    (byte by byte), which keeps equal keys in id order."""
    keys = _order_keys(values[:n], largest)
    order = np.arange(n)
    spare_keys = np.empty(n, np.uint64)
    spare = np.empty(n, np.int64)
    counts = np.empty(257, np.int64)
    for shift in range(0, 64, 8):
        counts[:] = 0
        for i in range(n):
            counts[((keys[i] >> np.uint64(shift)) & np.uint64(255)) + 1] += 1
        if counts.max() == n:  # every key has the same byte here: the order stands
            continue
        for d in range(1, 257):
            counts[d] += counts[d - 1]
        for i in range(n):  # keys move with their candidates: every pass reads them in order
            d = (keys[i] >> np.uint64(shift)) & np.uint64(255)
            spare_keys[counts[d]] = keys[i]
            spare[counts[d]] = order[i]
            counts[d] += 1
        order, spare = spare, order
        keys, spare_keys = spare_keys, keys
    for i in range(tau):
        ids_out[i] = ids[order[i]]
        values_out[i] = values[order[i]]


@njit(cache=True, nogil=True)
def _order_keys(values: np.ndarray, largest: bool) -> np.ndarray:
    """Unsigned integers in the order of the floats (ascending; descending for ``largest``), with
    -0.0 equal to 0.0 and no NaN: the float64 bits, sign bit set for positives and every bit
    flipped for negatives."""
    bits = (values.astype(np.float64) + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
    keys = np.empty(bits.shape[0], np.uint64)
    sign = np.uint64(1) << np.uint64(63)
    for i in range(bits.shape[0]):
        key = ~bits[i] if bits[i] & sign else bits[i] | sign
        keys[i] = ~key if largest else key
    return keys


@njit(cache=True, nogil=True)
def _has_nan(row: np.ndarray) -> bool:
    nan = False
    for j in range(row.shape[0]):
        nan |= row[j] != row[j]
    return nan


@njit(cache=True, nogil=True, fastmath={"nnan", "nsz", "reassoc"})
def _block_extremes(row: np.ndarray, high: np.ndarray, low: np.ndarray) -> None:
    """Largest and smallest score of each block of 16 consecutive tokens (the last block may be
    shorter). Compiled to vector instructions: valid for rows without NaN (:func:`_has_nan`), and
    the sign of a zero extreme may be either (-0.0 == 0.0 as a threshold)."""
    vocab = row.shape[0]
    full = vocab // _GROUP
    for b in range(full):  # a fixed count of 16: unrolled into vector maxima and minima
        first = b * _GROUP
        h = row[first]
        lo = h
        for k in range(1, _GROUP):
            v = row[first + k]
            h = max(h, v)
            lo = min(lo, v)
        high[b] = h
        low[b] = lo
    if full < high.shape[0]:  # a last, shorter block
        h = row[full * _GROUP]
        lo = h
        for j in range(full * _GROUP + 1, vocab):
            v = row[j]
            h = max(h, v)
            lo = min(lo, v)
        high[full] = h
        low[full] = lo


@njit(cache=True, nogil=True)
def _cut(bound: np.ndarray, tau: int, largest: bool, counts: np.ndarray) -> float:
    """A score that at least ``tau`` blocks' extremes reach (``bound``: maxima, ``largest``; else
    minima, reached from below), and close to the ``tau``-th best of them: the extremes are
    counted in equal-width bins from the best end, and the cut is the worst extreme of the bins
    that hold the first ``tau``. Bins are only a search aid: the cut is one of the extremes."""
    best, worst = bound[0], bound[0]
    for v in bound:
        best = max(best, v) if largest else min(best, v)
        worst = min(worst, v) if largest else max(worst, v)
    if best == worst or not abs(best - worst) < np.inf:
        return worst  # one value, or infinite extremes: every block reaches the worst
    bins = counts.shape[0]
    scale = (bins - 1) / abs(best - worst)
    counts[:] = 0
    for v in bound:  # bin 0 holds the best extremes; monotone in v
        counts[min(bins - 1, int(abs(best - v) * scale))] += 1
    last, total = 0, counts[0]
    while total < tau:
        last += 1
        total += counts[last]
    cut = best
    for v in bound:
        if min(bins - 1, int(abs(best - v) * scale)) <= last:
            cut = min(cut, v) if largest else max(cut, v)
    return cut


@njit(cache=True, nogil=True)
def _candidates(row: np.ndarray, bound: np.ndarray, cut: float, largest: bool, ids: np.ndarray,
                values: np.ndarray) -> int:
    """The tokens scoring at least ``cut`` (``largest``; else at most), in id order, from the
    blocks whose extreme reaches it; how many."""
    vocab = row.shape[0]
    n = 0
    for b in range(bound.shape[0]):
        if (bound[b] >= cut) if largest else (bound[b] <= cut):
            for j in range(b * _GROUP, min(vocab, (b + 1) * _GROUP)):
                v = row[j]
                ids[n] = j  # written always, kept by advancing n: no branch to mispredict
                values[n] = v
                n += (v >= cut) if largest else (v <= cut)
    return n


@njit(cache=True, nogil=True)
def _rank_rows(scores: np.ndarray, tau: int, start: int, stop: int, top_ids: np.ndarray,
               top_values: np.ndarray, bottom_ids: np.ndarray, bottom_values: np.ndarray) -> bool:
    """Rank rows ``start:stop`` into the outputs; False (outputs unfinished) at a NaN score."""
    vocab = scores.shape[1]
    blocks = (vocab + _GROUP - 1) // _GROUP
    high = np.empty(blocks, scores.dtype)
    low = np.empty(blocks, scores.dtype)
    ids = np.empty(vocab, np.int64)
    values = np.empty(vocab, scores.dtype)
    counts = np.zeros(256, np.int64)
    for r in range(start, stop):
        row = scores[r]
        if _has_nan(row):
            return False
        _block_extremes(row, high, low)
        for largest in (True, False):
            bound = high if largest else low
            if tau > blocks:  # a small vocabulary: every token is a candidate
                cut = -np.inf if largest else np.inf
            else:
                cut = _cut(bound, tau, largest, counts)
            n = _candidates(row, bound, cut, largest, ids, values)
            if largest:
                _keep(ids, values, n, tau, True, top_ids[r], top_values[r])
            else:
                _keep(ids, values, n, tau, False, bottom_ids[r], bottom_values[r])
    return True


def extremes_cpu(scores: torch.Tensor, tau: int, threads: int = 1
                 ) -> tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]] | None:
    """((top ids, top scores), (bottom ids, bottom scores)) of each row of CPU float scores, best
    first, ties by lower id; None when a row holds NaN (the caller's general path decides then).
    ``threads`` threads rank disjoint rows (the kernel releases the GIL)."""
    rows = scores.shape[0]
    values = scores.detach().contiguous().numpy()
    top_ids, bottom_ids = np.empty((rows, tau), np.int64), np.empty((rows, tau), np.int64)
    top_values, bottom_values = np.empty((rows, tau), values.dtype), np.empty((rows, tau), values.dtype)
    outputs = (top_ids, top_values, bottom_ids, bottom_values)
    parts = max(1, min(threads, rows // _ROWS_PER_THREAD))
    bounds = np.linspace(0, rows, parts + 1).astype(np.int64)
    if parts == 1:
        ok = _rank_rows(values, tau, 0, rows, *outputs)
    else:
        with ThreadPoolExecutor(max_workers=parts) as pool:
            ok = all(pool.map(lambda i: _rank_rows(values, tau, int(bounds[i]), int(bounds[i + 1]), *outputs),
                              range(parts)))
    if not ok:
        return None
    return ((torch.from_numpy(top_ids), torch.from_numpy(top_values)),
            (torch.from_numpy(bottom_ids), torch.from_numpy(bottom_values)))
