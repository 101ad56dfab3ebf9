"""The time axis of an instance (FORMULATION.md section 10, FORMATS.md "Time").

:func:`read_periods` turns ``time.periods`` given as ``{csv: F}`` / ``{parquet: F}`` into
inline columns; :func:`time_problems` is every cross-check of the ``time:`` block;
:func:`time_axis` resolves a validated instance into arrays: period lengths, weights,
days, each site's series, each workload's demand shape and flexibility windows.

An instance without ``time:`` has the axis of one period of the whole horizon (length
``H``, weight 1), constant series and shapes of 1: the single-period model is the
``T = 1`` case of the same arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.io.documents import clip, excerpt, show_name, show_path
from computeplan.io.schema import (
    MAX_CARBON_KG_PER_KWH,
    MAX_HORIZON_HOURS,
    MAX_PERIODS,
    MAX_PRICE_PER_KWH,
    PERIOD_COLUMNS,
    SERIES_FIELDS,
    Instance,
)

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

#: Bounds of a series value, by site figure (``None``: any finite value).
_SERIES_RANGE: dict[str, tuple[float | None, float | None, str]] = {
    "price_per_kwh": (0.0, MAX_PRICE_PER_KWH, f">= 0 and <= {MAX_PRICE_PER_KWH:g}"),
    "carbon_kg_per_kwh": (0.0, MAX_CARBON_KG_PER_KWH, f">= 0 and <= {MAX_CARBON_KG_PER_KWH:g}"),
    "renewable_share": (0.0, 1.0, "in 0..1"),
    "temperature_c": (-100.0, 100.0, "in -100..100"),
}


def read_periods(spec: Any, base: Path, problems: list[str], where: str) -> dict[str, list[Any]] | None:
    """``time.periods`` as columns: inline as given, or read from its CSV / Parquet table."""
    import pandas as pd

    if isinstance(spec, dict) and len(spec) == 1 and next(iter(spec)) in ("csv", "parquet") \
            and not isinstance(next(iter(spec.values())), list):
        kind, rel = next(iter(spec.items()))
        try:
            path = (base / str(rel)).resolve()
            ok = path.is_file()
        except (OSError, RuntimeError, ValueError) as e:
            problems.append(f"{where}: time.periods.{kind}: file {excerpt(str(rel))} cannot be opened: {clip(str(e))}")
            return None
        if not ok:
            problems.append(f"{where}: time.periods.{kind}: table file not found: {show_path(path)}")
            return None
        try:
            df = pd.read_csv(path, skipinitialspace=True) if kind == "csv" else pd.read_parquet(path)
        except Exception as e:
            problems.append(f"{show_path(path)}: could not read the {kind.upper()} table: {clip(str(e))}")
            return None
        cols: dict[str, list[Any]] = {}
        for c in df.columns:
            vals = df[c].tolist()
            cols[str(c).strip()] = [str(v) if str(c).strip() == "datetime" else v for v in vals]
        return cols
    if not isinstance(spec, dict):
        problems.append(f"{where}: time.periods: expected columns (a mapping of lists) or {{csv: FILE}} / "
                        f"{{parquet: FILE}}, got {excerpt(spec)}")
        return None
    return spec


def _numbers(name: str, vals: list[Any], bad: list[str], at: str) -> F64 | None:
    out = np.empty(len(vals))
    for t, v in enumerate(vals):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(float(v)):
            bad.append(f"{at}.{show_name(name)}[{t}]: expected a finite number, got {excerpt(v)}")
            return None
        out[t] = float(v)
    return out


@dataclass(frozen=True)
class TimeAxis:
    """The periods of an instance as arrays (index ``t`` in time order)."""

    length: F64  # clock hours of each period
    rep: F64  # how many times each period recurs
    day: I64
    window_start: F64  # clock hour of each period's start within the horizon
    datetime: list[str] | None
    series: dict[str, F64]  # the period table's series columns
    given: bool  # whether the instance has a time block

    @property
    def T(self) -> int:
        return len(self.length)

    @property
    def weight(self) -> F64:
        """Energy weight ``w[t] = len[t] x rep[t]``."""
        return self.length * self.rep

    @property
    def horizon(self) -> float:
        return float(self.weight.sum())

    def windows(self, hours: int | None) -> I64:
        """Each period's flexibility window (an index in time order) for a window of
        ``hours`` clock hours; every period its own window when ``hours`` is None.

        Windows of up to 24 h are aligned blocks within each day; longer ones are blocks
        of the horizon's clock hours. A period belongs to the window its start falls in."""
        T = self.T
        if hours is None or not self.given:
            return np.arange(T, dtype=np.int64)
        start = self.window_start
        if hours <= 24:
            new_day = np.r_[True, self.day[1:] != self.day[:-1]]
            first = np.maximum.accumulate(np.where(new_day, start, -np.inf))
            key = np.stack([self.day, np.floor((start - first) / hours + 1e-9).astype(np.int64)], axis=1)
        else:
            key = np.floor(start / hours + 1e-9).astype(np.int64)[:, None]
        change = np.r_[True, np.any(key[1:] != key[:-1], axis=1)]
        return np.cumsum(change).astype(np.int64) - 1

    def site_series(self, inst: Instance, figure: str) -> F64:
        """Sites x periods: a site's own series, else its zone's, else its constant."""
        tb = inst.time
        out = np.empty((len(inst.sites), self.T))
        for j, s in enumerate(inst.sites):
            name = None
            if tb is not None:
                own, zone = tb.sites.get(s.id), tb.zones.get(s.zone)
                name = getattr(own, figure, None) if own is not None else None
                if name is None and zone is not None:
                    name = getattr(zone, figure)
            if name is not None and name in self.series:
                out[j] = self.series[name]
            elif figure == "temperature_c":
                out[j] = np.nan  # no weather: the facility runs at its rating
            else:
                out[j] = float(getattr(s, figure))
        return out

    def shapes(self, inst: Instance) -> F64:
        """Workloads x periods: each demand shape rescaled to a weighted mean of 1."""
        out = np.ones((len(inst.workloads), self.T))
        tb = inst.time
        if tb is None:
            return out
        w = self.weight
        for i, wl in enumerate(inst.workloads):
            name = tb.demand.get(wl.id, tb.demand.get(wl.class_))
            if name is not None and name in self.series:
                col = self.series[name]
                out[i] = col * (float(w.sum()) / float(np.dot(w, col)))
        return out


