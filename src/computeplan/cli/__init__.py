"""The ``computeplan`` command line. Thin: parse, call the library, print, exit code.

Exit codes: 0 a plan was found (optimal, or feasible at a limit with its gap);
1 no plan (infeasible, or nothing found in time); 2 invalid input or usage.
"""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Annotated, Any

import typer

from computeplan.cli.common import (
    DebugOpt,
    FormatOpt,
    FullYearOpt,
    MethodOpt,
    ObjectiveOpt,
    TablesOpt,
    TypicalSolveOpt,
    _progress,
    app,
    check_outputs,
    count_option,
    guarded,
    mip_gap_option,
    out,
    resolve_instance_path,
    table_kinds,
    time_limit_option,
)
from computeplan.errors import UsageError


@app.command()
def solve(
    file: Annotated[str, typer.Argument(help="Instance file (YAML/JSON), an OR-Library GAP file, or a shipped example name.")],
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Write result.json and tables here.")] = None,
    method: Annotated[MethodOpt, typer.Option(help="auto: LP when every decision is continuous, MILP otherwise, "
                                              "the fleet heuristic (with a certified bound) beyond their reach.")] = MethodOpt.auto,
    seed: Annotated[int, typer.Option(help="Seed of the heuristic's random choices.")] = 0,
    objective: Annotated[ObjectiveOpt | None, typer.Option(help="Override the instance's objective.")] = None,
    time_limit: Annotated[float | None, time_limit_option("Seconds; a plan found by then is reported with its gap.")] = None,
    mip_gap: Annotated[float, mip_gap_option("Relative MIP gap at which to stop.")] = 1e-9,
    solver: Annotated[str, typer.Option(help="highs (default), or any solver PuLP drives: cbc, glpk, cplex, gurobi, ...")] = "highs",
    threads: Annotated[int | None, count_option("--threads", "Solver threads.")] = None,
    write_lp: Annotated[Path | None, typer.Option("--write-lp", help="Also write the model as an LP file.")] = None,
    write_mps: Annotated[Path | None, typer.Option("--write-mps", help="Also write the model as an MPS file.")] = None,
    tables: Annotated[TablesOpt, typer.Option(help="Tables written beside result.json.")] = TablesOpt.csv,
    fmt: Annotated[FormatOpt, typer.Option("--format", help="Input format; auto recognises OR-Library GAP files.")] = FormatOpt.auto,
    problem: Annotated[int | None, typer.Option(help="GAP: which problem of a multi-problem file (1-based).")] = None,
    sense: Annotated[str | None, typer.Option(help="GAP: min or max (default: max for gap1-12 files, min otherwise).")] = None,
    report: Annotated[Path | None, typer.Option("--report", help="Also write the HTML report to this file.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print result.json to standard output instead of the summary.")] = False,
    flex_value: Annotated[bool, typer.Option(
        "--flex-value/--no-flex-value", help="With flexible work over periods, also solve without flexibility "
        "and report the difference (within the same --time-limit).")] = True,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="MILP progress lines on stderr (default: when stderr is a terminal).",
        show_default=False)] = None,
    typical_days: Annotated[int | None, count_option(
        "--typical-days", "Solve on this many representative days of the hourly table, then re-evaluate "
        "the plan over the full year (overrides time.typical_days).")] = None,
    full_year: Annotated[FullYearOpt, typer.Option(
        "--full-year", help="With typical days, how the full year is re-evaluated: lp (one LP over every "
        "period), days (one LP per day on Dask, the annual targets priced; reports a bound and gap) or auto "
        "(by day when one LP would be too large).")] = FullYearOpt.auto,
    typical_solve: Annotated[TypicalSolveOpt, typer.Option(
        "--typical-solve", help="With typical days, how the typical days' model is solved: milp (one MILP), "
        "days (a bound with each day's own halls, the halls agreed, the days dispatched by day on Dask; "
        "reports the bound and gap) or auto (by day when the MILP would be too large).")] = TypicalSolveOpt.auto,
    workers: Annotated[int | None, count_option(
        "--workers", "With --full-year days or --typical-solve days: worker processes of the local Dask "
        "cluster (default: cores).")] = None,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="With --full-year days or --typical-solve days: address of an existing Dask "
        "scheduler (tcp://host:8786).")] = None,
    debug: DebugOpt = False,
) -> None:
    """Solve an instance: where each workload runs, servers and halls powered, and every figure.

    Examples:

      computeplan solve shanghai-2025 --out out/

      computeplan solve my-fleet.yaml --objective carbon --time-limit 60 --out out/ --report out/report.html

      computeplan solve gap12.txt --format orlib-gap --problem 3
    """
    t_start = time.monotonic()  # --time-limit holds for the whole command, reading included
    with guarded(debug):
        check_outputs(out_dir, "result", report=report, write_lp=write_lp, write_mps=write_mps)
        path = resolve_instance_path(file)
        from computeplan.plan.gap_files import is_orlib_gap, solve_gap_file

        inst = None
        if fmt == FormatOpt.orlib_gap or (fmt == FormatOpt.auto and is_orlib_gap(path)):
            res = solve_gap_file(path, problem=problem, sense=sense, time_limit=time_limit, mip_gap=mip_gap,
                                 method=method.value, seed=seed)
        else:
            if problem is not None or sense is not None:
                raise UsageError("--problem and --sense apply to OR-Library GAP files only")
            from computeplan.io.loader import load_instance
            from computeplan.plan.solve import solve as run_solve
            from computeplan.solvers import Budget
            from computeplan.solvers.interrupt import graceful

            budget = Budget(None if time_limit is None else time_limit - (time.monotonic() - t_start))
            inst = load_instance(path)
            write_model = write_lp or write_mps
            dispatcher = agg_solver = None
            if typical_days is not None or (inst.time is not None and inst.time.typical_days is not None):
                from computeplan.analysis.fullyear import full_year_dispatcher
                from computeplan.analysis.typical_byday import typical_solver

                shown = _progress(quiet, progress) is not None
                dispatcher = full_year_dispatcher(inst, full_year.value, workers=workers, scheduler=scheduler,
                                                  progress=shown)
                agg_solver = typical_solver(typical_solve.value, workers=workers, scheduler=scheduler,
                                            progress=shown)
            with graceful():  # Ctrl-C / SIGTERM stop the search; the best plan found is kept
                res = run_solve(inst, method=method.value, objective=objective.value if objective else None,
                                solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                                progress=_progress(quiet, progress), write_model=write_model, seed=seed,
                                flex_value=flex_value, budget=budget, typical_days=typical_days,
                                dispatcher=dispatcher, typical_solver=agg_solver)
            if write_lp and write_mps:
                from computeplan.model.build import build_model
                from computeplan.model.data import build_data
                from computeplan.solvers.pulp_backend import write_model as wm

                chosen = inst.model_copy(update={"objective": objective.value}) if objective else inst
                wm(build_model(build_data(chosen)), write_mps)
        if out_dir is not None:
            res.write(out_dir, table_kinds(tables))
        if report is not None:
            from functools import partial

            from computeplan.analysis import capacity_of_result
            from computeplan.io.write import folder_lock
            from computeplan.present.report import write_report

            # capacity ranging is single-period for now; a time result's report shows its shadow prices
            provider = partial(capacity_of_result, inst) if inst is not None and inst.time is None else None
            with folder_lock(out_dir, shared=True) if out_dir is not None else nullcontext():
                write_report(res, report, folder=out_dir, capacity=provider)
        if as_json:
            sys.stdout.write(res.to_json() + "\n")
        elif not quiet:
            from computeplan.present.summary import print_summary

            print_summary(res, out)
            if out_dir is not None:
                out.print(f"[dim]written to {out_dir}/[/]")
        from computeplan.solvers import Termination

        if res.status == Termination.INTERRUPTED:
            import signal

            from computeplan.solvers.interrupt import stop_signal

            raise typer.Exit(143 if stop_signal() == signal.SIGTERM else 130)
        if not res.status.has_plan:
            raise typer.Exit(1)


