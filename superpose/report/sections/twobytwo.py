"""The report's 2x2: topics and LLM explanations, input side and output side.

Reads the rows of a compare table written by ``superpose compare`` (columns ``topics_input``,
``llm_input``, ``topics_output``, ``llm_output`` and their ``_shuffled`` controls). The index gets
a figure (each cell's mean next to its shuffled control, 95% bootstrap intervals) and the 2x2
table; each neuron page gets its own 2x2 with the shuffled controls, the texts and the tokens
steering moved (the section). Tables of an older compare format (no such columns) show nothing.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from superpose.compare.stats import CELLS, SIDES, layer_aggregates
from superpose.report.data import ReportData
from superpose.report.html import esc
from superpose.report.sections import Section

SOURCES = (("topics", "topics"), ("llm", "LLM explanation"))
REAL, SHUFFLED = "#d9480f", "#adb5bd"


def has_2x2(data: ReportData) -> bool:
    return all(c in data.compare_columns for c in CELLS)


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _rows(data: ReportData) -> list[dict[str, Any]]:
    columns = [*CELLS, *(f"{c}_shuffled" for c in CELLS)]
    rows = []
    for (layer, neuron), found in sorted(data.compare.rows.items()) if data.compare else ():
        if found and data.units.index(layer, neuron) is not None:
            rows.append({"layer": layer, **{c: _float(found[0].get(c)) for c in columns}})
    return rows


def write_figure(data: ReportData, assets: Path) -> dict[str, str]:
    """``{"2x2": file name}`` of the index figure, or nothing without a 2x2 compare table."""
    if not has_2x2(data) or not _rows(data):
        return {}
    total = layer_aggregates(_rows(data))[-1]
    fig = Figure(figsize=(6.4, 3.0))
    for i, (side, label) in enumerate((("input", "input side: correlation"),
                                       ("output", "output side: steering AUC"))):
        ax = fig.add_subplot(1, 2, i + 1)
        for j, (source, _name) in enumerate(SOURCES):
            for k, (suffix, color) in enumerate((("", REAL), ("_shuffled", SHUFFLED))):
                key = f"{source}_{side}{suffix}"
                mean, lo, hi = total[key], total[f"{key}_lo"], total[f"{key}_hi"]
                if math.isnan(mean):
                    continue
                err = None if math.isnan(lo) else np.array([[mean - lo], [hi - mean]])
                ax.bar(j + 0.38 * (k - 0.5), mean, 0.36, color=color, yerr=err, capsize=3,
                       label=("real" if k == 0 else "shuffled") if j == 0 else None)
        ax.set_xticks([0, 1], [name for _s, name in SOURCES])
        ax.set_title(label, fontsize=9)
        if side == "output":
            ax.axhline(0.5, color="#495057", lw=0.8, ls=":")
        ax.spines[["top", "right"]].set_visible(False)
    fig.axes[0].legend(frameon=False, fontsize=8)
    path = assets / "compare_2x2.svg"
    with matplotlib.rc_context({"svg.hashsalt": "superpose-report"}):
        fig.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
    return {"2x2": path.name}


def _ci(agg: dict, key: str) -> str:
    mean, lo, hi = agg[key], agg[f"{key}_lo"], agg[f"{key}_hi"]
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.3f}" + ("" if math.isnan(lo) else f" [{lo:.3f}, {hi:.3f}]")


def index_section(data: ReportData, figures: dict[str, str]) -> str:
    """The 2x2 over all compared neurons: figure and table (empty without a 2x2 table)."""
    if not has_2x2(data) or "2x2" not in figures:
        return ""
    total = layer_aggregates(_rows(data))[-1]
    body = []
    for source, name in SOURCES:
        body.append(f"<tr><th>{esc(name)}</th>" + "".join(
            f'<td class="num">{_ci(total, f"{source}_{side}")}<br><span class="note">shuffled '
            f'{_ci(total, f"{source}_{side}_shuffled")}; real &minus; shuffled '
            f'{_ci(total, f"{source}_{side}_minus_shuffled")}</span></td>' for side in SIDES) + "</tr>")
    return f"""<section>
<h2>Topics versus LLM explanations: input and output side</h2>
<p class="note">Input side: correlation of simulated with true activations on held-out records. Output side:
steering AUC of the text against other neurons' texts (0.5 = chance). Shuffled: another neuron's text, same
scorer. Means over {total['neurons']} neurons with 95% bootstrap intervals.</p>
<div class="figures"><figure><img src="assets/{esc(figures['2x2'])}" alt="2x2 comparison"></figure></div>
<table><thead><tr><th></th><th>input side (simulation)</th><th>output side (steering)</th></tr></thead>
<tbody>{"".join(body)}</tbody></table>
</section>"""


TEXTS = (("topics_text", "topic text"), ("topics_neg_text", "negative topic text"),
         ("llm_explanation", "LLM explanation"), ("promoted", "tokens steering promotes"),
         ("suppressed", "tokens steering suppresses"), ("shuffle_partner", "shuffled control from"))


def collect(data: Any, layer: int, neurons: list[int]) -> dict[int, Any]:
    if not has_2x2(data):
        return {}
    found = {}
    for neuron in neurons:
        rows = data.compare.rows.get((layer, neuron))
        if not rows:
            continue
        row = rows[0]
        cells = [[name] + [[_float(row.get(f"{source}_{side}")), _float(row.get(f"{source}_{side}_shuffled"))]
                           for side in SIDES] for source, name in SOURCES]
        found[neuron] = {"cells": cells, "texts": [[label, row[key]] for key, label in TEXTS if row.get(key)]}
    return found


JS = r"""
const c = ctx.data;
if (!c) { return null; }
const rows = c.cells.map(function (cell) {
  return [ctx.esc(cell[0])].concat([1, 2].map(function (i) {
    return ctx.num(cell[i][0]) + ' <span class="note">(shuffled ' + ctx.num(cell[i][1]) + ')</span>';
  }));
});
return ctx.table(["", "input side (correlation)", "output side (steering AUC)"], rows, [1, 2]) + "<ul>" +
  c.texts.map(function (t) { return "<li>" + ctx.esc(t[0]) + ": " + ctx.esc(t[1]) + "</li>"; }).join("") + "</ul>";
"""

SECTION = Section("twobytwo", "Input and output side", JS, collect)
