"""Generated fleets S, M, L (and XL with COMPUTEPLAN_BENCH_XL=1): the fleet heuristic
against the LP bound, with time and peak memory, each size in its own process; and the
anchors of the README's performance rows: fleet S against the exact MILP, fleet M against
HiGHS's MILP alone for 60 s, fleet M as a 40 s MILP with and without the heuristic's start
(the two M anchors take minutes: COMPUTEPLAN_BENCH_ANCHORS=1).

Targets (measured, not asserted): L within 1 % of the LP bound in <= 60 s; XL in <= 5 min
and <= 8 GiB. Asserted: every plan passes ``computeplan.verify``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
# workloads, sites, heuristic seconds, indivisible share, extra arguments
SIZES: dict[str, tuple[int, int, float, float, list[str]]] = {
    "S": (1_000, 20, 10.0, 0.0, ["--lp", "--exact"]),
    "M": (20_000, 100, 30.0, 0.1, ["--lp"]),
    "L": (200_000, 300, 60.0, 0.0, ["--lp"]),
    "XL": (1_000_000, 1_000, 240.0, 0.0, []),
}
ANCHORS = bool(os.environ.get("COMPUTEPLAN_BENCH_ANCHORS"))


def fleet_run(n: int, m: int, limit: float, indivisible: float, extra: list[str]) -> dict:
    args = [sys.executable, str(HERE / "fleet_run.py"), str(n), str(m), "1", str(limit),
            "--indivisible", str(indivisible), *extra]
    r = subprocess.run(args, capture_output=True, text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("size", list(SIZES))
def test_fleet(benchmark, size):
    if size == "XL" and not os.environ.get("COMPUTEPLAN_BENCH_XL"):
        pytest.skip("XL runs with COMPUTEPLAN_BENCH_XL=1")
    out = benchmark.pedantic(lambda: fleet_run(*SIZES[size]), rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    assert out["feasible"], out
    assert out["verify_problems"] == [], out["verify_problems"][:5]
    if size == "S":
        assert out["exact_status"] == "optimal"
        assert out["above_exact"] >= -1e-7, "a heuristic plan below the exact optimum"


@pytest.mark.skipif(not ANCHORS, reason="runs with COMPUTEPLAN_BENCH_ANCHORS=1 (minutes)")
def test_fleet_m_against_highs_alone(benchmark):
    """README: fleet M, HiGHS MILP alone for 60 s, distance to the LP bound."""
    n, m, limit, indivisible, _ = SIZES["M"]
    out = benchmark.pedantic(lambda: fleet_run(n, m, limit, indivisible, ["--lp", "--milp", "60"]),
                             rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    assert out["verify_problems"] == [], out["verify_problems"][:5]


@pytest.mark.skipif(not ANCHORS, reason="runs with COMPUTEPLAN_BENCH_ANCHORS=1 (minutes)")
def test_fleet_m_milp_warm_started(benchmark):
    """README: fleet M as a MILP with 40 s, with and without the heuristic's start."""
    n, m, limit, indivisible, _ = SIZES["M"]
    out = benchmark.pedantic(lambda: fleet_run(n, m, limit, indivisible, ["--milp-warm", "40"]),
                             rounds=1, iterations=1)
    benchmark.extra_info.update(out)
    assert out["verify_problems"] == [], out["verify_problems"][:5]
    assert out["milp_warm_status"] in ("optimal", "feasible")
