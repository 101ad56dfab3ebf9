"""The HTML report: one self-contained file whose sections hold the result's figures.

The document is parsed (html.parser) and its structure and numbers checked; when
Chromium is installed (/usr/bin/chromium) it is also rendered headless, and any console
message (a blocked fetch, a script error) fails the test.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import partial
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

import computeplan
from computeplan import analysis
from computeplan.analysis import capacity_of_result
from computeplan.cli import app
from computeplan.plan.result import Result
from computeplan.present.fmt import fmt
from computeplan.present.report import build_report, write_report

ROOT = Path(__file__).resolve().parents[1]
TEACHING = ROOT / "instances" / "teaching"
CHROMIUM = Path("/usr/bin/chromium")
runner = CliRunner()


class Doc(HTMLParser):
    """Element counts, section ids, external references and the text of each section."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, int] = {}
        self.sections: list[str] = []
        self.refs: list[tuple[str, str, str]] = []
        self.stack: list[str] = []
        self.text: dict[str, list[str]] = {}
        self.current: str | None = None
        self.open_tables = 0
        self.max_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if tag == "section":
            self.current = a.get("id") or ""
            self.sections.append(self.current)
            self.text[self.current] = []
        for k in ("src", "href", "xlink:href", "action", "data"):
            v = a.get(k)
            if v is not None:
                self.refs.append((tag, k, v))
        if tag not in ("meta", "br", "img", "input", "link", "path", "use", "rect", "circle", "line", "polyline",
                       "polygon", "stop", "ellipse") and not tag.endswith("/"):
            self.stack.append(tag)
            self.max_depth = max(self.max_depth, len(self.stack))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            if k in ("src", "href", "xlink:href") and v is not None:
                self.refs.append((tag, k, v))

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self.current = None
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.current is not None and data.strip():
            self.text[self.current].append(data.strip())


