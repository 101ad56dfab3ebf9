"""The oracle against optima worked out by hand.

One site, one GPU model, facility 1.20 / 1.50 so that
``k = (4 * 0.2 - 0.5) / 3 = 0.1`` and ``f = (0.2 - 0.1) * c = 0.1 c``.
"""

from __future__ import annotations

import copy
import math

import pytest

from .cases import EDGE_CASES, one_site
from .check_instances import INSTANCES, check
from .manifest import EXPECTED
from .reference import facility_coefficients, haversine_km, latency_ms, solve_reference

H = 8760.0


def test_facility_coefficients_example() -> None:
    k, f = facility_coefficients(1.25, 1.60, 1.0)
    assert k == pytest.approx(0.4 / 3)
    assert f == pytest.approx(0.25 - 0.4 / 3)
    with pytest.raises(ValueError):
        facility_coefficients(1.2, 2.2, 1.0)  # k = (0.8 - 1.2) / 3 < 0
    with pytest.raises(ValueError):
        facility_coefficients(1.5, 1.4, 1.0)  # pue_quarter < pue_full gives f < 0


def test_latency_from_coordinates_and_pairs() -> None:
    km = haversine_km(0.0, 0.0, 0.0, 1.0)
    assert km == pytest.approx(6371.0 * math.pi / 180.0)
    raw = one_site()
    assert latency_ms(raw, "a", "b") == pytest.approx(km * 1.5 * 0.005 + 0.5)  # 1.334 ms
    assert latency_ms(raw, "a", "a") == 0.5
    raw["latency_ms"] = [["b", "a", 7.0]]
    assert latency_ms(raw, "a", "b") == 7.0  # symmetric, overrides coordinates


def test_single_site_by_hand() -> None:
    """b = 40000 / 1000 = 40 busy, n = 40 / 0.8 = 50 on.

    IT = 2 * 50 + 8 * 40 = 420 kW; P = 420 + 100 + 42 = 562 kW.
    """
    res = solve_reference(one_site())
    assert res["status"] == "optimal"
    ind = res["indicators"]
    assert res["objective"] == pytest.approx(562 * H, rel=1e-9)
    assert ind["energy_kwh"] == pytest.approx(562 * H, rel=1e-9)
    assert ind["fleet_pue"] == pytest.approx(562 / 420, rel=1e-9)
    assert ind["ece_gflops_per_w"] == pytest.approx(40000 / 562, rel=1e-9)
    assert ind["cost"] == pytest.approx(562 * H * 0.5, rel=1e-9)
    assert ind["carbon_t"] == pytest.approx(562 * H * 0.6 * 0.75 / 1000, rel=1e-9)
    assert ind["renewable_share"] == pytest.approx(0.25, rel=1e-9)
    assert ind["served_tflops"] == pytest.approx(40000)
    assert ind["unserved_tflops"] == pytest.approx(0, abs=1e-9)
    assert ind["output_per_kwh"] == pytest.approx(0, abs=1e-12)
    # The objective can be switched: cost and carbon (kg) of the same plan.
    raw = one_site()
    raw["objective"] = "carbon"
    assert solve_reference(raw)["objective"] == pytest.approx(562 * H * 0.6 * 0.75, rel=1e-9)


def test_fleet_pue_met_by_idle_servers() -> None:
    """PUE <= 1.3 needs 100 + 0.1 IT <= 0.3 IT, so IT >= 500 kW: 80 kW more idle
    IT, i.e. 40 GPUs beyond the 50 needed; P = 500 + 100 + 50 = 650 kW."""
    raw = one_site()
    raw["targets"] = {"fleet_pue_max": 1.3}
    res = solve_reference(raw)
    assert res["objective"] == pytest.approx(650 * H, rel=1e-9)
    assert res["indicators"]["fleet_pue"] == pytest.approx(1.3, rel=1e-9)
    assert res["sites"][0]["servers_on"]["gpu-alpha"] == pytest.approx(90, rel=1e-9)
    # PUE <= 1.2 needs IT >= 1000 kW; 100 GPUs give at most 2 * 100 + 320 = 520 kW.
    raw["targets"] = {"fleet_pue_max": 1.2}
    assert solve_reference(raw)["status"] == "infeasible"


def test_site_pue_key_precedence() -> None:
    """A site id key wins over its tier's key."""
    raw = one_site()
    raw["targets"] = {"site_pue_max": {"hyperscale": 1.2, "s1": 1.3}}
    assert solve_reference(raw)["objective"] == pytest.approx(650 * H, rel=1e-9)
    raw["targets"] = {"site_pue_max": {"hyperscale": 1.3, "s1": 1.2}}
    assert solve_reference(raw)["status"] == "infeasible"


def test_idle_halls() -> None:
    """Two halls of 500 kW, f = 50 kW each: IT = 420 fits one hall; P = 420 + 50 + 42."""
    res = solve_reference(one_site(halls=2, can_idle=True))
    assert res["objective"] == pytest.approx(512 * H, rel=1e-9)
    assert res["sites"][0]["active_halls"] == 1
    # Without can_idle both halls stay on: P = 420 + 100 + 42 = 562 kW.
    res = solve_reference(one_site(halls=2))
    assert res["objective"] == pytest.approx(562 * H, rel=1e-9)


