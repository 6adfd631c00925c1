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
(every unit and polarity: pool size, isets, topics), plus a Parquet copy of the topics.

The sharded layout (``superpose mine --layout shards``) writes, instead of three files per unit
and polarity, one pair of tables per layer under ``{out}/{model}/{mode}/shards/``:
``layer_{LL}_topics.{parquet,csv.gz}`` (the bulk topic columns) and
``layer_{LL}_pools.{parquet,csv.gz}`` (the bulk pool columns plus ``pool_words``, the pool by
logit rank, and ``iset_words``, the shortlisted sets separated by `` | ``): nothing of the paper's
files is lost.

:class:`RunReader` reads whatever a run folder holds (per-unit files, bulk tables as ``.gz``,
``.xz`` or Parquet, shards) as one run; summary, baseline, compare, report, search and the public
API all read runs through it.
"""

from __future__ import annotations

import csv
import gzip
import io
import lzma
import math
import os
import re
import zlib
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

import numpy as np

from superpose.config import POLARITIES
from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_gzip_text, atomic_path, write_text_atomic
from superpose.mining.pool import PoolResult
from superpose.mining.runfile import read_run_file

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


# Level 4, not gzip's 9: a layer's shard tables compress about 3x faster (the parent writes them
# while the workers mine; 0.18 s against 0.55 s a SmolLM2 layer) for files about 5% larger; the
# text inside is the same.
TABLE_GZIP_LEVEL = 4


def _write_gz_csv(path: Path, header: list[str], rows: list[list]) -> None:
    with atomic_gzip_text(path, TABLE_GZIP_LEVEL) as text:
        text.write(csv_lines([header, *rows]))


_PLAIN_FIELD = (str, int)
_CSV_SPECIAL = ('"', "\r", "\n", "\0")


def csv_lines(rows: list[list]) -> str:
    """What ``csv.writer(lineterminator="\\n")`` writes for ``rows``, several times faster for the
    tables' rows: a row of two or more ``str`` or ``int`` fields, none empty and none holding a
    comma, a quote, a line break or NUL, is written unquoted, so it is its fields joined by commas;
    any other row is written by the csv module itself (tests/test_store.py compares the two)."""
    out: list[str] = []
    fallback = io.StringIO()
    writer = csv.writer(fallback, lineterminator="\n")
    for row in rows:
        if len(row) > 1 and all(type(f) in _PLAIN_FIELD for f in row):
            line = ",".join([f if type(f) is str else str(f) for f in row])
            if (line.count(",") == len(row) - 1 and ",," not in line and line[0] != "," and line[-1] != ","
                    and not any(c in line for c in _CSV_SPECIAL)):
                out.append(line)
                out.append("\n")
                continue
        writer.writerow(row)
        out.append(fallback.getvalue())
        fallback.seek(0)
        fallback.truncate()
    return "".join(out)


def _write_parquet(path: Path, header: list[str], rows: list[list]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
    for name in ("score", "gap"):
        if name in columns:
            columns[name] = pa.array([float(v) for v in columns[name]], pa.float64())
    for name in ("layer", "neuron", "rank", "never_cooccur", "pool_size", "isets", "topics"):
        if name in columns:
            columns[name] = pa.array(columns[name], pa.int64())
    for name in header:
        if not isinstance(columns[name], pa.Array):
            columns[name] = pa.array(columns[name], pa.string())
    with atomic_path(path) as tmp:
        pq.write_table(pa.table(columns), tmp)


def read_bulk(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------------------------
# Sharded layout: per layer, the tables of every unit and polarity of that layer.

SHARD_DIR = "shards"
SHARD_POOL_COLUMNS = BULK_POOL_COLUMNS + ["pool_words", "iset_words"]
ISET_SEPARATOR = " | "


def shard_path(folder: Path, layer: int, table: str, suffix: str) -> Path:
    """``{folder}/shards/layer_{LL}_{table}{suffix}`` with ``table`` ``topics`` or ``pools``."""
    return folder / SHARD_DIR / f"layer_{layer:02d}_{table}{suffix}"


def shard_done(folder: Path, layer: int) -> bool:
    """A layer's shard is finished once its last file (the pools Parquet table) exists."""
    return shard_path(folder, layer, "pools", ".parquet").is_file()


