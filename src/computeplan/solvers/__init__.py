"""The solver seam: one termination vocabulary, one options object, one time budget.

Every LP and MILP the package solves (the main solve, the diagnosis, the heuristic's
polish, headroom, capacity ranging, the GAP MILP) is a :class:`LinearProgram` handed to
an adapter (:mod:`computeplan.solvers.highs`, :mod:`computeplan.solvers.pulp_backend`)
with :class:`SolveOptions`; each adapter reads the solver's true status, never its return
code, and answers with a :class:`SolveOutcome` whose ``status`` is a :class:`Termination`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

F64 = NDArray[np.float64]

# Progress callback: (seconds, incumbent objective or None, best bound or None)
Progress = Callable[[float, float | None, float | None], None]


class Termination(str, Enum):
    """How a solve ended: the one status vocabulary of the package (and of ``result.json``)."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"  # stopped by a limit with a plan; bound and gap say how good
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"  # stopped by the time limit without a plan
    INTERRUPTED = "interrupted"  # stopped by Ctrl-C or SIGTERM; a plan when one was found
    ERROR = "error"

    def __str__(self) -> str:
        return self.value

    @property
    def has_plan(self) -> bool:
        """Whether a solve that ended so carries a plan (an interrupted one may or may not)."""
        return self in (Termination.OPTIMAL, Termination.FEASIBLE)


class LinearProgram(Protocol):
    """``min c.v + offset`` s.t. ``row_lo <= A v <= row_hi``, ``col_lo <= v <= col_hi``,
    ``v[integer]`` whole numbers. Infinite bounds are ``numpy.inf``."""

    c: F64
    offset: float
    A: Any  # scipy.sparse matrix
    row_lo: F64
    row_hi: F64
    col_lo: F64
    col_hi: F64
    integer: NDArray[np.bool_]


@dataclass
class Program:
    """A plain :class:`LinearProgram` (for problems that are not the planning model)."""

    c: F64
    offset: float
    A: Any
    row_lo: F64
    row_hi: F64
    col_lo: F64
    col_hi: F64
    integer: NDArray[np.bool_]


class Budget:
    """The time a whole command may take, shared by its stages.

    ``--time-limit`` is one budget for the command: every stage (the heuristic's warm
    start, the MILP, the dual LP, the diagnosis, each point of an analysis) asks
    :meth:`left` and stops when it reaches zero. The deadline is a wall-clock time, so a
    budget can cross to another process (a Dask worker) intact.
    """

    def __init__(self, seconds: float | None, *, deadline: float | None = None) -> None:
        if deadline is None and seconds is not None:
            deadline = time.time() + float(seconds)
        self.deadline = deadline

    @property
    def unlimited(self) -> bool:
        return self.deadline is None

    def left(self) -> float | None:
        """Seconds left (never negative), or None without a limit."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.time())

    def share(self, fraction: float, floor: float = 0.0) -> float | None:
        """A stage's part: ``fraction`` of what is left (at least ``floor``, at most all of it)."""
        left = self.left()
        if left is None:
            return None
        return min(left, max(floor, fraction * left))


@dataclass(frozen=True)
class SolveOptions:
    """Options of one LP/MILP solve (snake_case, as every solver's own are mapped to).

    ``time_limit`` is this solve's own limit in seconds; callers derive it from the
    command's :class:`Budget`.
    """

    time_limit: float | None = None
    mip_gap: float = 1e-9
    threads: int | None = None
    seed: int = 0
    relax: bool = False  # solve the LP relaxation
    presolve: bool = True
    tolerance: float | None = 1e-9  # primal, dual and integer feasibility; None: the solver's own

    def with_limit(self, seconds: float | None) -> SolveOptions:
        return replace(self, time_limit=seconds)


@dataclass
class Ranging:
    """Right-hand-side ranging of the rows: the row bound may move from ``dn`` to ``up``
    (relative to its value at the optimum) with the same duals; ``basic`` rows do not bind."""

    row_bound_dn: F64
    row_bound_up: F64
    row_basic: NDArray[np.bool_]


@dataclass
class SolveOutcome:
    """A solver's answer, in the program's own objective units (offset included)."""

    status: Termination
    v: F64 | None  # column values, None when there is no solution
    objective: float | None
    bound: float | None
    seconds: float
    row_dual: F64 | None = None
    col_dual: F64 | None = None
    dual_ray: F64 | None = None  # row multipliers proving infeasibility (an LP's Farkas ray)
    ranging: Ranging | None = None
    message: str = ""
    info: dict[str, float] = field(default_factory=dict)


def finite(x: float | None) -> float | None:
    """A solver figure as a float, or None when it is missing or not finite (HiGHS reports
    1e300-sized values for bounds it does not have)."""
    if x is None:
        return None
    f = float(x)
    return f if math.isfinite(f) and abs(f) < 1e300 else None
