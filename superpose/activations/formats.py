"""On-disk formats of the LLM path (documented in docs/formats/llm.md) and the record splits.

Records folder ``{out}/{model}/``: ``meta.json``, ``sequences.npy`` (S, L) int32 token ids,
``tokens.json`` (token id -> text, for the ids that occur) and one ``layer_{LL}.npz`` per layer
(arrays of :class:`superpose.activations.records.LayerRecords`, neuron axis last). Explanations and
scores are JSON lines, one object per neuron, appended and flushed as each neuron finishes.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from superpose.activations.records import LayerRecords
from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_path, write_json_atomic
from superpose.core.tables import read_jsonl

FORMAT_VERSION = 1


def layer_path(folder: str | os.PathLike, layer: int) -> Path:
    return Path(folder) / f"layer_{layer:02d}.npz"


def save_layer(folder: str | os.PathLike, layer: int, records: LayerRecords) -> Path:
    """Write one layer's records atomically (a crash leaves the old file or none)."""
    path = layer_path(folder, layer)
    arrays = {f.name: np.asarray(getattr(records, f.name))
              for f in dataclasses.fields(LayerRecords)}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def load_layer(folder: str | os.PathLike, layer: int) -> LayerRecords:
    path = layer_path(folder, layer)
    if not path.exists():
        raise SuperposeError(f"no records for layer {layer} in {folder}; "
                             f"run `superpose activations --layers {layer}` first")
    with np.load(path) as data:
        values = {f.name: data[f.name] for f in dataclasses.fields(LayerRecords)}
    values["n_tokens"] = int(values["n_tokens"])
    return LayerRecords(**values)


@dataclass
class ActivationRecord:
    """One sequence's tokens (as text) and one neuron's activation on each of them."""

    tokens: list[str]
    activations: np.ndarray
    sequence: int = -1
    kind: str = "top"  # "top", "random" or a quantile bucket such as "q0.90-0.99"


@dataclass
class RecordSplit:
    """Disjoint record sets: explain from, calibrate the simulator on, and score on."""

    explain: list[ActivationRecord]
    calibration: list[ActivationRecord]
    holdout: list[ActivationRecord]

    def limited(self, per_kind: int) -> RecordSplit:
        """At most ``per_kind`` top and ``per_kind`` random records in the calibration and
        held-out sets (first ones, so by rank for top records); 0 keeps everything.

        Simulation cost grows with the records scored; fewer make scores noisier.
        """
        if per_kind <= 0:
            return self

        def cut(records: list[ActivationRecord]) -> list[ActivationRecord]:
            return ([r for r in records if r.kind == "top"][:per_kind]
                    + [r for r in records if r.kind != "top"][:per_kind])

        return RecordSplit(self.explain, cut(self.calibration), cut(self.holdout))


SPLIT = ("top records by rank r: r%4 in {0,2} explain, r%4==1 calibration, r%4==3 held out; "
         "random records alternate calibration and held out, as many as the set's top records "
         "(top:random 1:1)")


@dataclass
class NeuronRecords:
    model: str
    layer: int
    neuron: int
    top: list[ActivationRecord]
    random: list[ActivationRecord]
    quantile: dict[str, list[ActivationRecord]] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)

    def split(self) -> RecordSplit:
        """Deterministic disjoint split, documented in docs/formats/llm.md.

        Top records by rank r: r % 4 in (0, 2) explain, r % 4 == 1 calibration, r % 4 == 3
        held out. Random records that are not also top records alternate calibration and
        held out, each set taking as many random records as it has top ones (the 1:1 mix of
        the OpenAI method; :data:`SPLIT` names it in outputs). Interleaving by rank gives every
        set a similar range of activations.
        """
        top_seqs = {r.sequence for r in self.top}
        rand = [r for r in self.random if r.sequence not in top_seqs]
        explain = [r for i, r in enumerate(self.top) if i % 4 in (0, 2)]
        cal_top = [r for i, r in enumerate(self.top) if i % 4 == 1]
        hold_top = [r for i, r in enumerate(self.top) if i % 4 == 3]
        calibration = cal_top + rand[0::2][:len(cal_top)]
        holdout = hold_top + rand[1::2][:len(hold_top)]
        return RecordSplit(explain, calibration, holdout)


