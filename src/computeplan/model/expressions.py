"""The linear expressions every constraint family is written in (FORMULATION.md sections 4 and 10).

Each is a sparse matrix over the layout's columns with one row per (site, period) or
(pool, period), period-major (row ``t * S + j``): ``A_it`` (site IT kW), ``A_z`` (site
active halls, the same in every period), ``A_p = diag(1 + k[j,t]) A_it + diag(f) A_z``
(site facility kW), ``A_busy`` (busy servers per pool). Annual figures are their
*weighted* sums over periods, per hour of the horizon (``w[t] / H``): :meth:`Expressions.total`
over every row, :meth:`Expressions.per_site` per site, :meth:`Expressions.served` for
delivered TFLOPS. With one period the weight is 1 and they are the plain sums.
The build decisions (FORMULATION.md section 11) add dense rows: ``capex`` (annual
capital cost, currency per year), ``embodied`` (kg CO2e per year of the new servers'
lifetimes) and ``new_servers`` (servers built).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.model.data import ModelData
from computeplan.model.layout import Layout

F64 = NDArray[np.float64]


def flat(a: F64) -> F64:
    """An (entity x period) array in row order of the expressions (period-major)."""
    return np.ascontiguousarray(np.asarray(a).T).ravel()


@dataclass(frozen=True)
class Expressions:
    d: ModelData
    layout: Layout
    A_it: sp.csr_matrix
    A_z: sp.csr_matrix
    A_p: sp.csr_matrix
    A_busy: sp.csr_matrix
    capex: F64
    embodied: F64
    new_servers: F64

    @property
    def it_scale(self) -> float:
        """A size of the fleet's IT power (installed capacity), for scaling rows."""
        return float(self.d.site_cap.sum())

    @property
    def share(self) -> F64:
        """Each period's share of the horizon, ``w[t] / H`` (exactly 1 for one period)."""
        d = self.d
        return np.ones(1) if d.n_periods == 1 else d.per_w / d.horizon

    def served(self, per_tflops: F64) -> F64:
        """A row: ``sum_{c,t} (w[t] / H) per_tflops[i] D[i] x[c,t]`` (zeros outside the x block)."""
        d = self.d
        out = np.zeros(self.layout.n_cols)
        per = per_tflops[d.cand_wl] * d.wl_demand[d.cand_wl]
        out[self.layout["x"]] = per if d.n_periods == 1 else np.outer(self.share, per).ravel()
        return out

    def total(self, A: sp.csr_matrix) -> F64:
        """The weighted sum of an expression's rows over its entities and periods, as one dense row."""
        if self.d.n_periods == 1:
            return np.asarray(A.sum(axis=0)).ravel()
        per = A.shape[0] // self.d.n_periods
        return np.asarray(np.repeat(self.share, per) @ A).ravel()

    def weighted(self, a: F64, A: sp.csr_matrix) -> F64:
        """``total(diag(a) A)`` without forming the product: one dense row."""
        if self.d.n_periods == 1:
            return np.asarray(a @ A).ravel()
        per = A.shape[0] // self.d.n_periods
        return np.asarray((np.repeat(self.share, per) * a) @ A).ravel()

    def per_site_weighted(self, a: F64, A: sp.csr_matrix) -> sp.csr_matrix:
        """``per_site(diag(a) A)`` for a (site, period) expression, built in one pass."""
        S, T = self.d.n_sites, self.d.n_periods
        if T == 1:
            return sp.csr_matrix(sp.diags(a) @ A)
        M = A.tocoo()
        data = M.data * (self.share[M.row // S] * a[M.row])
        return sp.csr_matrix((data, (M.row % S, M.col)), shape=(S, A.shape[1]))

    def per_site(self, A: sp.csr_matrix) -> sp.csr_matrix:
        """Per site (rows ``t * S + j``), the weighted sum over periods: an S-row expression."""
        if self.d.n_periods == 1:
            return A
        S = self.d.n_sites
        return sp.csr_matrix(sp.kron(self.share.reshape(1, -1), sp.identity(S, format="csr")) @ A)


def expressions(d: ModelData, layout: Layout) -> Expressions:
    S, P, K, T, V = d.n_sites, d.n_pools, d.n_cand, d.n_periods, layout.n_cols
    x, n, z = layout.start("x"), layout.start("n"), layout.start("z")
    tt = np.arange(T, dtype=np.int64)[:, None]
    rows = np.concatenate([(tt * S + d.cand_site[None, :]).ravel(), (tt * S + d.pool_site[None, :]).ravel()])
    cols = np.concatenate([x + np.arange(K * T), n + np.arange(P * T)])
    vals = np.concatenate([np.tile(d.cand_it_kw, T), np.tile(d.pool_idle, T)])
    A_it = sp.csr_matrix((vals, (rows, cols)), shape=(S * T, V))
    A_z = sp.csr_matrix((np.ones(S * T), (np.arange(S * T), z + np.tile(np.arange(S), T))), shape=(S * T, V))
    A_p = sp.csr_matrix(sp.diags(1.0 + flat(d.sp_k)) @ A_it + sp.diags(np.tile(d.site_f, T)) @ A_z)
    busy_rows = (tt * P + d.cand_pool[None, :]).ravel()
    A_busy = sp.csr_matrix((np.tile(d.cand_busy, T), (busy_rows, x + np.arange(K * T))), shape=(P * T, V))
    b = d.build
    capex = layout.join(g=b.g_capex, m=b.m_capex, o=b.o_capex)
    embodied = layout.join(m=b.m_embodied)
    new_servers = layout.join(m=np.ones(b.n_m))
    return Expressions(d, layout, A_it, A_z, A_p, A_busy, capex, embodied, new_servers)
