"""The report's pages, built as strings: every value from the inputs goes through :func:`esc`.

Tokens and explanations are arbitrary text (a token can be ``<script>``), so nothing read from a
file reaches the page unescaped; the only markup is written here.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Iterable, Sequence
from typing import Any

from superpose.mining.store import POLARITIES
from superpose.report.data import NeuronView, ReportData
from superpose.report.inputs import Record

TOPICS_SHOWN = 5
POLARITY_NAMES = {"pos": "Positive pool (pushed up)", "neg": "Negative pool (pushed down)"}


def esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def num(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def _page(title: str, body: str, root: str) -> str:
    return (f'<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<title>{esc(title)}</title>\n<link rel="icon" href="data:,">\n'
            f'<link rel="stylesheet" href="{root}assets/report.css">\n</head>\n<body>\n{body}\n'
            f'<script src="{root}assets/report.js" defer></script>\n</body>\n</html>\n')


def _meta(data: ReportData) -> str:
    run = data.run
    req = run.request
    params = req.get("params") or {}
    corpus = " ".join(run.corpus) if run.corpus else (run.corpus_path or "unknown")
    parts = [f"model {run.model}", f"mode {run.mode}", f"corpus {corpus}", f"tau {req.get('tau', '?')}",
             f"theta {params.get('theta_l', '?')}-{params.get('theta_u', '?')}",
             f"kappa {params.get('kappa_l', '?')}-{params.get('kappa_u', '?')}", f"k {params.get('k', '?')}"]
    return '<p class="meta">' + "".join(f"<span>{esc(p)}</span>" for p in parts) + "</p>"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: Collection[int] = ()) -> str:
    """A plain table; cells are already HTML (callers escape)."""
    head = "".join(f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>" for i, h in enumerate(header))
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>\n" for row in rows)
    return f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n</table>"


def _summary_table(rows: list[dict[str, Any]]) -> str:
    header = ["source", "layer", "polarity", "pools", "share with a topic", "topics per pool", "mean NPMI",
              "median NPMI", "max NPMI"]
    cells = [[esc(r["source"]), esc(r["layer"]), esc(r["polarity"]), esc(r["pools"]), num(_finite(r["with_topic"])),
              num(_finite(r["topics_per_pool"])), num(_finite(r["mean_npmi"])), num(_finite(r["npmi_median"])),
              num(_finite(r["npmi_max"]))] for r in rows]
    return _table(header, cells, numeric=set(range(3, 9)))


def _finite(value: Any) -> float | None:
    value = float(value)
    return None if value != value else value  # NaN: nothing to show


def _figure(src: str, caption: str) -> str:
    return f'<figure><img src="{esc(src)}" alt="{esc(caption)}"><figcaption>{esc(caption)}</figcaption></figure>'


def _best_topic(view: NeuronView) -> str:
    topics = [t for p in POLARITIES for t in view.topics(p)]
    return " ".join(max(topics, key=lambda t: t["score"])["words"]) if topics else ""


def _explanation_cell(view: NeuronView) -> str:
    item = view.explanation
    if item is None:
        return '<span class="tag-missing">not explained</span>'
    if item.status != "ok" or not item.text:
        return f'<span class="tag-missing">{esc(item.status)}</span>'
    return esc(item.text)


def _index_row(view: NeuronView, explained: bool, compare: bool) -> str:
    counts = [len(view.topics(p)) if view.sides.get(p) else None for p in POLARITIES]
    score = view.explanation.score if view.explanation else None
    cells = [
        (str(view.layer), "num", str(view.layer)),
        (f'<a href="neurons/{view.slug}.html">{view.neuron}</a>', "num", str(view.neuron)),
        *((("" if c is None else str(c)), "num", "" if c is None else str(c)) for c in counts),
        *((num(view.best_npmi(p)), "num", num(view.best_npmi(p), 6)) for p in POLARITIES),
        (esc(_best_topic(view)), "words", None),
    ]
    if explained:
        cells += [(_explanation_cell(view), "words", None), (num(score), "num", num(score, 6))]
    if compare:
        best = view.compare_best("topic_score")
        cells.append((num(best), "num", num(best, 6)))
    cells.append((esc("; ".join(view.missing)), "tag-missing", None))
    tds = "".join(f'<td class="{cls}"' + ("" if value is None else f' data-value="{esc(value)}"') + f">{content}</td>"
                  for content, cls, value in cells)
    return f'<tr data-layer="{view.layer}">{tds}</tr>\n'


def index_page(data: ReportData, figures: dict[str, str]) -> str:
    """The overview: run parameters, the three summary figures, the summary table, the neuron table."""
    compare = "topic_score" in data.compare_columns
    explained = "explanations" in data.inputs
    columns = [("layer", "number"), ("neuron", "number"), ("+ topics", "number"), ("\u2212 topics", "number"),
               ("best NPMI +", "number"), ("best NPMI \u2212", "number"), ("best topic", "text")]
    columns += [("LLM explanation", "text"), ("LLM score", "number")] if explained else []
    columns += [("topic score (compare)", "number")] if compare else []
    columns += [("missing", "text")]
    head = "".join(f'<th data-type="{kind}"' + (' class="num"' if kind == "number" else "")
                   + f'><button type="button">{esc(name)}</button></th>' for name, kind in columns)
    rows = "".join(_index_row(view, explained, compare) for view in data.neurons)
    layers = sorted({view.layer for view in data.neurons})
    options = '<option value="">all layers</option>' + "".join(
        f'<option value="{layer}">layer {layer}</option>' for layer in layers)
    given = ", ".join(f"{name} {path}" for name, path in data.inputs.items()) or "none"
    truncated = (f'<p class="note">Showing the first {len(data.neurons)} of {data.total_neurons} neurons '
                 "(--max-neurons).</p>" if len(data.neurons) < data.total_neurons else "")
    if "llm" in figures:
        llm_figure = _figure("assets/" + figures["llm"], "topic score against LLM explanation score per neuron")
        llm_note = ""
    else:
        llm_figure = ""
        llm_note = '<p class="note">No LLM explanations given (--explanations): no topic-versus-LLM figure.</p>'
    summary = (f"<details><summary>Summary table: mined and random topics per layer and polarity</summary>"
               f"{_summary_table(data.summary)}</details>" if data.summary
               else '<p class="note">No summary: the run has no bulk tables yet (unfinished).</p>')
    random_note = ("" if (data.run.folder / "random").is_dir()
                   else '<p class="note">No random baseline: run <code>superpose baseline</code>.</p>')
    body = f"""<header>
