"""Write ``instances-time/01-week-four-grids.csv`` from the shipped 2022 grid series.

Run as ``python -m tests.oracle.make_week`` from the project root. One week,
Monday 13 June 2022 00:00 UTC to Sunday 19 June 23:00 UTC (168 hourly rows,
day of the year 163, 0-based), of four grids' direct carbon intensity
(``carbon_direct_g_per_kwh / 1000``, kg CO2eq/kWh). The renewable share is left
out: the intensity already averages the renewable supply, and the model's
``carbon * (1 - renewable)`` would count it twice. Data: Electricity Maps, ODbL 1.0.

Within a UTC day (a flexible window) a grid's intensity may repeat to the 0.01 g
of the source; a repeated value is raised by 0.00001 kg/kWh (0.01 g) until it is
unique in its day, so that the optimal dispatch of each hour is unique (a tie
between two hours would let two correct solvers split work differently).

``infer_shape`` is the inference demand shape of the instance: a synthetic
diurnal curve in UTC, ``1 + 0.5 * cos(2 pi (hour - 16) / 24)`` (peak at 16:00
UTC, trough at 04:00), rounded to 4 decimals; it is rescaled to a mean of 1 when
the instance is read.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .waterfill import GRID

START_DAY = 163
HOURS = 168
GRIDS = {"ca": "US-CAL-CISO_2022.csv", "es": "ES_2022.csv", "no": "NO_2022.csv", "br": "BR_2022.csv"}
OUT = Path(__file__).parent / "instances-time" / "01-week-four-grids.csv"


def rows() -> list[dict[str, str]]:
    series = {}
    for key, name in GRIDS.items():
        with (GRID / name).open(newline="") as fh:
            series[key] = list(csv.DictReader(fh))[24 * START_DAY:24 * START_DAY + HOURS]
    for key in GRIDS:
        for day in range(HOURS // 24):
            seen: set[int] = set()
            for row in series[key][24 * day:24 * day + 24]:
                value = round(float(row["carbon_direct_g_per_kwh"]) * 100)  # 0.01 g
                while value in seen:
                    value += 1
                seen.add(value)
                row["carbon_direct_g_per_kwh"] = str(value / 100)
    out = []
    for t in range(HOURS):
        row = {"datetime": series["ca"][t]["datetime_utc"]}
        for key in GRIDS:
            assert series[key][t]["datetime_utc"] == row["datetime"]
            row[f"{key}_carbon"] = f"{float(series[key][t]['carbon_direct_g_per_kwh']) / 1000:.5f}"
        row["infer_shape"] = f"{1 + 0.5 * math.cos(2 * math.pi * ((t % 24) - 16) / 24):.4f}"
        out.append(row)
    return out


def main() -> None:
    data = rows()
    with OUT.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(data[0]))
        writer.writeheader()
        writer.writerows(data)


if __name__ == "__main__":
    main()
