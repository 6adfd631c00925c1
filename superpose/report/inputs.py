"""The report's one adapter to the LLM path's files and the compare table.

Everything the report knows about the formats of ``superpose.explainer`` (explanation and score JSON
lines, activation-record folders) and of the ``compare`` table lives here, turned into the
plain dataclasses below, so a change of those formats is an edit of this module only.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from superpose.core.errors import SuperposeError

SCORE_KEYS = ("correlation", "r2", "abs_dev_explained", "embedding_auc", "detection", "detection_f1",
              "detection_auc", "fuzzing", "fuzzing_f1", "fuzzing_auc")


@dataclass
class Score:
    """One explanation score: a value, or ``None`` with the reason it is undefined."""

    value: float | None
    reason: str | None = None


@dataclass
class Explanation:
    """A neuron's LLM explanation and the scores of its simulation (either may be missing)."""

    layer: int
    neuron: int
    text: str | None = None
    status: str = "missing"  # "ok", "dead", "error" (the LLM path's statuses) or "missing"
    error: str | None = None
    scores: dict[str, Score] = field(default_factory=dict)
    simulator: str | None = None
    published: dict[str, Score] = field(default_factory=dict)  # an imported explanation's own scores
    origin: str | None = None  # where an imported explanation came from (format, explainer model)

    @property
    def score(self) -> float | None:
        """The headline score: correlation of simulated and true activations."""
        found = self.scores.get("correlation")
        return found.value if found else None


@dataclass
class Provenance:
    """Which model and corpus an input comes from (``None``: the input does not say)."""

    what: str
    model: str | None
    corpus: tuple[str, ...] | None = None
    mode: str | None = None


@dataclass
class Record:
    """One sequence's tokens (text) and one neuron's activation on each."""

    tokens: list[str]
    activations: list[float]
    kind: str  # "top" or "random"


def corpus_sources(sources: Any) -> tuple[str, ...] | None:
    """Source names as a sorted tuple, with ``default`` expanded as the corpus builder does."""
    if sources is None:
        return None
    from superpose.corpus.sources import DEFAULT_SOURCES

    names = [sources] if isinstance(sources, str) else list(sources)
    expanded: set[str] = set()
    for name in names:
        expanded.update(DEFAULT_SOURCES if name == "default" else [str(name)])
    return tuple(sorted(expanded))


def _score(value: Any) -> Score:
    if isinstance(value, dict):
        return Score(None, str(value.get("undefined", "undefined")))
    if value is None:
        return Score(None, "not given")
    number = float(value)
    return Score(None, "not a number") if math.isnan(number) else Score(number)


def _jsonl_files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(path.glob("*.jsonl"))
    if path.is_file():
        return [path]
    raise SuperposeError(f"{path} does not exist: pass the JSON-lines file (or folder of them) written by "
                         "`superpose explain` / `superpose score`")


def _rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue  # a torn last line from a crash mid-write, as the LLM path's own reader does
        if not isinstance(row, dict) or "layer" not in row or "neuron" not in row:
            raise SuperposeError(f"{path}:{line_number} is not an explanation or score row (no layer, neuron)")
        rows.append(row)
    return rows


def read_explanations(path: str | Path) -> tuple[dict[tuple[int, int], Explanation], list[Provenance]]:
    """Explanations and their scores per (layer, neuron), from a JSON-lines file or a folder of them.

    Explanation rows (``superpose explain``) give the text and status; score rows (those with
    ``scores``, from ``superpose score``) give the scores of the explanation whose text they carry.
    A later row for the same neuron replaces an earlier one, as a rerun would.
    """
    explained: dict[tuple[int, int], dict[str, Any]] = {}
    scored: dict[tuple[int, int], list[dict[str, Any]]] = {}
    provenance: dict[tuple[str | None, tuple[str, ...] | None], Provenance] = {}
    for file in _jsonl_files(Path(path)):
        for row in _rows(file):
            key = (int(row["layer"]), int(row["neuron"]))
            corpus = corpus_sources(row.get("corpus"))
            provenance.setdefault((row.get("records_model"), corpus),
                                  Provenance(f"explanations in {path}", row.get("records_model"), corpus))
            if "scores" in row or "explanation_id" in row:
                scored.setdefault(key, []).append(row)
            else:
                explained[key] = row
    result = {}
    for key in sorted(set(explained) | set(scored)):
        result[key] = _merge(key, explained.get(key), scored.get(key, []))
    return result, list(provenance.values())


