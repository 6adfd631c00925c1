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
                  n_words: int) -> tuple[int, np.ndarray, sp.csr_matrix]:
    """Window counts of one batch of documents.

    Returns the number of windows, windows per word (int64, length ``n_words``) and windows per
    pair as a symmetric CSR matrix (int64, zero diagonal).
    """
    if window < 1:
        raise ValueError("window must be at least 1")
    tokens = np.asarray(tokens, dtype=np.int64)
    offsets = np.asarray(offsets, dtype=np.int64)
    lo, hi, n_windows = window_intervals(tokens, offsets, window)
    span = np.maximum(hi - lo + 1, 0)
    known = tokens >= 0
    word_windows = np.bincount(tokens[known], weights=span[known], minlength=n_words)
    rows, cols, vals = [], [], []
    for d in range(1, min(window, len(tokens))):
        a, b = tokens[:-d], tokens[d:]
        overlap = np.minimum(hi[:-d], hi[d:]) - np.maximum(lo[:-d], lo[d:]) + 1
        keep = (overlap > 0) & (a != b) & (a >= 0) & (b >= 0)
        a, b, overlap = a[keep], b[keep], overlap[keep]
        rows.append(np.minimum(a, b))
        cols.append(np.maximum(a, b))
        vals.append(overlap)
    if rows:
        r, c, v = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals)
    else:
        r = c = v = np.zeros(0, dtype=np.int64)
    upper = sp.coo_matrix((v, (r, c)), shape=(n_words, n_words), dtype=np.int64).tocsr()
    pairs = (upper + upper.T).tocsr()
    pairs.sort_indices()
    return n_windows, np.rint(word_windows).astype(np.int64), pairs


def drop_unknown(tokens: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The 'filtered' convention: remove non-vocabulary positions before windowing."""
    known = tokens >= 0
    kept_before = np.concatenate([[0], np.cumsum(known)])
    return tokens[known], kept_before[offsets]
