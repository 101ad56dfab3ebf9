"""The report's time section on a year of hourly periods: 8,760 periods x 20 sites and
5 workload classes (a synthetic result, no solve), the four charts and the peaks table
computed from the tables and drawn as inline SVG.

Run: ``pytest benchmarks/test_report_time_bench.py --benchmark-only``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from computeplan.plan.result import Result, Status
from computeplan.present import report as rp
from computeplan.present.report_time import time_section

T, S, C = 8760, 20, 5


@pytest.fixture(scope="module")
def year() -> Result:
    rng = np.random.default_rng(1)
    hour = np.arange(T) % 24
    it = 1000 + 400 * np.sin(2 * np.pi * hour / 24)[:, None] + 50 * rng.random((T, S))
    pue = 1.2 + 0.1 * np.sin(2 * np.pi * np.arange(T) / T)[:, None] + 0.02 * rng.random((T, S))
    stamps = pd.date_range("2025-01-01", periods=T, freq="h").strftime("%Y-%m-%dT%H:%M").to_numpy()
    periods = pd.DataFrame({
        "period": np.repeat(np.arange(T), S), "datetime": np.repeat(stamps, S),
        "site": np.tile([f"s{j}" for j in range(S)], T), "it_kw": it.ravel(), "facility_kw": (it * pue).ravel(),
        "pue": pue.ravel(), "price_per_kwh": np.repeat(0.3 + 0.2 * (hour >= 8), S),
        "carbon_kg_per_kwh": 0.5, "temperature_c": np.nan, "hours": 1.0, "weight": 1.0})
    demand = 1e5 * (1 + 0.3 * np.sin(2 * np.pi * hour / 24))
    served = pd.DataFrame({"period": np.repeat(np.arange(T), C), "class": np.tile([f"c{k}" for k in range(C)], T),
                           "served_tflops": np.repeat(demand, C) * (1 + 0.1 * rng.random(T * C)),
                           "demand_tflops": np.repeat(demand, C)})
    peak = it.max(axis=0) * 1.3
    sites = [{"id": f"s{j}", "tier": "hyperscale", "it_capacity_kw": 2000.0, "peak_facility_kw": float(peak[j]),
              "peak_period": int(np.argmax(it[:, j])), "grid_kw": 2000.0 if j % 2 else None} for j in range(S)]
    return Result(instance="year", status=Status.OPTIMAL, method="lp", objective_name="cost", objective_value=1.0,
                  bound=1.0, gap=0.0, solve_seconds=0.0, site_records=sites,
                  tables={"periods": periods, "served": served})


def test_report_time_section_year(benchmark, year):  # type: ignore[no-untyped-def]
    html = benchmark.pedantic(lambda: time_section(year, rp._table, rp._figure, rp._svg), rounds=1, iterations=1)
    assert html.count('role="img"') == 4
