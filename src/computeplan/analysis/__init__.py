"""Questions beyond one solve (FORMULATION.md section 8).

- :func:`sweep` -- the epsilon-constraint trade-off: vary targets, demand scales or a
  site's figures over a grid and solve every point;
- :func:`headroom` -- the largest uniform demand growth factor (overall or for one
  workload class) served with every target met, and the constraints that bind;
- :func:`outage` -- N-1: each site removed in turn, with the unserved demand, the
  indicator changes and the sites that absorb the load;
- :func:`capacity_value` -- sites ranked by the shadow price of their IT capacity, with
  the range of capacity over which that price holds.

Sweeps and outages are independent solves and run through
:func:`computeplan.parallel.run_points` (in process, or on Dask); each point is a cold,
complete :func:`computeplan.solve` (verified like any other), so a table does not
depend on the engine, the number of workers or the order the points finish in.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import highspy
import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import NDArray
from pydantic import ValidationError

from computeplan.analysis.parallel import PointOutcome, run_points
from computeplan.errors import InstanceError, SolverError, UsageError
from computeplan.io.loader import cross_check, load_instance, pydantic_problems
from computeplan.io.schema import OBJECTIVES, TIERS, Instance, Site, Targets
from computeplan.model.build import Model, build_model, target_shadow_prices
from computeplan.model.data import ModelData, build_data
from computeplan.plan.result import Result
from computeplan.plan.solve import METHODS, choose_method
from computeplan.plan.solve import solve as run_solve
from computeplan.solvers import SolveOutcome
from computeplan.solvers.highs import _lp, solve_highs

F64 = NDArray[np.float64]
B = NDArray[np.bool_]

TARGET_NAMES = ("fleet_pue_max", "ece_min", "renewable_share_min", "carbon_max", "output_per_kwh_min")
SITE_FIELDS = ("it_capacity_kw", "halls", "max_utilisation", "price_per_kwh", "carbon_kg_per_kwh",
               "renewable_share")
VARY_HELP = ("targets.<target> (fleet_pue_max, ece_min, renewable_share_min, carbon_max, "
             "output_per_kwh_min), targets.site_pue_max.<tier or site>, demand.scale, "
             "demand.class.<class>.scale, sites.<id>.<it_capacity_kw|halls|max_utilisation|"
             "price_per_kwh|carbon_kg_per_kwh|renewable_share>, sites.<id>.servers.<hardware>")
BASE_LABEL = "(none)"


# --------------------------------------------------------------------------------------
# Instances as inputs
# --------------------------------------------------------------------------------------
def as_instance(instance: Instance | str | Path | Mapping[str, Any]) -> Instance:
    return instance if isinstance(instance, Instance) else load_instance(instance)


def copy_instance(inst: Instance, update: Mapping[str, Any]) -> Instance:
    """``inst`` with some fields replaced, and without any value cached on the original
    (a cache derived from the old sites or workloads must not follow them into the copy)."""
    out = inst.model_copy(update=dict(update))
    fields = type(out).model_fields
    for key in [k for k in vars(out) if k not in fields]:
        del out.__dict__[key]
    return out


@dataclass(frozen=True)
class SolveOptions:
    """How every point is solved (the options of :func:`computeplan.solve`)."""

    method: str = "auto"
    objective: str | None = None
    solver: str = "highs"
    time_limit: float | None = None
    mip_gap: float = 1e-9
    check: bool = True

    def validate(self, inst: Instance) -> None:
        """Raise :class:`UsageError` now rather than once per point on a worker."""
        if self.method not in METHODS:
            raise UsageError(f"--method: expected one of {', '.join(METHODS)}, got {self.method!r}")
        if self.objective is not None and self.objective not in OBJECTIVES:
            raise UsageError(f"--objective: expected one of {', '.join(OBJECTIVES)}, got {self.objective!r}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise UsageError(f"--time-limit: must be > 0 seconds, got {self.time_limit}")
        choose_method(build_data(inst), self.method)

    def run(self, inst: Instance) -> Result:
        return run_solve(inst, method=self.method, objective=self.objective, solver=self.solver,
                         time_limit=self.time_limit, mip_gap=self.mip_gap, check=self.check)


# --------------------------------------------------------------------------------------
# Varied paths
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Vary:
    """One varied path and its values."""

    path: str
    values: tuple[float, ...]


def _clean_float(v: float) -> float:
    """``linspace`` noise removed: 1.2000000000000002 -> 1.2 (12 significant digits)."""
    return float(f"{v:.12g}")


def parse_vary(spec: str) -> Vary:
    """``PATH=START:STOP:N`` (N evenly spaced values, ends included) or ``PATH=V1,V2,...``."""
    if "=" not in spec:
        raise UsageError(f"--vary {spec!r}: expected PATH=START:STOP:N or PATH=V1,V2,... (paths: {VARY_HELP})")
    path, _, rhs = spec.partition("=")
    path, rhs = path.strip(), rhs.strip()
    try:
        if ":" in rhs:
            parts = rhs.split(":")
            if len(parts) != 3:
                raise ValueError("expected START:STOP:N")
            start, stop = float(parts[0]), float(parts[1])
            n = int(parts[2])
            if n < 1:
                raise ValueError(f"N must be >= 1, got {n}")
            vals = [start] if n == 1 else np.linspace(start, stop, n).tolist()
        else:
            vals = [float(p) for p in rhs.split(",") if p.strip()]
            if not vals:
                raise ValueError("no values")
    except ValueError as e:
        raise UsageError(f"--vary {spec!r}: {e} (expected PATH=START:STOP:N or PATH=V1,V2,...)") from None
    if not all(math.isfinite(v) for v in vals):
        raise UsageError(f"--vary {spec!r}: values must be finite numbers")
    return Vary(path, tuple(_clean_float(v) for v in vals))


def _as_varies(vary: Mapping[str, Sequence[float]] | Sequence[str | Vary] | str | Vary) -> list[Vary]:
    if isinstance(vary, (str, Vary)):
        vary = [vary]
    if isinstance(vary, Mapping):
        out = [Vary(str(k), tuple(_clean_float(float(v)) for v in np.atleast_1d(np.asarray(vals, dtype=float))))
               for k, vals in vary.items()]
    else:
        out = [v if isinstance(v, Vary) else parse_vary(v) for v in vary]
    if not out:
        raise UsageError("--vary: give at least one PATH=START:STOP:N")
    seen: set[str] = set()
    for v in out:
        if v.path in seen:
            raise UsageError(f"--vary {v.path}: the same path is varied twice")
        seen.add(v.path)
        if not v.values:
            raise UsageError(f"--vary {v.path}: no values")
    return out


def check_path(inst: Instance, path: str) -> None:
    """Raise :class:`UsageError` unless ``path`` names something this instance can vary."""
    parts = path.split(".")
    site_ids = [s.id for s in inst.sites]
    classes = sorted({w.class_ for w in inst.workloads})
    bad = f"--vary {path}: "
    if parts[0] == "targets":
        if len(parts) == 2 and parts[1] in TARGET_NAMES:
            return
        if len(parts) == 3 and parts[1] == "site_pue_max":
            if parts[2] in TIERS or parts[2] in site_ids:
                return
            raise UsageError(bad + f"targets.site_pue_max keys are tier names ({', '.join(TIERS)}) or site "
                                   f"ids, got {parts[2]!r}")
    elif parts[0] == "demand":
        if parts[1:] == ["scale"]:
            return
        if len(parts) == 4 and parts[1] == "class" and parts[3] == "scale":
            if parts[2] in classes:
                return
            raise UsageError(bad + f"no workload of class {parts[2]!r} (classes: {', '.join(classes)})")
    elif parts[0] == "sites" and len(parts) >= 3:
        if parts[1] not in site_ids:
            raise UsageError(bad + f"unknown site {parts[1]!r} (sites: {', '.join(site_ids)})")
        if len(parts) == 3 and parts[2] in SITE_FIELDS:
            return
        if len(parts) == 4 and parts[2] == "servers":
            if parts[3] in inst.hardware:
                return
            raise UsageError(bad + f"unknown hardware model {parts[3]!r}")
    raise UsageError(bad + f"not a path that can be varied; expected one of {VARY_HELP}")


def _validation_error(e: ValidationError, prefix: tuple[int | str, ...]) -> UsageError:
    return UsageError("; ".join(pydantic_problems(e, "--vary", prefix)))


def apply_values(inst: Instance, values: Mapping[str, float]) -> Instance:
    """A copy of ``inst`` with each path set to its value (see :data:`VARY_HELP`).

    Every changed record is validated again by the instance schema, so a value out of
    range is an error naming the field (``--vary: targets.fleet_pue_max: must be >= 1.0``).
    """
    for path in values:
        check_path(inst, path)
    update: dict[str, Any] = {}
    tgt = {k: v for k, v in values.items() if k.startswith("targets.")}
    if tgt:
        t = inst.targets.model_dump()
        for path, v in tgt.items():
            parts = path.split(".")
            if len(parts) == 2:
                t[parts[1]] = float(v)
            else:
                t["site_pue_max"] = {**(t.get("site_pue_max") or {}), parts[2]: float(v)}
        try:
            update["targets"] = Targets.model_validate(t)
        except ValidationError as e:
            raise _validation_error(e, ("targets",)) from None
    scale_all = 1.0
    scale_class: dict[str, float] = {}
    for path, v in values.items():
        if path.startswith("demand."):
            if not (math.isfinite(v) and v > 0):
                raise UsageError(f"--vary: {path}: must be > 0, got {v!r}")
            parts = path.split(".")
            if len(parts) == 2:
                scale_all *= float(v)
            else:
                scale_class[parts[2]] = float(v)
    if scale_all != 1.0 or scale_class:
        update["workloads"] = [
            w.model_copy(update={"demand_tflops": w.demand_tflops * scale_all * scale_class.get(w.class_, 1.0)})
            for w in inst.workloads
        ]
    site_edits: dict[str, dict[str, float]] = {}
    for path, v in values.items():
        if path.startswith("sites."):
            _, sid, rest = path.split(".", 2)
            site_edits.setdefault(sid, {})[rest] = v
    if site_edits:
        sites = []
        for s in inst.sites:
            if s.id not in site_edits:
                sites.append(s)
                continue
            raw = s.model_dump()
            for rest, v in site_edits[s.id].items():
                if rest in ("halls",) or rest.startswith("servers."):
                    if not float(v).is_integer():
                        raise UsageError(f"--vary: sites.{s.id}.{rest}: must be a whole number, got {v!r}")
                    v = int(v)
                if rest.startswith("servers."):
                    raw["servers"] = {**raw["servers"], rest.split(".", 1)[1]: v}
                else:
                    raw[rest] = v
            try:
                sites.append(Site.model_validate(raw))
            except ValidationError as e:
                raise _validation_error(e, ("sites", s.id)) from None
        update["sites"] = sites
    out = copy_instance(inst, update)
    if site_edits:
        problems = cross_check(out, "--vary")
        if problems:
            raise InstanceError(problems)
    return out


# --------------------------------------------------------------------------------------
# One solve as one table row
# --------------------------------------------------------------------------------------
def diagnosis_text(diag: Mapping[str, Any] | None) -> str | None:
    """The diagnosis of an infeasible point on one line: what must move, and by how much."""
    if not diag:
        return None
    moves = [m.get("message", "") for m in diag.get("moves", [])]
    return "; ".join(moves) if moves else str(diag.get("summary", ""))


def binding_targets(res: Result) -> list[str]:
    """Targets whose shadow price is not zero (their rows bind)."""
    obj = abs(res.objective_value or 0.0)
    out = []
    for t in res.target_list:
        spv, T = t.get("shadow_price"), t.get("target")
        if spv is None or T is None:
            continue
        if abs(spv) * max(abs(T), 1e-12) > 1e-7 * max(obj, 1.0):
            out.append(str(t["name"]))
    return out


def result_row(res: Result) -> dict[str, Any]:
    """A solve as a flat record: status, objective, every indicator (result.json names),
    total active halls, each target's shadow price, the binding targets, the diagnosis."""
    row: dict[str, Any] = {"status": res.status.value, "objective": res.objective_value,
                           "bound": res.bound, "gap": res.gap}
    row.update(res.indicators)
    if res.site_records:
        row["active_halls"] = float(sum(s.get("active_halls") or 0 for s in res.site_records))
    for t in res.target_list:
        row[f"shadow_price.{t['name']}"] = t.get("shadow_price")
    row["binding"] = ";".join(binding_targets(res)) if res.status.has_plan else None
    row["diagnosis"] = diagnosis_text(res.diagnosis)
    return row


