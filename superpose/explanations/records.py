"""Published activation records written as our records folder (docs/formats/llm.md), so that
``score``, ``compare`` and ``report`` read them like the records of ``superpose activations``.

Published records come as token strings per neuron, not as token ids over one shared corpus, so
the folder gets its own vocabulary: ``tokens.json`` numbers the distinct token strings and
``sequences.npy`` holds every distinct record once. These ids are not the model's: tools that feed
the sequences back into the model (``dispersion``) do not apply. Random samples are per neuron
(``random_ids`` of shape ``(R, N)``). ``meta.json`` says all this under ``imported``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from superpose.activations.formats import save_layer, write_meta
from superpose.activations.records import LayerRecords
from superpose.core.errors import SuperposeError
from superpose.core.fileio import atomic_path, write_json_atomic
from superpose.core.provenance import timestamp, versions
from superpose.explanations.base import ImportOptions

Record = tuple[list[str], list[float]]


def _check_folder(folder: Path) -> None:
    """Refuse to write into a records folder that ``superpose activations`` made."""
    meta = folder / "meta.json"
    if meta.is_file():
        try:
            old = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if not isinstance(old, dict) or not old.get("imported"):
            raise SuperposeError(f"{folder} holds activation records of another run; choose another --records "
                                 "(or --out) folder for the imported ones")


def write_imported_records(folder: Path, units: dict[tuple[int, int], dict[str, Any]], *, n_layers: int,
                           width: int, seq_len: int, options: ImportOptions, source: Path, note: str) -> Path:
    """Write ``units`` ((layer, neuron) -> ``top`` and ``random`` record lists, ``stats``) as layer files.

    Neurons of a layer that the source does not hold have no records (they read as never active).
    """
    _check_folder(folder)
    vocab: dict[str, int] = {}
    sequences: dict[tuple[int, ...], int] = {}

    def seq_id(tokens: list[str]) -> int:
        ids = tuple(vocab.setdefault(t, len(vocab)) for t in tokens)
        return sequences.setdefault(ids, len(sequences))

    k = max(len(u["top"]) for u in units.values())
    n_random = max(len(u["random"]) for u in units.values())
    layers: dict[int, LayerRecords] = {}
    for layer in sorted({key[0] for key in units}):
        top_ids = np.full((k, width), -1, np.int64)
        top_acts = np.zeros((k, seq_len, width), np.float32)
        random_ids = np.full((n_random, width), -1, np.int64)
        random_acts = np.zeros((n_random, seq_len, width), np.float32)
        mean, var, peak = np.zeros(width), np.zeros(width), np.zeros(width)
        for (lay, neuron), unit in units.items():
            if lay != layer:
                continue
            for ids, acts, records in ((top_ids, top_acts, unit["top"]), (random_ids, random_acts, unit["random"])):
                for i, (tokens, values) in enumerate(records):
                    ids[i, neuron] = seq_id(tokens)
                    acts[i, :, neuron] = values
            everything = [a for _, values in unit["top"] + unit["random"] for a in values]
            peak[neuron] = max(everything)
            given_mean, given_var = unit["stats"].get("mean"), unit["stats"].get("variance")
            mean[neuron] = given_mean if given_mean is not None else np.mean(everything)
            var[neuron] = given_var if given_var is not None else np.var(everything)
        top_max = np.where(top_ids >= 0, top_acts.max(axis=1), 0.0)
        layers[layer] = LayerRecords(
            top_ids=top_ids, top_max=top_max, top_acts=top_acts, random_ids=random_ids, random_acts=random_acts,
            quantile_ids=np.full((0, 0, width), -1, np.int64), quantile_acts=np.zeros((0, 0, seq_len, width),
                                                                                      np.float32),
            quantile_edges=np.zeros((0, 2, width)), quantiles=np.zeros((0, 2)), mean=mean, var=var, max=peak,
            n_tokens=0)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("layer_*.npz"):  # layers of an earlier import: their sequence ids change now
        stale.unlink()
    matrix = np.array(list(sequences), dtype=np.int32).reshape(len(sequences), seq_len)
    with atomic_path(folder / "sequences.npy") as tmp, open(tmp, "wb") as fh:
        np.save(fh, matrix)
    write_json_atomic(folder / "tokens.json", {str(i): text for text, i in vocab.items()})
    for layer, records in layers.items():
        save_layer(folder, layer, records)
    write_meta(folder, {
        "model": options.model, "model_source": options.model_source or options.model, "n_layers": n_layers,
        "n_neurons": width, "vocab_size": len(vocab), "corpus": None, "n_sequences": len(sequences),
        "n_tokens": int(matrix.size), "top_k": k, "n_random": n_random, "per_quantile": 0,
        "activation": "as published by the source", "quantile_method": "none (not imported)",
        "imported": {"source": str(source), "note": note, "token_ids": "the folder's own vocabulary (tokens.json), "
                     "not the model's", "neurons": len(units)},
        "created": timestamp(), "versions": versions()})
    return folder
