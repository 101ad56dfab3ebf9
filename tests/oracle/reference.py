"""A plain, independent reference model of FORMULATION.md (the test oracle).

It is written from ``FORMULATION.md`` and ``FORMATS.md`` alone and deliberately
shares nothing with ``computeplan``: it reads the raw instance dict, builds the
LP/MILP with PuLP one variable and one constraint at a time, solves it with CBC
and recomputes every indicator from the variable values with plain loops.

Only inline instances are supported (hardware and facilities in the dict or in
``include`` files, sites and workloads as lists); that is all the oracle's own
instances need.

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
"""

from __future__ import annotations

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

AMBIGUITIES = __doc__

# Keys allowed by FORMATS.md, so the oracle also proves its instances are valid.
TOP_KEYS = {
    "computeplan", "name", "horizon_hours", "objective", "unserved_penalty",
    "precision_weights", "include", "hardware", "facilities", "zones", "latency_ms",
    "sites", "workloads", "targets",
}
HARDWARE_KEYS = {"perf_tflops", "idle_kw", "peak_kw", "source", "notes"}
FACILITY_KEYS = {"pue_full", "pue_quarter", "source", "notes"}
ZONE_KEYS = {"lat", "lon"}
SITE_KEYS = {
    "id", "tier", "zone", "facility", "it_capacity_kw", "halls", "can_idle",
    "max_utilisation", "price_per_kwh", "carbon_kg_per_kwh", "renewable_share", "servers",
}
WORKLOAD_KEYS = {
    "id", "class", "demand_tflops", "precision", "hardware", "origin", "max_latency_ms",
    "tiers", "sites", "divisible", "must_serve", "value_per_tflops_hour",
}
TARGET_KEYS = {
    "fleet_pue_max", "site_pue_max", "ece_min", "renewable_share_min", "carbon_max",
    "output_per_kwh_min", "server_utilisation_min",
}


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
class Site:
    id: str
    tier: str
    zone: str
    capacity_kw: float
    halls: int
    hall_kw: float
    can_idle: bool
    umax: float
    price: float
    carbon: float
    renewable: float
    servers: dict[str, float]
    k: float
    f: float
    pue_target: float | None = None


@dataclass
class Workload:
    id: str
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


@dataclass
class ReferenceModel:
    """The PuLP problem and everything needed to read a plan back."""

    prob: pulp.LpProblem
    objective_name: str
    horizon: float
    penalty: float | None
    sites: list[Site]
    workloads: list[Workload]
    hardware: dict[str, dict]
    weights: dict[str, float]
    candidates: list[tuple[int, int, str]]
    x: dict[tuple[int, int, str], pulp.LpVariable]
    n: dict[tuple[int, str], pulp.LpVariable]
    z: dict[int, pulp.LpVariable | float]
    busy: dict[tuple[int, str], Any] = field(default_factory=dict)
    it: dict[int, Any] = field(default_factory=dict)
    power: dict[int, Any] = field(default_factory=dict)
    quantities: dict[str, Any] = field(default_factory=dict)
    objective_expr: Any = None
    needs_penalty: bool = False


def _perf(hardware: dict, h: str, p: str) -> float | None:
    value = (hardware[h].get("perf_tflops") or {}).get(p)
    return None if value is None else float(value)


def _sites(raw: dict, facilities: dict, hardware: dict) -> list[Site]:
    pue_targets = (raw.get("targets") or {}).get("site_pue_max") or {}
    sites = []
    for idx, s in enumerate(raw["sites"]):
        _check_keys(f"sites[{idx}]", s, SITE_KEYS)
        if s["tier"] not in TIERS:
            raise ValueError(f"sites[{idx}].tier: {s['tier']!r}")
        fac = facilities[s["facility"]]
        _check_keys(f"facilities.{s['facility']}", fac, FACILITY_KEYS)
        halls = int(s.get("halls", 1))
        capacity = float(s["it_capacity_kw"])
        hall_kw = capacity / halls
        k, f = facility_coefficients(float(fac["pue_full"]), float(fac["pue_quarter"]), hall_kw)
        servers = {h: float(cnt) for h, cnt in (s.get("servers") or {}).items()}
        for h in servers:
            if h not in hardware:
                raise ValueError(f"sites[{idx}].servers.{h}: unknown hardware")
        # A site id key takes precedence over the key of the site's tier.
        target = pue_targets.get(s["id"], pue_targets.get(s["tier"]))
        sites.append(
            Site(
                id=s["id"],
                tier=s["tier"],
                zone=s["zone"],
                capacity_kw=capacity,
                halls=halls,
                hall_kw=hall_kw,
                can_idle=bool(s.get("can_idle", False)),
                umax=float(s.get("max_utilisation", 1.0)),
                price=float(s["price_per_kwh"]),
                carbon=float(s["carbon_kg_per_kwh"]),
                renewable=float(s.get("renewable_share", 0.0)),
                servers=servers,
                k=k,
                f=f,
                pue_target=None if target is None else float(target),
            )
        )
    return sites


