"""A dedicated exact branch and bound for the maximum edge-weight k-clique, compiled with numba.

Isets are small (``kappa_u`` = 24 words at most), so a depth-first search over word subsets
with a strong bound proves the optimum in microseconds to milliseconds, where a general MILP
solver pays model building and LP work on every instance.

Search: words are ordered by decreasing potential (sum of their ``k - 1`` largest weights); a
node is a chosen set ``S`` and the first still-free position ``pos``. Each free word ``c`` has a
gain ``g(c) = sum_{v in S} w(c, v)``. With ``r`` words still to choose, any completion ``A``
weighs ``sum_{c in A} [g(c) + 1/2 sum_{d in A, d != c} w(c, d)]``, which is at most the sum of
the ``r`` largest values of ``g(c) + 1/2 T(pos, c, r - 1)``, where ``T(pos, c, j)`` (precomputed)
is the sum of the ``j`` largest weights from ``c`` to words at positions ``>= pos``. A node whose
bound does not exceed the incumbent by more than ``1e-12`` is pruned, so the result is optimal
to that tolerance. The search stops after ``max_nodes`` nodes and then reports what it proved.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from superpose.mining.clique.base import Solution

PRUNE_TOLERANCE = 1e-12
MAX_NODES = 20_000_000  # search nodes before the search gives up (then HiGHS proves the instance)


@njit(cache=True)
def _tail_tops(w: np.ndarray, k: int) -> np.ndarray:
    """T[pos, c, j]: sum of the j largest weights from word c to words at positions >= pos.

    Built from the last position down, keeping each word's ``k - 1`` largest weights so far in
    decreasing order (``O(n^2 k)``, not a sort per entry); the sums add the same values in the same
    (decreasing) order as sorting would, so they are the same doubles.
    """
    n = w.shape[0]
    table = np.zeros((n + 1, n, k))
    tops = np.empty(max(k - 1, 1))
    for c in range(n):
        m = 0  # weights seen so far (positions >= pos, not c)
        for pos in range(n - 1, -1, -1):
            if pos != c:
                value = w[c, pos]
                held = min(m, k - 1)
                if held < k - 1 or value > tops[held - 1]:
                    i = held if held < k - 1 else held - 1
                    while i > 0 and tops[i - 1] < value:
                        tops[i] = tops[i - 1]
                        i -= 1
                    tops[i] = value
                m += 1
            acc = 0.0
            for j in range(1, k):
                if j <= m:
                    acc += tops[j - 1]
                    table[pos, c, j] = acc
                else:
                    table[pos, c, j] = -np.inf
    return table


@njit(cache=True)
def _bound(gain: np.ndarray, table: np.ndarray, pos: int, r: int, n: int) -> float:
    vals = np.empty(n - pos)
    for c in range(pos, n):
        vals[c - pos] = gain[c] + 0.5 * table[pos, c, r - 1]
    vals = -np.sort(-vals)
    total = 0.0
    for i in range(r):
        total += vals[i]
    return total


@njit(cache=True)
def _search(w: np.ndarray, k: int, best_total: float, best_set: np.ndarray, max_nodes: int):
    """Depth-first search from the incumbent; returns (best total, best set, nodes, finished)."""
    n = w.shape[0]
    table = _tail_tops(w, k)
    chosen = np.empty(k, dtype=np.int64)
    gains = np.zeros((k + 1, n))  # gains[d] = gain vector with d words chosen
    totals = np.zeros(k + 1)
    next_pos = np.zeros(k + 1, dtype=np.int64)  # next word to try at each depth
    depth = 0
    next_pos[0] = 0
    nodes = 0
    while depth >= 0:
        r = k - depth
        pos = next_pos[depth]
        if r == 0 or pos > n - r:
            depth -= 1
            if depth >= 0:
                next_pos[depth] += 1
            continue
        nodes += 1
        if nodes > max_nodes:
            return best_total, best_set, nodes, False
        if totals[depth] + _bound(gains[depth], table, pos, r, n) <= best_total + PRUNE_TOLERANCE:
            depth -= 1
            if depth >= 0:
                next_pos[depth] += 1
            continue
        # choose the word at `pos`
        chosen[depth] = pos
        new_total = totals[depth] + gains[depth, pos]
        if r == 1:
            if new_total > best_total:
                best_total = new_total
                best_set = chosen.copy()
            next_pos[depth] += 1
            continue
        totals[depth + 1] = new_total
        for c in range(n):
            gains[depth + 1, c] = gains[depth, c] + w[c, pos]
        next_pos[depth + 1] = pos + 1
        depth += 1
    return best_total, best_set, nodes, True


@njit(cache=True)
def _pairwise_block(a: np.ndarray, lo: int, n: int) -> float:
    """numpy's pairwise sum of ``a[lo:lo + n]`` for ``n <= 128``: under 8 values one after
    another, else in eight interleaved partial sums combined as a tree, then the rest."""
    if n < 8:
        res = -0.0
        for i in range(lo, lo + n):
            res += a[i]
        return res
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = lo + 8
    stop = lo + n - n % 8
    while i < stop:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@njit(cache=True)
def numpy_sum(a: np.ndarray) -> float:
    """``float(a.sum())`` of a contiguous float64 vector, compiled: numpy's pairwise summation
    (blocks of up to 128 values; above that two halves, cut at a multiple of 8, summed apart and
    added) started from the reduction's identity 0.0; the same additions in the same order, so the
    same double (tests/test_mine_pool_compiled.py checks it bit for bit). The halves are walked
    with an explicit stack: numba's cache cannot hold a recursive function."""
    n = a.shape[0]
    if n <= 128:
        return 0.0 + _pairwise_block(a, 0, n)
    los = np.empty(64, dtype=np.int64)
    sizes = np.empty(64, dtype=np.int64)
    left_done = np.zeros(64, dtype=np.bool_)
    left = np.empty(64)
    top = 0
    los[0], sizes[0], left_done[0] = 0, n, False
    while True:
        lo, m = los[top], sizes[top]
        if m > 128:  # split: the left half first
            half = m // 2
            half -= half % 8
            left_done[top] = False
            top += 1
            los[top], sizes[top] = lo, half
            continue
        value = _pairwise_block(a, lo, m)
        top -= 1
        while top >= 0 and left_done[top]:  # right halves finished: add them to their left halves
            value = left[top] + value
            top -= 1
        if top < 0:
            return 0.0 + value
        left[top], left_done[top] = value, True  # a left half finished: now its right half
        half = sizes[top] // 2
        half -= half % 8
        lo, m = los[top] + half, sizes[top] - half
        top += 1
        los[top], sizes[top] = lo, m


