"""Solver back-ends. Each takes a built :class:`~computeplan.build.Model` and returns a
:class:`SolveOutcome` with the true status read from the solver, never its return code."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

# Progress callback: (seconds, incumbent objective or None, best bound or None)
Progress = Callable[[float, float | None, float | None], None]


@dataclass
class SolveOutcome:
    status: str  # optimal | feasible | infeasible | time_limit | error
    v: NDArray[np.float64] | None  # column values, None when there is no solution
    objective: float | None  # in the model's per-hour units including offset
    bound: float | None
    seconds: float
    row_dual: NDArray[np.float64] | None = None
    col_dual: NDArray[np.float64] | None = None
    message: str = ""
