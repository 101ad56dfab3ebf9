"""What a command loads: ``--help`` nothing heavy; ``solve`` no plotting, no Numba for an
LP, and pandas only when it writes Parquet tables. Checked in a fresh interpreter by
listing ``sys.modules`` after the command ran (not by timing it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TWO_SITES = ROOT / "instances" / "teaching" / "two-sites.yaml"

_CHILD = """
import json, sys
from computeplan.cli import main
try:
    main(sys.argv[1:])
except SystemExit as e:
    code = e.code
else:
    code = 0
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def loaded(*args: str) -> set[str]:
    """Top-level packages loaded by ``computeplan ARGS`` run in a fresh interpreter."""
    p = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, timeout=300)
    doc = json.loads(p.stderr.strip().splitlines()[-1])
    assert doc["code"] in (0, None), p.stderr[-2000:]
    return {m.split(".")[0] for m in doc["modules"]}


HEAVY = {"pandas", "pyarrow", "matplotlib", "numba", "dask", "distributed", "pulp"}


def test_help_loads_nothing_heavy():
    mods = loaded("--help")
    assert not mods & (HEAVY | {"numpy", "scipy", "highspy", "pydantic", "yaml"}), sorted(mods & HEAVY)


@pytest.mark.parametrize("tables", ["csv", "none"])
def test_solve_lp_loads_no_pandas_plotting_or_numba(tmp_path, tables):
    mods = loaded("solve", str(TWO_SITES), "-q", "--out", str(tmp_path / "out"), "--tables", tables)
    assert "highspy" in mods  # it did solve
    assert not mods & HEAVY, sorted(mods & HEAVY)
    assert (tmp_path / "out" / "result.json").exists()
    assert (tmp_path / "out" / "assignments.csv").exists() == (tables == "csv")


def test_parquet_tables_load_pandas(tmp_path):
    mods = loaded("solve", str(TWO_SITES), "-q", "--out", str(tmp_path / "out"), "--tables", "parquet")
    assert "pandas" in mods and not mods & {"matplotlib", "numba"}
    assert (tmp_path / "out" / "assignments.parquet").exists()


def test_csv_tables_read_back_as_pandas_writes_them(tmp_path):
    import pandas as pd

    from computeplan import load_instance, solve

    res = solve(load_instance(TWO_SITES))
    res.write(tmp_path, ("csv",))
    for name in ("sites", "pools", "assignments", "targets"):
        mine = pd.read_csv(tmp_path / f"{name}.csv")
        theirs = pd.read_csv(__import__("io").StringIO(getattr(res, name).to_csv(index=False)))
        pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)


def test_reading_parquet_tables_loads_no_pandas(tmp_path):
    from computeplan.io.generate import generate_instance, write_instance

    path = write_instance(generate_instance(60, 6, seed=1), tmp_path / "fleet", tables="parquet")
    mods = loaded("solve", str(path), "-q", "--out", str(tmp_path / "out"), "--tables", "none")
    assert {"pyarrow", "highspy"} <= mods  # it read the tables and solved
    assert not mods & {"pandas", "matplotlib", "numba", "dask", "pulp"}, sorted(mods & HEAVY)
