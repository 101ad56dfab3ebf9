"""Sweeps over time fields, and headroom, capacity value and outages on instances with
periods, checked against figures worked by hand (the teaching instances' headers) or
solved independently."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from support import TEACHING
from support import teaching_raw as raw_of
from typer.testing import CliRunner

import computeplan
from computeplan import analysis
from computeplan.cli import app
from computeplan.errors import UsageError

runner = CliRunner()


def approx(v: float) -> Any:
    return pytest.approx(v, rel=1e-7, abs=1e-7)


def one_grid_site(grid_kw: float = 60.0) -> dict[str, Any]:
    """teaching/grid-cap without site dear: 80 kW of must-serve work on one site capped at grid_kw."""
    raw = raw_of("grid-cap.yaml")
    raw["sites"] = [s for s in raw["sites"] if s["id"] == "cheap"]
    raw["sites"][0]["grid_kw"] = grid_kw
    return raw


# --------------------------------------------------------------------------------------
# Sweeps over time fields
# --------------------------------------------------------------------------------------
def test_sweep_flex_window_saves_more_the_longer_it_is() -> None:
    """teaching/flex-cheap-hours by hand (its header and tests/test_time_model.py): no window
    54, 4 h windows 52 (only hours 4-7 mix two prices), 24 h 36."""
    df = computeplan.sweep(TEACHING / "flex-cheap-hours.yaml", ["workloads.class.ai-training.flex_window_hours=0,4,24"])
    assert df["workloads.class.ai-training.flex_window_hours"].tolist() == [0.0, 4.0, 24.0]
    assert df["status"].tolist() == ["optimal"] * 3
    assert df["objective"].tolist() == [approx(54.0), approx(52.0), approx(36.0)]
    assert df["objective"].is_monotonic_decreasing


def test_apply_values_sets_the_window_of_every_workload_of_the_class() -> None:
    raw = raw_of("flex-cheap-hours.yaml")
    raw["workloads"].append({**raw["workloads"][0], "id": "job2"})
    raw["workloads"].append({**raw["workloads"][0], "id": "web", "class": "general", "flex_window_hours": 6})
    inst = computeplan.load_instance(raw)
    out = analysis.apply_values(inst, {"workloads.class.ai-training.flex_window_hours": 0, "demand.scale": 2})
    assert {w.id: (w.flex_window_hours, w.demand_tflops) for w in out.workloads} == {
        "job": (None, 20.0), "job2": (None, 20.0), "web": (6, 20.0)}
    out = analysis.apply_values(inst, {"workloads.class.ai-training.flex_window_hours": 8})
    assert [w.flex_window_hours for w in out.workloads] == [8, 8, 6]


def test_sweep_reports_every_bad_window_with_its_point() -> None:
    with pytest.raises(UsageError) as e:
        computeplan.sweep(TEACHING / "flex-cheap-hours.yaml",
                          ["workloads.class.ai-training.flex_window_hours=4,5,7,2.5"])
    text = str(e.value)
    assert text.startswith("3 of 4 point(s) are not valid instances")
    assert "point workloads.class.ai-training.flex_window_hours=5: --vary: workloads.class.ai-training." \
           "flex_window_hours: workloads[0] (job): must divide 24" in text
    assert "must divide 24 (1, 2, 3, 4, 6, 8, 12, 24) or exceed 24, got 5" in text
    assert "point workloads.class.ai-training.flex_window_hours=7:" in text
    assert "point workloads.class.ai-training.flex_window_hours=2.5: --vary: " \
           "workloads.class.ai-training.flex_window_hours: must be a whole number" in text
    assert "=4:" not in text


def test_windows_longer_than_a_day_need_periods_that_do_not_recur() -> None:
    raw = raw_of("flex-cheap-hours.yaml")
    raw["time"]["periods"]["weight"] = [2] * 24
    inst = computeplan.load_instance(raw)
    with pytest.raises(UsageError, match=r"flex_window_hours=48: .*a window longer than 24 h needs periods"):
        analysis.check_points(inst, [{"workloads.class.ai-training.flex_window_hours": 48}])


def test_flex_window_path_needs_a_class_and_a_time_block() -> None:
    inst = computeplan.load_instance(TEACHING / "two-sites.yaml")
    with pytest.raises(UsageError, match="no time block"):
        analysis.check_path(inst, f"workloads.class.{inst.workloads[0].class_}.flex_window_hours")
    timed = computeplan.load_instance(TEACHING / "flex-cheap-hours.yaml")
    with pytest.raises(UsageError, match="no workload of class 'hpc'"):
        analysis.check_path(timed, "workloads.class.hpc.flex_window_hours")


def test_cli_bad_window_is_exit_2(tmp_path: Path) -> None:
    r = runner.invoke(app, ["sweep", str(TEACHING / "flex-cheap-hours.yaml"), "--vary",
                            "workloads.class.ai-training.flex_window_hours=5", "--engine", "serial"])
    assert r.exit_code == 2, r.output
    assert "must divide 24" in r.output and "Traceback" not in r.output


def test_sweep_grid_kw_reports_the_infeasible_point_and_its_diagnosis() -> None:
    """80 kW of must-serve work in each of two hours on one site at 0.10: a cap of 60 kW leaves
    no plan, and the diagnosis asks for grid_kw at 80 (the header of teaching/grid-cap);
    80 and 100 kW give 2 x 80 x 0.10 = 16."""
    inst = computeplan.load_instance(one_grid_site())
    df = computeplan.sweep(inst, ["sites.cheap.grid_kw=60,80,100"])
    assert df["status"].tolist() == ["infeasible", "optimal", "optimal"]
    assert df["objective"].iloc[1:].tolist() == [approx(16.0)] * 2
    diag = df["diagnosis"].iloc[0]
    assert "grid_kw" in diag and "cheap" in diag and "80" in diag, diag
    with pytest.raises(UsageError, match=r"point sites.cheap.grid_kw=0: .*grid_kw: must be > 0"):
        computeplan.sweep(inst, ["sites.cheap.grid_kw=0,50"])


# --------------------------------------------------------------------------------------
# Headroom over periods
# --------------------------------------------------------------------------------------
def two_hours(**w1: Any) -> dict[str, Any]:
    """One site of 300 kW at PUE 1 (1 kW of IT per TFLOPS); two 1-hour periods; w1 (class
    general) 100 TFLOPS with the shape 0.5, 1.5: 50 TFLOPS in hour 0, 150 in hour 1."""
    box = {"perf_tflops": {"fp32": 1.0}, "idle_kw": 0.0, "peak_kw": 1.0}
    site = {"tier": "midsize", "zone": "town", "facility": "t-ideal", "price_per_kwh": 0.1,
            "carbon_kg_per_kwh": 0.5, "servers": {"t-box": 1000}}
    return {
        "computeplan": 1, "name": "two-hours",
        "hardware": {"t-box": box}, "facilities": {"t-ideal": {"pue_full": 1.0, "pue_quarter": 1.0}},
        "zones": {"town": {"lat": 31.0, "lon": 121.0}},
        "sites": [{"id": "s1", "it_capacity_kw": 300, **site}],
        "workloads": [{"id": "w1", "class": "general", "demand_tflops": 100, "precision": "fp32",
                       "hardware": ["t-box"], "origin": "town", **w1}],
        "time": {"periods": {"shape": [0.5, 1.5]}, "demand": {"general": "shape"}},
    }


def assert_largest_factor(raw: dict[str, Any], factor: float, path: str = "demand.scale") -> None:
    """The factor checked by solving the scaled instance: feasible at it, infeasible above it."""
    inst = computeplan.load_instance(raw)
    at = computeplan.solve(analysis.apply_values(inst, {path: factor * (1 - 1e-7)}))
    above = computeplan.solve(analysis.apply_values(inst, {path: factor * (1 + 1e-4)}))
    assert at.status == "optimal" and above.status == "infeasible"


@pytest.mark.parametrize(("w1", "grid", "factor"), [
    ({}, None, 2.0),                                # 150 lambda <= 300 in hour 1
    ({"flex_window_hours": 24}, None, 3.0),         # 200 lambda TFLOPS-hours in 2 x 300 kWh
    ({}, 250.0, 250 / 150),                         # the grid connection binds in hour 1
    ({"flex_window_hours": 24}, 250.0, 2.5),        # 200 lambda <= 2 x 250
])
def test_headroom_over_periods_by_hand(w1: dict[str, Any], grid: float | None, factor: float) -> None:
    raw = two_hours(**w1)
    if grid is not None:
        raw["sites"][0]["grid_kw"] = grid
    h = computeplan.headroom(computeplan.load_instance(raw))
    assert h.method == "parametric LP" and h.factor == approx(factor)
    assert h.base_tflops == approx(100.0)
    assert_largest_factor(raw, factor)
    gains = {c["name"]: c["gain_per_pct"] for c in h.constraints}
    if grid is None and not w1:  # one more % of 300 kW in hour 1: 3 / 150
        assert gains == {"capacity[s1]": approx(0.02)}
    elif grid is not None and not w1:  # one more % of 250 kW: 2.5 / 150
        assert gains == {"grid[s1]": approx(2.5 / 150)}


def test_headroom_of_one_class_over_periods() -> None:
    """w2 (class batch, 60 TFLOPS in each hour) stays; general grows: 150 lambda + 60 <= 300."""
    raw = two_hours()
    raw["workloads"].append({"id": "w2", "class": "batch", "demand_tflops": 60, "precision": "fp32",
                             "hardware": ["t-box"], "origin": "town"})
    h = computeplan.headroom(computeplan.load_instance(raw), "general")
    assert h.factor == approx(1.6) and h.binding == ["capacity[s1]"]
    assert_largest_factor(raw, 1.6, "demand.class.general.scale")


def test_headroom_bisects_over_periods_when_work_is_indivisible() -> None:
    """Sites of 300 and 200 kW: divisible, w1 splits (150 lambda <= 500); indivisible, it runs
    on s1 for the whole horizon (150 lambda <= 300), found by bisection within its tolerance."""
    raw = two_hours()
    raw["sites"].append({**raw["sites"][0], "id": "s2", "it_capacity_kw": 200})
    assert computeplan.headroom(computeplan.load_instance(raw)).factor == approx(500 / 150)
    raw["workloads"][0]["divisible"] = False
    h = computeplan.headroom(computeplan.load_instance(raw), tol=1e-5)
    assert h.method.startswith("bisection") and 2.0 - 1e-5 <= h.factor <= 2.0
    assert_largest_factor(raw, 2.0)


# --------------------------------------------------------------------------------------
# Capacity value over periods
# --------------------------------------------------------------------------------------
def test_capacity_value_of_grid_kw_matches_a_solve_with_one_more_kw() -> None:
    """teaching/grid-cap: a kW more grid at cheap moves a kW from dear (0.20) to cheap (0.10)
    in each of the two hours: 0.2 saved. Neither site's IT capacity binds."""
    inst = computeplan.load_instance(TEACHING / "grid-cap.yaml")
    cap = analysis.capacity_value(inst).set_index("site")
    assert cap.loc["cheap", "grid_kw"] == 50.0 and cap.loc["cheap", "grid_value_per_kw"] == approx(0.2)
    assert pd.isna(cap.loc["dear", "grid_kw"])
    assert cap["value_per_kw"].tolist() == [0.0, 0.0]
    assert cap.loc["cheap", "note"] == "binds in 0 of 2 periods"
    assert cap.loc["cheap", "it_kw"] == approx(50.0) and cap.loc["dear", "it_kw"] == approx(30.0)
    sweep = computeplan.sweep(inst, ["sites.cheap.grid_kw=50,51"])  # solved again, independently
    assert sweep["objective"].iloc[0] - sweep["objective"].iloc[1] == approx(0.2)


