"""Top-activating and random records of the neuron as token heatmaps."""

from __future__ import annotations

from typing import Any

from superpose.report.sections import Section

TOP_RECORDS = 5
RANDOM_RECORDS = 5


def collect(data: Any, layer: int, neurons: list[int]) -> dict[int, Any]:
    if data.records is None:
        return {}
    found = {}
    for neuron in neurons:
        records = data.records.neuron(layer, neuron, TOP_RECORDS, RANDOM_RECORDS)
        if records:
            found[neuron] = [{"kind": r.kind, "tokens": r.tokens, "acts": [round(a, 4) for a in r.activations]}
                             for r in records]
    return found


JS = r"""
if (!ctx.meta.inputs.records) { return '<p class="note">No activation records given (--records).</p>'; }
const recs = ctx.data;
if (!recs || !recs.length) { return '<p class="note">No activation records for this neuron.</p>'; }
const top = recs.filter(function (r) { return r.kind === "top"; });
let scale = 0;
(top.length ? top : recs).forEach(function (r) {
  r.acts.forEach(function (a) { scale = Math.max(scale, Math.abs(a)); });
});
function heat(r) {
  const spans = r.tokens.map(function (tok, i) {
    const a = r.acts[i], alpha = scale > 0 ? Math.min(1, Math.abs(a) / scale) : 0;
    const color = a >= 0 ? "217,72,15" : "28,126,214";
    return '<span class="tok" style="background:rgba(' + color + ',' + alpha.toFixed(2) + ')" title="' +
      ctx.esc(a.toPrecision(4)) + '">' + ctx.esc(tok.replace(/\n/g, "\u21b5")) + '</span>';
  });
  return '<div class="record"><span class="max">max ' + Math.max.apply(null, r.acts.concat([0])).toPrecision(3) +
    '</span>' + spans.join("") + '</div>';
}
let html = '<p class="note">Shading: activation / ' + scale.toPrecision(3) +
  ' (the largest activation of the top records); hover a token for its value.</p>';
[["top", "Top-activating records"], ["random", "Random records"]].forEach(function (k) {
  const shown = recs.filter(function (r) { return r.kind === k[0]; });
  html += '<h3>' + k[1] + '</h3>' + (shown.length ? shown.map(heat).join("") : '<p class="note">none</p>');
});
return html;
"""

SECTION = Section("records", "Activation records", JS, collect)
