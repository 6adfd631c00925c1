"""Topics against LLM explanations, each scored on the input and on the output side (a 2x2;
docs/method.md, "Beside the method").

Per neuron there is one text per source: the topics (its best ``max_topics`` positive topics,
"words such as ...": what the unit promotes) and the LLM's explanation (what makes it fire).
Both are scored on the *input side* (simulation on the same held-out records,
:func:`superpose.explainer.jobs.run_score`, resumable) and on the *output side* (steering the unit
while the model reads the same neutral prompts, :mod:`superpose.activations.steering`), each next to a
*shuffled control*: the same scorer given the explanation of another unit of the same layer. The
negative topics (what the unit suppresses) are scored on both sides too, as extra columns, with
the output side reading their claim as "suppresses".

Neurons come from the explanations file; a neuron that lacks an input keeps its row with
``missing`` saying what (never dropped). Statistics: :mod:`superpose.compare.stats`.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections import defaultdict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from superpose.compare.stats import layer_aggregates, summary_markdown
from superpose.compare.topics import TopicSource, open_topics
from superpose.config import CompareParams
from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_gzip_text, write_json_atomic, write_text_atomic
from superpose.core.provenance import timestamp, versions
from superpose.core.tables import csv_text

CELLS = ("topics_input", "llm_input", "topics_output", "llm_output")
ENSEMBLE_CELLS = ("ensemble_input", "ensemble_output")
SOURCES = ("topics", "llm", "ensemble")  # each scored on both sides with its shuffled control
COLUMNS = ["model", "mode", "corpus", "layer", "neuron", *CELLS, *(f"{c}_shuffled" for c in CELLS),
           *ENSEMBLE_CELLS, *(f"{c}_shuffled" for c in ENSEMBLE_CELLS),
           "topics_neg_input", "topics_neg_output", "topics_output_rank", "llm_output_rank", "ensemble_output_rank",
           "distractors", "shuffle_partner", "topics_text", "topics_neg_text", "llm_explanation", "ensemble_text",
           "llm_source", "llm_published_score",
           "llm_published_score_name", "topics_pos", "topics_neg",
           "best_npmi_pos", "best_npmi_neg", "llm_r2", "llm_r2_vs_zero", "topics_r2", "topics_r2_vs_zero",
           "clamp_value", "promoted", "suppressed", "missing"]


def topic_text(words: list[str]) -> str:
    """A topic read as an explanation."""
    return "words such as " + ", ".join(words)


def polarity_text(topics: list[dict], max_topics: int) -> str:
    """A polarity's best topics read as one explanation (several topics: several themes)."""
    return "; or ".join(topic_text(t["words"]) for t in topics[:max_topics])


def ensemble_text(topics: str, explanation: str) -> str:
    """Topics and the LLM explanation joined into one text: what the unit promotes and what makes
    it fire, as the concatenated input- and output-centric descriptions of Gur-Arieh et al. 2025."""
    return f"{explanation}; {topics}"


@dataclass
class Unit:
    layer: int
    neuron: int
    texts: dict[str, str]  # "topics", "topics_neg", "llm", "ensemble" -> text (absent: none)
    pos: list[dict]
    neg: list[dict]
    missing: list[str]
    partner: tuple[int, int] | None = None
    origin: str = ""  # where an imported explanation came from (format and explainer), "" for `explain`'s
    published: dict | None = None  # the source's own headline score of it: {"name", "value"}


def _value(score: dict | None, name: str = "correlation") -> float:
    """A score's value; undefined (a dict saying why) and absent become NaN."""
    if not score or score.get(name) is None:
        return math.nan
    value = score[name]
    return math.nan if isinstance(value, dict) else float(value)


