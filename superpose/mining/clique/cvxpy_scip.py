"""SCIP through CVXPY, the paper's tool chain."""

from __future__ import annotations

import warnings

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.mining.clique.base import MilpOutcome, MilpSolver
from superpose.mining.clique.milp import Milp
from superpose.mining.clique.scip import SCIP_INSTALL, scip_outcome


def solve_cvxpy_scip(
    milp: Milp, time_limit: float, start: np.ndarray | None, seed: int
) -> MilpOutcome:
    """SCIP through CVXPY, as the paper ran it.

    CVXPY's SCIP interface ignores ``warm_start`` (it never reads variable values), so the
    starting point can only reach SCIP as a bound: the constraint
    ``c @ z >= c @ start`` (less a tolerance) prunes every node that cannot beat it. SCIP then
    proves the start optimal or finds better; the caller keeps the start if SCIP returns nothing.
    The raw SCIP status is read from the solver's own answer, because CVXPY maps a time limit to
    "optimal_inaccurate" and raises instead of reporting a time limit without a solution.
    """
    try:
        import cvxpy as cp
    except ImportError:
        msg = f"the cvxpy-scip back-end needs cvxpy: pip install cvxpy {SCIP_INSTALL}"
        raise SuperposeError(msg) from None
    if "SCIP" not in cp.installed_solvers():
        raise SuperposeError(f"CVXPY cannot find SCIP: {SCIP_INSTALL}")
    z = cp.Variable(milp.c.size, boolean=True)
    constraints = [milp.a_eq @ z == milp.b_eq, milp.a_ub @ z <= milp.b_ub]
    if start is not None:
        floor = float(milp.c @ start)
        constraints.append(milp.c @ z >= floor - 1e-7 * max(1.0, abs(floor)))
    problem = cp.Problem(cp.Maximize(milp.c @ z), constraints)
    data, chain, inverse = problem.get_problem_data(cp.SCIP)
    params = {
        "limits/time": float(time_limit),
        "limits/gap": 0.0,
        "limits/absgap": 0.0,
        "randomization/randomseedshift": int(seed),
    }
    raw = chain.solve_via_data(problem, data, False, False, {"scip_params": params})
    values = None
    if raw["model"].getNSols() > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "inaccurate" after a time limit: we report it
            problem.unpack_results(raw, chain, inverse)
        values = np.asarray(z.value, dtype=float)
    # CVXPY hands SCIP "minimise -c @ z", so SCIP's dual bound is the negated upper bound.
    return scip_outcome(raw["model"], values, -1.0)



SOLVER = MilpSolver("cvxpy-scip", solve_cvxpy_scip)
