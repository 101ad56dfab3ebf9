"""The generalized assignment problem (GAP): OR-Library reader, exact MILP and checks.

The GAP is the special case of computeplan's model (FORMULATION.md, section 9) with no
energy terms and one indivisible job per item: assign every job ``j`` to exactly one agent
``i`` so that each agent's resource use stays within its capacity,

    min (or max)  sum_ij cost[i, j] * x[i, j]
    s.t.          sum_i x[i, j] = 1                       for every job j
                  sum_j weight[i, j] * x[i, j] <= cap[i]  for every agent i
                  x[i, j] in {0, 1}.

This module reads the public OR-Library / Yagiura instance files into a `GapProblem`,
solves it exactly with HiGHS (`solve_gap_milp`), computes the LP-relaxation bound
(`gap_lp_bound`) and checks an assignment independently of any solver (`check_assignment`).
The Numba heuristics live in `computeplan.heuristics` and return the same `GapSolution`.
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from computeplan.solvers import Program, SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

__all__ = [
    "GapFormatError",
    "GapProblem",
    "GapSolution",
    "build_gap_lp",
    "check_assignment",
    "gap_lp_bound",
    "gap_objective",
    "read_orlib_gap",
    "relative_gap",
    "solve_gap_milp",
]

Sense = Literal["min", "max"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: The statuses a GAP solve ends with (values of :class:`~computeplan.solvers.Termination`):
#: ``optimal``: proven optimal (within the requested gap); ``feasible``: a feasible
#: assignment whose optimality is not proven; ``infeasible``: proven to have no feasible
#: assignment; ``time_limit``: the time limit was reached without a feasible assignment.
STATUSES = tuple(t.value for t in (Termination.OPTIMAL, Termination.FEASIBLE, Termination.INFEASIBLE,
                                   Termination.TIME_LIMIT))

# OR-Library's Chu-Beasley files are multi-problem files of minimisation problems,
# unlike gap1..gap12 (maximisation). The default sense follows the file's documented use.
_MIN_MULTI_FILES = re.compile(r"^gap[a-d]$", re.IGNORECASE)


class GapFormatError(ValueError):
    """A GAP instance file does not follow the OR-Library layout, or a request does not fit it."""


@dataclass(frozen=True, eq=False)
class GapProblem:
    """One GAP instance as arrays (agents by jobs).

    Attributes
    ----------
    name : str
        Instance name (file stem, with ``-k`` for problem k of a multi-problem file).
    m, n : int
        Number of agents and of jobs.
    cost : ndarray, shape (m, n), float64
        Cost (``sense="min"``) or profit (``sense="max"``) of giving job j to agent i.
    weight : ndarray, shape (m, n), float64
        Resource used by job j on agent i.
    capacity : ndarray, shape (m,), float64
        Resource available on each agent.
    sense : {"min", "max"}
        Whether the objective is minimised or maximised.
    """

    name: str
    m: int
    n: int
    cost: FloatArray
    weight: FloatArray
    capacity: FloatArray
    sense: Sense = "min"

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.sense not in ("min", "max"):
            problems.append(f"sense: expected 'min' or 'max', got {self.sense!r}")
        if self.m < 1 or self.n < 1:
            problems.append(f"m, n: expected at least one agent and one job, got m={self.m}, n={self.n}")
        for label, arr, shape in (
            ("cost", self.cost, (self.m, self.n)),
            ("weight", self.weight, (self.m, self.n)),
            ("capacity", self.capacity, (self.m,)),
        ):
            if np.shape(arr) != shape:
                problems.append(f"{label}: expected shape {shape}, got {np.shape(arr)}")
            elif not np.all(np.isfinite(arr)):
                problems.append(f"{label}: expected finite numbers, found NaN or infinity")
        if not problems:
            if np.any(self.weight < 0):
                problems.append("weight: expected non-negative resource use, found a negative entry")
            if np.any(self.capacity < 0):
                problems.append("capacity: expected non-negative capacities, found a negative entry")
        if problems:
            raise GapFormatError(f"GapProblem {self.name!r}: " + "; ".join(problems))
        # Freeze the arrays too: a frozen dataclass alone would still let callers mutate them.
        for label in ("cost", "weight", "capacity"):
            arr = np.array(getattr(self, label), dtype=np.float64, copy=True)
            arr.setflags(write=False)
            object.__setattr__(self, label, arr)

    @property
    def integral(self) -> bool:
        """True when costs are integers, so the optimum is an integer and bounds may be rounded."""
        return bool(np.all(self.cost == np.round(self.cost)))

    def to_min_cost(self) -> FloatArray:
        """Costs of the equivalent minimisation problem (profits negated for ``max``)."""
        return np.array(self.cost if self.sense == "min" else -self.cost, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class GapSolution:
    """Outcome of a GAP solve, exact or heuristic, in the problem's own sense.

    Attributes
    ----------
    assignment : ndarray, shape (n,), int64
        Agent of each job; all ``-1`` when no feasible assignment was found.
    objective : float
        Objective of ``assignment`` (``nan`` when there is none).
    bound : float
        Best proven bound on the optimum: a lower bound for ``min``, an upper bound for
        ``max`` (``nan`` when none is known).
    gap : float
        Relative gap ``|objective - bound| / |objective|`` (``inf`` without a solution).
    status : str
        One of `STATUSES`.
    seconds : float
        Wall-clock time of the solve.
    feasible : bool
        Whether ``assignment`` satisfies every constraint (checked with `check_assignment`).
    method : str
        ``"milp"`` or ``"heuristic"``.
    lp_bound, lagrangian_bound : float or None
        The LP-relaxation and Lagrangian bounds when they were computed (problem's sense).
    iterations : int
        Local-search iterations (heuristic) or branch-and-bound nodes (MILP).
    info : dict
        Further figures by phase (times, construction value, ...).
    """

    assignment: IntArray
    objective: float
    bound: float
    gap: float
    status: str
    seconds: float
    feasible: bool
    method: str
    lp_bound: float | None = None
    lagrangian_bound: float | None = None
    iterations: int = 0
    info: dict[str, float] = field(default_factory=dict)


# ----------------------------------------------------------------------------- reading


def _parse_numbers(path: Path) -> FloatArray:
    try:
        text = path.read_text()
    except OSError as exc:
        raise GapFormatError(f"{path}: cannot read the file ({exc.strerror or exc})") from exc
    tokens = text.split()
    if not tokens:
        raise GapFormatError(f"{path}: expected an OR-Library GAP instance, found an empty file")
    try:
        return np.array(tokens, dtype=np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        pos = tokens.index(bad)
        raise GapFormatError(
            f"{path}: expected whitespace-separated numbers, found {bad!r} (token {pos + 1})"
        ) from None


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _as_count(value: float, path: Path, what: str, pos: int) -> int:
    if not (value >= 1 and value == int(value)):
        raise GapFormatError(
            f"{path}: expected {what} as a positive integer at token {pos + 1}, found {value:g}"
        )
    return int(value)


def _block_size(m: int, n: int) -> int:
    return 2 + 2 * m * n + m


def _scan_multi(nums: FloatArray) -> list[int] | None:
    """Offsets of each block if ``nums`` is exactly ``P`` then P blocks, else None."""
    p = nums[0]
    if not (p >= 1 and p == int(p)):
        return None
    offsets: list[int] = []
    pos = 1
    for _ in range(int(p)):
        if pos + 2 > nums.size:
            return None
        m, n = nums[pos], nums[pos + 1]
        if not (m >= 1 and n >= 1 and m == int(m) and n == int(n)):
            return None
        offsets.append(pos)
        pos += _block_size(int(m), int(n))
    return offsets if pos == nums.size else None


def _layout_error(path: Path, nums: FloatArray) -> GapFormatError:
    if nums.size >= 2 and nums[0] >= 1 and nums[1] >= 1:
        m, n = int(nums[0]), int(nums[1])
        single = _block_size(m, n)
        return GapFormatError(
            f"{path}: neither layout fits. Read as one problem with m={m}, n={n} it needs "
            f"{single} numbers (m n, cost m x n, resource m x n, capacity m), found {nums.size}; "
            f"read as a multi-problem file (count P={nums[0]:g}, then P blocks) the blocks do "
            "not add up to the file's length"
        )
    return GapFormatError(
        f"{path}: expected 'm n' (or a problem count P) at the start, found {nums[: 2].tolist()}"
    )


def read_orlib_gap(
    path: str | Path, problem: int | None = None, sense: str | None = None
) -> GapProblem:
    """Read one GAP instance from an OR-Library-format file.

    Two layouts are recognised (whitespace-separated numbers; line breaks carry no
    meaning). A multi-problem file (``gap1.txt`` ... ``gap12.txt``, ``gapa.txt`` ...
    ``gapd.txt``) starts with the number of problems P followed by P blocks; a
    single-problem file (``yagiura/d10200``) is one block. A block is ``m n``, the cost
    matrix (m rows of n, agent by job), the resource matrix (same shape) and the m
    capacities.

    Parameters
    ----------
    path : str or Path
        The instance file.
    problem : int, optional
        1-based problem number in a multi-problem file (default 1). For a single-problem
        file only ``None`` or ``1`` are accepted.
    sense : {"min", "max"}, optional
        Objective sense. Defaults to the sense the published optima use: ``"max"`` for
        multi-problem files (``gap1`` ... ``gap12``), except OR-Library's ``gapa`` ...
        ``gapd`` (``"min"``), and ``"min"`` for single-problem files.

    Returns
    -------
    GapProblem

    Raises
    ------
    GapFormatError
        A `ValueError` naming the file and what was expected and found.
    """
    path = Path(path)
    if sense is not None and sense not in ("min", "max"):
        raise GapFormatError(f"sense: expected 'min', 'max' or None, got {sense!r}")
    if problem is not None and (isinstance(problem, bool) or not isinstance(problem, int | np.integer)):
        raise GapFormatError(f"problem: expected a 1-based integer or None, got {problem!r}")
    nums = _parse_numbers(path)

    offsets = _scan_multi(nums)
    single = (
        nums.size >= 2
        and nums[0] >= 1
        and nums[1] >= 1
        and nums[0] == int(nums[0])
        and nums[1] == int(nums[1])
        and nums.size == _block_size(int(nums[0]), int(nums[1]))
    )
    if offsets is not None:
        count = len(offsets)
        k = 1 if problem is None else int(problem)
        if not 1 <= k <= count:
            raise GapFormatError(
                f"{path}: problem must be between 1 and {count} (the file holds {count} "
                f"problems), got {k}"
            )
        start = offsets[k - 1]
        name = f"{path.stem}-{k}"
        default_sense: Sense = "min" if _MIN_MULTI_FILES.match(path.stem) else "max"
    elif single:
        if problem not in (None, 1):
            raise GapFormatError(
                f"{path}: a single-problem file holds only problem 1, got problem={problem}"
            )
        start = 0
        name = path.stem
        default_sense = "min"
    else:
        raise _layout_error(path, nums)

    m = _as_count(nums[start], path, "the number of agents m", start)
    n = _as_count(nums[start + 1], path, "the number of jobs n", start + 1)
    pos = start + 2
    cost = nums[pos : pos + m * n].reshape(m, n)
    pos += m * n
    weight = nums[pos : pos + m * n].reshape(m, n)
    pos += m * n
    capacity = nums[pos : pos + m]
    chosen: Sense = default_sense if sense is None else sense  # type: ignore[assignment]
    try:
        return GapProblem(name, m, n, cost, weight, capacity, chosen)
    except GapFormatError as exc:
        raise GapFormatError(f"{path}: {exc}") from None


# ----------------------------------------------------------------------------- checks


def _as_assignment(problem: GapProblem, assignment: npt.ArrayLike) -> IntArray:
    a = np.asarray(assignment)
    if a.shape != (problem.n,):
        raise ValueError(f"assignment: expected shape ({problem.n},), got {a.shape}")
    return a.astype(np.int64)


def gap_objective(problem: GapProblem, assignment: npt.ArrayLike) -> float:
    """Objective of a complete assignment (agent per job), in the problem's sense."""
    a = _as_assignment(problem, assignment)
    if np.any((a < 0) | (a >= problem.m)):
        raise ValueError("assignment: every job needs an agent index in [0, m)")
    return float(problem.cost[a, np.arange(problem.n)].sum())


def check_assignment(problem: GapProblem, assignment: npt.ArrayLike, tol: float = 1e-9) -> list[str]:
    """List every violated constraint of an assignment (empty when it is feasible).

    Recomputes the agents' loads from the arrays alone, independently of any solver.
    """
    a = _as_assignment(problem, assignment)
    violations: list[str] = []
    bad = np.flatnonzero((a < 0) | (a >= problem.m))
    for j in bad[:20]:
        violations.append(f"job {j}: agent {a[j]} is not in [0, {problem.m})")
    if bad.size:
        return violations
    load = np.zeros(problem.m)
    np.add.at(load, a, problem.weight[a, np.arange(problem.n)])
    for i in np.flatnonzero(load > problem.capacity + tol * np.maximum(1.0, problem.capacity)):
        violations.append(
            f"agent {i}: load {load[i]:g} exceeds capacity {problem.capacity[i]:g}"
        )
    return violations


def relative_gap(objective: float, bound: float) -> float:
    """``|objective - bound| / |objective|`` (0 when both are 0, inf when undefined)."""
    if not (math.isfinite(objective) and math.isfinite(bound)):
        return math.inf
    diff = abs(objective - bound)
    if diff <= 1e-12:
        return 0.0
    return diff / max(abs(objective), 1e-12)


# ----------------------------------------------------------------------------- MILP


def build_gap_lp(problem: GapProblem, integer: bool = True) -> Program:
    """The GAP as a minimisation program (profits negated for ``max``), built in bulk.

    Column ``k = i * n + j`` is ``x[i, j]``. Rows ``0..n-1`` are the assignment
    constraints ``sum_i x[i, j] = 1``; rows ``n..n+m-1`` the capacities
    ``sum_j weight[i, j] x[i, j] <= cap[i]``. Each column has exactly two entries.
    """
    m, n = problem.m, problem.n
    ncol = m * n
    agent = np.repeat(np.arange(m, dtype=np.int64), n)
    job = np.tile(np.arange(n, dtype=np.int64), m)
    rows = np.concatenate([job, n + agent])
    cols = np.concatenate([np.arange(ncol), np.arange(ncol)])
    vals = np.concatenate([np.ones(ncol), problem.weight.ravel().astype(np.float64)])
    A = sp.csr_matrix((vals, (rows, cols)), shape=(n + m, ncol))
    return Program(c=problem.to_min_cost().ravel(), offset=0.0, A=A,
                   row_lo=np.concatenate([np.ones(n), np.full(m, -np.inf)]),
                   row_hi=np.concatenate([np.ones(n), problem.capacity.astype(np.float64)]),
                   col_lo=np.zeros(ncol), col_hi=np.ones(ncol), integer=np.full(ncol, bool(integer)))


def _in_sense(problem: GapProblem, value: float | None) -> float:
    """A minimisation figure back in the problem's own sense (nan when missing)."""
    if value is None:
        return math.nan
    return float(value) if problem.sense == "min" else -float(value)


def gap_lp_bound(problem: GapProblem, time_limit: float | None = None) -> float:
    """Optimal value of the LP relaxation (``0 <= x <= 1``): a bound in the problem's sense.

    Returns ``inf`` (min) / ``-inf`` (max) when the relaxation is infeasible, ``nan``
    when HiGHS stops before proving optimality.
    """
    out = solve_highs(build_gap_lp(problem, integer=False), SolveOptions(time_limit=time_limit, tolerance=None))
    if out.status == Termination.OPTIMAL:
        return _in_sense(problem, out.objective)
    if out.status == Termination.INFEASIBLE:
        return math.inf if problem.sense == "min" else -math.inf
    return math.nan


def solve_gap_milp(
    problem: GapProblem,
    time_limit: float | None = None,
    mip_gap: float = 1e-6,
    start: npt.ArrayLike | None = None,
    *,
    threads: int | None = None,
    seed: int = 0,
) -> GapSolution:
    """Solve the GAP exactly with HiGHS branch-and-cut.

    Parameters
    ----------
    problem : GapProblem
    time_limit : float, optional
        Seconds; ``None`` for no limit.
    mip_gap : float
        Relative gap at which HiGHS may stop and report ``optimal``.
    start : array of shape (n,), optional
        A complete assignment (agent per job), e.g. from `solve_gap_heuristic`, passed
        to HiGHS as a MIP start. Infeasible starts are ignored by HiGHS.
    threads : int, optional
        HiGHS threads (HiGHS's default when ``None``).
    seed : int
        HiGHS ``random_seed``.

    Returns
    -------
    GapSolution
        Status read from the solver: ``optimal``, ``infeasible``, ``feasible`` (stopped
        by a limit with an incumbent) or ``time_limit`` (stopped without one).
    """
    t0 = time.perf_counter()
    m, n = problem.m, problem.n
    x0 = None
    if start is not None:
        a = _as_assignment(problem, start)
        if np.all((a >= 0) & (a < m)):
            x0 = np.zeros(m * n)
            x0[a * n + np.arange(n)] = 1.0
    out = solve_highs(build_gap_lp(problem, integer=True),
                      SolveOptions(time_limit=time_limit, mip_gap=mip_gap, threads=threads, seed=seed, tolerance=None), start=x0)
    seconds = time.perf_counter() - t0
    assignment = np.full(n, -1, dtype=np.int64)
    objective = math.nan
    feasible = False
    if out.v is not None:
        x = out.v.reshape(m, n)
        assignment = np.argmax(x, axis=0).astype(np.int64)
        feasible = not check_assignment(problem, assignment) and bool(
            np.all(np.abs(x.max(axis=0) - 1.0) < 1e-6)
        )
        objective = gap_objective(problem, assignment) if feasible else math.nan
    bound = _in_sense(problem, out.bound)
    if out.status == Termination.OPTIMAL and feasible:
        status = Termination.OPTIMAL
    elif out.status == Termination.INFEASIBLE:
        status = Termination.INFEASIBLE
    elif feasible:
        status = Termination.FEASIBLE
    else:
        status = Termination.TIME_LIMIT
    if problem.integral and math.isfinite(bound):
        # The optimum of an integer-cost GAP is an integer: round the bound inwards.
        bound = math.ceil(bound - 1e-6) if problem.sense == "min" else math.floor(bound + 1e-6)
    if status == Termination.OPTIMAL and math.isfinite(objective) and math.isnan(bound):
        bound = objective
    return GapSolution(
        assignment=assignment,
        objective=objective,
        bound=float(bound),
        gap=relative_gap(objective, bound) if feasible else math.inf,
        status=status.value,
        seconds=seconds,
        feasible=feasible,
        method="milp",
        iterations=int(out.info.get("nodes", 0)),
        info={"solver_status": float(list(Termination).index(out.status))},
    )
