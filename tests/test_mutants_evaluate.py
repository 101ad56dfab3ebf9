"""Tests written against mutants of `evaluate.py` that the other tests let through (README
"Mutation testing"): each checks a figure against a value worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

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
