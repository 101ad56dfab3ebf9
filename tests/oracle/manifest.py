"""What each oracle instance exercises, its optimum and the targets that bind.

- ``objective``: the oracle's optimum (CBC, gaps 1e-9), recorded so that a
  change of the oracle itself shows up (``test_reference_selfcheck``);
- ``binds``: targets whose removal lowers the optimum (for an infeasible
  instance: whose removal makes it feasible); ``site_pue_max.<key>`` names one
  key of the site PUE table;
- ``binds_if_dropped``: keys whose removal makes the optimum *worse* (a site key
  that loosens its tier's key, so precedence matters);
- ``slack``: targets given but not binding at the optimum (``met`` with room);
- ``cbc``: also compared with ``computeplan.solve(..., solver="cbc")``.

``python -m tests.oracle.check_instances`` re-derives all of this and also
checks that every figure the indicators are made of is unique over the optimal
face, so that two correct solvers must report the same indicators.
"""

EXPECTED: dict[str, dict] = {
    "01-fleet-pue-idle-servers": {
        # lg-hs-1 powers 108.33 GPUs beyond need: IT 2916.67 kW, fleet PUE 1.17.
        "status": "optimal",
        "objective": 29893500.0,  # kWh = (3262.5 + 150) kW * 8760 h
        "binds": ["fleet_pue_max"],
        "cbc": True,
    },
    "02-site-pue-tier-and-site": {
        # ed-pd at 1.60 (IT 150 kW), md-sj at 1.30 (IT 750), ed-jd at 1.90 (IT 85.71).
        "status": "optimal",
        "objective": 22785698.69,
        "binds": ["site_pue_max.edge", "site_pue_max.md-sj"],
        "binds_if_dropped": ["site_pue_max.ed-jd"],
    },
    "03-ece-min-cost-weights": {
        # Weighted ECE held at 22.0; 56.2% of training moves to sh-hs.
        "status": "optimal",
        "objective": 10000293.08,
        "binds": ["ece_min"],
        "cbc": True,
    },
    "04-renewable-share-latency": {
        # Renewable share held at 0.35; 45.3% of training moves to Ningxia.
        "status": "optimal",
        "objective": 43583536.70,
        "binds": ["renewable_share_min"],
    },
    "05-carbon-max-cost": {
        # Carbon held at 28000 t; inference and 36.6% of cloud move to Guizhou.
        "status": "optimal",
        "objective": 18528078.39,
        "binds": ["carbon_max"],
    },
    "06-output-per-kwh-unserved": {
        # Output per kWh held at 1.2: batch unserved, train 84.186% served,
        # md-sj's halls all dark (z = 0).
        "status": "optimal",
        "objective": 44089283.14,
        "binds": ["output_per_kwh_min"],
        "cbc": True,
    },
    "07-idle-halls-indivisible": {
        # t1 + t3 on md-sj's NPUs (2 of 3 halls), the rest on hs-lg (2 of 4
        # halls), md-jd dark. Divisible jobs would give 54548520; halls that
        # cannot idle 59480400.
        "status": "optimal",
        "objective": 55056600.0,
        "cbc": True,
    },
    "08-indivisible-cost-residency": {
        # j3, j4, j5, j7, j8 fill 196 of hs-nj's 200 GPUs; j2, j6 on md-xh;
        # j1 on hs-lg. Divisible jobs would give 18252993.
        "status": "optimal",
        "objective": 18298545.0,
    },
    "09-unserved-carbon-capacity": {
        # big-opt (indivisible, optional) served; render and hpc-opt unserved
        # (32000 TFLOPS); core 10% on gpu-beta.
        "status": "optimal",
        "objective": 10107726.0,
        "cbc": True,
    },
    "10-latency-coordinates": {
        # Without the latency limits the optimum would be 42091800.
        "status": "optimal",
        "objective": 45692159.99,
    },
    "11-explicit-latency-residency": {
        # With coordinates only (no latency_ms) the optimum would be 20441022.
        "status": "optimal",
        "objective": 18038592.0,
    },
    "12-max-utilisation-carbon": {
        # a-sj's GPUs busy at exactly 70%; with max_utilisation 1 everywhere
        # the optimum would be 14524080.
        "status": "optimal",
        "objective": 15601101.16,
    },
    "13-infeasible-capacity": {
        "status": "infeasible",
    },
    "14-infeasible-pue": {
        "status": "infeasible",
        "binds": ["fleet_pue_max"],
        "cbc": True,
    },
    "15-city-mix-all-targets": {
        # Fleet PUE at 1.16, lg-hs at 1.15, both edge sites at 1.70; nx-hs runs
        # 2 of 3 halls; cfd 3.4% served.
        "status": "optimal",
        "objective": 51077555.48,
        "binds": ["fleet_pue_max", "site_pue_max.edge", "site_pue_max.hyperscale"],
        "slack": ["ece_min", "renewable_share_min", "carbon_max", "output_per_kwh_min"],
        "cbc": True,
    },
}
