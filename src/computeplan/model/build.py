"""The LP/MILP of FORMULATION.md, built in bulk as scipy.sparse matrices.

Columns are ``[x (K candidates) | n (P pools) | z (S sites)]``. The objective is built
per hour of the horizon (facility kW weighted by the site's objective unit per kWh) and
scaled by ``H`` when reported, which keeps coefficients near 1.

Two expression matrices do most of the work: ``A_it`` (S x V, each site's IT kW) and
``A_z`` (S x V, each site's active halls). Facility power is
``A_p = diag(1 + k) A_it + diag(f) A_z`` and every target is a row (or rows) built from
them, one function per constraint family.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.model.data import ModelData

F64 = NDArray[np.float64]
INF = np.inf


@dataclass
class RowFamily:
    """A block of rows of one constraint family."""

    name: str
    start: int
    stop: int
    labels: list[str]


@dataclass
class Model:
    """A built model: ``min c.v + offset`` s.t. ``row_lo <= A v <= row_hi``, bounds, integrality."""

    data: ModelData
    c: F64
    offset: float
    A: sp.csr_matrix
    row_lo: F64
    row_hi: F64
    col_lo: F64
    col_hi: F64
    integer: NDArray[np.bool_]
    families: dict[str, RowFamily]
    A_it: sp.csr_matrix
    A_p: sp.csr_matrix
    scale: float  # objective value = scale * (c.v + offset)

    @property
    def n_cols(self) -> int:
        return len(self.c)

    @property
    def n_rows(self) -> int:
        return self.A.shape[0]

    def with_integers_fixed(self, v: F64) -> Model:
        """The LP with every integer decision (idle-able halls, indivisible shares) fixed at
        its value in ``v``, rounded: the model behind a MILP's shadow prices and the LP
        polish of a heuristic plan."""
        lo, hi = self.col_lo.copy(), self.col_hi.copy()
        fixed = np.round(v[self.integer])
        lo[self.integer] = fixed
        hi[self.integer] = fixed
        return replace(self, col_lo=lo, col_hi=hi, integer=np.zeros_like(self.integer))

    def col_slices(self) -> tuple[slice, slice, slice]:
        d = self.data
        K, P, S = d.n_cand, d.n_pools, d.n_sites
        return slice(0, K), slice(K, K + P), slice(K + P, K + P + S)

    def col_names(self) -> list[str]:
        d = self.data
        names = [
            f"x[{d.workload_ids[i]}@{d.site_ids[d.pool_site[p]]}/{d.hardware_ids[d.pool_hw[p]]}]"
            for i, p in zip(d.cand_wl.tolist(), d.cand_pool.tolist(), strict=True)
        ]
        names += [f"n[{d.site_ids[j]}/{d.hardware_ids[h]}]" for j, h in zip(d.pool_site, d.pool_hw, strict=True)]
        names += [f"z[{s}]" for s in d.site_ids]
        return names

    def row_names(self) -> list[str]:
        out: list[str] = []
        for fam in sorted(self.families.values(), key=lambda f: f.start):
            out.extend(fam.labels)
        return out


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


def expression_matrices(d: ModelData) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``A_it`` (site IT kW) and ``A_z`` (site active halls), both S x V."""
    K, P, S = d.n_cand, d.n_pools, d.n_sites
    V = K + P + S
    rows = np.concatenate([d.cand_site, d.pool_site, np.arange(S)])
    cols = np.arange(V)
    vals = np.concatenate([d.cand_it_kw, d.pool_idle, np.zeros(S)])
    A_it = sp.csr_matrix((vals, (rows, cols)), shape=(S, V))
    A_z = sp.csr_matrix((np.ones(S), (np.arange(S), np.arange(K + P, V))), shape=(S, V))
    return A_it, A_z


def define_assignment(d: ModelData, rows: _Rows) -> None:
    """``sum_c x[i,c] = 1`` (must serve) or ``<= 1``, for each workload with candidates."""
    has = np.diff(d.wl_ptr) > 0
    wl = np.flatnonzero(has)
    remap = -np.ones(d.n_workloads, dtype=np.int64)
    remap[wl] = np.arange(len(wl))
    V = d.n_cand + d.n_pools + d.n_sites
    block = sp.csr_matrix((np.ones(d.n_cand), (remap[d.cand_wl], np.arange(d.n_cand))), shape=(len(wl), V))
    lo = np.where(d.wl_must[wl], 1.0, 0.0)
    rows.add("assign", block, lo, np.ones(len(wl)), [f"assign[{d.workload_ids[i]}]" for i in wl])


