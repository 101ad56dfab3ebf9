"""Generate the hourly Shanghai example (instances/shanghai-2025-hourly.yaml, its workload
table and its period table instances/shanghai-2025-hourly/periods.parquet).

Run from anywhere, with computeplan installed (the tariff periods, cooling figures and
demand shapes are its generator's):  python instances/make_shanghai_hourly.py
The fleet and the workloads are those of shanghai-2025 (make_shanghai.py, same seed); this
script adds the time dimension of FORMULATION.md section 10 over the 8,760 hours of 2025.
Every series is built from published figures and stated assumptions; nothing here is a
measured hourly series. **No open hourly series of the East China grid exists** (no
public hourly carbon intensity, tariff-by-hour record or load profile for Shanghai data
centres), so each hourly shape is built from the figures below and says so. The basis of
every figure is in the comments and in instances/README.md ("Shanghai 2025, hourly");
confidence tags as there: [C] confirmed, [C2] secondary source, [R] recalled/assumed,
[derived] arithmetic. The output is deterministic (no random numbers at all).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_shanghai as base  # noqa: E402  (the annual fleet: zones, sites, workloads)

# Tariff periods, cooling figures and demand shapes are computeplan's generator's, so that
# `computeplan generate --hours` and this example share one basis (comments there too).
from computeplan.io.generate import (  # noqa: E402
    COOLING,
    inference_shape,
    office_shape,
    tou_levels,
    traffic_shape,
)

NAME = "shanghai-2025-hourly"
YEAR = 2025
HOURS = 8760
TZ = "+08:00"  # China Standard Time, no daylight saving

# ---------------------------------------------------------------------------------------
# Temperature: monthly normals of Shanghai (Xujiahui), daily mean low / high, degC, CMA
#   normals as tabulated at https://www.travelguide-en.org/shanghai-climate/ [C2];
#   cross-checked against the CMA 1971-2000 highs reprinted at
#   https://www.liquisearch.com/geography_of_shanghai/climate (8.1 ... 31.8 ... 11.1;
#   within 1 degC of these) [C2]. Normals are placed at mid-month and interpolated
#   linearly (cyclically) to every day; within a day the temperature follows the usual
#   two-piece cosine between the low at 05:00 and the high at 14:00 [R]. No day-to-day
#   weather: a normal year, so summer afternoons reach ~32 degC, not the 36-40 degC of a
#   heat wave.
# ---------------------------------------------------------------------------------------
T_LOW = [2.1, 3.7, 6.9, 11.9, 17.3, 21.7, 25.8, 25.8, 22.4, 16.8, 10.6, 4.7]
T_HIGH = [8.1, 10.1, 13.8, 19.5, 24.8, 27.8, 32.2, 31.5, 27.9, 22.9, 17.3, 11.1]
T_MIN_HOUR, T_MAX_HOUR = 5.0, 14.0

# ---------------------------------------------------------------------------------------
# Facility cooling (FORMULATION.md section 10): below free_below_c the facility runs at
#   its rating; the proportional overhead rises linearly to the PUE at design_c.
#   design_c 34.4 degC: Shanghai's summer outdoor design dry-bulb temperature for air
#   conditioning (GB 50736-2012, appendix A) [R]. Free-cooling thresholds and PUEs at
#   design are assumptions [R] for each cooling type: warm-water liquid cooling runs on dry
#   coolers up to ~15 degC; chilled water with a water-side economiser below ~10 degC;
#   urban midsize chillers below ~8 degC; micro-modules' DX units with an air economiser
#   below ~15 degC; legacy rooms (no economiser) only in the coldest hours (< 5 degC).
#   The catalogue's pue_full is read as the ANNUAL full-load figure, as GB 40879-2021
#   defines its ratio over a year weighted by temperature (facts 1.1 [C]). So the
#   instance overrides each facility with a rating (pue_full, pue_quarter) lowered by the
#   same delta, chosen so that the full-load PUE averaged over this year's hours equals
#   the catalogue value [derived]; f (the fixed part) is unchanged by such a shift.
# ---------------------------------------------------------------------------------------
DESIGN_C = 34.4  # COOLING (free_below_c, pue_full_at_design) comes from the generator
CATALOGUE_PUE = {  # the catalogue's (pue_full, pue_quarter), models/facilities.yaml
    "liquid-hyperscale": (1.15, 1.30),
    "air-hyperscale": (1.22, 1.45),
    "air-midsize": (1.35, 1.75),
    "edge-micromodular": (1.55, 2.20),
    "legacy-room": (1.80, 2.60),
}

# ---------------------------------------------------------------------------------------
# Time-of-use tariff, large industrial and commercial users (two-part, 10 kV and above).
#   Hours: peak 08-11 and 18-21, valley 22-06, flat otherwise (6 h / 8 h / 10 h); summer
#   critical peak 12-14 in July and August; levels peak ~1.10, flat ~0.70, valley ~0.32
#   yuan/kWh at 10 kV (facts 5.2 [R]: the current Shanghai table was not found; the old
#   published tariff had two periods, 1.044 / 0.513 [C2]). Ratios: peak/valley 3.4 and
#   critical peak = peak x 1.2, the minimum uplift of the national TOU notice (NDRC
#   发改价格〔2021〕1093号: critical peak >= 20 % above peak; peak/valley >= 3:1, or 4:1
#   where the system peak-valley difference exceeds 40 %) [R]. Each voltage class keeps
#   the annual flat-load mean of shanghai-2025 (hyperscale 35-110 kV 0.62, midsize 10 kV
#   0.67, edge low voltage 0.72 yuan/kWh), so the two instances price a flat load alike
#   [derived].
# ---------------------------------------------------------------------------------------
TOU_COLUMN = {"hyperscale": "tou_hv", "midsize": "tou_10kv", "edge": "tou_lv"}

# ---------------------------------------------------------------------------------------
# Rooftop photovoltaics. Capacity factor by hour from the sun's elevation at 31.2 N,
#   121.5 E (declination by Cooper's formula; solar time = clock time + 6 min), scaled
#   so that the annual capacity factor is 0.12, i.e. ~1,050 kWh per kWp a year, the
#   order of fixed rooftop PV yields in the Yangtze delta [R]; June's plum-rain season
#   (梅雨) gets 0.75 of the clear-sky shape [R]. Rooftop size per kW of IT capacity:
#   hyperscale campuses 0.05 kWp/kW (a 20 MW campus ~1 MWp of roof), midsize 0.03, edge
#   rooms none [R]. A site's renewable share is then its contracted green electricity
#   (shanghai-2025's renewable_share) plus rooftop output over the site's IT capacity, an
#   approximation that counts PV against a fully loaded site [R].
# ---------------------------------------------------------------------------------------
LAT, LON, STD_MERIDIAN = 31.2, 121.5, 120.0
PV_ANNUAL_CF = 0.12
PV_MONTH_FACTOR = {6: 0.75}
ROOF_KWP_PER_KW = {"hyperscale": 0.05, "midsize": 0.03, "edge": 0.0}

# ---------------------------------------------------------------------------------------
# Grid carbon: East China grid average 0.58 kg CO2/kWh (facts 5.1 [R]; national 2022
#   average 0.5366 [C]). Diurnal shape [R]: the average intensity dips when solar output
#   displaces coal (by up to 8 % at the sunniest hour: distributed PV is a few per cent of
#   East China's generation, more at noon), and rises by 4 % in the evening ramp 18-22
#   when gas and coal peakers follow the load. Rescaled to an annual mean of 0.58.
# ---------------------------------------------------------------------------------------
CARBON_MEAN = base.CARBON
CARBON_PV_DIP = 0.08
CARBON_EVENING = 0.04

# ---------------------------------------------------------------------------------------
# Demand shapes (multiples of the mean; the engine rescales to mean 1 anyway) [R]:
#  ai-inference: follows people -- trough 0.45 of the daily peak at 04:00-05:00, morning
#    rise, plateau through the working day, evening peak at 21:00 (the diurnal pattern of
#    published production LLM-serving traces, e.g. Azure's 2023 inference traces) [R];
#    weekends 0.9 of weekdays.
#  general (cloud and enterprise IT): office shape -- weekdays 09-18 at 1.0, weekend days
#    0.7, evenings and nights 0.6 [R].
#  edge (V2X, video, AR): traffic shape -- rush hours 07-09 and 17-19 at 1.0, daytime 0.8,
#    night 0.3 [R].
#  hpc: flat. ai-training and the 6 optional batch-inference jobs: flat demand, but
#    flex_window_hours: 24, so each day's compute-hours may be placed in any hours of the
#    day (training checkpoints and batch queues tolerate hours of delay) [R].
# ---------------------------------------------------------------------------------------
FLEX_CLASSES = ("ai-training",)
BATCH_IDS = tuple(f"infer-{i}" for i in range(45, 51))  # make_shanghai: optional batch jobs
FLEX_WINDOW = 24

# ---------------------------------------------------------------------------------------
# Grid connections (grid_kw, facility kW in every hour) [R]: qp-hs-1, the green-power
#   Qingpu campus the renewable target fills, has a 16 MW connection on a 20 MW IT
#   campus (its fourth hall came before its substation upgrade); lz-md-1 in Lujiazui has a
#   2.5 MW 10 kV feeder allotment for 2.5 MW of IT, so summer afternoons (cooling) with the
#   finance workloads at their office peak press on it.
# ---------------------------------------------------------------------------------------
GRID_KW = {"qp-hs-1": 16000, "lz-md-1": 2500}

# Targets: the policy targets of shanghai-2025 (fleet PUE 1.30, site PUE 1.25 hyperscale /
# 1.50 midsize, renewable share 0.33). Its ece/carbon/output targets were set a few per
# cent from the annual model's optimum and are left out here. Objective: cost (the
# time-of-use tariff is what the hours change most).
TARGETS = {k: v for k, v in base.TARGETS.items()
           if k in ("fleet_pue_max", "site_pue_max", "renewable_share_min")}


def clock() -> pd.DatetimeIndex:
    """The 8,760 hour starts of 2025, China Standard Time (naive, local)."""
    return pd.date_range(f"{YEAR}-01-01", periods=HOURS, freq="h")


def _cyclic_daily(values: list[float], t: pd.DatetimeIndex) -> np.ndarray:
    """Monthly figures placed at mid-month, linearly interpolated to each day, cyclically."""
    days = t.day_of_year.to_numpy() - 1 + t.hour.to_numpy() / 24.0
    mid = np.array([pd.Timestamp(YEAR, m, 15).day_of_year - 1 for m in range(1, 13)], dtype=float)
    xp = np.concatenate([mid - 365, mid, mid + 365])
    fp = np.concatenate([values, values, values])
    return np.interp(days, xp, fp)


def temperature(t: pd.DatetimeIndex) -> np.ndarray:
    """Hourly temperature, degC: daily low at 05:00, high at 14:00, two-piece cosine."""
    lo, hi = _cyclic_daily(T_LOW, t), _cyclic_daily(T_HIGH, t)
    h = t.hour.to_numpy().astype(float)
    rising = (h >= T_MIN_HOUR) & (h <= T_MAX_HOUR)
    # phase in [0, 1]: 0 at the low, 1 at the high
    up = (h - T_MIN_HOUR) / (T_MAX_HOUR - T_MIN_HOUR)
    down = 1.0 - ((h - T_MAX_HOUR) % 24.0) / (24.0 - (T_MAX_HOUR - T_MIN_HOUR))
    phase = np.where(rising, up, down)
    return lo + (hi - lo) * (1.0 - np.cos(math.pi * phase)) / 2.0


def cooling_ramp(temp: np.ndarray, free_below: float, design: float = DESIGN_C) -> np.ndarray:
    """FORMULATION.md section 10's clamp((temp - T0) / (T1 - T0), 0, 1)."""
    return np.clip((temp - free_below) / (design - free_below), 0.0, 1.0)