def shard_rows(model: str, mode: str, layer: int, neuron: int, polarity: str, pool_words: list[str],
               result: PoolResult, vocab: list[str]) -> tuple[list[list], list]:
    """One unit-polarity's topic rows and pool row in the shard tables (the same cells as the paper's files)."""
    topics = [[model, mode, layer, neuron, polarity, rank, " ".join(sorted(vocab[w] for w in t.words)),
               _number(t.score), t.status, _number(t.gap), t.never_cooccur] for rank, t in enumerate(result.topics)]
    isets = ISET_SEPARATOR.join(" ".join(vocab[w] for w in iset) for iset in result.isets)
    pool = [model, mode, layer, neuron, polarity, len(pool_words), len(result.isets), len(result.topics),
            " ".join(pool_words), isets]
    return topics, pool


def write_shard(folder: Path, layer: int, topic_rows: list[list], pool_rows: list[list]) -> None:
    """Write one layer's shard: topics (CSV, Parquet), then pools (CSV, Parquet, last: the done mark)."""
    topic_rows = sorted(topic_rows, key=lambda row: (row[3], POLARITIES.index(row[4]), row[5]))
    pool_rows = sorted(pool_rows, key=lambda row: (row[3], POLARITIES.index(row[4])))
    _write_gz_csv(shard_path(folder, layer, "topics", ".csv.gz"), BULK_TOPIC_COLUMNS, topic_rows)
    _write_parquet(shard_path(folder, layer, "topics", ".parquet"), BULK_TOPIC_COLUMNS, topic_rows)
    _write_gz_csv(shard_path(folder, layer, "pools", ".csv.gz"), SHARD_POOL_COLUMNS, pool_rows)
    _write_parquet(shard_path(folder, layer, "pools", ".parquet"), SHARD_POOL_COLUMNS, pool_rows)


class PaperWriter:
    """Writes the paper's three files per unit and polarity; a unit is done when its topics file exists."""

    layout = "paper"

    def __init__(self, folder: Path, vocab: list[str]) -> None:
        self.folder, self.vocab = folder, vocab

    def done(self, layer: int, neuron: int, polarity: str) -> bool:
        return is_done(self.folder, layer, neuron, polarity)

    def add(self, layer: int, neuron: int, polarity: str, pool_words: list[str], result: PoolResult) -> None:
        write_unit(self.folder, layer, neuron, polarity, pool_words, result, self.vocab)

    def close(self) -> None:
        """Nothing is pending: every unit is written by :meth:`add`."""


class ShardWriter:
    """Collects a layer's results in memory and writes its shard when the layer's last unit arrives.

    ``expected`` gives, per layer, how many unit-polarities the run mines in it; resume works per
    layer (a layer whose shard exists is skipped whole; a layer cut short is mined again).

    A shard is written by a helper thread, so the caller goes on handing tasks to the workers and
    taking their results meanwhile (written in the caller, a layer's tables left the workers
    without tasks for about half a second each). One shard is written at a time; :meth:`close`
    waits for the last one, and a write's error is raised by the next :meth:`add` or by
    :meth:`close`.
    """

    layout = "shards"

    def __init__(self, folder: Path, vocab: list[str], model: str, mode: str, expected: dict[int, int]) -> None:
        self.folder, self.vocab, self.model, self.mode = folder, vocab, model, mode
        self.expected = dict(expected)
        self._topics: dict[int, list[list]] = {}
        self._pools: dict[int, list[list]] = {}
        self._done: dict[int, bool] = {}
        self._writer: ThreadPoolExecutor | None = None
        self._writing: Future[None] | None = None

    def done(self, layer: int, neuron: int, polarity: str) -> bool:
        # Asked once per unit-polarity before its task is made; a layer's shard can only appear
        # after all its tasks were made, so the first answer per layer holds for the whole run.
        if layer not in self._done:
            self._done[layer] = shard_done(self.folder, layer)
        return self._done[layer]

    def add(self, layer: int, neuron: int, polarity: str, pool_words: list[str], result: PoolResult) -> None:
        topics, pool = shard_rows(self.model, self.mode, layer, neuron, polarity, pool_words, result, self.vocab)
        self._topics.setdefault(layer, []).extend(topics)
        self._pools.setdefault(layer, []).append(pool)
        if len(self._pools[layer]) == self.expected.get(layer):
            self._wait()
            if self._writer is None:
                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard-writer")
            self._writing = self._writer.submit(write_shard, self.folder, layer, self._topics.pop(layer),
                                                self._pools.pop(layer))

    def _wait(self) -> None:
        writing, self._writing = self._writing, None
        if writing is not None:
            writing.result()

    def close(self) -> None:
        """Wait for the shard being written (raising its error, if any)."""
        try:
            self._wait()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None


