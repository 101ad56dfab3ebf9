"""The time dimension of the model (FORMULATION.md section 10): the teaching instances
worked by hand, the reduction to the single-period model, and the value of flexibility."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from conftest import base_instance
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import TEACHING
from support import teaching_raw as raw_of

import computeplan
from computeplan.errors import UsageError


def approx(v: float) -> Any:
    return pytest.approx(v, rel=1e-9, abs=1e-9)


def solved(raw: dict[str, Any], **kw: Any) -> computeplan.Result:
    inst = computeplan.load_instance(raw)
    res = computeplan.solve(inst, **kw)
    assert computeplan.verify(inst, res) == []
    return res


def test_flexible_job_follows_the_cheapest_hours():
    res = solved(raw_of("flex-cheap-hours.yaml"))
    assert res.status == "optimal"
    assert res.objective_value == approx(36.0)
    assert res.indicators["energy_kwh"] == approx(240.0)
    served = res.served.set_index("period")["served_tflops"]
    assert [served[t] for t in range(12)] == [approx(20.0)] * 12  # full rate while cheap
    assert [served[t] for t in range(12, 24)] == [approx(0.0)] * 12
    fl = res.extra["time"]["flexibility"]
    assert fl["objective_without"] == approx(54.0)
    assert fl["value"] == approx(18.0)
    assert fl["shifted_tflops_hours"] == approx(120.0)
    site = res.site_records[0]
    assert site["peak_facility_kw"] == approx(20.0) and site["peak_period"] == 0
    assert "fleet heuristic does not handle periods" in res.extra["method_reason"]


def test_max_rate_limits_how_much_an_hour_takes():
    raw = raw_of("flex-cheap-hours.yaml")
    raw["workloads"][0]["max_rate"] = 1.5
    # 6 h x 15 at 0.10 + 6 h x 15 at 0.20 + the last 60 TFLOPS-hours at 0.30 = 9 + 18 + 18
    res = solved(raw)
    assert res.objective_value == approx(45.0)
    assert res.served["served_tflops"].max() == approx(15.0)


def test_longer_windows_save_at_least_as_much():
    costs = {}
    for window in (24, 4, None):
        raw = raw_of("flex-cheap-hours.yaml")
        raw["workloads"][0]["flex_window_hours"] = window
        costs[window] = solved(raw).objective_value
    # 4 h windows: only hours 4-7 mix two prices; 40 TFLOPS-hours at 0.10 instead of 20 + 20 at 0.10/0.20
    assert costs[24] == approx(36.0) and costs[4] == approx(52.0) and costs[None] == approx(54.0)
    assert costs[24] <= costs[4] <= costs[None]


def test_hot_afternoon_raises_pue_by_the_cooling_formula():
    res = solved(raw_of("hot-afternoon.yaml"))
    assert res.objective_value == approx(3330.0)
    assert res.indicators["fleet_pue"] == approx(1.3875)
    per = res.periods
    assert list(per["pue"]) == [approx(1.2), approx(1.35), approx(1.5), approx(1.5)]
    assert list(per["facility_kw"]) == [approx(120.0), approx(135.0), approx(150.0), approx(150.0)]
    assert list(per["datetime"])[2] == "2025-07-01T12:00"
    assert res.site_records[0]["peak_period"] == 2
    assert res.site_records[0]["pue"] == approx(1.3875)  # annual, energy-weighted


def test_grid_cap_binds():
    res = solved(raw_of("grid-cap.yaml"))
    assert res.objective_value == approx(22.0)
    peaks = {r["id"]: r["peak_facility_kw"] for r in res.site_records}
    assert peaks == {"cheap": approx(50.0), "dear": approx(30.0)}
    raw = raw_of("grid-cap.yaml")
    del raw["sites"][0]["grid_kw"]
    assert solved(raw).objective_value == approx(16.0)


def grid_infeasible() -> dict[str, Any]:
    """grid-cap.yaml's infeasible variant (its header): one site, 80 kW of work, a 60 kW grid."""
    raw = raw_of("grid-cap.yaml")
    raw["name"] = "teaching-grid-infeasible"
    raw["sites"] = raw["sites"][:1]
    raw["sites"][0]["grid_kw"] = 60
    return raw


