"""The lim-lauw convention reproduces the reference code's counts and NPMI on a hand-made corpus.

The expected values are computed here by brute force from the reference's rules (PreferredAI/
topic-metrics, read for the facts): windows slide over each document's vocabulary words; the
number of windows comes from the raw document lengths (``max(1, length - window + 1)`` per
document, a document without any vocabulary word included); a word or pair window count under
the minimum count is a probability of 0; NPMI adds 1e-12 to ``p_ab`` and is 0 when ``p_a`` or
``p_b`` is 0.
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter

import numpy as np
import pytest

from superpose.cli import main
from superpose.core.errors import SuperposeError
from superpose.corpus.build import CorpusParams, build_corpus
from superpose.corpus.npmi import coherence, npmi_from_counts, npmi_matrix
from superpose.corpus.tokenize import stopwords, tokenize

WINDOW, MIN_COUNT = 3, 3
DOCS = [
    "Apple banana cherry apple zz banana",  # 'zz' is too short: out of vocabulary
    "cherry apple",  # shorter than the window
    "zz qq zz",  # no vocabulary word at all
    "the of and",  # stopwords only
    "banana cherry date elder apple banana cherry",
    "date elder fig",  # 'fig' occurs once: under the minimum count
    "apple",
    "kiwi kiwi kiwi",  # kiwi: three occurrences, but one window (under the minimum window count)
    "elder date banana the apple cherry date",
    "cherry, elder; 42 date!",
]


def _vocabulary() -> list[str]:
    counts = Counter(w for doc in DOCS for w in tokenize(doc))
    stop = stopwords()
    return sorted(w for w, n in counts.items() if n >= MIN_COUNT and len(w) >= 3 and w not in stop)


def _reference(vocab: list[str]):
    """Window counts and NPMI as the reference code defines them, enumerated window by window."""
    index = {w: i for i, w in enumerate(vocab)}
    words = np.zeros(len(vocab), dtype=np.int64)
    pairs = np.zeros((len(vocab), len(vocab)), dtype=np.int64)
    n_windows = 0
    for doc in DOCS:
        raw = tokenize(doc)
        n_windows += max(1, len(raw) - WINDOW + 1)
        kept = [index[w] for w in raw if w in index]
        if not kept:
            continue
        windows = [kept] if len(kept) <= WINDOW else [kept[s:s + WINDOW] for s in range(len(kept) - WINDOW + 1)]
        for win in windows:
            present = set(win)
            for a in present:
                words[a] += 1
            for a, b in itertools.permutations(present, 2):
                pairs[a, b] += 1

    def npmi(a: int, b: int) -> float:
        p_a = words[a] / n_windows if words[a] >= MIN_COUNT else 0.0
        p_b = words[b] / n_windows if words[b] >= MIN_COUNT else 0.0
        p_ab = (pairs[a, b] / n_windows if pairs[a, b] >= MIN_COUNT else 0.0) + 1e-12
        if p_a == 0 or p_b == 0:
            return 0.0
        return math.log(p_ab / (p_a * p_b)) / -math.log(p_ab)

    scores = np.array([[npmi(a, b) if a != b else 0.0 for b in range(len(vocab))] for a in range(len(vocab))])
    return n_windows, words, pairs, scores


@pytest.fixture()
def text_file(tmp_path):
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(DOCS) + "\n")
    return path


def _build(text_file, folder, convention):
    params = CorpusParams(window=WINDOW, min_count=MIN_COUNT, convention=convention)
    return build_corpus([str(text_file)], folder, params)


def test_lim_lauw_reproduces_the_reference_counts_and_npmi(tmp_path, text_file):
    counts = _build(text_file, tmp_path / "ll", "lim-lauw")
    vocab = _vocabulary()
    assert sorted(counts.vocab) == vocab
    n_windows, words, pairs, scores = _reference(vocab)
    ids = [counts.index[w] for w in vocab]
    assert counts.n_windows == n_windows
    assert counts.meta["convention"] == "lim-lauw" and counts.meta["filtered_windows"] < n_windows
    np.testing.assert_array_equal(np.asarray(counts.word_windows)[ids], words)
    np.testing.assert_array_equal(counts.pair_windows[ids][:, ids].toarray(), pairs)
    np.testing.assert_allclose(npmi_matrix(counts, ids), scores, rtol=1e-12, atol=1e-12)
    # the hand-made corpus exercises every rule
    kiwi, apple, banana = vocab.index("kiwi"), vocab.index("apple"), vocab.index("banana")
    assert 0 < words[kiwi] < MIN_COUNT and (scores[kiwi] == 0).all()
    assert ((pairs > 0) & (pairs < MIN_COUNT)).any()
    assert pairs[apple, banana] >= MIN_COUNT and scores[apple, banana] != 0


def test_pairs_under_the_minimum_count_never_cooccur_under_lim_lauw(tmp_path, text_file):
    lim = _build(text_file, tmp_path / "ll", "lim-lauw")
    ours = _build(text_file, tmp_path / "ours", "superpose")
    vocab = _vocabulary()
    _, _, pairs, _ = _reference(vocab)
    rare = [(vocab[a], vocab[b]) for a, b in zip(*np.nonzero((pairs > 0) & (pairs < MIN_COUNT)), strict=True) if a < b]
    words = sorted({w for pair in rare for w in pair})
    never = set(coherence(lim, words).never_cooccur)
    assert all(pair in never or pair[::-1] in never for pair in rare)
    assert not any(pair in set(coherence(ours, words).never_cooccur) for pair in rare)


def test_our_default_convention_is_unchanged(tmp_path, text_file):
    counts = _build(text_file, tmp_path / "ours", "superpose")
    assert counts.meta["convention"] == "superpose" and counts.min_windows == 0
    vocab = set(_vocabulary())
    filtered = [[w for w in tokenize(d) if w in vocab] for d in DOCS]
    assert counts.n_windows == sum(max(1, len(f) - WINDOW + 1) for f in filtered if f)


def test_a_pair_in_every_window_scores_one(tmp_path):
    assert npmi_from_counts(np.array([7]), np.array([7]), np.array([7]), 7)[0] == 1.0
    assert npmi_from_counts(np.array([0]), np.array([7]), np.array([7]), 7)[0] < -0.9  # never together
    path = tmp_path / "pairs.txt"
    path.write_text("alpha beta\n" * 12)
    counts = build_corpus([str(path)], tmp_path / "c", CorpusParams(min_count=1))
    assert coherence(counts, ["alpha", "beta"]).npmi == 1.0


def test_lim_lauw_needs_filtered_windows():
    with pytest.raises(SuperposeError, match="drop --windowing raw"):
        CorpusParams(windowing="raw", convention="lim-lauw").check()


def test_a_convention_flag_on_a_corpus_of_another_convention_is_one_line(tmp_path, text_file, capsys):
    out = tmp_path / "corpus"
    base = ["corpus", "build", "--source", str(text_file), "--out", str(out), "--min-count", "3",
            "--no-progress", "--workers", "1"]
    assert main(base) == 0
    capsys.readouterr()
    assert main([*base, "--convention", "lim-lauw"]) == 2
    err = capsys.readouterr().err
    assert "built under the superpose convention, not lim-lauw" in err and err.count("\n") == 1
    assert json.loads((out / "meta.json").read_text())["convention"] == "superpose"
    assert main(["coherence", "--corpus", str(out), "--convention", "lim-lauw", "apple", "banana"]) == 2
    err = capsys.readouterr().err
    assert "built under the superpose convention" in err and err.count("\n") == 1
    assert main(["coherence", "--corpus", str(out), "--convention", "superpose", "apple", "banana"]) == 0
    capsys.readouterr()
    assert main([*base, "--convention", "lim-lauw", "--overwrite"]) == 0
    assert "lim-lauw" in capsys.readouterr().out
    assert json.loads((out / "meta.json").read_text())["convention"] == "lim-lauw"
