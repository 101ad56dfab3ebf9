"""The full-year dispatch decomposed by day (analysis/dayparts.py) on 1 and 2 Dask workers.

Two fleets: a generated 200-workload x 20-site fleet over 28 days of hourly periods, and
the Shanghai hourly fleet (instances/shanghai-2025-hourly) over its first days (the
number set by ``COMPUTEPLAN_DAYPARTS_DAYS``, default 14). The fixed decisions (halls,
indivisible placements) are the MILP's on the first day alone, with the annual targets
over that day, as a typical-day plan would give them. The first prices are 4 typical
days' LP duals (``COMPUTEPLAN_DAYPARTS_PRICES=0``: none), their LP timed with the rest.
``extra_info`` holds the wall time, the bounds, the gap, the passes, the machine's load
average before the run and the workers; the 1 -> 2 worker speed-up is the ratio of the
two rows' times. ``test_full_year`` (only with ``COMPUTEPLAN_YEAR=1``) dispatches the
whole year with a typical-days plan and certifies its gap against the year's bound.

Run: ``pytest benchmarks/test_dayparts_bench.py --benchmark-only -s``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import computeplan
from computeplan.analysis.daypart_lp import FIXED_BLOCKS
from computeplan.analysis.dayparts import dispatch_by_day
from computeplan.analysis.parallel import dask_client
from computeplan.io.generate import generate_instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.model.subset import period_subset
from computeplan.solvers import SolveOptions
from computeplan.solvers.highs import solve_highs

ROOT = Path(__file__).resolve().parents[1]
HOURLY = ROOT / "instances" / "shanghai-2025-hourly.yaml"
SHANGHAI_DAYS = int(os.environ.get("COMPUTEPLAN_DAYPARTS_DAYS", "14"))
GENERATED_DAYS = 28
ITERATIONS = 50
PRICES = os.environ.get("COMPUTEPLAN_DAYPARTS_PRICES", "1") == "1"  # first prices: 4 typical days' duals


def first_days(days: int) -> computeplan.Instance:
    """The Shanghai hourly instance over its first ``days`` days."""
    raw = yaml.safe_load(HOURLY.read_text())
    table = pd.read_parquet(HOURLY.parent / raw["time"]["periods"]["parquet"]).iloc[: 24 * days]
    raw["time"]["periods"] = {c: table[c].tolist() for c in table.columns}
    raw["horizon_hours"] = float(24 * days)
    return computeplan.load_instance(raw, base_dir=HOURLY.parent)


def first_day_decisions(inst: computeplan.Instance, time_limit: float = 120.0) -> dict[str, np.ndarray]:
    """The halls and indivisible placements of the MILP over the first day only."""
    d = build_data(inst)
    m = build_model(period_subset(d, np.arange(24)))
    out = solve_highs(m, SolveOptions(time_limit=time_limit, mip_gap=1e-4))
    assert out.v is not None, out.status
    return {k: v.copy() for k, v in m.split(out.v).items() if k in FIXED_BLOCKS and len(v)}


_CASES: dict[str, tuple[computeplan.Instance, dict[str, np.ndarray]]] = {}


def _case(name: str) -> tuple[computeplan.Instance, dict[str, np.ndarray]]:
    if name not in _CASES:
        if name == "generated":
            raw = generate_instance(200, 20, seed=0, hours=24 * GENERATED_DAYS)
            raw["targets"] = {"fleet_pue_max": 1.3}
            inst = computeplan.load_instance(raw)
        else:
            inst = first_days(SHANGHAI_DAYS)
        _CASES[name] = (inst, first_day_decisions(inst))
    return _CASES[name]


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("fleet", ["generated", "shanghai"])
def test_dayparts(benchmark: Any, fleet: str, workers: int) -> None:
    from computeplan.analysis.fullyear import typical_prices

    inst, fixed = _case(fleet)
    load = os.getloadavg()[0]
    with dask_client(workers=workers) as c:
        t0 = time.perf_counter()
        prices = typical_prices(inst, fixed) if PRICES else None
        out = benchmark.pedantic(lambda: dispatch_by_day(inst, fixed, client=c, iterations=ITERATIONS, prices=prices,
                                                         progress=False), rounds=1, iterations=1)
        wall = time.perf_counter() - t0
    benchmark.extra_info.update(
        fleet=fleet, workers=workers, days=out.parts, periods=inst.time.periods and len(next(iter(
            inst.time.periods.values()))), coupling_rows=out.coupling_rows, passes=out.iterations,
        status=str(out.status), upper_bound=out.objective, lower_bound=out.bound, gap=out.gap,
        seconds=wall, pass_seconds=[h["seconds"] for h in out.history], load_before=load, message=out.message)
    print(f"\n{fleet} {workers} worker(s): {out.parts} days, {out.coupling_rows} coupling rows, "
          f"{out.iterations} passes, {wall:.1f} s, status {out.status}, bound {out.bound}, "
          f"objective {out.objective}, gap {out.gap}, load {load:.2f} {out.message}")
    assert out.bound is not None


# --- the whole year: a typical-days plan re-evaluated by day, and certified against a bound ---

YEAR_K = int(os.environ.get("COMPUTEPLAN_YEAR_K", "4"))
YEAR_AGG_LIMIT = float(os.environ.get("COMPUTEPLAN_YEAR_AGG_LIMIT", "600"))
YEAR_LIMIT = float(os.environ.get("COMPUTEPLAN_YEAR_LIMIT", "900"))
YEAR_WORKERS = [int(w) for w in os.environ.get("COMPUTEPLAN_YEAR_WORKERS", "2").split(",")]
YEAR_PLAN = os.environ.get("COMPUTEPLAN_YEAR_PLAN")  # .npz of the typical-days plan: reused, or written


def typical_plan(inst: computeplan.Instance) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """The plan of ``YEAR_K`` typical days (the aggregated MILP at a 0.5 % gap), read from
    ``COMPUTEPLAN_YEAR_PLAN`` when that file exists, else solved (and written there)."""
    from computeplan.io.periods import typical_instance
    from computeplan.plan.typical import choose_days

    if YEAR_PLAN and Path(YEAR_PLAN).exists():
        z = np.load(YEAR_PLAN)
        return {k: z[k] for k in z.files if k in FIXED_BLOCKS}, {"plan_from": YEAR_PLAN}
    days, weights = choose_days(inst, YEAR_K)
    t0 = time.perf_counter()
    res = computeplan.solve(typical_instance(inst, days, weights), time_limit=YEAR_AGG_LIMIT, mip_gap=5e-3,
                            flex_value=False)
    info = {"aggregated_seconds": time.perf_counter() - t0, "aggregated_status": res.status.value,
            "aggregated_objective": res.objective_value, "aggregated_gap": res.gap, "K": YEAR_K}
    assert res.has_plan, res.status
    fixed = {k: v for k, v in res.blocks.items() if k in FIXED_BLOCKS and len(v)}
    if YEAR_PLAN:
        np.savez(YEAR_PLAN, **fixed)
    return fixed, info


@pytest.mark.parametrize("workers", YEAR_WORKERS)
def test_full_year(benchmark: Any, workers: int) -> None:
    """The 8,760 hours of ``shanghai-2025-hourly`` dispatched by day with a typical-days
    plan fixed (first prices: the typical days' duals), then, with every decision free,
    the year's lower bound: the plan's certified gap. Run only when asked
    (``COMPUTEPLAN_YEAR=1``): tens of minutes on 2 cores."""
    if os.environ.get("COMPUTEPLAN_YEAR") != "1":
        pytest.skip("set COMPUTEPLAN_YEAR=1 to dispatch the whole year")
    from computeplan.analysis.fullyear import typical_prices

    inst = computeplan.load_instance(HOURLY)
    fixed, info = typical_plan(inst)
    load = os.getloadavg()
    with dask_client(workers=workers) as c:
        t0 = time.perf_counter()
        prices = typical_prices(inst, fixed, YEAR_K)
        info["prices_seconds"] = time.perf_counter() - t0
        out = benchmark.pedantic(lambda: dispatch_by_day(inst, fixed, client=c, prices=prices, time_limit=YEAR_LIMIT,
                                                         tol=1e-4, progress=True), rounds=1, iterations=1)
        info["dispatch_seconds"] = time.perf_counter() - t0
        info.update(workers=workers, days=out.parts, coupling_rows=out.coupling_rows, passes=out.iterations,
                    status=str(out.status), upper_bound=out.objective, dispatch_bound=out.bound, dispatch_gap=out.gap,
                    targets_met=out.targets_met, history=out.history, message=out.message, load_before=load,
                    load_after_dispatch=os.getloadavg())
        print(f"\nyear by day, {workers} worker(s): {info}", flush=True)
        if os.environ.get("COMPUTEPLAN_YEAR_BOUND", "1") == "1" and out.objective is not None:
            lb = _year_bound(inst, c, info)
            info["certified_gap"] = None if lb.bound is None else (out.objective - lb.bound) / abs(out.objective)
            print(f"certified gap {info['certified_gap']}", flush=True)
    benchmark.extra_info.update({k: v for k, v in info.items() if k != "history"})
    assert out.bound is not None


def _year_bound(inst: computeplan.Instance, c: Any, info: dict[str, Any]) -> Any:
    """The year's lower bound, every decision free (first prices: the typical days' LP relaxation)."""
    from computeplan.analysis.dayparts import year_lower_bound
    from computeplan.analysis.fullyear import typical_prices

    t1 = time.perf_counter()
    free = typical_prices(inst, None, YEAR_K)
    lb = year_lower_bound(inst, client=c, prices=free, time_limit=YEAR_LIMIT, tol=1e-4, progress=True)
    info.update(year_bound_seconds=time.perf_counter() - t1, year_bound=lb.bound, year_bound_status=str(lb.status),
                year_bound_passes=lb.iterations, year_bound_history=lb.history, year_bound_message=lb.message,
                load_after_bound=os.getloadavg())
    print(f"\nyear lower bound, {info.get('workers')} worker(s): {info}", flush=True)
    return lb


@pytest.mark.parametrize("workers", YEAR_WORKERS)
def test_year_lower_bound(benchmark: Any, workers: int) -> None:
    """The year's lower bound alone (``COMPUTEPLAN_YEAR=1``): every decision free, by day."""
    if os.environ.get("COMPUTEPLAN_YEAR") != "1":
        pytest.skip("set COMPUTEPLAN_YEAR=1 to bound the whole year")
    inst = computeplan.load_instance(HOURLY)
    info: dict[str, Any] = {"workers": workers, "load_before": os.getloadavg()}
    with dask_client(workers=workers) as c:
        lb = benchmark.pedantic(lambda: _year_bound(inst, c, info), rounds=1, iterations=1)
    benchmark.extra_info.update({k: v for k, v in info.items() if k != "year_bound_history"})
    assert lb.bound is not None
