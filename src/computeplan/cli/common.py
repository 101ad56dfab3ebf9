"""What every command shares: the typer app, the consoles, the option checks, errors as
exit codes, output checks."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


class FullYearOpt(str, Enum):
    auto = "auto"
    lp = "lp"
    days = "days"


class TypicalSolveOpt(str, Enum):
    auto = "auto"
    milp = "milp"
    days = "days"


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
