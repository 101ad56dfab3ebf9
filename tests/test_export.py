"""Exported models: the files written by --write-lp and --write-mps, read back by another
reader (HiGHS for both, CBC through PuLP for MPS) and solved, give the objective value of
result.json (the export is written in the result's units)."""

from __future__ import annotations

import json
from pathlib import Path

import pulp
import pytest
from typer.testing import CliRunner

from computeplan.cli import app
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import read_program, solve_highs

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"
runner = CliRunner()

# An LP with a binding target, a MILP (halls switched whole), one with indivisible work.
CASES = [("pue-target.yaml", "energy"), ("idle-halls.yaml", "energy"), ("indivisible.yaml", "cost"),
         ("two-sites.yaml", "carbon")]


@pytest.fixture(scope="module", params=CASES, ids=lambda c: f"{Path(c[0]).stem}-{c[1]}")
def exported(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, float]:
    name, objective = request.param
    out = tmp_path_factory.mktemp("export")
    r = runner.invoke(app, ["solve", str(TEACHING / name), "-q", "--objective", objective,
                            "--write-lp", str(out / "m.lp"), "--write-mps", str(out / "m.mps"),
                            "--out", str(out / "res")])
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "res" / "result.json").read_text())
    assert doc["status"] == "optimal"
    return out, float(doc["objective"]["value"])


@pytest.mark.parametrize("kind", ["lp", "mps"])
def test_export_read_back_by_highs_gives_the_result_objective(exported: tuple[Path, float], kind: str) -> None:
    out, value = exported
    prog = read_program(out / f"m.{kind}")
    sol = solve_highs(prog, SolveOptions(mip_gap=1e-9))
    assert sol.status == Termination.OPTIMAL and sol.objective is not None
    assert sol.objective == pytest.approx(value, rel=1e-6)


def test_export_read_back_by_cbc_gives_the_result_objective(exported: tuple[Path, float]) -> None:
    out, value = exported
    _, prob = pulp.LpProblem.fromMPS(str(out / "m.mps"))
    prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=1e-9))
    assert pulp.LpStatus[prob.status] == "Optimal"
    assert pulp.value(prob.objective) == pytest.approx(value, rel=1e-6)
