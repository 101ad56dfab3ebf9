"""Fuzzing the loader with mutated teaching instances: whatever the file holds, reading it
either fails with an :class:`InstanceError` whose every problem names the file and a
field (or a line), or gives an instance that solves to a verified plan or to a result
without a plan. Never an internal error."""

from __future__ import annotations

import copy
import math
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import computeplan
from computeplan import InstanceError

ROOT = Path(__file__).resolve().parents[1]
TEACHING = sorted((ROOT / "instances" / "teaching").glob("*.yaml"))
TEXTS = [p.read_text() for p in TEACHING]
DATA = [yaml.safe_load(t) for t in TEXTS]

FUZZ = settings(max_examples=150, derandomize=True, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ODD_VALUES: list[Any] = [None, "", " ", "x", "\x1b[31m", "[/]", 0, -1, 1, 0.5, True, [], {}, [1, "a"],
                         {"a": 1}, 1e308, -1e308, 10**30, math.nan, math.inf, "9" * 400, "fp64", "edge"]
YAML_NOISE = [*":-[]{}&*!|>'\"#%@`,?\t\n ", "\x00", "\x1b", "\u202e", "ÿ", "&a ", "*a", "<<: *a\n"]


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into the data (keys and indexes), the top level included."""
    out = [here]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*here, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*here, i))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for k in path:
        node = node[k]
    return node


def _huge(value: Any) -> Any:
    if isinstance(value, bool):
        return [value] * 100
    if isinstance(value, int | float):
        return 1e300 if isinstance(value, float) else 10**300
    if isinstance(value, str):
        return value * 300
    if isinstance(value, list):
        return value * 30
    if isinstance(value, dict):
        return {f"{k}-{i}": v for i in range(10) for k, v in value.items()}
    return "?" * 1000


@st.composite
def mutated_data(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(draw(st.sampled_from(DATA)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths))
        op = draw(st.sampled_from(["drop", "retype", "duplicate", "huge"]))
        if not path:
            if op == "retype":
                data = draw(st.sampled_from(ODD_VALUES))
            continue
        parent, key = _get(data, path[:-1]), path[-1]
        if op == "drop":
            del parent[key]
        elif op == "retype":
            parent[key] = draw(st.sampled_from(ODD_VALUES))
        elif op == "duplicate":
            if isinstance(parent, list):
                parent.insert(key, copy.deepcopy(parent[key]))
            else:
                parent[f"{key}"[:3] + "x"] = copy.deepcopy(parent[key])
        else:
            parent[key] = _huge(parent[key])
            break  # one huge value per example keeps each example small enough to be quick
    return data


@st.composite
def mangled_text(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["cut", "insert", "replace", "duplicate-line"]))
        if op == "cut":
            text = text[:at]
        elif op == "insert":
            text = text[:at] + draw(st.sampled_from(YAML_NOISE)) + text[at:]
        elif op == "replace":
            text = text[:at] + draw(st.sampled_from(YAML_NOISE)) + text[at + 1 :]
        else:
            lines = text.splitlines(keepends=True) or [""]
            i = draw(st.integers(0, len(lines) - 1))
            text = "".join(lines[: i + 1] + lines[i:])
    return text


def _check(text: str, suffix: str = ".yaml") -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"fuzzed{suffix}"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            inst = computeplan.load_instance(path)
        except InstanceError as e:
            assert e.problems
            for p in e.problems:
                assert p.startswith(f"{path}: "), p
                rest = p[len(str(path)) + 2 :]
                assert ": " in rest or rest.startswith("line ") or "aliases" in rest or "nested" in rest, p
                assert len(p) < 1000 and p.isprintable(), p
            return
        res = computeplan.solve(inst, time_limit=20)
        if res.status.has_plan:
            assert computeplan.verify(inst, res) == []


@FUZZ
@given(mutated_data())
def test_mutated_instances(data: Any) -> None:
    _check(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))


@FUZZ
@given(mangled_text())
def test_mangled_yaml_text(text: str) -> None:
    _check(text)


def test_teaching_instances_are_valid() -> None:
    """The starting points of the fuzzing load as they are."""
    assert len(TEACHING) >= 5
    for p in TEACHING:
        computeplan.load_instance(p)
