"""Build time and memory of the model over periods, on two fleets with 24, 168 and 8,760
hourly periods: the Shanghai fleet with a generated time block (a time-of-use tariff, a
temperature curve, demand shapes per class, training work flexible within a day), and a
generated 200-workload x 20-site fleet (``computeplan generate 200 20 --hours N``).

The build should grow linearly with the number of periods: ``extra_info`` holds the
columns, rows and non-zeros, the build's CPU seconds per period and the peak memory the
build allocates (tracemalloc), so a run over the three sizes shows the slope. At 24 and
168 periods ``test_time_build_share`` also solves the model and reports the build's share
of build + solve (the aim: under 10 %).

Run: ``pytest benchmarks/test_time_bench.py --benchmark-only`` (8,760 periods builds
a model of some 11 million columns on the Shanghai fleet: about 4 GB of memory;
``-k "not 8760"`` skips it).
"""

from __future__ import annotations

import math
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml

import computeplan
from computeplan.model.build import build_model
from computeplan.model.data import build_data

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ROOT / "instances" / "shanghai-2025.yaml"


def time_block(hours: int) -> dict[str, Any]:
    """Hourly periods: a three-level tariff, a daily and yearly temperature swing, and
    demand shapes (inference follows people, training is flat and may wait a day)."""
    tou, temp, infer, flat = [], [], [], []
    for t in range(hours):
        h, day = t % 24, t // 24
        tou.append(0.30 if h < 8 else 1.05 if 10 <= h < 15 or 18 <= h < 21 else 0.70)
        temp.append(17.0 - 10.0 * math.cos(2 * math.pi * (day - 20) / 365) + 5.0 * math.sin(2 * math.pi * (h - 9) / 24))
        infer.append(0.5 + 0.8 * math.exp(-((h - 20) ** 2) / 18.0) + 0.5 * math.exp(-((h - 11) ** 2) / 8.0))
        flat.append(1.0)
    return {"periods": {"tou": tou, "temp": temp, "infer": infer, "flat": flat},
            "demand": {"ai-inference": "infer", "general": "infer"}}


def timed_instance(hours: int, *, pue_targets: bool = True) -> computeplan.Instance:
    """The Shanghai fleet over ``hours`` periods. Its PUE caps are annual but the cooling
    uplift of a few summer-weighted days breaks them; ``pue_targets=False`` drops them so
    a short horizon has a plan to solve for."""
    from computeplan.io.schema import Cooling

    raw = yaml.safe_load(SHANGHAI.read_text())
    if not pue_targets:
        for key in ("fleet_pue_max", "site_pue_max"):
            raw["targets"].pop(key, None)
    raw["time"] = time_block(hours)
    raw["time"]["zones"] = {z: {"price_per_kwh": "tou", "temperature_c": "temp"} for z in raw["zones"]}
    raw["horizon_hours"] = float(hours)
    inst = computeplan.load_instance(raw, base_dir=SHANGHAI.parent)
    facilities = {name: f.model_copy(update={"cooling": Cooling(free_below_c=12.0, design_c=35.0,
                                                                   pue_full_at_design=f.pue_full + 0.25)})
                  for name, f in inst.facilities.items()}
    workloads = [w.model_copy(update={"flex_window_hours": 24}) if w.class_ == "ai-training" else w
                 for w in inst.workloads]
    return inst.model_copy(update={"facilities": facilities, "workloads": workloads})


def generated_instance(hours: int) -> computeplan.Instance:
    from computeplan.io.generate import generate_instance

    return computeplan.load_instance(generate_instance(200, 20, seed=11, hours=hours))


FLEETS = {"shanghai": timed_instance, "generated-200x20": generated_instance}
def shanghai_solvable(hours: int) -> computeplan.Instance:
    """Without the annual PUE caps and at 60 % of the demand: the inference shape's evening
    peak is otherwise beyond several sites' capacity."""
    inst = timed_instance(hours, pue_targets=False)
    return inst.model_copy(update={"workloads": [w.model_copy(update={"demand_tflops": 0.6 * w.demand_tflops})
                                                 for w in inst.workloads]})


SOLVABLE = {"shanghai": shanghai_solvable, "generated-200x20": generated_instance}


@pytest.mark.parametrize("hours", [24, 168, 8760])
@pytest.mark.parametrize("fleet", sorted(FLEETS))
def test_time_build(benchmark, fleet, hours):
    inst = FLEETS[fleet](hours)
    d = build_data(inst)
    tracemalloc.start()
    t0 = time.process_time()
    m = build_model(d)
    first = time.process_time() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del m
    m = benchmark.pedantic(lambda: build_model(d), rounds=1 if hours > 1000 else 3, iterations=1)
    benchmark.extra_info.update(periods=d.n_periods, candidates=d.n_cand, columns=m.n_cols, rows=m.n_rows,
                                nonzeros=int(m.A.nnz), first_build_s=first,
                                build_s_per_period=first / d.n_periods, peak_mb=peak / 2**20)
    assert m.n_cols >= d.n_cand * d.n_periods


@pytest.mark.parametrize("hours", [24, 168])
@pytest.mark.parametrize("fleet", sorted(FLEETS))
def test_time_build_share(benchmark, fleet, hours):
    """Build and solve in the same run: the build's share of the two (CPU seconds)."""
    inst = SOLVABLE[fleet](hours)
    d = build_data(inst)
    t0 = time.process_time()
    build_model(d)
    build_s = time.process_time() - t0
    t0 = time.process_time()
    res = benchmark.pedantic(lambda: computeplan.solve(inst, flex_value=False, mip_gap=1e-4), rounds=1,
                             iterations=1)
    solve_s = time.process_time() - t0
    benchmark.extra_info.update(periods=d.n_periods, status=res.status, objective=res.objective_value,
                                build_cpu_s=build_s, solve_cpu_s=solve_s, build_share=build_s / solve_s)
    assert res.status in ("optimal", "feasible")
