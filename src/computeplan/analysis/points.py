"""How every point of an analysis is solved: the instance, the options, the budget.

Each point is a cold, complete :func:`computeplan.solve` (verified like any other). The
command's ``--time-limit`` is one :class:`~computeplan.solvers.Budget` shared by all
points: each solve gets what is left of it, and a point reached after it ran out is
reported as ``time_limit`` without a solve.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from computeplan.errors import UsageError
from computeplan.io.loader import load_instance
from computeplan.io.schema import OBJECTIVES, Instance
from computeplan.model.data import build_data
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.plan.result import Result, Status
from computeplan.plan.solve import METHODS, choose_method
from computeplan.plan.solve import solve as run_solve
from computeplan.solvers import Budget


def as_instance(instance: Instance | str | Path | Mapping[str, Any]) -> Instance:
    return instance if isinstance(instance, Instance) else load_instance(instance)


def copy_instance(inst: Instance, update: Mapping[str, Any]) -> Instance:
    """``inst`` with some fields replaced (the original is never modified)."""
    return inst.model_copy(update=dict(update))


@dataclass(frozen=True)
class RunOptions:
    """How every point is solved (the options of :func:`computeplan.solve`), and the
    command's time budget, shared by all points."""

    method: str = "auto"
    objective: str | None = None
    solver: str = "highs"
    time_limit: float | None = None
    mip_gap: float = 1e-9
    check: bool = True
    budget: Budget | None = None

    def validate(self, inst: Instance) -> None:
        """Raise :class:`UsageError` now rather than once per point on a worker."""
        if self.method not in METHODS:
            raise UsageError(f"--method: expected one of {', '.join(METHODS)}, got {self.method!r}")
        if self.objective is not None and self.objective not in OBJECTIVES:
            raise UsageError(f"--objective: expected one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise UsageError(f"--time-limit: must be > 0 seconds, got {self.time_limit}")
        choose_method(build_data(inst), self.method)

    def started(self) -> RunOptions:
        """These options with the budget's clock started (once per command)."""
        if self.budget is not None or self.time_limit is None:
            return self
        return replace(self, budget=Budget(self.time_limit))

    def run(self, inst: Instance) -> Result:
        left = self.budget.left() if self.budget is not None else self.time_limit
        if left is not None and left <= 0:
            name = OBJECTIVE_NAMES[self.objective or inst.objective]
            res = Result(instance=inst.name, status=Status.TIME_LIMIT, method=self.method, objective_name=name,
                         objective_value=None, bound=None, gap=None, solve_seconds=0.0)
            res.notes.append("the command's time limit ran out before this point was solved")
            return res
        return run_solve(inst, method=self.method, objective=self.objective, solver=self.solver,
                         time_limit=left, mip_gap=self.mip_gap, check=self.check)
