"""The HiGHS adapter: the only module that imports highspy.

A :class:`~computeplan.solvers.LinearProgram` is passed as CSC arrays in one call;
the answer is read from ``getModelStatus()`` (``run()`` returns OK even for an
infeasible model) and mapped to :class:`~computeplan.solvers.Termination`.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import highspy
import numpy as np
from numpy.typing import NDArray

from computeplan.solvers import (
    LinearProgram,
    Program,
    Progress,
    Ranging,
    SolveOptions,
    SolveOutcome,
    Termination,
    finite,
)
from computeplan.solvers.interrupt import stop_requested

_banner_lock = threading.Lock()
_banner_done = False


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what C code writes to file descriptor 1 to 2 instead, for a moment.

    HiGHS 1.16 prints a banner on stdout when the first ``Highs`` object is created,
    whatever its options; computeplan's stdout carries only what a command promises.
    """
    try:
        sys.stdout.flush()
        saved = os.dup(1)
    except (OSError, ValueError, AttributeError):
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        with contextlib.suppress(Exception):
            ctypes.CDLL(None).fflush(None)
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(options: SolveOptions | None = None) -> highspy.Highs:
    """A silent HiGHS object with ``options`` set."""
    global _banner_done
    if not _banner_done:
        with _banner_lock, _stdout_to_stderr():
            h = highspy.Highs()
            _banner_done = True
    else:
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    o = options or SolveOptions()
    if o.time_limit is not None:
        h.setOptionValue("time_limit", float(max(o.time_limit, 0.0)))
    h.setOptionValue("mip_rel_gap", float(o.mip_gap))
    h.setOptionValue("random_seed", int(o.seed))
    if o.tolerance is not None:
        for name in ("mip_feasibility_tolerance", "primal_feasibility_tolerance", "dual_feasibility_tolerance"):
            h.setOptionValue(name, float(o.tolerance))
    if o.threads:
        h.setOptionValue("threads", int(o.threads))
    if not o.presolve:
        h.setOptionValue("presolve", "off")
    return h


def to_highs_lp(m: LinearProgram, integer: NDArray[np.bool_] | None = None) -> highspy.HighsLp:
    """The program as a ``HighsLp`` in column-wise form."""
    lp = highspy.HighsLp()
    lp.num_col_ = len(m.c)
    lp.num_row_ = m.A.shape[0]
    lp.col_cost_ = np.asarray(m.c, dtype=float)
    lp.offset_ = float(m.offset)
    lp.col_lower_ = np.asarray(m.col_lo, dtype=float)
    lp.col_upper_ = np.asarray(m.col_hi, dtype=float)
    inf = highspy.kHighsInf
    lp.row_lower_ = np.where(np.isinf(m.row_lo), -inf, m.row_lo)
    lp.row_upper_ = np.where(np.isinf(m.row_hi), inf, m.row_hi)
    A = m.A.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = A.indptr
    lp.a_matrix_.index_ = A.indices
    lp.a_matrix_.value_ = A.data
    lp.a_matrix_.num_col_ = len(m.c)
    lp.a_matrix_.num_row_ = m.A.shape[0]
    integ = m.integer if integer is None else integer
    if np.any(integ):
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if b else highspy.HighsVarType.kContinuous for b in integ
        ]
    return lp


def _watch(h: highspy.Highs, is_mip: bool, progress: Progress | None, deadline: float | None = None) -> list[bool]:
    """Progress lines for a MILP, and a stop when Ctrl-C or SIGTERM asks for one, or at
    ``deadline`` (``time.perf_counter()``): HiGHS looks at its own time limit between
    phases, and on a large model its root LP ran seconds past it. The list returned holds
    ``True`` once the deadline stopped the solve."""
    late = [False]

    def cb(kind: Any, _msg: str, data: Any, data_in: Any, _user: Any) -> None:
        if deadline is not None and not late[0] and time.perf_counter() > deadline:
            late[0] = True
        if late[0] or stop_requested():
            with contextlib.suppress(Exception):
                data_in.user_interrupt = True
        if progress is not None and kind == highspy.cb.HighsCallbackType.kCallbackMipInterrupt:
            progress(float(getattr(data, "running_time", 0.0)), finite(getattr(data, "mip_primal_bound", None)),
                     finite(getattr(data, "mip_dual_bound", None)))

    with contextlib.suppress(Exception):  # progress and interrupts are conveniences
        h.setCallback(cb, None)
        kinds = [highspy.cb.HighsCallbackType.kCallbackSimplexInterrupt,
                 highspy.cb.HighsCallbackType.kCallbackIpmInterrupt]
        if is_mip:
            kinds.append(highspy.cb.HighsCallbackType.kCallbackMipInterrupt)
        for k in kinds:
            h.startCallback(k)
    return late


_MS = highspy.HighsModelStatus
_LIMITS = (_MS.kTimeLimit, _MS.kIterationLimit, _MS.kSolutionLimit, _MS.kObjectiveBound, _MS.kObjectiveTarget)


