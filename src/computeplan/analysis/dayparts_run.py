"""Where the day parts of :mod:`dayparts` are solved: in this process, or on Dask.

Parts go in *chains* of :data:`CHAIN` consecutive days, one task per chain and pass: a
chain's first day starts from its own last basis, each next day from the basis the day
before just ended on (:func:`~computeplan.analysis.daypart_lp.solve_chain`). On Dask every
chain has a home worker (chains in time order, split evenly), where its parts are built
once and kept loaded: each pass sends them only their prices. A chain is pinned to its
home (``allow_other_workers=False``) and the chains do not depend on the number of
workers, so every part's sequence of solves, and so every figure, is the same whatever
the number of workers (and in this process). A chain whose task fails (its worker lost)
is sent once more, with its data, to a worker still there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.analysis.daypart_lp import Call, PartAnswer, PartSpec, forget, solve_chain
from computeplan.analysis.parallel import _progress_bar, dask_client
from computeplan.errors import UsageError
from computeplan.solvers import Termination

F64 = NDArray[np.float64]
#: Consecutive parts solved as one chain (one task): each day starts from the day before's basis.
CHAIN = 8


def chain_of(part: int) -> int:
    """The chain a part belongs to: consecutive parts, :data:`CHAIN` at a time."""
    return part // CHAIN


def chains(calls: Sequence[Call]) -> list[list[int]]:
    """The positions in ``calls`` grouped by chain (:func:`chain_of` their part), in order."""
    groups: dict[int, list[int]] = {}
    for k, call in enumerate(calls):
        groups.setdefault(chain_of(call[0]), []).append(k)
    return [groups[g] for g in sorted(groups)]


class Runner:
    """Solves lists of part calls; :meth:`note` shows a line of progress on stderr."""

    n_workers = 0

    def __init__(self, run: str, specs: Sequence[PartSpec], progress: bool, follow: bool = True) -> None:
        self.run, self.specs, self.progress, self.follow = run, specs, progress, follow
        self.loaded: set[int] = set()
        self._console: Any = None
        if progress:
            from rich.console import Console

            con = Console(stderr=True)
            self._console = con if con.is_terminal else None

    def note(self, line: str) -> None:
        if self._console is not None:
            self._console.log(line)

    def _specs(self, calls: Sequence[Call], everything: bool = False) -> dict[int, PartSpec]:
        return {c[0]: self.specs[c[0]] for c in calls if everything or c[0] not in self.loaded}

    def solve(self, calls: Sequence[Call], time_limit: float | None, what: str) -> list[PartAnswer]:
        out: list[PartAnswer | None] = [None] * len(calls)
        with _progress_bar(self.progress, len(calls), what) as bar:
            task = bar.add_task(what, total=len(calls)) if bar is not None else None
            for group in chains(calls):
                sub = [calls[k] for k in group]
                for k, a in zip(group, solve_chain(self.run, sub, self._specs(sub), time_limit, self.follow),
                                strict=True):
                    out[k] = a
                self.loaded.update(c[0] for c in sub)
                if bar is not None:
                    bar.advance(task, len(group))
        return [a if a is not None else PartAnswer(Termination.ERROR) for a in out]

    def close(self) -> None:
        forget(self.run)


class DaskRunner(Runner):
    def __init__(self, client: Any, run: str, specs: Sequence[PartSpec], progress: bool, follow: bool = True) -> None:
        super().__init__(run, specs, progress, follow)
        self.client = client
        addrs = sorted(client.scheduler_info()["workers"])
        if not addrs:
            raise UsageError("dispatch by day: the Dask cluster has no workers")
        self.n_workers = len(addrs)
        n_chains = chain_of(len(specs) - 1) + 1 if specs else 0
        self.home = {g: addrs[g * len(addrs) // n_chains] for g in range(n_chains)}
        self.calls = 0

    def _submit(self, sub: list[Call], time_limit: float | None, with_data: bool) -> Any:
        g = chain_of(sub[0][0])
        self.calls += 1
        return self.client.submit(solve_chain, self.run, sub, self._specs(sub, with_data), time_limit, self.follow,
                                  key=f"daypart-{self.run}-{g}-{self.calls}", workers=[self.home[g]],
                                  allow_other_workers=False, pure=False)

    def solve(self, calls: Sequence[Call], time_limit: float | None, what: str) -> list[PartAnswer]:
        from distributed import as_completed

        groups = chains(calls)
        subs = [[calls[k] for k in group] for group in groups]
        submitted = [self._submit(sub, time_limit, False) for sub in subs]
        futs = {f.key: j for j, f in enumerate(submitted)}
        out: list[PartAnswer | None] = [None] * len(calls)
        retried: set[int] = set()
        pending = as_completed(submitted)
        with _progress_bar(self.progress, len(calls), what) as bar:
            task = bar.add_task(what, total=len(calls)) if bar is not None else None
            for f in pending:
                j = futs[f.key]
                if f.status == "finished":
                    for k, a in zip(groups[j], f.result(), strict=True):
                        out[k] = a
                    self.loaded.update(c[0] for c in subs[j])
                elif j in retried:
                    exc = f.exception()
                    for k in groups[j]:
                        out[k] = PartAnswer(Termination.ERROR, message=f"{type(exc).__name__}: {exc}")
                else:  # its worker was lost: send it, with its data, to a worker still there
                    retried.add(j)
                    g = chain_of(subs[j][0][0])
                    live = sorted(self.client.scheduler_info()["workers"])
                    if live and self.home[g] not in live:
                        self.home[g] = live[g % len(live)]
                    again = self._submit(subs[j], time_limit, True)
                    futs[again.key] = j
                    pending.add(again)
                    continue
                f.release()
                if bar is not None:
                    bar.advance(task, len(groups[j]))
        return [a if a is not None else PartAnswer(Termination.ERROR) for a in out]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # a worker gone: its parts went with it
            self.client.run(forget, self.run)


@contextmanager
def open_runner(run: str, specs: Sequence[PartSpec], *, workers: int | None, scheduler: str | None,
                client: Any, progress: bool, follow: bool = True) -> Iterator[Runner]:
    """A runner for the parts: in this process when ``workers == 0`` (and no cluster is
    given), else on Dask (``client``, ``scheduler`` or a local cluster of ``workers``)."""
    if workers is not None and workers < 0:
        raise UsageError(f"workers: must be >= 0, got {workers}")
    if workers == 0 and client is None and not scheduler:
        rn = Runner(run, specs, progress, follow)
        try:
            yield rn
        finally:
            rn.close()
        return
    with dask_client(scheduler, workers, client) as c:
        drn = DaskRunner(c, run, specs, progress, follow)
        try:
            yield drn
        finally:
            drn.close()
