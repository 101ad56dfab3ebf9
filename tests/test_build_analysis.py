"""Build-out in the analyses: sweeps over the budget and the build fields, the value of one
more buildable hall or server, and the diagnosis that relaxes a build limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import computeplan
from computeplan.analysis import apply_values, build_value, capacity_value, sweep
from computeplan.errors import UsageError

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"


def test_sweep_over_the_budget_follows_the_hand_worked_line():
    # build-budget: m_eff = (T - 50,000) / 500 between T = 50,000 and 100,000; each unit of
    # budget saves 1.1024, so the objective is 205,120 + 1.1024 x (100,000 - T)
    df = sweep(TEACHING / "build-budget.yaml", {"targets.capex_max": [60_000.0, 75_000.0, 90_000.0]})
    assert list(df["status"]) == ["optimal"] * 3
    for T, obj in zip(df["targets.capex_max"], df["objective"], strict=True):
        assert obj == pytest.approx(205_120.0 + 1.1024 * (100_000.0 - T), rel=1e-9)


def test_sweep_over_site_capex_crosses_the_break_even():
    # build-site-pays: west opens while its annual cost is below 84,120 (site_capex 841,200)
    df = sweep(TEACHING / "build-site-pays.yaml", {"sites.west.build.site_capex": [800_000.0, 845_000.0]})
    assert df["objective"].tolist() == pytest.approx([105_120.0 + 21_000.0 + 80_000.0, 210_240.0])
    assert df["capex_per_year"].tolist() == pytest.approx([101_000.0, 0.0])


def test_build_paths_apply_and_are_checked():
    inst = computeplan.load_instance(TEACHING / "build-short.yaml")
    out = apply_values(inst, {"sites.a.build.halls_max": 0, "sites.a.build.servers_max.t-srv": 10,
                              "hardware.t-srv.capex": 2000.0, "discount_rate": 0.05})
    b = out.sites[0].build
    assert b is not None and b.halls_max == 0 and b.servers_max == {"t-srv": 10}
    assert out.hardware["t-srv"].capex == 2000.0 and out.discount_rate == 0.05
    assert inst.sites[0].build is not None and inst.sites[0].build.halls_max == 2  # the original is untouched
    with pytest.raises(UsageError, match="whole number"):
        apply_values(inst, {"sites.a.build.halls_max": 1.5})
    with pytest.raises(UsageError, match="no build block"):
        apply_values(computeplan.load_instance(TEACHING / "two-sites.yaml"), {"sites.a.build.halls_max": 1})
    with pytest.raises(UsageError, match="unknown hardware model"):
        apply_values(inst, {"hardware.t-x.capex": 1.0})
    with pytest.raises(UsageError, match="lifetime_years"):
        apply_values(inst, {"hardware.t-srv.lifetime_years": 0.0})


def test_value_of_one_more_buildable_hall_and_server():
    # build-budget without the budget and t-eff limited to 40: the 41st t-eff is worth 551.2
    raw: dict[str, Any] = computeplan.load_instance(TEACHING / "build-budget.yaml").model_dump(by_alias=True)
    raw["targets"] = {}
    raw["sites"][0]["build"]["servers_max"]["t-eff"] = 40
    df = capacity_value(raw)
    table = df.attrs["build"]
    assert table[0]["what"] == "server t-eff" and table[0]["value_per_unit"] == pytest.approx(551.2, rel=1e-6)
    assert table[1]["value_per_unit"] == pytest.approx(0.0, abs=1e-6)
    res = computeplan.solve(raw)
    assert build_value(res)["value_per_unit"].tolist() == pytest.approx([551.2, 0.0], rel=1e-6, abs=1e-6)
    assert build_value(computeplan.solve(TEACHING / "two-sites.yaml")).empty


def test_capacity_value_on_a_build_plan():
    df = capacity_value(TEACHING / "build-short.yaml")
    a = df.set_index("site").loc["a"]
    # a has 2 halls (200 kW) on and carries 150 kW: its capacity does not bind
    assert a["active_capacity_kw"] == pytest.approx(200.0) and a["value_per_kw"] == 0.0


def _short_of_halls() -> dict[str, Any]:
    raw: dict[str, Any] = computeplan.load_instance(TEACHING / "build-short.yaml").model_dump(by_alias=True)
    raw["sites"] = raw["sites"][:1]
    raw["sites"][0]["build"]["halls_max"] = 1
    raw["workloads"] = [{"id": f"w{k}", "class": "general", "demand_tflops": 2_500.0, "precision": "fp16",
                         "hardware": ["t-srv"], "origin": "town"} for k in range(10)]
    return raw


def test_diagnosis_allows_more_halls():
    # 250 kW of load, 100 kW + 1 buildable hall of 100 kW: one more hall is the smallest move
    # (1 of 1 halls, against leaving two of ten workloads unserved)
    res = computeplan.solve(_short_of_halls())
    assert res.status.value == "infeasible"
    moves = res.diagnosis["moves"]
    assert [m["kind"] for m in moves] == ["build_halls"], moves
    assert moves[0]["site"] == "a" and moves[0]["extra_halls"] == 1.0
    assert "allow 1 more hall(s) at a" in moves[0]["message"]
    # the move is enough
    raw = _short_of_halls()
    raw["sites"][0]["build"]["halls_max"] = 2
    assert computeplan.solve(raw).status.value == "optimal"


def test_diagnosis_allows_more_servers():
    raw = _short_of_halls()
    raw["sites"][0]["build"]["halls_max"] = 3
    raw["sites"][0]["build"]["servers_max"] = {"t-srv": 120}  # 220 of the 250 servers needed
    res = computeplan.solve(raw)
    moves = res.diagnosis["moves"]
    assert [m["kind"] for m in moves] == ["build_servers"], moves
    assert moves[0]["extra_servers"] == pytest.approx(30.0)
    assert "allow 30 more t-srv server(s) to be built at a" in moves[0]["message"]


def test_diagnosis_moves_a_budget():
    raw: dict[str, Any] = computeplan.load_instance(TEACHING / "build-budget.yaml").model_dump(by_alias=True)
    # 100 servers are needed and the cheapest costs 500 a year: no budget below 50,000 works;
    # raising it by 25 % weighs less than leaving 2 of 10 workloads unserved
    raw["targets"] = {"capex_max": 40_000.0}
    raw["workloads"] = [{**raw["workloads"][0], "id": f"w{k}", "demand_tflops": 1_000.0} for k in range(10)]
    res = computeplan.solve(raw)
    assert res.status.value == "infeasible"
    moves = [m for m in res.diagnosis["moves"] if m["kind"] == "target"]
    assert moves and moves[0]["target"] == "capex_max" and moves[0]["to"] == pytest.approx(50_000.0, rel=1e-6)
