"""Typical days on ``shanghai-2025-hourly``: K = 4, 12, 24, 48 representative days of the
8,760-hour year, then the plan re-evaluated over every hour by day
(:func:`computeplan.analysis.fullyear.day_dispatcher`: one LP per day on Dask workers, the
annual targets priced from the typical days' duals), with its own lower bound and gap.

``extra_info`` holds the aggregated solve's seconds, status and MILP gap, the full-year
re-evaluation's seconds and status, the aggregated and full-year objectives, the gap
``(full year - aggregated) / |aggregated|``, whether every annual target still holds,
the dispatch's lower bound and gap, and the load average before the run.
The aim: K = 12 solved in <= 60 s with a gap <= 1 %.

Run: ``pytest benchmarks/test_typical_bench.py --benchmark-only -s``. Environment:
``TYPICAL_BENCH_K`` (comma-separated K, default ``4,12,24,48``);
``TYPICAL_BENCH_AGG_LIMIT`` (seconds of the aggregated solve, default 60);
``TYPICAL_BENCH_YEAR_LIMIT`` (seconds of the full-year re-evaluation, default 900);
``TYPICAL_BENCH_MIP_GAP`` (the aggregated MILP's relative gap, default 5e-3: half the
1 % the aim allows); ``TYPICAL_BENCH_WORKERS`` (Dask workers, default 2);
``TYPICAL_BENCH_SOLVE`` (how the typical days' model is solved: ``auto``, the default, as
``solve`` does; ``milp``; ``days``, :mod:`computeplan.analysis.typical_byday`);
``TYPICAL_BENCH_YEAR_PASSES`` (the full year's pricing passes, default 4).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import computeplan
from computeplan.analysis.fullyear import day_dispatcher
from computeplan.model.data import ModelData
from computeplan.plan.typical import AGGREGATED_SHARE, Dispatch
from computeplan.solvers import SolveOptions

ROOT = Path(__file__).resolve().parents[1]
HOURLY = ROOT / "instances" / "shanghai-2025-hourly.yaml"
KS = [int(k) for k in os.environ.get("TYPICAL_BENCH_K", "4,12,24,48").split(",")]
AGG_LIMIT = float(os.environ.get("TYPICAL_BENCH_AGG_LIMIT", "60"))
YEAR_LIMIT = float(os.environ.get("TYPICAL_BENCH_YEAR_LIMIT", "900"))
MIP_GAP = float(os.environ.get("TYPICAL_BENCH_MIP_GAP", "5e-3"))
WORKERS = int(os.environ.get("TYPICAL_BENCH_WORKERS", "2"))
SOLVE = os.environ.get("TYPICAL_BENCH_SOLVE", "auto")
YEAR_PASSES = int(os.environ.get("TYPICAL_BENCH_YEAR_PASSES", "4"))


def _progress(t: float, incumbent: float | None, bound: float | None) -> None:
    """MILP progress on stderr (a long run shows where it is)."""
    print(f"  {t:8.1f} s  incumbent {incumbent}  bound {bound}", file=sys.stderr, flush=True)


@pytest.fixture(scope="module")
def hourly() -> computeplan.Instance:
    return computeplan.load_instance(HOURLY)


@pytest.mark.parametrize("K", KS)
def test_typical_days_shanghai_hourly(benchmark: Any, hourly: computeplan.Instance, K: int) -> None:
    from computeplan.analysis.typical_byday import typical_solver

    by_day = day_dispatcher(hourly, workers=WORKERS, progress=True, iterations=YEAR_PASSES, tol=1e-3)
    agg_solver = typical_solver(SOLVE, workers=WORKERS, progress=True)

    def year(d: ModelData, fixed: Mapping[str, np.ndarray], options: SolveOptions) -> Dispatch:
        # the year gets its own budget, not what the aggregated solve left
        return by_day(d, fixed, replace(options, time_limit=YEAR_LIMIT))

    def run() -> computeplan.Result:
        return computeplan.solve(hourly, typical_days=K, time_limit=AGG_LIMIT / AGGREGATED_SHARE, mip_gap=MIP_GAP,
                                 flex_value=False, progress=_progress, dispatcher=year, typical_solver=agg_solver)

    load = os.getloadavg()
    t0 = time.perf_counter()
    res = benchmark.pedantic(run, rounds=1, iterations=1)
    total = time.perf_counter() - t0
    fy = res.full_year
    assert fy is not None and res.typical_days == K
    info = {
        "K": K, "status": res.status.value, "aggregated_objective": res.objective_value,
        "aggregated_bound": res.bound, "aggregated_gap": res.gap,
        "aggregated_seconds": fy["aggregated_seconds"], "full_year_seconds": fy["seconds"],
        "full_year_status": fy["status"], "full_year_objective": fy["objective"], "gap": fy["gap"],
        "targets_met": fy["targets_met"], "failed": fy["failed"], "dispatch_bound": fy.get("dispatch_bound"),
        "dispatch_gap": fy.get("dispatch_gap"), "method": fy.get("method"), "total_seconds": total,
        "load_before": load, "load_after": os.getloadavg(), "days": fy["days"], "solve": res.method,
        "by_day": res.extra.get("by_day"),
    }
    benchmark.extra_info.update(info)
    print("\n" + " ".join(f"{k}={v}" for k, v in info.items() if k != "days"), flush=True)


@pytest.mark.parametrize("K", KS)
def test_typical_days_relaxation(benchmark: Any, hourly: computeplan.Instance, K: int) -> None:
    """The aggregated model's LP relaxation on K typical days, as ``solve`` builds it
    (interchangeable workloads merged): its seconds and simplex iterations, the root of
    the MILP above. ``TYPICAL_BENCH_K=2,4,12 pytest benchmarks/test_typical_bench.py -k
    relaxation --benchmark-only -s``."""
    from computeplan.io.periods import typical_instance
    from computeplan.model.build import build_model
    from computeplan.model.data import build_data
    from computeplan.model.reduce import merge_interchangeable
    from computeplan.plan.typical import choose_days
    from computeplan.solvers import Termination
    from computeplan.solvers.highs import solve_highs

    agg = typical_instance(hourly, *choose_days(hourly, K))
    d = build_data(agg)
    red = merge_interchangeable(agg, d)
    m = build_model(d if red is None else red.data)
    load = os.getloadavg()
    out = benchmark.pedantic(lambda: solve_highs(m, SolveOptions(relax=True)), rounds=1, iterations=1)
    assert out.status == Termination.OPTIMAL and out.objective is not None
    info = {"K": K, "periods": 24 * K, "rows": m.n_rows, "columns": m.n_cols, "integers": int(m.integer.sum()),
            "seconds": out.seconds, "iterations": out.info.get("iterations"),
            "bound": out.objective * m.scale + 0.0, "load_before": load, "load_after": os.getloadavg()}
    benchmark.extra_info.update(info)
    print("\n" + " ".join(f"{k}={v}" for k, v in info.items()), flush=True)
