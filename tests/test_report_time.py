"""The report's time charts: their numbers from the result's tables, checked against a
two-day instance worked by hand, and the charts' elements in the report.

Two days of 24 hourly periods (2025-01-01 and 2025-01-02), objective cost:

- site a (hyperscale): 100 kW, one hall that stays on, facility 1.2 / 1.5, so
  k = (4 x 0.2 - 0.5) / 3 = 0.1 and f = (0.2 - 0.1) x 100 = 10 kW: P = 1.1 IT + 10.
  Price 0.1 in hours 0-11 and 0.3 in hours 12-23 on day 1; the other way round on day 2.
- site b (midsize): 100 kW, PUE 1 (f = k = 0), price 0.05, grid_kw 30.
- t-box servers: 1 TFLOPS fp32 at 1 kW, idle 0 kW.
- w1 (class general): 50 TFLOPS, inflexible; w2 (class batch): 20 TFLOPS, flexible over
  24 h, at most 2 x 20 = 40 TFLOPS an hour.

By hand: b is the cheapest and runs at its grid cap, 30 kW, in every hour; w2's 480
TFLOPS-hours a day fill the 12 cheap hours of a at 40 TFLOPS. So a carries 20 + 40 = 60 kW
of IT (P = 76 kW) in its cheap hours and 20 kW (P = 32 kW) in its dear ones:

- fleet in a's cheap hours: IT 90, facility 106, PUE 106 / 90; in its dear hours: IT 50,
  facility 62, PUE 1.24;
- each day: fleet PUE (12 x 106 + 12 x 62) / (12 x 90 + 12 x 50) = 168 / 140 = 1.2; tier
  hyperscale (a) (12 x 76 + 12 x 32) / (12 x 60 + 12 x 20) = 1.35; tier midsize (b) 1;
- peaks: a 76 kW first in period 0 (2025-01-01 00:00), no grid cap; b 30 kW = its cap;
- the cost signal (sites weighted by their 100 kW each): (0.1 + 0.05) / 2 = 0.075 in a's
  cheap hours, (0.3 + 0.05) / 2 = 0.175 in its dear ones.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import numpy as np
import pandas as pd
import pytest

import computeplan
from computeplan.plan.result import Result, Status
from computeplan.present import report_time as rt
from computeplan.present.report import build_report


def approx(v: float) -> Any:
    return pytest.approx(v, rel=1e-7, abs=1e-7)


def two_days() -> dict[str, Any]:
    cheap_first = [0.1] * 12 + [0.3] * 12
    return {
        "computeplan": 1, "name": "two-days", "objective": "cost",
        "hardware": {"t-box": {"perf_tflops": {"fp32": 1.0}, "idle_kw": 0.0, "peak_kw": 1.0}},
        "facilities": {"t-air": {"pue_full": 1.2, "pue_quarter": 1.5}, "t-ideal": {"pue_full": 1.0, "pue_quarter": 1.0}},
        "zones": {"town": {"lat": 31.0, "lon": 121.0}},
        "sites": [
            {"id": "a", "tier": "hyperscale", "zone": "town", "facility": "t-air", "it_capacity_kw": 100,
             "price_per_kwh": 0.3, "carbon_kg_per_kwh": 0.5, "servers": {"t-box": 100}},
            {"id": "b", "tier": "midsize", "zone": "town", "facility": "t-ideal", "it_capacity_kw": 100,
             "price_per_kwh": 0.05, "carbon_kg_per_kwh": 0.5, "servers": {"t-box": 100}, "grid_kw": 30},
        ],
        "workloads": [
            {"id": "w1", "class": "general", "demand_tflops": 50, "precision": "fp32", "hardware": ["t-box"],
             "origin": "town"},
            {"id": "w2", "class": "batch", "demand_tflops": 20, "precision": "fp32", "hardware": ["t-box"],
             "origin": "town", "flex_window_hours": 24},
        ],
        "targets": {"fleet_pue_max": 1.25, "site_pue_max": {"hyperscale": 1.4}},
        "time": {
            "periods": {"datetime": [f"2025-01-0{1 + t // 24}T{t % 24:02d}:00" for t in range(48)],
                        "price_a": cheap_first + cheap_first[::-1]},
            "sites": {"a": {"price_per_kwh": "price_a"}},
        },
    }


@pytest.fixture(scope="module")
def res() -> Result:
    inst = computeplan.load_instance(two_days())
    out = computeplan.solve(inst)
    assert out.status == "optimal" and computeplan.verify(inst, out) == []
    return out


def cheap_hours(day: int) -> range:
    return range(0, 12) if day == 0 else range(12, 24)


def test_solution_is_the_hand_worked_one(res: Result) -> None:
    # cost = 2 days x (30 x 24 x 0.05 + 12 x 76 x 0.1 + 12 x 32 x 0.3)
    assert res.objective_value == approx(2 * (36 + 91.2 + 115.2))
    assert res.indicators["fleet_pue"] == approx(1.2)


def test_clock_reads_days_and_hours_from_datetime(res: Result) -> None:
    ck = rt.clock(res)
    assert ck["day"].tolist() == ["2025-01-01"] * 24 + ["2025-01-02"] * 24
    assert ck["hour"].tolist() == list(range(24)) * 2
    assert ck["w"].tolist() == [1.0] * 48
    assert set(ck["month"]) == {"2025-01"}


def test_day_hour_heatmap_numbers(res: Result) -> None:
    dh = rt.day_hour(res).set_index(["day_index", "hour"])
    assert len(dh) == 48
    for day in (0, 1):
        for h in range(24):
            fac, pue = (106.0, 106 / 90) if h in cheap_hours(day) else (62.0, 1.24)
            assert dh.loc[(day, h), "facility_kw"] == approx(fac)
            assert dh.loc[(day, h), "pue"] == approx(pue)


def test_load_follows_the_price(res: Result) -> None:
    ls = rt.load_signal(res)
    assert ls.attrs["classes"] == ["batch"] and ls.attrs["moved"] and ls.attrs["whole"]
    assert ls.attrs["signal"][0] == "price_per_kwh"
    assert len(ls) == 48 and ls["start_h"].tolist() == [float(t) for t in range(48)]
    for t in range(48):
        cheap = t % 24 in cheap_hours(t // 24)
        assert ls.loc[t, "served"] == approx(40.0 if cheap else 0.0)
        assert ls.loc[t, "demand"] == approx(20.0)
        assert ls.loc[t, "signal"] == approx(0.075 if cheap else 0.175)


def test_pue_per_day_against_the_caps(res: Result) -> None:
    pm = rt.pue_by_month(res)
    assert pm.attrs["by"] == "day"  # two days: under two months
    assert pm["group"].tolist() == ["2025-01-01", "2025-01-02"]
    assert pm["fleet"].tolist() == [approx(1.2)] * 2
    assert pm["tier.hyperscale"].tolist() == [approx(1.35)] * 2
    assert pm["tier.midsize"].tolist() == [approx(1.0)] * 2
    assert rt.pue_caps(res) == (approx(1.25), {"hyperscale": approx(1.4)})


def test_site_peaks_against_grid(res: Result) -> None:
    pk = rt.site_peaks(res).set_index("site")
    assert pk.loc["a", "peak_facility_kw"] == approx(76.0) and pk.loc["a", "peak_period"] == 0
    assert pk.loc["a", "at"] == "2025-01-01 00:00" and pd.isna(pk.loc["a", "grid_kw"])
    assert not pk.loc["a", "at_cap"]
    assert pk.loc["b", "peak_facility_kw"] == approx(30.0) and pk.loc["b", "grid_kw"] == 30.0
    assert pk.loc["b", "grid_share"] == approx(1.0) and pk.loc["b", "at_cap"]


def _result(periods: pd.DataFrame, served: pd.DataFrame | None = None) -> Result:
    sites = [{"id": s, "tier": "edge", "it_capacity_kw": 10.0} for s in periods["site"].unique()]
    return Result(instance="t", status=Status.OPTIMAL, method="lp", objective_name="energy_kwh",
                  objective_value=1.0, bound=1.0, gap=0.0, solve_seconds=0.0, site_records=sites,
                  tables={"periods": periods, "served": served if served is not None else pd.DataFrame()})


def test_pue_is_energy_weighted_over_hours_and_recurrences() -> None:
    """Two periods of one day: 2 h recurring 3 times (IT 10, facility 20) and 1 h (IT 10,
    facility 11): (6 x 20 + 1 x 11) / (6 x 10 + 1 x 10) = 131 / 70; the plain mean of the
    two PUEs would be 1.55. Without datetime, the day is read off the running clock."""
    p = pd.DataFrame({"period": [0, 1], "site": ["s", "s"], "it_kw": [10.0, 10.0], "facility_kw": [20.0, 11.0],
                      "pue": [2.0, 1.1], "hours": [2.0, 1.0], "weight": [3.0, 1.0]})
    r = _result(p)
    ck = rt.clock(r)
    assert ck["w"].tolist() == [6.0, 1.0] and ck["hour"].tolist() == [0.0, 2.0] and ck["day"].tolist() == ["day 0"] * 2
    pm = rt.pue_by_month(r)
    assert pm["group"].tolist() == ["day 0"] and pm["fleet"].iloc[0] == approx(131 / 70)
    # the 2 h period fills hours 0 and 1 of the heatmap, the 1 h period hour 2
    dh = rt.day_hour(r)
    assert dh["hour"].tolist() == [0, 1, 2] and dh["facility_kw"].tolist() == [20.0, 20.0, 11.0]


def test_the_week_shown_is_where_load_moves_most() -> None:
    """Three weeks of daily periods; the class moves only on days 9-10, so the week shown
    starts on day 4 (the first seven days holding both); per-day labels of the clock."""
    T = 21
    p = pd.DataFrame({"period": range(T), "site": "s", "it_kw": 1.0, "facility_kw": 1.0, "pue": 1.0,
                      "hours": 24.0, "weight": 1.0, "temperature_c": np.arange(T, dtype=float)})
    served = np.full(T, 5.0)
    served[9], served[10] = 8.0, 2.0
    s = pd.DataFrame({"period": range(T), "class": "batch", "served_tflops": served, "demand_tflops": 5.0})
    ls = rt.load_signal(_result(p, s))
    assert not ls.attrs["whole"] and ls["period"].tolist() == list(range(4, 11))
    assert ls["signal"].tolist() == [float(t) for t in range(4, 11)]  # energy follows the temperature


class Charts(HTMLParser):
    """The report's chart elements by id: their role and label, and the section holding them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section: str | None = None
        self.sections: list[str] = []
        self.charts: dict[str, dict[str, Any]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section":
            self.section = a.get("id")
            self.sections.append(str(self.section))
        if tag == "div" and str(a.get("id", "")).startswith("chart-"):
            self.charts[str(a["id"])] = {"role": a.get("role"), "label": a.get("aria-label"),
                                         "section": self.section, "svg": 0}
            self.last = str(a["id"])
        if tag == "svg" and self.charts:
            self.charts[self.last]["svg"] += 1


def test_report_holds_the_time_charts(res: Result) -> None:
    c = Charts()
    c.feed(build_report(res))
    assert c.sections[:4] == ["indicators", "tiers", "sites", "time"]
    for name, words in (("chart-time-heatmap", "Heatmap of fleet facility power"),
                        ("chart-time-load", "TFLOPS served and demanded"),
                        ("chart-time-pue", "energy-weighted PUE per day"),
                        ("chart-time-peaks", "1 site(s) reach their cap")):
        chart = c.charts[name]
        assert chart["section"] == "time" and chart["role"] == "img" and chart["svg"] == 1
        assert words in chart["label"], chart["label"]


def test_a_result_without_periods_has_no_time_section() -> None:
    c = Charts()
    c.feed(build_report(computeplan.solve(computeplan.load_instance(two_days() | {"time": None}))))
    assert "time" not in c.sections and not any(k.startswith("chart-time") for k in c.charts)
