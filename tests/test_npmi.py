"""NPMI matches gensim's c_npmi where both definitions coincide, and brute force everywhere."""

from __future__ import annotations

import math

import numpy as np
import pytest
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel

from superpose.corpus.build import CorpusParams, build_corpus
from superpose.corpus.npmi import coherence, npmi_matrix
from tests.corpus_helpers import brute_force_counts

WORDS = [f"w{chr(97 + i)}" for i in range(12)]  # "wa" .. "wl"


def _gensim_npmi(texts: list[list[str]], topic: list[str], window: int) -> float:
    dictionary = Dictionary(texts)
    model = CoherenceModel(topics=[topic], texts=texts, dictionary=dictionary, coherence="c_npmi",
                           window_size=window, processes=1)
    return float(model.get_coherence())


def _build(tmp_path, texts, window, windowing="raw"):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(" ".join(t) for t in texts) + "\n")
    return build_corpus([str(path)], tmp_path / "corpus",
                        CorpusParams(window=window, windowing=windowing, min_count=1,
                                     stopwords="keep", min_length=1))


def test_equals_gensim_without_repeats_inside_a_window(tmp_path):
    rng = np.random.default_rng(3)
    # each document uses every word at most once, so no word repeats inside any window;
    # some documents are shorter than the window (one window each, as in gensim).
    texts = [list(rng.choice(WORDS, size=int(rng.integers(2, 12)), replace=False)) for _ in range(80)]
    counts = _build(tmp_path, texts, window=5)
    for topic in (WORDS[:4], WORDS[3:10], WORDS):
        ours = coherence(counts, topic).npmi
        assert ours == pytest.approx(_gensim_npmi(texts, topic, 5), abs=1e-9)


def test_differs_from_gensim_when_words_repeat_and_matches_brute_force(tmp_path):
    # gensim's WordOccurrenceAccumulator slides its window by clearing the flag of the token
    # that leaves and setting the flag of the token that enters. When the leaving token has
    # another copy still inside the window ("wa wa wb" -> "wa wb wc"), the flag is cleared
    # anyway, so that window is counted without "wa": its counts fall below exact boolean
    # windows, and NPMI differs. Ours equals brute-force enumeration.
    texts = [["wa", "wb", "wa", "wa", "wc", "wb", "wa", "wc"], ["wa", "wc", "wc", "wb", "wa"]] * 5
    counts = _build(tmp_path, texts, window=3)
    topic = ["wa", "wb", "wc"]
    ours = coherence(counts, topic).npmi
    theirs = _gensim_npmi(texts, topic, 3)
    assert abs(ours - theirs) > 1e-3
    ids = [counts.index[w] for w in topic]
    docs = [[counts.index[w] for w in t] for t in texts]
    n, words, pairs = brute_force_counts(docs, 3, len(counts.vocab), "raw")
    expected = []
    for i in range(3):
        for j in range(i + 1, 3):
            p_ab = pairs[ids[i], ids[j]] / n + 1e-12
            p_a, p_b = words[ids[i]] / n, words[ids[j]] / n
            expected.append(math.log(p_ab / (p_a * p_b)) / -math.log(p_ab))
    assert ours == pytest.approx(np.mean(expected), abs=1e-12)


def test_unknown_words_and_never_cooccurring_pairs(tmp_path):
    texts = [["wa", "wb", "wc"], ["wd", "we", "wf"]] * 4
    counts = _build(tmp_path, texts, window=3, windowing="filtered")
    result = coherence(counts, ["wa", "WB", "nope", "wd", "wa"])
    assert result.words == ["wa", "wb", "wd"]
    assert result.unknown == ["nope"]
    assert result.never_cooccur == [("wa", "wd"), ("wb", "wd")]
    payload = result.to_json()
    assert set(payload) >= {"npmi", "pairs", "unknown"} and len(payload["pairs"]) == 3
    # never co-occurring pairs score by the epsilon smoothing alone: strongly negative
    assert result.matrix[0, 2] < -0.5 < 0.5 < result.matrix[0, 1]


def test_npmi_matrix_is_symmetric_and_bounded(tmp_path):
    rng = np.random.default_rng(1)
    texts = [list(rng.choice(WORDS, size=8)) for _ in range(50)]
    counts = _build(tmp_path, texts, window=4)
    matrix = npmi_matrix(counts, np.arange(len(counts.vocab)))
    np.testing.assert_allclose(matrix, matrix.T)
    assert np.all(matrix <= 1 + 1e-12) and np.all(matrix >= -1 - 1e-9)


def test_fewer_than_two_known_words_is_undefined(tmp_path):
    counts = _build(tmp_path, [["wa", "wb"]] * 3, window=2)
    result = coherence(counts, ["wa", "zzz"])
    assert math.isnan(result.npmi) and result.to_json()["npmi"] is None