def _units(llm_rows: list[dict], topics: TopicSource, recorded: set[int], max_topics: int) -> list[Unit]:
    units = []
    for row in sorted(llm_rows, key=lambda r: (int(r["layer"]), int(r["neuron"]))):
        layer, neuron = int(row["layer"]), int(row["neuron"])
        missing: list[str] = []
        found = topics.topics(layer, neuron)
        pos, neg = found if found is not None else ([], [])
        if found is None:
            missing.append("not in the mining results")
        texts: dict[str, str] = {}
        if pos:
            texts["topics"] = polarity_text(pos, max_topics)
        elif found is not None:
            missing.append("no positive topic")
        if neg:
            texts["topics_neg"] = polarity_text(neg, max_topics)
        explanation = str(row.get("explanation") or "").strip()
        if row.get("status") != "ok":
            missing.append(f"LLM explanation {row.get('status')}")
        elif not explanation:
            missing.append("LLM explanation empty")
        else:
            texts["llm"] = explanation
        if "topics" in texts and "llm" in texts:
            texts["ensemble"] = ensemble_text(texts["topics"], texts["llm"])
        if layer not in recorded:
            missing.append("no activation records")
        imported = row.get("imported") or {}
        origin = " ".join(str(p) for p in (imported.get("format"), (row.get("explainer") or {}).get("model")) if p)
        units.append(Unit(layer, neuron, texts, pos, neg, missing, origin=origin,
                          published=row.get("published_score") if isinstance(row.get("published_score"), dict)
                          else None))
    by_layer: dict[int, list[Unit]] = defaultdict(list)
    for u in units:
        by_layer[u.layer].append(u)
    for i, u in enumerate(units):  # shuffle partner: the next unit of the same layer (cyclic)
        peers = by_layer[u.layer]
        if len(peers) > 1:
            other = peers[(peers.index(u) + 1) % len(peers)]
        elif len(units) > 1:
            other = units[(i + 1) % len(units)]
        else:
            continue
        u.partner = (other.layer, other.neuron)
    return units


def scorer_columns(scorers: tuple[str, ...]) -> list[str]:
    """The table's columns of the extra input-side scorers: topics_NAME, llm_NAME, ensemble_NAME, their
    shuffled controls and, for detection and fuzzing, their AUC (``_auc``)."""
    cols = []
    for name in scorers:
        for suffix in ("", "_auc"):
            cols += [f"{src}_{name}{suffix}{ctl}" for src in SOURCES for ctl in ("", "_shuffled")]
    return cols


def compare(results: str | Path, explanations: str | Path, records: str | Path, out: str | Path, *,
            simulator: Any, steerer: Any, params: CompareParams | None = None,
            progress: bool = True, judge: Any = None) -> Path:
    """Score topics and LLM explanations on both sides; write the table, aggregates and summary.

    ``judge`` (a :class:`~superpose.explainer.scorers.classifier.Judging`) serves the detection and
    fuzzing scorers named in ``params.scorers``."""
    from superpose.activations.formats import RecordStore, read_jsonl

    params = params or CompareParams()
    store = RecordStore(records)
    rows = [r for r in read_jsonl(explanations) if r.get("status") in ("ok", "dead", "error")]
    if not rows:
        raise SuperposeError(f"{explanations} holds no explanations: run `superpose explain` first")
    topics = open_topics(results, {(int(r["layer"]), int(r["neuron"])) for r in rows})
    if store.model != topics.model:
        raise SuperposeError(f"the mining run is of model {topics.model!r} but the records are of "
                             f"{store.model!r}: use records and results of the same model")
    if steerer.model_name != store.model:
        raise SuperposeError(f"the records are of model {store.model!r} but steering runs "
                             f"{steerer.model_name!r}: steer the model the records come from")
    recorded, steered = store.meta.get("units"), getattr(steerer, "units_identity", None)
    if (recorded or {}).get("decoder_sha256") != (steered or {}).get("decoder_sha256"):
        held = "MLP neurons" if not recorded else f"the units of {recorded.get('path')}"
        steers = "MLP neurons" if not steered else f"the units of {steered.get('path')}"
        raise SuperposeError(f"the records hold {held} but steering clamps {steers}: steer the units the "
                             "records were made from")
    for row in rows:
        if row.get("records_model") not in (None, store.model):
            raise SuperposeError(f"{explanations} explains neurons of {row['records_model']!r}, but the records "
                                 f"are of {store.model!r}")
    units = _units(rows, topics, set(store.layers), params.max_topics)
    index = {(u.layer, u.neuron): u for u in units}
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    inputs = _input_scores(units, index, records, out, simulator, params, progress, judge)
    outputs = _output_scores(units, index, store, steerer, out, progress)
    table = [_row(u, index, inputs, outputs, topics, params.scorers) for u in units]
    _write_outputs(out, table, params, topics)
    write_json_atomic(out / "compare.json", {
        "format": "superpose.compare", "format_version": 2, "model": topics.model, "mode": topics.mode,
        "results": str(results), "explanations": str(explanations), "records": str(records),
        "records_tokens": store.meta.get("n_tokens"), "simulator": getattr(simulator, "name", None),
        "simulator_method": getattr(simulator, "method", None), "steering": steerer.describe(),
        "input_score": "correlation", "output_score": "steering_auc", **asdict(params),
        "judge": None if judge is None else {"model": judge.judge.name, "method": judge.judge.method,
                                             **asdict(judge.params)},
        "neurons": len(table), "created": timestamp(), "versions": versions()})
    return out


