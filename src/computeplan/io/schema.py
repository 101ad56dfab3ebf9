"""The instance format (FORMATS.md, version 1) as frozen pydantic models.

Every model rejects unknown keys, NaN and infinities. Field-level rules live here;
rules that need more than one field of different records (unknown names, latency
coverage, candidate lists) are in :mod:`computeplan.loader`, which collects every
problem before raising once.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

PRECISIONS: tuple[str, ...] = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")
TIERS: tuple[str, ...] = ("hyperscale", "midsize", "edge")
OBJECTIVES: tuple[str, ...] = ("energy", "cost", "carbon")

Precision = Literal["fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8"]
Tier = Literal["hyperscale", "midsize", "edge"]
Objective = Literal["energy", "cost", "carbon"]

# Plausible ranges (README, "Input limits"): generous, but far enough from the float limits
# that no product or sum of the model's figures can overflow.
MAX_TFLOPS_PER_SERVER = 1e6
MAX_SERVER_KW = 1e4
MAX_PUE = 100.0
MAX_SITE_KW = 1e8
MAX_HALLS = 100_000
MAX_SERVERS = 100_000_000
MAX_PRICE_PER_KWH = 1e4
MAX_CARBON_KG_PER_KWH = 100.0
MAX_DEMAND_TFLOPS = 1e12
MAX_LATENCY_MS = 1e6
MAX_HORIZON_HOURS = 1e6
MAX_VALUE = 1e12
"""Unserved penalty and value per TFLOPS-hour, in objective units."""
MAX_WEIGHT = 1e6
MAX_ECE = 1e6
MAX_CARBON_KG = 1e15
MAX_NAME_CHARS = 256
MAX_RATE = 1e6
MAX_PERIODS = 1_000_000
MAX_CAPEX = 1e13
"""Capital cost of one server, hall or site, in currency."""
MAX_LIFETIME_YEARS = 200.0
MAX_EMBODIED_KG = 1e9

NAME_PATTERN = r"^[^\p{C}]*[^\p{C}\s][^\p{C}]*$"
"""Ids and names: at least one visible character, no control or format characters."""

Share = Annotated[float, Field(ge=0.0, le=1.0)]
Pue = Annotated[float, Field(ge=1.0, le=MAX_PUE)]
Latency = Annotated[float, Field(ge=0.0, le=MAX_LATENCY_MS)]
Name = Annotated[str, Field(max_length=MAX_NAME_CHARS, pattern=NAME_PATTERN)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HardwareModel(_Strict):
    """A server type: per-server peak TFLOPS per precision, idle and peak kW."""

    perf_tflops: dict[Precision, Annotated[float, Field(gt=0.0, le=MAX_TFLOPS_PER_SERVER)]] = Field(min_length=1)
    idle_kw: Annotated[float, Field(ge=0.0, le=MAX_SERVER_KW)]
    peak_kw: Annotated[float, Field(gt=0.0, le=MAX_SERVER_KW)]
    capex: Annotated[float, Field(ge=0.0, le=MAX_CAPEX)] | None = None
    lifetime_years: Annotated[float, Field(gt=0.0, le=MAX_LIFETIME_YEARS)] = 5.0
    embodied_kg: Annotated[float, Field(ge=0.0, le=MAX_EMBODIED_KG)] = 0.0
    source: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _idle_below_peak(self) -> HardwareModel:
        if self.idle_kw > self.peak_kw:
            raise ValueError(
                f"idle_kw must be <= peak_kw, got idle_kw={self.idle_kw} > peak_kw={self.peak_kw}"
            )
        return self


class Cooling(_Strict):
    """How the proportional overhead rises with outdoor temperature (FORMULATION.md section 10)."""

    free_below_c: Annotated[float, Field(ge=-100.0, le=100.0)]
    design_c: Annotated[float, Field(ge=-100.0, le=100.0)]
    pue_full_at_design: Pue

    @model_validator(mode="after")
    def _ordered(self) -> Cooling:
        if self.design_c <= self.free_below_c:
            raise ValueError(f"design_c must be > free_below_c, got design_c={self.design_c} "
                             f"<= free_below_c={self.free_below_c}")
        return self


class FacilityModel(_Strict):
    """Cooling and power-delivery overhead, given by PUE at full and at quarter hall load."""

    pue_full: Pue
    pue_quarter: Pue
    cooling: Cooling | None = None
    source: str | None = None
    notes: str | None = None

    @property
    def k(self) -> float:
        """Overhead kW per IT kW."""
        return (4.0 * (self.pue_full - 1.0) - (self.pue_quarter - 1.0)) / 3.0

    @property
    def f_per_kw(self) -> float:
        """Fixed overhead kW per active hall, per kW of hall capacity (f = this x c)."""
        return self.pue_full - 1.0 - self.k

    @model_validator(mode="after")
    def _affine_overhead(self) -> FacilityModel:
        if self.pue_full > self.pue_quarter:
            raise ValueError(
                f"pue_full must be <= pue_quarter, got {self.pue_full} > {self.pue_quarter}"
            )
        if self.k < -1e-12:
            raise ValueError(
                "pue_quarter - 1 must be <= 4 x (pue_full - 1) so that the proportional "
                f"overhead k >= 0, got pue_full={self.pue_full}, pue_quarter={self.pue_quarter} "
                f"(k = {self.k:.6g})"
            )
        if self.cooling is not None and self.cooling.pue_full_at_design < self.pue_full:
            raise ValueError(
                f"cooling.pue_full_at_design must be >= pue_full, got {self.cooling.pue_full_at_design} "
                f"< {self.pue_full}"
            )
        return self


class Zone(_Strict):
    """A place demand comes from and sites sit in; coordinates in degrees."""

    lat: Annotated[float, Field(ge=-90.0, le=90.0)] | None = None
    lon: Annotated[float, Field(ge=-180.0, le=180.0)] | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> Zone:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("give both lat and lon, or neither")
        return self

    @property
    def has_coordinates(self) -> bool:
        return self.lat is not None and self.lon is not None


class LatencyModel(_Strict):
    """How latency is derived from coordinates (FORMULATION.md section 2)."""

    route_factor: Annotated[float, Field(gt=0.0, le=100.0)] = 1.5
    ms_per_km: Annotated[float, Field(ge=0.0, le=1e3)] = 0.005
    hop_ms: Latency = 0.5


class Build(_Strict):
    """What may be built at a site (FORMULATION.md section 11)."""

    halls_max: Annotated[int, Field(ge=0, le=MAX_HALLS)] = 0
    hall_capex: Annotated[float, Field(ge=0.0, le=MAX_CAPEX)] | None = None
    hall_kw: Annotated[float, Field(gt=0.0, le=MAX_SITE_KW)] | None = None
    site_capex: Annotated[float, Field(ge=0.0, le=MAX_CAPEX)] | None = None
    lifetime_years: Annotated[float, Field(gt=0.0, le=MAX_LIFETIME_YEARS)] = 15.0
    servers_max: dict[Name, Annotated[int, Field(ge=0, le=MAX_SERVERS)]] = Field(default_factory=dict)


class Site(_Strict):
    id: Name
    tier: Tier
    zone: Name
    facility: Name
    it_capacity_kw: Annotated[float, Field(ge=0.0, le=MAX_SITE_KW)]
    halls: Annotated[int, Field(ge=0, le=MAX_HALLS)] = 1
    can_idle: bool = False
    max_utilisation: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    price_per_kwh: Annotated[float, Field(ge=0.0, le=MAX_PRICE_PER_KWH)]
    carbon_kg_per_kwh: Annotated[float, Field(ge=0.0, le=MAX_CARBON_KG_PER_KWH)]
    renewable_share: Share = 0.0
    servers: dict[Name, Annotated[int, Field(ge=0, le=MAX_SERVERS)]] = Field(default_factory=dict)
    grid_kw: Annotated[float, Field(gt=0.0, le=MAX_SITE_KW)] | None = None
    build: Build | None = None

    @property
    def hall_kw(self) -> float:
        """One hall's IT capacity ``c``: ``C / M``, or ``build.hall_kw`` for a site with no halls yet."""
        if self.halls > 0:
            return self.it_capacity_kw / self.halls
        return float(self.build.hall_kw) if self.build is not None and self.build.hall_kw is not None else 0.0


