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
from computeplan.model.targets import moved_target
from computeplan.plan.evaluate import clean_plan
from computeplan.solvers import Budget, SolveOptions
from computeplan.solvers.highs import solve_highs


def diagnose(m: Model, budget: Budget | None = None) -> dict[str, Any]:
    """Elastic re-solve of ``m``; returns ``{"summary": str, "moves": [...], "method": str}``.

    The LP relaxation of the elastic model is solved first; when it needs no move and
    ``m`` has integer decisions, the elastic MILP is solved within what is left of
    ``budget`` (at most 60 s).
    """
    d = m.data
    L = m.layout
    P, T, S = d.n_pools, d.n_periods, d.n_sites
    V = m.n_cols
    R = m.n_rows
    slack_rows: list[Any] = []
    slack_signs: list[float] = []
    weights: list[float] = []
    meta: list[tuple[str, int, Any]] = []  # (kind, index, target term)

    def slack(row: Any, sign: float, w: float, kind: str, k: int, term: Any = None) -> None:
        """A slack column on one row, or on several (a site's rows in every period)."""
        slack_rows.append(np.atleast_1d(np.asarray(row, dtype=np.int64)))
        slack_signs.append(sign)
        weights.append(w)
        meta.append((kind, k, term))

    fam = m.families
    f = fam["assign"]
    assign_wl = np.flatnonzero((np.diff(d.wl_ptr) > 0) & ~d.wl_flex)
    # A share of workload i left unserved in a period, relative to that period's demand
    # (with one period, the share of the workload).
    need = m.row_hi[f.start : f.stop]
    for r in range(f.stop - f.start):
        i = int(assign_wl[r % len(assign_wl)])
        if d.wl_must[i] and need[r] > 0:
            slack(f.start + r, 1.0, 1.0 / need[r], "assign", r)
    for name in ("window", "pick"):
        if name in fam:
            g = fam[name]
            for r in range(g.start, g.stop):
                if m.row_lo[r] > 0:
                    slack(r, 1.0, 1.0 / m.row_lo[r], name, r)
    f = fam["capacity"]
    grows = np.zeros(S, dtype=bool)
    grows[d.build.g_site] = True  # a site that may build halls grows by halls (a build move below)
    for j in np.flatnonzero(~grows).tolist():
        slack(f.start + j + S * np.arange(T), -1.0, 1.0 / max(float(d.site_cap[j]), float(d.site_hall_kw[j])),
              "capacity", j)
    if "grid" in fam:
        g = fam["grid"]
        capped = np.flatnonzero(np.isfinite(d.site_grid))
        for k, j in enumerate(capped.tolist()):
            slack(g.start + k + len(capped) * np.arange(T), -1.0, 1.0 / d.site_grid[j], "grid", j)
    for term in m.terms:
        spec = term.given.spec
        w = 1.0 / ((term.given.value or 1.0) * spec.slack_scale(d))
        for k, r in enumerate(term.rows.tolist()):
            # the weight is per unit of the row as written; the model's row is scaled
            slack(r, -1.0 if term.upper[k] else 1.0, abs(w) / float(term.scale[k]), "target", k, term)
    # Pool sizes: relax n <= N through a slack column per pool on a new row n - e <= N.
    nE = len(slack_rows)
    counts = np.array([len(r) for r in slack_rows], dtype=np.int64)
    slack_block = sp.csr_matrix((np.repeat(slack_signs, counts), (np.concatenate(slack_rows) if nE else
                                 np.zeros(0, dtype=np.int64), np.repeat(np.arange(nE), counts))), shape=(R, nE))
    A_ext = sp.hstack([m.A, slack_block], format="csr")
    n_start = L.start("n")
    PT = P * T
    pool_rows = sp.csr_matrix((np.ones(PT), (np.arange(PT), n_start + np.arange(PT))), shape=(PT, V + nE))
    pool_slack = sp.csr_matrix((-np.ones(PT), (np.arange(PT), np.tile(np.arange(P), T))), shape=(PT, P))
    A_all = sp.vstack([sp.hstack([A_ext, sp.csr_matrix((R, P))]), sp.hstack([pool_rows, pool_slack])], format="csr")
    w_all = np.concatenate([np.array(weights), 1.0 / np.maximum(d.pool_servers, 1.0)])
    col_hi = m.col_hi.copy()
    col_hi[L["n"]] = np.inf  # pool sizes are relaxed through the new rows below
    # Build limits: a slack per buildable site and pool on g <= halls_max, m <= servers_max
    # (and on the rows that gate them by the site's opening).
    A_all = A_all + _installed_servers(m, A_all.shape, V + nE, P)
    A_all, row_hi_b, w_b = _build_slacks(m, A_all)
    nB = len(w_b)
    pool_hi = d.pool_servers.copy()
    pool_hi[d.build.m_pool] = np.inf  # a buildable pool grows by building (n - m <= N stays)
    col_hi[L["g"]] = np.inf
    col_hi[L["m"]] = np.inf
    layout = L.extend("slack", nE).extend("servers", P).extend("build", nB)
    m2 = Model(
        data=d, layout=layout,
        c=np.concatenate([m.c * 1e-9 / max(1.0, float(np.abs(m.c).max(initial=1.0))), w_all, w_b]),
        offset=0.0, A=A_all, row_lo=np.concatenate([m.row_lo, np.full(PT + nB, -np.inf)]),
        row_hi=np.concatenate([m.row_hi, np.tile(pool_hi, T), row_hi_b]),
        col_lo=np.concatenate([m.col_lo, np.zeros(nE + P + nB)]),
        col_hi=np.concatenate([col_hi, np.full(nE + P + nB, np.inf)]),
        integer=np.zeros(V + nE + P + nB, dtype=bool), families=m.families, ex=m.ex, scale=m.scale,
    )
    out = solve_highs(m2, SolveOptions(relax=True))
    if out.v is None:
        return {"summary": "the elastic re-solve found no answer either; check the instance", "moves": [],
                "method": "elastic LP re-solve with weighted slacks"}
    method = "elastic LP re-solve with weighted slacks"
    tol = 1e-7
    if bool(np.any(m.integer)):
        # Whole halls and indivisible work: the relaxation's moves may not be enough for the
        # integer model (or it needs none at all), so the elastic MILP decides when it can.
        lp_needs_none = float(np.max(out.v[V:], initial=0.0)) <= tol
        m2.integer[:V] = m.integer
        m2.integer[V + nE: V + nE + P] = True  # servers come whole (and count whole as installed)
        left = (budget or Budget(None)).left()
        mip = solve_highs(m2, SolveOptions(time_limit=60.0 if left is None else min(60.0, left), mip_gap=1e-4))
        if mip.v is not None:
            out = mip
            method = ("elastic MILP re-solve with weighted slacks"
                      + (" (the LP relaxation is feasible)" if lp_needs_none else ""))
    sol = out.v
    assert sol is not None
    parts = layout.split(sol)
    s, e, eb = parts["slack"], parts["servers"], parts["build"]
    x, n, z = clean_plan(d, sol[:V])
    v = L.join(x=x, n=n, z=z, g=parts["g"], m=parts["m"], o=parts["o"])
    Av = np.asarray(m.A @ v).ravel()
    moves: list[dict[str, Any]] = []
    short = _shortfalls(m, meta, s, tol)
    for i, tf in short.items():
        what = "TFLOPS" if T == 1 else "TFLOPS (mean over the horizon)"
        moves.append({"kind": "demand", "workload": d.workload_ids[i], "unserved_tflops": tf,
                      "message": f"workload {d.workload_ids[i]}: {tf:.6g} of {d.wl_demand[i]:.6g} {what} "
                                 "cannot be served"})
    for (kind, k, term), val in zip(meta, s, strict=True):
        if val <= tol or kind in ("assign", "window", "pick"):
            continue
        if kind == "grid":
            moves.append({"kind": "grid", "site": d.site_ids[k], "grid_kw": float(d.site_grid[k] + val),
                          "extra_kw": float(val),
                          "message": f"raise grid_kw at {d.site_ids[k]} to {d.site_grid[k] + val:.6g} kW "
                                     f"(from {d.site_grid[k]:.6g} kW)"})
        elif kind == "capacity":
            moves.append({"kind": "capacity", "site": d.site_ids[k], "extra_kw": float(val),
                          "message": f"site {d.site_ids[k]}: IT capacity must grow by {val:.6g} kW "
                                     f"(from {d.site_cap[k]:.6g} kW)"})
        else:
            moves.append(_target_move(m, term, k, Av, v, float(e.sum())))
    for pidx in np.flatnonzero(e > tol):
        moves.append({"kind": "servers", "site": d.site_ids[d.pool_site[pidx]],
                      "hardware": d.hardware_ids[d.pool_hw[pidx]], "extra_servers": float(e[pidx]),
                      "message": f"pool {d.site_ids[d.pool_site[pidx]]}/{d.hardware_ids[d.pool_hw[pidx]]}: "
                                 f"{e[pidx]:.6g} more servers needed (has {d.pool_servers[pidx]:.6g})"})
    moves.extend(_build_moves(d, eb, tol))
    if moves:
        summary = (f"no plan meets every constraint; the smallest set of moves found: {len(moves)} "
                   "(each in its own unit; together they make the instance feasible)")
    else:
        summary = ("no plan meets every constraint, yet no single target, capacity or demand was found to "
                   "move within the time given: the cause is the whole-number decisions (halls switched "
                   "on whole, workloads that cannot be split); loosen a target slightly or allow splitting")
    return {"summary": summary, "moves": moves, "method": method}


