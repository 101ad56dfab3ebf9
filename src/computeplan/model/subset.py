"""The model's data restricted to a run of periods (FORMULATION.md section 10).

A decomposition by day builds one small model per day from the full year's arrays. The
restriction keeps the year's horizon ``H``, so each period keeps its energy weight
``w[t] / H``: the part's objective, its penalty offset and each target row's terms on its
own periods are exactly the year's terms on those periods, and the year's figures are the
sums over the parts (halls ``z`` enter every period, so their terms add up over the parts
too; the build decisions' annual terms and the targets' bounds are the same in every
part). The demand shapes keep the year's scaling and the penalty its default.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from computeplan.model.data import ModelData

I64 = NDArray[np.int64]


def period_subset(d: ModelData, periods: I64) -> ModelData:
    """``d`` over the periods ``periods`` (ascending indices) only, with the year's horizon.

    Flexibility windows are renumbered from 0 per workload; a window must lie wholly inside
    the subset (:func:`windows_cross`), else the part would not hold that window's demand."""
    t = np.asarray(periods, dtype=np.int64)
    win = d.wl_window[:, t]
    renum = np.zeros_like(win)
    for i in range(win.shape[0]):
        renum[i] = np.unique(win[i], return_inverse=True)[1]
    return replace(
        d,
        per_len=d.per_len[t], per_rep=d.per_rep[t],
        per_datetime=None if d.per_datetime is None else [d.per_datetime[k] for k in t.tolist()],
        sp_price=d.sp_price[:, t], sp_carbon=d.sp_carbon[:, t], sp_renew=d.sp_renew[:, t],
        sp_temp=d.sp_temp[:, t], sp_k=d.sp_k[:, t], sp_obj=d.sp_obj[:, t],
        wl_shape=d.wl_shape[:, t], wl_window=renum,
    )


def windows_cross(d: ModelData, part: I64) -> list[str]:
    """Flexible workloads one of whose windows has periods both inside and outside ``part``."""
    inside = np.zeros(d.n_periods, dtype=bool)
    inside[np.asarray(part, dtype=np.int64)] = True
    out = []
    for i in np.flatnonzero(d.wl_flex).tolist():
        win = d.wl_window[i]
        if set(win[inside].tolist()) & set(win[~inside].tolist()):
            out.append(d.workload_ids[i])
    return out
