"""Tests written against mutants of `verify.py` that the other tests let through (README
"Mutation testing"): each checks a figure against a value worked out by hand."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import computeplan
from computeplan.io.loader import load_instance
from computeplan.io.schema import Instance

TEACHING = Path(__file__).resolve().parents[1] / "instances" / "teaching"


def _solved(name: str) -> tuple[Instance, dict[str, Any]]:
    inst = load_instance(TEACHING / f"{name}.yaml")
    return inst, computeplan.solve(inst).to_dict()


@pytest.fixture(scope="module")
def one_site() -> tuple[Instance, dict[str, Any]]:
    return _solved("one-site")


def test_servers_on_beyond_a_pool_that_cannot_grow_claim_no_built_servers(one_site: Any) -> None:
    """one-site.yaml has 400 t-srv servers and nothing to build: 401 on is outside 0..400,
    and the message says nothing of servers built."""
    inst, d = copy.deepcopy(one_site)
    d["pools"][0]["servers_on"] = 401.0
    (msg,) = [p for p in computeplan.verify(inst, d) if ".servers_on:" in p]
    assert msg == "pools[s1/t-srv].servers_on: 401 servers on, outside 0..400 installed"


def test_a_site_with_unreadable_active_halls_is_named_once_and_not_missing(one_site: Any) -> None:
    inst, d = copy.deepcopy(one_site)
    d["sites"][0]["active_halls"] = "one"
    bad = computeplan.verify(inst, d)
    assert "sites[s1].active_halls: expected a finite number, found 'one'" in bad
    assert "sites[s1]: missing" not in bad  # the site is listed, its halls unreadable


def test_a_build_result_without_its_capital_indicator_is_named() -> None:
    """build-short.yaml: 11,000 per year of capital (its header); a result that drops the
    indicator is incomplete."""
    inst, d = _solved("build-short")
    assert d["indicators"]["capex_per_year"] == pytest.approx(11_000.0)
    del d["indicators"]["capex_per_year"]
    assert "indicators.capex_per_year: missing" in computeplan.verify(inst, d)


def test_a_wrong_peak_period_names_the_reported_and_the_recomputed_period() -> None:
    """hot-afternoon.yaml: facility power 120, 135, 150, 150 kW over four periods, the peak
    first in period 2 (its header). Period 1 (135 kW) is not a peak."""
    inst, d = _solved("hot-afternoon")
    (site,) = d["sites"]
    assert site["peak_period"] == 2 and site["peak_facility_kw"] == pytest.approx(150.0)
    site["peak_period"] = 1
    assert "sites[s1].peak_period: reported 1, recomputed 2" in computeplan.verify(inst, d)
    site["peak_period"] = 3  # 150 kW too: also the peak
    assert computeplan.verify(inst, d) == []


def test_a_pools_beyond_need_energy_is_recomputed_when_given(one_site: Any) -> None:
    """A pool record may carry its own ``beyond_need_energy_kwh`` (the engine puts it on
    sites only); when it does, it is checked like any figure. one-site.yaml powers 250
    servers for 250 needed (its header): nothing beyond need, so 123 kWh is a lie."""
    inst, d = copy.deepcopy(one_site)
    (pool,) = d["pools"]
    assert pool["servers_beyond_need"] == pytest.approx(0.0, abs=1e-9)
    pool["beyond_need_energy_kwh"] = 123.0
    bad = computeplan.verify(inst, d)
    assert "pools[s1/t-srv].beyond_need_energy_kwh: reported 123.0, recomputed 0.0" in bad


def test_a_site_not_of_the_instance_does_not_stop_the_check_of_the_next() -> None:
    """two-sites.yaml with a copy of a site record renamed to a site the instance lacks,
    listed first, and the real second site's energy doubled: both are named."""
    inst, d = _solved("two-sites")
    second = d["sites"][1]
    d["sites"].insert(0, {**d["sites"][0], "id": "nowhere"})
    second["energy_kwh"] *= 2
    bad = computeplan.verify(inst, d)
    assert "sites[nowhere]: not a site of the instance" in bad
    assert [p for p in bad if p.startswith(f"sites[{second['id']}].energy_kwh: reported ")] != []


def test_a_plan_with_no_energy_at_all_is_checked_without_dividing_by_it() -> None:
    """idle-halls.yaml with site b's one hall able to idle too, and a plan that powers
    nothing: no hall active, no server on, nothing assigned. The fleet uses no energy, so
    the output per kWh has no value; verify names the unserved work and does not divide by
    zero on the way."""
    from support import teaching_raw

    raw = teaching_raw("idle-halls.yaml")
    for s in raw["sites"]:
        s["can_idle"] = True
    inst = load_instance(raw)
    d = computeplan.solve(inst).to_dict()
    for s in d["sites"]:
        s["active_halls"] = 0
    for p in d["pools"]:
        p["servers_on"] = 0.0
    d["assignments"] = []
    bad = computeplan.verify(inst, d)
    assert "workload w1: must be served in full, served share 0" in bad


def test_an_interrupted_result_with_a_plan_is_checked_as_a_plan(one_site: Any) -> None:
    """A solve stopped by Ctrl-C keeps the best plan found with status ``interrupted``:
    one-site.yaml's optimum so labelled is sound (7,139,400 kWh, its header), and the same
    with its energy doubled is named, not refused for having a plan."""
    inst, d = copy.deepcopy(one_site)
    d["status"] = "interrupted"
    assert d["objective"]["value"] == pytest.approx(7_139_400.0)
    assert computeplan.verify(inst, d) == []
    d["indicators"]["energy_kwh"] *= 2
    bad = computeplan.verify(inst, d)
    assert [p for p in bad if p.startswith("indicators.energy_kwh: reported ")] != []
    assert not [p for p in bad if "has no plan" in p]
