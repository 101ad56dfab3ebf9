"""Option values checked at parse time (usage error, exit 2, one line naming the option), and a
command line that imports no numeric or solver library until a command needs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml
from typer.testing import CliRunner

from computeplan.cli import app

runner = CliRunner()

# (command, option, bad value) for every command that takes the option
BAD = [
    *[(cmd, "--time-limit", v) for cmd in ("solve", "sweep", "headroom", "outage") for v in ("0", "-1", "nan")],
    *[(cmd, "--mip-gap", "-0.01") for cmd in ("solve", "sweep", "outage")],
    *[(cmd, "--mip-gap", "nan") for cmd in ("solve", "sweep", "outage")],
    ("solve", "--threads", "0"),
    ("solve", "--threads", "-2"),
    ("sweep", "--workers", "0"),
    ("outage", "--workers", "0"),
    ("headroom", "--tol", "0"),
]
EXTRA = {"sweep": ["--vary", "targets.fleet_pue_max=1.2,1.3"]}


@pytest.mark.parametrize(("command", "option", "value"), BAD)
def test_bad_option_is_a_one_line_usage_error(tmp_path, base, monkeypatch, command, option, value):
    f = tmp_path / "inst.yaml"
    f.write_text(yaml.safe_dump(base))

    def no_load(*a, **k):
        raise AssertionError("the instance was loaded although an option was invalid")

    monkeypatch.setattr("computeplan.io.loader.load_instance", no_load)
    r = runner.invoke(app, [command, str(f), *EXTRA.get(command, []), f"{option}={value}"])
    assert r.exit_code == 2, r.output
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    assert option in lines[0] and value.lstrip("-") in lines[0], lines[0]
    assert "Traceback" not in r.output


@pytest.mark.parametrize(("args", "key", "expect"), [
    (["--time-limit", "inf"], "time_limit", None),
    (["--time-limit", "2.5"], "time_limit", 2.5),
    (["--mip-gap", "0"], "mip_gap", 0.0),
    (["--threads", "1"], "threads", 1),
])
def test_good_option_values_reach_the_solver(tmp_path, base, monkeypatch, args, key, expect):
    f = tmp_path / "inst.yaml"
    f.write_text(yaml.safe_dump(base))
    seen: dict = {}

    def fake_solve(inst, **kw):
        seen.update(kw)
        raise SystemExit(0)

    monkeypatch.setattr("computeplan.plan.solve.solve", fake_solve)
    r = runner.invoke(app, ["solve", str(f), *args])
    assert r.exit_code == 0, r.output
    if key == "time_limit" and expect is not None:
        # the limit holds for the whole command: the solver gets what reading left of it
        assert expect - 1.0 < seen[key] <= expect
    else:
        assert seen[key] == expect


def test_bad_option_exit_2_from_the_installed_command(tmp_path):
    """The real entry point: exit 2 and one line on stderr, nothing on stdout."""
    p = subprocess.run([sys.executable, "-m", "computeplan", "solve", "base", "--time-limit", "-3"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.strip().count("\n") == 0 and "--time-limit" in p.stderr and "Traceback" not in p.stderr


HEAVY = ("highspy", "numba", "pandas", "scipy", "matplotlib", "dask", "numpy", "pulp", "pyarrow",
         "computeplan.io.loader", "computeplan.plan.solve")


def test_cli_module_imports_no_heavy_library():
    code = ("import json, sys; import computeplan.cli; "
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert json.loads(p.stdout) == []


def test_help_imports_no_heavy_library():
    code = ("import json, sys\n"
            "from computeplan.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "solve" in p.stdout
    assert json.loads(p.stdout.strip().splitlines()[-1]) == []


def test_every_command_is_listed_in_help():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0
    for cmd in ("solve", "validate", "verify", "generate", "sweep", "headroom", "outage", "capacity", "report"):
        assert cmd in r.output

