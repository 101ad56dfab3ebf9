"""The independent check of a typical-days result (FORMULATION.md section 10,
"Representative periods"), without the engine.

What can be checked from the instance and ``result.json`` alone: the days chosen exist
and are distinct, their weights are whole, positive and add up to the table's days, the
full year's sizes, and the gap follows from the two objectives. The plan itself is then
checked by ``verify`` against the aggregated instance those days and weights make
(:func:`computeplan.io.periods.typical_instance`). The full year's dispatch is not in
``result.json`` (8,760 periods of it), so its objective and targets are reported, not
recomputed.
"""

from __future__ import annotations

import math
from typing import Any

from computeplan.io.periods import time_axis, typical_instance
from computeplan.io.schema import Instance

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
    full, gap = fy.get("objective"), fy.get("gap")
    if isinstance(full, int | float) and isinstance(agg, int | float):
        want = (full - agg) / max(abs(agg), 1e-12)
        if not isinstance(gap, int | float) or not math.isfinite(gap) or abs(gap - want) > REL * max(1.0, abs(want)):
            bad.append(f"time.full_year.gap: expected (objective - aggregated) / |aggregated| = {want}, found {gap!r}")
    elif gap is not None:
        bad.append(f"time.full_year.gap: expected null without both objectives, found {gap!r}")
    targets = fy.get("targets") or []
    failed = sorted(str(t.get("name")) for t in targets if isinstance(t, dict) and t.get("met") is False)
    if sorted(fy.get("failed") or []) != failed:
        bad.append(f"time.full_year.failed: expected the targets not met {failed}, found {fy.get('failed')!r}")
    if sorted(set(days)) != days or sum(weights) != n_days:
        return None
    return typical_instance(inst, days, weights)
