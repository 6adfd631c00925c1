"""Corpus tokens: lowercase ``[a-z]+`` words, the convention the NPMI counts and the pools share."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-z]+")


def tokenize(text: str) -> list[str]:
    """Lowercase the text and return its maximal runs of ASCII letters."""
    return _WORD.findall(text.lower())


def stopwords() -> frozenset[str]:
    """English stopwords (gensim's list), used only when the user asks to drop them."""
    from gensim.parsing.preprocessing import STOPWORDS

    return frozenset(STOPWORDS)
