"""The teaching instances in instances/teaching/, solved and checked against the optimum
worked out by hand in each file's header comment.

Each expectation below is the arithmetic of that comment (facility kW = IT + f*z + k*IT,
energy = facility kW x horizon, PUE = facility / IT, ECE = served TFLOPS / facility kW).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import computeplan

TEACHING = Path(__file__).resolve().parent.parent / "instances" / "teaching"
REL = 1e-9


def approx(value: float) -> object:
    return pytest.approx(value, rel=REL, abs=1e-9)


# For every solved instance: fleet figures, then per site (IT kW, overhead kW, facility
# kW, active halls), per pool (busy servers, servers on) and per assignment (share).
EXPECTED = {
    "one-site.yaml": {
        "energy_kwh": 815 * 8760,  # 7,139,400
        "fleet_pue": 815 / 650,
        "ece": 20000 / 815,
        "extra": {"cost": 815 * 8760 * 0.60, "carbon_t": 815 * 8760 * 0.50 / 1000},
        "sites": {"s1": (650, 165, 815, 1)},
        "pools": {("s1", "t-srv"): (200, 250)},
        "assignments": {("w1", "s1", "t-srv"): 1.0},
    },
    "two-sites.yaml": {
        "energy_kwh": 1040 * 1000,
        "fleet_pue": 1040 / 750,
        "ece": 30000 / 1040,
        "sites": {"a": (600, 60, 660, 1), "b": (150, 230, 380, 1)},
        "pools": {("a", "t-srv"): (240, 240), ("b", "t-srv"): (60, 60)},
        "assignments": {("w1", "a", "t-srv"): 0.8, ("w1", "b", "t-srv"): 0.2},
    },
    "pue-target.yaml": {
        "energy_kwh": 980 * 1000,
        "fleet_pue": 1.225,
        "ece": 20000 / 980,
        "sites": {"s1": (800, 180, 980, 1)},
        # 200 servers on beyond the 200 busy ones: their idle power meets the PUE target
        "pools": {("s1", "t-srv"): (200, 400)},
        "assignments": {("w1", "s1", "t-srv"): 1.0},
    },
    "idle-halls.yaml": {
        "energy_kwh": 1315 * 1000,
        "fleet_pue": 1315 / 1050,
        "ece": 42000 / 1315,
        # site a runs 2 of its 4 halls
        "sites": {"a": (1000, 200, 1200, 2), "b": (50, 65, 115, 1)},
        "pools": {("a", "t-srv"): (400, 400), ("b", "t-srv"): (20, 20)},
        "assignments": {("w1", "a", "t-srv"): 20 / 21, ("w1", "b", "t-srv"): 1 / 21},
    },
    "server-utilisation.yaml": {
        "energy_kwh": 860 * 1000,
        "fleet_pue": 860 / 600,
        "ece": 10000 / 860,
        "extra": {"server_utilisation": 325 / 1300},
        "sites": {"s1": (600, 260, 860, 1)},
        # 2,500 of the 10,000 TFLOPS moved to the slow servers to reach 325 busy servers
        "pools": {("s1", "fast"): (75, 75), ("s1", "slow"): (250, 250)},
        "assignments": {("w1", "s1", "fast"): 0.75, ("w1", "s1", "slow"): 0.25},
    },
    "indivisible.yaml": {
        "energy_kwh": 1115 * 1000,
        "fleet_pue": 1115 / 800,
        "ece": 32000 / 1115,
        "sites": {"a": (500, 55, 555, 1), "b": (300, 260, 560, 1)},
        "pools": {("a", "t-srv"): (200, 200), ("b", "t-srv"): (120, 120)},
        "assignments": {
            ("big", "a", "t-srv"): 1.0,
            ("mid", "b", "t-srv"): 1.0,
            ("small", "a", "t-srv"): 1.0,
        },
    },
}


def test_teaching_files_exist() -> None:
    files = {p.name for p in TEACHING.glob("*.yaml")}
    assert {*EXPECTED, "infeasible.yaml"} <= files


@pytest.fixture(scope="module")
def solved() -> dict[str, tuple[object, object]]:
    out = {}
    for name in EXPECTED:
        inst = computeplan.load_instance(TEACHING / name)
        out[name] = (inst, computeplan.solve(inst))
    return out


@pytest.mark.parametrize("name", list(EXPECTED))
def test_fleet_optimum(name: str, solved: dict) -> None:
    _, res = solved[name]
    exp = EXPECTED[name]
    assert res.status == "optimal"
    assert res.objective_value == approx(exp["energy_kwh"])
    assert res.indicators["energy_kwh"] == approx(exp["energy_kwh"])
    assert res.indicators["fleet_pue"] == approx(exp["fleet_pue"])
    assert res.indicators["ece_gflops_per_w"] == approx(exp["ece"])
    for key, value in exp.get("extra", {}).items():
        assert res.indicators[key] == approx(value)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_sites(name: str, solved: dict) -> None:
    _, res = solved[name]
    sites = res.sites.set_index("id")
    for sid, (it_kw, overhead_kw, facility_kw, halls) in EXPECTED[name]["sites"].items():
        row = sites.loc[sid]
        assert row["it_kw"] == approx(it_kw)
        assert row["overhead_kw"] == approx(overhead_kw)
        assert row["facility_kw"] == approx(facility_kw)
        assert row["pue"] == approx(facility_kw / it_kw)
        assert round(float(row["active_halls"])) == halls


@pytest.mark.parametrize("name", list(EXPECTED))
def test_pools(name: str, solved: dict) -> None:
    _, res = solved[name]
    pools = res.pools.set_index(["site", "hardware"])
    for key, (busy, on) in EXPECTED[name]["pools"].items():
        row = pools.loc[key]
        assert row["busy_servers"] == approx(busy)
        assert row["servers_on"] == approx(on)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_assignments(name: str, solved: dict) -> None:
    _, res = solved[name]
    got = {
        (r["workload"], r["site"], r["hardware"]): float(r["share"])
        for _, r in res.assignments.iterrows()
        if float(r["share"]) > 1e-9
    }
    exp = EXPECTED[name]["assignments"]
    assert set(got) == set(exp)
    for key, share in exp.items():
        assert got[key] == approx(share)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_plan_verifies(name: str, solved: dict) -> None:
    inst, res = solved[name]
    assert computeplan.verify(inst, res) == []


def test_pue_target_binds() -> None:
    inst = computeplan.load_instance(TEACHING / "pue-target.yaml")
    res = computeplan.solve(inst)
    row = res.targets.set_index("name").loc["fleet_pue_max"]
    assert bool(row["met"])
    assert row["value"] == approx(1.225)


def test_server_utilisation_target_binds_with_its_shadow_price() -> None:
    # The header of server-utilisation.yaml: 1,300 busy servers per unit of the target,
    # each (0.12 / 0.09) kW IT x 1.1 facility, over 1,000 h.
    inst = computeplan.load_instance(TEACHING / "server-utilisation.yaml")
    res = computeplan.solve(inst)
    row = res.targets.set_index("name").loc["server_utilisation_min"]
    assert bool(row["met"])
    assert row["value"] == approx(0.25)
    assert row["shadow_price"] == pytest.approx(1300 * (0.12 / 0.09) * 1.1 * 1000, rel=1e-7)
    # the plan without the target runs everything on the fast servers
    free = computeplan.solve(inst.model_copy(update={"targets": inst.targets.model_copy(
        update={"server_utilisation_min": None})}))
    assert free.indicators["server_utilisation"] == approx(100 / 1300)
    assert free.objective_value == approx(530 * 1000)


def test_infeasible_demand_beyond_capacity() -> None:
    # 25,000 TFLOPS needs 625 IT kW at s1, which has 500: 5,000 TFLOPS short.
    inst = computeplan.load_instance(TEACHING / "infeasible.yaml")
    res = computeplan.solve(inst)
    assert res.status == "infeasible"