def solve_highs(
    m: LinearProgram,
    options: SolveOptions | None = None,
    *,
    start: NDArray[np.float64] | None = None,
    progress: Progress | None = None,
    ranging: bool = False,
    dual_ray: bool = False,
) -> SolveOutcome:
    """Solve ``m`` (its LP relaxation when ``options.relax``) with HiGHS.

    ``start`` is a MIP start (a full column vector); ``ranging`` adds right-hand-side
    ranging of an LP's rows; ``dual_ray`` asks, for an infeasible LP, for the row
    multipliers that prove it (a Farkas certificate).
    """
    o = options or SolveOptions()
    t0 = time.perf_counter()
    if stop_requested():
        return SolveOutcome(Termination.INTERRUPTED, None, None, None, 0.0)
    h = new_highs(o)
    integer = np.zeros(len(m.c), dtype=bool) if o.relax else np.asarray(m.integer, dtype=bool)
    h.passModel(to_highs_lp(m, integer))
    is_mip = bool(np.any(integer))
    late = _watch(h, is_mip, progress, None if o.time_limit is None else t0 + max(o.time_limit, 0.0))
    if start is not None and is_mip:
        sol = highspy.HighsSolution()
        sol.col_value = list(np.asarray(start, dtype=float))
        sol.value_valid = True
        h.setSolution(sol)
    h.run()
    st = h.getModelStatus()
    info = h.getInfo()
    has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    if st == _MS.kUnboundedOrInfeasible and not has_sol:
        # Presolve could not tell which: ask again without it.
        h.setOptionValue("presolve", "off")
        h.run()
        st = h.getModelStatus()
        info = h.getInfo()
        has_sol = info.primal_solution_status == highspy.SolutionStatus.kSolutionStatusFeasible
    secs = time.perf_counter() - t0
    bound = finite(info.mip_dual_bound) if is_mip else None
    extra = {"nodes": float(info.mip_node_count)} if is_mip else {"iterations": float(info.simplex_iteration_count)}
    if st == _MS.kOptimal:
        status = Termination.OPTIMAL
    elif st == _MS.kInfeasible or (st == _MS.kUnboundedOrInfeasible and not has_sol):
        ray = _dual_ray(h, m) if dual_ray and not is_mip else None
        return SolveOutcome(Termination.INFEASIBLE, None, None, bound, secs, dual_ray=ray, info=extra)
    elif st == _MS.kUnbounded:
        return SolveOutcome(Termination.UNBOUNDED, None, None, None, secs, info=extra)
    elif st == _MS.kInterrupt and not late[0]:
        status = Termination.INTERRUPTED
    elif st in _LIMITS or st == _MS.kInterrupt:  # the deadline's interrupt is the time limit
        status = Termination.FEASIBLE if has_sol else Termination.TIME_LIMIT
    else:
        return SolveOutcome(Termination.ERROR, None, None, None, secs, message=h.modelStatusToString(st), info=extra)
    if not has_sol:
        return SolveOutcome(status, None, None, bound, secs, info=extra)
    sol = h.getSolution()
    v = np.asarray(sol.col_value, dtype=float)
    obj = float(info.objective_function_value)
    if not is_mip:
        bound = obj if status == Termination.OPTIMAL else None
    lp_duals = sol.dual_valid and not is_mip
    out = SolveOutcome(status, v, obj, bound, secs,
                       row_dual=np.asarray(sol.row_dual, dtype=float) if lp_duals else None,
                       col_dual=np.asarray(sol.col_dual, dtype=float) if lp_duals else None, info=extra)
    if ranging and lp_duals and status == Termination.OPTIMAL:
        out.ranging = _ranging(h)
    return out


def _dual_ray(h: highspy.Highs, m: LinearProgram) -> NDArray[np.float64] | None:
    """The row multipliers HiGHS proves infeasibility with, or None when it has none."""
    try:
        h.setOptionValue("presolve", "off")
        h.run()
        status, has, ray = h.getDualRay()  # type: ignore[attr-defined]
    except Exception:
        return None
    if status != highspy.HighsStatus.kOk or not has:
        return None
    y = np.asarray(ray, dtype=float)
    return y if y.shape == (m.A.shape[0],) else None


def _ranging(h: highspy.Highs) -> Ranging | None:
    status, rng = h.getRanging()
    if status != highspy.HighsStatus.kOk:
        return None
    basis = h.getBasis()
    basic = np.array([s == highspy.HighsBasisStatus.kBasic for s in basis.row_status], dtype=bool)
    return Ranging(np.asarray(rng.row_bound_dn.value_, dtype=float), np.asarray(rng.row_bound_up.value_, dtype=float),
                   basic)


