"""A plain, independent reference model of FORMULATION.md (the test oracle).

It is written from ``FORMULATION.md`` and ``FORMATS.md`` alone and deliberately
shares nothing with ``computeplan``: it reads the raw instance dict, builds the
LP/MILP with PuLP one variable and one constraint at a time, solves it with CBC
and recomputes every indicator from the variable values with plain loops.

Sections 3-6 (one period), 10 (time) and 11 (build-out) are modelled. Without a
``time`` block the instance is one period of ``horizon_hours`` clock hours that
recurs once, so sections 3-6 are the one-period case of section 10.

Only inline instances are supported (hardware and facilities in the dict or in
``include`` files, sites and workloads as lists; periods as inline columns or a
CSV file); that is all the oracle's own instances need. ``typical_days`` is not
modelled.

Choices where the documents are silent (kept in one place, see ``AMBIGUITIES``):

- a workload that names both ``tiers`` and ``sites`` may only use a site that is
  in both lists;
- latency limits are inclusive (``latency <= max_latency_ms``) and compared
  exactly, without a tolerance;
- an explicit ``latency_ms`` pair also overrides the same-zone hop term; the
  route factor (1.5) and hop term (0.5 ms) have no instance key, so they are
  always the defaults;
- the objective value includes the unserved-demand penalty;
- with optional work but no ``unserved_penalty`` nothing is solved (status
  ``None``): the default is the engine's to choose;
- an optional workload with no candidate is simply unserved (valid input);
- the ECE indicator uses the precision weights, like the ``ece_min`` target;
- a site key of ``site_pue_max`` takes precedence over its tier's key; a site
  whose halls are all active (``can_idle: false``) is held to its target even
  when it carries no work, so its idle servers must be powered;
- ratios over a zero denominator (PUE, ECE, renewable share, output per kWh
  with nothing running) are ``None``;
- "the energy they draw" (servers powered beyond ``b/umax``) is the facility
  energy they cause: their idle IT energy times ``1 + k`` (the fixed hall
  overhead ``f`` is not theirs).

Time (section 10):

- a non-divisible workload is all or nothing, as in the single period: on its
  one pool it is served exactly as its shape when inflexible
  (``x[t] = s[t] * y``), within ``max_rate * y`` per period and its window
  balances when flexible; when optional and not placed it is unserved in every
  period (``u[t] = s[t] * (1 - sum y)``), never partly served;
- unserved demand ``u[i,t]`` is per period; a flexible workload's window balance
  counts it with the served quantity, ``sum len (sum_jh x + u) = sum len s``,
  and ``max_rate`` caps the served quantity only; the penalty is
  ``unserved_penalty * sum_t w[t] * D * u[i,t]`` (TFLOPS-hours over the horizon);
- a period belongs to the window of its *start*: with a ``day`` column, the
  hour of the day is the clock hours since the start of that day's first period
  (a day's clock starts with its first period, whatever its clock time); without
  one, the day is ``clock // 24`` and the hour of the day ``clock % 24``, where
  ``clock`` is the sum of ``hours`` of the periods before; for ``W > 24`` the
  window is ``clock // W`` (a ``W`` that does not divide 24, or ``W > 24`` with a
  recurring period, is an error). Without a ``time`` block a flexible workload's
  only window is the single period, so it is served as demanded;
- ``max_rate`` of an inflexible workload is ignored;
- a demand shape is rescaled to a ``w``-weighted mean of 1: ``s = v / (sum w v / H)``;
  a shape whose weighted mean is not positive, or with a negative value, is an error;
- ``served_tflops`` and ``unserved_tflops`` are ``w``-weighted means over the
  horizon (TFLOPS-hours over ``H``), as is the fleet's ``it_kw`` / ``facility_kw``
  and a site's ``it_kw`` / ``overhead_kw`` / ``facility_kw``; ``servers_beyond_need``
  is a ``w``-weighted mean of servers, ``beyond_need_energy_kwh`` a weighted sum;
- ``server_utilisation`` is ``sum_t w sum b / (H * installed)`` and the target
  row ``sum_t w sum b >= T * H * installed`` (installed counts built servers);
- a site's series of ``temperature_c`` only matters with ``cooling``; a site
  without a temperature series (own or zone's) runs at its rating;
- ``peak_facility_kw`` is the largest ``P[j,t]`` over the periods and
  ``peak_period`` the 0-based position of the first period where it occurs;
- the value of flexibility is ``objective_without - objective`` where
  ``objective_without`` is the optimum with every ``flex_window_hours`` removed
  (``max_rate`` then plays no part); when no workload is flexible it is 0 and
  ``objective_without`` is the objective; when the instance without flexibility
  is infeasible both are ``None``;
- ``shifted_tflops_hours`` = ``sum_{i flexible, t} w[t] * D[i] * max(0,
  served[i,t] - s[i,t])``: the TFLOPS-hours served in a period beyond its demand
  shape (moved into it). When all flexible work is served and the periods of a
  window share one weight it equals ``sum w D |served - s| / 2`` (each hour moved
  counted once). It need not be unique over an optimal face (ties);
- ``time.periods`` of the result is the number of periods, ``time.hours`` the
  horizon ``H = sum w``;
- a period table read from CSV takes every column but ``datetime`` as numbers.

Build-out (section 11):

- ``carbon_t`` and the ``carbon_max`` target stay the grid's (operational)
  carbon; the embodied carbon of new servers enters the carbon objective only,
  and is its own indicator ``embodied_carbon_t``;
- ``capex_per_year`` and ``embodied_carbon_t`` are per year (annualised); the
  objective adds them times ``H / 8760``;
- a site's hall size for new halls is ``it_capacity_kw / halls``, or
  ``build.hall_kw`` when ``halls`` is 0;
- an opened site (``o = 1``) with nothing else built pays ``site_capex`` only;
  ``o`` is free to be 0 when nothing is built (the objective sees to that);
- a site's ``utilisation`` counts its built servers as installed.
"""

from __future__ import annotations

import csv
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulp
import yaml

DEFAULT_HORIZON = 8760.0
EARTH_RADIUS_KM = 6371.0
ROUTE_FACTOR = 1.5
MS_PER_KM = 0.005
HOP_MS = 0.5
DEFAULT_MAX_RATE = 2.0
DEFAULT_DISCOUNT_RATE = 0.06
DEFAULT_SERVER_LIFE = 5.0
DEFAULT_BUILD_LIFE = 15.0
TIERS = ("hyperscale", "midsize", "edge")
PRECISIONS = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")
OBJECTIVES = ("energy", "cost", "carbon")
INDICATORS = (
    "fleet_pue",
    "ece_gflops_per_w",
    "energy_kwh",
    "cost",
    "carbon_t",
    "renewable_share",
    "served_tflops",
    "unserved_tflops",
    "output_per_kwh",
)
BUILD_INDICATORS = ("capex_per_year", "embodied_carbon_t")

AMBIGUITIES = __doc__

