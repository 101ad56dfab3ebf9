"""The "what to build" views: the terminal summary's table and the report's section and chart."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

import computeplan
from computeplan.present.build import build_table
from computeplan.present.report import build_report
from computeplan.present.summary import print_summary

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"


def _summary(res: computeplan.Result) -> str:
    con = Console(record=True, width=160)
    print_summary(res, con)
    return con.export_text()


def test_build_table_lists_what_is_built():
    df = build_table(computeplan.solve(TEACHING / "build-site-pays.yaml"))
    assert df is not None
    rows = {r["what"]: r for _, r in df.iterrows()}
    assert set(rows) == {"open site", "halls", "servers"}
    assert rows["open site"]["capex_per_year"] == 84_000.0 and rows["open site"]["workloads"] == "w1"
    assert rows["servers"]["amount"] == 100.0 and rows["halls"]["amount"] == 1.0
    assert build_table(computeplan.solve(TEACHING / "two-sites.yaml")) is None


def test_terminal_summary_says_what_to_build():
    text = _summary(computeplan.solve(TEACHING / "build-site-pays.yaml"))
    assert "What to build: 105,000 capital per year" in text
    assert "site west opens; moved there: w1" in text
    assert "capex_per_year" in text  # the indicator row
    text = _summary(computeplan.solve(TEACHING / "build-site-fails.yaml"))
    assert "What to build: 0 capital per year" in text and "nothing" in text
    plain = _summary(computeplan.solve(TEACHING / "two-sites.yaml"))
    assert "What to build" not in plain and "capex_per_year" not in plain


def test_report_has_a_build_section_and_chart():
    page = build_report(computeplan.solve(TEACHING / "build-short.yaml"))
    assert 'id="build"' in page and 'id="chart-build"' in page
    assert "+1 hall(s)" in page and "+50 servers" in page
    assert 'id="build"' not in build_report(computeplan.solve(TEACHING / "two-sites.yaml"))


def test_tier_utilisation_counts_built_servers():
    # build-short: 150 busy servers at site a (hyperscale) on 100 installed + 50 built
    # (the instance's header): 150 / 150 = 1.0, not 150 / 100.
    from computeplan.present.tables import tier_table

    res = computeplan.solve(TEACHING / "build-short.yaml")
    rows = tier_table(res).set_index("tier")
    assert abs(rows.loc["hyperscale", "utilisation_of_used_pools"] - 1.0) < 1e-9
