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
from collections.abc import Callable
from dataclasses import dataclass, field

from computeplan.io.schema import Instance, Workload, haversine_km
from computeplan.model.indicators import OBJECTIVE_NAMES as OBJECTIVE_NAMES
from computeplan.model.targets import given, site_key

INF = math.inf

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
    keys: dict[str, str]  # keyed target -> the key that governs this site (own id before its tier)
    caps: dict[str, float]  # keyed target -> its value for this site
    # build-out (FORMULATION.md section 11); pools above include those that exist only to be built
    halls_max: int = 0
    hall_capex_year: float = 0.0  # per new hall, CRF applied
    site_capex_year: float | None = None  # the fixed cost of building anything here, CRF applied
    servers_max: dict[str, int] = field(default_factory=dict)


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


def annuity(rate: float, years: float) -> float:
    """The capital recovery factor ``r / (1 - (1 + r)^-L)``, ``1 / L`` when ``r = 0``."""
    return 1.0 / years if rate == 0 else rate / (1.0 - (1.0 + rate) ** -years)


def server_capex_year(inst: Instance, h: str) -> float:
    """Annual capital cost of one new server of model ``h``."""
    hw = inst.hardware[h]
    return annuity(inst.discount_rate, hw.lifetime_years) * (hw.capex or 0.0)


def site_views(inst: Instance) -> list[SiteView]:
    keyed = {g.spec.name: inst.targets.given()[g.spec.name] for g in given(inst.targets.given()) if g.spec.keyed}
    out = []
    for s in inst.sites:
        fac = inst.facilities[s.facility]
        b = s.build
        c = s.it_capacity_kw / s.halls if s.halls > 0 else float(b.hall_kw or 0.0) if b is not None else 0.0
        built = {h: m for h, m in (b.servers_max.items() if b is not None else ()) if m > 0}
        crf = annuity(inst.discount_rate, b.lifetime_years) if b is not None else 0.0
        k = max(0.0, (4.0 * (fac.pue_full - 1.0) - (fac.pue_quarter - 1.0)) / 3.0)
        f_per_kw = max(0.0, fac.pue_full - 1.0 - (4.0 * (fac.pue_full - 1.0) - (fac.pue_quarter - 1.0)) / 3.0)
        obj = {"energy": 1.0, "cost": s.price_per_kwh,
               "carbon": s.carbon_kg_per_kwh * (1.0 - s.renewable_share)}[inst.objective]
        keys = {name: key for name, spec in keyed.items() if (key := site_key(s.id, s.tier, spec)) is not None}
        out.append(SiteView(
            id=s.id, tier=s.tier, zone=s.zone, cap_kw=s.it_capacity_kw, halls=s.halls, hall_kw=c, k=k,
            f=f_per_kw * c, umax=s.max_utilisation, price=s.price_per_kwh, carbon=s.carbon_kg_per_kwh,
            renew=s.renewable_share, can_idle=s.can_idle, obj=obj,
            pools={**{h: n for h, n in s.servers.items() if n > 0}, **{h: s.servers.get(h, 0) for h in built}},
            keys=keys, caps={name: float(keyed[name][key]) for name, key in keys.items()},
            halls_max=b.halls_max if b is not None else 0,
            hall_capex_year=crf * float(b.hall_capex or 0.0) if b is not None else 0.0,
            site_capex_year=None if b is None or b.site_capex is None else crf * b.site_capex,
            servers_max=built,
        ))
    return out


def _group(w: Workload) -> tuple[object, ...]:
    return (w.origin, w.max_latency_ms, tuple(w.hardware), w.precision,
            None if w.tiers is None else tuple(w.tiers), None if w.sites is None else tuple(w.sites))


def reach(inst: Instance, sites: list[SiteView], w: Workload, latency: Latency) -> list[tuple[SiteView, str, float]]:
    """The pools workload ``w`` may use (FORMULATION.md section 3): (site, hardware, perf)."""
    return _pools(inst, _sites_allowed(sites, w, latency), w)


def _sites_allowed(sites: list[SiteView], w: Workload, latency: Latency) -> list[SiteView]:
    """The sites ``w``'s tiers, sites and latency limit allow."""
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
        out.append(s)
    return out


def _pools(inst: Instance, allowed: list[SiteView], w: Workload) -> list[tuple[SiteView, str, float]]:
    """The pools at the ``allowed`` sites with hardware of ``w`` that supports its precision."""
    usable = [(h, float(hw.perf_tflops[w.precision]))  # type: ignore[index]
              for h in dict.fromkeys(w.hardware)
              if (hw := inst.hardware.get(h)) is not None and w.precision in hw.perf_tflops]
    return [(s, h, perf) for s in allowed for h, perf in usable if h in s.pools]


