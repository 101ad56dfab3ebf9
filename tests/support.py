"""Helpers shared by the test modules (``tests/`` is on ``sys.path`` under pytest)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
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
