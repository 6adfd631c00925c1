"""Topics next to LLM explanations, scored by the same yardstick (docs/method.md, "Beside the method").

A unit's topics become explanation texts: one per polarity (its best ``max_topics`` topics) and
one per topic. Each text is scored with the same simulator and scorers, on the same held-out
records, as the LLM's explanation of that neuron (``superpose.llm.jobs.run_score``, resumable).
The per-neuron table then holds the superposition measure (topics per polarity), the best topic
NPMI, the topic scores, and the LLM explanation with its scores; per-layer aggregates say how
often topics beat the LLM and how topic NPMI ranks against the topic's simulation score.

Neurons come from the explanations file; a neuron without mining results or records is kept in
the table with ``missing`` saying what it lacks (never dropped).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.fileio import write_json_atomic, write_text_atomic
from superpose.core.provenance import timestamp, versions
from superpose.mining.store import POLARITIES, is_done, read_unit

COLUMNS = ["model", "mode", "corpus", "layer", "neuron", "topics_pos", "topics_neg", "best_npmi_pos",
           "best_npmi_neg", "topic_score_pos", "topic_score_neg", "topic_score", "best_single_topic",
           "best_single_topic_score", "topic_auc", "llm_explanation", "llm_score", "llm_r2", "llm_auc",
           "topics_beat_llm", "missing"]
LAYER_COLUMNS = ["layer", "neurons", "scored", "mean_llm_score", "mean_topic_score", "share_topics_beat_llm",
                 "spearman_npmi_vs_topic_score", "mean_topics_per_neuron"]


def topic_text(words: list[str]) -> str:
    """A topic read as an explanation."""
    return "words such as " + ", ".join(words)


def polarity_text(topics: list[dict], max_topics: int) -> str:
    """A polarity's best topics read as one explanation (several topics: several themes)."""
    return "; or ".join(topic_text(t["words"]) for t in topics[:max_topics])


def topic_explanations(run: Path, layer: int, neuron: int, max_topics: int) -> dict[str, str]:
    """Label -> explanation text: ``pos``/``neg`` for a polarity, ``pos:0`` for topic 0 of pos."""
    texts: dict[str, str] = {}
    for polarity in POLARITIES:
        topics = read_unit(run, layer, neuron, polarity)["topics"]
        if not topics:
            continue
        texts[polarity] = polarity_text(topics, max_topics)
        for t in topics[:max_topics]:
            texts[f"{polarity}:{t['rank']}"] = topic_text(t["words"])
    return texts


def _value(score: dict | None, name: str = "correlation") -> float:
    """A score's value; undefined (None) and absent become NaN."""
    if not score or score.get(name) is None:
        return math.nan
    value = score[name]
    if isinstance(value, dict):
        value = value.get("value")
    return math.nan if value is None else float(value)