def _shortfalls(m: Model, meta: list[tuple[str, int, Any]], s: Any, tol: float) -> dict[int, float]:
    """Unserved TFLOPS per workload (mean over the horizon) from the demand slacks."""
    d = m.data
    T = d.n_periods
    share = d.per_w / d.horizon if T > 1 else np.ones(1)
    out: dict[int, float] = {}
    fam = m.families
    assign_wl = np.flatnonzero((np.diff(d.wl_ptr) > 0) & ~d.wl_flex)
    flex_wl = np.flatnonzero((np.diff(d.wl_ptr) > 0) & d.wl_flex)
    for (kind, k, _term), val in zip(meta, s, strict=True):
        if val <= tol:
            continue
        if kind == "assign":
            i, t = int(assign_wl[k % len(assign_wl)]), k // len(assign_wl)
            tf = float(val * d.wl_demand[i] * share[t])
        elif kind == "window":
            label = m.families["window"].labels[k - fam["window"].start]
            i = d.workload_ids.index(label[len("window["):].rsplit("#", 1)[0])
            tf = float(val * d.wl_demand[i] * d.per_rep[0] / d.horizon) if i in flex_wl else 0.0
        elif kind == "pick":
            label = m.families["pick"].labels[k - fam["pick"].start]
            i = d.workload_ids.index(label[len("pick["):-1])
            tf = float(val * d.wl_demand[i])
        else:
            continue
        out[i] = out.get(i, 0.0) + tf
    return out


