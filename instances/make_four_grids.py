"""Generate the four-grids example (instances/four-grids-2022.yaml and its period table
instances/four-grids-2022/periods.parquet).

Run:  python instances/make_four_grids.py GRID_DATA_DIR
GRID_DATA_DIR holds the Electricity Maps 2022 hourly files ``<zone>_2022.csv`` (columns
``datetime_utc``, ``carbon_direct_g_per_kwh``, ...; see four-grids-2022/README.md for
where they come from). The series used are copied into the period table, so the
instance does not need the source files. Data: Electricity Maps, ODbL 1.0
(see instances/four-grids-2022/README.md for the attribution and licences).

A fleet across four grids with very different hourly carbon: California (solar: a deep
midday dip), Spain (solar and wind), Norway (hydro: low and flat) and Brazil (hydro with
a thermal evening). Inference and general IT are pinned near their users by latency;
batch work may move between neighbouring regions, training anywhere; training and batch
are flexible within each day. It shows spatial and temporal shifting on real signals.
Deterministic: no random numbers.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from make_shanghai_hourly import inference_shape, office_shape  # noqa: E402

NAME = "four-grids-2022"
HOURS = 8760

# Grid zones: Electricity Maps zone -> (series column, local time zone for demand shapes)
GRIDS = {
    "ca": ("US-CAL-CISO", "America/Los_Angeles"),
    "es": ("ES", "Europe/Madrid"),
    "no": ("NO", "Europe/Oslo"),
    "br": ("BR", "America/Sao_Paulo"),
}

# Zones: metro areas, coordinates rounded to 0.01 deg. Latency from coordinates with the
# formulation's default model (haversine x 1.5 x 0.005 ms/km + 0.5 ms): within a region
# 1.5-2.8 ms; Madrid-Oslo ~18 ms; Sao Paulo-Spain 63-65 ms; California-Europe 62-71 ms;
# Sao Paulo-Norway / California 78-80 ms.
ZONES = {
    "ca-bay": ("ca", 37.37, -121.92),       # Silicon Valley (Santa Clara): users and a campus
    "ca-sac": ("ca", 38.58, -121.49),       # Sacramento
    "es-madrid": ("es", 40.42, -3.70),      # users and an urban site
    "es-aragon": ("es", 41.65, -0.88),      # Zaragoza area, hyperscale campuses
    "no-oslo": ("no", 59.91, 10.75),        # users and an urban site
    "no-stavanger": ("no", 58.97, 5.73),    # fjord-side hydro-powered campus
    "br-saopaulo": ("br", -23.55, -46.63),  # users and a campus (Barueri/Tambore)
}

# Prices, USD/kWh, constant [R]: indicative 2022 industrial/large-customer prices --
# California ~0.19, Spain ~0.18 (2022 wholesale ~167 EUR/MWh under the Iberian gas cap),
# Norway ~0.10 (a long-term hydro contract; 2022 southern spot prices were higher),
# Brazil ~0.12. The example's objective is carbon; prices only feed the cost figures.
PRICE = {"ca": 0.19, "es": 0.18, "no": 0.10, "br": 0.12}

# Sites: (id, tier, zone, facility, IT kW, halls, can_idle, max utilisation, servers).
# Archetypes, not real operators' sites; installed peak power 55-75 % of IT capacity.
# Norway's GPUs hold about 60 % of the training demand: the rest must choose between the
# other grids, hour by hour (California's midday solar, Brazil's hydro, Spain's wind).
SITES = [
    ("ca-hs", "hyperscale", "ca-bay", "air-hyperscale", 20000, 4, True, 0.9,
     {"gpu-8xh100": 600, "gpu-4xl40s": 800, "cpu-2s": 5000}),
    ("ca-md", "midsize", "ca-sac", "air-midsize", 4000, 2, True, 0.8,
     {"gpu-4xl40s": 400, "cpu-2s": 2400}),
    ("es-hs", "hyperscale", "es-aragon", "liquid-hyperscale", 24000, 4, True, 0.9,
     {"gpu-8xh100": 800, "cpu-2s": 5000}),
    ("es-md", "midsize", "es-madrid", "air-midsize", 5000, 2, True, 0.8,
     {"gpu-4xl40s": 600, "cpu-2s": 2000}),
    ("no-hs", "hyperscale", "no-stavanger", "liquid-hyperscale", 16000, 4, True, 0.9,
     {"gpu-8xh100": 500, "gpu-8xa100": 400, "cpu-2s": 4000}),
    ("no-md", "midsize", "no-oslo", "air-midsize", 3000, 1, False, 0.8,
     {"gpu-4xl40s": 300, "cpu-2s": 1500}),
    ("br-hs", "hyperscale", "br-saopaulo", "air-hyperscale", 16000, 4, True, 0.9,
     {"gpu-8xh100": 400, "gpu-4xl40s": 600, "cpu-2s": 4000}),
]

USERS = {"ca": "ca-bay", "es": "es-madrid", "no": "no-oslo", "br": "br-saopaulo"}
# Per region: (inference TFLOPS each of 3 services, general TFLOPS each of 2, batch, hpc)
# -- sized so that each region's inference and general peaks fit its own sites [R].
REGION_DEMAND = {
    "ca": (4.0e5, 2.5e4, 2.0e4, 1.0e4),
    "es": (3.0e5, 2.0e4, 2.0e4, 1.0e4),
    "no": (1.5e5, 1.5e4, 1.5e4, 8.0e3),
    "br": (3.0e5, 1.5e4, 1.5e4, 8.0e3),
}
# Latency budgets, ms one-way: interactive services 5 (their region only); batch 25 (Spain
# <-> Norway, 15-18 ms, but not across the Atlantic), Brazilian batch 70 (Sao Paulo -> Spain,
# 63-65 ms, not Norway or California, 78-80 ms); training and HPC none.
INTERACTIVE_MS = 5.0
BATCH_MS = {"ca": 25.0, "es": 25.0, "no": 25.0, "br": 70.0}
# Training runs (bf16 on H100/A100, hyperscale only, flexible within each day): id,
# TFLOPS, origin, divisible, allowed sites (data residency) or None.
TRAINING = [
    ("train-01", 1.5e6, "ca-bay", True, None),
    ("train-02", 1.2e6, "ca-bay", False, None),
    ("train-03", 1.5e6, "es-madrid", True, ["es-hs", "no-hs"]),  # EU data stays in the EU
    ("train-04", 1.0e6, "no-oslo", True, None),
    ("train-05", 1.2e6, "br-saopaulo", False, None),
    ("train-06", 8.0e5, "br-saopaulo", True, None),
]
FLEX_WINDOW = 24


def read_grid(folder: Path, zone: str) -> pd.DataFrame:
    df = pd.read_csv(folder / f"{zone}_2022.csv")
    if len(df) != HOURS or df["carbon_direct_g_per_kwh"].isna().any():
        raise SystemExit(f"{zone}_2022.csv: expected {HOURS} complete hourly rows")
    return df


def periods(folder: Path) -> pd.DataFrame:
    frames = {g: read_grid(folder, z) for g, (z, _tz) in GRIDS.items()}
    utc = pd.to_datetime(frames["ca"]["datetime_utc"], utc=True)
    for g, df in frames.items():
        if not pd.to_datetime(df["datetime_utc"], utc=True).equals(utc):
            raise SystemExit(f"{GRIDS[g][0]}_2022.csv: hours differ from the other files")
    cols: dict[str, object] = {"datetime": utc.dt.strftime("%Y-%m-%dT%H:%M:%SZ").to_list()}
    for g, df in frames.items():
        # g/kWh -> kg/kWh (direct, operational emissions of the electricity consumed)
        cols[f"carbon_{g}"] = np.round(df["carbon_direct_g_per_kwh"].to_numpy() / 1000.0, 6)
    for g, (_z, tz) in GRIDS.items():
        local = utc.dt.tz_convert(tz)
        hour = local.dt.hour.to_numpy()
        weekend = local.dt.day_of_week.to_numpy() >= 5
        cols[f"infer_{g}"] = np.round(inference_shape(hour, weekend), 4)
        cols[f"office_{g}"] = np.round(office_shape(hour, weekend), 4)
    return pd.DataFrame(cols)


def workloads() -> tuple[list[dict], dict[str, str]]:
    """The workloads and their demand shape column, by workload id."""
    rows: list[dict] = []
    shape: dict[str, str] = {}
    for g, (infer, general, batch, hpc) in REGION_DEMAND.items():
        users = USERS[g]
        for k, (prec, hw) in enumerate([("fp8", ["gpu-4xl40s", "gpu-8xh100"]),
                                         ("int8", ["gpu-4xl40s"]),
                                         ("fp16", ["gpu-4xl40s", "gpu-8xh100"])]):
            wid = f"infer-{g}-{k + 1}"
            rows.append({"id": wid, "class": "ai-inference", "demand_tflops": infer, "precision": prec,
                         "hardware": hw, "origin": users, "max_latency_ms": INTERACTIVE_MS})
            shape[wid] = f"infer_{g}"
        for k in range(2):
            wid = f"general-{g}-{k + 1}"
            rows.append({"id": wid, "class": "general", "demand_tflops": general, "precision": "fp32",
                         "hardware": ["cpu-2s"], "origin": users, "max_latency_ms": INTERACTIVE_MS})
            shape[wid] = f"office_{g}"
        rows.append({"id": f"batch-{g}", "class": "batch", "demand_tflops": batch, "precision": "fp32",
                     "hardware": ["cpu-2s"], "origin": users, "max_latency_ms": BATCH_MS[g],
                     "flex_window_hours": FLEX_WINDOW})
        rows.append({"id": f"hpc-{g}", "class": "hpc", "demand_tflops": hpc, "precision": "fp64",
                     "hardware": ["cpu-2s", "gpu-8xh100"], "origin": users, "tiers": ["hyperscale"]})
    for wid, tflops, origin, divisible, sites in TRAINING:
        row = {"id": wid, "class": "ai-training", "demand_tflops": tflops, "precision": "bf16",
               "hardware": ["gpu-8xh100", "gpu-8xa100"], "origin": origin, "tiers": ["hyperscale"],
               "divisible": divisible, "flex_window_hours": FLEX_WINDOW}
        if sites:
            row["sites"] = sites
        rows.append(row)
    return rows, shape


def _flow(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    if isinstance(v, float):
        return repr(v)   # 400000.0: YAML 1.1 reads a float only with a dot (4e5 is a string)
    return str(v)


def write(table: pd.DataFrame) -> None:
    out = HERE / NAME
    out.mkdir(exist_ok=True)
    table.to_parquet(out / "periods.parquet", index=False)
    # each site's constant intensity is its grid's 2022 mean (what a one-period model uses)
    mean = {g: round(float(table[f"carbon_{g}"].mean()), 4) for g in GRIDS}
    rows, shape = workloads()
    lines = [
        "# Four grids, 2022 -- GENERATED by instances/make_four_grids.py; edit that script, not",
        "# this file. Hourly carbon intensities: Electricity Maps 2022 (Data: Electricity Maps,",
        "# ODbL 1.0; see four-grids-2022/README.md). Sites are archetypes, not real operators'.",
        "computeplan: 1",
        f"name: {NAME}",
        f"horizon_hours: {HOURS}",
        "objective: carbon",
        "zones:",
    ]
    for z, (_g, lat, lon) in ZONES.items():
        lines.append(f"  {z}: {{lat: {lat}, lon: {lon}}}")
    lines.append("sites:")
    for sid, tier, zone, fac, cap, halls, idle, umax, servers in SITES:
        g = ZONES[zone][0]
        lines.append(f"  - {{id: {sid}, tier: {tier}, zone: {zone}, facility: {fac}, it_capacity_kw: {cap}, "
                     f"halls: {halls}, can_idle: {_flow(idle)}, max_utilisation: {umax},")
        lines.append(f"     price_per_kwh: {PRICE[g]}, carbon_kg_per_kwh: "
                     f"{mean[g]}, renewable_share: 0.0,")
        lines.append("     servers: {" + ", ".join(f"{k}: {v}" for k, v in servers.items()) + "}}")
    lines.append("workloads:")
    for r in rows:
        lines.append("  - {" + ", ".join(f"{k}: {_flow(v)}" for k, v in r.items()) + "}")
    lines.append("time:")
    lines.append(f"  periods: {{parquet: {NAME}/periods.parquet}}")
    lines.append("  zones:")
    for z, (g, _lat, _lon) in ZONES.items():
        lines.append(f"    {z}: {{carbon_kg_per_kwh: carbon_{g}}}")
    lines.append("  demand:")
    for wid, col in shape.items():
        lines.append(f"    {wid}: {col}")
    (HERE / f"{NAME}.yaml").write_text("\n".join(lines) + "\n")


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit("usage: python instances/make_four_grids.py GRID_DATA_DIR")
    write(periods(Path(sys.argv[1])))


if __name__ == "__main__":
    main()
