"""The instance as the independent check reads it: sites, candidates, the default
unserved penalty and the rows of FORMULATION.md, each built with plain loops over the
instance (never the engine's arrays or matrices).

Rows are per hour of the horizon and named as the engine names them, so a Farkas
certificate keyed by row name can be checked against them:

- columns ``x[wid@site/hw]`` (share, in [0, 1]), ``n[site/hw]`` (servers on, in [0, N]),
  ``z[site]`` (active halls, in [0, M], fixed at M when the site cannot idle);
- ``assign[wid]``, ``cover[site/hw]``, ``capacity[site]``, ``site_pue_max[site]`` and one
  row per other target (``fleet_pue_max``, ``ece_min``, ``renewable_share_min``,
  ``carbon_max``, ``output_per_kwh_min``, ``server_utilisation_min``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from computeplan.io.schema import Instance, Workload, haversine_km

INF = math.inf
OBJECTIVE_NAMES = {"energy": "energy_kwh", "cost": "cost", "carbon": "carbon_kg"}

Expr = dict[str, float]  # column name -> coefficient


@dataclass(frozen=True)
class SiteView:
    """One site with its derived coefficients (FORMULATION.md section 2)."""

    id: str
    tier: str
    zone: str
    cap_kw: float  # C
    halls: int  # M
    hall_kw: float  # c = C / M
    k: float  # overhead kW per IT kW
    f: float  # overhead kW per active hall
    umax: float
    price: float
    carbon: float  # kg per kWh
    renew: float
    can_idle: bool
    obj: float  # objective units per facility kWh
    pools: dict[str, int]  # hardware -> installed servers (> 0)
    pue_cap: float | None  # its site_pue_max (own key before its tier's)
    pue_key: str | None  # the site_pue_max key that holds it


@dataclass(frozen=True)
class Candidate:
    """A (workload, pool) pair a workload may use."""

    wid: str
    sid: str
    hid: str
    busy: float  # busy servers per unit share: D / perf
    dyn_kw: float  # IT kW per unit share: (peak - idle) x D / perf

    @property
    def col(self) -> str:
        return f"x[{self.wid}@{self.sid}/{self.hid}]"


@dataclass
class View:
    """What the check needs of an instance, built once."""

    inst: Instance
    horizon: float
    sites: list[SiteView]
    site_by_id: dict[str, SiteView]
    cands: list[Candidate]
    cands_of: dict[str, list[Candidate]] = field(default_factory=dict)
    penalty: float = 1.0


class Latency:
    """Zone-to-zone latency in ms: an explicit pair (the last one given) overrides; else the
    hop term within a zone, else coordinates; ``None`` when unknown. Memoised per pair."""

    def __init__(self, inst: Instance) -> None:
        self.inst = inst
        self.known: dict[tuple[str, str], float | None] = {}
        for a, b, ms in inst.latency_ms:
            self.known[(a, b)] = self.known[(b, a)] = float(ms)

    def __call__(self, za: str, zb: str) -> float | None:
        if (za, zb) not in self.known:
            self.known[(za, zb)] = self._derive(za, zb)
        return self.known[(za, zb)]

    def _derive(self, za: str, zb: str) -> float | None:
        lm = self.inst.latency_model
        if za == zb:
            return float(lm.hop_ms)
        A, B = self.inst.zones.get(za), self.inst.zones.get(zb)
        if A is None or B is None or not A.has_coordinates or not B.has_coordinates:
            return None
        km = haversine_km(A.lat, A.lon, B.lat, B.lon)  # type: ignore[arg-type]
        return km * lm.route_factor * lm.ms_per_km + lm.hop_ms


def site_views(inst: Instance) -> list[SiteView]:
    caps = inst.targets.site_pue_max or {}
    out = []
    for s in inst.sites:
        fac = inst.facilities[s.facility]
        c = s.it_capacity_kw / s.halls
        k = max(0.0, (4.0 * (fac.pue_full - 1.0) - (fac.pue_quarter - 1.0)) / 3.0)
        f_per_kw = max(0.0, fac.pue_full - 1.0 - (4.0 * (fac.pue_full - 1.0) - (fac.pue_quarter - 1.0)) / 3.0)
        obj = {"energy": 1.0, "cost": s.price_per_kwh,
               "carbon": s.carbon_kg_per_kwh * (1.0 - s.renewable_share)}[inst.objective]
        key = s.id if s.id in caps else (s.tier if s.tier in caps else None)
        out.append(SiteView(
            id=s.id, tier=s.tier, zone=s.zone, cap_kw=s.it_capacity_kw, halls=s.halls, hall_kw=c, k=k,
            f=f_per_kw * c, umax=s.max_utilisation, price=s.price_per_kwh, carbon=s.carbon_kg_per_kwh,
            renew=s.renewable_share, can_idle=s.can_idle, obj=obj,
            pools={h: n for h, n in s.servers.items() if n > 0},
            pue_cap=None if key is None else float(caps[key]), pue_key=key,
        ))
    return out


def _group(w: Workload) -> tuple[object, ...]:
    return (w.origin, w.max_latency_ms, tuple(w.hardware), w.precision,
            None if w.tiers is None else tuple(w.tiers), None if w.sites is None else tuple(w.sites))


def reach(inst: Instance, sites: list[SiteView], w: Workload, latency: Latency) -> list[tuple[SiteView, str, float]]:
    """The pools workload ``w`` may use (FORMULATION.md section 3): (site, hardware, perf)."""
    out = []
    for s in sites:
        if w.tiers is not None and s.tier not in w.tiers:
            continue
        if w.sites is not None and s.id not in w.sites:
            continue
        if w.max_latency_ms is not None:
            lat = latency(w.origin, s.zone)
            if lat is None or lat > w.max_latency_ms + 1e-12:
                continue
        for h in dict.fromkeys(w.hardware):
            hw = inst.hardware.get(h)
            if h in s.pools and hw is not None and w.precision in hw.perf_tflops:
                out.append((s, h, float(hw.perf_tflops[w.precision])))  # type: ignore[index]
    return out


def _reach_groups(inst: Instance, sites: list[SiteView]) -> dict[tuple[object, ...], list[tuple[SiteView, str, float]]]:
    """:func:`reach` once per group of workloads that share what decides it."""
    out: dict[tuple[object, ...], list[tuple[SiteView, str, float]]] = {}
    latency = Latency(inst)
    for w in inst.workloads:
        key = _group(w)
        if key not in out:
            out[key] = reach(inst, sites, w, latency)
    return out


def candidates(inst: Instance, sites: list[SiteView]) -> list[Candidate]:
    """Every candidate pair, in workload order."""
    groups = _reach_groups(inst, sites)
    out: list[Candidate] = []
    for w in inst.workloads:
        for s, h, perf in groups[_group(w)]:
            hw = inst.hardware[h]
            busy = w.demand_tflops / perf
            out.append(Candidate(w.id, s.id, h, busy, (hw.peak_kw - hw.idle_kw) * busy))
    return out


def default_penalty(inst: Instance, sites: list[SiteView]) -> float:
    """The unserved penalty: the instance's, else 10 x the dearest full-load cost of serving
    one TFLOPS-hour on any candidate: servers at the utilisation cap, proportional overhead,
    and the hall's fixed overhead spread over a full hall, in the objective's unit."""
    if inst.unserved_penalty is not None:
        return float(inst.unserved_penalty)
    worst: float | None = None
    for pairs in _reach_groups(inst, sites).values():
        for s, h, perf in pairs:
            hw = inst.hardware[h]
            it_per_tflops = (hw.idle_kw / s.umax + (hw.peak_kw - hw.idle_kw)) / perf
            per_tflops_hour = it_per_tflops * (1.0 + s.k + s.f / s.hall_kw) * s.obj
            worst = per_tflops_hour if worst is None else max(worst, per_tflops_hour)
    return 1.0 if worst is None else max(10.0 * worst, 1e-6)


def view(inst: Instance) -> View:
    sites = site_views(inst)
    cands = candidates(inst, sites)
    of: dict[str, list[Candidate]] = {}
    for c in cands:
        of.setdefault(c.wid, []).append(c)
    return View(inst, float(inst.horizon_hours), sites, {s.id: s for s in sites}, cands, of,
                default_penalty(inst, sites))


# --- rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    name: str
    coefs: Expr
    lo: float
    hi: float


@dataclass(frozen=True)
class Column:
    lo: float
    hi: float
    integer: bool


def _add(out: Expr, expr: Expr, scale: float = 1.0) -> Expr:
    for col, v in expr.items():
        out[col] = out.get(col, 0.0) + scale * v
    return out


def it_expr(v: View, s: SiteView) -> Expr:
    """The site's IT kW: idle x n + (peak - idle) x busy."""
    e: Expr = {c.col: c.dyn_kw for c in v.cands if c.sid == s.id}
    for h in s.pools:
        _add(e, {f"n[{s.id}/{h}]": v.inst.hardware[h].idle_kw})
    return e


