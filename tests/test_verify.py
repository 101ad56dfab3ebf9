"""verify catches every lie: each tampered figure, section, key, target or status of a
real solve is named, untampered results verify clean, and infeasibility claims are
checked (Farkas certificates with plain arithmetic, otherwise an elastic model)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import verify_in_fresh_interpreter
from typer.testing import CliRunner

import computeplan
from computeplan.cli import app
from computeplan.io.generate import generate_instance
from computeplan.io.loader import load_instance
from computeplan.io.schema import Instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.plan.verify import INDICATOR_KEYS, POOL_FIGURES, SITE_FIGURES, verify
from computeplan.plan.verify_infeasible import farkas_evidence
from computeplan.plan.verify_model import default_penalty, site_views, view
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"

Tamper = Callable[[dict[str, Any]], None]


def _load(path: Path, **changes: Any) -> Instance:
    inst = load_instance(path)
    return inst.model_copy(update=changes) if changes else inst


def _optional_short(path: Path = TEACHING / "infeasible.yaml") -> Instance:
    """The teaching infeasible instance with its workload optional: 20 % goes unserved at
    the default penalty, which then counts in the objective."""
    inst = load_instance(path)
    w = inst.workloads[0].model_copy(update={"must_serve": False})
    return inst.model_copy(update={"workloads": [w]})


@pytest.fixture(scope="module")
def shanghai() -> tuple[Instance, dict[str, Any]]:
    inst = load_instance(computeplan.example_instance("shanghai-2025"))
    return inst, computeplan.solve(inst).to_dict()


@pytest.fixture(scope="module")
def teaching() -> dict[str, tuple[Instance, dict[str, Any]]]:
    """Solved teaching plans: a binding PUE target with servers beyond need (LP), idle
    halls (MILP), optional work left unserved (LP, default penalty)."""
    out = {}
    for name, inst in (("pue", _load(TEACHING / "pue-target.yaml")),
                       ("halls", _load(TEACHING / "idle-halls.yaml")),
                       ("optional", _optional_short())):
        out[name] = (inst, computeplan.solve(inst).to_dict())
    return out


def _case(which: str, fixtures: dict[str, tuple[Instance, dict[str, Any]]]) -> tuple[Instance, dict[str, Any]]:
    inst, d = fixtures[which]
    return inst, copy.deepcopy(d)


def _bump(rec: dict[str, Any], key: str) -> None:
    val = rec[key]
    rec[key] = 1.0 if val is None else val * 1.01 + 1.0


def _busy_site(d: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in d["sites"] if s["it_kw"] > 0 and s["servers_beyond_need"] == 0)


def _names(bad: list[str], want: str) -> bool:
    return any(want in p for p in bad)


# --- untampered results verify clean ---------------------------------------------


def test_real_plans_verify_clean(shanghai: Any, teaching: Any) -> None:
    assert verify(*shanghai) == []
    for inst, d in teaching.values():
        assert verify(inst, d) == []
    # the optional case really exercises the penalty term
    _, d = teaching["optional"]
    assert d["indicators"]["unserved_tflops"] == pytest.approx(5000.0)


# --- one lie at a time --------------------------------------------------------------


def _del(section: str, key: str | None = None, index: int = 0) -> Tamper:
    def f(d: dict[str, Any]) -> None:
        if key is None:
            del d[section]
        elif isinstance(d[section], list):
            del d[section][index][key]
        else:
            del d[section][key]
    return f


SECTIONS = ["indicators", "sites", "pools", "targets", "assignments", "objective", "status"]


@pytest.mark.parametrize("section", SECTIONS)
def test_a_deleted_section_is_named(shanghai: Any, section: str) -> None:
    inst, d = copy.deepcopy(shanghai)
    del d[section]
    assert _names(verify(inst, d), section)


def test_deleted_sites_are_caught_on_an_lp(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    assert d["method"] == "lp"
    d["sites"] = []
    assert _names(verify(inst, d), "sites[s1]: missing")


@pytest.mark.parametrize("key", INDICATOR_KEYS)
def test_a_deleted_indicator_is_named(shanghai: Any, key: str) -> None:
    inst, d = copy.deepcopy(shanghai)
    del d["indicators"][key]
    assert _names(verify(inst, d), f"indicators.{key}: missing")


def _plan(request: pytest.FixtureRequest, which: str) -> tuple[Instance, dict[str, Any]]:
    """A solved plan: the Shanghai example, or a teaching case (quick to solve)."""
    if which == "shanghai":
        return copy.deepcopy(request.getfixturevalue("shanghai"))
    return _case(which, request.getfixturevalue("teaching"))


@pytest.mark.parametrize("key", INDICATOR_KEYS)
@pytest.mark.parametrize("which", ["shanghai", "optional"])
def test_a_changed_indicator_is_named(request: pytest.FixtureRequest, which: str, key: str) -> None:
    inst, d = _plan(request, which)
    _bump(d["indicators"], key)
    assert _names(verify(inst, d), f"indicators.{key}")


@pytest.mark.parametrize("key", [k for k in SITE_FIGURES if k not in ("active_halls",)])
@pytest.mark.parametrize("which", ["shanghai", "optional"])
def test_a_changed_site_figure_is_named(request: pytest.FixtureRequest, which: str, key: str) -> None:
    inst, d = _plan(request, which)
    site = _busy_site(d)
    _bump(site, key)
    assert _names(verify(inst, d), f"sites[{site['id']}].{key}")


@pytest.mark.parametrize("key", ["active_halls", "utilisation", "capacity_shadow_price", "tier"])
def test_a_deleted_site_key_is_named(shanghai: Any, key: str) -> None:
    inst, d = copy.deepcopy(shanghai)
    site = _busy_site(d)
    del site[key]
    assert _names(verify(inst, d), f"sites[{site['id']}]: missing {key}")


def test_active_halls_of_a_site_that_cannot_idle(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    d["sites"][0]["active_halls"] = 2
    assert _names(verify(inst, d), "sites[s1].active_halls")


def test_active_halls_of_an_idle_able_site_change_its_figures(teaching: Any) -> None:
    inst, d = _case("halls", teaching)
    site = next(s for s in d["sites"] if s["active_halls"] < s["halls"])
    site["active_halls"] += 1
    bad = verify(inst, d)
    assert _names(bad, f"sites[{site['id']}].overhead_kw")


@pytest.mark.parametrize("key", POOL_FIGURES)
def test_a_changed_pool_figure_is_named(teaching: Any, key: str) -> None:
    inst, d = _case("pue", teaching)
    _bump(d["pools"][0], key)
    bad = verify(inst, d)
    # servers on is the plan's decision: its change shows in the figures that follow from it
    want = "pools[s1/t-srv].servers_beyond_need" if key == "servers_on" else f"pools[s1/t-srv].{key}"
    assert _names(bad, want)


@pytest.mark.parametrize("servers_on", [-1.0, "installed + 1"])
def test_servers_on_outside_the_pool_are_named(teaching: Any, servers_on: Any) -> None:
    inst, d = _case("pue", teaching)
    pool = d["pools"][0]
    pool["servers_on"] = pool["installed"] + 1 if servers_on == "installed + 1" else servers_on
    assert _names(verify(inst, d), f"pools[s1/t-srv].servers_on: {pool['servers_on']:.9g} servers on, "
                                   f"outside 0..{pool['installed']:.0f} installed")


@pytest.mark.parametrize("key", ["busy_servers", "servers_on", "installed"])
def test_a_deleted_pool_key_is_named(teaching: Any, key: str) -> None:
    inst, d = _case("pue", teaching)
    del d["pools"][0][key]
    assert _names(verify(inst, d), f"pools[s1/t-srv]: missing {key}")


def test_a_deleted_pool_is_caught(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    d["pools"] = []
    bad = verify(inst, d)
    assert _names(bad, "pools[s1/t-srv]: missing")
    assert _names(bad, "sites[s1].it_kw")


@pytest.mark.parametrize("change", ["share", "tflops"])
def test_a_changed_assignment_is_named(teaching: Any, change: str) -> None:
    inst, d = _case("pue", teaching)
    a = d["assignments"][0]
    if change == "share":
        a["share"], a["tflops"] = 0.9, 0.9 * a["tflops"]
        assert _names(verify(inst, d), "workload w1: must be served")
        assert _names(verify(inst, d), "pools[s1/t-srv].busy_servers")
    else:
        a["tflops"] += 1.0
        assert _names(verify(inst, d), "assignments[w1@s1/t-srv].tflops")


def test_a_plan_with_no_assignments_serves_nothing(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    d["assignments"] = []
    bad = verify(inst, d)
    assert _names(bad, "workload w1: must be served in full, served share 0")
    assert _names(bad, "indicators.unserved_tflops")


def test_a_plan_that_serves_nothing_has_no_fleet_pue(base: dict[str, Any]) -> None:
    """Every workload optional at a penalty far below any cost: nothing runs, the fleet
    draws only s1's and s2's hall overhead over no IT, and the fleet PUE is undefined."""
    for w in base["workloads"]:
        w["must_serve"] = False
    base["unserved_penalty"] = 1e-9
    d = computeplan.solve(base).to_dict()
    assert d["indicators"]["it_kw"] == 0.0 and d["indicators"]["fleet_pue"] is None
    assert d["indicators"]["facility_kw"] > 0
    assert verify(base, d) == []


def test_an_optional_share_changes_the_objective(teaching: Any) -> None:
    inst, d = _case("optional", teaching)
    a = d["assignments"][0]
    a["share"], a["tflops"] = 0.5, 0.5 * a["tflops"]
    bad = verify(inst, d)
    assert _names(bad, "objective.value") and _names(bad, "indicators.unserved_tflops")


@pytest.mark.parametrize(("section", "label"), [
    ("assignments", "assignments[w1@s1/t-srv]"), ("pools", "pools[s1/t-srv]"),
    ("sites", "sites[s1]"), ("targets", "targets[fleet_pue_max]"),
])
def test_a_record_listed_twice_is_named(teaching: Any, section: str, label: str) -> None:
    inst, d = _case("pue", teaching)
    d[section].append(copy.deepcopy(d[section][0]))
    assert _names(verify(inst, d), f"{label}: listed twice")


def test_a_listed_zero_share_is_no_assignment(base: dict[str, Any]) -> None:
    """w1 is indivisible and runs whole at s1/srv (200 of its 400 servers; s2 has 50). A
    row placing none of it at s2/srv, where it may run, splits nothing and is sound; a
    share below zero is not."""
    base["workloads"][0]["divisible"] = False
    res = computeplan.solve(base)
    d = res.to_dict()
    (row,) = [a for a in d["assignments"] if a["workload"] == "w1"]
    assert (row["site"], row["hardware"], row["share"]) == ("s1", "srv", 1.0)
    d["assignments"].append({"workload": "w1", "site": "s2", "hardware": "srv", "share": 0.0, "tflops": 0.0})
    assert verify(base, d) == []
    d["assignments"][-1]["share"] = -0.01
    d["assignments"][-1]["tflops"] = -200.0
    assert _names(verify(base, d), "assignments[w1@s2/srv].share: -0.01 outside [0, 1]")


def test_a_plan_solved_for_another_objective_is_judged_by_it(teaching: Any) -> None:
    """The teaching PUE instance minimises energy; solved for cost, its result names cost
    and verify recomputes the cost, not the energy."""
    inst, _ = teaching["pue"]
    res = computeplan.solve(inst, objective="cost")
    d = res.to_dict()
    assert d["objective"]["name"] == "cost"
    assert d["objective"]["value"] == pytest.approx(d["indicators"]["cost"], rel=1e-9)
    assert verify(inst, d) == []
    d["objective"]["value"] = d["indicators"]["energy_kwh"]
    assert _names(verify(inst, d), "objective.value")


def _target_names(d: dict[str, Any]) -> list[str]:
    return [t["name"] for t in d["targets"]]


SHANGHAI_TARGETS = ["fleet_pue_max", "site_pue_max.hyperscale", "site_pue_max.midsize", "ece_min",
                    "renewable_share_min", "carbon_max", "output_per_kwh_min"]


def test_shanghai_reports_every_target(shanghai: Any) -> None:
    assert sorted(_target_names(shanghai[1])) == sorted(SHANGHAI_TARGETS)


@pytest.mark.parametrize("name", SHANGHAI_TARGETS)
@pytest.mark.parametrize("lie", ["value", "target", "met", "drop"])
def test_a_target_lie_is_named(shanghai: Any, name: str, lie: str) -> None:
    inst, d = copy.deepcopy(shanghai)
    k = _target_names(d).index(name)
    rec = d["targets"][k]
    if lie == "drop":
        del d["targets"][k]
        want = f"targets[{name}]: missing"
    elif lie == "met":
        rec["met"] = not rec["met"]
        want = f"targets[{name}].met"
    else:
        _bump(rec, lie)
        want = f"targets[{name}].{lie}"
    assert _names(verify(inst, d), want)


def test_a_value_changed_while_still_met_is_named(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    d["targets"][0]["value"] = 1.2  # still under 1.225, still "met"
    assert _names(verify(inst, d), "targets[fleet_pue_max].value")


@pytest.mark.parametrize("name", ["server_utilisation_min", "site_pue_max.edge", "bogus"])
def test_an_invented_target_is_named(shanghai: Any, name: str) -> None:
    inst, d = copy.deepcopy(shanghai)
    d["targets"].append({"name": name, "target": 0.1, "value": 0.5, "met": True, "shadow_price": None})
    assert _names(verify(inst, d), f"targets[{name}]: not a target of the instance")


def test_a_missed_target_is_a_violation(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    tight = inst.model_copy(update={"targets": inst.targets.model_copy(update={"fleet_pue_max": 1.2})})
    assert _names(verify(tight, d), "targets[fleet_pue_max]: a plan must meet every target")



# --- a site PUE cap on a site with its hall on and no work ---------------------------


def _hall_on_no_work(raw: dict[str, Any], facility: dict[str, float],
                     servers: dict[str, int] | None = None) -> dict[str, Any]:
    """Two sites; every workload may run at s1 only, so s2 (one hall that stays on, 300 kW,
    50 srv servers at 1 kW idle) gets no work, under a PUE cap of 100 of its own."""
    for w in raw["workloads"]:
        w["sites"] = ["s1"]
    raw["facilities"]["poor"] = facility
    if servers is not None:
        raw["sites"][1]["servers"] = servers
    raw["targets"] = {"site_pue_max": {"s2": 100.0}}
    return raw


def test_a_site_pue_cap_on_a_hall_with_no_work_powers_idle_servers(base: dict[str, Any]) -> None:
    """Facility 1.5 / 2.2: k = (4 * 0.5 - 1.2) / 3 = 0.8 / 3, f = (0.5 - k) * 300 = 70 kW.
    With no work, P / IT <= 100 needs 70 + k IT <= 99 IT: IT = 70 / (99 - 0.8 / 3) kW of
    idle servers (1 kW each) powered beyond need, and the site's PUE is exactly 100."""
    raw = _hall_on_no_work(base, {"pue_full": 1.5, "pue_quarter": 2.2})
    res = computeplan.solve(raw)
    assert res.status == "optimal"
    s2 = res.sites.set_index("id").loc["s2"]
    it = 70.0 / (99.0 - 0.8 / 3)
    assert s2["it_kw"] == pytest.approx(it, rel=1e-6)
    assert s2["servers_beyond_need"] == pytest.approx(it, rel=1e-6)
    assert s2["pue"] == pytest.approx(100.0, rel=1e-6)
    d = res.to_dict()
    assert verify(raw, d) == []
    # the same plan with those servers switched off: a hall on, no IT, PUE infinite
    pool = next(p for p in d["pools"] if p["site"] == "s2")
    pool["servers_on"] = 0.0
    assert _names(verify(raw, d), "targets[site_pue_max.s2]: a plan must meet every target, value inf")