def define_cover(d: ModelData, rows: _Rows) -> None:
    """Servers on cover busy servers: ``sum_c busy_c x_c - umax n_p <= 0`` per pool."""
    K, P, S = d.n_cand, d.n_pools, d.n_sites
    r = np.concatenate([d.cand_pool, np.arange(P)])
    c = np.concatenate([np.arange(K), K + np.arange(P)])
    v = np.concatenate([d.cand_busy, -d.site_umax[d.pool_site]])
    block = sp.csr_matrix((v, (r, c)), shape=(P, K + P + S))
    labels = [f"cover[{d.site_ids[j]}/{d.hardware_ids[h]}]" for j, h in zip(d.pool_site, d.pool_hw, strict=True)]
    rows.add("cover", block, np.full(P, -INF), np.zeros(P), labels)


def define_capacity(d: ModelData, rows: _Rows, A_it: sp.csr_matrix, A_z: sp.csr_matrix) -> None:
    """Power and cooling limit: ``IT[j] - c[j] z[j] <= 0``."""
    block = A_it - sp.diags(d.site_hall_kw) @ A_z
    S = d.n_sites
    rows.add("capacity", block, np.full(S, -INF), np.zeros(S), [f"capacity[{s}]" for s in d.site_ids])


def define_site_pue(d: ModelData, rows: _Rows, A_it: sp.csr_matrix, A_z: sp.csr_matrix) -> None:
    """``f z + (k - (T_j - 1)) IT <= 0`` for every site with a PUE cap."""
    capped = np.flatnonzero(np.isfinite(d.site_pue_cap))
    if capped.size == 0:
        return
    coef_it = d.site_k - (np.nan_to_num(d.site_pue_cap, nan=1.0) - 1.0)
    full = sp.diags(coef_it) @ A_it + sp.diags(d.site_f) @ A_z
    block = full[capped]
    rows.add("site_pue_max", block, np.full(len(capped), -INF), np.zeros(len(capped)),
             [f"site_pue_max[{d.site_ids[j]}]" for j in capped])


def define_fleet_pue(d: ModelData, rows: _Rows, T: float, A_it: sp.csr_matrix, A_z: sp.csr_matrix) -> None:
    """``sum_j (f z + k IT) - (T - 1) sum_j IT <= 0``."""
    row = (d.site_k - (T - 1.0)) @ A_it + d.site_f @ A_z
    rows.add("fleet_pue_max", sp.csr_matrix(row), np.array([-INF]), np.array([0.0]), ["fleet_pue_max"])


def served_row(d: ModelData, per_tflops: F64) -> F64:
    """A row over all columns: ``sum_c per_tflops[i] D[i] x_c`` (zeros on n and z)."""
    V = d.n_cand + d.n_pools + d.n_sites
    out = np.zeros(V)
    out[: d.n_cand] = per_tflops[d.cand_wl] * d.wl_demand[d.cand_wl]
    return out


def define_ece(d: ModelData, rows: _Rows, T: float, A_p: sp.csr_matrix) -> None:
    """``sum_i w[p_i] D_i served_i - T sum_j P_j >= 0`` (TFLOPS per facility kW)."""
    row = served_row(d, d.wl_weight) - T * np.asarray(A_p.sum(axis=0)).ravel()
    rows.add("ece_min", sp.csr_matrix(row), np.array([0.0]), np.array([INF]), ["ece_min"])


def define_renewable(d: ModelData, rows: _Rows, T: float, A_p: sp.csr_matrix) -> None:
    """``sum_j (renewable_j - T) P_j >= 0`` (the horizon cancels)."""
    row = (d.site_renew - T) @ A_p
    rows.add("renewable_share_min", sp.csr_matrix(row), np.array([0.0]), np.array([INF]), ["renewable_share_min"])


def define_carbon(d: ModelData, rows: _Rows, T: float, A_p: sp.csr_matrix) -> None:
    """``H sum_j carbon_j (1 - renewable_j) P_j / 1000 <= T`` (tonnes)."""
    row = (d.horizon * d.site_carbon * (1.0 - d.site_renew) / 1000.0) @ A_p
    rows.add("carbon_max", sp.csr_matrix(row), np.array([-INF]), np.array([T]), ["carbon_max"])


def define_output(d: ModelData, rows: _Rows, T: float, A_p: sp.csr_matrix) -> None:
    """``sum_i value_i D_i served_i - T sum_j P_j >= 0`` (per hour; the horizon cancels)."""
    row = served_row(d, d.wl_value) - T * np.asarray(A_p.sum(axis=0)).ravel()
    rows.add("output_per_kwh_min", sp.csr_matrix(row), np.array([0.0]), np.array([INF]), ["output_per_kwh_min"])


