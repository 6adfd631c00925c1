"""The LLM explanation of the neuron and the scores of its simulation."""

from __future__ import annotations

from typing import Any

from superpose.report.sections import Section


def collect(data: Any, layer: int, neurons: list[int]) -> dict[int, Any]:
    found = {}
    for neuron in neurons:
        item = data.explanations.get((layer, neuron))
        if item is None:
            continue
        found[neuron] = {"text": item.text, "status": item.status, "error": item.error, "simulator": item.simulator,
                         "scores": [[name, s.value, s.reason] for name, s in item.scores.items()],
                         "published": [[name, s.value, s.reason] for name, s in item.published.items()],
                         "origin": item.origin}
    return found


JS = r"""
if (!ctx.meta.inputs.explanations) { return '<p class="note">No explanations given (--explanations).</p>'; }
const e = ctx.data;
if (!e) { return '<p class="note">Not explained: the explanations hold no row for this neuron.</p>'; }
let html = '<div class="explanation">' +
  (e.text ? '<q>' + ctx.esc(e.text) + '</q>' : '<span class="tag">no explanation text</span>');
if (e.status !== "ok") { html += '<p class="tag">status ' + ctx.esc(e.status) + '</p>'; }
if (e.error) { html += '<p class="note">' + ctx.esc(e.error) + '</p>'; }
if (e.origin) { html += '<p class="note">' + ctx.esc(e.origin) + '</p>'; }
html += '</div>';
if (e.published && e.published.length) {
  html += '<p class="note">Scores published with it (its source\'s, not ours):</p>' +
    ctx.table(["published score", "value", "undefined because"],
      e.published.map(function (s) { return [ctx.esc(s[0]), ctx.num(s[1]), ctx.esc(s[2] || "")]; }), [1]);
}
if (e.scores.length) {
  html += ctx.table(["score", "value", "undefined because"],
    e.scores.map(function (s) { return [ctx.esc(s[0]), ctx.num(s[1]), ctx.esc(s[2] || "")]; }), [1]);
  if (e.simulator) { html += '<p class="note">simulator ' + ctx.esc(e.simulator) + '</p>'; }
} else { html += '<p class="note">Not scored.</p>'; }
return html;
"""

SECTION = Section("explanation", "LLM explanation", JS, collect)
