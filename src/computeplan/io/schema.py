"""The instance format (FORMATS.md, version 1) as frozen pydantic models.

Every model rejects unknown keys, NaN and infinities. Field-level rules live here;
rules that need more than one field of different records (unknown names, latency
coverage, candidate lists) are in :mod:`computeplan.loader`, which collects every
problem before raising once.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

PRECISIONS: tuple[str, ...] = ("fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8")
TIERS: tuple[str, ...] = ("hyperscale", "midsize", "edge")
OBJECTIVES: tuple[str, ...] = ("energy", "cost", "carbon")

Precision = Literal["fp64", "fp32", "tf32", "fp16", "bf16", "fp8", "int8"]
Tier = Literal["hyperscale", "midsize", "edge"]
Objective = Literal["energy", "cost", "carbon"]

NonNeg = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]
Share = Annotated[float, Field(ge=0.0, le=1.0)]
Name = Annotated[str, Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class HardwareModel(_Strict):
    """A server type: per-server peak TFLOPS per precision, idle and peak kW."""

    perf_tflops: dict[Precision, Positive] = Field(min_length=1)
    idle_kw: NonNeg
    peak_kw: Positive
    source: str | None = None
    notes: str | None = None

    @model_validator(mode="after")
    def _idle_below_peak(self) -> HardwareModel:
        if self.idle_kw > self.peak_kw:
            raise ValueError(
                f"idle_kw must be <= peak_kw, got idle_kw={self.idle_kw} > peak_kw={self.peak_kw}"
            )
        return self


class FacilityModel(_Strict):
    """Cooling and power-delivery overhead, given by PUE at full and at quarter hall load."""

    pue_full: Annotated[float, Field(ge=1.0)]
    pue_quarter: Annotated[float, Field(ge=1.0)]
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

    route_factor: Positive = 1.5
    ms_per_km: NonNeg = 0.005
    hop_ms: NonNeg = 0.5


class Site(_Strict):
    id: Name
    tier: Tier
    zone: Name
    facility: Name
    it_capacity_kw: Positive
    halls: Annotated[int, Field(ge=1)] = 1
    can_idle: bool = False
    max_utilisation: Annotated[float, Field(gt=0.0, le=1.0)] = 1.0
    price_per_kwh: NonNeg
    carbon_kg_per_kwh: NonNeg
    renewable_share: Share = 0.0
    servers: dict[Name, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)


class Workload(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    id: Name
    class_: Name = Field(alias="class")
    demand_tflops: Positive
    precision: Precision
    hardware: list[Name] = Field(min_length=1)
    origin: Name
    max_latency_ms: NonNeg | None = None
    tiers: list[Tier] | None = None
    sites: list[Name] | None = None
    divisible: bool = True
    must_serve: bool = True
    value_per_tflops_hour: NonNeg = 0.0


class Targets(_Strict):
    """Indicator targets; each one given is a hard constraint."""

    fleet_pue_max: Annotated[float, Field(ge=1.0)] | None = None
    site_pue_max: dict[Name, Annotated[float, Field(ge=1.0)]] | None = None
    ece_min: NonNeg | None = None
    renewable_share_min: Share | None = None
    carbon_max: NonNeg | None = None
    output_per_kwh_min: NonNeg | None = None
    server_utilisation_min: Share | None = None

    def given(self) -> dict[str, Any]:
        """The targets set in the instance, by name."""
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Instance(_Strict):
    """A validated instance, with the catalogue merged into ``hardware`` and ``facilities``."""

    computeplan: Literal[1]
    name: Name
    horizon_hours: Positive = 8760.0
    objective: Objective = "energy"
    unserved_penalty: NonNeg | None = None
    precision_weights: dict[Precision, NonNeg] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    hardware: dict[Name, HardwareModel] = Field(default_factory=dict)
    facilities: dict[Name, FacilityModel] = Field(default_factory=dict)
    zones: dict[Name, Zone | None] = Field(default_factory=dict)
    latency_ms: list[tuple[Name, Name, NonNeg]] = Field(default_factory=list)
    latency_model: LatencyModel = Field(default_factory=LatencyModel)
    sites: list[Site] = Field(min_length=1)
    workloads: list[Workload] = Field(min_length=1)
    targets: Targets = Field(default_factory=Targets)
    _source: str = PrivateAttr(default="")

    @property
    def source(self) -> str:
        """Where the instance was read from (a file path, or ``<name>`` for a mapping)."""
        return self._source or f"<{self.name}>"

    def weight(self, precision: str) -> float:
        """Precision weight w[p] (missing precisions weigh 1)."""
        return float(self.precision_weights.get(precision, 1.0))  # type: ignore[call-overload]


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km on a sphere of radius 6371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2.0 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))
