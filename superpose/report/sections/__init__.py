"""The neuron page's sections: one small module each, listed in :data:`SECTION_MODULES`.

A section is a :class:`Section`: an id, a title, the JavaScript that renders it on the neuron
page, and optionally ``collect``, which returns the section's data per neuron of one layer (any
JSON value); the data travels in that layer's data file (``data/layer_LL.js``) and reaches the
script as ``ctx.data``. Adding a section is adding one module here and its name to
:data:`SECTION_MODULES` (docs/report.md, "Adding a section").
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

SECTION_MODULES = ["explanation", "compare", "twobytwo", "topics", "input_topics", "top_words", "records", "baseline"]


@dataclass(frozen=True)
class Section:
    """One section of the neuron page.

    ``js`` is the body of ``function (ctx) { ... }`` that returns the section's HTML as a string;
    every value from the data must go through ``ctx.esc``. ``ctx`` holds ``unit`` (the neuron's
    record: ``layer``, ``neuron``, ``pos``/``neg`` sides, ``miss``), ``data`` (what ``collect``
    gave for this neuron, or ``null``), ``layer`` (the layer file), ``meta`` (the report's meta
    data) and helpers ``esc``, ``num``, ``table(header, rows, numericColumns)``, ``words(ids)``.
    """

    id: str
    title: str
    js: str
    collect: Callable[[Any, int, list[int]], dict[int, Any]] | None = None


def sections() -> list[Section]:
    """Every section, in page order (a name with a dot is a full module path)."""
    return [importlib.import_module(name if "." in name else f"superpose.report.sections.{name}").SECTION
            for name in SECTION_MODULES]


def script(found: list[Section]) -> str:
    """The sections' JavaScript, registered in page order."""
    import json

    parts = ['"use strict";\nwindow.SP = window.SP || {};\nSP.sections = [];']
    for section in found:
        parts.append(f"SP.sections.push({{id: {json.dumps(section.id)}, title: {json.dumps(section.title)}, "
                     f"render: function (ctx) {{\n{section.js.strip()}\n}}}});")
    return "\n".join(parts) + "\n"
