"""``computeplan generate --hours N`` and ``--build``: without them the output is
byte-for-byte what it always was; with them the added blocks are well-formed per
FORMATS.md ("Time", "Build-out"), seeded, leave the fleet itself unchanged, and keep a
plan (every hour at its peak; every option built)."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
import yaml
from examples_support import catalogue, everything_built, latency_ms, peak_snapshot
from typer.testing import CliRunner

import computeplan
from computeplan.cli import app
from computeplan.io.generate import generate_instance, write_instance

# sha256 of the files the generator writes without --hours and --build (the YAML with
# shared lists spelled out, not as anchors and aliases; the data as before)
GOLDEN = {
    ((40, 6, 3), None): {"instance.yaml": "2d9e7aeeabc12532ca1ffd3129059682873b00cb89ff924e0bd9cf1a11f06cf3"},
    ((200, 20, 7), "csv"): {
        "instance.yaml": "d26ee78816e5480c04646c79551e8b96119ad81fbb70dd5bd6c43add6a3d8112",
        "sites.csv": "b473a2a2be4e0ca42cc2cb65ca8f104a3344f0921822f7f49187cdcffe6f1eba",
        "workloads.csv": "8f4328a208fcf643d37b9af2977cdd48ca660fee22f7f55b4ad1754f831ce8f5",
    },
    ((25, 5, 0), None): {"instance.yaml": "86ecf4d063feffec1a1217b42bf3205cf7243cf3994f89b9cc9cff598a573b88"},
}


@pytest.mark.parametrize(("args", "tables"), list(GOLDEN))
def test_output_without_the_new_options_is_unchanged(tmp_path, args, tables):
    n, m, seed = args
    raw = generate_instance(n, m, seed=seed)
    assert raw == generate_instance(n, m, seed=seed, hours=None, build=False)
    write_instance(raw, tmp_path, tables=tables)
    got = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in tmp_path.iterdir() if not p.name.startswith(".")}
    assert got == GOLDEN[(args, tables)]


def test_cli_default_output_is_unchanged(tmp_path):
    r = CliRunner().invoke(app, ["generate", "-n", "40", "-m", "6", "--seed", "3", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    digest = hashlib.sha256((tmp_path / "instance.yaml").read_bytes()).hexdigest()
    assert digest == GOLDEN[((40, 6, 3), None)]["instance.yaml"]


def test_new_blocks_are_seeded_and_leave_the_fleet_alone():
    plain = generate_instance(60, 8, seed=3)
    a = generate_instance(60, 8, seed=3, hours=48, build=True)
    assert a == generate_instance(60, 8, seed=3, hours=48, build=True)
    assert a != generate_instance(60, 8, seed=4, hours=48, build=True)
    assert [{k: v for k, v in s.items() if k != "build"} for s in a["sites"][: len(plain["sites"])]] == plain["sites"]
    assert [{k: v for k, v in w.items() if k != "flex_window_hours"} for w in a["workloads"]] == plain["workloads"]
    assert {k: a["zones"][k] for k in plain["zones"]} == plain["zones"]
    # one option does not disturb the other's draws
    assert generate_instance(60, 8, seed=3, hours=48)["time"] == {
        **a["time"], "sites": {k: v for k, v in a["time"]["sites"].items() if not k.startswith("cand-")},
        "zones": {k: v for k, v in a["time"]["zones"].items() if not k.startswith("cand-")},
        "periods": {k: v for k, v in a["time"]["periods"].items() if not k.startswith("price_cand-")
                    and k != "carbon_0550"}}


@pytest.mark.parametrize(("hours", "window"), [(48, 24), (30, 6), (168, 24), (7, None)])
def test_time_block_is_well_formed(hours, window):
    raw = generate_instance(120, 12, seed=1, hours=hours, build=True)
    time = raw["time"]
    cols = time["periods"]
    assert raw["horizon_hours"] == hours
    assert all(len(v) == hours for v in cols.values())
    assert cols["datetime"][0] == "2025-01-01T00:00" and len(set(cols["datetime"])) == hours
    zones, sites = set(raw["zones"]), {s["id"]: s for s in raw["sites"]}
    classes = {w["class"] for w in raw["workloads"]}
    assert set(time["zones"]) == zones and set(time["sites"]) == set(sites)
    assert set(time["demand"]) <= classes
    for mapping in (*time["zones"].values(), *time["sites"].values(), time["demand"]):
        for field, col in mapping.items():
            v = np.asarray(cols[col], dtype=float)
            assert np.isfinite(v).all(), (field, col)
            if field != "temperature_c":
                assert v.min() >= 0, (field, col)
    temp = np.asarray(cols["temp"])
    assert -15 < temp.min() and temp.max() < 45
    for col in time["demand"].values():
        s = np.asarray(cols[col])
        assert s.mean() == pytest.approx(1.0, abs=1e-3) and s.min() > 0
        if hours % 24 == 0:  # over whole days no shape peaks above 1.5 x its mean
            assert s.max() <= 1.5 + 1e-3
    for sid, mapping in time["sites"].items():
        p = np.asarray(cols[mapping["price_per_kwh"]])
        tier = sites[sid]["tier"]
        same = [s["price_per_kwh"] for s in raw["sites"] if s["tier"] == tier and s["halls"] > 0]
        mean = sites[sid]["price_per_kwh"] if sites[sid]["halls"] == 0 else np.mean(same)
        assert p.mean() == pytest.approx(mean, rel=1e-3)  # a flat load pays the site's (tier's) price
        c = np.asarray(cols[mapping["carbon_kg_per_kwh"]])
        assert c.mean() == pytest.approx(sites[sid]["carbon_kg_per_kwh"], rel=1e-3)
    hour = np.arange(hours) % 24
    p = np.asarray(cols["price_hyperscale"])
    if hours >= 24:
        assert p[np.isin(hour, (0, 1, 2, 3))].max() < p[np.isin(hour, (8, 9, 10))].min()  # valley < peak
    flex = {w.get("flex_window_hours") for w in raw["workloads"] if w["class"] == "ai-training"}
    assert flex == {window}
    if window:
        assert 24 % window == 0 and hours % window == 0
    assert not any("flex_window_hours" in w for w in raw["workloads"] if w["class"] != "ai-training")
    cat = catalogue("facilities")
    assert set(raw["facilities"]) == {s["facility"] for s in raw["sites"]}
    for name, f in raw["facilities"].items():
        assert (f["pue_full"], f["pue_quarter"]) == (cat[name]["pue_full"], cat[name]["pue_quarter"])
        c = f["cooling"]
        assert c["free_below_c"] < c["design_c"] and c["pue_full_at_design"] >= f["pue_full"]


def test_build_block_is_well_formed():
    raw = generate_instance(200, 20, seed=1, build=True)  # the build-out benchmark fleet
    hw = raw["hardware"]
    cat = catalogue("hardware")
    assert set(hw) == set(cat)
    for name, h in hw.items():
        assert {k: h[k] for k in ("perf_tflops", "idle_kw", "peak_kw")} == {k: cat[name][k] for k in ("perf_tflops", "idle_kw", "peak_kw")}
        assert h["capex"] > 0 and h["lifetime_years"] >= 1 and h["embodied_kg"] > 0
    cands = [s for s in raw["sites"] if s["id"].startswith("cand-")]
    assert len(cands) == 10 and len(raw["sites"]) == 30
    centre = (np.mean([z["lat"] for k, z in raw["zones"].items() if not k.startswith("cand-")]),
              np.mean([z["lon"] for k, z in raw["zones"].items() if not k.startswith("cand-")]))
    west = 0
    for s in raw["sites"]:
        b = s["build"]
        assert set(b["servers_max"]) <= set(hw) and all(n > 0 for n in b["servers_max"].values())
        if s in cands:
            assert s["halls"] == 0 and s["it_capacity_kw"] == 0 and s["servers"] == {}
            assert b["hall_kw"] > 0 and b["halls_max"] >= 4 and b["hall_capex"] > 0 and b["site_capex"] > 0
            assert s["zone"] in raw["zones"]
            z = raw["zones"][s["zone"]]
            rtt = 2 * latency_ms(centre, (z["lat"], z["lon"]))
            if rtt > 5:
                west += 1
                assert 18 <= rtt <= 32 and s["price_per_kwh"] < 0.4
        elif s["tier"] == "edge":
            assert b["halls_max"] == 0 and "hall_capex" not in b
        else:
            assert 1 <= b["halls_max"] <= 2 and b["hall_capex"] > 0 and "site_capex" not in b
            assert set(b["servers_max"]) == set(s["servers"])
    assert west == 4


def test_cli_writes_periods_as_a_table_and_sites_inline(tmp_path):
    r = CliRunner().invoke(app, ["generate", "-n", "30", "-m", "5", "--hours", "24", "--build", "--tables", "csv",
                                 "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith("."))
    assert names == ["instance.yaml", "periods.csv", "workloads.csv"]  # build blocks keep sites inline
    doc = yaml.safe_load((tmp_path / "instance.yaml").read_text())
    assert doc["time"]["periods"] == {"csv": "periods.csv"} and isinstance(doc["sites"], list)
    table = pd.read_csv(tmp_path / "periods.csv")
    assert len(table) == 24 and set(doc["time"]["demand"].values()) <= set(table.columns)
    r = CliRunner().invoke(app, ["generate", "-n", "30", "-m", "5", "--hours", "12", "--out", str(tmp_path / "inline")])
    assert r.exit_code == 0, r.output
    doc = yaml.safe_load((tmp_path / "inline" / "instance.yaml").read_text())
    assert all(len(v) == 12 for v in doc["time"]["periods"].values())
    raw = {k: v for k, v in generate_instance(30, 5, hours=12).items() if v is not None}
    assert doc == yaml.safe_load(yaml.safe_dump(raw))


def test_cli_refuses_zero_hours(tmp_path):
    r = CliRunner().invoke(app, ["generate", "-n", "30", "-m", "5", "--hours", "0", "--out", str(tmp_path)])
    assert r.exit_code == 2
    assert not (tmp_path / "instance.yaml").exists()


def test_every_hour_and_every_build_keep_a_plan(tmp_path):
    path = write_instance(generate_instance(150, 10, seed=2, hours=48), tmp_path / "t")
    res = computeplan.solve(computeplan.load_instance(peak_snapshot(path)), mip_gap=1e-3)
    assert res.status == "optimal"
    path = write_instance(generate_instance(150, 10, seed=2, build=True), tmp_path / "b")
    res = computeplan.solve(computeplan.load_instance(everything_built(path)), mip_gap=1e-3)
    assert res.status == "optimal"
