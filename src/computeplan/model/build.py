"""The LP/MILP of FORMULATION.md, built in bulk as scipy.sparse matrices.

Columns follow the :class:`~computeplan.model.layout.Layout` (``[x | n | z]``). The
objective is built per hour of the horizon (facility kW weighted by the site's objective
unit per kWh) and scaled by ``H`` when reported, which keeps coefficients near 1.

The structural families (assignment, cover, capacity) are one function each here; the
target rows come from the registry (:mod:`computeplan.model.targets`), each from the
expressions of :mod:`computeplan.model.expressions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.model.data import ModelData
from computeplan.model.expressions import Expressions, expressions, flat
from computeplan.model.layout import Layout, period_names, plan_layout
from computeplan.model.targets import TargetTerm, shadow_prices, target_rows

F64 = NDArray[np.float64]
INF = np.inf
HOURS_PER_YEAR = 8760.0


@dataclass
class RowFamily:
    """A block of rows of one constraint family."""

    name: str
    start: int
    stop: int
    labels: list[str]


@dataclass
class Model:
    """A built model: ``min c.v + offset`` s.t. ``row_lo <= A v <= row_hi``, bounds, integrality.

    It is a :class:`~computeplan.solvers.LinearProgram`; ``layout`` names its columns,
    ``families`` its rows, ``terms`` the targets' rows and their derivatives.
    """

    data: ModelData
    layout: Layout
    c: F64
    offset: float
    A: sp.csr_matrix
    row_lo: F64
    row_hi: F64
    col_lo: F64
    col_hi: F64
    integer: NDArray[np.bool_]
    families: dict[str, RowFamily]
    ex: Expressions
    scale: float  # objective value = scale * (c.v + offset)
    terms: list[TargetTerm] = field(default_factory=list)

    def row_scale(self) -> F64:
        """The factor each row was multiplied by (target rows are equilibrated; 1 elsewhere):
        a row as FORMULATION.md writes it is this model's row divided by its factor."""
        out = np.ones(self.n_rows)
        for t in self.terms:
            out[t.rows] = t.scale
        return out

    @property
    def A_it(self) -> sp.csr_matrix:
        return self.ex.A_it

    @property
    def A_p(self) -> sp.csr_matrix:
        return self.ex.A_p

    @property
    def n_cols(self) -> int:
        return len(self.c)

    @property
    def n_rows(self) -> int:
        return int(self.A.shape[0])

    def with_integers_fixed(self, v: F64) -> Model:
        """The LP with every integer decision (idle-able halls, indivisible shares) fixed at
        its value in ``v``, rounded: the model behind a MILP's shadow prices and the LP
        polish of a heuristic plan."""
        return self.with_fixed(v, self.integer)

    def with_fixed(self, v: F64, cols: NDArray[np.bool_], zero: NDArray[np.bool_] | None = None) -> Model:
        """An LP: the columns ``cols`` fixed at ``v`` (rounded), the columns ``zero`` held
        at 0, and no integrality left."""
        lo, hi = self.col_lo.copy(), self.col_hi.copy()
        fixed = np.round(v[cols])
        lo[cols] = fixed
        hi[cols] = fixed
        if zero is not None:
            hi[zero] = 0.0
        return replace(self, col_lo=lo, col_hi=hi, integer=np.zeros_like(self.integer))

    def blocks_bounds(self, fixed: Mapping[str, F64]) -> tuple[F64, F64]:
        """Column bounds with each block of ``fixed`` (layout block name -> values) held at
        its values, integer columns rounded."""
        lo, hi = self.col_lo.copy(), self.col_hi.copy()
        for name, vals in fixed.items():
            sl = self.layout[name]
            at = np.where(self.integer[sl], np.round(vals), np.asarray(vals, dtype=float))
            lo[sl] = at
            hi[sl] = at
        return lo, hi

    def with_blocks_fixed(self, fixed: Mapping[str, F64]) -> Model:
        """An LP: the blocks of ``fixed`` held at their values (:meth:`blocks_bounds`), no
        integrality left."""
        lo, hi = self.blocks_bounds(fixed)
        return replace(self, col_lo=lo, col_hi=hi, integer=np.zeros_like(self.integer))

    def col_names(self) -> list[str]:
        return self.layout.col_names()

    def row_names(self) -> list[str]:
        out: list[str] = []
        for fam in sorted(self.families.values(), key=lambda f: f.start):
            out.extend(fam.labels)
        return out

    def target_shadow_prices(self, v: F64, row_dual: F64) -> dict[str, float]:
        """Objective change per unit of each target (``result.json`` label -> value)."""
        return shadow_prices(self.terms, v, row_dual, self.scale)

    def capacity_shadow_prices(self, row_dual: F64) -> F64:
        """Objective change per extra kW of each site's IT capacity row."""
        f = self.families["capacity"]
        per = np.asarray(row_dual[f.start : f.stop]).reshape(self.data.n_periods, self.data.n_sites)
        return per.sum(axis=0) * self.scale

    def split(self, v: F64) -> dict[str, F64]:
        return self.layout.split(v[: self.layout.n_cols])

    def build_limit_prices(self, v: F64, row_dual: F64) -> tuple[F64, F64]:
        """Objective change per one more buildable hall (per ``g`` column) and server (per
        ``m`` column), from the duals of the LP with the integers fixed: the reduced cost of
        the column leaving out the rows that gate it by ``o`` (its limit), where the
        decision stands at its limit; 0 where the limit does not bind."""
        b = self.data.build
        y = np.asarray(row_dual, dtype=float).copy()
        gate = self.families.get("build_open")
        if gate is not None:
            y[gate.start : gate.stop] = 0.0
        reduced = self.c - np.asarray(self.A.T @ y).ravel()
        parts = self.layout.split(reduced)
        at = self.layout.split(v[: self.layout.n_cols])
        out = []
        for name, most in (("g", b.g_max), ("m", b.m_max)):
            binds = at[name] >= most - 1e-7 * np.maximum(1.0, most)
            out.append(np.where(binds, np.minimum(parts[name], 0.0), 0.0) * self.scale)
        return out[0], out[1]


