"""Seeded synthetic fleets for tests and benchmarks.

A generated fleet looks like a city's: a few hyperscale campuses on the outskirts, mid-size
urban sites, many small edge rooms; five workload classes with the precisions, hardware,
latency limits and residency a planner would expect. Latency limits keep candidate lists
sparse (edge work sees only nearby sites), and every workload is given at least one
candidate. Demand is scaled so the fleet is loaded to ``load`` of its IT capacity, which
keeps the instances feasible with room for the optimiser to choose.

Two options add the blocks of FORMULATION.md sections 10 and 11, each drawn from its own
random stream so that the fleet itself does not change: ``hours=N`` a ``time:`` block of N
hourly periods (seeded diurnal and seasonal profiles of price, carbon and temperature,
demand shapes per class, facility cooling, flexible training), ``build=True`` build
options at the existing sites, 10 candidate sites and the capital figures of hardware.
Their figures are also the basis of the shipped examples (``instances/make_*.py``).
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
    hours: int | None = None,
    build: bool = False,
) -> dict[str, Any]:
    """A synthetic instance as a mapping (hardware from the shipped catalogue by name).

    ``hours``: add a ``time:`` block of that many hourly periods (:func:`add_time`);
    ``build``: add build options and candidate sites (:func:`add_build`). Without them the
    fleet is exactly the one these arguments have always given.
    """
    if n_workloads < 1 or n_sites < 3:
        raise ValueError("need at least 1 workload and 3 sites")
    if hours is not None and not 1 <= hours <= MAX_GENERATED_HOURS:
        raise ValueError(f"hours must be in 1..{MAX_GENERATED_HOURS}, got {hours}")
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
    raw: dict[str, Any] = {
        "computeplan": 1, "name": name or f"generated-{n_workloads}x{n_sites}-s{seed}",
        "unserved_penalty": None, "zones": zones, "sites": sites, "workloads": rows,
    }
    if build:
        raw = add_build(raw, seed=seed)
    if hours is not None:
        raw = add_time(raw, hours, seed=seed)
    return raw


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


class _PlainDumper(yaml.SafeDumper):
    """YAML as a person writes it: a list that several workloads share (their tiers or
    hardware) is written out at each, not as an anchor and aliases (which a reader then
    has to expand and count)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_instance(raw: dict[str, Any], out: str | Path, *, tables: str | None = None) -> Path:
    """Write a generated instance: one YAML file, or YAML + ``csv``/``parquet`` tables, replacing
    the instance files in ``out`` as one set (:func:`computeplan.io.write.write_set`)."""
    out = Path(out)
    doc = {k: v for k, v in raw.items() if v is not None}
    time = doc.pop("time", None)
    files = {}
    if tables in ("csv", "parquet"):
        # sites with build blocks stay inline: FORMATS.md gives build no table columns
        sections = ("workloads",) if any("build" in s for s in raw["sites"]) else ("sites", "workloads")
        frames = {section: _table(raw[section], section) for section in sections}
        if time is not None:
            frames["periods"] = pd.DataFrame(time["periods"])
        files = table_files(frames, (tables,))
        for section in sections:
            doc[section] = {tables: f"{section}.{tables}"}
        if time is not None:
            time = {**time, "periods": {tables: f"periods.{tables}"}}
    text = yaml.dump(doc, Dumper=_PlainDumper, sort_keys=False, width=120)
    if time is not None:
        # period columns inline as flow lists, one column a paragraph rather than a line a value
        text += yaml.dump({"time": time}, Dumper=_PlainDumper, sort_keys=False, width=120, default_flow_style=None)
    files["instance.yaml"] = write_text(text)
    return write_set(out, INSTANCE, files)[-1]


# --------------------------------------------------------------------------------------
# Time (FORMULATION.md section 10): profiles shared with the shipped hourly examples
# --------------------------------------------------------------------------------------
MAX_GENERATED_HOURS = 8784  # a leap year