@app.command()
def validate(
    file: Annotated[str, typer.Argument(help="Instance file or shipped example name.")],
    debug: DebugOpt = False,
) -> None:
    """Check an instance and print every problem at once, or a one-line summary when valid."""
    with guarded(debug):
        from computeplan.io.loader import load_instance
        from computeplan.present.summary import instance_summary

        inst = load_instance(resolve_instance_path(file))
        out.print(instance_summary(inst), highlight=False, markup=False)


@app.command()
def verify(
    file: Annotated[str, typer.Argument(help="Instance file or shipped example name.")],
    result: Annotated[Path, typer.Argument(help="A result.json, or the folder holding it.")],
    debug: DebugOpt = False,
) -> None:
    """Recompute every figure of a written plan from the instance and list violations (exit 1 if any).

    A typical-days result's year plan (full-year/ beside result.json) is checked too, and a time
    result's periods and served tables, row by row, when they are written beside it.

    For an infeasible result, check its Farkas certificate, or confirm the claim with an
    independent elastic model.
    """
    with guarded(debug):
        from computeplan.io.loader import load_instance
        from computeplan.plan.verify import verify as run_verify

        inst = load_instance(resolve_instance_path(file))
        path = result / "result.json" if result.is_dir() else result
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UsageError(f"{path}: not a readable computeplan result: {e}") from None
        if not isinstance(data, dict):
            raise UsageError(f"{path}: not a computeplan result: expected a JSON object, found {type(data).__name__}")
        from computeplan.io.results import read_period_tables, read_result_folder
        from computeplan.io.write import FULL_YEAR

        # a typical-days result keeps its year's plan in full-year/ beside result.json
        year: dict[str, Any] | None = None
        problems: list[str] = []
        year_tables: dict[str, Any] = {}
        if (path.parent / FULL_YEAR / "result.json").exists():
            year, problems = read_result_folder(path.parent / FULL_YEAR, f"{FULL_YEAR}/")
            year_tables = read_period_tables(path.parent / FULL_YEAR, problems, f"{FULL_YEAR}/")
        tables = read_period_tables(path.parent, problems)  # the per-period tables beside result.json
        problems += run_verify(inst, data, year, tables=tables, year_tables=year_tables)
        if problems:
            for p in problems:
                out.print(f"[red]x[/] {p}", highlight=False)
            raise typer.Exit(1)
        status = data.get("status")
        name = data.get("instance")
        if status in ("optimal", "feasible"):
            out.print(f"[green]ok[/] {status} plan of {name}: every figure reproduced, every constraint holds",
                      highlight=False)
        elif status == "infeasible":
            how = "its Farkas certificate" if data.get("evidence") is not None else "an independent elastic model"
            out.print(f"[green]ok[/] infeasible result of {name}: the claim is proven by {how}", highlight=False)
        else:
            out.print(f"[green]ok[/] {status} result of {name}: no plan to check", highlight=False)


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for instance.yaml (and its tables).")],
    workloads: Annotated[int, typer.Option("--workloads", "-n", help="Number of workloads.", min=1)] = 1000,
    sites: Annotated[int, typer.Option("--sites", "-m", help="Number of sites (3 tiers).", min=3)] = 20,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same fleet.")] = 0,
    indivisible_share: Annotated[float, typer.Option("--indivisible-share", min=0.0, max=1.0,
                                                     help="Share of workloads that may not be split.")] = 0.1,
    idle_share: Annotated[float, typer.Option("--idle-share", min=0.0, max=1.0,
                                              help="Share of multi-hall sites whose halls may idle.")] = 0.5,
    optional_share: Annotated[float, typer.Option("--optional-share", min=0.0, max=1.0,
                                                  help="Share of workloads that need not be served.")] = 0.05,
    load: Annotated[float, typer.Option(min=0.01, max=1.0, help="Target load of the installed servers.")] = 0.45,
    tables: Annotated[TablesOpt, typer.Option(help="Sites and workloads as tables (csv/parquet) or inline (none). "
                                              "Default: parquet from 10,000 workloads, inline below.")] = TablesOpt.none,
    hours: Annotated[int | None, typer.Option(min=1, max=8784, help="Add a time block of this many hourly periods "
                                              "(seeded price, carbon, temperature and demand profiles; flexible training).")] = None,
    build: Annotated[bool, typer.Option("--build", help="Add build options at the sites, 10 candidate sites and "
                                        "hardware capital figures.")] = False,
    debug: DebugOpt = False,
) -> None:
    """Write a realistic synthetic fleet (tiers, zones, classes, sparse latency reach), feasible by construction.

    Example:  computeplan generate --workloads 20000 --sites 100 --seed 1 --out fleet-m/
    Example:  computeplan generate -n 200 -m 20 --hours 168 --build --out fleet-tb/
    """
    with guarded(debug):
        check_outputs(out_dir, "instance")
        from computeplan.io.generate import generate_instance, write_instance

        kind = tables.value if tables != TablesOpt.none else ("parquet" if workloads >= 10000 else None)
        if kind == "both":
            raise UsageError("--tables: choose csv or parquet for a generated fleet")
        raw = generate_instance(workloads, sites, seed=seed, indivisible_share=indivisible_share,
                                idle_share=idle_share, optional_share=optional_share, load=load,
                                hours=hours, build=build)
        path = write_instance(raw, out_dir, tables=kind)
        out.print(f"wrote {path} ({workloads} workloads, {sites} sites, seed {seed})", highlight=False)


