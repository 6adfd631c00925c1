"""What every exact k-clique back-end shares: its answer (``Solution``) and its shape (``Solver``).

A back-end is one module of this package that defines ``SOLVER``; the module's name (with ``_`` read
as ``-``) is the back-end's name. Back-ends that solve the 0-1 program of :mod:`.milp` wrap a
function ``(milp, time_limit, start, seed) -> MilpOutcome`` in :class:`MilpSolver`.
Adding a back-end is adding one such module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from superpose.mining.clique.milp import Milp, build_milp, local_search


@dataclass(frozen=True)
class Solution:
    """A back-end's verdict: chosen word indices (None if none), status, upper bound on the total
    pair weight (NaN if unknown), and the back-end that produced it (it may hand over to another).

    ``status`` is "optimal" only when the back-end proved it.
    """

    indices: np.ndarray | None
    status: str
    bound: float
    backend: str
    start: np.ndarray | None = None  # the local-search start it used, a fallback for the caller


class Solver(Protocol):
    """An exact back-end: ``solve`` the k-clique of a checked symmetric weight matrix.

    ``warm_start`` asks for a local-search start where the back-end can use one (it costs time).
    """

    name: str

    def solve(self, weights: np.ndarray, k: int, *, formulation: str, time_limit: float,
              warm_start: bool, seed: int) -> Solution: ...


@dataclass(frozen=True)
class MilpOutcome:
    """What a 0-1 program solver proved: status, best point found (or None), upper bound on ``c @ z``."""

    status: str
    z: np.ndarray | None
    bound: float


MilpFunction = Callable[[Milp, float, "np.ndarray | None", int], MilpOutcome]


@dataclass(frozen=True)
class MilpSolver:
    """A back-end that solves one of the 0-1 programs of :mod:`.milp` with a general MILP solver."""

    name: str
    run: MilpFunction

    def solve(self, weights: np.ndarray, k: int, *, formulation: str, time_limit: float,
              warm_start: bool, seed: int) -> Solution:
        start = local_search(weights, k) if warm_start else None
        milp = build_milp(weights, k, formulation)
        out = self.run(milp, time_limit, None if start is None else milp.point(start), seed)
        found = None if out.z is None else milp.words(out.z)
        return Solution(found, out.status, out.bound, self.name, start)
