"""Where the shipped catalogue and example instances live.

In a checkout they are ``models/`` and ``instances/`` at the project root; an installed
wheel carries them as ``computeplan/_data/models`` and ``computeplan/_data/instances``.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent.parent  # the computeplan package folder


def _find(name: str) -> Path | None:
    for cand in (_PKG / "_data" / name, _PKG.parent.parent / name):
        if cand.is_dir():
            return cand
    return None


def models_dir() -> Path | None:
    """The folder of the shipped catalogue files, or None when none is shipped."""
    return _find("models")


def instances_dir() -> Path | None:
    """The folder of the shipped example instances, or None."""
    return _find("instances")


def catalogue_files() -> list[Path]:
    """Every shipped catalogue file (``models/*.yaml``), in name order."""
    d = models_dir()
    return sorted(d.glob("*.yaml")) if d else []


def example_instance(name: str) -> Path:
    """Path of a shipped example instance by its file name or stem."""
    d = instances_dir()
    if d is None:
        raise FileNotFoundError("no example instances are shipped with this installation")
    for cand in (d / name, d / f"{name}.yaml", d / "teaching" / name, d / "teaching" / f"{name}.yaml"):
        if cand.is_file():
            return cand
    raise FileNotFoundError(f"no shipped example instance named {name!r} in {d}")