def test_infeasible_grid_is_diagnosed_as_a_grid_move():
    res = solved(grid_infeasible())
    assert res.status == "infeasible"
    moves = res.diagnosis["moves"]
    assert [m["kind"] for m in moves] == ["grid"]
    assert moves[0]["grid_kw"] == approx(80.0)
    assert "raise grid_kw at cheap to 80" in moves[0]["message"]


def test_cli_infeasible_grid_exits_1_naming_grid_kw(tmp_path):
    from typer.testing import CliRunner

    from computeplan.cli import app

    path = tmp_path / "grid-infeasible.yaml"
    path.write_text(yaml.safe_dump(grid_infeasible()))
    out = CliRunner().invoke(app, ["solve", str(path)])
    assert out.exit_code == 1
    assert "grid_kw" in out.output


def test_heuristic_is_a_usage_error_on_a_time_instance():
    with pytest.raises(UsageError, match=r"heuristic.*periods"):
        computeplan.solve(TEACHING / "flex-cheap-hours.yaml", method="heuristic")


def test_no_flex_value_skips_the_second_solve():
    res = solved(raw_of("flex-cheap-hours.yaml"), flex_value=False)
    fl = res.extra["time"]["flexibility"]
    assert fl["value"] is None and fl["objective_without"] is None
    assert fl["shifted_tflops_hours"] == approx(120.0)


def test_indivisible_work_stays_on_one_pool_over_the_periods():
    raw = raw_of("grid-cap.yaml")
    raw["workloads"][0]["divisible"] = False
    raw["sites"][0]["grid_kw"] = 1000
    raw["time"]["sites"] = {"cheap": {"price_per_kwh": "tou"}}
    # on one pool for both hours: dear costs 80 x 0.20 x 2 = 32, cheap 80 x (0.10 + 0.35) = 36;
    # split by hour (were it divisible) cheap then dear would cost 8 + 16 = 24
    raw["time"]["periods"]["tou"] = [0.10, 0.35]
    res = solved(raw)
    assert res.method == "milp"
    assert res.objective_value == approx(32.0)
    assert [(a["site"], a["share"]) for a in res.assignment_records] == [("dear", approx(1.0))]
    # the capacity shadow prices come from the LP with the placement fixed: none binds
    assert [r["capacity_shadow_price"] for r in res.site_records] == [approx(0.0), approx(0.0)]
    raw["workloads"][0]["divisible"] = True
    assert solved(raw).objective_value == approx(24.0)


def test_result_files_carry_the_time_tables(tmp_path):
    from typer.testing import CliRunner

    from computeplan.cli import app

    out = CliRunner().invoke(app, ["solve", str(TEACHING / "hot-afternoon.yaml"), "--out", str(tmp_path),
                                   "--tables", "parquet", "--quiet"])
    assert out.exit_code == 0, out.output
    data = json.loads((tmp_path / "result.json").read_text())
    assert data["time"]["periods"] == 4 and data["time"]["hours"] == 24.0
    assert data["time"]["typical_days"] is None and data["time"]["full_year"] is None
    assert (tmp_path / "periods.parquet").is_file() and (tmp_path / "served.parquet").is_file()
    back = computeplan.Result.read(tmp_path)
    assert len(back.periods) == 4 and len(back.served) == 4
    ok = CliRunner().invoke(app, ["verify", str(TEACHING / "hot-afternoon.yaml"), str(tmp_path)])
    assert ok.exit_code == 0, ok.output


def test_validate_names_the_periods():
    from typer.testing import CliRunner

    from computeplan.cli import app

    out = CliRunner().invoke(app, ["validate", str(TEACHING / "hot-afternoon.yaml")])
    assert out.exit_code == 0 and "4 periods (24 h)" in out.output


def test_summary_prints_flexibility_and_peaks():
    from typer.testing import CliRunner

    from computeplan.cli import app

    out = CliRunner().invoke(app, ["solve", str(TEACHING / "grid-cap.yaml")])
    assert out.exit_code == 0, out.output
    assert "value of flexibility" in out.output and "Peak facility power" in out.output


# --- constant series give exactly the single-period optimum --------------------------------

