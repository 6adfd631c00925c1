"""The star heuristic (docs/method.md step 4): cut a pool's coherence graph into disjoint word groups.

The exact k-clique step is cheap only on small graphs, so the pool (hundreds of words) is first
cut into "isets" of ``kappa_l`` to ``kappa_u`` words around well-connected centre words.

Tie-breaking, so that the result is a pure function of the matrix: centres with equal mean
weight are walked in increasing node index, and neighbours with equal weight to the centre are
ranked in increasing node index. A surviving node that lost all its kept edges to the node
filter has no mean; it is walked after every node that has one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from superpose.core.errors import SuperposeError
from superpose.mining.clique.weights import check_weights


def _check_params(theta: Sequence[float], kappa: Sequence[int]) -> tuple[float, float, int, int]:
    if len(theta) != 2 or len(kappa) != 2:
        raise SuperposeError("theta and kappa must each be a pair (lower, upper)")
    theta_l, theta_u = float(theta[0]), float(theta[1])
    if not (np.isfinite(theta_l) and np.isfinite(theta_u)) or theta_l > theta_u:
        raise SuperposeError(f"theta must be finite with lower <= upper, got {tuple(theta)}")
    if any(isinstance(v, bool) or int(v) != v for v in kappa):
        raise SuperposeError(f"kappa must be integers, got {tuple(kappa)}")
    kappa_l, kappa_u = int(kappa[0]), int(kappa[1])
    if not 1 <= kappa_l <= kappa_u:
        raise SuperposeError(f"kappa must satisfy 1 <= lower <= upper, got {tuple(kappa)}")
    return theta_l, theta_u, kappa_l, kappa_u


def kept_edges(
    weights: np.ndarray, theta_l: float, theta_u: float, kappa_l: int
) -> tuple[np.ndarray, np.ndarray]:
    """Both filters of step 4: the kept-edge mask and the surviving-node mask.

    The node filter runs once on the edge-filtered graph; edges to dropped nodes are then
    removed, so survivors may end with fewer than ``kappa_l`` neighbours (not filtered again).
    """
    n = weights.shape[0]
    kept = (weights >= theta_l) & (weights <= theta_u) & ~np.eye(n, dtype=bool)
    alive = kept.sum(axis=1) >= kappa_l
    kept &= alive[:, None] & alive[None, :]
    return kept, alive


@njit(cache=True)
def _fsum(values: np.ndarray) -> float:
    """``math.fsum`` of finite values, compiled: the same correctly rounded sum (Shewchuk's exact
    partials, then CPython's round-half-even correction), so the same double."""
    partials = np.empty(values.shape[0] + 1)
    m = 0
    for v in values:
        x = v
        i = 0
        for j in range(m):
            y = partials[j]
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo != 0.0:
                partials[i] = lo
                i += 1
            x = hi
        partials[i] = x
        m = i + 1
    if m == 0:
        return 0.0
    n = m - 1
    hi = partials[n]
    lo = 0.0
    while n > 0:
        x = hi
        n -= 1
        y = partials[n]
        hi = x + y
        lo = y - (hi - x)
        if lo != 0.0:
            break
    if n > 0 and ((lo < 0.0 and partials[n - 1] < 0.0) or (lo > 0.0 and partials[n - 1] > 0.0)):
        y = lo * 2.0
        x = hi + y
        if y == x - hi:
            hi = x
    return hi


@njit(cache=True)
def _kept_means(weights: np.ndarray, kept: np.ndarray, alive: np.ndarray) -> np.ndarray:
    """Exactly rounded mean kept-edge weight of each surviving node (-inf without kept edges)."""
    means = np.full(weights.shape[0], -np.inf)
    for i in range(weights.shape[0]):
        if alive[i]:
            row = weights[i][kept[i]]
            if row.shape[0]:
                means[i] = _fsum(row) / row.shape[0]
    return means


def star_order(weights: np.ndarray, kept: np.ndarray, alive: np.ndarray) -> list[int]:
    """Surviving nodes by decreasing mean kept-edge weight, ties by increasing index.

    The sums are exactly rounded (as ``math.fsum``): numpy's pairwise sums depend on where the
    values sit in the row, so equal weight lists could otherwise get unequal means.
    """
    means = _kept_means(np.ascontiguousarray(weights, dtype=np.float64), np.ascontiguousarray(kept),
                        np.ascontiguousarray(alive))
    nodes = np.flatnonzero(alive)
    return nodes[np.lexsort((nodes, -means[nodes]))].tolist()


@njit(cache=True)
def _star_groups(w: np.ndarray, theta_l: float, theta_u: float, kappa_l: int,
                 kappa_u: int) -> tuple[np.ndarray, np.ndarray]:
    """The star heuristic in one compiled pass (the steps of :func:`kept_edges`, :func:`star_order`
    and the walk, with their tie rules: stable sorts on negated weights): the groups' members back to
    back, and where each group ends."""
    n = w.shape[0]
    kept = np.zeros((n, n), dtype=np.bool_)
    alive = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        count = 0
        for j in range(n):
            if i != j and theta_l <= w[i, j] <= theta_u:
                kept[i, j] = True
                count += 1
        alive[i] = count >= kappa_l
    nodes = np.flatnonzero(alive)
    keys = np.empty(nodes.shape[0])
    row = np.empty(n)
    for at in range(nodes.shape[0]):
        i = nodes[at]
        m = 0
        for j in range(n):
            if kept[i, j] and not alive[j]:
                kept[i, j] = False
            elif kept[i, j]:
                row[m] = w[i, j]
                m += 1
        keys[at] = -(_fsum(row[:m]) / m) if m else np.inf
    order = nodes[np.argsort(keys, kind="mergesort")]
    taken = np.zeros(n, dtype=np.bool_)
    members = np.empty(n, dtype=np.int64)
    ends = np.empty(n + 1, dtype=np.int64)
    free = np.empty(n, dtype=np.int64)
    weight = np.empty(n)
    filled, groups = 0, 0
    for centre in order:
        if taken[centre]:
            continue
        m = 0
        for j in range(n):
            if kept[centre, j] and not taken[j]:
                free[m] = j
                weight[m] = -w[centre, j]
                m += 1
        ranked = free[:m][np.argsort(weight[:m], kind="mergesort")]
        if m >= kappa_u:
            m = kappa_u - 1
        taken[centre] = True
        for j in ranked[:m]:
            taken[j] = True
        if m + 1 >= kappa_l:
            members[filled] = centre
            members[filled + 1:filled + 1 + m] = ranked[:m]
            filled += m + 1
            ends[groups] = filled
            groups += 1
    return members[:filled], ends[:groups]


def star_groups(w: np.ndarray, theta: Sequence[float], kappa: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`star_heuristic` of a checked matrix (``check_weights``' result, or a finite, exactly
    symmetric float64 matrix: the diagonal is not read) as arrays: the groups' members back to
    back, and where each group ends."""
    theta_l, theta_u, kappa_l, kappa_u = _check_params(theta, kappa)
    return _star_groups(w, theta_l, theta_u, kappa_l, kappa_u)


def star_heuristic(
    weights: object,
    theta: Sequence[float] = (0.1, 1.0),
    kappa: Sequence[int] = (10, 24),
) -> list[list[int]]:
    """Disjoint groups of row indices ("isets") of a symmetric NPMI matrix, per docs/method.md step 4.

    Groups come in the order they were formed; within a group the centre comes first, then its
    neighbours by decreasing weight to the centre (ties by increasing index). The diagonal of
    ``weights`` is ignored.
    """
    members, ends = star_groups(check_weights(weights), theta, kappa)
    flat, bounds = members.tolist(), [0, *ends.tolist()]
    return [flat[start:stop] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)]


def star_heuristic_reference(
    weights: object,
    theta: Sequence[float] = (0.1, 1.0),
    kappa: Sequence[int] = (10, 24),
) -> list[list[int]]:
    """:func:`star_heuristic` step by step in numpy (the specification the compiled walk is tested against)."""
    w = check_weights(weights)
    theta_l, theta_u, kappa_l, kappa_u = _check_params(theta, kappa)
    kept, alive = kept_edges(w, theta_l, theta_u, kappa_l)
    taken = np.zeros(w.shape[0], dtype=bool)
    groups: list[list[int]] = []
    for centre in star_order(w, kept, alive):
        if taken[centre]:
            continue
        free = np.flatnonzero(kept[centre] & ~taken)
        free = free[np.lexsort((free, -w[centre, free]))].tolist()
        if len(free) >= kappa_u:
            free = free[: kappa_u - 1]
        group = [centre, *free]
        if len(group) >= kappa_l:
            groups.append(group)
        taken[group] = True
    return groups