def _input_scores(units: list[Unit], index: dict, records: str | Path, out: Path, simulator: Any,
                  params: CompareParams, progress: bool, judge: Any = None) -> dict[tuple[int, int, str], dict]:
    """(layer, neuron, text) -> the score row of that text simulated on that neuron's records."""
    from superpose.activations.formats import read_jsonl
    from superpose.explainer.jobs import explanation_id, run_score

    items = []
    for u in units:
        if "no activation records" in u.missing:
            continue
        items += [(u.layer, u.neuron, t) for t in u.texts.values()]
        if u.partner is not None:
            items += [(u.layer, u.neuron, t) for k, t in index[u.partner].texts.items() if k in SOURCES]
    path = out / "scores.jsonl"
    if items:
        run_score(records, path, simulator=simulator, explanations=items, embedding=params.embedding,
                  score_records=params.score_records, calibration=params.calibration, progress=progress,
                  scorers=params.scorers, judge=judge)
    by_id = {(int(r["layer"]), int(r["neuron"]), r.get("explanation_id")): r for r in read_jsonl(path)}
    return {(layer, neuron, text): by_id[(layer, neuron, explanation_id(text))]
            for layer, neuron, text in items if (layer, neuron, explanation_id(text)) in by_id}


def _output_scores(units: list[Unit], index: dict, store: Any, steerer: Any, out: Path,
                   progress: bool) -> dict[tuple[int, int], dict]:
    """Per neuron: its steering effect summary and the steering AUC of each text, real and shuffled."""
    from superpose.activations.steering import clamp_value
    from superpose.explainer.jobs import _progress
    from superpose.explainer.scorers import Evidence, get_scorer
    from superpose.explainer.scorers.steering_auc import rank_among

    effects, results, seconds = {}, {}, {}
    live = [u for u in units if "no activation records" not in u.missing]
    with _progress(len(live), "steer", progress) as bar:
        for u in live:
            records = store.neuron(u.layer, u.neuron)
            peaks = [float(np.max(r.activations)) for r in records.top]
            if not peaks or records.stats["max"] <= 0:
                results[(u.layer, u.neuron)] = {"status": "dead"}
            else:
                start = time.monotonic()
                effects[(u.layer, u.neuron)] = steerer.effect(u.layer, u.neuron, clamp_value(peaks, steerer.params))
                seconds[(u.layer, u.neuron)] = round(time.monotonic() - start, 3)
            bar.update(1)
    lines = [json.dumps({**e.summary(), "status": "ok", "seconds": seconds[k]}, sort_keys=True)
             for k, e in effects.items()]
    write_text_atomic(out / "steering.jsonl", "".join(line + "\n" for line in lines))
    if not effects:
        return results
    reference = np.mean([e.delta for e in effects.values()], axis=0)
    scorer = get_scorer("steering_auc")
    for key, effect in effects.items():
        u, centered = index[key], effects[key].centered(reference)
        partner = index[u.partner] if u.partner is not None else None
        row: dict[str, Any] = {"status": "ok", "effect": effect}
        for source in (*SOURCES, "topics_neg"):
            pool = "topics" if source == "topics_neg" else source
            skip = {key, u.partner}
            distractors = [v.texts[s] for k, v in index.items() if k not in skip
                           for s in ((pool, "topics_neg") if source == "topics_neg" else (pool,)) if s in v.texts]
            claim = "suppresses" if source == "topics_neg" else "promotes"
            cases = {source: u.texts.get(source)}
            if source != "topics_neg":
                cases[f"{source}_shuffled"] = partner.texts.get(source) if partner else None
            for name, text in cases.items():
                if text is None:
                    continue
                evidence = Evidence(text, effect=centered, effect_words=steerer.word_tokens,
                                    distractors=distractors, claim=claim)
                row[name] = scorer.score(evidence).value
                if name in SOURCES:
                    row[f"{name}_rank"] = rank_among(evidence)
            row["distractors"] = len(distractors) if source == "llm" else row.get("distractors")
        results[key] = row
    return results


