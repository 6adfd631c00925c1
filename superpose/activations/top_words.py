"""Top activating words (MaxAct at word granularity): per neuron, the words whose occurrences in its
activation records activate it most.

A word occurrence is a maximal run of ASCII letters in a record's decoded text (lowercased: the
corpus's ``[a-z]+`` convention), so a word split into several tokens is one occurrence; its
activation is the largest activation over the tokens it touches. Per neuron and word, over the
distinct sequences of the neuron's records (top, random and quantile samples): the largest and
the mean occurrence activation, the smallest, and the number of occurrences. Words rank by their
largest activation (ties: mean, then the word). The records over-sample a neuron's high
activations by design, so the mean is a mean over the records, not over the corpus.

Files, next to the records (docs/formats/llm.md): ``top_words_{LL}.csv.gz`` per layer and
``top_words.json`` with the parameters.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from superpose.activations.formats import RecordStore
from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_gzip_text, write_json_atomic
from superpose.core.manifest import stamp

FORMAT = "superpose.top-words"
FORMAT_VERSION = 1
COLUMNS = ["layer", "neuron", "rank", "word", "max_act", "mean_act", "min_act", "count"]
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class WordActivation:
    """One word's activations over a neuron's records."""

    word: str
    max_act: float
    mean_act: float
    min_act: float
    count: int


@dataclass
class _Segmented:
    """A sequence's word occurrences: word ids, and the token positions each one touches (CSR)."""

    words: np.ndarray    # (n_occ,) int64 ids into the shared word table
    tokens: np.ndarray   # token positions, occurrence after occurrence
    offsets: np.ndarray  # (n_occ + 1,)


class WordSegmenter:
    """Splits record sequences into word occurrences once per sequence, with one shared word table."""

    def __init__(self, store: RecordStore) -> None:
        self.store = store
        self.table: dict[str, int] = {}
        self.words: list[str] = []
        self._cache: dict[int, _Segmented] = {}

    def _id(self, word: str) -> int:
        if word not in self.table:
            self.table[word] = len(self.words)
            self.words.append(word)
        return self.table[word]

    def sequence(self, seq: int) -> _Segmented:
        if seq not in self._cache:
            pieces = self.store.tokens(seq)
            starts = np.cumsum([0] + [len(p) for p in pieces])
            text = "".join(pieces)
            words, tokens, offsets = [], [], [0]
            for match in _WORD.finditer(text):
                first = int(np.searchsorted(starts, match.start(), side="right")) - 1
                last = int(np.searchsorted(starts, match.end() - 1, side="right")) - 1
                words.append(self._id(match.group().lower()))
                tokens.extend(range(first, last + 1))
                offsets.append(len(tokens))
            self._cache[seq] = _Segmented(np.asarray(words, np.int64), np.asarray(tokens, np.int64),
                                          np.asarray(offsets, np.int64))
        return self._cache[seq]


def _records(store: RecordStore, layer: int, neuron: int) -> dict[int, np.ndarray]:
    """Distinct sequence -> this neuron's activations on it, over all its kept records."""
    rec = store.layer(layer)
    found: dict[int, np.ndarray] = {}
    for i, seq in enumerate(rec.top_ids[:, neuron]):
        if seq >= 0:
            found.setdefault(int(seq), rec.top_acts[i, :, neuron])
    for i, seq in enumerate(rec.neuron_random_ids(neuron)):
        if seq >= 0:
            found.setdefault(int(seq), rec.random_acts[i, :, neuron])
    for j in range(rec.quantile_ids.shape[0]):
        for i, seq in enumerate(rec.quantile_ids[j, :, neuron]):
            if seq >= 0:
                found.setdefault(int(seq), rec.quantile_acts[j, i, :, neuron])
    return found


