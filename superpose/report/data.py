"""What the report shows, collected from a mining run (any layout) and the optional LLM-path inputs.

Columnar: one row per unit in :class:`UnitTable` (numpy arrays), the topics as the run reader's
table, so a 350,000-unit model is collected in seconds. The report never drops a unit silently:
the units shown are the union of those the run asked for or holds and those of the explanations
and the compare table, each with a bit mask of what it lacks (:data:`MISSING`). Inputs of other
models or corpora are refused before anything is written.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.ranges import parse_range
from superpose.mining.runfile import read_run_file
from superpose.mining.store import RunReader
from superpose.mining.summary import summarize
from superpose.report.inputs import (
    CompareTable,
    Explanation,
    Provenance,
    RecordReader,
    corpus_sources,
    read_compare,
    read_explanations,
)

# What a unit can lack, one bit each (bit i = MISSING[i]); the labels are shown in the report.
MISSING = ("not mined", "pos topics not mined", "neg topics not mined", "not explained", "not in the compare table",
           "no activation records")
PRESENT = ("mined", "pos topics mined", "neg topics mined", "explained", "in the compare table",
           "has activation records")


@dataclass
class RunInfo:
    """The mining run's identity and parameters (from ``run.json``)."""

    folder: Path
    model: str
    mode: str
    corpus_path: str | None
    corpus: tuple[str, ...] | None
    request: dict[str, Any]
    finished: bool


@dataclass
class UnitTable:
    """One row per unit shown, sorted by layer and neuron."""

    layer: np.ndarray
    neuron: np.ndarray
    mined: np.ndarray  # (n, 2) bool: pos, neg mined
    topics: np.ndarray  # (n, 2) int: topics per polarity
    first_topic: np.ndarray  # (n, 2) int: row of the polarity's best topic in the topics table, -1 if none
    missing: np.ndarray  # bit mask over MISSING
    requested: np.ndarray  # bool: the run asked for the unit

    def __len__(self) -> int:
        return len(self.layer)

    def index(self, layer: int, neuron: int) -> int | None:
        keys = (self.layer.astype(np.int64) << 32) | self.neuron
        key = (int(layer) << 32) | int(neuron)
        at = int(np.searchsorted(keys, key))
        return at if at < len(keys) and keys[at] == key else None


@dataclass
class ReportData:
    run: RunInfo
    reader: RunReader
    units: UnitTable
    total_units: int  # before --max-neurons
    topics: Any  # pyarrow Table of the shown units' topics, as RunReader.topics()
    summary: list[dict[str, Any]]
    mined_scores: dict[int, np.ndarray]  # topic NPMI per layer, whole run
    random_scores: dict[int, np.ndarray]  # sorted
    topics_per_neuron: dict[str, dict[int, np.ndarray]]  # "mined"/"random" -> layer -> topics per neuron
    inputs: dict[str, str]
    explanations: dict[tuple[int, int], Explanation] = field(default_factory=dict)
    compare: CompareTable | None = None
    records: RecordReader | None = None
    extra: dict[str, str] = field(default_factory=dict)  # NAME -> PATH for sections of other modules

    @property
    def compare_columns(self) -> list[str]:
        return self.compare.columns if self.compare else []

    def random_share_below(self, layer: int, score: float) -> float | None:
        """Share of the layer's random-baseline topics that score below ``score``."""
        ordered = self.random_scores.get(layer)
        if ordered is None or not len(ordered):
            return None
        return float(np.searchsorted(ordered, score, side="left")) / len(ordered)


def read_run(folder: str | Path) -> RunInfo:
    path = Path(folder)
    found = read_run_file(path)
    if found is None:
        raise SuperposeError(f"{path} holds no mining run (no run.json): pass the {{out}}/{{model}}/{{mode}} "
                             "folder written by `superpose mine`")
    request = found["request"]
    corpus_path = (request.get("corpus") or {}).get("path")
    corpus = None
    meta = Path(corpus_path) / "meta.json" if corpus_path else None
    if meta is not None and meta.is_file():
        corpus = corpus_sources(json.loads(meta.read_text(encoding="utf-8")).get("request", {}).get("sources"))
    return RunInfo(path, str(request["model"]), str(request["mode"]), corpus_path, corpus, request,
                   bool(found.get("finished")))


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


def _requested(request: dict[str, Any]) -> np.ndarray:
    """Unit keys (layer << 32 | neuron) that ``run.json`` asked for, when given as explicit ranges."""
    if any(str(request.get(name, "all")).strip().lower() in ("all", "*") for name in ("layers", "neurons")):
        return np.zeros(0, np.int64)
    try:
        layers = parse_range(request.get("layers"), 1 << 20, "layer")
        neurons = parse_range(request.get("neurons"), 1 << 24, "neuron")
    except SuperposeError:
        return np.zeros(0, np.int64)
    if len(layers) * len(neurons) > 20_000_000:
        return np.zeros(0, np.int64)
    return ((np.asarray(layers, np.int64)[:, None] << 32) | np.asarray(neurons, np.int64)[None, :]).ravel()


def _unit_keys(table: Any) -> np.ndarray:
    return (table["layer"].to_numpy().astype(np.int64) << 32) | table["neuron"].to_numpy().astype(np.int64)