@njit(cache=True)
def _clique_total(w: np.ndarray, chosen: np.ndarray, scratch: np.ndarray) -> float:
    """``np.triu(w[chosen][:, chosen], 1).sum()`` (:func:`clique_weight`): the same row-major
    matrix with zeros on and below the diagonal, summed as numpy sums it."""
    m = chosen.shape[0]
    for a in range(m):
        for b in range(m):
            scratch[a * m + b] = w[chosen[a], chosen[b]] if b > a else 0.0
    return numpy_sum(scratch[:m * m])


@njit(cache=True)
def _order(w: np.ndarray, k: int) -> np.ndarray:
    """:func:`order_words` compiled: each row sorted (values, so ties do not matter), its ``k - 1``
    largest summed as numpy sums them, then a stable sort on the negated potentials."""
    n = w.shape[0]
    tops = np.empty(n)
    top = np.empty(k - 1)
    for i in range(n):
        row = np.sort(w[i])
        for j in range(k - 1):
            top[j] = row[n - 1 - j]
        tops[i] = -numpy_sum(top)
    return np.argsort(tops, kind="mergesort")


@njit(cache=True)
def solve_groups(weights: np.ndarray, members: np.ndarray, ends: np.ndarray, k: int, max_nodes: int
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`branch_and_bound` (no start) of every group of a pool at once, as ``solve_mekc``
    reports it: each group is ``weights`` (a checked matrix: finite, symmetric, zero diagonal)
    restricted to ``members[ends[g - 1]:ends[g]]``. Returns per group the chosen positions in
    ``members`` order (sorted; -1 when the group has fewer than ``k`` words), their total pair
    weight (:func:`clique_weight`'s double) and whether the search finished (when it did not, the
    caller asks ``solve_mekc``, which hands the group to HiGHS)."""
    groups = ends.shape[0]
    chosen = np.full((groups, k), -1, dtype=np.int64)
    totals = np.full(groups, np.nan)
    finished = np.ones(groups, dtype=np.bool_)
    scratch = np.empty(k * k)
    start = 0
    for g in range(groups):
        stop = ends[g]
        n = stop - start
        if n >= k:
            sub = np.empty((n, n))
            for a in range(n):
                for b in range(n):
                    sub[a, b] = weights[members[start + a], members[start + b]] if a != b else 0.0
            if n == k:
                pick = np.arange(k)
            else:
                order = _order(sub, k)
                ordered = np.empty((n, n))
                for a in range(n):
                    for b in range(n):
                        ordered[a, b] = sub[order[a], order[b]]
                total, best, _nodes, done = _search(ordered, k, -np.inf, np.arange(k), max_nodes)
                if not np.isfinite(total):
                    best = np.arange(k)
                pick = np.sort(order[best])
                finished[g] = done
            chosen[g] = pick
            totals[g] = _clique_total(sub, pick, scratch)
        start = stop
    return chosen, totals, finished


def order_words(weights: np.ndarray, k: int) -> np.ndarray:
    """Words by decreasing potential (sum of the k - 1 largest weights), ties by index."""
    tops = -np.sort(-weights, axis=1)[:, : k - 1].sum(axis=1)
    return np.lexsort((np.arange(len(weights)), -tops))


def branch_and_bound(weights: np.ndarray, k: int, start: np.ndarray | None, max_nodes: int = MAX_NODES
                     ) -> tuple[np.ndarray, float, bool, int]:
    """Best k-subset of a symmetric matrix (diagonal ignored): (indices, total weight, proven, nodes)."""
    w = np.array(weights, dtype=np.float64)
    np.fill_diagonal(w, 0.0)
    order = order_words(w, k)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order))
    ordered = np.ascontiguousarray(w[order[:, None], order])
    if start is not None and len(start) == k:
        best_set = np.sort(inverse[np.asarray(start, dtype=np.int64)])
        best_total = float(np.triu(ordered[np.ix_(best_set, best_set)], 1).sum())
    else:
        best_set, best_total = np.arange(k, dtype=np.int64), -np.inf
    total, chosen, nodes, finished = _search(ordered, k, best_total, best_set, max_nodes)
    if not np.isfinite(total):  # no start and nothing beat -inf: cannot happen for n >= k
        chosen = np.arange(k)
    indices = np.sort(order[np.asarray(chosen, dtype=np.int64)])
    return indices, float(np.triu(w[indices[:, None], indices], 1).sum()), bool(finished), int(nodes)


@dataclass(frozen=True)
class BranchAndBound:
    """The default back-end: works on the weight matrix directly (no formulation applies).

    It takes no local-search start: on real isets the search needs ~50 nodes (under a millisecond)
    and its first dive finds the incumbent; the local search would cost ten times more. If its node
    budget runs out (never seen on real isets), HiGHS proves the instance, and the answer says so.
    """

    name: str = "bnb"

    def solve(self, weights: np.ndarray, k: int, *, formulation: str, time_limit: float,
              warm_start: bool, seed: int) -> Solution:
        indices, total, proven, _nodes = branch_and_bound(weights, k, None)
        if proven:
            return Solution(indices, "optimal", total, self.name)
        from superpose.mining.clique import get_solver

        return get_solver("highs").solve(weights, k, formulation=formulation, time_limit=time_limit,
                                         warm_start=warm_start, seed=seed)


SOLVER = BranchAndBound()
