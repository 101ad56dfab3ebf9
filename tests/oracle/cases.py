"""Small dict instances probing corners of FORMULATION.md, with their optima.

``one_site()`` is the hand-worked base of ``test_reference_selfcheck``: one
site, GPU 1000 TFLOPS bf16, idle 2 kW, peak 10 kW, 100 installed, c = 1000 kW,
facility 1.20 / 1.50 (k = 0.1, f = 100 kW), max utilisation 0.8; one workload
of 40000 TFLOPS: b = 40, n = 50, IT = 420 kW, P = 562 kW.

``EDGE_CASES`` maps a name to ``(instance, oracle optimum)``; the agreement test
runs the engine on each.
"""

from __future__ import annotations

import copy
from typing import Any

H = 8760.0


def one_site(**site_overrides) -> dict:
    """GPU: 1000 TFLOPS bf16, idle 2 kW, peak 10 kW; 100 installed; c = 1000 kW."""
    site = {
        "id": "s1",
        "tier": "hyperscale",
        "zone": "a",
        "facility": "f12",
        "it_capacity_kw": 1000,
        "max_utilisation": 0.8,
        "price_per_kwh": 0.5,
        "carbon_kg_per_kwh": 0.6,
        "renewable_share": 0.25,
        "servers": {"gpu-alpha": 100},
    }
    site.update(site_overrides)
    return {
        "computeplan": 1,
        "name": "one-site",
        "hardware": {
            "gpu-alpha": {"perf_tflops": {"bf16": 1000, "fp32": 100}, "idle_kw": 2, "peak_kw": 10},
            "cpu-alpha": {"perf_tflops": {"fp64": 4}, "idle_kw": 0.2, "peak_kw": 0.6},
        },
        "facilities": {"f12": {"pue_full": 1.2, "pue_quarter": 1.5}},
        "zones": {"a": {"lat": 0.0, "lon": 0.0}, "b": {"lat": 0.0, "lon": 1.0}},
        "sites": [site],
        "workloads": [
            {
                "id": "w1",
                "class": "ai-training",
                "demand_tflops": 40000,
                "precision": "bf16",
                "hardware": ["gpu-alpha"],
                "origin": "a",
            }
        ],
    }


def _two_sites(**second: Any) -> dict:
    raw = one_site()
    site = copy.deepcopy(raw["sites"][0])
    site.update({"id": "s2"}, **second)
    raw["sites"].append(site)
    return raw


def _idle_site_pue(can_idle: bool) -> dict:
    """s2 has no work. Without can_idle its hall is active, so its PUE target
    (1.5: 100 + 0.1 IT <= 0.5 IT, IT >= 250 kW) must be met by 125 idle GPUs:
    P = 562 + 250 + 100 + 25 = 937 kW. With can_idle its hall goes dark and a
    hall-less site passes: P = 562 kW."""
    raw = _two_sites(tier="edge", servers={"gpu-alpha": 200}, can_idle=can_idle)
    raw["workloads"][0]["sites"] = ["s1"]
    raw["targets"] = {"site_pue_max": {"s2": 1.5}}
    return raw


def _same_zone_pair() -> dict:
    """An explicit same-zone pair (0.4 ms) overrides the 0.5 ms hop term, so a
    0.45 ms limit admits the site."""
    raw = one_site()
    raw["latency_ms"] = [["a", "a", 0.4]]
    raw["workloads"][0]["max_latency_ms"] = 0.45
    return raw


def _latency_equal_to_limit() -> dict:
    """The only site is exactly 2.0 ms away and the limit is 2.0 ms: allowed."""
    raw = one_site(zone="b")
    raw["latency_ms"] = [["a", "b", 2.0]]
    raw["workloads"][0]["max_latency_ms"] = 2.0
    return raw


def _tiers_and_sites() -> dict:
    """tiers [edge] and sites [s1, s2]: only s2 is both. s2's facility is worse
    (1.50 / 2.40: k = 0.2, f = 300 kW), so a union would pick s1.
    P = s1 idle 100 + s2 (420 * 1.2 + 300) = 904 kW."""
    raw = _two_sites(tier="edge", facility="f15")
    raw["facilities"]["f15"] = {"pue_full": 1.5, "pue_quarter": 2.4}
    raw["workloads"][0]["tiers"] = ["edge"]
    raw["workloads"][0]["sites"] = ["s1", "s2"]
    return raw


def _nothing_served() -> dict:
    """Serving costs more than the penalty; the hall may go dark: the ratios
    (PUE, ECE, renewable share, output per kWh) are undefined (None)."""
    raw = one_site(can_idle=True)
    raw["unserved_penalty"] = 1e-6
    raw["workloads"][0]["must_serve"] = False
    return raw


def _optional_without_candidate() -> dict:
    """An optional workload whose only zone is out of reach is simply unserved."""
    raw = one_site()
    raw["unserved_penalty"] = 1.0
    raw["workloads"].append(
        {"id": "w2", "class": "hpc", "demand_tflops": 100, "precision": "bf16",
         "hardware": ["gpu-alpha"], "origin": "b", "must_serve": False, "max_latency_ms": 1.0}
    )
    return raw


EDGE_CASES: dict[str, tuple[dict, float]] = {
    "idle-site-pue-hall-on": (_idle_site_pue(False), 937 * H),
    "idle-site-pue-hall-dark": (_idle_site_pue(True), 562 * H),
    "same-zone-explicit-pair": (_same_zone_pair(), 562 * H),
    "latency-equal-to-limit": (_latency_equal_to_limit(), 562 * H),
    "tiers-and-sites-intersect": (_tiers_and_sites(), 904 * H),
    "nothing-served": (_nothing_served(), 1e-6 * 40000 * H),
    "optional-without-candidate": (_optional_without_candidate(), (562 + 1.0 * 100) * H),
}
