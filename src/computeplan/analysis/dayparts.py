"""The full-year dispatch with the strategic decisions fixed, decomposed by day, on Dask.

With the halls ``z``, the indivisible placements ``y`` and the build decisions ``g``,
``m``, ``o`` fixed, the year's LP (FORMULATION.md section 10) falls apart into one LP
per day but for the annual, energy-weighted target rows (fleet and site PUE, renewable
share, ...), which sum over every period. :func:`dispatch_by_day` prices those rows by
Dantzig-Wolfe decomposition (column generation, the dual of a cutting-plane method on the
Lagrangian multipliers):

- each day's LP is solved at the current prices, independently, on Dask workers (a local
  cluster by default, ``scheduler`` to scale out); a worker builds its days from the
  year's arrays restricted to their periods and keeps them loaded; days go in chains of
  consecutive days, each day starting from the basis the day before just ended on
  (consecutive days differ little: most days then need few simplex iterations, or none);
- the first prices may be given (``prices``): the duals of a few typical days' LP with
  the same decisions fixed (:func:`computeplan.analysis.fullyear.typical_prices`) put the
  first pass's bound close to the optimum;
- a master LP (HiGHS, through the solver adapter) chooses a convex combination of each
  day's solutions that meets the annual rows, with elastic slacks at a penalty raised
  until none is used; its row duals are the next prices;
- every pass gives a **lower bound**, the Lagrangian value ``sum_d min (c_d - y G_d) v_d
  + y b``; the master's value is the objective of a feasible plan once its slacks are 0;
- a plan is **recovered** by giving each day the share of each annual row that the
  master's combination uses (plus its part of the row's unused room, by energy weight),
  and solving each day once more at its own costs with its share as a bound: the sum of
  those days meets the annual rows and costs no more than the master's plan. Its
  objective is the **upper bound**. With first prices a plan is also recovered right
  after the first pass, the master's shortfall on a row spread over the days as its room
  would be: at good prices that plan is already within the tolerance, and the passes stop.

A flexibility window longer than a day would couple days as well: such an instance is
refused (:class:`~computeplan.errors.UsageError`). A day of a single period is merged
with the next, so that every part has several periods.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.analysis.daypart_lp import (
    FIXED_BLOCKS,
    PartSpec,
    annual_mask,
    rows_with_terms,
    target_rows,
)
from computeplan.analysis.dayparts_run import Runner, open_runner
from computeplan.errors import UsageError
from computeplan.io.periods import time_axis
from computeplan.io.schema import Instance
from computeplan.model.build import build_model
from computeplan.model.data import ModelData, build_data
from computeplan.model.layout import plan_layout
from computeplan.model.subset import period_subset, windows_cross
from computeplan.solvers import Budget, Program, SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
INF = np.inf
FEAS_TOL = 1e-7  # elastic slack (in scaled row units) below which the master's plan counts as feasible
PENALTY_RISE = 100.0
PENALTY_RISES = 6
LOOSEN = (1e-9, 1e-8, 1e-7)  # relative widenings of a day's share tried when it is infeasible at its edge
ROW_TOL = 1e-6  # relative excess of an annual row that still counts as met (a target's own tolerance)


@dataclass
class DayDispatch:
    """What :func:`dispatch_by_day` found. Objective figures are in the objective's units
    over the whole horizon, like ``Result.objective_value``.

    ``objective`` is the recovered full-year plan's (the upper bound), ``bound`` the best
    Lagrangian lower bound, ``gap`` ``(objective - bound) / |objective|``. ``prices`` are
    the coupling rows' multipliers at the best bound, in objective units per unit of the
    row as FORMULATION.md writes it (``>= 0`` for a ``<=`` row that binds), by row label.
    ``plan`` (with ``keep_plan``) is the full-year column vector of the year's layout."""

    status: Termination
    objective: float | None
    bound: float | None
    gap: float | None
    iterations: int
    parts: int
    workers: int
    seconds: float
    coupling_rows: int
    prices: dict[str, float] = field(default_factory=dict)
    master_objective: float | None = None
    history: list[dict[str, float]] = field(default_factory=list)
    plan: F64 | None = None
    targets_met: bool | None = None
    message: str = ""
    infeasible_part: int | None = None  # a day part with no dispatch of its own (before any annual row)
    #: Without fixed decisions: each part's copy of the halls and placements (``z`` then
    #: ``y`` columns), the master's combination of its solutions at the last pass.
    copies: F64 | None = None


