"""Project whole layers to files, resumably: what ``superpose project`` runs.

A layer whose file already exists with the same model, mode, tau, units and corpus is skipped,
so an interrupted run continues where it stopped (layer files are written atomically).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.core.provenance import timestamp, versions
from superpose.corpus.store import NpmiSource
from superpose.models import LoadedModel
from superpose.projection.pools import DEFAULT_POOLING, check_pooling, vocab_fingerprint, word_mapper
from superpose.projection.project import (
    DEFAULT_BATCH,
    DEFAULT_TAU,
    LayerProjection,
    check_layer,
    check_mode,
    check_source,
    check_tau,
    check_units,
    project_layer,
)
from superpose.projection.store import layer_path, neurons_sha256, read_meta, save_layer
from superpose.units.sae import units_run_name


@dataclass
class CorpusWords:
    """What pools need from a corpus: its word index and its identity for the metadata."""

    index: dict[str, int]
    identity: dict[str, Any]

    @classmethod
    def from_vocab(cls, vocab: Sequence[str], path: str = "") -> CorpusWords:
        """From a bare word list (no counts needed: tests and custom vocabularies)."""
        return cls({w: i for i, w in enumerate(vocab)},
                   {"path": path, "vocab_size": len(vocab), "vocab_sha256": vocab_fingerprint(vocab)})

    @classmethod
    def from_counts(cls, counts: NpmiSource, path: str | os.PathLike) -> CorpusWords:
        """From a loaded corpus, reusing its word index and fingerprint."""
        return cls(counts.index, {"path": str(Path(path).resolve()), "vocab_size": len(counts.vocab),
                                  "vocab_sha256": counts.fingerprint})

    @classmethod
    def load(cls, folder: str | os.PathLike) -> CorpusWords:
        from superpose.corpus import load_corpus

        return cls.from_counts(load_corpus(folder, mmap=True), folder)


def run_name(lm: LoadedModel, source: Any = None) -> str:
    """The model part of output paths: the model's name, plus the SAE's for SAE latents."""
    return lm.name if source is None else units_run_name(lm.name, source.identity())


def layer_meta(lm: LoadedModel, mode: str, layer: int, tau: int, neurons: np.ndarray,
               corpus: dict[str, Any] | None, source: Any = None) -> dict[str, Any]:
    """The metadata stored with a layer (see :mod:`superpose.projection.store`); ``units`` (only
    for SAE latents) identifies the SAE."""
    unit_count = (lm.n_neurons if mode.startswith("hi") else lm.hidden_size) if source is None \
        else source.n_units()
    extra = {} if source is None else {"units": source.identity()}
    # The device is named only off the default CPU, so default files keep their old metadata.
    if lm.placement.device != "cpu":
        extra["device"] = lm.placement.device
    return {**extra, "model": lm.name, "model_source": lm.source,
            "model_type": getattr(lm.model.config, "model_type", None),
            "family": lm.adapter.family, "mode": mode, "layer": layer, "tau": tau,
            "n_units": unit_count, "n_neurons": int(len(neurons)),
            "neurons_sha256": neurons_sha256(neurons), "vocab_size": lm.vocab_size,
            "hidden_size": lm.hidden_size, "n_layers": lm.n_layers, "dtype": lm.placement.dtype,
            "corpus": corpus, "versions": versions(), "created": timestamp()}


_SAME = ("model", "mode", "layer", "tau", "neurons_sha256", "vocab_size", "units", "dtype")


def is_complete(path: Path, wanted: dict[str, Any]) -> bool:
    """True when ``path`` holds a readable layer made with the parameters of ``wanted``."""
    if not path.is_file():
        return False
    try:
        meta = read_meta(path)
    except SuperposeError:
        return False
    if any(meta.get(key) != wanted.get(key) for key in _SAME):
        return False
    have, want = meta.get("corpus") or {}, wanted["corpus"] or {}
    return have.get("vocab_sha256") == want.get("vocab_sha256") and \
        have.get("pooling", DEFAULT_POOLING) == want.get("pooling", DEFAULT_POOLING)


def project_to_files(lm: LoadedModel, mode: str, layers: Sequence[int], out: str | os.PathLike,
                     *, neurons: Sequence[int] | None = None, tau: int = DEFAULT_TAU,
                     corpus: CorpusWords | None = None, batch_size: int | None = DEFAULT_BATCH,
                     overwrite: bool = False, on_units: Callable[[int], None] | None = None,
                     source: Any = None, pooling: str = DEFAULT_POOLING,
                     on_layer: Callable[[Path], None] | None = None) -> list[Path]:
    """Project ``layers`` of ``lm`` in ``mode`` into ``out``, in the order given; returns the layer files.

    ``on_units(n)`` reports progress in units (skipped layers count at once); ``on_layer(path)``
    is called once a layer's file is complete (written, or found complete), so a consumer can
    start on it while the next layer computes; ``source`` (an
    SAE) replaces the model's units by its latents, written under ``{model}--sae-{name}``;
    ``pooling`` names the token-to-word rule of the pools (:mod:`superpose.pools`).
    """
    check_mode(mode)
    check_pooling(pooling)
    check_tau(lm, tau)
    for layer in layers:
        check_layer(lm, layer)
        check_source(lm, mode, layer, source)
    units = check_units(lm, mode, neurons, source)
    token_words = corpus_meta = None
    if corpus is not None:
        token_words = word_mapper(pooling, lm.tokenizer, corpus.index, lm.vocab_size)
        corpus_meta = dict(corpus.identity, mapped_tokens=token_words.n_mapped,
                           mapped_words=token_words.n_words, pooling=pooling)
    paths = []
    # A layer's pools and file are written by a helper thread while the next layer computes.
    with ThreadPoolExecutor(max_workers=1) as writer:
        writing: Future[None] | None = None
        written = Path()
        for layer in layers:
            path = layer_path(out, run_name(lm, source), mode, layer)
            meta = layer_meta(lm, mode, layer, tau, units, corpus_meta, source)
            paths.append(path)
            if not overwrite and is_complete(path, meta):
                if on_units is not None:
                    on_units(len(units))
                if on_layer is not None:
                    on_layer(path)
                continue
            projection = project_layer(lm, mode, layer, units, tau=tau, batch_size=batch_size,
                                       on_batch=on_units, source=source)
            if writing is not None:
                _finish(writing, written, on_layer)  # one layer in flight at a time; a write error surfaces here
            writing, written = writer.submit(save_projection, path, projection, meta, token_words), path
        if writing is not None:
            _finish(writing, written, on_layer)
    return paths


def _finish(writing: Future[None], path: Path, on_layer: Callable[[Path], None] | None) -> None:
    writing.result()
    if on_layer is not None:
        on_layer(path)


def save_projection(path: Path, projection: LayerProjection, meta: dict[str, Any],
                    token_words: Any) -> None:
    """Write one projected layer, with its word pools when ``token_words`` (a
    :func:`~superpose.projection.pools.word_mapper`) is given."""
    pools = None
    if token_words is not None:
        pos_words, pos_offsets = token_words.pools(projection.top_ids)
        neg_words, neg_offsets = token_words.pools(projection.bottom_ids)
        pools = {"pos_words": pos_words, "pos_offsets": pos_offsets,
                 "neg_words": neg_words, "neg_offsets": neg_offsets}
    save_layer(path, projection, meta, pools)
