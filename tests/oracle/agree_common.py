"""What the engine's agreement tests for time and build-out share (``test_agree_time.py``,
``test_agree_build.py``): solving a held-out instance through the Python API (once per
instance, shared by every test that reads the plan) and the CLI, reading its figures by
FORMATS.md's names, and comparing them with the oracle.

The engine's per-period figures are read in one place, ``engine_tables``, and
compared in one place, ``compare_per_period``: FORMATS.md names the tables
``periods`` (``period``, ``site``, ``it_kw``, ``facility_kw``, ...) and ``served``
(``period``, ``class``, ``served_tflops``, ``demand_tflops``), ``result.json``'s
``time`` block and each site's ``peak_facility_kw`` / ``peak_period``.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from .manifest_heldout import EXPECTED
from .reference import INDICATORS, load_yaml, solve_reference

ROOT = Path(__file__).parent
REL, ABS = 1e-5, 1e-6


def paths(folder: str) -> list[Path]:
    return [ROOT / spec["folder"] / f"{name}.yaml" for name, spec in sorted(EXPECTED.items())
            if spec["folder"] == folder]


@functools.cache
def reference(path: Path) -> dict[str, Any]:
    return solve_reference(load_yaml(path), path.parent)


def case_id(path: Path) -> str:
    return path.stem


@functools.cache
def solved(path: Path) -> tuple[Any, Any]:
    """The instance at ``path`` and the engine's result, solved once through the API."""
    import computeplan

    inst = computeplan.load_instance(path)
    return inst, computeplan.solve(inst)


def solve_cli(path: Path, out: Path, want_status: str, *options: str) -> Any:
    """``computeplan solve`` on ``path`` into ``out`` with every table, in process: it
    must exit 0 with a plan, 1 without one. Returns the run (``output``, ``exit_code``)."""
    from typer.testing import CliRunner

    from computeplan.cli import app

    r = CliRunner().invoke(app, ["solve", str(path), "--out", str(out), *options])
    assert r.exit_code == (0 if want_status == "optimal" else 1), r.output
    return r


def check_against_oracle(got: dict[str, Any], path: Path, how: str,
                         more: Callable[[dict[str, Any], dict[str, Any]], list[str]]) -> None:
    """Status, objective and indicators against the oracle, then ``more(got, ref)`` when
    those agree at an optimum; every disagreement is listed in the failure."""
    ref = reference(path)
    problems = compare_figures(got, ref, path.stem)
    if ref["status"] == "optimal" and not problems:
        problems += more(got, ref)
    assert not problems, f"{path.stem} ({how}):\n  " + "\n  ".join(problems)


def close(got: Any, want: Any, rel: float = REL, abs_tol: float = ABS) -> bool:
    if got is None or want is None:
        return got is None and want is None
    got = float(got)
    return not math.isnan(got) and math.isclose(got, want, rel_tol=rel, abs_tol=abs_tol)


def engine_tables(res: Any = None, out_dir: Path | None = None) -> dict[str, Any]:
    """The engine's per-period figures by FORMATS.md's names, from a ``Result`` or from
    a solve's output folder: ``periods`` and ``served`` tables, the ``time`` block,
    the ``sites`` records and the ``build`` block."""
    if out_dir is not None:
        doc = json.loads((out_dir / "result.json").read_text())
        tables = {}
        for name in ("periods", "served"):
            for ext, read in (("parquet", pd.read_parquet), ("csv", pd.read_csv)):
                if (out_dir / f"{name}.{ext}").exists():
                    tables[name] = read(out_dir / f"{name}.{ext}")
                    break
        return {"periods": tables.get("periods"), "served": tables.get("served"),
                "time": doc.get("time"), "sites": doc.get("sites") or [], "build": doc.get("build"),
                "indicators": doc.get("indicators") or {}, "status": doc.get("status"),
                "objective": (doc.get("objective") or {}).get("value")}
    doc = res.to_dict()
    return {"periods": getattr(res, "periods", None), "served": getattr(res, "served", None),
            "time": doc.get("time"), "sites": doc.get("sites") or [], "build": doc.get("build"),
            "indicators": dict(res.indicators), "status": res.status, "objective": res.objective_value}


def compare_figures(got: dict[str, Any], ref: dict[str, Any], name: str) -> list[str]:
    """Status, objective and every annual indicator the oracle computes."""
    if got["status"] != ref["status"]:
        return [f"{name}: status {got['status']!r}, oracle {ref['status']!r}"]
    if ref["status"] != "optimal":
        return []
    problems = []
    if not close(got["objective"], ref["objective"]):
        problems.append(f"objective {got['objective']!r} != oracle {ref['objective']!r}")
    indicators = got["indicators"]
    for key in INDICATORS + tuple(k for k in ("server_utilisation", "capex_per_year", "embodied_carbon_t")
                                  if k in ref["indicators"]):
        if key not in indicators:
            problems.append(f"indicator {key} missing")
        elif not close(indicators[key], ref["indicators"][key]):
            problems.append(f"{key}: {indicators[key]!r} != oracle {ref['indicators'][key]!r}")
    return problems


