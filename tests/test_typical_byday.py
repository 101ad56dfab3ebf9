"""Typical days solved by day (:mod:`computeplan.analysis.typical_byday`): the bound with
each day's own halls, the halls and placements agreed, the days dispatched; checked
against the one MILP of the same typical days and by the independent check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

import computeplan
from computeplan.analysis import typical_byday
from computeplan.analysis.typical_byday import agree, typical_solver, wants_by_day
from computeplan.cli import app
from computeplan.io.generate import generate_instance
from computeplan.io.periods import typical_instance
from computeplan.model.data import build_data
from computeplan.plan.typical import choose_days


@pytest.fixture(scope="module")
def fleet() -> computeplan.Instance:
    """12 workloads x 3 sites over 4 days: site 0 has 6 halls always on, site 1 0-3
    switchable halls, site 2 one hall always on; workloads 0, 8 and 10 are indivisible."""
    return computeplan.load_instance(generate_instance(12, 3, seed=4, hours=24 * 4))


def by_day(**kw: Any) -> Any:
    return typical_solver("days", workers=0, **kw)


def test_the_plan_by_day_is_verified_and_bracketed_by_the_one_milp(fleet):
    milp = computeplan.solve(fleet, typical_days=2)
    assert milp.status == "optimal"
    res = computeplan.solve(fleet, typical_days=2, typical_solver=by_day())
    assert computeplan.verify(fleet, res) == []  # the plan, its figures and its full year
    assert res.status == "feasible" and res.method.startswith("typical days by day: 2 day LPs")
    opt = milp.objective_value
    # the bound lets each day light its own halls: never above the MILP's optimum; the
    # plan is a plan of the same typical days: never below it
    assert res.bound <= opt * (1 + 1e-9) and res.objective_value >= opt * (1 - 1e-9)
    assert res.gap == pytest.approx((res.objective_value - res.bound) / res.objective_value, rel=1e-9)
    assert res.extra["by_day"]["bound"] == res.bound
    z = res.blocks["z"]
    assert np.array_equal(z, np.round(z)) and set(res.blocks) == {"z", "y"}
    # the year is re-evaluated from the agreed halls and placements, as after the MILP
    fy = res.full_year
    assert fy["objective"] is not None and fy["gap"] == pytest.approx(
        (fy["objective"] - res.objective_value) / abs(res.objective_value), rel=1e-9)


def test_halls_and_placements_are_agreed_as_documented(fleet):
    d = build_data(typical_instance(fleet, *choose_days(fleet, 2)))
    # copies of (z: 3 sites, y: 9 indivisible candidates) for 2 days
    copies = np.zeros((2, 12))
    copies[:, 0] = [6.0, 6.0]  # site 0: its 6 halls are always on
    copies[:, 1] = [0.3, 2.4]  # site 1: the most a day lights is 2.4
    copies[:, 2] = [0.2, 0.0]  # site 2: one hall, always on
    y = copies[:, 3:]
    y[:, 0:2] = [[0.9, 0.1], [0.2, 0.8]]  # workload 0 on site 1 or site 2
    y[:, 2:5] = [[0.0, 0.0, 1.0], [0.0, 0.6, 0.4]]  # workload 8 on sites 0, 1, 2
    y[:, 5:9] = [[0.5, 0.5, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]  # workload 10: two pools at 0, two at 1
    weight = np.array([0.75, 0.25])
    got = agree(d, copies, weight)
    assert got["z"].tolist() == [6.0, 2.0, 1.0]  # 2.4 rounds to the nearest hall
    # weighted shares: workload 0 (0.725, 0.275); 8 (0, 0.15, 0.85); 10 (0.375, 0.375, 0, 0.25)
    assert got["y"].tolist() == [1, 0, 0, 0, 1, 1, 0, 0, 0]
    assert agree(d, copies, weight, up=True)["z"].tolist() == [6.0, 3.0, 1.0]  # the fallback: rounded up
    copies[:, 1] = [0.0, 0.4]  # below one hall: one hall
    assert agree(d, copies, weight)["z"][1] == 1.0
    copies[:, 1] = 0.0  # no day lights site 1, but a day runs workload 8 there: lit
    y[:, 2:5] = [[0.0, 0.0, 1.0], [0.0, 1e-3, 1.0 - 1e-3]]
    assert agree(d, copies, weight)["z"][1] == 1.0
    y[:, 2:5] = [[0.0, 0.0, 1.0], [0.0, 0.0, 1.0]]
    y[:, 0:2] = [[0.0, 1.0], [0.0, 1.0]]
    y[:, 5:9] = [[1.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0]]
    assert agree(d, copies, weight)["z"][1] == 0.0  # nothing anywhere: dark


def test_a_day_the_agreed_halls_cannot_dispatch_raises_them(fleet, monkeypatch):
    real = typical_byday.agree
    asked: list[bool] = []

    def dark_first(d: Any, copies: Any, weight: Any, *, up: bool = False) -> dict[str, Any]:
        asked.append(up)
        got = real(d, copies, weight, up=up)
        if not up:  # must-serve workload 0 placed on site 1, whose halls are all off: no day dispatches
            got["z"][1] = 0.0
            got["y"][:2] = [1.0, 0.0]
        return got

    monkeypatch.setattr(typical_byday, "agree", dark_first)
    res = computeplan.solve(fleet, typical_days=2, typical_solver=by_day())
    assert asked == [False, True]
    by = res.extra["by_day"]
    assert by["tried"] == ["agreed from the days' copies", "raised to the most any day lights"]
    assert by["halls"] == "raised to the most any day lights" and by["halls"] in res.method
    assert computeplan.verify(fleet, res) == []


def test_auto_keeps_a_small_typical_model_one_milp(fleet):
    d = build_data(typical_instance(fleet, *choose_days(fleet, 2)))
    assert not wants_by_day(d, "auto") and wants_by_day(d, "days") and not wants_by_day(d, "milp")
    res = computeplan.solve(fleet, typical_days=2, typical_solver=typical_solver("auto", workers=0))
    assert res.status == "optimal" and "by day" not in res.method
    assert typical_solver("milp") is None
    with pytest.raises(computeplan.errors.UsageError, match="--typical-solve"):
        typical_solver("both")


def test_typical_solve_days_from_the_command_line(fleet, tmp_path: Path):
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(generate_instance(12, 3, seed=4, hours=24 * 4), sort_keys=False))
    out = CliRunner().invoke(app, ["solve", str(path), "--typical-days", "2", "--typical-solve", "days",
                                   "--workers", "1", "--json", "--out", str(tmp_path / "out")])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["method"].startswith("typical days by day") and doc["by_day"]["workers"] == 1
    assert computeplan.verify(computeplan.load_instance(path), computeplan.Result.read(tmp_path / "out")) == []
    bad = CliRunner().invoke(app, ["solve", str(path), "--typical-days", "2", "--typical-solve", "both"])
    assert bad.exit_code == 2 and "--typical-solve" in bad.output


def test_more_typical_days_than_the_halls_milp_takes_get_its_halls(tmp_path: Path):
    """With more typical days than MILP_DAYS, the halls and placements come from the one
    MILP on 4 of them, each standing for its days' weights; the plan is verified and no
    better than the MILP of all the typical days."""
    inst = computeplan.load_instance(generate_instance(12, 3, seed=4, hours=24 * 8))
    res = computeplan.solve(inst, typical_days=6, typical_solver=by_day())
    by = res.extra["by_day"]
    assert by["halls"] == "from the MILP on 4 of the typical days" and by["tried"] == [by["halls"]]
    assert len(by["milp"]["days"]) == 4 and sum(by["milp"]["weights"]) == pytest.approx(8.0)
    assert computeplan.verify(inst, res) == []
    milp = computeplan.solve(inst, typical_days=6)
    assert res.objective_value >= milp.objective_value * (1 - 1e-9) and res.bound <= milp.objective_value * (1 + 1e-9)


def test_days_chosen_with_weights_stand_for_their_weights(fleet):
    from computeplan.plan.typical import choose_days as choose

    assert choose(fleet, 2) == ([1, 3], [3, 1])  # day 1 stands for days 0, 1 and 2; day 3 for itself
    # the same days, each standing for its days' weights summed: 3 + 1 + 2 and 5
    assert choose(fleet, 2, day_weight=[3.0, 1.0, 2.0, 5.0]) == ([1, 3], [6.0, 5.0])
