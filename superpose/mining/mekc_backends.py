"""Exact back-ends for the k-clique program of ``mekc_model``: SCIP (direct or via CVXPY), HiGHS.

Each back-end takes the same ``Milp``, a time limit, an optional starting point and a seed, and
returns the solver's own verdict: the status is "optimal" only when the solver says it proved
optimality (relative and absolute gap limits set to zero where the interface allows).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType

import numpy as np

from superpose.errors import SuperposeError
from superpose.mining.mekc_model import Milp

SCIP_INSTALL = "pip install pyscipopt"


@dataclass(frozen=True)
class Outcome:
    """What a back-end proved: status, best point found (or None), upper bound on ``c @ z``."""

    status: str
    z: np.ndarray | None
    bound: float


_SCIP_STATUS = {"optimal": "optimal", "timelimit": "time_limit", "infeasible": "infeasible"}


def _scip_outcome(model: object, values: np.ndarray | None, sign: float) -> Outcome:
    """Read status and dual bound of a solved pyscipopt model (``sign`` -1 if it minimised -c)."""
    raw = model.getStatus()
    status = _SCIP_STATUS.get(raw, raw)
    bound = sign * model.getDualbound()
    if not math.isfinite(bound):
        bound = math.nan
    return Outcome(status, values, bound)


def _import_pyscipopt() -> ModuleType:
    try:
        import pyscipopt
    except ImportError:
        raise SuperposeError(f"the SCIP back-end needs pyscipopt: {SCIP_INSTALL}") from None
    return pyscipopt


def solve_scip(
    milp: Milp, time_limit: float, start: np.ndarray | None, seed: int
) -> Outcome:
    """SCIP through pyscipopt, the starting point handed over as a primal solution (addSol)."""
    pyscipopt = _import_pyscipopt()
    model = pyscipopt.Model()
    model.hideOutput()
    model.setParam("limits/time", float(time_limit))
    model.setParam("limits/gap", 0.0)
    model.setParam("limits/absgap", 0.0)
    model.setParam("randomization/randomseedshift", int(seed))
    z = [model.addVar(vtype="B", obj=float(cj)) for cj in milp.c]
    model.setMaximize()
    for mat, rhs, equal in ((milp.a_eq, milp.b_eq, True), (milp.a_ub, milp.b_ub, False)):
        for r in range(mat.shape[0]):
            lo, hi = mat.indptr[r], mat.indptr[r + 1]
            expr = pyscipopt.quicksum(
                float(v) * z[j] for j, v in zip(mat.indices[lo:hi], mat.data[lo:hi], strict=True)
            )
            model.addCons(expr == rhs[r] if equal else expr <= rhs[r])
    if start is not None:
        sol = model.createSol()
        for var, val in zip(z, start, strict=True):
            model.setSolVal(sol, var, float(val))
        model.addSol(sol)
    model.optimize()
    values = None
    if model.getNSols() > 0:
        best = model.getBestSol()
        values = np.array([model.getSolVal(best, v) for v in z])
    return _scip_outcome(model, values, 1.0)


def solve_cvxpy_scip(
    milp: Milp, time_limit: float, start: np.ndarray | None, seed: int
) -> Outcome:
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
    return _scip_outcome(raw["model"], values, -1.0)


def solve_highs(
    milp: Milp, time_limit: float, start: np.ndarray | None, seed: int
) -> Outcome:
    """HiGHS through ``scipy.optimize.milp``.

    That interface takes no starting point; a cutoff row built from it (as for CVXPY) did not
    speed HiGHS up in our measurements, so the start only serves the caller as a fallback.
    ``mip_rel_gap`` and HiGHS's own ``mip_abs_gap`` (default 1e-6, passed to HiGHS verbatim as
    scipy documents for options it does not know) are set to 0, so "optimal" means proven.
    """
    from scipy.optimize import Bounds, LinearConstraint
    from scipy.optimize import milp as scipy_milp

    constraints = [
        LinearConstraint(milp.a_eq, milp.b_eq, milp.b_eq),
        LinearConstraint(milp.a_ub, -np.inf, milp.b_ub),
    ]
    options = {
        "time_limit": float(time_limit),
        "mip_rel_gap": 0.0,
        "disp": False,
        "mip_abs_gap": 0.0,
        "random_seed": int(seed),
    }
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
        res = scipy_milp(
            -milp.c,
            integrality=np.ones(milp.c.size),
            bounds=Bounds(0.0, 1.0),
            constraints=constraints,
            options=options,
        )
    status = {0: "optimal", 1: "time_limit", 2: "infeasible"}.get(res.status, f"highs_{res.status}")
    bound = getattr(res, "mip_dual_bound", None)
    bound = -float(bound) if bound is not None and math.isfinite(bound) else math.nan
    if status == "optimal" and math.isnan(bound):
        bound = float(milp.c @ res.x)
    values = None if res.x is None else np.asarray(res.x, dtype=float)
    return Outcome(status, values, bound)


Backend = Callable[[Milp, float, "np.ndarray | None", int], Outcome]

BACKENDS: dict[str, Backend] = {
    "scip": solve_scip,
    "highs": solve_highs,
    "cvxpy-scip": solve_cvxpy_scip,
}
