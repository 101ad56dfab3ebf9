"""The infeasibility diagnosis: its amounts, checked by hand, and its promise, checked by
applying it: every move it proposes, applied together to the instance, makes the
instance feasible (property tests over small random infeasible instances: continuous
ones, and ones where only whole decisions fail, diagnosed by the elastic MILP)."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st

import computeplan
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.plan.result import Result
from computeplan.solvers import Termination
from computeplan.solvers.highs import solve_highs

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"
MARGIN = 1e-6  # relative safety margin on every applied move


def moves_of(res: Result, kind: str) -> list[dict[str, Any]]:
    return [m for m in res.diagnosis["moves"] if m["kind"] == kind]


def apply_moves(raw: dict[str, Any], moves: list[dict[str, Any]]) -> dict[str, Any]:
    """The instance with every move applied (each widened by ``MARGIN``)."""
    out = copy.deepcopy(raw)
    sites = {s["id"]: s for s in out["sites"]}
    work = {w["id"]: w for w in out["workloads"]}
    for mv in moves:
        if mv["kind"] == "demand":
            w = work[mv["workload"]]
            w["demand_tflops"] -= mv["unserved_tflops"] + MARGIN * w["demand_tflops"]
            if w["demand_tflops"] <= MARGIN * mv["unserved_tflops"]:  # none of it can be served
                out["workloads"].remove(w)
        elif mv["kind"] == "capacity":
            s = sites[mv["site"]]
            s["it_capacity_kw"] += mv["extra_kw"] + MARGIN * s["it_capacity_kw"]
        elif mv["kind"] == "servers":
            pool = sites[mv["site"]]["servers"]
            have = pool[mv["hardware"]]
            # whole servers, no margin: a server more than needed can break a utilisation floor
            pool[mv["hardware"]] = have + math.ceil(mv["extra_servers"] - 1e-6)
        elif mv["kind"] == "target":
            name, _, key = mv["target"].partition("[")
            loosen = 1 + MARGIN if name.endswith("_max") else 1 - MARGIN
            if mv["to"] is None:  # no value will do: the target must go
                assert "cannot" in mv["message"], mv
                out["targets"].pop(name, None)
            elif key:  # a site's own key of a keyed target
                out["targets"][name][key.rstrip("]")] = mv["to"] * loosen
            else:
                out["targets"][name] = mv["to"] * loosen
        else:  # pragma: no cover - a new kind of move must be taught to this test
            raise AssertionError(f"unknown move {mv}")
    return out


# ----------------------------------------------------------------------------- by hand


def test_teaching_infeasible_shortfall_is_the_hand_worked_5000_tflops() -> None:
    """instances/teaching/infeasible.yaml: 500 kW runs 200 busy servers (2.5 kW each) =
    20,000 of 25,000 TFLOPS, so 5,000 TFLOPS of w1 cannot be served (header)."""
    res = computeplan.solve(TEACHING / "infeasible.yaml")
    assert res.status == "infeasible" and res.objective_value is None
    assert res.diagnosis["method"].startswith("elastic LP")
    moves = res.diagnosis["moves"]
    assert len(moves) == 1, moves
    (mv,) = moves
    assert mv["kind"] == "demand" and mv["workload"] == "w1"
    assert mv["unserved_tflops"] == pytest.approx(5000.0, rel=1e-9)
    assert "5000 of 25000 TFLOPS" in mv["message"]


def one_site(cap: float = 500.0, servers: int = 400, demand: float = 25000.0) -> dict[str, Any]:
    """The teaching instance's numbers: t-srv 100 TFLOPS, 0.5 / 2.5 kW; k = 0.1, f = 0.1 c."""
    return {
        "computeplan": 1, "name": "one-site", "horizon_hours": 1000,
        "hardware": {"t": {"perf_tflops": {"fp16": 100.0}, "idle_kw": 0.5, "peak_kw": 2.5}},
        "facilities": {"f": {"pue_full": 1.2, "pue_quarter": 1.5}},
        "zones": {"a": {"lat": 31.0, "lon": 121.0}},
        "sites": [{"id": "s1", "tier": "midsize", "zone": "a", "facility": "f", "it_capacity_kw": cap,
                   "price_per_kwh": 0.5, "carbon_kg_per_kwh": 0.5, "servers": {"t": servers}}],
        "workloads": [{"id": "w1", "class": "general", "demand_tflops": demand, "precision": "fp16",
                       "hardware": ["t"], "origin": "a"}],
    }


