"""The typical-days re-evaluation of a full year, dispatched day by day.

:func:`computeplan.plan.typical.full_year` dispatches the year with the plan's halls,
placements and builds fixed, by default as one LP over every period. A year of hourly
periods on a city fleet is beyond one machine's memory as one LP; :func:`day_dispatcher`
gives the same step as a decomposition by day on Dask
(:func:`computeplan.analysis.dayparts.dispatch_by_day`), with its lower bound and gap.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.analysis.daypart_lp import annual_mask, rows_with_terms, target_rows
from computeplan.analysis.dayparts import check_fixed, dispatch_by_day
from computeplan.errors import ComputePlanError
from computeplan.io.periods import typical_instance
from computeplan.io.schema import Instance, Targets
from computeplan.model.build import build_model
from computeplan.model.data import ModelData, build_data
from computeplan.plan.typical import Dispatch, Dispatcher, choose_days, dispatch_fixed
from computeplan.solvers import Budget, SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

F64 = NDArray[np.float64]

#: ``auto`` dispatches a full year by day from this many columns of the one LP on.
DAY_DISPATCH_COLUMNS = 3_000_000
#: Typical days of the LP whose duals are the by-day dispatch's first prices.
PRICE_DAYS = 4


def typical_prices(inst: Instance, fixed: Mapping[str, F64] | None, days: int = PRICE_DAYS, *,
                   seed: int = 0, time_limit: float | None = None) -> dict[str, float]:
    """The annual rows' prices on ``days`` typical days of ``inst``
    (:func:`~computeplan.plan.typical.choose_days`): the duals of the aggregated LP with the
    ``fixed`` blocks held (its LP relaxation when ``fixed`` is None), by row label in
    :attr:`~computeplan.analysis.dayparts.DayDispatch.prices`'s units (objective units per
    unit of the row as FORMULATION.md writes it). The typical days stand for the year, so
    these are a first guess at the year's prices that costs one small LP. Rows with terms
    on the build decisions only, and every row when that LP has no optimum, are left out."""
    k, w = choose_days(inst, days, seed=seed)
    d = build_data(typical_instance(inst, k, w))
    m = build_model(d, relax=fixed is None)
    out = solve_highs(m.with_blocks_fixed(check_fixed(d, fixed)) if fixed is not None else m,
                      SolveOptions(relax=fixed is None, time_limit=time_limit))
    if out.status != Termination.OPTIMAL or out.row_dual is None:
        return {}
    tr = target_rows(m)
    per_day = rows_with_terms(tr, ~annual_mask(m))
    names = m.row_names()
    f = m.row_scale()
    return {names[r]: abs(float(out.row_dual[r] * f[r])) * m.scale
            for r, own in zip(tr.rows.tolist(), per_day.tolist(), strict=True) if own}


def year_columns(d: ModelData) -> int:
    """Columns of the full-year LP (``x`` and ``n`` per period): its size in one figure."""
    return d.n_periods * (d.n_cand + d.n_pools)


def day_dispatcher(inst: Instance, *, workers: int | None = None, scheduler: str | None = None,
                   iterations: int = 100, tol: float = 1e-4, progress: bool = False,
                   price_days: int = PRICE_DAYS) -> Dispatcher:
    """A dispatcher for :func:`computeplan.plan.solve.solve` (``dispatcher=``) that solves
    the full year of ``inst`` by day, its first prices those of ``price_days`` typical days
    (:func:`typical_prices`; 0: no first prices). Asked for the year without its targets
    (to name the targets a plan misses), it drops them from the instance too."""

    alone: dict[bytes, Dispatch] = {}  # plans with a day that has no dispatch even without the targets

    def run(d: ModelData, fixed: Mapping[str, F64], options: SolveOptions) -> Dispatch:
        key = b"".join(np.asarray(fixed[k], dtype=float).tobytes() for k in sorted(fixed))
        if key in alone:  # a day infeasible on its own stays so without the annual targets: not solved again
            return alone[key]
        t0 = time.perf_counter()
        bud = Budget(options.time_limit)
        year = inst if d.targets else inst.model_copy(update={"targets": Targets()})
        prices: dict[str, float] = {}
        if d.targets and price_days:
            try:
                prices = typical_prices(year, fixed, price_days, time_limit=bud.left())
            except (ComputePlanError, ValueError):  # days the typical days cannot be chosen from: no first prices
                prices = {}
        out = dispatch_by_day(year, fixed, workers=workers, scheduler=scheduler, budget=bud, prices=prices,
                              iterations=iterations, tol=tol, keep_plan=True, progress=progress)
        got = Dispatch(out.status, out.plan, {}, time.perf_counter() - t0, bound=out.bound,
                       method=f"by day: {out.parts} day LPs on {out.workers} worker(s), {out.iterations} "
                              f"pricing pass(es)" + (f" from {price_days} typical days' prices" if prices else "")
                              + (f"; {out.message}" if out.message else ""))
        if out.infeasible_part is not None:
            alone[key] = replace(got, seconds=0.0)
        return got

    return run


def wants_days(d: ModelData, mode: str) -> bool:
    """Whether the full year goes by day: ``days`` always, ``lp`` never, ``auto`` from
    :data:`DAY_DISPATCH_COLUMNS` columns of the one LP on."""
    return mode == "days" or (mode == "auto" and year_columns(d) >= DAY_DISPATCH_COLUMNS)


def full_year_dispatcher(inst: Instance, mode: str = "auto", *, workers: int | None = None,
                         scheduler: str | None = None, progress: bool = False, **by_day: Any) -> Dispatcher:
    """The dispatcher ``solve --full-year MODE`` uses: ``lp`` (one LP), ``days`` (by day on
    Dask: a local cluster of ``workers`` processes, or ``scheduler``) or ``auto`` (by day
    when the one LP would have :data:`DAY_DISPATCH_COLUMNS` columns or more). ``by_day``:
    :func:`day_dispatcher`'s other options (``iterations``, ``tol``, ``price_days``)."""
    if mode not in ("auto", "lp", "days"):
        raise ValueError(f"full-year mode must be auto, lp or days, got {mode!r}")
    days = day_dispatcher(inst, workers=workers, scheduler=scheduler, progress=progress, **by_day)

    def run(d: ModelData, fixed: Mapping[str, F64], options: SolveOptions) -> Dispatch:
        return (days if wants_days(d, mode) else dispatch_fixed)(d, fixed, options)

    return run
