"""Word pools (docs/method.md step 2): a unit's top or bottom tokens, read as corpus words.

Two rules (``pooling``), recorded in the projection and run metadata:

- ``whole-tokens`` (default, our method description): a token becomes a word by stripping the
  tokenizer's space marker (``Ġ`` for byte-level BPE as in GPT-2 and SmolLM2, ``▁`` for
  SentencePiece as in Gemma and LLaMA-1/2) and lowercasing; it is kept when the result is purely
  alphabetic ASCII (the corpus's ``[a-z]+`` word convention; this also rejects byte-level BPE's
  stand-ins for non-ASCII bytes, such as ``Ċ`` for a newline) and a word of the corpus
  vocabulary. The mapping is computed once per (tokenizer, vocabulary) as an int array over
  token ids (``-1``: no word), so a pool is one vectorised lookup. A pool lists the distinct
  corpus word ids in the order of their first appearance by logit rank, so any later stage
  rebuilds it identically from the ids.
- ``subtokens`` (the reference code's rule for SentencePiece models, Lim & Lauw's LLaMA runs):
  every corpus word is encoded on its own (``tokenizer.encode(word)``, no special tokens; a
  SentencePiece tokenizer adds its ``▁``; for a tokenizer that does not, such as byte-level BPE,
  ``" " + word``, so the word is spelled as it reads after a space), and a word is in the pool
  when all of its sub-tokens are among the top (bottom) ``cut`` tokens. The cut starts at
  ``tau`` and shrinks by 50 while the pool holds more than ``tau`` words. As in the reference, a
  word whose encoding repeats a token is never in a pool. A word whose spelling needs the
  unknown token is never pooled either. See :class:`SubtokenWords`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from superpose.config import POOLINGS, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.corpus.npmi_source import vocab_fingerprint

SPACE_MARKERS = ("Ġ", "▁")
DEFAULT_POOLING = ProjectionConfig.pooling  # declared once, in superpose.config
CUT_STEP = 50  # the reference's step when shrinking the cut of the subtokens rule

__all__ = ["DEFAULT_POOLING", "POOLINGS", "SPACE_MARKERS", "SubtokenWords", "TokenWords",
           "check_pooling", "token_to_word", "vocab_fingerprint", "word_mapper"]


def check_pooling(pooling: str) -> str:
    if pooling not in POOLINGS:
        raise SuperposeError(f"unknown pooling {pooling!r}: choose one of {', '.join(POOLINGS)}")
    return pooling


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
        return _csr([self.pool(row) for row in np.asarray(token_ids)])

    def universe(self) -> np.ndarray:
        """Every corpus word id some pool could hold (the random baseline draws from these)."""
        ids = np.unique(self.word_ids)
        return ids[ids >= 0]


def space_prefix(tokenizer: Any, probe: str) -> str:
    """``""`` when the tokenizer spells a bare word with a leading space marker itself (as
    SentencePiece does, and as the reference code relies on), else ``" "``: byte-level BPE spells
    ``word`` without ``Ġ``, so words are encoded as they read after a space."""
    convert = getattr(tokenizer, "convert_ids_to_tokens", None)
    if convert is None:
        return ""
    first = convert(tokenizer.encode(probe, add_special_tokens=False)[:1])
    return "" if first and str(first[0]).startswith(SPACE_MARKERS) else " "


def _csr(rows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(r) for r in rows])
    words = np.concatenate(rows).astype(np.int32) if rows else np.zeros(0, np.int32)
    return words, offsets


@dataclass
class SubtokenWords:
    """Corpus words spelled by their sub-tokens: the reference code's pool rule.

    ``flat[offsets[i]:offsets[i+1]]`` are the token ids of corpus word ``word_ids[i]``; only
    words with at least one token, all ids inside the model's vocabulary and no repeated token
    are kept (the reference can never pool a word that repeats a token).
    """

    word_ids: np.ndarray
    flat: np.ndarray
    offsets: np.ndarray
    vocab_size: int
    n_mapped: int
    n_words: int

    @classmethod
    def build(cls, tokenizer: Any, index: Mapping[str, int], vocab_size: int | None = None,
              ) -> SubtokenWords:
        if tokenizer is None:
            raise SuperposeError("this model has no tokenizer, so corpus words cannot be spelled "
                                 "in its tokens: load a model folder or hub id that includes one")
        size = int(vocab_size if vocab_size is not None else len(tokenizer))
        words = [w for w in index if w.isalpha() and "\n" not in w]
        prefix = space_prefix(tokenizer, words[0] if words else "the")
        encoded = [tokenizer.encode(prefix + w, add_special_tokens=False) for w in words]
        unk = getattr(tokenizer, "unk_token_id", None)
        keep = [(index[w], ids) for w, ids in zip(words, encoded, strict=True)
                if ids and len(set(ids)) == len(ids) and unk not in ids
                and all(0 <= t < size for t in ids)]
        if not keep:
            raise SuperposeError("no corpus word can be spelled in this tokenizer's tokens: use a "
                                 "corpus of the model's language")
        keep.sort(key=lambda item: item[0])
        word_ids = np.asarray([w for w, _ in keep], dtype=np.int32)
        flat, offsets = _csr([np.asarray(ids, dtype=np.int32) for _, ids in keep])
        return cls(word_ids, flat, offsets, size, int(np.unique(flat).size), len(keep))

    def pool(self, token_ids: np.ndarray) -> np.ndarray:
        """Corpus word ids pooled from ``token_ids`` (ranked tokens), ordered by the rank at which
        each word's last sub-token appears (ties: corpus word id)."""
        ranked = np.asarray(token_ids).reshape(-1)
        tau = len(ranked)
        rank = np.full(self.vocab_size, np.iinfo(np.int64).max, dtype=np.int64)
        rank[ranked] = np.arange(len(ranked))
        complete = np.maximum.reduceat(rank[self.flat], self.offsets[:-1])
        cut = tau
        inside = complete < cut
        while inside.sum() > tau and cut > 0:
            cut -= CUT_STEP
            inside = complete < cut
        chosen = np.flatnonzero(inside)
        order = np.lexsort((self.word_ids[chosen], complete[chosen]))
        return self.word_ids[chosen[order]]

    def pools(self, token_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """As :meth:`TokenWords.pools`."""
        return _csr([self.pool(row) for row in np.asarray(token_ids)])

    def universe(self) -> np.ndarray:
        return np.unique(self.word_ids)


def word_mapper(pooling: str, tokenizer: Any, index: Mapping[str, int],
                vocab_size: int | None = None) -> TokenWords | SubtokenWords:
    """The token-to-pool rule named by ``pooling`` (see the module docstring)."""
    cls = TokenWords if check_pooling(pooling) == "whole-tokens" else SubtokenWords
    return cls.build(tokenizer, index, vocab_size)
