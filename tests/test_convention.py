"""The lim-lauw convention reproduces the reference code's counts and NPMI (PreferredAI/topic-metrics).

The expected values are computed here by brute force from the reference's rules (read in its code
for the facts, written here in our own words): the corpus is read in Python's text mode, one
document per line; each line gives ``max(1, tokens - window + 1)`` windows, ``tokens`` being its
whitespace tokens (``len(line.split())``: a blank line, a line of digits or of punctuation is one
window); the windows for the counts slide over the line's vocabulary words (all of them when
there are at most ``window``); a word or pair window count under ``min_freq`` is a probability of
0; NPMI adds 1e-12 to ``p_ab`` and is 0 when ``p_a`` or ``p_b`` is 0. On text already cut into
lowercase words the reference's tokens are ours; on raw text the words are ours
(:func:`superpose.corpus.tokenize.tokenize`) and the window count still the whitespace tokens'.
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
from superpose.corpus.lines import reference_lines
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
    "cherry, elder; 42 date!",  # four whitespace tokens, three words
]
# Text as the reference expects it (lowercase words split by spaces), with the lines it counts
# although they hold no word: blank, whitespace only, digits only, punctuation only.
CLEAN = ("apple banana cherry apple zz banana\n\ncherry apple\n   \n2023 1999 42\n-- ...\n"
         "banana cherry date elder apple banana cherry\r\ndate elder fig 7 8 9 10\napple\n\n\n"
         "kiwi kiwi kiwi\nelder date banana apple cherry date\ncherry elder 42 date\nbanana apple\n"
         "apple banana cherry date elder kiwi apple\n")


def _vocabulary(lines: list[str]) -> list[str]:
    counts = Counter(w for line in lines for w in tokenize(line))
    stop = stopwords()
    return sorted(w for w, n in counts.items() if n >= MIN_COUNT and len(w) >= 3 and w not in stop)


def _reference(path, vocab: list[str], min_freq: int, words_of=tokenize):
    """Window counts and NPMI by the reference's rules, enumerated window by window."""
    index = {w: i for i, w in enumerate(vocab)}
    words = np.zeros(len(vocab), dtype=np.int64)
    pairs = np.zeros((len(vocab), len(vocab)), dtype=np.int64)
    n_windows = 0
    with open(path, encoding="utf-8") as fh:  # text mode: universal newlines, as the reference reads
        for line in fh:
            n_windows += max(1, len(line.rstrip().split()) - WINDOW + 1)
            kept = [index[w] for w in words_of(line.rstrip()) if w in index]
            windows = [kept] if len(kept) <= WINDOW else [kept[s:s + WINDOW] for s in range(len(kept) - WINDOW + 1)]
            for win in windows:
                present = set(win)
                for a in present:
                    words[a] += 1
                for a, b in itertools.permutations(present, 2):
                    pairs[a, b] += 1

    def probability(count: int) -> float:
        return count / n_windows if count >= min_freq else 0.0

    def npmi(a: int, b: int) -> float:
        p_a, p_b, p_ab = probability(words[a]), probability(words[b]), probability(pairs[a, b]) + 1e-12
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


@pytest.fixture()
def clean_file(tmp_path):
    path = tmp_path / "clean.txt"
    path.write_bytes(CLEAN.encode())
    return path


def _build(text_file, folder, convention, min_windows=None):
    params = CorpusParams(window=WINDOW, min_count=MIN_COUNT, convention=convention, min_windows=min_windows)
    return build_corpus([str(text_file)], folder, params)


def _check_against_reference(counts, path, min_freq, words_of=tokenize):
    lines = reference_lines(path.read_text(encoding="utf-8"))
    vocab = _vocabulary(lines)
    assert sorted(counts.vocab) == vocab
    n_windows, words, pairs, scores = _reference(path, vocab, min_freq, words_of)
    ids = [counts.index[w] for w in vocab]
    assert counts.n_windows == n_windows and counts.min_windows == min_freq
    assert counts.meta["lines"] == len(lines) and counts.meta["min_windows"] == min_freq
    np.testing.assert_array_equal(np.asarray(counts.word_windows)[ids], words)
    np.testing.assert_array_equal(counts.pair_windows[ids][:, ids].toarray(), pairs)
    np.testing.assert_allclose(npmi_matrix(counts, ids), scores, rtol=1e-12, atol=1e-12)
    return vocab, words, pairs, scores


@pytest.mark.parametrize("min_windows", [0, 2, 5])
def test_lim_lauw_reproduces_the_reference_on_text_cut_into_words(tmp_path, clean_file, min_windows):
    """Blank, whitespace, digit-only and punctuation-only lines, a CRLF line end, and a min_freq other
    than the vocabulary's minimum count: the reference's algorithm on its own tokens, exactly."""
    counts = _build(clean_file, tmp_path / "ll", "lim-lauw", min_windows)
    vocab, words, pairs, scores = _check_against_reference(counts, clean_file, min_windows, str.split)
    assert counts.meta["filtered_windows"] < counts.n_windows
    if min_windows:
        assert ((pairs > 0) & (pairs < min_windows)).any()  # the threshold matters on this corpus
        assert (scores[words < min_windows] == 0).all()


