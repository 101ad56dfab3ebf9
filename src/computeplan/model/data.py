"""The arrays stage: a validated instance as numpy arrays and index maps.

Built once; the LP/MILP builder, the evaluator and the heuristics read these arrays and
never the instance again. Candidate (workload, pool) pairs are enumerated per group of
workloads that share origin, latency limit, hardware list, precision and allowed
tiers/sites, so a million workloads cost a few thousand distinct groups, not a million
site scans.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.io.periods import time_axis
from computeplan.io.reach import reach
from computeplan.io.schema import Instance, crf

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


def _none_i() -> I64:
    return np.zeros(0, dtype=np.int64)


def _none_f() -> F64:
    return np.zeros(0)


@dataclass(frozen=True, eq=False)
class BuildData:
    """The build decisions of FORMULATION.md section 11, as index arrays and annual figures.

    ``g`` columns: one per site that may get new halls (``g_site``); ``m``: one per pool that
    may get new servers (``m_pool``); ``o``: one per site with a fixed ``site_capex``
    (``o_site``). ``g_open`` / ``m_open`` give the ``o`` column that gates each (-1: none).
    Capital is annual (currency per year, the capital recovery factor applied)."""

    g_site: I64 = field(default_factory=_none_i)
    g_max: F64 = field(default_factory=_none_f)
    g_capex: F64 = field(default_factory=_none_f)  # per new hall per year
    g_open: I64 = field(default_factory=_none_i)
    m_pool: I64 = field(default_factory=_none_i)
    m_max: F64 = field(default_factory=_none_f)
    m_capex: F64 = field(default_factory=_none_f)  # per new server per year
    m_embodied: F64 = field(default_factory=_none_f)  # kg CO2e per new server per year of its lifetime
    m_open: I64 = field(default_factory=_none_i)
    o_site: I64 = field(default_factory=_none_i)
    o_capex: F64 = field(default_factory=_none_f)  # per opened site per year
    given: bool = False  # the instance has a build block (then the build figures are reported)

    @property
    def n_g(self) -> int:
        return len(self.g_site)

    @property
    def n_m(self) -> int:
        return len(self.m_pool)

    @property
    def n_o(self) -> int:
        return len(self.o_site)

    @property
    def active(self) -> bool:
        """Whether the model has any build decision."""
        return self.n_g + self.n_m + self.n_o > 0


@dataclass(frozen=True, eq=False)
class ModelData:
    """Everything the model needs, as arrays. Indices: S sites, P pools, W workloads, K candidates."""

    name: str
    horizon: float
    objective: str
    penalty: float  # objective units per unserved TFLOPS-hour
    penalty_is_default: bool
    site_ids: list[str]
    hardware_ids: list[str]
    workload_ids: list[str]
    # sites
    site_tier: list[str]
    site_zone: list[str]
    site_cap: F64  # C, kW
    site_halls: I64  # M
    site_hall_kw: F64  # c = C / M
    site_k: F64  # overhead kW per IT kW
    site_f: F64  # overhead kW per active hall
    site_umax: F64
    site_price: F64
    site_carbon: F64  # kg per kWh
    site_renew: F64
    site_can_idle: B
    site_obj: F64  # objective units per facility kWh
    # pools
    pool_site: I64
    pool_hw: I64
    pool_servers: F64  # N
    pool_idle: F64  # kW per server
    pool_dyn: F64  # peak - idle, kW per busy server
    # workloads
    wl_demand: F64
    wl_weight: F64  # precision weight
    wl_value: F64
    wl_divisible: B
    wl_must: B
    wl_class: list[str]
    wl_ptr: I64  # candidates of workload i: wl_ptr[i]:wl_ptr[i+1]
    # candidates (sorted by workload)
    cand_wl: I64
    cand_pool: I64
    cand_busy: F64  # busy servers per unit share: D / perf
    targets: dict[str, Any] = field(default_factory=dict)
    # periods (FORMULATION.md section 10); without a time block one period of the horizon
    per_len: F64 = field(default_factory=lambda: np.ones(1))  # clock hours of each period
    per_rep: F64 = field(default_factory=lambda: np.ones(1))  # recurrences of each period
    per_datetime: list[str] | None = None
    sp_price: F64 = field(default_factory=lambda: np.zeros((0, 1)))  # sites x periods
    sp_carbon: F64 = field(default_factory=lambda: np.zeros((0, 1)))
    sp_renew: F64 = field(default_factory=lambda: np.zeros((0, 1)))
    sp_temp: F64 = field(default_factory=lambda: np.zeros((0, 1)))  # NaN: no weather series
    sp_k: F64 = field(default_factory=lambda: np.zeros((0, 1)))  # k[j,t] with cooling
    sp_obj: F64 = field(default_factory=lambda: np.zeros((0, 1)))  # objective units per kWh
    site_grid: F64 = field(default_factory=lambda: np.zeros(0))  # facility kW cap, NaN for none
    wl_shape: F64 = field(default_factory=lambda: np.zeros((0, 1)))  # workloads x periods, mean 1
    wl_window: I64 = field(default_factory=lambda: np.zeros((0, 1), dtype=np.int64))  # window per period
    wl_flex: B = field(default_factory=lambda: np.zeros(0, dtype=bool))  # has a flexibility window
    wl_max_rate: F64 = field(default_factory=lambda: np.zeros(0))
    timed: bool = False  # the instance has a time block

    @property
    def n_periods(self) -> int:
        return len(self.per_len)

    @property
    def per_w(self) -> F64:
        """Energy weight of each period, ``len x rep``; they sum to the horizon."""
        return self.per_len * self.per_rep
    build: BuildData = field(default_factory=BuildData)

    def site_halls_with(self, g: F64) -> F64:
        """Halls of each site with ``g`` new halls built (one per buildable site): ``M + g``."""
        out = self.site_halls.astype(float)
        np.add.at(out, self.build.g_site, g)
        return out

    @property
    def site_halls_most(self) -> F64:
        """Halls a site may have: ``M`` plus its buildable halls."""
        return self.site_halls_with(self.build.g_max)

    @property
    def pool_servers_most(self) -> F64:
        """Servers a pool may have: ``N`` plus its buildable servers."""
        out = self.pool_servers.copy()
        np.add.at(out, self.build.m_pool, self.build.m_max)
        return out

    @property
    def n_sites(self) -> int:
        return len(self.site_ids)

    @property
    def n_pools(self) -> int:
        return len(self.pool_site)

    @property
    def n_workloads(self) -> int:
        return len(self.workload_ids)

    @property
    def n_cand(self) -> int:
        return len(self.cand_wl)

    @property
    def cand_site(self) -> I64:
        return self.pool_site[self.cand_pool]

    @property
    def cand_it_kw(self) -> F64:
        """Dynamic IT kW a candidate adds per unit share: (peak - idle) x D / perf."""
        return self.pool_dyn[self.cand_pool] * self.cand_busy

    def x_cap(self) -> F64:
        """Periods x candidates: the most a candidate's share may be in a period (its
        workload's shape, or ``max_rate`` for flexible work)."""
        shape = self.wl_shape[self.cand_wl].T
        flex = self.wl_flex[self.cand_wl]
        return np.where(flex[None, :], self.wl_max_rate[self.cand_wl][None, :], shape)

    @property
    def y_cand(self) -> I64:
        """Candidates with a binary pick ``y`` (non-divisible work over several periods)."""
        if self.n_periods == 1:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(~self.wl_divisible[self.cand_wl]).astype(np.int64)

    @property
    def has_integers(self) -> bool:
        idle_able = bool(np.any(self.site_can_idle))
        indivisible = bool(np.any(~self.wl_divisible[self.cand_wl])) if self.n_cand else False
        return idle_able or indivisible or self.build.n_g + self.build.n_o > 0

    def integer_summary(self) -> str:
        idle_able = int(np.sum(self.site_can_idle))
        indiv = int(np.sum(~self.wl_divisible))
        out = f"{idle_able} site(s) with idle-able halls, {indiv} indivisible workload(s)"
        if self.build.n_g + self.build.n_o:
            out += f", {self.build.n_g} site(s) with buildable halls, {self.build.n_o} site(s) to open or not"
        return out


