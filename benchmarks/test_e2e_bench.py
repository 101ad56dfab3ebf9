"""The path a user waits on: ``computeplan solve`` end to end (start-up, reading, build,
solve, check, writing) against HiGHS's own solve of the same model, in the same run.

A generated 3,000-workload fleet with every decision continuous (about 43,000 candidate
pairs, an LP). ``extra_info`` holds both times and their ratio (the target is a ratio of
at most 4), in wall time and in CPU time (the command's from ``getrusage`` of the children,
HiGHS's from ``process_time``: on a shared machine the wall times wait on other work), and
the start-up floor of the same interpreter: ``import highspy`` alone and the imports of the
solve path (``computeplan.cli``, ``plan.solve``, the loader).

    pytest benchmarks/test_e2e_bench.py --benchmark-only
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from timing import children_cpu, user_env, wall

import computeplan
from computeplan.io.generate import generate_instance, write_instance
from computeplan.io.loader import load_instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.solvers import Termination
from computeplan.solvers.highs import solve_highs


@pytest.fixture(scope="module")
def lp_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = generate_instance(3000, 60, seed=1, indivisible_share=0.0, idle_share=0.0)
    return write_instance(raw, tmp_path_factory.mktemp("e2e"))


def test_cli_solve_against_highs_alone(benchmark: Any, lp_fleet: Path, tmp_path: Path) -> None:
    m = build_model(build_data(load_instance(lp_fleet)))
    highs_times, highs_cpu = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        out = solve_highs(m)
        highs_times.append(time.perf_counter() - t0)
        highs_cpu.append(time.process_time() - c0)
        assert out.status == Termination.OPTIMAL
    out_dir = tmp_path / "out"
    cli_cpu: list[float] = []

    def run() -> None:
        c0 = children_cpu()
        subprocess.run([sys.executable, "-m", "computeplan", "solve", str(lp_fleet), "-q", "--out", str(out_dir)],
                       check=True, env=user_env())
        cli_cpu.append(children_cpu() - c0)

    benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    res = computeplan.Result.read(out_dir)
    assert res.status == "optimal" and computeplan.verify(load_instance(lp_fleet), res) == []
    highs = statistics.median(highs_times)
    e2e = benchmark.stats.stats.median
    floors = {name: statistics.median(wall([sys.executable, "-c", code]) for _ in range(3)) for name, code in (
        ("import_highspy_s", "import highspy"),
        ("import_solve_path_s", "import computeplan.cli, computeplan.plan.solve, computeplan.io.loader, highspy"))}
    cpu = statistics.median(cli_cpu[1:] or cli_cpu)  # the warm-up round aside
    benchmark.extra_info.update({"candidate_pairs": m.data.n_cand, "highs_solve_s": highs, "cli_s": e2e,
                                 "ratio": e2e / highs, "highs_cpu_s": statistics.median(highs_cpu),
                                 "cli_cpu_s": cpu, "ratio_cpu": cpu / statistics.median(highs_cpu),
                                 "objective": res.objective_value, **floors})

