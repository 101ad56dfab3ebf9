"""The independent check of a time result's per-period tables (FORMATS.md, "Time").

``periods`` (one row per site and period) and ``served`` (one row per workload class and
period), as written beside ``result.json`` or held in ``Result.tables``, are compared row
by row with the figures :func:`computeplan.plan.verify_time.timed_plan` recomputes from
the plan per period and the instance: every figure, and every missing or extra row, is
named; so is a ``datetime`` that is not the period's in the instance (when the instance
gives datetimes, ``periods`` must carry them). A result given without either table is not
checked here (``--tables none`` writes neither); one given without the other is.
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Mapping
from typing import Any

from computeplan.plan.verify_time import REL, TimedPlan

#: Per table: the column naming a row besides ``period``, and the figures compared.
TABLE_FIGURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "periods": ("site", ("it_kw", "facility_kw", "pue", "price_per_kwh", "carbon_kg_per_kwh", "temperature_c")),
    "served": ("class", ("served_tflops", "demand_tflops")),
}
MAX_NAMED = 20  # violations named per table; the rest are counted


def _number(val: Any) -> float | None:
    """A table cell as a number (None for an empty cell or NaN); a non-number raises ValueError."""
    if val is None or (isinstance(val, str) and val == ""):
        return None
    if isinstance(val, bool) or not isinstance(val, numbers.Real):
        raise ValueError(val)
    out = float(val)
    return None if math.isnan(out) else out


def _same(reported: float | None, recomputed: float) -> bool:
    want = None if math.isnan(recomputed) else recomputed
    if reported is None or want is None:
        return reported is None and want is None
    return abs(reported - want) <= REL * max(abs(reported), abs(want), 1.0) + 1e-9


def _check_table(label: str, table: Any, key_col: str, figures: tuple[str, ...],
                 want: dict[tuple[str, int], dict[str, float]], datetime: list[str] | None = None) -> list[str]:
    cols = {str(c): list(table[c]) for c in table}  # a DataFrame or a dict of columns
    missing = [c for c in ("period", key_col, *figures, *(("datetime",) if datetime else ())) if c not in cols]
    if missing:
        return [f"{label}: missing the columns {', '.join(missing)}"]
    bad: list[str] = []
    seen: set[tuple[str, int]] = set()
    for r, t in enumerate(cols["period"]):
        key = str(cols[key_col][r])
        try:
            if isinstance(t, bool):
                raise TypeError(t)
            k = (key, operator.index(t))
        except TypeError:
            bad.append(f"{label}: row {r}: period {t!r} is not a whole number")
            continue
        where = f"{label}: {key_col} {key}, period {k[1]}"
        if k not in want:
            bad.append(f"{where}: extra row, not a {key_col} and period of the plan")
            continue
        if k in seen:
            bad.append(f"{where}: listed twice")
            continue
        seen.add(k)
        if datetime and str(cols["datetime"][r]) != datetime[k[1]]:
            bad.append(f"{where}: datetime reported {cols['datetime'][r]!r}, the instance's is {datetime[k[1]]!r}")
        for f in figures:
            try:
                got = _number(cols[f][r])
            except ValueError:
                bad.append(f"{where}: {f}: expected a number, found {cols[f][r]!r}")
                continue
            if not _same(got, want[k][f]):
                bad.append(f"{where}: {f} reported {got}, recomputed {want[k][f]}")
    bad += [f"{label}: {key_col} {k[0]}, period {k[1]}: row missing" for k in want if k not in seen]
    if len(bad) > MAX_NAMED:
        bad = [*bad[:MAX_NAMED], f"{label}: {len(bad) - MAX_NAMED} more violations"]
    return bad


def check_tables(tp: TimedPlan, tables: Mapping[str, Any] | None, bad: list[str]) -> None:
    """Compare ``tables`` (keyed ``periods`` and ``served``, or by their file names
    ``periods.parquet``, ``served.csv``; each a DataFrame or a dict of columns) with ``tp``."""
    if not tables:
        return
    for name, (key_col, figures) in TABLE_FIGURES.items():
        label = next((k for k in tables if k.split(".")[0] == name), None)
        if label is None:
            bad.append(f"{name}: table missing, yet the result carries {', '.join(sorted(tables))}")
            continue
        if name == "periods":
            bad.extend(_check_table(label, tables[label], key_col, figures, tp.periods, tp.datetime))
        else:
            bad.extend(_check_table(label, tables[label], key_col, figures, tp.served))