# ---------------------------------------------------------------------------------------------
# Reading a run: one reader for every layout.

TABLE_SUFFIXES = (".parquet", ".csv.gz", ".csv.xz")
_UNIT_TOPICS = re.compile(r"^(\d+)_(\d+)_(pos|neg)_topics\.csv$")
_SHARD_POOLS = re.compile(r"^layer_(\d+)_pools\.(parquet|csv\.gz)$")
_TOPIC_TYPES = {"layer": "int32", "neuron": "int32", "polarity": "string", "rank": "int32", "words": "string",
                "score": "float64", "status": "string", "gap": "float64", "never_cooccur": "int32"}
_POOL_TYPES = {"layer": "int32", "neuron": "int32", "polarity": "string", "pool_size": "int32", "isets": "int32",
               "topics": "int32", "pool_words": "string", "iset_words": "string"}


def unit_keys(layer: Any, neuron: Any, polarity: Any) -> np.ndarray:
    """One int64 per unit-polarity (layer, neuron, polarity), for set operations over whole runs."""
    pol = np.asarray(polarity)
    pol = (pol == "neg").astype(np.int64) if pol.dtype.kind in "OUS" else pol.astype(np.int64)
    return (np.asarray(layer, np.int64) << 33) | (np.asarray(neuron, np.int64) << 1) | pol


def _open_text(path: Path) -> IO[str]:
    name = path.name
    if name.endswith(".xz"):
        return lzma.open(path, "rt", encoding="utf-8", newline="")
    if name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _open_binary(path: Path) -> IO[bytes]:
    if path.name.endswith(".xz"):
        return lzma.open(path, "rb")
    if path.name.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


_CORRUPT = (EOFError, OSError, lzma.LZMAError, zlib.error, UnicodeDecodeError, ValueError)


