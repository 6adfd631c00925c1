"""The vectorised window counter equals brute-force enumeration, in both conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose.corpus.build import CorpusParams, build_corpus
from superpose.corpus.counting import count_windows, drop_unknown, symmetrize
from tests.corpus_helpers import brute_force_counts

documents = st.lists(st.lists(st.integers(-1, 5), max_size=25), min_size=1, max_size=6)


def _flatten(docs):
    tokens = np.array([t for d in docs for t in d], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum([len(d) for d in docs])]).astype(np.int64)
    return tokens, offsets


@settings(max_examples=300, deadline=None)
@given(docs=documents, window=st.integers(1, 8), windowing=st.sampled_from(["raw", "filtered"]))
def test_counts_equal_brute_force(docs, window, windowing):
    tokens, offsets = _flatten(docs)
    if windowing == "filtered":
        tokens, offsets = drop_unknown(tokens, offsets)
    n, words, pairs = count_windows(tokens, offsets, window, 6)
    bn, bwords, bpairs = brute_force_counts(docs, window, 6, windowing)
    assert n == bn
    np.testing.assert_array_equal(words, bwords)
    np.testing.assert_array_equal(pairs.toarray(), bpairs)
    _, _, upper = count_windows(tokens, offsets, window, 6, symmetric=False)
    np.testing.assert_array_equal(upper.toarray(), np.triu(bpairs))
    np.testing.assert_array_equal(symmetrize(upper).toarray(), bpairs)


def test_repeats_inside_a_window_count_once():
    # word 0 three times in one window with word 1: one window holds both, not three.
    tokens, offsets = _flatten([[0, 1, 0, 0]])
    n, words, pairs = count_windows(tokens, offsets, 4, 2)
    assert (n, words.tolist(), pairs.toarray()[0, 1]) == (1, [1, 1], 1)


def test_short_document_is_one_window_and_windows_stay_in_documents():
    tokens, offsets = _flatten([[0, 1], [2, 3, 4, 5]])
    n, words, pairs = count_windows(tokens, offsets, 3, 6)
    assert n == 1 + 2
    dense = pairs.toarray()
    assert dense[0, 1] == 1 and dense[1, 2] == 0  # no window crosses the document boundary
    assert dense[3, 4] == 2 and dense[2, 5] == 0


@pytest.mark.parametrize("windowing", ["raw", "filtered"])
def test_build_from_file_equals_brute_force_across_batches(tmp_path, windowing):
    rng = np.random.default_rng(7)
    letters = ["alpha", "beta", "gamma", "delta", "omega", "zeta", "rare"]
    lines = []
    for _ in range(60):
        n = int(rng.integers(1, 30))
        words = rng.choice(letters, size=n, p=[0.25, 0.2, 0.2, 0.15, 0.1, 0.09, 0.01])
        lines.append(" ".join(words))
    source = tmp_path / "docs.txt"
    source.write_text("\n".join(lines) + "\n")
    params = CorpusParams(window=5, windowing=windowing, min_count=3, stopwords="keep", min_length=1)
    counts = build_corpus([str(source)], tmp_path / "corpus", params, batch_tokens=37)
    index = counts.index
    docs = [[index.get(w, -1) for w in line.split()] for line in lines]
    n, words, pairs = brute_force_counts(docs, 5, len(counts.vocab), windowing)
    assert counts.n_windows == n
    np.testing.assert_array_equal(counts.word_windows, words)
    np.testing.assert_array_equal(counts.pair_windows.toarray(), pairs)
    assert "rare" not in index or counts.word_counts[index["rare"]] >= 3
