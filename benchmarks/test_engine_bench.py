"""Exact engine benchmarks: load, build and solve apart, on the Shanghai example and on a
generated LP of about a million candidate (workload, pool) pairs, with PuLP's build of the
same model timed in the same run. Quality (objective, gap, feasibility) sits beside time
in ``extra_info``.

Run: ``pytest benchmarks/test_engine_bench.py --benchmark-only``;
``--benchmark-disable`` runs each once as a test.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import computeplan
from computeplan.io.generate import generate_instance, write_instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.solvers import Termination
from computeplan.solvers.highs import solve_highs
from computeplan.solvers.pulp_backend import to_pulp

ROOT = Path(__file__).resolve().parents[1]
SHANGHAI = ROOT / "instances" / "shanghai-2025.yaml"


@pytest.fixture(scope="module")
def lp_1m(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = generate_instance(70000, 300, seed=3, indivisible_share=0.0, idle_share=0.0)
    return write_instance(raw, tmp_path_factory.mktemp("lp1m"), tables="parquet")


def once(benchmark, fn):  # type: ignore[no-untyped-def]
    return benchmark.pedantic(fn, rounds=1, iterations=1)


def test_shanghai_load(benchmark):
    inst = benchmark(computeplan.load_instance, SHANGHAI)
    benchmark.extra_info.update(workloads=len(inst.workloads), sites=len(inst.sites))


def test_shanghai_build(benchmark):
    inst = computeplan.load_instance(SHANGHAI)
    m = benchmark(lambda: build_model(build_data(inst)))
    benchmark.extra_info.update(columns=m.n_cols, rows=m.n_rows)


def test_shanghai_solve(benchmark):
    inst = computeplan.load_instance(SHANGHAI)
    res = benchmark(computeplan.solve, inst)
    problems = computeplan.verify(inst, res)
    benchmark.extra_info.update(status=res.status.value, objective=res.objective_value, gap=res.gap,
                                method=res.method, feasible=problems == [])
    assert res.status == "optimal" and problems == [], problems[:5]


def test_lp1m_load(benchmark, lp_1m):
    inst = once(benchmark, lambda: computeplan.load_instance(lp_1m))
    benchmark.extra_info.update(workloads=len(inst.workloads))


def test_lp1m_build_vs_pulp(benchmark, lp_1m):
    """Our bulk build against PuLP's build of the same matrix, same run."""
    d = build_data(computeplan.load_instance(lp_1m))
    m = once(benchmark, lambda: build_model(d))
    t0 = time.perf_counter()
    build_model(d)
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    to_pulp(m)
    pulp_s = time.perf_counter() - t0
    benchmark.extra_info.update(candidates=d.n_cand, build_s=ours, pulp_build_s=pulp_s,
                                speedup_vs_pulp=pulp_s / ours)


def test_lp1m_solve(benchmark, lp_1m):
    inst = computeplan.load_instance(lp_1m)
    m = build_model(build_data(inst))
    out = once(benchmark, lambda: solve_highs(m))
    benchmark.extra_info.update(status=out.status, objective=None if out.objective is None else out.objective * m.scale,
                                columns=m.n_cols, rows=m.n_rows)
    assert out.status == Termination.OPTIMAL
    res = computeplan.solve(inst)  # the same LP through the engine, for the independent check
    assert computeplan.verify(inst, res) == []
