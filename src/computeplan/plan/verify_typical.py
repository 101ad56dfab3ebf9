"""The independent check of a typical-days result (FORMULATION.md section 10,
"Representative periods"), without the engine.

A typical-days result is two plans: the aggregated plan (``result.json``, solved on the
days chosen) and the year's plan (the same halls, non-divisible placements and builds,
every period of the table dispatched; ``full-year/`` beside ``result.json``,
``Result.full_year_plan`` in Python). What is checked:

- :func:`typical_view`: the days chosen exist and are distinct, their weights are whole,
  positive and add up to the table's days, the full year's sizes; ``verify`` then checks
  the aggregated plan against the aggregated instance those days and weights make
  (:func:`computeplan.io.periods.typical_instance`).
- :func:`check_year`: the year's plan is checked like any time result against the full
  instance (every per-period and annual figure recomputed, every constraint), its
  strategic decisions must be the aggregated plan's, and ``time.full_year``'s
  ``objective``, ``status``, ``targets`` (value, met), ``failed``, ``targets_met`` and
  ``gap`` must follow from it. A year reported with an objective needs its plan. A year
  that could not be dispatched (``status`` infeasible, no objective) has no plan: its
  ``gap`` must be null and ``failed`` must list the targets reported as missed.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from computeplan.io.periods import time_axis, typical_instance
from computeplan.io.schema import Instance
from computeplan.io.write import FULL_YEAR

REL = 1e-6


def typical_view(inst: Instance, d: dict[str, Any], bad: list[str]) -> Instance | None:
    """The aggregated instance a typical-days result's plan is checked against (None when
    ``d`` is not one, or its days cannot make one); problems go to ``bad``."""
    tm = d.get("time")
    if not isinstance(tm, dict) or tm.get("typical_days") is None or inst.time is None:
        return None
    K = tm.get("typical_days")
    fy = tm.get("full_year")
    if not isinstance(fy, dict):
        bad.append(f"time.full_year: expected an object for a result on typical days, found {fy!r}")
        return None
    ax = time_axis(inst)
    n_days = ax.T // 24
    rows = fy.get("days")
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        bad.append(f"time.full_year.days: expected a list of {{day, weight}}, found {rows!r}")
        return None
    days = [r.get("day") for r in rows]
    weights = [r.get("weight") for r in rows]
    ok = True
    if not isinstance(K, int) or isinstance(K, bool) or K != len(rows):
        bad.append(f"time.typical_days: expected the number of days chosen ({len(rows)}), found {K!r}")
    for i, (day, w) in enumerate(zip(days, weights, strict=True)):
        if not isinstance(day, int) or isinstance(day, bool) or not 0 <= day < n_days:
            bad.append(f"time.full_year.days[{i}].day: expected a day of the table (0..{n_days - 1}), found {day!r}")
            ok = False
        if not isinstance(w, int) or isinstance(w, bool) or w < 1:
            bad.append(f"time.full_year.days[{i}].weight: expected a whole number >= 1, found {w!r}")
            ok = False
    if not ok:
        return None
    if sorted(set(days)) != days:
        bad.append(f"time.full_year.days: expected distinct days in time order, found {days}")
    if sum(weights) != n_days:
        bad.append(f"time.full_year.days: the weights must add up to the table's {n_days} days, "
                   f"found {sum(weights)}")
    if fy.get("periods") != ax.T:
        bad.append(f"time.full_year.periods: expected the table's {ax.T} periods, found {fy.get('periods')!r}")
    agg = (d.get("objective") or {}).get("value")
    if fy.get("aggregated_objective") != agg:
        bad.append(f"time.full_year.aggregated_objective: expected objective.value ({agg}), "
                   f"found {fy.get('aggregated_objective')!r}")
    if sorted(set(days)) != days or sum(weights) != n_days:
        return None
    return typical_instance(inst, days, weights)


def _records(d: dict[str, Any], key: str, *ident: str) -> dict[tuple[str, ...], dict[str, Any]]:
    """A section's records by their identity (records without it are the plan check's to report)."""
    out: dict[tuple[str, ...], dict[str, Any]] = {}
    recs = d.get(key)
    for rec in recs if isinstance(recs, list) else []:
        if isinstance(rec, dict) and all(isinstance(rec.get(k), str) for k in ident):
            out[tuple(rec[k] for k in ident)] = rec
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or not isinstance(a, int | float) or not isinstance(b, int | float):
        return bool(a == b)
    return abs(a - b) <= REL * max(abs(a), abs(b), 1.0)


def check_year(inst: Instance, d: dict[str, Any], year: dict[str, Any] | None,
               verify_year: Callable[[dict[str, Any]], list[str]]) -> list[str]:
    """The year's plan ``year`` (a time result's dict) of the typical-days result ``d``:
    checked against the full instance ``inst`` by ``verify_year`` (its violations named
    ``full-year/...``), its strategic decisions against ``d``'s, and ``time.full_year``'s
    figures recomputed from it. ``[]`` for a result not on typical days."""
    tm = d.get("time")
    fy = tm.get("full_year") if isinstance(tm, dict) and tm.get("typical_days") is not None else None
    if not isinstance(fy, dict):
        typical = isinstance(tm, dict) and tm.get("typical_days") is not None  # typical_view names its full_year
        return [] if year is None or typical else [f"{FULL_YEAR}: a year's plan is given, yet the result is not on "
                                                   "typical days"]
    bad: list[str] = []
    full = fy.get("objective")
    if year is None:
        if full is not None:
            bad.append(f"{FULL_YEAR}: the year's plan is missing, yet time.full_year.objective is reported ({full}); "
                       f"a typical-days result keeps it in {FULL_YEAR}/result.json beside result.json")
    elif full is None:
        bad.append(f"{FULL_YEAR}: a year's plan is given, yet time.full_year reports no objective "
                   f"(status {fy.get('status')!r})")
        year = None
    if year is not None:
        bad += [f"{FULL_YEAR}/{p}" for p in verify_year(year)]
        bad += _strategic(inst, d, year)
        bad += _figures_of(fy, year)
        for key, what in (("instance", "the instance"), ("objective", "the objective")):
            want, got = d.get(key), year.get(key)
            if key == "objective":
                want, got = [(o.get("name") if isinstance(o, dict) else None) for o in (want, got)]
            if got != want:
                bad.append(f"{FULL_YEAR}/{key}{'.name' if key == 'objective' else ''}: {got!r}, the typical days' plan "
                           f"has {want!r} ({what} must be the same)")
        yo = (year.get("objective") or {}).get("value") if isinstance(year.get("objective"), dict) else None
        full = yo if isinstance(yo, int | float) and not isinstance(yo, bool) else full
    source = year if year is not None else fy
    targets = source.get("targets")
    targets = targets if isinstance(targets, list) else []
    agg, gap = (d.get("objective") or {}).get("value"), fy.get("gap")
    if isinstance(full, int | float) and isinstance(agg, int | float):
        want = (full - agg) / max(abs(agg), 1e-12)
        if not isinstance(gap, int | float) or not math.isfinite(gap) or abs(gap - want) > REL * max(1.0, abs(want)):
            bad.append(f"time.full_year.gap: reported {gap!r}, recomputed (objective - aggregated) / |aggregated| "
                       f"= {want}")
    elif gap is not None:
        bad.append(f"time.full_year.gap: expected null without both objectives, found {gap!r}")
    failed = sorted(str(t.get("name")) for t in targets if isinstance(t, dict) and t.get("met") is False)
    if not isinstance(fy.get("failed"), list) or sorted(map(str, fy["failed"])) != failed:
        bad.append(f"time.full_year.failed: reported {fy.get('failed')!r}, recomputed the targets not met {failed}")
    if year is not None and fy.get("targets_met") is not (not failed):
        bad.append(f"time.full_year.targets_met: reported {fy.get('targets_met')!r}, recomputed {not failed}")
    return bad


def _figures_of(fy: dict[str, Any], year: dict[str, Any]) -> list[str]:
    """``time.full_year``'s objective, status and targets against the year's plan (whose own
    figures ``verify_year`` recomputes)."""
    bad: list[str] = []
    yo = year.get("objective")
    yo = yo if isinstance(yo, dict) else {}
    if not _same(fy.get("objective"), yo.get("value")):
        bad.append(f"time.full_year.objective: reported {fy.get('objective')!r}, the year's plan gives "
                   f"{yo.get('value')!r} ({FULL_YEAR}/result.json objective.value)")
    if fy.get("status") != year.get("status"):
        bad.append(f"time.full_year.status: reported {fy.get('status')!r}, the year's plan is {year.get('status')!r}")
    want = {k[0]: r for k, r in _records(year, "targets", "name").items()}
    got = {k[0]: r for k, r in _records(fy, "targets", "name").items()}
    for name in sorted(set(want) | set(got)):
        if name not in got:
            bad.append(f"time.full_year.targets[{name}]: missing, yet the year's plan reports it")
            continue
        if name not in want:
            bad.append(f"time.full_year.targets[{name}]: not a target of the year's plan")
            continue
        for key in ("target", "value", "met"):
            if not _same(got[name].get(key), want[name].get(key)):
                bad.append(f"time.full_year.targets[{name}].{key}: reported {got[name].get(key)!r}, "
                           f"the year's plan gives {want[name].get(key)!r}")
    return bad


def _strategic(inst: Instance, d: dict[str, Any], year: dict[str, Any]) -> list[str]:
    """The year's halls, builds and non-divisible placements must be the aggregated plan's."""
    bad: list[str] = []
    agg_sites, year_sites = _records(d, "sites", "id"), _records(year, "sites", "id")
    for (sid,), rec in year_sites.items():
        want = agg_sites.get((sid,), {}).get("active_halls")
        if not _same(rec.get("active_halls"), want):
            bad.append(f"{FULL_YEAR}/sites[{sid}].active_halls: {rec.get('active_halls')!r} over the year, the typical "
                       f"days' plan has {want!r} (the halls are fixed)")
    ab, yb = d.get("build"), year.get("build")
    if isinstance(ab, dict) or isinstance(yb, dict):
        ab, yb = ab if isinstance(ab, dict) else {}, yb if isinstance(yb, dict) else {}
        for key, ident, fld in (("halls", ("site",), "new_halls"), ("servers", ("site", "hardware"), "new_servers")):
            want, got = _records(ab, key, *ident), _records(yb, key, *ident)
            for k in sorted(set(want) | set(got)):
                a, y = want.get(k, {}).get(fld, 0), got.get(k, {}).get(fld, 0)
                if not _same(a, y):
                    bad.append(f"{FULL_YEAR}/build.{key}[{'/'.join(k)}].{fld}: {y!r} over the year, the typical days' "
                               f"plan builds {a!r} (builds are fixed)")
        want_o, got_o = sorted(_records(ab, "sites_opened", "site")), sorted(_records(yb, "sites_opened", "site"))
        if want_o != got_o:
            bad.append(f"{FULL_YEAR}/build.sites_opened: {[k[0] for k in got_o]} over the year, the typical days' plan "
                       f"opens {[k[0] for k in want_o]}")
    placed: dict[str, set[tuple[str, str]]] = {}
    for plan, recs in (("agg", d), ("year", year)):
        for (wid, sid, hid), rec in _records(recs, "assignments", "workload", "site", "hardware").items():
            share = rec.get("share")
            if isinstance(share, int | float) and share > 1e-9:
                placed.setdefault(f"{plan}:{wid}", set()).add((sid, hid))
    for w in inst.workloads:
        if w.divisible:
            continue
        extra = placed.get(f"year:{w.id}", set()) - placed.get(f"agg:{w.id}", set())
        if extra:
            where = sorted(f"{s}/{h}" for s, h in placed.get(f"agg:{w.id}", set()))
            bad.append(f"{FULL_YEAR}/assignments[{w.id}]: the non-divisible workload runs on "
                       f"{', '.join(sorted(f'{s}/{h}' for s, h in extra))} over the year, the typical days' plan "
                       f"places it on {', '.join(where) or 'no pool'} (placements are fixed)")
    return bad
