"""Capacity value: sites ranked by what one more kW of IT capacity is worth, and where
that price holds (right-hand-side ranging of the capacity rows)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from computeplan.analysis.points import as_instance, copy_instance
from computeplan.analysis.tables import objective_name
from computeplan.errors import SolverError, UsageError
from computeplan.io.schema import OBJECTIVES, Instance
from computeplan.model.build import Model, build_model
from computeplan.model.data import ModelData, build_data
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.model.layout import plan_layout
from computeplan.plan.result import Result
from computeplan.plan.solve import solve as run_solve
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

F64 = NDArray[np.float64]


def plan_vector(d: ModelData, res: Result) -> F64:
    """The column vector of a result's plan: ``[x | n | z]`` (over periods: ``x`` and ``n``
    per period from ``result.json``'s ``time`` plan, and the pick ``y`` of non-divisible
    work where it runs) and the build decisions ``[g | m | o]`` of its ``build`` block."""
    P, T = d.n_pools, d.n_periods
    x, n, z = np.zeros(T * d.n_cand), np.zeros(T * P), np.zeros(d.n_sites)
    wl = {w: i for i, w in enumerate(d.workload_ids)}
    site = {s: j for j, s in enumerate(d.site_ids)}
    hw = {h: k for k, h in enumerate(d.hardware_ids)}
    pool = {(int(d.pool_site[p]), int(d.pool_hw[p])): p for p in range(P)}

    def cand(workload: str, site_id: str, hardware: str) -> int:
        i, p = wl[workload], pool[(site[site_id], hw[hardware])]
        lo, hi = int(d.wl_ptr[i]), int(d.wl_ptr[i + 1])
        return lo + int(np.flatnonzero(d.cand_pool[lo:hi] == p)[0])

    if T > 1:
        tm = res.extra.get("time") or {}
        disp, on = tm.get("dispatch") or {}, tm.get("servers_on") or {}
        if len(disp.get("period", [])) == 0 and res.assignment_records:
            raise UsageError("capacity value: the result holds no plan per period (result.json's time.dispatch)")
        for t, w, sid, h, share in zip(disp["period"], disp["workload"], disp["site"], disp["hardware"],
                                       disp["share"], strict=True):
            x[int(t) * d.n_cand + cand(w, sid, h)] = float(share)
        for t, sid, h, k in zip(on.get("period", []), on.get("site", []), on.get("hardware", []),
                                on.get("servers", []), strict=True):
            n[int(t) * P + pool[(site[sid], hw[h])]] = float(k)
    else:
        for a in res.assignment_records:
            x[cand(a["workload"], a["site"], a["hardware"])] = float(a["share"])
        for r in res.pool_records:
            n[pool[(site[r["site"]], hw[r["hardware"]])]] = float(r["servers_on"])
    y = (x.reshape(T, d.n_cand)[:, d.y_cand] > 0).any(axis=0).astype(float)  # where non-divisible work runs
    for s in res.site_records:
        z[site[s["id"]]] = float(s["active_halls"])
    b = d.build
    g, mm, o = np.zeros(b.n_g), np.zeros(b.n_m), np.zeros(b.n_o)
    built = res.extra.get("build") or {}
    g_of = {int(j): k for k, j in enumerate(b.g_site)}
    m_of = {int(p): k for k, p in enumerate(b.m_pool)}
    for r in built.get("halls", []):
        g[g_of[site[r["site"]]]] = float(r["new_halls"])
    for r in built.get("servers", []):
        mm[m_of[pool[(site[r["site"]], hw[r["hardware"]])]]] = float(r["new_servers"])
    # a site is open where anything is built
    o[b.g_open[(b.g_open >= 0) & (g > 0)]] = 1.0
    o[b.m_open[(b.m_open >= 0) & (mm > 0)]] = 1.0
    return plan_layout(d).join(x=x, n=n, z=z, y=y, g=g, m=mm, o=o)


def build_value(result: Result) -> pd.DataFrame:
    """What one more buildable hall or server is worth at each site: the shadow price of each
    build limit (``g <= halls_max``, ``m <= servers_max``) in ``result.json``'s ``build``
    block, as a saving (``value_per_unit = -shadow_price``), best first. A limit that does
    not bind is worth 0. Empty for an instance without build decisions."""
    built = result.extra.get("build") or {}
    rows = [{"site": r["site"], "what": "hall", "built": float(r["new_halls"]),
             "shadow_price": r["shadow_price"],
             "value_per_unit": None if r["shadow_price"] is None else -float(r["shadow_price"]) + 0.0}
            for r in built.get("halls", [])]
    rows += [{"site": r["site"], "what": f"server {r['hardware']}", "built": float(r["new_servers"]),
              "shadow_price": r["shadow_price"],
              "value_per_unit": None if r["shadow_price"] is None else -float(r["shadow_price"]) + 0.0}
             for r in built.get("servers", [])]
    df = pd.DataFrame(rows, columns=["site", "what", "built", "shadow_price", "value_per_unit"])
    if len(df):
        df = df.sort_values(["value_per_unit", "site", "what"], ascending=[False, True, True], kind="stable")
    return df.reset_index(drop=True)


def capacity_value(
    instance: Instance | str | Path | Mapping[str, Any],
    result: Result | None = None,
    *,
    objective: str | None = None,
    method: str = "auto",
) -> pd.DataFrame:
    """Sites ranked by what one more kW of IT capacity is worth, and where that holds.

    ``value_per_kw`` is minus the capacity shadow price (objective units saved per extra
    IT kW, hall count and fixed overhead held). ``holds_from_kw`` / ``holds_to_kw`` are
    the IT capacities between which that price holds (HiGHS ranging of the capacity
    row's right-hand side; for a MILP, of the LP with hall counts and indivisible
    placements fixed at the plan). A site whose capacity does not bind is worth 0 per kW
    down to the IT load it carries. A site with every hall off is worth 0 too, with no
    shadow price (as in ``result.json``): a kW on its row would be IT power with no hall
    under it; ``note`` says so.

    Over periods, a kW more capacity is a kW more in every period: its price is the sum
    of the periods' capacity duals, ``it_kw`` is the site's peak IT load, ``note`` says in
    how many periods the capacity binds, and no range is given (``NaN``: ranging moves one
    row, one period). Where a site has a ``grid_kw``, ``grid_value_per_kw`` is what a kW
    more of it is worth, likewise summed over the periods.
    """
    inst = as_instance(instance)
    if inst.time is not None and inst.time.typical_days is not None:
        raise UsageError("capacity value: not on representative days: a kW would be valued on the typical days "
                         "only, not on the peak hours of the year they stand for; remove time.typical_days")
    if objective is not None:
        if objective not in OBJECTIVES:
            raise UsageError(f"--objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
        inst = copy_instance(inst, {"objective": objective})
    if result is None:
        result = run_solve(inst, method=method)
    if not result.has_plan:
        raise UsageError(f"capacity value: the instance has no plan ({result.status.value}); "
                         "solve it and follow its diagnosis first")
    d = build_data(inst)
    T, S = d.n_periods, d.n_sites
    got = (result.extra.get("time") or {}).get("periods", 1)
    if got != T:
        raise UsageError(f"capacity value: the result has {got} period(s), the instance {T}; give the result "
                         "of this instance")
    m = build_model(d)
    v = plan_vector(d, result)
    out = solve_highs(m.with_integers_fixed(v), SolveOptions(relax=True), ranging=T == 1)
    if out.status != Termination.OPTIMAL or out.row_dual is None:
        raise SolverError(f"capacity value: the fixed LP did not solve: {out.message or out.status.value}")
    f = m.families["capacity"]
    # a kW more capacity is a kW more in every period: the price is the sum of the periods' duals
    per_t = out.row_dual[f.start : f.stop].reshape(T, S)
    duals = per_t.sum(axis=0)
    rng = out.ranging
    rows = []
    z = np.round(m.split(v)["z"])
    cap_kw = d.site_hall_kw * z
    it = np.asarray(m.A_it @ v).ravel().reshape(T, S).max(axis=0)  # over periods: the peak
    scale_obj = float(np.max(np.abs(m.c))) if m.n_cols else 1.0
    tol = 1e-12 * max(scale_obj, 1.0)
    grid = _grid_values(m, out.row_dual, tol)
    for j, sid in enumerate(d.site_ids):
        r = f.start + j
        price = float(duals[j] * m.scale)
        basic = rng is not None and bool(rng.row_basic[r])
        note = "" if T == 1 else f"binds in {int(np.sum(np.abs(per_t[:, j]) > tol))} of {T} periods"
        if z[j] == 0:
            # No hall on: a kW on this row would be IT power with no hall (and no fixed
            # overhead) under it, not something to build; the site is worth nothing more
            # until a hall is switched on.
            price, value, dn, up = math.nan, 0.0, math.nan, math.nan
            note = "no hall on: extra capacity changes nothing unless a hall is switched on"
        elif basic or abs(duals[j]) <= tol:
            # not binding: the price 0 holds from the plan's (peak) load up without limit
            price, value, dn, up = 0.0, 0.0, float(it[j] - cap_kw[j]), math.inf
        else:
            # over periods no single row's range holds for a kW added in every period: no range
            value = -price
            dn, up = ((float(rng.row_bound_dn[r]), float(rng.row_bound_up[r])) if rng is not None
                      else (math.nan, math.nan))
        active = float(cap_kw[j])
        rows.append({
            "site": sid, "tier": d.site_tier[j], "shadow_price": price, "value_per_kw": value,
            "it_kw": float(it[j]), "it_capacity_kw": float(d.site_cap[j]), "active_capacity_kw": active,
            "holds_from_kw": max(0.0, active + dn) if math.isfinite(dn) else (0.0 if dn < 0 else math.nan),
            "holds_to_kw": active + up if math.isfinite(up) or math.isnan(up) else math.inf,
            **grid[j], "note": note,
        })
    df = pd.DataFrame(rows).sort_values(["value_per_kw", "site"], ascending=[False, True], kind="stable")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.attrs.update({"instance": d.name, "objective_name": objective_name(inst, None),
                     "method": result.method, "build": build_value(result).to_dict("records")})
    return df.reset_index(drop=True)


def _grid_values(m: Model, row_dual: F64, tol: float) -> list[dict[str, Any]]:
    """Per site: its ``grid_kw`` (None without a cap) and what a kW more of it is worth
    (``grid_value_per_kw``: minus the sum over periods of the duals of its grid rows,
    ``P[j,t] <= grid_kw[j]``, in objective units; 0 where the cap never binds)."""
    d = m.data
    g = m.families.get("grid")
    if g is None:  # no site has a grid cap: no grid columns
        return [{} for _ in range(d.n_sites)]
    out: list[dict[str, Any]] = [{"grid_kw": None, "grid_value_per_kw": None} for _ in range(d.n_sites)]
    capped = np.flatnonzero(np.isfinite(d.site_grid))
    per = np.asarray(row_dual[g.start : g.stop]).reshape(d.n_periods, len(capped)).sum(axis=0)
    for k, j in enumerate(capped.tolist()):
        price = float(per[k]) if abs(per[k]) > tol else 0.0
        out[j] = {"grid_kw": float(d.site_grid[j]), "grid_value_per_kw": -price * m.scale + 0.0}
    return out


def capacity_of_result(instance: Instance | str | Path | Mapping[str, Any], result: Result) -> pd.DataFrame:
    """:func:`capacity_value` of a plan already solved, for the objective it was solved for."""
    objective = {v: k for k, v in OBJECTIVE_NAMES.items()}.get(result.objective_name)
    return capacity_value(instance, result, objective=objective)