def test_unserved_penalty() -> None:
    """An optional CPU job of 400 TFLOPS fp64 (100 busy CPUs) costs
    100 * 0.6 kW * 1.1 / 400 TFLOPS = 0.165 kWh per TFLOPS-hour (with umax 1)."""
    raw = one_site(max_utilisation=1.0, servers={"gpu-alpha": 100, "cpu-alpha": 200})
    raw["workloads"].append(
        {
            "id": "w2",
            "class": "hpc",
            "demand_tflops": 400,
            "precision": "fp64",
            "hardware": ["cpu-alpha"],
            "origin": "a",
            "must_serve": False,
            "value_per_tflops_hour": 2.0,
        }
    )
    # Without a penalty the oracle does not guess the engine's default.
    assert solve_reference(raw)["status"] is None
    base = 2 * 40 + 8 * 40  # 400 kW of GPU IT at umax 1
    raw["unserved_penalty"] = 0.1  # < 0.165: leave it
    res = solve_reference(raw)
    assert res["indicators"]["unserved_tflops"] == pytest.approx(400)
    assert res["objective"] == pytest.approx((base * 1.1 + 100) * H + 0.1 * 400 * H, rel=1e-9)
    raw["unserved_penalty"] = 0.2  # > 0.165: serve it
    res = solve_reference(raw)
    assert res["indicators"]["unserved_tflops"] == pytest.approx(0, abs=1e-6)
    p = (base + 60) * 1.1 + 100
    assert res["objective"] == pytest.approx(p * H, rel=1e-9)
    assert res["indicators"]["output_per_kwh"] == pytest.approx(2.0 * 400 / p, rel=1e-9)


def test_latency_and_residency_filter_candidates() -> None:
    raw = one_site()
    second = copy.deepcopy(raw["sites"][0])
    second.update({"id": "s2", "zone": "b", "tier": "edge"})
    raw["sites"].append(second)
    w = raw["workloads"][0]
    assert {c[1] for c in solve_reference(raw)["candidates"]} == {"s1", "s2"}
    w["max_latency_ms"] = 1.3  # a-b is 1.334 ms
    assert {c[1] for c in solve_reference(raw)["candidates"]} == {"s1"}
    w["max_latency_ms"] = 1.34
    w["tiers"] = ["edge"]
    assert {c[1] for c in solve_reference(raw)["candidates"]} == {"s2"}
    w["tiers"] = None
    w["sites"] = ["s1"]
    assert {c[1] for c in solve_reference(raw)["candidates"]} == {"s1"}


def test_demand_beyond_capacity_is_infeasible() -> None:
    raw = one_site()
    raw["workloads"][0]["demand_tflops"] = 90000  # 90 busy, 112.5 on > 100 installed
    assert solve_reference(raw)["status"] == "infeasible"


def test_indivisible_workloads_pick_one_pool() -> None:
    """Three 60-server jobs on two sites of 100 GPUs: two cannot share a site
    when indivisible (120 > 100), but they fit (180 <= 200) when one may split."""
    raw = one_site(max_utilisation=1.0)
    raw["sites"].append(dict(raw["sites"][0], id="s2"))
    raw["workloads"][0]["demand_tflops"] = 60000
    raw["workloads"][0]["divisible"] = False
    raw["workloads"].append(dict(raw["workloads"][0], id="w2"))
    assert solve_reference(raw)["status"] == "optimal"
    raw["workloads"].append(dict(raw["workloads"][0], id="w3"))
    assert solve_reference(raw)["status"] == "infeasible"
    raw["workloads"][2]["divisible"] = True
    res = solve_reference(raw)
    assert res["status"] == "optimal"
    # 180 busy GPUs (1800 kW of IT at peak), both halls on: 1800 * 1.1 + 2 * 100.
    assert res["objective"] == pytest.approx((1800 * 1.1 + 200) * H, rel=1e-9)
    assert len([a for a in res["assignments"] if a["workload"] == "w3"]) == 2


def test_unknown_key_rejected() -> None:
    raw = one_site()
    raw["sites"][0]["halls_"] = 2
    with pytest.raises(ValueError, match="unknown keys"):
        solve_reference(raw)


# ------------------------------------------------------------ the oracle's instances

INSTANCE_NAMES = sorted(EXPECTED)


def test_every_instance_file_is_in_the_manifest() -> None:
    assert sorted(p.stem for p in INSTANCES.glob("*.yaml")) == INSTANCE_NAMES


@pytest.mark.parametrize("name", INSTANCE_NAMES)
def test_instance_optimum_binding_targets_and_unique_figures(name: str) -> None:
    """Recorded optimum, each listed target binds, every figure unique at the optimum."""
    assert check(name, verbose=False) == []


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_case_optimum(name: str) -> None:
    raw, optimum = EDGE_CASES[name]
    res = solve_reference(copy.deepcopy(raw))
    assert res["status"] == "optimal"
    assert res["objective"] == pytest.approx(optimum, rel=1e-9)
    if name == "nothing-served":
        ind = res["indicators"]
        assert ind["fleet_pue"] is None and ind["ece_gflops_per_w"] is None
        assert ind["renewable_share"] is None and ind["output_per_kwh"] is None