def test_capacity_value_sums_the_periods_in_which_capacity_binds() -> None:
    """w1 200 TFLOPS shaped 0.5, 1.5: 100 then 300 kW. s1 (250 kW at 0.10) carries all of
    hour 0 and 250 kW of hour 1; s2 (0.20) the other 50. A kW more at s1 saves 0.10 in hour 1
    only; ten more kW save 1.0 when solved again."""
    raw = two_hours()
    raw["workloads"][0]["demand_tflops"] = 200
    raw["sites"][0]["it_capacity_kw"] = 250
    raw["sites"].append({**raw["sites"][0], "id": "s2", "it_capacity_kw": 1000, "price_per_kwh": 0.2})
    raw["objective"] = "cost"
    inst = computeplan.load_instance(raw)
    cap = analysis.capacity_value(inst).set_index("site")
    assert cap.loc["s1", "value_per_kw"] == approx(0.1) and cap.loc["s1", "rank"] == 1
    assert cap.loc["s1", "note"] == "binds in 1 of 2 periods" and cap.loc["s1", "it_kw"] == approx(250.0)
    assert pd.isna(cap.loc["s1", "holds_to_kw"])  # no single row's range over periods
    assert cap.loc["s2", "value_per_kw"] == 0.0 and "grid_value_per_kw" not in cap.columns
    sweep = computeplan.sweep(inst, ["sites.s1.it_capacity_kw=250,260"])
    assert sweep["objective"].iloc[0] - sweep["objective"].iloc[1] == approx(1.0)


