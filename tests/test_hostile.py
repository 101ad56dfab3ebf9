"""Hostile and broken input: every file ends in a clear input error (exit 2, naming the
file and the field) within bounded time and memory, never in an internal error."""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

import computeplan
from computeplan import InstanceError
from computeplan.cli import app
from computeplan.io import documents, schema

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

# Runs the command line in a child process capped at 500 MB of address space; prints
# the seconds taken after the imports, so the limit is on the reading, not on start-up.
_CHILD = """
import resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (500 * 2**20, 500 * 2**20))
from computeplan.cli import main
t = time.perf_counter()
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as e:
    code = e.code
print(f"SECONDS {time.perf_counter() - t:.2f}")
sys.exit(code)
"""


def run_limited(*args: str) -> tuple[int, str, float]:
    """Exit code, stderr and seconds of ``computeplan ARGS`` under 500 MB; a hard stop at 120 s."""
    p = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True, timeout=120)
    m = re.search(r"SECONDS ([\d.]+)", p.stdout)
    return p.returncode, p.stderr, float(m.group(1)) if m else math.inf


def dump(tmp: Path, raw: dict[str, Any], name: str = "inst.yaml") -> Path:
    f = tmp / name
    f.write_text(json.dumps(raw) if name.endswith(".json") else yaml.safe_dump(raw, sort_keys=False))
    return f


def problems(source: Any, tmp: Path | None = None) -> list[str]:
    with pytest.raises(InstanceError) as ei:
        computeplan.load_instance(source, base_dir=tmp)
    return ei.value.problems


def cli_error(f: Path) -> str:
    r = runner.invoke(app, ["validate", str(f)])
    assert r.exit_code == 2, r.output
    assert "Traceback" not in r.output and "internal error" not in r.output
    assert f.name in r.output
    return r.output


# --- 1. alias expansion -------------------------------------------------------------


@pytest.mark.parametrize("where", ["name: *i", "workloads:\n  - id: *i"])
def test_billion_laughs_bounded_time_and_memory(tmp_path, base, where):
    f = tmp_path / "laughs.yaml"
    f.write_text("computeplan: 1\n" + LAUGHS + where + "\n")
    code, err, seconds = run_limited("validate", str(f))
    assert code == 2, err[-2000:]
    assert "laughs.yaml" in err and "aliases" in err
    assert seconds < 10, seconds


def test_self_referring_alias(tmp_path):
    f = tmp_path / "self.yaml"
    f.write_text("computeplan: 1\nname: &n [*n]\n")
    assert "aliases" in cli_error(f)


def test_modest_aliases_still_work(tmp_path, base):
    text = yaml.safe_dump(base, sort_keys=False).replace("- id: w1", "- id: w1\n  hardware: &hw [srv]", 1)
    text = text.replace("  hardware:\n  - srv\n", "", 1)
    f = tmp_path / "ok.yaml"
    f.write_text(text)
    assert computeplan.load_instance(f).workloads[0].hardware == ["srv"]


def test_messages_quote_only_an_excerpt(base):
    base["name"] = ["x" * 1_000_000]
    base["sites"][0]["zone"] = "y" * 1_000_000
    base["workloads"][0]["demand_tflops"] = [[list(range(1000))] * 1000] * 1000  # shared, 1e9 cells
    probs = problems(base)
    assert len(probs) >= 3
    assert all(len(p) < 400 for p in probs), [len(p) for p in probs]


def test_excerpt_is_short_and_escaped():
    assert len(documents.excerpt("a" * 10_000)) <= documents.EXCERPT_CHARS
    assert "\x1b" not in documents.excerpt("\x1b[31mred") and "\\x1b" in documents.excerpt("\x1b[31mred")
    assert "digits" in documents.excerpt(10**100_000)
    deep: list[Any] = []
    for _ in range(10_000):
        deep = [deep]
    assert len(documents.excerpt(deep)) <= documents.EXCERPT_CHARS


# --- 2. duplicate keys ----------------------------------------------------------------


def test_duplicate_key_yaml_top_level(tmp_path, base):
    f = dump(tmp_path, base)
    f.write_text(f.read_text() + "name: other\n")
    probs = problems(f)
    assert len(probs) == 1 and re.search(r": name: duplicate key \(line \d+, first given at line 2\)", probs[0]), probs


