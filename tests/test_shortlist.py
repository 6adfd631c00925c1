"""Star heuristic (docs/method.md step 4): hand-worked examples, invariants, input checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose import star_heuristic
from superpose.core.errors import SuperposeError
from superpose.mining.shortlist import kept_edges, star_order


def symmetric(n: int, edges: dict[tuple[int, int], float], diagonal: float = 0.0) -> np.ndarray:
    w = np.zeros((n, n))
    for (i, j), v in edges.items():
        w[i, j] = w[j, i] = v
    np.fill_diagonal(w, diagonal)
    return w


def test_hand_worked_node_filter_runs_once() -> None:
    # theta (0.1, 0.85), kappa (2, 3).
    # Kept edges: 0-2 .8, 0-3 .5, 1-2 .7, 3-4 .3, 4-5 .2 (0-1 .9 is above theta_u, 5-6 .05 below
    # theta_l, 2-5 negative). Kept degrees: 0:2 1:1 2:2 3:2 4:2 5:1 6:0, so 1, 5, 6 drop and take
    # their edges along: left 0-2 .8, 0-3 .5, 3-4 .3. Node 2 now has one neighbour but stays
    # (the filter runs once). Means: 2 .8, 0 .65, 3 .4, 4 .3.
    # Walk: 2 takes {0} -> [2, 0]; 0 taken; 3 takes {4} (0 taken) -> [3, 4]; 4 taken.
    w = symmetric(
        7,
        {(0, 1): 0.9, (0, 2): 0.8, (0, 3): 0.5, (1, 2): 0.7, (3, 4): 0.3, (4, 5): 0.2, (5, 6): 0.05, (2, 5): -0.4},
        diagonal=np.nan,
    )
    assert star_heuristic(w, theta=(0.1, 0.85), kappa=(2, 3)) == [[2, 0], [3, 4]]


def test_hand_worked_size_cap_and_dropped_group() -> None:
    # theta (0.1, 1), kappa (3, 4). Words 0..5 all pairwise .15 except the centre 0:
    # 0-1 .8, 0-2 .7, 0-3 .9, 0-4 .6, 0-5 .5; word 6 links 1, 2, 5 at .12.
    # Means: 0 .7, 3 (.9+.6)/5=.30, 1 (.8+.6+.12)/6=.253, 4 (.6+.6)/5=.24, 2 (.7+.6+.12)/6=.237,
    # 5 (.5+.6+.12)/6=.203, 6 .12.
    # Walk: 0 has five free neighbours >= kappa_u, keeps the best three by weight: [0, 3, 1, 2].
    # 3, 1 taken; 4 takes {5} -> [4, 5], two words < kappa_l: dropped but marked taken;
    # 2, 5 taken; 6 finds 1, 2, 5 all taken -> [6], dropped.
    edges = {(i, j): 0.15 for i in range(6) for j in range(i + 1, 6)}
    edges.update({(0, 1): 0.8, (0, 2): 0.7, (0, 3): 0.9, (0, 4): 0.6, (0, 5): 0.5})
    edges.update({(1, 6): 0.12, (2, 6): 0.12, (5, 6): 0.12})
    assert star_heuristic(symmetric(7, edges), theta=(0.1, 1.0), kappa=(3, 4)) == [[0, 3, 1, 2]]


def test_ties_go_to_the_lower_index() -> None:
    # Four words, every pair .5: equal means, so centres walk 0, 1, 2, 3. With kappa (1, 2),
    # centre 0 has three free neighbours >= kappa_u and keeps one, the lowest index: [0, 1];
    # centre 2 has one free neighbour: [2, 3].
    w = symmetric(4, {(i, j): 0.5 for i in range(4) for j in range(i + 1, 4)})
    assert star_heuristic(w, theta=(0.1, 1.0), kappa=(1, 2)) == [[0, 1], [2, 3]]


def test_defaults_need_ten_words() -> None:
    w = symmetric(12, {(i, j): 0.3 for i in range(12) for j in range(i + 1, 12)})
    assert star_heuristic(w) == [list(range(12))]
    assert star_heuristic(w[:9, :9]) == []


@st.composite
def instances(draw: st.DrawFn) -> tuple[np.ndarray, tuple[float, float], tuple[int, int]]:
    n = draw(st.integers(0, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    w = rng.integers(-20, 21, (n, n)) / 20.0  # a coarse grid: ties on edges and on means
    w = np.triu(w, 1)
    w = w + w.T
    lo = draw(st.sampled_from([-0.5, 0.0, 0.1, 0.3]))
    hi = draw(st.sampled_from([0.3, 0.6, 1.0]))
    kappa_l = draw(st.integers(1, 5))
    kappa_u = draw(st.integers(kappa_l, 8))
    return w, (min(lo, hi), max(lo, hi)), (kappa_l, kappa_u)


@settings(max_examples=100, deadline=None)
@given(instances())
def test_invariants(case: tuple[np.ndarray, tuple[float, float], tuple[int, int]]) -> None:
    w, theta, kappa = case
    groups = star_heuristic(w, theta=theta, kappa=kappa)
    kept, alive = kept_edges(w, theta[0], theta[1], kappa[0])
    order = star_order(w, kept, alive)
    in_band = (w >= theta[0]) & (w <= theta[1])
    words = [i for g in groups for i in g]
    assert len(words) == len(set(words)), "groups must be disjoint"
    for g in groups:
        assert kappa[0] <= len(g) <= kappa[1]
        centre, rest = g[0], g[1:]
        assert all(in_band[centre, j] for j in rest), "every centre edge within theta"
        assert all(in_band[i].sum() - in_band[i, i] >= kappa[0] for i in g), "only survivors"
        link = [w[centre, j] for j in rest]
        assert link == sorted(link, reverse=True), "neighbours by decreasing weight"
    ranks = [order.index(g[0]) for g in groups]
    assert ranks == sorted(ranks), "groups in formation order"
    assert star_heuristic(w.copy(), theta=theta, kappa=kappa) == groups


@pytest.mark.parametrize(
    ("weights", "theta", "kappa", "message"),
    [
        (np.zeros((3, 4)), (0.1, 1.0), (1, 2), "square"),
        (np.array([[0, 0.5], [0.4, 0]]), (0.1, 1.0), (1, 2), "symmetric"),
        (np.array([[0, np.nan], [np.nan, 0]]), (0.1, 1.0), (1, 2), "non-finite"),
        (np.zeros((2, 2)), (0.5, 0.1), (1, 2), "theta"),
        (np.zeros((2, 2)), (0.1, 1.0), (3, 2), "kappa"),
        (np.zeros((2, 2)), (0.1, 1.0), (0, 2), "kappa"),
        (np.zeros((2, 2)), (0.1, 1.0), (1.5, 2), "integers"),
    ],
)
def test_bad_input(weights: np.ndarray, theta: tuple, kappa: tuple, message: str) -> None:
    with pytest.raises(SuperposeError, match=message):
        star_heuristic(weights, theta=theta, kappa=kappa)


def test_compiled_fsum_is_math_fsum():
    """The star order's means must be the exactly rounded ones, bit for bit."""
    import math

    from superpose.mining.shortlist import _fsum

    rng = np.random.default_rng(5)
    for trial in range(3000):
        n = int(rng.integers(0, 40))
        values = [rng.uniform(-1, 1, n), rng.choice([0.1, 0.2, 0.3, -0.1, 1e-16, -1e-16, 0.7], n),
                  rng.uniform(-1, 1, n) * 10.0 ** rng.integers(-20, 20, n)][trial % 3]
        assert _fsum(values) == math.fsum(values.tolist())
