"""What each oracle instance exercises, its optimum and the targets that bind.

``binds``: targets whose removal lowers the optimum (or, for an infeasible
instance, makes it feasible). ``binds_if_dropped``: keys whose removal makes the
optimum worse (a site key that loosens its tier's key). ``objective`` is the
oracle's optimum, recorded so that a change of the oracle shows up too.
"""

EXPECTED: dict[str, dict] = {
    "01-fleet-pue-idle-servers": {
        "status": "optimal",
        "objective": None,
        "binds": ["fleet_pue_max"],
    },
    "02-site-pue-tier-and-site": {
        "status": "optimal",
        "objective": None,
        "binds": ["site_pue_max.edge", "site_pue_max.md-sj"],
        "binds_if_dropped": ["site_pue_max.ed-jd"],
    },
    "03-ece-min-cost-weights": {
        "status": "optimal",
        "objective": None,
        "binds": ["ece_min"],
    },
    "04-renewable-share-latency": {
        "status": "optimal",
        "objective": None,
        "binds": ["renewable_share_min"],
    },
    "05-carbon-max-cost": {
        "status": "optimal",
        "objective": None,
        "binds": ["carbon_max"],
    },
    "06-output-per-kwh-unserved": {
        "status": "optimal",
        "objective": None,
        "binds": ["output_per_kwh_min"],
    },
    "07-idle-halls-indivisible": {
        "status": "optimal",
        "objective": None,
    },
    "08-indivisible-cost-residency": {"status": "optimal", "objective": None},
    "09-unserved-carbon-capacity": {"status": "optimal", "objective": None},
    "10-latency-coordinates": {"status": "optimal", "objective": None},
    "11-explicit-latency-residency": {"status": "optimal", "objective": None},
    "12-max-utilisation-carbon": {"status": "optimal", "objective": None},
    "13-infeasible-capacity": {"status": "infeasible"},
    "14-infeasible-pue": {"status": "infeasible", "binds": ["fleet_pue_max"]},
}
