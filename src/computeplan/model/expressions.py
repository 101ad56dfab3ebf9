"""The linear expressions every constraint family is written in (FORMULATION.md section 4).

Each is a sparse matrix over the layout's columns: ``A_it`` (site IT kW), ``A_z``
(site active halls), ``A_p = diag(1 + k) A_it + diag(f) A_z`` (site facility kW),
``A_busy`` (busy servers per pool); :meth:`Expressions.served` is a row of delivered
TFLOPS weighted per workload. The build decisions (FORMULATION.md section 11) add dense
rows: ``capex`` (annual capital cost, currency per year), ``embodied`` (kg CO2e per year of
the new servers' lifetimes) and ``new_servers`` (servers built).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.model.data import ModelData
from computeplan.model.layout import Layout

F64 = NDArray[np.float64]


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

    def served(self, per_tflops: F64) -> F64:
        """A row: ``sum_c per_tflops[i] D[i] x_c`` (zeros outside the x block)."""
        d = self.d
        out = np.zeros(self.layout.n_cols)
        out[self.layout["x"]] = per_tflops[d.cand_wl] * d.wl_demand[d.cand_wl]
        return out

    def total(self, A: sp.csr_matrix) -> F64:
        """The sum of an expression's rows, as one dense row."""
        return np.asarray(A.sum(axis=0)).ravel()


def expressions(d: ModelData, layout: Layout) -> Expressions:
    S, P, K, V = d.n_sites, d.n_pools, d.n_cand, layout.n_cols
    x, n, z = layout.start("x"), layout.start("n"), layout.start("z")
    rows = np.concatenate([d.cand_site, d.pool_site])
    cols = np.concatenate([x + np.arange(K), n + np.arange(P)])
    vals = np.concatenate([d.cand_it_kw, d.pool_idle])
    A_it = sp.csr_matrix((vals, (rows, cols)), shape=(S, V))
    A_z = sp.csr_matrix((np.ones(S), (np.arange(S), z + np.arange(S))), shape=(S, V))
    A_p = sp.csr_matrix(sp.diags(1.0 + d.site_k) @ A_it + sp.diags(d.site_f) @ A_z)
    A_busy = sp.csr_matrix((d.cand_busy, (d.cand_pool, x + np.arange(K))), shape=(P, V))
    b = d.build
    capex = layout.join(g=b.g_capex, m=b.m_capex, o=b.o_capex)
    embodied = layout.join(m=b.m_embodied)
    new_servers = layout.join(m=np.ones(b.n_m))
    return Expressions(d, layout, A_it, A_z, A_p, A_busy, capex, embodied, new_servers)
