"""Output folders: checked before any work, written as one set, other files left alone,
concurrent writers never mixed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from computeplan.cli import app
from computeplan.errors import UsageError
from computeplan.io.write import RESULT, SWEEP, check_out_dir, folder_lock, write_set, write_text

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def write(tmp_path: Path, raw: dict, name: str = "inst.yaml") -> Path:
    p = tmp_path / name
    p.write_text(yaml.safe_dump(raw))
    return p


def renamed(raw: dict, name: str, suffix: str) -> dict:
    """The instance with another name and every site id suffixed."""
    raw = json.loads(json.dumps(raw))
    raw["name"] = name
    for s in raw["sites"]:
        s["id"] += suffix
    return raw


@pytest.fixture
def no_work(monkeypatch):
    """Every entry point that does the work raises: a command that gets that far fails the test."""

    def boom(*a, **k):
        raise AssertionError("the work started before --out was checked")

    for target in ("computeplan.plan.solve.solve", "computeplan.io.loader.load_instance",
                   "computeplan.io.generate.generate_instance"):
        monkeypatch.setattr(target, boom)


# --------------------------------------------------------------------------------------
# --out checked before the work
# --------------------------------------------------------------------------------------
COMMANDS = {
    "solve": ["solve", "{f}"],
    "sweep": ["sweep", "{f}", "--vary", "targets.fleet_pue_max=1.2,1.3", "--engine", "serial"],
    "headroom": ["headroom", "{f}"],
    "outage": ["outage", "{f}", "--engine", "serial"],
    "capacity": ["capacity", "{f}"],
    "generate": ["generate", "--workloads", "20", "--sites", "5"],
}


def bad_outs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    a_file = tmp_path / "taken.txt"
    a_file.write_text("not a folder\n")
    return {
        "is a file": (a_file, "is a file"),
        "parent is a file": (a_file / "out", "is a file, so no folder"),
    }


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", ["is a file", "parent is a file"])
def test_unusable_out_is_a_usage_error_before_any_work(tmp_path, base, no_work, command, case):
    f = write(tmp_path, base)
    out, expect = bad_outs(tmp_path)[case]
    args = [a.format(f=f) for a in COMMANDS[command]]
    r = runner.invoke(app, [*args, "--out", str(out)])
    assert r.exit_code == 2, r.output
    assert "--out" in r.output and expect in r.output and str(out) in r.output
    assert "Traceback" not in r.output and "AssertionError" not in r.output


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")
def test_out_where_nothing_can_be_made_even_as_root(tmp_path, base, no_work):
    """/proc refuses new folders to every user, root included."""
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--out", "/proc/computeplan-out"])
    assert r.exit_code == 2, r.output
    assert "cannot write in /proc" in r.output


NOBODY = 65534  # the unprivileged user and group of Debian and most Linux systems


@contextlib.contextmanager
def unprivileged(owned: Path) -> Iterator[None]:
    """Inside the block, file permissions apply: as root (who writes anywhere) the effective
    user and group ids become nobody's, restored after, and ``owned`` becomes nobody's;
    otherwise nothing changes."""
    if not IS_ROOT:
        yield
        return
    os.chown(owned, NOBODY, NOBODY)
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_out_below_a_read_only_folder(base, no_work):
    """A folder its owner may only read (0o500): no output folder can be made in it. The
    check runs as root too, as nobody (who then owns the folder), in a folder under the
    system's temporary folder that nobody can reach."""
    top = Path(tempfile.mkdtemp())
    ro = top / "ro"
    try:
        top.chmod(0o755)
        f = write(top, base)
        ro.mkdir()
        ro.chmod(0o500)
        if IS_ROOT:  # load every module the command needs while the interpreter's files are readable
            runner.invoke(app, ["solve", str(f), "--out", str(ro / "out")])
        with unprivileged(ro):
            r = runner.invoke(app, ["solve", str(f), "--out", str(ro / "out")])
        assert r.exit_code == 2, r.output
        assert f"cannot write in {ro}: Permission denied" in r.output
        assert not (ro / "out").exists()
    finally:
        if ro.exists():
            ro.chmod(0o700)
        shutil.rmtree(top)


def test_report_files_checked_before_the_solve(tmp_path, base, no_work):
    f = write(tmp_path, base)
    (tmp_path / "dir.html").mkdir()
    r = runner.invoke(app, ["solve", str(f), "--report", str(tmp_path / "dir.html")])
    assert r.exit_code == 2 and "--report" in r.output and "is a folder" in r.output


def test_check_creates_nothing(tmp_path):
    check_out_dir(tmp_path / "a" / "b")
    assert list(tmp_path.iterdir()) == []


