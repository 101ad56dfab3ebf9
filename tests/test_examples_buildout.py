"""instances/shanghai-2030-buildout: the build blocks follow FORMATS.md "Build-out", the
figures follow their documented basis (growth factors, capital figures, latency of the
candidate hubs, policy PUEs), the generator reproduces the files, and with every option
built the fleet serves all 2030 demand within its targets (so the build-out model has a
plan)."""

from __future__ import annotations

import importlib
import sys

import pytest
from examples_support import (
    INSTANCES,
    catalogue,
    everything_built,
    latency_ms,
    read_yaml,
    workload_records,
)

import computeplan

PATH = INSTANCES / "shanghai-2030-buildout.yaml"
ANNUAL = INSTANCES / "shanghai-2025.yaml"
GROWTH = {"ai-training": 3.0, "ai-inference": 3.0, "edge": 2.0, "general": 1.5, "hpc": 1.5}
CANDIDATES = {"hub-qingpu-west", "hub-wujiang", "hub-jiashan", "hub-qingyang", "hub-zhongwei"}


@pytest.fixture(scope="module")
def raw():
    return read_yaml(PATH)


def _sig3(x: float) -> float:
    return float(f"{x:.3g}")


def test_build_blocks_follow_the_format(raw):
    hw = {**catalogue("hardware"), **raw["hardware"]}
    buildable = set()
    for s in raw["sites"]:
        b = s.get("build")
        if b is None:
            continue
        assert set(b) <= {"halls_max", "hall_kw", "hall_capex", "site_capex", "lifetime_years", "servers_max"}
        assert set(b["servers_max"]) <= set(hw) and all(n > 0 for n in b["servers_max"].values())
        buildable |= set(b["servers_max"])
        if b.get("halls_max", 0) > 0:
            assert b["hall_capex"] > 0
        if s["halls"] == 0:
            assert s["it_capacity_kw"] == 0 and s["servers"] == {} and b["hall_kw"] > 0
            assert b["site_capex"] > 0 and b["halls_max"] > 0
        else:
            assert "hall_kw" not in b and "site_capex" not in b
    assert {s["id"] for s in raw["sites"] if s["halls"] == 0} == CANDIDATES
    # capex (and the other build fields) for every model that can be built, in the instance
    assert buildable == set(raw["hardware"]) == {"npu-8x910b", "gpu-8xh20", "gpu-4xl40s", "cpu-2s"}
    cat = catalogue("hardware")
    for name, h in raw["hardware"].items():
        assert h["capex"] > 0 and h["lifetime_years"] in (5, 6) and h["embodied_kg"] > 0
        assert {k: h[k] for k in ("perf_tflops", "idle_kw", "peak_kw")} == {
            k: cat[name][k] for k in ("perf_tflops", "idle_kw", "peak_kw")}
    # every number YAML 1.1 must read as a number (1.2e6 without a dot would be a string)
    for s in raw["sites"]:
        for k, v in (s.get("build") or {}).items():
            assert k == "servers_max" or isinstance(v, (int, float)), (s["id"], k, v)
    assert raw["discount_rate"] == 0.06 and raw["objective"] == "cost"


def test_existing_fleet_unchanged_and_legacy_rooms_not_extended(raw):
    annual = read_yaml(ANNUAL)
    existing = [{k: v for k, v in s.items() if k != "build"} for s in raw["sites"] if s["id"] not in CANDIDATES]
    assert existing == annual["sites"]
    for s in raw["sites"]:
        if s["facility"] == "legacy-room":
            assert "build" not in s
    hall_growth = {s["id"]: s["build"]["halls_max"] for s in raw["sites"]
                   if s.get("build", {}).get("halls_max", 0) > 0 and s["id"] not in CANDIDATES}
    assert hall_growth == {"lg-hs-1": 2, "qp-hs-1": 2, "sj-hs-1": 2, "js-hs-1": 1}
    for s in raw["sites"]:  # 40 M yuan per MW of hall IT capacity in the east
        if s["id"] in hall_growth:
            assert s["build"]["hall_capex"] == pytest.approx(s["it_capacity_kw"] / s["halls"] / 1000 * 4.0e7)


