"""One fleet benchmark run in its own process, so its peak memory is its own.

``python benchmarks/fleet_run.py WORKLOADS SITES SEED TIME_LIMIT [--lp] [--indivisible SHARE]
[--exact] [--milp SECONDS] [--milp-warm SECONDS]`` prints one JSON line: generation, load,
kernel compilation and heuristic times, objective, bound, gap, the independent check's
verdict, peak RSS; and on request the anchors of the README's performance table:

- ``--lp``: the LP relaxation's bound and time (the exact optimum of the relaxation the
  heuristic is measured against);
- ``--exact``: the exact MILP optimum (HiGHS, gap 1e-7, no limit) and the heuristic's
  distance to it;
- ``--milp S``: HiGHS's MILP alone (no heuristic start) for ``S`` seconds;
- ``--milp-warm S``: the MILP for ``S`` seconds started from the heuristic's plan, and
  the same run without the start.

The Numba kernels are compiled before the clock starts, on a tiny fleet; the compile time
is reported on its own (``compile_s``). Every plan is checked with ``computeplan.verify``
and its problems are reported (``verify_problems``: an empty list when it passes).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from typing import Any


def main() -> None:
    import computeplan
    from computeplan.io.generate import generate_instance, write_instance
    from computeplan.model.build import build_model
    from computeplan.model.data import build_data
    from computeplan.solvers.highs import solve_highs

    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int)
    ap.add_argument("m", type=int)
    ap.add_argument("seed", type=int)
    ap.add_argument("limit", type=float)
    ap.add_argument("--lp", action="store_true")
    ap.add_argument("--indivisible", type=float, default=0.0)
    ap.add_argument("--exact", action="store_true")
    ap.add_argument("--milp", type=float, default=None)
    ap.add_argument("--milp-warm", type=float, default=None)
    a = ap.parse_args()
    out: dict[str, Any] = {"workloads": a.n, "sites": a.m, "seed": a.seed, "time_limit": a.limit,
                           "indivisible": a.indivisible}

    def checked(inst: Any, res: Any, key: str) -> None:
        out[f"{key}_status"] = res.status.value
        out[f"{key}_objective"] = res.objective_value
        out[f"{key}_gap"] = res.gap
        out.setdefault("verify_problems", [])
        if res.status.has_plan:
            out["verify_problems"] += [f"{key}: {p}" for p in computeplan.verify(inst, res)]

    # Compile every kernel on a tiny fleet, outside the clock (importing a lazy @njit
    # function compiles nothing).
    t = time.perf_counter()
    tiny = computeplan.load_instance(generate_instance(30, 3, seed=0, indivisible_share=0.3, idle_share=1.0))
    computeplan.solve(tiny, method="heuristic", max_passes=1, check=False)
    out["compile_s"] = time.perf_counter() - t

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        raw = generate_instance(a.n, a.m, seed=a.seed, indivisible_share=a.indivisible)
        path = write_instance(raw, tmp, tables="parquet")
        out["generate_s"] = time.perf_counter() - t
        t = time.perf_counter()
        inst = computeplan.load_instance(path)
        out["load_s"] = time.perf_counter() - t

        t = time.perf_counter()
        res = computeplan.solve(inst, method="heuristic", time_limit=a.limit, seed=a.seed, check=False)
        out["heuristic_s"] = time.perf_counter() - t
        out.update(status=res.status.value, objective=res.objective_value, bound=res.bound, gap=res.gap,
                   feasible=res.status.has_plan)
        checked(inst, res, "heuristic")
        d = build_data(inst)
        out["candidates"] = int(d.n_cand)
        if a.lp:
            mm = build_model(d, relax=True)
            t = time.perf_counter()
            lp = solve_highs(mm)
            out["lp_s"] = time.perf_counter() - t
            out["lp_bound"] = None if lp.objective is None else lp.objective * mm.scale
            if lp.objective is not None and res.objective_value is not None:
                out["gap_to_lp"] = (res.objective_value - out["lp_bound"]) / res.objective_value
        if a.exact:
            t = time.perf_counter()
            ex = computeplan.solve(inst, method="milp", mip_gap=1e-7)
            out["exact_s"] = time.perf_counter() - t
            checked(inst, ex, "exact")
            if ex.objective_value is not None and res.objective_value is not None:
                out["above_exact"] = (res.objective_value - ex.objective_value) / ex.objective_value
        if a.milp is not None:
            t = time.perf_counter()
            alone = computeplan.solve(inst, method="milp", time_limit=a.milp, warm_start=False)
            out["milp_alone_s"] = time.perf_counter() - t
            checked(inst, alone, "milp_alone")
            if out.get("lp_bound") and alone.objective_value is not None:
                out["milp_alone_gap_to_lp"] = (alone.objective_value - out["lp_bound"]) / alone.objective_value
        if a.milp_warm is not None:
            for key, warm in (("milp_warm", True), ("milp_cold", False)):
                t = time.perf_counter()
                r = computeplan.solve(inst, method="milp", time_limit=a.milp_warm, warm_start=warm)
                out[f"{key}_s"] = time.perf_counter() - t
                checked(inst, r, key)
    out["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(json.dumps(out))


if __name__ == "__main__":
    main()
