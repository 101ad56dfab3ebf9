"""Headroom: the largest uniform growth factor of demand served with every target met."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.analysis.points import as_instance
from computeplan.analysis.vary import apply_values
from computeplan.errors import SolverError, UsageError
from computeplan.io.schema import Instance
from computeplan.model.build import Model, build_model
from computeplan.model.data import ModelData, build_data
from computeplan.solvers import Budget, SolveOptions, SolveOutcome, Termination
from computeplan.solvers.highs import solve_highs

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
B = NDArray[np.bool_]


@dataclass
class Headroom:
    """The largest uniform growth factor of (must-serve) demand with every target met."""

    factor: float | None
    binding: list[str]
    method: str
    workload_class: str | None = None
    tolerance: float | None = None
    base_tflops: float = 0.0
    constraints: list[dict[str, Any]] = field(default_factory=list)
    note: str = ""

    @property
    def max_tflops(self) -> float | None:
        return None if self.factor is None else self.factor * self.base_tflops

    def to_dict(self) -> dict[str, Any]:
        f = self.factor
        return {
            "factor": None if f is None or not math.isfinite(f) else f,
            "binding": list(self.binding),
            "class": self.workload_class,
            "method": self.method,
            "tolerance": self.tolerance,
            "base_tflops": self.base_tflops,
            "max_tflops": None if f is None or not math.isfinite(f) else self.max_tflops,
            "constraints": self.constraints,
            "note": self.note,
        }

    def to_frame(self) -> pd.DataFrame:
        """The binding constraints, most limiting first (factor gain per 1 % loosening)."""
        df = pd.DataFrame(self.constraints, columns=["name", "kind", "gain_per_pct"])
        df.attrs.update({"factor": self.factor, "method": self.method, "class": self.workload_class})
        return df


def _scaled_mask(d: ModelData, workload_class: str | None) -> B:
    if workload_class is None:
        return np.ones(d.n_workloads, dtype=bool)
    classes = sorted(set(d.wl_class))
    if workload_class not in classes:
        raise UsageError(f"--class: no workload of class {workload_class!r} (classes: {', '.join(classes)})")
    return np.array([c == workload_class for c in d.wl_class], dtype=bool)


#: Row families whose right-hand side is a workload's demand (its shape, window or rate,
#: as a multiple of ``demand_tflops``; one for the pick of a non-divisible workload).
DEMAND_FAMILIES = ("assign", "window", "rate", "pick")


def _row_workloads(m: Model, name: str) -> I64:
    """The workload of each row of a demand family: every row holds the ``x`` (or, for
    ``pick``, the ``y``) columns of one workload."""
    d, fam = m.data, m.families[name]
    A = sp.csr_matrix(m.A[fam.start : fam.stop])
    if np.any(np.diff(A.indptr) == 0):
        raise SolverError(f"headroom: a row of {name} has no column")
    col = A.indices[A.indptr[:-1]]
    if name == "pick":
        return np.asarray(d.cand_wl[d.y_cand[col - m.layout.start("y")]], dtype=np.int64)
    return np.asarray(d.cand_wl[(col - m.layout.start("x")) % d.n_cand], dtype=np.int64)


def _scaled_columns(m: Model, scaled: B) -> B:
    """The columns that scale with demand: ``x`` (every period) and ``y`` of the scaled workloads."""
    d = m.data
    out = np.zeros(m.n_cols, dtype=bool)
    out[m.layout["x"]] = np.tile(scaled[d.cand_wl], d.n_periods)
    out[m.layout["y"]] = scaled[d.cand_wl[d.y_cand]]
    return out


def _parametric(m: Model, scaled: B, integer: B | None = None) -> Model:
    """The model in absolute shares ``y = lambda x`` with one more column, lambda.

    Every row is homogeneous in the scaled workloads' columns except those whose
    right-hand side is their demand: the assignment rows (per period: its shape), the
    windows and rates of flexible work, and the pick of non-divisible work. Each such row
    ``a.x in [lo, hi]`` becomes ``a.y - hi lambda = 0`` when it was an equality (must-serve
    work), ``<= 0`` otherwise. Columns ``[y | n | z | ... | lambda]``; the objective is
    ``max lambda``. With a non-divisible scaled workload (its pick ``y`` scaled as well)
    this is exact only as a relaxation.
    """
    V, R = m.n_cols, m.n_rows
    row_lo, row_hi = m.row_lo.copy(), m.row_hi.copy()
    rows: list[I64] = []
    for name in DEMAND_FAMILIES:
        fam = m.families.get(name)
        if fam is None or fam.stop == fam.start:
            continue
        r = fam.start + np.flatnonzero(scaled[_row_workloads(m, name)])
        rows.append(r)
        row_lo[r] = np.where(m.row_lo[r] == m.row_hi[r], 0.0, -np.inf)
        row_hi[r] = 0.0
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    lam = sp.csr_matrix((-m.row_hi[r], (r, np.zeros(len(r), dtype=np.int64))), shape=(R, 1))
    A = sp.csr_matrix(sp.hstack([m.A, lam], format="csr"))
    col_lo = np.append(m.col_lo, 0.0)
    col_hi = np.append(np.where(_scaled_columns(m, scaled), np.inf, m.col_hi), np.inf)
    c = np.zeros(V + 1)
    c[V] = -1.0
    integ = np.append(m.integer if integer is None else integer, False)
    return Model(data=m.data, layout=m.layout.extend("lambda", 1), c=c, offset=0.0, A=A, row_lo=row_lo,
                 row_hi=row_hi, col_lo=col_lo, col_hi=col_hi, integer=integ, families=m.families, ex=m.ex,
                 scale=1.0, terms=m.terms)


def _max_lambda(pm: Model, budget: Budget, mip_gap: float) -> SolveOutcome:
    out = solve_highs(pm, SolveOptions(time_limit=budget.left(), mip_gap=mip_gap))
    if out.status == Termination.ERROR:
        raise SolverError(f"headroom: the solver failed: {out.message}")
    if out.status in (Termination.TIME_LIMIT, Termination.INTERRUPTED):
        raise SolverError(f"headroom: the solver stopped ({out.status.value}) without a plan")
    return out


def _binding_constraints(pm: Model, out: SolveOutcome) -> list[dict[str, Any]]:
    """Constraints that limit lambda, with the factor gained per 1 % loosening of each."""
    assert out.v is not None and out.row_dual is not None and out.col_dual is not None
    d = pm.data
    v, y, yc = out.v, out.row_dual, out.col_dual
    parts = pm.layout.split(v)
    duals = pm.layout.split(yc)
    items: list[dict[str, Any]] = []
    n_t, S = d.n_periods, d.n_sites
    f = pm.families["capacity"]
    cap_dual = y[f.start : f.stop].reshape(n_t, S).sum(axis=0)  # a kW more in every period
    z = parts["z"]
    for j, sid in enumerate(d.site_ids):
        gain = -cap_dual[j] * 0.01 * d.site_cap[j]  # d(lambda)/d(kW) = -dual (min -lambda)
        if z[j] < 0.5:  # every hall off in the plan: what would help is switching one on
            items.append({"name": f"halls[{sid}]", "kind": "halls", "gain_per_pct": float(gain)})
        else:
            items.append({"name": f"capacity[{sid}]", "kind": "capacity", "gain_per_pct": float(gain)})
    prices = pm.target_shadow_prices(v, y)
    for term in pm.terms:
        T = term.given.value
        gain = abs(prices[term.given.label]) * 0.01 * (abs(T) if T != 0 else 1.0)
        items.append({"name": term.given.label, "kind": "target", "gain_per_pct": float(gain)})
    g = pm.families.get("grid")
    if g is not None:
        capped = np.flatnonzero(np.isfinite(d.site_grid))
        grid_dual = y[g.start : g.stop].reshape(n_t, len(capped)).sum(axis=0)
        for k, j in enumerate(capped.tolist()):
            items.append({"name": f"grid[{d.site_ids[j]}]", "kind": "grid",
                          "gain_per_pct": float(-grid_dual[k] * 0.01 * d.site_grid[j])})
    n_dual = duals["n"].reshape(n_t, d.n_pools).sum(axis=0)
    for p in range(d.n_pools):
        gain = -n_dual[p] * 0.01 * d.pool_servers[p]
        items.append({"name": f"servers[{d.site_ids[d.pool_site[p]]}/{d.hardware_ids[d.pool_hw[p]]}]",
                      "kind": "servers", "gain_per_pct": float(gain)})
    lam = float(parts["lambda"][0])
    tol = 1e-9 * max(1.0, abs(lam))
    keep = [it for it in items if it["gain_per_pct"] > tol]
    return sorted(keep, key=lambda it: (-it["gain_per_pct"], it["name"]))


def headroom(
    instance: Instance | str | Path | Mapping[str, Any],
    workload_class: str | None = None,
    *,
    method: str = "auto",
    tol: float = 1e-4,
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
) -> Headroom:
    """The largest factor by which must-serve demand (all, or one class) can grow.

    Every workload of the class (every workload when ``workload_class`` is None) has its
    demand multiplied by the same factor; workloads that need not be served may be left
    unserved; every target and capacity holds. Over periods, the factor scales the demand
    of every period (the shape is kept, a flexible workload's windows and rate with it),
    and each capacity, grid connection and server count holds in every period.

    ``method``:

    - ``auto`` -- one parametric solve when the scaled workloads are divisible: with
      absolute shares ``y = lambda x`` every row is linear in ``(y, n, z, lambda)``, so
      ``max lambda`` is one LP (exact), or one MILP when halls may idle (exact: hall
      counts are not scaled). Bisection otherwise.
    - ``bisection`` -- feasibility solves between 0 and the LP relaxation's factor until
      the bracket is narrower than ``tol``; the factor returned is feasible and within
      ``tol`` below the largest one.

    The binding constraints come from the duals of the final LP (hall counts and
    indivisible placements fixed at the plan found): each constraint whose loosening by
    1 % would raise the factor, most limiting first.
    """
    budget = Budget(time_limit)
    inst = as_instance(instance)
    if inst.time is not None and inst.time.typical_days is not None:
        raise UsageError("headroom: not on representative days: the factor would be sized for the typical days, "
                         "not for the peak hours of the year they stand for; remove time.typical_days to find the "
                         "headroom over every period")
    if method not in ("auto", "parametric", "bisection"):
        raise UsageError(f"--method: expected auto, parametric or bisection, got {method!r}")
    if not tol > 0:
        raise UsageError(f"--tol: must be > 0, got {tol}")
    d = build_data(inst)
    scaled = _scaled_mask(d, workload_class)
    if not np.any(scaled & d.wl_must):
        raise UsageError(f"--class {workload_class}: none of its workloads must be served; there is no "
                         "demand whose growth the fleet must absorb")
    base_tflops = float(d.wl_demand[scaled & d.wl_must].sum())
    m = build_model(d)
    scaled_cols = _scaled_columns(m, scaled)
    indivisible_scaled = bool(np.any(m.integer & scaled_cols))
    V = m.n_cols
    int_cols = np.append(m.integer, False)
    if method == "parametric" and indivisible_scaled:
        raise UsageError("--method parametric: scaled workloads are indivisible (y = lambda x with x in {0, 1} "
                         "is not linear); use auto or bisection")
    if method != "bisection" and not indivisible_scaled:
        pm = _parametric(m, scaled)
        out = _max_lambda(pm, budget, mip_gap)
        label = "parametric MILP" if bool(np.any(pm.integer)) else "parametric LP"
        if out.status == Termination.UNBOUNDED:
            return Headroom(math.inf, [], label, workload_class, None, base_tflops,
                            note="unbounded: no constraint limits this demand")
        if out.status == Termination.INFEASIBLE:
            return Headroom(None, [], label, workload_class, None, base_tflops,
                            note="no factor >= 0 meets every target (see computeplan solve for a diagnosis)")
        assert out.v is not None
        if out.row_dual is None:
            out = _max_lambda(pm.with_fixed(out.v, int_cols), Budget(None), mip_gap)
        assert out.v is not None
        cons = _binding_constraints(pm, out)
        return Headroom(float(pm.split(out.v)["lambda"][0]), [c["name"] for c in cons], label, workload_class,
                        mip_gap if label == "parametric MILP" else None, base_tflops, cons)

    # Bisection: feasibility solves on scaled instances.
    relax = _max_lambda(_parametric(m, scaled, np.zeros(V, dtype=bool)), budget, mip_gap)
    if relax.status == Termination.INFEASIBLE:
        return Headroom(None, [], "bisection", workload_class, tol, base_tflops,
                        note="even the LP relaxation meets the targets at no factor >= 0")
    hi = math.inf if relax.status == Termination.UNBOUNDED or relax.v is None else float(relax.v[V])
    if not math.isfinite(hi):
        raise SolverError("headroom: the LP relaxation is unbounded; bisection needs an upper bound")
    path = f"demand.class.{workload_class}.scale" if workload_class else "demand.scale"

    def feasible(lam: float) -> tuple[bool, F64 | None]:
        if lam <= 0:
            return False, None
        fm = build_model(build_data(apply_values(inst, {path: lam})))
        fm.c[:] = 0.0
        o = solve_highs(fm, SolveOptions(time_limit=budget.left(), mip_gap=1.0))
        if o.status == Termination.ERROR:
            raise SolverError(f"headroom: the solver failed at factor {lam:.6g}: {o.message}")
        if o.status in (Termination.TIME_LIMIT, Termination.INTERRUPTED) and o.v is None:
            raise SolverError(f"headroom: no answer within the time limit at factor {lam:.6g}")
        return o.v is not None, o.v

    lo, v_lo = 0.0, None
    ok, v = feasible(hi)
    if ok:
        lo, v_lo = hi, v
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        ok, v = feasible(mid)
        if ok:
            lo, v_lo = mid, v
        else:
            hi = mid
    label = f"bisection (tolerance {tol:g})"
    if v_lo is None:
        return Headroom(None, [], label, workload_class, tol, base_tflops,
                        note=f"no factor above {hi:.3g} meets every target")
    # Binding constraints: the parametric LP with the plan's halls and placements fixed.
    pm = _parametric(m, scaled, np.zeros(V, dtype=bool))
    vv = np.append(v_lo, 0.0)
    unscaled_int = np.append(m.integer & ~scaled_cols, False)
    chosen = np.append(m.integer & scaled_cols, False)
    # an indivisible workload stays where the plan put it
    fm = pm.with_fixed(vv, unscaled_int, zero=chosen & (np.round(vv) < 0.5))
    out = _max_lambda(fm, budget, mip_gap)
    if out.v is None or out.row_dual is None:
        return Headroom(lo, [], label, workload_class, tol, base_tflops)
    cons = _binding_constraints(fm, out)
    return Headroom(max(lo, float(fm.split(out.v)["lambda"][0])), [c["name"] for c in cons], label, workload_class, tol,
                    base_tflops, cons)
