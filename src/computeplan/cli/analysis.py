"""Commands beyond one solve: sweep, headroom, outage, capacity, report.

Registered on :data:`computeplan.cli.app` when :mod:`computeplan.cli` is imported.
Exit codes as for ``solve``: 0 done, 1 no answer (or a point that failed twice),
2 invalid input or usage.
"""

from __future__ import annotations

import json
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from computeplan.cli.common import (
    DebugOpt,
    MethodOpt,
    ObjectiveOpt,
    TablesOpt,
    app,
    check_outputs,
    count_option,
    guarded,
    mip_gap_option,
    out,
    positive_option,
    resolve_instance_path,
    table_kinds,
    time_limit_option,
    write_outputs,
)
from computeplan.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd


class EngineOpt(str, Enum):
    dask = "dask"
    serial = "serial"


class PlotOpt(str, Enum):
    png = "png"
    svg = "svg"
    both = "both"
    none = "none"


class HeadroomMethodOpt(str, Enum):
    auto = "auto"
    parametric = "parametric"
    bisection = "bisection"


EngineArg = Annotated[EngineOpt, typer.Option(
    help="dask: a local Dask cluster of this machine's cores (or --scheduler); serial: in this process.")]
SchedulerArg = Annotated[str | None, typer.Option(
    "--scheduler", help="Address of an existing Dask scheduler (tcp://host:8786); computeplan must be "
                        "installed on its workers.")]
WorkersArg = Annotated[int | None, count_option("--workers", "Worker processes of the local cluster (default: cores).")]
OutArg = Annotated[Path | None, typer.Option("--out", "-o", help="Write the table (and chart) into this folder.")]
TablesArg = Annotated[TablesOpt, typer.Option(help="Table formats written into --out.")]
TimeLimitArg = Annotated[float | None, time_limit_option("Seconds per solve.")]
MipGapArg = Annotated[float, mip_gap_option("Relative MIP gap per solve.")]
QuietArg = Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors.")]


