"""instances/shanghai-2025-hourly: the time block is well-formed (FORMATS.md "Time"), each
series matches its documented basis (instances/README.md), the generator reproduces the
files, and every hour has a plan for capacity and latency. Figures are checked against the
basis written in the README, recomputed here, not read back from the generator."""

from __future__ import annotations

import importlib
import math
import sys

import numpy as np
import pandas as pd
import pytest
from examples_support import (
    INSTANCES,
    catalogue,
    peak_snapshot,
    periods,
    read_yaml,
    workload_records,
)

import computeplan

PATH = INSTANCES / "shanghai-2025-hourly.yaml"
ANNUAL = INSTANCES / "shanghai-2025.yaml"


@pytest.fixture(scope="module")
def raw():
    return read_yaml(PATH)


@pytest.fixture(scope="module")
def table(raw):
    return periods(PATH, raw)


@pytest.fixture(scope="module")
def clock(table):
    """Local clock hour and month of each period, read from the ISO datetime strings."""
    dt = table["datetime"]
    assert dt.str.endswith("+08:00").all()
    return dt.str.slice(11, 13).astype(int).to_numpy(), dt.str.slice(5, 7).astype(int).to_numpy()


def test_time_block_is_well_formed(raw, table):
    time = raw["time"]
    assert set(time) <= {"periods", "zones", "sites", "demand", "typical_days"}
    assert len(table) == 8760 == raw["horizon_hours"]
    assert "hours" not in table and "weight" not in table  # one clock hour each, no recurrence
    assert list(table["datetime"])[:2] == ["2025-01-01T00:00+08:00", "2025-01-01T01:00+08:00"]
    assert table["datetime"].iloc[-1] == "2025-12-31T23:00+08:00" and table["datetime"].is_unique
    zones, sites = set(raw["zones"]), {s["id"] for s in raw["sites"]}
    wl = workload_records(PATH, raw)
    assert set(time["zones"]) <= zones and set(time["sites"]) <= sites
    assert set(time["demand"]) <= {w["id"] for w in wl} | {w["class"] for w in wl}
    fields = {"price_per_kwh", "carbon_kg_per_kwh", "renewable_share", "temperature_c"}
    used = set()
    for mapping in (*time["zones"].values(), *time["sites"].values()):
        assert set(mapping) <= fields
        used |= {(f, c) for f, c in mapping.items()}
    used |= {("demand", c) for c in time["demand"].values()}
    for field, col in used:
        assert col in table, col
        v = table[col].to_numpy(dtype=float)
        assert np.isfinite(v).all()
        if field == "renewable_share":
            assert v.min() >= 0 and v.max() <= 1
        elif field in ("price_per_kwh", "carbon_kg_per_kwh"):
            assert v.min() >= 0
        elif field == "demand":
            assert v.min() > 0
    # every site has its own price and carbon; every zone its temperature
    assert all({"price_per_kwh", "carbon_kg_per_kwh"} <= set(time["sites"][s]) for s in sites)
    assert set(time["zones"]) == zones


def test_same_fleet_as_the_annual_instance(raw):
    annual = read_yaml(ANNUAL)
    assert raw["zones"] == annual["zones"]
    assert raw["precision_weights"] == annual["precision_weights"]
    capped = {s["id"]: s.pop("grid_kw") for s in raw["sites"] if "grid_kw" in s}
    assert capped == {"qp-hs-1": 16000, "lz-md-1": 2500}
    assert raw["sites"] == annual["sites"]
    for s in raw["sites"]:  # put back for the other tests of the module
        if s["id"] in capped:
            s["grid_kw"] = capped[s["id"]]
    hourly, base = workload_records(PATH, raw), workload_records(ANNUAL, annual)
    flex = {w["id"] for w in hourly if "flex_window_hours" in w}
    assert {w["flex_window_hours"] for w in hourly if "flex_window_hours" in w} == {24.0}
    assert flex == {w["id"] for w in base if w["class"] == "ai-training"} | {f"infer-{i}" for i in range(45, 51)}
    assert [{k: v for k, v in w.items() if k != "flex_window_hours"} for w in hourly] == base
    assert set(raw["targets"]) == {"fleet_pue_max", "site_pue_max", "renewable_share_min"}
    assert all(raw["targets"][k] == annual["targets"][k] for k in raw["targets"])


def test_tariff_periods_levels_and_means(raw, table, clock):
    hour, month = clock
    valley = np.isin(hour, (22, 23, 0, 1, 2, 3, 4, 5))
    peak = np.isin(hour, (8, 9, 10, 18, 19, 20))
    critical = np.isin(month, (7, 8)) & np.isin(hour, (12, 13))
    flat = ~valley & ~peak & ~critical
    assert (valley.reshape(365, 24).sum(1) == 8).all() and (peak.reshape(365, 24).sum(1) == 6).all()
    tier_of = {s["id"]: s["tier"] for s in raw["sites"]}
    annual_price = {s["tier"]: s["price_per_kwh"] for s in raw["sites"]}
    assert annual_price == {"hyperscale": 0.62, "midsize": 0.67, "edge": 0.72}
    for sid, series in raw["time"]["sites"].items():
        p = table[series["price_per_kwh"]].to_numpy()
        # a flat load pays the annual instance's price
        assert p.mean() == pytest.approx(annual_price[tier_of[sid]], abs=5e-4)
        v = p[valley][0]
        assert np.allclose(p[valley], v) and np.allclose(p[flat], v * 0.70 / 0.32, rtol=1e-3)
        assert np.allclose(p[peak], v * 1.10 / 0.32, rtol=1e-3)
        assert np.allclose(p[critical], v * 1.10 * 1.2 / 0.32, rtol=1e-3)  # critical = peak x 1.2
        assert critical.sum() == 2 * 62


