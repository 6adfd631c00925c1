"""Brute-force window counting, written as plainly as possible, to check the fast counter."""

from __future__ import annotations

import numpy as np


def brute_force_counts(docs: list[list[int]], window: int, n_words: int, windowing: str):
    """Enumerate every window; ``-1`` marks a non-vocabulary position."""
    n_windows = 0
    words = np.zeros(n_words, dtype=np.int64)
    pairs = np.zeros((n_words, n_words), dtype=np.int64)
    for doc in docs:
        if windowing == "filtered":
            doc = [t for t in doc if t >= 0]
        if not doc:
            continue
        for start in range(max(len(doc) - window + 1, 1)):
            present = {t for t in doc[start:start + window] if t >= 0}
            n_windows += 1
            for a in present:
                words[a] += 1
                for b in present:
                    if a != b:
                        pairs[a, b] += 1
    return n_windows, words, pairs
