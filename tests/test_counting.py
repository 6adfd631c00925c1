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


@pytest.mark.parametrize("workers", [1, 2])
def test_parallel_counts_equal_one_batch_for_any_split(tmp_path, workers):
    """Tasks of a few documents, batches inside them and row blocks: the same integers as one count."""
    from superpose.corpus.parallel_count import count_parallel

    rng = np.random.default_rng(3)
    lengths = rng.integers(1, 40, size=80)
    stream_ids = rng.integers(0, 30, size=int(lengths.sum())).astype(np.uint32)
    path = tmp_path / "ids.u32"
    stream_ids.tofile(path)
    remap = np.where(np.arange(30) % 7 == 3, -1, np.arange(30) // 1)  # some ids are not words
    remap[remap >= 0] = np.arange((remap >= 0).sum())
    n_vocab = int((remap >= 0).sum())
    frequency = np.bincount(remap[stream_ids.astype(np.int64)][remap[stream_ids.astype(np.int64)] >= 0],
                            minlength=n_vocab)
    tokens, offsets = drop_unknown(remap[stream_ids.astype(np.int64)], np.concatenate([[0], np.cumsum(lengths)]))
    want_n, want_words, want_pairs = count_windows(tokens, offsets, 5, n_vocab)
    (tmp_path / "spill").mkdir()
    seen = []
    n, words, pairs = count_parallel(path, tmp_path / "spill", remap, n_vocab, lengths, frequency, 5, True,
                                     workers=workers, batch_tokens=50, task_tokens=200, on_tokens=seen.append)
    assert n == want_n and sum(seen) == lengths.sum()
    np.testing.assert_array_equal(words, want_words)
    assert (pairs != want_pairs).nnz == 0 and pairs.has_sorted_indices
    np.testing.assert_array_equal(pairs.indices, want_pairs.indices)
    assert not any((tmp_path / "spill").iterdir())  # the partial counts are gone


def test_row_blocks_cover_every_row_once():
    from superpose.corpus.parallel_count import row_blocks

    bounds = row_blocks(np.array([100, 50, 10, 5, 1, 1, 1]), 4)
    assert bounds[0] == 0 and bounds[-1] == 7 and (np.diff(bounds) > 0).all()
    assert row_blocks(np.array([3]), 8).tolist() == [0, 1]
