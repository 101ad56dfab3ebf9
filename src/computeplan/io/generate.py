"""Seeded synthetic fleets for tests and benchmarks.

A generated fleet looks like a city's: a few hyperscale campuses on the outskirts, mid-size
urban sites, many small edge rooms; five workload classes with the precisions, hardware,
latency limits and residency a planner would expect. Latency limits keep candidate lists
sparse (edge work sees only nearby sites), and every workload is given at least one
candidate. Demand is scaled so the fleet is loaded to ``load`` of its IT capacity, which
keeps the instances feasible with room for the optimiser to choose.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from computeplan.io.write import INSTANCE, table_files, write_set, write_text

# (hardware, precision) choices per class, with the catalogue names.
CLASSES: dict[str, dict[str, Any]] = {
    "ai-training": {"share": 0.10, "precision": ["bf16", "fp16"], "hardware": [["gpu-8xh100", "npu-8x910b"], ["gpu-8xh100", "gpu-8xa100"], ["npu-8x910b"]],
                    "tiers": ["hyperscale"], "reach": (3, 8), "size": 8.0},
    "ai-inference": {"share": 0.30, "precision": ["fp16", "int8"], "hardware": [["gpu-8xh20", "gpu-4xl40s"], ["gpu-4xl40s"], ["gpu-8xa100", "gpu-8xh20"]],
                     "tiers": None, "reach": (6, 20), "size": 1.0},
    "general": {"share": 0.35, "precision": ["fp32"], "hardware": [["cpu-2s"]], "tiers": None, "reach": (8, 25), "size": 0.6},
    "hpc": {"share": 0.10, "precision": ["fp64"], "hardware": [["cpu-2s", "gpu-8xh100"], ["gpu-8xh100", "gpu-8xa100"]],
            "tiers": ["hyperscale", "midsize"], "reach": (4, 12), "size": 2.0},
    "edge": {"share": 0.15, "precision": ["fp16", "int8"], "hardware": [["gpu-4xl40s", "cpu-2s"], ["gpu-4xl40s"]],
             "tiers": ["edge", "midsize"], "reach": (3, 6), "size": 0.2},
}

TIER_MIX: dict[str, float] = {"hyperscale": 0.05, "midsize": 0.25, "edge": 0.70}
SITE_KIT: dict[str, dict[str, Any]] = {
    "hyperscale": {"facility": ["liquid-hyperscale", "air-hyperscale"], "kw": (10000, 40000), "halls": (4, 8),
                   "servers": {"gpu-8xh100": 0.30, "npu-8x910b": 0.20, "gpu-8xa100": 0.15, "gpu-8xh20": 0.1, "cpu-2s": 0.25}},
    "midsize": {"facility": ["air-midsize", "legacy-room"], "kw": (1000, 7000), "halls": (1, 3),
                "servers": {"gpu-8xa100": 0.15, "gpu-8xh20": 0.2, "gpu-4xl40s": 0.2, "cpu-2s": 0.45}},
    "edge": {"facility": ["edge-micromodular"], "kw": (60, 250), "halls": (1, 1),
             "servers": {"gpu-4xl40s": 0.5, "cpu-2s": 0.5}},
}


def _catalogue() -> dict[str, Any]:
    from computeplan.io.catalogue import models_dir

    d = models_dir()
    if d is None:
        raise FileNotFoundError("the generator needs the shipped catalogue (models/hardware.yaml)")
    return dict(yaml.safe_load((d / "hardware.yaml").read_text())["hardware"])


def generate_instance(
    n_workloads: int,
    n_sites: int,
    *,
    seed: int = 0,
    indivisible_share: float = 0.1,
    idle_share: float = 0.5,
    optional_share: float = 0.05,
    load: float = 0.45,
    name: str | None = None,
) -> dict[str, Any]:
    """A synthetic instance as a mapping (hardware from the shipped catalogue by name)."""
    if n_workloads < 1 or n_sites < 3:
        raise ValueError("need at least 1 workload and 3 sites")
    rng = np.random.default_rng(seed)
    hw = _catalogue()
    # Zones on a ~120 km city region; several sites may share a zone.
    n_zones = max(3, int(math.ceil(n_sites / 3)))
    half_deg = 0.5 * math.sqrt(max(n_sites, 20) / 20.0)
    zlat = 31.2 + rng.uniform(-half_deg, half_deg, n_zones)
    zlon = 118.0 + rng.uniform(-half_deg, half_deg, n_zones) * 1.2
    zones = {f"z{k:04d}": {"lat": round(float(zlat[k]), 4), "lon": round(float(zlon[k]), 4)} for k in range(n_zones)}
    znames = list(zones)
    counts = {t: max(1, int(round(TIER_MIX[t] * n_sites))) for t in ("hyperscale", "midsize")}
    counts["edge"] = max(1, n_sites - counts["hyperscale"] - counts["midsize"])
    sites: list[dict[str, Any]] = []
    for tier, cnt in counts.items():
        kit = SITE_KIT[tier]
        for _ in range(cnt):
            kw = float(np.round(rng.uniform(*kit["kw"]), -1))
            halls = int(rng.integers(kit["halls"][0], kit["halls"][1] + 1))
            servers = {}
            for h, frac in kit["servers"].items():
                # size each pool to its share of the power budget at full load
                servers[h] = int(max(1, kw * frac / hw[h]["peak_kw"] * rng.uniform(0.8, 1.1)))
            sites.append({
                "id": f"{tier[:2]}-{len(sites):05d}", "tier": tier, "zone": znames[int(rng.integers(n_zones))],
                "facility": str(rng.choice(kit["facility"])), "it_capacity_kw": kw, "halls": halls,
                "can_idle": bool(halls > 1 and rng.random() < idle_share),
                "max_utilisation": float(round(rng.uniform(0.8, 1.0), 2)),
                "price_per_kwh": float(round(rng.uniform(0.45, 0.85), 3)),
                "carbon_kg_per_kwh": 0.58, "renewable_share": float(round(rng.uniform(0.0, 0.4), 2)),
                "servers": servers,
            })
    site_lat = np.array([zones[s["zone"]]["lat"] for s in sites])
    site_lon = np.array([zones[s["zone"]]["lon"] for s in sites])
    tiers = np.array([s["tier"] for s in sites])

    def latency_to(zlat1: float, zlon1: float) -> np.ndarray:
        # FORMULATION.md's default latency model, so the limits match what the loader derives
        p1, p2 = np.radians(zlat1), np.radians(site_lat)
        a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(site_lon - zlon1) / 2) ** 2
        km = 2 * 6371.0 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        return km * 1.5 * 0.005 + 0.5

    classes = list(CLASSES)
    probs = np.array([CLASSES[c]["share"] for c in classes])
    cls_idx = rng.choice(len(classes), size=n_workloads, p=probs / probs.sum())
    origins = rng.integers(n_zones, size=n_workloads)
    variant = np.array([int(rng.integers(len(CLASSES[classes[c]]["hardware"]))) for c in cls_idx])
    prec_pick = rng.random(n_workloads)
    zone_lat = np.array([zones[z]["lat"] for z in znames])
    zone_lon = np.array([zones[z]["lon"] for z in znames])
    has_hw = {h: np.array([s["servers"].get(h, 0) > 0 for s in sites]) for h in hw}
    demand = rng.lognormal(0.0, 0.8, n_workloads)
    divisible = rng.random(n_workloads) >= indivisible_share
    must = rng.random(n_workloads) >= optional_share
    value = np.round(rng.uniform(0.001, 0.02, n_workloads), 4)
    reach_u = rng.random(n_workloads)
    # Pass 1: class, precision, hardware and reach of every workload; sorted latencies to
    # the eligible sites, once per (origin, class, hardware variant, precision).
    cache: dict[tuple[int, int, int, str], tuple[np.ndarray, np.ndarray, list[str]]] = {}
    keys: list[tuple[int, int, int, str]] = []
    for i in range(n_workloads):
        spec = CLASSES[classes[cls_idx[i]]]
        precs = spec["precision"]
        prec = precs[min(int(prec_pick[i] * len(precs)), len(precs) - 1)]
        key = (int(origins[i]), int(cls_idx[i]), int(variant[i]), prec)
        keys.append(key)
        if key not in cache:
            hwl = [h for h in spec["hardware"][variant[i]] if prec in hw[h]["perf_tflops"]]
            ok = np.zeros(len(sites), dtype=bool)
            for h in hwl:
                ok |= has_hw[h]
            if spec["tiers"] is not None:
                ok &= np.isin(tiers, spec["tiers"])
            lat = latency_to(zone_lat[key[0]], zone_lon[key[0]])
            idx = np.flatnonzero(ok)
            order = np.argsort(lat[idx], kind="stable")
            cache[key] = (lat[idx][order], idx[order], hwl)
    # Pass 2: demand. Each workload is sized against the spare capacity of one pool within
    # its reach (a feasible plan exists by construction), drawn around the fleet average.
    spare: dict[tuple[int, str], float] = {(j, h): load * n * sites[j]["max_utilisation"] for j in range(len(sites)) for h, n in sites[j]["servers"].items()}
    installed = {h: sum(s["servers"].get(h, 0) * s["max_utilisation"] for s in sites) for h in hw}
    count = {h: 0 for h in hw}
    for key in keys:
        count[cache[key][2][0]] += 1
    rows: list[dict[str, Any]] = []
    for i, key in enumerate(keys):
        c = classes[key[1]]
        spec = CLASSES[c]
        lats, site_idx, hwl = cache[key]
        lo, hi = spec["reach"]
        k = min(len(lats), lo + int(reach_u[i] * (hi - lo + 1)))
        max_lat = float(lats[k - 1]) * (1 + 1e-9) + 1e-9 if k < len(lats) else None
        h0, prec = hwl[0], key[3]
        want = demand[i] * spec["size"] / 1.4 * load * installed[h0] / max(count[h0], 1)
        near = [int(j) for j in site_idx[:k] if (int(j), h0) in spare]
        j = max(near, key=lambda jj: spare[(jj, h0)]) if near else -1
        busy = float(min(want, spare[(j, h0)])) if j >= 0 else 0.0
        if j >= 0:
            spare[(j, h0)] -= busy
        tflops = round(busy * hw[h0]["perf_tflops"][prec], 3)
        rows.append({
            "id": f"w{i:07d}", "class": c, "demand_tflops": max(tflops, 0.001),
            "precision": prec, "hardware": hwl, "origin": znames[key[0]], "max_latency_ms": max_lat,
            "tiers": spec["tiers"], "divisible": bool(divisible[i]),
            "must_serve": bool(must[i]) and tflops > 0, "value_per_tflops_hour": float(value[i]),
        })
    return {
        "computeplan": 1, "name": name or f"generated-{n_workloads}x{n_sites}-s{seed}",
        "unserved_penalty": None, "zones": zones, "sites": sites, "workloads": rows,
    }


def _table(records: list[dict[str, Any]], section: str) -> pd.DataFrame:
    flat = []
    for r in records:
        row = {k: v for k, v in r.items() if k != "servers"}
        for k in ("hardware", "tiers", "sites"):
            if k in row:
                row[k] = ";".join(row[k]) if row[k] else None
        if section == "sites":
            for h, n in r["servers"].items():
                row[f"servers.{h}"] = n
        flat.append(row)
    return pd.DataFrame(flat)


def write_instance(raw: dict[str, Any], out: str | Path, *, tables: str | None = None) -> Path:
    """Write a generated instance: one YAML file, or YAML + ``csv``/``parquet`` tables, replacing
    the instance files in ``out`` as one set (:func:`computeplan.io.write.write_set`)."""
    out = Path(out)
    doc = {k: v for k, v in raw.items() if v is not None}
    files = {}
    if tables in ("csv", "parquet"):
        frames = {section: _table(raw[section], section) for section in ("sites", "workloads")}
        files = table_files(frames, (tables,))
        for section in frames:
            doc[section] = {tables: f"{section}.{tables}"}
    files["instance.yaml"] = write_text(yaml.safe_dump(doc, sort_keys=False, width=120))
    return write_set(out, INSTANCE, files)[-1]
