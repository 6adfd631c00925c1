"""Token-to-word mapping and pools, on both space-marker styles."""

from __future__ import annotations

import numpy as np
import pytest

from superpose.core.errors import SuperposeError
from superpose.projection.pools import TokenWords, token_to_word, vocab_fingerprint
from tests.model_helpers import byte_level_tokenizer, sentencepiece_tokenizer

INDEX = {"cat": 0, "dog": 1, "paris": 2, "the": 3, "ing": 4}
# Byte-level tokens; the SentencePiece twin swaps the marker.
TOKENS = ["<unk>", "Ġcat", "cat", "ĠDog", "Ġ123", "Ġ", "ĠParis", "ing", "Ġcafé", "Ġhorse",
          "ĠThe", "Ġdon't", "Ċ", "ĠĠdog"]
EXPECTED = [-1, 0, 0, 1, -1, -1, 2, 4, -1, -1, 3, -1, -1, 1]


@pytest.mark.parametrize("token,word", [
    ("Ġcat", "cat"), ("▁Cat", "cat"), ("cat", "cat"), ("ĠĠdog", "dog"), ("Ġ", None),
    ("▁", None), ("Ġ123", None), ("Ġdon't", None), ("Ċ", None), ("<s>", None), (None, None),
    ("", None), ("Ġcafé", None), ("ĠcafÃ©", None),
])
def test_token_to_word(token, word):
    assert token_to_word(token) == word


@pytest.mark.parametrize("make,marker", [(byte_level_tokenizer, "Ġ"),
                                         (sentencepiece_tokenizer, "▁")])
def test_token_words_both_styles(make, marker):
    tokenizer = make([t.replace("Ġ", marker) for t in TOKENS])
    assert tokenizer.convert_ids_to_tokens([6])[0] == f"{marker}Paris"
    mapping = TokenWords.build(tokenizer, INDEX)
    np.testing.assert_array_equal(mapping.word_ids, EXPECTED)
    assert mapping.word_ids.dtype == np.int32
    assert mapping.n_mapped == sum(e >= 0 for e in EXPECTED)
    assert mapping.n_words == 5


def test_wider_logits_than_tokenizer_map_to_nothing():
    mapping = TokenWords.build(byte_level_tokenizer(TOKENS), INDEX, vocab_size=len(TOKENS) + 3)
    assert mapping.word_ids.shape == (len(TOKENS) + 3,)
    assert (mapping.word_ids[len(TOKENS):] == -1).all()


def test_pool_is_first_appearance_order():
    mapping = TokenWords(np.array(EXPECTED, dtype=np.int32), 0, 0)
    # ranked ids: ĠParis, Ġ123, cat, Ġcat, ĠDog, ing, ĠĠdog, ĠThe
    ranked = np.array([6, 4, 2, 1, 3, 7, 13, 10])
    np.testing.assert_array_equal(mapping.pool(ranked), [2, 0, 1, 4, 3])
    assert mapping.pool(np.array([4, 5, 12])).size == 0


def test_pools_csr_matches_rows():
    mapping = TokenWords(np.array(EXPECTED, dtype=np.int32), 0, 0)
    ids = np.array([[6, 1, 2, 3], [4, 5, 12, 0], [13, 3, 10, 7]])
    words, offsets = mapping.pools(ids)
    assert offsets.tolist() == [0, 3, 3, 6] and offsets.dtype == np.int64
    for row in range(3):
        np.testing.assert_array_equal(words[offsets[row]:offsets[row + 1]], mapping.pool(ids[row]))


def test_no_overlap_and_no_tokenizer_are_one_line_errors():
    with pytest.raises(SuperposeError, match="no token of this tokenizer") as info:
        TokenWords.build(byte_level_tokenizer(TOKENS), {"zebra": 0, "quokka": 1})
    assert "\n" not in str(info.value)
    with pytest.raises(SuperposeError, match="no tokenizer"):
        TokenWords.build(None, INDEX)


def test_vocab_fingerprint_depends_on_order():
    assert vocab_fingerprint(["a", "b"]) != vocab_fingerprint(["b", "a"])
    assert vocab_fingerprint(["a", "b"]) == vocab_fingerprint(("a", "b"))


@pytest.mark.slow
def test_real_smollm2_tokenizer():
    from tests.model_helpers import real_model

    tokenizer = real_model().tokenizer
    index = {"paris": 0, "capital": 1, "the": 2, "cheese": 3}
    mapping = TokenWords.build(tokenizer, index, 49152)
    paris = tokenizer.convert_tokens_to_ids("ĠParis")
    assert mapping.word_ids[paris] == 0
    assert mapping.word_ids[tokenizer.convert_tokens_to_ids("Ġcapital")] == 1
    assert mapping.n_words == 4 and mapping.n_mapped >= 4
