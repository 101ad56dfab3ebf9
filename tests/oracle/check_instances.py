"""Check the oracle's instances: optimum, binding targets, uniqueness of the figures.

Run as ``python -m tests.oracle.check_instances [name ...]`` from the project root.

- *binding*: each target listed in ``manifest.EXPECTED[name]["binds"]`` must
  change the optimum when it is dropped (for an infeasible instance: dropping it
  must make the instance feasible);
- *unique*: every aggregate the indicators are made of (energy, cost, carbon,
  renewable energy, IT, served and weighted TFLOPS, output, and each site's IT
  and facility power) must take a single value over the optimal face, or two
  correct solvers could report different indicators at the same optimum. Each is
  minimised and maximised with the objective held within a band of 1e-8 of the
  optimum (a spread under 100 times the band, of the figure or for a site of the
  fleet's figure, is that band and the solver's tolerance, not a second optimum).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulp

from .manifest import EXPECTED
from .reference import build_reference, cbc, load_yaml, solve_reference

INSTANCES = Path(__file__).parent / "instances"


def spread_of_figures(raw: dict, base_dir: Path | None = None) -> dict[str, Any]:
    """Min and max of every aggregate over the (near-)optimal face.

    The objective is held within ``band`` of the optimum, 1e-8 relative, or
    3e-8 or 1e-7 when CBC's tolerances call the tighter band infeasible; a
    spread is reported relative to ``100 * band``.
    """
    model = build_reference(raw, base_dir)
    model.prob.solve(cbc())
    assert pulp.LpStatus[model.prob.status] == "Optimal"
    best = pulp.value(model.objective_expr)
    out = {}
    for name in model.quantities:
        values = []
        for sense in (pulp.LpMinimize, pulp.LpMaximize):
            for band in (1e-8, 3e-8, 1e-7):
                probe = build_reference(raw, base_dir)
                probe.prob += probe.objective_expr <= best + band * max(abs(best), 1.0), "hold"
                probe.prob.sense = sense
                probe.prob.setObjective(probe.quantities[name])
                probe.prob.solve(cbc())
                if pulp.LpStatus[probe.prob.status] == "Optimal":
                    break
            else:
                raise AssertionError(f"probe of {name} failed")
            values.append((pulp.value(probe.quantities[name]) or 0.0, band))
        (lo, band_lo), (hi, band_hi) = values
        # Per-site figures are judged against the fleet's total, and the servers
        # beyond need against all installed servers, as the solver's tolerances are.
        if name == "servers_beyond_need":
            whole = sum(sum(site.servers.values()) for site in model.sites)
        elif name == "beyond_need_kw":
            whole = pulp.value(model.quantities["facility_kw"])
        elif "." in name:
            whole = pulp.value(model.quantities[name.split(".")[0]])
        else:
            whole = 0.0
        rel = (hi - lo) / max(abs(lo), abs(hi), abs(whole), 1e-9)
        out[name] = (lo, hi, rel / (100 * max(band_lo, band_hi)))
    return out


def check(name: str, verbose: bool = True) -> list[str]:
    """Return the problems found with one instance (empty when all is well)."""
    path = INSTANCES / f"{name}.yaml"
    raw = load_yaml(path)
    spec = EXPECTED[name]
    problems = []
    res = solve_reference(raw, path.parent)
    if res["status"] != spec["status"]:
        problems.append(f"status {res['status']} != {spec['status']}")
    if verbose:
        print(f"== {name}: {res['status']} objective {res['objective']}")
        if res["indicators"]:
            for key, value in res["indicators"].items():
                print(f"   {key:18s} {value}")
            for site in res["sites"]:
                beyond = {
                    h: round(site["servers_on"][h] - site["busy_servers"][h], 6)
                    for h in site["servers_on"]
                }
                print(
                    f"   site {site['id']:8s} IT {site['it_kw']:.4f} P {site['facility_kw']:.4f}"
                    f" pue {site['pue']} z {site['active_halls']} on-minus-busy {beyond}"
                )
            for a in res["assignments"]:
                print(f"   {a['workload']:14s} -> {a['site']:8s} {a['hardware']:10s} {a['share']:.6f}")
    if spec["status"] == "optimal" and res["status"] == "optimal":
        want = spec.get("objective")
        if want is not None and abs(res["objective"] - want) > 1e-7 * abs(want):
            problems.append(f"objective {res['objective']!r} != recorded {want!r}")
    for target in spec.get("binds", []):
        loose = solve_reference(raw, path.parent, drop_targets=(target,))
        problems.extend(bind_problems(target, spec["status"], res, loose, verbose))
    for target in spec.get("binds_if_dropped", []):
        # A key whose removal makes the optimum *worse*: a site key that loosens
        # its tier's key (precedence).
        other = solve_reference(raw, path.parent, drop_targets=(target,))
        worse = other["status"] == "infeasible" or other["objective"] > res["objective"] * (1 + 1e-6)
        if verbose:
            print(f"   without {target}: {other['status']} {other['objective']}")
        if not worse:
            problems.append(f"dropping {target} does not tighten the plan")
    if res["status"] == "optimal" and spec.get("unique", True):
        problems.extend(face_problems(raw, path.parent))
    if verbose:
        print("   problems:", problems or "none")
    return problems


def bind_problems(limit: str, status: str, res: dict[str, Any], loose: dict[str, Any], verbose: bool) -> list[str]:
    """What is wrong with a limit said to bind, given the reference's result with it
    (``res``) and without it (``loose``): dropping it must make an infeasible instance
    feasible, and lower the optimum of a feasible one."""
    if status == "infeasible":
        if loose["status"] != "optimal":
            return [f"dropping {limit} does not make it feasible"]
        if verbose:
            print(f"   without {limit}: optimal {loose['objective']}")
        return []
    if loose["status"] != "optimal":
        return [f"dropping {limit}: {loose['status']}"]
    gain = res["objective"] - loose["objective"]
    if verbose:
        print(f"   without {limit}: {loose['objective']}  (it costs {gain})")
    return [f"{limit} does not bind (gain {gain})"] if gain <= 1e-6 * abs(res["objective"]) else []


def face_problems(raw: dict, base_dir: Path) -> list[str]:
    """Every aggregate that is not unique over the optimal face."""
    return [f"{key} not unique over the optimal face: {lo} .. {hi}"
            for key, (lo, hi, rel) in spread_of_figures(raw, base_dir).items() if rel > 1.0]


def run(argv: list[str], expected: dict[str, Any], check_one: Callable[[str], list[str]]) -> int:
    """Check the named instances (all of ``expected`` when none is named); 1 if any fails."""
    names = argv or sorted(expected)
    bad = {name: p for name in names if (p := check_one(name))}
    print("FAILED:" if bad else "all good", bad or "")
    return 1 if bad else 0


def main(argv: list[str]) -> int:
    return run(argv, EXPECTED, check)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
