"""The candidate form of an assignment problem and thin Python wrappers around the Numba
kernels (:mod:`computeplan.heuristics.gap.kernels`): construction, tabu search, the
Lagrangian bound and dives, and the warm-up that compiles them before anything is timed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from computeplan.heuristics.gap import kernels
from computeplan.heuristics.gap.problem import GapProblem

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

# Knapsack tables larger than this many cells fall back to the LP knapsack bound.
_MAX_DP_CELLS = 50_000_000
# Move evaluations allowed to the repair pass of a stuck construction (well under a second).
_REPAIR_WORK = 5_000_000


@dataclass(frozen=True, eq=False)
class CandidateModel:
    """An assignment problem in sparse candidate form (minimisation).

    Item ``i`` must choose exactly one candidate among ``item_ptr[i] .. item_ptr[i+1]-1``.
    Candidate ``c`` belongs to agent ``cand_agent[c]`` (at most one candidate per item and
    agent), costs ``cand_cost[c]`` and uses ``use_amt[k]`` of resource ``use_res[k]`` for
    ``k`` in ``use_ptr[c] .. use_ptr[c+1]-1``. Resource ``r`` holds ``capacity[r]``.
    """

    item_ptr: IntArray
    cand_agent: IntArray
    cand_cost: FloatArray
    use_ptr: IntArray
    use_res: IntArray
    use_amt: FloatArray
    capacity: FloatArray
    n_agents: int

    def knapsack_cells(self) -> int:
        """Dynamic-programming cells of one exact Lagrangian iteration: the sum over
        resources of (candidates on it) x (capacity + 1), the work that makes the root
        bound and the dives slow on large instances."""
        _simple, cres, _camt = self.simple_uses()
        group = np.bincount(cres[cres >= 0], minlength=self.n_res)
        return int(np.sum(group * (np.floor(np.maximum(self.capacity, 0.0)) + 1.0)))

    @property
    def n_items(self) -> int:
        return int(self.item_ptr.size - 1)

    @property
    def n_cands(self) -> int:
        return int(self.cand_cost.size)

    @property
    def n_res(self) -> int:
        return int(self.capacity.size)

    def cand_item(self) -> IntArray:
        """Item of every candidate."""
        return np.repeat(np.arange(self.n_items, dtype=np.int64), np.diff(self.item_ptr))

    def agent_cand(self) -> IntArray:
        """Dense map (item, agent) -> candidate, -1 where the item has no such candidate."""
        table = np.full((self.n_items, self.n_agents), -1, dtype=np.int64)
        table[self.cand_item(), self.cand_agent] = np.arange(self.n_cands, dtype=np.int64)
        return table

    def simple_uses(self) -> tuple[bool, IntArray, FloatArray]:
        """``(simple, cres, camt)``: whether each candidate uses at most one resource, and
        that resource (-1 for none) and amount per candidate."""
        counts = np.diff(self.use_ptr)
        simple = bool(np.all(counts <= 1))
        cres = np.full(self.n_cands, -1, dtype=np.int64)
        camt = np.zeros(self.n_cands)
        if simple:
            has = counts == 1
            cres[has] = self.use_res[self.use_ptr[:-1][has]]
            camt[has] = self.use_amt[self.use_ptr[:-1][has]]
        return simple, cres, camt

    def eval_mode(self) -> tuple[int, IntArray, FloatArray]:
        """Move-evaluation path of the kernels: 0 when every candidate uses exactly the
        resource numbered like its agent (the GAP), 1 when it uses at most one resource,
        2 otherwise (general CSR path); with ``cres`` / ``camt`` of `simple_uses`."""
        simple, cres, camt = self.simple_uses()
        if not simple:
            return 2, cres, camt
        if self.n_res == self.n_agents and bool(np.all(cres == self.cand_agent)):
            return 0, cres, camt
        return 1, cres, camt

    def feasibility_caps(self) -> FloatArray:
        """Capacities with the relative tolerance used to call a load feasible."""
        return self.capacity + 1e-9 * np.maximum(1.0, np.abs(self.capacity))

    def knapsack_ready(self) -> bool:
        """Whether the exact Lagrangian machinery applies: at most one resource per
        candidate, integer amounts and capacities, knapsack tables of reasonable size."""
        simple, cres, camt = self.simple_uses()
        if not simple or not np.all(camt == np.round(camt)):
            return False
        if not np.all(self.capacity == np.round(self.capacity)):
            return False
        group = int(np.bincount(cres + 1, minlength=self.n_res + 1).max())
        cells = group * (int(self.capacity.max(initial=0.0)) + 1)
        return cells <= _MAX_DP_CELLS

    def restrict(self, keep: BoolArray) -> tuple[CandidateModel, IntArray]:
        """The model with only the candidates in ``keep``; also returns, for every
        original candidate, its index in the restricted model (-1 when dropped)."""
        keep = np.asarray(keep, dtype=bool)
        new_index = np.where(keep, np.cumsum(keep) - 1, -1).astype(np.int64)
        counts = np.bincount(self.cand_item()[keep], minlength=self.n_items)
        use_counts = np.diff(self.use_ptr)[keep]
        use_keep = np.repeat(keep, np.diff(self.use_ptr))
        sub = CandidateModel(
            item_ptr=np.concatenate([[0], np.cumsum(counts)]).astype(np.int64),
            cand_agent=self.cand_agent[keep],
            cand_cost=self.cand_cost[keep],
            use_ptr=np.concatenate([[0], np.cumsum(use_counts)]).astype(np.int64),
            use_res=self.use_res[use_keep],
            use_amt=self.use_amt[use_keep],
            capacity=self.capacity,
            n_agents=self.n_agents,
        )
        return sub, new_index


def candidates_from_gap(problem: GapProblem) -> CandidateModel:
    """The GAP in candidate form: one candidate per (job, agent) whose weight fits the agent.

    Costs are negated for ``max`` problems; resource ``r`` is agent ``r``.
    """
    cost = problem.to_min_cost()
    fits = (problem.weight <= problem.capacity[:, None]).T  # (n, m)
    job, agent = np.nonzero(fits)  # job-major order
    counts = np.bincount(job, minlength=problem.n)
    item_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    k = job.size
    return CandidateModel(
        item_ptr=item_ptr,
        cand_agent=agent.astype(np.int64),
        cand_cost=cost[agent, job].astype(np.float64),
        use_ptr=np.arange(k + 1, dtype=np.int64),
        use_res=agent.astype(np.int64),
        use_amt=problem.weight[agent, job].astype(np.float64),
        capacity=problem.capacity.astype(np.float64),
        n_agents=problem.m,
    )


@dataclass(frozen=True)
class SearchParams:
    """Tuning of `tabu_search`; ``None`` fields scale with the instance size.

    Attributes
    ----------
    tenure_min, tenure_max : int
        Range of the random tabu tenure (iterations an item may not return to a candidate).
    w_inc, w_dec : float
        Relative growth of an overloaded resource's penalty weight after an infeasible
        step, and shrink of all weights after a feasible one.
    stall : int
        Iterations without a new best before restarting from the elite pool.
    kick_fraction : float
        Share of items moved at random on a restart without two elite solutions.
    swap_budget : int
        Items scanned per iteration as swap partners (a rotating window of first items
        when a full pass would scan more).
    top_l : int
        Number of best shifts used as first steps of two-step ejection chains.
    elite_size : int
        Size of the pool of distinct good feasible solutions.
    relink_min, relink_max : float
        Range of the share of differing items moved when relinking two elite solutions
        on a restart (0 disables path relinking).
    """

    tenure_min: int | None = None
    tenure_max: int | None = None
    w_inc: float = 0.05
    w_dec: float = 0.02
    stall: int | None = None
    kick_fraction: float = 0.05
    swap_budget: int = 60_000
    top_l: int = 8
    elite_size: int = 10
    relink_min: float = 0.3
    relink_max: float = 0.7

    def as_array(self, n: int, m: int) -> FloatArray:
        t_min = self.tenure_min if self.tenure_min is not None else 2
        t_max = self.tenure_max if self.tenure_max is not None else t_min + 4
        stall = self.stall if self.stall is not None else max(1000, 10 * n)
        return np.array(
            [t_min, t_max, self.w_inc, self.w_dec, stall, self.kick_fraction,
             self.swap_budget, self.top_l, self.elite_size, self.relink_min, self.relink_max],
            dtype=np.float64,
        )


@dataclass(frozen=True)
class LnsParams:
    """Tuning of `agent_lns`.

    Attributes
    ----------
    agents : int
        Agents whose jobs a neighbourhood frees at first: one at random and the others
        most related to it (where its jobs have their next-cheapest agents).
    max_agents : int
        Largest number of agents a neighbourhood grows to.
    grow_after : int
        Neighbourhoods in a row whose bound proves them optimal before they grow by one
        agent (a success sets the count back to zero).
    agent_jobs : float
        Jobs freed per chosen agent on average (all of them on agents that hold fewer):
        the knapsack tables of a neighbourhood grow with the square of it.
    job_share : float
        Share of all other jobs freed at random.
    bound_iterations : int
        Subgradient iterations of each neighbourhood's Lagrangian bound.
    dives : int
        Dives per neighbourhood that its bound does not close.
    dive_lr_iterations : int
        Subgradient iterations per step of those dives.
    sideways : float
        Probability that a neighbourhood accepts a different re-assignment of equal cost.
    rounds_per_dive : float
        Neighbourhoods per unit of ``max_dives`` when a run is held to an iteration budget.
    """

    agents: int = 3
    max_agents: int = 10
    grow_after: int = 30
    agent_jobs: float = 20.0
    job_share: float = 0.01
    bound_iterations: int = 60
    dives: int = 2
    dive_lr_iterations: int = 10
    sideways: float = 0.3
    rounds_per_dive: float = 20.0


@dataclass(frozen=True)
class HeuristicParams:
    """Tuning of `solve_gap_heuristic`.

    Attributes
    ----------
    search : SearchParams
        Tabu-search tuning (first search and polishing).
    start_share : float
        Share of the time limit for the first tabu search from the greedy start.
    start_iterations : int or None
        Iteration cap of that search (default ``50 * n``).
    lagrangian_share : float
        Share of the time limit for the root Lagrangian bound.
    lagrangian_iterations : int
        Subgradient iteration cap of the root bound.
    dive_fraction : float
        Minimum share of the free items fixed per dive step.
    dive_noise : float
        Random perturbation of the Lagrangian regret that orders the fixings.
    dive_lr_iterations : int
        Subgradient iterations per dive step (warm-started).
    dive_step : float
        Initial Polyak step factor of those iterations.
    dive_delta : float
        Initial relative distance of a free dive's target above the Lagrangian bound.
    free_dives : int
        Successful dives over all jobs before the large-neighbourhood dives start.
    lns_job_share : float
        Share of jobs freed by a random-jobs neighbourhood.
    lns_agent_prob : float
        Probability that a neighbourhood frees the jobs of a few agents instead.
    lns_agent_share : float
        Share of agents (at least 2) whose jobs an agents neighbourhood frees.
    lns_sideways : float
        Probability that a neighbourhood dive accepts a new solution of equal cost.
    price_iterations : int
        Subgradient iterations of the capacity prices (`price_multipliers`).
    core_cells : int
        Above this many knapsack cells per Lagrangian iteration (`knapsack_cells`), the
        search runs on the core of each job's ``core_size`` candidates of smallest priced
        reduced cost instead of on all candidates.
    core_jobs : int
        Instances with more jobs than this are searched on their core too.
    core_size : int
        Candidates per job kept in that core.
    core_search : SearchParams
        Tabu-search tuning on the core: a narrower swap window (more, cheaper
        iterations) and earlier restarts than on small instances.
    dive_cells : int
        Above this many knapsack cells of the core, Lagrangian dives are too slow to
        pay off and the tabu search has the time.
    lns_share : float
        Where the tabu search has the time, the share of what is left that goes to the
        large-neighbourhood search of :mod:`computeplan.heuristics.gap.lns` after it;
        on a core searched by dives, the share of the time after the root bound that
        it has after them (0 switches it off).
    lns_whole_share : float
        The share of the time after the dives that goes to that search on instances
        searched whole rather than on their core.
    failed_dives_lns_share : float
        Where no dive succeeded and the tabu search has the rest of the time, the share
        of it that the large-neighbourhood search has after it (``lns_share`` if larger).
    lns : LnsParams
        Tuning of that search.
    """

    search: SearchParams = field(default_factory=SearchParams)
    start_share: float = 0.05
    start_iterations: int | None = None
    lagrangian_share: float = 0.15
    lagrangian_iterations: int = 3000
    dive_fraction: float = 0.25
    dive_noise: float = 1.0
    dive_lr_iterations: int = 20
    dive_step: float = 0.3
    dive_delta: float = 0.002
    free_dives: int = 10
    lns_job_share: float = 0.8
    lns_agent_prob: float = 0.5
    lns_agent_share: float = 0.3
    lns_sideways: float = 0.3
    price_iterations: int = 3000
    core_cells: int = 1_700_000
    core_jobs: int = 300
    core_size: int = 3
    core_search: SearchParams = field(default_factory=lambda: SearchParams(swap_budget=3000, stall=2000))
    dive_cells: int = 20_000_000
    lns_share: float = 0.3
    lns_whole_share: float = 0.0
    failed_dives_lns_share: float = 0.6
    lns: LnsParams = field(default_factory=LnsParams)


# ----------------------------------------------------------------------------- wrappers


def regret_greedy(
    model: CandidateModel, alpha: float = 1.0, price: FloatArray | None = None, repair: bool = True
) -> IntArray:
    """Regret greedy on ``alpha*cost + price . usage``; returns one candidate per item.

    When the construction gets stuck (some item fits nowhere) and ``repair`` is set, a
    repair pass (`kernels.repair`, a few million move evaluations at most) moves items to
    remove the overload.
    """
    p = np.zeros(model.n_res) if price is None else np.asarray(price, dtype=np.float64)
    caps = model.feasibility_caps()
    sel = np.asarray(
        kernels.regret_greedy(model.item_ptr, model.cand_cost, model.use_ptr, model.use_res,
                              model.use_amt, caps, float(alpha), p),
        dtype=np.int64,
    )
    if repair and _excess(model, sel) > 0.0:
        sel = np.asarray(
            kernels.repair(model.item_ptr, model.cand_agent, model.cand_cost, model.use_ptr,
                           model.use_res, model.use_amt, caps, model.agent_cand(), sel,
                           _REPAIR_WORK),
            dtype=np.int64,
        )
    return sel


def tabu_search(
    model: CandidateModel,
    start: IntArray,
    time_limit: float = 1.0,
    iteration_limit: int | None = None,
    seed: int = 0,
    target: float = -math.inf,
    params: SearchParams | None = None,
) -> tuple[IntArray, float, int, int]:
    """Run the tabu search from a selection; returns ``(best_sel, best_cost, iterations, restarts)``.

    ``best_cost`` is ``inf`` when no feasible selection was met. For a fixed ``seed`` the
    trajectory is deterministic; with ``iteration_limit`` and an ample ``time_limit`` so
    is the result.
    """
    prm = (params or SearchParams()).as_array(model.n_items, model.n_agents)
    mode, cres, camt = model.eval_mode()
    best_sel, best_cost, its, restarts = kernels.tabu_search(
        model.item_ptr, model.cand_agent, model.cand_cost, model.use_ptr, model.use_res,
        model.use_amt, cres, camt, mode, model.feasibility_caps(), model.agent_cand(),
        np.asarray(start, dtype=np.int64), float(time_limit),
        int(iteration_limit if iteration_limit is not None else 2**62), int(seed),
        float(target), prm,
    )
    return np.asarray(best_sel, dtype=np.int64), float(best_cost), int(its), int(restarts)


def _default_multipliers(model: CandidateModel) -> FloatArray:
    # each item's second-cheapest candidate (its cheapest if it has only one)
    u0 = np.empty(model.n_items)
    for i in range(model.n_items):
        costs = np.sort(model.cand_cost[model.item_ptr[i] : model.item_ptr[i + 1]])
        u0[i] = costs[1] if costs.size > 1 else costs[0]
    return u0


def lagrangian_bound(
    model: CandidateModel,
    upper_bound: float,
    max_iter: int = 500,
    time_limit: float = math.inf,
    u0: FloatArray | None = None,
) -> tuple[float, FloatArray, int]:
    """Lagrangian lower bound (assignment constraints relaxed); ``(bound, multipliers, iterations)``.

    Needs every candidate to use at most one resource (true for the GAP). Knapsacks are
    solved exactly by dynamic programming when amounts and capacities are integers and
    the table is small enough, else by their LP relaxation (a weaker, still valid bound).
    """
    simple, cres, camt = model.simple_uses()
    if not simple:
        raise ValueError("lagrangian_bound: every candidate must use at most one resource")
    u_start = _default_multipliers(model) if u0 is None else np.asarray(u0, dtype=np.float64)
    bound, u, _x, its = kernels.lagrangian_bound(
        model.item_ptr, model.cand_cost, cres, camt, model.capacity, model.knapsack_ready(),
        float(upper_bound), int(max_iter), float(time_limit), u_start, 2.0,
    )
    return float(bound), np.asarray(u), int(its)


def lagrangian_forced_bounds(model: CandidateModel, u: FloatArray) -> tuple[FloatArray, float]:
    """For every candidate, the Lagrangian bound at ``u`` with that candidate forced in.

    A candidate whose forced bound reaches an upper bound UB cannot appear in any
    solution cheaper than UB (reduced-cost fixing). Requires `CandidateModel.knapsack_ready`.
    """
    if not model.knapsack_ready():
        raise ValueError("lagrangian_forced_bounds: needs integer single-resource candidates")
    _simple, cres, camt = model.simple_uses()
    lc, value = kernels.lagrangian_forced_bounds(
        model.item_ptr, model.cand_cost, cres, camt, model.capacity,
        np.asarray(u, dtype=np.float64),
    )
    return np.asarray(lc), float(value)


def lagrangian_dive(
    model: CandidateModel,
    u: FloatArray,
    target: float,
    seed: int = 0,
    allowed: BoolArray | None = None,
    params: HeuristicParams | None = None,
    time_limit: float = math.inf,
) -> tuple[IntArray | None, int, int]:
    """One Lagrangian dive towards a solution cheaper than ``target``; it gives up (None)
    rather than start a step after ``time_limit`` seconds.

    Returns ``(selection or None, steps, why)``: ``why`` is 0 on success, 1 at the time
    limit, 2 when a free item's candidates no longer fit the capacity the fixed items
    leave, 3 when the bound reaches ``target``. Requires `CandidateModel.knapsack_ready`.
    """
    prm = params or HeuristicParams()
    _simple, cres, camt = model.simple_uses()
    mask = np.ones(model.n_cands, dtype=bool) if allowed is None else np.asarray(allowed, bool)
    integral = bool(np.all(model.cand_cost == np.round(model.cand_cost)))
    sel, ok, steps, why = kernels.lagrangian_dive(
        model.item_ptr, model.cand_cost, cres, camt, model.capacity, mask,
        np.asarray(u, dtype=np.float64), float(target), integral, float(prm.dive_fraction),
        float(prm.dive_noise), int(prm.dive_lr_iterations), float(prm.dive_step), int(seed),
        float(time_limit),
    )
    return (np.asarray(sel, dtype=np.int64) if ok else None), int(steps), int(why)


def price_multipliers(
    model: CandidateModel, upper_bound: float, max_iter: int = 3000
) -> tuple[float, FloatArray, IntArray, int]:
    """Lagrangian bound relaxing the capacities; ``(bound, prices, selection, iterations)``.

    One price per resource, by subgradient optimisation; the best bound approaches the LP
    bound from below (always a valid lower bound) at ``O(candidates)`` per iteration, so
    it stays cheap where the exact knapsack bound of `lagrangian_bound` does not. The
    selection is every item's cheapest candidate at the best prices (often overloaded).
    Needs every candidate to use at most one resource.
    """
    simple, cres, camt = model.simple_uses()
    if not simple:
        raise ValueError("price_multipliers: every candidate must use at most one resource")
    bound, v, sel, its = kernels.price_lagrangian(
        model.item_ptr, model.cand_cost, cres, camt, model.capacity, float(upper_bound),
        int(max_iter), np.zeros(model.n_res),
    )
    return float(bound), np.asarray(v), np.asarray(sel, dtype=np.int64), int(its)


def core_model(model: CandidateModel, prices: FloatArray, size: int) -> tuple[CandidateModel, IntArray]:
    """The core: each item's ``size`` candidates of smallest priced reduced cost
    (``cost + price . usage``, minus the item's smallest); ``(core, index)`` as in
    `CandidateModel.restrict`. The core's optimum is an upper bound only."""
    _simple, cres, camt = model.simple_uses()
    priced = model.cand_cost + np.where(cres >= 0, np.asarray(prices)[np.maximum(cres, 0)], 0.0) * camt
    item = model.cand_item()
    order = np.lexsort((priced, item))  # by item, then priced cost
    rank = np.empty(model.n_cands, dtype=np.int64)
    rank[order] = np.arange(model.n_cands) - model.item_ptr[item[order]]
    return model.restrict(rank < max(int(size), 1))


_WARM = False


def warm_up() -> None:
    """Compile (or load from the cache) every kernel on a tiny instance, once per process."""
    global _WARM
    if _WARM:
        return
    cost = np.array([[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]])
    weight = np.array([[2.0, 1.0, 1.0], [1.0, 2.0, 2.0]])
    tiny = GapProblem("warm-up", 2, 3, cost, weight, np.array([3.0, 3.0]), "min")
    model = candidates_from_gap(tiny)
    start = regret_greedy(model)
    kernels.repair(model.item_ptr, model.cand_agent, model.cand_cost, model.use_ptr,
                   model.use_res, model.use_amt, model.capacity, model.agent_cand(),
                   start, 100)
    tabu_search(model, start, time_limit=1.0, iteration_limit=20)
    # the general paths (one resource per candidate, not the agent; several resources)
    single = CandidateModel(model.item_ptr, model.cand_agent, model.cand_cost, model.use_ptr,
                            (model.use_res + 1) % 2, model.use_amt, model.capacity, 2)
    tabu_search(single, start, time_limit=1.0, iteration_limit=20)
    general = CandidateModel(
        model.item_ptr, model.cand_agent, model.cand_cost,
        np.arange(0, 2 * model.n_cands + 1, 2, dtype=np.int64),
        np.stack([model.use_res, np.full(model.n_cands, 2)], axis=1).ravel().astype(np.int64),
        np.stack([model.use_amt, np.ones(model.n_cands)], axis=1).ravel(),
        np.concatenate([model.capacity, [3.0]]), model.n_agents,
    )
    tabu_search(general, start, time_limit=1.0, iteration_limit=20)
    _bound, u, _its = lagrangian_bound(model, 10.0, max_iter=5)
    _simple, cres, camt = model.simple_uses()
    kernels.lagrangian_bound(model.item_ptr, model.cand_cost, cres, camt, model.capacity,
                             False, 10.0, 5, 1.0, u, 2.0)
    lagrangian_forced_bounds(model, u)
    lagrangian_dive(model, u, 100.0)
    price_multipliers(model, 10.0, max_iter=5)
    _WARM = True


# ----------------------------------------------------------------------------- GAP driver


def _excess(model: CandidateModel, sel: IntArray) -> float:
    load = kernels.compute_loads(sel, model.use_ptr, model.use_res, model.use_amt, model.n_res)
    return float(np.maximum(load - model.feasibility_caps(), 0.0).sum())