def compare_time_block(got: dict[str, Any], ref: dict[str, Any], per_period: bool) -> list[str]:
    """``time.flexibility`` and each site's peak (the value; the period when it is unique)."""
    problems = []
    time = got["time"] or {}
    if time.get("periods") != ref["time"]["periods"]:
        problems.append(f"time.periods {time.get('periods')!r} != {ref['time']['periods']}")
    flex = time.get("flexibility") or {}
    for key in ("value", "objective_without"):
        want = ref["time"]["flexibility"][key]
        scale = abs(ref["time"]["flexibility"]["objective_without"] or 1.0)
        if flex.get(key) is None or abs(float(flex[key]) - want) > REL * scale:
            problems.append(f"time.flexibility.{key} {flex.get(key)!r} != oracle {want!r}")
    if not per_period:
        return problems
    sites = {s["id"]: s for s in got["sites"]}
    power = {(r["site"], r["period"]): r["facility_kw"] for r in ref["periods"]}
    for site in ref["sites"]:
        mine = sites.get(site["id"], {})
        if not close(mine.get("peak_facility_kw"), site["peak_facility_kw"], rel=1e-6):
            problems.append(f"{site['id']}.peak_facility_kw {mine.get('peak_facility_kw')!r} != "
                            f"oracle {site['peak_facility_kw']!r}")
        # Several periods may reach the peak: the engine's must be one of them.
        at = mine.get("peak_period")
        if at is None or not close(power.get((site["id"], int(at))), site["peak_facility_kw"], rel=1e-6):
            problems.append(f"{site['id']}.peak_period {at!r}: the oracle's power there is "
                            f"{power.get((site['id'], at))!r}, its peak {site['peak_facility_kw']!r}")
    return problems


def compare_per_period(periods: pd.DataFrame | None, served: pd.DataFrame | None,
                       ref: dict[str, Any]) -> list[str]:
    """Per site and period IT and facility power, per class and period the TFLOPS served
    and demanded, against the oracle (unique at these optima: ``check_heldout``).
    Power is judged against the fleet's mean facility power, TFLOPS against the mean
    served, as the solvers' tolerances are. Periods are 0-based positions in the table."""
    problems = []
    if periods is None or len(periods) == 0:
        return ["no per-period table (periods)"]
    if served is None or len(served) == 0:
        return ["no per-period table (served)"]
    fleet_kw = ref["indicators"]["facility_kw"]
    rows = {(r["site"], int(r["period"])): r for r in periods.to_dict("records")}
    for want in ref["periods"]:
        got = rows.get((want["site"], want["period"]))
        if got is None:
            problems.append(f"periods: no row for {want['site']} period {want['period']}")
            continue
        for key in ("it_kw", "facility_kw", "price_per_kwh", "carbon_kg_per_kwh"):
            if abs(float(got[key]) - want[key]) > REL * max(abs(want[key]), fleet_kw, 1.0):
                problems.append(f"periods {want['site']}/{want['period']}.{key}: {got[key]!r} != {want[key]!r}")
    mean_served = ref["indicators"]["served_tflops"]
    rows = {(r["class"], int(r["period"])): r for r in served.to_dict("records")}
    for want in ref["served"]:
        got = rows.get((want["class"], want["period"]))
        if got is None:
            problems.append(f"served: no row for {want['class']} period {want['period']}")
            continue
        for key in ("served_tflops", "demand_tflops"):
            if abs(float(got[key]) - want[key]) > REL * max(abs(want[key]), mean_served, 1.0):
                problems.append(f"served {want['class']}/{want['period']}.{key}: {got[key]!r} != {want[key]!r}")
    return problems[:20]


def compare_build(got: dict[str, Any], ref: dict[str, Any]) -> list[str]:
    """The ``build`` block: new halls per site, new servers per pool, sites opened."""
    block = got["build"] or {}
    problems = []
    if not close(block.get("capex_per_year"), ref["build"]["capex_per_year"]):
        problems.append(f"build.capex_per_year {block.get('capex_per_year')!r} != {ref['build']['capex_per_year']!r}")
    halls = {r["site"]: r["new_halls"] for r in block.get("halls") or []}
    for site in ref["sites"]:
        if float(halls.get(site["id"], 0.0)) != site["new_halls"]:
            problems.append(f"{site['id']}: new halls {halls.get(site['id'], 0)} != {site['new_halls']}")
    servers = {(r["site"], r["hardware"]): r["new_servers"] for r in block.get("servers") or []}
    total = sum(sum(s["new_servers"].values()) for s in ref["sites"]) or 1.0
    for site in ref["sites"]:
        for h, want in site["new_servers"].items():
            got_m = float(servers.get((site["id"], h), 0.0))
            if abs(got_m - want) > REL * max(abs(want), total):
                problems.append(f"{site['id']}/{h}: new servers {got_m!r} != {want!r}")
    opened = sorted(r if isinstance(r, str) else r["site"] for r in block.get("sites_opened") or [])
    if opened != sorted(ref["build"]["sites_opened"]):
        problems.append(f"sites opened {opened} != {ref['build']['sites_opened']}")
    return problems
