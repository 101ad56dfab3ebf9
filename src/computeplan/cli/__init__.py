"""The ``computeplan`` command line. Thin: parse, call the library, print, exit code.

Exit codes: 0 a plan was found (optimal, or feasible at a limit with its gap);
1 no plan (infeasible, or nothing found in time); 2 invalid input or usage.
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, cast

import typer

from computeplan.errors import ComputePlanError, InstanceError, SolverError, UsageError

if TYPE_CHECKING:
    from rich.console import Console

# --help stays fast: this module and cli.analysis import no pandas, numpy, solver or loader
# at the top (each command imports what it needs), help is plain text (typer's rich help
# would load markdown-it and pygments), and the rich consoles are made on first use.

app = typer.Typer(
    name="computeplan",
    help=(
        "Place a year of compute demand across hyperscale, mid-size and edge data centres "
        "at least energy, cost or carbon, with every PUE / compute-efficiency target met.\n\n"
        "Start with:  computeplan solve shanghai-2025 --out out/\n\n"
        "(a shipped example is found by name; any instance file by path). "
        "Exit codes: 0 plan found, 1 no plan, 2 invalid input or usage."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


class _LazyConsole:
    """A rich Console made on first use."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return getattr(self._console, name)


err = cast("Console", _LazyConsole(stderr=True))
out = cast("Console", _LazyConsole(stderr=False))


class MethodOpt(str, Enum):
    auto = "auto"
    lp = "lp"
    milp = "milp"
    heuristic = "heuristic"


class ObjectiveOpt(str, Enum):
    energy = "energy"
    cost = "cost"
    carbon = "carbon"


class FormatOpt(str, Enum):
    auto = "auto"
    instance = "instance"
    orlib_gap = "orlib-gap"


class TablesOpt(str, Enum):
    csv = "csv"
    parquet = "parquet"
    both = "both"
    none = "none"


def _escape(text: str) -> str:
    """``text`` with rich markup made literal (an id may hold ``[...]``)."""
    from rich.markup import escape

    return escape(text)


