"""Heuristics for assignment problems: Numba kernels on a sparse candidate form.

`solve_gap_heuristic` solves a `computeplan.gap.GapProblem`: regret-greedy construction,
tabu search with strategic oscillation, ejection chains and path relinking, a Lagrangian
lower bound with reduced-cost fixing, and Lagrangian-guided dives.
The kernels themselves (`computeplan.heuristics.kernels`) take plain arrays so that the
data-centre model's indivisible workloads can use them through `CandidateModel`.
"""

from computeplan.heuristics import gap_search as _gap_search
from computeplan.heuristics.gap_search import *  # noqa: F403  (the public names listed there)

__all__ = list(_gap_search.__all__)