def compare(run_folder: str | Path, explanations: str | Path, records: str | Path, out: str | Path, *,
            simulator: Any, max_topics: int = 3, embedding: bool = True, score_records: int = 0,
            progress: bool = True) -> Path:
    """Score topics and LLM explanations alike; write ``compare.csv(.gz)``, ``layers.csv``, ``summary.md``."""
    from superpose.llm.formats import RecordStore, read_jsonl
    from superpose.llm.jobs import explanation_id, run_score

    run, out = Path(run_folder), Path(out)
    run_json = run / "run.json"
    if not run_json.is_file():
        raise SuperposeError(f"{run} holds no mining run (run.json): pass the {{out}}/{{model}}/{{mode}} folder "
                             "of `superpose mine`")
    request = json.loads(run_json.read_text(encoding="utf-8"))["request"]
    store = RecordStore(records)
    if store.model != request["model"]:
        raise SuperposeError(f"the mining run is of model {request['model']!r} but the records are of "
                             f"{store.model!r}: use records and results of the same model")
    rows = [r for r in read_jsonl(explanations) if r.get("status") in ("ok", "dead", "error")]
    if not rows:
        raise SuperposeError(f"{explanations} holds no explanations: run `superpose explain` first")
    for row in rows:
        if row.get("records_model") not in (None, request["model"]):
            raise SuperposeError(f"{explanations} explains neurons of {row['records_model']!r}, but the mining run "
                                 f"is of {request['model']!r}")
    llm = {(int(r["layer"]), int(r["neuron"])): r for r in rows}
    items: list[tuple[int, int, str]] = []
    labels: dict[tuple[int, int], dict[str, str]] = {}
    missing: dict[tuple[int, int], list[str]] = defaultdict(list)
    recorded_layers = set(store.layers)
    for (layer, neuron), row in sorted(llm.items()):
        if layer not in recorded_layers:
            missing[(layer, neuron)].append("no activation records")
            continue
        if not all(is_done(run, layer, neuron, p) for p in POLARITIES):
            missing[(layer, neuron)].append("not in the mining results")
        else:
            labels[(layer, neuron)] = topic_explanations(run, layer, neuron, max_topics)
            items += [(layer, neuron, text) for text in labels[(layer, neuron)].values()]
        if row.get("status") == "ok":
            items.append((layer, neuron, row["explanation"]))
        else:
            missing[(layer, neuron)].append(f"LLM explanation {row.get('status')}")
    out.mkdir(parents=True, exist_ok=True)
    scores_path = out / "scores.jsonl"
    if items:
        run_score(records, scores_path, simulator=simulator, explanations=items, embedding=embedding,
                  score_records=score_records, progress=progress)
    scored = {(int(r["layer"]), int(r["neuron"]), r.get("explanation_id")): r for r in read_jsonl(scores_path)}

    def score_of(layer: int, neuron: int, text: str) -> dict | None:
        row = scored.get((layer, neuron, explanation_id(text)))
        return row.get("scores") if row and row.get("status") == "ok" else None

    for (layer, neuron, _id), row in scored.items():
        if row.get("status") in ("dead", "error"):
            note = "never activates on the records" if row["status"] == "dead" else f"scoring error: {row.get('error')}"
            if note not in missing[(layer, neuron)]:
                missing[(layer, neuron)].append(note)

    corpus = " ".join(sorted(s["name"] for s in _corpus_sources(request)))
    table = []
    for (layer, neuron), row in sorted(llm.items()):
        texts = labels.get((layer, neuron), {})
        units = {p: read_unit(run, layer, neuron, p)["topics"] if (layer, neuron) in labels else [] for p in POLARITIES}
        singles = {label: _value(score_of(layer, neuron, text)) for label, text in texts.items() if ":" in label}
        best_single = max(singles, key=lambda k: _nan_to(singles[k]), default="")
        pol = {p: _value(score_of(layer, neuron, texts[p])) if p in texts else math.nan for p in POLARITIES}
        topic_score = max((v for v in pol.values() if not math.isnan(v)), default=math.nan)
        best_pol = max(sorted(texts.keys() & set(POLARITIES)), key=lambda p: _nan_to(pol[p]), default=None)
        llm_scores = score_of(layer, neuron, row["explanation"]) if row.get("status") == "ok" else None
        llm_score = _value(llm_scores)
        table.append({
            "model": request["model"], "mode": request["mode"], "corpus": corpus, "layer": layer, "neuron": neuron,
            "topics_pos": len(units["pos"]), "topics_neg": len(units["neg"]),
            "best_npmi_pos": units["pos"][0]["score"] if units["pos"] else math.nan,
            "best_npmi_neg": units["neg"][0]["score"] if units["neg"] else math.nan,
            "topic_score_pos": pol["pos"], "topic_score_neg": pol["neg"], "topic_score": topic_score,
            "best_single_topic": best_single, "best_single_topic_score": singles.get(best_single, math.nan),
            "topic_auc": _value(score_of(layer, neuron, texts[best_pol]), "embedding_auc") if best_pol else math.nan,
            "llm_explanation": row.get("explanation", ""), "llm_score": llm_score,
            "llm_r2": _value(llm_scores, "r2"), "llm_auc": _value(llm_scores, "embedding_auc"),
            "topics_beat_llm": "" if math.isnan(topic_score) or math.isnan(llm_score) else str(topic_score > llm_score),
            "missing": "; ".join(missing.get((layer, neuron), [])),
        })
    _write_outputs(out, table, request)
    write_json_atomic(out / "compare.json", {
        "format": "superpose.compare", "model": request["model"], "mode": request["mode"],
        "results": str(run), "explanations": str(explanations), "records": str(records),
        "simulator": getattr(simulator, "name", None), "simulator_method": getattr(simulator, "method", None),
        "max_topics": max_topics, "score_records": score_records, "embedding": embedding,
        "neurons": len(table), "created": timestamp(), "versions": versions()})
    return out