# Keys allowed by FORMATS.md, so the oracle also proves its instances are valid.
TOP_KEYS = {
    "computeplan", "name", "horizon_hours", "objective", "unserved_penalty",
    "precision_weights", "include", "hardware", "facilities", "zones", "latency_ms",
    "sites", "workloads", "targets", "time", "discount_rate",
}
HARDWARE_KEYS = {
    "perf_tflops", "idle_kw", "peak_kw", "source", "notes", "capex", "lifetime_years", "embodied_kg",
}
FACILITY_KEYS = {"pue_full", "pue_quarter", "source", "notes", "cooling"}
COOLING_KEYS = {"free_below_c", "design_c", "pue_full_at_design"}
ZONE_KEYS = {"lat", "lon"}
SITE_KEYS = {
    "id", "tier", "zone", "facility", "it_capacity_kw", "halls", "can_idle",
    "max_utilisation", "price_per_kwh", "carbon_kg_per_kwh", "renewable_share", "servers",
    "grid_kw", "build",
}
BUILD_KEYS = {"halls_max", "hall_capex", "lifetime_years", "servers_max", "site_capex", "hall_kw"}
WORKLOAD_KEYS = {
    "id", "class", "demand_tflops", "precision", "hardware", "origin", "max_latency_ms",
    "tiers", "sites", "divisible", "must_serve", "value_per_tflops_hour",
    "flex_window_hours", "max_rate",
}
TARGET_KEYS = {
    "fleet_pue_max", "site_pue_max", "ece_min", "renewable_share_min", "carbon_max",
    "output_per_kwh_min", "server_utilisation_min", "capex_max",
}
TIME_KEYS = {"periods", "zones", "sites", "demand", "typical_days"}
PERIOD_COLUMNS = {"hours", "weight", "day", "datetime"}
SERIES_FIELDS = ("price_per_kwh", "carbon_kg_per_kwh", "renewable_share", "temperature_c")


def _check_keys(where: str, entry: dict, allowed: set[str]) -> None:
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ValueError(f"{where}: unknown keys {unknown}")


# --------------------------------------------------------------------------- data


def facility_coefficients(pue_full: float, pue_quarter: float, hall_kw: float) -> tuple[float, float]:
    """Return ``(k, f)`` of the affine overhead ``f * z + k * IT`` (section 2)."""
    k = (4.0 * (pue_full - 1.0) - (pue_quarter - 1.0)) / 3.0
    f = (pue_full - 1.0 - k) * hall_kw
    if k < -1e-12 or f < -1e-9:
        raise ValueError(f"facility {pue_full}/{pue_quarter} gives k={k}, f={f} < 0")
    return max(k, 0.0), max(f, 0.0)


def cooling_k(k: float, f: float, hall_kw: float, cooling: dict | None, temp: float | None) -> float:
    """The proportional overhead ``k[j,t]`` at outdoor temperature ``temp`` (section 10)."""
    if cooling is None or temp is None:
        return k
    t0, t1 = float(cooling["free_below_c"]), float(cooling["design_c"])
    k_design = float(cooling["pue_full_at_design"]) - 1.0 - f / hall_kw
    rise = min(max((temp - t0) / (t1 - t0), 0.0), 1.0)
    return k + (k_design - k) * rise


