"""The server-utilisation target end to end: CLI, sweep, headroom, diagnosis and report, on
instances/teaching/server-utilisation.yaml, whose optimum its header works out by hand.

By hand (10,000 TFLOPS; fast servers 0.01 busy servers and 0.03 IT kW per TFLOPS, slow
ones 0.1 and 0.15; 1,300 installed; f = 200 kW, k = 0.1; 1,000 h): utilisation T needs
1,300 T busy servers, i.e. y = (1,300 T - 100) / 0.09 TFLOPS on the slow servers, and the
energy is (200 + 1.1 (300 + 0.12 y)) x 1,000 kWh.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

import computeplan
from computeplan import analysis
from computeplan.cli import app

INSTANCE = Path(__file__).resolve().parent.parent / "instances" / "teaching" / "server-utilisation.yaml"


def energy(T: float) -> float:
    y = (1300 * T - 100) / 0.09
    return (200 + 1.1 * (300 + 0.12 * y)) * 1000


def test_cli_reports_the_target(tmp_path: Path) -> None:
    r = CliRunner().invoke(app, ["solve", str(INSTANCE), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["objective"]["value"] == pytest.approx(energy(0.25), rel=1e-9)
    assert d["indicators"]["server_utilisation"] == pytest.approx(0.25, rel=1e-9)
    (t,) = d["targets"]
    assert t["name"] == "server_utilisation_min" and t["met"] is True
    s = CliRunner().invoke(app, ["solve", str(INSTANCE)])
    assert "server_utilisation" in s.output


def test_sweep_follows_the_hand_worked_curve() -> None:
    df = analysis.sweep(INSTANCE, {"targets.server_utilisation_min": [0.25, 0.3, 0.5]})
    assert list(df["status"]) == ["optimal"] * 3
    for T, obj in zip(df["targets.server_utilisation_min"], df["objective"], strict=True):
        assert obj == pytest.approx(energy(T), rel=1e-9)
    slope = 1300 * (0.12 / 0.09) * 1.1 * 1000
    assert list(df["shadow_price.server_utilisation_min"]) == pytest.approx([slope] * 3, rel=1e-7)


def test_headroom_with_the_target() -> None:
    # Growth is limited by the hall (2,000 kW) and the fast servers: 30,000 TFLOPS on the
    # 300 fast servers (900 kW) and (2,000 - 900) / 0.15 = 7,333.3 on slow ones; the
    # utilisation target (325 busy) holds on the way. Factor 37,333.3 / 10,000.
    h = analysis.headroom(INSTANCE)
    assert h.factor == pytest.approx(3.7333333333, rel=1e-7)
    assert "capacity[s1]" in h.binding and "servers[s1/fast]" in h.binding
    assert "server_utilisation_min" not in h.binding


def test_diagnosis_moves_an_unreachable_target() -> None:
    # At most every TFLOPS on the slow servers: 1,000 busy of 1,300, utilisation 0.769231.
    inst = computeplan.load_instance(INSTANCE)
    bad = inst.model_copy(update={"targets": inst.targets.model_copy(update={"server_utilisation_min": 0.9})})
    res = computeplan.solve(bad)
    assert res.status == "infeasible"
    moves = res.diagnosis["moves"]
    assert [m["target"] for m in moves] == ["server_utilisation_min"]
    assert moves[0]["to"] == pytest.approx(1000 / 1300, rel=1e-6)
    assert computeplan.verify(bad, res) == []  # the claim carries its certificate


def test_report_shows_the_target(tmp_path: Path) -> None:
    from computeplan.present.report import build_report

    html = build_report(computeplan.solve(INSTANCE))
    row = html[html.index(">server_utilisation<"):]
    row = row[: row.index("</tr>")]
    assert ">0.25<" in row and "met" in row
