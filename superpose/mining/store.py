"""Mining outputs in the paper's per-neuron layout, and the bulk tables of a whole run.

Per unit and polarity, under ``{out}/{model}/{mode}/``::

    {layer}_{neuron}_{polarity}_pool.txt     the pool's words, one per line, by logit rank
    {layer}_{neuron}_{polarity}_isets.csv    header ``iset,size,words``; one shortlisted set per row
    {layer}_{neuron}_{polarity}_topics.csv   header ``rank,score,status,gap,never_cooccur,words``;
                                             one topic per row, best score first

An empty file means nothing was found (no words, no iset, no topic). ``words`` are separated by
single spaces; a topic's words are sorted alphabetically. Each file is written atomically, and
the topics file last: its presence marks the unit and polarity as finished (resume).

Bulk tables of a run (``{out}/{model}/{mode}/``): ``topics.csv.gz`` (every topic: model, mode,
layer, neuron, polarity, rank, words, score, status, gap, never_cooccur) and ``pools.csv.gz``
(every unit and polarity: pool size, isets, topics), plus Parquet copies when pyarrow is
installed.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Iterable
from pathlib import Path

from superpose.config import POLARITIES
from superpose.core.fileio import atomic_gzip_text, atomic_path, write_text_atomic
from superpose.mining.pool import PoolResult

TOPIC_COLUMNS = ["rank", "score", "status", "gap", "never_cooccur", "words"]
ISET_COLUMNS = ["iset", "size", "words"]
BULK_TOPIC_COLUMNS = ["model", "mode", "layer", "neuron", "polarity", "rank", "words", "score", "status", "gap",
                      "never_cooccur"]
BULK_POOL_COLUMNS = ["model", "mode", "layer", "neuron", "polarity", "pool_size", "isets", "topics"]


def unit_prefix(folder: Path, layer: int, neuron: int, polarity: str) -> Path:
    return folder / f"{layer}_{neuron}_{polarity}"


def _csv_text(header: list[str], rows: list[list]) -> str:
    if not rows:
        return ""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _number(value: float) -> str:
    return "nan" if math.isnan(value) else repr(float(value))


def write_unit(folder: Path, layer: int, neuron: int, polarity: str, pool_words: list[str],
               result: PoolResult, vocab: list[str]) -> None:
    """Write one unit-polarity's three files, the topics file last."""
    prefix = unit_prefix(folder, layer, neuron, polarity)
    write_text_atomic(f"{prefix}_pool.txt", "".join(w + "\n" for w in pool_words))
    isets = [[i, len(iset), " ".join(vocab[w] for w in iset)] for i, iset in enumerate(result.isets)]
    write_text_atomic(f"{prefix}_isets.csv", _csv_text(ISET_COLUMNS, isets))
    topics = [[rank, _number(t.score), t.status, _number(t.gap), t.never_cooccur,
               " ".join(sorted(vocab[w] for w in t.words))] for rank, t in enumerate(result.topics)]
    write_text_atomic(f"{prefix}_topics.csv", _csv_text(TOPIC_COLUMNS, topics))


def is_done(folder: Path, layer: int, neuron: int, polarity: str) -> bool:
    return Path(f"{unit_prefix(folder, layer, neuron, polarity)}_topics.csv").is_file()


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    """Rows of a per-unit CSV (an empty file has none)."""
    text = Path(path).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text))) if text else []


def read_unit(folder: Path, layer: int, neuron: int, polarity: str) -> dict:
    """One unit-polarity's files back as plain values (words as lists, numbers as numbers)."""
    prefix = unit_prefix(folder, layer, neuron, polarity)
    pool = Path(f"{prefix}_pool.txt").read_text(encoding="utf-8").split()
    isets = [row["words"].split() for row in read_csv_rows(Path(f"{prefix}_isets.csv"))]
    topics = [{"rank": int(r["rank"]), "score": float(r["score"]), "status": r["status"], "gap": float(r["gap"]),
               "never_cooccur": int(r["never_cooccur"]), "words": r["words"].split()}
              for r in read_csv_rows(Path(f"{prefix}_topics.csv"))]
    return {"pool": pool, "isets": isets, "topics": topics}


def write_bulk(folder: Path, model: str, mode: str, units: Iterable[tuple[int, int]]) -> dict[str, int]:
    """Collect the per-unit files of ``units`` (layer, neuron) into the bulk tables."""
    topic_rows, pool_rows = [], []
    for layer, neuron in units:
        for polarity in POLARITIES:
            unit = read_unit(folder, layer, neuron, polarity)
            pool_rows.append([model, mode, layer, neuron, polarity, len(unit["pool"]), len(unit["isets"]),
                              len(unit["topics"])])
            for t in unit["topics"]:
                topic_rows.append([model, mode, layer, neuron, polarity, t["rank"], " ".join(t["words"]),
                                   _number(t["score"]), t["status"], _number(t["gap"]), t["never_cooccur"]])
    _write_gz_csv(folder / "topics.csv.gz", BULK_TOPIC_COLUMNS, topic_rows)
    _write_gz_csv(folder / "pools.csv.gz", BULK_POOL_COLUMNS, pool_rows)
    _write_parquet(folder / "topics.parquet", BULK_TOPIC_COLUMNS, topic_rows)
    return {"topics": len(topic_rows), "pools": len(pool_rows)}


def _write_gz_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with atomic_gzip_text(path) as text:
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_parquet(path: Path, header: list[str], rows: list[list]) -> None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return
    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    for name in ("score", "gap"):
        columns[name] = [float(v) for v in columns[name]]
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(columns), tmp)


def read_bulk(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))
