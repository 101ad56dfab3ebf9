"""Tests written against mutants of `evaluate.py` that the other tests let through (README
"Mutation testing"): each checks a figure against a value worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import computeplan
from computeplan.io.loader import load_instance
from computeplan.model.data import build_data
from computeplan.model.layout import plan_layout
from computeplan.plan.evaluate import clean_plan, evaluate

TEACHING = Path(__file__).resolve().parents[1] / "instances" / "teaching"


def test_servers_on_below_need_are_raised_to_busy_over_max_utilisation() -> None:
    """one-site.yaml (its header works the figures): w1 served in full keeps 20,000 / 100 =
    200 servers busy, and at a maximum utilisation of 0.8 that needs 250 on. A plan that
    says 100 are on is read as 250 on, with the hand-worked optimum's figures."""
    d = build_data(load_instance(TEACHING / "one-site.yaml"))
    v = plan_layout(d).join(x=np.ones(d.n_cand), n=np.full(d.n_pools, 100.0))
    x, n, z = clean_plan(d, v)
    assert n.tolist() == pytest.approx([250.0])
    assert z.tolist() == [1.0]
    fig = evaluate(d, x, n, z)
    assert fig.indicators["it_kw"] == pytest.approx(650.0)  # 1 x 250 + 2 x 200
    assert fig.indicators["facility_kw"] == pytest.approx(815.0)  # + 100 x 1 + 0.1 x 650
    assert fig.indicators["energy_kwh"] == pytest.approx(7_139_400.0)
    assert fig.indicators["servers_beyond_need"] == 0.0


def test_sixty_four_periods_with_a_last_site_that_has_no_servers() -> None:
    """one-site.yaml over 64 one-hour periods, with a second site s2 last: one hall of
    100 kW, no servers. From 64 periods the figures are summed by sparse matrices. Per
    hour s1 draws its hand-worked 815 kW (650 kW IT); s2 only its hall's fixed overhead,
    f = (1.2 - 1 - 0.1) x 100 = 10 kW: 825 kW x 64 h = 52,800 kWh."""
    raw = load_instance(TEACHING / "one-site.yaml").model_dump(by_alias=True, exclude_none=True)
    s2 = {**raw["sites"][0], "id": "s2", "it_capacity_kw": 100.0, "servers": {}}
    raw["sites"].append(s2)
    raw["time"] = {"periods": {"hours": [1.0] * 64}}
    raw.pop("horizon_hours", None)
    res = computeplan.solve(raw)
    assert res.indicators["it_kw"] == pytest.approx(650.0)
    assert res.indicators["facility_kw"] == pytest.approx(825.0)
    assert res.indicators["energy_kwh"] == pytest.approx(52_800.0)
