"""Corpus tokens: lowercase ``[a-z]+`` words, the convention the NPMI counts and the pools share.

:func:`tokenize` is the definition. :func:`word_ids` gives the same tokens for a whole batch of
UTF-8 text at once, vectorised, which is what the corpus build spends its reading time on: every
byte is a letter or not (non-ASCII characters are multi-byte sequences of bytes >= 0x80, never
letters), and a word of up to 13 letters is, exactly, a 64-bit number (its letters as digits 1-26
in base 27), so the batch's distinct words come from sorting numbers, not from a dictionary
look-up per token. Longer words (rare) are numbered through a dictionary.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

_WORD = re.compile(r"[a-z]+")
# The only characters whose lowercase holds an ASCII letter but which are not ASCII themselves:
# U+0130 (-> "i" + U+0307) and U+212A KELVIN SIGN (-> "k"); text with them is lowercased by Python.
_LOWERS_TO_ASCII = (b"\xc4\xb0", b"\xe2\x84\xaa")
EXACT_LETTERS = 13  # 27**13 < 2**63: a word this long or shorter is its own number
LONG = np.uint64(1 << 63)  # numbers of longer words: LONG + their index in the batch


def tokenize(text: str) -> list[str]:
    """Lowercase the text and return its maximal runs of ASCII letters."""
    return _WORD.findall(text.lower())


def lowercase_utf8(data: bytes) -> bytes:
    """``data.decode().lower().encode()`` for valid UTF-8, as far as ASCII letters go (the only
    characters tokens are made of): ``bytes.lower`` unless a character lowercases to ASCII."""
    if any(special in data for special in _LOWERS_TO_ASCII):
        return data.decode("utf-8").lower().encode("utf-8")
    return data.lower()


@lru_cache(maxsize=4)
def _powers(size: int) -> tuple[np.ndarray, np.ndarray]:
    """27**i and 27**-i modulo 2**64 for i < ``size`` (uint64 products wrap modulo 2**64)."""
    up = np.full(size, 27, dtype=np.uint64)
    down = np.full(size, pow(27, -1, 1 << 64), dtype=np.uint64)
    up[0] = down[0] = 1
    return np.cumprod(up), np.cumprod(down)


def word_ids(low: bytes) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray]:
    """The tokens of lowercased UTF-8 text (:func:`lowercase_utf8`), numbered.

    Returns the distinct words as ascending numbers (``uint64``: :func:`spell` gives a word back;
    a word longer than 13 letters is ``LONG + i``, spelled by ``long_words[i]``), each token's
    index in those numbers (``uint32``, in text order) and each token's start byte (``int64``).
    The tokens are :func:`tokenize`'s on the decoded text.
    """
    text = np.frombuffer(low, dtype=np.uint8)
    n = len(text)
    letter = np.zeros(n + 2, dtype=bool)
    np.logical_and(text >= 97, text <= 122, out=letter[1:-1])
    edges = np.flatnonzero(letter[1:] != letter[:-1])
    starts, ends = edges[0::2], edges[1::2]
    if not len(starts):
        return np.zeros(0, dtype=np.uint64), [], np.zeros(0, dtype=np.uint32), starts
    # number of a word = sum of digit_i * 27**(end - 1 - i), digit = letter & 31 (1..26): from
    # prefix sums of digit_i * 27**-i, exact modulo 2**64, and the true value is below 2**64 for
    # up to 13 letters (what lies between words is never summed)
    up, down = _powers(1 << max(20, n.bit_length()))
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.multiply(text & 31, down[:n], out=prefix[1:])
    np.cumsum(prefix[1:], out=prefix[1:])
    numbers = (prefix[ends] - prefix[starts]) * up[ends - 1]
    long_at = np.flatnonzero(ends - starts > EXACT_LETTERS)
    long_words: dict[str, int] = {}
    if len(long_at):
        numbers[long_at] = LONG + np.array(
            [long_words.setdefault(low[s:e].decode("ascii"), len(long_words))
             for s, e in zip(starts[long_at].tolist(), ends[long_at].tolist(), strict=True)], dtype=np.uint64)
    # distinct numbers by sorting, and each token's rank among them
    order = np.argsort(numbers)
    ordered = numbers[order]
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    ids = np.empty(len(ordered), dtype=np.uint32)
    ids[order] = np.cumsum(first, dtype=np.uint32) - np.uint32(1)
    return ordered[first], list(long_words), ids, starts


def spell(numbers: np.ndarray) -> list[str]:
    """The words of numbers below :data:`LONG` (:func:`word_ids`): their base-27 digits as letters."""
    numbers = np.asarray(numbers, dtype=np.uint64)
    digits = np.zeros((len(numbers), EXACT_LETTERS), dtype=np.uint8)  # least significant first
    rest = numbers.copy()
    for place in range(EXACT_LETTERS):
        digits[:, place] = rest % np.uint64(27)
        rest //= np.uint64(27)
    length = np.count_nonzero(digits, axis=1)  # a word's digits are 1..26, never 0
    letters = np.zeros_like(digits)  # most significant first, NUL-padded on the right
    row, place = np.nonzero(digits)
    letters[row, length[row] - 1 - place] = digits[row, place] + 96
    # bytes -> str by numpy for the whole array (NUL padding dropped), not a decode per word
    return letters.view(f"S{EXACT_LETTERS}").ravel().astype(f"U{EXACT_LETTERS}").tolist()


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """English stopwords (gensim's list), used only when the user asks to drop them.

    Read from the literal in gensim's source where it is one (importing gensim takes about a
    second, more than the rest of choosing a vocabulary); imported otherwise.
    """
    listed = _literal_stopwords()
    if listed is not None:
        return listed
    from gensim.parsing.preprocessing import STOPWORDS

    return frozenset(STOPWORDS)


def _literal_stopwords() -> frozenset[str] | None:
    """``STOPWORDS = frozenset([...])`` of gensim's ``parsing/preprocessing.py``, not imported."""
    import ast
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        return None
    source = Path(next(iter(spec.submodule_search_locations))) / "parsing" / "preprocessing.py"
    try:
        tree = ast.parse(source.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and [getattr(t, "id", None) for t in node.targets] == ["STOPWORDS"]
                and isinstance(node.value, ast.Call) and getattr(node.value.func, "id", None) == "frozenset"
                and len(node.value.args) == 1 and not node.value.keywords):
            try:
                words = ast.literal_eval(node.value.args[0])
            except ValueError:
                return None
            if all(isinstance(w, str) for w in words):
                return frozenset(words)
    return None
