"""The random baseline of the neuron's layer: its summary rows and NPMI histogram."""

from __future__ import annotations

from superpose.report.sections import Section

JS = r"""
const rows = ctx.meta.summary.filter(function (r) { return String(r.layer) === String(ctx.unit.layer); });
let html = rows.length ? ctx.summaryTable(rows) :
  '<p class="note">No summary for this layer (unfinished run or no baseline).</p>';
if (!ctx.layer.random.length) {
  html += '<p class="note">Random pools of layer ' + ctx.unit.layer + ' gave no topic (or no baseline was run).</p>';
}
const fig = ctx.meta.figures["layer_" + ctx.unit.layer];
if (fig) {
  html += '<div class="figures"><figure><img src="assets/' + ctx.esc(fig) + '" alt="topic NPMI in layer ' +
    ctx.unit.layer + '"><figcaption>topic NPMI in layer ' + ctx.unit.layer + '</figcaption></figure></div>';
}
return html;
"""

SECTION = Section("baseline", "Random baseline of the layer", JS)