def test_a_site_pue_cap_on_a_hall_with_nothing_to_power_is_infeasible(base: dict[str, Any]) -> None:
    """No servers at s2: its hall's 70 kW of fixed overhead over no IT meets no finite cap."""
    raw = _hall_on_no_work(base, {"pue_full": 1.5, "pue_quarter": 2.2}, servers={})
    res = computeplan.solve(raw)
    assert res.status == "infeasible"
    (mv,) = res.diagnosis["moves"]
    assert mv["target"] == "site_pue_max[s2]" and mv["to"] is None and "no IT load" in mv["message"]
    assert verify(raw, res.to_dict()) == []


def test_a_site_drawing_no_power_passes_its_pue_cap(base: dict[str, Any]) -> None:
    """Facility 1.5 / 1.5: k = 0.5 and f = 0, so a hall on with no work draws nothing
    (P = IT = 0, PUE undefined); the row f z + k IT <= (T - 1) IT holds, and the site
    passes like an idle one, whatever its cap: the engine reports the target met with no
    value and verify agrees."""
    raw = _hall_on_no_work(base, {"pue_full": 1.5, "pue_quarter": 1.5})
    res = computeplan.solve(raw)
    assert res.status == "optimal"
    s2 = res.sites.set_index("id").loc["s2"]
    assert s2["it_kw"] == 0.0 and s2["facility_kw"] == 0.0 and s2["active_halls"] == 1
    (t,) = res.to_dict()["targets"]
    assert t["value"] is None and t["met"] is True
    d = res.to_dict()
    assert verify(raw, d) == []
    tight = copy.deepcopy(raw)
    tight["targets"] = {"site_pue_max": {"s2": 1.4}}
    assert verify(tight, d) == ["targets[site_pue_max.s2].target: reported 100.0, recomputed 1.4"]


