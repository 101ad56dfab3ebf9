"""The GAP special case: OR-Library reader, exact MILP (HiGHS), LP bound, independent check.

Tests that need the public benchmark files skip when the shared data folder is absent.
It is located as ``<repo>/../shared`` (the sibling of the project root), or by the
``COMPUTEPLAN_SHARED`` environment variable.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from support import require_data, shared_dir

from computeplan.heuristics.gap.problem import (
    GapFormatError,
    GapProblem,
    check_assignment,
    gap_lp_bound,
    gap_objective,
    read_orlib_gap,
    relative_gap,
    solve_gap_milp,
)

GAP_DIR = shared_dir() / "benchdata" / "gap"
needs_data = pytest.mark.usefixtures("gap_data")


@pytest.fixture
def gap_data() -> Path:
    """Skips when the GAP benchmark files are absent; fails under CI."""
    return require_data(GAP_DIR / "reference.csv")


def reference() -> dict[tuple[str, int, str], float]:
    """(file, problem, sense) -> reference value, for proven optima only."""
    with open(GAP_DIR / "reference.csv", newline="") as fh:
        return {
            (row["file"], int(row["problem"]), row["sense"]): float(row["reference_value"])
            for row in csv.DictReader(fh)
            if row["status"] == "optimal"
        }


# A hand-worked instance. Agents 0, 1; jobs 0, 1, 2.
#   cost   = [[3, 1, 2],      weight = [[2, 1, 1],      capacity = [3, 3]
#             [1, 2, 3]]                [1, 2, 2]]
# Every job on its cheapest agent (1, 0, 0) costs 1 + 1 + 2 = 4 with loads (2, 1): feasible,
# and 4 is the sum of the column minima, so it is the minimum. The maximum gives job 0 to
# agent 0 (3) and jobs 1, 2 to agent 1 (2 + 3): load 4 > 3 on agent 1, infeasible; the best
# feasible profit is 3 + 2 + 2 = 7 with (0, 1, 0) (loads 3, 2) or (0, 0, 1) (3 + 1 + 3 = 7,
# loads 3, 2).
TINY_COST = [[3.0, 1.0, 2.0], [1.0, 2.0, 3.0]]
TINY_WEIGHT = [[2.0, 1.0, 1.0], [1.0, 2.0, 2.0]]
TINY_TEXT = "2 3\n3 1 2\n1 2 3\n2 1 1\n1 2 2\n3 3\n"


def tiny(sense: str = "min") -> GapProblem:
    return GapProblem("tiny", 2, 3, np.array(TINY_COST), np.array(TINY_WEIGHT),
                      np.array([3.0, 3.0]), sense)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- reader


def test_single_problem_file(tmp_path: Path) -> None:
    f = tmp_path / "tiny"
    f.write_text(TINY_TEXT)
    p = read_orlib_gap(f)
    assert (p.name, p.m, p.n, p.sense) == ("tiny", 2, 3, "min")
    np.testing.assert_array_equal(p.cost, TINY_COST)
    np.testing.assert_array_equal(p.weight, TINY_WEIGHT)
    np.testing.assert_array_equal(p.capacity, [3, 3])
    assert p.cost.dtype == np.float64 and p.cost.shape == (2, 3)
    assert read_orlib_gap(f, sense="max").sense == "max"


def test_multi_problem_file_selects_problem_and_defaults_to_max(tmp_path: Path) -> None:
    second = "1 2\n5 6\n1 1\n2\n"
    f = tmp_path / "gapx.txt"
    f.write_text("2\n" + TINY_TEXT + second)
    first = read_orlib_gap(f)
    assert (first.name, first.m, first.n, first.sense) == ("gapx-1", 2, 3, "max")
    p2 = read_orlib_gap(f, problem=2, sense="min")
    assert (p2.name, p2.m, p2.n, p2.sense) == ("gapx-2", 1, 2, "min")
    np.testing.assert_array_equal(p2.cost, [[5, 6]])
    np.testing.assert_array_equal(p2.capacity, [2])


def test_chu_beasley_multi_files_default_to_min(tmp_path: Path) -> None:
    f = tmp_path / "gapa.txt"
    f.write_text("1\n" + TINY_TEXT)
    assert read_orlib_gap(f).sense == "min"


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ("", {}, "found an empty file"),
        ("2 3\n3 1 x\n", {}, "found 'x' (token 5)"),
        ("2 3\n3 1 2\n1 2 3\n2 1 1\n1 2 2\n3\n", {}, "needs 16 numbers (m n, cost m x n, resource m x n, capacity m), found 15"),
        ("2\n" + TINY_TEXT + TINY_TEXT, {"problem": 3}, "problem must be between 1 and 2"),
        ("2\n" + TINY_TEXT + TINY_TEXT, {"problem": 0}, "got 0"),
        (TINY_TEXT, {"problem": 2}, "holds only problem 1"),
        (TINY_TEXT, {"sense": "maximise"}, "sense: expected 'min', 'max' or None"),
        (TINY_TEXT.replace("3 3\n", "3 -1\n"), {}, "capacity: expected non-negative"),
        ("0 3\n", {}, "expected 'm n'"),
    ],
)
def test_malformed_files_raise_value_errors_naming_the_problem(
    tmp_path: Path, text: str, kwargs: dict[str, object], message: str
) -> None:
    f = tmp_path / "bad.txt"
    f.write_text(text)
    with pytest.raises(ValueError) as err:
        read_orlib_gap(f, **kwargs)  # type: ignore[arg-type]
    assert isinstance(err.value, GapFormatError)
    assert message in str(err.value)
    if "sense" not in kwargs:
        assert str(f) in str(err.value)


def test_missing_file_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(GapFormatError, match="cannot read the file"):
        read_orlib_gap(tmp_path / "nope")


def test_problem_arrays_are_read_only_and_validated() -> None:
    p = tiny()
    with pytest.raises(ValueError):
        p.cost[0, 0] = 9.0
    with pytest.raises(GapFormatError, match=r"weight: expected shape \(2, 3\)"):
        GapProblem("bad", 2, 3, np.ones((2, 3)), np.ones((3, 2)), np.ones(2))
    with pytest.raises(GapFormatError, match="sense"):
        GapProblem("bad", 2, 3, np.ones((2, 3)), np.ones((2, 3)), np.ones(2), "maximum")  # type: ignore[arg-type]


# ----------------------------------------------------------------------------- checks


def test_objective_and_independent_check() -> None:
    p = tiny()
    assert gap_objective(p, [1, 0, 0]) == 4.0
    assert check_assignment(p, [1, 0, 0]) == []
    assert check_assignment(p, [0, 1, 1]) == ["agent 1: load 4 exceeds capacity 3"]
    assert check_assignment(p, [0, 2, 0]) == ["job 1: agent 2 is not in [0, 2)"]
    with pytest.raises(ValueError, match="expected shape"):
        check_assignment(p, [0, 1])
    assert relative_gap(100.0, 99.0) == pytest.approx(0.01)
    assert relative_gap(0.0, 0.0) == 0.0
    assert relative_gap(float("nan"), 1.0) == float("inf")


# ----------------------------------------------------------------------------- MILP


def test_milp_on_the_hand_worked_instance() -> None:
    lo = solve_gap_milp(tiny("min"))
    assert (lo.status, lo.objective, lo.feasible) == ("optimal", 4.0, True)
    assert lo.assignment.tolist() == [1, 0, 0]
    assert lo.bound == 4.0 and lo.gap == 0.0
    hi = solve_gap_milp(tiny("max"))
    assert (hi.status, hi.objective) == ("optimal", 7.0)
    assert check_assignment(tiny("max"), hi.assignment) == []
    # the LP relaxation bounds the optimum from the right side
    assert gap_lp_bound(tiny("min")) <= 4.0 + 1e-9
    assert gap_lp_bound(tiny("max")) >= 7.0 - 1e-9


def test_milp_reports_infeasibility_as_a_status() -> None:
    p = GapProblem("full", 2, 3, np.ones((2, 3)), np.full((2, 3), 2.0), np.array([3.0, 3.0]))
    res = solve_gap_milp(p)
    assert res.status == "infeasible" and not res.feasible
    assert np.all(res.assignment == -1) and np.isnan(res.objective)
    assert gap_lp_bound(p) == 3.0  # half of every job on each agent fits
    heavier = GapProblem("heavier", 2, 3, np.ones((2, 3)), np.full((2, 3), 3.0), np.array([3.0, 3.0]))
    assert gap_lp_bound(heavier) == float("inf")


def test_milp_accepts_a_start_and_ignores_a_bad_one() -> None:
    p = tiny("min")
    assert solve_gap_milp(p, start=np.array([1, 0, 0])).objective == 4.0
    assert solve_gap_milp(p, start=np.array([0, 1, 1])).objective == 4.0  # infeasible start


# ----------------------------------------------------------------------------- public files


@needs_data
def test_reader_on_public_files() -> None:
    p = read_orlib_gap(GAP_DIR / "orlib" / "gap1.txt")
    assert (p.name, p.m, p.n, p.sense) == ("gap1-1", 5, 15, "max")
    p = read_orlib_gap(GAP_DIR / "orlib" / "gap12.txt", problem=5)
    assert (p.m, p.n, p.sense) == (10, 60, "max")
    d = read_orlib_gap(GAP_DIR / "yagiura" / "d10200")
    assert (d.name, d.m, d.n, d.sense) == ("d10200", 10, 200, "min")
    # checksum: OR-Library's gapd problem 6 is the same instance as Yagiura's d20200
    a = read_orlib_gap(GAP_DIR / "orlib" / "gapd.txt", problem=6)
    b = read_orlib_gap(GAP_DIR / "yagiura" / "d20200")
    assert a.sense == b.sense == "min"
    for x, y in ((a.cost, b.cost), (a.weight, b.weight), (a.capacity, b.capacity)):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(GapFormatError, match="between 1 and 5"):
        read_orlib_gap(GAP_DIR / "orlib" / "gap1.txt", problem=6)


@needs_data
@pytest.mark.parametrize("sense", ["max", "min"])
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_milp_reaches_the_gap1_optima(k: int, sense: str) -> None:
    p = read_orlib_gap(GAP_DIR / "orlib" / "gap1.txt", problem=k, sense=sense)
    res = solve_gap_milp(p, time_limit=30)
    assert res.status == "optimal"
    assert res.objective == reference()[("orlib/gap1.txt", k, sense)]
    assert check_assignment(p, res.assignment) == []
    assert gap_objective(p, res.assignment) == res.objective
    lp = gap_lp_bound(p)
    assert (lp >= res.objective - 1e-6) if sense == "max" else (lp <= res.objective + 1e-6)


@needs_data
@pytest.mark.parametrize("name", ["gap4.txt", "gap8.txt", "gap12.txt"])
def test_milp_reaches_larger_orlib_optima(name: str) -> None:
    p = read_orlib_gap(GAP_DIR / "orlib" / name, problem=1)
    res = solve_gap_milp(p, time_limit=30)
    assert res.status == "optimal"
    assert res.objective == reference()[(f"orlib/{name}", 1, "max")]
