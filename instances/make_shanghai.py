"""Generate the Shanghai 2025 example instance (instances/shanghai-2025.yaml and
instances/shanghai-2025/workloads.csv).

Run from anywhere:  python instances/make_shanghai.py
The output is deterministic (Python's ``random.Random`` with a fixed seed, whose
sequence is stable across Python versions) and is committed beside this script, so the
instance does not depend on running it. The basis of every figure is in the comments
below and in instances/README.md; the fact sheet referred to as "facts" is the project's
research note (sections numbered as there), whose figures carry public sources.

The fleet is a *plausible* sample of Shanghai's data centres, not an inventory: site
names, sizes and server counts are invented archetypes placed in the districts that
Shanghai's plans name for each tier. Nothing here describes a real operator's site.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
SEED = 20250101
NAME = "shanghai-2025"

# ---------------------------------------------------------------------------------------
# Zones: Shanghai districts and two Pudong sub-areas, coordinates in degrees (WGS84),
# rounded to ~0.01 deg, taken at each district's administrative centre or the named
# park. Latency between zones comes from the formulation's default model: haversine km
# x 1.5 route factor x 0.005 ms/km (fibre ~4.9 us/km, facts 5.3) + 0.5 ms per hop. Across
# the city that gives 0.5-1.1 ms one-way network latency; edge workloads below have
# budgets of 0.52-0.60 ms, i.e. the serving site must be in the same zone or within
# ~3-13 km.
# ---------------------------------------------------------------------------------------
# Tables below are kept one record per line.
# fmt: off
ZONES: dict[str, tuple[float, float]] = {
    "huangpu": (31.23, 121.47),    # People's Square, city centre
    "jingan": (31.23, 121.45),
    "xuhui": (31.19, 121.44),      # incl. Caohejing high-tech park
    "changning": (31.22, 121.42),
    "putuo": (31.25, 121.40),
    "hongkou": (31.26, 121.51),
    "yangpu": (31.26, 121.53),     # universities
    "lujiazui": (31.24, 121.50),   # Pudong finance district
    "zhangjiang": (31.20, 121.59), # Pudong science city (AI, chips, biomedicine)
    "minhang": (31.11, 121.38),    # incl. Zizhu science park
    "baoshan": (31.41, 121.49),
    "jiading": (31.37, 121.27),    # Anting auto city, connected-vehicle test roads
    "qingpu": (31.15, 121.12),     # Yangtze-delta eco-green demonstration zone cluster
    "songjiang": (31.03, 121.23),  # G60 science & innovation corridor
    "jinshan": (30.74, 121.34),
    "fengxian": (30.92, 121.47),
    "lingang": (30.90, 121.93),    # Lingang New Area (intelligent-connected vehicles)
}

# ---------------------------------------------------------------------------------------
# Site-level energy figures.
# Price (yuan/kWh), an ASSUMPTION [R]: no current Shanghai tariff table was found (facts
#   5.2 only has an old 2-period tariff, 1.044 / 0.513). We take the indicative 10 kV
#   two-part time-of-use levels (peak ~1.1, flat ~0.70, valley ~0.32; facts 5.2 [R]) and
#   weight them by hours for a flat 24/7 load: (6 h x 1.10 + 10 h x 0.70 + 8 h x 0.32)/24
#   = 0.67 yuan/kWh for 10 kV midsize sites; hyperscale sites on 35-110 kV pay less
#   (0.62, assumed); edge rooms on low voltage pay more (0.72, assumed).
# Grid carbon: 0.58 kg CO2/kWh for every site -- East China grid / Shanghai factor,
#   facts 5.1 [R] (national 2022 average 0.5366, 0.5856 excluding traded non-fossil
#   power [C]).
# Renewable share = contracted green electricity (green-power trading, certificates,
#   on-site PV) as a share of the site's supply; carbon is counted on the rest. Assumed
#   per site [R], anchored on: new DCs at national hub nodes > 80 % green electricity by
#   2025 (facts 1.6 [C]) -- Qingpu is in the Yangtze-delta hub's demonstration-zone
#   cluster, so its new liquid-cooled site gets 0.60 and its older site 0.30; the other
#   hyperscale clusters 0.20-0.30; urban midsize 0.10; edge rooms 0.05; legacy rooms 0.
# ---------------------------------------------------------------------------------------
CARBON = 0.58
PRICE = {"hyperscale": 0.62, "midsize": 0.67, "edge": 0.72}

# Sites: (id, tier, zone, facility, IT kW, halls, can_idle, max utilisation,
#         renewable share, servers {model: count}, note)
# Sizes: hyperscale >= 10,000 standard racks of 2.5 kW would be >= 25 MW (facts 1.8); our
#   hyperscale sites are 8-24 MW of IT, i.e. large (3,000-10,000 racks) to hyperscale, the
#   AI-dense halls Shanghai's clusters build (Lingang, Qingpu, G60/Songjiang, Jinshan --
#   SHEITC 2023-04 guidance, facts 1.9 [C]). Midsize urban sites 1-4 MW (< 3,000 racks).
#   Edge sites 120-240 kW (<= 100 standard racks = 250 kW, facts 1.8/6) in telecom rooms
#   (Shanghai's plan puts edge DCs in existing telecom rooms/substations, facts 1.9 [C]).
# Server counts: chosen so that installed peak power is 70-100 % of the site's IT
#   capacity (operators provision against nameplate with some headroom; facts 3.1 notes
#   7-40 % over-subscription headroom). The AI mix (8xH100, 8xA100, 8x910B, 8xH20,
#   4xL40S) reflects what Chinese clusters run since 2023 (export-control SKUs H20 and
#   domestic 910B alongside earlier H100/A100 stock) [R]. Installed fleet FP16 ~ 19 EFLOPS,
#   of the order of the "算力浦江" plan's > 10 EFLOPS of AI capacity (facts 1.9 [C]).
# Max utilisation: 0.90 in hyperscale AI/cloud halls (LBNL: hyperscale ~45-50 % average
#   server utilisation, AI training 80 % operational time, facts 3.3 -- the cap is a
#   scheduling ceiling, not an average), 0.80 midsize, 0.70 edge (headroom for bursts).
SITES = [
    # --- hyperscale ---------------------------------------------------------------------
    ("lg-hs-1", "hyperscale", "lingang", "liquid-hyperscale", 24000, 4, True, 0.90, 0.30,
     {"gpu-8xh100": 800, "npu-8x910b": 1000, "cpu-2s": 4000},
     "Lingang AI campus, liquid-cooled, 4 halls of 6 MW"),
    ("lg-hs-2", "hyperscale", "lingang", "air-hyperscale", 16000, 4, True, 0.90, 0.20,
     {"gpu-8xh20": 800, "gpu-8xa100": 300, "cpu-2s": 6000},
     "Lingang cloud campus, air-cooled, 4 halls of 4 MW"),
    ("qp-hs-1", "hyperscale", "qingpu", "liquid-hyperscale", 20000, 4, True, 0.90, 0.60,
     {"npu-8x910b": 1000, "gpu-8xh20": 400, "cpu-2s": 6000},
     "Qingpu (Yangtze-delta demonstration-zone cluster), new liquid-cooled site, green power"),
    ("qp-hs-2", "hyperscale", "qingpu", "air-hyperscale", 9000, 3, True, 0.90, 0.30,
     {"gpu-8xa100": 300, "gpu-4xl40s": 600, "cpu-2s": 5000},
     "Qingpu, older air-cooled site, 3 halls of 3 MW"),
    ("sj-hs-1", "hyperscale", "songjiang", "air-hyperscale", 16000, 4, True, 0.90, 0.20,
     {"gpu-4xl40s": 600, "gpu-8xh20": 200, "cpu-2s": 9000},
     "G60 corridor (Songjiang) cloud campus, 4 halls of 4 MW"),
    ("js-hs-1", "hyperscale", "jinshan", "air-hyperscale", 8000, 2, False, 0.90, 0.25,
     {"cpu-2s": 7000, "gpu-4xl40s": 300},
     "Jinshan, air-cooled, 2 halls of 4 MW that stay on"),
    # --- midsize urban --------------------------------------------------------------------
    ("zj-md-1", "midsize", "zhangjiang", "air-midsize", 4000, 2, True, 0.80, 0.10,
     {"gpu-4xl40s": 300, "cpu-2s": 2200}, "Zhangjiang science city"),
    ("xh-md-1", "midsize", "xuhui", "air-midsize", 3000, 2, True, 0.80, 0.10,
     {"gpu-4xl40s": 150, "cpu-2s": 2000}, "Caohejing (Xuhui)"),
    ("lz-md-1", "midsize", "lujiazui", "air-midsize", 2500, 1, False, 0.80, 0.10,
     {"cpu-2s": 2200}, "Lujiazui finance district"),
    ("bs-md-1", "midsize", "baoshan", "air-midsize", 3000, 2, True, 0.80, 0.10,
     {"cpu-2s": 2400, "gpu-4xl40s": 100}, "Baoshan"),
    ("jd-md-1", "midsize", "jiading", "air-midsize", 2500, 1, False, 0.80, 0.10,
     {"cpu-2s": 1600, "gpu-4xl40s": 200}, "Jiading (Anting auto city)"),
    ("mh-md-1", "midsize", "minhang", "air-midsize", 3000, 2, True, 0.80, 0.10,
     {"cpu-2s": 2000, "gpu-4xl40s": 200}, "Zizhu science park (Minhang)"),
    # Legacy rooms (the "small-old-scattered" class the 百一 plan closes when PUE > 1.7,
    # facts 1.9): can be switched off; the midsize site PUE limit forces exactly that.
    ("yp-md-old", "midsize", "yangpu", "legacy-room", 1600, 2, True, 0.80, 0.0,
     {"cpu-2s": 1200}, "legacy room, Yangpu, > 10 years old"),
    ("hk-md-old", "midsize", "hongkou", "legacy-room", 1200, 1, True, 0.80, 0.0,
     {"cpu-2s": 900}, "legacy room, Hongkou, > 10 years old"),
    # Edge micro-modules may be powered down (can_idle) when no compute is placed in
    # them: their in-row cooling and UPS are the fixed overhead. The old Changning room
    # cannot (shared room cooling).
    # --- edge (telecom rooms) -----------------------------------------------------------
    ("hp-edge", "edge", "huangpu", "edge-micromodular", 200, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 40, "cpu-2s": 60}, "telecom room, Huangpu"),
    ("ja-edge", "edge", "jingan", "edge-micromodular", 160, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 30, "cpu-2s": 50}, "telecom room, Jing'an"),
    ("xh-edge", "edge", "xuhui", "edge-micromodular", 200, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 40, "cpu-2s": 60}, "telecom room, Xuhui"),
    ("lz-edge", "edge", "lujiazui", "edge-micromodular", 240, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 50, "cpu-2s": 60}, "telecom room, Lujiazui"),
    ("cn-edge", "edge", "changning", "legacy-room", 150, 1, False, 0.70, 0.0,
     {"gpu-4xl40s": 20, "cpu-2s": 60}, "old telecom room, Changning (legacy cooling)"),
    ("pt-edge", "edge", "putuo", "edge-micromodular", 160, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 30, "cpu-2s": 50}, "telecom room, Putuo"),
    ("yp-edge", "edge", "yangpu", "edge-micromodular", 160, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 30, "cpu-2s": 50}, "telecom room, Yangpu"),
    ("mh-edge", "edge", "minhang", "edge-micromodular", 160, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 30, "cpu-2s": 50}, "substation micro-module, Minhang"),
    ("bs-edge", "edge", "baoshan", "edge-micromodular", 120, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 20, "cpu-2s": 40}, "telecom room, Baoshan"),
    ("jd-edge", "edge", "jiading", "edge-micromodular", 240, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 60, "cpu-2s": 40}, "roadside-unit aggregation room, Jiading test roads"),
    ("lg-edge", "edge", "lingang", "edge-micromodular", 240, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 60, "cpu-2s": 40}, "roadside-unit aggregation room, Lingang test zone"),
    ("zj-edge", "edge", "zhangjiang", "edge-micromodular", 160, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 30, "cpu-2s": 50}, "telecom room, Zhangjiang"),
    ("sj-edge", "edge", "songjiang", "edge-micromodular", 120, 1, True, 0.70, 0.05,
     {"gpu-4xl40s": 20, "cpu-2s": 40}, "telecom room, Songjiang"),
]

# ---------------------------------------------------------------------------------------
# Targets, each with its basis (facts section in brackets). Values were checked at
# generation time with an independent MILP of the formulation (energy objective); the
# figures quoted below are that optimum, to show how much room each target leaves.
#  fleet_pue_max 1.30   -- new large/hyperscale DCs average PUE < 1.30 by 2025 (NDRC
#                          2021-12, 1.3 [C]); national green-DC list requires <= 1.30
#                          (1.7 [C]). Met with room (~1.22).
#  site_pue_max hyperscale 1.25 -- Shanghai: new large DCs in clusters <= 1.25 (SHEITC
#                          2023-04, 1.9 [C]); Yangtze-delta hub cluster <= 1.25 (1.4 [C]).
#                          Air-cooled halls meet it only above ~72 % load, so it decides
#                          how many halls js-hs-1/qp-hs-2/sj-hs-1/lg-hs-2 may run.
#  site_pue_max midsize 1.50   -- GB 40879-2021 grade-3 limit value 1.50 (1.1 [C2]); the
#                          legacy rooms (PUE >= 1.80) can only meet it switched off, which
#                          is what the 百一 plan asks of them (1.9 [C]).
#     (edge sites have no limit: GB 40879 does not apply to edge DCs, 1.1 [C])
#  renewable_share_min 0.33 -- renewable utilisation +10 % per year (2024 action plan,
#                          1.6 [C]) applied to the fleet's ~0.30 share when planned for
#                          energy alone: 0.30 x 1.1 = 0.33. BINDING: it moves load to the
#                          Qingpu green-power sites and costs ~1.3 % more energy.
#  ece_min 160 GFLOPS/W -- no official "effective compute efficiency" figure exists (1.10);
#                          set ~5 % below the optimum (~169) so it is reported and met.
#  carbon_max 200,000 t -- no official cap; set ~2 % above the optimum (~196,600 t). With
#                          one grid factor for all sites, carbon = 0.58 x energy x (1 -
#                          renewable share), so it moves with the renewable target.
#  output_per_kwh_min 5.0 yuan/kWh -- no official figure; ~5 % below the optimum (~5.29).
# ---------------------------------------------------------------------------------------
TARGETS = {
    "fleet_pue_max": 1.30,
    "site_pue_max": {"hyperscale": 1.25, "midsize": 1.50},
    "renewable_share_min": 0.33,
    "ece_min": 160.0,
    "carbon_max": 200000.0,
    "output_per_kwh_min": 5.0,
}

# Precision weights: delivered compute is counted in FP16-equivalent for the low-precision
# formats (an FP8/INT8 op is half an FP16 op on these devices, whose FP8/INT8 rate is
# twice their FP16 rate), and as delivered for FP16 and wider formats -- the convention
# of China's compute statistics, which add FP16 intelligent compute and FP32 general
# compute without conversion (facts 1.7, 4.1).
PRECISION_WEIGHTS = {"fp8": 0.5, "int8": 0.5}

# ---------------------------------------------------------------------------------------
# Workloads. Demand is sustained TFLOPS over the year at the workload's precision.
# Class totals (approximate, before random split) are set against installed capacity so
# that the fleet uses roughly half of its AI and of its CPU capacity (~41 % of installed
# IT capacity in the optimum): below China's 60 % rack-occupancy targets (facts 1.2/1.6),
# leaving room for the headroom and outage analyses.
# Values per TFLOPS-hour (yuan) are ASSUMPTIONS [R] from indicative cloud rental prices:
#   training 0.015 (~15 yuan per H100 GPU-hour / 989 dense FP16 TFLOPS)
#   inference 0.02 (per FP16-equivalent TFLOPS-hour; priced above training because it
#                   is sold per token at a margin)
#   general 0.27 (~4 yuan per 2-socket-server-hour / 14.8 FP32 TFLOPS)
#   hpc 0.50 (~3.7 yuan per 2-socket-server-hour / 7.4 FP64 TFLOPS)
#   edge 0.05 (per FP16 TFLOPS-hour; edge capacity is scarcer)
# ---------------------------------------------------------------------------------------
TRAIN_HW = {
    "cuda": ["gpu-8xh100", "gpu-8xa100"],
    "cuda-any": ["gpu-8xh100", "gpu-8xa100", "gpu-8xh20"],
    "ascend": ["npu-8x910b"],
    "portable": ["gpu-8xh100", "gpu-8xa100", "npu-8x910b"],
}
INFER_HW = {
    "fp8": [["gpu-8xh20", "gpu-4xl40s"], ["gpu-8xh100", "gpu-8xh20"], ["gpu-4xl40s"]],
    "int8": [["npu-8x910b", "gpu-8xa100"], ["gpu-4xl40s", "gpu-8xh20"], ["npu-8x910b"]],
    "fp16": [["gpu-4xl40s", "gpu-8xa100"], ["npu-8x910b", "gpu-8xh20"], ["gpu-8xh100", "gpu-8xa100"]],
}
DOWNTOWN = ["huangpu", "jingan", "xuhui", "changning", "putuo", "hongkou", "yangpu", "lujiazui"]
RESEARCH = ["xuhui", "zhangjiang", "yangpu", "minhang", "lujiazui", "jiading"]
# Edge services come mostly from the dense centre, where only telecom rooms are close.
EDGE_ORIGINS = ["huangpu", "jingan", "changning", "putuo", "hongkou", "yangpu", "huangpu",
                "jingan", "xuhui", "lujiazui", "zhangjiang", "minhang", "baoshan"]

# fmt: on

COLUMNS = [
    "id",
    "class",
    "demand_tflops",
    "precision",
    "hardware",
    "origin",
    "max_latency_ms",
    "tiers",
    "sites",
    "divisible",
    "must_serve",
    "value_per_tflops_hour",
]


def sig(x: float, digits: int = 3) -> float:
    """Round to `digits` significant figures (demand figures are estimates)."""
    from math import floor, log10

    return round(x, -int(floor(log10(abs(x)))) + digits - 1)


def workloads(rng: random.Random) -> list[dict]:
    out: list[dict] = []

    def add(**w):
        row = {c: "" for c in COLUMNS}
        row.update({k: v for k, v in w.items() if v is not None})
        out.append(row)

    # AI training (40): 8 large pre-training runs, indivisible (one site keeps the job on
    # one high-bandwidth fabric); 32 fine-tuning / mid-size jobs, divisible across pools
    # (data-parallel replicas); 4 of those are optional research jobs (must_serve false).
    # Large runs 250k-600k bf16 TFLOPS sustained = 30-75 8xH100 servers busy all year.
    for i in range(40):
        large = i < 8
        fam = rng.choice(list(TRAIN_HW))
        demand = rng.uniform(300e3, 800e3) if large else rng.lognormvariate(11.0, 0.6)
        optional = (not large) and i >= 36
        add(
            id=f"train-{'llm' if large else 'ft'}-{i + 1:02d}",
            **{"class": "ai-training"},
            demand_tflops=sig(demand),
            precision="bf16",
            hardware=";".join(TRAIN_HW[fam]),
            origin=rng.choice(RESEARCH),
            tiers="hyperscale",
            divisible="false" if large else "true",
            must_serve="false" if optional else "true",
            value_per_tflops_hour=0.015,
        )

    # AI inference (50): FP8 / INT8 / FP16 services; a third are interactive with a
    # 0.9 ms network budget from a downtown origin (rules out Lingang and Jinshan,
    # ~0.95 ms away); 6 batch jobs are optional.
    for i in range(50):
        prec = ["fp8", "int8", "fp16"][i % 3]
        hw = rng.choice(INFER_HW[prec])
        interactive = i % 3 == 0
        demand = rng.lognormvariate(10.9, 0.7)
        optional = i >= 44
        add(
            id=f"infer-{i + 1:02d}",
            **{"class": "ai-inference"},
            demand_tflops=sig(demand),
            precision=prec,
            hardware=";".join(hw),
            origin=rng.choice(DOWNTOWN),
            max_latency_ms=0.9 if interactive else None,
            tiers="hyperscale;midsize",
            must_serve="false" if optional else "true",
            value_per_tflops_hour=0.02,
        )

    # General cloud (40): FP32 on CPU servers. 8 government-cloud workloads stay on the
    # municipal sites (data residency: sj-hs-1 and xh-md-1); 6 finance workloads must
    # stay within 0.7 ms of Lujiazui; 4 monolithic legacy systems are indivisible.
    for i in range(40):
        demand = rng.lognormvariate(8.9, 0.6)
        gov, fin, mono = i < 8, 8 <= i < 14, 14 <= i < 18
        add(
            id=f"gen-{i + 1:02d}",
            **{"class": "general"},
            demand_tflops=sig(demand),
            precision="fp32",
            hardware="cpu-2s",
            origin="lujiazui" if fin else rng.choice([*DOWNTOWN, "zhangjiang", "minhang"]),
            max_latency_ms=0.7 if fin else None,
            tiers=None if (gov or fin) else "hyperscale;midsize",
            sites="sj-hs-1;xh-md-1" if gov else None,
            divisible="false" if mono else "true",
            value_per_tflops_hour=0.27,
        )

    # HPC (12): FP64 simulation (CFD, materials, weather) on CPU or FP64-tensor GPUs;
    # 4 tightly coupled MPI jobs are indivisible.
    for i in range(12):
        demand = rng.lognormvariate(8.3, 0.5)
        add(
            id=f"hpc-{i + 1:02d}",
            **{"class": "hpc"},
            demand_tflops=sig(demand),
            precision="fp64",
            hardware="cpu-2s;gpu-8xh100;gpu-8xa100" if i % 2 else "cpu-2s",
            origin=rng.choice(RESEARCH),
            tiers="hyperscale;midsize",
            divisible="false" if i < 4 else "true",
            value_per_tflops_hour=0.50,
        )

    # Edge (30): connected-vehicle (V2X) perception and cooperative driving near the
    # Lingang and Jiading test zones (0.55 ms, edge tier only), video analytics and AR
    # across the city (0.52-0.60 ms, any tier). Network budgets only (the rest of a 10-20 ms V2X / motion-to-photon budget is radio
    # and processing, facts 5.3). INT8/FP16 on L40S, FP32 on CPU. 6 are single-node
    # services (indivisible); 2 are optional.
    for i in range(30):
        v2x = i < 8
        origin = ("lingang" if i % 2 == 0 else "jiading") if v2x else rng.choice(EDGE_ORIGINS)
        cpu = i % 5 == 4 and not v2x
        prec = "fp32" if cpu else ("int8" if i % 2 == 0 else "fp16")
        demand = rng.lognormvariate(6.0 if cpu else 8.9, 0.4)
        if cpu:  # a telecom room holds 40-60 CPU servers: cap a CPU service at ~50 busy
            demand = min(demand, 750.0)
        add(
            id=f"edge-{'v2x' if v2x else 'svc'}-{i + 1:02d}",
            **{"class": "edge"},
            demand_tflops=sig(demand),
            precision=prec,
            hardware="cpu-2s" if cpu else "gpu-4xl40s",
            origin=origin,
            max_latency_ms=0.55 if v2x else rng.choice([0.52, 0.55, 0.6]),
            tiers="edge" if v2x else None,
            divisible="false" if i % 5 == 1 else "true",
            must_serve="false" if i in (27, 29) else "true",
            value_per_tflops_hour=0.05,
        )
    return out


def yaml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def flow(d: dict) -> str:
    """A mapping as a one-line YAML flow mapping."""
    return "{" + ", ".join(f"{k}: {v}" for k, v in d.items()) + "}"


def write_workloads(here: Path, name: str, rows: list[dict], columns: list[str]) -> Path:
    """``<here>/<name>/workloads.csv``, the table beside the instance; returns its folder."""
    tables = here / name
    tables.mkdir(exist_ok=True)
    with open(tables / "workloads.csv", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        wr.writeheader()
        wr.writerows(rows)
    return tables


def site_lines(site: tuple) -> list[str]:
    """One of ``SITES`` as YAML list-item lines, its note as a comment above it."""
    sid, tier, zone, fac, cap, halls, idle, umax, ren, servers, note = site
    return [
        f"  # {note}",
        f"  - id: {sid}",
        f"    tier: {tier}",
        f"    zone: {zone}",
        f"    facility: {fac}",
        f"    it_capacity_kw: {cap}",
        f"    halls: {halls}",
        f"    can_idle: {yaml_value(idle)}",
        f"    max_utilisation: {umax}",
        f"    price_per_kwh: {PRICE[tier]}",
        f"    carbon_kg_per_kwh: {CARBON}",
        f"    renewable_share: {ren}",
        "    servers: " + flow(servers),
    ]


def tail_lines(name: str, targets: dict) -> list[str]:
    """The workloads table reference and the targets."""
    return [f"workloads: {{csv: {name}/workloads.csv}}", "targets:",
            *(f"  {k}: {flow(v) if isinstance(v, dict) else v}" for k, v in targets.items())]


def write_yaml(here: Path, name: str, lines: list[str]) -> None:
    (here / f"{name}.yaml").write_text("\n".join(lines) + "\n")


def write(rows: list[dict]) -> None:
    write_workloads(HERE, NAME, rows, COLUMNS)
    lines = [
        "# Shanghai 2025 example fleet -- GENERATED by instances/make_shanghai.py; edit that",
        "# script, not this file. Basis of every figure: instances/README.md and the comments",
        "# in the script. Site names and sizes are archetypes, not real operators' sites.",
        "computeplan: 1",
        f"name: {NAME}",
        "horizon_hours: 8760",
        "objective: energy",
        "precision_weights: " + flow(PRECISION_WEIGHTS),
        "zones:",
    ]
    for z, (lat, lon) in ZONES.items():
        lines.append(f"  {z}: {{lat: {lat}, lon: {lon}}}")
    lines.append("sites:")
    for site in SITES:
        lines += site_lines(site)
    lines += tail_lines(NAME, TARGETS)
    write_yaml(HERE, NAME, lines)


def main() -> None:
    rng = random.Random(SEED)
    write(workloads(rng))


if __name__ == "__main__":
    main()