class _Rows:
    """Collects row blocks, then stacks them once."""

    def __init__(self) -> None:
        self.blocks: list[sp.csr_matrix] = []
        self.lo: list[F64] = []
        self.hi: list[F64] = []
        self.families: dict[str, RowFamily] = {}
        self.n = 0

    def add(self, name: str, block: Any, lo: F64, hi: F64, labels: list[str]) -> int:
        block = sp.csr_matrix(block)
        start = self.n
        self.blocks.append(block)
        self.lo.append(np.asarray(lo, dtype=float))
        self.hi.append(np.asarray(hi, dtype=float))
        self.n += block.shape[0]
        self.families[name] = RowFamily(name, start, self.n, labels)
        return start


def define_assignment(ex: Expressions, rows: _Rows) -> None:
    """``sum_c x[i,c,t] = s[i,t]`` (must serve) or ``<= s[i,t]``, for each inflexible
    workload with candidates and each period (with one period, ``s = 1``)."""
    d, L = ex.d, ex.layout
    K, T = d.n_cand, d.n_periods
    has = np.diff(d.wl_ptr) > 0
    wl = np.flatnonzero(has & ~d.wl_flex)
    remap = -np.ones(d.n_workloads, dtype=np.int64)
    remap[wl] = np.arange(len(wl))
    keep = np.flatnonzero(remap[d.cand_wl] >= 0)
    tt = np.arange(T, dtype=np.int64)[:, None]
    r = (tt * len(wl) + remap[d.cand_wl[keep]][None, :]).ravel()
    cols = L.start("x") + (tt * K + keep[None, :]).ravel()
    block = sp.csr_matrix((np.ones(len(r)), (r, cols)), shape=(len(wl) * T, L.n_cols))
    hi = (d.wl_shape[wl].T.ravel()) if T > 1 else np.ones(len(wl))
    lo = np.where(np.tile(d.wl_must[wl], T), hi, 0.0)
    labels = [f"assign[{d.workload_ids[i]}]" for i in wl]
    rows.add("assign", block, lo, hi, period_names(d, labels))
    define_flexible(ex, rows)