def test_duplicate_key_yaml_nested(tmp_path, base):
    f = dump(tmp_path, base)
    text = f.read_text().replace("  price_per_kwh: 0.8\n", "  price_per_kwh: 0.8\n  price_per_kwh: 0.1\n")
    f.write_text(text)
    probs = problems(f)
    assert any("sites[1].price_per_kwh: duplicate key" in p for p in probs), probs


def test_duplicate_key_json(tmp_path, base):
    f = dump(tmp_path, base, "inst.json")
    f.write_text(f.read_text().replace('"idle_kw": 1.0,', '"idle_kw": 1.0, "idle_kw": 9.0,'))
    probs = problems(f)
    assert any("hardware.srv.idle_kw: duplicate key" in p for p in probs), probs


def test_merge_key_override_is_not_a_duplicate(tmp_path, base):
    f = dump(tmp_path, base)
    text = f.read_text().replace(
        "facilities:\n  good:\n", "facilities:\n  good: &g\n    pue_full: 1.2\n    pue_quarter: 1.5\n  other:\n"
        "    <<: *g\n    pue_full: 1.3\n  goodx:\n")
    f.write_text(text)
    inst = computeplan.load_instance(f)
    assert inst.facilities["other"].pue_full == 1.3


@pytest.mark.parametrize("base_loader", ["CSafeLoader", "SafeLoader"])
def test_checks_work_with_either_parser(base_loader):
    if not hasattr(yaml, base_loader):
        pytest.skip(f"{base_loader} is not available")
    cls = documents.make_yaml_loader(getattr(yaml, base_loader))
    with pytest.raises(InstanceError, match=r"x\.y: duplicate key"):
        documents._parse_yaml("x: {y: 1, y: 2}\n", "f.yaml", cls)
    with pytest.raises(InstanceError, match="aliases"):
        documents._parse_yaml(LAUGHS, "f.yaml", cls)
    assert documents._parse_yaml("a: &a [1]\nb: *a\n", "f.yaml", cls) == {"a": [1], "b": [1]}


def test_libyaml_is_used_when_present():
    if not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML without libyaml")
    assert issubclass(documents.YAMLLoader, yaml.CSafeLoader)


# --- 4. conflicting latency pairs ----------------------------------------------------


def test_conflicting_latency_pair_reversed(base):
    base["latency_ms"] = [["a", "b", 3.0], ["b", "a", 9.0]]
    probs = problems(base)
    assert any("latency_ms[1]" in p and "latency_ms[0]" in p and "conflicts" in p for p in probs), probs


def test_conflicting_latency_pair_repeated(base):
    base["latency_ms"] = [["a", "b", 3.0], ["a", "a", 0.1], ["a", "b", 4.0]]
    probs = problems(base)
    assert any("latency_ms[2]" in p and "latency_ms[0]" in p for p in probs), probs


def test_repeated_latency_pair_same_value_is_fine(base):
    base["latency_ms"] = [["a", "b", 3.0], ["b", "a", 3.0]]
    computeplan.load_instance(base)


# --- 5. values that would overflow ----------------------------------------------------

OVERFLOW_FIELDS: list[tuple[str, tuple[Any, ...]]] = [
    ("horizon_hours", ("horizon_hours",)),
    ("unserved_penalty", ("unserved_penalty",)),
    ("precision_weights.fp16", ("precision_weights", "fp16")),
    ("hardware.srv.perf_tflops.fp16", ("hardware", "srv", "perf_tflops", "fp16")),
    ("hardware.srv.peak_kw", ("hardware", "srv", "peak_kw")),
    ("facilities.good.pue_quarter", ("facilities", "good", "pue_quarter")),
    ("latency_model.route_factor", ("latency_model", "route_factor")),
    ("latency_model.ms_per_km", ("latency_model", "ms_per_km")),
    ("latency_model.hop_ms", ("latency_model", "hop_ms")),
    ("latency_ms[0][2]", ("latency_ms", 0, 2)),
    ("sites[0] ('s1').it_capacity_kw", ("sites", 0, "it_capacity_kw")),
    ("sites[0] ('s1').halls", ("sites", 0, "halls")),
    ("sites[0] ('s1').price_per_kwh", ("sites", 0, "price_per_kwh")),
    ("sites[0] ('s1').carbon_kg_per_kwh", ("sites", 0, "carbon_kg_per_kwh")),
    ("sites[0] ('s1').servers.srv", ("sites", 0, "servers", "srv")),
    ("workloads[0] ('w1').demand_tflops", ("workloads", 0, "demand_tflops")),
    ("workloads[1] ('w2').max_latency_ms", ("workloads", 1, "max_latency_ms")),
    ("workloads[0] ('w1').value_per_tflops_hour", ("workloads", 0, "value_per_tflops_hour")),
    ("targets.fleet_pue_max", ("targets", "fleet_pue_max")),
    ("targets.site_pue_max.edge", ("targets", "site_pue_max", "edge")),
    ("targets.ece_min", ("targets", "ece_min")),
    ("targets.carbon_max", ("targets", "carbon_max")),
    ("targets.output_per_kwh_min", ("targets", "output_per_kwh_min")),
]


