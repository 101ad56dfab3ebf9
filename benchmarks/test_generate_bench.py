"""The generator's time and build-out blocks: how long a year of hourly periods and the
build options take to generate and write, and the 200-workload x 20-site build-out fleet
(with a week of hours) solved end to end.

Run: ``pytest benchmarks/test_generate_bench.py --benchmark-only``.
"""

from __future__ import annotations

from pathlib import Path

import computeplan
from computeplan.io.generate import generate_instance, write_instance


def once(benchmark, fn):  # type: ignore[no-untyped-def]
    return benchmark.pedantic(fn, rounds=1, iterations=1)


def test_generate_year_of_hours_with_build(benchmark):
    raw = benchmark(generate_instance, 200, 20, seed=1, hours=8760, build=True)
    benchmark.extra_info.update(periods=len(raw["time"]["periods"]["datetime"]), sites=len(raw["sites"]),
                                series=len(raw["time"]["periods"]) - 1)


def test_write_year_of_hours_as_parquet(benchmark, tmp_path: Path):
    raw = generate_instance(200, 20, seed=1, hours=8760, build=True)
    path = once(benchmark, lambda: write_instance(raw, tmp_path, tables="parquet"))
    benchmark.extra_info["bytes"] = sum(p.stat().st_size for p in path.parent.iterdir() if p.is_file())


def test_solve_buildout_benchmark_fleet(benchmark):
    raw = generate_instance(200, 20, seed=1, hours=168, build=True)
    inst = computeplan.load_instance(raw)
    res = once(benchmark, lambda: computeplan.solve(inst, objective="cost", mip_gap=1e-3, time_limit=600))
    assert res.status in ("optimal", "feasible")
    assert computeplan.verify(inst, res) == []
    benchmark.extra_info.update(status=str(res.status), objective=res.objective_value, method=res.method)
