"""The GAP heuristic on a list of Yagiura instances, one line per instance.

``python benchmarks/gap_run.py [NAMES|GROUP ...] [--time S] [--dives N] [--seed K]
[--set FIELD=VALUE ...] [--milp]`` runs `solve_gap_heuristic` on each instance in turn and
prints its gap to the best-known value of ``reference.csv``, its time and the phases'
figures, then the mean and worst gap per type and size. ``GROUP`` is ``small`` (C, D, E
with 100 and 200 jobs), ``large`` (400 to 1,600 jobs), ``all``, or a type letter
followed by ``:`` and a size (``d:900``). With ``--dives`` and no ``--time`` the runs stop
on their iteration budget, so two settings compare without the machine's load in the
way. ``--set`` overrides a `HeuristicParams` field (``core_size=4``,
``core_search.stall=500``). ``--milp`` also runs HiGHS's MILP at the same limit.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import sys
import time
from pathlib import Path
from typing import Any

SIZES = {"100-200": ("100", "200"), "400": ("400",), "900": ("900",), "1600": ("1600",)}
# agents per size (types D and E have only the larger agent counts from 400 jobs on)
AGENTS = {"100": (5, 10, 20), "200": (5, 10, 20), "400": (10, 20, 40), "900": (15, 30, 60),
          "1600": (20, 40, 80)}


def gap_dir() -> Path:
    return Path(__file__).resolve().parents[2] / "shared" / "benchdata" / "gap"


def names_of(spec: str) -> list[str]:
    """Instance names of a group, a ``type:size`` pair or a name."""
    groups = {"small": ("cde", ("100", "200")), "large": ("cde", ("400", "900", "1600")),
              "all": ("cde", ("100", "200", "400", "900", "1600"))}
    if spec in groups:
        types, sizes = groups[spec]
    elif ":" in spec:
        t, size = spec.split(":", 1)
        types = t
        sizes = groups["all"][1] if size == "all" else SIZES.get(size, (size,))
    else:
        return [spec]
    names = [f"{t}{m:02d}{n}" for t in types for n in sizes for m in AGENTS[n]]
    return [n for n in names if (gap_dir() / "yagiura" / n).is_file()]


def with_overrides(params: Any, sets: list[str]) -> Any:
    """``params`` with ``field=value`` (or ``field.sub=value``) overrides applied."""
    for item in sets:
        key, value = item.split("=", 1)
        head, _, rest = key.partition(".")
        current = getattr(params, head)
        if rest:
            params = dataclasses.replace(params, **{head: with_overrides(current, [f"{rest}={value}"])})
        else:
            kind = type(current) if current is not None else float
            params = dataclasses.replace(params, **{head: kind(value) if value != "None" else None})
    return params


def main() -> None:
    from computeplan.heuristics import solve_gap_heuristic, warm_up
    from computeplan.heuristics.gap.candidates import HeuristicParams
    from computeplan.heuristics.gap.problem import check_assignment, read_orlib_gap, solve_gap_milp

    ap = argparse.ArgumentParser()
    ap.add_argument("specs", nargs="*", default=["all"])
    ap.add_argument("--time", type=float, default=None)
    ap.add_argument("--dives", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--set", action="append", default=[], dest="sets")
    ap.add_argument("--milp", action="store_true")
    args = ap.parse_args()
    if args.time is None and args.dives is None:
        args.time = 10.0
    params = with_overrides(HeuristicParams(), args.sets)
    with open(gap_dir() / "reference.csv", newline="") as fh:
        ref = {r["instance"]: float(r["reference_value"]) for r in csv.DictReader(fh)
               if r["file"].startswith("yagiura/")}
    t0 = time.perf_counter()
    warm_up()
    print(f"compile {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    rows: list[tuple[str, float, float]] = []
    for name in [n for s in args.specs for n in names_of(s)]:
        p = read_orlib_gap(gap_dir() / "yagiura" / name)
        res = solve_gap_heuristic(p, time_limit=args.time, seed=args.seed, max_dives=args.dives,
                                  lp_bound=False, params=params)
        ok = res.feasible and not check_assignment(p, res.assignment)
        pct = 100.0 * (res.objective - ref[name]) / ref[name] if ok else math.inf
        milp = math.nan
        if args.milp:
            g = solve_gap_milp(p, time_limit=args.time or 10.0)
            milp = 100.0 * (g.objective - ref[name]) / ref[name] if g.feasible else math.inf
        rows.append((name, pct, milp))
        extra = " ".join(f"{k}={v:.4g}" for k, v in res.info.items())
        print(f"{name:<8} {res.objective:>9.0f} {pct:7.3f} % {res.seconds:6.1f} s its {res.iterations} "
              f"milp {milp:7.3f} % | {extra}", flush=True)
    groups: dict[str, list[tuple[float, float]]] = {}
    for name, pct, milp in rows:
        size = next(k for k, v in SIZES.items() if name[3:] in v)
        for key in (f"{name[0]} {size}", f"{name[0]} all", "all"):
            groups.setdefault(key, []).append((pct, milp))
    for key, vals in groups.items():
        h = [v[0] for v in vals]
        g = [v[1] for v in vals]
        print(f"{key:<10} mean {sum(h) / len(h):7.3f} % worst {max(h):7.3f} % "
              f"| milp mean {sum(g) / len(g):7.3f} % worst {max(g):7.3f} % ({len(h)})")


if __name__ == "__main__":
    main()
