"""Questions beyond one solve (FORMULATION.md section 8).

- :mod:`~computeplan.analysis.sweep` -- the epsilon-constraint trade-off: vary targets,
  demand scales or a site's figures over a grid and solve every point;
- :mod:`~computeplan.analysis.headroom` -- the largest uniform demand growth factor
  (overall or for one workload class) served with every target met, and what binds;
- :mod:`~computeplan.analysis.outage` -- N-1: each site removed in turn, with the
  unserved demand, the indicator changes and the sites that absorb the load;
- :mod:`~computeplan.analysis.capacity` -- sites ranked by the shadow price of their IT
  capacity, with the range over which that price holds.

The grammar of varied paths is :mod:`~computeplan.analysis.vary`; how each point is
solved, :mod:`~computeplan.analysis.points`; the table shape,
:mod:`~computeplan.analysis.tables`. Sweeps and outages are independent solves and run
through :func:`computeplan.analysis.parallel.run_points` (in process, or on Dask).
"""

from computeplan.analysis.capacity import (
    build_value,
    capacity_of_result,
    capacity_value,
    plan_vector,
)
from computeplan.analysis.headroom import Headroom, headroom
from computeplan.analysis.outage import optional_demand, outage, outage_sites, remove_site
from computeplan.analysis.points import RunOptions, as_instance, copy_instance
from computeplan.analysis.sweep import sweep
from computeplan.analysis.tables import binding_targets, diagnosis_text, result_row, write_table
from computeplan.analysis.vary import (
    VARY_HELP,
    Vary,
    apply_values,
    check_path,
    check_points,
    parse_vary,
)

__all__ = [
    "VARY_HELP",
    "Headroom",
    "RunOptions",
    "Vary",
    "apply_values",
    "as_instance",
    "binding_targets",
    "build_value",
    "capacity_of_result",
    "capacity_value",
    "check_path",
    "check_points",
    "copy_instance",
    "diagnosis_text",
    "headroom",
    "optional_demand",
    "outage",
    "outage_sites",
    "parse_vary",
    "plan_vector",
    "remove_site",
    "result_row",
    "sweep",
    "write_table",
]
