"""Options, data location and the end-of-run comparison table of the GAP benchmarks.

The public GAP files are looked up in ``<repo>/../shared/benchdata/gap`` (the sibling of
the project root) or under ``$COMPUTEPLAN_SHARED/benchdata/gap``; every benchmark that
needs them skips when they are absent.

Options::

    --gap-time SECONDS     time limit per Yagiura instance and method (default 10)
    --gap-large            also the large C, D and E instances (400 to 1600 jobs)
    --gap-instances LIST   comma-separated instance names, e.g. d05100,e10200
    --gap-seed N           seed of the heuristic (default 0)
    --gap-summary PATH     also write the comparison table as CSV
"""

from __future__ import annotations

import csv
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

DE_SMALL = [f"{t}{m:02d}{n}" for t in "de" for n in (100, 200) for m in (5, 10, 20)]
C_SMALL = [f"c{m:02d}{n}" for n in (100, 200) for m in (5, 10, 20)]
C_LARGE = ["c10400", "c20400", "c40400", "c15900", "c30900", "c60900", "c201600", "c401600", "c801600"]
DE_LARGE = [f"{t}{s}" for t in "de" for s in ("40400", "30900", "60900", "201600", "401600", "801600")]


def gap_dir() -> Path:
    shared = os.environ.get("COMPUTEPLAN_SHARED")
    root = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return root / "benchdata" / "gap"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("computeplan GAP benchmarks")
    group.addoption("--gap-time", type=float, default=10.0,
                    help="time limit per Yagiura instance and method, seconds (default 10)")
    group.addoption("--gap-large", action="store_true", default=False,
                    help="also run the large C, D and E instances (400 to 1600 jobs)")
    group.addoption("--gap-instances", default=None,
                    help="comma-separated Yagiura instance names to run (default: D, E and C up to 200 jobs)")
    group.addoption("--gap-seed", type=int, default=0, help="seed of the heuristic (default 0)")
    group.addoption("--gap-summary", default=None, help="write the heuristic-vs-MILP table to this CSV file")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "yagiura_case" in metafunc.fixturenames:
        config = metafunc.config
        chosen = config.getoption("--gap-instances")
        if chosen:
            names = [s.strip() for s in chosen.split(",") if s.strip()]
        else:
            names = DE_SMALL + C_SMALL + (C_LARGE + DE_LARGE if config.getoption("--gap-large") else [])
        cases = [(name, method) for name in names for method in ("heuristic", "milp")]
        metafunc.parametrize("yagiura_case", cases, ids=[f"{n}-{m}" for n, m in cases])


@pytest.fixture(scope="session")
def gap_data() -> Path:
    d = gap_dir()
    if not (d / "reference.csv").is_file():
        pytest.skip(f"GAP benchmark data not found at {d}")
    return d


@pytest.fixture(scope="session")
def gap_reference(gap_data: Path) -> dict[tuple[str, int, str], dict[str, str]]:
    """(file, problem, sense) -> the reference.csv row."""
    with open(gap_data / "reference.csv", newline="") as fh:
        return {(r["file"], int(r["problem"]), r["sense"]): r for r in csv.DictReader(fh)}


@pytest.fixture(scope="session")
def gap_time(request: pytest.FixtureRequest) -> float:
    return float(request.config.getoption("--gap-time"))


@pytest.fixture(scope="session")
def gap_seed(request: pytest.FixtureRequest) -> int:
    return int(request.config.getoption("--gap-seed"))


@dataclass
class GapReport:
    """Rows collected by the Yagiura benchmarks, printed as a table at the end."""

    time_limit: float = 10.0
    rows: list[dict[str, Any]] = field(default_factory=list)


_REPORT = GapReport()


@pytest.fixture(scope="session")
def gap_report(gap_time: float) -> GapReport:
    _REPORT.time_limit = gap_time
    return _REPORT


def _fmt(x: Any, spec: str) -> str:
    return format(x, spec) if isinstance(x, float) and math.isfinite(x) else "-"


# the summary's groups: type and number of jobs (the name's digits after the agents)
_SIZES = (("100-200", ("100", "200")), ("400", ("400",)), ("900", ("900",)), ("1600", ("1600",)))
_GROUPS = [(f"{t.upper()} {label}", t, sizes) for t in "cde" for label, sizes in _SIZES] + [
    (f"{t.upper()} all", t, ()) for t in "cde"] + [("all", "", ())]


def _stats(pairs: list[tuple[dict[str, Any], dict[str, Any]]], k: int) -> str:
    """Mean and worst gap to the reference over one method's runs of a group, and how many
    ended feasible."""
    gaps = [p[k]["gap_to_reference_pct"] for p in pairs
            if p[k] and math.isfinite(p[k]["gap_to_reference_pct"])]
    mean = sum(gaps) / len(gaps) if gaps else math.nan
    worst = max(gaps) if gaps else math.nan
    return f"mean {mean:7.3f} % worst {worst:7.3f} % ({len(gaps)}/{len(pairs)} feasible)"


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    rows = _REPORT.rows
    if not rows:
        return
    by: dict[str, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["instance"], {})[r["method"]] = r
    tr = terminalreporter
    tr.section(f"GAP: computeplan heuristic vs HiGHS MILP alone ({_REPORT.time_limit:g} s each)")
    tr.write_line(f"{'instance':<9} {'reference':>9} | {'heuristic':>9} {'gap %':>7} {'s':>5} | "
                  f"{'HiGHS':>9} {'gap %':>7} {'s':>5}")
    table = []
    for name, methods in by.items():
        h, g = methods.get("heuristic", {}), methods.get("milp", {})
        ref = (h or g)["reference"]
        tr.write_line(
            f"{name:<9} {ref:>9.0f} | {_fmt(h.get('objective'), '9.0f'):>9} "
            f"{_fmt(h.get('gap_to_reference_pct'), '7.3f'):>7} {_fmt(h.get('seconds'), '5.1f'):>5} | "
            f"{_fmt(g.get('objective'), '9.0f'):>9} {_fmt(g.get('gap_to_reference_pct'), '7.3f'):>7} "
            f"{_fmt(g.get('seconds'), '5.1f'):>5}"
        )
        table.append((name, ref, h, g))
    for label, prefix, sizes in _GROUPS:
        sel = [(h, g) for name, _ref, h, g in table
               if name.startswith(prefix) and (not sizes or name[3:] in sizes)]
        if not sel:
            continue
        tr.write_line(f"{label:<14} heuristic {_stats(sel, 0)} | HiGHS {_stats(sel, 1)}")
    path = config.getoption("--gap-summary")
    if path:
        keys = ["instance", "method", "reference", "objective", "gap_to_reference_pct", "bound",
                "gap_pct", "status", "feasible", "seconds", "lagrangian_bound", "lp_bound"]
        with open(path, "w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
            w.writeheader()
            w.writerows(rows)