def read_program(path: str | Path) -> Program:
    """An LP or MPS file read back by HiGHS, as a :class:`Program` (for round-trip checks)."""
    import scipy.sparse as sp

    h = new_highs()
    status = h.readModel(str(path))
    if status == highspy.HighsStatus.kError:
        raise ValueError(f"{path}: HiGHS could not read the model")
    lp = h.getLp()
    A = sp.csc_matrix((np.asarray(lp.a_matrix_.value_), np.asarray(lp.a_matrix_.index_),
                       np.asarray(lp.a_matrix_.start_)), shape=(lp.num_row_, lp.num_col_))
    integ = np.array([t == highspy.HighsVarType.kInteger for t in lp.integrality_], dtype=bool) \
        if len(lp.integrality_) else np.zeros(lp.num_col_, dtype=bool)
    sign = -1.0 if lp.sense_ == highspy.ObjSense.kMaximize else 1.0

    def inf(a: Any) -> NDArray[np.float64]:
        x = np.asarray(a, dtype=float)
        return np.where(np.abs(x) >= highspy.kHighsInf, np.sign(x) * np.inf, x)

    return Program(c=sign * np.asarray(lp.col_cost_, dtype=float), offset=sign * float(lp.offset_), A=A.tocsr(),
                   row_lo=inf(lp.row_lower_), row_hi=inf(lp.row_upper_), col_lo=inf(lp.col_lower_),
                   col_hi=inf(lp.col_upper_), integer=integ)


def _run_lp(h: highspy.Highs, time_limit: float | None, t0: float) -> SolveOutcome:
    """Run the LP loaded in ``h`` (from whatever basis it holds) and read the answer."""
    h.setOptionValue("time_limit", float(max(time_limit, 0.0)) if time_limit is not None else inf_time())
    h.run()
    st = h.getModelStatus()
    info = h.getInfo()
    secs = time.perf_counter() - t0
    extra = {"iterations": float(info.simplex_iteration_count)}
    if st != _MS.kOptimal:
        status = {_MS.kInfeasible: Termination.INFEASIBLE, _MS.kUnbounded: Termination.UNBOUNDED,
                  _MS.kInterrupt: Termination.INTERRUPTED}.get(
            st, Termination.TIME_LIMIT if st in _LIMITS else Termination.ERROR)
        return SolveOutcome(status, None, None, None, secs, message=h.modelStatusToString(st), info=extra)
    sol = h.getSolution()
    obj = float(info.objective_function_value)
    return SolveOutcome(Termination.OPTIMAL, np.asarray(sol.col_value, dtype=float), obj, obj, secs,
                        row_dual=np.asarray(sol.row_dual, dtype=float), info=extra)


class RelayLP:
    """One HiGHS object that solves many LPs in turn, each loaded when its turn comes and
    started from a basis handed in: its own last one, or that of an LP of the same shape
    (the next day of a year starts where the day before ended). Only the LPs' arrays stay
    in memory between solves, not a solver per LP. Integrality is dropped."""

    def __init__(self, options: SolveOptions | None = None) -> None:
        self.h = new_highs(options)

    @staticmethod
    def load(m: LinearProgram) -> Any:
        """The LP in HiGHS's form, ready to be solved by :meth:`solve` (opaque)."""
        return to_highs_lp(m, np.zeros(len(m.c), dtype=bool))

    def solve(self, lp: Any, basis: Any = None, c: NDArray[np.float64] | None = None,
              rows: NDArray[np.int64] | None = None, row_lo: NDArray[np.float64] | None = None,
              row_hi: NDArray[np.float64] | None = None,
              time_limit: float | None = None) -> tuple[SolveOutcome, Any]:
        """Solve ``lp`` (from :meth:`load`) with new costs ``c`` and new bounds of the rows
        ``rows``, from ``basis`` (None: from scratch). Returns the outcome and the basis it
        ended on (None when it ended without an optimum); a basis that does not fit ``lp``'s
        shape is ignored."""
        t0 = time.perf_counter()
        h = self.h
        h.passModel(lp)
        n, m = lp.num_col_, lp.num_row_
        if c is not None:
            h.changeColsCost(n, np.arange(n, dtype=np.int32), np.asarray(c, dtype=float))
        if rows is not None and row_lo is not None and row_hi is not None and len(rows):
            inf = highspy.kHighsInf
            lo, hi = np.where(np.isinf(row_lo), -inf, row_lo), np.where(np.isinf(row_hi), inf, row_hi)
            h.changeRowsBounds(len(rows), np.asarray(rows, dtype=np.int32), lo, hi)  # type: ignore[attr-defined]
        warm = basis is not None and len(basis.col_status) == n and len(basis.row_status) == m
        if warm:
            h.setBasis(basis)
        out = _run_lp(h, time_limit, t0)
        if warm and out.status == Termination.ERROR:
            # a basis HiGHS cannot start from (nonbasic at a bound these rows no longer have): from scratch
            return self.solve(lp, None, c, rows, row_lo, row_hi, time_limit)
        return out, (h.getBasis() if out.status == Termination.OPTIMAL else None)


def inf_time() -> float:
    """HiGHS's "no time limit"."""
    return float(highspy.kHighsInf)
