"""The typical days' model solved by day, for typical-day sets too large for one MILP.

The aggregated model of ``K`` typical days (:func:`computeplan.io.periods.typical_instance`)
is the full-year model on fewer days, so it decomposes by day as the year does
(:mod:`computeplan.analysis.dayparts`). :func:`solve_by_day`:

1. **Halls and placements from a smaller MILP** (``halls="milp"``, the default with more
   than :data:`MILP_DAYS` typical days; :func:`milp_halls`): the one MILP on 4 of the
   typical days, chosen among them as they were chosen among the year's, each standing
   for its days' weights.
2. **Bound.** Each typical day its own LP with its own copy of the halls ``z`` and the
   indivisible placements ``y``, the annual rows priced across the days
   (:func:`~computeplan.analysis.dayparts.year_lower_bound`). Its bound is valid for the
   aggregated MILP; each day's copy (the master's combination of that day's solutions) says
   how many halls the day wants lit and where its indivisible work runs.
3. **Dispatch.** The typical days dispatched with the halls and placements fixed, by day
   (:func:`~computeplan.analysis.dayparts.dispatch_by_day`, first prices the bound's): a
   plan of the aggregated model, its objective an upper bound. Should a day have no
   dispatch (or without step 1), the halls and placements are **agreed** from the days'
   copies (:func:`agree`): a site that any day lights a fraction of a hall gets one;
   above one hall, the most any day lights, rounded to the nearest hall; each indivisible
   workload where the days' copies put the largest weighted share of it, among lit sites.
   Should that not dispatch every day either, the halls are raised to the most any day
   lights, rounded up. (Rounding is the weaker rule: the MILP lights fewer, fuller halls
   at the large sites than any rounding of the copies, whose fixed overhead the site PUE
   caps then cannot carry.)

The result is a plan of the aggregated model like the MILP's, with the bound of step 2 and
the gap between them; :func:`computeplan.plan.typical.solve_typical` then re-evaluates it
over the full year. Instances with build decisions are refused (their copies are not agreed
here); so are flexibility windows longer than a day (they couple the days).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.analysis.dayparts import DayDispatch, day_parts, dispatch_by_day, year_lower_bound
from computeplan.analysis.parallel import dask_client
from computeplan.errors import UsageError
from computeplan.io.schema import Instance
from computeplan.model.data import ModelData, build_data
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.plan.result import Result, Status
from computeplan.plan.typical import Dispatch, dispatch_figures, plan_of_dispatch
from computeplan.solvers import Budget, Termination

F64 = NDArray[np.float64]

#: ``auto`` solves the typical days by day from this many columns of the aggregated LP on
#: (``x`` and ``n`` per period): 12 typical days of the Shanghai fleet are about 140 k,
#: whose LP relaxation alone takes HiGHS minutes; 4 days (46 k) stay one MILP.
BY_DAY_COLUMNS = 100_000
#: Of the aggregated solve's time limit: the halls MILP's share (``halls="milp"``), then
#: the bound's share of what is left (the dispatch has the rest).
MILP_SHARE = 0.4
BOUND_SHARE = 0.5
#: A site whose copies light less than this much of a hall on every day stays dark.
DARK = 1e-6
#: ``halls="milp"``: the typical days (chosen among the aggregated instance's) of the MILP
#: that decides the halls and placements, its relative gap, and its time limit when the
#: call has none (its first plan on 4 Shanghai typical days came after about 200 s).
MILP_DAYS = 4
MILP_GAP = 5e-3
MILP_LIMIT = 300.0


def agree(d: ModelData, copies: F64, weight: F64, *, up: bool = False) -> dict[str, F64]:
    """Halls ``z`` and placements ``y`` for every day from the days' copies (``copies``:
    days x (z columns, y columns), ``weight``: each day's share of the horizon; an
    instance without build decisions, as :func:`solve_by_day` takes). ``up``:
    the most halls any day lights, rounded up, at every site (the fallback)."""
    nz = d.n_sites
    Z, Y = copies[:, :nz], copies[:, nz:]
    most = Z.max(axis=0, initial=0.0)
    if up:
        z = np.ceil(most - DARK)
    else:
        z = np.where(most < 1.0, np.ceil(most - DARK), np.floor(most + 0.5))
    yc = d.y_cand
    site, wl = d.cand_site[yc], d.cand_wl[yc]
    placed = np.unique(site[(Y > DARK).any(axis=0)]) if len(yc) else np.zeros(0, dtype=np.int64)
    z[placed] = np.maximum(z[placed], 1.0)  # a site where a day runs indivisible work is lit
    # the halls' bounds without build decisions: a site that cannot idle lights all its halls
    z = np.clip(z, np.where(d.site_can_idle, 0.0, d.site_halls), d.site_halls)
    share = weight @ Y if len(yc) else np.zeros(0)
    y = np.zeros(len(yc))
    for w in np.unique(wl).tolist():
        idx = np.flatnonzero(wl == w)
        lit = idx[z[site[idx]] >= 1.0]
        among = lit if len(lit) else idx
        if share[idx].sum() > DARK or d.wl_must[w]:
            y[among[np.argmax(share[among])]] = 1.0
    return {"z": z, "y": y}


def milp_halls(agg: Instance, budget: Budget, *, days: int = MILP_DAYS, mip_gap: float = MILP_GAP,
               seed: int = 0) -> tuple[dict[str, F64] | None, dict[str, Any]]:
    """Halls ``z`` and placements ``y`` from the one MILP on ``days`` typical days chosen
    among the aggregated instance's own (k-medoids again, each standing for its days'
    weights in ``agg``, the year's extremes kept), within ``budget`` (or
    :data:`MILP_LIMIT` without one). None when the MILP found no plan in time."""
    from computeplan.io.periods import time_axis, typical_instance
    from computeplan.plan.solve import solve
    from computeplan.plan.typical import choose_days

    t0 = time.perf_counter()
    ax = time_axis(agg)
    per_day = ax.rep.reshape(-1, 24)[:, 0]
    k, w = choose_days(agg, days, seed=seed, day_weight=per_day)
    sub = typical_instance(agg, k, w)
    limit = MILP_LIMIT if budget.unlimited else budget.left()
    res = solve(sub, time_limit=limit, mip_gap=mip_gap, flex_value=False, check=False, seed=seed)
    info = {"days": k, "weights": w, "status": res.status.value, "objective": res.objective_value,
            "gap": res.gap, "seconds": time.perf_counter() - t0}
    if not res.has_plan:
        return None, info
    return {name: np.asarray(res.blocks.get(name, np.zeros(0)), dtype=float) for name in ("z", "y")}, info


def wants_by_day(d: ModelData, mode: str) -> bool:
    """Whether typical days are solved by day: ``days`` always, ``milp`` never, ``auto``
    from :data:`BY_DAY_COLUMNS` columns of the aggregated LP on (and without build decisions)."""
    return mode == "days" or (mode == "auto" and not d.build.active
                              and d.n_periods * (d.n_cand + d.n_pools) >= BY_DAY_COLUMNS)


def solve_by_day(agg: Instance, *, budget: Budget | None = None, workers: int | None = None,
                 scheduler: str | None = None, iterations: int = 10, tol: float = 2e-3,
                 progress: bool = False, halls: str = "auto") -> Result:
    """A plan of the typical days' instance ``agg`` by bound, agreement and dispatch (module
    docstring), on Dask (a local cluster of ``workers``, ``scheduler``, or in this process
    with ``workers=0``). ``iterations`` and ``tol`` bound each step's pricing passes.
    ``halls``: ``agree`` (from the days' copies), ``milp`` (:func:`milp_halls` first; the
    copies' agreement should its plan not dispatch every day) or ``auto`` (``milp`` with
    more than :data:`MILP_DAYS` typical days, else ``agree``)."""
    t0 = time.perf_counter()
    bud = Budget(None) if budget is None else budget
    if halls not in ("auto", "agree", "milp"):
        raise UsageError(f"halls: expected auto, agree or milp, got {halls!r}")
    d = build_data(agg)
    if halls == "auto":
        from computeplan.io.periods import time_axis

        halls = "milp" if time_axis(agg).T // 24 > MILP_DAYS else "agree"
    if d.build.active:
        raise UsageError("typical days by day: this instance has build decisions, which the days' copies do not "
                         "agree on; solve its typical days as one MILP (--typical-solve milp)")
    first, milp_info = None, None
    if halls == "milp":
        first, milp_info = milp_halls(agg, Budget(bud.share(MILP_SHARE)) if not bud.unlimited else bud)
    tried: list[str] = []
    local = workers == 0 and not scheduler
    with dask_client(scheduler, workers) if not local else _nothing() as client:
        kw: dict[str, Any] = {"client": client} if client is not None else {"workers": 0}
        b = year_lower_bound(agg, budget=Budget(bud.share(BOUND_SHARE)) if not bud.unlimited else bud,
                             iterations=iterations, tol=tol, progress=progress, **kw)
        if b.copies is None or b.bound is None:
            return _no_plan(d, b, "the bound's passes ended without the days' copies", t0)
        weight = np.array([d.per_w[p].sum() for p in day_parts(agg, d)]) / d.horizon
        copies = b.copies
        choices: list[tuple[str, Callable[[], dict[str, F64]]]] = [
            ("agreed from the days' copies", lambda: agree(d, copies, weight)),
            ("raised to the most any day lights", lambda: agree(d, copies, weight, up=True))]
        if first is not None and milp_info is not None:
            milp_plan = first
            choices.insert(0, (f"from the MILP on {len(milp_info['days'])} of the typical days", lambda: milp_plan))
        for how, make in choices:
            fixed = make()
            out = _dispatch(agg, fixed, b, bud, iterations, tol, progress, kw)
            tried.append(how)
            if out.infeasible_part is None or (bud.left() is not None and (bud.left() or 0.0) <= 0.0):
                break
    if out.plan is None or out.objective is None:
        why = out.message or f"the dispatch ended {out.status.value}"
        return _no_plan(d, b, why, t0, infeasible=out.infeasible_part is not None)
    fig = dispatch_figures(d, out.plan, fixed)
    method = (f"typical days by day: {b.parts} day LPs with their own halls and placements "
              f"({b.iterations} pricing pass(es)); halls and placements {tried[-1]}"
              f", then dispatched ({out.iterations} pass(es))")
    got = Dispatch(Termination.FEASIBLE, out.plan, seconds=time.perf_counter() - t0, bound=b.bound, method=method)
    res = plan_of_dispatch(d, fig, got)
    res.status = Status.FEASIBLE
    res.blocks = {k: v for k, v in fixed.items() if len(v)}
    res.extra["by_day"] = {
        "bound": b.bound, "bound_passes": b.iterations, "bound_status": b.status.value,
        "dispatch_bound": out.bound, "dispatch_passes": out.iterations, "halls": tried[-1], "tried": tried,
        "days": b.parts, "workers": b.workers, **({"milp": milp_info} if milp_info is not None else {}),
    }
    res.notes.append("typical days solved by day: the bound lets each day light its own halls; the plan lights "
                     "one set for every day (see by_day)")
    return res


def _dispatch(agg: Instance, fixed: Mapping[str, F64], b: DayDispatch, bud: Budget, iterations: int, tol: float,
              progress: bool, kw: dict[str, Any]) -> DayDispatch:
    """The typical days dispatched with ``fixed``, first prices the bound's (its rows that
    stay coupled once the decisions are fixed)."""
    return dispatch_by_day(agg, fixed, budget=bud, prices=b.prices, iterations=iterations, tol=tol,
                           keep_plan=True, progress=progress, strict_prices=False, **kw)


def _no_plan(d: ModelData, b: DayDispatch, why: str, t0: float, *, infeasible: bool = False) -> Result:
    res = Result(instance=d.name, status=Status.TIME_LIMIT, method="typical days by day",
                 objective_name=OBJECTIVE_NAMES[d.objective], objective_value=None, bound=b.bound, gap=None,
                 solve_seconds=time.perf_counter() - t0)
    res.notes.append(f"typical days by day: no plan ({why})"
                     + ("; solve the typical days as one MILP (--typical-solve milp)" if infeasible else ""))
    return res


class _nothing:
    """A context with no Dask client (the parts solved in this process)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def typical_solver(mode: str = "auto", *, workers: int | None = None, scheduler: str | None = None,
                   progress: bool = False, **options: Any) -> Callable[..., Result] | None:
    """The solver of the aggregated instance ``solve --typical-solve MODE`` uses
    (:func:`computeplan.plan.solve.solve`'s ``typical_solver``): ``milp`` (None: one MILP,
    as any instance), ``days`` (:func:`solve_by_day` with these options) or ``auto`` (by day
    when :func:`wants_by_day`). By day, the MILP's own options (``method``, ``mip_gap``,
    ...) do not apply."""
    if mode not in ("auto", "milp", "days"):
        raise UsageError(f"--typical-solve: expected auto, milp or days, got {mode!r}")
    if mode == "milp":
        return None

    def run(agg: Instance, *, budget: Budget | None = None, **milp: Any) -> Result:
        if wants_by_day(build_data(agg), mode):
            res = solve_by_day(agg, budget=budget, workers=workers, scheduler=scheduler, progress=progress,
                               **options)
            if res.has_plan and milp.get("check", True):  # as solve checks the MILP's plan
                from computeplan.plan.verify import check_plan

                check_plan(agg, res, "the typical days' plan by day")
            return res
        from computeplan.plan.solve import solve

        return solve(agg, budget=budget, **milp)

    return run
