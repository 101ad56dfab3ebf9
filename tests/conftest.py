"""Shared fixtures: a small valid instance to break one field at a time, and helpers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from support import IN_CI

ROOT = Path(__file__).resolve().parents[1]

# Under CI every property test draws the same examples, so a red run can be replayed.
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")



def base_instance() -> dict[str, Any]:
    """Two sites, two workloads, everything inline; valid and feasible."""
    return {
        "computeplan": 1,
        "name": "base",
        "hardware": {
            "srv": {"perf_tflops": {"fp16": 100.0, "fp32": 50.0}, "idle_kw": 1.0, "peak_kw": 3.0},
            "cpu": {"perf_tflops": {"fp64": 4.0, "fp32": 8.0}, "idle_kw": 0.2, "peak_kw": 0.6},
        },
        "facilities": {
            "good": {"pue_full": 1.2, "pue_quarter": 1.5},
            "poor": {"pue_full": 1.5, "pue_quarter": 2.2},
        },
        "zones": {"a": {"lat": 31.2, "lon": 121.4}, "b": {"lat": 30.9, "lon": 121.9}},
        "sites": [
            {"id": "s1", "tier": "hyperscale", "zone": "a", "facility": "good", "it_capacity_kw": 2000.0,
             "halls": 2, "can_idle": False, "price_per_kwh": 0.6, "carbon_kg_per_kwh": 0.58,
             "renewable_share": 0.2, "servers": {"srv": 400, "cpu": 500}},
            {"id": "s2", "tier": "edge", "zone": "b", "facility": "poor", "it_capacity_kw": 300.0,
             "price_per_kwh": 0.8, "carbon_kg_per_kwh": 0.58, "servers": {"srv": 50}},
        ],
        "workloads": [
            {"id": "w1", "class": "ai-training", "demand_tflops": 20000.0, "precision": "fp16",
             "hardware": ["srv"], "origin": "a"},
            {"id": "w2", "class": "general", "demand_tflops": 800.0, "precision": "fp32",
             "hardware": ["cpu", "srv"], "origin": "b", "max_latency_ms": 5.0},
        ],
    }


@pytest.fixture
def base() -> dict[str, Any]:
    return copy.deepcopy(base_instance())