class RecordStore:
    """Reads a records folder written by ``superpose activations``; one layer cached at a time."""

    def __init__(self, folder: str | os.PathLike, expect_model: str | None = None) -> None:
        self.folder = Path(folder)
        meta_path = self.folder / "meta.json"
        if not meta_path.exists():
            raise SuperposeError(f"{folder} holds no activation records (no meta.json); "
                                 "pass the folder written by `superpose activations`")
        self.meta: dict[str, Any] = json.loads(meta_path.read_text())
        if self.meta.get("format") != "superpose.activations.records" or \
                self.meta.get("format_version") != FORMAT_VERSION:
            raise SuperposeError(f"{meta_path} is not a records folder of format version "
                                 f"{FORMAT_VERSION}")
        if expect_model is not None and self.meta["model"] != expect_model:
            raise SuperposeError(f"records in {folder} come from model {self.meta['model']!r}, "
                                 f"not {expect_model!r}")
        self.sequences = np.load(self.folder / "sequences.npy")
        table = json.loads((self.folder / "tokens.json").read_text())
        self.token_text = {int(k): v for k, v in table.items()}
        self._layer: tuple[int, LayerRecords] | None = None

    @property
    def model(self) -> str:
        return str(self.meta["model"])

    @property
    def layers(self) -> list[int]:
        return sorted(int(p.stem.split("_")[1]) for p in self.folder.glob("layer_*.npz"))

    def layer(self, layer: int) -> LayerRecords:
        if self._layer is None or self._layer[0] != layer:
            records = load_layer(self.folder, layer)
            if records.mean.shape[0] != self.meta["n_neurons"]:
                raise SuperposeError(f"{layer_path(self.folder, layer)} has "
                                     f"{records.mean.shape[0]} neurons, meta.json says "
                                     f"{self.meta['n_neurons']}: records from another model")
            self._layer = (layer, records)
        return self._layer[1]

    def tokens(self, seq: int) -> list[str]:
        return [self.token_text[int(t)] for t in self.sequences[seq]]

    def neuron(self, layer: int, neuron: int) -> NeuronRecords:
        rec = self.layer(layer)
        n_neurons = rec.mean.shape[0]
        if not 0 <= neuron < n_neurons:
            raise SuperposeError(f"neuron {neuron} out of range: layer {layer} has "
                                 f"{n_neurons} neurons")

        def make(seq: int, acts: np.ndarray, kind: str) -> ActivationRecord:
            return ActivationRecord(self.tokens(seq), np.asarray(acts, dtype=np.float64),
                                    int(seq), kind)

        top = [make(s, rec.top_acts[i, :, neuron], "top")
               for i, s in enumerate(rec.top_ids[:, neuron]) if s >= 0]
        rand = [make(s, rec.random_acts[i, :, neuron], "random")
                for i, s in enumerate(rec.neuron_random_ids(neuron)) if s >= 0]
        quantile: dict[str, list[ActivationRecord]] = {}
        for j, (a, b) in enumerate(rec.quantiles):
            name = f"q{a:g}-{b:g}"
            quantile[name] = [make(s, rec.quantile_acts[j, i, :, neuron], name)
                              for i, s in enumerate(rec.quantile_ids[j, :, neuron]) if s >= 0]
        stats = {"mean": float(rec.mean[neuron]), "var": float(rec.var[neuron]),
                 "max": float(rec.max[neuron])}
        return NeuronRecords(self.model, layer, neuron, top, rand, quantile, stats)


def write_meta(folder: str | os.PathLike, meta: dict[str, Any]) -> None:
    write_json_atomic(Path(folder) / "meta.json",
                      {"format": "superpose.activations.records", "format_version": FORMAT_VERSION, **meta})


# ---- JSON lines, one object per neuron ----------------------------------------------------

def iter_done(path: str | os.PathLike, final: tuple[str, ...] = ("ok", "dead")
              ) -> Iterator[tuple[int, int]]:
    """(layer, neuron) of the rows whose status is final; others (errors) are retried."""
    for row in read_jsonl(path):
        if row.get("status") in final:
            yield int(row["layer"]), int(row["neuron"])


class JsonlWriter:
    """Appends one JSON object per line and flushes it to disk, so finished work is never lost."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Make sure a torn line from an earlier crash does not glue onto the next object.
        if self.path.exists() and self.path.stat().st_size > 0:
            with open(self.path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                torn = fh.read(1) != b"\n"
            if torn:
                with open(self.path, "a", encoding="utf-8") as fh:
                    fh.write("\n")

    def write(self, obj: dict[str, Any]) -> None:
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(obj, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
