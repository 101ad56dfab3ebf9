"""The fleet heuristic: near-optimal plans for fleets too large for the exact MILP, with a
certified lower bound.

1. Candidate form: each workload (large divisible workloads cut into equal chunks that
   fit a pool) picks one candidate pool; servers on = busy / umax; a candidate costs its
   facility power at the site's objective weight; idle-able halls cost ``f`` each, exactly.
2. Greedy construction, repair, and shift local search (Numba kernels in
   :mod:`computeplan.heuristics.fleet_kernels`).
3. Polish: the LP over divisible shares and servers on, with the hall counts and the
   indivisible choices fixed; this also meets the targets (PUE, ECE, ...) exactly, adding
   idle servers where a PUE target asks for them.
4. Bound: Lagrangian relaxation of pool and site capacities (targets dropped, halls
   relaxed to ``z >= IT / c``), by subgradient optimisation; valid for the LP and the MILP.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from computeplan.model.build import Model, build_model
from computeplan.model.data import ModelData
from computeplan.model.layout import plan_layout
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import solve_highs
from computeplan.solvers.interrupt import stop_requested

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]


@dataclass
class FleetArrays:
    """The candidate form of a :class:`ModelData` (per hour, objective units)."""

    item_wl: I64  # workload of each item
    item_share: F64  # share of its workload an item carries
    item_ptr: I64
    cand_orig: I64  # original candidate index in ModelData
    cand_pool: I64
    cand_site: I64
    var: F64
    busy: F64
    it: F64
    unserved: F64  # per item: cost of leaving it unserved (inf when it must be served)
    pool_cap: F64
    site_cap: F64
    hall_kw: F64
    hall_cost: F64
    site_idle: NDArray[np.bool_]
    fixed_const: float  # hall costs of sites whose halls cannot idle


def fleet_arrays(d: ModelData, max_chunks: int = 64) -> FleetArrays:
    """Candidate form of ``d``; divisible workloads too large for one pool are chunked."""
    K = d.n_cand
    cs = d.cand_site
    pool_cap = d.site_umax[d.pool_site] * d.pool_servers
    it_full = d.cand_busy * (d.pool_idle[d.cand_pool] / d.site_umax[cs] + d.pool_dyn[d.cand_pool])
    var_full = d.site_obj[cs] * (1.0 + d.site_k[cs]) * it_full
    site_cap = d.site_hall_kw * d.site_halls
    # Share of a workload one empty pool can take, per candidate. A workload that does not
    # fit twice into its best pool is chunked, each chunk at most half of its smallest
    # candidate: a chunk then also fills what is left of a pool, or a small pool, when the
    # best one is shared (work left over that fits nowhere whole finds no place at all).
    fit = np.minimum(pool_cap[d.cand_pool] / np.maximum(d.cand_busy, 1e-300), site_cap[cs] / np.maximum(it_full, 1e-300))
    best_fit = np.zeros(d.n_workloads)
    least_fit = np.full(d.n_workloads, np.inf)
    if K:
        np.maximum.at(best_fit, d.cand_wl, fit)
        np.minimum.at(least_fit, d.cand_wl, np.where(fit > 0, fit, np.inf))
    q = np.ones(d.n_workloads, dtype=np.int64)
    div = d.wl_divisible & (best_fit > 0) & (best_fit < 2.0)
    q[div] = np.minimum(max_chunks, np.ceil(2.0 / least_fit[div])).astype(np.int64)
    ncand = np.diff(d.wl_ptr)
    item_wl = np.repeat(np.arange(d.n_workloads, dtype=np.int64), q)
    item_share = 1.0 / q[item_wl]
    # Candidates of each item: the workload's candidates, scaled by the item's share.
    item_ncand = ncand[item_wl]
    item_ptr = np.zeros(item_wl.size + 1, dtype=np.int64)
    np.cumsum(item_ncand, out=item_ptr[1:])
    starts = d.wl_ptr[item_wl]
    offs = np.arange(item_ptr[-1], dtype=np.int64) - np.repeat(item_ptr[:-1], item_ncand)
    cand_orig = np.repeat(starts, item_ncand) + offs
    share = np.repeat(item_share, item_ncand)
    penalty = np.where(d.wl_must, np.inf, d.penalty * d.wl_demand)
    hall_cost = d.site_obj * d.site_f
    return FleetArrays(
        item_wl=item_wl, item_share=item_share, item_ptr=item_ptr, cand_orig=cand_orig,
        cand_pool=d.cand_pool[cand_orig], cand_site=cs[cand_orig], var=var_full[cand_orig] * share,
        busy=d.cand_busy[cand_orig] * share, it=it_full[cand_orig] * share,
        unserved=penalty[item_wl] * item_share, pool_cap=pool_cap, site_cap=site_cap,
        hall_kw=d.site_hall_kw.copy(), hall_cost=hall_cost, site_idle=d.site_can_idle.copy(),
        fixed_const=float(np.sum(np.where(d.site_can_idle, 0.0, hall_cost * d.site_halls))),
    )


def lagrangian_bound(d: ModelData, fa: FleetArrays, upper: float, iterations: int = 2000,
                     time_limit: float = 30.0) -> tuple[float, F64, F64]:
    """Lower bound (objective per hour) by relaxing pool and site capacities.

    ``L(lam, mu) = sum_i min(unserved_i, min_c cost_c + lam_p busy_c + mu_j it_c)
    - lam . pool_cap - mu . site_cap + constant halls``, halls relaxed to ``z >= IT / c``
    (a lower bound on ``f * ceil(IT / c)``), targets dropped: every term relaxes the
    model, so every ``L`` is a valid bound. Per workload (continuous shares); multipliers
    by subgradient steps of Polyak's size towards ``upper``. Returns the best bound and
    its multipliers (the prices of scarce pool and site capacity)."""
    from computeplan.heuristics.fleet.kernels import lagrangian_step

    cs = d.cand_site
    it_full = d.cand_busy * (d.pool_idle[d.cand_pool] / d.site_umax[cs] + d.pool_dyn[d.cand_pool])
    amort = np.where(d.site_can_idle[cs], d.site_obj[cs] * d.site_f[cs] / d.site_hall_kw[cs], 0.0)
    base = (d.site_obj[cs] * (1.0 + d.site_k[cs]) + amort) * it_full
    unserved = np.where(d.wl_must, np.inf, d.penalty * d.wl_demand)
    lam = np.zeros(d.n_pools)
    mu = np.zeros(d.n_sites)
    pool_load = np.zeros(d.n_pools)
    site_load = np.zeros(d.n_sites)
    best = -math.inf
    best_lam, best_mu = lam.copy(), mu.copy()
    theta, stall = 2.0, 0
    t0 = time.perf_counter()
    if not math.isfinite(upper):
        # no incumbent to aim at: a rough one from the unpriced choice
        upper = 1.5 * abs(float(lagrangian_step(d.wl_ptr, d.cand_pool, cs, base, d.cand_busy, it_full,
                                                  np.where(d.wl_must, 1e300, unserved), lam, mu,
                                                  pool_load, site_load))) + 1.0
    for _ in range(iterations):
        total = lagrangian_step(d.wl_ptr, d.cand_pool, cs, base, d.cand_busy, it_full, unserved, lam, mu,
                                pool_load, site_load)
        val = float(total - lam @ fa.pool_cap - mu @ fa.site_cap + fa.fixed_const)
        if not math.isfinite(val):
            return -math.inf, best_lam, best_mu
        if val > best + 1e-9 * abs(val):
            best, stall = val, 0
            best_lam, best_mu = lam.copy(), mu.copy()
        else:
            stall += 1
            if stall >= 10:
                theta, stall = 0.5 * theta, 0
        if theta < 1e-3 or time.perf_counter() - t0 > time_limit:
            break
        g_pool = pool_load - fa.pool_cap
        g_site = site_load - fa.site_cap
        # a multiplier at zero with a slack capacity has nothing to move
        g_pool[(lam <= 0) & (g_pool < 0)] = 0.0
        g_site[(mu <= 0) & (g_site < 0)] = 0.0
        norm = float(g_pool @ g_pool + g_site @ g_site)
        if norm <= 0:
            break  # the relaxed choice fits every capacity: L is optimal for the relaxation
        step = theta * max(upper - val, 1e-9 * abs(upper)) / norm
        lam = np.maximum(0.0, lam + step * g_pool)
        mu = np.maximum(0.0, mu + step * g_site)
    return best, best_lam, best_mu


def placement_order(fa: FleetArrays, var: F64 | None = None) -> I64:
    """Items with few candidates first (up to 8 counts as many), then by static regret
    (second-cheapest minus cheapest candidate), then by size: the items with the fewest
    places to go, and those that lose most when pushed off their best pool, are placed
    while it still has room."""
    n_items = fa.item_wl.size
    has = np.diff(fa.item_ptr) > 0
    starts = fa.item_ptr[:-1][has]
    amort = np.where(fa.site_idle[fa.cand_site], fa.hall_cost[fa.cand_site] / fa.hall_kw[fa.cand_site], 0.0)
    cost = (fa.var if var is None else var) + amort * fa.it
    best = np.full(n_items, np.inf)
    size = np.zeros(n_items)
    if cost.size:
        best[has] = np.minimum.reduceat(cost, starts)
        size[has] = np.maximum.reduceat(fa.it, starts)
    # second best: mask the first minimum of each item
    item_of = np.repeat(np.arange(n_items), np.diff(fa.item_ptr))
    is_min = cost <= best[item_of]
    first = np.zeros(cost.size, dtype=bool)
    idx = np.flatnonzero(is_min)
    _, first_pos = np.unique(item_of[idx], return_index=True)
    first[idx[first_pos]] = True
    second = np.full(n_items, np.inf)
    masked = np.where(first, np.inf, cost)
    if cost.size:
        second[has] = np.minimum.reduceat(masked, starts)
    regret = np.minimum(second, fa.unserved) - best
    regret = np.where(np.isfinite(regret), regret, 1e300)
    # Few places to go first (edge work with a tight latency reach), then by regret.
    reach = np.minimum(np.diff(fa.item_ptr), 8)
    return np.lexsort((-size, -regret, reach)).astype(np.int64)


@dataclass
class FleetOutcome:
    v: F64 | None  # column vector of the model (x, n, z), None when no plan
    objective: float | None  # per hour, as evaluated by the caller
    bound: float  # per hour
    seconds: float
    info: dict[str, float]


def _fixed_lp(m: Model, v: F64, time_limit: float | None = None) -> F64 | None:
    """Re-optimise divisible shares and servers on with halls and indivisible choices fixed."""
    out = solve_highs(m.with_integers_fixed(v), SolveOptions(relax=True, time_limit=time_limit))
    return out.v if out.v is not None and out.status in (Termination.OPTIMAL, Termination.FEASIBLE) else None


def _search(d: ModelData, fa: FleetArrays, budget: float, seed: int,
            prices: tuple[F64, F64] | None = None,
            max_passes: int | None = None) -> tuple[F64 | None, dict[str, float], float]:
    """Construction (on costs priced with the capacity multipliers ``prices`` when given),
    repair and local search on the true costs; returns (column vector or None, info, cost
    per hour). ``max_passes`` bounds each local search's passes and the rounds of
    ejection chains (``None``: only the clock does)."""
    from computeplan.heuristics.fleet.kernels import (
        close_halls,
        construct,
        ejection_pass,
        local_search,
        place_unplaced,
        plan_cost,
    )

    t0 = time.perf_counter()
    priced = fa.var
    if prices is not None:
        priced = fa.var + prices[0][fa.cand_pool] * fa.busy + prices[1][fa.cand_site] * fa.it
    order = placement_order(fa, priced)
    args = (fa.item_ptr, fa.cand_pool, fa.cand_site, fa.var, fa.busy, fa.it, fa.unserved, fa.pool_cap,
            fa.site_cap, fa.hall_kw, fa.hall_cost, fa.site_idle)
    sel, pool_load, site_it, unplaced = construct(fa.item_ptr, order, fa.cand_pool, fa.cand_site, priced,
                                                  *args[4:])
    if unplaced:
        unplaced = place_unplaced(*args, sel, pool_load, site_it)
    info: dict[str, float] = {"items": float(fa.item_wl.size), "unplaced": float(unplaced)}
    limit = -1 if max_passes is None else int(max_passes)
    passes, moves = local_search(*args, sel, pool_load, site_it, 0.3 * budget, int(seed), limit)
    closed = close_halls(*args, sel, pool_load, site_it, order[::-1].copy())
    ejections = 0
    for rnd in range(200 if max_passes is None else max_passes):  # ejection chains and shifts while they pay
        left = budget - (time.perf_counter() - t0)
        if left <= 0 or stop_requested():
            break
        e = ejection_pass(*args, sel, pool_load, site_it, 0.5 * left, int(seed) + 2 + rnd, 200)
        p2, m2 = local_search(*args, sel, pool_load, site_it, 0.5 * left, int(seed) + 100 + rnd, limit)
        ejections += e
        passes, moves = passes + p2, moves + m2
        if e == 0 and m2 == 0:
            break
    closed += close_halls(*args, sel, pool_load, site_it, order[::-1].copy())
    info.update(passes=float(passes), moves=float(moves), ejections=float(ejections), halls_closed=float(closed),
                search_s=time.perf_counter() - t0)
    cost = float(plan_cost(sel, fa.var, fa.it, fa.unserved, fa.cand_site, fa.site_idle, fa.hall_kw,
                           fa.hall_cost, d.n_sites)) + fa.fixed_const
    if unplaced:
        return None, info, math.inf
    K, P, S = d.n_cand, d.n_pools, d.n_sites
    x = np.zeros(K)
    served = sel >= 0
    np.add.at(x, fa.cand_orig[sel[served]], fa.item_share[served])
    x = np.minimum(x, 1.0)
    busy = np.bincount(d.cand_pool, weights=d.cand_busy * x, minlength=P)
    n = busy / d.site_umax[d.pool_site]
    it_site = np.bincount(d.pool_site, weights=d.pool_idle * n + d.pool_dyn * busy, minlength=S)
    z = np.where(it_site > 1e-12 * d.site_hall_kw,
                 np.maximum(1.0, np.ceil(it_site / d.site_hall_kw - 1e-9)), 0.0).clip(0, d.site_halls)
    # halls forced open by the caller (fa.site_cap) stay open
    z = np.maximum(z, np.where(d.site_can_idle & ~fa.site_idle, np.round(fa.site_cap / d.site_hall_kw), 0))
    z = np.where(d.site_can_idle, z, d.site_halls)
    return plan_layout(d).join(x=x, n=n, z=z.astype(float)), info, cost


def _objective(m: Model, v: F64) -> float:
    return float(m.c @ v + m.offset)


def _left(t0: float, budget: float, time_limit: float | None) -> float | None:
    """What is left of a caller's time limit (at least a moment for an LP); None without one."""
    if time_limit is None or not math.isfinite(budget):
        return None
    return max(0.05, budget - (time.perf_counter() - t0))


