"""Outages (N-1): each chosen site removed in turn, and what the rest of the fleet absorbs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from computeplan.analysis.parallel import run_points
from computeplan.analysis.points import RunOptions, as_instance, copy_instance
from computeplan.analysis.tables import (
    BASE_LABEL,
    _frame,
    _indicator_keys,
    _row_or_error,
    objective_name,
    result_row,
)
from computeplan.errors import UsageError
from computeplan.io.schema import TIERS, Instance
from computeplan.model.data import build_data


def optional_demand(inst: Instance) -> tuple[Instance, float]:
    """Every workload optional, at the instance's unserved penalty or the default one.

    The default (10 x the dearest full-load cost of serving a TFLOPS-hour) is computed on
    the whole fleet, so every outage run and the base run use the same penalty.
    """
    penalty = float(inst.unserved_penalty) if inst.unserved_penalty is not None else build_data(inst).penalty
    wls = [w.model_copy(update={"must_serve": False}) for w in inst.workloads]
    return copy_instance(inst, {"workloads": wls, "unserved_penalty": penalty}), penalty


def remove_site(inst: Instance, site_id: str) -> Instance:
    """The instance without one site over the whole horizon: its pools, its id in workloads'
    allowed lists, its own key of a keyed target (its site PUE cap) and its own series of
    the time block are gone."""
    if len(inst.sites) < 2:
        raise UsageError("outage: the instance has a single site; removing it leaves no fleet")
    sites = [s for s in inst.sites if s.id != site_id]
    wls = [w.model_copy(update={"sites": [x for x in w.sites if x != site_id]})
           if w.sites is not None and site_id in w.sites else w for w in inst.workloads]
    update: dict[str, Any] = {"sites": sites, "workloads": wls}
    if inst.time is not None and site_id in inst.time.sites:
        update["time"] = inst.time.model_copy(update={"sites": {k: v for k, v in inst.time.sites.items()
                                                                if k != site_id}})
    keyed = {name: val for name, val in inst.targets.given().items() if isinstance(val, dict) and site_id in val}
    if keyed:  # a target keyed by the removed site loses that key
        update["targets"] = inst.targets.model_copy(update={
            name: {k: v for k, v in val.items() if k != site_id} or None for name, val in keyed.items()})
    return copy_instance(inst, update)


def _outage_point(shared: tuple[Instance, RunOptions], site: str | None) -> dict[str, Any]:
    base, opts = shared
    res = opts.run(base if site is None else remove_site(base, site))
    served: dict[str, float] = {}
    for a in res.assignment_records:
        served[a["site"]] = served.get(a["site"], 0.0) + float(a["tflops"])
    it = {s["id"]: float(s["it_kw"]) for s in res.site_records}
    return {"row": result_row(res), "served": served, "it": it}


def outage_sites(inst: Instance, sites: Sequence[str] | None = None, tier: str | None = None) -> list[str]:
    """The sites to remove in turn: those given, those of a tier, or every site."""
    ids = [s.id for s in inst.sites]
    if sites is not None and tier is not None:
        raise UsageError("--sites and --tier: give one or the other")
    if sites is not None:
        chosen = [s.strip() for s in sites if s.strip()]
        unknown = [s for s in chosen if s not in ids]
        if unknown:
            raise UsageError(f"--sites: unknown site {', '.join(map(repr, unknown))} (sites: {', '.join(ids)})")
        if not chosen:
            raise UsageError("--sites: no site given")
        return list(dict.fromkeys(chosen))
    if tier is not None:
        if tier not in TIERS:
            raise UsageError(f"--tier: expected one of {', '.join(TIERS)}, got {tier!r}")
        chosen = [s.id for s in inst.sites if s.tier == tier]
        if not chosen:
            raise UsageError(f"--tier {tier}: the instance has no {tier} site")
        return chosen
    return ids


def outage(
    instance: Instance | str | Path | Mapping[str, Any],
    *,
    sites: Sequence[str] | None = None,
    tier: str | None = None,
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
    """N-1: remove each chosen site in turn and solve again.

    Every workload is made optional for these runs, with the instance's
    ``unserved_penalty`` or the default one (computed on the whole fleet), so demand the
    remaining fleet cannot carry is measured as ``unserved_tflops`` rather than making the
    run infeasible. The base plan (first row, site ``(none)``) is solved the same way.
    Targets stay hard constraints; a run that cannot meet them is ``infeasible`` with its
    diagnosis.

    Returns
    -------
    pandas.DataFrame
        One row per run: ``site`` removed, ``tier``, ``status``, ``objective``, every
        indicator, ``unserved_share`` (of all demand), ``lost_tflops`` (what the removed
        site served in the base plan), ``absorbed_tflops`` and ``absorbed_by`` (the sites
        whose served TFLOPS rose, ``site:+TFLOPS`` separated by ``;``, largest first),
        ``delta.<indicator>`` against the base plan, shadow prices, binding targets,
        diagnosis, error.
    """
    inst = as_instance(instance)
    chosen = outage_sites(inst, sites, tier)
    if len(inst.sites) < 2:
        raise UsageError("outage: the instance has a single site; removing it leaves no fleet")
    opt_inst, penalty = optional_demand(inst)
    opts = RunOptions(method, objective, solver, time_limit, mip_gap).started()
    opts.validate(opt_inst)
    items: list[str | None] = [None, *chosen]
    outs = run_points(_outage_point, (opt_inst, opts), items, engine=engine, scheduler=scheduler,
                      workers=workers, client=client, progress=progress, description="outages")
    tier_of = {s.id: s.tier for s in inst.sites}
    total = float(sum(w.demand_tflops for w in inst.workloads))
    base = outs[0].value if outs[0].ok else None
    rows = []
    for site, o in zip(items, outs, strict=True):
        lead = {"site": BASE_LABEL if site is None else site, "tier": "" if site is None else tier_of[site]}
        if not o.ok:
            rows.append(_row_or_error(lead, o))
            continue
        row = {**lead, **o.value["row"]}
        un = row.get("unserved_tflops")
        row["unserved_share"] = None if un is None else un / total
        if base is not None and site is not None:
            row["lost_tflops"] = base["served"].get(site, 0.0)
            gains = {s: o.value["served"].get(s, 0.0) - base["served"].get(s, 0.0)
                     for s in o.value["served"]}
            tol = 1e-9 * max(total, 1.0)
            up = sorted(((s, g) for s, g in gains.items() if g > tol), key=lambda t: (-t[1], t[0]))
            row["absorbed_tflops"] = float(sum(g for _, g in up))
            row["absorbed_by"] = ";".join(f"{s}:+{g:.6g}" for s, g in up)
            for k, val in o.value["row"].items():
                b = base["row"].get(k)
                if k in ("objective", *_indicator_keys(base["row"])) and isinstance(val, float) and \
                        isinstance(b, float):
                    row[f"delta.{k}"] = val - b
        rows.append(row)
    df = _frame(rows, ["site", "tier", "status", "objective"])
    df.attrs.update({"instance": inst.name, "objective_name": objective_name(inst, objective),
                     "unserved_penalty": penalty})
    return df
