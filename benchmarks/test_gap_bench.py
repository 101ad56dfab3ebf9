"""GAP benchmarks on public instances with known optima.

* OR-Library gap1 ... gap12 (maximisation, 5x15 to 10x60): HiGHS MILP must reach every
  proven optimum.
* Yagiura types D, E and C (minimisation, 100 and 200 jobs by default; ``--gap-large`` adds
  C, D and E with 400, 900 and 1600 jobs): computeplan's heuristic and HiGHS alone, each
  with the same time limit (``--gap-time``, 10 s), in the same run. Quality goes to
  ``benchmark.extra_info`` (objective, gap to the reference value, own bound and gap,
  feasibility) and to a comparison table printed at the end, per instance and per type
  and size (mean and worst gap; ``--gap-summary`` writes the rows as CSV).

``benchmarks/gap_run.py`` runs the heuristic alone on a selection (``d:900``, ``large``,
names) at a time limit or an iteration budget and prints the gap per instance and group.

Run::

    pytest benchmarks/test_gap_bench.py --benchmark-only
    pytest benchmarks/test_gap_bench.py --benchmark-only --gap-large
    pytest benchmarks/test_gap_bench.py --gap-instances d05100,e10200 --benchmark-disable
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from computeplan.heuristics import solve_gap_heuristic, warm_up
from computeplan.heuristics.gap.problem import (
    GapSolution,
    check_assignment,
    read_orlib_gap,
    solve_gap_milp,
)

ORLIB = [f"gap{k}.txt" for k in range(1, 13)]


@pytest.fixture(scope="session")
def compiled() -> None:
    """Compile the Numba kernels once, before anything is timed."""
    warm_up()


def _quality(res: GapSolution, reference: float, sense: str) -> dict[str, Any]:
    if res.feasible:
        diff = res.objective - reference if sense == "min" else reference - res.objective
        to_ref = 100.0 * diff / abs(reference)
    else:
        to_ref = math.inf
    return {
        "objective": res.objective,
        "gap_to_reference_pct": to_ref,
        "bound": res.bound,
        "gap_pct": 100.0 * res.gap,
        "status": res.status,
        "feasible": res.feasible,
        "seconds": res.seconds,
        "lagrangian_bound": res.lagrangian_bound,
        "lp_bound": res.lp_bound,
    }


def test_read_orlib_gap(benchmark: Any, gap_data: Path) -> None:
    """Load phase: parse the largest single-problem file."""
    p = benchmark(read_orlib_gap, gap_data / "yagiura" / "c801600")
    assert (p.m, p.n) == (80, 1600)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("name", ORLIB)
def test_orlib_milp(benchmark: Any, gap_data: Path, gap_reference: dict[Any, Any],
                    name: str, k: int) -> None:
    """HiGHS proves the published optimum of every OR-Library gap1..gap12 problem."""
    p = read_orlib_gap(gap_data / "orlib" / name, problem=k)
    row = gap_reference[(f"orlib/{name}", k, "max")]
    ref = float(row["reference_value"])
    res = benchmark.pedantic(solve_gap_milp, args=(p,), kwargs={"time_limit": 120.0},
                             rounds=1, iterations=1)
    benchmark.extra_info.update({"instance": f"{row['instance']} ({name} #{k})", "reference": ref,
                                 **_quality(res, ref, "max")})
    assert check_assignment(p, res.assignment) == []
    assert res.status == "optimal" and res.objective == ref


def test_yagiura(benchmark: Any, compiled: None, gap_data: Path, gap_reference: dict[Any, Any],
                 gap_time: float, gap_seed: int, gap_report: Any,
                 yagiura_case: tuple[str, str]) -> None:
    """One Yagiura instance, either with computeplan's heuristic or with HiGHS alone."""
    name, method = yagiura_case
    path = gap_data / "yagiura" / name
    if not path.is_file():
        pytest.skip(f"{path} not found")
    p = read_orlib_gap(path)
    row = gap_reference[(f"yagiura/{name}", 1, "min")]
    ref = float(row["reference_value"])
    if method == "heuristic":
        res = benchmark.pedantic(solve_gap_heuristic, args=(p,),
                                 kwargs={"time_limit": gap_time, "seed": gap_seed},
                                 rounds=1, iterations=1)
    else:
        res = benchmark.pedantic(solve_gap_milp, args=(p,), kwargs={"time_limit": gap_time},
                                 rounds=1, iterations=1)
    quality = _quality(res, ref, "min")
    benchmark.extra_info.update({"instance": name, "method": method, "reference": ref,
                                 "reference_status": row["status"], "time_limit": gap_time,
                                 **quality})
    if method == "heuristic":
        benchmark.extra_info.update({k: v for k, v in res.info.items()
                                     if k.startswith(("t_", "dives", "successful", "lns_"))})
        benchmark.extra_info["search_iterations"] = res.iterations
    gap_report.rows.append({"instance": name, "method": method, "reference": ref, **quality})
    if res.feasible:
        assert check_assignment(p, res.assignment) == []
        assert res.objective >= ref - 1e-9 or row["status"] != "optimal"
    if method == "heuristic":
        assert res.feasible, "the heuristic finds a feasible assignment on every public instance"
