"""Tests written against mutants of `build.py` that the other tests let through (README
"Mutation testing"): each checks a figure against a value worked out by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from computeplan.io.loader import load_instance
from computeplan.model.build import Model, build_model
from computeplan.model.data import build_data

TEACHING = Path(__file__).resolve().parents[1] / "instances" / "teaching"


def _model(name: str) -> Model:
    return build_model(build_data(load_instance(TEACHING / f"{name}.yaml")))


def _family(m: Model, name: str) -> tuple[list[str], list[float], list[float]]:
    f = m.families[name]
    return f.labels, m.row_lo[f.start : f.stop].tolist(), m.row_hi[f.start : f.stop].tolist()


def test_build_rows_of_the_short_site_as_formulated() -> None:
    """build-short.yaml: site a has 1 hall that cannot idle and may build up to 2 more; a has
    100 t-srv servers and b none, each may build 200. FORMULATION.md section 11:
    z - g = 1 at a, n - m <= 100 at a and <= 0 at b (one period)."""
    m = _model("build-short")
    assert _family(m, "build_halls") == (["build_halls[a]"], [1.0], [1.0])
    assert _family(m, "build_servers") == (["build_servers[a/t-srv]", "build_servers[b/t-srv]"],
                                           [-np.inf, -np.inf], [100.0, 0.0])
    assert not np.isnan(m.row_lo).any() and not np.isnan(m.row_hi).any()


def test_grid_rows_cap_facility_power_in_every_period() -> None:
    """grid-cap.yaml: site cheap has grid_kw 50, site dear none; two periods: one row
    P[cheap, t] <= 50 per period, unbounded below."""
    m = _model("grid-cap")
    labels, lo, hi = _family(m, "grid")
    assert labels == ["grid[cheap#0]", "grid[cheap#1]"]
    assert lo == [-np.inf, -np.inf] and hi == [50.0, 50.0]


def test_every_row_has_its_name() -> None:
    """one-site.yaml: one workload, one pool, one site: the rows are assign[w1],
    cover[s1/t-srv] and capacity[s1], in that order."""
    m = _model("one-site")
    assert m.row_names() == ["assign[w1]", "cover[s1/t-srv]", "capacity[s1]"]
    assert m.n_rows == 3


def test_a_candidate_site_gates_its_halls_and_its_servers_on_opening() -> None:
    """build-site-pays.yaml: site west may build 1 hall and 100 servers, paid with its
    site_capex: g - 1 o <= 0 and m - 100 o <= 0 (FORMULATION.md section 11)."""
    m = _model("build-site-pays")
    labels, lo, hi = _family(m, "build_open")
    assert labels == ["build_open[west]", "build_open[west/t-srv]"]
    f = m.families["build_open"]
    rows = m.A[f.start : f.stop].toarray()
    g, mm, o = (m.layout.start(k) for k in ("g", "m", "o"))
    assert rows[0, g] == 1.0 and rows[0, o] == -1.0
    assert rows[1, mm] == 1.0 and rows[1, o] == -100.0
    assert lo == [-np.inf, -np.inf] and hi == [0.0, 0.0]


def test_indivisible_work_beside_a_build_option_keeps_the_hand_worked_plan() -> None:
    """indivisible.yaml (its header: big and small at a, mid at b, 1,115 kW over 1,000 h)
    split into two periods of 500 h with constant series, and site b allowed to build 10
    more servers: b's 400 servers already hold mid, so nothing is built and the energy
    stays 1,115,000 kWh. Over periods the indivisible work's pool is a pick (``y``) that
    the ``link`` rows tie to every period, beside the build's columns: each row family
    spans every column of the model."""
    from support import teaching_raw

    import computeplan

    raw = teaching_raw("indivisible.yaml")
    raw["time"] = {"periods": {"hours": [500, 500]}}
    raw["sites"][1]["build"] = {"servers_max": {"t-srv": 10}}
    raw["hardware"]["t-srv"]["capex"] = 20_000.0
    inst = load_instance(raw)
    m = build_model(build_data(inst))
    assert m.families["link"].stop - m.families["link"].start == 4 * 2  # big, mid at a, b x 2 periods
    res = computeplan.solve(inst)
    assert res.objective_value is not None and abs(res.objective_value - 1_115_000.0) < 1e-3
    assert computeplan.verify(inst, res) == []
