"""Every figure of FORMULATION.md sections 4 and 6, from a plan on the arrays.

A plan is ``x`` (share per candidate), ``n`` (servers on per pool) and ``z`` (active
halls per site). The figures are computed once here; the result, the terminal, the
files and the report only present them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.model.build import HOURS_PER_YEAR
from computeplan.model.data import ModelData
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.model.layout import plan_layout
from computeplan.model.targets import reports_build
from computeplan.model.targets import target_records as _target_records

F64 = NDArray[Any]

__all__ = ["OBJECTIVE_NAMES", "Figures", "clean_build", "clean_plan", "evaluate", "target_records"]


def _ratio(num: float, den: float) -> float | None:
    return float(num / den) if den > 0 else None


@dataclass
class Figures:
    """A plan and its figures (arrays by site, pool, workload, candidate).

    Per-site, per-pool and per-candidate figures are annual: energy-weighted means over
    the periods (``sum_t w[t] a[t] / H``; with one period, that period). The ``*_t``
    arrays hold them per period (periods x entities)."""

    x: Any  # mean share per candidate
    n: Any  # mean servers on per pool
    z: Any
    busy: Any  # per pool
    it: F64  # per site, kW
    overhead: F64
    facility: F64
    energy: F64  # kWh per site
    cost: F64
    carbon_t: F64
    served_share: F64  # per workload
    beyond_need: F64  # servers on beyond busy / umax, per pool
    beyond_need_kwh: F64  # facility energy they draw (idle kW x (1 + k) x H), per pool
    indicators: dict[str, float | None]
    objective_value: float
    x_t: Any = None  # periods x candidates
    n_t: Any = None  # periods x pools
    busy_t: Any = None
    it_t: Any = None  # periods x sites
    facility_t: Any = None
    served_t: Any = None  # periods x workloads, TFLOPS
    demand_t: Any = None  # periods x workloads, TFLOPS
    g: F64 = field(default_factory=lambda: np.zeros(0))  # new halls per buildable site (FORMULATION.md 11)
    m: F64 = field(default_factory=lambda: np.zeros(0))  # new servers per buildable pool
    o: F64 = field(default_factory=lambda: np.zeros(0))  # 1 per site opened


def _pool_matrix(d: ModelData) -> sp.csr_matrix:
    """Candidates x pools: which pool each candidate runs on."""
    K, P = d.n_cand, d.n_pools
    return sp.csr_matrix((np.ones(K), (np.arange(K), d.cand_pool)), shape=(K, P))


def _busy(d: ModelData, X: F64) -> F64:
    """Periods x pools: busy servers of the shares ``X`` (periods x candidates)."""
    if d.n_periods == 1:
        return np.bincount(d.cand_pool, weights=d.cand_busy * X[0], minlength=d.n_pools)[None, :]
    return np.asarray((X * d.cand_busy[None, :]) @ _pool_matrix(d))


def clean_plan(d: ModelData, v: F64) -> tuple[F64, F64, F64]:
    """Split a column vector into (x, n, z), clipped to bounds and with solver noise removed
    (``x`` and ``n`` period-major, as the layout has them)."""
    T, K, P = d.n_periods, d.n_cand, d.n_pools
    parts = plan_layout(d).split(v)
    X = np.clip(parts["x"].reshape(T, K), 0.0, d.x_cap())
    X[X < 1e-10] = 0.0
    if T == 1:
        indiv = ~d.wl_divisible[d.cand_wl]
        X[0, indiv] = np.round(X[0, indiv])
    servers = np.tile(d.pool_servers_most, (T, 1))
    N = np.clip(parts["n"].reshape(T, P), 0.0, servers)
    halls = d.site_halls_with(np.round(np.clip(parts["g"], 0.0, d.build.g_max)).astype(float))
    z = np.clip(parts["z"], 0.0, halls)
    z = np.where(d.site_can_idle, np.round(z), halls)
    # servers on never below what the busy servers need (solver tolerance can leave 1e-9 short)
    busy = _busy(d, X)
    N = np.minimum(np.maximum(N, busy / d.site_umax[d.pool_site][None, :]), np.maximum(servers, N))
    N[np.abs(N) < 1e-10] = 0.0
    return X.ravel(), N.ravel(), z


def picks(d: ModelData, x: F64) -> F64:
    """The ``y`` block of a plan: 1 for each non-divisible candidate its workload runs on
    (over several periods; empty with one period)."""
    X = np.asarray(x).reshape(d.n_periods, d.n_cand)
    return (X[:, d.y_cand].max(axis=0, initial=0.0) > 0).astype(float)


def clean_build(d: ModelData, v: F64, n: F64, z: F64) -> tuple[F64, F64, F64]:
    """The build decisions ``(g, m, o)`` of a column vector, tidied against the cleaned plan
    ``(n, z)``: whole halls (no more than the active halls need where halls may idle), new
    servers exactly ``max(n - N, 0)``, a site opened where anything is built and nowhere else.
    Each tidy step keeps the plan feasible and costs nothing: built capacity only enters
    the capital cost, the embodied carbon and the utilisation's installed count."""
    b = d.build
    parts = plan_layout(d).split(v)
    g = np.round(np.clip(parts["g"], 0.0, b.g_max))
    idle = d.site_can_idle[b.g_site]
    g = np.where(idle, np.minimum(g, np.maximum(z[b.g_site] - d.site_halls[b.g_site], 0.0)), g)
    n_most = np.asarray(n, dtype=float).reshape(d.n_periods, d.n_pools).max(axis=0)  # over periods
    m = np.clip(n_most[b.m_pool] - d.pool_servers[b.m_pool], 0.0, b.m_max)
    m[m < 1e-9] = 0.0
    o = np.zeros(b.n_o)
    o[b.g_open[(b.g_open >= 0) & (g > 0)]] = 1.0
    o[b.m_open[(b.m_open >= 0) & (m > 0)]] = 1.0
    return g, m, o


