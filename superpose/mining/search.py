"""Search a run's topics by word: which units and polarities carry a topic with these words?

A word index is built once per run (``{run}/search/``, or a folder of the caller's choice) and
reused until the run's files change: the topics sorted by NPMI (best first) get ids, and each
word maps to the ascending ids of the topics that hold it, so a search is one intersection (all
words) or union (any word) of sorted integer arrays, and its result is already ranked. The
arrays are plain ``.npy`` files read memory-mapped: a search over the ~3M topics of a 7B model
reads only the postings of its words.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_dir, write_json_atomic
from superpose.core.provenance import timestamp, versions
from superpose.mining.store import POLARITIES, RunReader

INDEX_FORMAT = "superpose-word-index"
INDEX_VERSION = 1
ARRAYS = ("vocab", "offsets", "postings", "layer", "neuron", "polarity", "rank", "score", "word_offsets", "word_ids")


@dataclass(frozen=True)
class Hit:
    """One topic that matches a search."""

    layer: int
    neuron: int
    polarity: str
    rank: int
    score: float
    words: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"layer": self.layer, "neuron": self.neuron, "polarity": self.polarity, "rank": self.rank,
                "score": self.score, "words": self.words}


@dataclass
class SearchResult:
    """Matching topics, best NPMI first; ``absent``: query words that are in no topic of the run."""

    words: list[str]
    match: str
    hits: list[Hit]
    total: int
    absent: list[str]


def fingerprint(reader: RunReader) -> dict[str, Any]:
    """What the index was built from: names, sizes and times of the run's tables, and its per-unit files."""
    files = [p for p in (reader.bulk["topics"], reader.bulk["pools"]) if p is not None]
    files += [p for layer in sorted(reader.shards) for p in reader.folder.glob(f"shards/layer_{layer:02d}_*")]
    stats = {str(p.relative_to(reader.folder)): [p.stat().st_size, p.stat().st_mtime_ns] for p in sorted(files)}
    return {"files": stats, "unit_files": int(len(reader.unit_files)),
            "folder_mtime": reader.folder.stat().st_mtime_ns if len(reader.unit_files) else None}


