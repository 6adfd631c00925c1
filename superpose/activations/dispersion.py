"""A polysemanticity score of tokens, in the spirit of the Arrakis knowledge prober: how dispersed a
token's contexts are in one layer's residual space.

Take the residual stream entering block ``layer`` at many token positions of running text. For each
occurrence of a token, find its ``k`` nearest neighbours (cosine distance) among all occurrences of
all tokens. A token whose contexts cluster by meaning has neighbours that are other occurrences of
itself; a token used in many senses (or whose representation says more about context than about
the token) has neighbours that are other tokens, farther away. Per token, averaged over its
occurrences: ``other_share`` (the share of the k neighbours that are other tokens) and
``mean_distance`` (their mean cosine distance). Occurrences are capped per token (seeded), so
frequent tokens do not crowd the neighbourhoods, and tokens with fewer than ``min_occurrences``
are not scored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError


@dataclass(frozen=True)
class TokenDispersion:
    token: int
    occurrences: int
    other_share: float
    mean_distance: float


def sample_occurrences(token_ids: np.ndarray, *, max_per_token: int = 40, min_occurrences: int = 3,
                       seed: int = 0) -> np.ndarray:
    """Positions kept: at most ``max_per_token`` per token (a seeded uniform choice), only tokens
    with at least ``min_occurrences``; sorted."""
    rng = np.random.default_rng(seed)
    token_ids = np.asarray(token_ids).reshape(-1)
    order = np.argsort(token_ids, kind="stable")
    bounds = np.flatnonzero(np.diff(token_ids[order])) + 1
    keep = []
    for group in np.split(order, bounds):
        if len(group) >= min_occurrences:
            keep.append(group if len(group) <= max_per_token else rng.choice(group, max_per_token, replace=False))
    return np.sort(np.concatenate(keep)) if keep else np.zeros(0, dtype=np.int64)


def token_dispersion(hidden: np.ndarray, token_ids: np.ndarray, *, k: int = 10, max_per_token: int = 40,
                     min_occurrences: int = 3, seed: int = 0, chunk: int = 1024) -> list[TokenDispersion]:
    """The score of every token with enough occurrences: ``hidden`` (positions, width) residual
    vectors and ``token_ids`` (positions,) the token at each; best-first order is not implied."""
    hidden = np.asarray(hidden, dtype=np.float32)
    token_ids = np.asarray(token_ids).reshape(-1)
    if hidden.ndim != 2 or len(hidden) != len(token_ids):
        raise SuperposeError(f"hidden states {hidden.shape} and token ids {token_ids.shape} do not match")
    if k < 1 or max_per_token < 1 or min_occurrences < 1:
        raise SuperposeError("k, max_per_token and min_occurrences must be at least 1")
    keep = sample_occurrences(token_ids, max_per_token=max_per_token, min_occurrences=min_occurrences, seed=seed)
    if len(keep) <= k:
        raise SuperposeError(f"only {len(keep)} occurrences of tokens seen at least {min_occurrences} times: "
                             f"give more text than k={k} neighbours need")
    vectors = hidden[keep]
    vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    tokens = token_ids[keep]
    other = np.empty(len(keep))
    distance = np.empty(len(keep))
    for start in range(0, len(keep), chunk):
        sims = vectors[start:start + chunk] @ vectors.T
        rows = np.arange(sims.shape[0])
        sims[rows, start + rows] = -np.inf  # not its own neighbour
        nearest = np.argpartition(-sims, k, axis=1)[:, :k]
        other[start:start + chunk] = (tokens[nearest] != tokens[start + rows, None]).mean(axis=1)
        distance[start:start + chunk] = 1.0 - np.take_along_axis(sims, nearest, axis=1).mean(axis=1)
    out = []
    for token in np.unique(tokens):
        mask = tokens == token
        out.append(TokenDispersion(int(token), int(mask.sum()), float(other[mask].mean()),
                                   float(distance[mask].mean())))
    return out




def collect_residuals(lm: Any, sequences: np.ndarray, layers: list[int], *, batch_size: int = 16,
                      progress: Callable[[int], None] | None = None) -> dict[int, np.ndarray]:
    """The residual stream entering each block of ``layers``: layer -> float32 (positions, width),
    positions in reading order of ``sequences`` (S, L); the forward pass stops after the deepest."""
    import torch

    blocks = lm.adapter.blocks(lm.model)
    deepest = max(layers)
    out: dict[int, list[np.ndarray]] = {layer: [] for layer in layers}

    class Stop(Exception):
        pass

    def hook_for(layer: int) -> Callable[..., None]:
        def hook(module: Any, args: tuple, kwargs: dict) -> None:
            value = args[0] if args else kwargs["hidden_states"]
            out[layer].append(value.detach().float().reshape(-1, value.shape[-1]).numpy())
            if layer == deepest:
                raise Stop
        return hook

    handles = [blocks[layer].register_forward_pre_hook(hook_for(layer), with_kwargs=True) for layer in layers]
    try:
        with torch.inference_mode():
            for start in range(0, len(sequences), batch_size):
                ids = torch.from_numpy(np.asarray(sequences[start:start + batch_size], dtype=np.int64))
                try:
                    lm.model(input_ids=ids, use_cache=False)
                except Stop:
                    pass
                if progress is not None:
                    progress(len(ids))
    finally:
        for handle in handles:
            handle.remove()
    return {layer: np.concatenate(parts) for layer, parts in out.items()}


def write_dispersion(model: Any, records: str | Path, layers: list[int], out: str | Path, *, max_tokens: int = 32768,
                     k: int = 10, max_per_token: int = 40, min_occurrences: int = 3, seed: int = 0,
                     progress: Callable[[int], None] | None = None) -> list[Path]:
    """Score the tokens of the first ``max_tokens`` of a records folder's sequences at each of
    ``layers``; writes ``{out}/dispersion_{LL}.csv`` (token, text, occurrences, other_share,
    mean_distance) and ``{out}/dispersion.json`` (parameters)."""
    import csv

    from superpose.activations.formats import RecordStore
    from superpose.core.fileio import atomic_path, write_json_atomic
    from superpose.core.manifest import stamp
    from superpose.models import as_loaded
    from superpose.projection.project import check_layer

    store = RecordStore(records)
    lm = as_loaded(model)
    if lm.name != store.model:
        raise SuperposeError(f"records in {store.folder} come from {store.model!r}, not {lm.name!r}")
    for layer in layers:
        check_layer(lm, layer)
    n_seq = max(1, min(len(store.sequences), max_tokens // store.sequences.shape[1]))
    sequences = store.sequences[:n_seq]
    hidden = collect_residuals(lm, sequences, sorted(set(layers)), progress=progress)
    params = {"k": k, "max_per_token": max_per_token, "min_occurrences": min_occurrences, "seed": seed,
              "tokens": int(sequences.size), "site": "residual stream entering the block", "metric": "cosine"}
    paths = []
    for layer in layers:
        scores = token_dispersion(hidden[layer], sequences.reshape(-1), k=k, max_per_token=max_per_token,
                                  min_occurrences=min_occurrences, seed=seed)
        path = Path(out) / f"dispersion_{layer:02d}.csv"
        with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(["token", "text", "occurrences", "other_share", "mean_distance"])
            for s in scores:
                writer.writerow([s.token, store.token_text.get(s.token, ""), s.occurrences, repr(s.other_share),
                                 repr(s.mean_distance)])
        paths.append(path)
    write_json_atomic(Path(out) / "dispersion.json", stamp(format="superpose.dispersion", format_version=1,
                                                          records=str(Path(records).resolve()),
                                                          model=lm.name, layers=layers, params=params))
    return paths


def read_dispersion(path: str | Path) -> dict[int, TokenDispersion]:
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return {int(r["token"]): TokenDispersion(int(r["token"]), int(r["occurrences"]), float(r["other_share"]),
                                                 float(r["mean_distance"])) for r in csv.DictReader(fh)}


__all__ = ["TokenDispersion", "collect_residuals", "read_dispersion", "sample_occurrences", "token_dispersion",
           "write_dispersion"]
