"""computeplan: where a year of compute demand should run, and what it costs.

>>> import computeplan
>>> inst = computeplan.load_instance(computeplan.example_instance("shanghai-2025"))  # doctest: +SKIP
>>> res = computeplan.solve(inst)                                                    # doctest: +SKIP
>>> res.indicators["fleet_pue"]                                                      # doctest: +SKIP

The public names are imported on first use, so ``import computeplan`` (and the CLI's
``--help``) does not pay for the solver, pandas or Numba until they are needed.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from computeplan.errors import ComputePlanError, InstanceError, SolverError, UsageError

if TYPE_CHECKING:
    from computeplan.analysis import headroom, outage, sweep
    from computeplan.io.catalogue import example_instance
    from computeplan.io.loader import load_instance
    from computeplan.io.schema import Instance
    from computeplan.plan.result import Result, Status
    from computeplan.plan.solve import solve
    from computeplan.plan.verify import verify

__version__ = "0.1.0"

_LAZY = {
    "headroom": "computeplan.analysis",
    "outage": "computeplan.analysis",
    "sweep": "computeplan.analysis",
    "example_instance": "computeplan.io.catalogue",
    "load_instance": "computeplan.io.loader",
    "Instance": "computeplan.io.schema",
    "Result": "computeplan.plan.result",
    "Status": "computeplan.plan.result",
    "solve": "computeplan.plan.solve",
    "verify": "computeplan.plan.verify",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'computeplan' has no attribute {name!r}")


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
