"""Build the static report: read and check every input, then write pages, figures and assets at once.

The output folder is written through :func:`superpose.core.fileio.atomic_dir`: a report that fails
(a refused input, a crash) leaves the previous report, or nothing, never half a report. As the
folder is replaced whole, an existing folder that is not a report is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

from superpose.core.errors import SuperposeError
from superpose.report.assets import CSS, JS
from superpose.report.data import collect
from superpose.report.html import index_page, neuron_page
from superpose.report.plots import write_plots


def build_report(results: str | Path, out: str | Path, *, explanations: str | Path | None = None,
                 records: str | Path | None = None, compare: str | Path | None = None,
                 max_neurons: int | None = None) -> Path:
    """Write ``out/index.html``, ``out/neurons/L{layer}_N{neuron}.html`` and ``out/assets/``; returns ``out``."""
    from superpose.core.fileio import atomic_dir

    target = Path(out)
    if target.exists() and not (target / "report.json").is_file() and any(target.iterdir()):
        # the whole folder is replaced: never a folder that holds something else
        raise SuperposeError(f"{target} exists and is not a report (no report.json): choose another --out")
    data = collect(results, explanations=explanations, records=records, compare=compare, max_neurons=max_neurons)
    with atomic_dir(target) as tmp:
        assets = tmp / "assets"
        pages = tmp / "neurons"
        assets.mkdir()
        pages.mkdir()
        (assets / "report.css").write_text(CSS, encoding="utf-8")
        (assets / "report.js").write_text(JS, encoding="utf-8")
        figures = write_plots(data, assets)
        (tmp / "index.html").write_text(index_page(data, figures), encoding="utf-8")
        views = data.neurons
        for i, view in enumerate(views):
            previous = views[i - 1] if i > 0 else None
            following = views[i + 1] if i + 1 < len(views) else None
            (pages / f"{view.slug}.html").write_text(neuron_page(data, view, figures, previous, following),
                                                    encoding="utf-8")
        summary = {"model": data.run.model, "mode": data.run.mode, "results": str(data.run.folder),
                   "inputs": data.inputs, "neurons": len(views), "neurons_in_inputs": data.total_neurons,
                   "missing": {view.slug: view.missing for view in views if view.missing}}
        (tmp / "report.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return target