def solve_fleet(d: ModelData, *, time_limit: float | None = None, seed: int = 0,
                polish: bool | None = None, model: Model | None = None,
                lp_guided_max: int = 1_200_000, max_passes: int | None = None) -> FleetOutcome:
    """Heuristic plan for ``d`` and a lower bound (Lagrangian, or the LP's when it was solved).

    Runs the search on the model as it is and, when the LP relaxation fits (``n_cand <=
    lp_guided_max``), again with the hall counts the LP asks for (rounded up) held open;
    the better polished plan is returned.

    ``max_passes`` makes the run deterministic: the clock is ignored (``time_limit`` has
    no effect), each local search stops after that many passes, the ejection rounds after
    that many rounds and the Lagrangian ascent after its iteration count, so the plan
    depends only on ``d``, ``seed`` and ``max_passes``.
    """
    t0 = time.perf_counter()
    budget = 60.0 if time_limit is None else float(time_limit)
    if max_passes is not None:
        budget = math.inf
    fa = fleet_arrays(d)
    # A quick incumbent (construction and one short search) to aim the multipliers at.
    v, info, heur_cost = _search(d, fa, 0.05 * budget, seed, max_passes=max_passes)
    tb = time.perf_counter()
    bound, lam, mu = lagrangian_bound(d, fa, heur_cost, time_limit=0.3 * budget)
    info["bound_s"] = time.perf_counter() - tb
    # The priced search takes what is left, less a share for the LP-guided run and polish.
    reserve = 0.35 if d.n_cand <= lp_guided_max else 0.15
    left = budget - (time.perf_counter() - t0)
    v_p, info_p, cost_p = _search(d, fa, 0.0 if stop_requested() else max(0.05 * budget, (1 - reserve) * left),
                                  seed + 1, prices=(lam, mu), max_passes=max_passes)
    info["priced_search_s"] = info_p["search_s"]
    info["priced_cost"] = cost_p
    info["unpriced_cost"] = heur_cost
    if cost_p < heur_cost:
        v, heur_cost = v_p, cost_p
    if polish is None:
        polish = bool(d.targets) or d.n_cand <= lp_guided_max
    m = model if model is not None else (build_model(d) if polish or d.n_cand <= lp_guided_max else None)
    candidates: list[F64] = []
    if v is not None:
        candidates.append(v)
    if m is not None and d.n_cand <= lp_guided_max and bool(np.any(d.site_can_idle)) and not stop_requested():
        lp_limit = None if max_passes is not None else max(1.0, 0.5 * (budget - (time.perf_counter() - t0)))
        lp = solve_highs(m, SolveOptions(relax=True, time_limit=lp_limit))
        if lp.status == Termination.OPTIMAL and lp.objective is not None and lp.v is not None:
            bound = max(bound, lp.objective)
            z_lp = np.ceil(m.split(lp.v)["z"] - 1e-6).clip(0, d.site_halls)
            forced = FleetArrays(**{**fa.__dict__, "site_idle": np.zeros_like(fa.site_idle),
                                    "site_cap": np.where(d.site_can_idle, z_lp * d.site_hall_kw, fa.site_cap),
                                    "fixed_const": float(np.sum(fa.hall_cost * np.where(d.site_can_idle, z_lp, d.site_halls)))})
            v2, info2, _ = _search(d, forced, 0.2 * budget, seed + 7, max_passes=max_passes)
            info["lp_guided_s"] = info2["search_s"]
            if v2 is not None:
                candidates.append(v2)
    if not candidates:
        return FleetOutcome(None, None, bound, time.perf_counter() - t0, info)
    best_v: F64 | None = None
    best_obj = math.inf
    t_pol = time.perf_counter()
    for cand in candidates:
        pv = cand
        if polish and m is not None:
            pv_opt = _fixed_lp(m, cand, _left(t0, budget, time_limit))
            if pv_opt is None and d.targets:
                v_all = cand.copy()
                v_all[m.layout["z"]] = d.site_halls  # every hall on: most room for the targets
                pv_opt = _fixed_lp(m, v_all, _left(t0, budget, time_limit))
            if pv_opt is None:
                if d.targets:
                    continue
            else:
                pv = pv_opt
        obj = _objective(m, pv) if m is not None else heur_cost
        if obj < best_obj:
            best_v, best_obj = pv, obj
    info["polish_s"] = time.perf_counter() - t_pol
    if best_v is None:
        return FleetOutcome(None, None, bound, time.perf_counter() - t0, {**info, "targets_unmet": 1.0})
    return FleetOutcome(best_v, best_obj, bound, time.perf_counter() - t0, info)
