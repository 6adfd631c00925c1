"""A hand-made records folder (the format of `superpose activations`) with known activations."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from superpose.activations.formats import save_layer
from superpose.activations.records import LayerRecords


def write_records(folder: Path, token_text: dict[int, str], sequences: np.ndarray,
                  top: dict[int, list[tuple[int, list[float]]]], n_neurons: int, layer: int = 0,
                  random: list[int] | None = None, random_acts: np.ndarray | None = None) -> Path:
    """``top[neuron]`` = [(sequence, activations per token), ...]; neurons without an entry have
    no top records. ``random`` sequences get ``random_acts`` (R, L, N)."""
    folder.mkdir(parents=True, exist_ok=True)
    n_seq, length = sequences.shape
    k = max((len(v) for v in top.values()), default=1)
    top_ids = np.full((k, n_neurons), -1, dtype=np.int64)
    top_acts = np.zeros((k, length, n_neurons), dtype=np.float32)
    for neuron, recs in top.items():
        for i, (seq, acts) in enumerate(recs):
            top_ids[i, neuron] = seq
            top_acts[i, :, neuron] = acts
    random = random or []
    r_acts = random_acts if random_acts is not None else np.zeros((len(random), length, n_neurons), np.float32)
    records = LayerRecords(
        top_ids=top_ids, top_max=top_acts.max(axis=1), top_acts=top_acts,
        random_ids=np.asarray(random, dtype=np.int64), random_acts=r_acts,
        quantile_ids=np.full((0, 0, n_neurons), -1, np.int64), quantile_acts=np.zeros((0, 0, length, n_neurons)),
        quantile_edges=np.zeros((0, 2, n_neurons)), quantiles=np.zeros((0, 2)),
        mean=np.zeros(n_neurons), var=np.zeros(n_neurons), max=np.zeros(n_neurons), n_tokens=n_seq * length)
    save_layer(folder, layer, records)
    np.save(folder / "sequences.npy", sequences.astype(np.int32))
    (folder / "tokens.json").write_text(json.dumps({str(k): v for k, v in token_text.items()}))
    (folder / "meta.json").write_text(json.dumps({
        "format": "superpose.activations.records", "format_version": 1, "model": "hand-made", "n_layers": 1,
        "n_neurons": n_neurons, "vocab_size": len(token_text)}))
    return folder
