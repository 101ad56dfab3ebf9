"""The independent check: every figure a result reports, recomputed from the instance and
the plan's records alone, with plain loops over the instance (never the engine's arrays,
model or evaluator).

:func:`verify` returns a list of violations in planner terms, each naming the figure
(``indicators.energy_kwh``, ``sites[s1].active_halls``, ``targets[ece_min].met``, ...);
an empty list means the plan is feasible under FORMULATION.md and every figure it reports
is reproduced, or, for an infeasible result, that the claim is proven.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from computeplan.io.loader import load_instance
from computeplan.io.schema import Instance
from computeplan.model.targets import given
from computeplan.plan.verify_build import Built, check_build, reports_build
from computeplan.plan.verify_infeasible import check_infeasible_claim
from computeplan.plan.verify_model import (
    OBJECTIVE_NAMES,
    Latency,
    SiteView,
    default_penalty,
    site_views,
    view,
)
from computeplan.plan.verify_tables import check_tables
from computeplan.plan.verify_time import TimedPlan, check_time_section, timed_plan
from computeplan.plan.verify_typical import check_year, typical_view

if TYPE_CHECKING:  # the result module belongs to the engine; verify reads only its dict form
    from computeplan.plan.result import Result

REL = 1e-6  # relative tolerance on reported figures and constraints
PLAN_STATUSES = ("optimal", "feasible")
STATUSES = ("optimal", "feasible", "infeasible", "time_limit", "interrupted")

RESULT_KEYS = ("computeplan_result", "instance", "status", "method", "objective", "solve_seconds",
               "indicators", "targets", "sites", "pools", "assignments", "diagnosis")
OBJECTIVE_KEYS = ("name", "value", "bound", "gap")
INDICATOR_KEYS = ("fleet_pue", "ece_gflops_per_w", "energy_kwh", "cost", "carbon_t", "renewable_share",
                  "served_tflops", "unserved_tflops", "output_per_kwh", "it_kw", "facility_kw",
                  "servers_beyond_need", "beyond_need_energy_kwh", "server_utilisation")
SITE_FIGURES = ("it_kw", "overhead_kw", "facility_kw", "pue", "active_halls", "halls", "it_capacity_kw",
                "utilisation", "energy_kwh", "cost", "carbon_t", "servers_beyond_need", "beyond_need_energy_kwh")
SITE_KEYS = ("id", "tier", "zone", *SITE_FIGURES, "capacity_shadow_price")
POOL_FIGURES = ("busy_servers", "servers_on", "installed", "servers_beyond_need")
POOL_KEYS = ("site", "hardware", *POOL_FIGURES)
ASSIGNMENT_KEYS = ("workload", "site", "hardware", "share", "tflops")
TARGET_KEYS = ("name", "target", "value", "met", "shadow_price")


def _close(a: float | None, b: float | None, scale: float = 1.0) -> bool:
    """Equal within the relative tolerance; ``None`` (and an infinite value, which JSON
    cannot hold) only equal to each other."""
    a = None if a is None or not math.isfinite(a) else a
    b = None if b is None or not math.isfinite(b) else b
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= REL * max(abs(a), abs(b), scale) + 1e-9


@dataclass
class _Reader:
    """Reads a result dict, collecting a violation for every missing or malformed field."""

    bad: list[str] = field(default_factory=list)
    tables: Mapping[str, Any] | None = None  # the per-period tables, when given

    def section(self, d: dict[str, Any], key: str, kind: type) -> Any:
        if key not in d:
            self.bad.append(f"{key}: section missing")
            return None
        val = d[key]
        if not isinstance(val, kind):
            self.bad.append(f"{key}: expected a {kind.__name__}, found {type(val).__name__}")
            return None
        return val

    def records(self, d: dict[str, Any], key: str, keys: tuple[str, ...], ident: Any,
                names: int) -> list[tuple[str, dict[str, Any]]]:
        """The section's records with their labels; a record missing a key, or whose first
        ``names`` keys (its identity) are not text, is reported and skipped."""
        out = []
        for k, rec in enumerate(self.section(d, key, list) or []):
            if not isinstance(rec, dict):
                self.bad.append(f"{key}[{k}]: expected an object, found {type(rec).__name__}")
                continue
            label = f"{key}[{k}]"
            with contextlib.suppress(KeyError, TypeError):
                label = f"{key}[{ident(rec)}]"
            missing = [c for c in keys if c not in rec]
            if missing:
                self.bad.append(f"{label}: missing {', '.join(missing)}")
                continue
            odd = [c for c in keys[:names] if not isinstance(rec[c], str)]
            if odd:
                self.bad.append(f"{label}: {', '.join(odd)} must be text, found {[rec[c] for c in odd]!r}")
                continue
            out.append((label, rec))
        return out

    def number(self, rec: dict[str, Any], key: str, label: str) -> float | None:
        val = rec.get(key)
        if isinstance(val, bool) or not isinstance(val, (int, float)) or not math.isfinite(val):
            self.bad.append(f"{label}.{key}: expected a finite number, found {val!r}")
            return None
        return float(val)

    def compare(self, label: str, key: str, reported: Any, recomputed: float | None, scale: float = 1.0) -> None:
        if reported is not None and (isinstance(reported, bool) or not isinstance(reported, (int, float))):
            self.bad.append(f"{label}.{key}: expected a number or null, found {reported!r}")
        elif not _close(reported, recomputed, scale):
            self.bad.append(f"{label}.{key}: reported {reported}, recomputed {recomputed}")


def verify(instance: Instance | str | Any, res: Result | dict[str, Any],
           full_year_plan: dict[str, Any] | None = None, *, tables: Mapping[str, Any] | None = None,
           year_tables: Mapping[str, Any] | None = None) -> list[str]:
    """Every violation of the result ``res`` (a :class:`Result` or the dict of a
    ``result.json``) against ``instance``; ``[]`` when sound.

    A typical-days result's year plan is ``res.full_year_plan`` for a :class:`Result`, or
    ``full_year_plan`` (the dict of ``full-year/result.json`` with its plan tables,
    :func:`computeplan.io.results.read_result_folder`) beside a dict. A time result's
    per-period tables (``periods``, ``served``) are ``res.tables``, or ``tables`` (and the
    year plan's ``year_tables``, :func:`computeplan.io.results.read_period_tables`)."""
    inst = instance if isinstance(instance, Instance) else load_instance(instance)
    d = res if isinstance(res, dict) else res.to_dict()
    if not isinstance(res, dict):
        tables = tables or res.tables
        if res.full_year_plan is not None:
            full_year_plan = full_year_plan or res.full_year_plan.to_dict()
            year_tables = year_tables or res.full_year_plan.tables
    rd = _Reader(tables=tables)
    if not isinstance(d, dict):
        return [f"result: expected an object, found {type(d).__name__}"]
    for key in RESULT_KEYS:
        if key not in d:
            rd.bad.append(f"{key}: section missing")
    status = d.get("status")
    if status not in STATUSES:
        return [*rd.bad, f"status: expected one of {', '.join(STATUSES)}, found {status!r}"]
    obj = d.get("objective")
    if not isinstance(obj, dict):
        return [*rd.bad, f"objective: expected an object, found {obj!r}"]
    rd.bad.extend(f"objective.{k}: missing" for k in OBJECTIVE_KEYS if k not in obj)
    solved_for = {v: k for k, v in OBJECTIVE_NAMES.items()}.get(obj.get("name"))  # type: ignore[arg-type]
    if solved_for is None:
        rd.bad.append(f"objective.name: expected one of {', '.join(OBJECTIVE_NAMES.values())}, "
                      f"found {obj.get('name')!r}")
        return rd.bad
    if solved_for != inst.objective:  # a solve may override the instance's objective
        inst = inst.model_copy(update={"objective": solved_for})
    agg = typical_view(inst, d, rd.bad)  # a plan on typical days is checked on those days
    full = inst  # ... and its year's plan on every period
    rd.bad.extend(check_year(full, d, full_year_plan, lambda year: verify(full, year, tables=year_tables)))
    inst = inst if agg is None else agg
    # an interrupted solve keeps the best plan it found (then the plan is checked like any other)
    if status in PLAN_STATUSES or (status == "interrupted" and obj.get("value") is not None):
        _check_plan(inst, d, obj, rd)
        return list(dict.fromkeys(rd.bad))
    if obj.get("value") is not None:
        rd.bad.append(f"objective.value: a result of status {status} has no plan, yet reports {obj['value']}")
    if d.get("assignments"):
        rd.bad.append(f"assignments: a result of status {status} has no plan, yet lists {len(d['assignments'])}")
    if status == "infeasible":
        rd.bad.extend(check_infeasible_claim(view(inst), d.get("evidence")))
    return list(dict.fromkeys(rd.bad))


def check_plan(inst: Instance, res: Result, what: str) -> None:
    """:func:`verify` as a solver runs it on its own plan: ``SolverError`` naming ``what``
    and the first problems when the plan fails the check."""
    from computeplan.errors import SolverError

    problems = verify(inst, res)
    if problems:
        raise SolverError(f"{what} fails the independent check:\n" + "\n".join(problems[:20]))


def _list(d: dict[str, Any], key: str) -> list[Any]:
    val = d.get(key)
    return val if isinstance(val, list) else []


def _check_assignments(inst: Instance, d: dict[str, Any], rd: _Reader, sites: dict[str, SiteView]
                       ) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
    """Feasibility of every assignment; returns served share per workload and busy servers per pool."""
    wls = {w.id: w for w in inst.workloads}
    share: dict[str, float] = defaultdict(float)
    n_assign: dict[str, int] = defaultdict(int)
    busy: dict[tuple[str, str], float] = defaultdict(float)
    seen: set[tuple[str, str, str]] = set()
    latency = Latency(inst)
    for label, a in rd.records(d, "assignments", ASSIGNMENT_KEYS,
                               lambda r: f"{r['workload']}@{r['site']}/{r['hardware']}", 3):
        wid, sid, hid = a["workload"], a["site"], a["hardware"]
        w, s = wls.get(wid), sites.get(sid)
        if w is None or s is None or hid not in inst.hardware:
            rd.bad.append(f"{label}: unknown workload, site or hardware")
            continue
        if (wid, sid, hid) in seen:
            rd.bad.append(f"{label}: listed twice")
        seen.add((wid, sid, hid))
        x = rd.number(a, "share", label)
        if x is None:
            continue
        hw = inst.hardware[hid]
        if hid not in w.hardware:
            rd.bad.append(f"{label}: hardware not in the workload's list")
        if hid not in s.pools:
            rd.bad.append(f"{label}: the site has no {hid} servers")
        if w.precision not in hw.perf_tflops:
            rd.bad.append(f"{label}: {hid} does not support {w.precision}")
            continue
        if w.tiers is not None and s.tier not in w.tiers:
            rd.bad.append(f"{label}: tier {s.tier} not allowed")
        if w.sites is not None and sid not in w.sites:
            rd.bad.append(f"{label}: site not allowed")
        if w.max_latency_ms is not None:
            lat = latency(w.origin, s.zone)
            if lat is None or lat > w.max_latency_ms + 1e-9:
                rd.bad.append(f"{label}: latency {lat} ms over the limit {w.max_latency_ms} ms")
        if not (-1e-9 <= x <= 1 + 1e-9):
            rd.bad.append(f"{label}.share: {x} outside [0, 1]")
        if not w.divisible and abs(x - 1.0) > 1e-9 and abs(x) > 1e-9:
            rd.bad.append(f"{label}.share: indivisible workload with share {x}")
        rd.compare(label, "tflops", a["tflops"], x * w.demand_tflops)
        share[wid] += x
        n_assign[wid] += 1 if x > 0 else 0
        busy[(sid, hid)] += w.demand_tflops * x / hw.perf_tflops[w.precision]  # type: ignore[index]
    for w in inst.workloads:
        sh = share.get(w.id, 0.0)
        if w.must_serve and abs(sh - 1.0) > 1e-7:
            rd.bad.append(f"workload {w.id}: must be served in full, served share {sh:.9g}")
        if sh > 1 + 1e-7:
            rd.bad.append(f"workload {w.id}: served share {sh:.9g} > 1")
        if not w.divisible and n_assign.get(w.id, 0) > 1:
            rd.bad.append(f"workload {w.id}: indivisible but split over {n_assign[w.id]} pools")
    return share, busy


def _check_plan(inst: Instance, d: dict[str, Any], obj: dict[str, Any], rd: _Reader) -> None:
    H = float(inst.horizon_hours)
    svs = site_views(inst)
    sites = {s.id: s for s in svs}
    share, busy = _check_assignments(inst, d, rd, sites)
    moved_to: dict[str, set[str]] = defaultdict(set)
    for a in _list(d, "assignments"):
        if isinstance(a, dict) and isinstance(a.get("share"), (int, float)) and a["share"] > 0:
            moved_to[str(a.get("site"))].add(str(a.get("workload")))
    built = check_build(inst, d, rd, sites, moved_to)
    tp = _timed(inst, d, rd, svs, built) if inst.time is not None else None
    if tp is not None:
        H = tp.horizon

    # Pools: servers on are a decision, the rest is recomputed.
    on: dict[tuple[str, str], float] = {}
    listed_pools = {(str(p.get("site")), str(p.get("hardware"))) for p in _list(d, "pools") if isinstance(p, dict)}
    beyond: dict[tuple[str, str], float] = {}
    pool_recs = rd.records(d, "pools", POOL_KEYS, lambda r: f"{r['site']}/{r['hardware']}", 2)
    for label, p in pool_recs:
        key = (p["site"], p["hardware"])
        s = sites.get(key[0])
        if s is None or key[1] not in s.pools:
            rd.bad.append(f"{label}: not a pool of the instance")
            continue
        if key in on:
            rd.bad.append(f"{label}: listed twice")
        n = rd.number(p, "servers_on", label)
        if n is None:
            continue
        on[key] = n
    for s in svs:
        for h, count in s.pools.items():
            key = (s.id, h)
            b, n = busy.get(key, 0.0), on.get(key, 0.0)
            need = b / s.umax
            label = f"pools[{s.id}/{h}]"
            if key not in listed_pools and b > 0:
                rd.bad.append(f"{label}: missing, yet its workloads keep {b:.9g} servers busy")
            if n < need * (1 - REL) - 1e-9:
                rd.bad.append(f"{label}.servers_on: {n:.9g} servers on < busy / umax = {need:.9g}")
            most = count + built.new_servers(s.id, h)
            if n > most * (1 + REL) + 1e-9 or n < -1e-9:
                rd.bad.append(f"{label}.servers_on: {n:.9g} servers on, outside 0..{most:.9g} installed"
                              + (f" ({count} + {most - count:.9g} built)" if most != count else ""))
            extra = max(n - need, 0.0)
            beyond[key] = 0.0 if extra < 1e-7 * max(1.0, n) else extra
    for label, p in pool_recs:
        key = (p["site"], p["hardware"])
        if key not in on or key[0] not in sites:
            continue
        s = sites[key[0]]
        rd.compare(label, "busy_servers", p["busy_servers"], busy.get(key, 0.0))
        rd.compare(label, "installed", p["installed"], float(s.pools[key[1]]))
        rd.compare(label, "servers_beyond_need", p["servers_beyond_need"], beyond[key])
        if "beyond_need_energy_kwh" in p:
            e = inst.hardware[key[1]].idle_kw * beyond[key] * (1.0 + s.k) * H if tp is None \
                else tp.beyond_kwh.get(key, 0.0)
            rd.compare(label, "beyond_need_energy_kwh", p["beyond_need_energy_kwh"], e)

    # Sites: active halls are a decision, the rest is recomputed.
    recs = rd.records(d, "sites", SITE_KEYS, lambda r: r["id"], 1)
    listed_sites = {str(r.get("id")) for r in _list(d, "sites") if isinstance(r, dict)}
    halls: dict[str, float] = {}
    for label, rec in recs:
        s = sites.get(rec["id"])
        if s is None:
            rd.bad.append(f"{label}: not a site of the instance")
            continue
        if rec["id"] in halls:
            rd.bad.append(f"{label}: listed twice")
        z = rd.number(rec, "active_halls", label)
        if z is None:
            continue
        halls[s.id] = z
        halls_now = s.halls + built.new_halls(s.id)
        if s.can_idle:
            if abs(z - round(z)) > 1e-9 or not (0 <= z <= halls_now):
                rd.bad.append(f"{label}.active_halls: {z} not an integer in 0..{halls_now:g}")
        elif z != halls_now:
            rd.bad.append(f"{label}.active_halls: halls cannot idle, yet {z} of {halls_now:g} are active")
    fig: dict[str, dict[str, Any]] = {}
    tot: dict[str, float] = defaultdict(float)
    for s in svs:
        if s.id not in halls:
            if s.id not in listed_sites and isinstance(d.get("sites"), list):
                rd.bad.append(f"sites[{s.id}]: missing")
            z = float(s.halls + built.new_halls(s.id))
        else:
            z = halls[s.id]
        it = busy_sum = inst_sum = 0.0
        site_beyond = site_beyond_kwh = 0.0
        for h, count in s.pools.items():
            hw = inst.hardware[h]
            b = busy.get((s.id, h), 0.0)
            it += hw.idle_kw * on.get((s.id, h), 0.0) + (hw.peak_kw - hw.idle_kw) * b
            busy_sum += b
            inst_sum += count + built.new_servers(s.id, h)
            site_beyond += beyond.get((s.id, h), 0.0)
            site_beyond_kwh += hw.idle_kw * beyond.get((s.id, h), 0.0) * (1.0 + s.k) * H
        if tp is None and it > s.hall_kw * z * (1 + REL) + 1e-9:
            rd.bad.append(f"sites[{s.id}]: IT {it:.9g} kW over the capacity of its active halls {s.hall_kw * z:.9g} kW")
        over = s.f * z + s.k * it
        P = it + over
        E = P * H
        if tp is not None:  # annual figures are sums over the periods
            tf = tp.site[s.id]
            it, over, P, E, site_beyond_kwh = tf["it"], tf["over"], tf["P"], tf["E"], tf["beyond_kwh"]
        fig[s.id] = {
            "it_kw": it, "overhead_kw": over, "facility_kw": P, "pue": P / it if it > 0 else None,
            "active_halls": z, "halls": float(s.halls), "it_capacity_kw": s.cap_kw,
            "utilisation": busy_sum / inst_sum if inst_sum > 0 else None,
            "energy_kwh": E, "cost": E * s.price if tp is None else tp.site[s.id]["cost"],
            "carbon_t": (E * s.carbon * (1 - s.renew) if tp is None else tp.site[s.id]["carbon"]) / 1000,
            "servers_beyond_need": site_beyond, "beyond_need_energy_kwh": site_beyond_kwh,
            "pue_raw": P / it if it > 0 else math.inf,
        }
        for name, val in (("it", it), ("P", P), ("E", E), ("cost", E * s.price), ("busy", busy_sum),
                         ("installed", inst_sum), ("carbon", E * s.carbon * (1 - s.renew)),
                         ("renew_e", E * s.renew), ("obj", E * s.obj), ("beyond", site_beyond),
                         ("beyond_kwh", site_beyond_kwh)):
            if tp is not None and name in ("cost", "carbon", "renew_e", "obj"):
                val = tp.site[s.id][name]
            tot[name] += val
    for label, rec in recs:
        sf = fig.get(rec["id"])
        if sf is None:
            continue
        for fld in ("tier", "zone"):
            want = getattr(sites[rec["id"]], fld)
            if rec[fld] != want:
                rd.bad.append(f"{label}.{fld}: reported {rec[fld]!r}, the instance says {want!r}")
        for fld in SITE_FIGURES:
            rd.compare(label, fld, rec[fld], sf[fld])
        if tp is not None:
            rd.compare(label, "peak_facility_kw", rec.get("peak_facility_kw"), tp.site[rec["id"]]["peak"])
            at, tf = rec.get("peak_period"), tp.site[rec["id"]]
            # a period whose power equals the peak (up to the tolerance) is the peak's period
            if not isinstance(at, int) or f"P{at}" not in tf or tf[f"P{at}"] < tf["peak"] * (1 - REL) - 1e-9:
                rd.bad.append(f"{label}.peak_period: reported {rec.get('peak_period')!r}, recomputed "
                              f"{int(tp.site[rec['id']]['peak_period'])}")

    # Fleet indicators.
    served = weighted = value = unserved = unserved_pen = 0.0
    for w in inst.workloads:
        sh = share.get(w.id, 0.0)
        served += w.demand_tflops * sh
        weighted += inst.weight(w.precision) * w.demand_tflops * sh
        value += w.value_per_tflops_hour * w.demand_tflops * sh * H
        gap = max(w.demand_tflops - w.demand_tflops * sh, 0.0)
        unserved += gap
        if not w.must_serve:
            unserved_pen += gap
    ind = {
        "fleet_pue": tot["P"] / tot["it"] if tot["it"] > 0 else None,
        "ece_gflops_per_w": weighted / tot["P"] if tot["P"] > 0 else None,
        "energy_kwh": tot["E"], "cost": tot["cost"], "carbon_t": tot["carbon"] / 1000,
        "renewable_share": tot["renew_e"] / tot["E"] if tot["E"] > 0 else None,
        "served_tflops": served, "unserved_tflops": unserved,
        "output_per_kwh": value / tot["E"] if tot["E"] > 0 else None,
        "it_kw": tot["it"], "facility_kw": tot["P"],
        "servers_beyond_need": tot["beyond"], "beyond_need_energy_kwh": tot["beyond_kwh"],
        "server_utilisation": tot["busy"] / tot["installed"] if tot["installed"] > 0 else None,
    }
    if reports_build(inst):
        ind["capex_per_year"] = built.capex
        ind["embodied_carbon_t"] = built.embodied_kg / 1000.0
    reported = rd.section(d, "indicators", dict)
    if reported is not None:
        for fld, fval in ind.items():
            required = fld in INDICATOR_KEYS or fld in ("capex_per_year", "embodied_carbon_t")
            if fld not in reported:
                if required:
                    rd.bad.append(f"indicators.{fld}: missing")
                continue
            rd.compare("indicators", fld, reported[fld], fval)

    _check_targets(inst, d, rd, ind, fig, sites)

    # Objective, bound and gap.
    dearest = None if tp is None else tp.dearest
    penalty_of: list[float] = []  # worked out once, when a figure needs it

    def default_pen() -> float:
        if not penalty_of:
            penalty_of.append(default_penalty(inst, svs, dearest))
        return penalty_of[0]

    penalty = default_pen() if unserved_pen > 0 else 0.0
    objective = tot["obj"] + penalty * H * unserved_pen
    # build-out: the cost objective pays the annual capital, the carbon one the embodied carbon
    objective += {"cost": built.capex, "carbon": built.embodied_kg}.get(inst.objective, 0.0) * H / 8760.0
    rep = obj.get("value")
    if rep is None:
        rd.bad.append(f"objective.value: missing for a plan of status {d['status']}")
    else:
        rd.compare("objective", "value", rep, objective)
    bound = obj.get("bound")
    if bound is not None and not isinstance(bound, (int, float)):
        rd.bad.append(f"objective.bound: expected a number or null, found {bound!r}")
        bound = None
    if bound is not None and bound > objective + REL * max(abs(objective), abs(bound), 1.0) + 1e-9:
        rd.bad.append(f"objective.bound: {bound} is above the objective {objective} of a minimisation")
    want_gap = None
    if bound is not None:
        want_gap = max(0.0, objective - bound) / max(abs(objective), 1e-10)
        want_gap = 0.0 if want_gap < 1e-9 else want_gap
    _check_notes(d, rd, {"unserved_penalty": lambda: None if inst.unserved_penalty is not None
                         else default_pen(),
                         "servers_beyond_need": lambda: tot["beyond"],
                         "beyond_need_energy_kwh": lambda: tot["beyond_kwh"]})
    g = obj.get("gap")
    if g is not None and (isinstance(g, bool) or not isinstance(g, (int, float))):
        rd.bad.append(f"objective.gap: expected a number or null, found {g!r}")
    elif (g is None) != (want_gap is None) or (g is not None and want_gap is not None and abs(g - want_gap) > REL):
        rd.bad.append(f"objective.gap: reported {g}, recomputed (value - bound) / |value| = {want_gap}")


def _timed(inst: Instance, d: dict[str, Any], rd: _Reader, svs: list[SiteView], built: Built) -> TimedPlan | None:
    """The plan per period (``time.dispatch``, ``time.servers_on``), checked, with its annual
    figures; the assignments must be its weighted means."""
    halls = {str(r["id"]): float(r["active_halls"]) for r in _list(d, "sites")
             if isinstance(r, dict) and isinstance(r.get("active_halls"), (int, float)) and "id" in r}
    tp = timed_plan(inst, d, svs, halls, rd.bad, built.new_servers)
    if tp is None:
        return None
    listed = set()
    for label, a in rd.records(d, "assignments", ASSIGNMENT_KEYS,
                               lambda r: f"{r['workload']}@{r['site']}/{r['hardware']}", 3):
        key = (a["workload"], a["site"], a["hardware"])
        listed.add(key)
        rd.compare(label, "share", a["share"], tp.share.get(key, 0.0))
    for key, val in tp.share.items():
        if key not in listed and val > 1e-9:
            rd.bad.append(f"assignments[{key[0]}@{key[1]}/{key[2]}]: missing, yet time.dispatch gives it a mean "
                          f"share of {val:.9g}")
    check_time_section(d, tp, any(w.flex_window_hours is not None for w in inst.workloads), rd.bad)
    check_tables(tp, rd.tables, rd.bad)
    return tp


# Figures the notes state (at 6 significant digits): pattern, then the figure of each group.
NOTE_FIGURES: tuple[tuple[re.Pattern[str], tuple[str, ...]], ...] = (
    (re.compile(r"unserved_penalty not given: used (\S+) objective units"), ("unserved_penalty",)),
    (re.compile(r"^(\S+) servers are powered beyond need \(drawing (\S+) kWh\)"),
     ("servers_beyond_need", "beyond_need_energy_kwh")),
)


def _check_notes(d: dict[str, Any], rd: _Reader, figures: dict[str, Callable[[], float | None]]) -> None:
    notes = d.get("notes") or []
    if not isinstance(notes, list):
        rd.bad.append(f"notes: expected a list, found {type(notes).__name__}")
        return
    for k, note in enumerate(notes):
        for pattern, names in NOTE_FIGURES:
            m = pattern.search(str(note))
            if m is None:
                continue
            for name, text in zip(names, m.groups(), strict=True):
                want = figures[name]()
                try:
                    val = float(text)
                except ValueError:
                    rd.bad.append(f"notes[{k}]: {name} {text!r} is not a number")
                    continue
                if want is None or abs(val - want) > 1e-5 * max(abs(want), 1e-9):
                    rd.bad.append(f"notes[{k}]: states {name} {text}, recomputed {want}")


def _check_targets(inst: Instance, d: dict[str, Any], rd: _Reader, ind: dict[str, float | None],
                   fig: dict[str, dict[str, Any]], sites: dict[str, SiteView]) -> None:
    """The target list matches the instance's targets exactly, each value and met flag is
    recomputed, and every target holds (the result claims a plan)."""
    want: dict[str, tuple[float, float | None, bool]] = {}  # name -> (T, value, met)
    for g in given(inst.targets.given()):  # the target registry: indicator, sense, keys
        if not g.spec.keyed:
            val = ind[g.spec.indicator]
            want[g.label] = (g.value, val, g.spec.holds(val, g.value))
            continue
        # a keyed target: the worst of the sites it governs that have a hall on and draw power
        vals = [sf[f"{g.spec.site_figure}_raw"] for sid, sf in fig.items()
                if sites[sid].keys.get(g.spec.name) == g.key and sf["active_halls"] > 0 and sf["facility_kw"] > 0]
        worst = (max(vals) if g.spec.sense == "max" else min(vals)) if vals else None
        ok = all(math.isfinite(x) and g.spec.holds(x, g.value) for x in vals)
        want[g.label] = (g.value, worst, ok)
    seen: set[str] = set()
    for label, rec in rd.records(d, "targets", TARGET_KEYS, lambda r: r["name"], 1):
        name = rec["name"]
        if name not in want:
            rd.bad.append(f"{label}: not a target of the instance")
            continue
        if name in seen:
            rd.bad.append(f"{label}: listed twice")
        seen.add(name)
        T, val, met = want[name]
        rd.compare(label, "target", rec["target"], T)
        rd.compare(label, "value", rec["value"], val)
        if rec["met"] is not met:
            rd.bad.append(f"{label}.met: reported {rec['met']!r}, recomputed {met} (value {val}, target {T})")
    for name, (T, val, met) in want.items():
        if name not in seen:
            rd.bad.append(f"targets[{name}]: missing")
        if not met:
            rd.bad.append(f"targets[{name}]: a plan must meet every target, value {val} against {T}")