def _put(raw: dict[str, Any], keys: tuple[Any, ...], value: Any) -> None:
    node: Any = raw
    for k in keys[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(k, {})
        else:
            node = node[k]
    node[keys[-1]] = value


@pytest.mark.parametrize(("path", "keys"), OVERFLOW_FIELDS, ids=[p for p, _ in OVERFLOW_FIELDS])
def test_huge_values_rejected_with_field(base, path, keys):
    base["latency_ms"] = [["a", "b", 3.0]]
    _put(base, keys, 1e308)
    probs = problems(base)
    assert any(f": {path}: " in p for p in probs), probs


@pytest.mark.parametrize(("path", "keys"), [("sites[0] ('s1').halls", ("sites", 0, "halls")),
                                           ("sites[0] ('s1').servers.srv", ("sites", 0, "servers", "srv"))])
def test_huge_integers_rejected_with_field(base, path, keys):
    _put(base, keys, 10**30)
    assert any(f": {path}: must be <=" in p for p in problems(base))


@pytest.mark.parametrize("bad", [".nan", ".inf", "-.inf"])
def test_nan_and_inf_rejected_from_yaml(tmp_path, base, bad):
    f = dump(tmp_path, base)
    f.write_text(f.read_text().replace("price_per_kwh: 0.8", f"price_per_kwh: {bad}"))
    assert any("sites[1] ('s2').price_per_kwh: input should be a finite number" in p for p in problems(f))


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "1e999"])
def test_nan_and_inf_rejected_from_json(tmp_path, base, bad):
    f = dump(tmp_path, base, "inst.json")
    f.write_text(f.read_text().replace('"halls": 2', f'"halls": {bad}'))
    assert any("sites[0] ('s1').halls:" in p for p in problems(f))