def _reach_groups(inst: Instance, sites: list[SiteView]) -> dict[tuple[object, ...], list[tuple[SiteView, str, float]]]:
    """:func:`reach` once per group of workloads that share what decides it; the sites a
    group may use once per origin, latency limit, tiers and sites."""
    out: dict[tuple[object, ...], list[tuple[SiteView, str, float]]] = {}
    allowed: dict[tuple[object, ...], list[SiteView]] = {}
    latency = Latency(inst)
    for w in inst.workloads:
        key = _group(w)
        if key not in out:
            where = (key[0], key[1], key[4], key[5])
            if where not in allowed:
                allowed[where] = _sites_allowed(sites, w, latency)
            out[key] = _pools(inst, allowed[where], w)
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


def default_penalty(inst: Instance, sites: list[SiteView],
                    dearest: dict[str, tuple[float, float]] | None = None) -> float:
    """The unserved penalty: the instance's, else 10 x the dearest full-load cost of serving
    one TFLOPS-hour on any candidate: servers at the utilisation cap, proportional overhead,
    and the hall's fixed overhead spread over a full hall, in the objective's unit. Over
    periods, each site at its dearest period's ``k`` and objective unit (``dearest``)."""
    if inst.unserved_penalty is not None:
        return float(inst.unserved_penalty)
    worst: float | None = None
    for pairs in _reach_groups(inst, sites).values():
        for s, h, perf in pairs:
            hw = inst.hardware[h]
            it_per_tflops = (hw.idle_kw / s.umax + (hw.peak_kw - hw.idle_kw)) / perf
            k, unit = (s.k, s.obj) if dearest is None else dearest[s.id]
            per_tflops_hour = it_per_tflops * (1.0 + k + s.f / s.hall_kw) * unit
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
            cols[f"n[{s.id}/{h}]"] = Column(0.0, float(count + s.servers_max.get(h, 0)), False)
    for s in v.sites:
        lo = 0.0 if s.can_idle else float(s.halls)
        cols[f"z[{s.id}]"] = Column(lo, float(s.halls + s.halls_max), s.can_idle)
    for s in v.sites:
        if s.halls_max:
            cols[f"g[{s.id}]"] = Column(0.0, float(s.halls_max), True)
    for s in v.sites:
        for h, most in s.servers_max.items():
            cols[f"m[{s.id}/{h}]"] = Column(0.0, float(most), False)
    for s in v.sites:
        if s.site_capex_year is not None:
            cols[f"o[{s.id}]"] = Column(0.0, 1.0, True)
    return cols


def capex_expr(v: View) -> Expr:
    """Annual capital cost: ``CRF x (hall_capex g + site_capex o) + CRF_h x capex_h m``."""
    e: Expr = {}
    for s in v.sites:
        if s.halls_max:
            e[f"g[{s.id}]"] = s.hall_capex_year
        for h in s.servers_max:
            e[f"m[{s.id}/{h}]"] = server_capex_year(v.inst, h)
        if s.site_capex_year is not None:
            e[f"o[{s.id}]"] = s.site_capex_year
    return e


def build_rows(v: View) -> list[Row]:
    """``z - g <= M`` (``= M`` when halls cannot idle), ``n - m <= N``, and ``g <= halls_max o``,
    ``m <= servers_max o`` for a site with a fixed site capex."""
    out: list[Row] = []
    for s in v.sites:
        if s.halls_max:
            lo = -INF if s.can_idle else float(s.halls)
            out.append(Row(f"build_halls[{s.id}]", {f"z[{s.id}]": 1.0, f"g[{s.id}]": -1.0}, lo, float(s.halls)))
    for s in v.sites:
        for h in s.servers_max:
            out.append(Row(f"build_servers[{s.id}/{h}]", {f"n[{s.id}/{h}]": 1.0, f"m[{s.id}/{h}]": -1.0}, -INF,
                           float(s.pools[h])))
    gated = [s for s in v.sites if s.site_capex_year is not None]
    for s in gated:
        if s.halls_max:
            out.append(Row(f"build_open[{s.id}]", {f"g[{s.id}]": 1.0, f"o[{s.id}]": -float(s.halls_max)}, -INF, 0.0))
    for s in gated:
        for h, most in s.servers_max.items():
            out.append(Row(f"build_open[{s.id}/{h}]", {f"m[{s.id}/{h}]": 1.0, f"o[{s.id}]": -float(most)}, -INF, 0.0))
    return out


