"""Exact maximum edge-weight k-clique: the k most coherent words of an iset (method step 5).

Back-ends are found by file (:mod:`superpose.core.registry`): every module of this package but
its helpers defines ``SOLVER`` and is named after the module (``cvxpy_scip.py`` is "cvxpy-scip").
Adding a back-end is adding one file; :func:`solver_names` lists them without importing any (the
CLI's choices stay cheap).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from superpose.core.errors import SuperposeError
from superpose.core.registry import Registry

if TYPE_CHECKING:
    from superpose.mining.clique.base import Solver

DEFAULT_SOLVER = "bnb"
SOLVERS: Registry[Solver] = Registry(__name__, "SOLVER", helpers=("base", "milp", "solve", "weights"))

__all__ = ["DEFAULT_SOLVER", "get_solver", "solver_names"]


def solver_names() -> tuple[str, ...]:
    """Every back-end's name, the default first."""
    return tuple(sorted(SOLVERS.names(), key=lambda n: n != DEFAULT_SOLVER))


@cache
def get_solver(name: str) -> Solver:
    """The back-end called ``name``, or a one-line error naming the others."""
    if name not in solver_names():
        raise SuperposeError(f"unknown backend {name!r}; choose from {', '.join(solver_names())}")
    return SOLVERS.get(name)