def power_expr(v: View, s: SiteView, it: Expr) -> Expr:
    """The site's facility kW: (1 + k) IT + f z."""
    return _add(_add({}, it, 1.0 + s.k), {f"z[{s.id}]": s.f})


def columns(v: View) -> dict[str, Column]:
    cols: dict[str, Column] = {}
    divisible = {w.id: w.divisible for w in v.inst.workloads}
    for c in v.cands:
        cols[c.col] = Column(0.0, 1.0, not divisible[c.wid])
    for s in v.sites:
        for h, count in s.pools.items():
            cols[f"n[{s.id}/{h}]"] = Column(0.0, float(count), False)
    for s in v.sites:
        lo = 0.0 if s.can_idle else float(s.halls)
        cols[f"z[{s.id}]"] = Column(lo, float(s.halls), s.can_idle)
    return cols


def target_value(inst: Instance, name: str) -> float | None:
    """A scalar target of the instance (``None`` when not given or not known to the schema)."""
    T = getattr(inst.targets, name, None)
    return None if T is None else float(T)


def rows(v: View) -> list[Row]:
    """Every row of the model of FORMULATION.md, per hour of the horizon."""
    inst = v.inst
    out: list[Row] = []
    for w in inst.workloads:
        cs = v.cands_of.get(w.id, [])
        if cs:
            out.append(Row(f"assign[{w.id}]", {c.col: 1.0 for c in cs}, 1.0 if w.must_serve else 0.0, 1.0))
    for s in v.sites:
        for h in s.pools:
            e: Expr = {c.col: c.busy for c in v.cands if c.sid == s.id and c.hid == h}
            e[f"n[{s.id}/{h}]"] = -s.umax
            out.append(Row(f"cover[{s.id}/{h}]", e, -INF, 0.0))
    its = {s.id: it_expr(v, s) for s in v.sites}
    powers = {s.id: power_expr(v, s, its[s.id]) for s in v.sites}
    for s in v.sites:
        out.append(Row(f"capacity[{s.id}]", _add(dict(its[s.id]), {f"z[{s.id}]": -s.hall_kw}), -INF, 0.0))
    for s in v.sites:
        if s.pue_cap is not None:
            e = _add({f"z[{s.id}]": s.f}, its[s.id], s.k - (s.pue_cap - 1.0))
            out.append(Row(f"site_pue_max[{s.id}]", e, -INF, 0.0))
    T = target_value(inst, "fleet_pue_max")
    if T is not None:
        e = {}
        for s in v.sites:
            _add(_add(e, {f"z[{s.id}]": s.f}), its[s.id], s.k - (T - 1.0))
        out.append(Row("fleet_pue_max", e, -INF, 0.0))
    demand = {w.id: w.demand_tflops for w in inst.workloads}
    weight = {w.id: inst.weight(w.precision) for w in inst.workloads}
    value = {w.id: w.value_per_tflops_hour for w in inst.workloads}
    total_p: Expr = {}
    for s in v.sites:
        _add(total_p, powers[s.id])
    for name, per in (("ece_min", weight), ("output_per_kwh_min", value)):
        T = target_value(inst, name)
        if T is not None:
            e = _add({c.col: per[c.wid] * demand[c.wid] for c in v.cands}, total_p, -T)
            out.append(Row(name, e, 0.0, INF))
    T = target_value(inst, "renewable_share_min")
    if T is not None:
        e = {}
        for s in v.sites:
            _add(e, powers[s.id], s.renew - T)
        out.append(Row("renewable_share_min", e, 0.0, INF))
    T = target_value(inst, "carbon_max")
    if T is not None:
        e = {}
        for s in v.sites:
            _add(e, powers[s.id], v.horizon * s.carbon * (1.0 - s.renew) / 1000.0)
        out.append(Row("carbon_max", e, -INF, T))
    T = target_value(inst, "server_utilisation_min")
    if T is not None:
        installed = sum(n for s in v.sites for n in s.pools.values())
        out.append(Row("server_utilisation_min", {c.col: c.busy for c in v.cands}, T * installed, INF))
    return out
