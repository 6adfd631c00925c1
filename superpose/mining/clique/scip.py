"""SCIP through pyscipopt, the starting point handed over as a primal solution."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np

from superpose.core.errors import SuperposeError
from superpose.mining.clique.base import MilpOutcome, MilpSolver
from superpose.mining.clique.milp import Milp

SCIP_INSTALL = "pip install pyscipopt"
_SCIP_STATUS = {"optimal": "optimal", "timelimit": "time_limit", "infeasible": "infeasible"}


def scip_outcome(model: object, values: np.ndarray | None, sign: float) -> MilpOutcome:
    """Read status and dual bound of a solved pyscipopt model (``sign`` -1 if it minimised -c)."""
    raw = model.getStatus()
    status = _SCIP_STATUS.get(raw, raw)
    bound = sign * model.getDualbound()
    if not math.isfinite(bound):
        bound = math.nan
    return MilpOutcome(status, values, bound)


def _import_pyscipopt() -> ModuleType:
    try:
        import pyscipopt
    except ImportError:
        raise SuperposeError(f"the SCIP back-end needs pyscipopt: {SCIP_INSTALL}") from None
    return pyscipopt


def solve_scip(
    milp: Milp, time_limit: float, start: np.ndarray | None, seed: int
) -> MilpOutcome:
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
    return scip_outcome(model, values, 1.0)



SOLVER = MilpSolver("scip", solve_scip)