def test_server_shortfall_is_counted_in_servers() -> None:
    # Ten workloads of 2,500 TFLOPS need 250 busy servers; 180 installed, power for 400
    # (1,000 kW). 70 more servers is 39 % of the pool; cutting 7,000 TFLOPS instead drops
    # 2.8 whole workloads (280 % in the diagnosis's relative units).
    raw = one_site(cap=1000.0, servers=180)
    w = raw["workloads"][0]
    raw["workloads"] = [{**w, "id": f"w{i}", "demand_tflops": 2500.0} for i in range(10)]
    res = computeplan.solve(raw)
    assert res.status == "infeasible"
    (mv,) = res.diagnosis["moves"]
    assert mv["kind"] == "servers" and (mv["site"], mv["hardware"]) == ("s1", "t")
    assert mv["extra_servers"] == pytest.approx(70.0, rel=1e-9)
    assert computeplan.solve(apply_moves(raw, [mv])).status == "optimal"


def test_capacity_shortfall_of_many_small_workloads_is_counted_in_kw() -> None:
    # Ten workloads of 2,500 TFLOPS: 250 busy servers at 2.5 kW = 625 kW on a 500 kW site.
    # Growing the site by 125 kW is 25 % of its capacity; cutting demand instead means
    # dropping 5,000 TFLOPS, two whole workloads (200 % in the diagnosis's relative units).
    raw = one_site()
    w = raw["workloads"][0]
    raw["workloads"] = [{**w, "id": f"w{i}", "demand_tflops": 2500.0} for i in range(10)]
    res = computeplan.solve(raw)
    assert res.status == "infeasible"
    (mv,) = res.diagnosis["moves"]
    assert mv["kind"] == "capacity" and mv["site"] == "s1"
    assert mv["extra_kw"] == pytest.approx(125.0, rel=1e-9)
    assert computeplan.solve(apply_moves(raw, [mv])).status == "optimal"


def test_pue_target_move_is_the_best_reachable_pue() -> None:
    # All 250 servers busy (no idle ones: n = b): IT = 625 kW in one 1,000 kW hall,
    # overhead = 0.1 * 1000 + 0.1 * 625 = 162.5 kW. Powering all 400 servers adds
    # 150 * 0.5 = 75 kW of idle IT: IT 700, overhead 170, PUE 870 / 700 = 1.242857...
    # which is the lowest PUE reachable. A cap of 1.2 must rise to 87 / 70.
    raw = one_site(cap=1000.0)
    raw["targets"] = {"fleet_pue_max": 1.2}
    res = computeplan.solve(raw)
    assert res.status == "infeasible"
    (mv,) = res.diagnosis["moves"]
    assert mv["kind"] == "target" and mv["target"] == "fleet_pue_max" and mv["from"] == 1.2
    assert mv["to"] == pytest.approx(87 / 70, rel=1e-7)
    fixed = apply_moves(raw, [mv])
    ok = computeplan.solve(fixed)
    assert ok.status == "optimal" and ok.indicators["fleet_pue"] <= fixed["targets"]["fleet_pue_max"]


def test_elastic_milp_when_only_whole_numbers_fail() -> None:
    """An indivisible workload of 150 servers' worth and two pools of 100: the LP
    relaxation splits it and is feasible, the MILP is not. The elastic MILP names the move:
    50 more servers in one pool, or 5,000 TFLOPS less demand."""
    raw = one_site(cap=1000.0, servers=100, demand=15000.0)
    second = copy.deepcopy(raw["sites"][0])
    second["id"] = "s2"
    raw["sites"].append(second)
    raw["workloads"][0]["divisible"] = False
    res = computeplan.solve(raw)
    assert res.status == "infeasible"
    assert res.diagnosis["method"].startswith("elastic MILP"), res.diagnosis
    moves = res.diagnosis["moves"]
    assert len(moves) == 1, moves
    (mv,) = moves
    if mv["kind"] == "servers":
        assert mv["extra_servers"] == pytest.approx(50.0, rel=1e-6)
    else:
        assert mv["kind"] == "demand" and mv["unserved_tflops"] == pytest.approx(5000.0, rel=1e-6)
    assert computeplan.solve(apply_moves(raw, moves)).status == "optimal"


