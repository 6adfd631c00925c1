"""The compiled default path of ``mine_pool`` gives the generic path's topics bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from superpose.config import MiningConfig
from superpose.corpus.npmi_source import NpmiSource, PairScores
from superpose.mining import pool as pool_module
from superpose.mining.clique.bnb import numpy_sum, solve_groups
from superpose.mining.clique.milp import clique_weight
from superpose.mining.clique.solve import solve_mekc
from superpose.mining.pool import mine_pool


def test_compiled_sum_is_numpys_sum_bit_for_bit():
    rng = np.random.default_rng(3)
    for n in [*range(0, 300), 1000, 4097]:
        a = rng.standard_normal(n) * 10.0 ** rng.integers(-8, 8, n)
        assert numpy_sum(a) == a.sum(), n  # exact: a different grouping rounds differently
    assert str(numpy_sum(np.array([-0.0, -0.0]))) == str(np.array([-0.0, -0.0]).sum())


def _symmetric(rng: np.random.Generator, n: int, ties: bool) -> np.ndarray:
    w = rng.choice([-0.2, 0.1, 0.15, 0.3, 0.45], (n, n)) if ties else rng.uniform(-1, 1, (n, n))
    w = np.triu(w, 1)
    return w + w.T


def test_solve_groups_equals_solve_mekc_per_group():
    rng = np.random.default_rng(7)
    for trial in range(60):
        n, k = int(rng.integers(12, 40)), int(rng.integers(2, 8))
        w = _symmetric(rng, n, ties=trial % 2 == 0)
        members = rng.permutation(n)
        cuts = np.sort(rng.choice(np.arange(1, n), 3, replace=False))
        ends = np.array([*cuts, n], dtype=np.int64)
        chosen, totals, finished = solve_groups(w, members, ends, k, 20_000_000)
        for g, (start, stop) in enumerate(zip([0, *ends[:-1]], ends, strict=True)):
            group = members[start:stop]
            result = solve_mekc(w[np.ix_(group, group)], k)
            if not result.indices:
                assert (chosen[g] == -1).all()
                continue
            assert finished[g] and tuple(chosen[g].tolist()) == result.indices
            assert totals[g] == clique_weight(w[np.ix_(group, group)], chosen[g])
            assert totals[g] / (k * (k - 1) / 2) == result.score  # the same double


def test_solve_groups_reports_an_exhausted_budget():
    w = _symmetric(np.random.default_rng(5), 24, ties=False) * 0.05
    _chosen, _totals, finished = solve_groups(w, np.arange(24), np.array([24]), 10, 1)
    assert not finished[0]


class RandomSource(NpmiSource):
    """Scores of a fixed random matrix: NPMI with ties, and pair counts with zeros."""

    def __init__(self, n: int, seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.vocab = [f"w{i}" for i in range(n)]
        self.meta, self.n_windows = {}, 100
        self.npmi = _symmetric(rng, n, ties=seed % 2 == 0) * 0.8 + 0.2
        self.shared = np.triu(rng.integers(0, 3, (n, n)), 1)
        self.shared += self.shared.T

    def scores(self, ids: np.ndarray | list[int]) -> PairScores:
        ids = np.asarray(ids)
        return PairScores(self.npmi[np.ix_(ids, ids)], self.shared[np.ix_(ids, ids)])


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_compiled_path_equals_generic_path(seed, monkeypatch):
    source = RandomSource(160, seed)
    rng = np.random.default_rng(seed)
    params = MiningConfig(theta_l=0.3, kappa_l=5, kappa_u=16, k=6)
    pools = [rng.permutation(160)[:int(rng.integers(20, 160))] for _ in range(6)]
    fast = [mine_pool(p, source, params) for p in pools]
    monkeypatch.setattr(pool_module, "exact_weights", lambda weights: False)
    slow = [mine_pool(p, source, params) for p in pools]
    assert sum(len(r.topics) for r in fast) > 10
    assert fast == slow  # every word id, score, status, gap and count, exactly


def test_inexact_weights_take_the_generic_path():
    w = np.eye(3)
    assert pool_module.exact_weights(np.zeros((3, 3)))
    w[0, 1] = 0.5
    assert not pool_module.exact_weights(w)
    assert not pool_module.exact_weights(np.zeros((2, 3)))
    assert not pool_module.exact_weights(np.zeros((3, 3), dtype=np.float32))


def test_counts_scores_marked_exact_are_exact(tmp_path):
    from superpose.corpus.store import load_corpus
    from superpose.mining.clique.weights import finite_and_symmetric
    from tests.mining_helpers import make_corpus

    counts = load_corpus(make_corpus(tmp_path))
    rng = np.random.default_rng(0)
    for _ in range(20):
        ids = rng.permutation(len(counts.vocab))[:int(rng.integers(2, len(counts.vocab)))]
        scores = counts.scores(ids)
        assert scores.exact
        assert finite_and_symmetric(scores.npmi) and not np.diag(scores.npmi).any()


def test_results_pickle_compactly_and_intact():
    import pickle

    from superpose.mining.pool import PoolResult, Topic

    result = PoolResult([[3, 1, 2], [7, 8]], [Topic((1, 2, 3), 0.25, "optimal", 0.0, 1),
                                              Topic((7, 8, 9), 0.125, "time_limit", 0.5, -1)])
    blob = pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)
    back = pickle.loads(blob)
    assert back == result and type(back.topics[0]) is Topic
    assert b"never_cooccur" not in blob  # fields by position, not by name
