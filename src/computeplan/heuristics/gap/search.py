"""The GAP driver: constructions, tabu search with ejection chains, Lagrangian bound and
dives, then a large-neighbourhood search (:mod:`computeplan.heuristics.gap.lns`), within a
time limit, on the candidate form of :mod:`computeplan.heuristics.gap.candidates`."""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt

from computeplan.heuristics.gap import kernels
from computeplan.heuristics.gap.candidates import (
    _REPAIR_WORK,
    CandidateModel,
    HeuristicParams,
    SearchParams,
    _excess,
    candidates_from_gap,
    core_model,
    lagrangian_bound,
    lagrangian_dive,
    lagrangian_forced_bounds,
    price_multipliers,
    regret_greedy,
    tabu_search,
    warm_up,
)
from computeplan.heuristics.gap.lns import agent_lns, lns_applies
from computeplan.heuristics.gap.problem import (
    GapProblem,
    GapSolution,
    check_assignment,
    gap_lp_bound,
    gap_objective,
    relative_gap,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

__all__ = [
    "CandidateModel",
    "HeuristicParams",
    "SearchParams",
    "candidates_from_gap",
    "core_model",
    "lagrangian_bound",
    "lagrangian_dive",
    "lagrangian_forced_bounds",
    "price_multipliers",
    "regret_greedy",
    "solve_gap_heuristic",
    "tabu_search",
    "warm_up",
]


def _constructions(model: CandidateModel, prices: FloatArray | None) -> list[IntArray]:
    caps = np.maximum(model.capacity, 1e-12)
    mean_cost = float(np.mean(np.abs(model.cand_cost))) or 1.0
    frac_price = 1.0 / caps
    starts = [
        regret_greedy(model, 1.0, None, repair=False),
        regret_greedy(model, 0.0, frac_price, repair=False),
        regret_greedy(model, 1.0, mean_cost * frac_price, repair=False),
        regret_greedy(model, 1.0, 0.25 * mean_cost * frac_price, repair=False),
    ]
    if prices is not None:
        starts.append(regret_greedy(model, 1.0, prices, repair=False))
    return starts


def solve_gap_heuristic(
    problem: GapProblem,
    time_limit: float | None = 10.0,
    seed: int = 0,
    *,
    max_dives: int | None = None,
    lp_bound: bool = True,
    params: HeuristicParams | None = None,
) -> GapSolution:
    """Solve a GAP with computeplan's heuristics and bound it from below (min) / above (max).

    Phases (all times are shares of ``time_limit``):

    0. capacity prices (`price_multipliers`): a bound close to the LP bound at little
       cost. On large instances (more than ``params.core_cells`` knapsack cells or
       ``params.core_jobs`` jobs) the search then runs on the core of every job's few
       candidates of smallest priced reduced cost, with ``params.core_search``;
    1. regret-greedy constructions (one of them on the prices) and a short tabu search
       from the best one (on the core: from every job's cheapest priced candidate, the
       construction being the fallback when that search meets no feasible assignment);
    2. the root Lagrangian bound (assignment constraints relaxed, exact knapsacks; on
       the core it guides the dives but bounds the core only) and, optionally, the
       LP-relaxation bound from HiGHS (skipped on the core, where the price bound stands
       in for it);
    3. Lagrangian dives: repeated randomised fixing guided by the Lagrangian regret of
       each job, each aiming below the incumbent; every dive that succeeds is polished
       by the tabu search restricted to the candidates that reduced-cost fixing keeps.
       Instances the knapsack machinery does not cover (fractional weights), or whose
       core's knapsacks are too large for dives to pay off (``params.dive_cells``), run the
       tabu search instead, and so do instances on which no dive succeeds (free dives,
       then as many neighbourhood dives); after such dives the neighbourhood search of
       phase 4 has ``params.failed_dives_lns_share`` of the time left (when more than
       ``lns_share``). The driver counts the dives that failed on capacity (a job's
       candidates no longer fit what the fixed jobs leave) and on the bound.
    4. large-neighbourhood search (`computeplan.heuristics.gap.lns.agent_lns`, integer
       weights only), on ``params.lns_share`` of the time the tabu search has, and of
       the time after the dives on the core (``params.lns_whole_share`` elsewhere): it
       frees the jobs of a few related agents at a time, over all their candidates (not
       only the core's), and re-solves them with a Lagrangian bound and dives of their
       own. With ``max_dives`` and no time limit it tries ``params.lns.rounds_per_dive``
       neighbourhoods per tabu-search round, or that share per dive after the dives.

    The search stops at the time limit, after ``max_dives`` dives, or when the incumbent
    meets the bound. The returned assignment is re-checked with `check_assignment`.

    Parameters
    ----------
    problem : GapProblem
    time_limit : float or None
        Seconds for the whole solve, compilation excluded (kernels are warmed up first).
        ``None`` requires ``max_dives``.
    seed : int
        Seed of every random choice. The sequence of dives and searches is deterministic
        for a seed; the result is too when the run is stopped by ``max_dives`` (with
        ``time_limit=None``) rather than by the clock.
    max_dives : int, optional
        Number of Lagrangian dives (or of tabu-search rounds on instances without dives).
    lp_bound : bool
        Also compute the LP-relaxation bound with HiGHS (reported as ``lp_bound``), except
        on instances searched on their core.
    params : HeuristicParams, optional

    Returns
    -------
    GapSolution
        ``status`` is ``optimal`` when the solution meets the bound, ``feasible``
        otherwise, ``infeasible`` when some job fits no agent or the LP relaxation is
        infeasible, and ``time_limit`` when no feasible assignment was found.
    """
    if time_limit is None and max_dives is None:
        raise ValueError("solve_gap_heuristic: give a time_limit, max_dives or both")
    prm = params or HeuristicParams()
    warm_up()
    t0 = time.perf_counter()
    budget = math.inf if time_limit is None else float(time_limit)
    sign = 1.0 if problem.sense == "min" else -1.0
    info: dict[str, float] = {}
    model = candidates_from_gap(problem)
    n = model.n_items
    simple = model.simple_uses()[0]

    def left() -> float:
        return budget - (time.perf_counter() - t0)

    def finish(sel: IntArray | None, cost: float, bound_min: float, lag: float | None,
               lp: float | None, its: int, status: str | None = None,
               agents: IntArray | None = None) -> GapSolution:
        assignment = np.full(problem.n, -1, dtype=np.int64)
        feasible = False
        objective = math.nan
        if sel is not None and math.isfinite(cost):
            assignment = model.cand_agent[sel] if agents is None else agents
            feasible = not check_assignment(problem, assignment)
            if feasible:
                objective = gap_objective(problem, assignment)
        bound = sign * bound_min if not math.isnan(bound_min) else math.nan
        if status is None:
            if not feasible:
                status = "time_limit"
            elif math.isfinite(bound) and abs(objective - bound) <= 1e-9 * max(1.0, abs(objective)):
                status = "optimal"
            else:
                status = "feasible"
        return GapSolution(
            assignment=assignment,
            objective=objective,
            bound=bound,
            gap=relative_gap(objective, bound) if feasible else math.inf,
            status=status,
            seconds=time.perf_counter() - t0,
            feasible=feasible,
            method="heuristic",
            lp_bound=None if lp is None else sign * lp,
            lagrangian_bound=None if lag is None else sign * lag,
            iterations=its,
            info=info,
        )

    if np.any(np.diff(model.item_ptr) == 0):
        # some job fits on no agent at all
        return finish(None, math.inf, math.inf, None, None, 0, status="infeasible")

    # 0. capacity prices: a bound near the LP bound, a start, and the core on large instances
    crude_ub = float(np.add.reduceat(np.abs(model.cand_cost), model.item_ptr[:-1]).sum())
    price_bound = -math.inf
    prices: FloatArray | None = None
    price_sel = np.zeros(0, dtype=np.int64)
    on_core = False
    if simple:
        greedy = regret_greedy(model, 0.0, 1.0 / np.maximum(model.capacity, 1e-12), repair=False)
        ub0 = float(model.cand_cost[greedy].sum()) if _excess(model, greedy) == 0.0 else crude_ub
        price_bound, prices, price_sel, price_its = price_multipliers(model, ub0, prm.price_iterations)
        info["price_iterations"] = float(price_its)
        large = model.knapsack_cells() > prm.core_cells or n > prm.core_jobs
        if model.knapsack_ready() and large:
            model, index = core_model(model, prices, prm.core_size)
            price_sel = index[price_sel]  # each item's cheapest priced candidate is in the core
            on_core = True
        info["t_prices"] = time.perf_counter() - t0

    # 1. constructions (least overloaded, then cheapest; repaired when overloaded) and a
    # first tabu search, which on the core starts from the priced selection instead (near
    # the LP optimum, slightly overloaded), the construction being the fallback
    starts = _constructions(model, prices)
    scored = sorted(
        (_excess(model, s), float(model.cand_cost[s].sum()), k) for k, s in enumerate(starts)
    )
    built = starts[scored[0][2]]
    if scored[0][0] > 0:
        built = np.asarray(
            kernels.repair(model.item_ptr, model.cand_agent, model.cand_cost, model.use_ptr,
                           model.use_res, model.use_amt, model.feasibility_caps(),
                           model.agent_cand(), built, _REPAIR_WORK),
            dtype=np.int64,
        )
    repaired = _excess(model, built) == 0.0
    info["construction_objective"] = sign * float(model.cand_cost[built].sum()) if repaired else math.nan
    start = price_sel if on_core and price_sel.size == n and np.all(price_sel >= 0) else built
    search = prm.core_search if on_core else prm.search
    first_its = prm.start_iterations if prm.start_iterations is not None else 50 * n
    best, ub, n_its, _ = tabu_search(model, start, time_limit=prm.start_share * budget,
                                     iteration_limit=first_its, seed=seed, params=search)
    if not math.isfinite(ub) and repaired:
        best, ub = built, float(model.cand_cost[built].sum())
    info["first_search_objective"] = sign * ub if math.isfinite(ub) else math.nan
    info["t_first_search"] = time.perf_counter() - t0

    # 2. bounds (the exact Lagrangian only where the dives use it)
    dives_pay = model.knapsack_ready() and (not on_core or model.knapsack_cells() <= prm.dive_cells)
    lag, u = price_bound, np.zeros(0)
    if dives_pay:
        lag, u, lag_its = lagrangian_bound(
            model, ub if math.isfinite(ub) else crude_ub, max_iter=prm.lagrangian_iterations,
            time_limit=prm.lagrangian_share * budget,
        )
        info["lagrangian_iterations"] = float(lag_its)
        info["t_lagrangian"] = time.perf_counter() - t0
    # on the core the root bound holds for the core only: the prices bound the problem
    valid_lag = price_bound if on_core else max(lag, price_bound)
    bound_min = valid_lag
    lp: float | None = None
    if lp_bound and not on_core:
        lp_value = gap_lp_bound(problem, time_limit=None if time_limit is None else 0.1 * budget)
        if not math.isnan(lp_value):
            lp = sign * lp_value
            if lp == math.inf:
                return finish(None, math.inf, math.inf, valid_lag, lp, n_its, status="infeasible")
            bound_min = max(bound_min, lp)
        info["t_lp"] = time.perf_counter() - t0
    integral = bool(np.all(model.cand_cost == np.round(model.cand_cost)))
    if integral and math.isfinite(bound_min):
        bound_min = math.ceil(bound_min - 1e-6)

    def improved(cost: float) -> bool:
        return cost < ub - (0.5 if integral else 1e-9)

    lns_share = prm.lns_share if lns_applies(problem) else 0.0
    # its share of the time after the dives: on the core, and (by default none) otherwise
    dive_lns = lns_share if on_core else (prm.lns_whole_share if lns_share > 0 else 0.0)
    lns_rounds: int | None = None

    # 3. Lagrangian dives: free dives until a few solutions, then large-neighbourhood ones
    dives = successes = 0
    dives_failed = False
    if dives_pay and lag > -math.inf:
        lc_root, _ = lagrangian_forced_bounds(model, u)
        if integral:
            lc_root = np.ceil(lc_root - 1e-6)
        rng = np.random.default_rng(seed)
        cand_item = model.cand_item()
        delta = prm.dive_delta
        scale = max(abs(lag), 1.0)
        n_free_found = free_failures = 0
        k_agents = max(2, math.ceil(prm.lns_agent_share * problem.m))
        # free dives may keep failing on the core (its root bound is not the problem's)
        free_cap = (1 if on_core else 4) * prm.free_dives
        reserve = dive_lns * left() if time_limit is not None else 0.0
        while (ub > bound_min + 1e-9 and left() > reserve
               and (max_dives is None or dives < max_dives)):
            # free dives until a few solutions are known (or keep failing once one is)
            free_dive = not math.isfinite(ub) or (
                n_free_found < prm.free_dives and free_failures < free_cap
            )
            sideways = False
            if free_dive:
                goal = lag + delta * scale
                target = min(ub, math.ceil(goal) if integral else goal)
                allowed = lc_root < target
            else:
                # destroy: free a random share of the jobs, or all jobs of a few agents;
                # the others keep the incumbent's candidate
                sideways = integral and rng.random() < prm.lns_sideways
                target = ub + 1.0 if sideways else ub
                if problem.m <= 2 or rng.random() >= prm.lns_agent_prob:
                    fixed_items = rng.random(n) >= prm.lns_job_share
                else:
                    agents = rng.choice(problem.m, size=min(k_agents, problem.m - 1), replace=False)
                    fixed_items = ~np.isin(model.cand_agent[best], agents)
                allowed = (lc_root < target) & ~fixed_items[cand_item]
                allowed[best[fixed_items]] = True
            sel_d, _steps, why = lagrangian_dive(
                model, u, target, seed=seed * 1_000_003 + dives, allowed=allowed, params=prm,
                time_limit=left())
            dives += 1
            if sel_d is None:
                if why in (2, 3):
                    key = "dives_failed_capacity" if why == 2 else "dives_failed_bound"
                    info[key] = info.get(key, 0.0) + 1.0
                if free_dive:
                    free_failures += 1
                    if target < ub:
                        delta *= 1.3
                if successes == 0 and dives >= free_cap + prm.free_dives:
                    dives_pay = False  # the dives do not reach: the tabu search has the rest
                    dives_failed = True
                    break
                continue
            successes += 1
            if successes == 1:
                info["t_first_success"] = time.perf_counter() - t0
            cost_d = float(model.cand_cost[sel_d].sum())
            if free_dive:
                n_free_found += 1
                delta = max(0.5 * prm.dive_delta, delta / 1.3)
            if improved(cost_d) or (sideways and cost_d <= ub + 1e-9):
                best, ub = sel_d, cost_d
    info["t_dives"] = time.perf_counter() - t0
    lns_agents: IntArray | None = None
    if dives_pay and lag > -math.inf and max_dives is not None and time_limit is None:
        lns_rounds = round(max_dives * dive_lns)  # one neighbourhood per dive in its share
    if not (dives_pay and lag > -math.inf) and left() > 0:
        # the tabu search, then (on integer weights) the large-neighbourhood search
        rounds = max_dives if max_dives is not None else 1
        if time_limit is None:
            lns_rounds = round(rounds * prm.lns.rounds_per_dive)
        # after dives that all failed, the neighbourhood search may have a larger share
        share = lns_share
        if dives_failed and lns_share > 0:
            share = max(lns_share, prm.failed_dives_lns_share)
        its_total = None if time_limit is not None else round(rounds * 20 * n * (1.0 - share))
        sel_t, cost_t, its_t, _ = tabu_search(
            model, best if math.isfinite(ub) else start,
            time_limit=max(left(), 0.0) * (1.0 - share),
            iteration_limit=its_total, seed=seed + 1, target=bound_min, params=search,
        )
        n_its += its_t
        info["tabu_objective"] = sign * cost_t if math.isfinite(cost_t) else math.nan
        info["t_tabu"] = time.perf_counter() - t0
        if cost_t < ub:
            best, ub = sel_t, cost_t
    lns_turn = lns_rounds is not None if time_limit is None else (
        not (dives_pay and lag > -math.inf) or dive_lns > 0)
    if (lns_share > 0 and lns_turn and math.isfinite(ub) and ub > bound_min + 1e-9
            and left() > 0 and lns_rounds != 0):
        lns_agents, cost_l, lns_its, lns_better = agent_lns(
            problem, model.cand_agent[best],
            time_limit=max(left(), 0.0) if time_limit is not None else None,
            max_rounds=lns_rounds, seed=seed + 2, params=prm,
        )
        info["lns_rounds"] = float(lns_its)
        info["lns_improvements"] = float(lns_better)
        ub = min(ub, cost_l)
    info["dives"] = float(dives)
    info["successful_dives"] = float(successes)
    return finish(best if math.isfinite(ub) else None, ub, bound_min, valid_lag, lp, n_its,
                  agents=lns_agents)
