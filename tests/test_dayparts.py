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


def _year_lp_price(m, fixed: dict[str, np.ndarray], label: str) -> float:
    """The year LP's (decisions fixed) multiplier of one target row, in objective units per
    unit of the row as FORMULATION.md writes it: the independent route to a price."""
    lp = solve_highs(m.with_blocks_fixed(fixed))
    assert lp.status == Termination.OPTIMAL and lp.row_dual is not None
    r = m.row_names().index(label)
    return abs(lp.row_dual[r] * m.row_scale()[r]) * m.scale


def test_typical_prices_of_every_day_are_the_year_lps_and_close_in_one_pass(binding):
    """With as many typical days as days the typical LP is the year's: its prices are the
    year LP's duals, and one pass at them, with the plan recovered from the days' shares,
    brackets the optimum with no gap left."""
    from computeplan.analysis.fullyear import typical_prices

    inst, opt, fixed, m = binding
    prices = typical_prices(inst, fixed, days=3)
    assert set(prices) == {"fleet_pue_max"}
    assert prices["fleet_pue_max"] == pytest.approx(_year_lp_price(m, fixed, "fleet_pue_max"), rel=1e-6)
    out = dispatch_by_day(inst, fixed, workers=0, iterations=1, tol=1e-6, keep_plan=True, prices=prices,
                          progress=False)
    assert out.iterations == 1 and out.status == Termination.OPTIMAL, out.message
    assert out.bound <= opt * (1 + 1e-8) <= out.objective * (1 + 2e-8)
    assert out.gap <= 1e-6 and out.targets_met
    assert out.history[0]["recovered"] == pytest.approx(out.objective / build_data(inst).horizon, rel=1e-9)
    act = m.A @ out.plan  # the plan recovered after one pass holds every row of the year model
    tol = 1e-6 * np.maximum(1.0, np.abs(act))
    assert np.all(act >= m.row_lo - tol) and np.all(act <= m.row_hi + tol)


@pytest.mark.parametrize("factor", [0.2, 10.0])
def test_wrong_first_prices_still_bound_and_the_passes_close(binding, factor):
    """Any first prices give a valid bound (a Lagrangian one); the passes then close."""
    inst, opt, fixed, _ = binding
    one = dispatch_by_day(inst, fixed, workers=0, iterations=1, progress=False,
                          prices={"fleet_pue_max": factor * 1000.0})
    assert one.bound <= opt * (1 + 1e-8)
    if one.objective is not None:  # a plan recovered after the first pass is a plan: not below the optimum
        assert one.objective >= opt * (1 - 1e-8) and one.targets_met
    out = dispatch_by_day(inst, fixed, workers=0, iterations=30, tol=1e-6, progress=False,
                          prices={"fleet_pue_max": factor * 1000.0})
    assert out.bound <= opt * (1 + 1e-8) <= out.objective * (1 + 2e-8)
    assert out.gap <= 1e-6 and out.bound >= one.bound


def test_first_prices_must_name_annual_rows(binding):
    inst, _, fixed, _ = binding
    with pytest.raises(UsageError, match="no annual row 'fleet_pue'"):
        dispatch_by_day(inst, fixed, workers=0, progress=False, prices={"fleet_pue": 1.0})


def test_each_day_from_the_day_befores_basis_or_its_own_the_same_optimum(binding):
    inst, opt, fixed, _ = binding
    runs = [dispatch_by_day(inst, fixed, workers=0, iterations=30, tol=1e-6, progress=False, follow=f)
            for f in (True, False)]
    for out in runs:
        assert out.bound <= opt * (1 + 1e-8) <= out.objective * (1 + 2e-8)
    assert runs[0].objective == pytest.approx(runs[1].objective, rel=1e-5)
    assert all(h["lp_iterations"] >= 0 for h in runs[0].history)