# ----------------------------------------------------------------------------- property

TARGETS = ("none", "fleet_pue_max", "site_pue_max", "ece_min", "renewable_share_min", "carbon_max",
           "output_per_kwh_min", "server_utilisation_min")


def fleet(cap1: float, cap2: float, srv1: int, srv2: int, demand: float, halls: int, can_idle: bool,
          divisible: bool) -> dict[str, Any]:
    """Two sites (a good and a poor facility), two workloads sharing one server type."""
    return {
        "computeplan": 1, "name": "prop", "horizon_hours": 1000,
        "hardware": {"g": {"perf_tflops": {"fp16": 100.0}, "idle_kw": 1.0, "peak_kw": 3.0}},
        "facilities": {"good": {"pue_full": 1.2, "pue_quarter": 1.5},
                       "poor": {"pue_full": 1.5, "pue_quarter": 2.2}},
        "zones": {"a": {"lat": 31.0, "lon": 121.0}},
        "sites": [
            {"id": "s1", "tier": "hyperscale", "zone": "a", "facility": "good", "it_capacity_kw": cap1,
             "halls": halls, "can_idle": can_idle, "price_per_kwh": 0.6, "carbon_kg_per_kwh": 0.5,
             "renewable_share": 0.3, "servers": {"g": srv1}},
            {"id": "s2", "tier": "edge", "zone": "a", "facility": "poor", "it_capacity_kw": cap2,
             "price_per_kwh": 0.8, "carbon_kg_per_kwh": 0.6, "servers": {"g": srv2}},
        ],
        "workloads": [
            {"id": "w1", "class": "ai-training", "demand_tflops": 0.7 * demand, "precision": "fp16",
             "hardware": ["g"], "origin": "a", "value_per_tflops_hour": 0.01, "divisible": divisible},
            {"id": "w2", "class": "general", "demand_tflops": 0.3 * demand, "precision": "fp16",
             "hardware": ["g"], "origin": "a", "value_per_tflops_hour": 0.02},
        ],
    }


def target_value(name: str, level: float, demand: float) -> Any:
    """A target ``level`` (0..1) of the way into territory no plan reaches, roughly."""
    busy_kw = demand / 100 * 3.0  # IT power of the busy servers alone
    if name == "fleet_pue_max":
        return 1.0 + 0.2 * (1 - level)
    if name == "site_pue_max":
        return {"edge": 1.0 + 0.6 * (1 - level)}
    if name == "ece_min":
        return 100 / 3 / (1.3 - 0.25 * level)
    if name == "renewable_share_min":
        return 0.2 + 0.5 * level
    if name == "carbon_max":
        return busy_kw * 1.15 * 1000 * 0.35 / 1000 * (1.2 - 0.7 * level)
    if name == "output_per_kwh_min":
        value_per_kwh = (0.7 * 0.01 + 0.3 * 0.02) * 100 / 3.0
        return value_per_kwh / 1.15 * (0.8 + 0.6 * level)
    if name == "server_utilisation_min":
        return 0.3 + 0.7 * level
    raise AssertionError(name)


