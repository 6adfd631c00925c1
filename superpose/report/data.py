"""What the report shows, collected from a mining run and the optional LLM-path inputs.

The report never drops a neuron silently: the neurons shown are the union of those the run asked
for or holds and those of the explanations and compare table, each carrying the list of inputs
it is missing from. Inputs of different models or corpora are refused before anything is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.ranges import parse_range
from superpose.mining.store import POLARITIES, read_bulk, read_unit
from superpose.mining.summary import summarize
from superpose.report.inputs import (
    CompareTable,
    Explanation,
    Provenance,
    Record,
    RecordReader,
    corpus_sources,
    parse_number,
    read_compare,
    read_explanations,
)

TOP_RECORDS = 5
RANDOM_RECORDS = 5
_UNIT_FILE = re.compile(r"^(\d+)_(\d+)_(pos|neg)_topics\.csv$")


@dataclass
class Side:
    """One polarity of a neuron: its pool, shortlisted sets and topics (``None``: not mined)."""

    polarity: str
    pool: list[str]
    isets: list[list[str]]
    topics: list[dict[str, Any]]


@dataclass
class NeuronView:
    """Everything one neuron's page and index row show."""

    layer: int
    neuron: int
    sides: dict[str, Side | None] = field(default_factory=dict)
    explanation: Explanation | None = None
    compare: list[dict[str, str]] = field(default_factory=list)
    records: list[Record] | None = None
    missing: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, int]:
        return (self.layer, self.neuron)

    @property
    def slug(self) -> str:
        return f"L{self.layer}_N{self.neuron}"

    def topics(self, polarity: str) -> list[dict[str, Any]]:
        side = self.sides.get(polarity)
        return side.topics if side else []

    def compare_best(self, column: str) -> float | None:
        """The largest number in a compare-table column among this neuron's rows."""
        values = [v for v in (parse_number(r.get(column)) for r in self.compare) if v is not None]
        return max(values) if values else None

    def best_npmi(self, polarity: str | None = None) -> float | None:
        scores = [t["score"] for p in ([polarity] if polarity else POLARITIES) for t in self.topics(p)]
        return max(scores) if scores else None


@dataclass
class RunInfo:
    """The mining run's identity and parameters (from ``run.json``)."""

    folder: Path
    model: str
    mode: str
    corpus_path: str | None
    corpus: tuple[str, ...] | None
    request: dict[str, Any]


@dataclass
class ReportData:
    run: RunInfo
    neurons: list[NeuronView]
    total_neurons: int
    summary: list[dict[str, Any]]  # superpose.mining.summary rows; empty for an unfinished run
    mined_scores: dict[int, list[float]]  # topic NPMI per layer, whole run
    random_scores: dict[int, list[float]]
    topics_per_neuron: dict[str, dict[int, list[int]]]  # "mined"/"random" -> layer -> topics per neuron
    inputs: dict[str, str]  # what was given: "explanations", "records", "compare" -> path
    compare_columns: list[str] = field(default_factory=list)
    _sorted_random: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def random_share_below(self, layer: int, score: float) -> float | None:
        """Share of the layer's random-baseline topics that score below ``score``."""
        scores = self.random_scores.get(layer)
        if not scores:
            return None
        if layer not in self._sorted_random:  # sorted once per layer: pages ask for every topic
            self._sorted_random[layer] = np.sort(np.asarray(scores, dtype=float))
        ordered = self._sorted_random[layer]
        return float(np.searchsorted(ordered, score, side="left")) / len(ordered)


def read_run(folder: str | Path) -> RunInfo:
    path = Path(folder)
    run_json = path / "run.json"
    if not run_json.is_file():
        raise SuperposeError(f"{path} holds no mining run (no run.json): pass the {{out}}/{{model}}/{{mode}} "
                             "folder written by `superpose mine`")
    request = json.loads(run_json.read_text(encoding="utf-8"))["request"]
    corpus_path = (request.get("corpus") or {}).get("path")
    corpus = None
    meta = Path(corpus_path) / "meta.json" if corpus_path else None
    if meta is not None and meta.is_file():
        corpus = corpus_sources(json.loads(meta.read_text(encoding="utf-8")).get("request", {}).get("sources"))
    return RunInfo(path, str(request["model"]), str(request["mode"]), corpus_path, corpus, request)


def check_provenance(run: RunInfo, others: Iterable[Provenance]) -> None:
    """Refuse inputs of another model or corpus than the run's, naming the first mismatch."""
    for other in others:
        if other.model is not None and other.model != run.model:
            raise SuperposeError(f"model mismatch: results in {run.folder} are of {run.model!r}, "
                                 f"{other.what} of {other.model!r}")
        if other.mode is not None and other.mode != run.mode:
            raise SuperposeError(f"mode mismatch: results in {run.folder} are {run.mode}, {other.what} {other.mode}")
        if other.corpus is not None and run.corpus is not None and other.corpus != run.corpus:
            raise SuperposeError(f"corpus mismatch: results in {run.folder} were mined on corpus "
                                 f"{' '.join(run.corpus)}, {other.what} come from {' '.join(other.corpus)}")


