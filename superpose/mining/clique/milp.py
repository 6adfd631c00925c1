"""The maximum edge-weight k-clique as a 0-1 linear program, and a local-search starting solution.

Variables ``z = [x_0 .. x_{n-1}, e_0 .. e_{m-1}]``: one binary per word and one per pair
``(rows[p], cols[p])`` with ``rows[p] < cols[p]``. Both formulations share the objective
``max sum_p w_p e_p`` and the links ``e_ij <= x_i``, ``e_ij <= x_j``; they differ in how the
pair count is tied to the word count:

- ``paper`` (Lim & Lauw): ``sum x = k`` and ``sum e = k(k-1)/2``. Its LP relaxation may spread
  the pair mass over the heaviest edges with fractional words, so branch and bound has a weak
  bound to work with.
- ``strong``: ``sum x = k`` and, per word, ``sum_j e_ij = (k-1) x_i`` (the cardinality
  equation multiplied by ``x_i``). A chosen word must carry exactly ``k-1`` chosen pairs and an
  unchosen word none, which pins the pair variables to the word variables (the paper's pair
  count is implied: summing the per-word equations gives ``2 sum e = k(k-1)``). It also adds
  the lower link ``e_ij >= x_i + x_j - 1``: without it the relaxation may leave the negative
  pairs of half-chosen words off, and NPMI graphs have many negative pairs. Both parts matter:
  on synthetic isets each alone left SCIP about as slow as the paper's formulation.
- ``triangle``: ``strong`` plus, for every triple and apex ``i``, ``e_ij + e_il - e_jl <= x_i``
  (3 C(n,3) rows: 6072 at n = 24). The larger LP costs time on easy sets but cuts the slow tail
  (sets without a clear best topic) by about ten times with HiGHS.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from superpose.config import FORMULATIONS


@dataclass(frozen=True)
class Milp:
    """``max c @ z`` subject to ``a_eq @ z == b_eq``, ``a_ub @ z <= b_ub``, ``z`` binary."""

    c: np.ndarray
    a_eq: sp.csr_array
    b_eq: np.ndarray
    a_ub: sp.csr_array
    b_ub: np.ndarray
    n: int
    rows: np.ndarray
    cols: np.ndarray

    def point(self, indices: np.ndarray | list[int]) -> np.ndarray:
        """The 0-1 vector ``z`` of a word set (pairs inside the set switched on)."""
        x = np.zeros(self.n)
        x[np.asarray(indices, dtype=int)] = 1.0
        return np.concatenate([x, x[self.rows] * x[self.cols]])

    def words(self, z: np.ndarray) -> np.ndarray:
        """The chosen word indices of a (near-)integral solution vector."""
        return np.flatnonzero(np.asarray(z)[: self.n] > 0.5)


def build_milp(weights: np.ndarray, k: int, formulation: str) -> Milp:
    """The 0-1 program of one formulation for a checked, symmetric weight matrix."""
    if formulation not in FORMULATIONS:
        raise ValueError(f"unknown formulation {formulation!r}")
    n = weights.shape[0]
    rows, cols = np.triu_indices(n, k=1)
    m = rows.size
    pair_ids = np.arange(m)
    c = np.concatenate([np.zeros(n), weights[rows, cols]])
    # rows p and m + p: e_p - x_rows[p] <= 0 and e_p - x_cols[p] <= 0
    ub_r = np.concatenate([pair_ids, m + pair_ids, pair_ids, m + pair_ids])
    ub_c = np.concatenate([n + pair_ids, n + pair_ids, rows, cols])
    ub_v = np.concatenate([np.ones(2 * m), -np.ones(2 * m)])
    b_ub = np.zeros(2 * m)
    if formulation != "paper":
        # rows 2m + p: x_rows[p] + x_cols[p] - e_p <= 1 (a pair inside the set is on)
        ub_r = np.concatenate([ub_r, 2 * m + pair_ids, 2 * m + pair_ids, 2 * m + pair_ids])
        ub_c = np.concatenate([ub_c, rows, cols, n + pair_ids])
        ub_v = np.concatenate([ub_v, np.ones(2 * m), -np.ones(m)])
        b_ub = np.r_[b_ub, np.ones(m)]
    a_ub = sp.csr_array((ub_v, (ub_r, ub_c)), shape=(b_ub.size, n + m))
    if formulation == "triangle":
        tri = _triangle_rows(n)
        a_ub = sp.vstack([a_ub, tri]).tocsr()
        b_ub = np.r_[b_ub, np.zeros(tri.shape[0])]
    if formulation == "paper":
        a_eq = sp.csr_array(
            np.vstack([np.r_[np.ones(n), np.zeros(m)], np.r_[np.zeros(n), np.ones(m)]])
        )
        b_eq = np.array([k, k * (k - 1) / 2])
    else:
        # row 0: sum x = k; row 1 + i: sum_{p touching i} e_p - (k-1) x_i = 0
        eq_r = np.concatenate([np.zeros(n), 1 + rows, 1 + cols, 1 + np.arange(n)])
        eq_c = np.concatenate([np.arange(n), n + pair_ids, n + pair_ids, np.arange(n)])
        eq_v = np.concatenate([np.ones(n), np.ones(2 * m), np.full(n, -(k - 1.0))])
        a_eq = sp.csr_array((eq_v, (eq_r.astype(int), eq_c)), shape=(n + 1, n + m))
        b_eq = np.r_[float(k), np.zeros(n)]
    return Milp(c, a_eq, b_eq, a_ub, b_ub, n, rows, cols)


def _triangle_rows(n: int) -> sp.csr_array:
    """Rows ``e_ab + e_ac - e_bc - x_a <= 0`` for every triple and each of its three apexes."""
    triples = np.array(list(itertools.combinations(range(n), 3)), dtype=int).reshape(-1, 3)
    i, j, h = triples.T

    def pair(u: np.ndarray, v: np.ndarray) -> np.ndarray:  # index of (u, v), u < v, in triu order
        return u * n - u * (u + 1) // 2 + (v - u - 1)

    ij, ih, jh = pair(i, j), pair(i, h), pair(j, h)
    count = 3 * triples.shape[0]
    r = np.arange(count)
    rows = np.concatenate([r, r, r, r])
    cols = np.concatenate([n + np.r_[ij, ij, ih], n + np.r_[ih, jh, jh], n + np.r_[jh, ih, ij], np.r_[i, j, h]])
    vals = np.concatenate([np.ones(2 * count), -np.ones(2 * count)])
    m = n * (n - 1) // 2
    return sp.csr_array((vals, (rows, cols)), shape=(count, n + m))


def clique_weight(weights: np.ndarray, indices: np.ndarray | list[int]) -> float:
    """Sum of the pair weights inside a word set (float64, diagonal excluded)."""
    idx = np.asarray(indices, dtype=int)
    sub = weights[idx[:, None], idx]  # np.ix_'s indexing, without its checks
    return float(np.triu(sub, k=1).sum())


def _swap_descent(weights: np.ndarray, chosen: np.ndarray) -> np.ndarray:
    """Best-improvement single swaps (one word out, one in) until none improves the weight."""
    while True:
        inside = chosen.astype(float)
        link = weights @ inside  # for a word outside: weight to the set; inside: to the others
        out_idx = np.flatnonzero(chosen)
        in_idx = np.flatnonzero(~chosen)
        if in_idx.size == 0:
            return chosen
        gain = link[in_idx][None, :] - link[out_idx][:, None] - weights[np.ix_(out_idx, in_idx)]
        flat = int(np.argmax(gain))  # first maximum: deterministic ties
        if gain.flat[flat] <= 1e-12:
            return chosen
        a, b = divmod(flat, in_idx.size)
        chosen = chosen.copy()
        chosen[out_idx[a]] = False
        chosen[in_idx[b]] = True


def local_search(weights: np.ndarray, k: int) -> np.ndarray:
    """A good k-subset: greedy growth from every word, each polished by swaps; the best wins.

    Deterministic: greedy ties go to the lowest index, and an earlier start wins equal weights.
    """
    n = weights.shape[0]
    best: np.ndarray | None = None
    best_val = -np.inf
    seen: set[bytes] = set()
    for start in range(n):
        chosen = np.zeros(n, dtype=bool)
        chosen[start] = True
        link = weights[start].copy()
        for _ in range(k - 1):
            cand = np.where(chosen, -np.inf, link)
            nxt = int(np.argmax(cand))
            chosen[nxt] = True
            link += weights[nxt]
        chosen = _swap_descent(weights, chosen)
        key = chosen.tobytes()
        if key in seen:
            continue
        seen.add(key)
        val = clique_weight(weights, np.flatnonzero(chosen))
        if val > best_val + 1e-12:
            best, best_val = chosen, val
    assert best is not None
    return np.flatnonzero(best)
