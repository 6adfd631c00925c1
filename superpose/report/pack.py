"""The report's data files: compact JavaScript files that the pages load with ``<script src>``.

Pages opened from disk (``file://``) may not fetch JSON, but they may load scripts, so each data
file is one call with a JSON argument. Words are numbers into ``data/words.js``; one file per
layer carries what the neuron pages of that layer show, so a model's report is a few dozen files,
not one page per neuron. Layout in docs/report.md.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from superpose.report.data import MISSING, ReportData
from superpose.report.sections import Section

POLS = ("pos", "neg")


class Vocab:
    """Word -> number, in order of first use."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def __call__(self, words: list[str]) -> list[int]:
        ids = self.ids
        return [ids.setdefault(w, len(ids)) for w in words]

    def words(self) -> list[str]:
        return list(self.ids)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_js(path: Path, call: str, payload: Any, parse: bool = False) -> int:
    """``SP.<call>(<json>);`` into ``path``; returns the bytes written.

    ``parse``: the JSON as a string given to ``JSON.parse``, which browsers read faster than the
    same data as a script literal (worth it for the large files the index needs first).
    """
    data = json.dumps(_clean(payload), separators=(",", ":"), ensure_ascii=False)
    if parse:
        data = "JSON.parse(" + json.dumps(data, ensure_ascii=False) + ")"
    text = f"SP.{call}({data});\n"
    path.write_text(text, encoding="utf-8")
    return len(text.encode("utf-8"))


def _r(value: float) -> float | None:
    return None if not math.isfinite(value) else round(float(value), 4)


def unit_columns(data: ReportData) -> dict[str, Any]:
    """The index table's data: one entry per unit in every column, sparse maps for the LLM inputs."""
    units, topics = data.units, data.topics
    score = topics["score"].to_numpy()
    best_score = np.where(units.first_topic >= 0, score[np.maximum(units.first_topic, 0)], np.nan)
    counts = np.where(units.mined, units.topics, -1)
    columns: dict[str, Any] = {
        "layer": units.layer.tolist(), "neuron": units.neuron.tolist(), "tp": counts[:, 0].tolist(),
        "tn": counts[:, 1].tolist(), "bp": [_r(v) for v in best_score[:, 0].tolist()],
        "bn": [_r(v) for v in best_score[:, 1].tolist()],
        "miss": units.missing.tolist()}
    expl, llm, cmp = {}, {}, {}
    for i, (layer, neuron) in enumerate(zip(units.layer.tolist(), units.neuron.tolist(), strict=True)):
        item = data.explanations.get((layer, neuron))
        if item is not None:
            expl[i] = item.text if item.status == "ok" and item.text else f"({item.status})"
            if item.score is not None:
                llm[i] = _r(item.score)
        if data.compare is not None and "topic_score" in data.compare.columns:
            from superpose.report.inputs import parse_number

            values = [parse_number(r.get("topic_score")) for r in data.compare.rows.get((layer, neuron), [])]
            values = [v for v in values if v is not None]
            if values:
                cmp[i] = _r(max(values))
    columns.update({"expl": expl, "llm": llm, "cmp": cmp})
    return columns


def best_topics(data: ReportData) -> list[str]:
    """Each unit's best topic (either polarity), in the index's row order: a file of its own
    (``data/best.js``), loaded after the table is first drawn, as it is most of the table's bytes."""
    units, topics = data.units, data.topics
    score = topics["score"].to_numpy()
    words = topics["words"].to_numpy(zero_copy_only=False)
    best_score = np.where(units.first_topic >= 0, score[np.maximum(units.first_topic, 0)], -np.inf)
    which = (best_score[:, 1] > best_score[:, 0]).astype(int)
    best_row = units.first_topic[np.arange(len(units)), which]
    return [str(words[r]) if r >= 0 else "" for r in best_row.tolist()]


def topic_columns(data: ReportData, vocab: Vocab) -> dict[str, Any]:
    """Every shown topic, for the index's word search: unit row, polarity, rank, NPMI, words."""
    units, topics = data.units, data.topics
    keys = (units.layer.astype(np.int64) << 32) | units.neuron
    tkeys = (topics["layer"].to_numpy().astype(np.int64) << 32) | topics["neuron"].to_numpy()
    unit = np.searchsorted(keys, tkeys)
    flat: list[int] = []
    lengths = []
    for text in topics["words"].to_numpy(zero_copy_only=False).tolist():
        ids = vocab(text.split())
        flat.extend(ids)
        lengths.append(len(ids))
    return {"unit": unit.tolist(), "pol": (topics["polarity"].to_numpy(zero_copy_only=False) == "neg")
            .astype(int).tolist(), "rank": topics["rank"].to_numpy().tolist(),
            "score": [_r(v) for v in topics["score"].to_numpy().tolist()], "len": lengths, "words": flat}


def layer_payload(data: ReportData, layer: int, vocab: Vocab, sections: list[Section]) -> dict[str, Any]:
    """What the neuron pages of ``layer`` show: per neuron both sides (topics, sets, pool) and section data."""
    units, topics = data.units, data.topics
    rows = np.flatnonzero(units.layer == layer)
    neurons = units.neuron[rows].tolist()
    details = data.reader.layer_details(layer)
    cols = {name: topics[name].to_numpy(zero_copy_only=False) for name in
            ("rank", "score", "status", "gap", "never_cooccur", "words")}
    out: dict[str, Any] = {}
    for row, neuron in zip(rows.tolist(), neurons, strict=True):
        record: dict[str, Any] = {"miss": int(units.missing[row]), "req": bool(units.requested[row]), "s": {}}
        for p, pol in enumerate(POLS):
            if not units.mined[row, p]:
                record[pol] = None
                continue
            first, count = int(units.first_topic[row, p]), int(units.topics[row, p])
            shown = range(first, first + count) if first >= 0 else range(0)
            side: dict[str, Any] = {"t": [[int(cols["rank"][t]), _r(cols["score"][t]), str(cols["status"][t]),
                                           _r(cols["gap"][t]), int(cols["never_cooccur"][t]),
                                           vocab(str(cols["words"][t]).split())] for t in shown]}
            pool, isets = details.get((neuron, pol), (None, None))
            side["pool"] = None if pool is None else vocab(pool)
            side["isets"] = None if isets is None else [vocab(s) for s in isets]
            record[pol] = side
        out[str(neuron)] = record
    for section in sections:
        if section.collect is not None:
            for neuron, value in section.collect(data, layer, neurons).items():
                out[str(neuron)]["s"][section.id] = value
    random = data.random_scores.get(layer)
    return {"layer": layer, "neurons": neurons, "units": out,
            "random": [] if random is None else [round(float(v), 4) for v in random.tolist()]}


def missing_summary(data: ReportData) -> list[dict[str, Any]]:
    """Per kind of missing input: how many units lack it, and whether most do (shown once per report)."""
    n = len(data.units)
    found = []
    for bit, label in enumerate(MISSING):
        count = int(((data.units.missing >> bit) & 1).sum())
        found.append({"bit": bit, "label": label, "count": count, "majority": bool(n and count * 2 > n)})
    return found