def facilities(temp: np.ndarray) -> dict[str, dict[str, float]]:
    """Each facility's rating, shifted so that the year's mean full-load PUE equals the
    catalogue's pue_full (see the comment above COOLING)."""
    out = {}
    for fac, (t0, pd_) in COOLING.items():
        pf, pq = CATALOGUE_PUE[fac]
        k = (4 * (pf - 1) - (pq - 1)) / 3
        f_c = pf - 1 - k
        k_d = pd_ - 1 - f_c
        m = float(cooling_ramp(temp, t0).mean())
        delta = (k_d - k) * m / (1 - m)   # mean(k' + (k_d - k') r) = k with k' = k - delta
        delta = round(delta, 3)
        out[fac] = {"pue_full": round(pf - delta, 3), "pue_quarter": round(pq - delta, 3),
                    "free_below_c": t0, "design_c": DESIGN_C, "pue_full_at_design": pd_}
    return out


def tou(t: pd.DatetimeIndex) -> np.ndarray:
    """The 10 kV time-of-use level of each hour, yuan/kWh (before rescaling per class)."""
    return tou_levels(t.hour.to_numpy(), t.month.to_numpy())


def pv_capacity_factor(t: pd.DatetimeIndex) -> np.ndarray:
    """Rooftop PV output per kWp, 0..1, annual mean PV_ANNUAL_CF."""
    n = t.day_of_year.to_numpy().astype(float)
    decl = np.radians(23.45) * np.sin(2 * math.pi * (284 + n) / 365)
    solar_h = t.hour.to_numpy() + 0.5 + (LON - STD_MERIDIAN) / 15.0   # mid-hour, solar time
    omega = np.radians(15.0 * (solar_h - 12.0))
    phi = math.radians(LAT)
    cosz = np.sin(phi) * np.sin(decl) + np.cos(phi) * np.cos(decl) * np.cos(omega)
    shape = np.clip(cosz, 0.0, None)
    month = t.month.to_numpy()
    for mo, fac in PV_MONTH_FACTOR.items():
        shape = np.where(month == mo, shape * fac, shape)
    return shape * (PV_ANNUAL_CF / shape.mean())


