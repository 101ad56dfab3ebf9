"""A MILP stopped at its time limit: with a plan, status ``feasible`` with bound <=
objective and gap = (objective - bound) / |objective|, exit code 0; without one, status
``time_limit`` and exit code 1. Generated fleets with indivisible work and every hall
switchable, solved with ``--mip-gap 0`` so that only the clock can stop HiGHS (and below
5,000 candidate pairs, so the solve is not warm-started by the heuristic); when a run
happens to finish, another limit or another fleet is tried (never a skip)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from computeplan.cli import app
from computeplan.io.generate import generate_instance

runner = CliRunner()


def write_fleet(tmp: Path, n: int, m: int) -> Path:
    path = tmp / f"fleet-{n}-{m}.yaml"
    raw = generate_instance(n, m, seed=3, indivisible_share=0.5, idle_share=1.0)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def run(path: Path, limit: float, out: Path) -> tuple[int, dict]:
    r = runner.invoke(app, ["solve", str(path), "-q", "--method", "milp", "--mip-gap", "0",
                            "--time-limit", str(limit), "--out", str(out), "--tables", "none"])
    doc = json.loads((out / "result.json").read_text()) if (out / "result.json").exists() else {}
    return r.exit_code, doc


def test_limit_with_a_plan_reports_feasible_bound_and_gap(tmp_path: Path) -> None:
    tried = []
    for n, m in ((400, 10), (480, 11), (300, 8)):
        path = write_fleet(tmp_path, n, m)
        for limit in (0.4, 0.8, 1.6, 3.2):
            out = tmp_path / f"o-{n}-{limit}"
            code, doc = run(path, limit, out)
            tried.append((n, limit, doc.get("status")))
            if doc.get("status") == "optimal":
                break  # too easy: a larger fleet
            if doc.get("status") != "feasible":
                continue  # no plan yet: a longer limit
            assert code == 0
            obj = doc["objective"]
            assert obj["bound"] <= obj["value"]
            assert obj["gap"] == pytest.approx((obj["value"] - obj["bound"]) / abs(obj["value"]), rel=1e-9)
            assert obj["gap"] > 0
            return
    pytest.fail(f"no run stopped at its limit with a plan: {tried}")


def test_limit_without_a_plan_exits_1(tmp_path: Path) -> None:
    tried = []
    for n, m in ((400, 10), (480, 11)):
        path = write_fleet(tmp_path, n, m)
        for limit in (0.05, 0.02, 0.01):
            out = tmp_path / f"o-{n}-{limit}"
            code, doc = run(path, limit, out)
            tried.append((n, limit, doc.get("status")))
            if doc.get("status") == "time_limit":
                assert code == 1
                assert doc["objective"]["value"] is None
                return
    pytest.fail(f"every run found a plan within its limit: {tried}")
