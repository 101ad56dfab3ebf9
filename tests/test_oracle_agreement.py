"""The engine against the independent reference model (``tests/oracle``).

For every instance in ``tests/oracle/instances``: same status, same objective
and same indicators (1e-5 relative, 1e-6 absolute near zero), and a plan that
``computeplan.verify`` accepts. The instances are built so that every
indicator is unique over the optimal face (``python -m tests.oracle.check_instances``),
so two correct solvers must agree on them. A few instances also run with CBC.
"""

from __future__ import annotations

import copy
import functools
import math
import warnings
from pathlib import Path
from typing import Any

import pytest

computeplan = pytest.importorskip("computeplan")

try:  # tests/ is not a package: pytest puts it on sys.path
    from oracle.cases import EDGE_CASES
    from oracle.manifest import EXPECTED
    from oracle.reference import INDICATORS, load_yaml, solve_reference
except ImportError:  # pragma: no cover - run from the project root as a package
    from tests.oracle.cases import EDGE_CASES
    from tests.oracle.manifest import EXPECTED
    from tests.oracle.reference import INDICATORS, load_yaml, solve_reference

INSTANCES = Path(__file__).parent / "oracle" / "instances"
PATHS = sorted(INSTANCES.glob("*.yaml"))
CBC_PATHS = [p for p in PATHS if EXPECTED.get(p.stem, {}).get("cbc")]
REL, ABS = 1e-5, 1e-6


def _id(path: Path) -> str:
    return path.stem


@functools.cache
def reference(path: Path) -> dict[str, Any]:
    ref = solve_reference(load_yaml(path), path.parent)
    if ref["status"] is None:
        pytest.skip(f"{path.stem}: optional work without unserved_penalty (engine default)")
    return ref


def _close(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    got = float(got)
    if math.isnan(got):
        return False
    return math.isclose(got, want, rel_tol=REL, abs_tol=ABS)


def _compare(res: Any, ref: dict[str, Any], name: str) -> None:
    assert res.status == ref["status"], f"{name}: status {res.status!r}, oracle {ref['status']!r}"
    if ref["status"] != "optimal":
        return
    problems = []
    if not _close(res.objective_value, ref["objective"]):
        problems.append(f"objective {res.objective_value!r} != oracle {ref['objective']!r}")
    indicators = dict(res.indicators)
    missing = [key for key in INDICATORS if key not in indicators]
    if missing:
        problems.append(f"indicators missing: {missing}")
    uncompared = []
    for key, got in indicators.items():
        if key not in ref["indicators"]:
            uncompared.append(key)
            continue
        want = ref["indicators"][key]
        if not _close(got, want):
            problems.append(f"{key}: {got!r} != oracle {want!r}")
    if uncompared:
        warnings.warn(f"{name}: indicators the oracle does not compute: {uncompared}", stacklevel=2)
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


def _solve(path: Path, **options: Any) -> tuple[Any, Any]:
    inst = computeplan.load_instance(path)
    return inst, computeplan.solve(inst, **options)


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_engine_matches_oracle(path: Path) -> None:
    ref = reference(path)
    inst, res = _solve(path)
    _compare(res, ref, path.stem)
    if ref["status"] == "optimal":
        assert computeplan.verify(inst, res) == []


@pytest.mark.parametrize("path", CBC_PATHS, ids=_id)
def test_engine_with_cbc_matches_oracle(path: Path) -> None:
    ref = reference(path)
    inst, res = _solve(path, solver="cbc")
    _compare(res, ref, f"{path.stem} (cbc)")
    if ref["status"] == "optimal":
        assert computeplan.verify(inst, res) == []


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_engine_matches_oracle_on_edge_cases(name: str) -> None:
    """Corners of the formulation (tests/oracle/cases.py): an idle site under a
    site PUE target, latency overrides and ties, tiers and sites together, no
    work served (undefined ratios are None), an optional workload out of reach."""
    raw, _ = EDGE_CASES[name]
    ref = solve_reference(copy.deepcopy(raw))
    inst = computeplan.load_instance(copy.deepcopy(raw))
    res = computeplan.solve(inst)
    _compare(res, ref, name)
    assert computeplan.verify(inst, res) == []


@pytest.mark.parametrize("path", PATHS, ids=_id)
def test_site_figures_match_oracle(path: Path) -> None:
    """Per-site IT and facility power are unique at these optima too."""
    ref = reference(path)
    if ref["status"] != "optimal":
        pytest.skip("infeasible")
    _, res = _solve(path)
    sites = res.sites
    columns = {"id", "it_kw", "facility_kw"}
    if not columns <= set(sites.columns):
        pytest.skip(f"result sites table lacks {sorted(columns - set(sites.columns))}")
    by_id = {row["id"]: row for row in sites.to_dict("records")}
    problems = []
    for site in ref["sites"]:
        row = by_id.get(site["id"])
        if row is None:
            problems.append(f"site {site['id']} missing")
            continue
        for key in ("it_kw", "facility_kw"):
            # Judged against the fleet's total, as the solver's tolerances are.
            scale = max(abs(site[key]), ref["indicators"]["energy_kwh"] / 8760.0 * 1e-3, 1.0)
            if abs(float(row[key]) - site[key]) > REL * scale:
                problems.append(f"{site['id']}.{key}: {row[key]!r} != oracle {site[key]!r}")
    assert not problems, f"{path.stem}:\n  " + "\n  ".join(problems)
