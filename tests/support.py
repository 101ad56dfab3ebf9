"""Helpers shared by the test modules (``tests/`` is on ``sys.path`` under pytest)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"
IN_CI = os.environ.get("CI", "").lower() == "true"


def shared_dir() -> Path:
    """The shared data folder: ``COMPUTEPLAN_SHARED``, else the project root's sibling."""
    return Path(os.environ.get("COMPUTEPLAN_SHARED") or ROOT.parent / "shared")


def require_data(path: Path) -> Path:
    """Return ``path`` when it exists; otherwise skip the calling test, except under CI
    (``CI=true``), where a missing data set fails it: a published optimum left unchecked
    must not pass as green."""
    if path.exists():
        return path
    if IN_CI:
        pytest.fail(f"data not found at {path} (CI=true: required; set COMPUTEPLAN_SHARED)", pytrace=False)
    pytest.skip(f"data not found at {path}")


def problems_of(raw: Mapping[str, Any], tmp: Path | None = None) -> list[str]:
    """The problems :func:`computeplan.load_instance` finds in ``raw`` (it must find some)."""
    import computeplan

    with pytest.raises(computeplan.InstanceError) as ei:
        computeplan.load_instance(raw, base_dir=tmp)
    return ei.value.problems


def one(raw: Mapping[str, Any], path: str, *words: str) -> None:
    """Some problem of ``raw`` names the field ``path`` and says each of ``words``."""
    probs = problems_of(raw)
    hit = [p for p in probs if f": {path}" in p]
    assert hit, f"no problem names {path!r}: {probs}"
    for w in words:
        assert any(w in p for p in hit), f"{w!r} not in {hit}"


ENGINE = ("computeplan.model.data", "computeplan.model.build", "computeplan.model.expressions",
          "computeplan.model.layout", "computeplan.solvers", "computeplan.plan.evaluate", "computeplan.plan.result",
          "highspy")
"""The modules of the engine, which the independent check must not import."""


def verify_in_fresh_interpreter(instance: Path, result: dict[str, Any], tmp: Path) -> tuple[list[str], list[str]]:
    """``verify(instance, result)`` run in a fresh interpreter: its problems, and the
    modules of the engine it imported."""
    f = tmp / "result.json"
    f.write_text(json.dumps(result))
    code = (
        "import json, sys\n"
        "from computeplan.io.loader import load_instance\n"
        "from computeplan.plan.verify import verify\n"
        f"bad = verify(load_instance({str(instance)!r}), json.loads(open({str(f)!r}).read()))\n"
        f"engine = [m for m in sys.modules if m.startswith({ENGINE!r})]\n"
        "print(json.dumps([bad, engine]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    bad, engine = json.loads(out.stdout)
    return bad, engine


def teaching_raw(name: str) -> dict[str, Any]:
    """A teaching instance as the mapping its YAML file holds."""
    import yaml

    raw = yaml.safe_load((TEACHING / name).read_text())
    assert isinstance(raw, dict)
    return raw
