"""Typical days (FORMULATION.md section 10, "Representative periods").

A solve on ``K`` representative days of an hourly year, then the full year again:

1. :func:`choose_days`: ``K`` medoid days by k-medoids (FasterPAM) on the days' normalised
   series, each standing for the days closest to it (its weight, the cluster's size);
2. the aggregated instance (:func:`computeplan.io.periods.typical_instance`: ``24 K``
   periods recurring by those weights) solved like any time instance;
3. :func:`full_year`: the plan's halls ``z``, non-divisible placements ``y`` and build
   decisions ``g``, ``m``, ``o`` fixed, every period of the year dispatched with the annual
   targets by a *dispatcher*, and the year's objective, targets and the gap to the
   aggregated objective reported; the year's dispatch is kept as a plan of its own
   (``Result.full_year_plan``, written to ``full-year/``), so ``verify`` recomputes them.

A dispatcher takes the full year's :class:`ModelData`, the fixed decisions by layout block
name (values of the aggregated plan; these blocks do not depend on the periods) and
:class:`SolveOptions`, and returns a :class:`Dispatch`. :func:`dispatch_fixed` is one LP
over every period; another (a decomposition by day, say) can be passed to
:func:`solve_typical` in its place.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.errors import InstanceError
from computeplan.io.periods import (
    day_profiles,
    extreme_days,
    time_axis,
    typical_instance,
    typical_problems,
)
from computeplan.io.schema import Instance
from computeplan.model.build import build_model
from computeplan.model.data import ModelData, build_data
from computeplan.model.layout import STRATEGIC_BLOCKS
from computeplan.model.targets import reports_build
from computeplan.plan.evaluate import Figures, clean_plan, evaluate, target_records
from computeplan.plan.periods import shifted_tflops_hours
from computeplan.plan.result import Result, build_record, result_from_plan
from computeplan.solvers import Budget, SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

F64 = NDArray[np.float64]

#: From this many typical days on, the days of the year's extremes are kept as their own.
EXTREMES_FROM = 4
#: With a time limit, the part of it the typical days' solve may use (the rest is the full year's).
AGGREGATED_SHARE = 0.6
#: Rows of an infeasible full-year dispatch named in the result (largest multipliers first).
ROWS_SHOWN = 20


@dataclass
class Dispatch:
    """The full year dispatched with fixed decisions."""

    status: Termination
    v: F64 | None  # the plan in plan_layout(d)'s columns, when there is one
    rows: dict[str, float] = field(default_factory=dict)  # an infeasibility certificate: row -> multiplier
    seconds: float = 0.0
    bound: float | None = None  # a lower bound of the dispatch's optimum, when the dispatcher proves one
    method: str = "one LP over every period"


#: ``(full-year data, fixed blocks, options) -> Dispatch``
Dispatcher = Callable[[ModelData, Mapping[str, F64], SolveOptions], Dispatch]


def choose_days(inst: Instance, K: int, seed: int = 0, *, extremes: bool = True,
                day_weight: Any = None) -> tuple[list[int], list[Any]]:
    """``K`` medoid days of the instance's hourly table (0-based day positions, in time
    order) and how many days each stands for (with ``day_weight``, the days' weights each
    stands for: e.g. the recurrences of an aggregated instance's days). Deterministic for
    an instance and seed.

    With ``extremes`` and ``K >= EXTREMES_FROM``, the days of the year's peak demand and
    hottest hour (:func:`extreme_days`) are medoids of their own, as tsam's extreme
    periods with a new cluster centre: k-medoids chooses the others among the other days,
    and every day then goes to its nearest medoid."""
    import kmedoids

    X = day_profiles(inst)
    n = X.shape[0]
    dw = np.ones(n) if day_weight is None else np.asarray(day_weight, dtype=float)
    if K >= n:
        return list(range(n)), [1] * n if day_weight is None else dw.tolist()
    sq = np.einsum("ij,ij->i", X, X)
    diss = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2.0 * (X @ X.T), 0.0))
    np.fill_diagonal(diss, 0.0)
    forced = extreme_days(inst)[: K - 1] if extremes and K >= EXTREMES_FROM else []
    rest = np.setdiff1d(np.arange(n), forced)
    fit = kmedoids.fasterpam(diss[np.ix_(rest, rest)], K - len(forced), max_iter=100, init="build",
                             random_state=seed)
    medoids = np.sort(np.r_[rest[np.asarray(fit.medoids, dtype=np.int64)], np.asarray(forced, dtype=np.int64)])
    # each day to its nearest medoid (ties: the earliest), so the weights follow the sorted medoids
    label = np.argmin(diss[:, medoids], axis=1)
    if day_weight is not None:
        return medoids.tolist(), np.bincount(label, weights=dw, minlength=K).tolist()
    return medoids.tolist(), np.bincount(label, minlength=K).tolist()


def dispatch_fixed(d: ModelData, fixed: Mapping[str, F64], options: SolveOptions) -> Dispatch:
    """One LP over every period of ``d`` with the ``fixed`` blocks held at their values
    (integer columns rounded) and the annual targets as rows."""
    t0 = time.perf_counter()
    lp = build_model(d).with_blocks_fixed(fixed)
    out = solve_highs(lp, options, dual_ray=True)
    rows: dict[str, float] = {}
    if out.status == Termination.INFEASIBLE and out.dual_ray is not None:
        from computeplan.plan.verify_infeasible import farkas_evidence

        rows = farkas_evidence(lp.row_names(), out.dual_ray * lp.row_scale())["rows"]
    return Dispatch(out.status, out.v, rows, time.perf_counter() - t0)


def full_year(inst: Instance, res: Result, days: list[int], weights: list[int], *,
              dispatcher: Dispatcher | None = None, options: SolveOptions | None = None
              ) -> tuple[dict[str, Any], Result | None]:
    """``result.json``'s ``time.full_year``: the aggregated plan ``res`` re-evaluated over
    every period of ``inst``, and the year's plan (None when the year was not dispatched).
    ``gap`` is ``(full-year objective - aggregated objective) / |aggregated objective|``:
    positive when the year costs more than the typical days said."""
    ax = time_axis(inst)
    dt = ax.datetime
    out: dict[str, Any] = {
        "objective": None, "status": None, "targets_met": None, "targets": [], "failed": [], "gap": None,
        "aggregated_objective": res.objective_value, "periods": ax.T, "seconds": 0.0,
        "days": [{"day": dd, "weight": w, **({"datetime": dt[24 * dd]} if dt else {})}
                 for dd, w in zip(days, weights, strict=True)],
    }
    if not res.has_plan or res.objective_value is None or not res.blocks:
        return out, None
    d = build_data(inst)
    fixed = {k: v for k, v in res.blocks.items() if k in STRATEGIC_BLOCKS}
    run = dispatcher or dispatch_fixed
    got = run(d, fixed, options or SolveOptions())
    out["status"] = got.status.value
    out["seconds"] = got.seconds
    out["method"] = got.method
    if got.v is not None and got.status.has_plan:
        fig = dispatch_figures(d, got.v, fixed)
        agg = res.objective_value
        out.update(objective=fig.objective_value, **_targets(d, fig),
                   gap=(fig.objective_value - agg) / max(abs(agg), 1e-12))
        if got.bound is not None:
            # the year's dispatch is proved within this much of its own optimum
            out.update(dispatch_bound=got.bound, dispatch_gap=max(fig.objective_value - got.bound, 0.0)
                       / max(abs(fig.objective_value), 1e-12))
        return out, plan_of_dispatch(d, fig, got)
    top = sorted(got.rows.items(), key=lambda kv: -abs(kv[1]))[:ROWS_SHOWN]
    out["rows"] = [name for name, _ in top]
    if got.status == Termination.INFEASIBLE and d.targets:
        # which annual targets the plan cannot meet, and by how much: the year without them
        loose = run(replace(d, targets={}), fixed, options or SolveOptions())
        out["seconds"] += loose.seconds
        if loose.v is not None and loose.status.has_plan:
            fig = dispatch_figures(d, loose.v, fixed)
            out.update(objective_without_targets=fig.objective_value, **_targets(d, fig))
    return out, None


def plan_of_dispatch(d: ModelData, fig: Figures, got: Dispatch) -> Result:
    """A dispatch with fixed decisions (the year's, or the typical days' by day) as a time
    result over its instance, like any other: its records, per-period tables and plan per
    period, and its ``build`` block (the fixed builds). Shadow prices are not worked out
    for it (null)."""
    plan = result_from_plan(d, fig, status=got.status, method=got.method, bound=got.bound, seconds=got.seconds,
                            target_shadow=None, cap_shadow=None,
                            flexibility={"value": None, "objective_without": None,
                                         "shifted_tflops_hours": shifted_tflops_hours(d, fig)})
    if reports_build(d):
        plan.extra["build"] = build_record(d, fig, None, None)
    return plan


def dispatch_figures(d: ModelData, v: F64, fixed: Mapping[str, F64]) -> Figures:
    """The figures of a dispatch with fixed decisions, the build decisions as they were."""
    x, n, z = clean_plan(d, v)
    b = d.build
    return evaluate(d, x, n, z, fixed.get("g", np.zeros(b.n_g)), fixed.get("m", np.zeros(b.n_m)),
                    fixed.get("o", np.zeros(b.n_o)))


def _targets(d: ModelData, fig: Figures) -> dict[str, Any]:
    recs = target_records(d, fig, None)
    return {"targets": [{k: r[k] for k in ("name", "target", "value", "met")} for r in recs],
            "failed": [r["name"] for r in recs if not r["met"]],
            "targets_met": all(bool(r["met"]) for r in recs)}


def typical_days_of(inst: Instance, K: int | None) -> int:
    """The number of typical days asked for (``K`` over the instance's), checked."""
    tb = inst.time
    k = K if K is not None else (tb.typical_days if tb is not None else None)
    assert k is not None
    field = "time.typical_days" if K is None else "time.typical_days (--typical-days)"
    bad = typical_problems(inst, inst.source, k, field)
    if bad:
        raise InstanceError(bad)
    return k


def solve_typical(inst: Instance, K: int | None, solve: Callable[..., Result], *,
                  dispatcher: Dispatcher | None = None, budget: Budget | None = None, seed: int = 0,
                  threads: int | None = None, **solve_options: Any) -> Result:
    """Solve ``inst`` on ``K`` typical days (the instance's ``time.typical_days`` when
    ``K`` is None) with ``solve`` (:func:`computeplan.plan.solve.solve`, which calls this
    one), then re-evaluate the plan over the full year (:func:`full_year`)."""
    t0 = time.perf_counter()
    budget = Budget(None) if budget is None else budget
    k = typical_days_of(inst, K)
    days, weights = choose_days(inst, k, seed=seed)
    agg = typical_instance(inst, days, weights)
    # with a time limit the typical days' solve leaves part of it for the full year
    agg_budget = budget if budget.unlimited else Budget(budget.share(AGGREGATED_SHARE))
    res = solve(agg, budget=agg_budget, seed=seed, threads=threads, **solve_options)
    aggregated_s = time.perf_counter() - t0
    tm = res.extra.setdefault("time", {})
    tm["typical_days"] = k
    fy, res.full_year_plan = full_year(inst, res, days, weights, dispatcher=dispatcher,
                                       options=SolveOptions(threads=threads, time_limit=budget.left()))
    fy["aggregated_seconds"] = aggregated_s
    tm["full_year"] = fy
    if fy["status"] == Termination.INFEASIBLE.value:
        res.notes.append("the full year could not be dispatched with the typical days' plan (infeasible): "
                         "see time.full_year.rows" + (" and .failed" if fy["failed"] else ""))
    elif fy["status"] is not None and fy["objective"] is None:
        res.notes.append(f"the full-year re-evaluation ended without a plan (status {fy['status']})")
    elif fy["targets_met"] is False:
        res.notes.append("over the full year the typical days' plan misses target(s): " + ", ".join(fy["failed"]))
    if res.full_year_plan is not None and solve_options.get("check", True):
        _check_year(inst, res, budget)
    res.solve_seconds = time.perf_counter() - t0
    return res


def _check_year(inst: Instance, res: Result, budget: Budget) -> None:
    """The year's plan through the independent check, as ``solve`` checks its own plan
    (skipped, with a note, when the time limit has run out)."""
    left = budget.left()
    if left is not None and left <= 0:
        res.notes.append("time limit: skipped the independent check of the year's plan "
                         "(run computeplan verify on the written result)")
        return
    from computeplan.plan.verify import check_plan

    assert res.full_year_plan is not None
    check_plan(inst, res.full_year_plan, "the full-year dispatch's plan")