# Demand shapes by local clock hour, multiples of the mean [R]:
#  inference follows people: trough 0.45 of the daily peak at 04-05, plateau through the
#    working day, peak at 21:00 (the diurnal pattern of published LLM-serving traces);
#    weekends x 0.9. Peak / mean ~1.34.
#  office (general IT): weekdays 09-18 at 1.0, weekend days 0.7, nights 0.6.
#  traffic (edge: V2X, video): rush hours 07-09 and 17-19 at 1.0, other daytime 0.8,
#    night 0.3.
INFERENCE_DAY = (0.62, 0.54, 0.49, 0.46, 0.45, 0.45, 0.50, 0.60, 0.74, 0.85, 0.90, 0.92,
                 0.90, 0.91, 0.92, 0.92, 0.91, 0.90, 0.90, 0.93, 0.97, 1.00, 0.92, 0.76)
SHAPE_OF_CLASS = {"ai-inference": "infer_shape", "general": "office_shape", "edge": "traffic_shape"}
FLEX_CLASSES = ("ai-training",)

# Facility cooling [R]: (free_below_c, pue_full_at_design) per catalogue facility. Warm-
# water liquid cooling runs on dry coolers up to ~15 degC; chilled water with a water-side
# economiser below ~10 degC; urban midsize chillers below ~8 degC; micro-modules' DX units
# with an air economiser below ~15 degC; legacy rooms (no economiser) below ~5 degC. A
# facility not listed gets FREE_COOLING_DEFAULT and its pue_full + 0.15 at design.
COOLING: dict[str, tuple[float, float]] = {
    "liquid-hyperscale": (15.0, 1.22),
    "air-hyperscale": (10.0, 1.36),
    "air-midsize": (8.0, 1.52),
    "edge-micromodular": (15.0, 1.80),
    "legacy-room": (5.0, 2.10),
}
FREE_COOLING_DEFAULT = 12.0
DESIGN_C = 35.0  # the generated climate's design temperature (hotter than its warmest normal hour)

# Time-of-use tariff periods and levels relative to flat [R] (Shanghai-style: peak 08-11 and
# 18-21, valley 22-06; 1.10 / 0.70 / 0.32 yuan/kWh at 10 kV; summer critical peak 12-14 in
# July-August at peak x 1.2, the minimum uplift of NDRC 发改价格〔2021〕1093号).
TOU_LEVEL = {"peak": 1.10, "flat": 0.70, "valley": 0.32}
PEAK_HOURS = (8, 9, 10, 18, 19, 20)
VALLEY_HOURS = (22, 23, 0, 1, 2, 3, 4, 5)
CRITICAL_MONTHS, CRITICAL_HOURS, CRITICAL_UPLIFT = (7, 8), (12, 13), 1.2


