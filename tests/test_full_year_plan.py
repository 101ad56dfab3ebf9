"""The year's plan of a typical-days result (FORMULATION.md section 10, "Representative
periods"): kept as a time result over the full instance (``Result.full_year_plan``),
written to ``full-year/`` with the result, read back, and checked by ``verify``: every
figure of the year recomputed, its strategic decisions held to the aggregated plan's, and
``time.full_year`` recomputed from it. Each tampered figure is named."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from support import ENGINE
from test_typical_days import four_days, peak_day, small_fleet
from typer.testing import CliRunner

import computeplan
from computeplan.cli import app
from computeplan.plan.typical import full_year


def approx(v: float, rel: float = 1e-9) -> Any:
    return pytest.approx(v, rel=rel, abs=1e-9)


def rejected(inst: Any, d: dict[str, Any], year: dict[str, Any] | None, *words: str) -> list[str]:
    bad = computeplan.verify(inst, d, year)
    assert bad, "the tampered result was accepted"
    for w in words:
        assert any(w in b for b in bad), f"{w!r} not in {bad}"
    return bad


@pytest.fixture(scope="module")
def fleet() -> tuple[computeplan.Instance, computeplan.Result]:
    """The 4-day generated fleet with an annual target, on one typical day (weight 4)."""
    raw = small_fleet(4)
    raw["targets"] = {"fleet_pue_max": 2.0}
    inst = computeplan.load_instance(raw)
    res = computeplan.solve(inst, typical_days=1)
    assert res.full_year_plan is not None and res.full_year is not None
    assert computeplan.verify(inst, res) == []
    return inst, res


def test_the_year_plan_of_four_days_is_the_hand_worked_one(tmp_path):
    """four_days: every day runs the job at twice its demand (20 kW) in the 12 cheapest
    hours (0-11) and not at all in hours 12-23; 240 kWh a day, 960 kWh over the four
    days, cost 2 x 36 + 2 x 72 = 216; peak 20 kW, first in period 0."""
    inst = computeplan.load_instance(four_days())
    res = computeplan.solve(inst, typical_days=2)
    year = res.full_year_plan
    assert year is not None and year.status == "optimal"
    assert year.objective_value == approx(216.0) and res.full_year["objective"] == approx(216.0)
    assert year.indicators["energy_kwh"] == approx(960.0) and year.indicators["cost"] == approx(216.0)
    assert year.extra["time"]["periods"] == 96 and year.typical_days is None and year.full_year is None
    run = year.dispatch.groupby("period")["share"].sum()
    assert sorted(run.index[run > 1e-9]) == [24 * d + h for d in range(4) for h in range(12)]
    assert run[run > 1e-9].tolist() == [approx(2.0)] * 48
    assert year.site_records[0]["peak_facility_kw"] == approx(20.0) and year.site_records[0]["peak_period"] == 0
    assert len(year.periods) == 96 and year.periods["weight"].eq(1).all()
    assert year.served["served_tflops"].sum() == approx(960.0)  # TFLOPS-hours over 96 one-hour periods
    assert computeplan.verify(inst, res) == []
    # the plan written and read back is the same plan, from Parquet or CSV
    for kind in ("parquet", "csv"):
        res.write(tmp_path, (kind,))
        back = computeplan.Result.read(tmp_path)
        assert back.full_year_plan is not None
        pd.testing.assert_frame_equal(back.full_year_plan.dispatch, year.dispatch)
        assert back.full_year_plan.to_dict() == year.to_dict()
        assert computeplan.verify(inst, back) == []
    assert computeplan.Result.read(tmp_path, full_year=False).full_year_plan is None


@pytest.mark.parametrize(("change", "figure"), [
    (lambda fy: fy.update(objective=fy["objective"] * 1.01), "time.full_year.objective"),
    (lambda fy: fy["targets"][0].update(value=fy["targets"][0]["value"] + 0.1),
     "time.full_year.targets[fleet_pue_max].value"),
    (lambda fy: fy["targets"][0].update(met=False), "time.full_year.targets[fleet_pue_max].met"),
    (lambda fy: fy.update(failed=["fleet_pue_max"]), "time.full_year.failed"),
    (lambda fy: fy.update(targets_met=False), "time.full_year.targets_met"),
    (lambda fy: fy.update(gap=fy["gap"] + 0.01), "time.full_year.gap"),
    (lambda fy: fy.update(status="feasible"), "time.full_year.status"),
    (lambda fy: fy.update(targets=[]), "time.full_year.targets[fleet_pue_max]: missing"),
])
def test_a_tampered_full_year_figure_is_named(fleet, change, figure):
    inst, res = fleet
    d = res.to_dict()
    change(d["time"]["full_year"])
    bad = rejected(inst, d, res.full_year_plan.to_dict(), figure)
    assert not any(b.startswith("full-year/") for b in bad), bad  # the year's plan itself is sound


@pytest.mark.parametrize(("change", "figure"), [
    (lambda y: y["objective"].update(value=y["objective"]["value"] * 1.01), "full-year/objective.value"),
    (lambda y: y["sites"][0].update(energy_kwh=y["sites"][0]["energy_kwh"] * 1.01),
     "full-year/sites[hy-00000].energy_kwh"),
    (lambda y: y["targets"][0].update(value=1.0), "full-year/targets[fleet_pue_max].value"),
    # one more server powered in one period: more idle power, more energy over the year
    (lambda y: y["time"]["servers_on"]["servers"].__setitem__(0, y["time"]["servers_on"]["servers"][0] + 1.0),
     "full-year/indicators.energy_kwh"),
    # a share of a period cut: that period's balance no longer holds
    (lambda y: y["time"]["dispatch"]["share"].__setitem__(0, 0.5 * y["time"]["dispatch"]["share"][0]),
     "full-year/workload "),
    # the year's plan of another objective, its figures worked out in that objective
    (lambda y: y["objective"].update(name="cost"), "full-year/objective.name: 'cost'"),
])
def test_a_tampered_figure_of_the_year_plan_is_named(fleet, change, figure):
    inst, res = fleet
    year = res.full_year_plan.to_dict()
    change(year)
    rejected(inst, res.to_dict(), year, figure)


def other_year(inst: computeplan.Instance, res: computeplan.Result, **blocks: np.ndarray) -> dict[str, Any]:
    """A year's plan dispatched with other strategic decisions: a sound plan by itself."""
    other = copy.copy(res)
    other.blocks = {**res.blocks, **blocks}
    fy = res.full_year
    out, plan = full_year(inst, other, [r["day"] for r in fy["days"]], [r["weight"] for r in fy["days"]])
    assert plan is not None and out["status"] == "optimal"
    return plan.to_dict()


