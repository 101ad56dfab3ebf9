"""What must move to make an infeasible instance feasible: an elastic re-solve.

Every constraint a planner can move gets a non-negative slack in its own unit:
unserved TFLOPS for a must-serve workload, extra IT kW for a site's capacity, extra
servers for a pool, and the target itself for each target row. The slacks are weighted
so that one unit of relative change costs the same everywhere (1 % of a site's capacity
weighs like 1 % of a workload's demand), and the LP relaxation of the elastic model is
solved with HiGHS. Each non-zero slack becomes one line of the diagnosis.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from computeplan.model.build import Model
from computeplan.plan.evaluate import clean_plan
from computeplan.solvers.highs import solve_highs


def diagnose(m: Model, time_limit: float = 60.0) -> dict[str, Any]:
    """Elastic re-solve of ``m``; returns ``{"summary": str, "moves": [...]}``."""
    d = m.data
    K, P, S = d.n_cand, d.n_pools, d.n_sites
    V = m.n_cols
    A = m.A.tocsr()
    slack_rows: list[int] = []
    slack_signs: list[float] = []
    weights: list[float] = []
    meta: list[tuple[str, int, int]] = []  # (family, row index within family, sign)
    R = m.n_rows

    def slack(row: int, sign: float, w: float, fam: str, k: int) -> None:
        slack_rows.append(row)
        slack_signs.append(sign)
        weights.append(w)
        meta.append((fam, k, int(sign)))

    fam = m.families
    f = fam["assign"]
    assign_wl = [i for i in range(d.n_workloads) if d.wl_ptr[i + 1] > d.wl_ptr[i]]
    for r, i in enumerate(assign_wl):
        if d.wl_must[i]:
            slack(f.start + r, 1.0, 1.0, "assign", i)  # share of workload i left unserved
    f = fam["capacity"]
    for j in range(S):
        slack(f.start + j, -1.0, 1.0 / d.site_cap[j], "capacity", j)
    it_scale = float(d.site_cap.sum())
    for name in ("fleet_pue_max", "ece_min", "renewable_share_min", "carbon_max", "output_per_kwh_min"):
        if name in fam:
            sign = -1.0 if name in ("fleet_pue_max", "carbon_max") else 1.0
            T = float(d.targets[name]) or 1.0  # type: ignore[arg-type]
            w = 1.0 / (T if name == "carbon_max" else T * it_scale)
            slack(fam[name].start, sign, w, name, 0)
    if "site_pue_max" in fam:
        f = fam["site_pue_max"]
        for r in range(f.stop - f.start):
            slack(f.start + r, -1.0, 1.0 / it_scale, "site_pue_max", r)
    # Pool sizes: relax n <= N through a slack column per pool on a new row n - e <= N.
    nE = len(slack_rows)
    slack_block = sp.csr_matrix((slack_signs, (slack_rows, np.arange(nE))), shape=(R, nE))
    A_ext = sp.hstack([A, slack_block], format="csr")
    pool_rows = sp.csr_matrix((np.ones(P), (np.arange(P), K + np.arange(P))), shape=(P, V + nE))
    pool_slack = sp.csr_matrix((-np.ones(P), (np.arange(P), np.arange(P))), shape=(P, P))
    A_all = sp.vstack([sp.hstack([A_ext, sp.csr_matrix((R, P))]), sp.hstack([pool_rows, pool_slack])], format="csr")
    w_all = np.concatenate([np.array(weights), 1.0 / np.maximum(d.pool_servers, 1.0)])
    col_hi = m.col_hi.copy()
    col_hi[K : K + P] = np.inf  # pool sizes are relaxed through the new rows below
    m2 = Model(
        data=d, c=np.concatenate([m.c * 1e-9 / max(1.0, float(np.abs(m.c).max(initial=1.0))), w_all]),
        offset=0.0, A=A_all, row_lo=np.concatenate([m.row_lo, np.full(P, -np.inf)]),
        row_hi=np.concatenate([m.row_hi, d.pool_servers]),
        col_lo=np.concatenate([m.col_lo, np.zeros(nE + P)]),
        col_hi=np.concatenate([col_hi, np.full(nE + P, np.inf)]),
        integer=np.zeros(V + nE + P, dtype=bool), families=m.families, A_it=m.A_it, A_p=m.A_p, scale=m.scale,
    )
    out = solve_highs(m2, relax=True)
    if out.v is None:
        return {"summary": "the elastic re-solve found no answer either; check the instance", "moves": []}
    method = "elastic LP re-solve with weighted slacks"
    tol = 1e-7
    if bool(np.any(m.integer)) and float(np.max(out.v[V:], initial=0.0)) <= tol:
        # The relaxation needs no move: whole halls or indivisible workloads are the cause.
        m2.integer[:V] = m.integer
        mip = solve_highs(m2, time_limit=time_limit, mip_gap=1e-4)
        if mip.v is not None:
            out = mip
            method = "elastic MILP re-solve with weighted slacks (the LP relaxation is feasible)"
    sol = out.v
    assert sol is not None
    v = sol[:V]
    s = sol[V : V + nE]
    e = sol[V + nE :]
    x, n, z = clean_plan(d, v)
    it = np.asarray(m.A_it @ np.concatenate([x, n, z])).ravel()
    p = np.asarray(m.A_p @ np.concatenate([x, n, z])).ravel()
    moves: list[dict[str, Any]] = []
    for (kind, k, _sign), val in zip(meta, s, strict=True):
        if val <= tol:
            continue
        if kind == "assign":
            tf = float(val * d.wl_demand[k])
            moves.append({"kind": "demand", "workload": d.workload_ids[k], "unserved_tflops": tf,
                          "message": f"workload {d.workload_ids[k]}: {tf:.6g} of {d.wl_demand[k]:.6g} TFLOPS cannot be served"})
        elif kind == "capacity":
            moves.append({"kind": "capacity", "site": d.site_ids[k], "extra_kw": float(val),
                          "message": f"site {d.site_ids[k]}: IT capacity must grow by {val:.6g} kW "
                                     f"(from {d.site_cap[k]:.6g} kW)"})
        elif kind == "site_pue_max":
            capped = np.flatnonzero(np.isfinite(d.site_pue_cap))
            j = int(capped[k])
            T = float(d.site_pue_cap[j])
            new = T + val / it[j] if it[j] > 0 else None
            msg = (f"site {d.site_ids[j]}: site PUE cap {T:g} must rise to {new:.6g}" if new is not None
                   else f"site {d.site_ids[j]}: cannot meet its PUE cap {T:g} with halls powered and no IT load")
            moves.append({"kind": "target", "target": f"site_pue_max[{d.site_ids[j]}]", "from": T,
                          "to": new, "message": msg})
        else:
            T = float(d.targets[kind])  # type: ignore[arg-type]
            tot_p, tot_it = float(p.sum()), float(it.sum())
            if kind == "fleet_pue_max":
                new = T + val / tot_it if tot_it > 0 else None
            elif kind == "carbon_max":
                new = T + val
            else:
                new = T - val / tot_p if tot_p > 0 else None
            moves.append({"kind": "target", "target": kind, "from": T, "to": new,
                          "message": f"targets.{kind} must move from {T:g} to {new:.6g}" if new is not None
                          else f"targets.{kind} cannot be met"})
    for pidx in np.flatnonzero(e > tol):
        moves.append({"kind": "servers", "site": d.site_ids[d.pool_site[pidx]],
                      "hardware": d.hardware_ids[d.pool_hw[pidx]], "extra_servers": float(e[pidx]),
                      "message": f"pool {d.site_ids[d.pool_site[pidx]]}/{d.hardware_ids[d.pool_hw[pidx]]}: "
                                 f"{e[pidx]:.6g} more servers needed (has {d.pool_servers[pidx]:.6g})"})
    if moves:
        summary = (f"no plan meets every constraint; the smallest set of moves found: {len(moves)} "
                   "(each in its own unit; together they make the instance feasible)")
    else:
        summary = ("no plan meets every constraint, yet no single target, capacity or demand was found to "
                   "move within the time given: the cause is the whole-number decisions (halls switched "
                   "on whole, workloads that cannot be split); loosen a target slightly or allow splitting")
    return {"summary": summary, "moves": moves, "method": method}
