"""The per-pool mining job: coherence graph, star shortlist, exact k-clique per iset.

``mine_pool`` is a pure function of its inputs (a pool of corpus word ids, the corpus counts and
the parameters), so local worker processes run it today and a distributed engine can run it
unchanged later. It returns word ids; turning them into words is the export stage's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from superpose.config import MiningConfig
from superpose.corpus.store import NpmiSource
from superpose.mining.clique.bnb import MAX_NODES, solve_groups
from superpose.mining.clique.solve import solve_mekc
from superpose.mining.clique.weights import finite_and_symmetric
from superpose.mining.shortlist import star_groups, star_heuristic


@dataclass(frozen=True)
class Topic:
    """One mined topic: ``k`` corpus word ids, mean pairwise NPMI and the solver's proof."""

    words: tuple[int, ...]
    score: float
    status: str
    gap: float
    never_cooccur: int  # pairs of the topic that share no window in the corpus (-1: not known, a matrix)

    def __reduce__(self) -> tuple:
        # fields in order, not a field-name dict: results travel from the workers by the thousand
        return Topic, (self.words, self.score, self.status, self.gap, self.never_cooccur)


@dataclass(frozen=True)
class PoolResult:
    """What one pool yields: its shortlisted isets (word ids) and topics, best score first."""

    isets: list[list[int]] = field(default_factory=list)
    topics: list[Topic] = field(default_factory=list)

    def __reduce__(self) -> tuple:
        return PoolResult, (self.isets, self.topics)


def mine_pool(pool: np.ndarray, counts: NpmiSource, params: MiningConfig) -> PoolResult:
    """Mine the topics of one pool of corpus word ids (steps 3-5 of docs/method.md) on a reference
    corpus: counts, or an imported NPMI matrix (which does not know which pairs never co-occur)."""
    pool = np.asarray(pool, dtype=np.int64)
    if len(pool) < max(params.kappa_l, params.k):
        return PoolResult()
    scores = counts.scores(pool)
    weights, pair_counts = scores.npmi, scores.shared
    if params.solver == "bnb" and (scores.exact or exact_weights(weights)):
        return _mine_exact(pool, np.ascontiguousarray(weights, dtype=np.float64), pair_counts, params)
    groups = star_heuristic(weights, (params.theta_l, params.theta_u), (params.kappa_l, params.kappa_u))
    isets, topics = [], []
    for group in groups:
        members = np.asarray(group, dtype=np.int64)
        isets.append(pool[members].tolist())
        topic = _solved(pool, weights, members, pair_counts, params)
        if topic is not None:
            topics.append(topic)
    topics.sort(key=lambda t: (-t.score, t.words))
    return PoolResult(isets, topics)


def _solved(pool: np.ndarray, weights: np.ndarray, members: np.ndarray, pair_counts: np.ndarray | None,
            params: MiningConfig) -> Topic | None:
    """The topic of one iset (pool positions ``members``) by ``solve_mekc``; None when it has none."""
    result = solve_mekc(weights[members[:, None], members], params.k, backend=params.solver,
                        formulation=params.formulation, time_limit=params.time_limit)
    if not result.indices:
        return None
    chosen = members[list(result.indices)]
    return Topic(tuple(sorted(pool[chosen].tolist())), float(result.score), result.status, float(result.gap),
                 _never(pair_counts, chosen))


def exact_weights(weights: np.ndarray) -> bool:
    """Whether ``weights`` is a float64 square matrix, finite and exactly symmetric (diagonal
    included): then ``check_weights`` would return its values unchanged (diagonal zeroed), so the
    compiled path may read it as it is. NPMI matrices of counts always are."""
    return (isinstance(weights, np.ndarray) and weights.dtype == np.float64 and weights.ndim == 2
            and weights.shape[0] == weights.shape[1] and finite_and_symmetric(weights))


def _mine_exact(pool: np.ndarray, weights: np.ndarray, pair_counts: np.ndarray | None,
                params: MiningConfig) -> PoolResult:
    """The default path of :func:`mine_pool` (branch and bound, checked weights) with one compiled
    call per step instead of several numpy calls per group: the same shortlist (:func:`star_groups`)
    and the same topics, bit for bit, as ``solve_mekc`` per group (tests/test_pools.py)."""
    members, ends = star_groups(weights, (params.theta_l, params.theta_u), (params.kappa_l, params.kappa_u))
    k = params.k
    chosen, totals, finished = solve_groups(weights, members, ends, k, MAX_NODES)
    words = pool[members].tolist()
    bounds = [0, *ends.tolist()]
    isets = [words[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]
    pairs = k * (k - 1) / 2
    topics = []
    for g, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        if chosen[g, 0] < 0:
            continue  # fewer than k words ("too_small"): no topic
        group = members[start:stop]
        if not finished[g]:  # the node budget ran out: solve_mekc hands it to HiGHS and says so
            topic = _solved(pool, weights, group, pair_counts, params)
            if topic is not None:
                topics.append(topic)
            continue
        picked = group[chosen[g]]
        topics.append(Topic(tuple(sorted(pool[picked].tolist())), float(totals[g]) / pairs, "optimal", 0.0,
                            _never(pair_counts, picked)))
    topics.sort(key=lambda t: (-t.score, t.words))
    return PoolResult(isets, topics)


def _never(pair_counts: np.ndarray | None, chosen: np.ndarray) -> int:
    """Pairs of ``chosen`` (pool positions) that share no window (-1: not known, a matrix)."""
    return -1 if pair_counts is None else int(zero_pairs(pair_counts, chosen))


@njit(cache=True)
def zero_pairs(matrix: np.ndarray, chosen: np.ndarray) -> int:
    """How many pairs ``i < j`` of ``chosen`` have ``matrix[chosen[i], chosen[j]] == 0``."""
    count = 0
    for a in range(chosen.shape[0]):
        for b in range(a + 1, chosen.shape[0]):
            if matrix[chosen[a], chosen[b]] == 0:
                count += 1
    return count