def test_capacity_value_of_a_milp_over_periods_fixes_the_placement() -> None:
    """w1 indivisible: it runs on one pool for both hours, so the LP behind the prices fixes
    that pick; on s2 (1,000 kW) nothing binds."""
    raw = two_hours(divisible=False)
    raw["sites"].append({**raw["sites"][0], "id": "s2", "it_capacity_kw": 1000, "price_per_kwh": 0.2})
    raw["sites"][0]["it_capacity_kw"] = 100  # s1 cannot take 150 TFLOPS in hour 1
    raw["objective"] = "cost"
    inst = computeplan.load_instance(raw)
    res = computeplan.solve(inst)
    assert {a["site"] for a in res.assignment_records} == {"s2"}
    cap = analysis.capacity_value(inst, res).set_index("site")
    assert cap["value_per_kw"].tolist() == [0.0, 0.0] and cap.loc["s2", "it_kw"] == approx(150.0)


def test_cli_capacity_on_a_time_instance(tmp_path: Path) -> None:
    r = runner.invoke(app, ["capacity", str(TEACHING / "grid-cap.yaml"), "--out", str(tmp_path), "--json"])
    assert r.exit_code == 0, r.output
    recs = {x["site"]: x for x in json.loads(r.stdout)}
    assert recs["cheap"]["grid_value_per_kw"] == approx(0.2)


