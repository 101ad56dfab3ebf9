"""The full-year dispatch decomposed by day (analysis/dayparts.py) on 1 and 2 Dask workers.

Two fleets: a generated 200-workload x 20-site fleet over 28 days of hourly periods, and
the Shanghai hourly fleet (instances/shanghai-2025-hourly) over its first days (the
number set by ``COMPUTEPLAN_DAYPARTS_DAYS``, default 14). The fixed decisions (halls,
indivisible placements) are the MILP's on the first day alone, with the annual targets
over that day, as a typical-day plan would give them. ``extra_info`` holds the wall
time, the bounds, the gap, the passes, the machine's load average before the run and
the workers; the 1 -> 2 worker speed-up is the ratio of the two rows' times.

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
    inst, fixed = _case(fleet)
    load = os.getloadavg()[0]
    with dask_client(workers=workers) as c:
        t0 = time.perf_counter()
        out = benchmark.pedantic(lambda: dispatch_by_day(inst, fixed, client=c, iterations=ITERATIONS,
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