def test_lim_lauw_on_raw_text(tmp_path, text_file):
    counts = _build(text_file, tmp_path / "ll", "lim-lauw")
    assert counts.meta["min_windows"] == MIN_COUNT  # no --min-windows: the minimum count, as before
    vocab, words, pairs, scores = _check_against_reference(counts, text_file, MIN_COUNT)
    kiwi, apple, banana = vocab.index("kiwi"), vocab.index("apple"), vocab.index("banana")
    assert 0 < words[kiwi] < MIN_COUNT and (scores[kiwi] == 0).all()
    assert ((pairs > 0) & (pairs < MIN_COUNT)).any()
    assert pairs[apple, banana] >= MIN_COUNT and scores[apple, banana] != 0


def test_a_line_without_words_changes_lim_lauw_only(tmp_path, clean_file):
    """One digit-only line adds a window under lim-lauw (as in the reference) and nothing under ours."""
    extra = tmp_path / "extra.txt"
    extra.write_bytes(CLEAN.encode() + b"12345\n")
    base, more = (_build(f, tmp_path / f.stem, "lim-lauw", 2) for f in (clean_file, extra))
    assert more.n_windows == base.n_windows + 1
    ours = [_build(f, tmp_path / f"{f.stem}-ours", "superpose") for f in (clean_file, extra)]
    assert ours[0].n_windows == ours[1].n_windows


def test_a_folder_is_read_line_by_line_under_lim_lauw(tmp_path, clean_file):
    """The reference reads a folder of .txt files one document per line, blank lines included."""
    folder = tmp_path / "folder"
    folder.mkdir()
    lines = CLEAN.split("\n")
    (folder / "a.txt").write_text("\n".join(lines[:7]) + "\n")
    (folder / "b.txt").write_text("\n".join(lines[7:]))
    (folder / "c.txt").write_text("\n\n")  # a file of blank lines: two windows
    whole = _build(clean_file, tmp_path / "whole", "lim-lauw", 2)
    split = _build(folder, tmp_path / "split", "lim-lauw", 2)
    assert split.n_windows == whole.n_windows + 2
    assert split.vocab == whole.vocab
    np.testing.assert_array_equal(split.word_windows, whole.word_windows)
    assert (split.pair_windows != whole.pair_windows).nnz == 0


def test_pairs_under_the_minimum_count_never_cooccur_under_lim_lauw(tmp_path, text_file):
    lim = _build(text_file, tmp_path / "ll", "lim-lauw")
    ours = _build(text_file, tmp_path / "ours", "superpose")
    vocab = _vocabulary(DOCS)
    _, _, pairs, _ = _reference(text_file, vocab, MIN_COUNT)
    rare = [(vocab[a], vocab[b]) for a, b in zip(*np.nonzero((pairs > 0) & (pairs < MIN_COUNT)), strict=True) if a < b]
    words = sorted({w for pair in rare for w in pair})
    never = set(coherence(lim, words).never_cooccur)
    assert all(pair in never or pair[::-1] in never for pair in rare)
    assert not any(pair in set(coherence(ours, words).never_cooccur) for pair in rare)


def test_our_default_convention_is_unchanged(tmp_path, text_file):
    counts = _build(text_file, tmp_path / "ours", "superpose")
    assert counts.meta["convention"] == "superpose" and counts.min_windows == 0
    assert "lines" not in counts.meta and counts.meta["min_windows"] is None
    vocab = set(_vocabulary(DOCS))
    filtered = [[w for w in tokenize(d) if w in vocab] for d in DOCS]
    assert counts.n_windows == sum(max(1, len(f) - WINDOW + 1) for f in filtered if f)


def test_min_windows_is_checked():
    with pytest.raises(SuperposeError, match="applies under --convention lim-lauw only"):
        CorpusParams(min_windows=3).check()
    with pytest.raises(SuperposeError, match="--min-windows must be at least 0"):
        CorpusParams(min_windows=-1, convention="lim-lauw").check()


def test_reference_lines_are_text_mode_lines():
    assert reference_lines("") == []
    assert reference_lines("\n") == [""]
    assert reference_lines("a\n\nb") == ["a", "", "b"]
    assert reference_lines("a\r\nb\rc\n") == ["a", "b", "c"]


def test_a_pair_in_every_window_scores_one_and_minus_one_under_lim_lauw(tmp_path):
    assert npmi_from_counts(np.array([7]), np.array([7]), np.array([7]), 7)[0] == 1.0
    assert npmi_from_counts(np.array([7]), np.array([7]), np.array([7]), 7, reference=True)[0] == -1.0
    # a word in no window: 0 under the reference's rules, whatever min_freq
    assert npmi_from_counts(np.array([0]), np.array([0]), np.array([7]), 9, 0, reference=True)[0] == 0.0
    assert npmi_from_counts(np.array([0]), np.array([7]), np.array([7]), 7)[0] < -0.9  # never together
    path = tmp_path / "pairs.txt"
    path.write_text("alpha beta\n" * 12)
    counts = build_corpus([str(path)], tmp_path / "c", CorpusParams(min_count=1))
    assert coherence(counts, ["alpha", "beta"]).npmi == 1.0
    reference = build_corpus([str(path)], tmp_path / "ll", CorpusParams(min_count=1, convention="lim-lauw"))
    assert coherence(reference, ["alpha", "beta"]).npmi == -1.0


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
    assert main([*base, "--convention", "lim-lauw", "--overwrite", "--min-windows", "2"]) == 0
    assert "lim-lauw" in capsys.readouterr().out
    meta = json.loads((out / "meta.json").read_text())
    assert meta["convention"] == "lim-lauw" and meta["min_windows"] == 2 and meta["min_count"] == 3
    assert main([*base, "--min-windows", "2", "--overwrite"]) == 2
    err = capsys.readouterr().err
    assert "applies under --convention lim-lauw only" in err and err.count("\n") == 1
