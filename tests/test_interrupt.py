"""Ctrl-C and SIGTERM during a solve: the search stops, the best plan found is written with
status ``interrupted`` (its bound and gap), and the command exits 130 or 143."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import computeplan
from computeplan.io.generate import generate_instance, write_instance

CLI = [sys.executable, "-m", "computeplan"]


@pytest.fixture(scope="module")
def hard_fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MILP that HiGHS does not close to a zero gap in a few seconds."""
    folder = tmp_path_factory.mktemp("fleet")
    inst = generate_instance(4000, 50, seed=3, indivisible_share=0.3)
    return write_instance(inst, folder)


def _run_until_incumbent(instance: Path, out: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([*CLI, "solve", str(instance), "--method", "milp", "--mip-gap", "0", "--out", str(out),
                             "--progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert proc.stderr is not None
    deadline = time.monotonic() + 240
    for line in proc.stderr:  # progress lines: "t s  incumbent X  bound Y  gap Z"
        if "incumbent" in line and "incumbent               -" not in line:
            return proc
        if time.monotonic() > deadline:
            break
    proc.kill()
    pytest.fail("the MILP found no incumbent to interrupt (or finished first)")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_keeps_the_best_plan(hard_fleet: Path, tmp_path: Path, sig: int, code: int) -> None:
    out = tmp_path / "out"
    proc = _run_until_incumbent(hard_fleet, out)
    proc.send_signal(sig)
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the solve did not stop after the signal")
    assert proc.returncode == code
    d = json.loads((out / "result.json").read_text())
    assert d["status"] == "interrupted"
    obj = d["objective"]
    assert obj["value"] is not None and obj["bound"] is not None and obj["bound"] <= obj["value"] * (1 + 1e-9)
    assert obj["gap"] == pytest.approx((obj["value"] - obj["bound"]) / abs(obj["value"]), rel=1e-6, abs=1e-12)
    inst = computeplan.load_instance(hard_fleet)
    assert computeplan.verify(inst, computeplan.Result.read(out)) == []
    # stdout holds the summary only: no solver banner
    assert proc.stdout is not None
    assert "HiGHS" not in proc.stdout.read()