def test_solve_refuses_to_replace_a_generated_instance_tables(tmp_path, base):
    d = tmp_path / "fleet"
    r = runner.invoke(app, ["generate", "--workloads", "20", "--sites", "5", "--tables", "csv", "--out", str(d)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["solve", str(d / "instance.yaml"), "--out", str(d)])
    assert r.exit_code == 2 and "instance.yaml" in r.output and "sites.csv" in r.output
    assert (d / "sites.csv").exists() and not (d / "result.json").exists()


def test_solve_refuses_to_replace_tables_it_did_not_write(tmp_path, base, no_work):
    out = tmp_path / "fleet"
    out.mkdir()
    (out / "sites.csv").write_text("id\nmine\n")
    f = write(tmp_path, base)
    r = runner.invoke(app, ["solve", str(f), "--out", str(out)])
    assert r.exit_code == 2 and "sites.csv but no result.json" in r.output
    assert (out / "sites.csv").read_text() == "id\nmine\n"


# --------------------------------------------------------------------------------------
# One set: no stale files, other files kept
# --------------------------------------------------------------------------------------
def test_resolve_replaces_the_whole_set_and_keeps_other_files(tmp_path, base):
    out = tmp_path / "out"
    fa = write(tmp_path, renamed(base, "alpha", "-a"), "a.yaml")
    fb = write(tmp_path, renamed(base, "beta", "-b"), "b.yaml")
    assert runner.invoke(app, ["solve", str(fa), "-q", "--out", str(out), "--tables", "both"]).exit_code == 0
    (out / "notes.txt").write_text("mine\n")
    (out / "sweep.csv").write_text("x,status\n1,optimal\n")
    assert runner.invoke(app, ["solve", str(fb), "-q", "--out", str(out), "--tables", "csv"]).exit_code == 0
    assert not list(out.glob("*.parquet")), "Parquet tables of the earlier solve are stale"
    assert json.loads((out / "result.json").read_text())["instance"] == "beta"
    assert set(pd.read_csv(out / "sites.csv")["id"]) == {"s1-b", "s2-b"}
    assert (out / "notes.txt").read_text() == "mine\n"
    assert (out / "sweep.csv").exists()
    assert not [p for p in out.iterdir() if p.name.startswith(".computeplan-") and p.name != ".computeplan.lock"]
    assert runner.invoke(app, ["solve", str(fb), "-q", "--out", str(out), "--tables", "none"]).exit_code == 0
    assert {p.name for p in out.glob("*.csv")} == {"sweep.csv"}


def test_sweep_set_replaces_its_chart_and_keeps_the_result(tmp_path, base):
    out = tmp_path / "out"
    f = write(tmp_path, base)
    assert runner.invoke(app, ["solve", str(f), "-q", "--out", str(out)]).exit_code == 0
    r = runner.invoke(app, ["sweep", str(f), "-q", "--vary", "targets.fleet_pue_max=1.3,1.4", "--engine", "serial",
                            "--out", str(out), "--plot", "svg"])
    assert r.exit_code == 0, r.output
    assert (out / "sweep.csv").exists() and (out / "sweep.svg").exists()
    r = runner.invoke(app, ["sweep", str(f), "-q", "--vary", "targets.fleet_pue_max=1.3,1.4", "--engine", "serial",
                            "--out", str(out), "--plot", "none", "--tables", "parquet"])
    assert r.exit_code == 0, r.output
    assert (out / "sweep.parquet").exists()
    assert not (out / "sweep.csv").exists() and not (out / "sweep.svg").exists()
    assert (out / "result.json").exists() and (out / "sites.csv").exists()
    rep = runner.invoke(app, ["report", str(out)])
    assert rep.exit_code == 0, rep.output
    assert (out / "report.html").exists()


def test_headroom_capacity_and_generate_write_through_sets(tmp_path, base):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    f = write(tmp_path, base)
    assert runner.invoke(app, ["headroom", str(f), "--out", str(out)]).exit_code == 0
    assert runner.invoke(app, ["capacity", str(f), "--out", str(out), "--tables", "parquet"]).exit_code == 0
    assert runner.invoke(app, ["capacity", str(f), "--out", str(out)]).exit_code == 0
    assert (out / "capacity.csv").exists() and not (out / "capacity.parquet").exists()
    assert json.loads((out / "headroom.json").read_text())["factor"] > 0
    g = tmp_path / "fleet"
    assert runner.invoke(app, ["generate", "-n", "20", "-m", "5", "--tables", "csv", "--out", str(g)]).exit_code == 0
    assert runner.invoke(app, ["generate", "-n", "20", "-m", "5", "--out", str(g)]).exit_code == 0
    assert {p.name for p in g.iterdir() if not p.name.startswith(".")} == {"instance.yaml"}
    assert (out / "notes.txt").read_text() == "mine\n"


def test_write_set_rejects_files_outside_the_set(tmp_path):
    with pytest.raises(ValueError, match=r"notes\.txt"):
        write_set(tmp_path, RESULT, {"notes.txt": write_text("x")})


def test_a_failed_write_leaves_the_old_set(tmp_path):
    write_set(tmp_path, SWEEP, {"sweep.csv": write_text("old\n")})

    def broken(path: Path) -> None:
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_set(tmp_path, SWEEP, {"sweep.csv": write_text("new\n"), "sweep.png": broken})
    assert (tmp_path / "sweep.csv").read_text() == "old\n"
    assert {p.name for p in tmp_path.iterdir()} <= {"sweep.csv", ".computeplan.lock"}


def test_ctrl_c_during_the_swap_takes_effect_after_it(tmp_path, monkeypatch):
    """A SIGINT that arrives while the set is renamed in is delivered once the swap is done."""
    import signal

    from computeplan.io import write as w

    write_set(tmp_path, SWEEP, {"sweep.csv": write_text("old\n")})
    real_rename = os.rename

    def rename_then_interrupt(src, dst):
        real_rename(src, dst)
        if Path(dst).parent == tmp_path:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(w.os, "rename", rename_then_interrupt)
    other = threading.Event()  # a second thread (as Dask or Numba leave) may receive the signal
    t = threading.Thread(target=other.wait, args=(30,))
    t.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            write_set(tmp_path, SWEEP, {"sweep.csv": write_text("new\n"), "sweep.svg": write_text("<svg/>")})
    finally:
        other.set()
        t.join()
    assert (tmp_path / "sweep.csv").read_text() == "new\n" and (tmp_path / "sweep.svg").exists()


def test_check_out_dir_error_names_the_option(tmp_path):
    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match=r"^--out .*f: is a file"):
        check_out_dir(tmp_path / "f")