def time_axis(inst: Instance) -> TimeAxis:
    """The periods of a validated instance (one of the whole horizon without ``time:``)."""
    tb = inst.time
    if tb is None:
        return TimeAxis(np.array([float(inst.horizon_hours)]), np.ones(1), np.zeros(1, dtype=np.int64),
                        np.zeros(1), None, {}, False)
    cols = tb.periods
    T = len(next(iter(cols.values())))
    length = np.asarray(cols["hours"], dtype=float) if "hours" in cols else np.ones(T)
    rep = np.asarray(cols["weight"], dtype=float) if "weight" in cols else np.ones(T)
    start = np.r_[0.0, np.cumsum(length)[:-1]]
    day = (np.asarray(cols["day"], dtype=np.int64) if "day" in cols
           else np.floor(start / 24.0 + 1e-9).astype(np.int64))
    dt = [str(v) for v in cols["datetime"]] if "datetime" in cols else None
    series = {k: np.asarray(v, dtype=float) for k, v in cols.items() if k not in PERIOD_COLUMNS}
    return TimeAxis(length, rep, day, start, dt, series, True)


def time_problems(inst: Instance, where: str) -> list[str]:
    """Every problem of the ``time:`` block and the fields that need it."""
    tb = inst.time
    bad: list[str] = []
    if tb is None:
        return bad
    at = f"{where}: time.periods"
    cols = tb.periods
    if not cols:
        return [f"{at}: expected at least one column, got none"]
    lengths = {k: len(v) for k, v in cols.items()}
    T = max(lengths.values())
    if T == 0:
        return [f"{at}: expected at least one period, got an empty table"]
    if T > MAX_PERIODS:
        return [f"{at}: expected at most {MAX_PERIODS:,} periods, got {T:,}"]
    for k, n in lengths.items():
        if n != T:
            bad.append(f"{at}.{show_name(k)}: expected one value per period ({T}), got {n}")
    if bad:
        return bad
    nums: dict[str, F64] = {}
    for k, v in cols.items():
        if k == "datetime":
            continue
        arr = _numbers(k, v, bad, at)
        if arr is not None:
            nums[k] = arr
    for k, low in (("hours", "> 0"), ("weight", "> 0")):
        if k in nums and np.any(nums[k] <= 0):
            t = int(np.flatnonzero(nums[k] <= 0)[0])
            bad.append(f"{at}.{k}[{t}]: must be {low}, got {nums[k][t]:g}")
    if "day" in nums:
        day = nums["day"]
        if np.any(day != np.round(day)) or np.any(day < 0):
            t = int(np.flatnonzero((day != np.round(day)) | (day < 0))[0])
            bad.append(f"{at}.day[{t}]: expected a whole number >= 0, got {day[t]:g}")
        elif np.any(np.diff(day) < 0):
            t = int(np.flatnonzero(np.diff(day) < 0)[0]) + 1
            bad.append(f"{at}.day[{t}]: periods must be in time order, got day {day[t]:g} after {day[t - 1]:g}")
    if bad:
        return bad
    ax = time_axis(inst)
    if not ax.horizon <= MAX_HORIZON_HOURS:
        return [f"{at}: sum(hours x weight) must be <= {MAX_HORIZON_HOURS:g} hours, got {ax.horizon:g}"]
    if "horizon_hours" in inst.model_fields_set and abs(inst.horizon_hours - ax.horizon) > 1e-9 * ax.horizon:
        bad.append(f"{where}: horizon_hours: must equal the periods' sum(hours x weight) = {ax.horizon:g}, "
                   f"got {inst.horizon_hours:g}")
    series = {k for k in cols if k not in PERIOD_COLUMNS}
    site_ids, zones = {s.id for s in inst.sites}, set(inst.zones)
    wl_ids, classes = {w.id for w in inst.workloads}, {w.class_ for w in inst.workloads}
    for section, known, what in (("zones", zones, "zone"), ("sites", site_ids, "site id")):
        for key, names in getattr(tb, section).items():
            if key not in known:
                bad.append(f"{where}: time.{section}.{show_name(key)}: expected a {what} of the instance, "
                           f"got {excerpt(key)}")
            for fig in SERIES_FIELDS:
                name = getattr(names, fig)
                if name is None:
                    continue
                col = f"{where}: time.{section}.{show_name(key)}.{fig}"
                if name not in series:
                    bad.append(f"{col}: expected a series column of time.periods "
                               f"({', '.join(sorted(series)) or 'none'}), got {excerpt(name)}")
                    continue
                lo, hi, says = _SERIES_RANGE[fig]
                vals = ax.series[name]
                out = ((vals < lo) if lo is not None else False) | ((vals > hi) if hi is not None else False)
                if np.any(out):
                    t = int(np.flatnonzero(out)[0])
                    bad.append(f"{col}: series {excerpt(name)} must be {says}, got {vals[t]:g} at period {t}")
    for key, name in tb.demand.items():
        col = f"{where}: time.demand.{show_name(key)}"
        if key not in wl_ids and key not in classes:
            bad.append(f"{col}: expected a workload id or class of the instance, got {excerpt(key)}")
        if name not in series:
            bad.append(f"{col}: expected a series column of time.periods "
                       f"({', '.join(sorted(series)) or 'none'}), got {excerpt(name)}")
            continue
        vals = ax.series[name]
        if np.any(vals < 0):
            t = int(np.flatnonzero(vals < 0)[0])
            bad.append(f"{col}: demand shape {excerpt(name)} must be >= 0, got {vals[t]:g} at period {t}")
        elif float(np.dot(ax.weight, vals)) <= 0:
            bad.append(f"{col}: demand shape {excerpt(name)} must have a positive mean, got all zeros")
    recurring = bool(np.any(ax.rep != 1))
    for i, w in enumerate(inst.workloads):
        if w.flex_window_hours is not None and w.flex_window_hours > 24 and recurring:
            bad.append(f"{where}: workloads[{i}] ({excerpt(w.id)}).flex_window_hours: a window longer than "
                       f"24 h needs periods that do not recur (no time.periods.weight other than 1), "
                       f"got {w.flex_window_hours}")
    if tb.typical_days is not None:
        bad.extend(typical_problems(inst, where, tb.typical_days))
    return bad


