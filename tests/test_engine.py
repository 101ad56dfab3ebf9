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


def test_unconstrained_plan_prefers_lower_overhead(base):
    res = solve_ok(base)
    # w1 only fits srv pools; s1 (PUE 1.2 facility) beats s2 (1.5); w2 within 5 ms of zone b:
    sites = {(a["workload"], a["site"]) for a in res.assignment_records}
    assert ("w1", "s1") in sites
    ind = res.indicators
    # indicators are reproduced from the site table
    s = res.sites
    assert ind["fleet_pue"] == pytest.approx(s["facility_kw"].sum() / s["it_kw"].sum(), rel=1e-12)
    assert ind["energy_kwh"] == pytest.approx(s["facility_kw"].sum() * 8760, rel=1e-12)


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
    if a.status.has_plan:
        assert a.objective_value == pytest.approx(b.objective_value, rel=1e-6)
        assert computeplan.verify(inst, b) == []


def test_objectives_change_the_unit(base):
    e = solve_ok(base, objective="energy")
    c = solve_ok(base, objective="cost")
    k = solve_ok(base, objective="carbon")
    assert e.objective_name == "energy_kwh" and c.objective_name == "cost" and k.objective_name == "carbon_kg"
    assert c.objective_value == pytest.approx(c.indicators["cost"], rel=1e-12)
    assert k.objective_value == pytest.approx(k.indicators["carbon_t"] * 1000, rel=1e-12)


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
