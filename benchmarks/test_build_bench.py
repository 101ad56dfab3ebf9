"""Build-out: the generated 200-workload x 20-site fleet with build options everywhere
(``computeplan generate --build``: new halls and servers at every site, 10 candidate
sites with a ``site_capex``), solved to a 0.1 % gap under the cost objective.

Two figures in one run: ``computeplan.solve`` (build, MILP, shadow-price LP, records and
the independent check) and HiGHS alone on the same built model at the same gap. The
fleet heuristic does not decide builds, so there is no warm-started variant: ``auto``
picks the exact MILP for a build instance (``method_reason`` says why).

Run: ``pytest benchmarks/test_build_bench.py --benchmark-only``.
"""

from __future__ import annotations

import pytest

import computeplan
from computeplan.io.generate import generate_instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

GAP = 1e-3


@pytest.fixture(scope="module")
def fleet() -> computeplan.Instance:
    return computeplan.load_instance(generate_instance(200, 20, seed=1, build=True))


def once(benchmark, fn):  # type: ignore[no-untyped-def]
    return benchmark.pedantic(fn, rounds=1, iterations=1)


def test_build_fleet_solve(benchmark, fleet):
    res = once(benchmark, lambda: computeplan.solve(fleet, objective="cost", mip_gap=GAP))
    assert res.status == "optimal"
    assert computeplan.verify(fleet, res) == []
    build = res.extra["build"]
    benchmark.extra_info.update(
        objective=res.objective_value, gap=res.gap, method=res.method, reason=res.extra["method_reason"],
        capex_per_year=build["capex_per_year"], sites_opened=len(build["sites_opened"]),
        new_servers=sum(s["new_servers"] for s in build["servers"]))


def test_build_fleet_highs_alone(benchmark, fleet):
    m = build_model(build_data(fleet.model_copy(update={"objective": "cost"})))
    out = once(benchmark, lambda: solve_highs(m, SolveOptions(mip_gap=GAP)))
    assert out.status == Termination.OPTIMAL
    benchmark.extra_info.update(objective=out.objective * m.scale if out.objective is not None else None,
                                columns=m.n_cols, rows=m.n_rows, integers=int(m.integer.sum()))
