"""The engine against the oracle on the time instances (FORMULATION.md section 10).

For every instance of
``instances-time/`` (``manifest_heldout.py``): the Python API and the CLI give the
oracle's status, objective (1e-5 relative) and annual indicators, the value of
flexibility, each site's peak and, where the optimum fixes them, the per-period
figures; the plan passes ``computeplan.verify``. The infeasible grid limit exits 1
with a diagnosis that names ``grid_kw``. The flat twin gives the single-period
optimum of its original.

The water-filling check: one site, only flexible work (24 h windows, ``max_rate``
2.5), no targets, the carbon objective on three July days of California's 2022
series; the engine's per-period served load equals the water-filling of
``waterfill.py`` (plain numpy, independent of engine and oracle). The oracle passes
the same check in ``test_reference_time_build.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from . import waterfill
from .agree_common import (
    case_id,
    check_against_oracle,
    compare_per_period,
    compare_time_block,
    engine_tables,
    paths,
    solve_cli,
    solved,
)
from .manifest_heldout import EXPECTED

computeplan = pytest.importorskip("computeplan")

PATHS = paths("instances-time")


def _check(got: dict, path: Path, how: str) -> None:
    def more(got: dict, ref: dict) -> list[str]:
        per_period = EXPECTED[path.stem]["per_period"]
        problems = compare_time_block(got, ref, per_period)
        return problems + (compare_per_period(got["periods"], got["served"], ref) if per_period else [])

    check_against_oracle(got, path, how, more)


@pytest.mark.parametrize("path", PATHS, ids=case_id)
def test_engine_matches_oracle_on_time_instances(path: Path) -> None:
    inst, res = solved(path)
    _check(engine_tables(res), path, "api")
    if res.status == "optimal":
        assert computeplan.verify(inst, res) == []


@pytest.mark.parametrize("path", PATHS, ids=case_id)
def test_cli_matches_oracle_on_time_instances(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    solve_cli(path, out, EXPECTED[path.stem]["status"], "--tables", "both", "-q")
    _check(engine_tables(out_dir=out), path, "cli")


def test_infeasible_grid_limit_is_diagnosed(tmp_path: Path) -> None:
    """Exit 1, and the diagnosis names grid_kw (on the terminal and in result.json)."""
    path = next(p for p in PATHS if p.stem == "04-infeasible-grid")
    r = solve_cli(path, tmp_path / "out", "infeasible")
    assert "grid_kw" in r.output
    doc = json.loads((tmp_path / "out" / "result.json").read_text())
    assert doc["status"] == "infeasible"
    assert "grid_kw" in json.dumps(doc["diagnosis"])
    res = solved(path)[1]
    assert res.status == "infeasible" and "grid_kw" in json.dumps(res.diagnosis)


def test_flat_twin_gives_the_single_period_optimum() -> None:
    path = next(p for p in PATHS if p.stem == "03-flat-twin-city-mix")
    original = path.parents[1] / "instances" / f"{EXPECTED[path.stem]['twin_of']}.yaml"
    twin = solved(path)[1]
    single = computeplan.solve(computeplan.load_instance(original))
    assert twin.status == single.status == "optimal"
    assert twin.objective_value == pytest.approx(single.objective_value, rel=1e-7)
    for key, want in single.indicators.items():
        if want is not None and key in twin.indicators:
            assert twin.indicators[key] == pytest.approx(want, rel=1e-6, abs=1e-6), key


def test_engine_water_fills_the_cleanest_hours() -> None:
    """Per period, the served TFLOPS of the flexible job equal the numpy water-filling
    (summed over hours of equal intensity, whose split is free)."""
    raw, carbon = waterfill.instance(days=3)
    res = computeplan.solve(computeplan.load_instance(raw))
    assert res.status == "optimal"
    served = engine_tables(res)["served"]
    rows = served[served["class"] == "ai-training"].sort_values("period")
    got = rows["served_tflops"].to_numpy(dtype=float) / waterfill.DEMAND
    want = waterfill.water_fill(carbon, waterfill.MAX_RATE)
    assert len(got) == len(want)
    assert waterfill.tie_groups(carbon, got) == pytest.approx(waterfill.tie_groups(carbon, want), abs=1e-6)
    per_unit = 1.1 * 787.5 / 2.5  # kW of facility power per unit of demand served
    assert res.objective_value == pytest.approx(float(np.sum(carbon * (100 + per_unit * want))), rel=1e-6)
