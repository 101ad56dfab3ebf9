"""Every figure of FORMULATION.md sections 4 and 6, from a plan on the arrays.

A plan is ``x`` (share per candidate), ``n`` (servers on per pool) and ``z`` (active
halls per site). The figures are computed once here; the result, the terminal, the
files and the report only present them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
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
    """A plan and its figures (arrays by site, pool, workload, candidate)."""

    x: Any
    n: Any
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
    g: F64 = field(default_factory=lambda: np.zeros(0))  # new halls per buildable site (FORMULATION.md 11)
    m: F64 = field(default_factory=lambda: np.zeros(0))  # new servers per buildable pool
    o: F64 = field(default_factory=lambda: np.zeros(0))  # 1 per site opened


def clean_plan(d: ModelData, v: F64) -> tuple[F64, F64, F64]:
    """Split a column vector into (x, n, z), clipped to bounds and with solver noise removed."""
    P = d.n_pools
    parts = plan_layout(d).split(v)
    x = np.clip(parts["x"], 0.0, 1.0)
    x[x < 1e-10] = 0.0
    indiv = ~d.wl_divisible[d.cand_wl]
    x[indiv] = np.round(x[indiv])
    most = d.pool_servers_most
    n = np.clip(parts["n"], 0.0, most)
    halls = d.site_halls.astype(float)
    np.add.at(halls, d.build.g_site, np.round(np.clip(parts["g"], 0.0, d.build.g_max)))
    z = np.clip(parts["z"], 0.0, halls)
    z = np.where(d.site_can_idle, np.round(z), halls)
    # servers on never below what the busy servers need (solver tolerance can leave 1e-9 short)
    busy = np.bincount(d.cand_pool, weights=d.cand_busy * x, minlength=P)
    n = np.minimum(np.maximum(n, busy / d.site_umax[d.pool_site]), np.maximum(most, n))
    n[np.abs(n) < 1e-10] = 0.0
    return x, n, z


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
    m = np.clip(n[b.m_pool] - d.pool_servers[b.m_pool], 0.0, b.m_max)
    m[m < 1e-9] = 0.0
    o = np.zeros(b.n_o)
    o[b.g_open[(b.g_open >= 0) & (g > 0)]] = 1.0
    o[b.m_open[(b.m_open >= 0) & (m > 0)]] = 1.0
    return g, m, o


def evaluate(d: ModelData, x: F64, n: F64, z: F64, g: F64 | None = None, m: F64 | None = None,
             o: F64 | None = None) -> Figures:
    """All figures of the plan ``(x, n, z)`` with the build decisions ``(g, m, o)`` (none built
    when not given)."""
    b = d.build
    g = np.zeros(b.n_g) if g is None else g
    m = np.zeros(b.n_m) if m is None else m
    o = np.zeros(b.n_o) if o is None else o
    S, P, W = d.n_sites, d.n_pools, d.n_workloads
    H = d.horizon
    busy = np.bincount(d.cand_pool, weights=d.cand_busy * x, minlength=P)
    pool_it = d.pool_idle * n + d.pool_dyn * busy
    it = np.bincount(d.pool_site, weights=pool_it, minlength=S)
    overhead = d.site_f * z + d.site_k * it
    facility = it + overhead
    energy = facility * H
    cost = energy * d.site_price
    carbon_t = energy * d.site_carbon * (1.0 - d.site_renew) / 1000.0
    share = np.bincount(d.cand_wl, weights=x, minlength=W)
    served = d.wl_demand * share
    unserved = np.maximum(d.wl_demand - served, 0.0)
    beyond = np.maximum(n - busy / d.site_umax[d.pool_site], 0.0)
    beyond[beyond < 1e-7 * np.maximum(1.0, n)] = 0.0
    beyond_kwh = d.pool_idle * beyond * (1.0 + d.site_k[d.pool_site]) * H
    tot_it, tot_p, tot_e = float(it.sum()), float(facility.sum()), float(energy.sum())
    indicators: dict[str, float | None] = {
        "fleet_pue": _ratio(tot_p, tot_it),
        "ece_gflops_per_w": _ratio(float(np.sum(d.wl_weight * served)), tot_p),
        "energy_kwh": tot_e,
        "cost": float(cost.sum()),
        "carbon_t": float(carbon_t.sum()),
        "renewable_share": _ratio(float(np.sum(energy * d.site_renew)), tot_e),
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
    obj = float(np.sum(energy * d.site_obj)) + d.penalty * H * float(np.sum(unserved[~d.wl_must]))
    obj += {"cost": capex, "carbon": embodied_kg}.get(d.objective, 0.0) * H / HOURS_PER_YEAR
    return Figures(x, n, z, busy, it, overhead, facility, energy, cost, carbon_t, share, beyond,
                   beyond_kwh, indicators, obj, g, m, o)


def site_pue(fig: Figures) -> F64:
    """Each site's PUE (inf where halls are on and no IT load runs; NaN where nothing is on)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(fig.it > 0, fig.facility / np.where(fig.it > 0, fig.it, 1.0),
                        np.where(fig.z > 0, np.inf, np.nan))


def target_records(d: ModelData, fig: Figures, shadow: dict[str, float] | None) -> list[dict[str, Any]]:
    """Each target: value, target, met, shadow price (objective units per unit of target)."""
    return _target_records(d, fig.indicators, {"pue": site_pue(fig)}, np.asarray(fig.z) > 0, shadow)
