"""The command line: exit codes, messages without tracebacks, files written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from computeplan.cli import app

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"
runner = CliRunner()


def write(tmp_path: Path, raw: dict, name: str = "inst.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(raw))
    return p


def test_solve_writes_results_exit_0(tmp_path, base):
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--out", str(tmp_path / "out"), "--tables", "both"])
    assert r.exit_code == 0, r.output
    res = json.loads((tmp_path / "out" / "result.json").read_text())
    assert res["status"] == "optimal" and res["computeplan_result"] == 1
    for name in ("sites", "pools", "assignments", "targets"):
        assert (tmp_path / "out" / f"{name}.csv").exists() and (tmp_path / "out" / f"{name}.parquet").exists()
    assert "Indicators against targets" in r.output
    v = runner.invoke(app, ["verify", str(f), str(tmp_path / "out")])
    assert v.exit_code == 0 and "ok" in v.output


def test_verify_command_flags_a_tampered_plan(tmp_path, base):
    f = write(tmp_path, base)
    assert runner.invoke(app, ["solve", str(f), "-q", "--out", str(tmp_path / "o")]).exit_code == 0
    p = tmp_path / "o" / "result.json"
    d = json.loads(p.read_text())
    d["indicators"]["fleet_pue"] = 1.0
    p.write_text(json.dumps(d))
    v = runner.invoke(app, ["verify", str(f), str(p)])
    assert v.exit_code == 1 and "fleet_pue" in v.output


def test_infeasible_exit_1_with_diagnosis(tmp_path, base):
    base["workloads"][0]["demand_tflops"] = 1e6
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--out", str(tmp_path / "out")])
    assert r.exit_code == 1
    assert "No plan" in r.output
    d = json.loads((tmp_path / "out" / "result.json").read_text())
    assert d["status"] == "infeasible" and d["diagnosis"]["moves"]


def test_invalid_input_exit_2_no_traceback(tmp_path, base):
    base["sites"][0]["servers"]["srv"] = -4
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--out", str(tmp_path / "out")])
    assert r.exit_code == 2
    assert "sites[0] ('s1').servers.srv" in r.output and str(f) in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "out").exists(), "nothing may be written for invalid input"


def test_missing_file_exit_2(tmp_path):
    r = runner.invoke(app, ["solve", str(tmp_path / "nope.yaml")])
    assert r.exit_code == 2 and "no such file" in r.output


def test_bad_option_exit_2(tmp_path, base):
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--method", "magic"])
    assert r.exit_code == 2


def test_usage_error_exit_2(tmp_path, base):
    base["workloads"][0]["divisible"] = False
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--method", "lp"])
    assert r.exit_code == 2 and "integer decisions" in r.output


def test_validate_summary(tmp_path, base):
    f = write(tmp_path, base)
    r = runner.invoke(app, ["validate", str(f)])
    assert r.exit_code == 0
    assert "valid" in r.output and "2 sites" in r.output and "candidate" in r.output


def test_validate_lists_every_problem(tmp_path, base):
    base["sites"][0]["zone"] = "zz"
    base["workloads"][1]["hardware"] = ["tpu"]
    f = write(tmp_path, base)
    r = runner.invoke(app, ["validate", str(f)])
    assert r.exit_code == 2
    assert "sites[0] ('s1').zone" in r.output and "workloads[1] ('w2').hardware[0]" in r.output


def test_write_lp_and_cbc(tmp_path, base):
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--solver", "cbc", "--write-lp", str(tmp_path / "m.lp"), "--json", "-q"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["method"] == "lp (cbc)"
    assert (tmp_path / "m.lp").read_text().startswith("\\*")


def test_unknown_solver_exit_1(tmp_path, base):
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--solver", "nosuchsolver"])
    assert r.exit_code == 1 and "not known" in r.output


def test_teaching_example_by_name():
    r = runner.invoke(app, ["solve", "one-site", "--json"])
    assert r.exit_code == 0
    assert json.loads(r.output)["status"] == "optimal"


def test_gap_file(tmp_path):
    # 2 agents, 3 jobs, min cost; job costs make the optimum 1 + 1 + 3 = 5 (capacity forces job 3 to agent 2)
    (tmp_path / "tiny.txt").write_text("2 3\n1 1 1\n9 9 3\n2 2 2\n2 2 2\n4 4\n")
    r = runner.invoke(app, ["solve", str(tmp_path / "tiny.txt"), "--format", "orlib-gap", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["objective"]["value"] == pytest.approx(5.0)
    assert {"workload": "3", "site": "2", "hardware": None, "share": 1.0, "tflops": None} in d["assignments"]
    assert d["indicators"]["fleet_pue"] is None


def test_help_teaches():
    r = runner.invoke(app, ["solve", "--help"])
    assert r.exit_code == 0 and "--objective" in r.output and "Examples" in r.output


def test_console_script_no_traceback(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("computeplan: 1\nname: x\nsites: 3\n")
    r = subprocess.run([sys.executable, "-m", "computeplan", "validate", str(p)], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and "sites" in r.stderr


def test_gap_file_heuristic(tmp_path):
    (tmp_path / "tiny.txt").write_text("2 3\n1 1 1\n9 9 3\n2 2 2\n2 2 2\n4 4\n")
    r = runner.invoke(app, ["solve", str(tmp_path / "tiny.txt"), "--method", "heuristic", "--time-limit", "1", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["method"].startswith("heuristic") and d["objective"]["value"] == pytest.approx(5.0)
    assert d["objective"]["bound"] <= 5.0 + 1e-9
