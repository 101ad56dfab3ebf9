"""The year's plan of a typical-days result over 8,760 hourly periods: written with the
result (``full-year/``, Parquet and CSV), read back, and checked by ``verify`` (every
per-period figure of the year recomputed with plain loops).

The fleet is the generated 12 workloads x 3 sites over a year of hours (40 candidate
pairs, 11 pools), solved once on 4 typical days, the year dispatched as one LP.
``extra_info`` holds the year's dispatch rows and the size of each file of ``full-year/``.

Run: ``pytest benchmarks/test_full_year_plan_bench.py --benchmark-only``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import computeplan
from computeplan.io.generate import generate_instance


@pytest.fixture(scope="module")
def year() -> tuple[computeplan.Instance, computeplan.Result]:
    inst = computeplan.load_instance(generate_instance(12, 3, seed=4, hours=8760))
    res = computeplan.solve(inst, typical_days=4, flex_value=False)
    assert res.full_year_plan is not None
    return inst, res


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_write_read_and_verify_the_year(benchmark: Any, year: tuple[computeplan.Instance, computeplan.Result],
                                        tmp_path: Path, kind: str) -> None:
    inst, res = year
    assert res.full_year_plan is not None

    def run() -> list[str]:
        res.write(tmp_path, (kind,))
        return computeplan.verify(inst, computeplan.Result.read(tmp_path))

    assert benchmark.pedantic(run, rounds=1, iterations=1) == []
    folder = tmp_path / "full-year"
    benchmark.extra_info.update({
        "dispatch_rows": len(res.full_year_plan.dispatch),
        "bytes": {p.name: p.stat().st_size for p in sorted(folder.iterdir())},
    })


def test_verify_the_year(benchmark: Any, year: tuple[computeplan.Instance, computeplan.Result]) -> None:
    inst, res = year
    assert benchmark.pedantic(lambda: computeplan.verify(inst, res), rounds=1, iterations=1) == []