def default_penalty(data_obj: F64, per_share_cost: F64, demand: F64) -> float:
    """10 x the dearest full-load cost of serving one TFLOPS-hour on any candidate."""
    if per_share_cost.size == 0:
        return 1.0
    per_tflops_hour = per_share_cost / demand
    worst = float(np.max(per_tflops_hour))
    return max(10.0 * worst, 1e-6)


def build_data(inst: Instance) -> ModelData:
    """Turn a validated instance into :class:`ModelData`."""
    hw_ids = list(inst.hardware)
    hw_index = {h: k for k, h in enumerate(hw_ids)}
    site_cap = np.array([s.it_capacity_kw for s in inst.sites], dtype=float)
    site_halls = np.array([s.halls for s in inst.sites], dtype=np.int64)
    site_hall_kw = np.array([s.hall_kw for s in inst.sites], dtype=float)
    fac = [inst.facilities[s.facility] for s in inst.sites]
    site_k = np.array([max(0.0, f.k) for f in fac])
    site_f = np.array([max(0.0, f.f_per_kw) for f in fac]) * site_hall_kw
    site_price = np.array([s.price_per_kwh for s in inst.sites], dtype=float)
    site_carbon = np.array([s.carbon_kg_per_kwh for s in inst.sites], dtype=float)
    site_renew = np.array([s.renewable_share for s in inst.sites], dtype=float)
    site_obj = _objective_unit(inst.objective, site_price, site_carbon, site_renew)
    ax = time_axis(inst)
    sp_price = ax.site_series(inst, "price_per_kwh")
    sp_carbon = ax.site_series(inst, "carbon_kg_per_kwh")
    sp_renew = ax.site_series(inst, "renewable_share")
    sp_temp = ax.site_series(inst, "temperature_c")
    sp_obj = _objective_unit(inst.objective, sp_price, sp_carbon, sp_renew)
    sp_k = np.repeat(site_k[:, None], ax.T, axis=1)
    for j, fm in enumerate(fac):
        cool = fm.cooling
        if cool is None or not np.any(np.isfinite(sp_temp[j])):
            continue
        k_d = cool.pue_full_at_design - 1.0 - max(0.0, fm.f_per_kw)
        ramp = np.clip((np.nan_to_num(sp_temp[j], nan=cool.free_below_c) - cool.free_below_c)
                       / (cool.design_c - cool.free_below_c), 0.0, 1.0)
        sp_k[j] = site_k[j] + (k_d - site_k[j]) * ramp

    pool_site_l: list[int] = []
    pool_hw_l: list[int] = []
    pool_n: list[float] = []
    pool_index: dict[tuple[int, int], int] = {}
    for j, s in enumerate(inst.sites):
        buildable = {h: c for h, c in (s.build.servers_max.items() if s.build is not None else ()) if c > 0}
        for h, count in [*s.servers.items(), *((h, 0) for h in buildable if h not in s.servers)]:
            if count > 0 or h in buildable:
                pool_index[(j, hw_index[h])] = len(pool_site_l)
                pool_site_l.append(j)
                pool_hw_l.append(hw_index[h])
                pool_n.append(float(count))
    pool_site = np.array(pool_site_l, dtype=np.int64)
    pool_hw = np.array(pool_hw_l, dtype=np.int64)
    idle = np.array([inst.hardware[h].idle_kw for h in hw_ids])
    peak = np.array([inst.hardware[h].peak_kw for h in hw_ids])

    W = len(inst.workloads)
    demand = np.array([w.demand_tflops for w in inst.workloads], dtype=float)
    # Candidate pools per workload group, then expanded in workload order.
    per_wl_pools: list[I64] = [np.zeros(0, dtype=np.int64)] * W
    per_wl_perf: list[F64] = [np.zeros(0)] * W
    for key, members, _allowed, ok in reach(inst).groups:  # worked out once, by the input checks
        hw_list, prec = key[2], str(key[3])
        pools: list[int] = []
        perfs: list[float] = []
        for j in np.flatnonzero(ok).tolist():
            for h in hw_list:  # type: ignore[attr-defined]
                hm = inst.hardware[h]
                p = pool_index.get((j, hw_index[h]))
                if p is not None and prec in hm.perf_tflops:
                    pools.append(p)
                    perfs.append(float(hm.perf_tflops[prec]))  # type: ignore[index]
        arr_p = np.array(pools, dtype=np.int64)
        arr_f = np.array(perfs, dtype=float)
        order = np.argsort(arr_p, kind="stable")
        arr_p, arr_f = arr_p[order], arr_f[order]
        for i in members:
            per_wl_pools[i] = arr_p
            per_wl_perf[i] = arr_f
    counts = np.array([len(p) for p in per_wl_pools], dtype=np.int64)
    wl_ptr = np.zeros(W + 1, dtype=np.int64)
    np.cumsum(counts, out=wl_ptr[1:])
    cand_wl = np.repeat(np.arange(W, dtype=np.int64), counts)
    cand_pool = np.concatenate(per_wl_pools) if W else np.zeros(0, dtype=np.int64)
    cand_perf = np.concatenate(per_wl_perf) if W else np.zeros(0)
    cand_busy = demand[cand_wl] / cand_perf if len(cand_wl) else np.zeros(0)

    site_umax = np.array([s.max_utilisation for s in inst.sites], dtype=float)
    if inst.unserved_penalty is not None:
        penalty, is_default = float(inst.unserved_penalty), False
    else:
        cs = pool_site[cand_pool] if len(cand_pool) else np.zeros(0, dtype=np.int64)
        ph = pool_hw[cand_pool] if len(cand_pool) else np.zeros(0, dtype=np.int64)
        # Full-load cost per unit share: servers at umax, proportional overhead, and the
        # hall's fixed overhead spread over a full hall.
        it_per_share = cand_busy * (idle[ph] / site_umax[cs] + (peak - idle)[ph])
        k_max, obj_max = sp_k.max(axis=1), sp_obj.max(axis=1)  # the dearest period (the only one at T = 1)
        per_share = it_per_share * (1.0 + k_max[cs] + site_f[cs] / site_hall_kw[cs]) * obj_max[cs]
        penalty = default_penalty(site_obj, per_share, demand[cand_wl]) if len(cand_wl) else 1.0
        is_default = True

    return ModelData(
        name=inst.name,
        horizon=ax.horizon,
        objective=inst.objective,
        penalty=penalty,
        penalty_is_default=is_default,
        site_ids=[s.id for s in inst.sites],
        hardware_ids=hw_ids,
        workload_ids=[w.id for w in inst.workloads],
        site_tier=[s.tier for s in inst.sites],
        site_zone=[s.zone for s in inst.sites],
        site_cap=site_cap,
        site_halls=site_halls,
        site_hall_kw=site_hall_kw,
        site_k=site_k,
        site_f=site_f,
        site_umax=site_umax,
        site_price=site_price,
        site_carbon=site_carbon,
        site_renew=site_renew,
        site_can_idle=np.array([s.can_idle for s in inst.sites], dtype=bool),
        site_obj=site_obj,
        pool_site=pool_site,
        pool_hw=pool_hw,
        pool_servers=np.array(pool_n, dtype=float),
        pool_idle=idle[pool_hw] if len(pool_hw) else np.zeros(0),
        pool_dyn=(peak - idle)[pool_hw] if len(pool_hw) else np.zeros(0),
        wl_demand=demand,
        wl_weight=np.array([inst.weight(w.precision) for w in inst.workloads], dtype=float),
        wl_value=np.array([w.value_per_tflops_hour for w in inst.workloads], dtype=float),
        wl_divisible=np.array([w.divisible for w in inst.workloads], dtype=bool),
        wl_must=np.array([w.must_serve for w in inst.workloads], dtype=bool),
        wl_class=[w.class_ for w in inst.workloads],
        wl_ptr=wl_ptr,
        cand_wl=cand_wl,
        cand_pool=cand_pool,
        cand_busy=cand_busy,
        targets=inst.targets.given(),
        per_len=ax.length,
        per_rep=ax.rep,
        per_datetime=ax.datetime,
        sp_price=sp_price,
        sp_carbon=sp_carbon,
        sp_renew=sp_renew,
        sp_temp=sp_temp,
        sp_k=sp_k,
        sp_obj=sp_obj,
        site_grid=np.array([np.nan if s.grid_kw is None else s.grid_kw for s in inst.sites], dtype=float),
        wl_shape=ax.shapes(inst),
        wl_window=np.stack([ax.windows(w.flex_window_hours) for w in inst.workloads])
        if W else np.zeros((0, ax.T), dtype=np.int64),
        wl_flex=np.array([w.flex_window_hours is not None and ax.T > 1 for w in inst.workloads], dtype=bool),
        wl_max_rate=np.array([w.max_rate for w in inst.workloads], dtype=float),
        timed=ax.given,
        build=build_arrays(inst, pool_index, hw_index),
    )