def escape(text: str) -> str:
    """``text`` with rich markup escaped."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def _fmt(x: Any) -> str:
    from computeplan.present.fmt import fmt

    return fmt(x)


def _print_frame(df: pd.DataFrame, cols: list[str], title: str, left: tuple[str, ...] = ()) -> None:
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    optional = ("diagnosis", "error", "binding")
    cols = [c for c in cols if c in df.columns and not (c in optional and df[c].isna().all())]
    for c in cols:
        t.add_column(c, justify="left" if c in left else "right", overflow="fold")
    for _, r in df.iterrows():
        cells = []
        for c in cols:
            v = r[c]
            text = escape(v) if isinstance(v, str) else _fmt(v)
            if c == "status":
                colour = {"optimal": "green", "feasible": "yellow"}.get(str(v), "red")
                text = f"[{colour}]{v}[/]"
            cells.append(text)
        t.add_row(*cells)
    out.print(t)


def _failed(df: pd.DataFrame) -> int:
    return int((df["status"] == "error").sum()) if "status" in df else 0


@app.command()
def sweep(
    file: Annotated[str, typer.Argument(help="Instance file or shipped example name.")],
    vary: Annotated[list[str], typer.Option(
        "--vary", help="PATH=START:STOP:N or PATH=V1,V2,...; repeat for a grid. PATH: targets.<target>, "
                       "targets.<keyed target>.<tier|site>, demand.scale, demand.class.<class>.scale, "
                       "sites.<id>.it_capacity_kw (and other numeric site fields, sites.<id>.servers.<hw>).")],
    out_dir: OutArg = None,
    tables: TablesArg = TablesOpt.csv,
    plot: Annotated[PlotOpt, typer.Option(help="Trade-off chart written into --out.")] = PlotOpt.png,
    method: Annotated[MethodOpt, typer.Option(help="Per point, as for solve.")] = MethodOpt.auto,
    objective: Annotated[ObjectiveOpt | None, typer.Option(help="Override the instance's objective.")] = None,
    time_limit: TimeLimitArg = None,
    mip_gap: MipGapArg = 1e-9,
    engine: EngineArg = EngineOpt.dask,
    scheduler: SchedulerArg = None,
    workers: WorkersArg = None,
    quiet: QuietArg = False,
    debug: DebugOpt = False,
) -> None:
    """Trade-off curve: solve every point of a grid of targets, demand scales or site figures.

    Writes DIR/sweep.csv (one row per point: the varied values, status, objective, every
    indicator of result.json, shadow prices, binding targets, the diagnosis of points with
    no plan) and the chart DIR/sweep.png.

    Examples:

      computeplan sweep shanghai-2025 --vary targets.fleet_pue_max=1.20:1.40:21 --out sweep/

      computeplan sweep fleet.yaml --vary demand.class.ai-training.scale=1:2:11 --vary targets.ece_min=100,150
    """
    with guarded(debug):
        check_outputs(out_dir, "sweep")
        from computeplan.analysis import sweep as run_sweep
        from computeplan.io.loader import load_instance
        from computeplan.io.write import table_files

        inst = load_instance(resolve_instance_path(file))
        df = run_sweep(inst, vary, method=method.value, objective=objective.value if objective else None,
                       time_limit=time_limit, mip_gap=mip_gap, engine=engine.value, scheduler=scheduler,
                       workers=workers, progress=not quiet)
        if out_dir is not None:
            files: dict[str, Any] = table_files({"sweep": df}, table_kinds(tables))
            if plot != PlotOpt.none:
                from computeplan.present.report import plot_sweep

                name = df.attrs.get("objective_name", "objective")
                for kind in ("png", "svg") if plot == PlotOpt.both else (plot.value,):
                    files[f"sweep.{kind}"] = lambda path: plot_sweep(df, path, name)
            write_outputs(out_dir, "sweep", files)
        if not quiet:
            axes = [c for c in df.columns[: list(df.columns).index("status")]]
            _print_frame(df, [*axes, "status", "objective", "fleet_pue", "ece_gflops_per_w",
                              "beyond_need_energy_kwh", "binding", "diagnosis", "error"],
                         f"Sweep of {inst.name} ({df.attrs.get('objective_name')})",
                         left=("status", "binding", "diagnosis", "error"))
            if out_dir is not None:
                out.print(f"[dim]written to {out_dir}/[/]")
        if _failed(df):
            raise typer.Exit(1)


@app.command()
def headroom(
    file: Annotated[str, typer.Argument(help="Instance file or shipped example name.")],
    workload_class: Annotated[str | None, typer.Option("--class", help="Grow only this workload class.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help='Print {"factor": F, "binding": [...], ...}.')] = False,
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Write headroom.json here.")] = None,
    method: Annotated[HeadroomMethodOpt, typer.Option(
        help="auto: one parametric LP/MILP when exact, bisection otherwise.")] = HeadroomMethodOpt.auto,
    tol: Annotated[float, positive_option("--tol", "Bisection tolerance on the factor.")] = 1e-4,
    time_limit: TimeLimitArg = None,
    debug: DebugOpt = False,
) -> None:
    """The largest uniform demand growth factor served with every target met, and what binds.

    Exact for LPs (one parametric LP in absolute shares y = lambda x, maximising lambda);
    bisection to --tol when indivisible workloads grow. Exit 1 when no factor >= 0 works.

    Examples:

      computeplan headroom shanghai-2025

      computeplan headroom shanghai-2025 --class ai-inference --json
    """
    with guarded(debug):
        check_outputs(out_dir, "headroom")
        from computeplan.analysis import headroom as run_headroom
        from computeplan.io.loader import load_instance
        from computeplan.io.write import write_text

        inst = load_instance(resolve_instance_path(file))
        h = run_headroom(inst, workload_class, method=method.value, tol=tol, time_limit=time_limit)
        d = h.to_dict()
        if out_dir is not None:
            write_outputs(out_dir, "headroom",
                          {"headroom.json": write_text(json.dumps(d, indent=2, allow_nan=False) + "\n")})
        if as_json:
            sys.stdout.write(json.dumps(d, allow_nan=False) + "\n")
        else:
            what = f"class {workload_class}" if workload_class else "all must-serve demand"
            if h.factor is None:
                out.print(f"[red]no headroom[/] for {escape(what)}: {escape(h.note)}")
            else:
                out.print(f"headroom of {inst.name} ({what}): factor [bold]{_fmt(h.factor)}[/] "
                          f"({_fmt(h.base_tflops)} -> {_fmt(h.max_tflops)} TFLOPS), method {h.method}")
                if h.factor < 1:
                    out.print("[yellow]below 1: the fleet cannot serve today's demand with every target met; "
                              "it must shrink to this share[/]")
                if h.constraints:
                    _print_frame(h.to_frame(), ["name", "kind", "gain_per_pct"],
                                 "Binding constraints (factor gained per 1 % loosening)", left=("name", "kind"))
        if h.factor is None:
            raise typer.Exit(1)


@app.command()
def outage(
    file: Annotated[str, typer.Argument(help="Instance file or shipped example name.")],
    sites: Annotated[str | None, typer.Option("--sites", help="Comma-separated site ids to remove in turn.")] = None,
    tier: Annotated[str | None, typer.Option("--tier", help="Remove each site of this tier in turn.")] = None,
    out_dir: OutArg = None,
    tables: TablesArg = TablesOpt.csv,
    method: Annotated[MethodOpt, typer.Option(help="Per run, as for solve.")] = MethodOpt.auto,
    objective: Annotated[ObjectiveOpt | None, typer.Option(help="Override the instance's objective.")] = None,
    time_limit: TimeLimitArg = None,
    mip_gap: MipGapArg = 1e-9,
    engine: EngineArg = EngineOpt.dask,
    scheduler: SchedulerArg = None,
    workers: WorkersArg = None,
    quiet: QuietArg = False,
    debug: DebugOpt = False,
) -> None:
    """N-1: remove each site in turn, solve again, and report unserved demand and changes.

    For these runs every workload is optional at the instance's unserved_penalty (or the
    default one), so demand the rest of the fleet cannot carry is measured, not fatal.
    Writes DIR/outage.csv.

    Examples:

      computeplan outage shanghai-2025 --tier hyperscale --out outage/

      computeplan outage fleet.yaml --sites lg-hs-1,qp-hs-1
    """
    with guarded(debug):
        check_outputs(out_dir, "outage")
        from computeplan.analysis import outage as run_outage
        from computeplan.io.loader import load_instance
        from computeplan.io.write import table_files

        inst = load_instance(resolve_instance_path(file))
        chosen = sites.split(",") if sites is not None else None
        df = run_outage(inst, sites=chosen, tier=tier, method=method.value,
                        objective=objective.value if objective else None, time_limit=time_limit, mip_gap=mip_gap,
                        engine=engine.value, scheduler=scheduler, workers=workers, progress=not quiet)
        if out_dir is not None:
            write_outputs(out_dir, "outage", table_files({"outage": df}, table_kinds(tables)))
        if not quiet:
            _print_frame(df, ["site", "tier", "status", "objective", "unserved_tflops", "lost_tflops",
                              "absorbed_by", "delta.energy_kwh", "delta.fleet_pue", "delta.ece_gflops_per_w",
                              "diagnosis", "error"],
                         f"Outages of {inst.name} (unserved penalty {_fmt(df.attrs.get('unserved_penalty'))} "
                         "per TFLOPS-hour)", left=("site", "tier", "status", "absorbed_by", "diagnosis", "error"))
            if out_dir is not None:
                out.print(f"[dim]written to {out_dir}/[/]")
        if _failed(df):
            raise typer.Exit(1)


@app.command()
def capacity(
    file: Annotated[str, typer.Argument(help="Instance file or shipped example name.")],
    out_dir: Annotated[Path | None, typer.Option("--out", "-o", help="Write capacity.csv here.")] = None,
    tables: TablesArg = TablesOpt.csv,
    as_json: Annotated[bool, typer.Option("--json", help="Print the ranking as JSON records.")] = False,
    objective: Annotated[ObjectiveOpt | None, typer.Option(help="Override the instance's objective.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Capacity value: sites ranked by what one more IT kW saves, and the range where that holds.

    Examples:

      computeplan capacity shanghai-2025 --out out/
    """
    with guarded(debug):
        check_outputs(out_dir, "capacity")
        from computeplan.analysis import capacity_value
        from computeplan.io.loader import load_instance
        from computeplan.io.write import table_files

        inst = load_instance(resolve_instance_path(file))
        df = capacity_value(inst, objective=objective.value if objective else None)
        if out_dir is not None:
            write_outputs(out_dir, "capacity", table_files({"capacity": df}, table_kinds(tables)))
        if as_json:
            recs = json.loads(df.to_json(orient="records"))
            sys.stdout.write(json.dumps(recs) + "\n")
        else:
            _print_frame(df, ["rank", "site", "tier", "value_per_kw", "it_kw", "active_capacity_kw",
                              "holds_from_kw", "holds_to_kw", "grid_kw", "grid_value_per_kw"],
                         f"Capacity value of {inst.name} ({df.attrs.get('objective_name')} saved per extra IT kW)",
                         left=("site", "tier"))
            if df.attrs.get("build"):
                import pandas as pd

                _print_frame(pd.DataFrame(df.attrs["build"]), ["site", "what", "built", "value_per_unit"],
                             f"Build limits of {inst.name} ({df.attrs.get('objective_name')} saved per one more "
                             "buildable hall or server)", left=("site", "what"))