def _row(u: Unit, index: dict, inputs: dict, outputs: dict, topics: TopicSource,
         scorers: tuple[str, ...]) -> dict[str, Any]:
    def input_score(text: str | None, name: str = "correlation") -> float:
        hit = inputs.get((u.layer, u.neuron, text)) if text else None
        return _value(hit.get("scores") if hit and hit.get("status") == "ok" else None, name)

    partner = index[u.partner] if u.partner is not None else None
    out = outputs.get((u.layer, u.neuron), {})
    missing = list(u.missing)
    statuses = {inputs[(u.layer, u.neuron, t)].get("status") for t in u.texts.values()
                if (u.layer, u.neuron, t) in inputs}
    if "dead" in statuses or out.get("status") == "dead":
        missing.append("never activates on the records")
    if "error" in statuses:
        missing.append("input-side scoring error")
    effect = out.get("effect")

    def output(name: str) -> float:
        value = out.get(name)
        return math.nan if value is None else float(value)

    ptext = partner.texts if partner else {}
    extra = {f"{src}_{name}{suffix}{ctl}": input_score(texts.get(src), name + suffix)
             for name in scorers for suffix in ("", "_auc") for src in SOURCES
             for ctl, texts in (("", u.texts), ("_shuffled", ptext))}
    return {**extra,
        "model": topics.model, "mode": topics.mode, "corpus": topics.corpus, "layer": u.layer, "neuron": u.neuron,
        "topics_input": input_score(u.texts.get("topics")), "llm_input": input_score(u.texts.get("llm")),
        "topics_output": output("topics"), "llm_output": output("llm"),
        "topics_input_shuffled": input_score(ptext.get("topics")), "llm_input_shuffled": input_score(ptext.get("llm")),
        "topics_output_shuffled": output("topics_shuffled"), "llm_output_shuffled": output("llm_shuffled"),
        "ensemble_input": input_score(u.texts.get("ensemble")), "ensemble_output": output("ensemble"),
        "ensemble_input_shuffled": input_score(ptext.get("ensemble")),
        "ensemble_output_shuffled": output("ensemble_shuffled"),
        "topics_neg_input": input_score(u.texts.get("topics_neg")), "topics_neg_output": output("topics_neg"),
        "topics_output_rank": output("topics_rank"), "llm_output_rank": output("llm_rank"),
        "ensemble_output_rank": output("ensemble_rank"), "ensemble_text": u.texts.get("ensemble", ""),
        "distractors": output("distractors"),
        "shuffle_partner": "" if u.partner is None else f"{u.partner[0]}/{u.partner[1]}",
        "topics_text": u.texts.get("topics", ""), "topics_neg_text": u.texts.get("topics_neg", ""),
        "llm_explanation": u.texts.get("llm", ""), "llm_source": u.origin,
        "llm_published_score": _value(u.published, "value"),
        "llm_published_score_name": (u.published or {}).get("name") or "",
        "topics_pos": len(u.pos), "topics_neg": len(u.neg),
        "best_npmi_pos": u.pos[0]["score"] if u.pos else math.nan,
        "best_npmi_neg": u.neg[0]["score"] if u.neg else math.nan,
        "llm_r2": input_score(u.texts.get("llm"), "r2"),
        "llm_r2_vs_zero": input_score(u.texts.get("llm"), "r2_vs_zero"),
        "topics_r2": input_score(u.texts.get("topics"), "r2"),
        "topics_r2_vs_zero": input_score(u.texts.get("topics"), "r2_vs_zero"),
        "clamp_value": effect.value if effect else math.nan,
        "promoted": " ".join(t.strip() or repr(t) for t in effect.promoted[:8]) if effect else "",
        "suppressed": " ".join(t.strip() or repr(t) for t in effect.suppressed[:8]) if effect else "",
        "missing": "; ".join(dict.fromkeys(missing)),
    }


