"""The per-pool mining job: coherence graph, star shortlist, exact k-clique per iset.

``mine_pool`` is a pure function of its inputs (a pool of corpus word ids, the corpus counts and
the parameters), so local worker processes run it today and a distributed engine can run it
unchanged later. It returns word ids; turning them into words is the export stage's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from superpose.config import MiningConfig
from superpose.corpus.store import NpmiSource
from superpose.mining.clique.solve import solve_mekc
from superpose.mining.shortlist import star_heuristic


@dataclass(frozen=True)
class Topic:
    """One mined topic: ``k`` corpus word ids, mean pairwise NPMI and the solver's proof."""

    words: tuple[int, ...]
    score: float
    status: str
    gap: float
    never_cooccur: int  # pairs of the topic that share no window in the corpus (-1: not known, a matrix)


@dataclass(frozen=True)
class PoolResult:
    """What one pool yields: its shortlisted isets (word ids) and topics, best score first."""

    isets: list[list[int]] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)


def mine_pool(pool: np.ndarray, counts: NpmiSource, params: MiningConfig) -> PoolResult:
    """Mine the topics of one pool of corpus word ids (steps 3-5 of docs/method.md) on a reference
    corpus: counts, or an imported NPMI matrix (which does not know which pairs never co-occur)."""
    pool = np.asarray(pool, dtype=np.int64)
    if len(pool) < max(params.kappa_l, params.k):
        return PoolResult()
    scores = counts.scores(pool)
    weights, pair_counts = scores.npmi, scores.shared
    groups = star_heuristic(weights, (params.theta_l, params.theta_u), (params.kappa_l, params.kappa_u))
    isets, topics = [], []
    for group in groups:
        members = np.asarray(group, dtype=np.int64)
        isets.append(pool[members].tolist())
        result = solve_mekc(weights[members[:, None], members], params.k, backend=params.solver,
                            formulation=params.formulation, time_limit=params.time_limit)
        if not result.indices:
            continue
        chosen = members[list(result.indices)]
        never = -1 if pair_counts is None else \
            int((pair_counts[chosen[:, None], chosen][np.triu_indices(len(chosen), k=1)] == 0).sum())
        topics.append(Topic(tuple(sorted(pool[chosen].tolist())), float(result.score), result.status,
                            float(result.gap), never))
    topics.sort(key=lambda t: (-t.score, t.words))
    return PoolResult(isets, topics)
