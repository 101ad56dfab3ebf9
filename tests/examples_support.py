"""Helpers for the tests of the shipped time and build-out examples (``test_examples_*``).

They read the instance files as plain YAML/CSV/Parquet, without the engine, and build
one-period instances the present engine can solve: the *peak-hour snapshot* of an hourly
instance and the *everything-built* fleet of a build-out instance.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
CATALOGUE = ROOT / "models"

_LIST = ("hardware", "tiers", "sites")
_FLOAT = ("demand_tflops", "max_latency_ms", "value_per_tflops_hour", "flex_window_hours", "max_rate")
_BOOL = ("divisible", "must_serve")


def read_yaml(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def catalogue(section: str) -> dict[str, Any]:
    return dict(read_yaml(CATALOGUE / f"{section}.yaml")[section])


def workload_records(path: Path, raw: dict[str, Any]) -> list[dict[str, Any]]:
    """The workloads of an instance file as records (inline or a CSV table beside it)."""
    spec = raw["workloads"]
    if isinstance(spec, list):
        return copy.deepcopy(spec)
    df = pd.read_csv(path.parent / spec["csv"], dtype=str, keep_default_na=False)
    out = []
    for r in df.to_dict("records"):
        d: dict[str, Any] = {k: v for k, v in r.items() if v != ""}
        for k in _LIST:
            if k in d:
                d[k] = d[k].split(";")
        for k in _FLOAT:
            if k in d:
                d[k] = float(d[k])
        for k in _BOOL:
            if k in d:
                d[k] = d[k] == "true"
        out.append(d)
    return out


def periods(path: Path, raw: dict[str, Any]) -> pd.DataFrame:
    spec = raw["time"]["periods"]
    if "parquet" in spec:
        return pd.read_parquet(path.parent / spec["parquet"])
    if "csv" in spec:
        return pd.read_csv(path.parent / spec["csv"])
    return pd.DataFrame(spec)


def latency_ms(a: tuple[float, float], b: tuple[float, float]) -> float:
    """FORMULATION.md section 2's default latency: haversine km x 1.5 x 0.005 + 0.5."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(b[1] - a[1]) / 2) ** 2
    km = 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))
    return km * 1.5 * 0.005 + 0.5


def peak_snapshot(path: Path) -> dict[str, Any]:
    """A one-period instance: every inflexible workload at its demand shape's peak over
    mean, flexible work at its mean, without cooling, grid caps or targets. If it has a
    plan, every hour has one for capacity and latency (less demand never needs more)."""
    raw = read_yaml(path)
    table = periods(path, raw)
    time = raw.pop("time")
    for f in (raw.get("facilities") or {}).values():
        f.pop("cooling", None)
    for s in raw["sites"]:
        s.pop("grid_kw", None)
    raw["workloads"] = workload_records(path, raw)
    demand = time.get("demand", {})
    for w in raw["workloads"]:
        flex = w.pop("flex_window_hours", None)
        w.pop("max_rate", None)
        col = demand.get(w["id"], demand.get(w["class"]))
        if col and not flex:
            s = table[col]
            w["demand_tflops"] = float(w["demand_tflops"] * s.max() / s.mean())
    raw.pop("targets", None)
    return raw


def everything_built(path: Path) -> dict[str, Any]:
    """A one-period instance with every build option taken: all new halls (of the site's
    hall size, or ``hall_kw``), all new servers, every candidate site opened; capital
    fields dropped. If it has a plan, the build-out model has one."""
    raw = read_yaml(path)
    raw.pop("discount_rate", None)
    for h in (raw.get("hardware") or {}).values():
        for k in ("capex", "lifetime_years", "embodied_kg"):
            h.pop(k, None)
    for s in raw["sites"]:
        b = s.pop("build", None)
        if not b:
            continue
        hall_kw = b.get("hall_kw") or s["it_capacity_kw"] / s["halls"]
        s["halls"] += b.get("halls_max", 0)
        s["it_capacity_kw"] += hall_kw * b.get("halls_max", 0)
        for h, n in b.get("servers_max", {}).items():
            s["servers"][h] = s["servers"].get(h, 0) + n
    raw["workloads"] = workload_records(path, raw)
    (raw.get("targets") or {}).pop("capex_max", None)
    return raw
