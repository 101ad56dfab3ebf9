"""The per-period figures of a plan (FORMULATION.md section 10, "What a solve returns").

``result.json``'s ``time`` section (periods, hours, flexibility, and the plan per period
that ``verify`` reads), each site's peak, and the ``periods`` and ``served`` tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from computeplan.model.data import ModelData
from computeplan.plan.evaluate import Figures

if TYPE_CHECKING:  # pandas only when a time instance's tables are made
    import pandas as pd


def shifted_tflops_hours(d: ModelData, fig: Figures) -> float:
    """TFLOPS-hours served away from their demand shape:
    ``sum_{i,t} w[t] |served[i,t] - D[i] s[i,t]| / 2`` (each hour moved counts once)."""
    gap = np.abs(np.asarray(fig.served_t) - np.asarray(fig.demand_t))
    return float(d.per_w @ gap.sum(axis=1)) / 2.0


def site_peaks(d: ModelData, fig: Figures) -> list[dict[str, Any]]:
    """Per site: its highest facility power over the periods, the first period it occurs,
    and its grid cap (None when it has none)."""
    fac = np.asarray(fig.facility_t)
    top = fac.max(axis=0)
    at = np.argmax(fac >= top - 1e-9 * np.maximum(np.abs(top), 1.0), axis=0)  # the first, up to noise
    grid = [None if not np.isfinite(g) else float(g) for g in d.site_grid]
    return [{"peak_facility_kw": float(fac[at[j], j]), "peak_period": int(at[j]), "grid_kw": grid[j]}
            for j in range(d.n_sites)]


def period_table(d: ModelData, fig: Figures) -> pd.DataFrame:
    """One row per site and period: power, PUE, the period's series, and its clock
    ``hours`` and recurrences (``weight``)."""
    import pandas as pd

    T, S = d.n_periods, d.n_sites
    it, fac = np.asarray(fig.it_t), np.asarray(fig.facility_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        pue = np.where(it > 0, fac / np.where(it > 0, it, 1.0), np.nan)
    cols: dict[str, Any] = {"period": np.repeat(np.arange(T), S)}
    if d.per_datetime is not None:
        cols["datetime"] = np.repeat(np.array(d.per_datetime, dtype=object), S)
    cols.update({
        "site": np.tile(np.array(d.site_ids, dtype=object), T),
        "it_kw": it.ravel(), "facility_kw": fac.ravel(), "pue": pue.ravel(),
        "price_per_kwh": d.sp_price.T.ravel(), "carbon_kg_per_kwh": d.sp_carbon.T.ravel(),
        "temperature_c": d.sp_temp.T.ravel(),
        # each period's clock hours and recurrences: its energy weight is their product
        "hours": np.repeat(d.per_len, S), "weight": np.repeat(d.per_rep, S),
    })
    return pd.DataFrame(cols)


def served_table(d: ModelData, fig: Figures) -> pd.DataFrame:
    """One row per workload class and period: TFLOPS served and demanded."""
    import pandas as pd

    classes = sorted(set(d.wl_class))
    idx = np.array([classes.index(c) for c in d.wl_class], dtype=np.int64)
    T, C = d.n_periods, len(classes)
    served = np.zeros((T, C))
    demand = np.zeros((T, C))
    for arr, src in ((served, fig.served_t), (demand, fig.demand_t)):
        for c in range(C):
            arr[:, c] = np.asarray(src)[:, idx == c].sum(axis=1)
    return pd.DataFrame({"period": np.repeat(np.arange(T), C), "class": np.tile(np.array(classes, dtype=object), T),
                         "served_tflops": served.ravel(), "demand_tflops": demand.ravel()})


def plan_per_period(d: ModelData, fig: Figures) -> dict[str, dict[str, list[Any]]]:
    """The plan's non-zero shares and servers on, per period, as columns: what ``verify``
    needs to recompute every per-period figure."""
    X, N = np.asarray(fig.x_t), np.asarray(fig.n_t)
    t, c = np.nonzero(X)
    tn, p = np.nonzero(N)
    site_of = np.array(d.site_ids, dtype=object)
    hw_of = np.array(d.hardware_ids, dtype=object)
    wl_of = np.array(d.workload_ids, dtype=object)
    return {
        "dispatch": {"period": t.tolist(), "workload": wl_of[d.cand_wl[c]].tolist(),
                     "site": site_of[d.pool_site[d.cand_pool[c]]].tolist(),
                     "hardware": hw_of[d.pool_hw[d.cand_pool[c]]].tolist(), "share": X[t, c].tolist()},
        "servers_on": {"period": tn.tolist(), "site": site_of[d.pool_site[p]].tolist(),
                       "hardware": hw_of[d.pool_hw[p]].tolist(), "servers": N[tn, p].tolist()},
    }


def time_section(d: ModelData, fig: Figures, flexibility: dict[str, Any] | None) -> dict[str, Any]:
    """``result.json``'s ``time``: sizes, the value of flexibility, the plan per period."""
    return {"periods": d.n_periods, "hours": d.horizon, "typical_days": None,
            "flexibility": flexibility, "full_year": None, **plan_per_period(d, fig)}
