"""Reproducible installs: constraints.txt pins every dependency, .ci/run installs with it, and
.ci/newest checks the newest releases without it."""

from __future__ import annotations

import os
import re
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
CONSTRAINTS = ROOT / "constraints.txt"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([0-9][0-9A-Za-z.!-]*)$")


def pins() -> dict[str, str]:
    out = {}
    for line in CONSTRAINTS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = PIN.match(line.strip())
        assert m, f"constraints.txt: {line!r} is not NAME==VERSION (no URLs, paths or local versions)"
        out[canonicalize_name(m[1])] = m[2]
    return out


def closure(name: str, extras: frozenset[str] = frozenset()) -> set[str]:
    """Every distribution ``name[extras]`` needs, as installed here."""
    seen: set[str] = set()
    todo = [(name, extras)]
    while todo:
        dist, ex = todo.pop()
        for spec in metadata.requires(dist) or []:
            req = Requirement(spec)
            if req.marker is not None and not any(req.marker.evaluate({"extra": e}) for e in (ex or {""})):
                continue
            key = canonicalize_name(req.name)
            if key not in seen:
                seen.add(key)
                todo.append((req.name, frozenset(req.extras)))
    return seen


def test_constraints_pin_every_dependency_of_the_dev_install():
    pinned = pins()
    missing = sorted(closure("computeplan", frozenset({"dev"})) - set(pinned))
    assert not missing, f"constraints.txt lacks {missing}: regenerate it (.ci/newest --lock)"


def test_constraints_leave_out_the_project_and_pip():
    pinned = pins()
    for name in ("computeplan", "pip", "setuptools"):
        assert name not in pinned


def test_ci_run_installs_the_pinned_versions_and_not_the_newest():
    run = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"pip install .*-c constraints\.txt .*-e '\.\[dev\]'", run)
    commands = [ln for ln in run.splitlines() if not ln.lstrip().startswith("#")]
    assert not [ln for ln in commands if "newest" in ln or "--upgrade" in ln]
    assert "set -euo pipefail" in run and ".venv/bin/pytest" in run


def test_ci_newest_installs_without_constraints_and_runs_the_same_checks():
    path = ROOT / ".ci" / "newest"
    assert os.access(path, os.X_OK)
    text = path.read_text()
    install = [ln for ln in text.splitlines() if "pip\" install" in ln]
    assert install and all("--upgrade" in ln and "-c " not in ln for ln in install)
    for check in ("ruff\" check .", "mypy\"", "pytest\""):
        assert check in text
    assert "set -euo pipefail" in text


def test_readme_install_commands_use_the_constraints():
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"\.venv/bin/pip install [^&\n]*", readme)
    assert installs and all("-c constraints.txt" in i for i in installs), installs
    assert ".ci/newest" in readme
