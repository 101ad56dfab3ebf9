"""The held-out-style instances of ``instances-time/`` and ``instances-build/``, with
the oracle's optimum of each (CBC, gaps 1e-9), re-derived by
``python -m tests.oracle.check_heldout``.

- ``folder``: where the instance lives;
- ``objective``, ``indicators``: the optimum and the annual indicators
  (energy-weighted over the periods, section 10);
- ``flexibility``: the value of flexibility, the objective without any
  ``flex_window_hours``, and the TFLOPS-hours moved from their shape;
- ``peak_facility_kw``: each site's largest per-period facility power;
- ``new_servers``, ``new_halls``, ``sites_opened``: what the optimum builds;
- ``binds``: limits whose removal lowers the optimum (for an infeasible
  instance: makes it feasible); ``grid_kw.<site>`` names a site's grid limit;
- ``per_period``: each site's facility power and each class's served TFLOPS
  are unique per period over the optimal face (else only annual figures are).

The instances' headers give the arithmetic each optimum rests on.
"""

from __future__ import annotations

EXPECTED: dict[str, dict] = {
    "01-week-four-grids": {
        # train fills Norway (grid_kw 1000 binds in every hour), then Brazil's and
        # California's cleanest hours; train-es water-fills Spain; 68.65 t a week.
        "folder": "instances-time",
        "status": "optimal",
        "objective": 68652.2455,  # kg CO2
        "indicators": {
            "fleet_pue": 1.316290235, "ece_gflops_per_w": 65.15360003, "energy_kwh": 675572.8,
            "cost": 75582.55598, "carbon_t": 68.6522455, "served_tflops": 262000.0,
            "unserved_tflops": 0.0, "server_utilisation": 0.221574344,
        },
        "flexibility": {"value": 3488.983713, "objective_without": 72141.22921,
                        "shifted_tflops_hours": 4717195.496},
        # ca-hs runs one of its two halls (IT <= 1000 kW: 100 + 1.1 * 1000);
        # no-hs at its grid limit.
        "peak_facility_kw": {"ca-hs": 1200.0, "es-hs": 1376.0, "no-hs": 1000.0, "br-hs": 1354.666667},
        "binds": ["grid_kw.no-hs"],
        "per_period": True,
    },
    "02-shanghai-day-tou-grid": {
        # lg-hs at its 4200 kW grid limit in the valley and flat hours; qp-md takes
        # the rest of the valley load; flexibility is worth 22.6 % of the cost.
        "folder": "instances-time",
        "status": "optimal",
        "objective": 23955447.28,  # yuan a year
        "indicators": {
            "fleet_pue": 1.380106458, "ece_gflops_per_w": 70.88300067, "energy_kwh": 44490215.85,
            "cost": 23955447.28, "carbon_t": 25804.32519, "served_tflops": 360000.0,
            "unserved_tflops": 0.0, "server_utilisation": 0.4186046512,
        },
        "flexibility": {"value": 6994053.072, "objective_without": 30949500.35,
                        "shifted_tflops_hours": 880004086.4},
        "peak_facility_kw": {"lg-hs": 4200.0, "qp-md": 3619.133659},
        "binds": ["grid_kw.lg-hs"],
        "per_period": True,
    },
    "03-flat-twin-city-mix": {
        # Exactly the single-period optimum of instances/15-city-mix-all-targets
        # (51077555.48 kWh). Work may move between identical periods at no cost, so
        # only annual figures are unique (no peaks recorded).
        "folder": "instances-time",
        "status": "optimal",
        "objective": 51077555.48,
        "twin_of": "15-city-mix-all-targets",
        "indicators": {
            "fleet_pue": 1.16, "ece_gflops_per_w": 85.61215134, "energy_kwh": 49918666.65,
            "cost": 20765600.0, "carbon_t": 18298.1, "renewable_share": 0.428561126,
            "served_tflops": 706602.7778, "unserved_tflops": 2897.222222,
            "output_per_kwh": 0.555819689, "server_utilisation": 0.3807274306,
        },
        "flexibility": {"value": 0.0, "objective_without": 51077555.48, "shifted_tflops_hours": 0.0},
        "binds": ["fleet_pue_max", "site_pue_max.edge", "site_pue_max.hyperscale"],
        "per_period": False,
    },
    "04-infeasible-grid": {
        # The peak period needs 746.8 kW against grid_kw 700.
        "folder": "instances-time",
        "status": "infeasible",
        "binds": ["grid_kw.s1"],
    },
    "01-add-servers-cost": {
        # 84.44 new GPUs at js-hs: 310 busy / 0.9 = 344.44 powered, 260 installed.
        "folder": "instances-build",
        "status": "optimal",
        "objective": 23575323.65,  # yuan a year: power 19565962.24 + capital 4009361.41
        "indicators": {
            "fleet_pue": 1.246676017, "ece_gflops_per_w": 78.4695347, "energy_kwh": 34607061.33,
            "cost": 19565962.24, "carbon_t": 20072.09557, "served_tflops": 310000.0,
            "server_utilisation": 0.9, "capex_per_year": 4009361.408,
            "embodied_carbon_t": 59.11111111,  # 84.444 * 3500 kg / 5 years
        },
        "new_servers": {"js-hs": {"gpu-alpha": 84.44444444}, "sh-md": {"gpu-alpha": 0.0}},
        "new_halls": {"js-hs": 0.0},
        "sites_opened": [],
        "per_period": True,
    },
    "02-western-hub-carbon-capex": {
        # Qingyang opened with one hall and 249.25 GPUs; the budget of 2.2e7 a year
        # binds (without it: two halls, 500 GPUs, 17541955.52 kg).
        "folder": "instances-build",
        "status": "optimal",
        "objective": 24130218.84,  # kg CO2 a year, embodied included
        "indicators": {
            "fleet_pue": 1.16006865, "ece_gflops_per_w": 84.32784298, "energy_kwh": 59211760.0,
            "cost": 31464620.73, "carbon_t": 23955.74568, "renewable_share": 0.2581447845,
            "served_tflops": 570000.0, "server_utilisation": 0.6004757285,
            "capex_per_year": 22000000.0, "embodied_carbon_t": 174.473152,
        },
        "new_servers": {"hub-qingyang": {"gpu-alpha": 249.24736}},
        "new_halls": {"hub-qingyang": 1.0, "sh-hs": 0.0},
        "sites_opened": ["hub-qingyang"],
        "binds": ["capex_max"],
        "per_period": True,
    },
}