def evaluate(d: ModelData, x: F64, n: F64, z: F64, g: F64 | None = None, m: F64 | None = None,
             o: F64 | None = None) -> Figures:
    """All figures of the plan ``(x, n, z)`` (``x`` and ``n`` per period, period-major) with
    the build decisions ``(g, m, o)`` (none built when not given)."""
    b = d.build
    g = np.zeros(b.n_g) if g is None else g
    m = np.zeros(b.n_m) if m is None else m
    o = np.zeros(b.n_o) if o is None else o
    S, P, W, T = d.n_sites, d.n_pools, d.n_workloads, d.n_periods
    H = d.horizon
    X, N = np.asarray(x, dtype=float).reshape(T, -1), np.asarray(n, dtype=float).reshape(T, P)
    w = d.per_w

    def mean(a: F64) -> F64:
        return a[0] if T == 1 else (w @ a) / H

    busy_t = _busy(d, X)
    pool_it = d.pool_idle * N + d.pool_dyn * busy_t
    it_t = np.stack([np.bincount(d.pool_site, weights=pool_it[t], minlength=S) for t in range(T)]) if T < 64 \
        else np.asarray(pool_it @ sp.csr_matrix((np.ones(P), (np.arange(P), d.pool_site)), shape=(P, S)))
    over_t = d.site_f * z + d.sp_k.T * it_t
    fac_t = it_t + over_t
    energy_t = w[:, None] * fac_t if T > 1 else fac_t * H
    energy = energy_t.sum(axis=0)
    cost = (energy_t * d.sp_price.T).sum(axis=0)
    carbon_t = (energy_t * d.sp_carbon.T * (1.0 - d.sp_renew.T)).sum(axis=0) / 1000.0
    it, overhead, facility, busy, n_mean = mean(it_t), mean(over_t), mean(fac_t), mean(busy_t), mean(N)
    share_t = (np.stack([np.bincount(d.cand_wl, weights=X[t], minlength=W) for t in range(T)]) if T < 64
               else np.asarray(X @ sp.csr_matrix((np.ones(d.n_cand), (np.arange(d.n_cand), d.cand_wl)),
                                                 shape=(d.n_cand, W))))
    share = mean(share_t)
    served = d.wl_demand * share
    due = d.wl_demand * (mean(d.wl_shape.T) if T > 1 else 1.0)
    unserved = np.maximum(due - served, 0.0)
    beyond_t = np.maximum(N - busy_t / d.site_umax[d.pool_site], 0.0)
    beyond_t[beyond_t < 1e-7 * np.maximum(1.0, N)] = 0.0
    per_kw = d.pool_idle * beyond_t * (1.0 + d.sp_k[d.pool_site].T)
    beyond_kwh = per_kw[0] * H if T == 1 else w @ per_kw
    beyond = mean(beyond_t)
    tot_it, tot_p, tot_e = float(it.sum()), float(facility.sum()), float(energy.sum())
    indicators: dict[str, float | None] = {
        "fleet_pue": _ratio(tot_p, tot_it),
        "ece_gflops_per_w": _ratio(float(np.sum(d.wl_weight * served)), tot_p),
        "energy_kwh": tot_e,
        "cost": float(cost.sum()),
        "carbon_t": float(carbon_t.sum()),
        "renewable_share": _ratio(float(np.sum(energy_t * d.sp_renew.T)), tot_e),
        "served_tflops": float(served.sum()),
        "unserved_tflops": float(unserved.sum()),
        "output_per_kwh": _ratio(float(np.sum(d.wl_value * served)) * H, tot_e),
        "it_kw": tot_it,
        "facility_kw": tot_p,
        "servers_beyond_need": float(beyond.sum()),
        "beyond_need_energy_kwh": float(beyond_kwh.sum()),
        "server_utilisation": _ratio(float(busy.sum()), float(d.pool_servers.sum()) + float(m.sum())),
    }
    capex = float(b.g_capex @ g + b.m_capex @ m + b.o_capex @ o)
    embodied_kg = float(b.m_embodied @ m)
    if reports_build(d):
        indicators["capex_per_year"] = capex
        indicators["embodied_carbon_t"] = embodied_kg / 1000.0
    obj = float(np.sum(energy_t * d.sp_obj.T)) + d.penalty * H * float(np.sum(unserved[~d.wl_must]))
    obj += {"cost": capex, "carbon": embodied_kg}.get(d.objective, 0.0) * H / HOURS_PER_YEAR
    return Figures(mean(X), n_mean, z, busy, it, overhead, facility, energy, cost, carbon_t, share, beyond,
                   beyond_kwh, indicators, obj, X, N, busy_t, it_t, fac_t, share_t * d.wl_demand,
                   d.wl_shape.T * d.wl_demand, g=g, m=m, o=o)


def site_pue(fig: Figures) -> F64:
    """Each site's PUE (inf where halls are on and no IT load runs; NaN where nothing is on)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(fig.it > 0, fig.facility / np.where(fig.it > 0, fig.it, 1.0),
                        np.where(fig.z > 0, np.inf, np.nan))


def target_records(d: ModelData, fig: Figures, shadow: dict[str, float] | None) -> list[dict[str, Any]]:
    """Each target: value, target, met, shadow price (objective units per unit of target)."""
    # a site drawing no power (halls on, no IT load, no fixed overhead) passes like an idle one
    active = (np.asarray(fig.z) > 0) & (np.asarray(fig.facility) > 0)
    return _target_records(d, fig.indicators, {"pue": site_pue(fig)}, active, shadow)
