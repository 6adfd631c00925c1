"""The neuron's own 2x2 of `superpose compare`: topics and LLM explanation, input and output side,
with the shuffled controls, the texts and the tokens steering moved (see ``report/twobytwo.py``
for the index's figure and table)."""

from __future__ import annotations

from typing import Any

from superpose.report.sections import Section
from superpose.report.twobytwo import SOURCES, _float, has_2x2

SIDES = ("input", "output")
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
