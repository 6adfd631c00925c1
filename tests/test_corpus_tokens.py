"""The vectorised reading path gives exactly the tokens, documents, ids and counts of the plain one."""

from __future__ import annotations

import numpy as np
import pytest

from superpose.core.errors import SuperposeError
from superpose.corpus import stream as stream_module
from superpose.corpus.batches import tokenize_batch, tokenize_range
from superpose.corpus.counting import _by_word, _pair_sums, _sum_by_key, add_keyed, window_intervals
from superpose.corpus.sources import line_ranges, read_text_lines
from superpose.corpus.tokenize import LONG, lowercase_utf8, spell, stopwords, tokenize, word_ids

TRICKY = ("İzmir and the \u212aelvin scale, STRASSE straße naïve café x ab 1234 don't "
          "abcdefghijklm abcdefghijklmn internationalization Internationalization ΣΊΣΥΦΟΣ ok123go\r\n")


def _tokens(numbers, long_words, ids):
    words = spell(numbers[numbers < LONG]) + long_words
    return [words[i] for i in ids.tolist()]


@pytest.mark.parametrize("text", [TRICKY, "", "   \n", "a", "Zz" * 40, TRICKY * 50])
def test_word_ids_are_tokenize(text):
    numbers, long_words, ids, starts = word_ids(lowercase_utf8(text.encode()))
    assert _tokens(numbers, long_words, ids) == tokenize(text)
    assert (numbers[1:] > numbers[:-1]).all() and len(starts) == len(ids)


def test_a_batch_keeps_its_documents():
    docs = [TRICKY, "", "no words here? yes: words", "1 2 3", "last"]
    batch = tokenize_batch((None, docs))
    want = [tokenize(d) for d in docs]
    assert batch.lengths.tolist() == [len(w) for w in want if w]
    assert _tokens(batch.numbers, batch.long_words, batch.ids) == [w for ws in want for w in ws]


def test_byte_ranges_are_the_lines(tmp_path):
    path = tmp_path / "lines.txt"
    path.write_text("".join(f"{TRICKY if i % 3 else ''}line {i} word{'s' * (i % 20)}\n" for i in range(300)) + "end",
                    encoding="utf-8")
    ranges = line_ranges(path, 700)
    assert len(ranges) > 5 and ranges[0][1] == 0 and ranges[-1][2] == path.stat().st_size
    assert all(a[2] == b[1] for a, b in zip(ranges[:-1], ranges[1:], strict=True))
    tokens, lengths = [], []
    for job in ranges:
        batch = tokenize_range(job)
        tokens += _tokens(batch.numbers, batch.long_words, batch.ids)
        lengths += batch.lengths.tolist()
    want = [tokenize(line) for line in read_text_lines(path)]
    assert lengths == [len(w) for w in want if w] and tokens == [w for ws in want for w in ws]


@pytest.mark.parametrize("bad, message", [(b"caf\xe9", "line 57: not UTF-8"), (b"nul\x00", "line 57: control")])
def test_a_bad_line_in_a_later_range_is_named(tmp_path, bad, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"good words here\n" * 56 + bad + b" more\n" + b"fine\n" * 10)
    with pytest.raises(SuperposeError, match=message):
        list(read_text_lines(path))
    with pytest.raises(SuperposeError, match=message):
        for job in line_ranges(path, 100):
            tokenize_range(job)


def test_numbering_merges_recent_words(monkeypatch):
    monkeypatch.setattr(stream_module._Numbering, "RECENT", 3)
    numbering = stream_module._Numbering()
    texts = ["b a c", "d a e f", "g b h i j k", "a k l internationalization", "m n o p internationalization"]
    for text in texts:
        batch = tokenize_batch((None, [text]))
        ids = numbering.ids(batch)[batch.ids]
        assert [numbering.words[i] for i in ids.tolist()] == tokenize(text)
    assert len(numbering.known) > 0 and sorted(numbering.words) == sorted(set(" ".join(texts).split()))


def test_unpacked_fallbacks_equal_the_packed_paths():
    rng = np.random.default_rng(5)
    tokens = rng.integers(-1, 40, size=500)
    offsets = np.array([0, 3, 3, 120, 121, 400, 500])
    order, ordered = _by_word(tokens)
    np.testing.assert_array_equal(order, np.argsort(tokens, kind="stable"))
    np.testing.assert_array_equal(ordered, np.sort(tokens))
    lo, hi, _ = window_intervals(tokens, offsets, 6)
    keys, sums = _pair_sums(tokens, lo, hi, 6, 40)
    big = 1 << 31  # too many words to pack a key with its overlap: the unpacked sums
    keys_big, sums_big = _pair_sums(tokens, lo, hi, 6, big)
    np.testing.assert_array_equal(keys // 40 * big + keys % 40, keys_big)
    np.testing.assert_array_equal(sums, sums_big)
    halves = [(keys[::2], sums[::2]), (keys[1::2], sums[1::2]), (keys[:5], sums[:5])]
    want = _sum_by_key(np.concatenate([k for k, _ in halves]), np.concatenate([s for _, s in halves]))
    for got in (add_keyed(halves), add_keyed([(k << 40, s) for k, s in halves])):
        np.testing.assert_array_equal(got[1], want[1])
    np.testing.assert_array_equal(add_keyed(halves)[0], want[0])


def test_stopwords_are_gensims():
    from gensim.parsing.preprocessing import STOPWORDS

    assert stopwords() == frozenset(STOPWORDS)


@pytest.mark.parametrize("distinct", [300, 70_000])
def test_a_batch_sends_narrow_ids_when_they_fit(distinct):
    """uint16 ids up to 65,536 distinct words, uint32 beyond; either way the tokens and their counts."""
    rng = np.random.default_rng(3)
    letters = rng.integers(97, 123, size=(2 * distinct, 7), dtype=np.uint8)
    words = sorted(set(letters.view("S7").ravel().astype("U7").tolist()))[:distinct]
    tokens = words + [words[i] for i in rng.integers(0, distinct, size=distinct)]
    batch = tokenize_batch((None, [" ".join(tokens)]))
    assert len(batch.numbers) == distinct
    assert batch.ids.dtype == (np.uint16 if distinct <= 1 << 16 else np.uint32)
    assert spell(batch.numbers[batch.ids]) == tokens
    assert batch.counts.tolist() == np.bincount(batch.ids.astype(np.int64), minlength=distinct).tolist()
    assert batch.counts.sum() == len(tokens)
