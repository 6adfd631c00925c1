"""The neuron page's sections: one small module each, defining ``SECTION``.

A section is a :class:`Section`: an id, a title, the JavaScript that renders it on the neuron
page, and optionally ``collect``, which returns the section's data per neuron of one layer (any
JSON value); the data travels in that layer's data file (``data/layer_LL.js``) and reaches the
script as ``ctx.data``. Adding a section is adding one module here (found by
:mod:`superpose.core.registry`; docs/report.md, "Adding a section"); it comes after the built-in
ones of :data:`PAGE_ORDER`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from superpose.core.registry import Registry

# Where the built-in sections go on the page; any other section module follows, by name.
PAGE_ORDER = ("explanation", "compare", "twobytwo", "topics", "input_topics", "top_words", "records", "baseline")


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


SECTIONS: Registry[Section] = Registry(__name__, "SECTION", helpers=())


def sections() -> list[Section]:
    """Every section, in page order."""
    return SECTIONS.in_order(PAGE_ORDER)


def script(found: list[Section]) -> str:
    """The sections' JavaScript, registered in page order."""
    import json

    parts = ['"use strict";\nwindow.SP = window.SP || {};\nSP.sections = [];']
    for section in found:
        parts.append(f"SP.sections.push({{id: {json.dumps(section.id)}, title: {json.dumps(section.title)}, "
                     f"render: function (ctx) {{\n{section.js.strip()}\n}}}});")
    return "\n".join(parts) + "\n"
