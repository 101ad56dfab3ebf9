"""The data guard: a missing data set skips locally and fails under CI."""

from __future__ import annotations

from pathlib import Path

import pytest
import support


def test_missing_data_skips_locally(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(support, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="data not found"):
        support.require_data(tmp_path / "absent.csv")


def test_missing_data_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(support, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        support.require_data(tmp_path / "absent.csv")


def test_present_data_is_returned(tmp_path: Path) -> None:
    f = tmp_path / "here.csv"
    f.write_text("x\n")
    assert support.require_data(f) == f


def test_ci_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    monkeypatch.setenv("CI", "true")
    assert importlib.reload(support).IN_CI is True
    monkeypatch.setenv("CI", "")
    assert importlib.reload(support).IN_CI is False
