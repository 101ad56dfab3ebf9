"""``verify`` checks a time result's per-period tables (``periods``, ``served``) row by
row against the figures recomputed from the plan per period and the instance: a tampered
figure, a dropped row or an extra row is named, in Python and through ``computeplan
verify`` on the written files (Parquet and CSV).

The figures are the hot-afternoon teaching instance's, worked by hand in its header:
facility power 120, 135, 150, 150 kW, PUE 1.2, 1.35, 1.5, 1.5, IT 100 kW and 100 TFLOPS
of class ``general`` served and demanded in each of its four periods."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from test_full_year_plan import write_and_solve
from test_typical_days import four_days
from typer.testing import CliRunner

import computeplan
from computeplan.cli import app

TEACHING = Path(__file__).resolve().parent.parent / "instances" / "teaching"
HOT = TEACHING / "hot-afternoon.yaml"


@pytest.fixture(scope="module")
def hot() -> tuple[Any, computeplan.Result]:
    inst = computeplan.load_instance(HOT)
    return inst, computeplan.solve(inst)


def tampered(res: computeplan.Result, table: str, change: Any) -> computeplan.Result:
    out = copy.copy(res)
    out.tables = {k: v.copy() for k, v in res.tables.items()}
    out.tables[table] = change(out.tables[table])
    return out


def rejected(inst: Any, res: Any, *words: str) -> list[str]:
    bad = computeplan.verify(inst, res)
    assert bad, "the tampered tables were accepted"
    for w in words:
        assert any(w in b for b in bad), f"{w!r} not in {bad}"
    return bad


def set_cell(table: str, row: int, col: str, val: Any) -> Any:
    def change(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, col] = val
        return df
    return table, change


def test_the_tables_hold_the_hand_worked_figures_and_pass(hot):
    inst, res = hot
    per = res.periods
    assert per["facility_kw"].tolist() == pytest.approx([120, 135, 150, 150])
    assert per["pue"].tolist() == pytest.approx([1.2, 1.35, 1.5, 1.5])
    assert res.served["served_tflops"].tolist() == pytest.approx([100] * 4)
    assert computeplan.verify(inst, res) == []
    assert computeplan.verify(inst, res.to_dict(), tables=res.tables) == []


@pytest.mark.parametrize(("col", "val", "words"), [
    ("it_kw", 90.0, "period 1: it_kw reported 90.0, recomputed 100.0"),
    ("facility_kw", 120.0, "period 1: facility_kw reported 120.0, recomputed 135.0"),
    ("pue", 1.2, "period 1: pue reported 1.2, recomputed 1.35"),
    ("temperature_c", 20.0, "period 1: temperature_c reported 20.0, recomputed 30.0"),
    ("price_per_kwh", 0.4, "period 1: price_per_kwh reported 0.4, recomputed 0.5"),
    ("carbon_kg_per_kwh", 0.1, "period 1: carbon_kg_per_kwh reported 0.1, recomputed 0.5"),
])
def test_a_tampered_site_figure_is_named(hot, col, val, words):
    inst, res = hot
    rejected(inst, tampered(res, *set_cell("periods", 1, col, val)), f"periods: site s1, {words}")


@pytest.mark.parametrize(("col", "words"), [
    ("served_tflops", "served: class general, period 2: served_tflops reported 90.0, recomputed 100.0"),
    ("demand_tflops", "served: class general, period 2: demand_tflops reported 90.0, recomputed 100.0"),
])
def test_a_tampered_class_figure_is_named(hot, col, words):
    inst, res = hot
    rejected(inst, tampered(res, *set_cell("served", 2, col, 90.0)), words)


def test_a_period_with_another_datetime_or_none_is_named(hot):
    inst, res = hot
    assert list(res.periods["datetime"]) == [p for p in inst.time.periods["datetime"]]
    rejected(inst, tampered(res, *set_cell("periods", 2, "datetime", "2025-07-15T09:00")),
             "periods: site s1, period 2: datetime reported '2025-07-15T09:00', the instance's is")
    rejected(inst, tampered(res, "periods", lambda df: df.drop(columns="datetime")),
             "periods: missing the columns datetime")


def test_a_dropped_row_an_extra_row_and_a_missing_table_are_named(hot):
    inst, res = hot
    rejected(inst, tampered(res, "periods", lambda df: df.drop(index=3)), "periods: site s1, period 3: row missing")
    rejected(inst, tampered(res, "served", lambda df: pd.concat([df, df.iloc[[0]].assign(period=4)])),
             "served: class general, period 4: extra row")
    rejected(inst, tampered(res, "served", lambda df: pd.concat([df, df.iloc[[0]]])),
             "served: class general, period 0: listed twice")
    rejected(inst, tampered(res, "periods", lambda df: df.assign(site="s9")),
             "periods: site s9, period 0: extra row", "periods: site s1, period 0: row missing")
    short = copy.copy(res)
    short.tables = {"periods": res.tables["periods"]}
    rejected(inst, short, "served: table missing")


def test_a_result_without_its_tables_is_not_checked_on_them(hot):
    inst, res = hot
    bare = copy.copy(res)
    bare.tables = {}
    assert computeplan.verify(inst, bare) == []


def read(file: Path) -> pd.DataFrame:
    return pd.read_parquet(file) if file.suffix == ".parquet" else pd.read_csv(file)


def write(df: pd.DataFrame, file: Path) -> None:
    if file.suffix == ".parquet":
        df.to_parquet(file, index=False)
    else:
        df.to_csv(file, index=False)


@pytest.mark.parametrize("kind", ["parquet", "csv"])
def test_the_cli_names_a_tampered_figure_in_the_written_tables(tmp_path, kind):
    path, out = write_and_solve(yaml.safe_load(HOT.read_text()), tmp_path, "--tables", kind)
    ok = CliRunner().invoke(app, ["verify", str(path), str(out)])
    assert ok.exit_code == 0, ok.output
    file = out / f"periods.{kind}"
    df = read(file)
    df.loc[2, "facility_kw"] = 120.0
    write(df, file)
    served = out / f"served.{kind}"
    write(read(served).iloc[:3], served)
    run = CliRunner().invoke(app, ["verify", str(path), str(out)])
    assert run.exit_code == 1
    text = " ".join(run.output.split())
    assert f"periods.{kind}: site s1, period 2: facility_kw reported 120.0, recomputed 150.0" in text
    assert f"served.{kind}: class general, period 3: row missing" in text


def test_the_cli_accepts_a_result_written_without_tables(tmp_path):
    path, out = write_and_solve(yaml.safe_load(HOT.read_text()), tmp_path, "--tables", "none")
    assert not list(out.glob("periods.*"))
    run = CliRunner().invoke(app, ["verify", str(path), str(out)])
    assert run.exit_code == 0, run.output


def test_the_year_plan_tables_are_checked_too(tmp_path):
    path, out = write_and_solve(four_days(), tmp_path, "--typical-days", "2", "--tables", "parquet")
    inst = computeplan.load_instance(path)
    res = computeplan.Result.read(out)
    assert res.full_year_plan is not None and not res.full_year_plan.periods.empty
    assert computeplan.verify(inst, res) == []
    file = out / "full-year" / "served.parquet"
    df = read(file)
    was = float(df.loc[5, "demand_tflops"])
    df.loc[5, "demand_tflops"] = was + 7.0
    write(df, file)
    row = f"class {df.loc[5, 'class']}, period {df.loc[5, 'period']}: demand_tflops reported {was + 7.0}"
    rejected(inst, computeplan.Result.read(out), f"full-year/served: {row}")
    run = CliRunner().invoke(app, ["verify", str(path), str(out)])
    assert run.exit_code == 1
    assert f"full-year/served.parquet: {row}" in " ".join(run.output.split())