def build_arrays(topics: Any) -> dict[str, np.ndarray]:
    """The index arrays of a topics table (:meth:`RunReader.topics`)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    order = np.argsort(-topics["score"].to_numpy(), kind="stable")  # best first; ties keep the table order
    topics = topics.take(pa.array(order))
    lists = pc.split_pattern(topics["words"], " ")
    lengths = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    flat = pc.list_flatten(lists).combine_chunks() if topics.num_rows else pa.array([], pa.string())
    encoded = flat.dictionary_encode()
    names = np.asarray(encoded.dictionary.to_pylist(), dtype=str)
    by_name = np.argsort(names, kind="stable")
    rank_of = np.empty(len(names), np.int64)
    rank_of[by_name] = np.arange(len(names))
    word_ids = rank_of[encoded.indices.to_numpy(zero_copy_only=False)].astype(np.int32)
    topic_of = np.repeat(np.arange(topics.num_rows, dtype=np.int32), lengths)
    postings = topic_of[np.argsort(word_ids, kind="stable")]
    offsets = np.concatenate([[0], np.cumsum(np.bincount(word_ids, minlength=len(names)))]).astype(np.int64)
    polarity = (topics["polarity"].to_numpy(zero_copy_only=False) == "neg").astype(np.int8)
    return {"vocab": names[by_name], "offsets": offsets, "postings": postings,
            "layer": topics["layer"].to_numpy().astype(np.int32),
            "neuron": topics["neuron"].to_numpy().astype(np.int32),
            "polarity": polarity, "rank": topics["rank"].to_numpy().astype(np.int32),
            "score": topics["score"].to_numpy().astype(np.float64),
            "word_offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64), "word_ids": word_ids}


class WordIndex:
    """A run's word index, built when missing or stale, read memory-mapped."""

    def __init__(self, run: str | Path, index_dir: str | Path | None = None, *,
                 reader: RunReader | None = None, on_build: Callable[[Path], None] | None = None) -> None:
        self.run = Path(run)
        self.reader = reader or RunReader(self.run)
        self.folder = Path(index_dir) if index_dir is not None else self.run / "search"
        self.built_now = False
        stamp = fingerprint(self.reader)
        meta = self._meta()
        if meta.get("format") != INDEX_FORMAT or meta.get("format_version") != INDEX_VERSION \
                or meta.get("source") != stamp:
            self._build(on_build)
        self.arrays = {name: np.load(self.folder / f"{name}.npy", mmap_mode="r") for name in ARRAYS}

    def _meta(self) -> dict[str, Any]:
        path = self.folder / "index.json"
        try:
            return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, ValueError):
            return {}

    def _build(self, on_build: Callable[[Path], None] | None) -> None:
        if self.folder.exists() and not (self.folder / "index.json").is_file() and any(self.folder.iterdir()):
            raise SuperposeError(f"{self.folder} exists and is not a word index: pass another --index")
        if not os.access(self.folder.parent if not self.folder.exists() else self.folder, os.W_OK):
            raise SuperposeError(f"cannot write the word index to {self.folder} (read-only): pass --index DIR")
        topics = self.reader.topics()  # read (and checked) before anything is said or written
        if on_build is not None:
            on_build(self.folder)
        arrays = build_arrays(topics)
        with atomic_dir(self.folder) as tmp:
            for name, array in arrays.items():
                np.save(tmp / f"{name}.npy", array)
        # stamped after the folder is in place: an index inside the run folder changes its time
        write_json_atomic(self.folder / "index.json", {
            "format": INDEX_FORMAT, "format_version": INDEX_VERSION, "run": str(self.run.resolve()),
            "source": fingerprint(self.reader), "topics": int(len(arrays["score"])),
            "words": int(len(arrays["vocab"])), "created": timestamp(), "versions": versions()})
        self.built_now = True

    def postings(self, word: str) -> np.ndarray | None:
        vocab = self.arrays["vocab"]
        at = int(np.searchsorted(vocab, word))
        if at >= len(vocab) or vocab[at] != word:
            return None
        offsets = self.arrays["offsets"]
        return np.asarray(self.arrays["postings"][offsets[at]:offsets[at + 1]])

    def search(self, words: list[str], match: str = "all", limit: int | None = None) -> SearchResult:
        """Topics holding all (or any) of ``words``, best NPMI first, at most ``limit``."""
        if match not in ("all", "any"):
            raise SuperposeError(f"unknown match {match!r}: choose all or any")
        wanted = list(dict.fromkeys(w.strip().lower() for w in words if w.strip()))
        if not wanted:
            raise SuperposeError("no word to search for: give at least one WORD")
        found = {w: self.postings(w) for w in wanted}
        absent = [w for w, ids in found.items() if ids is None]
        lists = [ids for ids in found.values() if ids is not None]
        if match == "all":
            ids = np.zeros(0, np.int32) if absent else _intersect(lists)
        else:
            ids = np.unique(np.concatenate(lists)) if lists else np.zeros(0, np.int32)
        shown = ids if limit is None else ids[:max(0, limit)]
        return SearchResult(wanted, match, [self.hit(int(i)) for i in shown], int(len(ids)), absent)

    def hit(self, topic: int) -> Hit:
        a = self.arrays
        start, stop = int(a["word_offsets"][topic]), int(a["word_offsets"][topic + 1])
        words = [str(a["vocab"][w]) for w in a["word_ids"][start:stop]]
        return Hit(int(a["layer"][topic]), int(a["neuron"][topic]), POLARITIES[int(a["polarity"][topic])],
                   int(a["rank"][topic]), float(a["score"][topic]), words)


def _intersect(lists: list[np.ndarray]) -> np.ndarray:
    result = min(lists, key=len)
    for ids in sorted(lists, key=len):
        result = np.intersect1d(result, ids, assume_unique=True)
    return result


def check_corpus(run_json: dict[str, Any], corpus_dir: str | Path) -> list[str]:
    """The vocabulary of ``corpus_dir`` after checking it is the corpus the run was mined with.

    The run records the corpus's path, creation time, window count and vocabulary size; a corpus
    rebuilt in the same folder is a different corpus.
    """
    folder = Path(corpus_dir)
    meta_path = folder / "meta.json"
    if not meta_path.is_file():
        raise SuperposeError(f"{folder} is not a corpus folder (no meta.json): pass the folder of `superpose corpus "
                             "build` the run was mined with")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    recorded = (run_json.get("request") or {}).get("corpus") or {}
    vocab = (folder / "vocab.txt").read_text(encoding="utf-8").split("\n") if (folder / "vocab.txt").is_file() else []
    vocab = [w for w in vocab if w]
    mine_ = {"created": recorded.get("created"), "n_windows": recorded.get("n_windows"),
             "vocab_size": recorded.get("vocab_size")}
    given = {"created": meta.get("created"), "n_windows": meta.get("n_windows"), "vocab_size": len(vocab)}
    differ = [k for k in mine_ if mine_[k] is not None and mine_[k] != given[k]]
    if differ:
        raise SuperposeError(f"the run was mined with another corpus than {folder} ({differ[0]}: run "
                             f"{mine_[differ[0]]}, corpus {given[differ[0]]}): search without --corpus or with "
                             f"the run's corpus ({recorded.get('path')})")
    return vocab
