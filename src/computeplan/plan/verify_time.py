"""The independent check of a plan over periods (FORMULATION.md section 10).

A time instance's ``result.json`` carries its plan per period in ``time.dispatch`` (the
non-zero share of each workload on each pool in each period) and ``time.servers_on``
(servers powered per pool and period). From those and the instance alone, with plain
loops, this module recomputes every per-period figure (IT, cooling with the outdoor
temperature, facility power, the grid cap, the hall capacity), checks every balance
(per period for inflexible work, per window for flexible work, ``max_rate``), the
servers-on bounds and single-pool placement of indivisible work, and returns the annual
sums the rest of :mod:`computeplan.plan.verify` compares with what the result reports.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from computeplan.io.periods import time_axis
from computeplan.io.schema import Instance
from computeplan.plan.verify_model import SiteView

REL = 1e-6


@dataclass
class TimedPlan:
    """Annual figures of a plan over periods, recomputed."""

    horizon: float
    site: dict[str, dict[str, float]] = field(default_factory=dict)
    beyond_kwh: dict[tuple[str, str], float] = field(default_factory=dict)
    share: dict[tuple[str, str, str], float] = field(default_factory=dict)  # weighted mean share
    dearest: dict[str, tuple[float, float]] = field(default_factory=dict)  # site -> (max k, max obj unit)
    shifted: float = 0.0
    # the per-period tables' figures: (site, period) -> it_kw, facility_kw, pue and the series;
    # (class, period) -> served_tflops, demand_tflops
    periods: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    served: dict[tuple[str, int], dict[str, float]] = field(default_factory=dict)
    datetime: list[str] | None = None  # each period's datetime, when the instance gives them


def _columns(sec: Any, names: tuple[str, ...], what: str, bad: list[str]) -> list[tuple[Any, ...]] | None:
    if not isinstance(sec, dict) or any(not isinstance(sec.get(c), list) for c in names):
        bad.append(f"time.{what}: expected columns {', '.join(names)} as lists")
        return None
    cols = [sec[c] for c in names]
    if len({len(c) for c in cols}) != 1:
        bad.append(f"time.{what}: columns of different lengths")
        return None
    return list(zip(*cols, strict=True))


def cooling_k(inst: Instance, s: SiteView, facility: str, temp: float) -> float:
    """``k[j,t]``: the proportional overhead at outdoor temperature ``temp`` (NaN: none)."""
    cool = inst.facilities[facility].cooling
    if cool is None or math.isnan(temp):
        return s.k
    k_d = cool.pue_full_at_design - 1.0 - s.f / s.hall_kw
    ramp = min(1.0, max(0.0, (temp - cool.free_below_c) / (cool.design_c - cool.free_below_c)))
    return s.k + (k_d - s.k) * ramp


def timed_plan(inst: Instance, d: dict[str, Any], svs: list[SiteView], halls: dict[str, float],
               bad: list[str], new_servers: Callable[[str, str], float] | None = None) -> TimedPlan | None:
    """Check the plan per period; return its annual figures (None if it cannot be read).
    ``new_servers(site, hardware)`` gives the servers the plan builds in a pool (installed too)."""
    ax = time_axis(inst)
    T, w, H = ax.T, ax.weight.tolist(), ax.horizon
    tm = d.get("time")
    if not isinstance(tm, dict):
        bad.append("time: section missing (a time instance's result carries its plan per period)")
        return None
    disp = _columns(tm.get("dispatch"), ("period", "workload", "site", "hardware", "share"), "dispatch", bad)
    srv = _columns(tm.get("servers_on"), ("period", "site", "hardware", "servers"), "servers_on", bad)
    if disp is None or srv is None:
        return None
    wls = {wl.id: wl for wl in inst.workloads}
    sites = {s.id: s for s in svs}
    x: dict[tuple[int, str, str, str], float] = {}
    for k, (t, wid, sid, hid, val) in enumerate(disp):
        ok = isinstance(t, int) and 0 <= t < T and wid in wls and sid in sites and hid in sites[sid].pools
        if not ok or not isinstance(val, int | float) or not math.isfinite(val) or val < -1e-9:
            bad.append(f"time.dispatch[{k}]: ({t!r}, {wid!r}, {sid!r}, {hid!r}, {val!r}) is not a share of a "
                       "workload on a pool in a period")
            continue
        x[(t, wid, sid, hid)] = x.get((t, wid, sid, hid), 0.0) + float(val)
    on: dict[tuple[int, str, str], float] = {}
    for k, (t, sid, hid, val) in enumerate(srv):
        if not (isinstance(t, int) and 0 <= t < T and sid in sites and hid in sites[sid].pools) \
                or not isinstance(val, int | float) or not math.isfinite(val):
            bad.append(f"time.servers_on[{k}]: ({t!r}, {sid!r}, {hid!r}, {val!r}) is not a pool's servers in a period")
            continue
        on[(t, sid, hid)] = float(val)
    out = TimedPlan(H, datetime=None if ax.datetime is None else [str(v) for v in ax.datetime])
    # Balances: per period (inflexible), per window (flexible), max_rate, one pool if indivisible.
    per_wl: dict[tuple[str, int], float] = defaultdict(float)
    pools_of: dict[str, set[tuple[str, str]]] = defaultdict(set)
    busy: dict[tuple[int, str, str], float] = defaultdict(float)
    for (t, wid, sid, hid), val in x.items():
        wl = wls[wid]
        per_wl[(wid, t)] += val
        if val > 1e-9:
            pools_of[wid].add((sid, hid))
        out.share[(wid, sid, hid)] = out.share.get((wid, sid, hid), 0.0) + w[t] * val / H
        perf = inst.hardware[hid].perf_tflops.get(wl.precision)  # type: ignore[call-overload]
        if perf:
            busy[(t, sid, hid)] += wl.demand_tflops * val / perf
    shapes = ax.shapes(inst)
    for i, wl in enumerate(inst.workloads):
        served = [per_wl.get((wl.id, t), 0.0) for t in range(T)]
        due = shapes[i].tolist()
        if wl.flex_window_hours is not None and T > 1:
            win = ax.windows(wl.flex_window_hours).tolist()
            got: dict[int, float] = defaultdict(float)
            need: dict[int, float] = defaultdict(float)
            for t in range(T):
                got[win[t]] += ax.length[t] * served[t]
                need[win[t]] += ax.length[t] * due[t]
                if served[t] > wl.max_rate * (1 + REL) + 1e-9:
                    bad.append(f"workload {wl.id}: period {t}: served {served[t]:.9g} x demand over max_rate "
                               f"{wl.max_rate}")
            for k in need:
                if (wl.must_serve and abs(got[k] - need[k]) > REL * max(1.0, need[k])) \
                        or got[k] > need[k] * (1 + REL) + 1e-9:
                    bad.append(f"workload {wl.id}: window {k}: served {got[k]:.9g} share-hours, demand {need[k]:.9g}")
        else:
            for t in range(T):
                if (wl.must_serve and abs(served[t] - due[t]) > REL * max(1.0, due[t])) \
                        or served[t] > due[t] * (1 + REL) + 1e-9:
                    bad.append(f"workload {wl.id}: period {t}: served {served[t]:.9g} x demand, its shape is "
                               f"{due[t]:.9g}")
        if not wl.divisible and len(pools_of.get(wl.id, ())) > 1:
            bad.append(f"workload {wl.id}: indivisible but runs on {len(pools_of[wl.id])} pools over the periods")
        for t in range(T):
            out.shifted += w[t] * abs(served[t] - due[t]) * wl.demand_tflops / 2.0
            row = out.served.setdefault((wl.class_, t), {"served_tflops": 0.0, "demand_tflops": 0.0})
            row["served_tflops"] += wl.demand_tflops * served[t]
            row["demand_tflops"] += wl.demand_tflops * due[t]
    # Power per site and period.
    series = {f: ax.site_series(inst, f) for f in ("price_per_kwh", "carbon_kg_per_kwh", "renewable_share",
                                                  "temperature_c")}
    for j, (s, site) in enumerate(zip(svs, inst.sites, strict=True)):
        z = halls.get(s.id, float(s.halls))
        fig = {"it": 0.0, "over": 0.0, "P": 0.0, "E": 0.0, "cost": 0.0, "carbon": 0.0, "renew_e": 0.0, "obj": 0.0,
               "beyond_kwh": 0.0, "peak": -math.inf, "peak_period": 0.0}
        dear_k = dear_obj = 0.0
        for t in range(T):
            price = float(series["price_per_kwh"][j, t])
            carbon = float(series["carbon_kg_per_kwh"][j, t])
            renew = float(series["renewable_share"][j, t])
            kt = cooling_k(inst, s, site.facility, float(series["temperature_c"][j, t]))
            unit = {"energy": 1.0, "cost": price, "carbon": carbon * (1.0 - renew)}[inst.objective]
            dear_k, dear_obj = max(dear_k, kt), max(dear_obj, unit)
            it = 0.0
            for h, count in s.pools.items():
                hw = inst.hardware[h]
                installed = count + (new_servers(s.id, h) if new_servers is not None else 0.0)
                b, n = busy.get((t, s.id, h), 0.0), on.get((t, s.id, h), 0.0)
                if n < b / s.umax * (1 - REL) - 1e-9 or n > installed * (1 + REL) + 1e-9:
                    bad.append(f"pools[{s.id}/{h}]: period {t}: {n:.9g} servers on, outside "
                               f"busy / umax = {b / s.umax:.9g} .. {installed:g} installed")
                it += hw.idle_kw * n + (hw.peak_kw - hw.idle_kw) * b
                extra = max(n - b / s.umax, 0.0)
                extra = 0.0 if extra < 1e-7 * max(1.0, n) else extra
                kwh = w[t] * hw.idle_kw * extra * (1.0 + kt)
                out.beyond_kwh[(s.id, h)] = out.beyond_kwh.get((s.id, h), 0.0) + kwh
                fig["beyond_kwh"] += kwh
            over = s.f * z + kt * it
            P = it + over
            if it > s.hall_kw * z * (1 + REL) + 1e-9:
                bad.append(f"sites[{s.id}]: period {t}: IT {it:.9g} kW over the capacity of its active halls "
                           f"{s.hall_kw * z:.9g} kW")
            if site.grid_kw is not None and P > site.grid_kw * (1 + REL) + 1e-9:
                bad.append(f"sites[{s.id}]: period {t}: facility power {P:.9g} kW over grid_kw {site.grid_kw:g}")
            E = w[t] * P
            for key, val in (("it", w[t] * it / H), ("over", w[t] * over / H), ("P", w[t] * P / H), ("E", E),
                             ("cost", E * price), ("carbon", E * carbon * (1.0 - renew)), ("renew_e", E * renew),
                             ("obj", E * unit)):
                fig[key] += val
            fig[f"P{t}"] = P
            out.periods[(s.id, t)] = {"it_kw": it, "facility_kw": P, "pue": P / it if it > 0 else math.nan,
                                      "price_per_kwh": price, "carbon_kg_per_kwh": carbon,
                                      "temperature_c": float(series["temperature_c"][j, t])}
            if P > fig["peak"]:
                fig["peak"], fig["peak_period"] = P, float(t)
        out.site[s.id] = fig
        out.dearest[s.id] = (dear_k, dear_obj)
    return out


def check_time_section(d: dict[str, Any], tp: TimedPlan, flex_given: bool, bad: list[str]) -> None:
    """``time``: sizes, and the flexibility figures that follow from the plan."""
    tm = d.get("time") or {}
    fl = tm.get("flexibility")
    if not isinstance(fl, dict):
        bad.append("time.flexibility: expected an object")
        return
    got = fl.get("shifted_tflops_hours")
    if not isinstance(got, int | float) or abs(got - tp.shifted) > REL * max(1.0, abs(tp.shifted)) + 1e-9:
        bad.append(f"time.flexibility.shifted_tflops_hours: reported {got}, recomputed {tp.shifted}")
    val, without = fl.get("value"), fl.get("objective_without")
    obj = (d.get("objective") or {}).get("value")
    if val is not None and isinstance(without, int | float) and isinstance(obj, int | float):
        if abs(val - (without - obj)) > REL * max(1.0, abs(without)):
            bad.append(f"time.flexibility.value: reported {val}, objective_without - objective = {without - obj}")
        if val < -REL * max(1.0, abs(without)):
            bad.append(f"time.flexibility.value: {val} < 0, yet removing flexibility cannot lower the optimum")
    if not flex_given and val not in (None, 0, 0.0):
        bad.append(f"time.flexibility.value: reported {val} for an instance without flexible work")
