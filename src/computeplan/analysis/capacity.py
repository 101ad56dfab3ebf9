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
from computeplan.model.build import build_model
from computeplan.model.data import ModelData, build_data
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.model.layout import plan_layout
from computeplan.plan.result import Result
from computeplan.plan.solve import solve as run_solve
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

F64 = NDArray[np.float64]


def plan_vector(d: ModelData, res: Result) -> F64:
    """The column vector of a result's plan: ``[x | n | z]`` and the build decisions
    ``[g | m | o]`` of its ``build`` block."""
    P = d.n_pools
    x, n, z = np.zeros(d.n_cand), np.zeros(P), np.zeros(d.n_sites)
    wl = {w: i for i, w in enumerate(d.workload_ids)}
    site = {s: j for j, s in enumerate(d.site_ids)}
    hw = {h: k for k, h in enumerate(d.hardware_ids)}
    pool = {(int(d.pool_site[p]), int(d.pool_hw[p])): p for p in range(P)}
    for a in res.assignment_records:
        i, p = wl[a["workload"]], pool[(site[a["site"]], hw[a["hardware"]])]
        lo, hi = int(d.wl_ptr[i]), int(d.wl_ptr[i + 1])
        c = lo + int(np.flatnonzero(d.cand_pool[lo:hi] == p)[0])
        x[c] = float(a["share"])
    for r in res.pool_records:
        n[pool[(site[r["site"]], hw[r["hardware"]])]] = float(r["servers_on"])
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
    return plan_layout(d).join(x=x, n=n, z=z, g=g, m=mm, o=o)


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
    """
    inst = as_instance(instance)
    if inst.time is not None:
        raise UsageError("capacity value: ranging over periods is not supported yet; result.json's "
                         "capacity_shadow_price (summed over the periods) gives the value per kW")
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
    m = build_model(d)
    v = plan_vector(d, result)
    out = solve_highs(m.with_integers_fixed(v), SolveOptions(relax=True), ranging=True)
    if out.status != Termination.OPTIMAL or out.row_dual is None:
        raise SolverError(f"capacity value: the fixed LP did not solve: {out.message or out.status.value}")
    f = m.families["capacity"]
    duals = out.row_dual[f.start : f.stop]
    rng = out.ranging
    rows = []
    z = np.round(m.split(v)["z"])
    cap_kw = d.site_hall_kw * z
    it = np.asarray(m.A_it @ v).ravel()
    scale_obj = float(np.max(np.abs(m.c))) if m.n_cols else 1.0
    for j, sid in enumerate(d.site_ids):
        r = f.start + j
        price = float(duals[j] * m.scale)
        basic = rng is not None and bool(rng.row_basic[r])
        note = ""
        if z[j] == 0:
            # No hall on: a kW on this row would be IT power with no hall (and no fixed
            # overhead) under it, not something to build; the site is worth nothing more
            # until a hall is switched on.
            price, value, dn, up = math.nan, 0.0, math.nan, math.nan
            note = "no hall on: extra capacity changes nothing unless a hall is switched on"
        elif basic or abs(duals[j]) <= 1e-12 * max(scale_obj, 1.0):
            # not binding: the price 0 holds from the plan's load up without limit
            price, value, dn, up = 0.0, 0.0, float(it[j] - cap_kw[j]), math.inf
        else:
            value = -price
            dn, up = ((float(rng.row_bound_dn[r]), float(rng.row_bound_up[r])) if rng is not None
                      else (math.nan, math.nan))
        active = float(cap_kw[j])
        rows.append({
            "site": sid, "tier": d.site_tier[j], "shadow_price": price, "value_per_kw": value,
            "it_kw": float(it[j]), "it_capacity_kw": float(d.site_cap[j]), "active_capacity_kw": active,
            "holds_from_kw": max(0.0, active + dn) if math.isfinite(dn) else (0.0 if dn < 0 else math.nan),
            "holds_to_kw": active + up if math.isfinite(up) or math.isnan(up) else math.inf,
            "note": note,
        })
    df = pd.DataFrame(rows).sort_values(["value_per_kw", "site"], ascending=[False, True], kind="stable")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.attrs.update({"instance": d.name, "objective_name": objective_name(inst, None),
                     "method": result.method, "build": build_value(result).to_dict("records")})
    return df.reset_index(drop=True)


def capacity_of_result(instance: Instance | str | Path | Mapping[str, Any], result: Result) -> pd.DataFrame:
    """:func:`capacity_value` of a plan already solved, for the objective it was solved for."""
    objective = {v: k for k, v in OBJECTIVE_NAMES.items()}.get(result.objective_name)
    return capacity_value(instance, result, objective=objective)