def rows(v: View) -> list[Row]:
    """Every row of the model of FORMULATION.md, per hour of the horizon, each as
    FORMULATION.md writes it (the engine scales its target rows; its certificates are
    given for these)."""
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
    out.extend(build_rows(v))
    ctx = _Context(v, its, powers)
    for g in given(inst.targets.given()):
        form = _FORMS[g.spec.indicator]
        if g.spec.keyed:
            for s in v.sites:
                if s.keys.get(g.spec.name) == g.key:
                    out.append(Row(f"{g.spec.name}[{s.id}]", *form(ctx, g.value, s)))
        else:
            out.append(Row(g.spec.name, *form(ctx, g.value, None)))
    return out


@dataclass
class _Context:
    v: View
    its: dict[str, Expr]
    powers: dict[str, Expr]

    def total_power(self) -> Expr:
        e: Expr = {}
        for s in self.v.sites:
            _add(e, self.powers[s.id])
        return e

    def served(self, per: dict[str, float]) -> Expr:
        demand = {w.id: w.demand_tflops for w in self.v.inst.workloads}
        return {c.col: per[c.wid] * demand[c.wid] for c in self.v.cands}


Form = Callable[[_Context, float, "SiteView | None"], tuple[Expr, float, float]]


def _pue_row(ctx: _Context, T: float, site: SiteView | None) -> tuple[Expr, float, float]:
    """``sum (f z + k IT) <= (T - 1) sum IT`` over one site, or the fleet."""
    e: Expr = {}
    for s in ([site] if site is not None else ctx.v.sites):
        _add(_add(e, {f"z[{s.id}]": s.f}), ctx.its[s.id], s.k - (T - 1.0))
    return e, -INF, 0.0


def _ece_row(ctx: _Context, T: float, _site: SiteView | None) -> tuple[Expr, float, float]:
    """``sum w D share >= T sum P``."""
    weight = {w.id: ctx.v.inst.weight(w.precision) for w in ctx.v.inst.workloads}
    return _add(ctx.served(weight), ctx.total_power(), -T), 0.0, INF


def _output_row(ctx: _Context, T: float, _site: SiteView | None) -> tuple[Expr, float, float]:
    """``sum value D share >= T sum P`` (the horizon cancels)."""
    value = {w.id: w.value_per_tflops_hour for w in ctx.v.inst.workloads}
    return _add(ctx.served(value), ctx.total_power(), -T), 0.0, INF


def _renewable_row(ctx: _Context, T: float, _site: SiteView | None) -> tuple[Expr, float, float]:
    """``sum (renewable - T) P >= 0``."""
    e: Expr = {}
    for s in ctx.v.sites:
        _add(e, ctx.powers[s.id], s.renew - T)
    return e, 0.0, INF


def _carbon_row(ctx: _Context, T: float, _site: SiteView | None) -> tuple[Expr, float, float]:
    """``H sum carbon (1 - renewable) P / 1000 <= T`` (tonnes)."""
    e: Expr = {}
    for s in ctx.v.sites:
        _add(e, ctx.powers[s.id], ctx.v.horizon * s.carbon * (1.0 - s.renew) / 1000.0)
    return e, -INF, T


def _utilisation_row(ctx: _Context, T: float, _site: SiteView | None) -> tuple[Expr, float, float]:
    """``sum busy >= T sum installed``."""
    installed = sum(n for s in ctx.v.sites for n in s.pools.values())
    e: Expr = {c.col: c.busy for c in ctx.v.cands}
    for s in ctx.v.sites:
        for h in s.servers_max:
            e[f"m[{s.id}/{h}]"] = -T
    return e, T * installed, INF


def _capex_row(ctx: _Context, T: float, _site: SiteView | None) -> tuple[Expr, float, float]:
    """``capex_year <= T``."""
    return capex_expr(ctx.v), -INF, T


#: Each target's row, written again from FORMULATION.md by the indicator it bounds.
_FORMS: dict[str, Form] = {
    "fleet_pue": _pue_row, "pue": _pue_row, "ece_gflops_per_w": _ece_row, "output_per_kwh": _output_row,
    "renewable_share": _renewable_row, "carbon_t": _carbon_row, "server_utilisation": _utilisation_row,
    "capex_per_year": _capex_row,
}
