"""Exact boolean sliding-window counts, vectorised.

A window is ``window`` consecutive token positions of one document; a document shorter than
the window is one window; an empty document has none. ``n(a)`` is the number of windows that
contain word ``a`` at least once, ``n(a, b)`` the number that contain both.

Why it is exact without enumerating windows: for a position ``p`` holding word ``a``, call
``A_p`` the set of window starts ``s`` for which ``p`` is the *first* occurrence of ``a`` in the
window ``[s, s + window)``. That is the interval ``(prev(p), p] ∩ [p - window + 1, p]`` clipped to
the document's valid starts, where ``prev(p)`` is the previous position of the same word. Each
window containing ``a`` has exactly one such first occurrence, so ``n(a) = sum_p |A_p|`` and
``n(a, b) = sum_{p: a, q: b} |A_p ∩ A_q|``; the intervals can only meet when ``|p - q| < window``,
so ``window - 1`` vectorised passes over the token array find every pair.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def window_intervals(tokens: np.ndarray, offsets: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Per position, the first/last window start for which it is its word's first occurrence.

    ``tokens`` holds word ids (``-1`` for a position that is not a vocabulary word), ``offsets``
    the document boundaries (``len = documents + 1``). Returns ``lo``, ``hi`` (empty where
    ``hi < lo``) and the number of windows.
    """
    n = len(tokens)
    lengths = np.diff(offsets)
    doc_of = np.repeat(np.arange(len(lengths)), lengths)
    doc_start = offsets[:-1][doc_of]
    last_start = doc_start + np.maximum(lengths[doc_of] - window, 0)
    positions = np.arange(n, dtype=np.int64)
    order, ordered = _by_word(tokens)
    repeat = ordered[1:] == ordered[:-1]
    prev = np.full(n, np.iinfo(np.int64).min // 2, dtype=np.int64)
    prev[order[1:][repeat]] = order[:-1][repeat]
    lo = np.maximum(np.maximum(prev + 1, positions - window + 1), doc_start)
    hi = np.minimum(positions, last_start)
    n_windows = int(np.maximum(lengths - window + 1, 1)[lengths > 0].sum())
    return lo, hi, n_windows


def _by_word(tokens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions sorted by (word, position), i.e. ``np.argsort(tokens, kind="stable")``, and the
    sorted words: one sort of numbers that hold both where they fit in 63 bits (faster)."""
    n = len(tokens)
    bits = max(n.bit_length(), 1)
    if not n or (int(tokens.max()) + 1).bit_length() + bits > 62:
        order = np.argsort(tokens, kind="stable")
        return order, tokens[order]
    packed = np.sort(((tokens + 1) << bits) | np.arange(n, dtype=np.int64))
    return packed & ((1 << bits) - 1), (packed >> bits) - 1


def _sum_by_key(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys ascending and the sum of the values of each."""
    order = np.argsort(keys)
    return _sums(keys[order], values[order])


def upper_csr(keys: np.ndarray, values: np.ndarray, n_words: int) -> sp.csr_matrix:
    """The CSR matrix (int64, indices sorted) of distinct ascending keys ``row * n_words + col``."""
    rows = keys // n_words
    indptr = np.zeros(n_words + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n_words), out=indptr[1:])
    pairs = sp.csr_matrix(((values.astype(np.int64)), (keys - rows * n_words).astype(np.int32), indptr),
                          shape=(n_words, n_words))
    pairs.has_sorted_indices = True
    return pairs


def count_windows(tokens: np.ndarray, offsets: np.ndarray, window: int,
                  n_words: int, symmetric: bool = True) -> tuple[int, np.ndarray, sp.csr_matrix]:
    """Window counts of one batch of documents.

    Returns the number of windows, windows per word (int64, length ``n_words``) and windows per
    pair as a CSR matrix (int64, zero diagonal): symmetric, or with ``symmetric=False`` only its
    upper triangle (half the memory while batches are summed; symmetrise once at the end).
    """
    n_windows, word_windows, keys, sums = count_pair_keys(tokens, offsets, window, n_words)
    upper = upper_csr(keys, sums, n_words)
    del keys, sums
    return n_windows, word_windows, symmetrize(upper) if symmetric else upper


def count_pair_keys(tokens: np.ndarray, offsets: np.ndarray, window: int,
                    n_words: int) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`count_windows` with the pairs (upper triangle) as distinct ascending keys ``row *
    n_words + col`` and their window counts (int64), the form batches are summed in."""
    if window < 1:
        raise ValueError("window must be at least 1")
    tokens = np.asarray(tokens, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    lo, hi, n_windows = window_intervals(tokens, offsets, window)
    span = np.maximum(hi - lo + 1, 0)
    known = tokens >= 0
    word_windows = np.bincount(tokens[known], weights=span[known], minlength=n_words)
    keys, sums = _pair_sums(tokens, lo, hi, window, n_words)
    return n_windows, np.rint(word_windows).astype(np.int64), keys, sums


def add_keyed(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """The sum of keyed counts (:func:`count_pair_keys`): distinct keys ascending, their totals.
    One merge (a stable sort of the sorted parts laid end to end) of ``key << bits | count``
    where that fits in 63 bits, else a sort of the keys."""
    if len(parts) == 1:
        return parts[0]
    keys = np.concatenate([k for k, _ in parts]) if parts else np.zeros(0, dtype=np.int64)
    counts = np.concatenate([c for _, c in parts]) if parts else np.zeros(0, dtype=np.int64)
    if not len(keys):
        return keys, counts
    bits = int(counts.max()).bit_length()
    if int(keys.max()).bit_length() + bits > 63:
        return _sum_by_key(keys, counts)
    keys <<= bits
    keys |= counts
    del counts
    keys.sort(kind="stable")
    return _sums(keys >> bits, keys & ((1 << bits) - 1))


def _pair_sums(tokens: np.ndarray, lo: np.ndarray, hi: np.ndarray, window: int,
               n_words: int) -> tuple[np.ndarray, np.ndarray]:
    """Windows per pair of words (upper triangle) as distinct ascending keys ``row * n_words +
    col`` and their sums: the overlaps of positions ``d < window`` apart, summed by key.

    For positions ``p < q``, ``hi[p] <= hi[q]`` (both are clipped to their document's last window
    start, and a later document starts after), so the overlap is ``hi[p] - max(lo[p], lo[q]) + 1``;
    a position that is not a word gets an empty interval ``lo = hi + 1``, so it never overlaps.
    Each offset's triplets are packed as ``key << bits | overlap`` (an overlap is at most
    ``window``) into one buffer, which is sorted once and summed by key.
    """
    n = len(tokens)
    narrow = np.int32 if max(n + window, n_words) < 2**31 else np.int64
    words = tokens.astype(narrow)
    lo, hi = lo.astype(narrow), hi.astype(narrow)
    unknown = words < 0
    if unknown.any():
        lo[unknown] = hi[unknown] + 1
    bits = int(window).bit_length()
    if (n_words * n_words).bit_length() + bits > 63:  # too many words to pack: sum without packing
        keys, vals = [], []
        for d in range(1, min(window, n)):
            overlap = hi[:-d] - np.maximum(lo[:-d], lo[d:]) + 1
            keep = (overlap > 0) & (words[:-d] != words[d:])
            a, b = words[:-d][keep].astype(np.int64), words[d:][keep].astype(np.int64)
            keys.append(np.minimum(a, b) * n_words + np.maximum(a, b))
            vals.append(overlap[keep].astype(np.int64))
        return _sum_by_key(np.concatenate(keys or [np.zeros(0, np.int64)]),
                           np.concatenate(vals or [np.zeros(0, np.int64)]))
    packed = np.empty(max(n, 1) * max(min(window, n) - 1, 0), dtype=np.int64)
    end = 0
    for d in range(1, min(window, n)):
        overlap = hi[:-d] - np.maximum(lo[:-d], lo[d:]) + 1
        keep = overlap > 0
        keep &= words[:-d] != words[d:]
        a, b = words[:-d][keep], words[d:][keep]
        out = packed[end:end + len(a)]
        np.minimum(a, b, out=out)
        out *= n_words
        out += np.maximum(a, b)
        out <<= bits
        out |= overlap[keep]
        end += len(a)
        del overlap, keep, a, b
    packed = packed[:end]
    packed.sort()
    return _sums(packed >> bits, packed & ((1 << bits) - 1))


def _sums(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct keys and the sum of each one's values, for keys sorted ascending (differences of
    a running total at each key's last place: faster than ``np.add.reduceat``)."""
    if not len(keys):
        return keys, values.astype(np.int64)
    last = np.empty(len(keys), dtype=bool)
    last[-1] = True
    np.not_equal(keys[1:], keys[:-1], out=last[:-1])
    if last.all():
        return keys, values.astype(np.int64)
    totals = np.cumsum(values, dtype=np.int64)[last]
    totals[1:] -= totals[:-1].copy()
    return keys[last], totals


def symmetrize(upper: sp.csr_matrix) -> sp.csr_matrix:
    """The symmetric matrix of an upper-triangular one (zero diagonal), indices sorted."""
    pairs = (upper + upper.T).tocsr()
    pairs.sort_indices()
    return pairs


def drop_unknown(tokens: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 'filtered' convention: remove non-vocabulary positions before windowing."""
    known = tokens >= 0
    kept_before = np.concatenate([[0], np.cumsum(known)])
    return tokens[known], kept_before[offsets]