def _target_move(m: Model, term: Any, k: int, Av: Any, v: Any, servers: float) -> dict[str, Any]:
    """One target row's slack as a move of the target, in planner terms (``servers``: the
    servers the other moves add, for a row that counts installed servers)."""
    g = term.given
    r = int(term.rows[k])
    bound = float(m.row_hi[r] if term.upper[k] else m.row_lo[r])
    per = g.spec.per_server
    if per is None or servers == 0.0:
        new = moved_target(term, k, float(Av[r]), bound, v)
    else:
        # the row with the added servers: activity + per T sc E, and its slope in T with it
        sc = float(term.scale[k])
        rate = -(float(term.per_unit(v)[k]) - per * sc * servers)
        value = float(Av[r]) + per * g.value * sc * servers
        new = None if abs(rate) <= 1e-15 else g.value + (bound - value) / rate
    if g.spec.keyed:
        sid = m.families[g.spec.name].labels[r - m.families[g.spec.name].start].split("[", 1)[1].rstrip("]")
        way = "rise" if g.spec.sense == "max" else "fall"
        msg = (f"site {sid}: {g.spec.label} cap {g.value:g} must {way} to {new:.6g}" if new is not None
               else f"site {sid}: cannot meet its {g.spec.label.split()[-1]} cap {g.value:g} with halls powered "
                    "and no IT load")
        return {"kind": "target", "target": f"{g.spec.name}[{sid}]", "from": g.value, "to": new, "message": msg}
    return {"kind": "target", "target": g.label, "from": g.value, "to": new,
            "message": f"targets.{g.label} must move from {g.value:g} to {new:.6g}" if new is not None
            else f"targets.{g.label} cannot be met"}