def parse(text: str) -> Doc:
    d = Doc()
    d.feed(text)
    d.close()
    return d


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A result folder of teaching/pue-target with a sweep, a headroom and an outage run."""
    out = tmp_path_factory.mktemp("report")
    inst = computeplan.load_instance(TEACHING / "pue-target.yaml")
    res = computeplan.solve(inst)
    res.write(out)
    analysis.write_table(computeplan.sweep(inst, ["targets.fleet_pue_max=1.2:1.3:6"]), out, "sweep")
    (out / "headroom.json").write_text(json.dumps(computeplan.headroom(inst).to_dict()))
    analysis.write_table(computeplan.outage(TEACHING / "outage-three-sites.yaml"), out, "outage")
    return out


@pytest.fixture(scope="module")
def report(folder: Path) -> tuple[Path, str]:
    p = write_report(folder, folder / "report.html", capacity=partial(capacity_of_result, TEACHING / "pue-target.yaml"))
    return p, p.read_text(encoding="utf-8")


def test_report_structure(report: tuple[Path, str]) -> None:
    _, text = report
    assert text.startswith("<!DOCTYPE html>")
    d = parse(text)
    assert d.sections == ["indicators", "tiers", "sites", "beyond-need", "capacity-value", "trade-offs",
                          "headroom", "outages", "notes"]
    assert d.tags["html"] == d.tags["body"] == d.tags["head"] == 1
    # every chart is inline SVG: targets, tiers, site energy, sites, beyond need, sweep, outage
    assert d.tags.get("svg", 0) >= 7
    assert d.tags.get("script", 0) == 0 and d.tags.get("img", 0) == 0 and d.tags.get("link", 0) == 0
    assert not d.stack, f"unclosed elements: {d.stack}"


def test_report_needs_no_network(report: tuple[Path, str]) -> None:
    _, text = report
    d = parse(text)
    external = [r for r in d.refs if not (r[2].startswith("#") or r[2].startswith("data:"))]
    assert external == [], external
    assert "default-src 'none'" in text, "a Content-Security-Policy forbids every fetch"
    assert "url(http" not in text and "@import" not in text


def test_report_shows_the_figures(report: tuple[Path, str], folder: Path) -> None:
    _, text = report
    d = parse(text)
    res = Result.read(folder)
    ind = " ".join(d.text["indicators"])
    assert fmt(res.indicators["fleet_pue"]) in ind and "1.225" in ind  # binding PUE target, by hand
    assert fmt(res.target_list[0]["shadow_price"]) in ind
    beyond = " ".join(d.text["beyond-need"])
    # teaching/pue-target by hand: 200 servers beyond need drawing 200 x 1 kW x 1.1 x 1,000 h
    assert "200" in beyond and "220,000" in beyond
    sites = " ".join(d.text["sites"])
    assert "s1" in sites and fmt(res.site_records[0]["utilisation"]) in sites
    head = " ".join(d.text["headroom"])
    assert fmt(1000 / 3 * 100 / 20000) in head and "capacity[s1]" in head
    out = " ".join(d.text["outages"])
    assert "c:+16000;b:+4000" in out and "4,000" in out
    trade = " ".join(d.text["trade-offs"])
    assert "infeasible" in trade and "targets.fleet_pue_max must move" in trade
    cap = " ".join(d.text["capacity-value"])
    assert "holds" in cap  # the ranges came from the instance


def test_report_of_infeasible_result_shows_the_diagnosis(tmp_path: Path) -> None:
    res = computeplan.solve(TEACHING / "infeasible.yaml")
    d = parse(build_report(res))
    assert d.sections == ["diagnosis"]
    assert any("must" in t or "cannot" in t for t in d.text["diagnosis"])


def test_cli_report(tmp_path: Path) -> None:
    out = tmp_path / "o"
    assert runner.invoke(app, ["solve", str(TEACHING / "two-sites.yaml"), "-q", "--out", str(out)]).exit_code == 0
    r = runner.invoke(app, ["report", str(out), "-o", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    d = parse((tmp_path / "r.html").read_text())
    assert "capacity-value" in d.sections and "trade-offs" not in d.sections
    r = runner.invoke(app, ["report", str(tmp_path / "missing"), "-o", str(tmp_path / "x.html")])
    assert r.exit_code == 2 and "missing" in r.output
    assert not (tmp_path / "x.html").exists()


def chromium(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={tmp / 'profile'}",
         "--enable-logging=stderr", "--v=0", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )


@pytest.mark.skipif(not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None,
                    reason="Chromium is not installed (the structure is still checked by parsing)")
def test_report_renders_in_headless_chromium(report: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = report
    p = chromium(["--dump-dom", path.as_uri()], tmp_path)
    assert p.returncode == 0, p.stderr[-2000:]
    console = [line for line in p.stderr.splitlines() if ":CONSOLE" in line]
    assert console == [], console
    dom = parse(p.stdout)
    assert dom.sections[:5] == ["indicators", "tiers", "sites", "beyond-need", "capacity-value"]
    assert dom.tags.get("svg", 0) >= 7
    shot = tmp_path / "shot.png"
    p = chromium(["--hide-scrollbars", "--window-size=1200,1600", f"--screenshot={shot}", path.as_uri()], tmp_path)
    assert p.returncode == 0 and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_sanity_check_catches_a_blocked_fetch(tmp_path: Path) -> None:
    """The network check above can fail: a page with an external image is caught."""
    bad = "<!DOCTYPE html><html><head></head><body><img src='http://example.com/a.png'></body></html>"
    d = parse(bad)
    assert [r for r in d.refs if not r[2].startswith(("#", "data:"))] == [("img", "src", "http://example.com/a.png")]
    if CHROMIUM.exists():
        f = tmp_path / "bad.html"
        csp = "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">"
        f.write_text(bad.replace("<head>", "<head>" + csp))
        p = chromium(["--dump-dom", f.as_uri()], tmp_path)
        assert any(":CONSOLE" in line for line in p.stderr.splitlines())