def build_model(d: ModelData, *, relax: bool = False) -> Model:
    """Build the whole model. ``relax`` drops integrality (the LP relaxation)."""
    K, P, S = d.n_cand, d.n_pools, d.n_sites
    A_it, A_z = expression_matrices(d)
    A_p = sp.csr_matrix(sp.diags(1.0 + d.site_k) @ A_it + sp.diags(d.site_f) @ A_z)
    rows = _Rows()
    define_assignment(d, rows)
    define_cover(d, rows)
    define_capacity(d, rows, A_it, A_z)
    define_site_pue(d, rows, A_it, A_z)
    t = d.targets
    if "fleet_pue_max" in t:
        define_fleet_pue(d, rows, float(t["fleet_pue_max"]), A_it, A_z)  # type: ignore[arg-type]
    if "ece_min" in t:
        define_ece(d, rows, float(t["ece_min"]), A_p)  # type: ignore[arg-type]
    if "renewable_share_min" in t:
        define_renewable(d, rows, float(t["renewable_share_min"]), A_p)  # type: ignore[arg-type]
    if "carbon_max" in t:
        define_carbon(d, rows, float(t["carbon_max"]), A_p)  # type: ignore[arg-type]
    if "output_per_kwh_min" in t:
        define_output(d, rows, float(t["output_per_kwh_min"]), A_p)  # type: ignore[arg-type]
    V = K + P + S
    A = sp.csr_matrix(sp.vstack(rows.blocks, format="csr")) if rows.blocks else sp.csr_matrix((0, V))
    c = np.asarray(d.site_obj @ A_p).ravel()
    # Unserved demand: penalty * D * (1 - sum x) for workloads that need not be served.
    c[:K] -= np.where(d.wl_must[d.cand_wl], 0.0, d.penalty * d.wl_demand[d.cand_wl])
    offset = float(np.sum(np.where(d.wl_must, 0.0, d.penalty * d.wl_demand)))
    col_lo = np.zeros(V)
    col_hi = np.concatenate([np.ones(K), d.pool_servers, d.site_halls.astype(float)])
    fixed_halls = ~d.site_can_idle
    col_lo[K + P :][fixed_halls] = d.site_halls[fixed_halls]
    integer = np.zeros(V, dtype=bool)
    if not relax:
        integer[:K] = ~d.wl_divisible[d.cand_wl]
        integer[K + P :] = d.site_can_idle
    return Model(
        data=d, c=c, offset=offset, A=A, row_lo=np.concatenate(rows.lo) if rows.lo else np.zeros(0),
        row_hi=np.concatenate(rows.hi) if rows.hi else np.zeros(0), col_lo=col_lo, col_hi=col_hi,
        integer=integer, families=rows.families, A_it=A_it, A_p=A_p, scale=d.horizon,
    )


def target_shadow_prices(m: Model, v: F64, row_dual: F64) -> dict[str, float]:
    """Objective change per unit of each target, from the duals of its rows.

    A target row ``a(T) . v <= u(T)`` (or ``>=``) moved by dT is, to first order, the row
    with its bound moved by ``du/dT - (da/dT . v*)``; the objective moves by the row's
    dual times that. Per-hour duals are scaled by H to the objective's unit.
    """
    d = m.data
    it = np.asarray(m.A_it @ v).ravel()
    p = np.asarray(m.A_p @ v).ravel()
    out: dict[str, float] = {}
    fam = m.families
    if "fleet_pue_max" in fam:
        out["fleet_pue_max"] = float(row_dual[fam["fleet_pue_max"].start] * it.sum())
    if "site_pue_max" in fam:
        f = fam["site_pue_max"]
        capped = np.flatnonzero(np.isfinite(d.site_pue_cap))
        y = row_dual[f.start : f.stop]
        spec: dict[str, float] = d.targets.get("site_pue_max") or {}
        for key in spec:
            total = 0.0
            for r, j in enumerate(capped):
                sid, tier = d.site_ids[j], d.site_tier[j]
                owner = sid if sid in spec else tier
                if owner == key:
                    total += float(y[r] * it[j])
            out[f"site_pue_max.{key}"] = total
    for name in ("ece_min", "renewable_share_min", "output_per_kwh_min"):
        if name in fam:
            out[name] = float(row_dual[fam[name].start] * p.sum())
    if "carbon_max" in fam:
        out["carbon_max"] = float(row_dual[fam["carbon_max"].start])
    return {k: val * m.scale for k, val in out.items()}


def capacity_shadow_prices(m: Model, row_dual: F64) -> F64:
    """Objective change per extra kW of each site's IT capacity row."""
    f = m.families["capacity"]
    return np.asarray(row_dual[f.start : f.stop]) * m.scale
