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
from typer.testing import CliRunner

from .agree_common import compare_build, compare_figures, engine_tables, paths, reference
from .manifest_heldout import EXPECTED

computeplan = pytest.importorskip("computeplan")
from computeplan.cli import app  # noqa: E402

PATHS = paths("instances-build")
runner = CliRunner()


def _id(path: Path) -> str:
    return path.stem


def _check(got: dict, path: Path, how: str) -> None:
    ref = reference(path)
    problems = compare_figures(got, ref, path.stem)
    if ref["status"] == "optimal" and not problems:
        problems += compare_build(got, ref)
    assert not problems, f"{path.stem} ({how}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_engine_matches_oracle_on_build_instances(path: Path) -> None:
    inst = computeplan.load_instance(path)
    res = computeplan.solve(inst)
    _check(engine_tables(res), path, "api")
    assert computeplan.verify(inst, res) == []


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_cli_matches_oracle_on_build_instances(path: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    r = runner.invoke(app, ["solve", str(path), "--out", str(out), "--tables", "both", "-q"])
    assert r.exit_code == 0, r.output
    _check(engine_tables(out_dir=out), path, "cli")


def test_capex_budget_binds_with_equality() -> None:
    path = next(p for p in PATHS if "capex_max" in EXPECTED[p.stem].get("binds", []))
    res = computeplan.solve(computeplan.load_instance(path))
    row = res.targets.set_index("name").loc["capex_max"]
    assert row["value"] == pytest.approx(row["target"], rel=1e-6)
    assert row["met"]
