"""The full-year dispatch decomposed by day (analysis/dayparts.py), against the one LP over
every period solved directly with the same decisions fixed."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import computeplan
from computeplan.analysis.daypart_lp import FIXED_BLOCKS, annual_mask, target_rows
from computeplan.analysis.dayparts import day_parts, dispatch_by_day, year_lower_bound
from computeplan.analysis.parallel import dask_client
from computeplan.errors import UsageError
from computeplan.io.generate import generate_instance
from computeplan.model.build import build_model
from computeplan.model.data import build_data
from computeplan.model.subset import period_subset
from computeplan.solvers import SolveOptions, Termination
from computeplan.solvers.highs import solve_highs

HOURS = 72  # three days


def _instance(targets: dict[str, float] | None, **kw: object) -> computeplan.Instance:
    raw = generate_instance(16, 5, seed=1, hours=HOURS, **kw)  # type: ignore[arg-type]
    if targets is not None:
        raw["targets"] = targets
    return computeplan.load_instance(raw)


def _monolithic(inst: computeplan.Instance) -> tuple[float, dict[str, np.ndarray], object]:
    """The MILP over every period; then its LP with the annual blocks fixed (the optimum
    the decomposition must reach), and those blocks."""
    m = build_model(build_data(inst))
    full = solve_highs(m)
    assert full.status == Termination.OPTIMAL and full.v is not None
    fixed = {k: v.copy() for k, v in m.split(full.v).items() if k in FIXED_BLOCKS and len(v)}
    cols = np.zeros(m.n_cols, dtype=bool)
    for k in fixed:
        cols[m.layout[k]] = True
    lp = solve_highs(m.with_fixed(full.v, cols))
    assert lp.status == Termination.OPTIMAL and lp.objective is not None
    return lp.objective * m.scale, fixed, m


@pytest.fixture(scope="module")
def binding():
    """A fleet PUE cap that binds: the optimum with it is dearer than without."""
    inst = _instance({"fleet_pue_max": 1.2})
    free, _, _ = _monolithic(_instance(None))
    opt, fixed, m = _monolithic(inst)
    assert opt > free * 1.05
    return inst, opt, fixed, m


def test_parts_add_up_to_the_year_model(binding):
    """The premise: each target row and the objective of the year are the sums of the day
    models' (the year's horizon kept), with the annual blocks' terms counted once."""
    inst, _, _, m = binding
    d = build_data(inst)
    year = target_rows(m)
    K, P, T = d.n_cand, d.n_pools, d.n_periods
    G = sp.lil_matrix(year.G.shape)
    c = np.zeros(m.n_cols)
    offset = 0.0
    for part in day_parts(inst, d):
        pm = build_model(period_subset(d, part), relax=True)
        tr = target_rows(pm)
        L, Ly = pm.layout, m.layout
        cols = np.r_[Ly.start("x") + (part[:, None] * K + np.arange(K)).ravel(),
                     Ly.start("n") + (part[:, None] * P + np.arange(P)).ravel()]
        keep = np.r_[np.arange(L["x"].start, L["x"].stop), np.arange(L["n"].start, L["n"].stop)]
        G[:, cols] = tr.G[:, keep]
        c[cols] = pm.c[keep]
        z = Ly["z"]
        G[:, z] = G[:, z] + tr.G[:, L["z"]]
        c[z] += pm.c[L["z"]]
        offset += pm.offset
        annual = annual_mask(pm)
        np.testing.assert_allclose(tr.lo, year.lo)
        np.testing.assert_allclose(tr.hi, year.hi)
        G[:, annual_mask(m)] = tr.G[:, annual]
    assert T == HOURS and len(day_parts(inst, d)) == 3
    np.testing.assert_allclose(G.toarray(), year.G.toarray(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(c[~annual_mask(m)], m.c[~annual_mask(m)], rtol=1e-10, atol=1e-15)
    assert offset == pytest.approx(m.offset, rel=1e-12)


def test_bounds_bracket_the_monolithic_optimum_and_meet(binding):
    inst, opt, fixed, m = binding
    out = dispatch_by_day(inst, fixed, workers=0, iterations=30, tol=1e-6, keep_plan=True, progress=False)
    assert out.status == Termination.OPTIMAL, out.message
    assert out.parts == 3 and out.coupling_rows == 1
    assert out.bound <= opt * (1 + 1e-8)
    assert out.objective >= opt * (1 - 1e-8)
    assert out.gap <= 1e-4
    assert out.targets_met
    assert out.prices["fleet_pue_max"] > 0  # the cap binds
    # the recovered plan, read as a full-year plan: within every row of the year model, and
    # its objective is the reported upper bound
    v = out.plan
    assert v is not None and len(v) == m.n_cols
    act = m.A @ v
    tol = 1e-6 * np.maximum(1.0, np.abs(act))
    assert np.all(act >= m.row_lo - tol) and np.all(act <= m.row_hi + tol)
    assert np.all(v >= m.col_lo - 1e-7) and np.all(v <= m.col_hi + 1e-7)
    assert m.scale * (m.c @ v + m.offset) == pytest.approx(out.objective, rel=1e-9)


def test_two_coupling_rows_and_the_iteration_limit():
    """Two annual rows; one pass leaves a gap the next passes close; the bound never falls."""
    inst = _instance({"fleet_pue_max": 1.25, "renewable_share_min": 0.1604})
    opt, fixed, _ = _monolithic(inst)
    one = dispatch_by_day(inst, fixed, workers=0, iterations=1, progress=False)
    assert one.iterations == 1 and one.bound <= opt * (1 + 1e-8)
    out = dispatch_by_day(inst, fixed, workers=0, iterations=40, progress=False)
    assert out.coupling_rows == 2
    assert out.bound <= opt * (1 + 1e-8) <= out.objective * (1 + 2e-8)
    assert out.gap <= 1e-4
    assert out.bound >= one.bound
    bounds = [h["bound"] for h in out.history]
    assert bounds == sorted(bounds)


def test_without_coupling_rows_the_days_are_the_optimum():
    inst = _instance(None)
    opt, fixed, _ = _monolithic(inst)
    out = dispatch_by_day(inst, fixed, workers=0, progress=False)
    assert out.coupling_rows == 0 and out.iterations == 1
    assert out.objective == pytest.approx(opt, rel=1e-9)
    assert out.bound == out.objective and out.gap == 0.0


def test_one_and_two_dask_workers_agree(binding):
    inst, opt, fixed, _ = binding
    runs = []
    for n in (1, 2):
        with dask_client(workers=n) as c:
            runs.append(dispatch_by_day(inst, fixed, client=c, iterations=30, progress=False))
    a, b = runs
    assert (a.workers, b.workers) == (1, 2)
    assert a.iterations == b.iterations
    assert a.objective == pytest.approx(b.objective, rel=1e-12)
    assert a.bound == pytest.approx(b.bound, rel=1e-12)
    assert a.bound <= opt * (1 + 1e-8) <= a.objective * (1 + 2e-8)


def test_windows_longer_than_a_day_are_refused():
    raw = generate_instance(16, 5, seed=1, hours=HOURS)
    raw["workloads"] = [{**w, "flex_window_hours": 48} if w.get("flex_window_hours") else w for w in raw["workloads"]]
    assert any(w.get("flex_window_hours") == 48 for w in raw["workloads"])
    inst = computeplan.load_instance(raw)
    with pytest.raises(UsageError, match="span more than one day"):
        dispatch_by_day(inst, {"z": np.zeros(5)}, workers=0, progress=False)


def test_fixed_blocks_are_checked(binding):
    inst, _, fixed, _ = binding
    with pytest.raises(UsageError, match=r"block 'z'.*missing"):
        dispatch_by_day(inst, {k: v for k, v in fixed.items() if k != "z"}, workers=0, progress=False)
    with pytest.raises(UsageError, match="block 'z': expected 5 finite values"):
        dispatch_by_day(inst, {**fixed, "z": np.zeros(4)}, workers=0, progress=False)
    with pytest.raises(UsageError, match="expected blocks among"):
        dispatch_by_day(inst, {**fixed, "x": np.zeros(4)}, workers=0, progress=False)


def test_free_decisions_bound_the_year_milp_from_below(binding):
    """Every decision free, each day its own copy: a lower bound of the year's MILP, no
    better than the year's LP relaxation, nor than the dispatch with the MILP's decisions."""
    inst, opt, fixed, m = binding
    relaxed = solve_highs(m, SolveOptions(relax=True))
    assert relaxed.objective is not None
    lp = relaxed.objective * m.scale
    out = year_lower_bound(inst, workers=0, iterations=40, progress=False)
    assert out.objective is None and out.plan is None
    assert out.bound <= lp * (1 + 1e-8) <= opt * (1 + 1e-8)
    assert out.bound >= lp * (1 - 1e-6)  # on this fleet the days' copies agree at the optimum
    fixed_out = dispatch_by_day(inst, fixed, workers=0, iterations=30, progress=False)
    assert out.bound <= fixed_out.bound * (1 + 1e-8)


def test_free_decisions_without_integers_give_the_year_lp():
    """Halls that cannot idle and divisible work: the days' copies cannot differ, so the
    bound is the year's LP optimum itself."""
    inst = _instance({"fleet_pue_max": 1.25}, idle_share=0.0, indivisible_share=0.0)
    d = build_data(inst)
    assert not d.has_integers
    m = build_model(d)
    lp = solve_highs(m)
    assert lp.objective is not None
    out = year_lower_bound(inst, workers=0, iterations=40, tol=1e-8, progress=False)
    assert out.status == Termination.OPTIMAL
    assert out.bound == pytest.approx(lp.objective * m.scale, rel=1e-6)
