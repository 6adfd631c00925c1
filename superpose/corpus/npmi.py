"""Normalised pointwise mutual information over boolean sliding windows (docs/method.md step 3).

``npmi(a, b) = log(p_ab / (p_a p_b)) / -log(p_ab)`` with ``p = windows / number of windows`` and
``p_ab`` smoothed by ``+1e-12``, the convention of Lim & Lauw and of gensim's ``c_npmi``.

What the smoothing does: it only matters for a pair that shares no window. Unsmoothed, that pair
is ``log 0 / -log 0`` (undefined; -1 in the limit); smoothed, it scores
``log(1e-12 / (p_a p_b)) / log(1e12)``: about -1 for frequent words, less negative the rarer
they are (0 when ``p_a p_b = 1e-12``), so a never-seen pair of rare words is not punished as
hard as one of common words. For any pair with a shared window it moves the value by about
``1e-12 / p_ab`` relative, nothing visible. The one place it misleads is a pair in every window
(``p_ab = 1``): the formula is 0/0, and with the smoothing it evaluates to -1 (so does the
reference code); the correct limit is 1, which is what we return.

Words below the corpus's minimum count are not in its vocabulary and are reported as unknown.
Under the ``lim-lauw`` convention the minimum count also applies to window counts, as in the
reference code: a pair in fewer windows scores as if it never co-occurred, and a word in fewer
windows scores 0 with every other word.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from superpose.corpus.store import CorpusCounts

EPSILON = 1e-12


def npmi_from_counts(pair: np.ndarray, word_a: np.ndarray, word_b: np.ndarray, n_windows: int,
                     min_windows: int = 0) -> np.ndarray:
    """Elementwise NPMI from window counts (float64). A pair in every window scores 1.

    ``min_windows`` (the lim-lauw convention): a pair count under it counts 0, and a pair with
    a word whose window count is under it scores 0.
    """
    n = float(n_windows)
    pair = np.asarray(pair, dtype=np.float64)
    if min_windows:
        pair = np.where(pair < min_windows, 0.0, pair)
    p_ab = pair / n + EPSILON
    p_a = np.asarray(word_a, dtype=np.float64) / n
    p_b = np.asarray(word_b, dtype=np.float64) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)
    value = np.where(np.isfinite(value) & (pair < n), value, 1.0)
    if min_windows:
        value = np.where((np.asarray(word_a) < min_windows) | (np.asarray(word_b) < min_windows), 0.0, value)
    return value


def npmi_matrix(counts: CorpusCounts, ids: np.ndarray | list[int], pair: np.ndarray | None = None) -> np.ndarray:
    """Dense symmetric NPMI matrix over vocabulary ids (float64; diagonal set to 0, unused).

    ``pair`` may pass ``counts.pair_counts(ids)`` when the caller needs it too.
    """
    ids = np.asarray(ids, dtype=np.int64)
    pair = counts.pair_counts(ids) if pair is None else pair
    single = np.asarray(counts.word_windows, dtype=np.float64)[ids]
    matrix = npmi_from_counts(pair, single[:, None], single[None, :], counts.n_windows, counts.min_windows)
    np.fill_diagonal(matrix, 0.0)
    return matrix


@dataclass(frozen=True)
class Coherence:
    """NPMI coherence of a word list: the mean over pairs of known words, and its parts."""

    words: list[str]  # the known words, in input order (repeats removed)
    unknown: list[str]
    matrix: np.ndarray  # NPMI of each pair of known words
    never_cooccur: list[tuple[str, str]]  # pairs of known words that share no window

    @property
    def n_pairs(self) -> int:
        n = len(self.words)
        return n * (n - 1) // 2

    @property
    def npmi(self) -> float:
        """Mean NPMI over the pairs of known words (NaN with fewer than two known words)."""
        if self.n_pairs == 0:
            return float("nan")
        upper = np.triu_indices(len(self.words), k=1)
        return float(self.matrix[upper].mean())

    def pairs(self) -> list[dict]:
        out = []
        for i in range(len(self.words)):
            for j in range(i + 1, len(self.words)):
                out.append({"a": self.words[i], "b": self.words[j], "npmi": float(self.matrix[i, j])})
        return out

    def to_json(self) -> dict:
        return {"npmi": None if self.n_pairs == 0 else self.npmi, "words": self.words,
                "unknown": self.unknown, "pairs": self.pairs(),
                "never_cooccur": [list(p) for p in self.never_cooccur]}


def coherence(counts: CorpusCounts, words: list[str]) -> Coherence:
    """NPMI coherence of ``words`` (lowercased) on the corpus ``counts``."""
    seen = list(dict.fromkeys(w.lower() for w in words))
    ids, unknown = counts.ids(seen)
    known = [counts.vocab[i] for i in ids]
    pair = counts.pair_counts(ids)
    matrix = npmi_matrix(counts, ids, pair)
    never = [(known[i], known[j]) for i in range(len(ids)) for j in range(i + 1, len(ids)) if pair[i, j] == 0]
    return Coherence(known, unknown, matrix, never)