def build_arrays(inst: Instance, pool_index: dict[tuple[int, int], int], hw_index: dict[str, int]) -> BuildData:
    """The instance's ``build`` blocks as :class:`BuildData` (empty without one)."""
    r = float(inst.discount_rate)
    g_site: list[int] = []
    g_max: list[float] = []
    g_capex: list[float] = []
    g_open: list[int] = []
    m_pool: list[int] = []
    m_max: list[float] = []
    m_capex: list[float] = []
    m_emb: list[float] = []
    m_open: list[int] = []
    o_site: list[int] = []
    o_capex: list[float] = []
    given = False
    for j, s in enumerate(inst.sites):
        b = s.build
        if b is None:
            continue
        given = True
        site_crf = crf(r, b.lifetime_years)
        o = -1
        if b.site_capex is not None:
            o = len(o_site)
            o_site.append(j)
            o_capex.append(site_crf * b.site_capex)
        if b.halls_max > 0:
            g_site.append(j)
            g_max.append(float(b.halls_max))
            g_capex.append(site_crf * float(b.hall_capex or 0.0))
            g_open.append(o)
        for h, count in b.servers_max.items():
            if count <= 0:
                continue
            hm = inst.hardware[h]
            m_pool.append(pool_index[(j, hw_index[h])])
            m_max.append(float(count))
            m_capex.append(crf(r, hm.lifetime_years) * float(hm.capex or 0.0))
            m_emb.append(hm.embodied_kg / hm.lifetime_years)
            m_open.append(o)
    i64, f64 = np.int64, float
    return BuildData(
        g_site=np.array(g_site, dtype=i64), g_max=np.array(g_max, dtype=f64), g_capex=np.array(g_capex, dtype=f64),
        g_open=np.array(g_open, dtype=i64), m_pool=np.array(m_pool, dtype=i64), m_max=np.array(m_max, dtype=f64),
        m_capex=np.array(m_capex, dtype=f64), m_embodied=np.array(m_emb, dtype=f64),
        m_open=np.array(m_open, dtype=i64), o_site=np.array(o_site, dtype=i64),
        o_capex=np.array(o_capex, dtype=f64), given=given,
    )


def _objective_unit(objective: str, price: F64, carbon: F64, renew: F64) -> F64:
    """Objective units per facility kWh (per site, or per site and period)."""
    if objective == "energy":
        return np.ones_like(price)
    if objective == "cost":
        return price.copy()
    return carbon * (1.0 - renew)