# --------------------------------------------------------------------------------------
# Two writers at once
# --------------------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from computeplan.plan.result import Result, Status

    out, name, rounds, start = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
    sites = [{"id": f"{name}-{j}", "tier": "edge"} for j in range(50)]
    res = Result(instance=name, status=Status.OPTIMAL, method="lp", objective_name="energy_kwh",
                 objective_value=1.0, bound=1.0, gap=0.0, solve_seconds=0.0, site_records=sites,
                 pool_records=[{"site": s["id"], "hardware": "h"} for s in sites],
                 assignment_records=[{"workload": f"w{i}", "site": sites[i % 50]["id"], "hardware": "h",
                                      "share": 1.0, "tflops": 1.0} for i in range(1000)],
                 target_list=[{"name": name, "target": 1.0, "value": 1.0, "met": True, "shadow_price": 0.0}])
    while not start.exists():
        time.sleep(0.001)
    for _ in range(rounds):
        res.write(out, ("csv", "parquet"))
""")


def consistent(out: Path) -> str:
    """The one instance every file of the result set names (fails on a mix)."""
    name = json.loads((out / "result.json").read_text())["instance"]
    for table in ("sites", "pools", "assignments"):
        col = "id" if table == "sites" else "site"
        for kind, read in (("csv", pd.read_csv), ("parquet", pd.read_parquet)):
            ids = set(read(out / f"{table}.{kind}")[col])
            assert {i.rsplit("-", 1)[0] for i in ids} == {name}, f"{table}.{kind} holds {sorted(ids)[:3]}, " \
                f"result.json names {name}"
    targets = pd.read_csv(out / "targets.csv")
    assert list(targets["name"]) == [name]
    return name


def test_two_writers_at_once_never_mix(tmp_path):
    """Two processes replace the set in one folder 10 times each, at once; every look (under the
    shared lock, as ``computeplan report`` reads) and the end find one writer's whole set."""
    out = tmp_path / "out"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    start = tmp_path / "start"
    procs = [subprocess.Popen([sys.executable, str(script), str(out), name, "10", str(start)])
             for name in ("alpha", "beta")]
    seen = set()
    try:
        start.touch()
        while any(p.poll() is None for p in procs):
            if (out / "result.json").exists():
                with folder_lock(out, shared=True):
                    seen.add(consistent(out))
            time.sleep(0.02)  # let the writers take the lock
    finally:
        for p in procs:
            p.wait(timeout=300)
    assert [p.returncode for p in procs] == [0, 0]
    seen.add(consistent(out))
    assert seen <= {"alpha", "beta"}
    assert {p.name for p in out.iterdir()} == {".computeplan.lock", "result.json", *(
        f"{t}.{k}" for t in ("sites", "pools", "assignments", "targets") for k in ("csv", "parquet"))}