def test_a_year_plan_with_other_halls_is_named(fleet):
    inst, res = fleet
    z = res.blocks["z"].copy()
    assert [s["active_halls"] for s in res.site_records] == [6, 1, 1] and z[1] == 1.0
    z[1] = 2.0  # mi-00001 may idle its halls: a second one on is a plan too, a dearer one
    year = other_year(inst, res, z=z)
    bad = rejected(inst, res.to_dict(), year, "full-year/sites[mi-00001].active_halls", "time.full_year.objective")
    assert [b for b in bad if b.startswith("full-year/")] == [
        "full-year/sites[mi-00001].active_halls: 2 over the year, the typical days' plan has 1 (the halls are fixed)"]


def test_a_year_plan_with_another_placement_of_indivisible_work_is_named(fleet):
    from computeplan.model.data import build_data

    inst, res = fleet
    d = build_data(inst)
    y = res.blocks["y"].copy()
    wl = d.cand_wl[d.y_cand]
    k = int(np.flatnonzero((wl == wl[0]) & (y == 0))[0])  # the first workload's other pool
    y[wl == wl[0]] = 0.0
    y[k] = 1.0
    year = other_year(inst, res, y=y)
    wid = d.workload_ids[int(wl[0])]
    bad = rejected(inst, res.to_dict(), year, f"full-year/assignments[{wid}]: the non-divisible workload runs on")
    assert [b for b in bad if b.startswith("full-year/")] == [b for b in bad if f"assignments[{wid}]" in b]


