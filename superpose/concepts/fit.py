"""Learn concepts from one layer's MLP activations and write them as a concept file.

Activations are the input of the block's MLP down projection (the neurons, as in the activation
records) at every token of corpus sequences. The sequences are split with a seeded permutation:
a share ``held_out`` of them is kept aside, and the reconstruction error and sparsity of the
concept activations (the file's own encoder, :mod:`superpose.units.concepts`) are measured there.
Concept rows are scaled to unit norm in neuron space, so a concept is comparable to a neuron (a
unit basis vector); its activation carries the scale.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from superpose.config import ConceptConfig
from superpose.core.errors import SuperposeError
from superpose.core.provenance import package_version, timestamp, versions
from superpose.units.concepts import ENCODE_ITERATIONS, ENCODINGS, ConceptSet, concept_hooks, save_concepts

SMALL = 0.01  # an activation below 1% of its concept's largest |activation| counts as inactive


@dataclass
class ConceptFit:
    """A fitted set: ``concepts_ [n, d_mlp]`` unit rows, ``center_``, ``encoder_`` (linear methods),
    ``scales_`` (the rows' norms before scaling), and the methods' own training record ``info_``."""

    method: str
    concepts_: np.ndarray
    center_: np.ndarray
    encoder_: np.ndarray | None
    scales_: np.ndarray
    info_: dict[str, Any]


def neuron_activations(lm: Any, sequences: np.ndarray, layer: int, *, batch_size: int = 16,
                       progress: Callable[[int], None] | None = None) -> np.ndarray:
    """(sequences, seq_len, d_mlp) float32 activations of the neurons of ``layer``; the forward
    pass stops after that block."""
    from superpose.activations.probe import capture

    device = lm.placement.device if hasattr(lm, "placement") else "cpu"
    out = np.empty((len(sequences), sequences.shape[1], lm.n_neurons), dtype=np.float32)
    for start in range(0, len(sequences), batch_size):
        ids = torch.from_numpy(sequences[start:start + batch_size].astype(np.int64)).to(device)
        out[start:start + len(ids)] = capture(lm, ids, layer, "neurons").cpu().numpy()
        if progress is not None:
            progress(len(ids))
    return out


def split_sequences(n_sequences: int, held_out: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out sequence indices (sorted), from a seeded permutation."""
    if n_sequences < 2:
        raise SuperposeError(f"the corpus gave {n_sequences} sequence(s): a fit needs at least two (one held "
                             "out); raise --max-tokens or give a larger --corpus-source")
    order = np.random.default_rng(seed).permutation(n_sequences)
    n_test = min(n_sequences - 1, max(1, int(round(held_out * n_sequences))))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def _unit_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.linalg.norm(rows, axis=1)
    norms = np.where(norms > 0, norms, 1.0)
    return rows / norms[:, None], norms


def fit_concepts(acts: np.ndarray, config: ConceptConfig) -> ConceptFit:
    """Learn ``config.n`` concepts from ``acts`` (tokens, d_mlp) with ``config.method``."""
    method, n, seed = config.method, config.n, config.seed
    tokens, width = acts.shape
    if n > tokens:
        raise SuperposeError(f"--n {n} is more concepts than the {tokens} training tokens: raise "
                             "--max-tokens or lower --n")
    if method in ("pca", "ica", "nmf") and n > width:
        raise SuperposeError(f"--n {n} is above the layer's {width} neurons: {method} learns at most one "
                             "concept per neuron; lower --n")
    x = np.asarray(acts, dtype=np.float32)
    encoder = None
    info: dict[str, Any] = {}
    if method == "pca":
        from sklearn.decomposition import PCA

        model = PCA(n_components=n, svd_solver="covariance_eigh", random_state=seed).fit(x)
        center, rows = model.mean_, model.components_
        encoder = model.components_.T
        info = {"explained_variance_ratio": float(model.explained_variance_ratio_.sum())}
    elif method == "ica":
        from sklearn.decomposition import FastICA

        model = FastICA(n_components=n, whiten="unit-variance", max_iter=config.max_iter,
                        random_state=seed).fit(x)
        center, rows = model.mean_, model.mixing_.T
        encoder = model.components_.T
        info = {"n_iter": int(model.n_iter_)}
    elif method == "nmf":
        from sklearn.decomposition import NMF

        center = x.min(axis=0)
        model = NMF(n_components=n, init="nndsvda", max_iter=config.max_iter, random_state=seed)
        model.fit(x - center)
        rows = model.components_
        info = {"n_iter": int(model.n_iter_), "train_error": float(model.reconstruction_err_)}
    elif method == "semi-nmf":
        from superpose.concepts.seminmf import semi_nmf

        _, rows, errors = semi_nmf(x, n, max_iter=config.max_iter, seed=seed)
        center = np.zeros(width, dtype=np.float32)
        info = {"n_iter": len(errors), "train_relative_error": errors[-1] if errors else None}
    elif method == "kmeans":
        from sklearn.cluster import KMeans

        model = KMeans(n_clusters=n, n_init=1, max_iter=config.max_iter, random_state=seed).fit(x)
        center, rows = np.zeros(width, dtype=np.float32), model.cluster_centers_
        info = {"n_iter": int(model.n_iter_), "inertia": float(model.inertia_)}
    else:  # ConceptConfig has checked the method
        raise SuperposeError(f"unknown method {method!r}")
    unit, norms = _unit_rows(np.asarray(rows, dtype=np.float64))
    if encoder is not None:
        encoder = np.asarray(encoder, dtype=np.float64) * norms[None, :]
    return ConceptFit(method, unit.astype(np.float32), np.asarray(center, dtype=np.float32),
                      None if encoder is None else encoder.astype(np.float32), norms.astype(np.float32), info)


def output_directions(lm: Any, layer: int, concepts: np.ndarray) -> np.ndarray:
    """``W_down @ c`` for every concept row (no bias: every concept shares it, as an SAE's ``b_dec``),
    then the block's post-MLP norm where the model has one, as a neuron's direction gets it."""
    from superpose.models.adapters.base import get_path

    adapter = lm.adapter
    block = adapter.blocks(lm.model)[layer]
    weight = adapter.mlp_out_proj(block).weight.detach().to("cpu", torch.float32)
    rows = torch.from_numpy(np.asarray(concepts, dtype=np.float32))
    vectors = rows @ weight if adapter.out_weight_in_out else rows @ weight.T
    if adapter.post_mlp_norm_path is not None:
        norm = get_path(block, adapter.post_mlp_norm_path)
        with torch.inference_mode():
            param = next(norm.parameters(), None)
            where = param.device if param is not None else torch.device("cpu")
            dtype = param.dtype if param is not None else torch.float32
            vectors = norm(vectors.to(where, dtype)).to("cpu", torch.float32)
    return vectors.numpy()


def held_out_metrics(units: ConceptSet, acts: np.ndarray, batch: int = 8192) -> dict[str, float]:
    """Reconstruction and sparsity of the file's concept activations on held-out tokens.

    ``fvu``: |a - (center + codes C)|^2 summed over tokens, over the tokens' variance around their
    mean (the fraction of variance unexplained); ``share_zero``: activations exactly 0;
    ``share_inactive``: activations below 1% of their concept's largest |activation| there;
    ``l0``: active concepts per token (that rule)."""
    x = torch.from_numpy(np.asarray(acts, dtype=np.float32))
    codes = torch.cat([units.encode(x[i:i + batch]) for i in range(0, len(x), batch)])
    recon = torch.cat([units.reconstruct(codes[i:i + batch]) for i in range(0, len(x), batch)])
    residual = float(((x.double() - recon.double()) ** 2).sum())
    spread = float(((x.double() - x.double().mean(0)) ** 2).sum()) or 1.0
    peak = codes.abs().amax(0).clamp(min=1e-30)
    active = codes.abs() >= SMALL * peak
    return {"tokens": int(len(x)), "fvu": residual / spread, "share_zero": float((codes == 0).double().mean()),
            "share_inactive": float(1 - active.double().mean()), "l0": float(active.double().sum(1).mean())}


def _documents(sources: Sequence[str]) -> Iterable[str]:
    from superpose.corpus.sources import iter_documents

    for source in sources:
        yield from iter_documents(source)


def fit_to_file(model: Any, layer: int, config: ConceptConfig, out: str | os.PathLike, *,
                sources: Sequence[str] = ("default",), batch_size: int = 16, name: str | None = None,
                progress: Callable[[int], None] | None = None) -> tuple[Path, dict[str, Any]]:
    """Read ``sources``, fit, measure on held-out tokens, write the concept file; its metadata back.

    Everything is checked before the model runs: the layer, the output path's suffix and folder."""
    from superpose.activations.collect import cut_sequences
    from superpose.core.fileio import check_writable
    from superpose.models import as_loaded
    from superpose.projection.project import check_layer

    path = Path(out)
    if path.suffix != ".npz":
        raise SuperposeError(f"--out {path} must end in .npz (a concept file), e.g. concepts-l{layer}.npz")
    check_writable(path.parent if str(path.parent) else Path("."), "--out")
    lm = as_loaded(model)
    check_layer(lm, layer)
    if lm.tokenizer is None:
        raise SuperposeError("this model has no tokenizer, so corpus text cannot be read: load a folder with one")
    sequences = cut_sequences(lm.tokenizer, _documents(sources), config.seq_len, config.max_tokens)
    train, test = split_activations(neuron_activations(lm, sequences, layer, batch_size=batch_size,
                                                       progress=progress), config)
    corpus = {"sources": list(sources), "n_sequences": int(len(sequences))}
    return fit_and_write(lm, layer, config, train, test, path, corpus=corpus, name=name)


def split_activations(acts: np.ndarray, config: ConceptConfig) -> tuple[np.ndarray, np.ndarray]:
    """(training tokens, held-out tokens), each (tokens, d_mlp), from (sequences, seq_len, d_mlp)."""
    train_ids, test_ids = split_sequences(len(acts), config.held_out, config.seed)
    return acts[train_ids].reshape(-1, acts.shape[-1]), acts[test_ids].reshape(-1, acts.shape[-1])


def fit_and_write(lm: Any, layer: int, config: ConceptConfig, train: np.ndarray, test: np.ndarray,
                  out: str | os.PathLike, *, corpus: dict[str, Any], name: str | None = None
                  ) -> tuple[Path, dict[str, Any]]:
    """Fit on ``train`` tokens, measure on ``test`` tokens, write the concept file ``out``."""
    path = Path(out)
    fit = fit_concepts(train, config)
    directions = output_directions(lm, layer, fit.concepts_)
    hook, in_hook = concept_hooks(layer)
    label = name or f"{config.method}-l{layer}-{config.n}"
    probe_units = ConceptSet(name=label, format="concepts", path="", hook=hook, in_hook=in_hook,
                             W_dec=torch.from_numpy(directions), concepts=torch.from_numpy(fit.concepts_),
                             center=torch.from_numpy(fit.center_),
                             encoder=None if fit.encoder_ is None else torch.from_numpy(fit.encoder_),
                             scales=torch.from_numpy(fit.scales_), method=config.method,
                             encoding=ENCODINGS[config.method])
    metrics = {"held_out": held_out_metrics(probe_units, test), "train": held_out_metrics(probe_units, train)}
    meta = {"name": label, "model": lm.name, "model_source": lm.source, "layer": int(layer),
            "method": config.method, "n": int(config.n), "d_mlp": int(lm.n_neurons),
            "d_model": int(lm.hidden_size), "hook": hook.name, "in_hook": in_hook.name,
            "encoding": ENCODINGS[config.method], "encode_iterations": ENCODE_ITERATIONS,
            "direction_rule": "W_down @ c, no bias, then the block's post-MLP norm if any",
            "params": asdict(config), "corpus": {**corpus, "train_tokens": int(len(train)),
                                                  "held_out_tokens": int(len(test))},
            "fit": fit.info_, "metrics": metrics,
            "versions": {**versions(), "scikit-learn": package_version("scikit-learn")},
            "created": timestamp()}
    save_concepts(path, concepts=fit.concepts_, directions=directions, center=fit.center_,
                  scales=fit.scales_, encoder=fit.encoder_, meta=meta)
    return path, meta
