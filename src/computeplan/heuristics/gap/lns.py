"""Large-neighbourhood search on a GAP assignment: free the jobs of a few related agents
(and a few jobs at random), keep every other job where it is, and re-solve the freed jobs
over the capacity the fixed ones leave, with the Lagrangian bound and dives of
:mod:`computeplan.heuristics.gap.kernels`.

Each neighbourhood is a small GAP: the freed jobs, each with the agents whose remaining
capacity can still take it. Its Lagrangian bound (assignment constraints relaxed, exact
knapsacks over the remaining capacities, which are small) often proves at once that the
neighbourhood holds nothing cheaper; otherwise a few dives look for a cheaper (or, now and
then, an equally cheap, different) re-assignment. When neighbourhoods keep proving
themselves optimal, they grow by one agent.
"""

from __future__ import annotations

import math
import time

import numpy as np
import numpy.typing as npt

from computeplan.heuristics.gap import kernels
from computeplan.heuristics.gap.candidates import HeuristicParams, LnsParams
from computeplan.heuristics.gap.problem import GapProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def lns_applies(problem: GapProblem) -> bool:
    """Whether `agent_lns` applies: integer weights and capacities (exact knapsacks)."""
    w, c = problem.weight, problem.capacity
    return bool(np.all(w == np.round(w)) and np.all(c == np.round(c)))


def _related_agents(cost: FloatArray, assignment: IntArray, a0: int, k: int,
                    rng: np.random.Generator) -> IntArray:
    """``a0`` and the ``k - 1`` agents whose costs for a0's jobs are closest to a0's own
    (mean of the smallest third of the differences), with a little random noise."""
    m = cost.shape[0]
    jobs = np.flatnonzero(assignment == a0)
    if jobs.size == 0 or k <= 1:
        others = rng.permutation(np.delete(np.arange(m), a0))[: max(k - 1, 0)]
        return np.concatenate([[a0], others]).astype(np.int64)
    d = cost[:, jobs] - cost[a0, jobs]
    take = max(1, jobs.size // 3)
    score = np.sort(d, axis=1)[:, :take].mean(axis=1)
    spread = float(np.std(score)) or 1.0
    score = score + 0.5 * spread * rng.random(m)
    score[a0] = math.inf
    return np.concatenate([[a0], np.argsort(score, kind="stable")[: k - 1]]).astype(np.int64)


def agent_lns(
    problem: GapProblem,
    assignment: IntArray,
    time_limit: float | None = None,
    max_rounds: int | None = None,
    seed: int = 0,
    params: HeuristicParams | None = None,
) -> tuple[IntArray, float, int, int]:
    """Improve a feasible assignment (agent per job) by large-neighbourhood search.

    Stops at ``time_limit`` seconds or after ``max_rounds`` neighbourhoods (at least one of
    them must be given). For a seed the sequence of neighbourhoods is deterministic, and so
    is the result when the run stops on ``max_rounds``.

    Returns
    -------
    assignment, cost, rounds, improvements
        The best assignment met and its cost in minimisation form (profits negated for
        ``max``), the neighbourhoods tried and how many of them lowered the cost.
    """
    if time_limit is None and max_rounds is None:
        raise ValueError("agent_lns: give a time_limit, max_rounds or both")
    hp = params or HeuristicParams()
    prm: LnsParams = hp.lns
    t0 = time.perf_counter()
    budget = math.inf if time_limit is None else float(time_limit)
    rounds_cap = max_rounds if max_rounds is not None else 2**62
    cost = problem.to_min_cost()
    weight = np.asarray(problem.weight, dtype=np.float64)
    cap = np.asarray(problem.capacity, dtype=np.float64)
    m, n = problem.m, problem.n
    jobs = np.arange(n)
    a = np.asarray(assignment, dtype=np.int64).copy()
    integral = problem.integral
    tol = 0.5 if integral else 1e-9
    rng = np.random.default_rng(seed)
    k = max(1, min(prm.agents, m))
    job_share = min(1.0, prm.agent_jobs * m / n)
    streak = rounds = improvements = 0
    while rounds < rounds_cap and time.perf_counter() - t0 < budget:
        rounds += 1
        agents = _related_agents(cost, a, int(rng.integers(m)), k, rng)
        on_agents = np.isin(a, agents)
        free = (on_agents & (rng.random(n) < job_share)) | (rng.random(n) < prm.job_share)
        items = np.flatnonzero(free)
        if items.size == 0:
            continue
        kept = ~free
        residual = cap - np.bincount(a[kept], weights=weight[a[kept], jobs[kept]], minlength=m)
        sub_w = weight[:, items]
        fits = (sub_w <= residual[:, None] + 1e-9).T  # (items, agents), job-major
        ji, ai = np.nonzero(fits)
        item_ptr = np.concatenate([[0], np.cumsum(np.bincount(ji, minlength=items.size))]).astype(np.int64)
        cc = cost[ai, items[ji]]
        camt = weight[ai, items[ji]]
        cres = ai.astype(np.int64)
        ub = float(cost[a[items], items].sum())
        # start multipliers: each job's second-cheapest fitting agent
        masked = np.where(fits, cost[:, items].T, math.inf)
        u0 = np.sort(masked, axis=1)[:, min(1, m - 1)]
        u0 = np.where(np.isfinite(u0), u0, masked.min(axis=1))
        res_i = np.floor(np.maximum(residual, 0.0) + 1e-9)
        sideways = rng.random() < prm.sideways
        target = ub + (1.0 if integral else 1e-6) if sideways else ub
        # on integer costs, a bound above target - 1 already proves the neighbourhood
        bound, u, _x, _its = kernels.lagrangian_bound(
            item_ptr, cc, cres, camt, res_i, True, target - 1.0 + 1e-6 if integral else target,
            prm.bound_iterations, math.inf, u0, 2.0)
        if (math.ceil(bound - 1e-6) if integral else bound) >= target - 1e-9:
            streak += 1
            if streak >= prm.grow_after and k < min(prm.max_agents, m):
                k += 1
                streak = 0
            continue
        allowed = np.ones(cc.size, dtype=np.bool_)
        for _ in range(prm.dives):
            sel, ok, _steps, _why = kernels.lagrangian_dive(
                item_ptr, cc, cres, camt, res_i, allowed, u, target, integral, hp.dive_fraction,
                hp.dive_noise, prm.dive_lr_iterations, hp.dive_step, int(rng.integers(2**31 - 1)),
                budget - (time.perf_counter() - t0))
            if not ok:
                continue
            new = float(cc[sel].sum())
            if new < target - tol:
                a[items] = cres[sel]
                if new < ub - tol:
                    improvements += 1
                    streak = 0
                break
    return a, float(cost[a, jobs].sum()), rounds, improvements
