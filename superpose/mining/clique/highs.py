"""HiGHS through ``scipy.optimize.milp``."""

from __future__ import annotations

import math
import warnings

import numpy as np

from superpose.mining.clique.base import MilpOutcome, MilpSolver
from superpose.mining.clique.milp import Milp


def solve_highs(
    milp: Milp, time_limit: float, start: np.ndarray | None, seed: int
) -> MilpOutcome:
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
    return MilpOutcome(status, values, bound)



SOLVER = MilpSolver("highs", solve_highs)
