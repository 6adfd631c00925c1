"""The star heuristic (docs/method.md step 4): cut a pool's coherence graph into disjoint word groups.

The exact k-clique step is cheap only on small graphs, so the pool (hundreds of words) is first
cut into "isets" of ``kappa_l`` to ``kappa_u`` words around well-connected centre words.

Tie-breaking, so that the result is a pure function of the matrix: centres with equal mean
weight are walked in increasing node index, and neighbours with equal weight to the centre are
ranked in increasing node index. A surviving node that lost all its kept edges to the node
filter has no mean; it is walked after every node that has one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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


def star_order(weights: np.ndarray, kept: np.ndarray, alive: np.ndarray) -> list[int]:
    """Surviving nodes by decreasing mean kept-edge weight, ties by increasing index.

    The sums are exactly rounded (``math.fsum``): numpy's pairwise sums depend on where the
    values sit in the row, so equal weight lists could otherwise get unequal means.
    """
    means = {}
    for i in np.flatnonzero(alive).tolist():
        row = weights[i, kept[i]]
        means[i] = math.fsum(row.tolist()) / row.size if row.size else -math.inf
    return sorted(means, key=lambda i: (-means[i], i))


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
    w = check_weights(weights)
    theta_l, theta_u, kappa_l, kappa_u = _check_params(theta, kappa)
    kept, alive = kept_edges(w, theta_l, theta_u, kappa_l)
    taken = np.zeros(w.shape[0], dtype=bool)
    groups: list[list[int]] = []
    for centre in star_order(w, kept, alive):
        if taken[centre]:
            continue
        free = np.flatnonzero(kept[centre] & ~taken).tolist()
        free.sort(key=lambda j: (-w[centre, j], j))
        if len(free) >= kappa_u:
            free = free[: kappa_u - 1]
        group = [centre, *free]
        if len(group) >= kappa_l:
            groups.append(group)
        taken[group] = True
    return groups
