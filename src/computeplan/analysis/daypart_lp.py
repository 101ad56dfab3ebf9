"""One day's part of the full-year dispatch LP, as a worker holds it (see :mod:`dayparts`).

With the halls, indivisible placements and build decisions fixed, the model over a run of
periods (:func:`computeplan.model.subset.period_subset`, the year's horizon kept) is the
year's model on those periods, except the annual target rows, which couple the parts.
A part's LP is that model without its target rows, plus the part's share of each
coupling row ``G_d v_d`` as a free row (bounded only when a plan is recovered). Pricing
the coupling rows changes the costs only, so each solve starts from a basis that was
optimal a moment ago: the part's own last one, or that of the day before at the same
prices (:func:`solve_chain`). A worker keeps its parts' arrays, not a solver per part.

Columns of the annual blocks (``y``, ``g``, ``m``, ``o``: one figure for the horizon,
the same terms in every part) are fixed; their terms are left out of a part's costs and
coupling rows and counted once by the driver. Halls ``z`` enter every period, so their
terms stay in each part and add up over the parts.

Without fixed decisions (``fixed=None``, a lower bound of the full-year model) each part
has its own copy of every decision, in its LP relaxation; the annual blocks' terms in the
costs and the coupling rows are given to the parts by their energy weight (the weights sum
to 1), so the parts' copies agreeing would be the year's LP relaxation, and letting them
differ relaxes it further.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

from computeplan.model.build import Model, build_model
from computeplan.model.data import ModelData
from computeplan.model.layout import STRATEGIC_BLOCKS
from computeplan.solvers import Program, SolveOptions, Termination
from computeplan.solvers.highs import RelayLP

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]
INF = np.inf

#: Blocks fixed by the caller (the layout's strategic blocks); the annual ones have the
#: same terms in every part.
FIXED_BLOCKS = STRATEGIC_BLOCKS
ANNUAL_BLOCKS = ("y", "g", "m", "o")


@dataclass(frozen=True, eq=False)
class TargetRows:
    """A model's target rows as FORMULATION.md writes them (the builder's equilibration undone)."""

    rows: I64  # row indices in the model
    G: sp.csr_matrix  # over the model's columns
    lo: F64
    hi: F64


def target_rows(m: Model) -> TargetRows:
    """The annual target rows of ``m``, unscaled."""
    if not m.terms:
        return TargetRows(np.zeros(0, dtype=np.int64), sp.csr_matrix((0, m.n_cols)), np.zeros(0), np.zeros(0))
    rows = np.unique(np.concatenate([t.rows for t in m.terms])).astype(np.int64)
    f = m.row_scale()[rows]
    G = sp.csr_matrix(sp.diags(1.0 / f) @ m.A[rows])
    return TargetRows(rows, G, m.row_lo[rows] / f, m.row_hi[rows] / f)


def rows_with_terms(tr: TargetRows, cols: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Which target rows have a term on the columns ``cols`` (a mask of the model's)."""
    return np.asarray(np.diff(sp.csr_matrix(tr.G[:, cols]).indptr) > 0)


def annual_mask(m: Model) -> NDArray[np.bool_]:
    """Columns of the annual blocks."""
    out = np.zeros(m.n_cols, dtype=bool)
    for name in ANNUAL_BLOCKS:
        out[m.layout[name]] = True
    return out


@dataclass(frozen=True, eq=False)
class PartSpec:
    """What a worker needs to build one part: its data, the fixed blocks, which target
    rows couple the parts (``keep``, into :func:`target_rows`) and their scale."""

    data: ModelData
    fixed: dict[str, F64] | None
    keep: I64
    sigma: F64
    weight: float = 1.0  # the part's share of the horizon (its share of the annual terms when free)


