"""The typical-days re-evaluation of a full year, dispatched day by day.

:func:`computeplan.plan.typical.full_year` dispatches the year with the plan's halls,
placements and builds fixed, by default as one LP over every period. A year of hourly
periods on a city fleet is beyond one machine's memory as one LP; :func:`day_dispatcher`
gives the same step as a decomposition by day on Dask
(:func:`computeplan.analysis.dayparts.dispatch_by_day`), with its lower bound and gap.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from computeplan.analysis.dayparts import dispatch_by_day
from computeplan.io.schema import Instance, Targets
from computeplan.model.data import ModelData
from computeplan.plan.typical import Dispatch, Dispatcher, dispatch_fixed
from computeplan.solvers import SolveOptions

F64 = NDArray[np.float64]

#: ``auto`` dispatches a full year by day from this many columns of the one LP on.
DAY_DISPATCH_COLUMNS = 3_000_000


def year_columns(d: ModelData) -> int:
    """Columns of the full-year LP (``x`` and ``n`` per period): its size in one figure."""
    return d.n_periods * (d.n_cand + d.n_pools)


def day_dispatcher(inst: Instance, *, workers: int | None = None, scheduler: str | None = None,
                   iterations: int = 100, tol: float = 1e-4, progress: bool = False) -> Dispatcher:
    """A dispatcher for :func:`computeplan.plan.solve.solve` (``dispatcher=``) that solves
    the full year of ``inst`` by day. Asked for the year without its targets (to name the
    targets a plan misses), it drops them from the instance too."""

    def run(d: ModelData, fixed: Mapping[str, F64], options: SolveOptions) -> Dispatch:
        year = inst if d.targets else inst.model_copy(update={"targets": Targets()})
        out = dispatch_by_day(year, fixed, workers=workers, scheduler=scheduler, time_limit=options.time_limit,
                              iterations=iterations, tol=tol, keep_plan=True, progress=progress)
        return Dispatch(out.status, out.plan, {}, out.seconds, bound=out.bound,
                        method=f"by day: {out.parts} day LPs on {out.workers} worker(s), {out.iterations} "
                               f"pricing pass(es)" + (f"; {out.message}" if out.message else ""))

    return run


def wants_days(d: ModelData, mode: str) -> bool:
    """Whether the full year goes by day: ``days`` always, ``lp`` never, ``auto`` from
    :data:`DAY_DISPATCH_COLUMNS` columns of the one LP on."""
    return mode == "days" or (mode == "auto" and year_columns(d) >= DAY_DISPATCH_COLUMNS)


def full_year_dispatcher(inst: Instance, mode: str = "auto", *, workers: int | None = None,
                         scheduler: str | None = None, progress: bool = False) -> Dispatcher:
    """The dispatcher ``solve --full-year MODE`` uses: ``lp`` (one LP), ``days`` (by day on
    Dask: a local cluster of ``workers`` processes, or ``scheduler``) or ``auto`` (by day
    when the one LP would have :data:`DAY_DISPATCH_COLUMNS` columns or more)."""
    if mode not in ("auto", "lp", "days"):
        raise ValueError(f"full-year mode must be auto, lp or days, got {mode!r}")
    by_day = day_dispatcher(inst, workers=workers, scheduler=scheduler, progress=progress)

    def run(d: ModelData, fixed: Mapping[str, F64], options: SolveOptions) -> Dispatch:
        return (by_day if wants_days(d, mode) else dispatch_fixed)(d, fixed, options)

    return run
