"""The report's two pages, as strings: the index and the neuron page (filled in by its script).

What is the same for every unit (run parameters, figures, summary, overviews, what inputs are
missing for most units) is written into the index once; every value read from a file goes
through :func:`esc`. The unit table and the neuron page are drawn by the scripts from the data
files (``pack.py``).
"""

from __future__ import annotations

import html
from typing import Any

from superpose.report.data import PRESENT, ReportData

FRONT_SCRIPTS = ("data/meta.js", "data/words.js")


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def num(value: float | None, digits: int = 3) -> str:
    return "" if value is None or value != value else f"{value:.{digits}f}"


def page(title: str, body: str, scripts: list[str]) -> str:
    # deferred (run in order once the page is parsed): the page paints before the data is read
    tags = "".join(f'<script src="{esc(src)}" defer></script>\n' for src in scripts)
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{esc(title)}</title>\n<link rel="icon" href="data:,">\n'
            f'<link rel="stylesheet" href="assets/report.css">\n</head>\n<body>\n{body}\n{tags}</body>\n</html>\n')


def meta_line(data: ReportData) -> str:
    run = data.run
    req = run.request
    params = req.get("params") or {}
    corpus = " ".join(run.corpus) if run.corpus else (run.corpus_path or "unknown")
    parts = [f"model {run.model}", f"mode {run.mode}", f"corpus {corpus}", f"tau {req.get('tau', '?')}",
             f"theta {params.get('theta_l', '?')}-{params.get('theta_u', '?')}",
             f"kappa {params.get('kappa_l', '?')}-{params.get('kappa_u', '?')}", f"k {params.get('k', '?')}"]
    return '<p class="meta">' + "".join(f"<span>{esc(p)}</span>" for p in parts) + "</p>"