# --------------------------------------------------------------------------------------
# Outages over periods
# --------------------------------------------------------------------------------------
def test_outage_removes_a_site_over_the_whole_horizon() -> None:
    """teaching/grid-cap, with cheap's price given as its own series: without cheap, dear
    carries all 80 kW in both hours (2 x 80 x 0.20 = 32); without dear, cheap's 50 kW grid
    cap leaves 30 TFLOPS unserved in each hour."""
    raw = raw_of("grid-cap.yaml")
    raw["time"]["periods"]["p_cheap"] = [0.10, 0.10]
    raw["time"]["sites"] = {"cheap": {"price_per_kwh": "p_cheap"}}
    inst = computeplan.load_instance(raw)
    out = analysis.remove_site(inst, "cheap")
    assert [s.id for s in out.sites] == ["dear"] and out.time is not None and out.time.sites == {}
    assert inst.time is not None and set(inst.time.sites) == {"cheap"}, "the base instance is not changed"
    df = computeplan.outage(inst).set_index("site")
    assert df.loc["(none)", "objective"] == approx(22.0) and df.loc["(none)", "unserved_tflops"] == approx(0.0)
    no_cheap = df.loc["cheap"]
    assert no_cheap["status"] == "optimal" and no_cheap["energy_kwh"] == approx(160.0)
    assert no_cheap["cost"] == approx(32.0) and no_cheap["unserved_tflops"] == approx(0.0)
    assert no_cheap["lost_tflops"] == approx(50.0) and no_cheap["absorbed_by"] == "dear:+50"
    no_dear = df.loc["dear"]
    assert no_dear["unserved_tflops"] == approx(30.0) and no_dear["unserved_share"] == approx(30 / 80)
    assert no_dear["cost"] == approx(2 * 50 * 0.10) and no_dear["lost_tflops"] == approx(30.0)


def test_headroom_and_capacity_refuse_representative_days() -> None:
    """On typical days a factor or a kW's value would hold for the typical days only, not for
    the peak hours of the year they stand for: refused, naming the field to remove."""
    inst = computeplan.load_instance(TEACHING / "grid-cap.yaml")
    assert inst.time is not None
    typical = inst.model_copy(update={"time": inst.time.model_copy(update={"typical_days": 1})})
    with pytest.raises(UsageError, match=r"headroom: not on representative days.*time.typical_days"):
        computeplan.headroom(typical)
    with pytest.raises(UsageError, match=r"capacity value: not on representative days.*time.typical_days"):
        analysis.capacity_value(typical, computeplan.solve(inst))
