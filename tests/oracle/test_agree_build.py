"""The engine against the oracle on the build-out instances (FORMULATION.md section 11).

For every instance of
``instances-build/`` (``manifest_heldout.py``): the Python API and the CLI give the
oracle's status, objective (1e-5 relative), annual indicators (with
``capex_per_year`` and ``embodied_carbon_t``) and what is built (new halls per site,
new servers per pool, sites opened); the plan passes ``computeplan.verify``; and a
limit the manifest lists as binding (``capex_max``) is met with equality.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .agree_common import (
    case_id,
    check_against_oracle,
    compare_build,
    engine_tables,
    paths,
    solve_cli,
    solved,
)
from .manifest_heldout import EXPECTED

computeplan = pytest.importorskip("computeplan")

PATHS = paths("instances-build")


def _check(got: dict, path: Path, how: str) -> None:
    check_against_oracle(got, path, how, lambda got, ref: compare_build(got, ref))


@pytest.mark.parametrize("path", PATHS, ids=case_id)
def test_engine_matches_oracle_on_build_instances(path: Path) -> None:
    inst, res = solved(path)
    _check(engine_tables(res), path, "api")
    assert computeplan.verify(inst, res) == []


@pytest.mark.parametrize("path", PATHS, ids=case_id)
def test_cli_matches_oracle_on_build_instances(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    solve_cli(path, out, EXPECTED[path.stem]["status"], "--tables", "both", "-q")
    _check(engine_tables(out_dir=out), path, "cli")


def test_capex_budget_binds_with_equality() -> None:
    path = next(p for p in PATHS if "capex_max" in EXPECTED[p.stem].get("binds", []))
    res = solved(path)[1]
    row = res.targets.set_index("name").loc["capex_max"]
    assert row["value"] == pytest.approx(row["target"], rel=1e-6)
    assert row["met"]
