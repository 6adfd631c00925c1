"""Exact k-clique (docs/method.md step 5) against brute force; status honesty; input checks."""

from __future__ import annotations

import itertools
import math
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from superpose import solve_mekc
from superpose.core.errors import SuperposeError
from superpose.mining.clique import solver_names
from superpose.mining.clique.milp import FORMULATIONS, build_milp, local_search


def brute_force(w: np.ndarray, k: int) -> float:
    """Best mean pairwise weight over all k-subsets."""
    pairs = k * (k - 1) / 2
    return max(
        sum(w[i, j] for i, j in itertools.combinations(s, 2)) / pairs
        for s in itertools.combinations(range(len(w)), k)
    )


def random_graph(rng: np.random.Generator, n: int, integer: bool) -> np.ndarray:
    """Symmetric weights, half of them negative: small integers (many ties) or 1/256 steps."""
    w = rng.integers(-3, 4, (n, n)).astype(float) if integer else np.round(rng.normal(0, 0.3, (n, n)) * 256) / 256
    w = np.triu(w, 1)
    return w + w.T


def check_against_brute_force(w: np.ndarray, k: int, **opts: object) -> None:
    res = solve_mekc(w, k, **opts)
    assert res.status == "optimal", res
    assert res.gap == 0.0
    assert len(res.indices) == k == len(set(res.indices))
    assert list(res.indices) == sorted(res.indices)
    chosen = np.array(res.indices)
    recomputed = np.triu(w[np.ix_(chosen, chosen)], 1).sum() / (k * (k - 1) / 2)
    assert res.score == pytest.approx(recomputed, abs=1e-12)
    assert res.score == pytest.approx(brute_force(w, k), abs=1e-9)


@pytest.mark.parametrize("backend", sorted(solver_names()))
@pytest.mark.parametrize("formulation", FORMULATIONS)
def test_matches_brute_force(backend: str, formulation: str) -> None:
    rng = np.random.default_rng(7)
    for trial in range(16):
        n = int(rng.integers(5, 11))
        k = int(rng.integers(2, min(6, n - 1) + 1))
        w = random_graph(rng, n, integer=trial % 2 == 0)
        check_against_brute_force(w, k, backend=backend, formulation=formulation, warm_start=trial % 4 < 2)


@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 12), k=st.integers(2, 6), seed=st.integers(0, 2**32 - 1), integer=st.booleans())
def test_default_matches_brute_force(n: int, k: int, seed: int, integer: bool) -> None:
    w = random_graph(np.random.default_rng(seed), n, integer)
    if k > n:
        res = solve_mekc(w, k)
        assert (res.status, res.indices) == ("too_small", ())
        assert math.isnan(res.score)
    else:
        check_against_brute_force(w, k)


def test_formulations_accept_exactly_the_cliques() -> None:
    """Every k-set is feasible in both programs; the strong one forces its pairs on and others off."""
    rng = np.random.default_rng(3)
    n, k = 7, 3
    w = random_graph(rng, n, integer=False)
    for formulation in FORMULATIONS:
        milp = build_milp(w, k, formulation)
        for s in itertools.combinations(range(n), k):
            z = milp.point(s)
            assert np.allclose(milp.a_eq @ z, milp.b_eq)
            assert np.all(milp.a_ub @ z <= milp.b_ub + 1e-12)
            assert milp.c @ z == pytest.approx(np.triu(w[np.ix_(s, s)], 1).sum())
    strong = build_milp(w, k, "strong")
    z = strong.point([0, 1, 2])
    z[strong.n + 0] = 0.0  # pair (0, 1) switched off inside the set
    z[strong.n + 3] = 1.0  # pair (0, 4) switched on outside it
    assert not (np.allclose(strong.a_eq @ z, strong.b_eq) and np.all(strong.a_ub @ z <= strong.b_ub))


def test_local_search_finds_a_planted_clique() -> None:
    rng = np.random.default_rng(11)
    w = random_graph(rng, 20, integer=False) * 0.1
    planted = [2, 5, 7, 11, 13, 17]
    w[np.ix_(planted, planted)] = 0.8
    np.fill_diagonal(w, 0.0)
    assert local_search(w, 6).tolist() == planted