def test_a_shortfall_is_spread_so_the_shares_meet_the_row():
    """The master's combination misses a ``>=`` row by 3: each day's lower bound rises by
    its weight's part of it, so the days' bounds add up to the row's."""
    from computeplan.analysis.dayparts import Coupling, _shares

    cp = Coupling(np.array([0]), np.ones(1), np.array([10.0]), np.array([np.inf]), ["row"], 0.0)
    hi, lo = _shares([np.array([[3.0], [4.0]])], np.array([[1.0, 1.0]]), np.array([0.25, 0.75]), cp)
    np.testing.assert_allclose(lo.ravel(), [3.75, 6.25])
    assert lo.sum() == pytest.approx(10.0) and np.all(np.isinf(hi))
    # a combination with room to spare: the room is spread likewise, the bounds loosen
    hi, lo = _shares([np.array([[6.0], [8.0]])], np.array([[1.0, 1.0]]), np.array([0.5, 0.5]), cp)
    np.testing.assert_allclose(lo.ravel(), [4.0, 6.0])


def test_relay_lp_solves_lps_in_turn_from_a_basis():
    """One HiGHS object, two LPs of one shape: each optimum as worked by hand; an LP
    started from its own optimal basis needs no iteration; a basis of another shape is
    ignored."""
    from computeplan.solvers import Program
    from computeplan.solvers.highs import RelayLP

    def lp(c: list[float], lo: float, hi: float, n: int = 2) -> Program:
        return Program(c=np.array(c), offset=0.0, A=sp.csr_matrix(np.ones((1, n))), row_lo=np.array([lo]),
                       row_hi=np.array([hi]), col_lo=np.zeros(n), col_hi=np.full(n, 3.0),
                       integer=np.zeros(n, dtype=bool))

    relay = RelayLP()
    a, b = RelayLP.load(lp([-1.0, -2.0], -np.inf, 4.0)), RelayLP.load(lp([1.0, 2.0], 2.0, np.inf))
    out_a, basis_a = relay.solve(a)
    assert out_a.objective == pytest.approx(-7.0)  # y = 3, x = 1
    out_b, basis_b = relay.solve(b, basis_a)
    assert out_b.objective == pytest.approx(2.0)  # x = 2
    again, _ = relay.solve(a, basis_a)
    assert again.objective == pytest.approx(-7.0) and again.info["iterations"] == 0
    priced, _ = relay.solve(a, basis_a, c=np.array([-2.0, -1.0]))  # new costs: x = 3, y = 1
    assert priced.objective == pytest.approx(-7.0) and priced.v is not None
    np.testing.assert_allclose(priced.v, [3.0, 1.0])
    bounded, _ = relay.solve(b, basis_b, rows=np.array([0]), row_lo=np.array([5.0]), row_hi=np.array([np.inf]))
    assert bounded.objective == pytest.approx(3.0 + 2.0 * 2.0)  # x = 3, y = 2
    other = RelayLP.load(lp([1.0, 1.0, 1.0], 1.0, np.inf, n=3))
    out_o, _ = relay.solve(other, basis_a)  # a basis of 2 columns: ignored, solved from scratch
    assert out_o.objective == pytest.approx(1.0)


def test_a_day_with_no_dispatch_of_its_own_is_not_dispatched_again_without_the_targets(binding, monkeypatch):
    """The year without its targets (asked for to name the targets a plan misses) cannot be
    dispatched either when a day fails before any annual row: the dispatcher says so at once."""
    from dataclasses import replace

    from computeplan.analysis import fullyear

    inst, _, fixed, _ = binding
    calls: list[int] = []
    real = fullyear.dispatch_by_day

    def counted(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(fullyear, "dispatch_by_day", counted)
    run = fullyear.day_dispatcher(inst, workers=0, price_days=0)
    d = build_data(inst)
    dark = {**fixed, "z": np.zeros_like(fixed["z"])}  # no hall lit: no day can serve its work
    first = run(d, dark, SolveOptions())
    assert first.status == Termination.INFEASIBLE and len(calls) == 1
    again = run(replace(d, targets={}), dark, SolveOptions())
    assert again.status == Termination.INFEASIBLE and len(calls) == 1
    for _ in range(2):  # a plan that dispatches is dispatched each time it is asked
        assert run(d, fixed, SolveOptions()).status == Termination.OPTIMAL
    assert len(calls) == 3
