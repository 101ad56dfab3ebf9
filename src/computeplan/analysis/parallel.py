"""Many independent solves: in this process, or on Dask (dask.distributed).

Sweeps and outages are lists of independent points. :func:`run_points` runs
``fn(shared, item)`` for every item and returns one :class:`PointOutcome` per item, in
the items' order, whichever engine ran them:

- ``serial``: one after the other in this process;
- ``dask``: on a Dask cluster -- an existing one (``scheduler`` address or ``client``),
  or a ``LocalCluster`` started for the call with one single-threaded worker process per
  core, listening on loopback (127.0.0.1) only, and closed afterwards.

The shared object (the instance) is sent to the workers once. A point that fails (an
exception in ``fn``, or a worker lost under it) is retried once; a point that fails
twice is returned with its error message, never dropped. ``fn`` must be importable by
the workers (a module-level function of an installed package).
"""

from __future__ import annotations

import logging
import os
import traceback
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from computeplan.errors import UsageError

ENGINES = ("serial", "dask")


@dataclass
class PointOutcome:
    """What became of one point: its value, or the error of its last attempt."""

    value: Any = None
    error: str | None = None
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


def _call(fn: Callable[[Any, Any], Any], shared: Any, item: Any) -> tuple[bool, Any]:
    """Run one point; an exception becomes a message (so the driver decides on retries)."""
    try:
        return True, fn(shared, item)
    except Exception as e:  # reported per point, never raised across the cluster
        tb = traceback.format_exception_only(type(e), e)
        return False, "".join(tb).strip()


@contextmanager
def dask_client(
    scheduler: str | None = None, workers: int | None = None, client: Any = None
) -> Iterator[Any]:
    """A Dask client: the one given, one connected to ``scheduler``, or a new local cluster.

    A local cluster has ``workers`` single-threaded worker processes (default: this
    machine's cores), listens on 127.0.0.1 only, has no dashboard, and is closed on exit.
    """
    if client is not None:
        yield client
        return
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            c = Client(scheduler, timeout="20s")
        except OSError as e:
            raise UsageError(f"--scheduler: cannot reach a Dask scheduler at {scheduler!r}: {e}") from None
        try:
            yield c
        finally:
            c.close()
        return
    n = workers or os.cpu_count() or 1
    if n < 1:
        raise UsageError(f"--workers: must be >= 1, got {n}")
    cluster = LocalCluster(
        n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
        dashboard_address=None, silence_logs=logging.ERROR,
    )
    c = Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def _progress_bar(show: bool, total: int, description: str) -> Any:
    if not show:
        return nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    con = Console(stderr=True)
    if not con.is_terminal:
        return nullcontext(None)
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=con, transient=True)


def run_points(
    fn: Callable[[Any, Any], Any],
    shared: Any,
    items: Sequence[Any],
    *,
    engine: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: bool = False,
    description: str = "points",
) -> list[PointOutcome]:
    """Run ``fn(shared, item)`` for each item; one outcome per item, in order.

    ``engine`` is ``serial`` or ``dask`` (``scheduler`` / ``client`` imply ``dask``).
    ``progress`` shows a bar on a terminal's standard error.
    """
    if engine not in ENGINES:
        raise UsageError(f"--engine: expected one of {', '.join(ENGINES)}, got {engine!r}")
    if scheduler or client is not None:
        engine = "dask"
    outcomes = [PointOutcome() for _ in items]
    with _progress_bar(progress, len(items), description) as bar:
        task = bar.add_task(description, total=len(items)) if bar is not None else None

        def advance() -> None:
            if bar is not None:
                bar.advance(task)

        if engine == "serial":
            for k, item in enumerate(items):
                for _ in range(2):
                    outcomes[k].attempts += 1
                    ok, val = _call(fn, shared, item)
                    if ok:
                        outcomes[k].value, outcomes[k].error = val, None
                        break
                    outcomes[k].error = str(val)
                advance()
            return outcomes
        with dask_client(scheduler, workers, client) as c:
            _run_dask(c, fn, shared, items, outcomes, advance)
    return outcomes


def _run_dask(c: Any, fn: Callable[[Any, Any], Any], shared: Any, items: Sequence[Any],
              outcomes: list[PointOutcome], advance: Callable[[], None]) -> None:
    from distributed import as_completed

    shared_f = c.scatter(shared, broadcast=True, hash=False)
    run = uuid.uuid4().hex[:12]

    def submit(k: int) -> Any:
        outcomes[k].attempts += 1
        return c.submit(_call, fn, shared_f, items[k], key=f"computeplan-{run}-{k}-{outcomes[k].attempts}",
                        pure=False)

    index: dict[str, int] = {}
    pending = as_completed()
    for k in range(len(items)):
        f = submit(k)
        index[f.key] = k
        pending.add(f)
    for f in pending:
        k = index[f.key]
        if f.status == "finished":
            ok, val = f.result()
            err = None if ok else str(val)
        else:  # the worker under it was lost, or the task could not run
            ok, val = False, None
            exc = f.exception()
            err = f"{type(exc).__name__}: {exc}"
        f.release()
        if ok:
            outcomes[k].value, outcomes[k].error = val, None
            advance()
            continue
        outcomes[k].error = err
        if outcomes[k].attempts < 2:
            g = submit(k)
            index[g.key] = k
            pending.add(g)
        else:
            advance()
