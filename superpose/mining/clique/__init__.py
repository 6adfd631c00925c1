"""Exact maximum edge-weight k-clique: the k most coherent words of an iset (method step 5).

Back-ends are registered by file: every module of this package that defines ``SOLVER`` is one,
named after the module (``cvxpy_scip.py`` is "cvxpy-scip"). Adding a back-end is adding one file;
:func:`solver_names` lists them without importing any (the CLI's choices stay cheap).
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from typing import TYPE_CHECKING

from superpose.core.errors import SuperposeError

if TYPE_CHECKING:
    from superpose.mining.clique.base import Solver

# Modules of this package that are not back-ends.
_NOT_SOLVERS = {"base", "milp", "solve", "weights"}
DEFAULT_SOLVER = "bnb"

__all__ = ["DEFAULT_SOLVER", "get_solver", "solver_names"]


def solver_names() -> tuple[str, ...]:
    """Every back-end's name, the default first."""
    names = sorted(m.name.replace("_", "-") for m in pkgutil.iter_modules(__path__)
                   if m.name not in _NOT_SOLVERS and not m.name.startswith("_"))
    return tuple(sorted(names, key=lambda n: n != DEFAULT_SOLVER))


@cache
def get_solver(name: str) -> Solver:
    """The back-end called ``name``, or a one-line error naming the others."""
    if name not in solver_names():
        raise SuperposeError(f"unknown backend {name!r}; choose from {', '.join(solver_names())}")
    module = importlib.import_module(f"{__name__}.{name.replace('-', '_')}")
    solver = getattr(module, "SOLVER", None)
    if solver is None:
        raise SuperposeError(f"{module.__name__} defines no SOLVER: a back-end module must define one")
    return solver
