"""An exact reduction before building a model over periods: interchangeable workloads
become one.

Two divisible workloads are interchangeable when they have the same candidate pools, the
same precision (so the same servers per TFLOPS on each pool), precision weight, value per
TFLOPS-hour, must-serve flag, demand shape, flexibility window and ``max_rate``. Their
shares then enter every row the same way, so one workload with the summed demand has the
same optimum, and any plan of it is a plan of the originals with the same share each
(``x[i,c,t] = x[group,c,t]``: a share is a multiple of its own workload's demand).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from computeplan.io.schema import Instance
from computeplan.model.data import ModelData

I64 = NDArray[np.int64]
F64 = NDArray[np.float64]


@dataclass(frozen=True)
class Reduction:
    """The merged arrays and, for every original candidate, its merged candidate."""

    data: ModelData
    cand_map: I64
    merged: int  # workloads folded into another

    def expand(self, x: F64, full: ModelData) -> F64:
        """Shares per original candidate and period (period-major) from the merged plan's."""
        X = np.asarray(x).reshape(full.n_periods, self.data.n_cand)
        return np.ascontiguousarray(X[:, self.cand_map]).ravel()


def merge_interchangeable(inst: Instance, d: ModelData) -> Reduction | None:
    """The reduction of ``d``, or None when no two workloads are interchangeable."""
    W = d.n_workloads
    key_of: dict[tuple[object, ...], int] = {}
    group = np.empty(W, dtype=np.int64)
    for i, w in enumerate(inst.workloads):
        lo, hi = int(d.wl_ptr[i]), int(d.wl_ptr[i + 1])
        if not d.wl_divisible[i] or hi == lo:
            key: tuple[object, ...] = ("alone", i)
        else:
            key = (w.precision, d.cand_pool[lo:hi].tobytes(), float(d.wl_weight[i]), float(d.wl_value[i]),
                   bool(d.wl_must[i]), w.flex_window_hours if d.wl_flex[i] else None, float(d.wl_max_rate[i]),
                   d.wl_shape[i].tobytes())
        group[i] = key_of.setdefault(key, len(key_of))
    G = len(key_of)
    if G == W:
        return None
    first = np.full(G, -1, dtype=np.int64)
    for i in range(W):
        if first[group[i]] < 0:
            first[group[i]] = i
    demand = np.bincount(group, weights=d.wl_demand, minlength=G).astype(float)
    counts = np.diff(d.wl_ptr)[first]
    ptr = np.zeros(G + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    cand_wl = np.repeat(np.arange(G, dtype=np.int64), counts)
    cand_pool = np.concatenate([d.cand_pool[d.wl_ptr[i]:d.wl_ptr[i + 1]] for i in first])
    # busy servers per unit share: the merged demand over the pool's TFLOPS per server
    pos = np.arange(d.n_cand) - d.wl_ptr[d.cand_wl]  # a candidate's place in its workload's list
    cand_map = ptr[group[d.cand_wl]] + pos
    cand_busy = np.bincount(cand_map, weights=d.cand_busy, minlength=int(ptr[-1])).astype(float)
    pick = first.tolist()
    data = replace(
        d, workload_ids=[d.workload_ids[i] for i in pick], wl_demand=demand, wl_weight=d.wl_weight[first],
        wl_value=d.wl_value[first], wl_divisible=d.wl_divisible[first], wl_must=d.wl_must[first],
        wl_class=[d.wl_class[i] for i in pick], wl_ptr=ptr, cand_wl=cand_wl, cand_pool=cand_pool,
        cand_busy=cand_busy, wl_shape=d.wl_shape[first], wl_window=d.wl_window[first], wl_flex=d.wl_flex[first],
        wl_max_rate=d.wl_max_rate[first])
    return Reduction(data, cand_map.astype(np.int64), W - G)
