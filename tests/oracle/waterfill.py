"""Water-filling: the closed-form dispatch of flexible work on one site (section 10).

One site, one GPU pool whose powered servers follow the busy ones
(``n = b / umax``, idle power > 0), only flexible work with 24-hour windows and a
``max_rate``, no targets, the carbon objective and no renewable share. Each
period's facility power is then ``f z + (1 + k) * a * q[t]`` with ``q[t]`` the
served multiple of demand and ``a`` the IT kW per unit of it, so the objective is
``const + sum_t carbon[t] * (1 + k) * a * q[t]``: within each window the cleanest
hours fill up to ``max_rate`` first, then the next cleanest takes the rest.

``water_fill`` computes that with plain numpy, independent of the engine and of
the oracle. ``instance`` builds the matching instance on the shipped 2022 series
of the California grid (``../shared/data/grid/US-CAL-CISO_2022.csv``, Electricity
Maps, ODbL 1.0).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np

# The shared data folder: COMPUTEPLAN_SHARED, else the project root's sibling.
SHARED = Path(os.environ.get("COMPUTEPLAN_SHARED") or Path(__file__).resolve().parents[2].parent / "shared")
GRID = SHARED / "data" / "grid"
CALIFORNIA = GRID / "US-CAL-CISO_2022.csv"

DEMAND = 30000.0  # TFLOPS, mean
MAX_RATE = 2.5  # 2.5 * 30000 = 75 busy GPUs, 93.75 on: IT 787.5 kW <= 1000 kW
WINDOW = 24


def carbon_series(path: Path, start_hour: int, hours: int) -> np.ndarray:
    """``carbon_direct_g_per_kwh / 1000`` (kg/kWh) of ``hours`` rows from ``start_hour``."""
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))[start_hour:start_hour + hours]
    assert len(rows) == hours, f"{path.name}: fewer than {start_hour + hours} rows"
    return np.array([float(r["carbon_direct_g_per_kwh"]) / 1000.0 for r in rows])


def water_fill(levels: np.ndarray, max_rate: float, window: int = WINDOW) -> np.ndarray:
    """Served multiple of demand per hourly period: per window of ``window`` hours,
    ``window`` demand-hours poured into the lowest levels, ``max_rate`` at most each."""
    served = np.zeros_like(levels, dtype=float)
    for start in range(0, len(levels), window):
        block = levels[start:start + window]
        left = float(len(block))  # demand-hours of the window (flat shape, mean 1)
        for t in np.argsort(block, kind="stable"):
            take = min(max_rate, left)
            served[start + t] = take
            left -= take
            if left <= 0:
                break
    return served


def tie_groups(levels: np.ndarray, served: np.ndarray, window: int = WINDOW) -> dict:
    """Served quantity summed per (window, level): equal levels may share their load
    any way at the same optimum, so only their sum is determined."""
    out: dict[tuple[int, float], float] = {}
    for t, (lv, q) in enumerate(zip(levels, served, strict=True)):
        key = (t // window, round(float(lv), 9))
        out[key] = out.get(key, 0.0) + float(q)
    return out


def instance(days: int = 3, start_day: int = 181) -> tuple[dict, np.ndarray]:
    """The single-site flexible instance over ``days`` days of 2022 from ``start_day``
    (0-based day of the year; 181 is 1 July), and its carbon series (kg/kWh)."""
    carbon = carbon_series(CALIFORNIA, 24 * start_day, 24 * days)
    raw = {
        "computeplan": 1,
        "name": "water-filling-california",
        "objective": "carbon",
        "hardware": {"gpu-alpha": {"perf_tflops": {"bf16": 1000}, "idle_kw": 2, "peak_kw": 10}},
        "facilities": {"f12": {"pue_full": 1.2, "pue_quarter": 1.5}},
        "zones": {"ca": {"lat": 37.0, "lon": -120.0}},
        "sites": [{
            "id": "ca-1", "tier": "hyperscale", "zone": "ca", "facility": "f12",
            "it_capacity_kw": 1000, "max_utilisation": 0.8, "price_per_kwh": 0.2,
            "carbon_kg_per_kwh": 0.2, "servers": {"gpu-alpha": 100},
        }],
        "workloads": [{
            "id": "train", "class": "ai-training", "demand_tflops": DEMAND, "precision": "bf16",
            "hardware": ["gpu-alpha"], "origin": "ca", "flex_window_hours": WINDOW,
            "max_rate": MAX_RATE,
        }],
        "time": {
            "periods": {"ca_carbon": [float(v) for v in carbon]},
            "sites": {"ca-1": {"carbon_kg_per_kwh": "ca_carbon"}},
        },
    }
    return raw, carbon