def hard_instance(n: int = 24, seed: int = 5) -> np.ndarray:
    """Weak, nearly uniform weights: many near-optimal 10-sets and a loose relaxation."""
    w = np.random.default_rng(seed).normal(0.0, 0.1, (n, n))
    w = np.triu(w, 1)
    return w + w.T


@pytest.mark.parametrize(("backend", "formulation"), [("cvxpy-scip", "paper"), ("scip", "strong"), ("highs", "paper")])
def test_time_limit_is_never_reported_optimal(backend: str, formulation: str) -> None:
    w = hard_instance()
    res = solve_mekc(w, 10, backend=backend, formulation=formulation, time_limit=0.05, warm_start=True)
    assert len(res.indices) == 10  # the local-search start survives a time limit
    if res.status == "optimal":
        assert res.score == pytest.approx(solve_mekc(w, 10).score, abs=1e-9)
    else:
        assert res.status == "time_limit", res
        assert math.isnan(res.gap) or res.gap > 0.0
        assert math.isnan(res.bound) or res.bound >= res.score - 1e-9


def test_time_limit_is_hit_somewhere() -> None:
    """The paper's formulation cannot prove the hard instance in 50 ms (so the test above bites)."""
    res = solve_mekc(hard_instance(), 10, backend="cvxpy-scip", formulation="paper", time_limit=0.05)
    assert res.status == "time_limit"
    assert res.gap > 0.0 and res.bound > res.score


def test_edge_cases() -> None:
    w = random_graph(np.random.default_rng(0), 4, integer=False)
    everything = solve_mekc(w, 4)
    assert (everything.status, everything.indices) == ("optimal", (0, 1, 2, 3))
    assert everything.score == pytest.approx(np.triu(w, 1).sum() / 6)
    small = solve_mekc(w, 5)
    assert (small.status, small.indices) == ("too_small", ())
    assert math.isnan(small.score) and math.isnan(small.gap)
    with pytest.raises(SuperposeError, match="k must be"):
        solve_mekc(w, 1)


def test_diagonal_ignored_and_deterministic() -> None:
    w = random_graph(np.random.default_rng(1), 9, integer=True)
    noisy = w.copy()
    np.fill_diagonal(noisy, np.nan)
    first = solve_mekc(noisy, 4, seed=3)
    assert first.indices == solve_mekc(noisy, 4, seed=3).indices
    assert first.score == solve_mekc(w, 4).score


@pytest.mark.parametrize(
    ("weights", "kwargs", "message"),
    [
        (np.zeros((3, 2)), {}, "square"),
        (np.array([[0.0, 1.0], [0.0, 0.0]]), {"k": 2}, "symmetric"),
        (np.array([[0.0, np.inf], [np.inf, 0.0]]), {"k": 2}, "non-finite"),
        (np.zeros((4, 4)), {"k": 2, "backend": "gurobi"}, "unknown backend"),
        (np.zeros((4, 4)), {"k": 2, "formulation": "weak"}, "unknown formulation"),
        (np.zeros((4, 4)), {"k": 2, "time_limit": 0}, "time_limit"),
    ],
)
def test_bad_input(weights: np.ndarray, kwargs: dict, message: str) -> None:
    with pytest.raises(SuperposeError, match=message):
        solve_mekc(weights, **kwargs)


def test_missing_scip_names_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    w = random_graph(np.random.default_rng(2), 6, integer=False)
    monkeypatch.setitem(sys.modules, "pyscipopt", None)  # import fails as if not installed
    with pytest.raises(SuperposeError, match="pip install pyscipopt"):
        solve_mekc(w, 3, backend="scip")
    import cvxpy

    monkeypatch.setattr(cvxpy, "installed_solvers", lambda: ["HIGHS"])
    with pytest.raises(SuperposeError, match="pip install pyscipopt"):
        solve_mekc(w, 3, backend="cvxpy-scip")