@contextmanager
def guarded(debug: bool) -> Iterator[None]:
    """Map errors to exit codes with a clear message and no traceback (unless --debug)."""
    try:
        yield
    except typer.Exit:
        raise
    except (InstanceError, UsageError) as e:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {_escape(str(e))}", markup=True, highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (SolverError, ComputePlanError) as e:
        if debug:
            raise
        err.print(f"[bold red]solver error:[/] {_escape(str(e))}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None
    except FileNotFoundError as e:
        if debug:
            raise
        err.print(f"[bold red]error:[/] {_escape(str(e))}", highlight=False)
        raise typer.Exit(2) from None
    except Exception as e:  # a bug: say so plainly; --debug shows where
        if debug:
            raise
        err.print(f"[bold red]internal error:[/] {type(e).__name__}: {_escape(str(e))} (run again with --debug for the traceback)",
                  highlight=False)
        raise typer.Exit(1) from None


def resolve_instance_path(name: str) -> Path:
    """A path, or the name of a shipped example instance."""
    p = Path(name)
    if p.exists():
        return p
    from computeplan.io.catalogue import example_instance

    try:
        return example_instance(name)
    except FileNotFoundError:
        raise UsageError(f"{name}: no such file, and no shipped example instance of that name") from None


# --------------------------------------------------------------------------------------
# Option checks: a bad value is a usage error (exit 2) reported before any work starts.
# --------------------------------------------------------------------------------------
def usage_exit(message: str) -> NoReturn:
    """Print ``error: message`` on one line and exit 2."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _opt(param: typer.CallbackParam) -> str:
    return max(param.opts, key=len) if param.opts else str(param.name)


def _time_limit(ctx: typer.Context, param: typer.CallbackParam, value: float | None) -> float | None:
    if ctx.resilient_parsing or value is None:
        return value
    if math.isnan(value) or value <= 0:
        usage_exit(f"{_opt(param)}: expected a number of seconds > 0, got {value:g}")
    return None if math.isinf(value) else value


def _non_negative(ctx: typer.Context, param: typer.CallbackParam, value: float | None) -> float | None:
    if not ctx.resilient_parsing and value is not None and not value >= 0:
        usage_exit(f"{_opt(param)}: expected a number >= 0, got {value:g}")
    return value


def _positive(ctx: typer.Context, param: typer.CallbackParam, value: float | None) -> float | None:
    if not ctx.resilient_parsing and value is not None and not value > 0:
        usage_exit(f"{_opt(param)}: expected a number > 0, got {value:g}")
    return value


def _at_least_one(ctx: typer.Context, param: typer.CallbackParam, value: int | None) -> int | None:
    if not ctx.resilient_parsing and value is not None and value < 1:
        usage_exit(f"{_opt(param)}: expected a whole number >= 1, got {value}")
    return value


def time_limit_option(help: str) -> Any:
    """``--time-limit`` seconds: > 0 (inf means none)."""
    return typer.Option("--time-limit", help=help, callback=_time_limit)


def mip_gap_option(help: str) -> Any:
    """``--mip-gap``: a relative gap >= 0."""
    return typer.Option("--mip-gap", help=help, callback=_non_negative)


def count_option(name: str, help: str) -> Any:
    """A count option (``--threads``, ``--workers``): >= 1."""
    return typer.Option(name, help=help, callback=_at_least_one)


def positive_option(name: str, help: str) -> Any:
    """A tolerance or size: > 0."""
    return typer.Option(name, help=help, callback=_positive)


def table_kinds(tables: TablesOpt) -> tuple[str, ...]:
    """The table formats of ``--tables``."""
    return {"csv": ("csv",), "parquet": ("parquet",), "both": ("csv", "parquet"), "none": ()}[tables.value]


# --------------------------------------------------------------------------------------
# Output folders and files: checked before the work (usage error), written as one set.
# --------------------------------------------------------------------------------------
def check_outputs(out_dir: Path | None, fileset: str | None = None, **files: Path | None) -> None:
    """Fail before any work when ``--out`` (for the named file set of io.write) or an output
    file (``option=path``, underscores for dashes) cannot be written."""
    from computeplan.io.write import FILE_SETS, check_out_dir, check_out_file

    if out_dir is not None:
        check_out_dir(out_dir, next((s for s in FILE_SETS if s.name == fileset), None))
    for option, path in files.items():
        if path is not None:
            check_out_file(path, "--" + option.replace("_", "-"))


def write_outputs(out_dir: Path, fileset: str, files: dict[str, Any]) -> None:
    """Replace the named file set in ``out_dir`` with ``files`` ({name: writer}), as one."""
    from computeplan.io.write import FILE_SETS, write_set

    write_set(out_dir, next(s for s in FILE_SETS if s.name == fileset), files)


DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a full traceback on errors.")]


def _progress(quiet: bool, wanted: bool | None = None) -> Callable[[float, float | None, float | None], None] | None:
    """Progress lines on stderr: by default when stderr is a terminal; ``--progress`` forces
    them (a log file), ``--no-progress`` and ``--quiet`` turn them off."""
    if quiet or wanted is False or (wanted is None and not err.is_terminal):
        return None
    last = [0.0]

    def show(t: float, inc: float | None, bnd: float | None) -> None:
        now = time.monotonic()
        if now - last[0] < 1.0:
            return
        last[0] = now
        gap = abs(inc - bnd) / max(abs(inc), 1e-10) if inc is not None and bnd is not None else None
        err.print(
            f"[dim]{t:7.1f} s  incumbent {f'{inc:.9g}' if inc is not None else '-':>15}  bound "
            f"{f'{bnd:.9g}' if bnd is not None else '-':>15}  gap {f'{gap:.3%}' if gap is not None else '-'}[/]",
            highlight=False,
        )

    return show


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
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="MILP progress lines on stderr (default: when stderr is a terminal).",
        show_default=False)] = None,
    debug: DebugOpt = False,
) -> None:
    """Solve an instance: where each workload runs, servers and halls powered, and every figure.

    Examples:

      computeplan solve shanghai-2025 --out out/

      computeplan solve my-fleet.yaml --objective carbon --time-limit 60 --out out/ --report out/report.html

      computeplan solve gap12.txt --format orlib-gap --problem 3
    """
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
            from computeplan.solvers.interrupt import graceful

            t_load = time.monotonic()
            inst = load_instance(path)
            if time_limit is not None:  # the limit holds for the whole command, reading included
                time_limit = max(0.01, time_limit - (time.monotonic() - t_load))
            write_model = write_lp or write_mps
            with graceful():  # Ctrl-C / SIGTERM stop the search; the best plan found is kept
                res = run_solve(inst, method=method.value, objective=objective.value if objective else None,
                                solver=solver, time_limit=time_limit, mip_gap=mip_gap, threads=threads,
                                progress=_progress(quiet, progress), write_model=write_model, seed=seed)
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

            provider = partial(capacity_of_result, inst) if inst is not None else None
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
        problems = run_verify(inst, data)
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
    debug: DebugOpt = False,
) -> None:
    """Write a realistic synthetic fleet (tiers, zones, classes, sparse latency reach), feasible by construction.

    Example:  computeplan generate --workloads 20000 --sites 100 --seed 1 --out fleet-m/
    """
    with guarded(debug):
        check_outputs(out_dir, "instance")
        from computeplan.io.generate import generate_instance, write_instance

        kind = tables.value if tables != TablesOpt.none else ("parquet" if workloads >= 10000 else None)
        if kind == "both":
            raise UsageError("--tables: choose csv or parquet for a generated fleet")
        raw = generate_instance(workloads, sites, seed=seed, indivisible_share=indivisible_share,
                                idle_share=idle_share, optional_share=optional_share, load=load)
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
    """Entry point of the ``computeplan`` script."""
    return app(args=argv, prog_name="computeplan")


def _json_default(o: Any) -> Any:  # pragma: no cover - used by --json paths only
    return str(o)


__all__ = ["app", "json", "main"]
from computeplan.cli import analysis  # noqa: E402,F401  (registers sweep, headroom, outage, report)
