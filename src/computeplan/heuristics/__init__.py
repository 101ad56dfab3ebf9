"""Heuristics for assignment problems: Numba kernels on a sparse candidate form.

`solve_gap_heuristic` solves a `computeplan.gap.GapProblem`: regret-greedy construction,
tabu search with strategic oscillation, ejection chains and path relinking, a Lagrangian
lower bound with reduced-cost fixing, and Lagrangian-guided dives.
The kernels themselves (`computeplan.heuristics.kernels`) take plain arrays so that the
data-centre model's indivisible workloads can use them through `CandidateModel`.
"""

from computeplan.heuristics.gap_search import (
    CandidateModel,
    HeuristicParams,
    SearchParams,
    candidates_from_gap,
    lagrangian_bound,
    lagrangian_dive,
    lagrangian_forced_bounds,
    regret_greedy,
    solve_gap_heuristic,
    tabu_search,
    warm_up,
)

__all__ = [
    "CandidateModel",
    "HeuristicParams",
    "SearchParams",
    "candidates_from_gap",
    "lagrangian_bound",
    "lagrangian_dive",
    "lagrangian_forced_bounds",
    "regret_greedy",
    "solve_gap_heuristic",
    "tabu_search",
    "warm_up",
]