def collect(results: str | Path, *, explanations: str | Path | None = None, records: str | Path | None = None,
            compare: str | Path | None = None, max_neurons: int | None = None,
            extra: dict[str, str] | None = None) -> ReportData:
    """Read and check every input; the units are sorted by layer and neuron, at most ``max_neurons``."""
    run = read_run(results)
    reader = RunReader(run.folder)
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
    record_reader: RecordReader | None = None
    if records is not None:
        record_reader = RecordReader(records)
        provenance.append(record_reader.provenance)
        inputs["records"] = str(records)
    check_provenance(run, provenance)

    pools, all_topics = reader.pools(), reader.topics()
    pool_keys = _unit_keys(pools)
    requested = _requested(run.request)
    others = np.array([(k[0] << 32) | k[1] for k in (*explained, *(table.rows if table else ()))], np.int64)
    keys = np.unique(np.concatenate([pool_keys, requested, others]))
    total = len(keys)
    if max_neurons is not None:
        keys = keys[:max(0, max_neurons)]
    units = _unit_table(keys, pools, pool_keys, all_topics, requested)
    shown = np.isin(_unit_keys(all_topics), keys) if max_neurons is not None else None
    topics = all_topics.filter(shown) if shown is not None else all_topics
    if shown is not None:
        units.first_topic[:] = _first_topics(keys, topics)
    _mark_missing(units, explained, table, record_reader, inputs)

    mined_scores, mined_counts = _layer_stats(reader)
    random_scores: dict[int, np.ndarray] = {}
    random_counts: dict[int, np.ndarray] = {}
    if (run.folder / "random").is_dir():
        try:
            random_reader = RunReader(run.folder / "random")
            random_scores, random_counts = _layer_stats(random_reader)
            random_scores = {layer: np.sort(s) for layer, s in random_scores.items()}
        except SuperposeError:
            pass
    summary = summarize(run.folder) if run.finished else []
    return ReportData(run, reader, units, total, topics, summary, mined_scores, random_scores,
                      {"mined": mined_counts, "random": random_counts}, inputs, explained, table, record_reader,
                      dict(extra or {}))


def _unit_table(keys: np.ndarray, pools: Any, pool_keys: np.ndarray, topics: Any, requested: np.ndarray) -> UnitTable:
    n = len(keys)
    mined = np.zeros((n, 2), bool)
    counts = np.zeros((n, 2), np.int32)
    pol = (pools["polarity"].to_numpy(zero_copy_only=False) == "neg").astype(np.int64)
    at = np.searchsorted(keys, pool_keys)
    inside = (at < n) & (keys[np.minimum(at, n - 1)] == pool_keys) if n else np.zeros(len(pool_keys), bool)
    mined[at[inside], pol[inside]] = True
    counts[at[inside], pol[inside]] = pools["topics"].to_numpy()[inside]
    return UnitTable((keys >> 32).astype(np.int32), (keys & 0xFFFFFFFF).astype(np.int32), mined, counts,
                     _first_topics(keys, topics), np.zeros(n, np.int32), np.isin(keys, requested))


def _first_topics(keys: np.ndarray, topics: Any) -> np.ndarray:
    """Row of each unit-polarity's rank-0 topic in ``topics`` (-1: none)."""
    first = np.full((len(keys), 2), -1, np.int64)
    if topics.num_rows == 0 or not len(keys):
        return first
    rows = np.flatnonzero(topics["rank"].to_numpy() == 0)
    tkeys = _unit_keys(topics)[rows]
    pol = (topics["polarity"].to_numpy(zero_copy_only=False)[rows] == "neg").astype(np.int64)
    at = np.searchsorted(keys, tkeys)
    inside = (at < len(keys)) & (keys[np.minimum(at, len(keys) - 1)] == tkeys)
    first[at[inside], pol[inside]] = rows[inside]
    return first


def _mark_missing(units: UnitTable, explained: dict, table: CompareTable | None, reader: RecordReader | None,
                  inputs: dict[str, str]) -> None:
    none = ~units.mined.any(axis=1)
    units.missing |= none.astype(np.int32) << 0
    units.missing |= (~units.mined[:, 0] & ~none).astype(np.int32) << 1
    units.missing |= (~units.mined[:, 1] & ~none).astype(np.int32) << 2
    pairs = list(zip(units.layer.tolist(), units.neuron.tolist(), strict=True))
    if "explanations" in inputs:
        units.missing |= np.array([p not in explained for p in pairs], bool).astype(np.int32) << 3
    if table is not None:
        units.missing |= np.array([p not in table.rows for p in pairs], bool).astype(np.int32) << 4
    if reader is not None:
        absent = np.array([not reader.has(layer, neuron) for layer, neuron in pairs], bool)
        units.missing |= absent.astype(np.int32) << 5


def missing_labels(mask: int, unit_requested: bool = False) -> list[str]:
    labels = [MISSING[i] for i in range(len(MISSING)) if mask >> i & 1]
    if labels and labels[0] == "not mined":
        labels[0] = "not mined yet (unfinished run)" if unit_requested else "not in the mining results"
    return labels


def _layer_stats(reader: RunReader) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Topic NPMI per layer and topics per neuron (both polarities) per layer."""
    topics, pools = reader.topics(), reader.pools()
    layer, score = topics["layer"].to_numpy(), topics["score"].to_numpy()
    scores = {int(v): score[layer == v] for v in np.unique(layer)}
    keys = _unit_keys(pools)
    unique, inverse = np.unique(keys, return_inverse=True)
    per_unit = np.bincount(inverse, weights=pools["topics"].to_numpy(), minlength=len(unique)).astype(np.int64)
    unit_layer = (unique >> 32).astype(np.int64)
    counts = {int(v): per_unit[unit_layer == v] for v in np.unique(unit_layer)}
    return scores, counts
