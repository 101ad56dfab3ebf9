"""Typical days (FORMULATION.md section 10, "Representative periods"): the days chosen,
the aggregated solve, the full-year re-evaluation and its gap, the input they need, and
the independent check of such a result."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import computeplan
from computeplan.cli import app
from computeplan.errors import InstanceError
from computeplan.io.generate import generate_instance
from computeplan.io.periods import day_profiles, typical_instance
from computeplan.plan.typical import Dispatch, choose_days, dispatch_fixed

TEACHING = Path(__file__).resolve().parent.parent / "instances" / "teaching"
DAY_A = [0.10] * 6 + [0.20] * 6 + [0.30] * 12  # flex-cheap-hours: optimum 36 for its day
DAY_B = [2 * p for p in DAY_A]  # every price doubled: optimum 72


def approx(v: float, rel: float = 1e-9) -> Any:
    return pytest.approx(v, rel=rel, abs=1e-9)


def four_days() -> dict[str, Any]:
    """flex-cheap-hours over four days A, B, A, B (days 0 and 2 alike, 1 and 3 alike).

    By hand: a day A costs 36 (the teaching instance), a day B 72 (every price doubled,
    the same hours chosen); the year costs 2 x 36 + 2 x 72 = 216, and two typical days,
    one A and one B each recurring twice, say exactly that."""
    raw = yaml.safe_load((TEACHING / "flex-cheap-hours.yaml").read_text())
    raw["time"]["periods"] = {"tou": DAY_A + DAY_B + DAY_A + DAY_B}
    return raw


def checked(inst: computeplan.Instance, **kw: Any) -> computeplan.Result:
    res = computeplan.solve(inst, **kw)
    assert computeplan.verify(inst, res) == []
    return res


def test_two_pairs_of_like_days_give_weights_two_and_two_and_the_full_optimum():
    inst = computeplan.load_instance(four_days())
    full = checked(inst)
    assert full.objective_value == approx(216.0)
    res = checked(inst, typical_days=2)
    fy = res.full_year
    assert res.typical_days == 2 and fy is not None
    days = [r["day"] for r in fy["days"]]
    assert [r["weight"] for r in fy["days"]] == [2, 2]
    assert days[0] in (0, 2) and days[1] in (1, 3)
    assert res.objective_value == approx(216.0)
    assert res.extra["time"]["periods"] == 48 and res.extra["time"]["hours"] == approx(96.0)
    assert fy["objective"] == approx(216.0) and fy["gap"] == approx(0.0)
    assert fy["status"] == "optimal" and fy["periods"] == 96 and fy["targets_met"] is True
    assert res.extra["time"]["flexibility"]["objective_without"] == approx(2 * 54.0 + 2 * 108.0)


def test_typical_days_in_the_instance_and_on_the_command_line(tmp_path):
    raw = four_days()
    raw["time"]["typical_days"] = 2
    res = checked(computeplan.load_instance(raw))
    assert res.typical_days == 2 and res.objective_value == approx(216.0)
    path = tmp_path / "four.yaml"
    path.write_text(yaml.safe_dump(four_days()))
    out = CliRunner().invoke(app, ["solve", str(path), "--typical-days", "2", "--json", "--out", str(tmp_path / "o")])
    assert out.exit_code == 0, out.output
    data = json.loads(out.stdout)
    assert data["time"]["typical_days"] == 2
    assert data["time"]["full_year"]["objective"] == approx(216.0)
    assert json.loads((tmp_path / "o" / "result.json").read_text()) == data
    # result.json alone lacks the year's plan, which the folder holds beside it
    assert any("year's plan is missing" in p for p in computeplan.verify(computeplan.load_instance(path), data))
    ok = CliRunner().invoke(app, ["verify", str(path), str(tmp_path / "o")])
    assert ok.exit_code == 0 and "every figure reproduced" in ok.output, ok.output
    text = CliRunner().invoke(app, ["solve", str(path), "--typical-days", "2"])
    assert text.exit_code == 0 and "2 typical days" in text.output and "full year (96 periods)" in text.output


def small_fleet(days: int) -> dict[str, Any]:
    return generate_instance(12, 3, seed=4, hours=24 * days)


@pytest.fixture(scope="module")
def fleet() -> tuple[computeplan.Instance, computeplan.Result]:
    inst = computeplan.load_instance(small_fleet(4))
    return inst, checked(inst)


def test_as_many_typical_days_as_days_is_the_full_solve(fleet):
    inst, full = fleet
    res = checked(inst, typical_days=4)
    fy = res.full_year
    assert [(r["day"], r["weight"]) for r in fy["days"]] == [(0, 1), (1, 1), (2, 1), (3, 1)]
    assert res.objective_value == approx(full.objective_value, 1e-7)
    assert fy["objective"] == approx(full.objective_value, 1e-7)
    assert abs(fy["gap"]) < 1e-7


def test_the_full_year_costs_at_least_the_full_optimum_and_the_gap_is_its_definition(fleet):
    inst, full = fleet
    res = checked(inst, typical_days=1)
    fy = res.full_year
    assert [r["weight"] for r in fy["days"]] == [4]
    assert fy["status"] == "optimal"
    # the re-evaluated plan is a plan for the year: never better than the year's optimum
    assert fy["objective"] >= full.objective_value * (1 - 1e-9)
    agg = res.objective_value
    assert fy["aggregated_objective"] == agg
    assert fy["gap"] == approx((fy["objective"] - agg) / abs(agg))
    assert fy["targets_met"] is (not fy["failed"])


def test_verify_catches_a_wrong_typical_days_record(fleet):
    inst, _ = fleet
    res = computeplan.solve(inst, typical_days=2)
    good = res.to_dict()
    assert res.full_year_plan is not None
    year = res.full_year_plan.to_dict()
    assert computeplan.verify(inst, good, year) == []

    def broken(change: Any) -> list[str]:
        d = copy.deepcopy(good)
        change(d["time"]["full_year"])
        return computeplan.verify(inst, d, year)

    assert any("gap" in p for p in broken(lambda fy: fy.update(gap=fy["gap"] + 0.01)))
    assert any("add up to the table's 4 days" in p for p in broken(lambda fy: fy["days"][0].update(weight=9)))
    assert any("days[1].day" in p for p in broken(lambda fy: fy["days"][1].update(day=7)))
    assert any("periods" in p for p in broken(lambda fy: fy.update(periods=48)))


def test_the_aggregated_table_takes_the_chosen_days_rows():
    inst = computeplan.load_instance(four_days())
    agg = typical_instance(inst, [1, 2], [3, 1])
    assert agg.time is not None and agg.time.typical_days is None
    cols = agg.time.periods
    assert cols["tou"] == DAY_B + DAY_A
    assert cols["weight"] == [3.0] * 24 + [1.0] * 24 and cols["day"] == [1] * 24 + [2] * 24
    X = day_profiles(inst)
    assert X.shape == (4, 24)
    assert np.array_equal(X[0], X[2]) and np.array_equal(X[1], X[3]) and X.max() == 1.0 and X.min() == 0.0


def test_the_days_chosen_are_deterministic_and_cover_the_year():
    inst = computeplan.load_instance(small_fleet(9))
    a = choose_days(inst, 3)
    assert a == choose_days(inst, 3)
    days, weights = a
    assert len(days) == 3 and days == sorted(set(days)) and sum(weights) == 9 and min(weights) >= 1


def test_a_dispatcher_receives_the_fixed_blocks_and_can_replace_the_lp():
    inst = computeplan.load_instance(four_days())
    seen: list[dict[str, np.ndarray]] = []

    def spy(d: Any, fixed: Any, options: Any) -> Dispatch:
        seen.append(dict(fixed))
        assert d.n_periods == 96
        return dispatch_fixed(d, fixed, options)

    res = computeplan.solve(inst, typical_days=2, dispatcher=spy)
    assert len(seen) == 1 and set(seen[0]) <= {"z", "y", "g", "m", "o"} and "z" in seen[0]
    assert seen[0]["z"].tolist() == [1.0]
    assert res.full_year is not None and res.full_year["objective"] == approx(216.0)


def peak_day() -> dict[str, Any]:
    """Three days of an inflexible job on ten idle-able halls of 10 kW: two quiet days and
    one of ten times their demand. One typical day (a quiet one, recurring three times)
    powers one hall; the busy day needs three, so the year cannot be dispatched with it."""
    raw = yaml.safe_load((TEACHING / "flex-cheap-hours.yaml").read_text())
    raw["facilities"]["t-ideal"] = {"pue_full": 1.2, "pue_quarter": 1.5}  # a fixed overhead per hall
    raw["sites"][0].update(it_capacity_kw=100, halls=10, can_idle=True)
    del raw["workloads"][0]["flex_window_hours"]
    raw["time"]["periods"] = {"tou": DAY_A * 3, "shape": [1.0] * 48 + [10.0] * 24}
    raw["time"]["demand"] = {"job": "shape"}
    return raw


def test_a_year_the_plan_cannot_dispatch_is_reported_not_raised():
    inst = computeplan.load_instance(peak_day())
    res = checked(inst, typical_days=1)
    fy = res.full_year
    assert [(r["day"], r["weight"]) for r in fy["days"]] in ([(0, 3)], [(1, 3)])
    assert res.site_records[0]["active_halls"] == 1
    assert fy["status"] == "infeasible" and fy["objective"] is None and fy["gap"] is None
    assert fy["rows"] and any("capacity" in r for r in fy["rows"])
    assert any("could not be dispatched" in n for n in res.notes)
    assert checked(inst).status == "optimal"  # the year itself is feasible: with three halls


def solve_cli(raw: dict[str, Any], tmp_path: Path, *args: str) -> Any:
    path = tmp_path / "inst.yaml"
    path.write_text(yaml.safe_dump(raw))
    return CliRunner().invoke(app, ["solve", str(path), *args])


@pytest.mark.parametrize(("change", "args", "field", "words"), [
    (lambda r: r["time"]["periods"].update(weight=[1.0] * 96), ("--typical-days", "2"),
     "time.typical_days", "weight column"),
    (lambda r: r["time"]["periods"].update(hours=[2.0] * 96), ("--typical-days", "2"),
     "time.typical_days", "needs an hourly table"),
    (lambda r: r["time"]["periods"].update(tou=DAY_A * 3 + [0.1] * 5), ("--typical-days", "2"),
     "time.typical_days", "whole days"),
    (lambda r: None, ("--typical-days", "5"), "time.typical_days (--typical-days)", "at most the table's 4 days, got 5"),
    (lambda r: r["time"].update(typical_days=5), (), "time.typical_days", "at most the table's 4 days, got 5"),
    (lambda r: r["workloads"][0].update(flex_window_hours=48), ("--typical-days", "2"),
     "workloads[0] ('job').flex_window_hours", "within a day"),
    (lambda r: r.pop("time"), ("--typical-days", "2"), "time.typical_days", "without a time block"),
])
def test_input_that_typical_days_cannot_use_exits_2_naming_the_field(tmp_path, change, args, field, words):
    raw = four_days()
    change(raw)
    out = solve_cli(raw, tmp_path, *args)
    assert out.exit_code == 2, out.output
    assert f"inst.yaml: {field}" in out.output and words in out.output
    assert "Traceback" not in out.output


def test_day_column_that_splits_a_day_is_refused():
    raw = four_days()
    raw["time"]["periods"]["day"] = [0] * 12 + [1] * 24 + [2] * 24 + [3] * 36
    raw["time"]["typical_days"] = 2
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(raw)
    assert any("time.typical_days: needs each day of time.periods.day to be 24 consecutive hours" in p
               for p in ei.value.problems)


def test_an_annual_target_the_year_misses_is_named_with_its_value(tmp_path):
    """Three days of 10 kW (facility = IT) at 0.5 kg/kWh, 0.5 and 1.0, and carbon_max 0.4 t.
    One typical day (a 0.5 day, recurring three times) emits 72 h x 10 kW x 0.5 = 0.36 t:
    the target holds. The year emits 48 x 10 x 0.5 + 24 x 10 x 1.0 = 0.48 t: it does not,
    and the full-year dispatch, with the target as a row, is infeasible."""
    raw = yaml.safe_load((TEACHING / "flex-cheap-hours.yaml").read_text())
    del raw["workloads"][0]["flex_window_hours"]
    raw["time"]["periods"] = {"tou": DAY_A * 3, "co2": [0.5] * 48 + [1.0] * 24}
    raw["time"]["zones"]["town"]["carbon_kg_per_kwh"] = "co2"
    raw["targets"] = {"carbon_max": 0.4}
    inst = computeplan.load_instance(raw)
    res = checked(inst, typical_days=1)
    assert res.indicators["carbon_t"] == approx(0.36)
    fy = res.full_year
    assert fy["status"] == "infeasible" and fy["objective"] is None and "carbon_max" in fy["rows"]
    assert fy["failed"] == ["carbon_max"] and fy["targets_met"] is False
    assert fy["targets"] == [{"name": "carbon_max", "target": 0.4, "value": approx(0.48), "met": False}]
    path = tmp_path / "carbon.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = CliRunner().invoke(app, ["solve", str(path), "--typical-days", "1"])
    assert out.exit_code == 0 and "targets missed: carbon_max 0.48 (target 0.4)" in " ".join(out.output.split())


def hot_hour_days() -> computeplan.Instance:
    """Eight days of one temperature series (degC, each day flat unless said): 10 on days
    0, 2, 4; 20 on days 1 and 3; 10 with one hour at 21 on day 5, the year's hottest hour;
    14 on day 6; 17 on day 7. Normalised by the range 11, day 5 lies at distance 1 from
    the 10-degree days, every other pair of distinct groups at 3 / 11 x sqrt(24) = 1.34 or
    more: four medoids without extremes are a 10-degree day, a 20-degree day, days 6 and 7,
    with day 5 joining the 10-degree days."""
    raw = yaml.safe_load((TEACHING / "flex-cheap-hours.yaml").read_text())
    level = [10, 20, 10, 20, 10, 10, 14, 17]
    temp = [float(level[d]) for d in range(8) for _ in range(24)]
    temp[5 * 24 + 14] = 21.0
    raw["time"]["periods"] = {"tou": DAY_A * 8, "temp": temp}
    raw["time"]["zones"]["town"]["temperature_c"] = "temp"
    return computeplan.load_instance(raw)


def test_the_hottest_day_is_kept_as_its_own_typical_day():
    from computeplan.io.periods import extreme_days

    inst = hot_hour_days()
    assert extreme_days(inst) == [5]  # the flat tariff repeats every day: no peak-demand day of its own
    plain, plain_w = choose_days(inst, 4, extremes=False)
    assert 5 not in plain and sum(plain_w) == 8
    kept, kept_w = choose_days(inst, 4)
    assert 5 in kept and sum(kept_w) == 8 and kept_w[kept.index(5)] >= 1
    assert choose_days(inst, 3) == choose_days(inst, 3, extremes=False)  # below four days none is forced


def test_the_full_year_by_day_agrees_with_the_one_lp_and_proves_its_gap(fleet):
    from computeplan.analysis.fullyear import full_year_dispatcher

    inst, _ = fleet
    one = checked(inst, typical_days=1).full_year
    by_day = checked(inst, typical_days=1, dispatcher=full_year_dispatcher(inst, "days", workers=0)).full_year
    assert one["method"] == "one LP over every period" and by_day["method"].startswith("by day: 4 day LPs")
    # the decomposition's plan is a plan for the same fixed year: never below the one LP's optimum,
    # its bound never above it, and the two within the decomposition's tolerance
    assert by_day["dispatch_bound"] <= one["objective"] * (1 + 1e-9)
    assert by_day["objective"] >= one["objective"] * (1 - 1e-9)
    assert by_day["objective"] == approx(one["objective"], 1e-4)
    assert by_day["dispatch_gap"] == approx((by_day["objective"] - by_day["dispatch_bound"]) / by_day["objective"])
    assert by_day["targets_met"] == one["targets_met"]


def test_auto_dispatches_a_small_year_as_one_lp(fleet):
    from computeplan.analysis.fullyear import DAY_DISPATCH_COLUMNS, full_year_dispatcher, wants_days
    from computeplan.model.data import build_data

    inst, _ = fleet
    d = build_data(inst)
    assert not wants_days(d, "auto") and wants_days(d, "days") and not wants_days(d, "lp")
    assert d.n_periods * (d.n_cand + d.n_pools) < DAY_DISPATCH_COLUMNS
    res = checked(inst, typical_days=2, dispatcher=full_year_dispatcher(inst, "auto"))
    assert res.full_year["method"] == "one LP over every period"


def test_with_a_time_limit_the_typical_days_leave_part_of_it_for_the_full_year(fleet):
    from computeplan.plan.typical import AGGREGATED_SHARE, solve_typical
    from computeplan.solvers import Budget

    inst, _ = fleet
    seen: list[float | None] = []

    class Stop(Exception):
        pass

    def stub(agg: computeplan.Instance, *, budget: Budget, **_: Any) -> computeplan.Result:
        seen.append(budget.left())
        raise Stop

    with pytest.raises(Stop):
        solve_typical(inst, 2, stub, budget=Budget(100.0))
    assert seen[0] is not None and 0.5 * AGGREGATED_SHARE * 100 < seen[0] <= AGGREGATED_SHARE * 100 + 1e-6
    with pytest.raises(Stop):
        solve_typical(inst, 2, stub, budget=Budget(None))
    assert seen[1] is None


def test_each_typical_day_keeps_the_demand_it_has_in_the_year() -> None:
    """Three days whose demand shape is 1, 2 and 3 all day (year mean 2), days 0 and 2
    standing for 2 and 1 days: their mean is 5/3, not 2. Day 2 carries 3/2 of the average
    demand in the year, and must in the aggregated instance too (not 3 / (5/3) = 9/5 of
    it); a flexible workload's cap per period (max_rate x demand) stays the year's."""
    from computeplan.io.periods import time_axis

    raw = yaml.safe_load((TEACHING / "flex-cheap-hours.yaml").read_text())
    raw["time"]["periods"] = {"tou": DAY_A * 3, "dem": [1.0] * 24 + [2.0] * 24 + [3.0] * 24}
    raw["time"]["demand"] = {"ai-training": "dem"}
    inst = computeplan.load_instance(raw)
    agg = typical_instance(inst, [0, 2], [2, 1])
    year_demand = time_axis(inst).shapes(inst) * np.array([[w.demand_tflops] for w in inst.workloads])
    agg_demand = time_axis(agg).shapes(agg) * np.array([[w.demand_tflops] for w in agg.workloads])
    rows = np.r_[np.arange(24), 48 + np.arange(24)]
    np.testing.assert_allclose(agg_demand, year_demand[:, rows], rtol=1e-12)
    assert agg_demand[0, 30] == pytest.approx(1.5 * inst.workloads[0].demand_tflops)
    for w, a in zip(inst.workloads, agg.workloads, strict=True):
        assert a.max_rate * a.demand_tflops == pytest.approx(w.max_rate * w.demand_tflops)