def test_temperature_follows_the_monthly_normals(table, clock):
    _hour, month = clock
    low = [2.1, 3.7, 6.9, 11.9, 17.3, 21.7, 25.8, 25.8, 22.4, 16.8, 10.6, 4.7]
    high = [8.1, 10.1, 13.8, 19.5, 24.8, 27.8, 32.2, 31.5, 27.9, 22.9, 17.3, 11.1]
    t = table["sh_temp"].to_numpy()
    for m in range(1, 13):
        # monthly normals interpolated from mid-month: the month's mean is within 1 degC
        assert t[month == m].mean() == pytest.approx((low[m - 1] + high[m - 1]) / 2, abs=1.0)
    days = t.reshape(365, 24)
    assert (days.argmin(1) == 5).all() and (days.argmax(1) == 14).all()
    assert t.max() == pytest.approx(32.2, abs=0.1) and t.min() == pytest.approx(2.1, abs=0.1)


def test_cooling_keeps_the_catalogues_annual_pue(raw, table):
    cat = catalogue("facilities")
    temp = table["sh_temp"].to_numpy()
    assert set(raw["facilities"]) == set(cat)
    for name, f in raw["facilities"].items():
        c = f["cooling"]
        assert c["design_c"] == 34.4 and c["free_below_c"] < c["design_c"]
        k = (4 * (f["pue_full"] - 1) - (f["pue_quarter"] - 1)) / 3
        fc = f["pue_full"] - 1 - k
        k_cat = (4 * (cat[name]["pue_full"] - 1) - (cat[name]["pue_quarter"] - 1)) / 3
        assert fc == pytest.approx(cat[name]["pue_full"] - 1 - k_cat, abs=1e-9)  # f unchanged
        k_d = c["pue_full_at_design"] - 1 - fc
        assert 0 <= k <= k_d
        ramp = np.clip((temp - c["free_below_c"]) / (c["design_c"] - c["free_below_c"]), 0, 1)
        pue_hourly = 1 + fc + k + (k_d - k) * ramp
        assert pue_hourly.mean() == pytest.approx(cat[name]["pue_full"], abs=2e-3), name


def test_carbon_pv_and_renewable_shares(raw, table, clock):
    hour, _ = clock
    c = table["ec_carbon"].to_numpy()
    assert c.mean() == pytest.approx(0.58, abs=1e-4)
    assert 0.53 < c.min() and c.max() < 0.62
    by_hour = pd.Series(c).groupby(hour).mean()
    assert by_hour[12] < by_hour[3] < by_hour[19]  # solar dip at noon, evening ramp
    pv = table["pv_cf"].to_numpy()
    assert pv.mean() == pytest.approx(0.12, abs=1e-4) and pv.min() == 0 and pv.max() < 1
    assert (pv[np.isin(hour, (20, 21, 22, 23, 0, 1, 2, 3))] == 0).all()
    roof = {"hyperscale": 0.05, "midsize": 0.03}
    for s in raw["sites"]:
        col = raw["time"]["sites"][s["id"]].get("renewable_share")
        if s["tier"] == "edge":
            assert col is None
            continue
        r = table[col].to_numpy()
        assert np.allclose(r, np.minimum(1, s["renewable_share"] + roof[s["tier"]] * pv), atol=1e-4)


def test_demand_shapes(table, clock):
    hour, _ = clock
    weekday = ~table["datetime"].pipe(pd.to_datetime).dt.day_of_week.ge(5).to_numpy()
    for col in ("infer_shape", "office_shape", "traffic_shape", "flat"):
        assert table[col].mean() == pytest.approx(1.0, abs=1e-3)
    inf = pd.Series(table["infer_shape"].to_numpy()).groupby(hour).mean()
    assert inf.idxmin() in (4, 5) and inf.idxmax() == 21 and inf.min() / inf.max() == pytest.approx(0.45, abs=0.01)
    office = table["office_shape"].to_numpy()
    day = (hour >= 9) & (hour < 18)
    assert office[day & weekday].min() / office[~day].max() == pytest.approx(1 / 0.6, rel=1e-3)
    assert table["traffic_shape"].max() / table["traffic_shape"].min() == pytest.approx(1 / 0.3, rel=1e-3)


def test_generator_reproduces_the_files(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(INSTANCES))
    mod = importlib.import_module("make_shanghai_hourly")
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.write()
    for rel in ("shanghai-2025-hourly.yaml", "shanghai-2025-hourly/workloads.csv"):
        assert (tmp_path / rel).read_bytes() == (INSTANCES / rel).read_bytes(), rel
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "shanghai-2025-hourly/periods.parquet"),
                                  pd.read_parquet(INSTANCES / "shanghai-2025-hourly/periods.parquet"))
    sys.modules.pop("make_shanghai_hourly", None)


def test_every_hour_has_a_plan_for_capacity_and_latency():
    """The peak-hour snapshot (each inflexible workload at its shape's peak) solves with
    the one-period engine, so no hour is short of servers or reach."""
    raw = peak_snapshot(PATH)
    res = computeplan.solve(computeplan.load_instance(raw), mip_gap=1e-3)
    assert res.status == "optimal"
    served = res.indicators["served_tflops"]
    assert res.indicators["unserved_tflops"] <= 1e-6 * served
    assert served > sum(w["demand_tflops"] for w in workload_records(ANNUAL, read_yaml(ANNUAL))
                        if w.get("must_serve", True)) * 1.05  # peaks are above the means
    assert math.isfinite(res.objective_value)
