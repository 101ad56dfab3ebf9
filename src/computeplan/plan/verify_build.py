"""The independent check of a plan's build decisions (FORMULATION.md section 11): the
``build`` block of ``result.json`` read back, every limit checked and every capital figure
recomputed from the instance alone (plain loops, never the engine's arrays).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from computeplan.io.schema import Instance
from computeplan.model.targets import given
from computeplan.plan.verify_model import SiteView, server_capex_year

HALL_KEYS = ("site", "new_halls", "capex_per_year", "shadow_price")
SERVER_KEYS = ("site", "hardware", "new_servers", "capex_per_year", "shadow_price")
OPENED_KEYS = ("site", "capex_per_year", "workloads")


class Reader(Protocol):
    """What the check needs of :class:`computeplan.plan.verify._Reader`."""

    bad: list[str]

    def section(self, d: dict[str, Any], key: str, kind: type) -> Any: ...

    def records(self, d: dict[str, Any], key: str, keys: tuple[str, ...], ident: Callable[[Any], str],
                names: int) -> list[tuple[str, dict[str, Any]]]: ...

    def number(self, rec: dict[str, Any], key: str, label: str) -> float | None: ...

    def compare(self, label: str, key: str, reported: Any, recomputed: float | None, scale: float = 1.0) -> None: ...


@dataclass
class Built:
    """What a plan builds, as its ``build`` block states it (checked against the limits)."""

    halls: dict[str, float] = field(default_factory=dict)  # site -> new halls
    servers: dict[tuple[str, str], float] = field(default_factory=dict)  # (site, hardware) -> new servers
    capex: float = 0.0  # currency per year
    embodied_kg: float = 0.0  # kg CO2e per year

    def new_halls(self, sid: str) -> float:
        return self.halls.get(sid, 0.0)

    def new_servers(self, sid: str, h: str) -> float:
        return self.servers.get((sid, h), 0.0)


def reports_build(inst: Instance) -> bool:
    """Whether a plan of ``inst`` must carry a ``build`` block and the build indicators."""
    return any(s.build is not None for s in inst.sites) or any(
        g.spec.indicator == "capex_per_year" for g in given(inst.targets.given()))


def check_build(inst: Instance, d: dict[str, Any], rd: Reader, sites: dict[str, SiteView],
                moved_to: dict[str, set[str]]) -> Built:
    """Read and check the ``build`` block; ``moved_to`` gives the workloads assigned to each
    site. Returns what is built, with its recomputed annual capital and embodied carbon."""
    out = Built()
    if not reports_build(inst):
        if d.get("build"):
            rd.bad.append("build: the instance has no build decisions, yet the result reports some")
        return out
    blk = rd.section(d, "build", dict)
    if blk is None:
        return out
    for label, rec in rd.records(blk, "halls", HALL_KEYS, lambda r: r["site"], 1):
        s = sites.get(rec["site"])
        g = rd.number(rec, "new_halls", f"build.{label}")
        if s is None or not s.halls_max:
            rd.bad.append(f"build.{label}: not a site where halls may be built")
            continue
        if g is None:
            continue
        if abs(g - round(g)) > 1e-9 or not (0 <= g <= s.halls_max):
            rd.bad.append(f"build.{label}.new_halls: {g} not an integer in 0..{s.halls_max} (build.halls_max)")
        out.halls[s.id] = g
        rd.compare(f"build.{label}", "capex_per_year", rec["capex_per_year"], s.hall_capex_year * g)
    for label, rec in rd.records(blk, "servers", SERVER_KEYS, lambda r: f"{r['site']}/{r['hardware']}", 2):
        s = sites.get(rec["site"])
        m = rd.number(rec, "new_servers", f"build.{label}")
        if s is None or rec["hardware"] not in s.servers_max:
            rd.bad.append(f"build.{label}: not a pool where servers may be built")
            continue
        if m is None:
            continue
        most = s.servers_max[rec["hardware"]]
        if not (-1e-9 <= m <= most * (1 + 1e-9) + 1e-9):
            rd.bad.append(f"build.{label}.new_servers: {m} outside 0..{most} (build.servers_max)")
        out.servers[(s.id, rec["hardware"])] = m
        rd.compare(f"build.{label}", "capex_per_year", rec["capex_per_year"],
                   server_capex_year(inst, rec["hardware"]) * m)
    opened: dict[str, dict[str, Any]] = {}
    for label, rec in rd.records(blk, "sites_opened", OPENED_KEYS, lambda r: r["site"], 1):
        opened[rec["site"]] = rec
        s = sites.get(rec["site"])
        if s is None:
            rd.bad.append(f"build.{label}: not a site of the instance")
            continue
        rd.compare(f"build.{label}", "capex_per_year", rec["capex_per_year"], s.site_capex_year or 0.0)
        listed = rec["workloads"]
        if not isinstance(listed, list) or sorted(map(str, listed)) != sorted(moved_to.get(s.id, set())):
            rd.bad.append(f"build.{label}.workloads: reported {listed!r}, the assignments say "
                          f"{sorted(moved_to.get(s.id, set()))}")
    capex = embodied = 0.0
    for s in sites.values():
        g = out.new_halls(s.id)
        ms = {h: out.new_servers(s.id, h) for h in s.servers_max}
        anything = g > 0 or any(m > 0 for m in ms.values())
        capex += s.hall_capex_year * g + sum(server_capex_year(inst, h) * m for h, m in ms.items())
        embodied += sum(inst.hardware[h].embodied_kg / inst.hardware[h].lifetime_years * m for h, m in ms.items())
        pays_site = s.site_capex_year is not None and anything
        if pays_site:
            capex += s.site_capex_year or 0.0
        should_open = pays_site or (s.halls == 0 and g > 0)
        if should_open != (s.id in opened):
            rd.bad.append(f"build.sites_opened[{s.id}]: " + (
                "missing, yet the plan builds there" if should_open else "listed, yet nothing opens the site"))
    out.capex, out.embodied_kg = capex, embodied
    rd.compare("build", "capex_per_year", blk.get("capex_per_year"), capex)
    rd.compare("build", "embodied_carbon_t", blk.get("embodied_carbon_t"), embodied / 1000.0)
    if not math.isfinite(capex):
        rd.bad.append("build.capex_per_year: not finite")
    return out
