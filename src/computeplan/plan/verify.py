"""The independent check: every figure of a plan recomputed from the instance and the
plan's records alone, with plain loops over the instance (not the solver's arrays).

:func:`verify` returns a list of violations in planner terms; an empty list means the plan
is feasible under FORMULATION.md and every figure it reports is reproduced.
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any

from computeplan.io.loader import load_instance
from computeplan.io.schema import Instance, haversine_km
from computeplan.plan.result import Result

REL = 1e-6  # relative tolerance on reported figures and constraints


def _close(a: float | None, b: float | None, scale: float = 1.0) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= REL * max(abs(a), abs(b), scale) + 1e-9


def _latency(inst: Instance, za: str, zb: str) -> float | None:
    for a, b, ms in inst.latency_ms:
        if {a, b} == {za, zb} or (a == b == za == zb):
            return float(ms)
    lm = inst.latency_model
    if za == zb:
        return lm.hop_ms
    A, B = inst.zones.get(za), inst.zones.get(zb)
    if A is None or B is None or not A.has_coordinates or not B.has_coordinates:
        return None
    km = haversine_km(A.lat, A.lon, B.lat, B.lon)  # type: ignore[arg-type]
    return km * lm.route_factor * lm.ms_per_km + lm.hop_ms


def recompute(inst: Instance, res: Result) -> tuple[dict[str, Any], list[str]]:
    """Recompute the figures of ``res`` from ``inst``; returns (figures, feasibility violations)."""
    bad: list[str] = []
    H = float(inst.horizon_hours)
    sites = {s.id: s for s in inst.sites}
    wls = {w.id: w for w in inst.workloads}
    share: dict[str, float] = defaultdict(float)
    n_assign: dict[str, int] = defaultdict(int)
    busy: dict[tuple[str, str], float] = defaultdict(float)
    for a in res.assignment_records:
        wid, sid, hid, x = a["workload"], a["site"], a["hardware"], float(a["share"])
        w, s = wls.get(wid), sites.get(sid)
        if w is None or s is None or hid not in inst.hardware:
            bad.append(f"assignment {wid}@{sid}/{hid}: unknown workload, site or hardware")
            continue
        hw = inst.hardware[hid]
        where = f"assignment {wid} -> {sid}/{hid}"
        if hid not in w.hardware:
            bad.append(f"{where}: hardware not in the workload's list")
        if s.servers.get(hid, 0) <= 0:
            bad.append(f"{where}: the site has no {hid} servers")
        if w.precision not in hw.perf_tflops:
            bad.append(f"{where}: {hid} does not support {w.precision}")
            continue
        if w.tiers is not None and s.tier not in w.tiers:
            bad.append(f"{where}: tier {s.tier} not allowed")
        if w.sites is not None and sid not in w.sites:
            bad.append(f"{where}: site not allowed")
        if w.max_latency_ms is not None:
            lat = _latency(inst, w.origin, s.zone)
            if lat is None or lat > w.max_latency_ms + 1e-9:
                bad.append(f"{where}: latency {lat} ms over the limit {w.max_latency_ms} ms")
        if not (-1e-9 <= x <= 1 + 1e-9):
            bad.append(f"{where}: share {x} outside [0, 1]")
        if not w.divisible and abs(x - 1.0) > 1e-9:
            bad.append(f"{where}: indivisible workload with share {x}")
        if not _close(float(a["tflops"]), x * w.demand_tflops):
            bad.append(f"{where}: tflops {a['tflops']} != share x demand {x * w.demand_tflops}")
        share[wid] += x
        n_assign[wid] += 1
        busy[(sid, hid)] += w.demand_tflops * x / hw.perf_tflops[w.precision]  # type: ignore[index]
    for w in inst.workloads:
        sh = share.get(w.id, 0.0)
        if w.must_serve and abs(sh - 1.0) > 1e-7:
            bad.append(f"workload {w.id}: must be served in full, served share {sh:.9g}")
        if sh > 1 + 1e-7:
            bad.append(f"workload {w.id}: served share {sh:.9g} > 1")
        if not w.divisible and n_assign.get(w.id, 0) > 1:
            bad.append(f"workload {w.id}: indivisible but split over {n_assign[w.id]} pools")
    on: dict[tuple[str, str], float] = defaultdict(float)
    for p in res.pool_records:
        key = (p["site"], p["hardware"])
        on[key] = float(p["servers_on"])
        if not _close(float(p["busy_servers"]), busy.get(key, 0.0)):
            bad.append(f"pool {key[0]}/{key[1]}: busy_servers {p['busy_servers']} != recomputed {busy.get(key, 0.0)}")
    for key, b in busy.items():
        s = sites[key[0]]
        need = b / s.max_utilisation
        if on.get(key, 0.0) < need * (1 - REL) - 1e-9:
            bad.append(f"pool {key[0]}/{key[1]}: {on.get(key, 0.0):.9g} servers on < busy / umax = {need:.9g}")
    for key, nval in on.items():
        s = sites.get(key[0])
        if s is None:
            bad.append(f"pool {key[0]}/{key[1]}: unknown site")
            continue
        if nval > s.servers.get(key[1], 0) * (1 + REL) + 1e-9:
            bad.append(f"pool {key[0]}/{key[1]}: {nval:.9g} servers on > {s.servers.get(key[1], 0)} installed")
    halls = {r["id"]: float(r["active_halls"]) for r in res.site_records}
    figs: dict[str, Any] = {"sites": {}}
    tot: dict[str, float] = defaultdict(float)
    for s in inst.sites:
        fac = inst.facilities[s.facility]
        c = s.it_capacity_kw / s.halls
        k = (4 * (fac.pue_full - 1) - (fac.pue_quarter - 1)) / 3
        f = (fac.pue_full - 1 - k) * c
        z = halls.get(s.id, float(s.halls))
        if s.can_idle:
            if abs(z - round(z)) > 1e-9 or not (0 <= z <= s.halls):
                bad.append(f"site {s.id}: active halls {z} not an integer in 0..{s.halls}")
        elif z != s.halls:
            bad.append(f"site {s.id}: halls cannot idle, yet {z} of {s.halls} are active")
        it = 0.0
        busy_sum = inst_sum = 0.0
        for hid, count in s.servers.items():
            hw = inst.hardware[hid]
            b = busy.get((s.id, hid), 0.0)
            it += hw.idle_kw * on.get((s.id, hid), 0.0) + (hw.peak_kw - hw.idle_kw) * b
            busy_sum += b
            inst_sum += count
        if it > c * z * (1 + REL) + 1e-9:
            bad.append(f"site {s.id}: IT {it:.9g} kW over the capacity of its active halls {c * z:.9g} kW")
        over = f * z + k * it
        P = it + over
        E = P * H
        figs["sites"][s.id] = {
            "it_kw": it, "overhead_kw": over, "facility_kw": P, "pue": P / it if it > 0 else None,
            "energy_kwh": E, "cost": E * s.price_per_kwh, "carbon_t": E * s.carbon_kg_per_kwh * (1 - s.renewable_share) / 1000,
            "utilisation": busy_sum / inst_sum if inst_sum > 0 else None, "z": z, "tier": s.tier,
        }
        tot["it"] += it
        tot["P"] += P
        tot["E"] += E
        tot["cost"] += E * s.price_per_kwh
        tot["carbon"] += E * s.carbon_kg_per_kwh * (1 - s.renewable_share)
        tot["renew_e"] += E * s.renewable_share
    served = weighted = value = unserved_pen = 0.0
    for w in inst.workloads:
        sh = min(share.get(w.id, 0.0), 1.0)
        served += w.demand_tflops * sh
        weighted += inst.weight(w.precision) * w.demand_tflops * sh
        value += w.value_per_tflops_hour * w.demand_tflops * sh * H
        if not w.must_serve:
            unserved_pen += w.demand_tflops * (1 - sh)
    total_demand = sum(w.demand_tflops for w in inst.workloads)
    figs["indicators"] = {
        "fleet_pue": tot["P"] / tot["it"] if tot["it"] > 0 else None,
        "ece_gflops_per_w": weighted / tot["P"] if tot["P"] > 0 else None,
        "energy_kwh": tot["E"], "cost": tot["cost"], "carbon_t": tot["carbon"] / 1000,
        "renewable_share": tot["renew_e"] / tot["E"] if tot["E"] > 0 else None,
        "served_tflops": served, "unserved_tflops": max(total_demand - served, 0.0),
        "output_per_kwh": value / tot["E"] if tot["E"] > 0 else None,
    }
    unit = {"energy": tot["E"], "cost": tot["cost"], "carbon": tot["carbon"]}[inst.objective]
    figs["unserved_penalised_tflops"] = unserved_pen
    figs["objective_energy_part"] = unit
    return figs, bad


def _penalty(inst: Instance) -> float:
    if inst.unserved_penalty is not None:
        return float(inst.unserved_penalty)
    from computeplan.model.data import build_data

    return build_data(inst).penalty


def verify(instance: Instance | str | Any, res: Result | dict[str, Any]) -> list[str]:
    """Every violation of the plan in ``res`` against ``instance``; ``[]`` when sound."""
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    r = res if isinstance(res, Result) else Result.from_dict(res)
    if not r.status.has_plan:
        return []
    # The objective the plan was solved for (a solve may override the instance's).
    solved_for = {"energy_kwh": "energy", "cost": "cost", "carbon_kg": "carbon"}.get(r.objective_name)
    if solved_for is not None and solved_for != inst.objective:
        inst = inst.model_copy(update={"objective": solved_for})
    figs, bad = recompute(inst, r)
    # Targets, with the same tolerance as the reported "met" flags.
    ind = figs["indicators"]
    t = inst.targets
    if t.fleet_pue_max is not None and ind["fleet_pue"] is not None and ind["fleet_pue"] > t.fleet_pue_max * (1 + REL) + 1e-9:
        bad.append(f"target fleet_pue_max {t.fleet_pue_max}: fleet PUE is {ind['fleet_pue']:.9g}")
    for sid, sf in figs["sites"].items():
        caps = t.site_pue_max or {}
        cap = caps.get(sid, caps.get(sf["tier"]))
        if cap is None or sf["z"] <= 0:
            continue
        pue = sf["pue"]
        if pue is None or pue > cap * (1 + REL) + 1e-9:
            bad.append(f"target site_pue_max for {sid} ({cap}): site PUE is {pue}")
    checks = (("ece_min", "ece_gflops_per_w", 1), ("renewable_share_min", "renewable_share", 1),
              ("carbon_max", "carbon_t", -1), ("output_per_kwh_min", "output_per_kwh", 1))
    for name, key, sense in checks:
        T = getattr(t, name)
        val = ind[key]
        if T is None or val is None:
            if T is not None and name == "ece_min" and T > 0:
                bad.append(f"target {name} {T}: no facility power, indicator undefined")
            continue
        if sense > 0 and val < T * (1 - REL) - 1e-9:
            bad.append(f"target {name} {T}: value is {val:.9g}")
        if sense < 0 and val > T * (1 + REL) + 1e-9:
            bad.append(f"target {name} {T}: value is {val:.9g}")
    # Reported figures must be the recomputed ones.
    for key, val in ind.items():
        if key in r.indicators and not _close(r.indicators[key], val):
            bad.append(f"indicator {key}: reported {r.indicators[key]} != recomputed {val}")
    scale = max(1.0, figs["indicators"]["energy_kwh"] * 1e-12)
    for rec in r.site_records:
        sf = figs["sites"].get(rec["id"])
        if sf is None:
            bad.append(f"site {rec['id']}: not in the instance")
            continue
        for key in ("it_kw", "overhead_kw", "facility_kw", "pue", "energy_kwh", "cost", "carbon_t", "utilisation"):
            if key in rec and not _close(rec[key], sf[key], scale):
                bad.append(f"site {rec['id']}: {key} reported {rec[key]} != recomputed {sf[key]}")
    obj = figs["objective_energy_part"] + _penalty(inst) * float(inst.horizon_hours) * figs["unserved_penalised_tflops"]
    if r.objective_value is not None and not _close(r.objective_value, obj):
        bad.append(f"objective: reported {r.objective_value} != recomputed {obj}")
    for trec in r.target_list:
        if not trec["met"]:
            bad.append(f"target {trec['name']}: reported as missed in a plan called {r.status.value}")
    if r.gap is not None and (math.isnan(r.gap) or r.gap < 0):
        bad.append(f"gap {r.gap} is not a non-negative number")
    return bad
