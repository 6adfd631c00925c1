"""Where `compare` reads a unit's topics: a mining run folder or an exported topics table.

A run folder (``{out}/{model}/{mode}`` of `superpose mine`) has per-unit files; a topics table
(``topics.csv``, ``.csv.gz`` or ``.csv.xz``, one row per topic with ``model, mode, layer,
neuron, polarity, rank, words, score``) is what a run exports and what this repository commits.
A table lists topics only, so a unit absent from it counts as mined without topics.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import lzma
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from superpose.config import POLARITIES
from superpose.core.errors import SuperposeError
from superpose.mining.runfile import read_run_file
from superpose.mining.store import RunReader, is_done, read_unit

TABLE_COLUMNS = {"model", "mode", "layer", "neuron", "polarity", "rank", "words", "score"}


@dataclass
class TopicSource:
    model: str
    mode: str
    corpus: str
    folder: Path | None = None
    table: dict[tuple[int, int, str], list[dict]] = field(default_factory=dict)
    reader: RunReader | None = field(default=None, repr=False)  # for runs without per-unit files (tables, shards)

    def topics(self, layer: int, neuron: int) -> tuple[list[dict], list[dict]] | None:
        """(positive, negative) topics by rank, or ``None`` when the unit was not mined."""
        if self.folder is None:
            return tuple(sorted(self.table.get((layer, neuron, p), []), key=lambda t: t["rank"])
                         for p in POLARITIES)  # type: ignore[return-value]
        if all(is_done(self.folder, layer, neuron, p) for p in POLARITIES):
            return tuple(read_unit(self.folder, layer, neuron, p)["topics"] for p in POLARITIES)  # type: ignore[return-value]
        self.reader = self.reader or RunReader(self.folder)  # shards or bulk tables: the one run reader
        if not all(self.reader.has(layer, neuron, p) for p in POLARITIES):
            return None
        return tuple(self.reader.unit_topics(layer, neuron, p) for p in POLARITIES)  # type: ignore[return-value]


def _corpus_names(request: dict) -> str:
    meta_path = Path(request["corpus"]["path"]) / "meta.json"
    if not meta_path.is_file():
        return ""
    sources = json.loads(meta_path.read_text(encoding="utf-8")).get("sources", [])
    return " ".join(sorted(s["name"] for s in sources))


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".xz":
        return lzma.open(path, "rt", encoding="utf-8", newline="")  # type: ignore[return-value]
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")  # type: ignore[return-value]
    return open(path, encoding="utf-8", newline="")


def open_topics(results: str | Path, units: set[tuple[int, int]] | None = None) -> TopicSource:
    """A run folder or a topics table (keeping only ``units`` when given); anything else is a
    one-line error saying what to pass."""
    path = Path(results)
    if path.is_dir():
        run = read_run_file(path)
        if run is None:
            raise SuperposeError(f"{path} holds no mining run (run.json): pass the {{out}}/{{model}}/{{mode}} "
                                 "folder of `superpose mine` or its topics.csv(.xz)")
        request = run["request"]
        return TopicSource(request["model"], request["mode"], _corpus_names(request), folder=path)
    if not path.is_file() or not path.name.endswith((".csv", ".csv.gz", ".csv.xz")):
        raise SuperposeError(f"{path} is neither a mining run folder nor a topics table (.csv, .csv.gz, .csv.xz)")
    table: dict[tuple[int, int, str], list[dict]] = defaultdict(list)
    models, modes = set(), set()
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        lacking = TABLE_COLUMNS - set(reader.fieldnames or [])
        if lacking:
            raise SuperposeError(f"{path} lacks the column(s) {', '.join(sorted(lacking))}: is it a topics table?")
        for row in reader:
            models.add(row["model"])
            modes.add(row["mode"])
            if units is not None and (int(row["layer"]), int(row["neuron"])) not in units:
                continue
            table[(int(row["layer"]), int(row["neuron"]), row["polarity"])].append(
                {"rank": int(row["rank"]), "score": float(row["score"]), "words": row["words"].split()})
    if len(models) != 1 or len(modes) != 1:
        raise SuperposeError(f"{path} must hold topics of one model and mode, found {sorted(models)} {sorted(modes)}")
    corpus = ""
    run = read_run_file(path.parent)
    if run is not None:
        corpus = _corpus_names(run["request"])
    return TopicSource(models.pop(), modes.pop(), corpus, table=dict(table))