def _workloads(raw: dict) -> list[Workload]:
    out = []
    for idx, w in enumerate(raw["workloads"]):
        _check_keys(f"workloads[{idx}]", w, WORKLOAD_KEYS)
        if w["precision"] not in PRECISIONS:
            raise ValueError(f"workloads[{idx}].precision: {w['precision']!r}")
        out.append(
            Workload(
                id=w["id"],
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
    raw = dict(raw)
    targets = dict(raw.get("targets") or {})
    for name in drop_targets:
        if name.startswith("site_pue_max."):
            table = dict(targets.get("site_pue_max") or {})
            table.pop(name.split(".", 1)[1])
            targets["site_pue_max"] = table
        else:
            targets.pop(name)
    raw["targets"] = targets

    hardware, facilities = _read_catalogues(raw, base_dir)
    for name, hw in hardware.items():
        if not 0 <= float(hw["idle_kw"]) <= float(hw["peak_kw"]):
            raise ValueError(f"hardware.{name}: need 0 <= idle_kw <= peak_kw")
    sites = _sites(raw, facilities, hardware)
    workloads = _workloads(raw)
    H = float(raw.get("horizon_hours", DEFAULT_HORIZON))
    weights = {p: float(v) for p, v in (raw.get("precision_weights") or {}).items()}
    objective_name = objective or raw.get("objective", "energy")
    if objective_name not in OBJECTIVES:
        raise ValueError(f"objective: {objective_name!r}")
    needs_penalty = any(not w.must_serve for w in workloads)
    penalty = raw.get("unserved_penalty")
    penalty = None if penalty is None else float(penalty)

    prob = pulp.LpProblem("reference", pulp.LpMinimize)

    # Candidate triples (i, j, h) and the shares x.
    candidates = [
        (i, j, h)
        for i, w in enumerate(workloads)
        for j, s in enumerate(sites)
        for h in s.servers
        if _candidate(raw, hardware, w, s, h)
    ]
    x: dict[tuple[int, int, str], pulp.LpVariable] = {}
    for i, j, h in candidates:
        cat = pulp.LpContinuous if workloads[i].divisible else pulp.LpBinary
        x[i, j, h] = prob.add_variable(f"x_{i}_{j}_{h}", 0, 1, cat)

    share: dict[int, Any] = {}
    for i, w in enumerate(workloads):
        share[i] = pulp.lpSum(x[t] for t in candidates if t[0] == i)
        if w.must_serve:
            if not any(t[0] == i for t in candidates):
                raise ValueError(f"workload {w.id!r} must be served but has no candidate")
            prob += share[i] == 1, f"serve_{i}"
        else:
            prob += share[i] <= 1, f"serve_{i}"

    # Busy servers b, powered servers n, halls z.
    busy: dict[tuple[int, str], Any] = {}
    n: dict[tuple[int, str], pulp.LpVariable] = {}
    for j, s in enumerate(sites):
        for h, installed in s.servers.items():
            busy[j, h] = pulp.lpSum(
                workloads[i].demand / _perf(hardware, h, workloads[i].precision) * x[i, jj, hh]
                for i, jj, hh in candidates
                if jj == j and hh == h
            )
            n[j, h] = prob.add_variable(f"n_{j}_{h}", 0, installed)
            prob += busy[j, h] <= s.umax * n[j, h], f"powered_{j}_{h}"

    z: dict[int, pulp.LpVariable | float] = {}
    for j, s in enumerate(sites):
        if s.can_idle:
            z[j] = prob.add_variable(f"z_{j}", 0, s.halls, pulp.LpInteger)
        else:
            z[j] = float(s.halls)

    # Power (kW), per site.
    it: dict[int, Any] = {}
    power: dict[int, Any] = {}
    for j, s in enumerate(sites):
        it[j] = pulp.lpSum(
            float(hardware[h]["idle_kw"]) * n[j, h]
            + (float(hardware[h]["peak_kw"]) - float(hardware[h]["idle_kw"])) * busy[j, h]
            for h in s.servers
        )
        prob += it[j] <= s.hall_kw * z[j], f"capacity_{j}"
        power[j] = it[j] + s.f * z[j] + s.k * it[j]

    energy = H * pulp.lpSum(power.values())
    cost = H * pulp.lpSum(power[j] * s.price for j, s in enumerate(sites))
    carbon_kg = H * pulp.lpSum(
        power[j] * s.carbon * (1.0 - s.renewable) for j, s in enumerate(sites)
    )
    renewable_kwh = H * pulp.lpSum(power[j] * s.renewable for j, s in enumerate(sites))
    served = pulp.lpSum(w.demand * share[i] for i, w in enumerate(workloads))
    weighted = pulp.lpSum(
        weights.get(w.precision, 1.0) * w.demand * share[i] for i, w in enumerate(workloads)
    )
    output = H * pulp.lpSum(w.value * w.demand * share[i] for i, w in enumerate(workloads))
    total_it = pulp.lpSum(it.values())
    unserved = pulp.lpSum(w.demand * (1 - share[i]) for i, w in enumerate(workloads))

    # Targets (section 6), each a hard linear constraint.
    if "fleet_pue_max" in targets:
        T = float(targets["fleet_pue_max"])
        prob += (
            pulp.lpSum(s.f * z[j] + s.k * it[j] for j, s in enumerate(sites)) <= (T - 1.0) * total_it,
            "fleet_pue_max",
        )
    for j, s in enumerate(sites):
        if s.pue_target is not None:
            prob += s.f * z[j] + s.k * it[j] <= (s.pue_target - 1.0) * it[j], f"site_pue_max_{j}"
    if "ece_min" in targets:
        prob += weighted >= float(targets["ece_min"]) * pulp.lpSum(power.values()), "ece_min"
    if "renewable_share_min" in targets:
        prob += renewable_kwh >= float(targets["renewable_share_min"]) * energy, "renewable_share_min"
    if "carbon_max" in targets:
        prob += carbon_kg / 1000.0 <= float(targets["carbon_max"]), "carbon_max"
    if "output_per_kwh_min" in targets:
        prob += output >= float(targets["output_per_kwh_min"]) * energy, "output_per_kwh_min"
    if "server_utilisation_min" in targets:
        installed_all = sum(float(c) for s in sites for c in s.servers.values())
        prob += (pulp.lpSum(busy.values()) >= float(targets["server_utilisation_min"]) * installed_all,
                 "server_utilisation_min")

    # Objective (section 5).
    main = {"energy": energy, "cost": cost, "carbon": carbon_kg}[objective_name]
    objective_expr = main
    if needs_penalty and penalty is not None:
        objective_expr = main + penalty * H * unserved
    prob += objective_expr

    model = ReferenceModel(
        prob=prob,
        objective_name=objective_name,
        horizon=H,
        penalty=penalty,
        sites=sites,
        workloads=workloads,
        hardware=hardware,
        weights=weights,
        candidates=candidates,
        x=x,
        n=n,
        z=z,
        busy=busy,
        it=it,
        power=power,
        objective_expr=objective_expr,
        needs_penalty=needs_penalty,
    )
    model.quantities = {
        "energy_kwh": energy,
        "cost": cost,
        "carbon_kg": carbon_kg,
        "renewable_kwh": renewable_kwh,
        "it_kw": total_it,
        "facility_kw": pulp.lpSum(power.values()),
        "served_tflops": served,
        "weighted_tflops": weighted,
        "output": output,
    }
    # Servers powered beyond need (n - b/umax) and the IT power they draw.
    model.quantities["servers_beyond_need"] = pulp.lpSum(
        n[j, h] - busy[j, h] * (1.0 / s.umax) for j, s in enumerate(sites) for h in s.servers
    )
    model.quantities["beyond_need_kw"] = pulp.lpSum(
        (1.0 + s.k) * float(hardware[h]["idle_kw"]) * (n[j, h] - busy[j, h] * (1.0 / s.umax))
        for j, s in enumerate(sites)
        for h in s.servers
    )
    for j, s in enumerate(sites):
        model.quantities[f"it_kw.{s.id}"] = it[j]
        model.quantities[f"facility_kw.{s.id}"] = power[j]
    return model


def cbc(time_limit: float | None = None) -> pulp.PULP_CBC_CMD:
    """CBC (the binary bundled with PuLP) with tight gaps, quiet."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # PuLP 4 renames it
        return pulp.PULP_CBC_CMD(msg=False, gapRel=1e-9, gapAbs=1e-9, timeLimit=time_limit)


# ---------------------------------------------------------------------- read back


def _value(v: Any) -> float:
    return float(v) if isinstance(v, int | float) else float(v.varValue or 0.0)


def evaluate_plan(model: ReferenceModel) -> dict[str, Any]:
    """Recompute every figure from the solved variable values with plain loops."""
    H = model.horizon
    hw = model.hardware
    # Clean solver noise: shares in [0, 1], binaries and halls to integers.
    x = {}
    for t, var in model.x.items():
        v = min(max(_value(var), 0.0), 1.0)
        if var.cat != pulp.LpContinuous:
            v = float(round(v))
        x[t] = v
    # A must-serve workload's shares sum to 1 by an equality row; remove the
    # solver's 1e-10 residue so that served and unserved demand come out exact.
    for i, w in enumerate(model.workloads):
        keys = [t for t in x if t[0] == i]
        total = sum(x[t] for t in keys)
        if w.must_serve and total > 0:
            for t in keys:
                x[t] /= total
    z = {j: float(round(_value(v))) for j, v in model.z.items()}
    n = {key: max(_value(var), 0.0) for key, var in model.n.items()}

    share = {i: 0.0 for i in range(len(model.workloads))}
    busy = {key: 0.0 for key in model.n}
    for (i, j, h), v in x.items():
        share[i] += v
        w = model.workloads[i]
        busy[j, h] += w.demand * v / float(hw[h]["perf_tflops"][w.precision])

    # Powered servers within CBC's tolerance of b/umax are exactly b/umax, so
    # that "servers beyond need" reads 0, not 3e-5, when there are none.
    for j, s in enumerate(model.sites):
        for h, installed in s.servers.items():
            need = busy[j, h] / s.umax
            if abs(n[j, h] - need) <= 1e-6 * max(installed, 1.0):
                n[j, h] = need

    sites_out = []
    tot = {"it": 0.0, "power": 0.0, "cost": 0.0, "carbon": 0.0, "renew": 0.0}
    installed_all = sum(float(c) for s in model.sites for c in s.servers.values())
    beyond = {"servers": 0.0, "kw": 0.0}
    for j, s in enumerate(model.sites):
        it = sum(
            float(hw[h]["idle_kw"]) * n[j, h]
            + (float(hw[h]["peak_kw"]) - float(hw[h]["idle_kw"])) * busy[j, h]
            for h in s.servers
        )
        overhead = s.f * z[j] + s.k * it
        power = it + overhead
        energy = power * H
        tot["it"] += it
        tot["power"] += power
        tot["cost"] += energy * s.price
        tot["carbon"] += energy * s.carbon * (1.0 - s.renewable)
        tot["renew"] += energy * s.renewable
        extra = {h: max(n[j, h] - busy[j, h] / s.umax, 0.0) for h in s.servers}
        # The facility energy they cause: their idle IT power plus its
        # proportional overhead k (the fixed hall overhead f is not theirs).
        extra_kw = (1.0 + s.k) * sum(float(hw[h]["idle_kw"]) * extra[h] for h in s.servers)
        beyond["servers"] += sum(extra.values())
        beyond["kw"] += extra_kw
        installed = sum(s.servers.values())
        sites_out.append(
            {
                "id": s.id,
                "it_kw": it,
                "overhead_kw": overhead,
                "facility_kw": power,
                "pue": power / it if it > 0 else None,
                "active_halls": z[j],
                "utilisation": sum(busy[j, h] for h in s.servers) / installed if installed else 0.0,
                "energy_kwh": energy,
                "servers_on": {h: n[j, h] for h in s.servers},
                "busy_servers": {h: busy[j, h] for h in s.servers},
                "servers_beyond_need": sum(extra.values()),
                "beyond_need_energy_kwh": extra_kw * H,
            }
        )

    served = sum(w.demand * share[i] for i, w in enumerate(model.workloads))
    unserved = sum(w.demand * (1.0 - share[i]) for i, w in enumerate(model.workloads))
    weighted = sum(
        model.weights.get(w.precision, 1.0) * w.demand * share[i]
        for i, w in enumerate(model.workloads)
    )
    output = sum(w.value * w.demand * share[i] * H for i, w in enumerate(model.workloads))
    energy = tot["power"] * H
    indicators = {
        "fleet_pue": tot["power"] / tot["it"] if tot["it"] > 0 else None,
        "ece_gflops_per_w": weighted / tot["power"] if tot["power"] > 0 else None,
        "energy_kwh": energy,
        "cost": tot["cost"],
        "carbon_t": tot["carbon"] / 1000.0,
        "renewable_share": tot["renew"] / energy if energy > 0 else None,
        "served_tflops": served,
        "unserved_tflops": unserved,
        "output_per_kwh": output / energy if energy > 0 else None,
        # Beyond FORMATS.md's list: fleet totals and the servers powered beyond
        # b/umax (section 6) with the facility energy they draw, (1 + k) times
        # their idle IT energy.
        "it_kw": tot["it"],
        "facility_kw": tot["power"],
        "servers_beyond_need": beyond["servers"],
        "beyond_need_energy_kwh": beyond["kw"] * H,
        # Busy over installed servers, fleet-wide (section 6, server_utilisation_min).
        "server_utilisation": (sum(busy.values()) / installed_all) if installed_all > 0 else None,
    }
    main = {"energy": energy, "cost": tot["cost"], "carbon": tot["carbon"]}[model.objective_name]
    objective = main
    if model.needs_penalty and model.penalty is not None:
        objective += model.penalty * H * unserved
    assignments = [
        {
            "workload": model.workloads[i].id,
            "site": model.sites[j].id,
            "hardware": h,
            "share": v,
            "tflops": v * model.workloads[i].demand,
        }
        for (i, j, h), v in x.items()
        if v > 1e-9
    ]
    return {
        "objective": objective,
        "indicators": indicators,
        "sites": sites_out,
        "assignments": assignments,
    }


def solve_reference(
    raw: dict,
    base_dir: Path | None = None,
    drop_targets: tuple[str, ...] = (),
    objective: str | None = None,
) -> dict[str, Any]:
    """Solve a raw instance dict with the reference model.

    Returns ``{"status", "objective", "indicators", "unserved_penalty", ...}``.
    ``status`` is ``"optimal"`` or ``"infeasible"``; it is ``None`` (and nothing
    is solved) when some workload may go unserved but the instance gives no
    ``unserved_penalty``: the default is the engine's choice, not the oracle's.
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
    model.prob.solve(cbc())
    status = pulp.LpStatus[model.prob.status]
    if status == "Infeasible":
        result["status"] = "infeasible"
        return result
    if status != "Optimal" or model.prob.sol_status != pulp.LpSolutionOptimal:
        raise RuntimeError(f"CBC ended with {status} / sol_status {model.prob.sol_status}")
    result["status"] = "optimal"
    result.update(evaluate_plan(model))
    result["solver_objective"] = pulp.value(model.prob.objective)
    return result


def load_yaml(path: str | Path) -> dict:
    """Read an instance file into a raw dict."""
    return yaml.safe_load(Path(path).read_text())
