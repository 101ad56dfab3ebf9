"""The exact engine: shadow prices against finite differences, back-ends against each
other, the independent check against tampered plans, objectives and diagnosis."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import computeplan
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.plan.result import Result
from computeplan.solvers.highs import solve_highs

ROOT = Path(__file__).resolve().parents[1]
TEACHING = sorted((ROOT / "instances" / "teaching").glob("*.yaml"))


def solve_ok(raw: dict[str, Any], **kw: Any) -> Result:
    inst = computeplan.load_instance(raw)
    res = computeplan.solve(inst, **kw)
    assert res.status == "optimal"
    assert computeplan.verify(inst, res) == []
    return res


def pue_bound_instance(base: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(base)
    raw["targets"] = {"fleet_pue_max": 1.45}
    return raw


def free_choice() -> dict[str, Any]:
    """Two sites that could each carry all the work; only their overheads differ.

    g: 100 TFLOPS fp16, idle 1 kW, peak 3 kW. w1 = 10,000 TFLOPS: 100 busy servers, 300 kW
    of IT wherever it runs (no target, so no server runs idle: n = b).
    good 1.2 / 1.5: k = (4 * 0.2 - 0.5) / 3 = 0.1,   f = (0.2 - 0.1) * 1000 = 100 kW
    poor 1.5 / 2.2: k = (4 * 0.5 - 1.2) / 3 = 0.8/3, f = (0.5 - 0.8/3) * 1000 = 700/3 kW
    Both halls stay on (can_idle false), so both fixed overheads are paid either way and
    only k decides: w1 on s1 adds 1.1 * 300 = 330 kW, on s2 (1 + 0.8/3) * 300 = 380 kW.
    Optimum: all of w1 on s1. P(s1) = 330 + 100 = 430 kW, P(s2) = 700/3 kW,
    energy = (430 + 700/3) * 8760 = 5,810,800 kWh.
    """
    def site(sid: str, facility: str, price: float, carbon: float, renewable: float) -> dict[str, Any]:
        return {"id": sid, "tier": "midsize", "zone": "a", "facility": facility, "it_capacity_kw": 1000.0,
                "price_per_kwh": price, "carbon_kg_per_kwh": carbon, "renewable_share": renewable,
                "servers": {"g": 200}}

    return {
        "computeplan": 1, "name": "free-choice",
        "hardware": {"g": {"perf_tflops": {"fp16": 100.0}, "idle_kw": 1.0, "peak_kw": 3.0}},
        "facilities": {"good": {"pue_full": 1.2, "pue_quarter": 1.5},
                       "poor": {"pue_full": 1.5, "pue_quarter": 2.2}},
        "zones": {"a": {"lat": 31.2, "lon": 121.4}},
        # the poor site first, so that "the first site" is not the answer
        "sites": [site("s2", "poor", 0.8, 0.5, 0.0), site("s1", "good", 0.6, 0.5, 0.2)],
        "workloads": [{"id": "w1", "class": "general", "demand_tflops": 10000.0, "precision": "fp16",
                       "hardware": ["g"], "origin": "a"}],
    }


def test_unconstrained_plan_prefers_lower_overhead():
    res = solve_ok(free_choice())
    shares = {(a["workload"], a["site"]): a["share"] for a in res.assignment_records}
    assert shares == {("w1", "s1"): pytest.approx(1.0, rel=1e-9)}
    assert res.objective_value == pytest.approx(5_810_800.0, rel=1e-9)
    sites = res.sites.set_index("id")
    assert sites.loc["s1", "it_kw"] == pytest.approx(300.0, rel=1e-9)
    assert sites.loc["s1", "facility_kw"] == pytest.approx(430.0, rel=1e-9)
    assert sites.loc["s2", "it_kw"] == pytest.approx(0.0, abs=1e-9)
    assert sites.loc["s2", "facility_kw"] == pytest.approx(700 / 3, rel=1e-9)
    assert res.indicators["fleet_pue"] == pytest.approx((430 + 700 / 3) / 300, rel=1e-9)


def test_fleet_pue_shadow_price_matches_finite_difference(base):
    raw = pue_bound_instance(base)
    res = solve_ok(raw)
    row = res.targets.set_index("name").loc["fleet_pue_max"]
    assert row["value"] == pytest.approx(1.45, rel=1e-9), "the target should bind in this instance"
    h = 1e-4
    up = copy.deepcopy(raw)
    up["targets"]["fleet_pue_max"] = 1.45 + h
    dn = copy.deepcopy(raw)
    dn["targets"]["fleet_pue_max"] = 1.45 - h
    slope = (solve_ok(up).objective_value - solve_ok(dn).objective_value) / (2 * h)
    assert row["shadow_price"] < 0
    assert row["shadow_price"] == pytest.approx(slope, rel=1e-3)


def test_capacity_shadow_price_matches_finite_difference(base):
    raw = copy.deepcopy(base)
    raw["sites"][0]["it_capacity_kw"] = 500.0  # binding: w1 needs more than s1 can hold
    raw["sites"][1]["it_capacity_kw"] = 2000.0
    raw["sites"][1]["servers"]["srv"] = 400
    res = solve_ok(raw)
    cap = res.sites.set_index("id")["capacity_shadow_price"]
    assert cap["s1"] < 0
    # Move only the capacity row's right-hand side (the hall count and fixed overhead stay).
    d = build_data(computeplan.load_instance(raw))
    m = build_model(d)
    r = m.families["capacity"].start
    vals = []
    for delta in (+1.0, -1.0):
        m.row_hi[r] = delta
        vals.append(solve_highs(m).objective * m.scale)
    m.row_hi[r] = 0.0
    assert cap["s1"] == pytest.approx((vals[0] - vals[1]) / 2, rel=1e-6)
    out = solve_highs(m)
    assert m.capacity_shadow_prices(out.row_dual)[0] == pytest.approx(cap["s1"], rel=1e-9)


@pytest.mark.parametrize("objective", ["energy", "cost", "carbon"])
def test_highs_and_cbc_agree(base, objective):
    raw = pue_bound_instance(base)
    raw["sites"][0]["can_idle"] = True  # a MILP
    a = solve_ok(raw, objective=objective)
    b = solve_ok(raw, objective=objective, solver="cbc")
    assert a.method == "milp" and b.method == "milp (cbc)"
    assert a.objective_value == pytest.approx(b.objective_value, rel=1e-6)


@pytest.mark.parametrize("path", TEACHING, ids=lambda p: p.stem)
def test_teaching_highs_and_cbc_agree(path):
    inst = computeplan.load_instance(path)
    a = computeplan.solve(inst)
    b = computeplan.solve(inst, solver="cbc")
    assert a.status == b.status
    if path.stem == "infeasible":
        assert a.status == "infeasible" and a.objective_value is None and b.objective_value is None
        return
    assert a.status == "optimal", "every other teaching instance has an optimum"
    assert a.objective_value == pytest.approx(b.objective_value, rel=1e-6)
    assert computeplan.verify(inst, b) == []


def test_objectives_change_the_unit():
    """free_choice by hand: s1 draws 430 kW, s2 700/3 kW, for 8,760 h (w1 stays on s1 under
    every objective: per IT kW it costs 1.1 * 0.6 = 0.66 there against 1.267 * 0.8 = 1.01,
    and emits 1.1 * 0.5 * 0.8 = 0.44 kg against 1.267 * 0.5 = 0.63).
    cost = 430 * 8760 * 0.6 + 700/3 * 8760 * 0.8 = 2,260,080 + 1,635,200 = 3,895,280;
    carbon = 430 * 8760 * 0.5 * 0.8 + 700/3 * 8760 * 0.5 = 1,506,720 + 1,022,000 = 2,528,720 kg."""
    raw = free_choice()
    e = solve_ok(raw, objective="energy")
    c = solve_ok(raw, objective="cost")
    k = solve_ok(raw, objective="carbon")
    assert e.objective_name == "energy_kwh" and c.objective_name == "cost" and k.objective_name == "carbon_kg"
    assert e.objective_value == pytest.approx(5_810_800.0, rel=1e-9)
    assert c.objective_value == pytest.approx(3_895_280.0, rel=1e-9)
    assert k.objective_value == pytest.approx(2_528_720.0, rel=1e-9)
    assert k.indicators["carbon_t"] == pytest.approx(2_528.72, rel=1e-9)


def test_verify_catches_tampering(base):
    inst = computeplan.load_instance(base)
    res = computeplan.solve(inst)
    d = res.to_dict()
    d["indicators"]["energy_kwh"] *= 1.01
    assert any("energy_kwh" in p for p in computeplan.verify(inst, d))
    d = res.to_dict()
    d["assignments"][0]["share"] = 0.5
    d["assignments"][0]["tflops"] *= 0.5
    assert any("must be served" in p for p in computeplan.verify(inst, d))
    d = res.to_dict()
    d["pools"][0]["servers_on"] = 0.0
    assert any("servers on" in p for p in computeplan.verify(inst, d))
    d = res.to_dict()
    first = d["assignments"][0]
    d["assignments"].append(dict(first))
    twice = f"assignments[{first['workload']}@{first['site']}/{first['hardware']}]: listed twice"
    assert twice in computeplan.verify(inst, d)


def test_servers_beyond_need_reported(base):
    raw = copy.deepcopy(base)
    raw["workloads"] = raw["workloads"][:1]
    raw["workloads"][0]["demand_tflops"] = 5000.0
    raw["sites"] = raw["sites"][:1]
    raw["targets"] = {"fleet_pue_max": 1.45}
    res = solve_ok(raw)
    # A small load cannot dilute the fixed overhead of two halls: idle servers must be on.
    assert res.indicators["servers_beyond_need"] > 0
    pools = res.pools
    assert (pools["servers_on"] > pools["busy_servers"] + 1e-6).any()
    assert res.indicators["fleet_pue"] == pytest.approx(1.45, rel=1e-9)
    assert any("beyond need" in n for n in res.notes)


def test_infeasible_capacity_diagnosis(base):
    raw = copy.deepcopy(base)
    raw["workloads"][0]["demand_tflops"] = 80000.0  # 800 srv servers; 450 installed
    res = computeplan.solve(computeplan.load_instance(raw))
    assert res.status == "infeasible" and res.objective_value is None
    kinds = {m["kind"] for m in res.diagnosis["moves"]}
    assert kinds & {"servers", "demand"}, res.diagnosis


def test_infeasible_target_diagnosis_says_how_far(base):
    raw = copy.deepcopy(base)
    raw["targets"] = {"fleet_pue_max": 1.01}
    res = computeplan.solve(computeplan.load_instance(raw))
    assert res.status == "infeasible"
    mv = [m for m in res.diagnosis["moves"] if m.get("target") == "fleet_pue_max"]
    assert mv and mv[0]["to"] > 1.01
    # Moving the target to what the diagnosis says makes the instance feasible.
    raw["targets"]["fleet_pue_max"] = mv[0]["to"] * (1 + 1e-6)
    assert solve_ok(raw).status == "optimal"


def test_method_lp_refuses_integer_instances(base):
    raw = copy.deepcopy(base)
    raw["workloads"][0]["divisible"] = False
    with pytest.raises(computeplan.UsageError):
        computeplan.solve(computeplan.load_instance(raw), method="lp")


def test_result_json_roundtrip(base, tmp_path):
    res = solve_ok(base)
    res.write(tmp_path, ("csv", "parquet"))
    back = Result.read(tmp_path)
    assert back.objective_value == res.objective_value
    assert back.to_dict() == res.to_dict()
    assert computeplan.verify(computeplan.load_instance(base), back) == []
    assert (tmp_path / "assignments.parquet").exists() and (tmp_path / "sites.csv").exists()
    assert not list(tmp_path.glob(".*.tmp"))


def test_write_lp_and_mps(base, tmp_path):
    computeplan.solve(computeplan.load_instance(base), write_model=tmp_path / "m.lp")
    computeplan.solve(computeplan.load_instance(base), write_model=tmp_path / "m.mps")
    lp = (tmp_path / "m.lp").read_text()
    assert "capacity_s1_" in lp and "assign_w1_" in lp
    assert "ROWS" in (tmp_path / "m.mps").read_text()


def test_lp_is_a_bound_for_milp(base):
    raw = pue_bound_instance(base)
    raw["sites"][0]["can_idle"] = True
    raw["workloads"][1]["divisible"] = False
    inst = computeplan.load_instance(raw)
    d = build_data(inst)
    lp = solve_highs(build_model(d, relax=True))
    milp = computeplan.solve(inst)
    assert lp.objective * d.horizon <= milp.objective_value * (1 + 1e-9)
    assert np.isfinite(milp.bound) and milp.bound <= milp.objective_value * (1 + 1e-9)
