"""Which sites each workload can reach: latency between zones, allowed tiers and sites,
hardware that supports its precision. Used by the input checks (a must-serve workload
with no candidate is invalid input) and by the arrays stage (candidate pairs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.io.schema import Instance, haversine_km

F64 = NDArray[np.float64]
B = NDArray[np.bool_]


def latency_matrix(inst: Instance) -> tuple[F64, dict[str, int]]:
    """Zone-to-zone latency in ms (NaN where unknown) and the zone index map.

    Explicit ``latency_ms`` pairs override coordinates and are symmetric; otherwise
    great-circle km x route factor x ms/km + the per-hop term; same zone: the hop term.
    """
    names = list(inst.zones)
    index = {z: i for i, z in enumerate(names)}
    n = len(names)
    lm = inst.latency_model
    lat = np.full((n, n), np.nan)
    coords = [inst.zones[z] for z in names]
    for a in range(n):
        za = coords[a]
        lat[a, a] = lm.hop_ms
        if za is None or not za.has_coordinates:
            continue
        for b in range(a + 1, n):
            zb = coords[b]
            if zb is None or not zb.has_coordinates:
                continue
            km = haversine_km(za.lat, za.lon, zb.lat, zb.lon)  # type: ignore[arg-type]
            lat[a, b] = lat[b, a] = km * lm.route_factor * lm.ms_per_km + lm.hop_ms
    for za_name, zb_name, ms in inst.latency_ms:
        if za_name in index and zb_name in index:
            a, b = index[za_name], index[zb_name]
            lat[a, b] = lat[b, a] = float(ms)
    return lat, index


def _candidate_groups(inst: Instance, lat: F64, zone_index: dict[str, int]) -> dict[tuple[object, ...], list[int]]:
    groups: dict[tuple[object, ...], list[int]] = {}
    for i, w in enumerate(inst.workloads):
        key = (
            w.origin,
            w.max_latency_ms,
            tuple(w.hardware),
            w.precision,
            tuple(w.tiers) if w.tiers is not None else None,
            tuple(w.sites) if w.sites is not None else None,
        )
        groups.setdefault(key, []).append(i)
    return groups


def _site_arrays(inst: Instance, zone_index: dict[str, int]) -> tuple[Any, Any, Any]:
    """Tier, id and zone index of every site as arrays."""
    return (
        np.array([s.tier for s in inst.sites]),
        np.array([s.id for s in inst.sites]),
        np.array([zone_index[s.zone] for s in inst.sites], dtype=np.int64),
    )


def _hardware_masks(inst: Instance) -> dict[str, B]:
    return {h: np.array([s.servers.get(h, 0) > 0 or (s.build is not None and s.build.servers_max.get(h, 0) > 0)
                         for s in inst.sites]) for h in inst.hardware}


def _allowed_sites(inst: Instance, key: tuple[object, ...], lat: F64, zone_index: dict[str, int],
                   arrays: tuple[Any, Any, Any]) -> tuple[B, B, B]:
    """Masks over sites: allowed by tiers/sites, within latency, both."""
    origin, max_lat, _hw, _p, tiers, sites = key
    n = len(inst.sites)
    site_tier, site_ids, site_zone = arrays
    allowed = np.ones(n, dtype=bool)
    if tiers is not None:
        allowed &= np.isin(site_tier, list(tiers))  # type: ignore[call-overload]
    if sites is not None:
        allowed &= np.isin(site_ids, list(sites))  # type: ignore[call-overload]
    near = np.ones(n, dtype=bool)
    if max_lat is not None:
        o = zone_index[str(origin)]
        site_lat = lat[o, site_zone]
        with np.errstate(invalid="ignore"):
            near = site_lat <= float(max_lat) + 1e-12  # type: ignore[arg-type]
    return allowed, near, allowed & near


@dataclass(frozen=True, eq=False)
class Reach:
    """Which sites each group of workloads reaches: the latency matrix and zone index, and
    per group (workloads that share origin, latency limit, hardware, precision, tiers and
    sites) its key, its members, the sites its tiers/sites allow and those also in reach."""

    lat: F64
    zone_index: dict[str, int]
    groups: list[tuple[tuple[object, ...], list[int], B, B]]


class _Kept:
    """What :func:`reach` keeps on an instance: not part of the instance's value, so two
    instances compare equal whether or not either has it."""

    def __init__(self, deps: tuple[object, ...], value: Reach) -> None:
        self.deps, self.value = deps, value

    def __eq__(self, other: object) -> bool:
        return other is None or isinstance(other, _Kept)

    __hash__ = None  # type: ignore[assignment]


def reach(inst: Instance) -> Reach:
    """The :class:`Reach` of a validated instance, worked out once: the input checks and
    the arrays stage both read it. It is kept on the instance and used again only while
    the instance holds the very same sites, workloads, zones, latencies and hardware (a
    copy with other workloads works it out anew)."""
    deps = (inst.sites, inst.workloads, inst.zones, inst.latency_ms, inst.latency_model, inst.hardware)
    kept = inst._reach
    if isinstance(kept, _Kept) and all(a is b for a, b in zip(kept.deps, deps, strict=True)):
        return kept.value
    lat, zone_index = latency_matrix(inst)
    arrays = _site_arrays(inst, zone_index)
    groups = []
    for key, members in _candidate_groups(inst, lat, zone_index).items():
        allowed, _near, ok = _allowed_sites(inst, key, lat, zone_index, arrays)
        groups.append((key, members, allowed, ok))
    out = Reach(lat, zone_index, groups)
    inst._reach = _Kept(deps, out)
    return out


def candidate_report(inst: Instance) -> list[tuple[int, str]]:
    """Must-serve workloads with no candidate pool, each with the reason in planner terms."""
    out: list[tuple[int, str]] = []
    masks = _hardware_masks(inst)
    for key, members, allowed, ok in reach(inst).groups:
        if not any(inst.workloads[i].must_serve for i in members):
            continue
        hw, prec = key[2], key[3]
        usable = [h for h in hw if prec in inst.hardware[h].perf_tflops]  # type: ignore[union-attr, attr-defined]
        has_pool = np.zeros(len(inst.sites), dtype=bool)
        for h in usable:
            has_pool |= masks[h]
        if np.any(ok & has_pool):
            continue
        if not np.any(allowed):
            why = "no site is allowed by its tiers/sites"
        elif not np.any(ok):
            why = f"no allowed site is within max_latency_ms={key[1]} of zone {key[0]!r}"
        else:
            why = (
                f"no allowed site within reach has servers of {', '.join(usable) or 'its hardware'} "
                f"that support {prec}"
            )
        for i in members:
            if inst.workloads[i].must_serve:
                out.append((i, f"no candidate (site, hardware) pool: {why}; it must be served"))
    return sorted(out)
