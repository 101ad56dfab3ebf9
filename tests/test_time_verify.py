"""The independent check over periods: every per-period figure recomputed from the
instance and the plan per period (``time.dispatch``, ``time.servers_on``); a tampered
result is rejected with the figure named."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import computeplan

TEACHING = Path(__file__).resolve().parent.parent / "instances" / "teaching"


@pytest.fixture(scope="module")
def flex() -> tuple[Any, dict[str, Any]]:
    inst = computeplan.load_instance(TEACHING / "flex-cheap-hours.yaml")
    return inst, computeplan.solve(inst).to_dict()


@pytest.fixture(scope="module")
def hot() -> tuple[Any, dict[str, Any]]:
    inst = computeplan.load_instance(TEACHING / "hot-afternoon.yaml")
    return inst, computeplan.solve(inst).to_dict()


@pytest.fixture(scope="module")
def grid() -> tuple[Any, dict[str, Any]]:
    inst = computeplan.load_instance(TEACHING / "grid-cap.yaml")
    return inst, computeplan.solve(inst).to_dict()


def rejected(inst: Any, d: dict[str, Any], *words: str) -> list[str]:
    bad = computeplan.verify(inst, d)
    assert bad, "the tampered result was accepted"
    for w in words:
        assert any(w in b for b in bad), f"{w!r} not in {bad}"
    return bad


def test_untampered_results_pass(flex, hot, grid):
    for inst, d in (flex, hot, grid):
        assert computeplan.verify(inst, d) == []


def test_serving_more_than_max_rate_in_an_hour(flex):
    inst, d = flex
    d = copy.deepcopy(d)
    disp = d["time"]["dispatch"]
    # move the whole of hour 1 into hour 0: 40 TFLOPS in one hour, twice max_rate x demand
    i0, i1 = disp["period"].index(0), disp["period"].index(1)
    disp["share"][i0] += disp["share"][i1]
    disp["share"][i1] = 0.0
    rejected(inst, d, "period 0", "max_rate")


def test_a_window_that_does_not_balance(flex):
    inst, d = flex
    d = copy.deepcopy(d)
    disp = d["time"]["dispatch"]
    disp["share"][0] *= 0.5
    rejected(inst, d, "window 0")


def test_inflexible_work_off_its_shape(hot):
    inst, d = hot
    d = copy.deepcopy(d)
    d["time"]["dispatch"]["share"][3] = 0.9
    rejected(inst, d, "workload w1: period 3")


def test_reported_energy_and_peak_recomputed_with_cooling(hot):
    inst, d = hot
    d = copy.deepcopy(d)
    d["indicators"]["energy_kwh"] = 6 * 4 * 120.0  # as if the facility ran at its rating all day
    d["sites"][0]["peak_facility_kw"] = 135.0
    d["sites"][0]["peak_period"] = 1
    rejected(inst, d, "indicators.energy_kwh", "sites[s1].peak_facility_kw", "sites[s1].peak_period")


def test_fleet_pue_is_energy_weighted(hot):
    inst, d = hot
    d = copy.deepcopy(d)
    d["indicators"]["fleet_pue"] = (1.2 + 1.35 + 1.5 + 1.5) / 4 + 0.01
    rejected(inst, d, "indicators.fleet_pue")


def test_grid_cap_exceeded(grid):
    inst, d = grid
    d = copy.deepcopy(d)
    disp = d["time"]["dispatch"]
    # all of period 0 on the cheap site: 80 kW against a 50 kW connection
    for k in range(len(disp["period"])):
        if disp["period"][k] == 0:
            disp["share"][k] = 1.0 if disp["site"][k] == "cheap" else 0.0
    srv = d["time"]["servers_on"]
    for k in range(len(srv["period"])):
        if srv["period"][k] == 0:
            srv["servers"][k] = 80.0 if srv["site"][k] == "cheap" else 0.0
    rejected(inst, d, "over grid_kw")


def test_servers_on_below_busy_in_a_period(grid):
    inst, d = grid
    d = copy.deepcopy(d)
    d["time"]["servers_on"]["servers"][0] = 10.0
    rejected(inst, d, "period 0", "servers on")


def test_assignment_shares_must_be_the_mean_of_the_dispatch(grid):
    inst, d = grid
    d = copy.deepcopy(d)
    d["assignments"][0]["share"] += 0.1
    d["assignments"][0]["tflops"] = d["assignments"][0]["share"] * 80
    rejected(inst, d, "share")


def test_flexibility_figures(flex):
    inst, d = flex
    d = copy.deepcopy(d)
    d["time"]["flexibility"]["shifted_tflops_hours"] = 60.0
    d["time"]["flexibility"]["value"] = 10.0
    rejected(inst, d, "time.flexibility.shifted_tflops_hours", "time.flexibility.value")


def test_missing_plan_per_period(flex):
    inst, d = flex
    d = copy.deepcopy(d)
    del d["time"]["dispatch"]
    rejected(inst, d, "time.dispatch")
    d = copy.deepcopy(flex[1])
    del d["time"]
    rejected(inst, d, "time: section missing")


def test_infeasible_grid_claim_is_proven_independently():
    raw = yaml.safe_load((TEACHING / "grid-cap.yaml").read_text())
    raw["sites"] = raw["sites"][:1]
    raw["sites"][0]["grid_kw"] = 60  # the infeasible variant of its header
    inst = computeplan.load_instance(raw)
    d = computeplan.solve(inst).to_dict()
    assert d["status"] == "infeasible" and d["evidence"]["kind"] == "farkas"
    assert computeplan.verify(inst, d) == []
    # without the certificate the independent elastic model confirms it
    d.pop("evidence")
    assert computeplan.verify(inst, d) == []
    # a feasible instance claimed infeasible is refuted
    ok = computeplan.load_instance(TEACHING / "grid-cap.yaml")
    assert computeplan.verify(ok, d) != []


def test_verify_imports_no_engine_module():
    code = ("import sys, computeplan.plan.verify as v; "
            "inst = v.load_instance(sys.argv[1]); "
            "engine = [m for m in sys.modules if m.startswith(('computeplan.model.build', "
            "'computeplan.model.data', 'computeplan.model.expressions', 'computeplan.plan.evaluate', "
            "'computeplan.solvers.highs'))]; print(engine)")
    out = subprocess.run([sys.executable, "-c", code, str(TEACHING / "hot-afternoon.yaml")], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]"
