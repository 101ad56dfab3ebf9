"""Build-out input (FORMATS.md, "Build-out"): the schema fields, their defaults, every
cross-check with its field path, and the tabular form of a site's build block."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pytest
from support import one, problems_of
from typer.testing import CliRunner

import computeplan
from computeplan import InstanceError
from computeplan.cli import app
from computeplan.io.schema import crf
from computeplan.model.data import build_data
from computeplan.model.targets import reports_build

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"


def buildable(base: dict[str, Any]) -> dict[str, Any]:
    """The shared base instance with a growing site s1 and a candidate site s3."""
    raw = copy.deepcopy(base)
    raw["hardware"]["srv"].update({"capex": 20000.0, "lifetime_years": 4, "embodied_kg": 1200.0})
    raw["sites"][0]["build"] = {"halls_max": 3, "hall_capex": 5.0e6, "servers_max": {"srv": 100}}
    raw["sites"].append({"id": "s3", "tier": "hyperscale", "zone": "b", "facility": "good", "it_capacity_kw": 0,
                         "halls": 0, "price_per_kwh": 0.3, "carbon_kg_per_kwh": 0.4, "servers": {},
                         "build": {"hall_kw": 500.0, "halls_max": 2, "hall_capex": 4.0e6, "site_capex": 2.0e7,
                                   "lifetime_years": 20, "servers_max": {"srv": 300}}})
    return raw


def test_build_fields_and_defaults(base):
    inst = computeplan.load_instance(buildable(base))
    assert inst.discount_rate == 0.06
    s1, s3 = inst.sites[0], inst.sites[2]
    assert s1.build is not None and s1.build.lifetime_years == 15 and s1.build.site_capex is None
    assert s3.hall_kw == 500.0 and s1.hall_kw == 1000.0
    srv, cpu = inst.hardware["srv"], inst.hardware["cpu"]
    assert (srv.capex, srv.lifetime_years, srv.embodied_kg) == (20000.0, 4, 1200.0)
    assert (cpu.capex, cpu.lifetime_years, cpu.embodied_kg) == (None, 5, 0.0)
    # without build blocks, nothing of the above is in the way
    assert computeplan.load_instance(base).sites[0].build is None


def test_crf_by_hand():
    # CRF(0.06, 15) = 0.06 / (1 - 1.06^-15) = 0.102963 (standard annuity tables)
    assert crf(0.06, 15) == pytest.approx(0.1029628, rel=1e-6)
    assert crf(0.0, 8) == 0.125
    assert crf(0.1, 1) == pytest.approx(1.1)


def test_build_arrays(base):
    d = build_data(computeplan.load_instance(buildable(base)))
    b = d.build
    assert [d.site_ids[j] for j in b.g_site] == ["s1", "s3"]
    assert list(b.g_max) == [3.0, 2.0]
    assert b.g_capex[0] == pytest.approx(crf(0.06, 15) * 5.0e6)
    assert b.g_capex[1] == pytest.approx(crf(0.06, 20) * 4.0e6)
    assert [d.site_ids[j] for j in b.o_site] == ["s3"] and b.o_capex[0] == pytest.approx(crf(0.06, 20) * 2.0e7)
    assert list(b.g_open) == [-1, 0]
    # the candidate site's pool exists only through servers_max: N = 0
    pools = {(d.site_ids[d.pool_site[p]], d.hardware_ids[d.pool_hw[p]]): p for p in range(d.n_pools)}
    p3 = pools[("s3", "srv")]
    assert d.pool_servers[p3] == 0.0
    k3 = list(b.m_pool).index(p3)
    assert b.m_max[k3] == 300 and b.m_capex[k3] == pytest.approx(crf(0.06, 4) * 20000.0)
    assert b.m_embodied[k3] == pytest.approx(1200.0 / 4)
    assert d.site_hall_kw[2] == 500.0 and d.site_cap[2] == 0.0 and d.site_halls[2] == 0


def test_no_build_no_build_arrays(base):
    d = build_data(computeplan.load_instance(base))
    assert not d.build.active and not d.build.given and not reports_build(d)


def test_candidate_site_needs_hall_kw(base):
    raw = buildable(base)
    del raw["sites"][2]["build"]["hall_kw"]
    one(raw, "sites[2] ('s3').build.hall_kw", "halls: 0", "IT kW of one new hall")


def test_candidate_site_without_build_block(base):
    raw = buildable(base)
    del raw["sites"][2]["build"]
    one(raw, "sites[2] ('s3').halls", ">= 1", "got 0", "candidate site")


def test_candidate_site_must_have_no_capacity(base):
    raw = buildable(base)
    raw["sites"][2]["it_capacity_kw"] = 100.0
    one(raw, "sites[2] ('s3').it_capacity_kw", "expected 0", "got 100")


def test_site_with_halls_needs_capacity(base):
    raw = buildable(base)
    raw["sites"][1]["it_capacity_kw"] = 0
    one(raw, "sites[1] ('s2').it_capacity_kw", "must be > 0", "got 0")


def test_existing_site_hall_kw_must_match(base):
    raw = buildable(base)
    raw["sites"][0]["build"]["hall_kw"] = 800.0
    one(raw, "sites[0] ('s1').build.hall_kw", "1000", "got 800")
    raw["sites"][0]["build"]["hall_kw"] = 1000.0
    computeplan.load_instance(raw)


def test_servers_max_unknown_model(base):
    raw = buildable(base)
    raw["sites"][0]["build"]["servers_max"]["srv-x"] = 5
    one(raw, "sites[0] ('s1').build.servers_max.srv-x", "unknown hardware model", "srv")


def test_capex_required_for_buildable_model(base):
    raw = buildable(base)
    del raw["hardware"]["srv"]["capex"]
    probs = problems_of(raw)
    hit = [p for p in probs if ": hardware.srv.capex" in p]
    assert len(hit) == 1, probs  # said once, though two sites may build it
    assert "required" in hit[0] and "sites[0] ('s1').build.servers_max" in hit[0]


def test_hall_capex_required_when_halls_may_be_built(base):
    raw = buildable(base)
    del raw["sites"][0]["build"]["hall_capex"]
    one(raw, "sites[0] ('s1').build.hall_capex", "required", "halls_max > 0")


@pytest.mark.parametrize(("field", "value", "words"), [
    ("halls_max", -1, (">= 0",)),
    ("lifetime_years", 0, ("> 0",)),
    ("hall_capex", -5.0, (">= 0",)),
    ("colour", "red", ("unknown key",)),
])
def test_build_field_ranges(base, field, value, words):
    raw = buildable(base)
    raw["sites"][0]["build"][field] = value
    one(raw, f"sites[0] ('s1').build.{field}", *words)


def test_discount_rate_and_capex_max_ranges(base):
    raw = buildable(base)
    raw["discount_rate"] = 1.5
    one(raw, "discount_rate", "<= 1")
    raw = buildable(base)
    raw["targets"] = {"capex_max": -1}
    one(raw, "targets.capex_max", ">= 0")
    raw["hardware"]["srv"]["embodied_kg"] = -2
    assert any("hardware.srv.embodied_kg" in p for p in problems_of(raw))


def test_workload_reaching_only_a_candidate_site_is_valid(base):
    raw = buildable(base)
    raw["workloads"].append({"id": "w3", "class": "general", "demand_tflops": 100.0, "precision": "fp16",
                             "hardware": ["srv"], "origin": "b", "sites": ["s3"]})
    inst = computeplan.load_instance(raw)
    d = build_data(inst)
    i = d.workload_ids.index("w3")
    assert d.wl_ptr[i + 1] - d.wl_ptr[i] == 1  # its one candidate: the pool to be built at s3


def test_tabular_sites_with_build_columns(base, tmp_path):
    raw = buildable(base)
    csv = tmp_path / "sites.csv"
    csv.write_text(
        "id,tier,zone,facility,it_capacity_kw,halls,price_per_kwh,carbon_kg_per_kwh,servers.srv,servers.cpu,"
        "build.halls_max,build.hall_capex,build.hall_kw,build.site_capex,build.lifetime_years,build.servers_max.srv\n"
        "s1,hyperscale,a,good,2000,2,0.6,0.58,400,500,3,5e6,,,,100\n"
        "s2,edge,b,poor,300,1,0.8,0.58,50,0,,,,,,\n"
        "s3,hyperscale,b,good,0,0,0.3,0.4,0,0,2,4e6,500,2e7,20,300\n", encoding="utf-8")
    raw["sites"] = {"csv": "sites.csv"}
    from_csv = computeplan.load_instance(raw, base_dir=tmp_path)
    inline = computeplan.load_instance(buildable(base))
    for a, b in zip(from_csv.sites, inline.sites, strict=True):
        assert a.build == b.build, a.id
    assert from_csv.sites[1].build is None


def test_tabular_build_error_names_the_column(base, tmp_path):
    raw = buildable(base)
    (tmp_path / "sites.csv").write_text(
        "id,tier,zone,facility,it_capacity_kw,halls,price_per_kwh,carbon_kg_per_kwh,servers.srv,build.halls_max\n"
        "s1,hyperscale,a,good,2000,2,0.6,0.58,400,many\n", encoding="utf-8")
    raw["sites"] = {"csv": "sites.csv"}
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(raw, base_dir=tmp_path)
    assert any("sites[0] ('s1').build.halls_max" in p and "sites.csv line 2" in p for p in ei.value.problems), \
        ei.value.problems


def test_cli_bad_build_input_exits_2(base, tmp_path):
    import yaml

    raw = buildable(base)
    del raw["sites"][2]["build"]["hall_kw"]
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump(raw), encoding="utf-8")
    r = CliRunner().invoke(app, ["solve", str(f), "-q", "--out", str(tmp_path / "o")])
    assert r.exit_code == 2
    assert "build.hall_kw" in r.output and "Traceback" not in r.output


def test_teaching_build_instances_load():
    for name in ("build-short", "build-budget", "build-site-pays", "build-site-fails"):
        inst = computeplan.load_instance(TEACHING / f"{name}.yaml")
        assert inst.discount_rate == 0.0 and math.isclose(inst.horizon_hours, 8760.0)
