"""The neuron's rows of the compare table, one readable name per column (a name/value list fits any width)."""

from __future__ import annotations

from typing import Any

from superpose.report.sections import Section

HIDDEN = ("layer", "neuron", "model", "mode", "corpus")
LABELS = {
    "topics_pos": "topics, positive pool", "topics_neg": "topics, negative pool",
    "best_npmi_pos": "best topic NPMI, positive", "best_npmi_neg": "best topic NPMI, negative",
    "topic_score_pos": "topic score, positive pool", "topic_score_neg": "topic score, negative pool",
    "topic_score": "topic score (best polarity)", "best_single_topic": "best single topic",
    "best_single_topic_score": "best single topic's score", "topic_auc": "topic embedding AUC",
    "llm_explanation": "LLM explanation", "llm_score": "LLM explanation score", "llm_r2": "LLM R\u00b2",
    "llm_auc": "LLM embedding AUC", "topics_beat_llm": "topics score higher than the LLM", "missing": "missing",
}


def label(column: str) -> str:
    """A compare column's readable name: a known one, else the snake_case name with spaces."""
    return LABELS.get(column, column.replace("_", " "))


def collect(data: Any, layer: int, neurons: list[int]) -> dict[int, Any]:
    if data.compare is None:
        return {}
    columns = [c for c in data.compare.columns if c not in HIDDEN]
    found = {}
    for neuron in neurons:
        rows = data.compare.rows.get((layer, neuron))
        if rows:
            found[neuron] = {"labels": [label(c) for c in columns], "rows": [[r.get(c, "") for c in columns]
                                                                            for r in rows]}
    return found


JS = r"""
if (!ctx.meta.inputs.compare) { return null; }
const c = ctx.data;
if (!c) { return '<p class="note">Not in the compare table.</p>'; }
return c.rows.map(function (row) {
  const cells = c.labels.map(function (name, i) { return [ctx.esc(name), ctx.esc(row[i])]; });
  return ctx.table(["column", "value"], cells, [], "kv");
}).join("");
"""

SECTION = Section("compare", "Comparison", JS, collect)