@settings(max_examples=30, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(cap1=st.sampled_from([300.0, 600.0, 1500.0]), cap2=st.sampled_from([100.0, 400.0]),
       srv1=st.sampled_from([60, 150, 400]), srv2=st.sampled_from([20, 100]),
       demand=st.sampled_from([8000.0, 20000.0, 40000.0]), halls=st.sampled_from([1, 3]),
       can_idle=st.just(False), divisible=st.just(True),
       target=st.sampled_from(TARGETS), level=st.floats(0.1, 1.0))
def test_property_applying_the_diagnosis_makes_the_instance_feasible(
        cap1: float, cap2: float, srv1: int, srv2: int, demand: float, halls: int, can_idle: bool,
        divisible: bool, target: str, level: float) -> None:
    raw = fleet(cap1, cap2, srv1, srv2, demand, halls, can_idle, divisible)
    if target != "none":
        raw["targets"] = {target: target_value(target, level, demand)}
    res = computeplan.solve(raw)
    assume(res.status == "infeasible")
    moves = res.diagnosis["moves"]
    if not moves:  # only whole-number decisions are at fault, and the diagnosis says so
        assert "whole" in res.diagnosis["summary"]
        return
    fixed = apply_moves(raw, moves)
    again = computeplan.solve(fixed)
    assert again.status == "optimal", (res.diagnosis, fixed.get("targets"))


def relaxation_feasible(raw: dict[str, Any]) -> bool:
    """Whether the LP relaxation (whole halls and whole workloads relaxed) has a solution."""
    out = solve_highs(build_model(build_data(computeplan.load_instance(raw)), relax=True))
    return out.status == Termination.OPTIMAL


@settings(max_examples=15, deadline=None, derandomize=True, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(srv1=st.integers(40, 120), srv2=st.integers(40, 120), over=st.floats(0.05, 0.9),
       halls=st.sampled_from([1, 2, 3]), can_idle=st.booleans(),
       target=st.sampled_from(("none", "fleet_pue_max", "site_pue_max", "server_utilisation_min")),
       level=st.floats(0.0, 0.6))
# servers added by a move count as installed against a utilisation floor, and come whole
@example(srv1=120, srv2=91, over=0.58, halls=2, can_idle=True, target="server_utilisation_min", level=0.58)
def test_property_applying_the_milp_diagnosis_makes_the_instance_feasible(
        srv1: int, srv2: int, over: float, halls: int, can_idle: bool, target: str, level: float) -> None:
    """Whole decisions at fault: the indivisible w1 needs more servers than either pool
    holds, though both together hold w1 and w2 (and halls may idle, in whole halls). The LP
    relaxation splits w1 and is feasible, the instance is not; the diagnosis then solves
    the elastic MILP, and its moves, applied together, make the instance feasible."""
    small, large = sorted((srv1, srv2))
    w2_servers = 0.1 * small
    w1_servers = large + over * (small - w2_servers)  # more than one pool, less than both
    raw = fleet(3.5 * srv1, 3.5 * srv2, srv1, srv2, 100.0 * (w1_servers + w2_servers), halls, can_idle, False)
    raw["workloads"][0]["demand_tflops"] = 100.0 * w1_servers
    raw["workloads"][1]["demand_tflops"] = 100.0 * w2_servers
    if target != "none":
        raw["targets"] = {target: target_value(target, level, 100.0 * (w1_servers + w2_servers))}
    assume(relaxation_feasible(raw))
    res = computeplan.solve(raw)
    assert res.status == "infeasible"
    assert res.diagnosis["method"].startswith("elastic MILP"), res.diagnosis
    moves = res.diagnosis["moves"]
    assert moves, res.diagnosis
    fixed = apply_moves(raw, moves)
    again = computeplan.solve(fixed)
    assert again.status == "optimal", (res.diagnosis, fixed["workloads"], fixed.get("targets"))


def test_diagnosis_of_an_indivisible_instance_is_enough() -> None:
    """An indivisible w1 (5,600 TFLOPS = 56 servers) under a fleet PUE cap of 1.0: the elastic
    LP would move the cap to the PUE of a split plan, which the unsplit work cannot reach;
    the elastic MILP's move is enough."""
    raw = fleet(300.0, 100.0, 60, 20, 8000.0, 1, False, False)
    raw["targets"] = {"fleet_pue_max": target_value("fleet_pue_max", 1.0, 8000.0)}
    res = computeplan.solve(raw)
    assert res.status == "infeasible" and res.diagnosis["method"].startswith("elastic MILP")
    assert computeplan.solve(apply_moves(raw, res.diagnosis["moves"])).status == "optimal"