@pytest.mark.parametrize("key", ["value", "bound", "gap", "name"])
@pytest.mark.parametrize("which", ["shanghai", "pue"])
def test_an_objective_lie_is_named(request: pytest.FixtureRequest, which: str, key: str) -> None:
    inst, d = _plan(request, which)
    o = d["objective"]
    if key == "bound":
        o["bound"] = o["value"] * 1.01  # above the objective of a minimisation
    elif key == "gap":
        o["gap"] = 0.05
    elif key == "name":
        o["name"] = "cost"
    else:
        _bump(o, key)
    assert _names(verify(inst, d), f"objective.{'value' if key == 'name' else key}")


@pytest.mark.parametrize("key", ["value", "bound", "gap", "name"])
def test_a_deleted_objective_key_is_named(shanghai: Any, key: str) -> None:
    inst, d = copy.deepcopy(shanghai)
    del d["objective"][key]
    assert _names(verify(inst, d), f"objective.{key}")


def test_a_gap_must_follow_a_lowered_bound(shanghai: Any) -> None:
    inst, d = copy.deepcopy(shanghai)
    d["objective"]["bound"] = d["objective"]["value"] * 0.9
    assert _names(verify(inst, d), "objective.gap")
    d["objective"]["gap"] = 0.1
    assert verify(inst, d) == []


