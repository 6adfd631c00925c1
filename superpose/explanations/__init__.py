"""Explanations published by other tools, brought into our format, and ours sent the other way.

Every module here except the helpers ``base``, ``records`` and ``tokens`` defines ``FORMAT`` (an
:class:`~superpose.explanations.base.ExplanationFormat`), one external format; adding a format
is adding one file. :func:`import_explanations` writes our explanations JSON lines (one row per
unit; docs/explanations.md), which ``compare``, ``score`` and ``report`` read like the rows of
``superpose explain``; :func:`export_explanations` writes a run's topics in a format's upload
layout.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_path
from superpose.core.provenance import timestamp, versions
from superpose.core.registry import Registry, own_name
from superpose.explanations.base import IMPORT_FORMAT, ExplanationFormat, Imported, ImportOptions

__all__ = ["ExplanationFormat", "ImportOptions", "Imported", "export_explanations", "formats",
           "get_format", "import_explanations"]


FORMATS: Registry[ExplanationFormat] = Registry(__name__, "FORMAT", helpers=("base", "records", "tokens"),
                                                key=own_name)


@cache
def formats() -> dict[str, ExplanationFormat]:
    """Every format by name (file modules of this package, see :mod:`superpose.core.registry`)."""
    return FORMATS.all()


def format_names(writable: bool = False) -> tuple[str, ...]:
    return tuple(name for name, fmt in formats().items() if not writable or fmt.write is not None)


def get_format(name: str, writable: bool = False) -> ExplanationFormat:
    names = format_names(writable)
    if name not in names:
        what = "export" if writable else "import"
        raise SuperposeError(f"unknown format {name!r} to {what}; choose one of: {', '.join(names)}")
    return formats()[name]


def _best_first(items: list[Imported]) -> list[Imported]:
    """The source's best-scored explanation first (by its headline score), then file order."""
    order = {id(item): i for i, item in enumerate(items)}
    return sorted(items, key=lambda it: (it.headline_value() is None, -(it.headline_value() or 0.0),
                                         order[id(it)]))


def _row(fmt: str, item: Imported) -> dict[str, Any]:
    return {"explanation": item.text,
            "explainer": {"backend": "imported", "model": item.explainer_model},
            "published_scores": item.scores,
            "published_score": ({"name": item.headline, "value": item.headline_value()}
                                if item.headline else None),
            "imported": {"format": fmt, "from": item.where, **item.extra}}


def import_explanations(fmt_name: str, source: str | Path, out: str | Path,
                        options: ImportOptions | None = None,
                        records: str | Path | None = None) -> tuple[Path, int, Path | None]:
    """Read ``source`` in format ``fmt_name``; write one row per unit to ``out`` (atomically).

    A unit with several explanations keeps the one its source scored best (file order breaks
    ties) and the others, with their scores, under ``alternatives``. Formats that carry activation
    records (OpenAI's) also write them as our records folder ``records``. Returns the output
    path, the number of units and the records folder (or ``None``).
    """
    fmt = get_format(fmt_name)
    options = options or ImportOptions()
    source, out = Path(source).expanduser(), Path(out)
    if out.suffix != ".jsonl":
        raise SuperposeError(f"--out {out} should be a .jsonl file (our explanations format)")
    if options.model is None and fmt.default_model is not None:
        named = fmt.default_model(source)
        options = replace(options, model=named, model_source=named)
    items = fmt.read(source, options)
    folder = None
    if fmt.records is not None:
        folder = fmt.records(source, options, Path(records) if records else out.parent)
    if not items:
        raise SuperposeError(f"{source} holds no {fmt.name} explanations"
                             + (f" (its activation records are in {folder})" if folder else ""))
    by_unit: dict[tuple[int, int], list[Imported]] = defaultdict(list)
    for item in items:
        by_unit[(item.layer, item.neuron)].append(item)
    created = timestamp()
    meta = {"format": IMPORT_FORMAT, "format_version": 1, "source": str(source), "created": created,
            "versions": versions()}
    lines = []
    for (layer, neuron), found in sorted(by_unit.items()):
        best, *others = _best_first(found)
        row = {"layer": layer, "neuron": neuron, "records_model": options.model, "status": "ok",
               **_row(fmt.name, best), "created": created,
               "import": meta}
        if others:
            row["alternatives"] = [_row(fmt.name, o) for o in others]
        lines.append(json.dumps(row, sort_keys=True))
    with atomic_path(out) as tmp:
        tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return out, len(lines), folder


def export_explanations(fmt_name: str, results: str | Path, out: str | Path, *, max_topics: int = 1,
                        settings: dict[str, Any] | None = None) -> list[Path]:
    """Write the positive topics of a mining run (or topics table) as explanations in a format's
    upload layout under ``out``; one text per unit ("words such as ...", as ``compare`` reads them)."""
    from superpose.compare.run import polarity_text
    from superpose.compare.topics import open_topics

    fmt = get_format(fmt_name, writable=True)
    if max_topics < 1:
        raise SuperposeError(f"--max-topics must be at least 1, not {max_topics}")
    topics = open_topics(results)
    if topics.folder is None:
        units = sorted({(layer, neuron) for layer, neuron, polarity in topics.table if polarity == "pos"})
    else:
        from superpose.mining.store import RunReader

        table = RunReader(topics.folder).topics()
        units = sorted({(int(r["layer"]), int(r["neuron"])) for r in table.to_pylist() if r["polarity"] == "pos"})
    texts = []
    for layer, neuron in units:
        found = topics.topics(layer, neuron)
        if found and found[0]:
            texts.append((layer, neuron, polarity_text(found[0], max_topics)))
    if not texts:
        raise SuperposeError(f"{results} holds no unit with a positive topic: nothing to export")
    assert fmt.write is not None
    return fmt.write(texts, Path(out), {"model": topics.model, "mode": topics.mode, **(settings or {})})
