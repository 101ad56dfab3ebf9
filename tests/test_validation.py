"""One test per validation rule: break one field of a valid instance, check the message
names the field (the path) and says what was expected."""

from __future__ import annotations

import math

import pytest
from support import one, problems_of

import computeplan
from computeplan import InstanceError


def test_base_is_valid(base):
    inst = computeplan.load_instance(base)
    assert inst.name == "base" and len(inst.sites) == 2


def test_unknown_top_level_key(base):
    base["objectve"] = "cost"
    one(base, "objectve", "unknown key", "objective")


def test_unknown_site_key(base):
    base["sites"][1]["colour"] = "red"
    one(base, "sites[1] ('s2').colour", "unknown key")


def test_missing_required_field(base):
    del base["sites"][0]["price_per_kwh"]
    one(base, "sites[0] ('s1').price_per_kwh", "required")


def test_wrong_format_version(base):
    base["computeplan"] = 2
    one(base, "computeplan", "1")


def test_unknown_hardware_in_servers(base):
    base["sites"][0]["servers"]["gpu-x"] = 3
    one(base, "sites[0] ('s1').servers.gpu-x", "unknown hardware model")


def test_negative_servers(base):
    base["sites"][0]["servers"]["srv"] = -4
    one(base, "sites[0] ('s1').servers.srv", ">= 0", "-4")


def test_unknown_facility(base):
    base["sites"][1]["facility"] = "poorr"
    one(base, "sites[1] ('s2').facility", "unknown facility", "poor")


def test_unknown_zone(base):
    base["sites"][0]["zone"] = "c"
    one(base, "sites[0] ('s1').zone", "unknown zone")


def test_unknown_origin(base):
    base["workloads"][0]["origin"] = "nowhere"
    one(base, "workloads[0] ('w1').origin", "unknown zone")


def test_unknown_workload_hardware(base):
    base["workloads"][1]["hardware"] = ["cpu", "tpu"]
    one(base, "workloads[1] ('w2').hardware[1]", "unknown hardware model")


def test_unknown_allowed_site(base):
    base["workloads"][0]["sites"] = ["s9"]
    one(base, "workloads[0] ('w1').sites[0]", "unknown site")


def test_duplicate_site_id(base):
    base["sites"][1]["id"] = "s1"
    one(base, "sites[1] ('s1').id", "duplicate")


def test_duplicate_workload_id(base):
    base["workloads"][1]["id"] = "w1"
    one(base, "workloads[1] ('w1').id", "duplicate")


def test_nan_demand(base):
    base["workloads"][0]["demand_tflops"] = math.nan
    one(base, "workloads[0] ('w1').demand_tflops", "finite")


def test_negative_price(base):
    base["sites"][1]["price_per_kwh"] = -0.1
    one(base, "sites[1] ('s2').price_per_kwh", ">= 0")


def test_renewable_share_above_one(base):
    base["sites"][0]["renewable_share"] = 1.5
    one(base, "sites[0] ('s1').renewable_share", "<= 1")


def test_facility_negative_overhead(base):
    # pue_quarter - 1 > 4 (pue_full - 1): the proportional overhead k would be negative
    base["facilities"]["poor"] = {"pue_full": 1.1, "pue_quarter": 1.9}
    one(base, "facilities.poor", "k >= 0")


def test_facility_full_above_quarter(base):
    base["facilities"]["good"] = {"pue_full": 1.4, "pue_quarter": 1.3}
    one(base, "facilities.good", "pue_full must be <= pue_quarter")


def test_idle_above_peak(base):
    base["hardware"]["srv"]["idle_kw"] = 5.0
    one(base, "hardware.srv", "idle_kw must be <= peak_kw")


def test_unsupported_precision(base):
    base["workloads"][0]["precision"] = "fp64"
    one(base, "workloads[0] ('w1').precision", "supports")


def test_no_candidate_for_must_serve(base):
    base["workloads"][1]["max_latency_ms"] = 0.1
    one(base, "workloads[1] ('w2')", "no candidate", "max_latency_ms")


def test_no_candidate_but_optional_is_fine(base):
    base["workloads"][1]["max_latency_ms"] = 0.1
    base["workloads"][1]["must_serve"] = False
    computeplan.load_instance(base)


def test_zone_without_coordinates(base):
    base["zones"]["b"] = None
    one(base, "workloads[1] ('w2').max_latency_ms", "unknown", "coordinates")


def test_latency_pair_replaces_coordinates(base):
    base["zones"]["b"] = None
    base["latency_ms"] = [["a", "b", 3.0]]
    computeplan.load_instance(base)


def test_site_pue_target_unknown_key(base):
    base["targets"] = {"site_pue_max": {"giant": 1.2}}
    one(base, "targets.site_pue_max.giant", "tier name")