def define_flexible(ex: Expressions, rows: _Rows) -> None:
    """Flexible work (several periods): per workload and window, served TFLOPS-hours equal
    demand, ``sum_{t in window} len[t] (sum_c x[i,c,t] - s[i,t]) = 0`` (``<=`` if optional),
    and per period ``sum_c x[i,c,t] <= max_rate``."""
    d, L = ex.d, ex.layout
    K, T = d.n_cand, d.n_periods
    wl = np.flatnonzero((np.diff(d.wl_ptr) > 0) & d.wl_flex)
    if len(wl) == 0:
        return
    win = d.wl_window[wl]  # workloads x periods, window index from 0 per workload
    n_win = win.max(axis=1) + 1
    first = np.concatenate([[0], np.cumsum(n_win)[:-1]])
    remap = -np.ones(d.n_workloads, dtype=np.int64)
    remap[wl] = np.arange(len(wl))
    keep = np.flatnonzero(remap[d.cand_wl] >= 0)
    kw = remap[d.cand_wl[keep]]  # flexible row index of each kept candidate
    tt = np.arange(T, dtype=np.int64)[:, None]
    r = (first[kw][None, :] + win[kw].T).ravel()
    cols = L.start("x") + (tt * K + keep[None, :]).ravel()
    vals = np.repeat(d.per_len, len(keep))
    n_rows = int(n_win.sum())
    block = sp.csr_matrix((vals, (r, cols)), shape=(n_rows, L.n_cols))
    need = np.zeros(n_rows)
    np.add.at(need, (first[:, None] + win).ravel(), (d.wl_shape[wl] * d.per_len[None, :]).ravel())
    lo = np.where(np.repeat(d.wl_must[wl], n_win), need, 0.0)
    labels = [f"window[{d.workload_ids[i]}#{k}]" for i, nw in zip(wl, n_win, strict=True) for k in range(nw)]
    rows.add("window", block, lo, need, labels)
    r2 = (tt * len(wl) + kw[None, :]).ravel()
    rate = sp.csr_matrix((np.ones(len(r2)), (r2, cols)), shape=(len(wl) * T, L.n_cols))
    rows.add("rate", rate, np.zeros(len(wl) * T), np.tile(d.wl_max_rate[wl], T),
             period_names(d, [f"rate[{d.workload_ids[i]}]" for i in wl]))


def define_pick(ex: Expressions, rows: _Rows) -> None:
    """Non-divisible work over several periods runs on one pool for the whole horizon:
    ``sum_c y[c] = 1`` (``<= 1`` if optional) and ``x[c,t] <= cap[c,t] y[c]``."""
    d, L = ex.d, ex.layout
    yc = d.y_cand
    if len(yc) == 0:
        return
    K, T, Y = d.n_cand, d.n_periods, len(yc)
    wl = np.unique(d.cand_wl[yc])
    remap = -np.ones(d.n_workloads, dtype=np.int64)
    remap[wl] = np.arange(len(wl))
    ycols = L.start("y") + np.arange(Y)
    pick = sp.csr_matrix((np.ones(Y), (remap[d.cand_wl[yc]], ycols)), shape=(len(wl), L.n_cols))
    rows.add("pick", pick, np.where(d.wl_must[wl], 1.0, 0.0), np.ones(len(wl)),
             [f"pick[{d.workload_ids[i]}]" for i in wl])
    tt = np.arange(T, dtype=np.int64)[:, None]
    r = np.arange(Y * T)
    xcols = L.start("x") + (tt * K + yc[None, :]).ravel()
    cap = d.x_cap()[:, yc].ravel()
    link = sp.csr_matrix((np.r_[np.ones(Y * T), -cap], (np.r_[r, r], np.r_[xcols, np.tile(ycols, T)])),
                         shape=(Y * T, L.n_cols))
    names = [f"link[{d.workload_ids[d.cand_wl[c]]}@{d.site_ids[d.cand_site[c]]}/"
             f"{d.hardware_ids[d.pool_hw[d.cand_pool[c]]]}]" for c in yc.tolist()]
    rows.add("link", link, np.full(Y * T, -INF), np.zeros(Y * T), period_names(d, names))


def define_cover(ex: Expressions, rows: _Rows) -> None:
    """Servers on cover busy servers: ``sum_c busy_c x_c - umax n_p <= 0`` per pool."""
    d, L = ex.d, ex.layout
    P = d.n_pools * d.n_periods
    n_cols = sp.csr_matrix((-np.tile(d.site_umax[d.pool_site], d.n_periods), (np.arange(P), L.start("n") + np.arange(P))),
                           shape=(P, L.n_cols))
    labels = [f"cover[{d.site_ids[j]}/{d.hardware_ids[h]}]" for j, h in zip(d.pool_site, d.pool_hw, strict=True)]
    rows.add("cover", ex.A_busy + n_cols, np.full(P, -INF), np.zeros(P), period_names(d, labels))


