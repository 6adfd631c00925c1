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
    order = np.argsort(tokens, kind="stable")
    ordered = tokens[order]
    repeat = ordered[1:] == ordered[:-1]
    prev = np.full(n, np.iinfo(np.int64).min // 2, dtype=np.int64)
    prev[order[1:][repeat]] = order[:-1][repeat]
    lo = np.maximum(np.maximum(prev + 1, positions - window + 1), doc_start)
    hi = np.minimum(positions, last_start)
    n_windows = int(np.maximum(lengths - window + 1, 1)[lengths > 0].sum())
    return lo, hi, n_windows


def count_windows(tokens: np.ndarray, offsets: np.ndarray, window: int,
                  n_words: int, symmetric: bool = True) -> tuple[int, np.ndarray, sp.csr_matrix]:
    """Window counts of one batch of documents.

    Returns the number of windows, windows per word (int64, length ``n_words``) and windows per
    pair as a CSR matrix (int64, zero diagonal): symmetric, or with ``symmetric=False`` only its
    upper triangle (half the memory while batches are summed; symmetrise once at the end).
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    tokens = np.asarray(tokens, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    lo, hi, n_windows = window_intervals(tokens, offsets, window)
    span = np.maximum(hi - lo + 1, 0)
    known = tokens >= 0
    word_windows = np.bincount(tokens[known], weights=span[known], minlength=n_words)
    # The pair triplets are the batch's largest arrays, so they are kept narrow: word ids fit
    # int32 (``n_words`` < 2**31) and an overlap is at most ``window``; a pair's sum over one
    # batch is at most the batch's number of windows, so int32 holds it while it has fewer
    # than 2**31 tokens. The returned matrix is int64, ready to accumulate over batches.
    small = np.int32
    rows, cols, vals = [], [], []
    for d in range(1, min(window, len(tokens))):
        a, b = tokens[:-d], tokens[d:]
        overlap = np.minimum(hi[:-d], hi[d:]) - np.maximum(lo[:-d], lo[d:]) + 1
        keep = (overlap > 0) & (a != b) & (a >= 0) & (b >= 0)
        a, b, overlap = a[keep], b[keep], overlap[keep]
        rows.append(np.minimum(a, b).astype(small))
        cols.append(np.maximum(a, b).astype(small))
        vals.append(overlap.astype(small))
        del a, b, overlap, keep
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = v = np.zeros(0, dtype=small)
    del rows, cols, vals
    upper = sp.coo_matrix((v, (r, c)), shape=(n_words, n_words), dtype=small).tocsr()
    del r, c, v
    pairs = (upper + upper.T).tocsr() if symmetric else upper
    pairs = pairs.astype(np.int64)
    pairs.sort_indices()
    return n_windows, np.rint(word_windows).astype(np.int64), pairs


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