<h1>superpose report: {esc(data.run.model)} {esc(data.run.mode)}</h1>
{_meta(data)}
<p class="meta"><span>results {esc(data.run.folder)}</span><span>LLM inputs: {esc(given)}</span></p>
</header>
<main>
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
{_two_by_two().index_section(data, figures)}
<section>
<h2>Neurons</h2>
{truncated}
<div class="controls">
<input type="search" id="filter" placeholder="filter: words, explanation, missing&hellip;" aria-label="filter rows">
<select id="layer-filter" aria-label="layer">{options}</select>
<span class="note"><span id="shown">{len(data.neurons)}</span> of {len(data.neurons)} shown;
click a column header to sort</span>
</div>
<table id="neurons">
<thead><tr>{head}</tr></thead>
<tbody>
{rows}</tbody>
</table>
</section>
</main>"""
    return _page(f"superpose report: {data.run.model} {data.run.mode}", body, "")


def _topics_table(data: ReportData, layer: int, topics: list[dict[str, Any]]) -> str:
    """The best TOPICS_SHOWN topics in a table, the others in a folded one (long pools give dozens)."""
    header = ["rank", "words", "NPMI", "beats random", "solver", "gap", "pairs never in a window"]
    rows = []
    for t in topics:
        share = data.random_share_below(layer, t["score"])
        rows.append([esc(t["rank"]), esc(" ".join(t["words"])), num(t["score"]),
                     "" if share is None else f"{100 * share:.0f}%", esc(t["status"]), num(_finite(t["gap"])),
                     esc(t["never_cooccur"])])
    numeric = {0, 2, 3, 5, 6}
    table = _table(header, rows[:TOPICS_SHOWN], numeric)
    if len(rows) > TOPICS_SHOWN:
        table += (f"<details><summary>{len(rows) - TOPICS_SHOWN} more topic(s)</summary>"
                  f"{_table(header, rows[TOPICS_SHOWN:], numeric)}</details>")
    return table


def _side_section(data: ReportData, view: NeuronView, polarity: str) -> str:
    side = view.sides.get(polarity)
    title = f"<h3>{esc(POLARITY_NAMES[polarity])}</h3>"
    if side is None:
        return f'<div class="{polarity}">{title}<p class="tag-missing">not mined</p></div>'
    topics = (_topics_table(data, view.layer, side.topics) if side.topics
              else '<p class="note">No topic: no shortlisted set gave one.</p>')
    isets = "".join(f"<li>{esc(' '.join(words))}</li>" for words in side.isets)
    isets_block = (f"<details><summary>{len(side.isets)} shortlisted set(s)</summary><ol>{isets}</ol></details>"
                   if side.isets else '<p class="note">No shortlisted set.</p>')
    pool = (f'<details><summary>pool: {len(side.pool)} corpus words, by logit rank</summary>'
            f'<p class="pool">{esc(" ".join(side.pool))}</p></details>')
    return f'<div class="{polarity}">{title}\n{topics}\n{isets_block}\n{pool}</div>'


def _explanation_section(data: ReportData, view: NeuronView) -> str:
    if "explanations" not in data.inputs:
        return '<p class="note">No explanations given (--explanations).</p>'
    item = view.explanation
    if item is None:
        return '<p class="tag-missing">Not explained: the explanations hold no row for this neuron.</p>'
    text = f"<q>{esc(item.text)}</q>" if item.text else '<span class="tag-missing">no explanation text</span>'
    status = "" if item.status == "ok" else f'<p class="tag-missing">status {esc(item.status)}</p>'
    error = f'<p class="note">{esc(item.error)}</p>' if item.error else ""
    scores = ""
    if item.scores:
        rows = [[esc(name), num(s.value), esc(s.reason or "")] for name, s in item.scores.items()]
        scores = _table(["score", "value", "undefined because"], rows, numeric={1})
        if item.simulator:
            scores += f'<p class="note">simulator {esc(item.simulator)}</p>'
    else:
        scores = '<p class="note">Not scored.</p>'
    return f'<div class="explanation">{text}{status}{error}</div>\n{scores}'


def _compare_section(data: ReportData, view: NeuronView) -> str:
    if "compare" not in data.inputs:
        return ""
    if not view.compare:
        return '<h2>Comparison</h2><p class="tag-missing">Not in the compare table.</p>'
    columns = [c for c in data.compare_columns if c not in ("layer", "neuron", "model", "corpus")]
    rows = [[esc(row.get(c, "")) for c in columns] for row in view.compare]
    return "<h2>Comparison</h2>\n" + _table([esc(c) for c in columns], rows)


def _two_by_two() -> Any:
    """The 2x2 section of `superpose compare` (its own module, imported late: it uses this one)."""
    from superpose.report import twobytwo

    return twobytwo


def heatmap(record: Record, scale: float) -> str:
    """A record's tokens as spans shaded by activation / scale (orange up, blue down)."""
    spans = []
    for token, act in zip(record.tokens, record.activations, strict=False):
        alpha = min(1.0, abs(act) / scale) if scale > 0 else 0.0
        color = "217,72,15" if act >= 0 else "28,126,214"
        text = token.replace("\n", "\u21b5")
        spans.append(f'<span class="tok" style="background:rgba({color},{alpha:.2f})" title="{act:.4g}">'
                     f"{esc(text)}</span>")
    peak = max(record.activations, default=0.0)
    return f'<div class="record"><span class="max">max {peak:.3g}</span>{"".join(spans)}</div>'


