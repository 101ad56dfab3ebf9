"""HiGHS through highspy: the model passed as CSR arrays in one call."""

from __future__ import annotations

import time

import highspy
import numpy as np
from numpy.typing import NDArray

from computeplan.model.build import Model
from computeplan.solvers import Progress, SolveOutcome


def _lp(m: Model, integer: NDArray[np.bool_] | None = None) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_ = m.n_cols
    lp.num_row_ = m.n_rows
    lp.col_cost_ = m.c
    lp.offset_ = m.offset
    lp.col_lower_ = m.col_lo
    lp.col_upper_ = m.col_hi
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isinf(m.row_lo), -inf, m.row_lo)
    lp.row_upper_ = np.where(np.isinf(m.row_hi), inf, m.row_hi)
    A = m.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    integ = m.integer if integer is None else integer
    if np.any(integ):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integ
        ]
    return lp


def solve_highs(
    m: Model,
    *,
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
    threads: int | None = None,
    progress: Progress | None = None,
    start: NDArray[np.float64] | None = None,
    relax: bool = False,
) -> SolveOutcome:
    """Solve ``m`` (its LP relaxation when ``relax``) with HiGHS."""
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    if time_limit is not None:
        h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("mip_rel_gap", float(mip_gap))
    h.setOptionValue("mip_feasibility_tolerance", 1e-9)
    h.setOptionValue("primal_feasibility_tolerance", 1e-9)
    h.setOptionValue("dual_feasibility_tolerance", 1e-9)
    if threads:
        h.setOptionValue("threads", int(threads))
    integer = np.zeros(m.n_cols, dtype=bool) if relax else m.integer
    h.passModel(_lp(m, integer))
    is_mip = bool(np.any(integer))
    if progress is not None and is_mip:
        def _cb(_type: object, _msg: str, data: object, _out: object, _user: object) -> None:
            d = data
            inc = getattr(d, "mip_primal_bound", None)
            bnd = getattr(d, "mip_dual_bound", None)
            inc_v = float(inc) if inc is not None and abs(float(inc)) < 1e300 else None
            bnd_v = float(bnd) if bnd is not None and abs(float(bnd)) < 1e300 else None
            progress(float(getattr(d, "running_time", 0.0)), inc_v, bnd_v)

        try:
            h.setCallback(_cb, None)
            h.startCallback(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
        except Exception:  # progress is a convenience; never fail a solve over it
            pass
    if start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    t0 = time.perf_counter()
    h.run()
    secs = time.perf_counter() - t0
    st = h.getModelStatus()
    MS = highspy.HighsModelStatus
    info = h.getInfo()
    has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if st == MS.kUnboundedOrInfeasible and not has_sol:
        # Presolve could not tell which: ask again without it.
        h.setOptionValue("presolve", "off")
        h.run()
        st = h.getModelStatus()
        info = h.getInfo()
        has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if st == MS.kOptimal:
        status = "optimal"
    elif st in (MS.kInfeasible, MS.kUnboundedOrInfeasible):
        status = "infeasible"
    elif st in (MS.kTimeLimit, MS.kIterationLimit, MS.kInterrupt, MS.kSolutionLimit):
        status = "feasible" if has_sol else "time_limit"
    else:
        return SolveOutcome("error", None, None, None, secs, message=h.modelStatusToString(st))
    if status in ("infeasible", "time_limit"):
        bound = float(info.mip_dual_bound) if is_mip and abs(info.mip_dual_bound) < 1e300 else None
        return SolveOutcome(status, None, None, bound, secs)
    sol = h.getSolution()
    v = np.asarray(sol.col_value, dtype=float)
    obj = float(info.objective_function_value)
    if is_mip:
        bound = float(info.mip_dual_bound)
    else:
        bound = obj
    row_dual = np.asarray(sol.row_dual, dtype=float) if sol.dual_valid else None
    col_dual = np.asarray(sol.col_dual, dtype=float) if sol.dual_valid else None
    return SolveOutcome(status, v, obj, bound, secs, row_dual=None if is_mip else row_dual,
                        col_dual=None if is_mip else col_dual)