def test_demand_grows_by_class_and_ai_may_use_what_can_be_bought(raw):
    hw = catalogue("hardware")
    old = {w["id"]: w for w in workload_records(ANNUAL, read_yaml(ANNUAL))}
    new = workload_records(PATH, raw)
    assert [w["id"] for w in new] == list(old)
    for w in new:
        o = old[w["id"]]
        assert w["demand_tflops"] == pytest.approx(_sig3(o["demand_tflops"] * GROWTH[w["class"]]))
        assert w["hardware"][: len(o["hardware"])] == o["hardware"]
        added = w["hardware"][len(o["hardware"]):]
        if w["class"] in ("ai-training", "ai-inference"):
            want = [m for m in ("npu-8x910b", "gpu-8xh20") if m not in o["hardware"] and w["precision"] in hw[m]["perf_tflops"]]
            assert sorted(added) == sorted(want)
        else:
            assert added == []
        assert {k: v for k, v in w.items() if k not in ("demand_tflops", "hardware")} == {
            k: v for k, v in o.items() if k not in ("demand_tflops", "hardware")}
    total_old = sum(w["demand_tflops"] for w in old.values())
    assert 2.8 < sum(w["demand_tflops"] for w in new) / total_old < 3.0  # AI dominates: close to x3


def test_candidate_hubs_where_the_basis_puts_them(raw):
    coords = {z: (v["lat"], v["lon"]) for z, v in raw["zones"].items()}
    fac = {**catalogue("facilities"), **raw["facilities"]}
    site = {s["id"]: s for s in raw["sites"]}
    downtown = coords["huangpu"]
    for sid in ("hub-qingpu-west", "hub-wujiang", "hub-jiashan"):
        s = site[sid]
        assert fac[s["facility"]]["pue_full"] <= 1.25  # Yangtze-delta cluster
        lat = latency_ms(downtown, coords[s["zone"]])
        assert 0.9 <= lat <= 1.2, (sid, lat)  # interactive inference (0.9 ms) stays in the city
        assert s["build"]["site_capex"] == 2.0e8
        assert s["build"]["hall_capex"] == pytest.approx(s["build"]["hall_kw"] / 1000 * 4.0e7)
    for sid in ("hub-qingyang", "hub-zhongwei"):
        s = site[sid]
        assert fac[s["facility"]]["pue_full"] < 1.2  # western hubs
        rtt = 2 * latency_ms(downtown, coords[s["zone"]])
        assert 20 <= rtt <= 30, (sid, rtt)
        assert s["price_per_kwh"] <= 0.36 and s["renewable_share"] == 0.8
        assert s["build"]["site_capex"] == 3.0e8
        assert s["build"]["hall_capex"] == pytest.approx(s["build"]["hall_kw"] / 1000 * 3.0e7)
    # only work without a latency budget can go west: every budget in the instance is < 2 ms
    budgets = [w["max_latency_ms"] for w in workload_records(PATH, raw) if "max_latency_ms" in w]
    assert max(budgets) < 2.0
    # the capital recovery factor at 6 % over 15 and 5 years (FORMULATION.md section 11)
    crf = [r / (1 - (1 + r) ** -n) for r, n in ((0.06, 15), (0.06, 5))]
    assert crf == pytest.approx([0.10296, 0.23740], abs=1e-5)


def test_generator_reproduces_the_files(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(INSTANCES))
    mod = importlib.import_module("make_shanghai_2030")
    monkeypatch.setattr(mod, "HERE", tmp_path)
    monkeypatch.setattr(mod, "CATALOGUE", INSTANCES.parent / "models" / "hardware.yaml")
    mod.write()
    for rel in ("shanghai-2030-buildout.yaml", "shanghai-2030-buildout/workloads.csv"):
        assert (tmp_path / rel).read_bytes() == (INSTANCES / rel).read_bytes(), rel
    sys.modules.pop("make_shanghai_2030", None)


def test_everything_built_serves_2030_within_the_targets():
    raw = everything_built(PATH)
    res = computeplan.solve(computeplan.load_instance(raw), mip_gap=1e-3, objective="energy")
    assert res.status == "optimal"
    ind = res.indicators
    demand = sum(w["demand_tflops"] for w in raw["workloads"] if w.get("must_serve", True))
    assert ind["served_tflops"] >= demand * (1 - 1e-9)
    assert ind["renewable_share"] >= 0.50 - 1e-6 and ind["fleet_pue"] <= 1.25 + 1e-6


def test_nothing_built_cannot_serve_2030(raw):
    """Without new capacity, 2030's demand does not fit even with no targets at all: the
    build decisions are needed, not decoration."""
    bare = {k: v for k, v in raw.items() if k not in ("discount_rate", "targets")}
    bare["hardware"] = {n: {k: v for k, v in h.items() if k not in ("capex", "lifetime_years", "embodied_kg")}
                        for n, h in raw["hardware"].items()}
    bare["sites"] = [{k: v for k, v in s.items() if k != "build"} for s in raw["sites"] if s["halls"] > 0]
    bare["workloads"] = workload_records(PATH, raw)
    res = computeplan.solve(computeplan.load_instance(bare), mip_gap=1e-3, objective="energy")
    assert res.status == "infeasible"
