"""Generate the build-out example (instances/shanghai-2030-buildout.yaml and its workload
table instances/shanghai-2030-buildout/workloads.csv).

Run from anywhere, with computeplan installed (the capital figures are its generator's):
python instances/make_shanghai_2030.py
The fleet of shanghai-2025 (make_shanghai.py) with its demand grown to 2030, and the
build-out decisions of FORMULATION.md section 11: new halls and servers at existing
sites, three candidate hub sites in the Yangtze-delta demonstration-zone cluster (Qingpu,
Wujiang, Jiashan) and two western hubs (Qingyang, Gansu; Zhongwei, Ningxia) where power
is cheap and green and the latency suits only training, batch and HPC. Every figure has
its basis in a comment below (confidence tags as in instances/README.md: [C] confirmed,
[C2] secondary source, [R] recalled/assumed, [derived] arithmetic). Deterministic.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import make_shanghai as base  # noqa: E402

# Capital figures are computeplan's generator's (`computeplan generate --build`), one basis
# for both; their sources are in the comments there and in instances/README.md.
from computeplan.io.generate import BUILD_HW as CAPITAL  # noqa: E402
from computeplan.io.generate import HALL_CAPEX_PER_MW, SITE_CAPEX  # noqa: E402

NAME = "shanghai-2030-buildout"
CATALOGUE = HERE.parent / "models" / "hardware.yaml"

# ---------------------------------------------------------------------------------------
# Demand growth 2025 -> 2030, a factor per workload class [R], anchored on the national
#   targets: total compute > 200 EFLOPS by 2023 (MIIT 2021, facts 1.2 [C]) and > 300
#   EFLOPS by 2025 (MIIT et al. 2023-10, facts 1.5 [C]) is 22 %/yr [derived], with the
#   AI share rising to 35 % by 2025 (facts 1.5 [C]) -- AI compute grows faster than the
#   total. Assumed: AI training and inference x3.0 (25 %/yr for five years), edge x2.0
#   (15 %/yr), general cloud and HPC x1.5 (8.4 %/yr).
# ---------------------------------------------------------------------------------------
GROWTH = {"ai-training": 3.0, "ai-inference": 3.0, "edge": 2.0, "general": 1.5, "hpc": 1.5}

# ---------------------------------------------------------------------------------------
# What can be bought by 2030 [R]: export controls (from 2022 and 2023) stop new H100,
# A100 and the 8xH100/A100-class boards reaching Chinese operators; new AI capacity is
# domestic NPUs (Ascend 910B class), the China-market H20, and PCIe inference servers
# (the 4xL40S archetype stands for its class). Every AI workload may also run on the
# buildable accelerators that support its precision (frameworks ported by 2030 [R]).
# Hardware figures are the catalogue's (models/hardware.yaml); the build fields are:
#  capex (yuan per server), lifetime_years and embodied_kg (kg CO2e to make one server):
#    computeplan.io.generate.BUILD_HW [R] -- npu-8x910b 1.2 M yuan (Atlas 800T A2 class,
#    ~1.0-1.5 M reported by resellers), gpu-8xh20 1.0 M, gpu-4xl40s 0.36 M, cpu-2s 0.18 M;
#    5 years (6 for CPU servers); 3,000 / 3,000 / 2,000 / 1,500 kg.
# ---------------------------------------------------------------------------------------
BUILDABLE = ("npu-8x910b", "gpu-8xh20", "gpu-4xl40s", "cpu-2s")
BUILD_HW = {m: CAPITAL[m] for m in BUILDABLE}
BUILD_HW_SOURCE = ("capex {capex:,.0f} yuan, lifetime {life} years, embodied {emb:,.0f} kg CO2e: "
                   "indicative 2024-25 prices and server LCAs, assumed [R] (computeplan.io.generate.BUILD_HW)")

# Halls and sites [R] (computeplan.io.generate): hall_capex ~40 M yuan per MW of IT in the
#  Yangtze delta, ~30 M at the western hubs; site_capex (land, 110 kV substation, fibre)
#  2.0e8 yuan in the delta, 3.0e8 at a western hub (with long-haul fibre to the east);
#  lifetime_years 15 for halls and sites (the formulation's default).

# Western facility: hub-node DCs at Qingyang average PUE < 1.2 (Qingyang plans; Gansu hub
# reply, facts 1.4 [C]; other western hubs assumed alike [R]). Cold dry climate, free
# cooling most of the year: pue_full 1.12, pue_quarter 1.25 assumed [R] (k = 0.077, f/c
# = 0.043, PUE at 40 % load = 1.185).
WEST_FACILITY = {"pue_full": 1.12, "pue_quarter": 1.25,
                 "source": "western hub hyperscale hall: Qingyang cluster average PUE < 1.2 "
                           "(facts 1.4 [C]); pue_full 1.12 and pue_quarter 1.25 assumed [R]"}

# Zones of the candidate sites (degrees; the demonstration zone's start area in western
# Qingpu, Wujiang (Suzhou) and Jiashan (Jiaxing); Qingyang city and Zhongwei city).
# Latency from coordinates with the default model: downtown Shanghai -> Yangtze-delta
# candidates 0.9-1.1 ms (interactive inference, 0.9 ms, stays in the city); -> Qingyang
# ~10.8 ms and Zhongwei ~12.9 ms one way, i.e. a 22-26 ms round trip, the order of the
# east-west hub target of <= 20 ms (facts 1.4/5.3 [C2]): only workloads without a latency
# budget -- training, batch inference, HPC and the unconstrained general IT -- go west.
NEW_ZONES = {
    "qingpu-west": (31.05, 120.90),
    "wujiang": (31.16, 120.64),
    "jiashan": (30.84, 120.92),
    "qingyang": (35.71, 107.64),
    "zhongwei": (37.51, 105.19),
}

# Candidate sites: (id, zone, facility, region, hall kW, halls_max, price, carbon,
# renewable share, servers_max)
#  East: PUE <= 1.25 in the Yangtze-delta cluster (facts 1.4 [C]) -> liquid-hyperscale
#    (1.15) or air-hyperscale (1.22); price, grid carbon and green share as the new
#    Qingpu site of shanghai-2025 (0.62 yuan/kWh, 0.58 kg/kWh, 0.60) [R].
#  West: 0.36 / 0.35 yuan/kWh (Zhongwei, Guizhou DC power prices 0.35-0.36, facts 5.2
#    [C2]); grid 0.55 kg/kWh (northwest grid, coal with large wind and solar) [R]; green
#    share 0.80 (new hub-node DCs > 80 % green electricity, facts 1.6 [C]).
CANDIDATES = [
    ("hub-qingpu-west", "qingpu-west", "liquid-hyperscale", "east", 8000, 6, 0.62, 0.58, 0.60,
     {"npu-8x910b": 6000, "gpu-8xh20": 3000, "cpu-2s": 15000}),
    ("hub-wujiang", "wujiang", "air-hyperscale", "east", 6000, 6, 0.62, 0.58, 0.60,
     {"npu-8x910b": 4000, "gpu-8xh20": 3000, "cpu-2s": 15000}),
    ("hub-jiashan", "jiashan", "liquid-hyperscale", "east", 8000, 6, 0.62, 0.58, 0.60,
     {"npu-8x910b": 6000, "gpu-8xh20": 3000, "cpu-2s": 15000}),
    ("hub-qingyang", "qingyang", "west-hyperscale", "west", 10000, 10, 0.36, 0.55, 0.80,
     {"npu-8x910b": 12000, "cpu-2s": 20000}),
    ("hub-zhongwei", "zhongwei", "west-hyperscale", "west", 10000, 10, 0.35, 0.55, 0.80,
     {"npu-8x910b": 12000, "cpu-2s": 20000}),
]

# Room to grow at existing sites [R]: new halls on the campuses with land (Lingang,
# Qingpu, Songjiang, Jinshan), new servers in the spare floor of existing halls elsewhere;
# the legacy rooms are not extended (the 百一 plan closes them, facts 1.9 [C]).
EXISTING_BUILD = {
    "lg-hs-1": (2, {"npu-8x910b": 2000, "gpu-8xh20": 1000, "cpu-2s": 4000}),
    "lg-hs-2": (0, {"gpu-8xh20": 800, "cpu-2s": 4000}),
    "qp-hs-1": (2, {"npu-8x910b": 2000, "gpu-8xh20": 1000, "cpu-2s": 4000}),
    "qp-hs-2": (0, {"gpu-4xl40s": 400, "cpu-2s": 2000}),
    "sj-hs-1": (2, {"gpu-4xl40s": 1000, "gpu-8xh20": 600, "cpu-2s": 6000}),
    "js-hs-1": (1, {"gpu-4xl40s": 600, "cpu-2s": 4000}),
    "zj-md-1": (0, {"gpu-4xl40s": 200, "cpu-2s": 1000}),
    "xh-md-1": (0, {"gpu-4xl40s": 200, "cpu-2s": 1000}),
    "mh-md-1": (0, {"gpu-4xl40s": 200, "cpu-2s": 1000}),
    "bs-md-1": (0, {"gpu-4xl40s": 200, "cpu-2s": 1000}),
    "jd-md-1": (0, {"gpu-4xl40s": 100, "cpu-2s": 600}),
    "lz-md-1": (0, {"cpu-2s": 600}),
}
EDGE_BUILD = {"gpu-4xl40s": 30, "cpu-2s": 20}   # every micro-module edge room
DISCOUNT_RATE = 0.06   # the formulation's default, a typical real cost of capital [R]

# Targets 2030 [R/derived]: fleet PUE 1.25 and hyperscale sites 1.25 (national hub nodes
# <= 1.25 by 2025, facts 1.3 [C], held to 2030); midsize 1.50 (GB 40879 grade 3); renewable
# share 0.50 (the 2024 plan's +10 %/yr applied from 2025's 0.33 gives 0.53 in 2030,
# facts 1.6 [C]; rounded down).
TARGETS = {
    "fleet_pue_max": 1.25,
    "site_pue_max": {"hyperscale": 1.25, "midsize": 1.50},
    "renewable_share_min": 0.50,
}


def catalogue_hardware() -> dict:
    return dict(yaml.safe_load(CATALOGUE.read_text())["hardware"])


def precision_ok(hw: dict, model: str, precision: str) -> bool:
    return precision in hw[model]["perf_tflops"]


def workloads(hw: dict) -> list[dict]:
    rows = base.workloads(random.Random(base.SEED))
    ai_new = [m for m in BUILD_HW if m.startswith(("npu-", "gpu-8x"))]
    for r in rows:
        r["demand_tflops"] = base.sig(float(r["demand_tflops"]) * GROWTH[r["class"]])
        if r["class"] in ("ai-training", "ai-inference"):
            models = r["hardware"].split(";")
            models += [m for m in ai_new if m not in models and precision_ok(hw, m, r["precision"])]
            r["hardware"] = ";".join(models)
    return rows


def _num(v: float) -> str:
    """A float YAML 1.1 reads as a float (it needs a dot: 1.2e6 would be a string)."""
    return repr(float(v))


def write() -> None:
    hw = catalogue_hardware()
    base.write_workloads(HERE, NAME, workloads(hw), base.COLUMNS)

    lines = [
        "# Shanghai 2030 build-out -- GENERATED by instances/make_shanghai_2030.py; edit that",
        "# script, not this file. shanghai-2025's fleet with demand grown to 2030 and build",
        "# options: new halls and servers at existing sites, three Yangtze-delta candidate hubs",
        "# and two western hubs. Basis of every figure: the script's comments and",
        "# instances/README.md. Sites are archetypes, not real operators' sites.",
        "computeplan: 1",
        f"name: {NAME}",
        "horizon_hours: 8760",
        "objective: cost",
        f"discount_rate: {DISCOUNT_RATE}",
        "precision_weights: " + base.flow(base.PRECISION_WEIGHTS),
        "hardware:",
        "  # the catalogue's figures with the build fields (FORMATS.md, Build-out)",
    ]
    for model, (capex, life, emb) in BUILD_HW.items():
        h = hw[model]
        lines.append(f"  {model}:")
        lines.append(f"    perf_tflops: {base.flow(h['perf_tflops'])}")
        lines.append(f"    idle_kw: {h['idle_kw']}")
        lines.append(f"    peak_kw: {h['peak_kw']}")
        lines.append(f"    capex: {_num(capex)}")
        lines.append(f"    lifetime_years: {life}")
        lines.append(f"    embodied_kg: {emb}")
        lines.append("    source: \"performance and power: models/hardware.yaml; "
                     + BUILD_HW_SOURCE.format(capex=capex, life=life, emb=emb) + "\"")
    lines.append("facilities:")
    lines.append(f"  west-hyperscale: {{pue_full: {WEST_FACILITY['pue_full']}, "
                 f"pue_quarter: {WEST_FACILITY['pue_quarter']},")
    lines.append(f"    source: \"{WEST_FACILITY['source']}\"}}")
    lines.append("zones:")
    for z, (lat, lon) in {**base.ZONES, **NEW_ZONES}.items():
        lines.append(f"  {z}: {{lat: {lat}, lon: {lon}}}")
    lines.append("sites:")
    for site in base.SITES:
        sid, tier, fac, cap, halls = site[0], site[1], site[3], site[4], site[5]
        lines += base.site_lines(site)
        build = None
        if sid in EXISTING_BUILD:
            halls_max, smax = EXISTING_BUILD[sid]
            build = {"halls_max": halls_max}
            if halls_max:
                build["hall_capex"] = _num(cap / halls / 1000 * HALL_CAPEX_PER_MW["east"])
            build["servers_max"] = base.flow(smax)
        elif tier == "edge" and fac == "edge-micromodular":
            build = {"halls_max": 0, "servers_max": base.flow(EDGE_BUILD)}
        if build:
            lines.append("    build: " + base.flow(build))
    lines.append("  # candidate sites: nothing built yet")
    for sid, zone, fac, region, hall_kw, halls_max, price, carbon, ren, smax in CANDIDATES:
        lines.append(f"  - id: {sid}")
        lines.append("    tier: hyperscale")
        lines.append(f"    zone: {zone}")
        lines.append(f"    facility: {fac}")
        lines.append("    it_capacity_kw: 0")
        lines.append("    halls: 0")
        lines.append("    can_idle: true")
        lines.append("    max_utilisation: 0.9")
        lines.append(f"    price_per_kwh: {price}")
        lines.append(f"    carbon_kg_per_kwh: {carbon}")
        lines.append(f"    renewable_share: {ren}")
        lines.append("    servers: {}")
        build = {"hall_kw": hall_kw, "halls_max": halls_max,
                 "hall_capex": _num(hall_kw / 1000 * HALL_CAPEX_PER_MW[region]),
                 "site_capex": _num(SITE_CAPEX[region]), "lifetime_years": 15,
                 "servers_max": base.flow(smax)}
        lines.append("    build: " + base.flow(build))
    lines += base.tail_lines(NAME, TARGETS)
    base.write_yaml(HERE, NAME, lines)


if __name__ == "__main__":
    write()
