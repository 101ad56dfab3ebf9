"""Build-out decisions (FORMULATION.md section 11) against optima worked out by hand in the
teaching instances' headers, an independent route (CBC through PuLP), and the property that
an instance whose build limits are all zero is today's instance."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support import verify_in_fresh_interpreter

import computeplan
from computeplan.errors import UsageError
from computeplan.model.build import build_model
from computeplan.model.data import build_data

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"


def solved(name: str, **kw: Any) -> computeplan.Result:
    res = computeplan.solve(TEACHING / f"{name}.yaml", **kw)
    assert res.status.value == "optimal", res.status
    assert computeplan.verify(computeplan.load_instance(TEACHING / f"{name}.yaml"), res) == []
    return res


def by_site(records: list[dict[str, Any]], key: str = "site") -> dict[str, dict[str, Any]]:
    return {f"{r[key]}/{r['hardware']}" if "hardware" in r else r[key]: r for r in records}


def test_short_site_builds_a_hall_and_servers_where_power_is_cheap():
    res = solved("build-short")
    assert res.objective_value == pytest.approx(168_680.0, rel=1e-9)
    assert res.indicators["capex_per_year"] == pytest.approx(11_000.0)
    assert res.indicators["cost"] == pytest.approx(157_680.0)
    assert res.indicators["energy_kwh"] == pytest.approx(1_576_800.0)
    assert res.indicators["server_utilisation"] == pytest.approx(1.0)  # 150 busy of 100 + 50 installed
    build = res.extra["build"]
    assert by_site(build["halls"])["a"]["new_halls"] == 1
    assert by_site(build["halls"])["a"]["capex_per_year"] == pytest.approx(1_000.0)
    servers = by_site(build["servers"])
    assert servers["a/t-srv"]["new_servers"] == pytest.approx(50.0)
    assert servers["b/t-srv"]["new_servers"] == pytest.approx(0.0)
    assert build["sites_opened"] == []
    sites = {s["id"]: s for s in res.site_records}
    assert sites["a"]["active_halls"] == 2 and sites["a"]["it_kw"] == pytest.approx(150.0)
    # neither limit binds: no value in allowing more
    assert all(r["shadow_price"] == pytest.approx(0.0, abs=1e-6) for r in build["halls"] + build["servers"])
    assert "build decisions" in res.extra["method_reason"] and res.method == "milp"


def test_candidate_site_that_just_pays_off_is_opened():
    res = solved("build-site-pays")
    assert res.objective_value == pytest.approx(210_120.0, rel=1e-9)
    assert res.indicators["capex_per_year"] == pytest.approx(105_000.0)
    build = res.extra["build"]
    assert build["sites_opened"] == [{"site": "west", "capex_per_year": pytest.approx(84_000.0), "workloads": ["w1"]}]
    assert by_site(build["halls"])["west"]["new_halls"] == 1
    assert by_site(build["servers"])["west/t-srv"]["new_servers"] == pytest.approx(100.0)
    # the parts add up to the total
    total = sum(r["capex_per_year"] for key in ("halls", "servers", "sites_opened") for r in build[key])
    assert total == pytest.approx(build["capex_per_year"])


def test_candidate_site_that_just_does_not_pay_off_stays_shut():
    res = solved("build-site-fails")
    assert res.objective_value == pytest.approx(210_240.0, rel=1e-9)
    assert res.indicators["capex_per_year"] == 0.0
    build = res.extra["build"]
    assert build["sites_opened"] == []
    assert all(r["new_halls"] == 0 for r in build["halls"]) and all(r["new_servers"] == 0 for r in build["servers"])
    assert {a["site"] for a in res.assignment_records} == {"home"}


def test_binding_budget_and_its_shadow_price():
    res = solved("build-budget")
    assert res.objective_value == pytest.approx(232_680.0, rel=1e-9)
    servers = by_site(res.extra["build"]["servers"])
    assert servers["s/t-eff"]["new_servers"] == pytest.approx(50.0)
    assert servers["s/t-std"]["new_servers"] == pytest.approx(50.0)
    (t,) = res.target_list
    assert t["name"] == "capex_max" and t["value"] == pytest.approx(75_000.0) and t["met"]
    assert t["shadow_price"] == pytest.approx(-1.1024, rel=1e-6)
    # the shadow price predicts the objective one unit of budget later (the LP is linear there)
    inst = computeplan.load_instance(TEACHING / "build-budget.yaml")
    more = inst.model_copy(update={"targets": inst.targets.model_copy(update={"capex_max": 75_100.0})})
    res2 = computeplan.solve(more)
    assert res2.objective_value == pytest.approx(232_680.0 - 110.24, rel=1e-9)


def test_without_budget_all_efficient_servers():
    inst = computeplan.load_instance(TEACHING / "build-budget.yaml")
    free = inst.model_copy(update={"targets": inst.targets.model_copy(update={"capex_max": None})})
    res = computeplan.solve(free)
    # 100 x (1,000 + 1,051.2)
    assert res.objective_value == pytest.approx(205_120.0, rel=1e-9)
    assert by_site(res.extra["build"]["servers"])["s/t-eff"]["new_servers"] == pytest.approx(100.0)


def test_server_limit_that_binds_has_its_value_by_hand():
    # build-budget without the budget, t-eff limited to 40: the 41st t-eff server would
    # replace a t-std one, saving 2,602.4 - 2,051.2 = 551.2 per year
    raw = computeplan.load_instance(TEACHING / "build-budget.yaml").model_dump(by_alias=True)
    raw["targets"] = {}
    raw["sites"][0]["build"]["servers_max"]["t-eff"] = 40
    res = computeplan.solve(raw)
    servers = by_site(res.extra["build"]["servers"])
    assert servers["s/t-eff"]["new_servers"] == pytest.approx(40.0)
    assert servers["s/t-eff"]["shadow_price"] == pytest.approx(-551.2, rel=1e-6)
    assert servers["s/t-std"]["shadow_price"] == pytest.approx(0.0, abs=1e-6)


def test_hall_limit_that_binds_has_its_value_by_hand():
    # build-short with one hall to build at a and 25,000 TFLOPS (250 servers): a fills its two
    # halls (200 kW), 50 kW run at b. With the integers fixed, a fraction of one more hall at a
    # would move load from b's 0.2 power to a's 0.1: 1.2 x 8,760 x 0.1 = 1,051.2 per kW-year,
    # 105,120 per 100 kW hall, less the hall's 1,000: the limit is worth -104,120 per hall.
    raw = computeplan.load_instance(TEACHING / "build-short.yaml").model_dump(by_alias=True)
    raw["sites"][0]["build"]["halls_max"] = 1
    raw["workloads"][0]["demand_tflops"] = 25_000.0
    res = computeplan.solve(raw)
    halls = by_site(res.extra["build"]["halls"])
    assert halls["a"]["new_halls"] == 1
    assert halls["a"]["shadow_price"] == pytest.approx(-104_120.0, rel=1e-6)
    assert res.objective_value == pytest.approx(250 * 1.2 * 8760 * 0.1 + 50 * 1.2 * 8760 * 0.1 + 1_000 + 150 * 200)


def test_energy_objective_ignores_capital_and_carbon_adds_embodied():
    inst = computeplan.load_instance(TEACHING / "build-budget.yaml")
    hw = {k: v.model_copy(update={"embodied_kg": 500.0 if k == "t-eff" else 100.0}) for k, v in inst.hardware.items()}
    inst = inst.model_copy(update={"hardware": hw, "targets": inst.targets.model_copy(update={"capex_max": None})})
    energy = computeplan.solve(inst, objective="energy")
    # energy: all t-eff (1 kW each), 100 x 1.2 x 8,760; capital is not in the objective
    assert energy.objective_value == pytest.approx(1_051_200.0, rel=1e-9)
    carbon = computeplan.solve(inst, objective="carbon")
    # carbon per server-year: t-eff 1.2 x 8,760 x 0.5 + 500 / 5 = 5,356; t-std 10,512 + 20 = 10,532
    assert carbon.objective_value == pytest.approx(100 * 5_356.0, rel=1e-9)
    assert carbon.indicators["embodied_carbon_t"] == pytest.approx(100 * 100 / 1000)
    assert carbon.indicators["carbon_t"] == pytest.approx(525.6)


def test_discounted_capital_uses_the_capital_recovery_factor():
    inst = computeplan.load_instance(TEACHING / "build-short.yaml").model_copy(update={"discount_rate": 0.08})
    res = computeplan.solve(inst)
    crf5 = 0.08 / (1 - 1.08 ** -5)
    crf10 = 0.08 / (1 - 1.08 ** -10)
    assert res.indicators["capex_per_year"] == pytest.approx(1 * 10_000 * crf10 + 50 * 1_000 * crf5, rel=1e-9)
    assert computeplan.verify(inst, res) == []


def test_heuristic_is_a_usage_error_on_a_build_instance():
    with pytest.raises(UsageError, match="does not decide what to build"):
        computeplan.solve(TEACHING / "build-short.yaml", method="heuristic")


@pytest.mark.parametrize("name", ["build-short", "build-budget", "build-site-pays", "build-site-fails"])
def test_cbc_and_highs_agree(name):
    a = solved(name)
    b = computeplan.solve(TEACHING / f"{name}.yaml", solver="cbc")
    assert b.objective_value == pytest.approx(a.objective_value, rel=1e-7)
    assert b.indicators["capex_per_year"] == pytest.approx(a.indicators["capex_per_year"], rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("name", ["build-site-pays", "build-budget"])
def test_export_round_trip(tmp_path, name):
    # the exported model, read back by HiGHS (LP and MPS) and by CBC (MPS), has the optimum
    # of result.json: the build columns, rows and capital terms are all in the file
    import pulp

    from computeplan.solvers import SolveOptions
    from computeplan.solvers.highs import read_program, solve_highs
    from computeplan.solvers.pulp_backend import write_model

    value = solved(name).objective_value
    m = build_model(build_data(computeplan.load_instance(TEACHING / f"{name}.yaml")))
    for kind in ("lp", "mps"):
        write_model(m, tmp_path / f"m.{kind}")
        sol = solve_highs(read_program(tmp_path / f"m.{kind}"), SolveOptions(mip_gap=1e-9))
        assert sol.objective == pytest.approx(value, rel=1e-7)
    assert "build_open" in (tmp_path / "m.lp").read_text() or name == "build-budget"
    _, prob = pulp.LpProblem.fromMPS(str(tmp_path / "m.mps"))
    prob.solve(pulp.PULP_CBC_CMD(msg=False, gapRel=1e-9))
    assert pulp.value(prob.objective) == pytest.approx(value, rel=1e-7)


def test_verify_rejects_tampered_capital_figures():
    inst = computeplan.load_instance(TEACHING / "build-site-pays.yaml")
    good = solved("build-site-pays").to_dict()
    for path, value, named in [
        (("build", "capex_per_year"), 1.0, "build.capex_per_year"),
        (("indicators", "capex_per_year"), 1.0, "indicators.capex_per_year"),
        (("build", "halls", 0, "capex_per_year"), 5.0, "build.halls[west].capex_per_year"),
        (("build", "servers", 0, "new_servers"), 50.0, "servers_on"),
        (("build", "halls", 0, "new_halls"), 2, "build.halls[west].new_halls"),
        (("build", "sites_opened", 0, "capex_per_year"), 0.0, "build.sites_opened[west].capex_per_year"),
        (("build", "sites_opened", 0, "workloads"), [], "build.sites_opened[west].workloads"),
        (("build", "embodied_carbon_t"), 3.0, "build.embodied_carbon_t"),
    ]:
        bad = copy.deepcopy(good)
        at: Any = bad
        for k in path[:-1]:
            at = at[k]
        at[path[-1]] = value
        problems = computeplan.verify(inst, bad)
        assert any(named in p for p in problems), (path, problems)
    bad = copy.deepcopy(good)
    bad["build"]["sites_opened"] = []
    assert any("sites_opened[west]" in p for p in computeplan.verify(inst, bad))
    bad = copy.deepcopy(good)
    del bad["build"]
    assert any(p.startswith("build") for p in computeplan.verify(inst, bad))


def test_verify_of_a_build_plan_imports_no_engine(tmp_path):
    d = solved("build-site-pays").to_dict()
    d["build"]["capex_per_year"] = 7.0
    bad, engine = verify_in_fresh_interpreter(TEACHING / "build-site-pays.yaml", d, tmp_path)
    assert engine == []
    assert any("build.capex_per_year" in p for p in bad)


def _zero_build(raw: dict[str, Any], site_capex: float | None) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for h in out["hardware"].values():
        h["capex"] = 1000.0
        h["embodied_kg"] = 50.0
    for s in out["sites"]:
        s["build"] = {"halls_max": 0, "servers_max": {h: 0 for h in out["hardware"]}}
        if site_capex is not None:
            s["build"]["site_capex"] = site_capex
    out["targets"] = {**out.get("targets", {}), "capex_max": 0.0}
    return out


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(objective=st.sampled_from(["energy", "cost", "carbon"]), scale=st.sampled_from([0.3, 1.0, 1.5]),
       can_idle=st.booleans(), site_capex=st.sampled_from([None, 0.0, 5.0e6]),
       util=st.sampled_from([None, 0.2]))
def test_zero_build_limits_change_nothing(base, objective, scale, can_idle, site_capex, util):
    raw = copy.deepcopy(base)
    raw["objective"] = objective
    raw["sites"][0]["can_idle"] = can_idle
    for w in raw["workloads"]:
        w["demand_tflops"] *= scale
    if util is not None:
        raw["targets"] = {"server_utilisation_min": util}
    plain = computeplan.solve(raw)
    built = computeplan.solve(_zero_build(raw, site_capex))
    assert built.status == plain.status
    if plain.objective_value is None:
        return
    assert built.objective_value == pytest.approx(plain.objective_value, rel=1e-9)
    for k, v in plain.indicators.items():
        assert built.indicators[k] == pytest.approx(v, rel=1e-9, abs=1e-9), k
    assert built.indicators["capex_per_year"] == 0.0 and built.indicators["embodied_carbon_t"] == 0.0
    assert "capex_per_year" not in plain.indicators and "build" not in plain.to_dict()


def test_build_over_flat_periods_gives_the_single_period_optimum():
    # build-short with 24 flat hours recurring 365 times (the same 8,760 h): the hand-worked
    # optimum of its header holds, 1 hall and 50 servers at a, 168,680; and verify accepts
    # the plan, built servers counting as installed in every period.
    import yaml

    raw = yaml.safe_load((TEACHING / "build-short.yaml").read_text())
    raw["time"] = {"periods": {"hours": [1] * 24, "weight": [365] * 24}}
    inst = computeplan.load_instance(raw)
    res = computeplan.solve(inst)
    assert res.status == "optimal"
    assert abs(res.objective_value - 168_680.0) < 1e-6 * 168_680.0
    build = res.extra["build"]
    assert [(h["site"], h["new_halls"]) for h in build["halls"]] == [("a", 1)]
    assert {(s["site"], round(s["new_servers"], 6)) for s in build["servers"]} == {("a", 50.0), ("b", 0.0)}
    assert computeplan.verify(inst, res) == []
