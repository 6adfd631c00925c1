"""Build the static report: read and check every input, then write pages, data files and figures at once.

The output folder is written through :func:`superpose.core.fileio.atomic_dir`: a report that fails
(a refused input, a crash) leaves the previous report, or nothing, never half a report. As the
folder is replaced whole, an existing folder that is not a report is refused.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tqdm.auto import tqdm

from superpose.core.errors import SuperposeError
from superpose.mining.overview import layer_overview, recurring_topics
from superpose.report import pack
from superpose.report.assets import STATIC_FILES, static
from superpose.report.data import PRESENT, collect, missing_labels
from superpose.report.html import index_page, meta_line, neuron_page
from superpose.report.plots import write_plots
from superpose.report.sections import script, sections, twobytwo


def build_report(results: str | Path, out: str | Path, *, explanations: str | Path | None = None,
                 records: str | Path | None = None, compare: str | Path | None = None,
                 max_neurons: int | None = None, extra: dict[str, str] | None = None, progress: bool = False) -> Path:
    """Write ``out/index.html``, ``out/neuron.html``, ``out/data/`` and ``out/assets/``; returns ``out``.

    ``extra`` (name -> path) is handed to the sections of other modules as ``data.extra``.
    """
    from superpose.core.fileio import atomic_dir

    target = Path(out)
    if target.exists() and not (target / "report.json").is_file() and any(target.iterdir()):
        # the whole folder is replaced: never a folder that holds something else
        raise SuperposeError(f"{target} exists and is not a report (no report.json): choose another --out")
    data = collect(results, explanations=explanations, records=records, compare=compare, max_neurons=max_neurons,
                   extra=extra)
    found = sections()
    layers, recurring = layer_overview(data.reader), recurring_topics(data.reader)
    missing = pack.missing_summary(data)
    for kind in missing:
        kind["present"] = PRESENT[kind["bit"]]
    with atomic_dir(target) as tmp:
        assets, folder = tmp / "assets", tmp / "data"
        assets.mkdir()
        folder.mkdir()
        for name in STATIC_FILES:
            (assets / name).write_text(static(name), encoding="utf-8")
        (assets / "sections.js").write_text(script(found), encoding="utf-8")
        figures = write_plots(data, assets)
        vocab = pack.Vocab()
        unit_layers = sorted(set(data.units.layer.tolist()))
        sizes = {"units.js": pack.write_js(folder / "units.js", "unitsLoaded", pack.unit_columns(data), parse=True),
                 "best.js": pack.write_js(folder / "best.js", "bestLoaded", pack.best_topics(data), parse=True)}
        for layer in tqdm(unit_layers, desc="report layers", unit="layer", disable=not progress, file=sys.stderr):
            name = f"layer_{layer:02d}.js"
            sizes[name] = pack.write_js(folder / name, "layerLoaded", pack.layer_payload(data, layer, vocab, found))
        # a script literal: for a 7B-size run's ~190 MB, JSON.parse of one string was slower (34 s against 9-16 s)
        sizes["topics.js"] = pack.write_js(folder / "topics.js", "topicsLoaded", pack.topic_columns(data, vocab))
        bounds = {}
        for layer in unit_layers:
            neurons = data.units.neuron[data.units.layer == layer]
            bounds[layer] = [int(neurons.min()), int(neurons.max())]
        meta = {"run": {"model": data.run.model, "mode": data.run.mode, "folder": str(data.run.folder)},
                "inputs": data.inputs, "layers": unit_layers, "bounds": bounds, "figures": figures,
                "summary": data.summary, "missing": missing, "metaLine": meta_line(data),
                "compareTopicScore": "topic_score" in data.compare_columns,
                "sections": [{"id": s.id, "title": s.title} for s in found]}
        sizes["meta.js"] = pack.write_js(folder / "meta.js", "metaLoaded", meta)
        sizes["words.js"] = pack.write_js(folder / "words.js", "vocabLoaded", vocab.words())
        (tmp / "index.html").write_text(index_page(data, figures, missing, layers, recurring,
                                                        twobytwo.index_section(data, figures)), encoding="utf-8")
        (tmp / "neuron.html").write_text(neuron_page(data), encoding="utf-8")
        summary = {"model": data.run.model, "mode": data.run.mode, "results": str(data.run.folder),
                   "sources": data.reader.sources, "inputs": data.inputs, "units": len(data.units),
                   "units_in_inputs": data.total_units, "data_bytes": sizes,
                   "missing_counts": {k["label"]: k["count"] for k in missing},
                   "missing": {f"L{layer}_N{neuron}": missing_labels(int(m), bool(r)) for layer, neuron, m, r in
                               zip(data.units.layer.tolist(), data.units.neuron.tolist(), data.units.missing.tolist(),
                                   data.units.requested.tolist(), strict=True) if m}}
        (tmp / "report.json").write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return target