def table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """A plain table; cells are already HTML (callers escape)."""
    numeric = numeric or set()
    head = "".join(f'<th class="num">{esc(h)}</th>' if i in numeric else f"<th>{esc(h)}</th>"
                   for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def summary_table(rows: list[dict[str, Any]]) -> str:
    header = ["source", "layer", "polarity", "pools", "share with a topic", "topics per pool", "mean NPMI",
              "median NPMI", "max NPMI"]
    cells = [[esc(r["source"]), esc(r["layer"]), esc(r["polarity"]), esc(r["pools"]), num(r["with_topic"]),
              num(r["topics_per_pool"]), num(r["mean_npmi"]), num(r["npmi_median"]), num(r["npmi_max"])]
             for r in rows]
    return table(header, cells, set(range(3, 9)))


def _figure(src: str, caption: str) -> str:
    return f'<figure><img src="{esc(src)}" alt="{esc(caption)}"><figcaption>{esc(caption)}</figcaption></figure>'


def _select(name: str, label: str, options: list[tuple[str, str]]) -> str:
    inner = "".join(f'<option value="{esc(value)}">{esc(text)}</option>' for value, text in options)
    return f'<select id="{name}" aria-label="{esc(label)}">{inner}</select>'


def missing_note(missing: list[dict[str, Any]], total: int) -> str:
    """What the units lack, said once above the table; rows then mark only the units that differ."""
    lines = []
    for kind in missing:
        count = kind["count"]
        if not count:
            continue
        if count == total:
            lines.append(f"every unit: {kind['label']}")
        elif kind["majority"]:
            lines.append(f"{count:,} of {total:,} units: {kind['label']} (the {total - count:,} that are "
                         f"marked \u201c{PRESENT[kind['bit']]}\u201d)")
        else:
            lines.append(f"{count:,} of {total:,} units: {kind['label']} (marked in the notes column)")
    if not lines:
        return ""
    return '<div class="notice"><strong>Missing inputs.</strong> ' + "; ".join(esc(line) for line in lines) + "</div>"


def overview_section(layers: list[dict[str, Any]], recurring: list[dict[str, Any]]) -> str:
    rows = [[esc(r["layer"]), f"{r['units']:,}", num(r["share_pos"], 2), num(r["share_neg"], 2), f"{r['topics']:,}",
             esc(", ".join(f"{w} ({n})" for w, n in r["words"]))] for r in layers]
    layer_table = table(["layer", "units", "share with a + topic", "share with a \u2212 topic", "topics",
                         "most frequent topic words (topics holding them)"], rows, {0, 1, 2, 3, 4})
    rec_rows = [[f"{r['count']:,}", num(r["best"]), esc(" ".join(r["words"])),
                 " ".join(f'<a href="neuron.html#L{u[0]}_N{u[1]}">L{u[0]} N{u[1]} {esc(u[2])}</a>' for u in r["units"])]
                for r in recurring]
    rec_table = (table(["units", "best NPMI", "topic", "found in (first five)"], rec_rows, {0, 1}) if rec_rows
                 else '<p class="note">No topic was found by more than one unit.</p>')
    return (f"<section><h2>Layers</h2>{layer_table}</section>\n"
            f"<section><h2>Recurring topics</h2><p class=\"note\">The same word set found by several units, most "
            f"often found first.</p>{rec_table}</section>")


def index_page(data: ReportData, figures: dict[str, str], missing: list[dict[str, Any]],
               layers: list[dict[str, Any]], recurring: list[dict[str, Any]], two_by_two: str = "") -> str:
    """The overview and the paged unit table (drawn by index.js); ``two_by_two`` is the compare
    section's HTML (``sections/twobytwo.py``)."""
    given = ", ".join(f"{name} {path}" for name, path in data.inputs.items()) or "none"
    total = len(data.units)
    truncated = (f'<p class="note">Showing the first {total:,} of {data.total_units:,} units '
                 "(--max-neurons).</p>" if total < data.total_units else "")
    llm_figure = (_figure("assets/" + figures["llm"], "topic score against LLM explanation score per neuron")
                  if "llm" in figures else "")
    llm_note = "" if "llm" in figures else \
        '<p class="note">No LLM explanations given (--explanations): no topic-versus-LLM figure.</p>'
    summary = (f"<details><summary>Summary table: mined and random topics per layer and polarity</summary>"
               f"{summary_table(data.summary)}</details>" if data.summary
               else '<p class="note">No summary: the run is not finished.</p>')
    random_note = ("" if data.random_scores else
                   '<p class="note">No random baseline: run <code>superpose baseline</code>.</p>')
    layer_options = "".join(f'<option value="{layer}">layer {layer}</option>'
                            for layer in sorted(set(data.units.layer.tolist())))
    body = f"""<header>
<h1>superpose report: {esc(data.run.model)} {esc(data.run.mode)}</h1>
{meta_line(data)}
<p class="meta"><span>results {esc(data.run.folder)} ({esc("; ".join(data.reader.sources))})</span>
<span>LLM inputs: {esc(given)}</span></p>
</header>
<main>
<section>
<h2>Units</h2>
{truncated}
{missing_note(missing, total)}
<div class="controls">
<input type="search" id="filter" placeholder="search topics: words&hellip;" aria-label="search topics by word">
{_select("match", "match", [("all", "all words"), ("any", "any word")])}
{_select("polarity", "polarity", [("", "both polarities"), ("pos", "pos"), ("neg", "neg")])}
<select id="layer-filter" aria-label="layer"><option value="">all layers</option>{layer_options}</select>
{_select("has", "topics", [("", "any unit"), ("pos", "with a + topic"), ("neg", "with a − topic"),
                           ("none", "without topics")])}
<span class="note"><span id="shown">{total:,}</span> of {total:,} rows; click a column header to sort</span>
<span class="note" id="status"></span>
</div>
<p class="note" id="search-note"></p>
<div class="pager"><button type="button" id="prev">&larr; previous</button><span id="page-info"></span>
<button type="button" id="next">next &rarr;</button></div>
<table id="neurons">
<thead><tr></tr></thead>
<tbody></tbody>
</table>
</section>
<section>
<h2>Mined versus random topics</h2>
<div class="figures">
{_figure("assets/" + figures["npmi"], "topic NPMI per layer, mined against the random baseline")}
{_figure("assets/" + figures["topics"], "topics per neuron by layer (both polarities)")}
{llm_figure}
</div>
{llm_note}
{random_note}
{summary}
</section>
{two_by_two}
{overview_section(layers, recurring)}
</main>"""
    scripts = ["assets/common.js", *FRONT_SCRIPTS, "data/units.js", "assets/index.js"]
    return page(f"superpose report: {data.run.model} {data.run.mode}", body, scripts)


def neuron_page(data: ReportData) -> str:
    """One page for every neuron: ``neuron.html#L{layer}_N{neuron}`` (drawn by neuron.js)."""
    body = '<main id="page"><p class="note">Loading&hellip; (this page needs JavaScript)</p></main>'
    scripts = ["assets/common.js", *FRONT_SCRIPTS, "assets/sections.js", "assets/neuron.js"]
    return page(f"neuron: {data.run.model} {data.run.mode}", body, scripts)