def define_capacity(ex: Expressions, rows: _Rows) -> None:
    """Power and cooling limit: ``IT[j,t] - c[j] z[j] <= 0`` in every period."""
    d = ex.d
    S = d.n_sites * d.n_periods
    block = ex.A_it - sp.diags(np.tile(d.site_hall_kw, d.n_periods)) @ ex.A_z
    rows.add("capacity", block, np.full(S, -INF), np.zeros(S),
             period_names(d, [f"capacity[{s}]" for s in d.site_ids]))


def define_grid(ex: Expressions, rows: _Rows) -> None:
    """Grid connection: ``P[j,t] <= grid_kw[j]`` in every period, for sites that give one."""
    d = ex.d
    capped = np.flatnonzero(np.isfinite(d.site_grid))
    if len(capped) == 0:
        return
    sel = (np.arange(d.n_periods)[:, None] * d.n_sites + capped[None, :]).ravel()
    rows.add("grid", ex.A_p[sel], np.full(len(sel), -INF), np.tile(d.site_grid[capped], d.n_periods),
             period_names(d, [f"grid[{d.site_ids[j]}]" for j in capped]))


def define_build(ex: Expressions, rows: _Rows) -> None:
    """Build decisions (FORMULATION.md section 11), each family built from index arrays:

    - ``build_halls``: ``z[j] - g[j] <= M[j]`` (``= M[j]`` when the site's halls cannot idle);
    - ``build_servers``: ``n[p] - m[p] <= N[p]``;
    - ``build_open``: ``g[j] - halls_max[j] o[j] <= 0`` and ``m[p] - servers_max[p] o[j] <= 0``
      for a site with a fixed ``site_capex``.
    """
    d, L, b = ex.d, ex.layout, ex.d.build
    V = L.n_cols
    if b.n_g:
        k = np.arange(b.n_g)
        block = sp.csr_matrix((np.concatenate([np.ones(b.n_g), -np.ones(b.n_g)]),
                               (np.concatenate([k, k]), np.concatenate([L.start("z") + b.g_site, L.start("g") + k]))),
                              shape=(b.n_g, V))
        M = d.site_halls[b.g_site].astype(float)
        lo = np.where(d.site_can_idle[b.g_site], -INF, M)
        rows.add("build_halls", block, lo, M, [f"build_halls[{d.site_ids[j]}]" for j in b.g_site])
    if b.n_m:  # one row per buildable pool and period: n[p,t] - m[p] <= N[p]
        T = d.n_periods
        nr = b.n_m * T
        k = np.arange(nr)
        m_col = L.start("m") + np.tile(np.arange(b.n_m), T)
        block = sp.csr_matrix((np.concatenate([np.ones(nr), -np.ones(nr)]),
                               (np.concatenate([k, k]),
                                np.concatenate([L.start("n") + _per_period(b.m_pool, d.n_pools, T), m_col]))),
                              shape=(nr, V))
        labels = period_names(d, [f"build_servers[{d.site_ids[d.pool_site[p]]}/{d.hardware_ids[d.pool_hw[p]]}]"
                                  for p in b.m_pool])
        rows.add("build_servers", block, np.full(nr, -INF), np.tile(d.pool_servers[b.m_pool], T), labels)
    gk = np.flatnonzero(b.g_open >= 0)
    mk = np.flatnonzero(b.m_open >= 0)
    if len(gk) + len(mk):
        r = np.arange(len(gk) + len(mk))
        cols = np.concatenate([L.start("g") + gk, L.start("m") + mk])
        o_cols = L.start("o") + np.concatenate([b.g_open[gk], b.m_open[mk]])
        most = np.concatenate([b.g_max[gk], b.m_max[mk]])
        block = sp.csr_matrix((np.concatenate([np.ones(len(r)), -most]), (np.concatenate([r, r]),
                               np.concatenate([cols, o_cols]))), shape=(len(r), V))
        labels = [f"build_open[{d.site_ids[b.g_site[k]]}]" for k in gk] + [
            f"build_open[{d.site_ids[d.pool_site[b.m_pool[k]]]}/{d.hardware_ids[d.pool_hw[b.m_pool[k]]]}]"
            for k in mk]
        rows.add("build_open", block, np.full(len(r), -INF), np.zeros(len(r)), labels)


