"""instances/four-grids-2022: the carbon series are the Electricity Maps 2022 data, the
attribution and licences travel with them, latency pins interactive work to its region
and lets batch and training move as documented, and every hour has a plan."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pandas as pd
import pytest
from examples_support import INSTANCES, latency_ms, peak_snapshot, periods, read_yaml
from support import require_data, shared_dir

import computeplan

PATH = INSTANCES / "four-grids-2022.yaml"
ZONES = {"ca": "US-CAL-CISO", "es": "ES", "no": "NO", "br": "BR"}


@pytest.fixture(scope="module")
def raw():
    return read_yaml(PATH)


@pytest.fixture(scope="module")
def table(raw):
    return periods(PATH, raw)


def test_carbon_series_are_the_published_data(table):
    grid = require_data(shared_dir() / "data" / "grid")
    assert len(table) == 8760
    for g, zone in ZONES.items():
        src = pd.read_csv(grid / f"{zone}_2022.csv")
        assert list(src["datetime_utc"]) == list(table["datetime"])
        np.testing.assert_allclose(table[f"carbon_{g}"], src["carbon_direct_g_per_kwh"] / 1000.0, atol=5e-7)
    # the README's figures: mean direct intensity, g/kWh
    means = {g: 1000 * table[f"carbon_{g}"].mean() for g in ZONES}
    assert means == pytest.approx({"ca": 194.6, "es": 166.8, "no": 12.8, "br": 59.9}, abs=0.06)


def test_attribution_and_licences_beside_the_data():
    text = (INSTANCES / "four-grids-2022" / "README.md").read_text()
    assert "Data: Electricity Maps, ODbL 1.0" in text
    assert "Open Database License (ODbL 1.0)" in text and "Database Contents License (DbCL 1.0)" in text
    assert "Data: Electricity Maps, ODbL 1.0" in (INSTANCES / "README.md").read_text()
    assert "Electricity Maps" in PATH.read_text().split("computeplan: 1")[0]


def test_time_block_and_sites(raw, table):
    time = raw["time"]
    assert raw["horizon_hours"] == len(table) == 8760 and raw["objective"] == "carbon"
    zone_grid = {z: z.split("-")[0] for z in raw["zones"]}
    assert time["zones"] == {z: {"carbon_kg_per_kwh": f"carbon_{g}"} for z, g in zone_grid.items()}
    ids = {w["id"] for w in raw["workloads"]}
    assert set(time["demand"]) <= ids and all(c in table for c in time["demand"].values())
    for s in raw["sites"]:
        g = zone_grid[s["zone"]]
        # the constant intensity is the grid's 2022 mean (what a one-period model would use)
        assert s["carbon_kg_per_kwh"] == pytest.approx(table[f"carbon_{g}"].mean(), abs=5e-5)
        assert s["renewable_share"] == 0.0  # the grids' renewables are in their intensities
    for col in table.columns[1:]:
        v = table[col].to_numpy(dtype=float)
        assert np.isfinite(v).all() and v.min() > 0
    for w in raw["workloads"]:
        assert w.get("flex_window_hours") == (24 if w["class"] in ("ai-training", "batch") else None)
        if w["id"] in time["demand"]:  # shapes in the user's local time
            assert time["demand"][w["id"]].endswith("_" + w["origin"].split("-")[0])


def test_inference_peaks_at_the_regions_local_evening(table):
    utc_hour = table["datetime"].str.slice(11, 13).astype(int)
    # July: PDT = UTC-7, CEST = UTC+2, BRT = UTC-3; the inference shape peaks at 21:00 local
    july = table["datetime"].str.startswith("2022-07")
    for g, offset in {"ca": -7, "es": 2, "no": 2, "br": -3}.items():
        by_hour = table.loc[july, f"infer_{g}"].groupby(utc_hour[july]).mean()
        assert (by_hour.idxmax() + offset) % 24 == 21, g


def test_latency_pins_interactive_work_and_lets_batch_move(raw):
    coords = {z: (v["lat"], v["lon"]) for z, v in raw["zones"].items()}
    site_zone = {s["id"]: s["zone"] for s in raw["sites"]}
    tier = {s["id"]: s["tier"] for s in raw["sites"]}

    def reach(w):
        return {sid for sid, z in site_zone.items()
                if (w.get("max_latency_ms") is None or latency_ms(coords[w["origin"]], coords[z]) <= w["max_latency_ms"])
                and (w.get("tiers") is None or tier[sid] in w["tiers"])
                and (w.get("sites") is None or sid in w["sites"])}

    by_id = {w["id"]: w for w in raw["workloads"]}
    for w in raw["workloads"]:
        region = w["origin"].split("-")[0]
        got = {s.split("-")[0] for s in reach(w)}
        if w["class"] in ("ai-inference", "general"):
            assert got == {region}, w["id"]
    assert {s.split("-")[0] for s in reach(by_id["batch-es"])} == {"es", "no"}
    assert {s.split("-")[0] for s in reach(by_id["batch-ca"])} == {"ca"}
    assert {s.split("-")[0] for s in reach(by_id["batch-br"])} == {"br", "es"}
    assert reach(by_id["train-01"]) == {"ca-hs", "es-hs", "no-hs", "br-hs"}
    assert reach(by_id["train-03"]) == {"es-hs", "no-hs"}
    assert latency_ms(coords["es-madrid"], coords["no-oslo"]) == pytest.approx(18.4, abs=0.3)


def test_generator_reproduces_the_files(tmp_path, monkeypatch):
    grid = require_data(shared_dir() / "data" / "grid")
    monkeypatch.syspath_prepend(str(INSTANCES))
    mod = importlib.import_module("make_four_grids")
    monkeypatch.setattr(mod, "HERE", tmp_path)
    mod.write(mod.periods(grid))
    assert (tmp_path / "four-grids-2022.yaml").read_bytes() == PATH.read_bytes()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "four-grids-2022/periods.parquet"),
                                  pd.read_parquet(INSTANCES / "four-grids-2022/periods.parquet"))
    for name in ("make_four_grids", "make_shanghai_hourly"):
        sys.modules.pop(name, None)


def test_every_hour_has_a_plan_and_training_fills_norway_first():
    res = computeplan.solve(computeplan.load_instance(peak_snapshot(PATH)), mip_gap=1e-4)
    assert res.status == "optimal"
    # Norway's GPUs (500 H100 + 400 A100, at most 90 % busy) are full; the rest of the
    # training goes to the next-cleanest grids, never to California's
    pools = res.pools.set_index(["site", "hardware"])["busy_servers"]
    assert pools["no-hs", "gpu-8xh100"] == pytest.approx(450, rel=1e-6)
    assert pools["no-hs", "gpu-8xa100"] == pytest.approx(360, rel=1e-6)
    a = res.assignments
    train = a[a["workload"].str.startswith("train")].groupby("site")["tflops"].sum()
    assert set(train.index) <= {"no-hs", "br-hs", "es-hs"}