def table_csv(columns: list[str], rows: list[dict]) -> str:
    return csv_text(columns, rows, spec=".6g")


def _write_outputs(out: Path, table: list[dict], params: CompareParams, topics: TopicSource) -> None:
    text = table_csv(COLUMNS + scorer_columns(params.scorers), table)
    write_text_atomic(out / "compare.csv", text)
    with atomic_gzip_text(out / "compare.csv.gz") as gz:
        gz.write(text)
    layers = layer_aggregates(table, params.bootstrap, params.seed)
    write_text_atomic(out / "layers.csv", table_csv(list(layers[0]), layers))
    write_text_atomic(out / "summary.md", summary_markdown(table, layers, f"{topics.model} {topics.mode}")
                      + published_summary(table))


def published_summary(table: list[dict]) -> str:
    """A paragraph setting imported explanations' published scores beside ours (empty without any)."""
    pairs = [(r["llm_published_score"], r["llm_input"]) for r in table
             if not math.isnan(r["llm_published_score"]) and not math.isnan(r["llm_input"])]
    names = sorted({r["llm_published_score_name"] for r in table if r["llm_published_score_name"]})
    if not names or all(math.isnan(r["llm_published_score"]) for r in table):
        return ""
    published = [r["llm_published_score"] for r in table if not math.isnan(r["llm_published_score"])]
    text = (f"\n## Published scores\n\nThe LLM explanations were imported with their source's own scores "
            f"({', '.join(names)}; column llm_published_score): mean {np.mean(published):.3f} over "
            f"{len(published)} neurons")
    if len(pairs) >= 3 and np.ptp([p for p, _ in pairs]) > 0 and np.ptp([o for _, o in pairs]) > 0:
        ours = float(np.mean([o for _, o in pairs]))
        r = float(np.corrcoef(np.array(pairs).T)[0, 1])
        text += (f"; on the {len(pairs)} neurons with both, our input-side score (llm_input) has mean {ours:.3f} "
                 f"and correlates {r:.3f} with the published one (Pearson over neurons)")
    return text + ".\n"


def summarize(out: str | Path, params: CompareParams | None = None) -> Path:
    """Rebuild ``layers.csv`` and ``summary.md`` from ``compare.csv`` (other bootstrap settings,
    or statistics added after the scores were made) without scoring anything again."""
    out, params = Path(out), params or CompareParams()
    path = out / "compare.csv"
    if not path.is_file():
        raise SuperposeError(f"{path} does not exist: run `superpose compare` first")
    with open(path, encoding="utf-8", newline="") as fh:
        table = [{k: _parse(k, v) for k, v in row.items()} for row in csv.DictReader(fh)]
    layers = layer_aggregates(table, params.bootstrap, params.seed)
    write_text_atomic(out / "layers.csv", table_csv(list(layers[0]), layers))
    title = f"{table[0]['model']} {table[0]['mode']}" if table else ""
    write_text_atomic(out / "summary.md", summary_markdown(table, layers, title)
                      + (published_summary(table) if table and "llm_published_score" in table[0] else ""))
    return out


def _parse(column: str, value: str) -> Any:
    """A compare.csv cell back as written: numbers of the score columns as floats (empty: NaN)."""
    if column in ("layer", "neuron"):
        return int(value)
    if column in CELLS + ENSEMBLE_CELLS or column.endswith(("_shuffled", "_auc")) \
            or column == "llm_published_score" \
            or column.startswith(tuple(f"{s}_" for s in SOURCES)) and column.split("_", 1)[1] in ("detection",
                                                                                                 "fuzzing"):
        return float(value) if value else math.nan
    return value