def test_bad_objective(base):
    base["objective"] = "money"
    one(base, "objective", "energy")


def test_every_problem_reported_at_once(base):
    base["sites"][0]["zone"] = "c"
    base["workloads"][0]["hardware"] = ["tpu"]
    base["sites"][1]["facility"] = "none"
    probs = problems_of(base)
    assert len(probs) >= 3


def test_table_rows_name_the_file(tmp_path, base):
    (tmp_path / "wl.csv").write_text(
        "id,class,demand_tflops,precision,hardware,origin\n"
        "w1,ai-training,20000,fp16,srv,a\n"
        "w2,general,-5,fp32,cpu;srv,b\n"
    )
    base["workloads"] = {"csv": "wl.csv"}
    probs = problems_of(base, tmp_path)
    assert any("workloads[1] ('w2').demand_tflops" in p and "wl.csv line 3" in p for p in probs), probs


def test_tables_load(tmp_path, base):
    (tmp_path / "sites.csv").write_text(
        "id,tier,zone,facility,it_capacity_kw,halls,can_idle,price_per_kwh,carbon_kg_per_kwh,servers.srv,servers.cpu\n"
        "s1,hyperscale,a,good,2000,2,false,0.6,0.58,400,500\n"
        "s2,edge,b,poor,300,,,0.8,0.58,50,\n"
    )
    base["sites"] = {"csv": "sites.csv"}
    inst = computeplan.load_instance(base, base_dir=tmp_path)
    assert inst.sites[1].servers == {"srv": 50} and inst.sites[1].halls == 1
    assert inst.sites[0].servers == {"srv": 400, "cpu": 500}