def _mined_units(folder: Path) -> set[tuple[int, int]]:
    return {(int(m.group(1)), int(m.group(2))) for p in folder.iterdir() if (m := _UNIT_FILE.match(p.name))}


def _requested_units(request: dict[str, Any]) -> set[tuple[int, int]]:
    """The units ``run.json`` asked for (explicit ranges, as ``superpose mine`` writes them)."""
    if any(str(request.get(name, "all")).strip().lower() in ("all", "*") for name in ("layers", "neurons")):
        return set()
    try:
        layers = parse_range(request.get("layers"), 1 << 20, "layer")
        neurons = parse_range(request.get("neurons"), 1 << 24, "neuron")
    except SuperposeError:
        return set()
    if len(layers) * len(neurons) > 5_000_000:
        return set()
    return {(layer, neuron) for layer in layers for neuron in neurons}


def _side(folder: Path, layer: int, neuron: int, polarity: str) -> Side | None:
    if not (folder / f"{layer}_{neuron}_{polarity}_topics.csv").is_file():
        return None
    unit = read_unit(folder, layer, neuron, polarity)
    return Side(polarity, unit["pool"], unit["isets"], unit["topics"])


def _bulk_scores(folder: Path) -> tuple[dict[int, list[float]], dict[int, list[int]]]:
    """Topic NPMI per layer and topics per neuron per layer, from a finished run's bulk tables."""
    if not (folder / "pools.csv.gz").is_file():
        return {}, {}
    scores: dict[int, list[float]] = {}
    for row in read_bulk(folder / "topics.csv.gz"):
        scores.setdefault(int(row["layer"]), []).append(float(row["score"]))
    per_neuron: dict[tuple[int, int], int] = {}
    for row in read_bulk(folder / "pools.csv.gz"):
        key = (int(row["layer"]), int(row["neuron"]))
        per_neuron[key] = per_neuron.get(key, 0) + int(row["topics"])
    counts: dict[int, list[int]] = {}
    for (layer, _), n in sorted(per_neuron.items()):
        counts.setdefault(layer, []).append(n)
    return scores, counts


def collect(results: str | Path, *, explanations: str | Path | None = None, records: str | Path | None = None,
            compare: str | Path | None = None, max_neurons: int | None = None) -> ReportData:
    """Read and check every input; the neurons are sorted by layer and neuron, at most ``max_neurons``."""
    run = read_run(results)
    explained: dict[tuple[int, int], Explanation] = {}
    provenance: list[Provenance] = []
    inputs: dict[str, str] = {}
    if explanations is not None:
        explained, provenance = read_explanations(explanations)
        inputs["explanations"] = str(explanations)
    table: CompareTable | None = None
    if compare is not None:
        table = read_compare(compare)
        provenance += table.provenance
        inputs["compare"] = str(compare)
    reader: RecordReader | None = None
    if records is not None:
        reader = RecordReader(records)
        provenance.append(reader.provenance)
        inputs["records"] = str(records)
    check_provenance(run, provenance)

    mined = _mined_units(run.folder)
    requested = _requested_units(run.request)
    keys = sorted(mined | requested | set(explained) | set(table.rows if table else ()))
    total = len(keys)
    if max_neurons is not None:
        keys = keys[:max(0, max_neurons)]
    neurons = [_neuron(run.folder, key, mined, requested, explained, table, reader, inputs) for key in keys]

    mined_scores, mined_counts = _bulk_scores(run.folder)
    if not mined_scores and not mined_counts:  # unfinished run: what the shown neurons hold
        for view in neurons:
            for topics in (view.topics(p) for p in POLARITIES):
                mined_scores.setdefault(view.layer, []).extend(t["score"] for t in topics)
            if view.key in mined:
                mined_counts.setdefault(view.layer, []).append(sum(len(view.topics(p)) for p in POLARITIES))
    random_scores, random_counts = _bulk_scores(run.folder / "random")
    summary = summarize(run.folder) if (run.folder / "pools.csv.gz").is_file() else []
    return ReportData(run, neurons, total, summary, mined_scores, random_scores,
                      {"mined": mined_counts, "random": random_counts}, inputs,
                      table.columns if table else [])


def _neuron(folder: Path, key: tuple[int, int], mined: set[tuple[int, int]], requested: set[tuple[int, int]],
            explained: dict[tuple[int, int], Explanation], table: CompareTable | None,
            reader: RecordReader | None, inputs: dict[str, str]) -> NeuronView:
    layer, neuron = key
    view = NeuronView(layer, neuron)
    if key in mined:
        view.sides = {p: _side(folder, layer, neuron, p) for p in POLARITIES}
        view.missing += [f"{p} topics not mined" for p, side in view.sides.items() if side is None]
    else:
        view.sides = {p: None for p in POLARITIES}
        view.missing.append("not mined yet (unfinished run)" if key in requested else "not in the mining results")
    if "explanations" in inputs:
        view.explanation = explained.get(key)
        if view.explanation is None:
            view.missing.append("not explained")
    if table is not None:
        view.compare = table.rows.get(key, [])
        if not view.compare:
            view.missing.append("not in the compare table")
    if reader is not None:
        view.records = reader.neuron(layer, neuron, TOP_RECORDS, RANDOM_RECORDS)
        if view.records is None:
            view.missing.append("no activation records")
    return view
