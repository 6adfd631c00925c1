"""Word pools (docs/method.md step 2): a unit's top or bottom tokens, read as corpus words.

A token becomes a word by stripping the tokenizer's space marker (``Ġ`` for byte-level BPE as
in GPT-2 and SmolLM2, ``▁`` for SentencePiece as in Gemma and LLaMA-1/2) and lowercasing; it is
kept when the result is purely alphabetic ASCII (the corpus's ``[a-z]+`` word convention; this
also rejects byte-level BPE's stand-ins for non-ASCII bytes, such as ``Ċ`` for a newline) and a
word of the corpus vocabulary. The mapping is
computed once per (tokenizer, vocabulary) as an int array over token ids (``-1``: no word), so
a pool is one vectorised lookup. A pool lists the distinct corpus word ids in the order of
their first appearance by logit rank, so any later stage rebuilds it identically from the ids.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.corpus.store import vocab_fingerprint

SPACE_MARKERS = ("Ġ", "▁")

__all__ = ["SPACE_MARKERS", "TokenWords", "token_to_word", "vocab_fingerprint"]


def token_to_word(token: str | None) -> str | None:
    """The candidate word of one token string: marker stripped, lowercased, ASCII letters only."""
    if not token:
        return None
    word = token.lstrip("".join(SPACE_MARKERS)).lower()
    return word if word.isascii() and word.isalpha() else None


@dataclass
class TokenWords:
    """Token id -> corpus word id (``-1`` where the token is no corpus word)."""

    word_ids: np.ndarray
    n_mapped: int
    n_words: int

    @classmethod
    def build(cls, tokenizer: Any, index: Mapping[str, int], vocab_size: int | None = None,
              ) -> TokenWords:
        """Map every token id of ``tokenizer`` (``vocab_size`` ids, default ``len(tokenizer)``)
        through ``index`` (word -> corpus word id). Ids the tokenizer does not know map to -1."""
        if tokenizer is None:
            raise SuperposeError("this model has no tokenizer, so its tokens cannot be mapped to "
                                 "words: load a model folder or hub id that includes one")
        size = int(vocab_size if vocab_size is not None else len(tokenizer))
        known = min(size, len(tokenizer))
        tokens = tokenizer.convert_ids_to_tokens(list(range(known)))
        word_ids = np.full(size, -1, dtype=np.int32)
        for token_id, token in enumerate(tokens):
            word = token_to_word(token)
            if word is not None:
                word_ids[token_id] = index.get(word, -1)
        mapped = word_ids >= 0
        n_words = int(np.unique(word_ids[mapped]).size)
        if n_words == 0:
            raise SuperposeError("no token of this tokenizer is a word of the corpus vocabulary "
                                 f"({len(index)} words): use a corpus of the model's language")
        return cls(word_ids, int(mapped.sum()), n_words)

    def pool(self, token_ids: np.ndarray) -> np.ndarray:
        """Distinct corpus word ids of ``token_ids`` (ranked tokens), in first-appearance order."""
        words = self.word_ids[np.asarray(token_ids)]
        words = words[words >= 0]
        _, first = np.unique(words, return_index=True)
        return words[np.sort(first)]

    def pools(self, token_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Pools of every row of a (units, tau) id matrix as CSR arrays ``(words, offsets)``:
        row ``i``'s pool is ``words[offsets[i]:offsets[i + 1]]``."""
        rows = [self.pool(row) for row in np.asarray(token_ids)]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(r) for r in rows])
        words = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
        return words, offsets