def _records_section(data: ReportData, view: NeuronView) -> str:
    if "records" not in data.inputs:
        return '<p class="note">No activation records given (--records).</p>'
    if not view.records:
        return '<p class="tag-missing">No activation records for this neuron.</p>'
    top = [r for r in view.records if r.kind == "top"]
    scale = max((abs(a) for r in (top or view.records) for a in r.activations), default=0.0)
    parts = []
    for kind, title in (("top", "Top-activating records"), ("random", "Random records")):
        shown = [r for r in view.records if r.kind == kind]
        parts.append(f"<h3>{title}</h3>" + ("".join(heatmap(r, scale) for r in shown)
                                              or '<p class="note">none</p>'))
    return (f'<p class="note">Shading: activation / {scale:.3g} (the largest activation of the top records); '
            "hover a token for its value.</p>\n" + "\n".join(parts))


def _baseline_section(data: ReportData, view: NeuronView, figures: dict[str, str]) -> str:
    rows = [r for r in data.summary if str(r["layer"]) == str(view.layer)]
    table = (_summary_table(rows) if rows
             else '<p class="note">No summary for this layer (unfinished run or no baseline).</p>')
    none = ("" if data.random_scores.get(view.layer) else
            f'<p class="note">Random pools of layer {view.layer} gave no topic (or no baseline was run).</p>')
    figure = _figure("../assets/" + figures[f"layer_{view.layer}"], f"topic NPMI in layer {view.layer}")
    return f'{table}\n{none}\n<div class="figures">{figure}</div>'


