"""One call per stage for notebooks and scripts, returning words rather than corpus ids.

``mine_unit`` runs the whole method (docs/method.md steps 1-5) for one unit and polarity in memory;
the stage functions that write folders (``build_corpus``, ``mine``, ``baseline``, ``summarize``) are
exported next to it from :mod:`superpose`. Models and corpora may be given as names/paths or as loaded
objects; pass loaded ones to reuse them across calls (nothing is cached behind your back).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from superpose.config import POLARITIES, MiningConfig, ProjectionConfig
from superpose.core.errors import SuperposeError
from superpose.corpus.store import NpmiSource, load_corpus


@dataclass(frozen=True)
class TopicWords:
    """A topic as words: ``score`` is the mean pairwise NPMI; ``status``/``gap`` the solver's proof."""

    words: list[str]
    score: float
    status: str
    gap: float
    never_cooccur: int


@dataclass(frozen=True)
class UnitTopics:
    """Everything the method finds for one unit and polarity, as words."""

    model: str
    mode: str
    layer: int
    unit: int
    polarity: str
    pool: list[str]
    isets: list[list[str]]
    topics: list[TopicWords]


def _counts(corpus: str | os.PathLike | NpmiSource) -> NpmiSource:
    return corpus if isinstance(corpus, NpmiSource) else load_corpus(corpus, mmap=True)


def unit_pool(model: Any, corpus: str | os.PathLike | NpmiSource, layer: int, unit: int,
              mode: str = ProjectionConfig.mode, polarity: str = "pos", *, tau: int = ProjectionConfig.tau,
              pooling: str = ProjectionConfig.pooling,
              sae: str | os.PathLike | None = None) -> list[str]:
    """The unit's pool (method steps 1-2): corpus words of its top (pos) or bottom (neg) tau tokens."""
    projection = ProjectionConfig(mode=mode, tau=tau, pooling=pooling, sae=None if sae is None else str(sae))
    return _mine(model, corpus, layer, unit, projection, None, polarity).pool


def mine_unit(model: Any, corpus: str | os.PathLike | NpmiSource, layer: int, unit: int,
              mode: str = ProjectionConfig.mode, polarity: str = "pos", *, tau: int = ProjectionConfig.tau,
              pooling: str = ProjectionConfig.pooling,
              sae: str | os.PathLike | None = None, **params: Any) -> UnitTopics:
    """The topics of one unit and polarity, with its pool and shortlisted sets, as words.

    ``model``: an embedded name, a folder, a hub id, or a model loaded with :func:`superpose.load_model`;
    ``corpus``: a corpus folder or a loaded one (:class:`NpmiSource`: counts or an imported NPMI matrix);
    ``pooling``: ``whole-tokens`` or the reference's ``subtokens``; ``sae``: an SAE or transcoder (path),
    whose latent ``unit`` at its hook's ``layer`` is mined instead of an MLP neuron; ``params``: any field
    of :class:`superpose.config.MiningConfig` (theta_l, theta_u, kappa_l, kappa_u, k, solver, formulation,
    time_limit; ``backend`` is the deprecated name of ``solver``). Every argument is checked before the model
    is loaded. The pool, isets and topics are byte for byte those of the same unit in a ``superpose mine``
    run of a slice or of the whole model, with any batch size, threads or executor
    (docs/formats/projection.md, "Guarantees").
    """
    mining = MiningConfig.from_kwargs(**params)
    projection = ProjectionConfig(mode=mode, tau=tau, pooling=pooling, sae=None if sae is None else str(sae))
    return _mine(model, corpus, layer, unit, projection, mining, polarity)


def _mine(model: Any, corpus: str | os.PathLike | NpmiSource, layer: int, unit: int, projection: ProjectionConfig,
          mining: MiningConfig | None, polarity: str) -> UnitTopics:
    from superpose.mining.pool import mine_pool
    from superpose.models import as_loaded
    from superpose.projection.pools import word_mapper
    from superpose.projection.project import check_tau, project_layer
    from superpose.units import load_sae

    if polarity not in POLARITIES:
        raise SuperposeError(f"unknown polarity {polarity!r}: choose pos (words pushed up) or neg (pushed down)")
    source = load_sae(projection.sae, hook=projection.sae_hook) if projection.sae is not None else None
    counts = _counts(corpus)
    lm = as_loaded(model)
    check_tau(lm, projection.tau)
    projected = project_layer(lm, projection.mode, layer, [unit], tau=projection.tau, source=source)
    tokens = projected.top_ids[0] if polarity == "pos" else projected.bottom_ids[0]
    pool = word_mapper(projection.pooling, lm.tokenizer, counts.index, lm.vocab_size).pool(tokens)
    words = [counts.vocab[w] for w in pool.tolist()]
    if mining is None:
        return UnitTopics(lm.name, projection.mode, layer, unit, polarity, words, [], [])
    result = mine_pool(np.asarray(pool), counts, mining)
    isets = [[counts.vocab[w] for w in iset] for iset in result.isets]
    topics = [TopicWords(sorted(counts.vocab[w] for w in t.words), t.score, t.status, t.gap, t.never_cooccur)
              for t in result.topics]
    return UnitTopics(lm.name, projection.mode, layer, unit, polarity, words, isets, topics)


__all__ = ["TopicWords", "UnitTopics", "mine_unit", "unit_pool"]