def carbon(t: pd.DatetimeIndex, pv: np.ndarray) -> np.ndarray:
    """East China grid average intensity, kg/kWh, annual mean CARBON_MEAN."""
    h = t.hour.to_numpy()
    shape = 1.0 - CARBON_PV_DIP * pv / pv.max() + CARBON_EVENING * np.isin(h, (18, 19, 20, 21))
    return CARBON_MEAN * shape / shape.mean()


def _weekend(t: pd.DatetimeIndex) -> np.ndarray:
    return t.day_of_week.to_numpy() >= 5


def _site_renewable_column(sid: str, tier: str, ren: float) -> str | None:
    """The renewable-share column of a site with a rooftop, or None (a constant share)."""
    if ROOF_KWP_PER_KW[tier] == 0.0:
        return None
    return f"ren_{tier[:2]}_{round(ren * 100):03d}"


def periods() -> pd.DataFrame:
    t = clock()
    hour = t.hour.to_numpy()
    temp = temperature(t)
    pv = pv_capacity_factor(t)
    cols: dict[str, object] = {"datetime": [f"{x:%Y-%m-%dT%H:%M}{TZ}" for x in t]}
    cols["sh_temp"] = np.round(temp, 2)
    level = tou(t)
    for tier, col in TOU_COLUMN.items():
        cols[col] = np.round(level * (base.PRICE[tier] / level.mean()), 4)
    cols["ec_carbon"] = np.round(carbon(t, pv), 4)
    cols["pv_cf"] = np.round(pv, 4)
    for sid, tier, *_rest in base.SITES:
        ren = _rest[6]
        col = _site_renewable_column(sid, tier, ren)
        if col is not None and col not in cols:
            cols[col] = np.round(np.minimum(1.0, ren + ROOF_KWP_PER_KW[tier] * pv), 4)
    cols["infer_shape"] = np.round(inference_shape(hour, _weekend(t)), 4)
    cols["office_shape"] = np.round(office_shape(hour, _weekend(t)), 4)
    cols["traffic_shape"] = np.round(traffic_shape(hour), 4)
    cols["flat"] = np.ones(HOURS)
    return pd.DataFrame(cols)


