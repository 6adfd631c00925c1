"""Input-side topics of the neuron (``superpose input-topics``), next to its output-side topics:
topics mined from its top activating words; from ``--input input-topics=RUN`` (the
``{out}/{model}/input`` folder), or without it from the ``input`` run beside the results folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from superpose.report.sections import Section


def collect(data: Any, layer: int, neurons: list[int]) -> dict[int, Any]:
    from superpose.mining.store import read_unit

    run = data.extra.get("input-topics") or Path(data.run.folder).parent / "input"
    if not Path(run).is_dir():
        return {}
    out = {}
    for n in neurons:
        sides = {}
        for polarity in ("pos", "neg"):
            path = Path(run) / f"{layer}_{n}_{polarity}_topics.csv"
            if path.is_file():
                unit = read_unit(Path(run), layer, n, polarity)
                sides[polarity] = [[" ".join(t["words"]), t["score"]] for t in unit["topics"]]
        if sides:
            out[n] = sides
    return out


JS = r'''
if (!ctx.data) { return null; }
var html = '<p class="note">Topics mined, with the same graph and solver, from the words that activate the ' +
  'neuron (pos: its top activating words; neg: the words of its most negative activations).</p>';
["pos", "neg"].forEach(function (p) {
  var topics = ctx.data[p] || [];
  html += '<h3>' + (p === "pos" ? "activating words" : "negative activations") + ': ' + topics.length +
    ' topic(s)</h3>';
  if (topics.length) {
    html += ctx.table(["topic", "NPMI"], topics.map(function (t) { return [ctx.esc(t[0]), ctx.num(t[1])]; }), [1]);
  }
});
return html;
'''

SECTION = Section("input_topics", "Input-side topics", JS, collect)
