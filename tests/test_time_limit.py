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


# --- stages that no solver limit bounds keep to the budget ------------------------------
# A budget can be handed to solve(); here it is made to run out at a chosen point, so
# which stages ran follows from the notes and the solver calls, not from the clock.


def _counting_highs(monkeypatch, after=None):
    """Count the HiGHS solves of plan.solve; ``after(n)`` runs after the n-th."""
    import computeplan.plan.solve as plan_solve

    real = plan_solve.solve_highs
    calls: list[int] = []

    def counted(*args, **kwargs):
        out = real(*args, **kwargs)
        calls.append(1)
        if after is not None:
            after(len(calls))
        return out

    monkeypatch.setattr(plan_solve, "solve_highs", counted)
    return calls


def test_budget_spent_by_the_milp_skips_the_shadow_price_lp_and_the_check(monkeypatch):
    import time

    import computeplan
    from computeplan.solvers import Budget

    inst = computeplan.load_instance(generate_instance(60, 6, seed=3, indivisible_share=0.5, idle_share=1.0))
    budget = Budget(3600.0)

    def expire(n: int) -> None:
        budget.deadline = time.time() - 1.0  # the MILP used it all

    calls = _counting_highs(monkeypatch, expire)
    res = computeplan.solve(inst, method="milp", budget=budget)
    assert res.has_plan and len(calls) == 1  # the MILP only: no shadow-price LP after it
    assert any("skipped the shadow-price LP" in n for n in res.notes), res.notes
    assert any("skipped the independent check" in n for n in res.notes), res.notes
    assert all(t["shadow_price"] is None for t in res.target_list)
    assert computeplan.verify(inst, res) == []  # the plan is sound all the same

    # with time left, the same solve runs both stages and notes nothing skipped
    calls.clear()
    monkeypatch.undo()
    calls = _counting_highs(monkeypatch)
    res = computeplan.solve(inst, method="milp", budget=Budget(3600.0))
    assert len(calls) == 2 and not any(n.startswith("time limit") for n in res.notes), res.notes


def test_budget_spent_by_reading_gives_the_heuristic_plan_with_its_bound(monkeypatch):
    import time

    import computeplan
    from computeplan.solvers import Budget

    inst = computeplan.load_instance(generate_instance(600, 12, seed=3, indivisible_share=0.5, idle_share=1.0))
    calls = _counting_highs(monkeypatch)
    spent = Budget(None, deadline=time.time() - 1.0)  # nothing left when the solve starts
    res = computeplan.solve(inst, method="milp", budget=spent)
    assert calls == []  # neither the MILP nor an LP: HiGHS would pass the limit setting up
    assert res.status == "feasible" and res.bound is not None and res.gap is not None
    assert res.bound <= res.objective_value
    assert any("skipped the MILP solver; the plan is the fleet heuristic's" in n for n in res.notes), res.notes
    assert computeplan.verify(inst, res) == []


def test_a_check_that_would_pass_the_limit_is_skipped(monkeypatch):
    """The independent check runs only when the time left holds it (about CHECK_BUILDS
    build times), not whenever any time is left: here a check of a million build times
    cannot fit in an hour, so it is skipped with a note, and the plan is sound all the same."""
    import computeplan
    from computeplan.plan import solve as plan_solve
    from computeplan.solvers import Budget

    inst = computeplan.load_instance(generate_instance(60, 6, seed=3, indivisible_share=0.5, idle_share=1.0))
    monkeypatch.setattr(plan_solve, "CHECK_BUILDS", 1e9)
    res = computeplan.solve(inst, method="milp", budget=Budget(3600.0))
    assert res.has_plan and any("skipped the independent check" in n for n in res.notes), res.notes
    assert computeplan.verify(inst, res) == []
    res = computeplan.solve(inst, method="milp")  # no limit: always checked
    assert not any("skipped" in n for n in res.notes), res.notes


def test_the_script_exits_without_tearing_down_but_runs_exit_handlers(tmp_path: Path) -> None:
    """``computeplan`` as a script ends once its command has: its output flushed, exit
    handlers run, its exit code kept, but the interpreter's tear-down of what the command
    left in memory skipped (an object still referenced is never finalised)."""
    import subprocess
    import sys

    code = (
        "import atexit, sys\n"
        "class Kept:\n"
        "    def __del__(self):\n"
        "        sys.stderr.write('torn down\\n')\n"
        "kept = Kept()\n"
        "atexit.register(lambda: sys.stderr.write('exit handler ran\\n'))\n"
        "from computeplan.cli import main\n"
        "sys.argv = ['computeplan'] + sys.argv[1:]\n"
        "main()\n"
    )
    ok = subprocess.run([sys.executable, "-c", code, "examples"], capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert "shanghai-2025" in ok.stdout  # flushed before the process ended
    assert "exit handler ran" in ok.stderr and "torn down" not in ok.stderr
    bad = subprocess.run([sys.executable, "-c", code, "solve", str(tmp_path / "missing.yaml")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "exit handler ran" in bad.stderr and "torn down" not in bad.stderr
