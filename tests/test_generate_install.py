"""The generator (seeded, feasible, sparse) and a non-editable install of the package."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from typer.testing import CliRunner

import computeplan
from computeplan.cli import app
from computeplan.io.generate import generate_instance, write_instance
from computeplan.model.data import build_data

ROOT = Path(__file__).resolve().parents[1]


def test_generator_is_seeded_and_feasible(tmp_path):
    a = generate_instance(300, 12, seed=5)
    b = generate_instance(300, 12, seed=5)
    assert a == b
    assert a != generate_instance(300, 12, seed=6)
    inst = computeplan.load_instance(a)
    d = build_data(inst)
    assert np.all(np.diff(d.wl_ptr) > 0), "every workload has a candidate"
    assert d.n_cand < 300 * d.n_pools / 2, "latency reach keeps candidate lists sparse"
    res = computeplan.solve(inst, mip_gap=1e-6)
    assert res.status.has_plan
    assert computeplan.verify(inst, res) == []


def test_a_written_instance_spells_out_shared_lists(tmp_path):
    """Workloads share their tier and hardware lists in the generated data; the file
    writes each out (no YAML anchors or aliases) and reads back to the same instance."""
    raw = generate_instance(60, 8, seed=3)
    wls = raw["workloads"]
    assert any(a.get("tiers") is not None and a.get("tiers") is b.get("tiers") for a in wls for b in wls if a is not b)
    text = (write_instance(raw, tmp_path)).read_text()
    assert "&id" not in text and "*id" not in text
    assert computeplan.load_instance(tmp_path / "instance.yaml").model_dump() == computeplan.load_instance(raw).model_dump()


def test_generate_command_tables(tmp_path):
    r = CliRunner().invoke(app, ["generate", "-n", "200", "-m", "9", "--seed", "2", "--tables", "csv",
                                 "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "workloads.csv").exists() and (tmp_path / "sites.csv").exists()
    inst = computeplan.load_instance(tmp_path / "instance.yaml")
    assert len(inst.workloads) == 200 and len(inst.sites) == 9


def test_non_editable_install_finds_catalogue_and_examples(tmp_path):
    """The README's first command, without the network: build the wheel, install it
    without dependencies into a fresh folder, and solve the shipped example from there."""
    wheel_dir = tmp_path / "wheel"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
                    str(wheel_dir), str(ROOT)], check=True)
    target = tmp_path / "site"
    wheel = next(wheel_dir.glob("computeplan-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True)
    out = tmp_path / "out"
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import computeplan, pathlib;"
        "assert pathlib.Path(computeplan.__file__).is_relative_to(sys.argv[1]), computeplan.__file__;"
        "from computeplan.cli import main; main(['solve', 'shanghai-2025', '--out', sys.argv[2], '-q'])"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    r = subprocess.run([sys.executable, "-c", code, str(target), str(out)], capture_output=True, text=True,
                       cwd=tmp_path, env=env)
    assert r.returncode == 0, r.stderr
    res = json.loads((out / "result.json").read_text())
    assert res["status"] == "optimal" and res["instance"] == "shanghai-2025"
    assert (target / "computeplan" / "_data" / "models" / "hardware.yaml").exists()
