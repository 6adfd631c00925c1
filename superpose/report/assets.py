"""The report's stylesheet and scripts (``static/``), written next to the pages: nothing is fetched
from a network.

``index.js`` pages, sorts, filters and searches the unit table in memory (columns from
``data/units.js``; the topics for the word search from ``data/topics.js``, loaded on the first
search), with only one page of rows in the document at a time. ``neuron.js`` renders one neuron
(``neuron.html#L{layer}_N{neuron}``) from its layer's data file with the section scripts.
``common.js`` holds the helpers both share (escaping, tables, loading a data file).
"""

from __future__ import annotations

from importlib import resources


def static(name: str) -> str:
    """One file of ``superpose/report/static``."""
    return resources.files("superpose.report").joinpath("static", name).read_text(encoding="utf-8")


STATIC_FILES = ("report.css", "common.js", "index.js", "neuron.js")