def read_table(path: str | Path, columns: list[str]) -> Any:
    """A run table (CSV, gzip or xz CSV, or Parquet) as a ``pyarrow.Table`` of ``columns``, typed.

    The header must be ours (``columns`` plus, for bulk tables, model and mode); a truncated or
    corrupt file is a one-line :class:`SuperposeError`, never a partial table.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    path = Path(path)
    types = {name: pa.type_for_alias(_TOPIC_TYPES.get(name) or _POOL_TYPES[name]) for name in columns}
    try:
        if path.name.endswith(".parquet"):
            names = pq.read_schema(path).names
            _check_header(path, names, columns)
            table = pq.read_table(path, columns=columns)
        else:
            with _open_text(path) as fh:
                header = next(csv.reader([fh.readline()]), [])
            _check_header(path, header, columns)
            with _open_binary(path) as fh:
                table = pacsv.read_csv(fh, convert_options=pacsv.ConvertOptions(
                    column_types=types, include_columns=columns, null_values=[], strings_can_be_null=False))
        return table.select(columns).cast(pa.schema([(name, types[name]) for name in columns]))
    except SuperposeError:
        raise
    except (*_CORRUPT, pa.ArrowException) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SuperposeError(f"{path} is truncated or corrupt ({reason}): copy it again or rerun "
                             "`superpose mine` to rewrite it") from None


def _check_header(path: Path, header: list[str], columns: list[str]) -> None:
    if not set(columns) <= set(header) or not header:
        missing = [c for c in columns if c not in header]
        raise SuperposeError(f"{path} is not a superpose table: its header lacks {', '.join(missing[:4])} "
                             f"(found {', '.join(header[:6]) or 'nothing'}); pass a run folder of `superpose mine`")


def _first(folder: Path, stem: str) -> Path | None:
    return next((folder / f"{stem}{s}" for s in TABLE_SUFFIXES if (folder / f"{stem}{s}").is_file()), None)


TOPIC_FIELDS = list(_TOPIC_TYPES)
POOL_FIELDS = list(_POOL_TYPES)[:6]


class RunReader:
    """Everything a run folder holds, read as one run, whichever layout wrote it.

    Sources, by precedence for a unit-polarity found in several: the per-layer shards, the bulk
    tables, the per-unit files. A unit-polarity is mined when some source has it. Tables are read
    once and kept; pool words and shortlisted sets exist only where per-unit files or shards
    hold them (bulk tables keep counts only).
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise SuperposeError(f"{self.folder} does not exist: pass the {{out}}/{{model}}/{{mode}} folder "
                                 "written by `superpose mine`")
        self.shards = self._find_shards()
        self.bulk = {name: _first(self.folder, name) for name in ("topics", "pools")}
        if (self.bulk["topics"] is None) != (self.bulk["pools"] is None):
            have, lack = ("topics", "pools") if self.bulk["topics"] else ("pools", "topics")
            raise SuperposeError(f"{self.folder} has a {have} table but no {lack} table "
                                 f"({lack}.csv.gz, .csv.xz or .parquet): copy the run's tables together")
        self.unit_files = self._find_unit_files()
        if not self.shards and self.bulk["topics"] is None and not len(self.unit_files):
            raise SuperposeError(f"{self.folder} holds no mining results (no per-unit files, no topics and pools "
                                 "tables, no shards/): pass the {out}/{model}/{mode} folder of `superpose mine`")
        self._pools: Any = None
        self._topics: Any = None
        self._shard_tables: dict[tuple[int, str], Any] = {}
        self._pool_keys: np.ndarray | None = None
        self._topic_keys: np.ndarray | None = None

    # -- what exists ----------------------------------------------------------------------------
    def _find_shards(self) -> dict[int, Path]:
        folder = self.folder / SHARD_DIR
        found: dict[int, Path] = {}
        if folder.is_dir():
            for entry in sorted(os.scandir(folder), key=lambda e: e.name):
                match = _SHARD_POOLS.match(entry.name)
                if match:
                    found.setdefault(int(match.group(1)), Path(entry.path))  # .parquet sorts after .csv.gz
                    if match.group(2) == "parquet":
                        found[int(match.group(1))] = Path(entry.path)
        return found

    def _find_unit_files(self) -> np.ndarray:
        keys = []
        for entry in os.scandir(self.folder):
            match = _UNIT_TOPICS.match(entry.name)
            if match:
                keys.append((int(match.group(1)), int(match.group(2)), match.group(3) == "neg"))
        return (unit_keys(*np.array(keys, np.int64).T) if keys else np.zeros(0, np.int64))

    @property
    def sources(self) -> list[str]:
        """What the run folder holds, in words (for messages and the report)."""
        found = [f"{len(self.shards)} layer shard(s)"] if self.shards else []
        if self.bulk["topics"] is not None:
            found.append(f"tables {self.bulk['topics'].name}, {self.bulk['pools'].name}")
        if len(self.unit_files):
            found.append(f"per-unit files of {len(self.unit_files)} unit-polarities")
        return found

    def run_json(self) -> dict[str, Any]:
        return read_run_file(self.folder) or {}

    # -- whole-run tables -----------------------------------------------------------------------
    def _shard_table(self, layer: int, table: str) -> Any:
        if (layer, table) not in self._shard_tables:
            pools = self.shards[layer]
            suffix = ".parquet" if pools.name.endswith(".parquet") else ".csv.gz"
            path = shard_path(self.folder, layer, table, suffix)
            columns = TOPIC_FIELDS if table == "topics" else POOL_FIELDS + ["pool_words", "iset_words"]
            self._shard_tables[(layer, table)] = read_table(path, columns)
        return self._shard_tables[(layer, table)]

    def pools(self) -> Any:
        """Every mined unit-polarity: layer, neuron, polarity, pool_size, isets, topics (a pyarrow Table)."""
        if self._pools is None:
            self._pools, self._topics = self._merge()
        return self._pools

    def topics(self) -> Any:
        """Every topic: layer, neuron, polarity, rank, words (space-separated), score, status, gap,
        never_cooccur, sorted by layer, neuron, polarity (pos first) and rank."""
        if self._topics is None:
            self._pools, self._topics = self._merge()
        return self._topics

    def _merge(self) -> tuple[Any, Any]:
        import pyarrow as pa

        pool_parts, topic_parts = [], []
        for layer in sorted(self.shards):
            pool_parts.append(self._shard_table(layer, "pools").select(POOL_FIELDS))
            topic_parts.append(self._shard_table(layer, "topics"))
        covered = _keys(pool_parts)
        if self.bulk["pools"] is not None:
            pools = read_table(self.bulk["pools"], POOL_FIELDS)
            topics = read_table(self.bulk["topics"], TOPIC_FIELDS)
            pool_parts.append(_without(pools, covered))
            topic_parts.append(_without(topics, covered))
            covered = _keys(pool_parts)
        extra = self.unit_files[~np.isin(self.unit_files, covered)]
        if len(extra):
            pools, topics = self._unit_file_tables(np.sort(extra))
            pool_parts.append(pools)
            topic_parts.append(topics)
        pools = pa.concat_tables(pool_parts) if pool_parts else _empty(POOL_FIELDS)
        topics = pa.concat_tables(topic_parts) if topic_parts else _empty(TOPIC_FIELDS)
        return _sorted(pools, ["layer", "neuron", "polarity"]), _sorted(topics, ["layer", "neuron", "polarity", "rank"])

    def _unit_file_tables(self, keys: np.ndarray) -> tuple[Any, Any]:
        import pyarrow as pa

        pool_rows: dict[str, list] = {name: [] for name in POOL_FIELDS}
        topic_rows: dict[str, list] = {name: [] for name in TOPIC_FIELDS}
        for key in keys.tolist():
            layer, neuron, polarity = key >> 33, (key >> 1) & 0xFFFFFFFF, POLARITIES[key & 1]
            unit = self._read_unit_file(layer, neuron, polarity)
            for name, value in zip(POOL_FIELDS, (layer, neuron, polarity, len(unit["pool"]), len(unit["isets"]),
                                                 len(unit["topics"])), strict=True):
                pool_rows[name].append(value)
            for t in unit["topics"]:
                for name, value in zip(TOPIC_FIELDS, (layer, neuron, polarity, t["rank"], " ".join(t["words"]),
                                                      t["score"], t["status"], t["gap"], t["never_cooccur"]),
                                       strict=True):
                    topic_rows[name].append(value)
        return (pa.table({n: pa.array(v, pa.type_for_alias(_POOL_TYPES[n])) for n, v in pool_rows.items()}),
                pa.table({n: pa.array(v, pa.type_for_alias(_TOPIC_TYPES[n])) for n, v in topic_rows.items()}))

    def _read_unit_file(self, layer: int, neuron: int, polarity: str) -> dict:
        try:
            return read_unit(self.folder, layer, neuron, polarity)
        except (OSError, KeyError, ValueError, csv.Error) as error:
            raise SuperposeError(f"{unit_prefix(self.folder, layer, neuron, polarity)}_*: unreadable per-unit "
                                 f"file ({error}); rerun `superpose mine` to rewrite it") from None

    # -- one unit -------------------------------------------------------------------------------
    def pool_keys(self) -> np.ndarray:
        """:func:`unit_keys` of :meth:`pools`' rows, ascending (the tables' sort order)."""
        if self._pool_keys is None:
            self._pool_keys = _keys([self.pools()])
        return self._pool_keys

    def topic_keys(self) -> np.ndarray:
        """:func:`unit_keys` of :meth:`topics`' rows, ascending."""
        if self._topic_keys is None:
            self._topic_keys = _keys([self.topics()])
        return self._topic_keys

    def has(self, layer: int, neuron: int, polarity: str) -> bool:
        keys, key = self.pool_keys(), unit_keys(layer, neuron, polarity)
        at = int(np.searchsorted(keys, key))
        return at < len(keys) and keys[at] == key

    def unit(self, layer: int, neuron: int, polarity: str) -> dict | None:
        """One unit-polarity: ``pool`` and ``isets`` (``None`` where the run kept only counts) and
        ``topics`` (dicts with rank, score, status, gap, never_cooccur, words); ``None``: not mined."""
        if layer in self.shards:
            found = self._from_shard(layer, neuron, polarity)
            if found is not None:
                return found
        if is_done(self.folder, layer, neuron, polarity):
            return self._read_unit_file(layer, neuron, polarity)
        if not self.has(layer, neuron, polarity):
            return None
        return {"pool": None, "isets": None, "topics": self.unit_topics(layer, neuron, polarity)}

    def unit_topics(self, layer: int, neuron: int, polarity: str) -> list[dict]:
        """One unit-polarity's topics, best first (empty: none found, or not mined)."""
        keys, key = self.topic_keys(), unit_keys(layer, neuron, polarity)
        start, stop = int(np.searchsorted(keys, key)), int(np.searchsorted(keys, key, side="right"))
        return _topic_dicts(self.topics().slice(start, stop - start))

    def _from_shard(self, layer: int, neuron: int, polarity: str) -> dict | None:
        import pyarrow.compute as pc

        pools = self._shard_table(layer, "pools")
        match = pools.filter(pc.and_(pc.equal(pools["neuron"], neuron), pc.equal(pools["polarity"], polarity)))
        if match.num_rows == 0:
            return None
        row = match.slice(0, 1).to_pylist()[0]
        topics = self._shard_table(layer, "topics")
        rows = topics.filter(pc.and_(pc.equal(topics["neuron"], neuron), pc.equal(topics["polarity"], polarity)))
        isets = [s.split() for s in row["iset_words"].split(ISET_SEPARATOR)] if row["iset_words"] else []
        return {"pool": row["pool_words"].split(), "isets": isets, "topics": _topic_dicts(rows)}

    def layer_details(self, layer: int) -> dict[tuple[int, str], tuple[list[str], list[list[str]]]]:
        """(neuron, polarity) -> (pool words, shortlisted sets) for every unit of ``layer`` that kept them."""
        found: dict[tuple[int, str], tuple[list[str], list[list[str]]]] = {}
        if layer in self.shards:
            for row in self._shard_table(layer, "pools").select(["neuron", "polarity", "pool_words",
                                                                  "iset_words"]).to_pylist():
                isets = [s.split() for s in row["iset_words"].split(ISET_SEPARATOR)] if row["iset_words"] else []
                found[(row["neuron"], row["polarity"])] = (row["pool_words"].split(), isets)
        for key in self.unit_files[(self.unit_files >> 33) == layer].tolist():
            neuron, polarity = (key >> 1) & 0xFFFFFFFF, POLARITIES[key & 1]
            if (neuron, polarity) not in found:
                unit = self._read_unit_file(layer, neuron, polarity)
                found[(neuron, polarity)] = (unit["pool"], unit["isets"])
        return found