def _frame(rows: list[dict[str, Any]], lead: list[str]) -> pd.DataFrame:
    """Rows to a table with a stable column order: ``lead``, status and objective, the
    indicators in the order they first appear, shadow prices, then text columns."""
    cols: list[str] = list(lead)
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    tail: list[str] = [c for c in ("binding", "diagnosis", "error") if c in cols]
    sp_cols = [c for c in cols if c.startswith("shadow_price.")]
    cols = [c for c in cols if c not in tail and c not in sp_cols] + sp_cols + tail
    df = pd.DataFrame.from_records(rows, columns=cols)
    for c in ("binding", "diagnosis", "error"):
        if c in df:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


# --------------------------------------------------------------------------------------
# Sweeps
# --------------------------------------------------------------------------------------
def _sweep_point(shared: tuple[Instance, SolveOptions], values: dict[str, float]) -> dict[str, Any]:
    base, opts = shared
    return result_row(opts.run(apply_values(base, values)))


def sweep(
    instance: Instance | str | Path | Mapping[str, Any],
    vary: Mapping[str, Sequence[float]] | Sequence[str | Vary] | str | Vary,
    *,
    method: str = "auto",
    objective: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
    engine: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Solve the instance at every point of a grid of varied values (epsilon-constraint).

    Parameters
    ----------
    vary
        ``{"targets.fleet_pue_max": [1.2, 1.25, 1.3]}``, or strings ``"PATH=START:STOP:N"``.
        Several paths give the Cartesian grid of their values. Paths: see :data:`VARY_HELP`.
    engine, scheduler, workers, client
        ``serial`` (this process, the default) or ``dask`` (a local cluster of ``workers``
        processes, or the cluster at ``scheduler``, or an existing ``client``).

    Returns
    -------
    pandas.DataFrame
        One row per point, in grid order: the varied values, ``status``, ``objective``,
        ``bound``, ``gap``, every indicator under its ``result.json`` name,
        ``active_halls``, ``shadow_price.<target>``, ``binding`` (targets whose shadow
        price is not zero), ``diagnosis`` (infeasible points: what must move) and ``error``
        (a point that failed twice). ``attrs`` holds the objective's name and the paths.
    """
    inst = as_instance(instance)
    varies = _as_varies(vary)
    opts = SolveOptions(method, objective, solver, time_limit, mip_gap)
    opts.validate(inst)
    points = [dict(zip([v.path for v in varies], combo, strict=True))
              for combo in itertools.product(*[v.values for v in varies])]
    for p in points:  # every value checked before any solve
        apply_values(inst, p)
    outs = run_points(_sweep_point, (inst, opts), points, engine=engine, scheduler=scheduler, workers=workers,
                      client=client, progress=progress, description="sweep")
    rows = [_row_or_error(p, o) for p, o in zip(points, outs, strict=True)]
    df = _frame(rows, [v.path for v in varies] + ["status", "objective"])
    df.attrs.update({"instance": inst.name, "objective_name": _objective_name(inst, objective),
                     "vary": [v.path for v in varies]})
    return df


def _row_or_error(lead: Mapping[str, Any], o: PointOutcome) -> dict[str, Any]:
    if o.ok:
        return {**lead, **o.value}
    return {**lead, "status": "error", "objective": None, "error": f"failed twice: {o.error}"}


def _objective_name(inst: Instance, objective: str | None) -> str:
    from computeplan.plan.evaluate import OBJECTIVE_NAMES

    return OBJECTIVE_NAMES[objective or inst.objective]


def write_table(df: pd.DataFrame, out_dir: str | Path, name: str, kinds: Sequence[str] = ("csv",)) -> list[Path]:
    """Replace ``out_dir/name.csv`` (and/or ``.parquet``) as one set (:mod:`computeplan.io.write`)."""
    from computeplan.io.write import FILE_SETS, table_files, write_set

    return write_set(out_dir, next(s for s in FILE_SETS if s.name == name), table_files({name: df}, kinds))


# --------------------------------------------------------------------------------------
# Headroom
# --------------------------------------------------------------------------------------
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


def _parametric(m: Model, scaled: B, integer: B | None = None) -> Model:
    """The model in absolute shares ``y = lambda x`` with one more column, lambda.

    Every row is homogeneous in the scaled workloads' shares except their assignment
    rows, which become ``sum_c y_c - lambda = 0`` (``<= 0`` for optional work). Columns
    ``[y | n | z | lambda]``; the objective is ``max lambda``.
    """
    d = m.data
    V, R = m.n_cols, m.n_rows
    fam = m.families["assign"]
    has = np.flatnonzero(np.diff(d.wl_ptr) > 0)
    rows = fam.start + np.flatnonzero(scaled[has])
    lam = sp.csr_matrix((-np.ones(len(rows)), (rows, np.zeros(len(rows), dtype=np.int64))), shape=(R, 1))
    A = sp.csr_matrix(sp.hstack([m.A, lam], format="csr"))
    row_lo, row_hi = m.row_lo.copy(), m.row_hi.copy()
    wl_of_row = has[rows - fam.start]
    row_lo[rows] = np.where(d.wl_must[wl_of_row], 0.0, -np.inf)
    row_hi[rows] = 0.0
    col_lo = np.append(m.col_lo, 0.0)
    col_hi = np.append(m.col_hi, np.inf)
    col_hi[: d.n_cand][scaled[d.cand_wl]] = np.inf
    c = np.zeros(V + 1)
    c[V] = -1.0
    integ = np.append(m.integer if integer is None else integer, False)
    zero = sp.csr_matrix((d.n_sites, 1))
    return Model(data=d, c=c, offset=0.0, A=A, row_lo=row_lo, row_hi=row_hi, col_lo=col_lo, col_hi=col_hi,
                 integer=integ, families=m.families, A_it=sp.csr_matrix(sp.hstack([m.A_it, zero])),
                 A_p=sp.csr_matrix(sp.hstack([m.A_p, zero])), scale=1.0)


def _fix(m: Model, v: F64, cols: B, hi_zero: B | None = None) -> Model:
    """An LP: ``m`` with the columns ``cols`` fixed at ``v`` (rounded), the columns
    ``hi_zero`` held at 0, and no integrality left."""
    lo, hi = m.col_lo.copy(), m.col_hi.copy()
    lo[cols] = np.round(v[cols])
    hi[cols] = np.round(v[cols])
    if hi_zero is not None:
        hi[hi_zero] = 0.0
    return dataclasses.replace(m, col_lo=lo, col_hi=hi, integer=np.zeros_like(m.integer))


def _max_lambda(pm: Model, time_limit: float | None, mip_gap: float) -> SolveOutcome:
    out = solve_highs(pm, time_limit=time_limit, mip_gap=mip_gap)
    if out.status == "error" and "nbounded" in out.message:
        return SolveOutcome("unbounded", None, None, None, out.seconds)
    if out.status == "error":
        raise SolverError(f"headroom: the solver failed: {out.message}")
    if out.status == "time_limit":
        raise SolverError("headroom: the solver reached the time limit without a plan")
    return out


def _binding_constraints(pm: Model, out: SolveOutcome) -> list[dict[str, Any]]:
    """Constraints that limit lambda, with the factor gained per 1 % loosening of each."""
    assert out.v is not None and out.row_dual is not None and out.col_dual is not None
    d = pm.data
    v, y, yc = out.v, out.row_dual, out.col_dual
    K = d.n_cand
    items: list[dict[str, Any]] = []
    f = pm.families["capacity"]
    z = v[K + d.n_pools : K + d.n_pools + d.n_sites]
    for j, sid in enumerate(d.site_ids):
        gain = -y[f.start + j] * 0.01 * d.site_cap[j]  # d(lambda)/d(kW) = -dual (min -lambda)
        if z[j] < 0.5:  # every hall off in the plan: what would help is switching one on
            items.append({"name": f"halls[{sid}]", "kind": "halls", "gain_per_pct": float(gain)})
        else:
            items.append({"name": f"capacity[{sid}]", "kind": "capacity", "gain_per_pct": float(gain)})
    targets: dict[str, Any] = dict(d.targets)
    for name, dobj in target_shadow_prices(pm, v, y).items():
        if name.startswith("site_pue_max."):
            T = float(targets["site_pue_max"][name.split(".", 1)[1]])
        else:
            T = float(targets[name])
        gain = abs(dobj) * 0.01 * (abs(T) if T != 0 else 1.0)
        items.append({"name": name, "kind": "target", "gain_per_pct": float(gain)})
    for p in range(d.n_pools):
        gain = -yc[K + p] * 0.01 * d.pool_servers[p]
        items.append({"name": f"servers[{d.site_ids[d.pool_site[p]]}/{d.hardware_ids[d.pool_hw[p]]}]",
                      "kind": "servers", "gain_per_pct": float(gain)})
    lam = float(v[-1])
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
    unserved; every target and capacity holds.

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
    inst = as_instance(instance)
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
    indivisible_scaled = bool(np.any(m.integer[: d.n_cand] & scaled[d.cand_wl]))
    K = d.n_cand
    V = m.n_cols
    int_cols = np.append(m.integer, False)
    if method == "parametric" and indivisible_scaled:
        raise UsageError("--method parametric: scaled workloads are indivisible (y = lambda x with x in {0, 1} "
                         "is not linear); use auto or bisection")
    if method != "bisection" and not indivisible_scaled:
        pm = _parametric(m, scaled)
        out = _max_lambda(pm, time_limit, mip_gap)
        label = "parametric MILP" if bool(np.any(pm.integer)) else "parametric LP"
        if out.status == "unbounded":
            return Headroom(math.inf, [], label, workload_class, None, base_tflops,
                            note="unbounded: no constraint limits this demand")
        if out.status == "infeasible":
            return Headroom(None, [], label, workload_class, None, base_tflops,
                            note="no factor >= 0 meets every target (see computeplan solve for a diagnosis)")
        assert out.v is not None
        if out.row_dual is None:
            out = _max_lambda(_fix(pm, out.v, int_cols), None, mip_gap)
        assert out.v is not None
        cons = _binding_constraints(pm, out)
        return Headroom(float(out.v[V]), [c["name"] for c in cons], label, workload_class,
                        mip_gap if label == "parametric MILP" else None, base_tflops, cons)

    # Bisection: feasibility solves on scaled instances.
    relax = _max_lambda(_parametric(m, scaled, np.zeros(V, dtype=bool)), time_limit, mip_gap)
    if relax.status == "infeasible":
        return Headroom(None, [], "bisection", workload_class, tol, base_tflops,
                        note="even the LP relaxation meets the targets at no factor >= 0")
    hi = math.inf if relax.status == "unbounded" else float(relax.v[V])  # type: ignore[index]
    if not math.isfinite(hi):
        raise SolverError("headroom: the LP relaxation is unbounded; bisection needs an upper bound")
    path = f"demand.class.{workload_class}.scale" if workload_class else "demand.scale"

    def feasible(lam: float) -> tuple[bool, F64 | None]:
        if lam <= 0:
            return False, None
        fm = build_model(build_data(apply_values(inst, {path: lam})))
        fm.c[:] = 0.0
        o = solve_highs(fm, time_limit=time_limit, mip_gap=1.0)
        if o.status == "error":
            raise SolverError(f"headroom: the solver failed at factor {lam:.6g}: {o.message}")
        if o.status == "time_limit":
            raise SolverError(f"headroom: no answer within the time limit at factor {lam:.6g}")
        return o.status in ("optimal", "feasible"), o.v

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
    unscaled_int = np.append(m.integer, False)
    unscaled_int[:K] &= ~scaled[d.cand_wl]
    chosen = np.zeros(V + 1, dtype=bool)
    chosen[:K] = m.integer[:K] & scaled[d.cand_wl]
    # an indivisible workload stays where the plan put it
    fm = _fix(pm, vv, unscaled_int, hi_zero=chosen & (np.round(vv) < 0.5))
    out = _max_lambda(fm, time_limit, mip_gap)
    if out.v is None or out.row_dual is None:
        return Headroom(lo, [], label, workload_class, tol, base_tflops)
    cons = _binding_constraints(fm, out)
    return Headroom(max(lo, float(out.v[V])), [c["name"] for c in cons], label, workload_class, tol,
                    base_tflops, cons)


# --------------------------------------------------------------------------------------
# Outages (N-1)
# --------------------------------------------------------------------------------------
def optional_demand(inst: Instance) -> tuple[Instance, float]:
    """Every workload optional, at the instance's unserved penalty or the default one.

    The default (10 x the dearest full-load cost of serving a TFLOPS-hour) is computed on
    the whole fleet, so every outage run and the base run use the same penalty.
    """
    penalty = float(inst.unserved_penalty) if inst.unserved_penalty is not None else build_data(inst).penalty
    wls = [w.model_copy(update={"must_serve": False}) for w in inst.workloads]
    return copy_instance(inst, {"workloads": wls, "unserved_penalty": penalty}), penalty


def remove_site(inst: Instance, site_id: str) -> Instance:
    """The instance without one site: its pools, its id in workloads' allowed lists, and
    its own site PUE target are gone."""
    if len(inst.sites) < 2:
        raise UsageError("outage: the instance has a single site; removing it leaves no fleet")
    sites = [s for s in inst.sites if s.id != site_id]
    wls = [w.model_copy(update={"sites": [x for x in w.sites if x != site_id]})
           if w.sites is not None and site_id in w.sites else w for w in inst.workloads]
    update: dict[str, Any] = {"sites": sites, "workloads": wls}
    spm = inst.targets.site_pue_max
    if spm and site_id in spm:
        rest = {k: v for k, v in spm.items() if k != site_id}
        update["targets"] = inst.targets.model_copy(update={"site_pue_max": rest or None})
    return copy_instance(inst, update)


def _outage_point(shared: tuple[Instance, SolveOptions], site: str | None) -> dict[str, Any]:
    base, opts = shared
    res = opts.run(base if site is None else remove_site(base, site))
    served: dict[str, float] = {}
    for a in res.assignment_records:
        served[a["site"]] = served.get(a["site"], 0.0) + float(a["tflops"])
    it = {s["id"]: float(s["it_kw"]) for s in res.site_records}
    return {"row": result_row(res), "served": served, "it": it}


def outage_sites(inst: Instance, sites: Sequence[str] | None = None, tier: str | None = None) -> list[str]:
    """The sites to remove in turn: those given, those of a tier, or every site."""
    ids = [s.id for s in inst.sites]
    if sites is not None and tier is not None:
        raise UsageError("--sites and --tier: give one or the other")
    if sites is not None:
        chosen = [s.strip() for s in sites if s.strip()]
        unknown = [s for s in chosen if s not in ids]
        if unknown:
            raise UsageError(f"--sites: unknown site {', '.join(map(repr, unknown))} (sites: {', '.join(ids)})")
        if not chosen:
            raise UsageError("--sites: no site given")
        return list(dict.fromkeys(chosen))
    if tier is not None:
        if tier not in TIERS:
            raise UsageError(f"--tier: expected one of {', '.join(TIERS)}, got {tier!r}")
        chosen = [s.id for s in inst.sites if s.tier == tier]
        if not chosen:
            raise UsageError(f"--tier {tier}: the instance has no {tier} site")
        return chosen
    return ids


def outage(
    instance: Instance | str | Path | Mapping[str, Any],
    *,
    sites: Sequence[str] | None = None,
    tier: str | None = None,
    method: str = "auto",
    objective: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
    engine: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """N-1: remove each chosen site in turn and solve again.

    Every workload is made optional for these runs, with the instance's
    ``unserved_penalty`` or the default one (computed on the whole fleet), so demand the
    remaining fleet cannot carry is measured as ``unserved_tflops`` rather than making the
    run infeasible. The base plan (first row, site ``(none)``) is solved the same way.
    Targets stay hard constraints; a run that cannot meet them is ``infeasible`` with its
    diagnosis.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``site`` removed, ``tier``, ``status``, ``objective``, every
        indicator, ``unserved_share`` (of all demand), ``lost_tflops`` (what the removed
        site served in the base plan), ``absorbed_tflops`` and ``absorbed_by`` (the sites
        whose served TFLOPS rose, ``site:+TFLOPS`` separated by ``;``, largest first),
        ``delta.<indicator>`` against the base plan, shadow prices, binding targets,
        diagnosis, error.
    """
    inst = as_instance(instance)
    chosen = outage_sites(inst, sites, tier)
    if len(inst.sites) < 2:
        raise UsageError("outage: the instance has a single site; removing it leaves no fleet")
    opt_inst, penalty = optional_demand(inst)
    opts = SolveOptions(method, objective, solver, time_limit, mip_gap)
    opts.validate(opt_inst)
    items: list[str | None] = [None, *chosen]
    outs = run_points(_outage_point, (opt_inst, opts), items, engine=engine, scheduler=scheduler,
                      workers=workers, client=client, progress=progress, description="outages")
    tier_of = {s.id: s.tier for s in inst.sites}
    total = float(sum(w.demand_tflops for w in inst.workloads))
    base = outs[0].value if outs[0].ok else None
    rows = []
    for site, o in zip(items, outs, strict=True):
        lead = {"site": BASE_LABEL if site is None else site, "tier": "" if site is None else tier_of[site]}
        if not o.ok:
            rows.append(_row_or_error(lead, o))
            continue
        row = {**lead, **o.value["row"]}
        un = row.get("unserved_tflops")
        row["unserved_share"] = None if un is None else un / total
        if base is not None and site is not None:
            row["lost_tflops"] = base["served"].get(site, 0.0)
            gains = {s: o.value["served"].get(s, 0.0) - base["served"].get(s, 0.0)
                     for s in o.value["served"]}
            tol = 1e-9 * max(total, 1.0)
            up = sorted(((s, g) for s, g in gains.items() if g > tol), key=lambda t: (-t[1], t[0]))
            row["absorbed_tflops"] = float(sum(g for _, g in up))
            row["absorbed_by"] = ";".join(f"{s}:+{g:.6g}" for s, g in up)
            for k, val in o.value["row"].items():
                b = base["row"].get(k)
                if k in ("objective", *_indicator_keys(base["row"])) and isinstance(val, float) and \
                        isinstance(b, float):
                    row[f"delta.{k}"] = val - b
        rows.append(row)
    df = _frame(rows, ["site", "tier", "status", "objective"])
    df.attrs.update({"instance": inst.name, "objective_name": _objective_name(inst, objective),
                     "unserved_penalty": penalty})
    return df


def _indicator_keys(row: Mapping[str, Any]) -> list[str]:
    skip = {"status", "objective", "bound", "gap", "binding", "diagnosis", "active_halls"}
    return [k for k in row if k not in skip and not k.startswith("shadow_price.")]


# --------------------------------------------------------------------------------------
# Capacity value
# --------------------------------------------------------------------------------------
def plan_vector(d: ModelData, res: Result) -> F64:
    """The column vector ``[x | n | z]`` of a result's plan."""
    K, P = d.n_cand, d.n_pools
    v = np.zeros(K + P + d.n_sites)
    wl = {w: i for i, w in enumerate(d.workload_ids)}
    site = {s: j for j, s in enumerate(d.site_ids)}
    hw = {h: k for k, h in enumerate(d.hardware_ids)}
    pool = {(int(d.pool_site[p]), int(d.pool_hw[p])): p for p in range(P)}
    for a in res.assignment_records:
        i, p = wl[a["workload"]], pool[(site[a["site"]], hw[a["hardware"]])]
        lo, hi = int(d.wl_ptr[i]), int(d.wl_ptr[i + 1])
        c = lo + int(np.flatnonzero(d.cand_pool[lo:hi] == p)[0])
        v[c] = float(a["share"])
    for r in res.pool_records:
        v[K + pool[(site[r["site"]], hw[r["hardware"]])]] = float(r["servers_on"])
    for s in res.site_records:
        v[K + P + site[s["id"]]] = float(s["active_halls"])
    return v


def capacity_value(
    instance: Instance | str | Path | Mapping[str, Any],
    result: Result | None = None,
    *,
    objective: str | None = None,
    method: str = "auto",
) -> pd.DataFrame:
    """Sites ranked by what one more kW of IT capacity is worth, and where that holds.

    ``value_per_kw`` is minus the capacity shadow price (objective units saved per extra
    IT kW, hall count and fixed overhead held). ``holds_from_kw`` / ``holds_to_kw`` are
    the IT capacities between which that price holds (HiGHS ranging of the capacity
    row's right-hand side; for a MILP, of the LP with hall counts and indivisible
    placements fixed at the plan). A site whose capacity does not bind is worth 0 per kW
    down to the IT load it carries. A site with every hall off is worth 0 too, with no
    shadow price (as in ``result.json``): a kW on its row would be IT power with no hall
    under it; ``note`` says so.
    """
    inst = as_instance(instance)
    if objective is not None:
        if objective not in OBJECTIVES:
            raise UsageError(f"--objective: expected one of {', '.join(OBJECTIVES)}, got {objective!r}")
        inst = copy_instance(inst, {"objective": objective})
    if result is None:
        result = run_solve(inst, method=method)
    if not result.status.has_plan:
        raise UsageError(f"capacity value: the instance has no plan ({result.status.value}); "
                         "solve it and follow its diagnosis first")
    d = build_data(inst)
    m = build_model(d)
    v = plan_vector(d, result)
    fm = _fix(m, v, m.integer)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    for opt in ("primal_feasibility_tolerance", "dual_feasibility_tolerance"):
        h.setOptionValue(opt, 1e-9)
    h.passModel(_lp(fm))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise SolverError(f"capacity value: the fixed LP did not solve: {h.modelStatusToString(h.getModelStatus())}")
    sol = h.getSolution()
    status, rng = h.getRanging()
    f = m.families["capacity"]
    duals = np.asarray(sol.row_dual, dtype=float)[f.start : f.stop]
    basis = h.getBasis()
    ok = status == highspy.HighsStatus.kOk
    rows = []
    z = np.round(v[d.n_cand + d.n_pools :])
    cap_kw = d.site_hall_kw * z
    it = np.asarray(m.A_it @ v).ravel()
    scale_obj = float(np.max(np.abs(m.c))) if m.n_cols else 1.0
    for j, sid in enumerate(d.site_ids):
        r = f.start + j
        price = float(duals[j] * m.scale)
        basic = basis.row_status[r] == highspy.HighsBasisStatus.kBasic
        note = ""
        if z[j] == 0:
            # No hall on: a kW on this row would be IT power with no hall (and no fixed
            # overhead) under it, not something to build; the site is worth nothing more
            # until a hall is switched on.
            price, value, dn, up = math.nan, 0.0, math.nan, math.nan
            note = "no hall on: extra capacity changes nothing unless a hall is switched on"
        elif basic or abs(duals[j]) <= 1e-12 * max(scale_obj, 1.0):
            # not binding: the price 0 holds from the plan's load up without limit
            price, value, dn, up = 0.0, 0.0, float(it[j] - cap_kw[j]), math.inf
        else:
            value = -price
            dn, up = ((float(rng.row_bound_dn.value_[r]), float(rng.row_bound_up.value_[r])) if ok
                      else (math.nan, math.nan))
        active = float(cap_kw[j])
        rows.append({
            "site": sid, "tier": d.site_tier[j], "shadow_price": price, "value_per_kw": value,
            "it_kw": float(it[j]), "it_capacity_kw": float(d.site_cap[j]), "active_capacity_kw": active,
            "holds_from_kw": max(0.0, active + dn) if math.isfinite(dn) else (0.0 if dn < 0 else math.nan),
            "holds_to_kw": active + up if math.isfinite(up) or math.isnan(up) else math.inf,
            "note": note,
        })
    df = pd.DataFrame(rows).sort_values(["value_per_kw", "site"], ascending=[False, True], kind="stable")
    df.insert(0, "rank", np.arange(1, len(df) + 1))
    df.attrs.update({"instance": d.name, "objective_name": _objective_name(inst, None),
                     "method": result.method})
    return df.reset_index(drop=True)
