"""Check the held-out-style instances of ``instances-time/`` and ``instances-build/``.

Run as ``python -m tests.oracle.check_heldout [name ...]`` from the project root.
For each instance of ``manifest_heldout.EXPECTED``: the oracle's status, objective,
indicators, value of flexibility, site peaks and build decisions equal the recorded
ones (1e-7 relative); each listed limit binds (dropping it lowers the optimum, or
for an infeasible instance makes it feasible); every aggregate is unique over the
optimal face (``check_instances.face_problems``); and, where the manifest says
``per_period: True``, each site's per-period facility power and each class's
per-period served TFLOPS are unique too: a random linear functional of them is
minimised and maximised over the optimal face, and a face whose projection is not
a single point gives a spread almost surely.
"""

from __future__ import annotations

import copy
import random
import sys
from pathlib import Path
from typing import Any

import pulp

from .check_instances import bind_problems, face_problems, run
from .manifest_heldout import EXPECTED
from .reference import build_reference, cbc, load_yaml, solve_reference

ROOT = Path(__file__).parent
REL = 1e-7


def path_of(name: str) -> Path:
    return ROOT / EXPECTED[name]["folder"] / f"{name}.yaml"


def drop_limit(raw: dict, limit: str) -> tuple[dict, tuple[str, ...]]:
    """``grid_kw.<site>`` removes a site's grid limit; anything else is a target."""
    if limit.startswith("grid_kw."):
        raw = copy.deepcopy(raw)
        for site in raw["sites"]:
            if site["id"] == limit.split(".", 1)[1]:
                site.pop("grid_kw")
        return raw, ()
    return raw, (limit,)


def per_period_spread(raw: dict, base_dir: Path, seed: int = 1) -> float:
    """Spread of a random functional of every ``P[j,t]`` and served TFLOPS per
    (class, t) over the optimal face, relative to its size. The objective is held
    within 1e-11 of the optimum (else 1e-10, 1e-9, 1e-8), tighter than for the
    aggregates: real hourly series have near-equal hours whose swap costs less
    than 1e-8 of the objective."""
    model = build_reference(raw, base_dir)
    model.prob.solve(cbc())
    best = pulp.value(model.objective_expr)
    values = []
    for sense in (pulp.LpMinimize, pulp.LpMaximize):
        for band in (1e-11, 1e-10, 1e-9, 1e-8):
            rng = random.Random(seed)  # the same functional both ways
            probe = build_reference(raw, base_dir)
            probe.prob += probe.objective_expr <= best + band * max(abs(best), 1.0), "hold"
            terms = [rng.uniform(0.5, 1.5) * p for p in probe.power.values()]
            for cls in sorted({w.cls for w in probe.workloads}):
                for t in range(len(probe.periods)):
                    terms.append(rng.uniform(0.5, 1.5) * pulp.lpSum(
                        probe.workloads[i].demand * 1e-3 * probe.served[i, tt]
                        for i, tt in probe.served if tt == t and probe.workloads[i].cls == cls
                    ))
            functional = pulp.lpSum(terms)
            probe.prob.sense = sense
            probe.prob.setObjective(functional)
            probe.prob.solve(cbc())
            if pulp.LpStatus[probe.prob.status] == "Optimal":
                break
        else:
            raise AssertionError("per-period probe failed")
        values.append(pulp.value(functional))
    return (values[1] - values[0]) / max(abs(values[0]), 1.0)


def _close(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    return abs(got - want) <= REL * max(abs(want), 1.0)


def check(name: str, verbose: bool = True, uniqueness: bool = True) -> list[str]:
    """Return the problems found with one held-out instance (empty when all is well)."""
    spec = EXPECTED[name]
    path = path_of(name)
    raw = load_yaml(path)
    res = solve_reference(raw, path.parent)
    problems = []
    if res["status"] != spec["status"]:
        problems.append(f"status {res['status']} != {spec['status']}")
    if verbose:
        print(f"== {name}: {res['status']} objective {res['objective']!r}")
    if res["status"] == "optimal" and spec["status"] == "optimal":
        if verbose:
            print("   indicators:", {k: res["indicators"][k] for k in spec["indicators"]})
            for site in res["sites"]:
                print(f"   site {site['id']}: peak {site['peak_facility_kw']!r} at {site['peak_period']},"
                      f" halls {site['active_halls']} new {site['new_halls']} {site['new_servers']}")
            print("   time:", res.get("time"))
            print("   build:", res["build"])
        if not _close(res["objective"], spec["objective"]):
            problems.append(f"objective {res['objective']!r} != {spec['objective']!r}")
        for key, want in spec["indicators"].items():
            if not _close(res["indicators"][key], want):
                problems.append(f"{key} {res['indicators'][key]!r} != {want!r}")
        for key, want in (spec.get("flexibility") or {}).items():
            if not _close(res["time"]["flexibility"][key], want):
                problems.append(f"flexibility.{key} {res['time']['flexibility'][key]!r} != {want!r}")
        sites = {s["id"]: s for s in res["sites"]}
        for site, want in (spec.get("peak_facility_kw") or {}).items():
            if not _close(sites[site]["peak_facility_kw"], want):
                problems.append(f"{site} peak {sites[site]['peak_facility_kw']!r} != {want!r}")
        for site, want in (spec.get("new_servers") or {}).items():
            for h, count in want.items():
                if not _close(sites[site]["new_servers"][h], count):
                    problems.append(f"{site} new {h} {sites[site]['new_servers'][h]!r} != {count!r}")
        for site, want in (spec.get("new_halls") or {}).items():
            if sites[site]["new_halls"] != want:
                problems.append(f"{site} new halls {sites[site]['new_halls']} != {want}")
        if sorted(res["build"]["sites_opened"]) != sorted(spec.get("sites_opened", [])):
            problems.append(f"sites opened {res['build']['sites_opened']}")
    for limit in spec.get("binds", []):
        loose_raw, dropped = drop_limit(raw, limit)
        loose = solve_reference(loose_raw, path.parent, drop_targets=dropped, flexibility=False)
        problems.extend(bind_problems(limit, spec["status"], res, loose, verbose))
    if uniqueness and res["status"] == "optimal":
        problems.extend(face_problems(raw, path.parent))
        if spec.get("per_period"):
            spread = per_period_spread(raw, path.parent)
            if verbose:
                print(f"   per-period spread {spread:.2e}")
            if spread > 1e-6:
                problems.append(f"per-period figures not unique (spread {spread:.2e})")
    if verbose:
        print("   problems:", problems or "none")
    return problems


def main(argv: list[str]) -> int:
    return run(argv, EXPECTED, check)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
