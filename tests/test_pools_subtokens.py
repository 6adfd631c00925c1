"""The reference code's pool rule for SentencePiece models (``--pooling subtokens``), on a
hand-made tokenizer: a word is pooled when all of its sub-tokens are among the top tokens, the
cut shrinks by 50 until the pool fits in tau words, and a word repeating a token never pools."""

from __future__ import annotations

import json

import numpy as np
import pytest

from superpose.core.errors import SuperposeError
from superpose.models import load_model
from superpose.projection.pools import SubtokenWords, TokenWords, word_mapper
from superpose.projection.run import CorpusWords, project_to_files
from superpose.projection.store import load_layer
from tests.model_helpers import VOCAB, save_tiny, sentencepiece_tokenizer

PIECES = ["<unk>", "▁plum", "▁cher", "ry", "▁pe", "ach", "▁b", "an", "a", "▁lemon", "▁fig"]
WORDS = ["plum", "cherry", "peach", "banana", "lemon", "fig"]
INDEX = {w: i for i, w in enumerate(WORDS)}


def ids(*pieces: str) -> np.ndarray:
    return np.asarray([PIECES.index(p) for p in pieces])


@pytest.fixture(scope="module")
def spelled():
    tokenizer = sentencepiece_tokenizer(PIECES + [f"x{i}" for i in range(VOCAB - len(PIECES))])
    return SubtokenWords.build(tokenizer, INDEX, VOCAB)


def test_a_word_pools_when_all_its_subtokens_are_top_tokens(spelled):
    pool = spelled.pool(ids("▁cher", "▁plum", "▁pe", "ry", "▁fig", "an"))
    # cherry completes at rank 3 (ry), after plum (rank 1); peach lacks "ach"; order by completion
    assert [WORDS[w] for w in pool] == ["plum", "cherry", "fig"]


def test_a_word_repeating_a_token_never_pools(spelled):
    assert "banana" not in [WORDS[w] for w in spelled.pool(ids("▁b", "an", "a", "▁plum"))]
    assert INDEX["banana"] not in spelled.universe().tolist()
    assert spelled.n_words == 5


def test_whole_tokens_rule_differs(spelled):
    tokenizer = sentencepiece_tokenizer(PIECES + [f"x{i}" for i in range(VOCAB - len(PIECES))])
    whole = TokenWords.build(tokenizer, INDEX, VOCAB)
    ranked = ids("▁cher", "ry", "▁plum")
    assert [WORDS[w] for w in whole.pool(ranked)] == ["plum"]  # "▁cher" alone is no word
    assert [WORDS[w] for w in spelled.pool(ranked)] == ["cherry", "plum"]


def name(i: int) -> str:
    """Word number ``i`` as letters (corpus words are alphabetic)."""
    return "w" + chr(97 + i // 26) + chr(97 + i % 26)


class Spelling:
    """A hand-made tokenizer: word ``name(i)`` is spelled by the token ids in ``table[i]``."""

    def __init__(self, table: list[list[int]]) -> None:
        self.table = table

    def encode(self, word: str, add_special_tokens: bool = False) -> list[int]:
        return list(self.table[(ord(word[1]) - 97) * 26 + ord(word[2]) - 97])

    def __len__(self) -> int:
        return 1000


def test_cut_shrinks_by_fifty_until_the_pool_fits():
    # 120 ranked tokens (tau = 120). Tokens 0-9 spell 100 words (90 pairs and 10 singles); tokens
    # 10-119 spell one word each. Cut 120: 210 words > 120; cut 70: 100 + 60 = 160 > 120; cut 20:
    # 100 + 10 = 110 <= 120.
    table = [[a, b] for a in range(10) for b in range(10) if a != b][:90] + [[a] for a in range(10)]
    table += [[t] for t in range(10, 120)]
    words = {name(i): i for i in range(len(table))}
    spelled = SubtokenWords.build(Spelling(table), words, 1000)
    pool = spelled.pool(np.arange(120))
    assert len(pool) == 110
    assert set(pool.tolist()) == set(range(100)) | set(range(100, 110))


def test_cut_reaching_zero_gives_an_empty_pool():
    table = [[a, b] for a in range(5) for b in range(5) if a != b]  # 20 words from 5 tokens
    spelled = SubtokenWords.build(Spelling(table), {name(i): i for i in range(20)}, 1000)
    assert spelled.pool(np.arange(5)).size == 0


def test_unknown_pooling_is_refused():
    with pytest.raises(SuperposeError, match="choose one of whole-tokens, subtokens"):
        word_mapper("subwords", None, INDEX)


def test_projection_records_the_pooling(tmp_path):
    tokenizer = sentencepiece_tokenizer(PIECES + [f"x{i}" for i in range(VOCAB - len(PIECES))])
    lm = load_model(save_tiny("llama", tmp_path / "m", tokenizer))
    corpus = CorpusWords.from_vocab(WORDS)
    whole = project_to_files(lm, "hi-i", [0], tmp_path / "w", tau=40, corpus=corpus)
    sub = project_to_files(lm, "hi-i", [0], tmp_path / "s", tau=40, corpus=corpus, pooling="subtokens")
    a, b = load_layer(whole[0]), load_layer(sub[0])
    assert a.meta["corpus"]["pooling"] == "whole-tokens" and b.meta["corpus"]["pooling"] == "subtokens"
    assert json.loads(sub[0].with_suffix(".json").read_text())["corpus"]["pooling"] == "subtokens"
    spelled = SubtokenWords.build(tokenizer, corpus.index, VOCAB)
    for row in range(len(b.neurons)):
        np.testing.assert_array_equal(b.pool(row, "pos"), spelled.pool(b.top_ids[row]))
    # a rerun with the other rule recomputes the layer instead of reusing it
    again = project_to_files(lm, "hi-i", [0], tmp_path / "w", tau=40, corpus=corpus, pooling="subtokens")
    assert load_layer(again[0]).meta["corpus"]["pooling"] == "subtokens"
