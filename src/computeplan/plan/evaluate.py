"""Every figure of FORMULATION.md sections 4 and 6, from a plan on the arrays.

A plan is ``x`` (share per candidate), ``n`` (servers on per pool) and ``z`` (active
halls per site). The figures are computed once here; the result, the terminal, the
files and the report only present them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.model.data import ModelData
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.model.layout import plan_layout
from computeplan.model.targets import target_records as _target_records

F64 = NDArray[Any]

__all__ = ["OBJECTIVE_NAMES", "Figures", "clean_plan", "evaluate", "target_records"]


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


def clean_plan(d: ModelData, v: F64) -> tuple[F64, F64, F64]:
    """Split a column vector into (x, n, z), clipped to bounds and with solver noise removed."""
    P = d.n_pools
    parts = plan_layout(d).split(v)
    x = np.clip(parts["x"], 0.0, 1.0)
    x[x < 1e-10] = 0.0
    indiv = ~d.wl_divisible[d.cand_wl]
    x[indiv] = np.round(x[indiv])
    n = np.clip(parts["n"], 0.0, d.pool_servers)
    z = np.clip(parts["z"], 0.0, d.site_halls.astype(float))
    z = np.where(d.site_can_idle, np.round(z), d.site_halls.astype(float))
    # servers on never below what the busy servers need (solver tolerance can leave 1e-9 short)
    busy = np.bincount(d.cand_pool, weights=d.cand_busy * x, minlength=P)
    n = np.minimum(np.maximum(n, busy / d.site_umax[d.pool_site]), np.maximum(d.pool_servers, n))
    n[np.abs(n) < 1e-10] = 0.0
    return x, n, z


def evaluate(d: ModelData, x: F64, n: F64, z: F64) -> Figures:
    """All figures of the plan ``(x, n, z)``."""
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
        "server_utilisation": _ratio(float(busy.sum()), float(d.pool_servers.sum())),
    }
    obj = float(np.sum(energy * d.site_obj)) + d.penalty * H * float(np.sum(unserved[~d.wl_must]))
    return Figures(x, n, z, busy, it, overhead, facility, energy, cost, carbon_t, share, beyond,
                   beyond_kwh, indicators, obj)


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
