"""A hand-made records folder (no model needed) and small fakes for the LLM path's tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from superpose.activations.formats import save_layer, write_meta
from superpose.activations.records import LayerRecords
from superpose.core.fileio import write_json_atomic

VOCAB = [" alpha", " beta", " gamma", " delta", " eps", " zeta", ",", "."]


def make_records(folder: Path, n_seq: int = 60, seq_len: int = 8, top_k: int = 12,
                 n_random: int = 12, seed: int = 0) -> Path:
    """Records of model "toy" with 3 neurons in layer 0: neuron 0 fires on " alpha", neuron 1
    on " beta", neuron 2 never fires (a dead unit)."""
    rng = np.random.default_rng(seed)
    seqs = rng.integers(0, len(VOCAB), (n_seq, seq_len)).astype(np.int32)
    acts = np.zeros((n_seq, seq_len, 3), dtype=np.float32)
    acts[..., 0] = seqs == 0
    acts[..., 1] = 2.0 * (seqs == 1)
    top_ids = np.stack([np.argsort(-acts[..., n].sum(1), kind="stable")[:top_k]
                        for n in range(3)], axis=1)
    random_ids = np.arange(n_random)
    layer = LayerRecords(
        top_ids=top_ids.astype(np.int64), top_max=np.take_along_axis(acts.max(1), top_ids, 0),
        top_acts=np.stack([acts[top_ids[:, n], :, n] for n in range(3)], axis=-1),
        random_ids=random_ids, random_acts=acts[random_ids],
        quantile_ids=np.full((0, 0, 3), -1, dtype=np.int64),
        quantile_acts=np.zeros((0, 0, seq_len, 3), dtype=np.float32),
        quantile_edges=np.zeros((0, 2, 3)), quantiles=np.zeros((0, 2)),
        mean=acts.mean((0, 1)), var=acts.var((0, 1)), max=acts.max((0, 1)), n_tokens=seqs.size)
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / "sequences.npy", seqs)
    write_json_atomic(folder / "tokens.json", {str(i): t for i, t in enumerate(VOCAB)})
    save_layer(folder, 0, layer)
    write_meta(folder, {"model": "toy", "n_layers": 1, "n_neurons": 3, "vocab_size": len(VOCAB),
                        "corpus": {}, "n_sequences": n_seq, "n_tokens": int(seqs.size)})
    return folder


class KeywordSimulator:
    """Predicts 10 on tokens whose text appears in the explanation, else 0."""

    name = "keyword"
    method = "test keyword match"

    def simulate(self, explanation, sequences):
        return [np.array([10.0 if t.strip() and t.strip() in explanation else 0.0 for t in s])
                for s in sequences]