def _per_period(idx: NDArray[np.int64], size: int, T: int) -> NDArray[np.int64]:
    """Offsets of entities ``idx`` of a per-period block of ``size`` entities, period-major."""
    return (np.arange(T, dtype=np.int64)[:, None] * size + idx[None, :]).ravel()


def build_objective(ex: Expressions) -> F64:
    """The build terms of the objective per hour of the horizon: ``cost`` adds the annual
    capital cost, ``carbon`` the new servers' embodied carbon per year of their lifetime
    (both / 8760 h per year), ``energy`` nothing."""
    if ex.d.objective == "cost":
        return ex.capex / HOURS_PER_YEAR
    if ex.d.objective == "carbon":
        return ex.embodied / HOURS_PER_YEAR
    return np.zeros(ex.layout.n_cols)


def define_targets(ex: Expressions, rows: _Rows) -> list[TargetTerm]:
    """Every target of the instance, from the registry; returns their terms."""
    terms: list[TargetTerm] = []
    for spec, block, spec_terms in target_rows(ex):
        start = rows.add(spec.name, block.block, block.lo, block.hi, block.labels)
        for t in spec_terms:
            t.rows = t.rows + start
            terms.append(t)
    return terms


def build_model(d: ModelData, *, relax: bool = False) -> Model:
    """Build the whole model. ``relax`` drops integrality (the LP relaxation)."""
    L = plan_layout(d)
    ex = expressions(d, L)
    rows = _Rows()
    define_assignment(ex, rows)
    define_pick(ex, rows)
    define_cover(ex, rows)
    define_capacity(ex, rows)
    define_grid(ex, rows)
    define_build(ex, rows)
    terms = define_targets(ex, rows)
    V = L.n_cols
    A = sp.csr_matrix(sp.vstack(rows.blocks, format="csr")) if rows.blocks else sp.csr_matrix((0, V))
    c = ex.weighted(flat(d.sp_obj), ex.A_p) + build_objective(ex)
    xs, zs = L["x"], L["z"]
    # Unserved demand: penalty * D * (s - sum x) per period, for workloads that need not be served.
    optional = np.where(d.wl_must[d.cand_wl], 0.0, d.penalty * d.wl_demand[d.cand_wl])
    c[xs] -= optional if d.n_periods == 1 else np.outer(ex.share, optional).ravel()
    mean_shape = d.wl_shape @ ex.share if d.n_periods > 1 else np.ones(d.n_workloads)
    offset = float(np.sum(np.where(d.wl_must, 0.0, d.penalty * d.wl_demand * mean_shape)))
    col_lo = np.zeros(V)
    b = d.build
    col_hi = L.join(x=d.x_cap().ravel(), n=np.tile(d.pool_servers, d.n_periods), z=d.site_halls.astype(float),
                    y=np.ones(len(d.y_cand)), g=b.g_max, m=b.m_max, o=np.ones(b.n_o))
    # Where a pool or site may grow, its rows n - m <= N and z - g <= M bound n and z; an
    # upper bound on the column too would only be redundant, and could take the dual that
    # prices the build limit (g <= halls_max, m <= servers_max).
    col_hi[L.start("n") + _per_period(b.m_pool, d.n_pools, d.n_periods)] = INF
    col_hi[L.start("z") + b.g_site] = INF
    fixed_halls = ~d.site_can_idle
    col_lo[zs] = np.where(fixed_halls, d.site_halls, 0.0)
    integer = np.zeros(V, dtype=bool)
    if not relax:
        if d.n_periods == 1:
            integer[xs] = ~d.wl_divisible[d.cand_wl]
        integer[L["y"]] = True
        integer[zs] = d.site_can_idle
        integer[L["g"]] = True
        integer[L["o"]] = True
    return Model(
        data=d, layout=L, c=c, offset=offset, A=A,
        row_lo=np.concatenate(rows.lo) if rows.lo else np.zeros(0),
        row_hi=np.concatenate(rows.hi) if rows.hi else np.zeros(0), col_lo=col_lo, col_hi=col_hi,
        integer=integer, families=rows.families, ex=ex, scale=d.horizon, terms=terms,
    )