def test_the_penalty_counts_in_the_objective(teaching: Any) -> None:
    inst, d = _case("optional", teaching)
    d["objective"]["value"] = d["indicators"]["energy_kwh"]  # the plan's energy without the penalty
    assert _names(verify(inst, d), "objective.value")


# --- status lies ----------------------------------------------------------------------


def _no_plan(d: dict[str, Any], status: str) -> dict[str, Any]:
    d.update(status=status, indicators={}, targets=[], sites=[], pools=[], assignments=[])
    d["objective"].update(value=None, gap=None)
    return d


@pytest.mark.parametrize("which", ["pue", "halls", "optional"])
def test_a_feasible_instance_claimed_infeasible_is_rejected(teaching: Any, which: str) -> None:
    inst, d = _case(which, teaching)
    assert _names(verify(inst, _no_plan(d, "infeasible")), "status infeasible")


def test_shanghai_claimed_infeasible_is_rejected(shanghai: Any) -> None:
    inst, d = copy.deepcopy(shanghai)
    assert _names(verify(inst, _no_plan(d, "infeasible")), "the instance is feasible")


def test_a_plan_under_a_no_plan_status_is_named(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    d["status"] = "time_limit"
    bad = verify(inst, d)
    assert _names(bad, "objective.value") and _names(bad, "assignments")
    assert verify(inst, _no_plan(d, "time_limit")) == []


def test_an_unknown_status_is_named(teaching: Any) -> None:
    inst, d = _case("pue", teaching)
    d["status"] = "solved"
    assert _names(verify(inst, d), "status")


# --- infeasibility evidence -------------------------------------------------------------


def _infeasible_instances() -> dict[str, Instance]:
    base = load_instance(TEACHING / "infeasible.yaml")  # capacity: 625 kW needed, 500 kW there
    site = base.sites[0]
    pools = base.model_copy(update={"sites": [site.model_copy(update={"it_capacity_kw": 5000.0,
                                                                      "servers": {"t-srv": 200}})]})
    pue = load_instance(TEACHING / "pue-target.yaml")
    target = pue.model_copy(update={"targets": pue.targets.model_copy(update={"fleet_pue_max": 1.05})})
    ece = pue.model_copy(update={"targets": pue.targets.model_copy(update={"fleet_pue_max": None,
                                                                           "ece_min": 30.0})})
    halls = load_instance(TEACHING / "idle-halls.yaml")
    halls = halls.model_copy(update={"sites": [s.model_copy(update={"it_capacity_kw": s.it_capacity_kw / 4})
                                               for s in halls.sites]})
    return {"capacity": base, "pool size": pools, "pue target": target, "ece target": ece,
            "idle halls": halls}


def _packing() -> Instance:
    """Indivisible jobs that fit nowhere whole (400 and 300 kW, sites of 600 and 250 kW),
    although the LP relaxation fits them: infeasible only as a MILP, no Farkas certificate."""
    inst = load_instance(TEACHING / "indivisible.yaml")
    a, b = inst.sites
    return inst.model_copy(update={"sites": [a, b.model_copy(update={"it_capacity_kw": 250.0})]})


INFEASIBLE = _infeasible_instances()


def _farkas(inst: Instance) -> dict[str, Any]:
    """The engine's LP relaxation of ``inst`` solved by HiGHS, its dual ray as evidence
    (multipliers of the rows as FORMULATION.md writes them)."""
    m = build_model(build_data(inst), relax=True)
    out = solve_highs(m, SolveOptions(relax=True), dual_ray=True)
    assert out.status == Termination.INFEASIBLE
    assert out.dual_ray is not None, "HiGHS gave no dual ray"
    return farkas_evidence(m.row_names(), out.dual_ray * m.row_scale())


def _claim(inst: Instance, evidence: dict[str, Any] | None) -> dict[str, Any]:
    d: dict[str, Any] = {
        "computeplan_result": 1, "instance": inst.name, "status": "infeasible", "method": "lp",
        "objective": {"name": "energy_kwh", "value": None, "bound": None, "gap": None},
        "solve_seconds": 0.1, "indicators": {}, "targets": [], "sites": [], "pools": [], "assignments": [],
        "diagnosis": None,
    }
    if evidence is not None:
        d["evidence"] = evidence
    return d


@pytest.mark.parametrize("name", list(INFEASIBLE))
def test_infeasible_instances_are_infeasible_for_the_engine(name: str) -> None:
    assert computeplan.solve(INFEASIBLE[name]).status.value == "infeasible"


@pytest.mark.parametrize("name", list(INFEASIBLE))
def test_a_farkas_certificate_proves_infeasibility(name: str) -> None:
    inst = INFEASIBLE[name]
    ev = _farkas(inst)
    assert ev["kind"] == "farkas" and ev["rows"]
    assert all(v != 0 for v in ev["rows"].values())
    assert verify(inst, _claim(inst, ev)) == []
    # either sign convention
    neg = {"kind": "farkas", "rows": {k: -v for k, v in ev["rows"].items()}}
    assert verify(inst, _claim(inst, neg)) == []


@pytest.mark.parametrize("name", list(INFEASIBLE))
def test_without_evidence_the_elastic_model_confirms(name: str) -> None:
    inst = INFEASIBLE[name]
    assert verify(inst, _claim(inst, None)) == []


def test_a_milp_claim_is_confirmed_by_the_elastic_model() -> None:
    inst = _packing()
    d = computeplan.solve(inst).to_dict()
    assert d["status"] == "infeasible" and d["method"] == "milp"
    assert verify(inst, d) == []
    relaxed = inst.model_copy(update={"workloads": [w.model_copy(update={"divisible": True}) for w in inst.workloads]})
    assert computeplan.solve(relaxed).status.value == "optimal"
    assert _names(verify(relaxed, _claim(relaxed, None)), "the instance is feasible")


def test_a_farkas_certificate_at_fleet_scale() -> None:
    inst = load_instance(computeplan.example_instance("shanghai-2025"))
    inst = inst.model_copy(update={"targets": inst.targets.model_copy(update={"ece_min": 400.0})})
    ev = _farkas(inst)
    assert verify(inst, _claim(inst, ev)) == []
    scaled = {"kind": "farkas", "rows": {k: (v * 0.5 if k == "ece_min" else v) for k, v in ev["rows"].items()}}
    assert _names(verify(inst, _claim(inst, scaled)), "does not prove infeasibility")


def test_a_forged_certificate_is_rejected() -> None:
    inst = INFEASIBLE["capacity"]
    ev = _farkas(inst)
    rows = ev["rows"]
    halved = {"kind": "farkas", "rows": {k: (v / 2 if k.startswith("assign") else v) for k, v in rows.items()}}
    assert _names(verify(inst, _claim(inst, halved)), "does not prove infeasibility")
    unknown = {"kind": "farkas", "rows": {**rows, "capacity[nowhere]": 1.0}}
    assert _names(verify(inst, _claim(inst, unknown)), "capacity[nowhere]")
    assert _names(verify(inst, _claim(inst, {"kind": "farkas", "rows": {}})), "evidence")
    assert _names(verify(inst, _claim(inst, {"kind": "guess"})), "evidence")


def test_a_certificate_of_another_instance_proves_nothing() -> None:
    ev = _farkas(INFEASIBLE["capacity"])  # same row names: one site s1, workload w1, pool s1/t-srv
    feasible = load_instance(TEACHING / "infeasible.yaml")
    feasible = feasible.model_copy(update={"sites": [feasible.sites[0].model_copy(update={"it_capacity_kw": 700.0})]})
    assert _names(verify(feasible, _claim(feasible, ev)), "does not prove infeasibility")


def test_farkas_evidence_drops_near_zero_multipliers() -> None:
    ev = farkas_evidence(["a", "b", "c"], np.array([1.0, 1e-12, -2.0]))
    assert ev == {"kind": "farkas", "rows": {"a": 1.0, "c": -2.0}}
    with pytest.raises(ValueError, match="2 entries for 3 rows"):
        farkas_evidence(["a", "b", "c"], np.array([1.0, 2.0]))


def test_the_teaching_infeasible_instance_needs_a_proof() -> None:
    inst = load_instance(TEACHING / "infeasible.yaml")
    d = computeplan.solve(inst).to_dict()
    assert d["status"] == "infeasible"
    assert verify(inst, d) == []  # no evidence in it yet: confirmed by the elastic model


# --- the default penalty, without the engine ---------------------------------------------


@pytest.mark.parametrize("objective", ["energy", "cost", "carbon"])
def test_the_default_penalty_is_the_engines(objective: str) -> None:
    generated = load_instance(generate_instance(2000, 20, seed=1, optional_share=0.2))
    for inst in (load_instance(computeplan.example_instance("shanghai-2025")), _optional_short(),
                 load_instance(TEACHING / "outage-three-sites.yaml"), generated):
        inst = inst.model_copy(update={"objective": objective})
        assert default_penalty(inst, site_views(inst)) == pytest.approx(build_data(inst).penalty, rel=1e-12)
        assert view(inst).penalty == pytest.approx(build_data(inst).penalty, rel=1e-12)


def test_verify_does_not_import_the_engine(teaching: Any, tmp_path: Path) -> None:
    _, d = teaching["optional"]
    bad, engine = verify_in_fresh_interpreter(TEACHING / "infeasible.yaml", d, tmp_path)
    assert engine == []
    # the instance there has its workload must-serve: the same plan now misses it
    assert any("must be served" in p for p in bad)


# --- command line ---------------------------------------------------------------------------


def test_cli_verify_exit_codes(teaching: Any, tmp_path: Path) -> None:
    inst = _load(TEACHING / "pue-target.yaml")
    res = computeplan.solve(inst)
    res.write(tmp_path / "out")
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", str(TEACHING / "pue-target.yaml"), str(tmp_path / "out")])
    assert ok.exit_code == 0, ok.output
    assert "every figure reproduced" in ok.output
    f = tmp_path / "out" / "result.json"
    d = json.loads(f.read_text())
    d["indicators"]["beyond_need_energy_kwh"] = 0.0
    f.write_text(json.dumps(d))
    bad = runner.invoke(app, ["verify", str(TEACHING / "pue-target.yaml"), str(f)])
    assert bad.exit_code == 1
    assert "beyond_need_energy_kwh" in bad.output
    del d["indicators"]
    f.write_text(json.dumps(d))
    bad = runner.invoke(app, ["verify", str(TEACHING / "pue-target.yaml"), str(f)])
    assert bad.exit_code == 1 and "indicators: section missing" in bad.output


def test_cli_verify_of_an_infeasible_claim(tmp_path: Path) -> None:
    runner = CliRunner()
    path = TEACHING / "infeasible.yaml"
    computeplan.solve(path).write(tmp_path)
    ok = runner.invoke(app, ["verify", str(path), str(tmp_path)])
    assert ok.exit_code == 0 and "infeasible" in ok.output
    claim = json.loads((tmp_path / "result.json").read_text())
    assert claim["evidence"]["kind"] == "farkas"  # the solve carries its certificate
    lie = _no_plan({k: v for k, v in claim.items() if k != "evidence"}, "infeasible")
    feasible = tmp_path / "two-sites"
    feasible.mkdir()
    (feasible / "result.json").write_text(json.dumps(lie))
    bad = runner.invoke(app, ["verify", str(TEACHING / "two-sites.yaml"), str(feasible)])
    assert bad.exit_code == 1 and "the instance is feasible" in bad.output


def test_cli_verify_unreadable_result(tmp_path: Path) -> None:
    f = tmp_path / "result.json"
    f.write_text("[1, 2]")
    r = CliRunner().invoke(app, ["verify", str(TEACHING / "one-site.yaml"), str(f)])
    assert r.exit_code == 2


@pytest.mark.parametrize(("which", "index", "old", "new", "figure"), [
    ("optional", 0, "used ", "used 9", "unserved_penalty"),
    ("pue", 0, "200 servers", "300 servers", "servers_beyond_need"),
    ("pue", 0, "220000 kWh", "22000 kWh", "beyond_need_energy_kwh"),
])
def test_a_figure_stated_in_a_note_is_recomputed(teaching: Any, which: str, index: int, old: str, new: str,
                                                 figure: str) -> None:
    inst, d = _case(which, teaching)
    assert old in d["notes"][index]
    d["notes"][index] = d["notes"][index].replace(old, new)
    assert _names(verify(inst, d), f"notes[{index}]: states {figure}")


@pytest.mark.parametrize(("path", "value", "figure"), [
    (("assignments", 0, "workload"), ["w1"], "workload must be text"),
    (("assignments", 0, "share"), "1", "assignments[w1@s1/t-srv].share"),
    (("pools",), 5, "pools: expected a list"),
    (("sites",), {"s1": 1}, "sites: expected a list"),
    (("sites", 0, "it_kw"), "800", "sites[s1].it_kw"),
    (("indicators",), [1], "indicators: expected a dict"),
    (("objective", "bound"), "x", "objective.bound"),
    (("targets", 0, "met"), "yes", "targets[fleet_pue_max].met"),
    (("notes",), {"x": 1}, "notes: expected a list"),
    (("objective",), None, "objective: expected an object"),
])
def test_a_malformed_result_is_named_not_a_crash(teaching: Any, path: tuple[Any, ...], value: Any,
                                                 figure: str) -> None:
    inst, d = _case("pue", teaching)
    target = d
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    assert _names(verify(inst, d), figure)