def inference_shape(hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """People-driven demand by local clock hour, mean 1 over the given hours."""
    s = np.asarray(INFERENCE_DAY)[np.asarray(hour) % 24] * np.where(weekend, 0.9, 1.0)
    return np.asarray(s / s.mean())


def office_shape(hour: np.ndarray, weekend: np.ndarray) -> np.ndarray:
    """Office-hours demand: weekdays 09-18 at 1.0, weekend days 0.7, nights 0.6; mean 1."""
    h = np.asarray(hour) % 24
    day = (h >= 9) & (h < 18)
    s = np.where(day, np.where(weekend, 0.7, 1.0), 0.6)
    return np.asarray(s / s.mean())


def traffic_shape(hour: np.ndarray) -> np.ndarray:
    """Traffic demand: rush hours 07-09 and 17-19 at 1.0, day 0.8, night 0.3; mean 1."""
    h = np.asarray(hour) % 24
    day = (h >= 6) & (h < 22)
    s = np.where(np.isin(h, (7, 8, 17, 18)), 1.0, np.where(day, 0.8, 0.3))
    return np.asarray(s / s.mean())


def tou_levels(hour: np.ndarray, month: np.ndarray) -> np.ndarray:
    """The time-of-use level of each hour (TOU_LEVEL units), critical peak included."""
    h, m = np.asarray(hour) % 24, np.asarray(month)
    p = np.full(h.shape, TOU_LEVEL["flat"])
    p[np.isin(h, PEAK_HOURS)] = TOU_LEVEL["peak"]
    p[np.isin(h, VALLEY_HOURS)] = TOU_LEVEL["valley"]
    p[np.isin(m, CRITICAL_MONTHS) & np.isin(h, CRITICAL_HOURS)] = TOU_LEVEL["peak"] * CRITICAL_UPLIFT
    return p


def cooling_block(name: str, pue_full: float, design_c: float = DESIGN_C) -> dict[str, float]:
    """A facility's ``cooling`` block (FORMATS.md "Time") from :data:`COOLING`."""
    free, at_design = COOLING.get(name, (FREE_COOLING_DEFAULT, pue_full + 0.15))
    return {"free_below_c": free, "design_c": design_c, "pue_full_at_design": max(at_design, pue_full)}


def _flex_window(hours: int) -> int | None:
    """The largest window that divides 24 and the horizon (None below 2 hours)."""
    w = max(d for d in (1, 2, 3, 4, 6, 8, 12, 24) if hours % d == 0)
    return w if w > 1 else None


def add_time(raw: dict[str, Any], hours: int, *, seed: int = 0) -> dict[str, Any]:
    """``raw`` with a ``time:`` block of ``hours`` hourly periods from 1 January (seeded).

    Series: ``temp`` (every zone; a seasonal normal 4-30 degC, diurnal swing 6-8 degC,
    day-to-day weather), ``carbon_<g/kWh>`` (each site's intensity as the mean, a midday
    solar dip, an evening ramp, noise), ``price_<tier>`` (time-of-use around the tier's
    mean price; a candidate site of :func:`add_build` gets its own ``price_<id>``) and
    the demand shapes of :data:`SHAPE_OF_CLASS`. Training is flexible within windows of
    :func:`_flex_window` hours. Every catalogue facility the sites use gets a ``cooling``
    block. The demand shapes are not random; over whole days they peak at <= 1.5 x their
    mean, so a fleet generated at ``load`` <= 0.66 keeps a plan in every hour (a horizon
    ending inside a day rescales them, and the peak may be higher).
    """
    rng = np.random.default_rng([seed, 10])
    clock = pd.date_range("2025-01-01", periods=hours, freq="h")
    hour, month = clock.hour.to_numpy(), clock.month.to_numpy()
    day = np.arange(hours) // 24
    weekend = clock.day_of_week.to_numpy() >= 5
    season = -np.cos(2 * math.pi * (clock.day_of_year.to_numpy() - 21) / 365)  # -1 on 20 January
    weather = np.zeros(int(day.max()) + 1)
    for k in range(1, len(weather)):  # AR(1) day-to-day anomaly, sd ~2.5 degC
        weather[k] = 0.7 * weather[k - 1] + rng.normal(0.0, 1.8)
    swing = 3.5 + 0.5 * season
    temp = 17.0 + 13.0 * season + weather[day] + swing * np.cos(2 * math.pi * (hour - 14) / 24)
    sun = np.clip(np.cos(2 * math.pi * (hour - 12.5) / 24) * (1 + 0.2 * season) - 0.15, 0.0, None)
    sites = raw["sites"]
    carbon = 1.0 - 0.12 * sun / max(float(sun.max()), 1e-9) + 0.04 * np.isin(hour, (18, 19, 20, 21))
    carbon = carbon * np.exp(rng.normal(0.0, 0.02, hours))
    carbon /= carbon.mean()
    cols: dict[str, Any] = {"datetime": [f"{x:%Y-%m-%dT%H:%M}" for x in clock], "temp": np.round(temp, 2).tolist()}
    level = tou_levels(hour, month)
    level = level / level.mean()
    # one price series per tier around its existing sites' mean price, and one per candidate
    # site (built from nothing, its own price); one carbon series per grid intensity
    existing = [s for s in sites if s.get("halls", 1) > 0]
    series: dict[str, dict[str, str]] = {}
    for s in sites:
        if s.get("halls", 1) > 0:
            col = f"price_{s['tier']}"
            mean = np.mean([e["price_per_kwh"] for e in existing if e["tier"] == s["tier"]])
        else:
            col, mean = f"price_{s['id']}", s["price_per_kwh"]
        if col not in cols:
            cols[col] = np.round(level * float(mean), 4).tolist()
        c_col = f"carbon_{round(1000 * s['carbon_kg_per_kwh']):04d}"
        if c_col not in cols:
            cols[c_col] = np.round(carbon * s["carbon_kg_per_kwh"], 4).tolist()
        series[s["id"]] = {"price_per_kwh": col, "carbon_kg_per_kwh": c_col}
    shapes = {"infer_shape": inference_shape(hour, weekend), "office_shape": office_shape(hour, weekend),
              "traffic_shape": traffic_shape(hour)}
    for col, shape in shapes.items():
        cols[col] = np.round(shape, 4).tolist()
    out = {k: v for k, v in raw.items() if k in ("computeplan", "name")}
    out["horizon_hours"] = float(hours)
    out.update({k: v for k, v in raw.items() if k not in out})
    from computeplan.io.catalogue import models_dir

    folder = models_dir()
    catalogue = yaml.safe_load((folder / "facilities.yaml").read_text())["facilities"] if folder else {}
    facilities = dict(raw.get("facilities") or {})
    for name in sorted({s["facility"] for s in sites}):
        base = facilities.get(name) or catalogue.get(name)
        if base is not None:
            facilities[name] = {"pue_full": base["pue_full"], "pue_quarter": base["pue_quarter"],
                                "cooling": cooling_block(name, float(base["pue_full"]))}
    out["facilities"] = facilities
    window = _flex_window(hours)
    if window is not None:
        out["workloads"] = [{**w, "flex_window_hours": window} if w["class"] in FLEX_CLASSES else w
                            for w in raw["workloads"]]
    classes = {w["class"] for w in raw["workloads"]}
    out["time"] = {
        "periods": cols,
        "zones": {z: {"temperature_c": "temp"} for z in raw["zones"]},
        "sites": series,
        "demand": {c: col for c, col in SHAPE_OF_CLASS.items() if c in classes},
    }
    return out


# --------------------------------------------------------------------------------------
# Build-out (FORMULATION.md section 11): figures shared with the shipped 2030 example
# --------------------------------------------------------------------------------------
# Hardware capital figures [R]: (capex yuan per server, lifetime years, embodied kg CO2e).
#  capex: indicative 2024-25 street prices at 7.2 yuan/USD -- 8xH100 HGX server ~USD 300k;
#    8xA100 ~USD 170k; Atlas 800T A2-class 8x910B 1.0-1.5 M yuan (resellers); 8xH20 8 x
#    ~USD 12-13k GPUs + an HGX host; 4xL40S 4 x ~USD 8-10k GPUs + a 2-socket host; 2 x EPYC
#    9654 (list ~USD 11.8k each) with 768 GB memory, NICs and drives ~USD 25k.
#  lifetime: cloud operators depreciate servers over 5-6 years.
#  embodied: server life-cycle assessments put a 2-socket server's manufacture at ~1,000-
#    2,500 kg CO2e (memory, storage, boards); 2,000 for a 4-GPU PCIe server, 3,000 for an
#    8-accelerator server with HBM (3,500 for the 8xH100 HGX board).
# A model not listed costs 2e5 yuan per kW of peak power, 5 years, 600 kg per kW.
BUILD_HW: dict[str, tuple[float, int, float]] = {
    "gpu-8xh100": (2.2e6, 5, 3500.0),
    "gpu-8xa100": (1.2e6, 5, 3000.0),
    "npu-8x910b": (1.2e6, 5, 3000.0),
    "gpu-8xh20": (1.0e6, 5, 3000.0),
    "gpu-4xl40s": (3.6e5, 5, 2000.0),
    "cpu-2s": (1.8e5, 6, 1500.0),
}
# Halls and sites [R]: building, power and cooling plant ~40 M yuan per MW of IT in an
# eastern metro (about USD 5.5 M/MW, half the US build cost of industry cost guides), ~30 M
# at a western hub; a new campus's land, 110 kV substation and fibre 2.0e8 (east) / 3.0e8
# (west, with long-haul fibre) yuan.
HALL_CAPEX_PER_MW = {"east": 4.0e7, "west": 3.0e7}
SITE_CAPEX = {"east": 2.0e8, "west": 3.0e8}
N_CANDIDATES = 10


def build_figures(model: str, peak_kw: float) -> dict[str, float]:
    """``capex``, ``lifetime_years`` and ``embodied_kg`` of a hardware model."""
    capex, life, emb = BUILD_HW.get(model, (2e5 * peak_kw, 5, 600.0 * peak_kw))
    return {"capex": float(capex), "lifetime_years": life, "embodied_kg": float(emb)}


def add_build(raw: dict[str, Any], *, seed: int = 0) -> dict[str, Any]:
    """``raw`` with build options (seeded): 1-2 new halls and 30-60 % more servers at the
    hyperscale and midsize sites, a few more servers in the edge rooms, 10 candidate sites
    (6 near the fleet, 4 "western" ones ~1,300 km away with cheap, green power; each with
    ``site_capex``), and the capital figures of every hardware model (``hardware:``
    overrides of the catalogue's entries)."""
    rng = np.random.default_rng([seed, 20])
    hw = _catalogue()
    out = dict(raw)
    out["hardware"] = {**(raw.get("hardware") or {}), **{
        h: {"perf_tflops": dict(e["perf_tflops"]), "idle_kw": e["idle_kw"], "peak_kw": e["peak_kw"],
            **build_figures(h, float(e["peak_kw"]))} for h, e in hw.items()}}
    sites: list[dict[str, Any]] = []
    for s in raw["sites"]:
        s = dict(s)
        hall_kw = s["it_capacity_kw"] / s["halls"]
        more = {h: int(np.ceil(n * rng.uniform(0.3, 0.6))) for h, n in s["servers"].items()}
        if s["tier"] == "edge":
            s["build"] = {"halls_max": 0, "servers_max": more}
        else:
            s["build"] = {"halls_max": int(rng.integers(1, 3)),
                          "hall_capex": round(hall_kw / 1000 * HALL_CAPEX_PER_MW["east"] * rng.uniform(0.8, 1.2), -3),
                          "servers_max": more}
        sites.append(s)
    zones = dict(raw["zones"])
    lat0 = float(np.mean([z["lat"] for z in zones.values()]))
    lon0 = float(np.mean([z["lon"] for z in zones.values()]))
    kits = SITE_KIT["hyperscale"]["servers"]
    for k in range(N_CANDIDATES):
        west = k >= 6
        zid = f"cand-z{k:02d}"
        if west:  # ~1,300 km west-north-west: a 20 ms round trip
            zones[zid] = {"lat": round(lat0 + 4.0 + rng.uniform(-1, 1), 4), "lon": round(lon0 - 13.0 + rng.uniform(-1, 1), 4)}
        else:
            zones[zid] = {"lat": round(lat0 + rng.uniform(-0.6, 0.6), 4), "lon": round(lon0 + rng.uniform(-0.7, 0.7), 4)}
        hall_kw = float(np.round(rng.uniform(4000, 10000), -2))
        halls_max = int(rng.integers(4, 11))
        region = "west" if west else "east"
        servers_max = {h: int(halls_max * hall_kw * frac / hw[h]["peak_kw"]) for h, frac in kits.items()}
        sites.append({
            "id": f"cand-{k:02d}", "tier": "hyperscale", "zone": zid,
            "facility": "liquid-hyperscale" if west or k % 2 == 0 else "air-hyperscale",
            "it_capacity_kw": 0.0, "halls": 0, "can_idle": True, "max_utilisation": 0.9,
            "price_per_kwh": round(float(rng.uniform(0.33, 0.38) if west else rng.uniform(0.55, 0.70)), 3),
            "carbon_kg_per_kwh": 0.55 if west else 0.58,
            "renewable_share": round(float(rng.uniform(0.6, 0.9) if west else rng.uniform(0.2, 0.6)), 2),
            "servers": {},
            "build": {"hall_kw": hall_kw, "halls_max": halls_max,
                      "hall_capex": round(hall_kw / 1000 * HALL_CAPEX_PER_MW[region], -3),
                      "site_capex": SITE_CAPEX[region], "servers_max": servers_max},
        })
    out["zones"] = zones
    out["sites"] = sites
    return out