def workloads() -> list[dict]:
    rows = base.workloads(__import__("random").Random(base.SEED))
    for r in rows:
        flex = r["class"] in FLEX_CLASSES or r["id"] in BATCH_IDS
        r["flex_window_hours"] = FLEX_WINDOW if flex else ""
    return rows


def write() -> None:
    tables = HERE / NAME
    tables.mkdir(exist_ok=True)
    table = periods()
    table.to_parquet(tables / "periods.parquet", index=False)
    base.write_workloads(HERE, NAME, workloads(), [*base.COLUMNS, "flex_window_hours"])

    fac = facilities(table["sh_temp"].to_numpy())
    lines = [
        "# Shanghai 2025 over 8,760 hours -- GENERATED by instances/make_shanghai_hourly.py;",
        "# edit that script, not this file. The fleet and workloads are shanghai-2025's; the",
        "# hourly series are built from published figures and stated assumptions (no open",
        "# hourly East China grid series exists): basis in instances/README.md.",
        "computeplan: 1",
        f"name: {NAME}",
        f"horizon_hours: {HOURS}",
        "objective: cost",
        "precision_weights: " + base.flow(base.PRECISION_WEIGHTS),
        "facilities:",
        "  # ratings lowered so that the year's mean full-load PUE is the catalogue's pue_full",
    ]
    for name, f in fac.items():
        lines.append(f"  {name}:")
        lines.append(f"    pue_full: {f['pue_full']}")
        lines.append(f"    pue_quarter: {f['pue_quarter']}")
        lines.append(f"    cooling: {{free_below_c: {f['free_below_c']}, design_c: {f['design_c']}, "
                     f"pue_full_at_design: {f['pue_full_at_design']}}}")
        lines.append(f"    source: \"catalogue {name} {CATALOGUE_PUE[name][0]} as the annual figure; "
                     f"cooling thresholds and PUE at design assumed [R], instances/README.md\"")
    lines.append("zones:")
    for z, (lat, lon) in base.ZONES.items():
        lines.append(f"  {z}: {{lat: {lat}, lon: {lon}}}")
    lines.append("sites:")
    for site in base.SITES:
        sid = site[0]
        lines += base.site_lines(site)
        if sid in GRID_KW:
            lines.append(f"    grid_kw: {GRID_KW[sid]}")
    lines += base.tail_lines(NAME, TARGETS)
    lines.append("time:")
    lines.append(f"  periods: {{parquet: {NAME}/periods.parquet}}")
    lines.append("  zones:")
    for z in base.ZONES:
        lines.append(f"    {z}: {{temperature_c: sh_temp}}")
    lines.append("  sites:")
    for sid, tier, _zone, _fac, _cap, _halls, _idle, _umax, ren, _servers, _note in base.SITES:
        series = {"price_per_kwh": TOU_COLUMN[tier], "carbon_kg_per_kwh": "ec_carbon"}
        col = _site_renewable_column(sid, tier, ren)
        if col is not None:
            series["renewable_share"] = col
        lines.append(f"    {sid}: {{" + ", ".join(f"{k}: {v}" for k, v in series.items()) + "}")
    lines.append("  demand:")
    lines.append("    ai-inference: infer_shape")
    lines.append("    general: office_shape")
    lines.append("    edge: traffic_shape")
    for wid in BATCH_IDS:
        lines.append(f"    {wid}: flat")
    base.write_yaml(HERE, NAME, lines)


def main() -> None:
    write()


if __name__ == "__main__":
    main()
