"""Heuristics for assignment problems: Numba kernels on a sparse candidate form.

- ``heuristics.gap``: the generalized assignment problem (OR-Library files): the problem
  and its exact MILP (``problem``), the Numba kernels (``kernels``) and the driver
  (``search``: regret greedy, tabu search with ejection chains, Lagrangian bound and
  dives, and the large-neighbourhood search of ``lns``).
- ``heuristics.fleet``: the data-centre model's fleet heuristic (``search``) and its
  kernels (``kernels``).

The GAP driver's public names are re-exported here.
"""

from computeplan.heuristics.gap import search as _gap_search
from computeplan.heuristics.gap.search import *  # noqa: F403  (the public names listed there)

__all__ = list(_gap_search.__all__)