def typical_problems(inst: Instance, where: str, K: int, field: str = "time.typical_days") -> list[str]:
    """Why the instance cannot be solved on ``K`` typical days: they need an hourly table
    of whole days without ``weight``, ``K`` at most its days, and windows within a day."""
    at = f"{where}: {field}"
    tb = inst.time
    if tb is None:
        return [f"{at}: typical days are chosen from the time block's period table, got an instance "
                f"without a time block"]
    cols = tb.periods
    T = len(next(iter(cols.values()))) if cols else 0
    bad: list[str] = []
    if "weight" in cols:
        bad.append(f"{at}: needs a table of whole hourly days without time.periods.weight (the typical days' "
                   f"recurrences are what the aggregation decides), got a weight column")
    hours = np.asarray(cols.get("hours", [1.0] * T), dtype=float)
    if np.any(hours != 1.0):
        t = int(np.flatnonzero(hours != 1.0)[0])
        bad.append(f"{at}: needs an hourly table (time.periods.hours all 1), got time.periods.hours[{t}] = "
                   f"{hours[t]:g}")
    elif T % 24 != 0:
        bad.append(f"{at}: needs whole days of 24 hourly periods, got {T} periods ({T / 24:.4g} days)")
    elif "day" in cols:
        blocks = np.asarray(cols["day"], dtype=np.int64).reshape(-1, 24)
        wrong = np.flatnonzero(np.any(blocks != blocks[:, :1], axis=1)
                               | np.r_[False, blocks[1:, 0] == blocks[:-1, 0]])
        if wrong.size:
            b = int(wrong[0])
            bad.append(f"{at}: needs each day of time.periods.day to be 24 consecutive hours, got periods "
                       f"{24 * b}..{24 * b + 23} with days {sorted(set(blocks[b].tolist()))[:3]}"
                       + (f" (day {blocks[b, 0]} also before)" if b and blocks[b, 0] == blocks[b - 1, 0] else ""))
    days = T // 24
    if not bad and K > days:
        bad.append(f"{at}: expected at most the table's {days} days, got {K}")
    for i, w in enumerate(inst.workloads):
        if w.flex_window_hours is not None and w.flex_window_hours > 24:
            bad.append(f"{where}: workloads[{i}] ({excerpt(w.id)}).flex_window_hours: typical days keep every "
                       f"window within a day (at most 24 h), got {w.flex_window_hours}")
    return bad


