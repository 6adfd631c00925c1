"""Exact maximum edge-weight k-clique (docs/method.md step 5): the k most coherent words of an iset.

``solve_mekc`` returns the chosen words with the mean pairwise weight, and what the solver
proved: "optimal" only when the solver proved it; otherwise the best solution known (the
solver's or the local-search start, whichever is heavier), the status that stopped it (for
example "time_limit") and the relative gap to the solver's upper bound.

Edge cases: ``k < 2`` raises (a mean pairwise weight needs a pair); fewer than ``k`` words
returns status "too_small" with no indices and a NaN score (the mining stage skips such sets
rather than failing); exactly ``k`` words is trivially optimal without a solver.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from superpose.config import FORMULATIONS, MiningConfig
from superpose.core.errors import SuperposeError
from superpose.mining.clique import DEFAULT_SOLVER, get_solver
from superpose.mining.clique.milp import clique_weight
from superpose.mining.clique.weights import check_weights


@dataclass(frozen=True)
class MekcResult:
    """The chosen word indices (sorted), their mean pairwise weight, and the proof status.

    ``gap`` is ``(bound - score) / max(|score|, |bound|, 1e-9)``: 0.0 when proven optimal, NaN
    when no bound is known. ``bound`` is the solver's upper bound on the score (NaN if unknown).
    """

    indices: tuple[int, ...]
    score: float
    status: str
    gap: float
    bound: float
    solve_seconds: float
    backend: str
    formulation: str

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def _relative_gap(score: float, bound: float) -> float:
    if math.isnan(bound):
        return math.nan
    return max(0.0, bound - score) / max(abs(score), abs(bound), 1e-9)


def solve_mekc(
    weights: object,
    k: int = MiningConfig.k,
    *,
    formulation: str = MiningConfig.formulation,
    backend: str = DEFAULT_SOLVER,
    time_limit: float = MiningConfig.time_limit,
    warm_start: bool = True,
    seed: int = 0,
) -> MekcResult:
    """The ``k`` words of largest mean pairwise weight in a symmetric matrix (diagonal ignored).

    ``backend``: "bnb" (a dedicated branch and bound compiled with numba, the default: fastest in
    our benchmark; the formulation does not apply to it), "highs" (HiGHS through
    scipy.optimize.milp), "scip" (pyscipopt) or "cvxpy-scip" (CVXPY with SCIP, the paper's tool
    chain). ``warm_start`` computes a greedy-plus-swaps solution first for the MILP back-ends: SCIP
    gets it as a primal solution, CVXPY/SCIP as an objective cutoff, and every back-end falls back
    on it after a time limit. The branch and bound needs no start (its first dive finds one).
    """
    if formulation not in FORMULATIONS:
        raise SuperposeError(f"unknown formulation {formulation!r}; choose from {FORMULATIONS}")
    solver = get_solver(backend)
    if isinstance(k, bool) or int(k) != k or k < 2:
        raise SuperposeError(f"k must be an integer of at least 2, got {k!r}")
    if not time_limit > 0:
        raise SuperposeError(f"time_limit must be positive, got {time_limit!r}")
    k = int(k)
    w = check_weights(weights)
    n = w.shape[0]
    pairs = k * (k - 1) / 2
    t0 = time.perf_counter()

    def result(idx: np.ndarray, status: str, bound: float, weight: float | None = None) -> MekcResult:
        chosen = tuple(sorted(int(i) for i in idx))
        if weight is None and chosen:
            weight = clique_weight(w, list(chosen))
        score = weight / pairs if chosen else math.nan
        gap = 0.0 if status == "optimal" else _relative_gap(score, bound)
        return MekcResult(
            chosen, score, status, gap, bound, time.perf_counter() - t0, backend, formulation
        )

    if n < k:
        return result(np.array([], dtype=int), "too_small", math.nan)
    if n == k:
        everything = np.arange(n)
        return result(everything, "optimal", clique_weight(w, everything) / pairs)

    out = solver.solve(w, k, formulation=formulation, time_limit=time_limit, warm_start=warm_start, seed=seed)
    backend, start, found = out.backend, out.start, out.indices
    if found is not None and found.size != k:
        found = None  # not a k-set (numerical trouble): never report it
    status = out.status
    if found is None and status == "optimal":
        status = "no_solution"
    candidates = [s for s in (found, start) if s is not None]
    if not candidates:
        return result(np.array([], dtype=int), status, out.bound / pairs)
    weights_of = [clique_weight(w, s) for s in candidates]  # each candidate's weight once
    best_at = max(range(len(candidates)), key=weights_of.__getitem__)
    best, best_weight = candidates[best_at], weights_of[best_at]
    if status == "optimal" and found is not None:
        tol = 1e-7 * max(1.0, abs(best_weight))
        if weights_of[0] < best_weight - tol:
            status = "suboptimal"  # the solver's "optimum" lost to the start: do not trust it
    in_order = bool(np.all(np.diff(np.asarray(best)) > 0))  # then its weight is the reported sum
    return result(best, status, out.bound / pairs, best_weight if in_order else None)