@pytest.fixture(scope="module")
def build_fleet() -> tuple[computeplan.Instance, computeplan.Result]:
    """The 4-day generated fleet with build options (it builds servers), on one typical day."""
    from computeplan.io.generate import generate_instance

    inst = computeplan.load_instance(generate_instance(12, 3, seed=4, hours=96, build=True))
    res = computeplan.solve(inst, typical_days=1)
    assert computeplan.verify(inst, res) == []
    return inst, res


def test_a_year_plan_with_other_builds_is_named(build_fleet):
    inst, res = build_fleet
    m = res.blocks["m"].copy()
    built = int(np.flatnonzero(m > 0)[0])
    m[built] += 10.0  # ten more servers of the same pool: room the plan need not use
    year = other_year(inst, res, m=m)
    pool = next(f"{r['site']}/{r['hardware']}" for r in res.extra["build"]["servers"] if r["new_servers"] > 0)
    bad = rejected(inst, res.to_dict(), year, f"full-year/build.servers[{pool}].new_servers")
    assert [b for b in bad if b.startswith("full-year/")] == [
        b for b in bad if b.startswith(f"full-year/build.servers[{pool}]")]


@pytest.mark.parametrize(("change", "figure"), [
    (lambda y: y["build"]["halls"][0].update(new_halls=1), "full-year/build.halls[hy-00000].new_halls"),
    (lambda y: y["build"]["sites_opened"].append({"site": "cand-00", "capex_per_year": 0.0, "workloads": []}),
     "full-year/build.sites_opened: ['cand-00'] over the year, the typical days' plan opens []"),
])
def test_a_tampered_build_of_the_year_plan_is_named(build_fleet, change, figure):
    inst, res = build_fleet
    assert res.extra["build"]["halls"][0] == {**res.extra["build"]["halls"][0], "site": "hy-00000", "new_halls": 0}
    assert res.extra["build"]["sites_opened"] == []
    year = res.full_year_plan.to_dict()
    change(year)
    rejected(inst, res.to_dict(), year, figure)


def test_a_missing_year_plan_is_named(fleet):
    inst, res = fleet
    rejected(inst, res.to_dict(), None, "full-year: the year's plan is missing")


def test_a_year_plan_beside_a_result_over_every_period_is_named(fleet):
    inst, res = fleet
    plain = computeplan.solve(inst)
    assert computeplan.verify(inst, plain) == []
    rejected(inst, plain.to_dict(), res.full_year_plan.to_dict(),
             "full-year: a year's plan is given, yet the result is not on typical days")


def write_and_solve(raw: dict[str, Any], tmp_path: Path, *args: str) -> tuple[Path, Path]:
    path = tmp_path / "inst.yaml"
    path.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    run = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), "-q", *args])
    assert run.exit_code == 0, run.output
    return path, out


def cli_verify(path: Path, out: Path) -> Any:
    return CliRunner().invoke(app, ["verify", str(path), str(out)])


def test_the_written_year_is_verified_from_its_files(tmp_path):
    path, out = write_and_solve(four_days(), tmp_path, "--typical-days", "2", "--tables", "parquet")
    names = sorted(p.name for p in (out / "full-year").iterdir())
    assert names == sorted(["result.json", "dispatch.parquet", "servers_on.parquet", "periods.parquet",
                            "served.parquet", "sites.parquet", "pools.parquet", "assignments.parquet",
                            "targets.parquet"])
    # the plan per period is in the tables, not inline in the year's result.json
    assert "dispatch" not in json.loads((out / "full-year" / "result.json").read_text())["time"]
    ok = cli_verify(path, out)
    assert ok.exit_code == 0, ok.output

    # a per-period figure in the year's table: one hour of the job moved to a dearer hour
    f = out / "full-year" / "dispatch.parquet"
    disp = pd.read_parquet(f)
    disp.loc[disp["period"] == 0, "period"] = 12
    disp.to_parquet(f, index=False)
    bad = cli_verify(path, out)
    assert bad.exit_code == 1 and "full-year/indicators.cost" in bad.output and "Traceback" not in bad.output

    # the year's plan missing
    import shutil

    shutil.rmtree(out / "full-year")
    bad = cli_verify(path, out)
    assert bad.exit_code == 1 and "full-year: the year's plan is missing" in bad.output


