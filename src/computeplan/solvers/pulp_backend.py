"""The PuLP adapter: CBC and every solver PuLP drives, and LP/MPS export.

The matrix is the one :func:`computeplan.model.build.build_model` made; PuLP only
receives it row by row, so the two back-ends always solve the same model. An exported
model's objective is in the result's units (the built model's per-hour objective times
the horizon), so another solver reports the same objective value as ``result.json``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pulp

from computeplan.errors import SolverError
from computeplan.model.build import Model
from computeplan.solvers import SolveOptions, SolveOutcome, Termination

SOLVER_NAMES = {
    "cbc": "PULP_CBC_CMD",
    "glpk": "GLPK_CMD",
    "highs-pulp": "HiGHS",
    "highs_cmd": "HiGHS_CMD",
    "cplex": "CPLEX_CMD",
    "gurobi": "GUROBI_CMD",
    "scip": "SCIP_CMD",
    "xpress": "XPRESS",
    "copt": "COPT_CMD",
    "mosek": "MOSEK",
    "choco": "CHOCO_CMD",
}

_BAD = re.compile(r"[^A-Za-z0-9_]")


def _safe(name: str, seen: set[str]) -> str:
    base = _BAD.sub("_", name)[:200]
    out, k = base, 1
    while out in seen:
        k += 1
        out = f"{base}_{k}"
    seen.add(out)
    return out


def to_pulp(m: Model, *, relax: bool = False,
            objective_scale: float = 1.0) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[str]]:
    """The model as a PuLP problem with readable, LP-file-safe names; the objective is
    multiplied by ``objective_scale``."""
    prob = pulp.LpProblem(_BAD.sub("_", m.data.name) or "computeplan", pulp.LpMinimize)
    seen: set[str] = set()
    cols = []
    for k, name in enumerate(m.col_names()):
        integer = bool(m.integer[k]) and not relax
        hi = float(m.col_hi[k])
        cols.append(pulp.LpVariable(_safe(name, seen), lowBound=float(m.col_lo[k]),
                                    upBound=hi if np.isfinite(hi) else None,
                                    cat=pulp.LpInteger if integer else pulp.LpContinuous))
    nz = np.flatnonzero(m.c)
    s = float(objective_scale)
    prob += pulp.LpAffineExpression([(cols[k], s * float(m.c[k])) for k in nz]) + s * m.offset, "objective"
    A = m.A.tocsr()
    row_names: list[str] = []
    rseen: set[str] = set()
    for r, label in enumerate(m.row_names()):
        lo, hi = float(m.row_lo[r]), float(m.row_hi[r])
        s, e = A.indptr[r], A.indptr[r + 1]
        expr = pulp.LpAffineExpression([(cols[k], float(v)) for k, v in zip(A.indices[s:e], A.data[s:e], strict=True)])
        name = _safe(label, rseen)
        row_names.append(name)
        if np.isfinite(lo) and np.isfinite(hi) and lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, name, hi)
        else:
            if np.isfinite(hi):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, name if not np.isfinite(lo) else name + "_hi", hi)
            if np.isfinite(lo):
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, name if not np.isfinite(hi) else name + "_lo", lo)
    return prob, cols, row_names


def write_model(m: Model, path: str | Path) -> Path:
    """Write the model as an LP (``.lp``) or MPS (``.mps``) file, objective in the
    result's units (``objective.value`` of ``result.json`` is its optimum)."""
    p = Path(path)
    prob, _, _ = to_pulp(m, objective_scale=m.scale)
    if p.suffix.lower() == ".mps":
        prob.writeMPS(str(p))
    else:
        prob.writeLP(str(p))
    return p


def solve_pulp(m: Model, solver: str = "cbc", options: SolveOptions | None = None, *,
               msg: bool = False) -> SolveOutcome:
    """Solve with a solver PuLP drives (``cbc``, ``glpk``, ``cplex``, ``gurobi``, ...)."""
    o = options or SolveOptions()
    time_limit = o.time_limit
    pname = SOLVER_NAMES.get(solver.lower(), solver)
    kwargs: dict[str, object] = {"msg": msg}
    if time_limit is not None:
        kwargs["timeLimit"] = max(1.0, float(time_limit))
    if bool(np.any(m.integer)):
        kwargs["gapRel"] = float(o.mip_gap)
    try:
        s = pulp.getSolver(pname, **kwargs)
    except Exception as e:
        raise SolverError(f"solver {solver!r} is not known to PuLP: {e}") from None
    if not s.available():
        raise SolverError(f"solver {solver!r} ({pname}) is not installed on this machine; "
                          f"available: {', '.join(pulp.listSolvers(onlyAvailable=True))}")
    prob, cols, _ = to_pulp(m)
    t0 = time.perf_counter()
    prob.solve(s)
    secs = time.perf_counter() - t0
    # PuLP's status says "Optimal" after a time-out with a solution: read sol_status.
    sol_status = prob.sol_status
    if sol_status == pulp.LpSolutionOptimal:
        status = Termination.OPTIMAL
    elif sol_status == pulp.LpSolutionIntegerFeasible:
        status = Termination.FEASIBLE
    elif sol_status in (pulp.LpSolutionInfeasible,) or prob.status == pulp.LpStatusInfeasible:
        status = Termination.INFEASIBLE
    elif sol_status == pulp.LpSolutionNoSolutionFound:
        status = Termination.TIME_LIMIT if time_limit is not None else Termination.INFEASIBLE
    else:
        return SolveOutcome(Termination.ERROR, None, None, None, secs, message=pulp.LpStatus[prob.status])
    if status in (Termination.INFEASIBLE, Termination.TIME_LIMIT):
        return SolveOutcome(status, None, None, None, secs)
    v = np.array([c.value() if c.value() is not None else 0.0 for c in cols], dtype=float)
    obj = float(m.c @ v + m.offset)
    bound = obj if status == Termination.OPTIMAL else None
    return SolveOutcome(status, v, obj, bound, secs)