def neuron_page(data: ReportData, view: NeuronView, figures: dict[str, str], previous: NeuronView | None,
                following: NeuronView | None) -> str:
    """One neuron: both pools' topics and sets, the LLM explanation and scores, records, layer baseline."""
    links = ['<a href="../index.html">index</a>']
    if previous is not None:
        links.append(f'<a href="{previous.slug}.html">&larr; layer {previous.layer} neuron {previous.neuron}</a>')
    if following is not None:
        links.append(f'<a href="{following.slug}.html">layer {following.layer} neuron {following.neuron} &rarr;</a>')
    missing = "".join(f'<div class="missing">{esc(m)}</div>' for m in view.missing)
    glance = []
    for p in POLARITIES:
        if view.sides.get(p) is not None:
            best = view.best_npmi(p)
            glance.append(f"{len(view.topics(p))} {p} topic(s)" + ("" if best is None else f", best NPMI {best:.3f}"))
    if view.explanation is not None and view.explanation.score is not None:
        glance.append(f"LLM explanation score {view.explanation.score:.3f}")
    sides = "".join(_side_section(data, view, p) for p in POLARITIES)
    body = f"""<header>
<nav>{"".join(links)}</nav>
<h1>Layer {view.layer}, neuron {view.neuron}</h1>
<p class="glance">{esc("; ".join(glance))}</p>
{_meta(data)}
</header>
<main>
{missing}
<h2>LLM explanation</h2>
{_explanation_section(data, view)}
{_compare_section(data, view)}
{_two_by_two().neuron_section(data, view)}
<h2>Topics</h2>
<p class="note">NPMI: mean pairwise NPMI of the topic's words on the reference corpus; beats random: share of the
layer's random-baseline topics with a lower NPMI.</p>
{sides}
<h2>Activation records</h2>
{_records_section(data, view)}
<h2>Random baseline, layer {view.layer}</h2>
{_baseline_section(data, view, figures)}
</main>"""
    return _page(f"layer {view.layer} neuron {view.neuron}: {data.run.model} {data.run.mode}", body, "../")