def _installed_servers(m: Model, shape: tuple[int, int], first: int, P: int) -> sp.csr_matrix:
    """The servers a move adds count as installed in every target row that counts installed
    servers (a server utilisation floor): their coefficients on the ``P`` server slack
    columns from ``first`` on, equilibrated as the rows are."""
    rows, cols, vals = [], [], []
    for t in m.terms:
        per = t.given.spec.per_server
        if per is None:
            continue
        for r, sc in zip(t.rows, t.scale, strict=True):
            rows.append(np.full(P, r))
            cols.append(first + np.arange(P))
            vals.append(np.full(P, per * t.given.value * sc))
    if not rows:
        return sp.csr_matrix(shape)
    return sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape)


def _build_slacks(m: Model, A_all: sp.csr_matrix) -> tuple[sp.csr_matrix, Any, Any]:
    """``A_all`` with a slack column per build limit (``g`` then ``m`` columns, in the layout's
    order) and a row ``g - e <= halls_max`` / ``m - e <= servers_max`` each; the slack also
    enters the row that gates the decision by the site's opening (``g - halls_max o - e <= 0``).
    Returns the matrix, the new rows' bounds and the slacks' weights (one unit of relative
    change of the limit weighs 1)."""
    d, L = m.data, m.layout
    b = d.build
    nB = b.n_g + b.n_m
    n_rows, n_cols = A_all.shape
    if nB == 0:
        return A_all, np.zeros(0), np.zeros(0)
    k = np.arange(nB)
    cols = np.concatenate([L.start("g") + np.arange(b.n_g), L.start("m") + np.arange(b.n_m)])
    most = np.concatenate([b.g_max, b.m_max])
    rows = sp.csr_matrix((np.ones(nB), (k, cols)), shape=(nB, n_cols))
    slack_in_rows = sp.csr_matrix((-np.ones(nB), (k, k)), shape=(nB, nB))
    gate = sp.lil_matrix((n_rows, nB))
    fam = m.families.get("build_open")
    if fam is not None:
        gated = np.concatenate([np.flatnonzero(b.g_open >= 0), b.n_g + np.flatnonzero(b.m_open >= 0)])
        for r, kk in enumerate(gated.tolist()):
            gate[fam.start + r, kk] = -1.0
    A_new = sp.vstack([sp.hstack([A_all, gate.tocsr()]), sp.hstack([rows, slack_in_rows])], format="csr")
    return A_new, most, 1.0 / np.maximum(most, 1.0)


def _build_moves(d: Any, eb: Any, tol: float) -> list[dict[str, Any]]:
    """Each relaxed build limit as a move: "allow 2 more halls at hub-jiashan"."""
    b = d.build
    out: list[dict[str, Any]] = []
    for k in np.flatnonzero(eb > tol).tolist():
        if k < b.n_g:
            j = int(b.g_site[k])
            more = float(np.ceil(eb[k] - 1e-6))
            out.append({"kind": "build_halls", "site": d.site_ids[j], "extra_halls": more,
                        "message": f"allow {more:.6g} more hall(s) at {d.site_ids[j]} "
                                   f"(build.halls_max {b.g_max[k]:.6g} -> {b.g_max[k] + more:.6g})"})
        else:
            p = int(b.m_pool[k - b.n_g])
            sid, hid = d.site_ids[d.pool_site[p]], d.hardware_ids[d.pool_hw[p]]
            most = b.m_max[k - b.n_g]
            out.append({"kind": "build_servers", "site": sid, "hardware": hid, "extra_servers": float(eb[k]),
                        "message": f"allow {eb[k]:.6g} more {hid} server(s) to be built at {sid} "
                                   f"(build.servers_max {most:.6g} -> {most + eb[k]:.6g})"})
    return out