def test_every_number_has_a_documented_upper_bound():
    """Each numeric field of the format has an upper bound, listed in the README."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("### Input limits"):]
    section = section[: section.index("\n## ")]
    models = (schema.Instance, schema.HardwareModel, schema.FacilityModel, schema.LatencyModel, schema.Zone,
              schema.Site, schema.Workload, schema.Targets)
    for model in models:
        for name, field in model.model_fields.items():
            text = repr(field.annotation)
            if not re.search(r"\b(float|int)\b", text):
                continue
            assert re.search(r"le=|lt=", repr(field)), f"{model.__name__}.{name} has no upper bound"
            assert f"`{field.alias or name}`" in section, f"{name} is not in the README's input limits"


def test_integer_with_too_many_digits(tmp_path, base):
    f = dump(tmp_path, base)
    f.write_text(f.read_text().replace("halls: 2", "halls: " + "9" * 10_000))
    out = cli_error(f)
    assert "cannot be read" in out and len(out) < 2000


# --- 6. crashes that must be input errors ---------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("deep-list.yaml", "computeplan: 1\nname: " + "[" * 6000 + "]" * 6000 + "\n"),
        ("deep-map.yaml", "computeplan: 1\nname: " + "{a: " * 6000 + "1" + "}" * 6000 + "\n"),
        ("deep-list.json", '{"computeplan": 1, "name": ' + "[" * 100_000 + "]" * 100_000 + "}"),
        ("deep-map.json", '{"name": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}"),
        ("deep-block.yaml", "".join("  " * i + "a:\n" for i in range(5000)) + "  " * 5000 + "a: 1\n"),
    ],
)
def test_deep_nesting(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    code, err, seconds = run_limited("validate", str(f))
    assert code == 2 and name in err and "Traceback" not in err, err[-2000:]
    assert seconds < 10


def test_symlink_loop_as_table(tmp_path, base):
    (tmp_path / "loop.csv").symlink_to(tmp_path / "loop.csv")
    base["sites"] = {"csv": "loop.csv"}
    out = cli_error(dump(tmp_path, base))
    assert "sites.csv" in out and "loop.csv" in out


def test_symlink_loop_as_include(tmp_path, base):
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    base["include"] = ["loop.yaml"]
    assert "include[0]" in cli_error(dump(tmp_path, base))


def test_nul_byte_in_a_table_path(tmp_path, base):
    base["workloads"] = {"csv": "w\x00.csv"}
    assert "workloads.csv" in cli_error(dump(tmp_path, base, "inst.json"))


def _parquet_sites(tmp_path: Path, base: dict[str, Any], column: str, values: list[Any]) -> dict[str, Any]:
    import pandas as pd

    rows = [{k: v for k, v in s.items() if k != "servers"} | {"servers.srv": s["servers"]["srv"]} for s in base["sites"]]
    df = pd.DataFrame(rows)
    df[column] = values
    df.to_parquet(tmp_path / "sites.parquet")
    base["sites"] = {"parquet": "sites.parquet"}
    return base


def test_parquet_list_column_in_a_scalar_field(tmp_path, base):
    _parquet_sites(tmp_path, base, "price_per_kwh", [[0.1, 0.2], [0.3]])
    out = cli_error(dump(tmp_path, base))
    assert "sites[0].price_per_kwh" in out and "expected a single value" in out


def test_parquet_list_column_in_a_list_field(tmp_path, base):
    import pandas as pd

    wl = pd.DataFrame([{k: v for k, v in w.items()} for w in base["workloads"]])
    wl.to_parquet(tmp_path / "wl.parquet")
    assert isinstance(pd.read_parquet(tmp_path / "wl.parquet")["hardware"][1][0], str)
    base["workloads"] = {"parquet": "wl.parquet"}
    inst = computeplan.load_instance(base, base_dir=tmp_path)
    assert inst.workloads[1].hardware == ["cpu", "srv"]


def test_not_utf8(tmp_path):
    f = tmp_path / "bin.yaml"
    f.write_bytes(b"computeplan: 1\nname: \xff\xfe\n")
    assert "UTF-8" in cli_error(f)


# --- 7. ids ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["", "   ", "\t", "s\x1b[31m", "a\nb", "x\u202ey", "\x00"])
@pytest.mark.parametrize(
    ("path", "keys"),
    [("sites[0]", ("sites", 0, "id")), ("workloads[1]", ("workloads", 1, "id")), ("name", ("name",))],
)
def test_bad_ids_refused(base, bad, path, keys):
    _put(base, keys, bad)
    probs = problems(base)
    hit = [p for p in probs if f": {path}" in p and "printable text" in p]
    assert hit, probs
    assert all(c.isprintable() for p in probs for c in p), probs


@pytest.mark.parametrize("section", ["hardware", "facilities", "zones"])
def test_bad_keys_refused(base, section):
    base[section]["\x1b]0;pwned\x07"] = next(iter(base[section].values()))
    probs = problems(base)
    assert any(f": {section}." in p and "printable text" in p for p in probs), probs
    assert all("\x1b" not in p and "\x07" not in p for p in probs)


def test_terminal_sequences_never_reach_the_terminal(tmp_path, base):
    base["sites"][0]["zone"] = "\x1b[2J\x1b[31mred"
    base["workloads"][0]["bogus\x1b[0m"] = 1
    out = cli_error(dump(tmp_path, base))
    assert "\x1b" not in out and "\\x1b" in out


def test_markup_in_names_printed_as_is(tmp_path, base):
    base["name"] = "[/][bold]x"
    r = runner.invoke(app, ["validate", str(dump(tmp_path, base))])
    assert r.exit_code == 0 and "[/][bold]x" in r.output, r.output
    base["sites"][0]["servers"]["[/]"] = 1
    assert "[/]" in cli_error(dump(tmp_path, base))


# --- 8. records named by id -----------------------------------------------------------


def test_messages_name_the_record(base):
    base["workloads"][1]["max_latency_ms"] = 0.1
    base["sites"][1]["servers"]["gpu-x"] = 3
    probs = problems(base)
    assert any(": sites[1] ('s2').servers.gpu-x: unknown hardware model" in p for p in probs), probs
    del base["sites"][1]["servers"]["gpu-x"]
    probs = problems(base)
    assert any(": workloads[1] ('w2'): no candidate" in p for p in probs), probs
