"""Questions beyond one solve: sweeps, headroom, outages, capacity value, Dask runs.

Expected figures are worked by hand (teaching instances, their header comments) or come
from independent re-solves (bisection over complete solves, finite differences).
"""

from __future__ import annotations

import copy
import json
import math
import operator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import computeplan
from computeplan import analysis
from computeplan.analysis.parallel import run_points
from computeplan.cli import app
from computeplan.errors import UsageError
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.solvers.highs import solve_highs

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"
SHANGHAI = ROOT / "instances" / "shanghai-2025.yaml"
runner = CliRunner()


def write(tmp_path: Path, raw: dict[str, Any], name: str = "inst.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(raw))
    return p


# --------------------------------------------------------------------------------------
# Varied paths
# --------------------------------------------------------------------------------------
def test_parse_vary_grid_and_lists() -> None:
    v = analysis.parse_vary("targets.fleet_pue_max=1.2:1.3:11")
    assert v.path == "targets.fleet_pue_max"
    assert v.values == tuple(round(1.2 + 0.01 * k, 12) for k in range(11))
    assert analysis.parse_vary("demand.scale=1,1.5, 2").values == (1.0, 1.5, 2.0)
    for bad in ("targets.fleet_pue_max", "targets.fleet_pue_max=1:2", "targets.fleet_pue_max=1:2:0",
                "demand.scale=a,b"):
        with pytest.raises(UsageError, match="--vary"):
            analysis.parse_vary(bad)


def test_apply_values_sets_every_kind_of_path(base: dict[str, Any]) -> None:
    inst = computeplan.load_instance(base)
    out = analysis.apply_values(inst, {
        "targets.fleet_pue_max": 1.4, "targets.site_pue_max.edge": 1.9, "demand.scale": 2.0,
        "demand.class.general.scale": 0.5, "sites.s2.it_capacity_kw": 450.0, "sites.s1.servers.srv": 300,
    })
    assert out.targets.fleet_pue_max == 1.4 and out.targets.site_pue_max == {"edge": 1.9}
    demand = {w.id: w.demand_tflops for w in out.workloads}
    assert demand == {"w1": 40000.0, "w2": 800.0}  # w2 (general): x 2 x 0.5
    assert out.sites[1].it_capacity_kw == 450.0 and out.sites[0].servers["srv"] == 300
    assert inst.targets.fleet_pue_max is None, "the base instance is not changed"


@pytest.mark.parametrize(("values", "message"), [
    ({"targets.fleet_pue_max": 0.9}, "targets.fleet_pue_max: must be >= 1"),
    ({"targets.renewable_share_min": 1.5}, "targets.renewable_share_min"),
    ({"targets.site_pue_max.moon": 1.3}, "site_pue_max keys are tier names"),
    ({"demand.class.nope.scale": 2.0}, "no workload of class 'nope'"),
    ({"demand.scale": 0.0}, "demand.scale: must be > 0"),
    ({"sites.s9.it_capacity_kw": 10.0}, "unknown site 's9'"),
    ({"sites.s1.it_capacity_kw": -1.0}, r"sites.s1.it_capacity_kw: must be > 0"),
    ({"sites.s1.halls": 1.5}, "whole number"),
    ({"targets.pue": 1.3}, "not a path that can be varied"),
])
def test_apply_values_rejects_bad_input_naming_the_field(base: dict[str, Any], values: dict[str, float],
                                                         message: str) -> None:
    inst = computeplan.load_instance(base)
    with pytest.raises(UsageError, match=message):
        analysis.apply_values(inst, values)


def test_cli_bad_vary_is_exit_2_naming_the_field(tmp_path: Path, base: dict[str, Any]) -> None:
    f = write(tmp_path, base)
    r = runner.invoke(app, ["sweep", str(f), "--vary", "targets.fleet_pue_max=0.5:1.2:3", "--engine", "serial"])
    assert r.exit_code == 2, r.output
    assert "targets.fleet_pue_max: must be >= 1" in r.output and "Traceback" not in r.output


# --------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------
def pue_target_energy(T: float) -> float:
    """teaching/pue-target.yaml by hand: PUE = 1 + k + f / IT with k = 0.1 and f = 100 kW;
    the busy servers draw 600 kW, servers beyond need add idle kW until f / IT <= T - 1.1."""
    it = max(600.0, 100.0 / (T - 1.1))
    return (1.1 * it + 100.0) * 1000.0


def test_sweep_of_teaching_pue_target_matches_hand_worked_curve() -> None:
    df = analysis.sweep(TEACHING / "pue-target.yaml", {"targets.fleet_pue_max": np.linspace(1.2, 1.3, 11)})
    assert list(df.columns[:3]) == ["targets.fleet_pue_max", "status", "objective"]
    for _, r in df.iterrows():
        T = r["targets.fleet_pue_max"]
        # below 1 + k + f / (IT with every installed server on: 1*500 + 2*200 = 900) = 1.2111 no plan exists
        if T < 1.1 + 100 / 900:
            assert r["status"] == "infeasible"
            assert "targets.fleet_pue_max must move from" in r["diagnosis"] and "1.21111" in r["diagnosis"]
            assert math.isnan(r["energy_kwh"])
            continue
        assert r["status"] == "optimal"
        assert r["objective"] == pytest.approx(pue_target_energy(T), rel=1e-9)
        assert r["energy_kwh"] == pytest.approx(pue_target_energy(T), rel=1e-9)
        binding = T < 1.1 + 100 / 600
        assert (r["binding"] == "fleet_pue_max") == binding
        slope = -1.1 * 100.0 * 1000.0 / (T - 1.1) ** 2 if binding else 0.0
        assert r["shadow_price.fleet_pue_max"] == pytest.approx(slope, rel=1e-9, abs=1e-6)
        beyond = max(0.0, 100 / (T - 1.1) - 600)  # kW of idle servers kept on
        assert r["beyond_need_energy_kwh"] == pytest.approx(beyond * 1.1 * 1000, rel=1e-9, abs=1e-6)


def test_sweep_grid_of_two_paths_in_order() -> None:
    df = analysis.sweep(TEACHING / "two-sites.yaml", ["sites.a.it_capacity_kw=600,700", "demand.scale=1,0.5"])
    assert df[["sites.a.it_capacity_kw", "demand.scale"]].values.tolist() == [
        [600, 1], [600, 0.5], [700, 1], [700, 0.5]]
    # two-sites by hand: a (1.05 facility kW per IT kW) fills first, b (1.2) takes the rest;
    # 1 TFLOPS = 0.025 IT kW; fixed overhead 0.05 x a's capacity (its hall grows with it) + 200 kW.
    for _, r in df.iterrows():
        it = 30000 * r["demand.scale"] * 0.025
        cap = r["sites.a.it_capacity_kw"]
        a = min(it, cap)
        assert r["energy_kwh"] == pytest.approx((1.05 * a + 1.2 * (it - a) + 0.05 * cap + 200) * 1000, rel=1e-9)


@pytest.fixture(scope="module")
def shanghai_sweep(dask_client) -> pd.DataFrame:
    """21 points of targets.fleet_pue_max on the Shanghai example, on the local cluster.

    The shipped targets leave the fleet PUE target slack at the optimum (PUE P0 ~ 1.2182),
    and the other targets (renewable share, ECE, carbon) with whole halls and indivisible
    jobs leave no plan below ~P0 - 0.0017, so the target binds over a narrow band below P0.
    The sweep spans P0 - 0.0015 to P0 + 0.0003: binding points, with a kink where the
    active set changes, and slack ones. (Points with no plan close to that edge are left
    out: proving a MILP infeasible there takes 10-20 s a point.)
    """
    p0 = computeplan.solve(SHANGHAI).indicators["fleet_pue"]
    assert p0 is not None
    return computeplan.sweep(SHANGHAI, {"targets.fleet_pue_max": np.linspace(p0 - 0.0015, p0 + 0.0003, 21)},
                             client=dask_client)


def test_shanghai_pue_sweep_energy_is_monotone(shanghai_sweep: pd.DataFrame) -> None:
    df = shanghai_sweep
    assert len(df) == 21
    ok = df[df["status"] == "optimal"]
    assert len(ok) >= 18, df[["targets.fleet_pue_max", "status", "diagnosis"]]
    e = ok["energy_kwh"].to_numpy()
    # a looser PUE target never costs energy
    assert np.all(np.diff(e) <= 1e-9 * e[:-1]), e
    assert e[0] > e[-1], "the target should bind over part of the range"
    # points without a plan can only be the tightest targets
    status = df["status"].tolist()
    lead = next(k for k, s in enumerate(status) if s == "optimal")
    assert all(s == "optimal" for s in status[lead:]), status
    assert all(s == "infeasible" for s in status[:lead]), status


def test_shanghai_pue_sweep_slope_matches_shadow_price(shanghai_sweep: pd.DataFrame) -> None:
    """Central finite difference of energy vs the PUE target's shadow price, at the points
    whose neighbours share their active set (same halls on, same binding targets, a shadow
    price that moves smoothly); kinks in between are skipped."""
    df = shanghai_sweep.reset_index(drop=True)
    T = df["targets.fleet_pue_max"].to_numpy()
    E = df["objective"].to_numpy(dtype=float)
    sp = df["shadow_price.fleet_pue_max"].to_numpy(dtype=float)
    checked = []
    for i in range(1, len(df) - 1):
        rows = df.iloc[i - 1 : i + 2]
        if not (rows["status"] == "optimal").all():
            continue
        if rows["active_halls"].nunique() != 1 or rows["binding"].nunique() != 1:
            continue
        if "fleet_pue_max" not in str(rows["binding"].iloc[0]).split(";"):
            continue
        s3 = sp[i - 1 : i + 2]
        if np.max(np.abs(s3 - sp[i])) > 0.25 * abs(sp[i]):  # a kink between the points
            continue
        fd = (E[i + 1] - E[i - 1]) / (T[i + 1] - T[i - 1])
        checked.append((T[i], fd, sp[i]))
        assert fd == pytest.approx(sp[i], rel=1e-4), (T[i], fd, sp[i])
    assert len(checked) >= 5, f"too few points away from kinks: {checked}"


# --------------------------------------------------------------------------------------
# Headroom
# --------------------------------------------------------------------------------------
def bisect_by_solves(raw: dict[str, Any], klass: str | None = None, tol: float = 1e-5) -> float:
    """The largest factor with a plan, by bisection over complete solves."""
    def ok(f: float) -> bool:
        r = copy.deepcopy(raw)
        for w in r["workloads"]:
            if klass is None or w["class"] == klass:
                w["demand_tflops"] *= f
        return computeplan.solve(computeplan.load_instance(r)).status == "optimal"

    lo, hi = 0.0, 1.0
    while ok(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def test_headroom_teaching_pue_target_by_hand() -> None:
    h = computeplan.headroom(TEACHING / "pue-target.yaml")
    # 1 kW idle + 2 kW dynamic per busy server, 1,000 kW: 333.3 busy servers = 33,333 TFLOPS of 20,000
    assert h.factor == pytest.approx(1000 / 3 * 100 / 20000, rel=1e-9)
    assert h.binding == ["capacity[s1]"] and h.method == "parametric LP"
    assert h.to_frame()["name"].tolist() == ["capacity[s1]"]


def lp_instance_with_targets(base: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(base)
    # 5,070 t at factor 1 with these PUE targets: the carbon cap binds before the servers run out
    raw["targets"] = {"fleet_pue_max": 1.45, "carbon_max": 7600.0, "site_pue_max": {"edge": 1.9}}
    return raw


def test_headroom_lp_matches_bisection_over_solves(base: dict[str, Any]) -> None:
    raw = lp_instance_with_targets(base)
    h = computeplan.headroom(raw)
    assert h.method == "parametric LP"
    ref = bisect_by_solves(raw)
    assert h.factor == pytest.approx(ref, abs=1e-4)
    assert h.binding and h.binding[0] == "carbon_max", h.constraints
    # the named sensitivity: 1 % more carbon allowance raises the factor by that much
    looser = copy.deepcopy(raw)
    looser["targets"]["carbon_max"] *= 1.01
    gain = computeplan.headroom(looser).factor - h.factor
    assert gain == pytest.approx(h.constraints[0]["gain_per_pct"], rel=0.05)
    # the factor is feasible and a little more is not
    for f, status in ((h.factor * (1 - 1e-6), "optimal"), (h.factor * (1 + 1e-4), "infeasible")):
        r = analysis.apply_values(computeplan.load_instance(raw), {"demand.scale": f})
        assert computeplan.solve(r).status == status


def test_headroom_of_one_class_matches_bisection(base: dict[str, Any]) -> None:
    raw = lp_instance_with_targets(base)
    h = computeplan.headroom(raw, "general")
    assert h.factor == pytest.approx(bisect_by_solves(raw, "general"), abs=1e-4)
    assert h.workload_class == "general" and h.base_tflops == 800.0
    with pytest.raises(UsageError, match="no workload of class 'hpc'"):
        computeplan.headroom(raw, "hpc")


@pytest.mark.parametrize("name", ["idle-halls.yaml", "indivisible.yaml", "two-sites.yaml"])
def test_headroom_exact_and_bisection_agree(name: str) -> None:
    exact = computeplan.headroom(TEACHING / name)
    bis = computeplan.headroom(TEACHING / name, method="bisection", tol=1e-5)
    assert bis.factor <= exact.factor + 1e-9
    assert bis.factor == pytest.approx(exact.factor, abs=1e-5)
    if name == "indivisible.yaml":
        assert exact.method.startswith("bisection")
    if name == "idle-halls.yaml":
        # 800 + 200 servers x 100 TFLOPS = 100,000 of 42,000; capacity 2,000 + 500 kW allows more
        assert exact.method == "parametric MILP" and exact.factor == pytest.approx(100000 / 42000, rel=1e-9)


def test_cli_headroom_json(tmp_path: Path) -> None:
    r = runner.invoke(app, ["headroom", str(TEACHING / "two-sites.yaml"), "--json", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    # a: 600 kW, b: 400 servers (1,000 kW): 64,000 TFLOPS of 30,000
    assert d["factor"] == pytest.approx(64000 / 30000, rel=1e-9)
    assert set(d["binding"]) == {"capacity[a]", "servers[b/t-srv]"}
    assert json.loads((tmp_path / "headroom.json").read_text())["factor"] == d["factor"]


# --------------------------------------------------------------------------------------
# Outages
# --------------------------------------------------------------------------------------
def test_outages_of_three_sites_match_hand_worked() -> None:
    df = computeplan.outage(TEACHING / "outage-three-sites.yaml").set_index("site")
    assert df.attrs["unserved_penalty"] == pytest.approx(0.35, rel=1e-12)
    expect = {  # from the file's header: facility kW, IT kW, unserved, absorbed_by
        "(none)": (1110, 900, 0, None),
        "a": (1040, 800, 4000, "c:+16000;b:+4000"),
        "b": (1100, 900, 0, "c:+12000"),
        "c": (1030, 900, 0, ""),
    }
    for site, (fac, it, unserved, absorbed) in expect.items():
        r = df.loc[site]
        assert r["status"] == "optimal"
        assert r["energy_kwh"] == pytest.approx(fac * 1000, rel=1e-9)
        assert r["fleet_pue"] == pytest.approx(fac / it, rel=1e-9)
        assert r["unserved_tflops"] == pytest.approx(unserved, abs=1e-6)
        assert r["objective"] == pytest.approx(fac * 1000 + 0.35 * unserved * 1000, rel=1e-9)
        assert r["ece_gflops_per_w"] == pytest.approx((36000 - unserved) / fac, rel=1e-9)
        if absorbed is not None:
            assert r["absorbed_by"] == absorbed
            assert r["delta.energy_kwh"] == pytest.approx((fac - 1110) * 1000, rel=1e-9)
    assert df.loc["a", "unserved_share"] == pytest.approx(1 / 9)
    assert df.loc["a", "lost_tflops"] == pytest.approx(24000) and df.loc["a", "absorbed_tflops"] == pytest.approx(20000)
    assert df.loc["c", "lost_tflops"] == 0.0


def test_outage_selection_by_tier_and_sites() -> None:
    f = TEACHING / "outage-three-sites.yaml"
    assert computeplan.outage(f, tier="midsize")["site"].tolist() == ["(none)", "b"]
    assert computeplan.outage(f, sites=["c", "a"])["site"].tolist() == ["(none)", "c", "a"]
    with pytest.raises(UsageError, match="unknown site 'z'"):
        computeplan.outage(f, sites=["z"])
    with pytest.raises(UsageError, match="--tier"):
        computeplan.outage(f, tier="mega")
    r = runner.invoke(app, ["outage", str(f), "--sites", "a,zz", "--engine", "serial"])
    assert r.exit_code == 2 and "unknown site 'zz'" in r.output


def test_outage_removes_the_sites_own_pue_target_and_allowed_lists(base: dict[str, Any]) -> None:
    raw = copy.deepcopy(base)
    raw["targets"] = {"site_pue_max": {"s2": 2.5}}
    raw["workloads"][1]["sites"] = ["s2"]
    inst = computeplan.load_instance(raw)
    out = analysis.remove_site(inst, "s2")
    assert [s.id for s in out.sites] == ["s1"] and out.targets.site_pue_max is None
    assert out.workloads[1].sites == []
    df = computeplan.outage(raw, sites=["s2"]).set_index("site")
    assert df.loc["s2", "unserved_tflops"] == pytest.approx(800.0)  # w2 could run only on s2


# --------------------------------------------------------------------------------------
# Capacity value
# --------------------------------------------------------------------------------------
def test_capacity_value_and_its_range_two_sites() -> None:
    f = TEACHING / "two-sites.yaml"
    cap = analysis.capacity_value(f).set_index("site")
    # one more kW at a moves 1 IT kW from b (1.2 facility kW) to a (1.05): 0.15 kW x 1,000 h
    assert cap.loc["a", "value_per_kw"] == pytest.approx(150.0, rel=1e-9)
    assert cap.loc["a", "rank"] == 1
    # it holds while b still carries load (a up to 750 kW) and down to a empty (0 kW)
    assert cap.loc["a", "holds_to_kw"] == pytest.approx(750.0)
    assert cap.loc["a", "holds_from_kw"] == pytest.approx(0.0, abs=1e-9)
    assert cap.loc["b", "value_per_kw"] == 0.0 and math.isinf(cap.loc["b", "holds_to_kw"])
    # Move only a's capacity row (its hall's fixed overhead stays, as the price assumes):
    # the objective follows the price inside the range and departs from it outside.
    d = build_data(computeplan.load_instance(f))
    m = build_model(d)
    r = m.families["capacity"].start + d.site_ids.index("a")

    def objective_with(extra_kw: float) -> float:
        m.row_hi[r] = extra_kw
        return float(solve_highs(m).objective * m.scale)

    base = objective_with(0.0)
    for extra in (50.0, 140.0, -300.0, -599.0):
        assert objective_with(extra) == pytest.approx(base - 150.0 * extra, rel=1e-9)
    assert objective_with(200.0) == pytest.approx(base - 150.0 * 150.0, rel=1e-9), "past 750 kW: no more gain"


def test_capacity_value_milp_holds_halls() -> None:
    cap = analysis.capacity_value(TEACHING / "idle-halls.yaml").set_index("site")
    # a runs 2 halls (1,000 kW); one more kW there moves load from b (1.3 per kW) to a (1.1)
    assert cap.loc["a", "value_per_kw"] == pytest.approx(200.0, rel=1e-9)
    assert cap.loc["a", "active_capacity_kw"] == pytest.approx(1000.0)
    assert (cap.loc["a", "holds_from_kw"], cap.loc["a", "holds_to_kw"]) == pytest.approx((550.0, 1050.0))


# --------------------------------------------------------------------------------------
# Dask: same tables, failures retried once and reported
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    from computeplan.analysis.parallel import dask_client as make

    with make(workers=2) as c:
        yield c


def test_dask_cluster_is_two_processes_on_loopback(dask_client) -> None:
    workers = dask_client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(addr.startswith("tcp://127.0.0.1:") for addr in workers)
    assert dask_client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(set(dask_client.run(lambda: __import__("os").getpid()).values())) == 2


def test_dask_tables_identical_to_in_process(dask_client) -> None:
    vary = ["targets.fleet_pue_max=1.2:1.3:6", "demand.scale=0.8,1"]
    a = computeplan.sweep(TEACHING / "pue-target.yaml", vary)
    b = computeplan.sweep(TEACHING / "pue-target.yaml", vary, client=dask_client)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    f = TEACHING / "outage-three-sites.yaml"
    pd.testing.assert_frame_equal(computeplan.outage(f), computeplan.outage(f, client=dask_client),
                                  check_exact=True)


def test_failed_points_are_retried_once_then_reported(dask_client) -> None:
    # 1 / 0 fails on every attempt: reported after two, never dropped
    outs = run_points(operator.truediv, 1.0, [1.0, 0.0, 4.0], client=dask_client)
    assert [o.value for o in outs] == [1.0, None, 0.25]
    assert outs[1].attempts == 2 and "ZeroDivisionError" in str(outs[1].error)
    assert [o.attempts for o in outs] == [1, 2, 1]

    calls: dict[float, int] = {}

    def flaky(shared: float, item: float) -> float:
        calls[item] = calls.get(item, 0) + 1
        if item == 2.0 and calls[item] == 1:
            raise RuntimeError("transient")
        return shared * item

    outs = run_points(flaky, 3.0, [1.0, 2.0], engine="serial")
    assert [o.value for o in outs] == [3.0, 6.0] and [o.attempts for o in outs] == [1, 2]
    assert all(o.ok for o in outs)


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def test_cli_sweep_writes_table_and_chart(tmp_path: Path) -> None:
    out = tmp_path / "sw"
    r = runner.invoke(app, ["sweep", str(TEACHING / "pue-target.yaml"), "--vary",
                            "targets.fleet_pue_max=1.2:1.3:5", "--out", str(out), "--tables", "both",
                            "--plot", "both", "--engine", "serial"])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(out / "sweep.csv")
    assert df["status"].tolist() == ["infeasible", "optimal", "optimal", "optimal", "optimal"]
    assert df.loc[1, "energy_kwh"] == pytest.approx(980000.0)
    pd.testing.assert_frame_equal(pd.read_parquet(out / "sweep.parquet")[["objective"]], df[["objective"]])
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "sweep.svg").read_text().lstrip().startswith("<?xml")
    assert not list(out.glob(".*tmp")), "no temporary file left behind"


def test_cli_outage_and_capacity(tmp_path: Path) -> None:
    r = runner.invoke(app, ["outage", str(TEACHING / "outage-three-sites.yaml"), "--engine", "serial",
                            "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "outage.csv")
    assert df.set_index("site").loc["a", "unserved_tflops"] == pytest.approx(4000.0)
    r = runner.invoke(app, ["capacity", str(TEACHING / "outage-three-sites.yaml"), "--json"])
    assert r.exit_code == 0, r.output
    recs = json.loads(r.stdout)
    # a's extra kW moves load off b (1.1 per kW) onto a (1.05): 50 kWh per kW; holds 500..900 kW
    assert recs[0]["site"] == "a" and recs[0]["value_per_kw"] == pytest.approx(50.0)
    assert (recs[0]["holds_from_kw"], recs[0]["holds_to_kw"]) == pytest.approx((500.0, 900.0))


@pytest.mark.parametrize("name", ["two-sites.yaml", "idle-halls.yaml", "outage-three-sites.yaml"])
def test_capacity_value_prices_are_the_results(name: str) -> None:
    inst = computeplan.load_instance(TEACHING / name)
    res = computeplan.solve(inst)
    cap = analysis.capacity_value(inst, res).set_index("site")
    for s in res.site_records:
        got, want = cap.loc[s["id"], "shadow_price"], s["capacity_shadow_price"]
        if want is None or math.isnan(want):
            assert math.isnan(got) and cap.loc[s["id"], "value_per_kw"] == 0.0
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
    assert cap["value_per_kw"].is_monotonic_decreasing and cap["rank"].tolist() == list(range(1, len(cap) + 1))


# --------------------------------------------------------------------------------------
# Headroom of the Shanghai example (the README's command)
# --------------------------------------------------------------------------------------
def test_shanghai_bisection_point_solves() -> None:
    # A bisection point of the Shanghai headroom at which HiGHS's MILP presolve gave a
    # solve error while the ECE row's coefficients (TFLOPS per share) reached 6e5 against
    # an absolute feasibility tolerance of 1e-9. Target rows are now equilibrated.
    from computeplan.solvers import SolveOptions, Termination
    from computeplan.solvers.highs import solve_highs

    inst = analysis.apply_values(computeplan.load_instance(computeplan.example_instance("shanghai-2025")),
                                 {"demand.scale": 0.9207361180443324})
    m = build_model(build_data(inst))
    for t in m.terms:
        block = m.A[t.rows]
        assert np.abs(block.data).max() == pytest.approx(1.0)
    m.c[:] = 0.0
    out = solve_highs(m, SolveOptions(mip_gap=1.0))
    assert out.status == Termination.OPTIMAL


@pytest.mark.slow
def test_shanghai_headroom_factor_is_feasible() -> None:
    inst = computeplan.load_instance(computeplan.example_instance("shanghai-2025"))
    h = analysis.headroom(inst)
    assert h.factor is not None and 1.0 < h.factor < 1.2
    assert h.binding
    grown = analysis.apply_values(inst, {"demand.scale": h.factor})
    res = computeplan.solve(grown)
    assert res.has_plan and computeplan.verify(grown, res) == []