def used_series(inst: Instance) -> list[str]:
    """The series columns the instance uses: each site's figures (its own, else its
    zone's) and each workload's demand shape, by name."""
    tb = inst.time
    if tb is None:
        return []
    names: set[str] = set()
    for s in inst.sites:
        own, zone = tb.sites.get(s.id), tb.zones.get(s.zone)
        for fig in SERIES_FIELDS:
            name = getattr(own, fig, None) if own is not None else None
            if name is None and zone is not None:
                name = getattr(zone, fig)
            if name is not None:
                names.add(name)
    for wl in inst.workloads:
        name = tb.demand.get(wl.id, tb.demand.get(wl.class_))
        if name is not None:
            names.add(name)
    return sorted(n for n in names if n in tb.periods)


def day_profiles(inst: Instance) -> F64:
    """One row per day of an hourly table of whole days: the 24 hours of each series the
    instance uses, each series min-max normalised over the year (a constant one is 0)."""
    ax = time_axis(inst)
    n_days = ax.T // 24
    parts = [np.zeros((n_days, 0))]
    for name in used_series(inst):
        col = ax.series[name]
        lo, span = float(col.min()), float(col.max() - col.min())
        parts.append(((col - lo) / span if span > 0 else np.zeros_like(col)).reshape(n_days, 24))
    return np.hstack(parts)