def _with_constant_time(raw: dict[str, Any], hours: list[float], weights: list[float],
                        shape: float) -> dict[str, Any]:
    timed = copy.deepcopy(raw)
    T = len(hours)
    cols: dict[str, list[Any]] = {"hours": hours, "weight": weights, "flat": [shape] * T}
    zones: dict[str, dict[str, str]] = {}
    for s in timed["sites"]:
        cols[f"p_{s['id']}"] = [s["price_per_kwh"]] * T
        cols[f"r_{s['id']}"] = [s.get("renewable_share", 0.0)] * T
    timed["time"] = {"periods": cols, "zones": zones,
                     "sites": {s["id"]: {"price_per_kwh": f"p_{s['id']}", "renewable_share": f"r_{s['id']}"}
                               for s in timed["sites"]},
                     "demand": {w["class"]: "flat" for w in timed["workloads"]}}
    return timed


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    T=st.integers(1, 4),
    hour=st.sampled_from([1.0, 2.0, 6.0]),
    rep=st.sampled_from([1.0, 3.0, 365.0]),
    scale=st.floats(0.2, 1.6),
    objective=st.sampled_from(["energy", "cost", "carbon"]),
    idle=st.booleans(),
    indivisible=st.booleans(),
    flex=st.sampled_from([None, 24]),
    shape=st.sampled_from([1.0, 2.5]),
)
def test_constant_series_give_the_single_period_optimum(T, hour, rep, scale, objective, idle, indivisible,
                                                        flex, shape):
    raw = base_instance()
    raw["objective"] = objective
    raw["sites"][0]["can_idle"] = idle
    raw["workloads"][0]["demand_tflops"] *= scale
    raw["workloads"][1]["divisible"] = not indivisible
    raw["workloads"][0]["flex_window_hours"] = flex
    raw["targets"] = {"fleet_pue_max": 1.45, "renewable_share_min": 0.05}
    horizon = T * hour * rep
    raw["horizon_hours"] = horizon
    hours, weights = [hour] * T, [rep] * T
    single = computeplan.solve(raw)
    timed = _with_constant_time(raw, hours, weights, shape)
    inst = computeplan.load_instance(timed)
    many = computeplan.solve(inst)
    assert computeplan.verify(inst, many) == []
    assert single.status == many.status
    if single.objective_value is None:
        return
    assert many.objective_value == pytest.approx(single.objective_value, rel=1e-9)
    for key in ("energy_kwh", "cost", "carbon_t", "fleet_pue", "renewable_share", "served_tflops",
                "ece_gflops_per_w"):
        a, b = single.indicators[key], many.indicators[key]
        assert (a is None and b is None) or b == pytest.approx(a, rel=1e-7, abs=1e-9), key


def test_report_and_single_period_analyses_on_a_time_instance(tmp_path):
    from typer.testing import CliRunner

    from computeplan.cli import app

    runner = CliRunner()
    out = runner.invoke(app, ["solve", str(TEACHING / "grid-cap.yaml"), "--out", str(tmp_path),
                              "--report", str(tmp_path / "report.html"), "--quiet"])
    assert out.exit_code == 0, out.output
    assert (tmp_path / "report.html").is_file()
    # cheap's 50 kW grid cap and dear's 1,000 kW carry 1,050 kW in each hour: 1,050 / 80
    assert computeplan.headroom(TEACHING / "grid-cap.yaml").factor == pytest.approx(1050 / 80, rel=1e-9)


def test_interchangeable_workloads_are_merged_exactly():
    """Three copies of the grid-cap workload (same everything, demands 20 + 20 + 40) give
    the same optimum as the one workload of 80 TFLOPS, each copy with the same shares."""
    one = solved(raw_of("grid-cap.yaml"))
    raw = raw_of("grid-cap.yaml")
    base = raw["workloads"][0]
    raw["workloads"] = [{**base, "id": f"w{k}", "demand_tflops": dem} for k, dem in enumerate((20, 20, 40))]
    many = solved(raw)
    assert many.objective_value == approx(one.objective_value)
    assert any("2 interchangeable workload(s) merged" in n for n in many.notes)
    shares = {(a["workload"], a["site"]): a["share"] for a in many.assignment_records}
    assert shares == {(f"w{k}", s): approx(v) for k in range(3)
                      for s, v in (("cheap", 50 / 80), ("dear", 30 / 80))}
    tflops = sum(a["tflops"] for a in many.assignment_records if a["site"] == "cheap")
    assert tflops == approx(50.0)
