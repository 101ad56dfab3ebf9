"""OR-Library GAP files as instances of computeplan (FORMULATION.md section 9).

Agents become sites and jobs become workloads, each named by its 1-based index as a
string, so an assignment reads ``{"workload": "17", "site": "3", "share": 1.0}``. The
objective is the GAP objective (cost to minimise or profit to maximise); indicators that
mean nothing for a GAP are null.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import numpy as np

from computeplan.errors import InstanceError, UsageError
from computeplan.plan.result import Result, Status

GAP_INDICATORS = ("fleet_pue", "ece_gflops_per_w", "energy_kwh", "cost", "carbon_t", "renewable_share",
                  "served_tflops", "unserved_tflops", "output_per_kwh")
_NUM = re.compile(r"^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?$")


def is_orlib_gap(path: Path) -> bool:
    """True when the file holds only numbers (the OR-Library layout), not YAML/JSON."""
    if path.suffix.lower() in (".yaml", ".yml", ".json"):
        return False
    try:
        head = path.read_text(encoding="utf-8", errors="replace")[:4096].split()
    except OSError:
        return False
    return bool(head) and all(_NUM.match(t) for t in head[:-1])


def gap_result(problem: Any, sol: Any, seconds: float) -> Result:
    """A :class:`Result` in the shape of result.json for a GAP solution."""
    status = {"optimal": Status.OPTIMAL, "feasible": Status.FEASIBLE, "infeasible": Status.INFEASIBLE,
              "time_limit": Status.TIME_LIMIT}.get(sol.status, Status.TIME_LIMIT)
    if status.has_plan and not sol.feasible:
        status = Status.TIME_LIMIT
    assign = np.asarray(sol.assignment) if status.has_plan else np.zeros(0, dtype=np.int64)
    load = np.zeros(problem.m)
    records = []
    for i, j in enumerate(assign):
        load[j] += problem.weight[j, i]
        records.append({"workload": str(i + 1), "site": str(int(j) + 1), "hardware": None, "share": 1.0,
                        "tflops": None})
    sites = [{"id": str(j + 1), "tier": None, "load": float(load[j]), "capacity": float(problem.capacity[j]),
              "utilisation": float(load[j] / problem.capacity[j]) if problem.capacity[j] > 0 else None}
             for j in range(problem.m)] if status.has_plan else []
    name = "gap_cost" if problem.sense == "min" else "gap_profit"
    return Result(
        instance=problem.name, status=status, method=sol.method, objective_name=name,
        objective_value=float(sol.objective) if status.has_plan else None,
        bound=None if sol.bound is None or not np.isfinite(sol.bound) else float(sol.bound),
        gap=float(sol.gap) if status.has_plan and np.isfinite(sol.gap) else None, solve_seconds=seconds,
        indicators=dict.fromkeys(GAP_INDICATORS), site_records=sites, assignment_records=records,
        extra={"sense": problem.sense},
    )


def solve_gap_file(path: Path, *, problem: int | None = None, sense: str | None = None,
                   time_limit: float | None = None, mip_gap: float = 1e-9, method: str = "auto",
                   seed: int = 0) -> Result:
    """Read an OR-Library GAP file and solve it (MILP, heuristic, or auto)."""
    from computeplan.heuristics.gap.problem import read_orlib_gap, solve_gap_milp

    if sense is not None and sense not in ("min", "max"):
        raise UsageError(f"--sense: expected min or max, got {sense!r}")
    t0 = time.perf_counter()
    try:
        prob = read_orlib_gap(path, problem=problem, sense=sense)
    except ValueError as e:
        raise InstanceError([str(e)]) from None
    if method in ("auto", "milp"):
        sol = solve_gap_milp(prob, time_limit=time_limit, mip_gap=mip_gap)
    elif method == "heuristic":
        from computeplan.heuristics.gap.search import solve_gap_heuristic

        sol = solve_gap_heuristic(prob, time_limit=10.0 if time_limit is None else time_limit, seed=seed)
    else:
        raise UsageError(f"--method {method}: not available for GAP files (use auto, milp or heuristic)")
    return gap_result(prob, sol, time.perf_counter() - t0)