def _corpus_sources(request: dict) -> list[dict]:
    meta_path = Path(request["corpus"]["path"]) / "meta.json"
    if not meta_path.is_file():
        return []
    return json.loads(meta_path.read_text(encoding="utf-8")).get("sources", [])


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)


def layer_aggregates(table: list[dict]) -> list[dict]:
    """Per layer and over all: means, share where topics beat the LLM, Spearman(NPMI, topic score)."""
    from scipy.stats import spearmanr

    groups: dict[str, list[dict]] = defaultdict(list)
    for row in table:
        groups[str(row["layer"])].append(row)
        groups["all"].append(row)
    out = []
    for layer in sorted(groups, key=lambda g: (g == "all", int(g) if g != "all" else 0)):
        rows = groups[layer]
        both = [r for r in rows if r["topics_beat_llm"] != ""]
        pairs = [(max(_nan_to(r["best_npmi_pos"]), _nan_to(r["best_npmi_neg"])), r["topic_score"]) for r in rows
                 if not math.isnan(r["topic_score"])]
        wins = sum(r["topics_beat_llm"] == "True" for r in both)
        rho = math.nan
        if len(pairs) >= 3 and len({p[0] for p in pairs}) > 1 and len({p[1] for p in pairs}) > 1:
            rho = float(spearmanr([p[0] for p in pairs], [p[1] for p in pairs]).statistic)
        out.append({
            "layer": layer, "neurons": len(rows), "scored": len(both),
            "mean_llm_score": _nanmean([r["llm_score"] for r in rows]),
            "mean_topic_score": _nanmean([r["topic_score"] for r in rows]),
            "share_topics_beat_llm": wins / len(both) if both else math.nan,
            "spearman_npmi_vs_topic_score": rho,
            "mean_topics_per_neuron": float(np.mean([r["topics_pos"] + r["topics_neg"] for r in rows])),
        })
    return out


def _nan_to(value: float, default: float = -math.inf) -> float:
    return default if math.isnan(value) else value


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return float(np.mean(finite)) if finite else math.nan


def _csv(columns: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: _fmt(row[k]) for k in columns} for row in rows)
    return buffer.getvalue()


def _write_outputs(out: Path, table: list[dict], request: dict) -> None:
    from superpose.core.fileio import atomic_gzip_text

    text = _csv(COLUMNS, table)
    write_text_atomic(out / "compare.csv", text)
    with atomic_gzip_text(out / "compare.csv.gz") as gz:
        gz.write(text)
    layers = layer_aggregates(table)
    write_text_atomic(out / "layers.csv", _csv(LAYER_COLUMNS, layers))
    lines = [f"# Topics versus LLM explanations: {request['model']} {request['mode']}", "",
             "Scores: correlation between simulated and true activations, pooled over the held-out tokens.", "",
             "| layer | neurons | scored | mean LLM score | mean topic score | topics beat LLM | "
             "Spearman(best NPMI, topic score) | topics per neuron |", "|---|---|---|---|---|---|---|---|"]
    for r in layers:
        lines.append("| " + " | ".join(_fmt(r[c]) if not isinstance(r[c], float) else
                                          ("" if math.isnan(r[c]) else f"{r[c]:.3f}") for c in LAYER_COLUMNS) + " |")
    missing = [r for r in table if r["missing"]]
    if missing:
        lines += ["", f"{len(missing)} neuron(s) lack an input: "
                  + ", ".join(f"{r['layer']}/{r['neuron']} ({r['missing']})" for r in missing)]
    write_text_atomic(out / "summary.md", "\n".join(lines) + "\n")
