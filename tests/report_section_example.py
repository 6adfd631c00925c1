"""A report section as another module would add it (used by tests/test_report.py)."""

from __future__ import annotations

from pathlib import Path

from superpose.report.sections import Section


def collect(data, layer: int, neurons: list[int]) -> dict:
    words = Path(data.extra["top-words"]).read_text().split()
    return {neuron: {"words": words} for neuron in neurons if neuron == 1}


JS = r"""
if (!ctx.data) { return null; }
return '<p class="top-words">' + ctx.esc(ctx.data.words.join(" ")) + '</p>';
"""

SECTION = Section("top-words", "Top activating words", JS, collect)
