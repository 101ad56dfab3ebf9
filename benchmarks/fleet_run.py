"""One fleet benchmark run in its own process, so its peak memory is its own.

``python benchmarks/fleet_run.py WORKLOADS SITES SEED TIME_LIMIT [--lp]`` prints one JSON
line: generation, load and heuristic times, objective, bound, gap, feasibility, peak RSS,
and with ``--lp`` the LP relaxation's bound and time (for divisible instances the LP is the
exact optimum of the relaxation the heuristic is measured against).
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time


def main() -> None:
    import computeplan
    from computeplan.io.generate import generate_instance, write_instance
    from computeplan.model.build import build_model
    from computeplan.model.data import build_data
    from computeplan.solvers.highs import solve_highs

    n, m, seed, limit = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
    out: dict[str, object] = {"workloads": n, "sites": m, "seed": seed, "time_limit": limit}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        path = write_instance(generate_instance(n, m, seed=seed), tmp, tables="parquet")
        out["generate_s"] = time.perf_counter() - t
        t = time.perf_counter()
        inst = computeplan.load_instance(path)
        out["load_s"] = time.perf_counter() - t
        from computeplan.heuristics.fleet.kernels import construct  # noqa: F401  (compile outside the clock)

        t = time.perf_counter()
        res = computeplan.solve(inst, method="heuristic", time_limit=limit, seed=seed)
        out["heuristic_s"] = time.perf_counter() - t
        out.update(status=res.status.value, objective=res.objective_value, bound=res.bound, gap=res.gap,
                   feasible=res.status.has_plan)
        if "--lp" in sys.argv:
            d = build_data(inst)
            mm = build_model(d, relax=True)
            t = time.perf_counter()
            lp = solve_highs(mm)
            out["lp_s"] = time.perf_counter() - t
            out["lp_bound"] = None if lp.objective is None else lp.objective * mm.scale
            if lp.objective is not None and res.objective_value is not None:
                out["gap_to_lp"] = (res.objective_value - out["lp_bound"]) / res.objective_value  # type: ignore[operator]
        out["candidates"] = int(build_data(inst).n_cand)
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(out))


if __name__ == "__main__":
    main()
