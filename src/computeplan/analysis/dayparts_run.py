"""Where the day parts of :mod:`dayparts` are solved: in this process, or on Dask.

On Dask every part has a home worker (parts in time order, split evenly), where it is
built once and kept loaded: each pass sends the part only its prices, and its LP starts
from its last basis. A part is pinned to its home (``allow_other_workers=False``), so a
part's sequence of solves, and so every figure, is the same whatever the number of
workers. A part whose solve fails (its worker lost) is sent once more, with its data, to
a worker still there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.analysis.daypart_lp import PartAnswer, PartSpec, forget, solve_part
from computeplan.analysis.parallel import _progress_bar, dask_client
from computeplan.errors import UsageError
from computeplan.solvers import Termination

F64 = NDArray[np.float64]
#: One part's solve: part index, prices (or None), row bounds (or None), keep its columns.
Call = tuple[int, F64 | None, tuple[F64, F64] | None, bool]


class Runner:
    """Solves lists of part calls; :meth:`note` shows a line of progress on stderr."""

    n_workers = 0

    def __init__(self, run: str, specs: Sequence[PartSpec], progress: bool) -> None:
        self.run, self.specs, self.progress = run, specs, progress
        self.loaded: set[int] = set()
        self._console: Any = None
        if progress:
            from rich.console import Console

            con = Console(stderr=True)
            self._console = con if con.is_terminal else None

    def note(self, line: str) -> None:
        if self._console is not None:
            self._console.log(line)

    def solve(self, calls: Sequence[Call], time_limit: float | None, what: str) -> list[PartAnswer]:
        out: list[PartAnswer] = []
        with _progress_bar(self.progress, len(calls), what) as bar:
            task = bar.add_task(what, total=len(calls)) if bar is not None else None
            for p, y, bounds, keep in calls:
                spec = None if p in self.loaded else self.specs[p]
                out.append(solve_part(self.run, p, spec, y, bounds, keep, time_limit))
                self.loaded.add(p)
                if bar is not None:
                    bar.advance(task)
        return out

    def close(self) -> None:
        forget(self.run)


class DaskRunner(Runner):
    def __init__(self, client: Any, run: str, specs: Sequence[PartSpec], progress: bool) -> None:
        super().__init__(run, specs, progress)
        self.client = client
        addrs = sorted(client.scheduler_info()["workers"])
        if not addrs:
            raise UsageError("dispatch by day: the Dask cluster has no workers")
        self.n_workers = len(addrs)
        D = len(specs)
        self.home = {p: addrs[p * len(addrs) // D] for p in range(D)}
        self.calls = 0

    def _submit(self, call: Call, time_limit: float | None, with_data: bool) -> Any:
        p, y, bounds, keep = call
        self.calls += 1
        spec = self.specs[p] if with_data or p not in self.loaded else None
        return self.client.submit(solve_part, self.run, p, spec, y, bounds, keep, time_limit,
                                  key=f"daypart-{self.run}-{p}-{self.calls}", workers=[self.home[p]],
                                  allow_other_workers=False, pure=False)

    def solve(self, calls: Sequence[Call], time_limit: float | None, what: str) -> list[PartAnswer]:
        from distributed import as_completed

        submitted = [self._submit(c, time_limit, False) for c in calls]
        futs = {f.key: k for k, f in enumerate(submitted)}
        out: list[PartAnswer | None] = [None] * len(calls)
        retried: set[int] = set()
        pending = as_completed(submitted)
        with _progress_bar(self.progress, len(calls), what) as bar:
            task = bar.add_task(what, total=len(calls)) if bar is not None else None
            for f in pending:
                k = futs[f.key]
                p = calls[k][0]
                if f.status == "finished":
                    out[k] = f.result()
                    self.loaded.add(p)
                elif k in retried:
                    exc = f.exception()
                    out[k] = PartAnswer(Termination.ERROR, message=f"{type(exc).__name__}: {exc}")
                else:  # its worker was lost: send it, with its data, to a worker still there
                    retried.add(k)
                    live = sorted(self.client.scheduler_info()["workers"])
                    if live and self.home[p] not in live:
                        self.home[p] = live[p % len(live)]
                    g = self._submit(calls[k], time_limit, True)
                    futs[g.key] = k
                    pending.add(g)
                    continue
                f.release()
                if bar is not None:
                    bar.advance(task)
        return [a if a is not None else PartAnswer(Termination.ERROR) for a in out]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a worker gone: its parts went with it
            self.client.run(forget, self.run)


@contextmanager
def open_runner(run: str, specs: Sequence[PartSpec], *, workers: int | None, scheduler: str | None,
                client: Any, progress: bool) -> Iterator[Runner]:
    """A runner for the parts: in this process when ``workers == 0`` (and no cluster is
    given), else on Dask (``client``, ``scheduler`` or a local cluster of ``workers``)."""
    if workers is not None and workers < 0:
        raise UsageError(f"workers: must be >= 0, got {workers}")
    if workers == 0 and client is None and not scheduler:
        rn = Runner(run, specs, progress)
        try:
            yield rn
        finally:
            rn.close()
        return
    with dask_client(scheduler, workers, client) as c:
        drn = DaskRunner(c, run, specs, progress)
        try:
            yield drn
        finally:
            drn.close()
