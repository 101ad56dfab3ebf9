"""Typical days: which days are chosen, and for how many days each stands."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from computeplan.errors import UsageError
from computeplan.io.typical import choose_days

HOURS = np.arange(24)
SHAPES = {
    "flat": np.full(24, 0.5),
    "peak": np.where((HOURS >= 8) & (HOURS < 20), 1.0, 0.1),
    "night": np.where((HOURS >= 8) & (HOURS < 20), 0.1, 0.9),
}


def _table(pattern: str) -> pd.DataFrame:
    """One day per letter: f(lat), p(eak) or n(ight), a small per-day wobble on top."""
    names = {"f": "flat", "p": "peak", "n": "night"}
    days = [SHAPES[names[c]] + 0.001 * (d % 3) for d, c in enumerate(pattern)]
    price = np.concatenate(days)
    return pd.DataFrame({"price": price, "carbon": 1.0 - 0.5 * price})


@pytest.mark.parametrize("method", ["hierarchical", "kmedoids"])
def test_three_shapes_are_found_with_their_counts(method: str) -> None:
    pattern = "ffpnpfffnpppnfffnnpf"  # 9 flat, 6 peak, 5 night days
    chosen = choose_days(_table(pattern), 3, method=method)
    kinds = [pattern[d] for d in chosen.days]
    assert sorted(kinds) == ["f", "n", "p"]
    counts = {pattern[d]: c for d, c in zip(chosen.days, chosen.counts, strict=True)}
    assert counts == {"f": 9.0, "p": 6.0, "n": 5.0}
    # every day is stood for by a day of its own shape, and a chosen day stands for itself
    assert [kinds[a] for a in chosen.assignment] == list(pattern)
    assert list(chosen.assignment[chosen.days]) == [0, 1, 2]
    assert list(chosen.days) == sorted(chosen.days)


def test_rows_and_weights_of_the_chosen_days() -> None:
    chosen = choose_days(_table("fpnfpn"), 3)
    assert chosen.counts.sum() == 6
    hours = chosen.hours()
    assert len(hours) == 72 and list(hours[:24]) == list(range(chosen.days[0] * 24, chosen.days[0] * 24 + 24))
    assert chosen.weights().sum() == 6 * 24


def test_as_many_days_as_the_table_keeps_every_day() -> None:
    chosen = choose_days(_table("fpnfp"), 5)
    assert list(chosen.days) == [0, 1, 2, 3, 4]
    assert list(chosen.counts) == [1.0] * 5
    assert list(chosen.hours()) == list(range(120))


def test_same_table_same_days() -> None:
    rng = np.random.default_rng(3)
    table = pd.DataFrame({"a": rng.random(24 * 40), "b": rng.random(24 * 40)})
    first, second = choose_days(table, 6), choose_days(table, 6)
    assert list(first.days) == list(second.days)
    assert list(first.counts) == list(second.counts)
    assert first.counts.sum() == 40


@pytest.mark.parametrize(("rows", "k", "method", "message"), [
    (30, 1, "hierarchical", "whole days; it has 30 rows"),
    (48, 3, "hierarchical", "expected 1 to 2 days"),
    (48, 0, "hierarchical", "expected 1 to 2 days"),
    (48, 1, "ward", "method must be one of"),
])
def test_bad_requests_are_usage_errors(rows: int, k: int, method: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        choose_days(pd.DataFrame({"a": np.zeros(rows)}), k, method=method)