def _topic_dicts(rows: Any) -> list[dict]:
    return [{"rank": r["rank"], "score": r["score"], "status": r["status"], "gap": r["gap"],
             "never_cooccur": r["never_cooccur"], "words": r["words"].split()}
            for r in rows.sort_by("rank").to_pylist()]


def _keys(tables: list[Any]) -> np.ndarray:
    if not tables:
        return np.zeros(0, np.int64)
    return np.concatenate([unit_keys(t["layer"].to_numpy(), t["neuron"].to_numpy(),
                                     t["polarity"].to_numpy(zero_copy_only=False)) for t in tables])


def _without(table: Any, keys: np.ndarray) -> Any:
    if not len(keys):
        return table
    own = unit_keys(table["layer"].to_numpy(), table["neuron"].to_numpy(),
                    table["polarity"].to_numpy(zero_copy_only=False))
    return table.filter(~np.isin(own, keys))


def _empty(fields: list[str]) -> Any:
    import pyarrow as pa

    types = {**_TOPIC_TYPES, **_POOL_TYPES}
    return pa.table({name: pa.array([], pa.type_for_alias(types[name])) for name in fields})


def _sorted(table: Any, columns: list[str]) -> Any:
    """Sorted by ``columns`` with ``pos`` before ``neg`` (the paper's order), not alphabetically."""
    import pyarrow as pa

    if table.num_rows == 0:
        return table
    order = np.lexsort(tuple(
        (table[c].to_numpy(zero_copy_only=False) == "neg") if c == "polarity" else table[c].to_numpy()
        for c in reversed(columns)))
    return table.take(pa.array(order))


def open_run(folder: str | Path) -> RunReader:
    """The public entry point: a :class:`RunReader` over a run folder of any layout."""
    return RunReader(folder)
