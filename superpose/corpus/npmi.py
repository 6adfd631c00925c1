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
Under the ``lim-lauw`` convention NPMI follows the reference code's rules exactly (``reference=True``):
its minimum window count (``min_freq``, :attr:`CorpusCounts.min_windows`) applies to window
counts, so a pair in fewer windows scores as if it never co-occurred and a word in fewer windows
(or in none) scores 0 with every other word; and a pair in every window scores what the smoothed
formula gives, -1.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numba import njit

if TYPE_CHECKING:
    from superpose.corpus.store import CorpusCounts, NpmiSource

EPSILON = 1e-12


def npmi_from_counts(pair: np.ndarray, word_a: np.ndarray, word_b: np.ndarray, n_windows: int,
                     min_windows: int = 0, *, reference: bool = False) -> np.ndarray:
    """Elementwise NPMI from window counts (float64). A pair in every window scores 1.

    ``min_windows``: a pair count under it counts 0, and a pair with a word whose window count is
    under it scores 0. ``reference``: the reference code's rules (the lim-lauw convention): a word
    in no window scores 0 too, and a pair in every window scores -1, the smoothed formula's value.
    """
    if reference:
        return _reference_npmi(pair, word_a, word_b, n_windows, min_windows)
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


def _reference_npmi(pair: np.ndarray, word_a: np.ndarray, word_b: np.ndarray, n_windows: int,
                    min_windows: int) -> np.ndarray:
    """topic-metrics' ``npmi`` on ``create_prob_graph`` probabilities: a count under ``min_windows``
    is a probability of 0; ``p_ab + 1e-12``; 0 when ``p_a`` or ``p_b`` is 0."""
    n = float(n_windows)
    pair = np.asarray(pair, dtype=np.float64)
    p_ab = np.where(pair < min_windows, 0.0, pair / n) + EPSILON
    word_a, word_b = np.asarray(word_a, dtype=np.float64), np.asarray(word_b, dtype=np.float64)
    p_a = np.where(word_a < min_windows, 0.0, word_a / n)
    p_b = np.where(word_b < min_windows, 0.0, word_b / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.log(p_ab / (p_a * p_b)) / -np.log(p_ab)
    # p_ab of exactly 1 (a division by zero in the reference) cannot happen with the smoothing
    # unless n_windows is near 1e12; -1 is the value at every p_ab near it
    value = np.where(np.isfinite(value), value, -1.0)
    return np.where((p_a == 0) | (p_b == 0), 0.0, value)


@njit(cache=True, error_model="numpy")
def _upper_terms(pair: np.ndarray, single: np.ndarray, n_windows: float, p_ab: np.ndarray,
                 ratio: np.ndarray) -> None:
    """``p_ab`` and ``p_ab / (p_a p_b)`` of each pair ``i < j`` in row order, by the same float
    operations as :func:`npmi_from_counts` (division, addition, multiplication are exactly rounded)."""
    n = single.shape[0]
    p = np.empty(n)  # each word's p_a, divided once (the same double every time)
    for i in range(n):
        p[i] = single[i] / n_windows
    at = 0
    for i in range(n):
        p_a = p[i]
        for j in range(i + 1, n):
            q = pair[i, j] / n_windows + EPSILON
            p_ab[at] = q
            ratio[at] = q / (p_a * p[j])
            at += 1


@njit(cache=True, error_model="numpy")
def _fill_symmetric(pair: np.ndarray, n_windows: float, log_ratio: np.ndarray, log_p_ab: np.ndarray,
                    out: np.ndarray) -> None:
    """The NPMI of each pair ``i < j`` from its two logs, written to both triangles (1 where the
    formula is not finite or the pair is in every window, as :func:`npmi_from_counts`), and 0 on
    the diagonal: every entry of ``out`` is written."""
    n = out.shape[0]
    at = 0
    for i in range(n):
        out[i, i] = 0.0
        for j in range(i + 1, n):
            value = log_ratio[at] / -log_p_ab[at]
            if not (np.isfinite(value) and pair[i, j] < n_windows):
                value = 1.0
            out[i, j] = value
            out[j, i] = value
            at += 1


def _symmetric_npmi(pair: np.ndarray, single: np.ndarray, n_windows: int) -> np.ndarray:
    """:func:`npmi_from_counts` (our convention, no minimum) of a symmetric ``pair`` matrix, computed
    once per pair instead of once per entry and in three passes instead of a dozen temporaries. The
    logs stay numpy's (one contiguous array each), so every value is the same double; the product
    ``p_a p_b`` is the same in both triangles because multiplication commutes exactly."""
    n = single.shape[0]
    size = n * (n - 1) // 2
    p_ab, ratio = np.empty(size), np.empty(size)
    _upper_terms(pair, single, float(n_windows), p_ab, ratio)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.log(ratio, out=ratio)
        np.log(p_ab, out=p_ab)
    matrix = np.empty((n, n))
    _fill_symmetric(pair, float(n_windows), ratio, p_ab, matrix)
    return matrix


def exact_npmi(counts: CorpusCounts) -> bool:
    """Whether :func:`counts_npmi` takes the symmetric path, whose matrix is finite (1 where the
    formula is not), exactly symmetric (one value per pair, written to both triangles) and zero on
    the diagonal by construction."""
    return counts.convention != "lim-lauw" and not counts.min_windows and counts.symmetric


def counts_npmi(counts: CorpusCounts, ids: np.ndarray | list[int], pair: np.ndarray) -> np.ndarray:
    """Dense symmetric NPMI matrix over vocabulary ids from window counts, ``pair`` being
    ``counts.pair_counts(ids)`` (float64; diagonal set to 0, unused)."""
    ids = np.asarray(ids, dtype=np.int64)
    single = np.asarray(counts.word_windows, dtype=np.float64)[ids]
    if exact_npmi(counts):
        return _symmetric_npmi(pair, single, counts.n_windows)
    matrix = npmi_from_counts(pair, single[:, None], single[None, :], counts.n_windows, counts.min_windows,
                              reference=counts.convention == "lim-lauw")
    np.fill_diagonal(matrix, 0.0)
    return matrix


def npmi_matrix(source: NpmiSource, ids: np.ndarray | list[int], pair: np.ndarray | None = None) -> np.ndarray:
    """Dense symmetric NPMI matrix over vocabulary ids (float64; diagonal set to 0, unused), from
    any reference (counts or an imported matrix). ``pair``: ``counts.pair_counts(ids)`` of a
    counts reference, when the caller has it already."""
    if pair is not None:
        return counts_npmi(source, ids, pair)
    return source.scores(ids).npmi


@dataclass(frozen=True)
class Coherence:
    """NPMI coherence of a word list: the mean over pairs of known words, and its parts."""

    words: list[str]  # the known words, in input order (repeats removed)
    unknown: list[str]
    matrix: np.ndarray  # NPMI of each pair of known words
    # pairs of known words that share no window; None for a reference without counts (a matrix)
    never_cooccur: list[tuple[str, str]] | None

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
                "never_cooccur": None if self.never_cooccur is None else [list(p) for p in self.never_cooccur]}


def coherence(source: NpmiSource, words: list[str]) -> Coherence:
    """NPMI coherence of ``words`` (lowercased) on a reference corpus (counts or a matrix)."""
    seen = list(dict.fromkeys(w.lower() for w in words))
    ids, unknown = source.ids(seen)
    known = [source.vocab[i] for i in ids]
    scores = source.scores(ids)
    pair = scores.shared
    never = None if pair is None else [(known[i], known[j]) for i in range(len(ids))
                                       for j in range(i + 1, len(ids)) if pair[i, j] == 0]
    return Coherence(known, unknown, scores.npmi, never)