def crf(rate: float, years: float) -> float:
    """Capital recovery factor ``r / (1 - (1 + r)^-L)`` (``1 / L`` at ``r = 0``)."""
    if rate == 0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** -years)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km (haversine, R = 6371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def latency_ms(raw: dict, zone_a: str, zone_b: str) -> float:
    """Latency between two zones: explicit pair, else same-zone hop, else coordinates."""
    for a, b, ms in raw.get("latency_ms") or []:
        if {a, b} == {zone_a, zone_b}:
            return float(ms)
    if zone_a == zone_b:
        return HOP_MS
    zones = raw.get("zones") or {}
    za, zb = zones.get(zone_a) or {}, zones.get(zone_b) or {}
    if not all(key in z for z in (za, zb) for key in ("lat", "lon")):
        raise ValueError(f"no latency for zones {zone_a!r}-{zone_b!r}")
    km = haversine_km(za["lat"], za["lon"], zb["lat"], zb["lon"])
    return km * ROUTE_FACTOR * MS_PER_KM + HOP_MS


def _read_catalogues(raw: dict, base_dir: Path | None) -> tuple[dict, dict]:
    """Hardware and facilities: ``include`` files first, then the instance's own."""
    hardware: dict[str, dict] = {}
    facilities: dict[str, dict] = {}
    for rel in raw.get("include") or []:
        path = (base_dir or Path.cwd()) / rel
        cat = yaml.safe_load(path.read_text()) or {}
        hardware.update(cat.get("hardware") or {})
        facilities.update(cat.get("facilities") or {})
    hardware.update(raw.get("hardware") or {})
    facilities.update(raw.get("facilities") or {})
    return hardware, facilities


@dataclass
class Period:
    hours: float  # clock length
    weight: float  # recurrence
    day: int
    clock: float  # clock hours before this period
    hour_of_day: float
    datetime: str | None = None

    @property
    def w(self) -> float:
        return self.hours * self.weight


@dataclass
class Site:
    id: str
    tier: str
    zone: str
    halls: int
    hall_kw: float
    can_idle: bool
    umax: float
    price: list[float]  # per period
    carbon: list[float]
    renewable: list[float]
    temperature: list[float | None]
    servers: dict[str, float]  # installed N per pool (0 for a pool that exists through servers_max)
    k: list[float]  # per period (cooling)
    f: float
    grid_kw: float | None = None
    pue_target: float | None = None
    halls_max: int = 0
    hall_capex: float = 0.0
    site_capex: float | None = None
    build_life: float = DEFAULT_BUILD_LIFE
    servers_max: dict[str, float] = field(default_factory=dict)


@dataclass
class Workload:
    id: str
    cls: str
    demand: float
    precision: str
    hardware: list[str]
    origin: str
    max_latency: float | None
    tiers: list[str] | None
    sites: list[str] | None
    divisible: bool
    must_serve: bool
    value: float
    shape: list[float]  # s[i,t], w-weighted mean 1
    flex: float | None
    max_rate: float


@dataclass
class ReferenceModel:
    """The PuLP problem and everything needed to read a plan back."""

    prob: pulp.LpProblem
    objective_name: str
    horizon: float
    penalty: float | None
    periods: list[Period]
    sites: list[Site]
    workloads: list[Workload]
    hardware: dict[str, dict]
    weights: dict[str, float]
    discount_rate: float
    candidates: list[tuple[int, int, str]]
    windows: dict[int, dict[Any, list[int]]]  # flexible workload -> window key -> periods
    x: dict[tuple[int, int, str, int], pulp.LpVariable]
    y: dict[tuple[int, int, str], pulp.LpVariable]
    u: dict[tuple[int, int], Any]
    n: dict[tuple[int, str, int], pulp.LpVariable]
    z: dict[int, Any]
    g: dict[int, Any]
    m: dict[tuple[int, str], Any]
    o: dict[int, Any]
    quantities: dict[str, Any] = field(default_factory=dict)
    power: dict[tuple[int, int], Any] = field(default_factory=dict)  # P[j,t]
    served: dict[tuple[int, int], Any] = field(default_factory=dict)  # sum_jh x[i,j,h,t]
    objective_expr: Any = None
    needs_penalty: bool = False
    has_time: bool = False
    has_build: bool = False


def _perf(hardware: dict, h: str, p: str) -> float | None:
    value = (hardware[h].get("perf_tflops") or {}).get(p)
    return None if value is None else float(value)


# ------------------------------------------------------------------------- periods


def _period_columns(time: dict, base_dir: Path | None) -> dict[str, list]:
    """The period table as columns: inline lists or a CSV file."""
    spec = time.get("periods")
    if not isinstance(spec, dict) or not spec:
        raise ValueError("time.periods: a table of columns is required")
    if "parquet" in spec:
        raise ValueError("time.periods: the oracle reads inline columns or CSV only")
    if "csv" in spec:
        path = (base_dir or Path.cwd()) / spec["csv"]
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        if not rows:
            raise ValueError(f"time.periods: {path.name} has no rows")
        columns: dict[str, list] = {name: [row[name] for row in rows] for name in rows[0]}
    else:
        columns = {name: list(values) for name, values in spec.items()}
    lengths = {name: len(values) for name, values in columns.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"time.periods: columns of different lengths {lengths}")
    for name, values in columns.items():
        if name == "datetime":
            columns[name] = [str(v) for v in values]
        elif name == "day":
            columns[name] = [int(float(v)) for v in values]
        else:
            columns[name] = [float(v) for v in values]
            if not all(math.isfinite(v) for v in columns[name]):
                raise ValueError(f"time.periods.{name}: values must be finite")
    return columns


def _periods(raw: dict, base_dir: Path | None) -> tuple[list[Period], dict[str, list]]:
    time = raw.get("time")
    if time is None:
        H = float(raw.get("horizon_hours", DEFAULT_HORIZON))
        return [Period(hours=H, weight=1.0, day=0, clock=0.0, hour_of_day=0.0)], {}
    _check_keys("time", time, TIME_KEYS)
    if time.get("typical_days") is not None:
        raise ValueError("time.typical_days: not modelled by the oracle")
    columns = _period_columns(time, base_dir)
    count = len(next(iter(columns.values())))
    hours = columns.get("hours", [1.0] * count)
    weight = columns.get("weight", [1.0] * count)
    if any(v <= 0 for v in hours) or any(v <= 0 for v in weight):
        raise ValueError("time.periods: hours and weight must be > 0")
    periods = []
    clock = 0.0
    day_start: dict[int, float] = {}
    for t in range(count):
        if "day" in columns:
            day = columns["day"][t]
            day_start.setdefault(day, clock)
            hour_of_day = clock - day_start[day]
        else:
            day = int(clock // 24)
            hour_of_day = clock - 24 * day
        periods.append(
            Period(hours=hours[t], weight=weight[t], day=day, clock=clock, hour_of_day=hour_of_day,
                   datetime=columns["datetime"][t] if "datetime" in columns else None)
        )
        clock += hours[t]
    H = sum(p.w for p in periods)
    if "horizon_hours" in raw and abs(float(raw["horizon_hours"]) - H) > 1e-9 * H:
        raise ValueError(f"horizon_hours {raw['horizon_hours']} != sum(hours * weight) = {H}")
    return periods, columns


def _series(raw: dict, columns: dict[str, list], kind: str, key: str, fld: str) -> list[float] | None:
    """The column named by ``time.<kind>.<key>.<fld>``, or None."""
    table = ((raw.get("time") or {}).get(kind) or {}).get(key) or {}
    name = table.get(fld)
    if name is None:
        return None
    if name not in columns or name in PERIOD_COLUMNS:
        raise ValueError(f"time.{kind}.{key}.{fld}: {name!r} is not a series column")
    return list(columns[name])


def _window_of(p: Period, width: float, recurring: bool) -> Any:
    if width <= 24:
        if abs(24 / width - round(24 / width)) > 1e-9:
            raise ValueError(f"flex_window_hours {width}: must divide 24")
        return (p.day, int(p.hour_of_day // width))
    if recurring:
        raise ValueError("flex_window_hours > 24 needs periods that do not recur")
    return int(p.clock // width)


# -------------------------------------------------------------------------- entities


def _sites(raw: dict, facilities: dict, hardware: dict, columns: dict[str, list],
           count: int) -> list[Site]:
    pue_targets = (raw.get("targets") or {}).get("site_pue_max") or {}
    time = raw.get("time") or {}
    for kind in ("zones", "sites"):
        for key, table in (time.get(kind) or {}).items():
            _check_keys(f"time.{kind}.{key}", table or {}, set(SERIES_FIELDS))
    known_zones = {s["zone"] for s in raw["sites"]} | set(raw.get("zones") or {})
    for key in time.get("zones") or {}:
        if key not in known_zones:
            raise ValueError(f"time.zones.{key}: unknown zone")
    for key in time.get("sites") or {}:
        if key not in {s["id"] for s in raw["sites"]}:
            raise ValueError(f"time.sites.{key}: unknown site")
    sites = []
    for idx, s in enumerate(raw["sites"]):
        _check_keys(f"sites[{idx}]", s, SITE_KEYS)
        if s["tier"] not in TIERS:
            raise ValueError(f"sites[{idx}].tier: {s['tier']!r}")
        fac = facilities[s["facility"]]
        _check_keys(f"facilities.{s['facility']}", fac, FACILITY_KEYS)
        build = s.get("build") or {}
        _check_keys(f"sites[{idx}].build", build, BUILD_KEYS)
        halls = int(s.get("halls", 1))
        capacity = float(s["it_capacity_kw"])
        if halls == 0:
            if "hall_kw" not in build or capacity != 0:
                raise ValueError(f"sites[{idx}]: halls 0 needs build.hall_kw and it_capacity_kw 0")
            hall_kw = float(build["hall_kw"])
        else:
            hall_kw = capacity / halls
            if "hall_kw" in build and abs(float(build["hall_kw"]) - hall_kw) > 1e-9 * hall_kw:
                raise ValueError(f"sites[{idx}].build.hall_kw: must equal the hall size {hall_kw}")
        k, f = facility_coefficients(float(fac["pue_full"]), float(fac["pue_quarter"]), hall_kw)
        cooling = fac.get("cooling")
        if cooling is not None:
            _check_keys(f"facilities.{s['facility']}.cooling", cooling, COOLING_KEYS)
        servers = {h: float(cnt) for h, cnt in (s.get("servers") or {}).items()}
        servers_max = {h: float(cnt) for h, cnt in (build.get("servers_max") or {}).items()}
        for h in servers_max:
            servers.setdefault(h, 0.0)  # a pool may exist through servers_max only
            if hardware.get(h, {}).get("capex") is None:
                raise ValueError(f"sites[{idx}].build.servers_max.{h}: hardware needs capex")
        for h in servers:
            if h not in hardware:
                raise ValueError(f"sites[{idx}].servers.{h}: unknown hardware")
        halls_max = int(build.get("halls_max", 0))
        if halls_max > 0 and build.get("hall_capex") is None:
            raise ValueError(f"sites[{idx}].build.hall_capex: required with halls_max")

        def series(fld: str, constant: float | None, s: dict = s) -> list:
            own = _series(raw, columns, "sites", s["id"], fld)
            zone = _series(raw, columns, "zones", s["zone"], fld)
            return own or zone or [constant] * count

        price = [float(v) for v in series("price_per_kwh", float(s["price_per_kwh"]))]
        carbon = [float(v) for v in series("carbon_kg_per_kwh", float(s["carbon_kg_per_kwh"]))]
        renewable = [float(v) for v in series("renewable_share", float(s.get("renewable_share", 0.0)))]
        temperature = series("temperature_c", None)
        if any(v < 0 for v in price + carbon) or any(not 0 <= v <= 1 for v in renewable):
            raise ValueError(f"sites[{idx}]: a series is out of range")
        k_t = [cooling_k(k, f, hall_kw, cooling, temp) for temp in temperature]
        # A site id key takes precedence over the key of the site's tier.
        target = pue_targets.get(s["id"], pue_targets.get(s["tier"]))
        sites.append(
            Site(
                id=s["id"],
                tier=s["tier"],
                zone=s["zone"],
                halls=halls,
                hall_kw=hall_kw,
                can_idle=bool(s.get("can_idle", False)),
                umax=float(s.get("max_utilisation", 1.0)),
                price=price,
                carbon=carbon,
                renewable=renewable,
                temperature=temperature,
                servers=servers,
                k=k_t,
                f=f,
                grid_kw=None if s.get("grid_kw") is None else float(s["grid_kw"]),
                pue_target=None if target is None else float(target),
                halls_max=halls_max,
                hall_capex=float(build.get("hall_capex", 0.0)),
                site_capex=None if build.get("site_capex") is None else float(build["site_capex"]),
                build_life=float(build.get("lifetime_years", DEFAULT_BUILD_LIFE)),
                servers_max=servers_max,
            )
        )
    return sites


def _workloads(raw: dict, columns: dict[str, list], periods: list[Period]) -> list[Workload]:
    demand_shapes = (raw.get("time") or {}).get("demand") or {}
    ids = {w["id"] for w in raw["workloads"]}
    classes = {w["class"] for w in raw["workloads"]}
    for key, name in demand_shapes.items():
        if key not in ids | classes:
            raise ValueError(f"time.demand.{key}: no workload or class of that name")
        if name not in columns or name in PERIOD_COLUMNS:
            raise ValueError(f"time.demand.{key}: {name!r} is not a series column")
    H = sum(p.w for p in periods)
    out = []
    for idx, w in enumerate(raw["workloads"]):
        _check_keys(f"workloads[{idx}]", w, WORKLOAD_KEYS)
        if w["precision"] not in PRECISIONS:
            raise ValueError(f"workloads[{idx}].precision: {w['precision']!r}")
        name = demand_shapes.get(w["id"], demand_shapes.get(w["class"]))
        values = [1.0] * len(periods) if name is None else [float(v) for v in columns[name]]
        mean = sum(p.w * v for p, v in zip(periods, values, strict=True)) / H
        if mean <= 0 or min(values) < 0:
            raise ValueError(f"workloads[{idx}]: demand shape {name!r} must be >= 0 with a positive mean")
        flex = w.get("flex_window_hours")
        out.append(
            Workload(
                id=w["id"],
                cls=w["class"],
                demand=float(w["demand_tflops"]),
                precision=w["precision"],
                hardware=list(w["hardware"]),
                origin=w["origin"],
                max_latency=None if w.get("max_latency_ms") is None else float(w["max_latency_ms"]),
                tiers=None if w.get("tiers") is None else list(w["tiers"]),
                sites=None if w.get("sites") is None else list(w["sites"]),
                divisible=bool(w.get("divisible", True)),
                must_serve=bool(w.get("must_serve", True)),
                value=float(w.get("value_per_tflops_hour", 0.0)),
                shape=[v / mean for v in values],
                flex=None if flex is None else float(flex),
                max_rate=float(w.get("max_rate", DEFAULT_MAX_RATE)),
            )
        )
    return out


def _validate(raw: dict) -> None:
    _check_keys("instance", raw, TOP_KEYS)
    if raw.get("computeplan") != 1:
        raise ValueError("computeplan: format version 1 required")
    if not raw.get("name"):
        raise ValueError("name: required")
    _check_keys("targets", raw.get("targets") or {}, TARGET_KEYS)
    for name, zone in (raw.get("zones") or {}).items():
        _check_keys(f"zones.{name}", zone or {}, ZONE_KEYS)
    for name, hw in (raw.get("hardware") or {}).items():
        _check_keys(f"hardware.{name}", hw, HARDWARE_KEYS)
    for name, fac in (raw.get("facilities") or {}).items():
        _check_keys(f"facilities.{name}", fac, FACILITY_KEYS)
    if not isinstance(raw.get("sites"), list) or not isinstance(raw.get("workloads"), list):
        raise ValueError("the oracle reads sites and workloads as inline lists only")


def _candidate(raw: dict, hardware: dict, w: Workload, s: Site, h: str) -> bool:
    if h not in w.hardware or s.servers.get(h) is None:
        return False
    if _perf(hardware, h, w.precision) is None:
        return False
    if w.tiers is not None and s.tier not in w.tiers:
        return False
    if w.sites is not None and s.id not in w.sites:
        return False
    return not (w.max_latency is not None and latency_ms(raw, w.origin, s.zone) > w.max_latency)


def _drop_targets(raw: dict, names: tuple[str, ...]) -> dict:
    raw = dict(raw)
    targets = dict(raw.get("targets") or {})
    for name in names:
        if name.startswith("site_pue_max."):
            table = dict(targets.get("site_pue_max") or {})
            table.pop(name.split(".", 1)[1])
            targets["site_pue_max"] = table
        else:
            targets.pop(name)
    raw["targets"] = targets
    return raw


# -------------------------------------------------------------------------- model


def build_reference(
    raw: dict,
    base_dir: Path | None = None,
    drop_targets: tuple[str, ...] = (),
    objective: str | None = None,
) -> ReferenceModel:
    """Build the LP/MILP of FORMULATION.md for a raw instance dict.

    ``drop_targets`` removes targets by name (``"fleet_pue_max"``, or
    ``"site_pue_max.<key>"`` for one key of the site PUE table); the binding
    checks of the oracle's instances use it.
    """
    _validate(raw)
    raw = _drop_targets(raw, drop_targets)
    targets = raw["targets"]

    hardware, facilities = _read_catalogues(raw, base_dir)
    for name, hw in hardware.items():
        if not 0 <= float(hw["idle_kw"]) <= float(hw["peak_kw"]):
            raise ValueError(f"hardware.{name}: need 0 <= idle_kw <= peak_kw")
    periods, columns = _periods(raw, base_dir)
    T = range(len(periods))
    wt = [p.w for p in periods]
    H = sum(wt)
    sites = _sites(raw, facilities, hardware, columns, len(periods))
    workloads = _workloads(raw, columns, periods)
    weights = {p: float(v) for p, v in (raw.get("precision_weights") or {}).items()}
    objective_name = objective or raw.get("objective", "energy")
    if objective_name not in OBJECTIVES:
        raise ValueError(f"objective: {objective_name!r}")
    needs_penalty = any(not w.must_serve for w in workloads)
    penalty = raw.get("unserved_penalty")
    penalty = None if penalty is None else float(penalty)
    rate = float(raw.get("discount_rate", DEFAULT_DISCOUNT_RATE))
    recurring = any(p.weight != 1 for p in periods)

    def life(h: str) -> float:
        return float(hardware[h].get("lifetime_years", DEFAULT_SERVER_LIFE))

    prob = pulp.LpProblem("reference", pulp.LpMinimize)

    # Build decisions (section 11): new halls g, new servers m, site opened o.
    g: dict[int, Any] = {}
    m: dict[tuple[int, str], Any] = {}
    o: dict[int, Any] = {}
    for j, s in enumerate(sites):
        g[j] = prob.add_variable(f"g_{j}", 0, s.halls_max, pulp.LpInteger) if s.halls_max else 0.0
        for h in s.servers:
            cap = s.servers_max.get(h, 0.0)
            m[j, h] = prob.add_variable(f"m_{j}_{h}", 0, cap) if cap > 0 else 0.0
        if s.site_capex is not None:
            o[j] = prob.add_variable(f"o_{j}", 0, 1, pulp.LpBinary)
            prob += g[j] <= s.halls_max * o[j], f"open_halls_{j}"
            for h, cap in s.servers_max.items():
                prob += m[j, h] <= cap * o[j], f"open_servers_{j}_{h}"
        else:
            o[j] = 0.0

    # Candidate triples (i, j, h); quantities x per period, placements y.
    candidates = [
        (i, j, h)
        for i, w in enumerate(workloads)
        for j, s in enumerate(sites)
        for h in s.servers
        if _candidate(raw, hardware, w, s, h)
    ]
    x: dict[tuple[int, int, str, int], pulp.LpVariable] = {}
    y: dict[tuple[int, int, str], pulp.LpVariable] = {}
    u: dict[tuple[int, int], Any] = {}
    windows: dict[int, dict[Any, list[int]]] = {}
    for i, w in enumerate(workloads):
        mine = [c for c in candidates if c[0] == i]
        if w.must_serve and not mine:
            raise ValueError(f"workload {w.id!r} must be served but has no candidate")
        for c in mine:
            for t in T:
                x[(*c, t)] = prob.add_variable(f"x_{i}_{c[1]}_{c[2]}_{t}", 0, None)
        if not w.divisible:
            for c in mine:
                y[c] = prob.add_variable(f"y_{i}_{c[1]}_{c[2]}", 0, 1, pulp.LpBinary)
            placed = pulp.lpSum(y[c] for c in mine)
            prob += (placed == 1 if w.must_serve else placed <= 1), f"place_{i}"
        for t in T:
            if w.must_serve:
                u[i, t] = 0.0
            elif w.divisible:
                u[i, t] = prob.add_variable(f"u_{i}_{t}", 0, None)
            else:
                u[i, t] = w.shape[t] * (1 - pulp.lpSum(y[c] for c in mine))
        served = {t: pulp.lpSum(x[(*c, t)] for c in mine) for t in T}
        if w.flex is None:
            for t in T:
                prob += served[t] + u[i, t] == w.shape[t], f"serve_{i}_{t}"
                if not w.divisible:
                    for c in mine:
                        prob += x[(*c, t)] <= w.shape[t] * y[c], f"pool_{i}_{c[1]}_{c[2]}_{t}"
        else:
            windows[i] = {}
            for t in T:
                windows[i].setdefault(_window_of(periods[t], w.flex, recurring), []).append(t)
            for key, ts in windows[i].items():
                prob += (
                    pulp.lpSum(periods[t].hours * (served[t] + u[i, t]) for t in ts)
                    == sum(periods[t].hours * w.shape[t] for t in ts),
                    f"window_{i}_{key}",
                )
            for t in T:
                prob += served[t] <= w.max_rate, f"max_rate_{i}_{t}"
                if not w.divisible:
                    for c in mine:
                        prob += x[(*c, t)] <= w.max_rate * y[c], f"pool_{i}_{c[1]}_{c[2]}_{t}"

    # Busy servers b, powered servers n (per period), halls z (for the horizon).
    busy: dict[tuple[int, str, int], Any] = {}
    n: dict[tuple[int, str, int], pulp.LpVariable] = {}
    for j, s in enumerate(sites):
        for h, installed in s.servers.items():
            for t in T:
                busy[j, h, t] = pulp.lpSum(
                    workloads[i].demand / _perf(hardware, h, workloads[i].precision) * x[i, jj, hh, t]
                    for i, jj, hh in candidates
                    if jj == j and hh == h
                )
                n[j, h, t] = prob.add_variable(f"n_{j}_{h}_{t}", 0, installed + s.servers_max.get(h, 0.0))
                prob += busy[j, h, t] <= s.umax * n[j, h, t], f"powered_{j}_{h}_{t}"
                if s.servers_max.get(h, 0.0) > 0:
                    prob += n[j, h, t] <= installed + m[j, h], f"installed_{j}_{h}_{t}"

    z: dict[int, Any] = {}
    for j, s in enumerate(sites):
        if s.can_idle:
            z[j] = prob.add_variable(f"z_{j}", 0, s.halls + s.halls_max, pulp.LpInteger)
            if s.halls_max:
                prob += z[j] <= s.halls + g[j], f"halls_{j}"
        else:
            z[j] = s.halls + g[j] if s.halls_max else float(s.halls)

    # Power (kW), per site and period.
    it: dict[tuple[int, int], Any] = {}
    power: dict[tuple[int, int], Any] = {}
    for j, s in enumerate(sites):
        for t in T:
            it[j, t] = pulp.lpSum(
                float(hardware[h]["idle_kw"]) * n[j, h, t]
                + (float(hardware[h]["peak_kw"]) - float(hardware[h]["idle_kw"])) * busy[j, h, t]
                for h in s.servers
            )
            prob += it[j, t] <= s.hall_kw * z[j], f"capacity_{j}_{t}"
            power[j, t] = it[j, t] + s.f * z[j] + s.k[t] * it[j, t]
            if s.grid_kw is not None:
                prob += power[j, t] <= s.grid_kw, f"grid_kw_{j}_{t}"

    JT = [(j, t) for j in range(len(sites)) for t in T]
    energy = pulp.lpSum(wt[t] * power[j, t] for j, t in JT)
    it_kwh = pulp.lpSum(wt[t] * it[j, t] for j, t in JT)
    cost = pulp.lpSum(wt[t] * power[j, t] * sites[j].price[t] for j, t in JT)
    carbon_kg = pulp.lpSum(
        wt[t] * power[j, t] * sites[j].carbon[t] * (1.0 - sites[j].renewable[t]) for j, t in JT
    )
    renewable_kwh = pulp.lpSum(wt[t] * power[j, t] * sites[j].renewable[t] for j, t in JT)
    served_q = {
        (i, t): pulp.lpSum(x[(*c, t)] for c in candidates if c[0] == i)
        for i in range(len(workloads)) for t in T
    }
    served_th = pulp.lpSum(wt[t] * w.demand * served_q[i, t] for i, w in enumerate(workloads) for t in T)
    weighted_th = pulp.lpSum(
        wt[t] * weights.get(w.precision, 1.0) * w.demand * served_q[i, t]
        for i, w in enumerate(workloads) for t in T
    )
    output = pulp.lpSum(
        wt[t] * w.value * w.demand * served_q[i, t] for i, w in enumerate(workloads) for t in T
    )
    unserved_th = pulp.lpSum(wt[t] * w.demand * u[i, t] for i, w in enumerate(workloads) for t in T)
    capex_year = pulp.lpSum(
        crf(rate, s.build_life) * (s.hall_capex * g[j] + (s.site_capex or 0.0) * o[j])
        for j, s in enumerate(sites)
    ) + pulp.lpSum(
        crf(rate, life(h)) * float(hardware[h].get("capex") or 0.0) * m[j, h] for j, h in m
    )
    embodied_kg_year = pulp.lpSum(
        float(hardware[h].get("embodied_kg", 0.0)) * m[j, h] / life(h) for j, h in m
    )
    installed_all = pulp.lpSum(
        s.servers[h] + m[j, h] for j, s in enumerate(sites) for h in s.servers
    )

    # Targets (sections 6, 10, 11): annual, energy-weighted, each a hard linear row.
    if "fleet_pue_max" in targets:
        T_ = float(targets["fleet_pue_max"])
        prob += (
            pulp.lpSum(wt[t] * (sites[j].f * z[j] + sites[j].k[t] * it[j, t]) for j, t in JT)
            <= (T_ - 1.0) * it_kwh,
            "fleet_pue_max",
        )
    for j, s in enumerate(sites):
        if s.pue_target is not None:
            prob += (
                pulp.lpSum(wt[t] * (s.f * z[j] + s.k[t] * it[j, t]) for t in T)
                <= (s.pue_target - 1.0) * pulp.lpSum(wt[t] * it[j, t] for t in T),
                f"site_pue_max_{j}",
            )
    if "ece_min" in targets:
        prob += weighted_th >= float(targets["ece_min"]) * energy, "ece_min"
    if "renewable_share_min" in targets:
        prob += renewable_kwh >= float(targets["renewable_share_min"]) * energy, "renewable_share_min"
    if "carbon_max" in targets:
        prob += carbon_kg / 1000.0 <= float(targets["carbon_max"]), "carbon_max"
    if "output_per_kwh_min" in targets:
        prob += output >= float(targets["output_per_kwh_min"]) * energy, "output_per_kwh_min"
    if "server_utilisation_min" in targets:
        busy_hours = pulp.lpSum(wt[t] * b for (_, _, t), b in busy.items())
        prob += (busy_hours >= float(targets["server_utilisation_min"]) * H * installed_all,
                 "server_utilisation_min")
    if "capex_max" in targets:
        prob += capex_year <= float(targets["capex_max"]), "capex_max"

    # Objective (sections 5, 10, 11).
    main = {
        "energy": energy,
        "cost": cost + capex_year * (H / 8760.0),
        "carbon": carbon_kg + embodied_kg_year * (H / 8760.0),
    }[objective_name]
    objective_expr = main
    if needs_penalty and penalty is not None:
        objective_expr = main + penalty * unserved_th
    prob += objective_expr

    model = ReferenceModel(
        prob=prob, objective_name=objective_name, horizon=H, penalty=penalty, periods=periods,
        sites=sites, workloads=workloads, hardware=hardware, weights=weights, discount_rate=rate,
        candidates=candidates, windows=windows, x=x, y=y, u=u, n=n, z=z, g=g, m=m, o=o,
        objective_expr=objective_expr, needs_penalty=needs_penalty,
        has_time=raw.get("time") is not None,
        has_build=any(s.halls_max or s.servers_max or s.site_capex is not None for s in sites),
        power=power, served=served_q,
    )
    model.quantities = {
        "energy_kwh": energy,
        "cost": cost,
        "carbon_kg": carbon_kg,
        "renewable_kwh": renewable_kwh,
        "it_kw": it_kwh * (1.0 / H),
        "facility_kw": energy * (1.0 / H),
        "served_tflops": served_th * (1.0 / H),
        "weighted_tflops": weighted_th * (1.0 / H),
        "output": output,
    }
    # Servers powered beyond need (n - b/umax) and the facility power they draw.
    beyond = {
        (j, h, t): n[j, h, t] - busy[j, h, t] * (1.0 / s.umax)
        for j, s in enumerate(sites) for h in s.servers for t in T
    }
    model.quantities["servers_beyond_need"] = pulp.lpSum(
        wt[t] * v for (_, _, t), v in beyond.items()
    ) * (1.0 / H)
    model.quantities["beyond_need_kw"] = pulp.lpSum(
        wt[t] * (1.0 + sites[j].k[t]) * float(hardware[h]["idle_kw"]) * v
        for (j, h, t), v in beyond.items()
    ) * (1.0 / H)
    if model.has_build:
        model.quantities["capex_year"] = capex_year
        model.quantities["embodied_kg_year"] = embodied_kg_year
    for j, s in enumerate(sites):
        model.quantities[f"it_kw.{s.id}"] = pulp.lpSum(wt[t] * it[j, t] for t in T) * (1.0 / H)
        model.quantities[f"facility_kw.{s.id}"] = pulp.lpSum(wt[t] * power[j, t] for t in T) * (1.0 / H)
    return model


def cbc(time_limit: float | None = None) -> pulp.PULP_CBC_CMD:
    """CBC (the binary bundled with PuLP) with tight gaps, quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 4 renames it
        return pulp.PULP_CBC_CMD(msg=False, gapRel=1e-9, gapAbs=1e-9, timeLimit=time_limit)


# ---------------------------------------------------------------------- read back


def _value(v: Any) -> float:
    if isinstance(v, int | float):
        return float(v)
    if isinstance(v, pulp.LpAffineExpression):
        return float(pulp.value(v) or 0.0)
    return float(v.varValue or 0.0)


def _clean_quantities(model: ReferenceModel) -> tuple[dict, dict, dict]:
    """Solver values of x, y and u with CBC's noise removed.

    Placements to 0/1; quantities >= 0; a must-serve workload's quantities
    rescaled so that each balance (period, or window when flexible) holds
    exactly, so that served and unserved demand come out exact.
    """
    T = range(len(model.periods))
    y = {c: float(round(_value(v))) for c, v in model.y.items()}
    x = {key: max(_value(v), 0.0) for key, v in model.x.items()}
    for key in x:
        if key[:3] in y and y[key[:3]] == 0.0:
            x[key] = 0.0
    u: dict[tuple[int, int], float] = {}
    for i, w in enumerate(model.workloads):
        mine = [c for c in model.candidates if c[0] == i]
        if w.flex is None:
            blocks = [[t] for t in T]
        else:
            blocks = list(model.windows[i].values())
        for ts in blocks:
            if not w.must_serve:
                continue
            want = sum(model.periods[t].hours * w.shape[t] for t in ts)
            got = sum(model.periods[t].hours * x[(*c, t)] for c in mine for t in ts)
            if got > 0:
                for c in mine:
                    for t in ts:
                        x[(*c, t)] *= want / got
        for t in T:
            served = sum(x[(*c, t)] for c in mine)
            if w.must_serve:
                u[i, t] = 0.0
            elif not w.divisible:
                u[i, t] = w.shape[t] * (1.0 - sum(y[c] for c in mine))
            elif w.flex is None:
                u[i, t] = max(w.shape[t] - served, 0.0)
            else:
                u[i, t] = max(_value(model.u[i, t]), 0.0)
    return x, y, u


def evaluate_plan(model: ReferenceModel) -> dict[str, Any]:
    """Recompute every figure from the solved variable values with plain loops."""
    H = model.horizon
    hw = model.hardware
    periods = model.periods
    T = range(len(periods))
    wt = [p.w for p in periods]
    x, _, u = _clean_quantities(model)
    z = {j: float(round(_value(v))) for j, v in model.z.items()}
    g = {j: float(round(_value(v))) for j, v in model.g.items()}
    m = {key: max(_value(v), 0.0) for key, v in model.m.items()}
    o = {j: float(round(_value(v))) for j, v in model.o.items()}
    n = {key: max(_value(var), 0.0) for key, var in model.n.items()}

    served = {(i, t): 0.0 for i in range(len(model.workloads)) for t in T}
    busy = {key: 0.0 for key in model.n}
    for (i, j, h, t), v in x.items():
        served[i, t] += v
        w = model.workloads[i]
        busy[j, h, t] += w.demand * v / float(hw[h]["perf_tflops"][w.precision])

    # Powered servers within CBC's tolerance of b/umax are exactly b/umax, so
    # that "servers beyond need" reads 0, not 3e-5, when there are none.
    for j, s in enumerate(model.sites):
        for h, installed in s.servers.items():
            for t in T:
                need = busy[j, h, t] / s.umax
                if abs(n[j, h, t] - need) <= 1e-6 * max(installed + m[j, h], 1.0):
                    n[j, h, t] = need

    sites_out = []
    period_rows = []
    tot = {"it": 0.0, "energy": 0.0, "cost": 0.0, "carbon": 0.0, "renew": 0.0}
    beyond = {"servers": 0.0, "kwh": 0.0}
    busy_hours_all = 0.0
    installed_all = 0.0
    for j, s in enumerate(model.sites):
        site = {"it_kwh": 0.0, "energy": 0.0, "cost": 0.0, "carbon": 0.0, "busy_hours": 0.0,
                "beyond": 0.0, "beyond_kwh": 0.0}
        peak, peak_t = 0.0, -1
        for t in T:
            it = sum(
                float(hw[h]["idle_kw"]) * n[j, h, t]
                + (float(hw[h]["peak_kw"]) - float(hw[h]["idle_kw"])) * busy[j, h, t]
                for h in s.servers
            )
            power = it + s.f * z[j] + s.k[t] * it
            if peak_t < 0 or power > peak + 1e-9 * max(peak, 1.0):
                peak, peak_t = power, t
            site["it_kwh"] += wt[t] * it
            site["energy"] += wt[t] * power
            site["cost"] += wt[t] * power * s.price[t]
            site["carbon"] += wt[t] * power * s.carbon[t] * (1.0 - s.renewable[t])
            tot["renew"] += wt[t] * power * s.renewable[t]
            site["busy_hours"] += wt[t] * sum(busy[j, h, t] for h in s.servers)
            extra = {h: max(n[j, h, t] - busy[j, h, t] / s.umax, 0.0) for h in s.servers}
            site["beyond"] += wt[t] * sum(extra.values())
            # The facility energy they cause: their idle IT power plus its
            # proportional overhead k (the fixed hall overhead f is not theirs).
            site["beyond_kwh"] += wt[t] * (1.0 + s.k[t]) * sum(
                float(hw[h]["idle_kw"]) * extra[h] for h in s.servers
            )
            period_rows.append({
                "period": t, "datetime": periods[t].datetime, "site": s.id, "it_kw": it,
                "facility_kw": power, "pue": power / it if it > 0 else None,
                "price_per_kwh": s.price[t], "carbon_kg_per_kwh": s.carbon[t],
                "temperature_c": s.temperature[t],
            })
        installed = sum(s.servers[h] + m[j, h] for h in s.servers)
        tot["it"] += site["it_kwh"]
        tot["energy"] += site["energy"]
        tot["cost"] += site["cost"]
        tot["carbon"] += site["carbon"]
        beyond["servers"] += site["beyond"]
        beyond["kwh"] += site["beyond_kwh"]
        busy_hours_all += site["busy_hours"]
        installed_all += installed
        sites_out.append(
            {
                "id": s.id,
                "it_kw": site["it_kwh"] / H,
                "overhead_kw": (site["energy"] - site["it_kwh"]) / H,
                "facility_kw": site["energy"] / H,
                "pue": site["energy"] / site["it_kwh"] if site["it_kwh"] > 0 else None,
                "active_halls": z[j],
                "utilisation": site["busy_hours"] / (H * installed) if installed else 0.0,
                "energy_kwh": site["energy"],
                "cost": site["cost"],
                "carbon_t": site["carbon"] / 1000.0,
                "servers_on": {h: sum(wt[t] * n[j, h, t] for t in T) / H for h in s.servers},
                "busy_servers": {h: sum(wt[t] * busy[j, h, t] for t in T) / H for h in s.servers},
                "servers_beyond_need": site["beyond"] / H,
                "beyond_need_energy_kwh": site["beyond_kwh"],
                "peak_facility_kw": peak,
                "peak_period": peak_t,
                "new_halls": g[j],
                "new_servers": {h: m[j, h] for h in s.servers},
                "opened": bool(o[j]),
            }
        )

    workloads = model.workloads
    served_th = sum(wt[t] * w.demand * served[i, t] for i, w in enumerate(workloads) for t in T)
    unserved_th = sum(wt[t] * w.demand * u[i, t] for i, w in enumerate(workloads) for t in T)
    weighted_th = sum(
        wt[t] * model.weights.get(w.precision, 1.0) * w.demand * served[i, t]
        for i, w in enumerate(workloads) for t in T
    )
    output = sum(wt[t] * w.value * w.demand * served[i, t] for i, w in enumerate(workloads) for t in T)
    energy = tot["energy"]
    indicators: dict[str, Any] = {
        "fleet_pue": energy / tot["it"] if tot["it"] > 0 else None,
        "ece_gflops_per_w": weighted_th / energy if energy > 0 else None,
        "energy_kwh": energy,
        "cost": tot["cost"],
        "carbon_t": tot["carbon"] / 1000.0,
        "renewable_share": tot["renew"] / energy if energy > 0 else None,
        "served_tflops": served_th / H,
        "unserved_tflops": unserved_th / H,
        "output_per_kwh": output / energy if energy > 0 else None,
        # Beyond FORMATS.md's list: fleet totals (w-weighted mean kW) and the
        # servers powered beyond b/umax (section 6) with the facility energy they
        # draw, (1 + k) times their idle IT energy.
        "it_kw": tot["it"] / H,
        "facility_kw": energy / H,
        "servers_beyond_need": beyond["servers"] / H,
        "beyond_need_energy_kwh": beyond["kwh"],
        # Busy over installed (and built) servers, fleet-wide (section 6).
        "server_utilisation": busy_hours_all / (H * installed_all) if installed_all > 0 else None,
    }

    # Build-out (section 11): what is built and its annual cost.
    rate = model.discount_rate
    build: dict[str, Any] = {"halls": [], "servers": [], "sites_opened": []}
    capex_year = 0.0
    embodied_kg_year = 0.0
    for j, s in enumerate(model.sites):
        if g[j] > 0:
            cost_j = crf(rate, s.build_life) * s.hall_capex * g[j]
            build["halls"].append({"site": s.id, "new_halls": g[j], "capex_per_year": cost_j})
            capex_year += cost_j
        if o[j] > 0:
            capex_year += crf(rate, s.build_life) * (s.site_capex or 0.0)
            build["sites_opened"].append(s.id)
        for h in s.servers:
            if m[j, h] > 1e-9:
                life = float(hw[h].get("lifetime_years", DEFAULT_SERVER_LIFE))
                cost_h = crf(rate, life) * float(hw[h]["capex"]) * m[j, h]
                build["servers"].append(
                    {"site": s.id, "hardware": h, "new_servers": m[j, h], "capex_per_year": cost_h}
                )
                capex_year += cost_h
                embodied_kg_year += float(hw[h].get("embodied_kg", 0.0)) * m[j, h] / life
    build["capex_per_year"] = capex_year
    build["embodied_carbon_t"] = embodied_kg_year / 1000.0
    if model.has_build:
        indicators["capex_per_year"] = capex_year
        indicators["embodied_carbon_t"] = embodied_kg_year / 1000.0

    main = {
        "energy": energy,
        "cost": tot["cost"] + capex_year * H / 8760.0,
        "carbon": tot["carbon"] + embodied_kg_year * H / 8760.0,
    }[model.objective_name]
    objective = main
    if model.needs_penalty and model.penalty is not None:
        objective += model.penalty * unserved_th

    # Served and demanded TFLOPS per workload class and period; shifted TFLOPS-hours.
    served_rows = []
    for cls in sorted({w.cls for w in workloads}):
        for t in T:
            mine = [i for i, w in enumerate(workloads) if w.cls == cls]
            served_rows.append({
                "class": cls, "period": t,
                "served_tflops": sum(workloads[i].demand * served[i, t] for i in mine),
                "demand_tflops": sum(workloads[i].demand * workloads[i].shape[t] for i in mine),
            })
    shifted = sum(
        wt[t] * w.demand * max(served[i, t] - w.shape[t], 0.0)
        for i, w in enumerate(workloads) if w.flex is not None for t in T
    )
    assignments = []
    for i, j, h in model.candidates:
        th = sum(wt[t] * x[i, j, h, t] for t in T) / H  # w-weighted mean share of D
        if th > 1e-9:
            w = workloads[i]
            assignments.append({"workload": w.id, "site": model.sites[j].id, "hardware": h,
                                "share": th, "tflops": th * w.demand})
    return {
        "objective": objective,
        "indicators": indicators,
        "sites": sites_out,
        "assignments": assignments,
        "periods": period_rows,
        "served": served_rows,
        "served_by_workload": {
            w.id: [w.demand * served[i, t] for t in T] for i, w in enumerate(workloads)
        },
        "shifted_tflops_hours": shifted,
        "build": build,
    }


def _solve_model(model: ReferenceModel) -> str:
    model.prob.solve(cbc())
    status = pulp.LpStatus[model.prob.status]
    if status == "Infeasible":
        return "infeasible"
    if status != "Optimal" or model.prob.sol_status != pulp.LpSolutionOptimal:
        raise RuntimeError(f"CBC ended with {status} / sol_status {model.prob.sol_status}")
    return "optimal"


def without_flexibility(raw: dict) -> dict:
    """The instance with every ``flex_window_hours`` removed."""
    raw = dict(raw)
    raw["workloads"] = [
        {k: v for k, v in w.items() if k != "flex_window_hours"} for w in raw["workloads"]
    ]
    return raw


def solve_reference(
    raw: dict,
    base_dir: Path | None = None,
    drop_targets: tuple[str, ...] = (),
    objective: str | None = None,
    flexibility: bool = True,
) -> dict[str, Any]:
    """Solve a raw instance dict with the reference model.

    Returns ``{"status", "objective", "indicators", "unserved_penalty", ...}``.
    ``status`` is ``"optimal"`` or ``"infeasible"``; it is ``None`` (and nothing
    is solved) when some workload may go unserved but the instance gives no
    ``unserved_penalty``: the default is the engine's choice, not the oracle's.
    With a ``time`` block and ``flexibility``, ``result["time"]["flexibility"]``
    holds the value of flexibility (a second solve without the windows).
    """
    model = build_reference(raw, base_dir, drop_targets=drop_targets, objective=objective)
    result: dict[str, Any] = {
        "status": None,
        "objective": None,
        "indicators": None,
        "unserved_penalty": model.penalty,
        "objective_name": model.objective_name,
        "candidates": [
            (model.workloads[i].id, model.sites[j].id, h) for i, j, h in model.candidates
        ],
    }
    if model.needs_penalty and model.penalty is None:
        return result
    result["status"] = _solve_model(model)
    if result["status"] == "infeasible":
        return result
    result.update(evaluate_plan(model))
    result["solver_objective"] = pulp.value(model.prob.objective)
    if model.has_time:
        time: dict[str, Any] = {"periods": len(model.periods), "hours": model.horizon,
                                "typical_days": None, "full_year": None, "flexibility": None}
        if flexibility:
            flex = {"value": 0.0, "objective_without": result["objective"],
                    "shifted_tflops_hours": result["shifted_tflops_hours"]}
            if any(w.flex is not None for w in model.workloads):
                other = solve_reference(without_flexibility(raw), base_dir, drop_targets, objective,
                                        flexibility=False)
                ok = other["status"] == "optimal"
                flex["objective_without"] = other["objective"] if ok else None
                flex["value"] = other["objective"] - result["objective"] if ok else None
            time["flexibility"] = flex
        result["time"] = time
    return result


def load_yaml(path: str | Path) -> dict:
    """Read an instance file into a raw dict."""
    return yaml.safe_load(Path(path).read_text())