class Workload(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    id: Name
    class_: Name = Field(alias="class")
    demand_tflops: Annotated[float, Field(gt=0.0, le=MAX_DEMAND_TFLOPS)]
    precision: Precision
    hardware: list[Name] = Field(min_length=1)
    origin: Name
    max_latency_ms: Latency | None = None
    tiers: list[Tier] | None = None
    sites: list[Name] | None = None
    divisible: bool = True
    must_serve: bool = True
    value_per_tflops_hour: Annotated[float, Field(ge=0.0, le=MAX_VALUE)] = 0.0
    flex_window_hours: Annotated[int, Field(ge=1, le=int(MAX_HORIZON_HOURS))] | None = None
    max_rate: Annotated[float, Field(gt=0.0, le=MAX_RATE)] = 2.0

    @field_validator("flex_window_hours")
    @classmethod
    def _window_divides_day(cls, W: int | None) -> int | None:
        if W is not None and W <= 24 and 24 % W != 0:
            raise ValueError(f"must divide 24 (1, 2, 3, 4, 6, 8, 12, 24) or exceed 24, got {W}")
        return W


class Targets(_Strict):
    """Indicator targets; each one given is a hard constraint."""

    fleet_pue_max: Pue | None = None
    site_pue_max: dict[Name, Pue] | None = None
    ece_min: Annotated[float, Field(ge=0.0, le=MAX_ECE)] | None = None
    renewable_share_min: Share | None = None
    carbon_max: Annotated[float, Field(ge=0.0, le=MAX_CARBON_KG)] | None = None
    output_per_kwh_min: Annotated[float, Field(ge=0.0, le=MAX_ECE)] | None = None
    server_utilisation_min: Share | None = None
    capex_max: Annotated[float, Field(ge=0.0, le=MAX_CAPEX)] | None = None

    def given(self) -> dict[str, Any]:
        """The targets set in the instance, by name."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class SeriesNames(_Strict):
    """Which column of the period table gives a site figure, by period."""

    price_per_kwh: Name | None = None
    carbon_kg_per_kwh: Name | None = None
    renewable_share: Name | None = None
    temperature_c: Name | None = None


SERIES_FIELDS: tuple[str, ...] = tuple(SeriesNames.model_fields)
PERIOD_COLUMNS: tuple[str, ...] = ("hours", "weight", "day", "datetime")
"""Columns of the period table with a fixed meaning; any other column is a series."""


class Time(_Strict):
    """The ``time:`` block (FORMATS.md, "Time"). ``periods`` holds the table's columns
    (the loader reads a ``{csv: F}`` / ``{parquet: F}`` table into this shape)."""

    periods: dict[Name, list[Any]]
    zones: dict[Name, SeriesNames] = Field(default_factory=dict)
    sites: dict[Name, SeriesNames] = Field(default_factory=dict)
    demand: dict[Name, Name] = Field(default_factory=dict)
    typical_days: Annotated[int, Field(ge=1, le=366)] | None = None


class Instance(_Strict):
    """A validated instance, with the catalogue merged into ``hardware`` and ``facilities``."""

    computeplan: Literal[1]
    name: Name
    horizon_hours: Annotated[float, Field(gt=0.0, le=MAX_HORIZON_HOURS)] = 8760.0
    objective: Objective = "energy"
    unserved_penalty: Annotated[float, Field(ge=0.0, le=MAX_VALUE)] | None = None
    discount_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.06
    precision_weights: dict[Precision, Annotated[float, Field(ge=0.0, le=MAX_WEIGHT)]] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    hardware: dict[Name, HardwareModel] = Field(default_factory=dict)
    facilities: dict[Name, FacilityModel] = Field(default_factory=dict)
    zones: dict[Name, Zone | None] = Field(default_factory=dict)
    latency_ms: list[tuple[Name, Name, Latency]] = Field(default_factory=list)
    latency_model: LatencyModel = Field(default_factory=LatencyModel)
    sites: list[Site] = Field(min_length=1)
    workloads: list[Workload] = Field(min_length=1)
    targets: Targets = Field(default_factory=Targets)
    time: Time | None = None
    _source: str = PrivateAttr(default="")
    _reach: Any = PrivateAttr(default=None)  # io.reach.reach's result, kept with what it was worked out from

    @property
    def source(self) -> str:
        """Where the instance was read from (a file path, or ``<name>`` for a mapping)."""
        return self._source or f"<{self.name}>"

    def weight(self, precision: str) -> float:
        """Precision weight w[p] (missing precisions weigh 1)."""
        return float(self.precision_weights.get(precision, 1.0))  # type: ignore[call-overload]


def crf(rate: float, years: float) -> float:
    """Capital recovery factor ``r / (1 - (1 + r)^-L)`` (``1 / L`` at ``r = 0``): the share of a
    capital cost paid each year over ``L`` years at discount rate ``r``."""
    if rate <= 0.0:
        return 1.0 / years
    return rate / (1.0 - (1.0 + rate) ** (-years))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km on a sphere of radius 6371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))