def test_file_errors_name_the_file(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("computeplan: 1\nname: [unclosed\n")
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(p)
    assert str(p) in ei.value.problems[0] and "line" in ei.value.problems[0]


# --- one test per remaining rule ------------------------------------------------------


def test_zone_lat_without_lon(base):
    base["zones"]["a"] = {"lat": 31.2}
    one(base, "zones.a", "both lat and lon")


def test_zone_lon_without_lat(base):
    base["zones"]["b"] = {"lon": 121.9}
    one(base, "zones.b", "both lat and lon")


@pytest.mark.parametrize(("key", "value", "bound"), [("lat", 90.5, "<= 90"), ("lat", -91, ">= -90"),
                                                     ("lon", 180.01, "<= 180"), ("lon", -200, ">= -180")])
def test_zone_coordinate_ranges(base, key, value, bound):
    base["zones"]["a"][key] = value
    one(base, f"zones.a.{key}", bound)


def test_halls_at_least_one(base):
    base["sites"][0]["halls"] = 0
    one(base, "sites[0] ('s1').halls", ">= 1", "got 0")


@pytest.mark.parametrize(("value", "bound"), [(0.0, "> 0"), (-0.5, "> 0"), (1.01, "<= 1")])
def test_max_utilisation_range(base, value, bound):
    base["sites"][1]["max_utilisation"] = value
    one(base, "sites[1] ('s2').max_utilisation", bound)


def test_empty_perf_tflops(base):
    base["hardware"]["srv"]["perf_tflops"] = {}
    one(base, "hardware.srv.perf_tflops", "at least 1")


@pytest.mark.parametrize("value", [0.0, -100.0])
def test_non_positive_perf_tflops(base, value):
    base["hardware"]["cpu"]["perf_tflops"]["fp64"] = value
    one(base, "hardware.cpu.perf_tflops.fp64", "> 0")


def test_unknown_precision_in_perf_tflops(base):
    base["hardware"]["cpu"]["perf_tflops"]["fp4"] = 1.0
    one(base, "hardware.cpu.perf_tflops.fp4", "fp64")


def test_empty_workload_hardware(base):
    base["workloads"][0]["hardware"] = []
    one(base, "workloads[0] ('w1').hardware", "at least 1")


@pytest.mark.parametrize("section", ["sites", "workloads"])
def test_empty_section(base, section):
    base[section] = []
    one(base, section, "at least 1")


@pytest.mark.parametrize("section", ["sites", "workloads"])
def test_missing_section(base, section):
    del base[section]
    one(base, section, "required")


def test_invalid_site_tier(base):
    base["sites"][1]["tier"] = "giant"
    one(base, "sites[1] ('s2').tier", "hyperscale", "giant")


def test_invalid_workload_tier(base):
    base["workloads"][0]["tiers"] = ["hyperscale", "mega"]
    one(base, "workloads[0] ('w1').tiers[1]", "edge", "mega")


def test_unknown_zone_in_latency(base):
    base["latency_ms"] = [["a", "b", 2.0], ["a", "nowhere", 1.0]]
    one(base, "latency_ms[1][1]", "unknown zone", "nowhere")


def test_latency_pair_of_wrong_shape(base):
    base["latency_ms"] = [["a", "b"]]
    one(base, "latency_ms[0]", "")


def test_missing_include_file(tmp_path, base):
    base["include"] = ["nope.yaml"]
    probs = problems_of(base, tmp_path)
    assert any(": include[0]: catalogue file not found" in p and "nope.yaml" in p for p in probs), probs


def test_missing_table(tmp_path, base):
    base["workloads"] = {"csv": "gone.csv"}
    probs = problems_of(base, tmp_path)
    assert any(": workloads.csv: table file not found" in p and "gone.csv" in p for p in probs), probs


@pytest.mark.parametrize("value", ["sites.csv", 5, {"xlsx": "s.xlsx"}, {"csv": "a", "parquet": "b"}])
def test_section_of_wrong_type(base, value):
    base["sites"] = value
    one(base, "sites", "expected a list or {csv: FILE}")


@pytest.mark.parametrize(("key", "value", "what"), [("hardware", [1], "valid dictionary"),
                                                     ("zones", "a", "valid dictionary"),
                                                     ("targets", 3, "valid dictionary"),
                                                     ("include", "x.yaml", "valid list")])
def test_other_sections_of_wrong_type(base, key, value, what):
    base[key] = value
    one(base, key, what)


def test_unknown_catalogue_key(tmp_path, base):
    (tmp_path / "extra.yaml").write_text("hardware: {}\ncolour: red\n")
    base["include"] = ["extra.yaml"]
    probs = problems_of(base, tmp_path)
    assert any("extra.yaml: colour: unknown key" in p for p in probs), probs


def test_catalogue_section_of_wrong_type(tmp_path, base):
    (tmp_path / "extra.yaml").write_text("hardware: [a, b]\n")
    base["include"] = ["extra.yaml"]
    probs = problems_of(base, tmp_path)
    assert any("extra.yaml: hardware: expected a mapping of names" in p for p in probs), probs


def test_bad_json(tmp_path):
    p = tmp_path / "bad.json"
    p.write_text('{"computeplan": 1, "name": "x",}')
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(p)
    (msg,) = ei.value.problems
    assert str(p) in msg and "line 1 column" in msg and "not valid JSON" in msg


@pytest.mark.parametrize(("name", "text", "found"), [("list.yaml", "- a\n- b\n", "list"),
                                                      ("scalar.yaml", "42\n", "int"),
                                                      ("empty.yaml", "", "NoneType"),
                                                      ("list.json", "[1, 2]", "list")])
def test_top_level_not_a_mapping(tmp_path, name, text, found):
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(p)
    (msg,) = ei.value.problems
    assert msg.startswith(f"{p}: (top level): expected a mapping") and msg.endswith(found)


@pytest.mark.parametrize(
    ("key", "value", "bound"),
    [("fleet_pue_max", 0.95, ">= 1"), ("ece_min", -1.0, ">= 0"), ("renewable_share_min", 1.2, "<= 1"),
     ("renewable_share_min", -0.1, ">= 0"), ("carbon_max", -5.0, ">= 0"), ("output_per_kwh_min", -1.0, ">= 0")],
)
def test_target_ranges(base, key, value, bound):
    base["targets"] = {key: value}
    one(base, f"targets.{key}", bound)


def test_site_pue_target_range(base):
    base["targets"] = {"site_pue_max": {"edge": 0.5}}
    one(base, "targets.site_pue_max.edge", ">= 1")


def test_unknown_target(base):
    base["targets"] = {"pue_max": 1.3}
    one(base, "targets.pue_max", "unknown key")


def test_tables_read_as_the_inline_instance(tmp_path):
    """The same generated fleet inline, as CSV tables and as Parquet tables (once more with
    the index pandas stores beside the data, and an empty float cell) loads to one instance."""
    import pandas as pd

    from computeplan.io.generate import generate_instance, write_instance

    raw = generate_instance(80, 6, seed=3, optional_share=0.3)
    inline = computeplan.load_instance(write_instance(raw, tmp_path / "inline")).model_dump()
    for kind in ("csv", "parquet"):
        assert computeplan.load_instance(write_instance(raw, tmp_path / kind, tables=kind)).model_dump() == inline, kind
    folder = tmp_path / "parquet"
    wl = pd.read_parquet(folder / "workloads.parquet")
    assert wl["max_latency_ms"].isna().any() and wl["tiers"].isna().any()  # empty float and text cells
    wl.index = pd.Index([f"r{i}" for i in range(len(wl))], name="row")
    wl.to_parquet(folder / "workloads.parquet", index=True)
    assert computeplan.load_instance(folder / "instance.yaml").model_dump() == inline