@app.command()
def examples() -> None:
    """List the example instances shipped with computeplan."""
    from computeplan.io.catalogue import instances_dir

    d = instances_dir()
    if d is None:
        out.print("no example instances are shipped with this installation")
        return
    for p in sorted(d.rglob("*.yaml")):
        out.print(str(p.relative_to(d).with_suffix("")), highlight=False)


def main(argv: list[str] | None = None) -> Any:
    """Entry point of the ``computeplan`` script (and ``python -m computeplan``).

    With ``argv`` given (a caller in Python), the command raises ``SystemExit`` as any
    click command does. As the script (``argv`` None), the process ends as soon as the
    command has: exit handlers run and the streams are flushed, but the interpreter does
    not tear down what the command left in memory (a 20,000-workload instance and its
    plan take 0.6 s to free, a second of waiting on a command whose outputs are already
    written)."""
    if argv is not None:
        return app(args=argv, prog_name="computeplan")
    try:
        app(prog_name="computeplan")
        code: Any = 0
    except SystemExit as e:
        code = e.code
    _leave(code)


def _leave(code: Any) -> None:
    """``sys.exit(code)`` without the interpreter's tear-down (see :func:`main`)."""
    import atexit
    import os

    if code is None:
        code = 0
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # a closed pipe (| head) or stream: nothing more to say
            stream.flush()
    os._exit(code)


__all__ = ["app", "json", "main"]
from computeplan.cli import analysis  # noqa: E402,F401  (registers sweep, headroom, outage, report)