def test_a_year_table_that_cannot_be_read_is_named_with_its_line(tmp_path):
    path, out = write_and_solve(four_days(), tmp_path, "--typical-days", "2", "--tables", "csv")
    f = out / "full-year" / "dispatch.csv"
    lines = f.read_text().splitlines()
    lines[1] = ",".join([*lines[1].split(",")[:-1], "lots"])
    f.write_text("\n".join(lines) + "\n")
    bad = cli_verify(path, out)
    assert bad.exit_code == 1 and "full-year/dispatch.csv: line 2: share: expected a finite number, found 'lots'" \
        in " ".join(bad.output.split())


def test_without_tables_the_year_plan_stays_inline_and_the_set_is_replaced_whole(tmp_path):
    path, out = write_and_solve(four_days(), tmp_path, "--typical-days", "2", "--tables", "none")
    assert sorted(p.name for p in (out / "full-year").iterdir()) == ["result.json"]
    year = json.loads((out / "full-year" / "result.json").read_text())
    assert len(year["time"]["dispatch"]["period"]) == 48  # 12 hours of each of the four days
    assert cli_verify(path, out).exit_code == 0
    # a solve over every period into the same folder leaves no year's plan of the earlier one
    run = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), "-q"])
    assert run.exit_code == 0, run.output
    assert not (out / "full-year").exists() and cli_verify(path, out).exit_code == 0


def test_a_year_that_could_not_be_dispatched_writes_no_plan_and_verifies(tmp_path):
    path, out = write_and_solve(peak_day(), tmp_path, "--typical-days", "1")
    d = json.loads((out / "result.json").read_text())
    assert d["time"]["full_year"]["status"] == "infeasible" and not (out / "full-year").exists()
    assert cli_verify(path, out).exit_code == 0
    # a year's plan where the year could not be dispatched is not the result's
    inst = computeplan.load_instance(path)
    plan = computeplan.solve(inst)
    rejected(inst, d, plan.to_dict(), "full-year: a year's plan is given, yet time.full_year reports no objective")


def test_verify_reads_the_year_without_the_engine(tmp_path):
    path, out = write_and_solve(four_days(), tmp_path, "--typical-days", "2", "--tables", "parquet")
    code = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from computeplan.io.loader import load_instance\n"
        "from computeplan.io.results import read_result_folder\n"
        "from computeplan.plan.verify import verify\n"
        f"out = Path({str(out)!r})\n"
        "year, bad = read_result_folder(out / 'full-year')\n"
        f"bad += verify(load_instance({str(path)!r}), json.loads((out / 'result.json').read_text()), year)\n"
        f"engine = [m for m in sys.modules if m.startswith({ENGINE!r})]\n"
        "print(json.dumps([bad, engine, len(year['time']['dispatch']['period'])]))\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    bad, engine, rows = json.loads(run.stdout)
    assert bad == [] and engine == [] and rows == 48


def test_a_year_plan_that_fails_the_check_is_refused_by_solve():
    """A dispatcher that serves half of the job: the year's plan fails the independent
    check, as a solve's own plan would (with check=False it is returned, and verify names it)."""
    from computeplan.model.layout import plan_layout
    from computeplan.plan.typical import Dispatch, dispatch_fixed

    def halved(d: Any, fixed: Any, options: Any) -> Dispatch:
        got = dispatch_fixed(d, fixed, options)
        assert got.v is not None
        got.v = got.v.copy()
        got.v[plan_layout(d)["x"]] *= 0.5
        return got

    inst = computeplan.load_instance(four_days())
    with pytest.raises(computeplan.SolverError, match="full-year dispatch's plan fails the independent check"):
        computeplan.solve(inst, typical_days=2, dispatcher=halved)
    res = computeplan.solve(inst, typical_days=2, dispatcher=halved, check=False)
    rejected(inst, res.to_dict(), res.full_year_plan.to_dict(), "full-year/workload job: window 0")
