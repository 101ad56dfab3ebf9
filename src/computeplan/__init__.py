"""computeplan: where a year of compute demand should run, and what it costs.

>>> import computeplan
>>> inst = computeplan.load_instance(computeplan.example_instance("shanghai-2025"))  # doctest: +SKIP
>>> res = computeplan.solve(inst)                                                    # doctest: +SKIP
>>> res.indicators["fleet_pue"]                                                      # doctest: +SKIP
"""

from .analysis import headroom, outage, sweep
from .catalogue import example_instance
from .errors import ComputePlanError, InstanceError, SolverError, UsageError
from .loader import load_instance
from .result import Result, Status
from .schema import Instance
from .solve import solve
from .verify import verify

__version__ = "0.1.0"

__all__ = [
    "ComputePlanError",
    "Instance",
    "InstanceError",
    "Result",
    "SolverError",
    "Status",
    "UsageError",
    "__version__",
    "example_instance",
    "headroom",
    "load_instance",
    "outage",
    "solve",
    "sweep",
    "verify",
]
