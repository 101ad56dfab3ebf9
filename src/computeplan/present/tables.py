"""The tables every view shows, computed once from a result: indicators against their
targets (from the target registry) and figures per tier."""

from __future__ import annotations

from typing import Any

import pandas as pd

from computeplan.model.indicators import label, unit
from computeplan.model.targets import TARGETS
from computeplan.plan.result import Result


def indicator_rows(res: Result) -> list[dict[str, Any]]:
    """One row per target of the registry: the indicator, its value, and (when the
    instance sets it) the target, met, the margin (positive = room left) and the
    shadow price; keyed targets (site PUE) one row per key, with the worst site's value."""
    given = {t["name"]: t for t in res.target_list}
    rows: list[dict[str, Any]] = []
    for spec in TARGETS.values():
        if spec.keyed:
            names = [n for n in given if n.startswith(spec.name + ".")]
            labels = [f"worst {spec.label}, {n.split('.', 1)[1]}" for n in names]
            values = [given[n]["value"] for n in names]
        elif spec.indicator not in res.indicators and spec.name not in given:
            continue  # an indicator this plan does not report (capital, without build decisions)
        else:
            names, labels, values = [spec.name], [spec.indicator], [res.indicators.get(spec.indicator)]
        for name, lab, val in zip(names, labels, values, strict=True):
            t = given.get(name)
            row: dict[str, Any] = {"name": name, "indicator": lab, "unit": unit(spec.indicator), "floor": spec.floor,
                                   "description": label(spec.indicator), "value": val, "target": None,
                                   "met": None, "margin": None, "shadow_price": None}
            if t is not None:
                T = float(t["target"])
                margin = None if val is None else (T - val if spec.sense == "max" else val - T)
                if margin is not None and abs(margin) <= 1e-9 * max(abs(T), 1.0):
                    margin = 0.0  # binding: the rest is solver noise
                row.update(target=T, met=bool(t["met"]), margin=margin, shadow_price=t.get("shadow_price"))
            if t is not None or not spec.keyed:
                rows.append(row)
    return rows


def tier_table(res: Result) -> pd.DataFrame:
    """Energy, IT power and utilisation per tier."""
    s = res.sites
    if s.empty:
        return pd.DataFrame()
    g = s.groupby("tier", sort=False).agg(
        sites=("id", "count"), it_kw=("it_kw", "sum"), facility_kw=("facility_kw", "sum"),
        energy_kwh=("energy_kwh", "sum"), carbon_t=("carbon_t", "sum"),
    )
    g["pue"] = g["facility_kw"] / g["it_kw"].where(g["it_kw"] > 0)
    util = []
    built = (res.extra.get("build") or {}).get("servers") or []  # built servers count as installed
    for tier in g.index:
        ids = set(s.loc[s["tier"] == tier, "id"])
        rows = res.pools[res.pools["site"].isin(ids)] if not res.pools.empty else res.pools
        busy = float(rows["busy_servers"].sum()) if not rows.empty else 0.0
        inst = float(rows["installed"].sum()) if not rows.empty else 0.0
        inst += sum(float(b.get("new_servers") or 0.0) for b in built if b.get("site") in ids)
        util.append(busy / inst if inst > 0 else None)
    g["utilisation_of_used_pools"] = util
    return g.reset_index()
