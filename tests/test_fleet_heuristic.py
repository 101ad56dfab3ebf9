"""The fleet heuristic: feasible (verified) plans, a valid bound, a stated ratio to the
exact optimum; method choice; property: LP bound <= exact optimum <= heuristic."""

from __future__ import annotations

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import computeplan
from computeplan.io.generate import generate_instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.plan.solve import choose_method
from computeplan.solvers.highs import solve_highs

# Passes, not seconds: a plan (and its ratio to the optimum) must not depend on the clock.
PASSES = 50


def lp_bound(inst: computeplan.Instance) -> float:
    d = build_data(inst)
    out = solve_highs(build_model(d, relax=True))
    assert out.objective is not None
    return out.objective * d.horizon


def test_heuristic_on_generated_fleet_is_near_optimal():
    inst = computeplan.load_instance(generate_instance(600, 15, seed=4))
    heur = computeplan.solve(inst, method="heuristic", max_passes=PASSES)
    exact = computeplan.solve(inst, method="milp", mip_gap=1e-7)
    assert heur.status.has_plan and exact.status == "optimal"
    assert computeplan.verify(inst, heur) == []
    assert heur.bound <= exact.objective_value * (1 + 1e-9)
    assert exact.objective_value <= heur.objective_value * (1 + 1e-9)
    assert heur.objective_value <= exact.objective_value * 1.01, "within 1 % of the optimum"
    assert heur.gap == pytest.approx((heur.objective_value - heur.bound) / heur.objective_value, rel=1e-9)


def test_heuristic_meets_targets_exactly(base):
    raw = copy.deepcopy(base)
    raw["targets"] = {"fleet_pue_max": 1.45}
    inst = computeplan.load_instance(raw)
    heur = computeplan.solve(inst, method="heuristic", max_passes=PASSES)
    exact = computeplan.solve(inst)
    assert heur.status.has_plan and computeplan.verify(inst, heur) == []
    assert heur.indicators["fleet_pue"] <= 1.45 * (1 + 1e-9)
    assert heur.objective_value >= exact.objective_value * (1 - 1e-9)


def test_heuristic_says_when_it_finds_no_plan(base):
    raw = copy.deepcopy(base)
    raw["workloads"][0]["demand_tflops"] = 1e6
    res = computeplan.solve(computeplan.load_instance(raw), method="heuristic", max_passes=PASSES)
    assert res.status == "time_limit" and res.objective_value is None
    assert res.notes


def test_heuristic_is_deterministic_with_a_pass_limit():
    inst = computeplan.load_instance(generate_instance(300, 8, seed=2, indivisible_share=0.3, idle_share=1.0))
    a = computeplan.solve(inst, method="heuristic", max_passes=3, seed=1)
    b = computeplan.solve(inst, method="heuristic", max_passes=3, seed=1)
    assert a.objective_value == b.objective_value and a.bound == b.bound
    assert a.to_dict()["assignments"] == b.to_dict()["assignments"]
    # the pass limit, not the clock, bounds the local search
    assert a.extra["heuristic"]["passes"] <= 3 * (1 + 3)


def test_auto_method_choice_explains_itself(base):
    d = build_data(computeplan.load_instance(base))
    assert choose_method(d, "auto") == ("lp", "every decision is continuous")
    raw = copy.deepcopy(base)
    raw["sites"][0]["can_idle"] = True
    run, why = choose_method(build_data(computeplan.load_instance(raw)), "auto")
    assert run == "milp" and "idle-able" in why


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), n=st.integers(20, 120), m=st.integers(3, 8),
       indivisible=st.sampled_from([0.0, 0.3]), idle=st.sampled_from([0.0, 1.0]))
def test_property_bound_exact_heuristic(seed, n, m, indivisible, idle):
    inst = computeplan.load_instance(generate_instance(n, m, seed=seed, indivisible_share=indivisible,
                                                       idle_share=idle))
    lp = lp_bound(inst)
    exact = computeplan.solve(inst, method="milp" if build_data(inst).has_integers else "lp", mip_gap=1e-9)
    heur = computeplan.solve(inst, method="heuristic", max_passes=PASSES, seed=seed)
    assert exact.status == "optimal"
    assert lp <= exact.objective_value * (1 + 1e-7)
    assert heur.status.has_plan and computeplan.verify(inst, heur) == []
    # 1e-6: the MILP's own optimality tolerance
    assert exact.objective_value <= heur.objective_value * (1 + 1e-6)
    assert heur.bound <= exact.objective_value * (1 + 1e-6)


def test_milp_warm_started_from_the_heuristic_is_no_worse():
    inst = computeplan.load_instance(generate_instance(800, 12, seed=9, indivisible_share=0.3))
    heur = computeplan.solve(inst, method="heuristic", max_passes=PASSES)
    warm = computeplan.solve(inst, method="milp", time_limit=20, mip_gap=1e-6, warm_start=True)
    assert "fleet heuristic" in warm.extra["method_reason"]
    assert warm.status.has_plan and computeplan.verify(inst, warm) == []
    assert warm.objective_value <= heur.objective_value * (1 + 1e-9)


def test_must_serve_work_takes_the_place_of_optional_work():
    """Pool s1/g holds 100 servers, s2/g 30. The optional indivisible job (60 servers' worth,
    s1 only) is placed first, as it has one place to go; then the must-serve job (50 servers'
    worth, divisible) fits neither in the 40 left at s1 nor in the 30 at s2 whole. The repair
    leaves the optional job unserved to make room: a plan, not "no plan"."""
    site = {"tier": "midsize", "zone": "a", "facility": "f", "it_capacity_kw": 1000.0,
            "price_per_kwh": 0.5, "carbon_kg_per_kwh": 0.5}
    raw = {
        "computeplan": 1, "name": "repair", "horizon_hours": 1000, "unserved_penalty": 1.0,
        "hardware": {"g": {"perf_tflops": {"fp16": 100.0}, "idle_kw": 0.5, "peak_kw": 2.5}},
        "facilities": {"f": {"pue_full": 1.2, "pue_quarter": 1.5}},
        "zones": {"a": {"lat": 31.0, "lon": 121.0}},
        "sites": [{**site, "id": "s1", "servers": {"g": 100}}, {**site, "id": "s2", "servers": {"g": 30}}],
        "workloads": [
            {"id": "opt", "class": "general", "demand_tflops": 6000.0, "precision": "fp16", "hardware": ["g"],
             "origin": "a", "sites": ["s1"], "must_serve": False, "divisible": False},
            {"id": "must", "class": "general", "demand_tflops": 5000.0, "precision": "fp16", "hardware": ["g"],
             "origin": "a"},
        ],
    }
    inst = computeplan.load_instance(raw)
    heur = computeplan.solve(inst, method="heuristic", max_passes=PASSES)
    assert heur.status.has_plan, heur.notes
    assert computeplan.verify(inst, heur) == []
    served = heur.assignments.groupby("workload")["share"].sum()
    assert served["must"] == pytest.approx(1.0)
    exact = computeplan.solve(inst, method="milp")
    assert heur.objective_value >= exact.objective_value * (1 - 1e-9)