@app.command()
def report(
    result_dir: Annotated[Path, typer.Argument(help="A folder written by solve --out (or its result.json).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="The HTML file (default: "
                                                "RESULT_DIR/report.html).")] = None,
    instance: Annotated[str | None, typer.Option(
        "--instance", help="The instance, to add the range of each capacity price when the folder has no "
                           "capacity.csv.")] = None,
    debug: DebugOpt = False,
) -> None:
    """Write one self-contained HTML report of a result folder.

    Indicators against targets, energy and carbon per tier and site, utilisation and PUE
    against caps, servers powered beyond need, capacity value, and, when the folder holds
    them, sweep.csv, headroom.json and outage.csv. Opens offline; charts are inline SVG.

    Examples:

      computeplan solve shanghai-2025 --out out/ && computeplan report out/ -o report.html
    """
    with guarded(debug):
        from computeplan.present.report import write_report

        if not result_dir.exists():
            raise UsageError(f"{result_dir}: no such folder or file")
        folder = result_dir if result_dir.is_dir() else result_dir.parent
        target = output if output is not None else folder / "report.html"
        check_outputs(None, output=target)
        provider = None
        if instance is not None:
            from functools import partial

            from computeplan.analysis import capacity_of_result
            from computeplan.io.loader import load_instance

            provider = partial(capacity_of_result, load_instance(resolve_instance_path(instance)))
        from computeplan.io.write import folder_lock

        with folder_lock(folder, shared=True):  # one whole result set, even while a solve rewrites it
            path = write_report(result_dir, target, capacity=provider)
        out.print(f"report written to {path}", highlight=False)
