"""The ``time:`` block and the fields that go with it: every cross-check of FORMATS.md
("Time") reported with the file, the field path, what was expected and what was found."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from conftest import base_instance

import computeplan
from computeplan import InstanceError
from computeplan.io.periods import time_axis

FOUR = [0.1, 0.2, 0.3, 0.4]


def timed(**time: Any) -> dict[str, Any]:
    raw = base_instance()
    raw["time"] = {"periods": {"hours": [6, 6, 6, 6], "tou": list(FOUR), "temp": [10, 20, 30, 40],
                               "shape": [1, 2, 3, 2]}, **time}
    return raw


def problems_of(raw: dict[str, Any], tmp: Path | None = None) -> list[str]:
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(raw, base_dir=tmp)
    return ei.value.problems


def one(raw: dict[str, Any], path: str, *words: str, tmp: Path | None = None) -> None:
    probs = problems_of(raw, tmp)
    hit = [p for p in probs if f": {path}" in p]
    assert hit, f"no problem names {path!r}: {probs}"
    for w in words:
        assert any(w in p for p in hit), f"{w!r} not in {hit}"


def test_a_valid_time_block_loads_and_resolves():
    raw = timed(zones={"a": {"price_per_kwh": "tou", "temperature_c": "temp"}},
                sites={"s2": {"price_per_kwh": "tou"}}, demand={"general": "shape"})
    inst = computeplan.load_instance(raw)
    ax = time_axis(inst)
    assert ax.T == 4 and ax.horizon == 24.0
    np.testing.assert_array_equal(ax.day, [0, 0, 0, 0])
    prices = ax.site_series(inst, "price_per_kwh")
    np.testing.assert_allclose(prices[0], FOUR)  # s1 in zone a
    np.testing.assert_allclose(prices[1], FOUR)  # s2's own series
    temps = ax.site_series(inst, "temperature_c")
    assert math.isnan(temps[1, 0])  # zone b has no weather
    shapes = ax.shapes(inst)
    np.testing.assert_allclose(shapes[1], [0.5, 1.0, 1.5, 1.0])  # mean 2 rescaled to 1
    np.testing.assert_allclose(shapes[0], 1.0)


def test_wrong_length_series():
    raw = timed()
    raw["time"]["periods"]["tou"] = [0.1, 0.2]
    one(raw, "time.periods.tou", "one value per period (4)", "got 2")


def test_nan_and_text_in_a_series():
    raw = timed()
    raw["time"]["periods"]["tou"] = [0.1, float("nan"), 0.3, 0.4]
    one(raw, "time.periods.tou[1]", "finite number")
    raw["time"]["periods"]["tou"] = [0.1, "cheap", 0.3, 0.4]
    one(raw, "time.periods.tou[1]", "finite number", "cheap")


def test_missing_column_named_by_a_zone():
    one(timed(zones={"a": {"price_per_kwh": "tariff"}}), "time.zones.a.price_per_kwh",
        "series column", "tariff")


def test_renewable_share_outside_0_1():
    raw = timed(sites={"s1": {"renewable_share": "tou"}})
    raw["time"]["periods"]["tou"] = [0.1, 1.2, 0.3, 0.4]
    one(raw, "time.sites.s1.renewable_share", "in 0..1", "1.2")


def test_negative_price_and_intensity():
    raw = timed(zones={"a": {"price_per_kwh": "tou", "carbon_kg_per_kwh": "tou"}})
    raw["time"]["periods"]["tou"] = [0.1, -0.2, 0.3, 0.4]
    one(raw, "time.zones.a.price_per_kwh", ">= 0", "-0.2")
    one(raw, "time.zones.a.carbon_kg_per_kwh", ">= 0")


def test_series_and_horizon_limits():
    raw = timed(zones={"a": {"price_per_kwh": "tou"}})
    raw["time"]["periods"]["tou"] = [0.1, 2e4, 0.3, 0.4]
    one(raw, "time.zones.a.price_per_kwh", "<= 10000", "20000")
    raw = timed()
    raw["time"]["periods"]["weight"] = [1e6, 1, 1, 1]
    one(raw, "time.periods", "<= 1e+06 hours")


def test_unknown_zone_site_and_demand_keys():
    raw = timed(zones={"nowhere": {"price_per_kwh": "tou"}}, sites={"s9": {"price_per_kwh": "tou"}},
                demand={"batch": "shape"})
    one(raw, "time.zones.nowhere", "zone")
    one(raw, "time.sites.s9", "site id")
    one(raw, "time.demand.batch", "workload id or class")


def test_window_must_divide_a_day():
    raw = timed()
    raw["workloads"][0]["flex_window_hours"] = 5
    one(raw, "workloads[0] ('w1').flex_window_hours", "divide 24")


def test_long_window_needs_periods_that_do_not_recur():
    raw = timed()
    raw["time"]["periods"]["weight"] = [365, 365, 365, 365]
    raw["workloads"][0]["flex_window_hours"] = 48
    one(raw, "workloads[0] ('w1').flex_window_hours", "longer than 24 h", "48")


def test_horizon_must_match_the_periods():
    raw = timed()
    raw["horizon_hours"] = 8760
    one(raw, "horizon_hours", "sum(hours x weight) = 24", "8760")
    raw["horizon_hours"] = 24
    computeplan.load_instance(raw)


def test_bad_hours_weight_and_day():
    raw = timed()
    raw["time"]["periods"]["hours"] = [6, 0, 6, 6]
    one(raw, "time.periods.hours[1]", "> 0")
    raw = timed()
    raw["time"]["periods"]["day"] = [0, 1, 0, 1]
    one(raw, "time.periods.day[2]", "time order")


def test_cooling_and_grid_and_rate_fields():
    raw = timed()
    raw["facilities"]["good"]["cooling"] = {"free_below_c": 30, "design_c": 20, "pue_full_at_design": 1.5}
    one(raw, "facilities.good.cooling", "design_c must be > free_below_c")
    raw = timed()
    raw["facilities"]["good"]["cooling"] = {"free_below_c": 10, "design_c": 30, "pue_full_at_design": 1.1}
    one(raw, "facilities.good", "pue_full_at_design must be >= pue_full")
    raw = timed()
    raw["sites"][0]["grid_kw"] = -5
    one(raw, "sites[0] ('s1').grid_kw", "> 0")
    raw = timed()
    raw["workloads"][0]["max_rate"] = 0
    one(raw, "workloads[0] ('w1').max_rate", "> 0")


def test_periods_that_are_not_columns():
    raw = timed()
    raw["time"]["periods"] = [1, 2, 3]
    one(raw, "time.periods", "expected columns")


def test_typical_days_need_an_hourly_table():
    one(timed(typical_days=1), "time.typical_days", "needs an hourly table", "hours[0] = 6")


def test_unknown_key_in_the_time_block():
    one(timed(zonez={}), "time.zonez", "unknown key")


def test_periods_from_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"hours": [6, 6, 6, 6], "tou": FOUR, "datetime": ["a", "b", "c", "d"]})
    df.to_csv(tmp_path / "p.csv", index=False)
    df.to_parquet(tmp_path / "p.parquet")
    for spec in ({"csv": "p.csv"}, {"parquet": "p.parquet"}):
        raw = timed(zones={"a": {"price_per_kwh": "tou"}})
        raw["time"]["periods"] = spec
        inst = computeplan.load_instance(raw, base_dir=tmp_path)
        ax = time_axis(inst)
        assert ax.T == 4 and ax.datetime == ["a", "b", "c", "d"]
        np.testing.assert_allclose(ax.series["tou"], FOUR)
    raw = timed()
    raw["time"]["periods"] = {"csv": "missing.csv"}
    one(raw, "time.periods.csv", "not found", tmp=tmp_path)
    assert len([p for p in problems_of(raw, tmp_path) if "time.periods" in p]) == 1  # said once


def test_sites_and_workloads_tables_carry_the_new_columns(tmp_path):
    raw = timed()
    pd.DataFrame(raw["sites"]).assign(**{"servers.srv": [400, 50], "servers.cpu": [500, 0]}).drop(
        columns=["servers"]).assign(grid_kw=[5000, ""]).to_csv(tmp_path / "s.csv", index=False)
    wl = pd.DataFrame(raw["workloads"])
    wl["hardware"] = ["srv", "cpu;srv"]
    wl["flex_window_hours"] = [24, ""]
    wl["max_rate"] = [1.5, ""]
    wl.to_csv(tmp_path / "w.csv", index=False)
    raw["sites"], raw["workloads"] = {"csv": "s.csv"}, {"csv": "w.csv"}
    inst = computeplan.load_instance(raw, base_dir=tmp_path)
    assert inst.sites[0].grid_kw == 5000 and inst.sites[1].grid_kw is None
    assert inst.workloads[0].flex_window_hours == 24 and inst.workloads[0].max_rate == 1.5
    assert inst.workloads[1].flex_window_hours is None and inst.workloads[1].max_rate == 2.0


def test_windows_are_aligned_blocks_within_each_day():
    raw = timed()
    raw["time"]["periods"] = {"v": [1.0] * 48}
    inst = computeplan.load_instance(raw)
    ax = time_axis(inst)
    assert ax.windows(24).tolist() == [0] * 24 + [1] * 24
    assert ax.windows(6).tolist() == [k // 6 for k in range(48)]
    assert ax.windows(48).tolist() == [0] * 48
    assert ax.windows(None).tolist() == list(range(48))


def test_cli_validate_exits_2_without_traceback(tmp_path):
    import yaml
    from typer.testing import CliRunner

    from computeplan.cli import app

    raw = timed(zones={"a": {"price_per_kwh": "nope"}})
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = CliRunner().invoke(app, ["validate", str(path)])
    assert out.exit_code == 2
    assert "time.zones.a.price_per_kwh" in out.output and "Traceback" not in out.output
