"""On-disk format of projections (format ``superpose-projection``, version 1).

One file per model, mode and layer::

    {out}/{model}/{mode}/layer_{LL}.npz     the data (LL: layer, at least two digits)
    {out}/{model}/{mode}/layer_{LL}.json    a copy of its metadata, for people and tools

The ``.npz`` (uncompressed, no pickles) holds, for ``N`` units and ``tau`` tokens:

    neurons        int32[N]        unit indices (MLP neurons in hi-*, residual dims in lo-*)
    top_ids        int32[N, tau]   token ids by decreasing logit
    top_logits     float32[N, tau]
    bottom_ids     int32[N, tau]   token ids by increasing logit
    bottom_logits  float32[N, tau]
    meta           str (0-d)       the metadata as JSON (see below)

and, when a corpus was given, the pools as CSR arrays (row ``i`` is
``words[offsets[i]:offsets[i+1]]``, corpus word ids in first-appearance order by rank):

    pos_words int32[*], pos_offsets int64[N+1]    from top_ids
    neg_words int32[*], neg_offsets int64[N+1]    from bottom_ids

Metadata: ``format``, ``format_version``, ``model`` (short name), ``model_source``,
``model_type``, ``family``, ``mode``, ``layer``, ``tau``, ``n_units`` (units in the layer),
``n_neurons`` (units in this file), ``neurons_sha256``, ``vocab_size``, ``hidden_size``,
``n_layers``, ``dtype``, ``corpus`` (null, or ``path``, ``vocab_size``, ``vocab_sha256``,
``mapped_tokens``, ``mapped_words``), ``versions``, ``created``.

The ``.npz`` is the record: it is written to a temporary file and renamed, so a layer file
either is complete or does not exist. The ``.json`` is written after it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_path, write_json_atomic
from superpose.projection.project import LayerProjection

FORMAT_NAME = "superpose-projection"
FORMAT_VERSION = 1
_ARRAYS = ("neurons", "top_ids", "top_logits", "bottom_ids", "bottom_logits")
_POOLS = ("pos_words", "pos_offsets", "neg_words", "neg_offsets")


def layer_path(out: str | os.PathLike, model: str, mode: str, layer: int) -> Path:
    return Path(out) / model / mode / f"layer_{layer:02d}.npz"


def neurons_sha256(neurons: np.ndarray) -> str:
    return hashlib.sha256(np.asarray(neurons, dtype="<i8").tobytes()).hexdigest()


@dataclass
class LayerFile:
    """One saved layer. ``pool(i, "pos")`` is the pool of row ``i`` (unit ``neurons[i]``)."""

    path: Path
    meta: dict[str, Any]
    neurons: np.ndarray
    top_ids: np.ndarray
    top_logits: np.ndarray
    bottom_ids: np.ndarray
    bottom_logits: np.ndarray
    pools: dict[str, np.ndarray] = field(default_factory=dict)

    def row(self, neuron: int) -> int:
        """Row of unit ``neuron`` in the arrays."""
        hits = np.flatnonzero(self.neurons == neuron)
        if not hits.size:
            raise SuperposeError(f"unit {neuron} is not in {self.path}")
        return int(hits[0])

    def pool(self, row: int, polarity: str) -> np.ndarray:
        """Corpus word ids of the ``pos`` (top) or ``neg`` (bottom) pool of row ``row``."""
        if polarity not in ("pos", "neg"):
            raise SuperposeError(f"unknown polarity {polarity!r}: choose pos or neg")
        if not self.pools:
            raise SuperposeError(f"{self.path} has no pools: project with --corpus, or build the "
                                 "pools from the ids with superpose.projection.pools.TokenWords")
        offsets = self.pools[f"{polarity}_offsets"]
        return self.pools[f"{polarity}_words"][offsets[row]:offsets[row + 1]]


def read_meta(path: str | os.PathLike) -> dict[str, Any]:
    """The metadata of a layer file, checked for format and version (cheap: one member)."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError) as err:
        raise SuperposeError(f"{path} is not a readable projection file ({err}): project again "
                             "with --overwrite") from err
    if meta.get("format") != FORMAT_NAME or meta.get("format_version") != FORMAT_VERSION:
        raise SuperposeError(f"{path} is not a {FORMAT_NAME} version {FORMAT_VERSION} file: "
                             "project again with --overwrite")
    return meta


def load_layer(path: str | os.PathLike) -> LayerFile:
    """Read a layer file written by :func:`save_layer`."""
    path = Path(path)
    meta = read_meta(path)
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in _ARRAYS}
        pools = {name: data[name] for name in _POOLS if name in data.files}
    return LayerFile(path, meta, pools=pools, **arrays)


def save_layer(path: str | os.PathLike, projection: LayerProjection, meta: dict[str, Any],
               pools: dict[str, np.ndarray] | None = None) -> None:
    """Write ``projection`` (and optional CSR pools) atomically, then the JSON sidecar."""
    path = Path(path)
    full = dict(meta, format=FORMAT_NAME, format_version=FORMAT_VERSION)
    arrays: dict[str, np.ndarray] = {
        "neurons": projection.neurons.astype(np.int32),
        "top_ids": projection.top_ids, "top_logits": projection.top_logits,
        "bottom_ids": projection.bottom_ids, "bottom_logits": projection.bottom_logits,
        "meta": np.array(json.dumps(full, sort_keys=True)),
    }
    if pools:
        missing = [name for name in _POOLS if name not in pools]
        if missing:
            raise ValueError(f"pools lack {missing}")
        arrays.update({name: pools[name] for name in _POOLS})
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        np.savez(handle, **arrays)
    write_json_atomic(path.with_suffix(".json"), full)
