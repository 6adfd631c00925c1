"""Documents as the reference code reads them (the ``lim-lauw`` convention): every line a document.

PreferredAI/topic-metrics reads folders of ``.txt`` files in Python's text mode, one document per
line (``\\n``, ``\\r\\n`` and ``\\r`` end a line; a last line without an end still counts), and
takes the number of windows from each line's whitespace tokens (``len(line.split())``): a line
with no vocabulary word, even a blank one or one of digits only, is still ``max(1, length -
window + 1)`` windows. Its window counts slide over the line's vocabulary words.

Here, under that convention, each document of a source is cut into such lines in the worker
(after wiki markup is removed); ``.txt`` sources hand over their blank lines too. Every line's
whitespace-token count goes into a histogram (the reference's ``histogram.csv``) from which
:func:`reference_windows` gives the number of windows; the words of each line are our tokens
(:func:`superpose.corpus.tokenize.tokenize`), which are the reference's whitespace tokens on text
already lowercased and split into words.
"""

from __future__ import annotations

import numpy as np


def reference_lines(text: str) -> list[str]:
    """The lines of ``text`` as Python's text mode reads them (universal newlines), ends removed."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return []
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def add_histogram(histogram: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``histogram`` (lines per whitespace length) with ``lengths`` added (grown as needed)."""
    if not len(lengths):
        return histogram
    counts = np.bincount(lengths)
    if len(counts) > len(histogram):
        counts[: len(histogram)] += histogram
        return counts
    histogram = histogram.copy()
    histogram[: len(counts)] += counts
    return histogram


def reference_windows(histogram: np.ndarray, window: int) -> int:
    """The reference's number of windows: ``max(1, length - window + 1)`` for every line."""
    lengths = np.arange(len(histogram), dtype=np.int64)
    return int((np.asarray(histogram, dtype=np.int64) * np.maximum(lengths - window + 1, 1)).sum())


__all__ = ["add_histogram", "reference_lines", "reference_windows"]