def neuron_words(store: RecordStore, layer: int, neuron: int, *, top: int | None = 100,
                 min_count: int = 1, segmenter: WordSegmenter | None = None) -> list[WordActivation]:
    """The ``top`` words (all when None) of ``neuron`` with at least ``min_count`` occurrences."""
    n_neurons = store.layer(layer).mean.shape[0]
    if not 0 <= neuron < n_neurons:
        raise SuperposeError(f"neuron {neuron} is out of range: layer {layer} has neurons 0-{n_neurons - 1}")
    seg = segmenter or WordSegmenter(store)
    words, values = [], []
    for seq, acts in _records(store, layer, neuron).items():
        part = seg.sequence(seq)
        if len(part.words):
            values.append(np.maximum.reduceat(np.asarray(acts, np.float64)[part.tokens], part.offsets[:-1]))
            words.append(part.words)
    if not words:
        return []
    ids, inverse, counts = np.unique(np.concatenate(words), return_inverse=True, return_counts=True)
    vals = np.concatenate(values)
    high = np.full(len(ids), -np.inf)
    low = np.full(len(ids), np.inf)
    np.maximum.at(high, inverse, vals)
    np.minimum.at(low, inverse, vals)
    mean = np.bincount(inverse, weights=vals, minlength=len(ids)) / counts
    keep = np.flatnonzero(counts >= min_count)
    names = np.asarray([seg.words[i] for i in ids[keep]], dtype=object)
    order = sorted(range(len(keep)), key=lambda i: (-high[keep[i]], -mean[keep[i]], names[i]))
    if top is not None:
        order = order[:top]
    return [WordActivation(str(names[i]), float(high[keep[i]]), float(mean[keep[i]]), float(low[keep[i]]),
                           int(counts[keep[i]])) for i in order]


def top_words(records: str | Path | RecordStore, layer: int, neuron: int, *, top: int | None = 100,
              min_count: int = 1) -> list[WordActivation]:
    """Public entry: the top activating words of one neuron (see the module docstring)."""
    store = records if isinstance(records, RecordStore) else RecordStore(records)
    if layer not in store.layers:
        raise SuperposeError(f"no records for layer {layer} in {store.folder} (it has {store.layers}): "
                             f"run `superpose activations --layers {layer}` first")
    return neuron_words(store, layer, neuron, top=top, min_count=min_count)


def words_path(folder: str | Path, layer: int) -> Path:
    return Path(folder) / f"top_words_{layer:02d}.csv.gz"


def write_top_words(records: str | Path, layers: Iterable[int] | None = None, *, top: int = 100,
                    min_count: int = 1, on_neuron: Callable[[int], None] | None = None) -> list[Path]:
    """Write ``top_words_{LL}.csv.gz`` for ``layers`` (default: every layer with records) and
    ``top_words.json``; each file is written atomically."""
    if top < 1 or min_count < 1:
        raise SuperposeError(f"--top and --min-count must be at least 1, got {top} and {min_count}")
    store = RecordStore(records)
    chosen = store.layers if layers is None else list(layers)
    missing = [layer for layer in chosen if layer not in store.layers]
    if missing:
        raise SuperposeError(f"no records for layer(s) {missing} in {store.folder} (it has {store.layers}): "
                             "run `superpose activations` for them first")
    segmenter = WordSegmenter(store)
    paths = []
    for layer in chosen:
        path = words_path(store.folder, layer)
        with atomic_gzip_text(path) as text:
            writer = csv.writer(text, lineterminator="\n")
            writer.writerow(COLUMNS)
            for neuron in range(store.layer(layer).mean.shape[0]):
                for rank, w in enumerate(neuron_words(store, layer, neuron, top=top, min_count=min_count,
                                                      segmenter=segmenter)):
                    writer.writerow([layer, neuron, rank, w.word, repr(w.max_act), repr(w.mean_act),
                                     repr(w.min_act), w.count])
                if on_neuron is not None:
                    on_neuron(1)
        paths.append(path)
    params = {"top": top, "min_count": min_count, "records": "top, random and quantile"}
    manifest = Path(store.folder) / "top_words.json"
    done = set(chosen)
    if manifest.is_file():
        previous = json.loads(manifest.read_text(encoding="utf-8"))
        if previous.get("params") == params:  # layers written earlier with the same parameters
            done |= {int(p) for p in previous.get("layers", [])}
    write_json_atomic(manifest, stamp(format=FORMAT, format_version=FORMAT_VERSION, records_model=store.model,
                                      params=params, layers=sorted(done)))
    return paths


def read_top_words(records: str | Path, layer: int, neuron: int | None = None) -> dict[int, list[WordActivation]]:
    """``top_words_{LL}.csv.gz`` back as neuron -> words in rank order (only ``neuron``'s when given:
    the file is in neuron order, so reading stops after it)."""
    import gzip

    path = words_path(records, layer)
    if not path.is_file():
        raise SuperposeError(f"{path} does not exist: run `superpose top-words --records {records}` first")
    out: dict[int, list[WordActivation]] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            unit = int(row["neuron"])
            if neuron is not None and unit != neuron:
                if unit > neuron:
                    break
                continue
            out.setdefault(unit, []).append(
                WordActivation(row["word"], float(row["max_act"]), float(row["mean_act"]), float(row["min_act"]),
                               int(row["count"])))
    return out


__all__ = ["WordActivation", "neuron_words", "read_top_words", "top_words", "write_top_words"]