def day_parts(inst: Instance, d: ModelData) -> list[I64]:
    """The periods of each day, in time order (a day of one period joins the next; the last
    such day joins the one before). Refused when a flexibility window spans two parts."""
    day = np.asarray(time_axis(inst).day, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    bounds = [*starts.tolist(), len(day)]
    parts: list[I64] = []
    pending = 0
    for b in bounds[1:]:
        if b - pending < 2 and b < len(day):
            continue  # too short: carried into the next day
        parts.append(np.arange(pending, b, dtype=np.int64))
        pending = b
    if len(parts) > 1 and len(parts[-1]) < 2:
        parts[-2] = np.r_[parts[-2], parts.pop()]
    for p in parts:
        crossing = windows_cross(d, p)
        if crossing:
            raise UsageError(f"dispatch by day: the flexibility windows of workload(s) {', '.join(crossing[:3])} "
                             "span more than one day, so they couple days as the annual targets do; "
                             "solve this instance as one LP (windows of at most 24 h decompose)")
    return parts


def check_fixed(d: ModelData, fixed: Mapping[str, Any]) -> dict[str, F64]:
    """The fixed blocks as float arrays of the layout's sizes (integer blocks rounded)."""
    L = plan_layout(d)
    out: dict[str, F64] = {}
    for name in fixed:
        if name not in FIXED_BLOCKS:
            raise UsageError(f"fixed decisions: expected blocks among {', '.join(FIXED_BLOCKS)}, got {name!r}")
    for name in FIXED_BLOCKS:
        size = L[name].stop - L[name].start
        if size == 0:
            continue
        if name not in fixed:
            raise UsageError(f"fixed decisions: block {name!r} ({size} columns) is missing")
        arr = np.asarray(fixed[name], dtype=float).ravel()
        if arr.shape != (size,) or not np.all(np.isfinite(arr)):
            raise UsageError(f"fixed decisions: block {name!r}: expected {size} finite values, got shape "
                             f"{np.shape(fixed[name])}")
        out[name] = arr if name == "m" else np.round(arr)
    return out


@dataclass(frozen=True, eq=False)
class Coupling:
    """The annual rows that couple the parts, scaled by ``sigma``, with the annual blocks'
    part moved to the bounds (``lo``, ``hi``), and the annual blocks' objective ``const``."""

    keep: I64
    sigma: F64
    lo: F64
    hi: F64
    labels: list[str]
    const: float


def coupling(d: ModelData, first: I64, fixed: dict[str, F64] | None) -> Coupling:
    """Read the coupling rows off the first part's model. Rows with no term on a part's
    columns (on build decisions only) are constant once builds are fixed: checked here.
    Without fixed decisions every target row couples the parts."""
    m = build_model(period_subset(d, first), relax=True)
    tr = target_rows(m)
    annual = annual_mask(m)
    v_annual = np.where(annual, m.blocks_bounds(fixed)[0], 0.0) if fixed is not None else np.zeros(m.n_cols)
    const_rows = np.asarray(tr.G @ v_annual).ravel()
    per_part = rows_with_terms(tr, ~annual if fixed is not None else np.ones(m.n_cols, dtype=bool))
    names = m.row_names()
    labels = [names[r] for r in tr.rows.tolist()]
    for k in np.flatnonzero(~per_part).tolist():
        tol = 1e-9 * max(1.0, abs(const_rows[k]))
        if not tr.lo[k] - tol <= const_rows[k] <= tr.hi[k] + tol:
            raise UsageError(f"fixed decisions: the annual row {labels[k]} does not hold with the fixed builds "
                             f"({const_rows[k]:.6g} outside [{tr.lo[k]:.6g}, {tr.hi[k]:.6g}])")
    keep = np.flatnonzero(per_part).astype(np.int64)
    big = np.asarray(abs(tr.G[keep]).max(axis=1).todense()).ravel() if len(keep) else np.zeros(0)
    sigma = np.where(big > 0, 1.0 / np.where(big > 0, big, 1.0), 1.0)
    return Coupling(keep, sigma, (tr.lo[keep] - const_rows[keep]) * sigma, (tr.hi[keep] - const_rows[keep]) * sigma,
                    [labels[k] for k in keep.tolist()], float(m.c[annual] @ v_annual[annual]))


def _clip(y: F64, cp: Coupling) -> F64:
    """Multipliers of the right sign: ``>= 0`` needs a finite lower bound, ``<= 0`` an upper."""
    return np.where(np.isfinite(cp.lo), np.maximum(y, 0.0), 0.0) + np.where(np.isfinite(cp.hi), np.minimum(y, 0.0), 0.0)


def _lagrangian(values: F64, acts: F64, y: F64, cp: Coupling) -> float:
    """``sum_d (c_d v_d - y G_d v_d) + y b`` (per hour of the horizon, without ``const``)."""
    b = np.where(y > 0, np.where(np.isfinite(cp.lo), cp.lo, 0.0), np.where(np.isfinite(cp.hi), cp.hi, 0.0))
    return float(values.sum() - (acts @ y).sum() + y @ b)


class Master:
    """The restricted master LP over the parts' solutions so far."""

    def __init__(self, n_parts: int, cp: Coupling) -> None:
        self.D, self.cp = n_parts, cp
        self.cost: list[F64] = []  # per pass: (D,)
        self.act: list[F64] = []  # per pass: (D, R)
        self.penalty = 0.0

    def add(self, values: F64, acts: F64) -> None:
        self.cost.append(values)
        self.act.append(acts)

    def solve(self) -> tuple[float, float, F64, F64]:
        """The master's value, its slack in use, the coupling duals, the weights ``mu``
        (passes x parts)."""
        D, R, K = self.D, len(self.cp.keep), len(self.cost)
        n_mu = K * D
        cost = np.concatenate([*self.cost, np.full(2 * R, self.penalty)])
        part = np.tile(np.arange(D), K)
        conv = sp.csr_matrix((np.ones(n_mu), (part, np.arange(n_mu))), shape=(D, n_mu + 2 * R))
        acts = np.concatenate(self.act, axis=0).T  # R x (K D)
        slack = sp.hstack([sp.identity(R), -sp.identity(R)])
        rows = sp.hstack([sp.csr_matrix(acts), slack]) if R else sp.csr_matrix((0, n_mu))
        A = sp.csr_matrix(sp.vstack([conv, rows]))
        V = n_mu + 2 * R
        prog = Program(c=cost, offset=0.0, A=A, row_lo=np.r_[np.ones(D), self.cp.lo],
                       row_hi=np.r_[np.ones(D), self.cp.hi], col_lo=np.zeros(V), col_hi=np.full(V, INF),
                       integer=np.zeros(V, dtype=bool))
        out = solve_highs(prog, SolveOptions(tolerance=1e-9))
        if out.status != Termination.OPTIMAL or out.v is None or out.row_dual is None:
            raise RuntimeError(f"dispatch by day: the master LP ended {out.status} {out.message}")
        used = float(out.v[n_mu:].sum())
        return float(out.objective or 0.0), used, _clip(out.row_dual[D:], self.cp), out.v[:n_mu].reshape(K, D)


def _shares(act: list[F64], mu: F64, weight: F64, cp: Coupling) -> tuple[F64, F64]:
    """Each part's bounds (upper, lower) on its coupling rows: the master's combination's
    activity, plus the row's unused room spread by the parts' energy weight. A combination
    that misses a row (the master still used its slack) has negative room there: the
    shortfall is spread the same way, so the shares add up to a year that meets the row."""
    acts = np.einsum("kd,kdr->dr", mu, np.stack(act))
    total = acts.sum(axis=0)
    room_hi = np.where(np.isfinite(cp.hi), cp.hi - total, INF)
    room_lo = np.where(np.isfinite(cp.lo), total - cp.lo, INF)
    hi = acts + np.outer(weight, room_hi)
    lo = acts - np.outer(weight, room_lo)
    return np.where(np.isfinite(hi), hi, INF), np.where(np.isfinite(lo), lo, -INF)


def dispatch_by_day(
    instance: Instance,
    fixed: Mapping[str, Any] | None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    client: Any = None,
    time_limit: float | None = None,
    budget: Budget | None = None,
    iterations: int = 100,
    tol: float = 1e-4,
    keep_plan: bool = False,
    progress: bool = True,
    follow: bool = True,
    prices: Mapping[str, float] | None = None,
    strict_prices: bool = True,
) -> DayDispatch:
    """Dispatch the full year with ``fixed`` decisions (layout block name -> values: ``z``,
    ``y``, ``g``, ``m``, ``o``, those the instance has), one LP per day, the annual rows
    priced by Dantzig-Wolfe decomposition (module docstring).

    ``workers``: local Dask worker processes (default: the machine's cores; ``0`` solves in
    this process); ``scheduler`` / ``client``: an existing Dask cluster. ``iterations``
    bounds the pricing passes, ``tol`` the relative gap at which they stop; the time limit
    (or ``budget``) holds for the whole call, a recovery pass included. ``prices`` (row
    label -> multiplier, in the units of :attr:`DayDispatch.prices`; e.g. the typical
    days', :func:`computeplan.analysis.fullyear.typical_prices`) are the first pass's
    prices, 0 for a row not named; any prices give a valid bound, good ones a close one
    from the first pass on; with ``strict_prices`` False a label that names no coupling row
    is passed over (prices of another model's rows, say the bound's) instead of refused.
    ``follow``: each day starts from the day before's basis
    (:mod:`~computeplan.analysis.dayparts_run`), else from its own.
    """
    t0 = time.perf_counter()
    bud = budget if budget is not None else Budget(time_limit)
    if iterations < 1:
        raise UsageError(f"iterations: must be >= 1, got {iterations}")
    d = build_data(instance)
    parts = day_parts(instance, d)
    fx = check_fixed(d, fixed) if fixed is not None else None
    cp = coupling(d, parts[0], fx)
    H = d.horizon
    weight = np.array([d.per_w[p].sum() for p in parts]) / H
    specs = [PartSpec(period_subset(d, p), fx, cp.keep, cp.sigma, float(w)) for p, w in zip(parts, weight, strict=True)]
    run = uuid.uuid4().hex[:12]
    with open_runner(run, specs, workers=workers, scheduler=scheduler, client=client, progress=progress,
                     follow=follow) as rn:
        given = prices or {}
        if not strict_prices:
            rows = set(cp.labels)
            given = {lab: v for lab, v in given.items() if lab in rows}
        y0 = first_prices(cp, given, H)
        out, best_y, kept = _price(rn, cp, weight, bud, iterations, tol, keep_plan and fx is not None, fx is not None,
                                   y0)
        out.workers = rn.n_workers
    out.seconds = time.perf_counter() - t0
    for name in ("objective", "bound", "master_objective"):
        val = getattr(out, name)
        if val is not None:
            setattr(out, name, H * (val + cp.const))
    out.prices = {lab: float(abs(y) * s * H) for lab, y, s in zip(cp.labels, best_y, cp.sigma, strict=True)}
    if out.objective is not None and out.bound is not None:
        out.gap = max(out.objective - out.bound, 0.0) / max(abs(out.objective), 1e-12)
    if keep_plan and kept is not None and fx is not None:
        K, P = d.n_cand, d.n_pools
        x = np.concatenate([a[: len(p) * K] for a, p in zip(kept, parts, strict=True)])
        n = np.concatenate([a[len(p) * K : len(p) * (K + P)] for a, p in zip(kept, parts, strict=True)])
        out.plan = plan_layout(d).join(x=x, n=n, **fx)
    return out


def _initial_penalty(values: F64, acts: F64) -> float:
    """A first price for an elastic slack: the objective per unit of the busiest row."""
    return 10.0 * max(float(np.abs(values).sum()) / max(float(np.abs(acts).sum(axis=0).max()), 1e-12), 1e-12)


def first_prices(cp: Coupling, prices: Mapping[str, float], H: float) -> F64:
    """The multipliers of the coupling rows (scaled, per hour of the horizon) for prices by
    row label in :attr:`DayDispatch.prices`'s units, with the sign of each row's sense (a
    row bounded on both sides, or a label not given, starts at 0)."""
    unknown = sorted(set(prices) - set(cp.labels))
    if unknown:
        raise UsageError(f"prices: no annual row {unknown[0]!r}; the rows are {', '.join(cp.labels) or 'none'}")
    sign = np.where(np.isfinite(cp.lo), 1.0, 0.0) - np.where(np.isfinite(cp.hi), 1.0, 0.0)
    given = np.array([abs(float(prices.get(lab, 0.0))) for lab in cp.labels])
    return sign * given / (cp.sigma * H)


@dataclass
class _Recovered:
    """A plan recovered from a master's combination: its objective (per hour of the
    horizon, without ``cp.const``), whether it meets every coupling row, its parts' x and
    n columns (when kept)."""

    objective: float
    targets_met: bool
    xn: list[F64] | None


def _recover(rn: Runner, act: list[F64], mu: F64, weight: F64, cp: Coupling, bud: Budget,
             keep: bool) -> tuple[_Recovered | None, Termination, str]:
    """Each part at its own costs within its share of the coupling rows (:func:`_shares`)."""
    D = len(weight)
    hi, lo = _shares(act[: mu.shape[0]], mu, weight, cp)
    ans = rn.solve([(p, None, (lo[p], hi[p]), keep) for p in range(D)], bud.left(), "recovery")
    message = ""
    for eps in LOOSEN:  # a share at the very edge of a day's reach may fail by rounding: widen it a little
        bad = [p for p, a in enumerate(ans) if a.status == Termination.INFEASIBLE]
        if not bad:
            break
        wide = [(p, None, (lo[p] - eps * (1 + np.abs(lo[p])), hi[p] + eps * (1 + np.abs(hi[p]))), keep) for p in bad]
        for p, a in zip(bad, rn.solve(wide, bud.left(), "recovery"), strict=True):
            ans[p] = a
        message = f"{len(bad)} day part(s) needed their share widened by {eps:g} (relative)"
    bad = [p for p, a in enumerate(ans) if a.status != Termination.OPTIMAL]
    if bad:
        st = ans[bad[0]].status
        return None, (Termination.TIME_LIMIT if st == Termination.TIME_LIMIT else Termination.ERROR), (
            f"no plan recovered: day part {bad[0]} ended {st} with its share of the annual rows")
    total = np.sum([a.act for a in ans], axis=0)
    excess = np.maximum(total - cp.hi, 0.0) + np.maximum(cp.lo - total, 0.0)
    met = bool(np.all(excess <= ROW_TOL * np.maximum(1.0, np.abs(np.where(np.isfinite(cp.hi), cp.hi, cp.lo)))))
    xn = [a.xn for a in ans if a.xn is not None] if keep else None
    return _Recovered(float(sum(a.value for a in ans)), met, xn), Termination.OPTIMAL, message


def _price(rn: Runner, cp: Coupling, weight: F64, bud: Budget, iterations: int, tol: float,
           keep: bool, recover: bool, y0: F64) -> tuple[DayDispatch, F64, list[F64] | None]:
    """The pricing passes, then (``recover``) the recovery of a plan (per hour of the
    horizon, without ``cp.const``). Returns the outcome, the multipliers at the best bound,
    and the parts' x and n columns when ``keep``.

    With first prices (``y0`` not 0) a plan is also recovered right after the first pass,
    from that pass alone: good prices (the typical days') put the bound near the optimum
    at once, and the days' share of each annual row then gives a plan close to it, where
    the master would need more passes to combine one that meets the rows."""
    D, R = len(weight), len(cp.keep)
    master = Master(D, cp)
    y = y0
    best, best_y = -INF, y
    out = DayDispatch(Termination.TIME_LIMIT, None, None, None, 0, D, 0, 0.0, R)
    feasible: tuple[float, F64] | None = None  # the master's value and weights when it used no slack
    plan: _Recovered | None = None  # the best plan recovered so far
    owns: list[F64] = []  # without fixed decisions: per pass, the parts' copies of z and y
    pass_s, rises = 0.0, 0

    def scale(v: float) -> float:
        return max(abs(v + cp.const), 1e-12)

    def closed() -> bool:
        return plan is not None and plan.targets_met and plan.objective - best <= tol * scale(plan.objective)

    def take(got: _Recovered | None) -> None:
        nonlocal plan
        if got is not None and (plan is None or (got.targets_met, -got.objective) > (plan.targets_met, -plan.objective)):
            plan = got

    while out.iterations < iterations:
        left = bud.left()
        if left is not None and out.iterations > 0 and left < 2.0 * pass_s:
            out.message = "the time limit stopped the pricing passes"
            break
        t = time.perf_counter()
        ans = rn.solve([(p, y, None, keep and R == 0) for p in range(D)], left,
                       f"pass {out.iterations + 1}")
        pass_s = time.perf_counter() - t
        bad = [p for p, a in enumerate(ans) if a.status != Termination.OPTIMAL]
        if bad:
            a = ans[bad[0]]
            if a.status == Termination.INFEASIBLE:
                out.status, out.infeasible_part = Termination.INFEASIBLE, bad[0]
                out.message = (f"day part {bad[0]} has no feasible dispatch with the fixed decisions "
                               f"(even before the annual targets)")
                return out, best_y, None
            out.message = f"day part {bad[0]} ended {a.status} {a.message}".strip()
            break
        out.iterations += 1
        values = np.array([a.value for a in ans])
        if not recover and ans and ans[0].own is not None:
            owns.append(np.stack([a.own for a in ans if a.own is not None]))
        acts = np.stack([a.act for a in ans]) if R else np.zeros((D, 0))
        lb = _lagrangian(values, acts, y, cp)
        if lb > best:
            best, best_y = lb, y
        out.bound = best
        if R == 0:  # nothing couples the days: this pass is the optimum
            out.status, out.master_objective = Termination.OPTIMAL, lb
            out.copies = owns[-1] if owns else None
            if recover:
                out.objective, out.targets_met = lb, True
            return out, best_y, [a.xn for a in ans if a.xn is not None] if keep else None
        master.add(values, acts)
        if master.penalty == 0.0:
            master.penalty = _initial_penalty(values, acts)
        obj, used, y, mu = master.solve()
        if owns:
            out.copies = np.einsum("kd,kds->ds", mu, np.stack(owns))
        if used > FEAS_TOL and obj - best <= tol * scale(obj):
            if rises >= PENALTY_RISES:
                out.status = Termination.INFEASIBLE
                out.message = "no plan meets the annual targets with the fixed decisions (elastic slack stays in use)"
                return out, best_y, None
            master.penalty *= PENALTY_RISE
            rises += 1
            obj, used, y, mu = master.solve()
            if owns:
                out.copies = np.einsum("kd,kds->ds", mu, np.stack(owns))
        out.history.append({"pass": float(out.iterations), "bound": best, "master": obj, "slack": used,
                            "seconds": pass_s, "lp_seconds": float(sum(a.seconds for a in ans)),
                            "lp_iterations": float(sum(a.iterations for a in ans))})
        rn.note(f"pass {out.iterations}: bound {best:.9g}, master {obj:.9g}" + (f", slack {used:.3g}" if used > FEAS_TOL else ""))
        if recover and out.iterations == 1 and np.any(y0 != 0.0):
            got, _, note = _recover(rn, master.act, mu, weight, cp, bud, keep)
            take(got)
            if got is not None:
                out.history[-1]["recovered"] = got.objective
                rn.note(f"recovered after pass 1: {got.objective:.9g}")
            elif note:
                rn.note(note)
            if closed():
                break
        if used <= FEAS_TOL:
            feasible = (obj, mu)
            out.master_objective = obj
            if obj - best <= tol * scale(obj) or closed():
                break
    if not recover:  # a bound only: the parts' copies of the annual decisions differ
        done = feasible is not None and feasible[0] - best <= tol * scale(feasible[0])
        out.status = Termination.OPTIMAL if done else Termination.FEASIBLE
        return out, best_y, None
    if feasible is not None and not closed():
        got, st, note = _recover(rn, master.act, feasible[1], weight, cp, bud, keep)
        out.message = note or out.message
        take(got)
        if got is None and plan is None:
            out.status = st
            return out, best_y, None
    if plan is None:
        out.message = out.message or "no pass found a plan that meets the annual targets"
        return out, best_y, None
    out.objective, out.targets_met = plan.objective, plan.targets_met
    gap = max(out.objective - best, 0.0) / scale(out.objective)
    out.status = Termination.OPTIMAL if gap <= tol else Termination.FEASIBLE
    return out, best_y, plan.xn


def year_lower_bound(instance: Instance, **options: Any) -> DayDispatch:
    """A lower bound of the full-year model with every decision free: each day decides its
    own copy of the halls, indivisible placements and builds (LP relaxation), the annual
    rows priced as in :func:`dispatch_by_day` (same options, ``keep_plan`` aside). Its
    ``bound`` is valid for the full-year MILP; with a plan's full-year objective (a
    typical-days plan re-evaluated) it certifies that plan's gap. ``objective`` is None;
    ``status`` is ``optimal`` when the passes closed on the relaxation's optimum."""
    options.pop("keep_plan", None)
    return dispatch_by_day(instance, None, **options)
