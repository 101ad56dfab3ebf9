"""Trade-off curves (epsilon-constraint): solve every point of a grid of varied values."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from computeplan.analysis.parallel import run_points
from computeplan.analysis.points import RunOptions, as_instance
from computeplan.analysis.tables import _frame, _row_or_error, objective_name, result_row
from computeplan.analysis.vary import Vary, _as_varies, apply_values, check_points
from computeplan.io.schema import Instance


def _sweep_point(shared: tuple[Instance, RunOptions], values: dict[str, float]) -> dict[str, Any]:
    base, opts = shared
    return result_row(opts.run(apply_values(base, values)))


def sweep(
    instance: Instance | str | Path | Mapping[str, Any],
    vary: Mapping[str, Sequence[float]] | Sequence[str | Vary] | str | Vary,
    *,
    method: str = "auto",
    objective: str | None = None,
    solver: str = "highs",
    time_limit: float | None = None,
    mip_gap: float = 1e-9,
    engine: str = "serial",
    scheduler: str | None = None,
    workers: int | None = None,
    client: Any = None,
    progress: bool = False,
) -> pd.DataFrame:
    """Solve the instance at every point of a grid of varied values (epsilon-constraint).

    Parameters
    ----------
    vary
        ``{"targets.fleet_pue_max": [1.2, 1.25, 1.3]}``, or strings ``"PATH=START:STOP:N"``.
        Several paths give the Cartesian grid of their values. Paths: see :data:`VARY_HELP`.
    engine, scheduler, workers, client
        ``serial`` (this process, the default) or ``dask`` (a local cluster of ``workers``
        processes, or the cluster at ``scheduler``, or an existing ``client``).

    Returns
    -------
    pandas.DataFrame
        One row per point, in grid order: the varied values, ``status``, ``objective``,
        ``bound``, ``gap``, every indicator under its ``result.json`` name,
        ``active_halls``, ``shadow_price.<target>``, ``binding`` (targets whose shadow
        price is not zero), ``diagnosis`` (infeasible points: what must move) and ``error``
        (a point that failed twice). ``attrs`` holds the objective's name and the paths.
    """
    inst = as_instance(instance)
    varies = _as_varies(vary)
    opts = RunOptions(method, objective, solver, time_limit, mip_gap).started()
    opts.validate(inst)
    points = [dict(zip([v.path for v in varies], combo, strict=True))
              for combo in itertools.product(*[v.values for v in varies])]
    check_points(inst, points)  # every point checked before any solve
    outs = run_points(_sweep_point, (inst, opts), points, engine=engine, scheduler=scheduler, workers=workers,
                      client=client, progress=progress, description="sweep")
    rows = [_row_or_error(p, o) for p, o in zip(points, outs, strict=True)]
    df = _frame(rows, [v.path for v in varies] + ["status", "objective"])
    df.attrs.update({"instance": inst.name, "objective_name": objective_name(inst, objective),
                     "vary": [v.path for v in varies]})
    return df
