"""The dedicated branch and bound: exact on brute-forceable graphs, honest when it runs out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from superpose.mining.clique import bnb
from superpose.mining.clique.bnb import branch_and_bound, order_words
from superpose.mining.clique.milp import local_search
from superpose.mining.clique.solve import solve_mekc


def _random_weights(rng: np.random.Generator, n: int, integer: bool) -> np.ndarray:
    w = rng.normal(size=(n, n))
    if integer:
        w = np.round(w * 2)  # many ties
    w = (w + w.T) / 2
    np.fill_diagonal(w, 0.0)
    return w


def _brute_force(w: np.ndarray, k: int) -> float:
    return max(sum(w[a, b] for a, b in itertools.combinations(c, 2)) for c in itertools.combinations(range(len(w)), k))


@pytest.mark.parametrize("with_start", [False, True])
def test_equals_brute_force(with_start):
    rng = np.random.default_rng(11)
    for trial in range(150):
        n = int(rng.integers(3, 12))
        k = int(rng.integers(2, min(n, 7) + 1))
        w = _random_weights(rng, n, integer=trial % 2 == 0)
        start = local_search(w, k) if with_start else None
        indices, total, proven, nodes = branch_and_bound(w, k, start)
        assert proven and nodes >= 1
        assert len(indices) == k and len(set(indices.tolist())) == k
        assert total == pytest.approx(_brute_force(w, k), abs=1e-9)
        assert total == pytest.approx(np.triu(w[np.ix_(indices, indices)], 1).sum(), abs=1e-12)


def test_order_puts_high_potential_words_first():
    w = np.zeros((4, 4))
    w[2, 3] = w[3, 2] = 1.0
    w[0, 1] = w[1, 0] = 0.5
    assert order_words(w, 2).tolist() == [2, 3, 0, 1]


def test_node_budget_is_reported_not_proven():
    rng = np.random.default_rng(5)
    w = _random_weights(rng, 24, integer=False) * 0.05  # flat: no clear best set
    indices, _total, proven, nodes = branch_and_bound(w, 10, None, max_nodes=50)
    assert not proven and nodes == 51 and len(indices) == 10


def test_exhausted_budget_falls_back_to_highs_and_says_so(monkeypatch):
    rng = np.random.default_rng(6)
    w = _random_weights(rng, 14, integer=False)

    def budget_of_one(weights, k, start):
        return branch_and_bound(weights, k, start, max_nodes=1)

    monkeypatch.setattr(bnb, "branch_and_bound", budget_of_one)
    result = solve_mekc(w, 5)
    assert result.backend == "highs" and result.status == "optimal"
    assert result.score == pytest.approx(_brute_force(w, 5) / 10, abs=1e-9)


def test_bound_table_equals_sorting_each_tail():
    """The incremental table adds the same values in the same order as a sort per entry."""
    from superpose.mining.clique.bnb import _tail_tops

    rng = np.random.default_rng(11)
    for trial in range(300):
        n, k = int(rng.integers(1, 16)), int(rng.integers(2, 9))
        w = rng.choice([0.1, 0.2, -0.3, 0.5], (n, n)) if trial % 2 else rng.uniform(-1, 1, (n, n))
        w = (w + w.T) / 2
        np.fill_diagonal(w, 0.0)
        table = _tail_tops(w, k)
        for pos in range(n):
            for c in range(n):
                tail = sorted((w[c, d] for d in range(pos, n) if d != c), reverse=True)
                acc = 0.0
                for j in range(1, k):
                    if j <= len(tail):
                        acc += tail[j - 1]
                        assert table[pos, c, j] == acc
                    else:
                        assert table[pos, c, j] == -np.inf