@dataclass(eq=False)
class PartLP:
    """A part's LP, ready for :class:`RelayLP`: base costs, coupling rows (scaled by
    ``sigma``), the rows' positions in the LP, the x and n columns, and the basis its last
    solve ended on."""

    lp: Any
    c: F64
    offset: float
    G: sp.csr_matrix
    g_rows: I64
    xn: slice
    basis: Any = None
    own: I64 | None = None  # a part's own copies of the halls and placements (z, y columns), without fixed blocks

    @classmethod
    def build(cls, spec: PartSpec) -> PartLP:
        m = build_model(spec.data, relax=True)
        tr = target_rows(m)
        annual = annual_mask(m)
        share = np.where(annual, 0.0 if spec.fixed is not None else spec.weight, 1.0)
        G = sp.csr_matrix(sp.diags(spec.sigma) @ tr.G[spec.keep] @ sp.diags(share))
        G.eliminate_zeros()
        rest = np.ones(m.n_rows, dtype=bool)
        rest[tr.rows] = False
        R = G.shape[0]
        c = m.c * share
        col_lo, col_hi = m.blocks_bounds(spec.fixed) if spec.fixed is not None else (m.col_lo, m.col_hi)
        prog = Program(c=c, offset=m.offset, A=sp.csr_matrix(sp.vstack([m.A[rest], G], format="csr")),
                       row_lo=np.concatenate([m.row_lo[rest], np.full(R, -INF)]),
                       row_hi=np.concatenate([m.row_hi[rest], np.full(R, INF)]),
                       col_lo=col_lo, col_hi=col_hi, integer=np.zeros(m.n_cols, dtype=bool))
        L = m.layout
        xn = slice(L.start("x"), L["n"].stop)
        own = None if spec.fixed is not None else np.r_[np.arange(L["z"].start, L["z"].stop),
                                                         np.arange(L["y"].start, L["y"].stop)].astype(np.int64)
        return cls(RelayLP.load(prog), c, m.offset, G, int(rest.sum()) + np.arange(R, dtype=np.int64), xn, own=own)


@dataclass
class PartAnswer:
    """One part's solve: its objective share (per hour of the horizon, offset included),
    its coupling rows' activity, and its x and n columns when asked for."""

    status: Termination
    value: float = 0.0
    act: F64 = field(default_factory=lambda: np.zeros(0))
    xn: F64 | None = None
    seconds: float = 0.0
    iterations: float = 0.0
    message: str = ""
    own: F64 | None = None  # the part's copies of the halls and placements (z then y), without fixed blocks


#: One part's solve: part index, prices (or None), row bounds (or None), keep its columns.
Call = tuple[int, F64 | None, tuple[F64, F64] | None, bool]

#: Parts loaded in this process, by (run, part). A worker keeps its parts between passes.
_LOADED: dict[tuple[str, int], PartLP] = {}
#: The one HiGHS object of this process that solves its parts in turn.
_RELAY: list[RelayLP] = []


def _relay() -> RelayLP:
    if not _RELAY:
        _RELAY.append(RelayLP(SolveOptions()))
    return _RELAY[0]


def solve_chain(run: str, calls: Sequence[Call], specs: Mapping[int, PartSpec], time_limit: float | None,
                follow: bool = True) -> list[PartAnswer]:
    """Solve the ``calls`` in order, each part at the coupling prices ``y`` (costs
    ``c - G^T y``), or, with row bounds, at its base costs with its coupling rows bounded
    (a plan's recovery). ``specs`` load the parts not loaded here yet.

    The first part starts from the basis its own last solve ended on; with ``follow`` each
    next one starts from the basis the part before it just ended on (consecutive days
    differ little, and they are solved at the same prices), else from its own."""
    out: list[PartAnswer] = []
    prev: Any = None
    for k, (p, y, bounds, keep) in enumerate(calls):
        st = _LOADED.get((run, p))
        if st is None:
            if p not in specs:
                raise LookupError(f"part {p} of run {run} is not loaded here")
            st = _LOADED[(run, p)] = PartLP.build(specs[p])
        R = len(st.g_rows)
        cost = st.c if y is None or R == 0 else st.c - np.asarray(st.G.T @ y).ravel()
        lo, hi = bounds if bounds is not None else (np.full(R, -INF), np.full(R, INF))
        start = prev if follow and k > 0 and prev is not None else st.basis
        res, basis = _relay().solve(st.lp, start, cost, st.g_rows, lo, hi, time_limit)
        st.basis = prev = basis if basis is not None else st.basis
        if res.status != Termination.OPTIMAL or res.v is None:
            out.append(PartAnswer(res.status, seconds=res.seconds, message=res.message))
            continue
        v = res.v
        out.append(PartAnswer(Termination.OPTIMAL, float(st.c @ v) + st.offset, np.asarray(st.G @ v).ravel(),
                              v[st.xn].copy() if keep else None, res.seconds, res.info.get("iterations", 0.0),
                              own=None if st.own is None else v[st.own].copy()))
    return out


def forget(run: str) -> int:
    """Drop the parts of ``run`` loaded in this process; how many there were."""
    keys = [k for k in _LOADED if k[0] == run]
    for k in keys:
        del _LOADED[k]
    return len(keys)