def extreme_days(inst: Instance) -> list[int]:
    """The days of an hourly table of whole days holding the year's extremes: the hour of
    the highest total demand (``sum_i D[i] s[i,t]``) and the hottest hour of any site with a
    temperature series, each only when one day alone reaches it (a weekday shape that
    repeats has no such day). Sorted, without repeats."""
    ax = time_axis(inst)
    total = np.asarray([w.demand_tflops for w in inst.workloads]) @ ax.shapes(inst)
    temp = ax.site_series(inst, "temperature_c")
    hot = np.where(np.isfinite(temp), temp, -np.inf).max(axis=0, initial=-np.inf)
    out: set[int] = set()
    for series in (total, hot):
        peak = series.reshape(-1, 24).max(axis=1)
        top = float(peak.max())
        if math.isfinite(top) and int(np.sum(peak >= top - 1e-9 * max(1.0, abs(top)))) == 1:
            out.add(int(np.argmax(peak)))
    return sorted(out)


def typical_instance(inst: Instance, days: Any, weights: Any) -> Instance:
    """The instance on its typical days: the rows of the given days (0-based positions of
    24-hour blocks of the period table, in time order), each recurring ``weights`` times,
    with ``day`` naming the day it was taken from. The result has no ``typical_days``.

    Each typical day keeps the demand it has in the year. A demand shape is rescaled to a
    weighted mean of 1 over an instance's periods, and the typical days' weighted mean of
    a shape is not the year's: so each workload with a shape has its ``demand_tflops``
    multiplied by (typical days' mean / year's mean) of its shape, and its ``max_rate`` (a
    multiple of ``demand_tflops``) divided by it. A plan sized on the typical days then
    meets each of them as it comes in the year."""
    tb = inst.time
    assert tb is not None
    day_idx = np.asarray(days, dtype=np.int64)
    reps = np.asarray(weights, dtype=float)
    rows = (24 * day_idx[:, None] + np.arange(24)[None, :]).ravel()
    cols: dict[str, list[Any]] = {k: [v[r] for r in rows.tolist()] for k, v in tb.periods.items()}
    cols["weight"] = np.repeat(reps, 24).tolist()
    cols["day"] = np.repeat(day_idx, 24).tolist()
    time = tb.model_copy(update={"periods": cols, "typical_days": None})
    year = time_axis(inst)
    w_year, w_days = year.weight, year.length[rows] * np.repeat(reps, 24)
    workloads = []
    for wl in inst.workloads:
        name = tb.demand.get(wl.id, tb.demand.get(wl.class_))
        if name is not None and name in year.series:
            col = year.series[name]
            f = (float(np.dot(w_days, col[rows])) / float(w_days.sum())) / (float(np.dot(w_year, col)) / float(w_year.sum()))
            if f > 0:  # (a shape that is zero on every typical day is refused downstream)
                wl = wl.model_copy(update={"demand_tflops": wl.demand_tflops * f, "max_rate": wl.max_rate / f})
        workloads.append(wl)
    return inst.model_copy(update={"time": time, "workloads": workloads})