def _merge(key: tuple[int, int], explained: dict[str, Any] | None, scored: list[dict[str, Any]]) -> Explanation:
    item = Explanation(*key)
    if explained is not None:
        item.status = str(explained.get("status", "ok"))
        item.text = explained.get("explanation")
        item.error = explained.get("error")
        published = explained.get("published_scores")
        if isinstance(published, dict):
            item.published = {str(k): _score(v) for k, v in published.items() if isinstance(v, (int, float, dict))}
        imported = explained.get("imported")
        if isinstance(imported, dict):
            model = (explained.get("explainer") or {}).get("model")
            item.origin = f"imported from {imported.get('format')}" + (f", explained by {model}" if model else "")
    matching = [r for r in scored if item.text is None or r.get("explanation") == item.text]
    if not matching:
        return item
    row = matching[-1]
    if item.text is None:
        item.text, item.status = row.get("explanation"), str(row.get("status", "ok"))
    if row.get("status") not in (None, "ok"):
        item.error = item.error or row.get("error")
    scores = row.get("scores") or {}
    item.scores = {name: _score(scores[name]) for name in SCORE_KEYS if name in scores}
    item.simulator = scores.get("simulator")
    return item


class RecordReader:
    """Top-activating and random records of neurons, from a records folder of the LLM path."""

    def __init__(self, folder: str | Path) -> None:
        from superpose.activations.formats import RecordStore  # imports torch: only when records are asked for

        self.folder = Path(folder)
        self._store = RecordStore(folder)
        self.layers = set(self._store.layers)
        meta = self._store.meta
        self.provenance = Provenance(f"records in {folder}", meta.get("model"),
                                     corpus_sources((meta.get("corpus") or {}).get("sources")))

    @property
    def n_neurons(self) -> int:
        return int(self._store.meta.get("n_neurons", 0))

    def has(self, layer: int, neuron: int) -> bool:
        """Whether the records hold this neuron."""
        return layer in self.layers and 0 <= neuron < self.n_neurons

    def neuron(self, layer: int, neuron: int, top: int, random: int) -> list[Record] | None:
        """Up to ``top`` top-activating and ``random`` random records; ``None`` if not recorded."""
        if layer not in self.layers or not 0 <= neuron < int(self._store.meta.get("n_neurons", 0)):
            return None
        found = self._store.neuron(layer, neuron)
        return [Record(list(r.tokens), [float(a) for a in r.activations], kind)
                for kind, records, count in (("top", found.top, top), ("random", found.random, random))
                for r in records[:count]]


@dataclass
class CompareTable:
    """Rows of the ``compare`` table per (layer, neuron), with its column names."""

    columns: list[str]
    rows: dict[tuple[int, int], list[dict[str, str]]]
    provenance: list[Provenance]


def parse_number(text: str | None) -> float | None:
    """A CSV cell as a number; ``None`` for empty, NaN or text."""
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return None if value is None or math.isnan(value) else value


def read_compare(path: str | Path) -> CompareTable:
    """The compare table: a CSV with ``layer`` and ``neuron`` columns, any others shown as given.

    Optional columns the report understands: ``model``, ``mode`` and ``corpus`` (checked against
    the mining run; a corpus as source names separated by spaces) and ``topic_score`` (plotted
    against the LLM explanation's score, shown in the index).
    """
    file = Path(path)
    if not file.is_file():
        raise SuperposeError(f"{file} does not exist: pass the CSV written by `superpose compare`")
    with open(file, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        columns = list(reader.fieldnames or [])
        if "layer" not in columns or "neuron" not in columns:
            raise SuperposeError(f"{file} has no layer and neuron columns: is it a compare table?")
        rows: dict[tuple[int, int], list[dict[str, str]]] = {}
        provenance: dict[tuple[str | None, tuple[str, ...] | None, str | None], Provenance] = {}
        for row in reader:
            rows.setdefault((int(row["layer"]), int(row["neuron"])), []).append(row)
            corpus = corpus_sources(row["corpus"].split()) if row.get("corpus") else None
            model, mode = row.get("model") or None, row.get("mode") or None
            provenance.setdefault((model, corpus, mode), Provenance(f"compare table {file}", model, corpus, mode))
    return CompareTable(columns, rows, list(provenance.values()))
