"""The result of a solve: status, plan records, indicators; JSON and tables, written atomically."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from computeplan.io.results import PLAN_TABLES, read_result_folder

# the single-file writers lived here before io.write; the aliases keep them importable from here
from computeplan.io.write import (
    FULL_YEAR,
    RESULT,
    Writer,
    folder_writer,
    record_table,
    table_files,
    write_set,
    write_text,
)
from computeplan.io.write import atomic_write as atomic_write
from computeplan.io.write import atomic_write_parquet as atomic_write_parquet
from computeplan.io.write import atomic_write_text as atomic_write_text
from computeplan.model.data import ModelData
from computeplan.plan.evaluate import OBJECTIVE_NAMES, Figures, target_records
from computeplan.plan.periods import period_table, served_table, site_peaks, time_section
from computeplan.solvers import Termination

#: Tables a time instance's result adds beside result.json.
PERIOD_TABLES = ("periods", "served")

if TYPE_CHECKING:  # pandas is imported when a table is asked for, not to solve
    import pandas as pd

TARGET_COLUMNS = ["name", "target", "value", "met", "shadow_price"]
ASSIGNMENT_COLUMNS = ["workload", "site", "hardware", "share", "tflops"]

#: How a solve ended: the package's one termination vocabulary.
Status = Termination


def _num(x: Any) -> Any:
    """JSON-safe number: NaN/inf become null, numpy scalars plain floats."""
    if x is None:
        return None
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        f = float(x)
        return f if math.isfinite(f) else None
    return x


def _clean(obj: Any) -> Any:
    t = type(obj)  # the common exact types first: a result holds tens of thousands of numbers
    if t is float:
        return obj if math.isfinite(obj) else None
    if t is str or t is int or t is bool or obj is None:
        return obj
    if t is dict:
        return {k if type(k) is str else str(k): _clean(v) for k, v in obj.items()}
    if t is list:
        return [_clean(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    return _num(obj)


@dataclass
class Result:
    """A solve's outcome in the shape of ``result.json`` (FORMATS.md)."""

    instance: str
    status: Status
    method: str
    objective_name: str
    objective_value: float | None
    bound: float | None
    gap: float | None
    solve_seconds: float
    indicators: dict[str, float | None] = field(default_factory=dict)
    target_list: list[dict[str, Any]] = field(default_factory=list)
    site_records: list[dict[str, Any]] = field(default_factory=list)
    pool_records: list[dict[str, Any]] = field(default_factory=list)
    assignment_records: list[dict[str, Any]] = field(default_factory=list)
    diagnosis: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # per-period tables (periods, served)
    # the plan's decisions that do not depend on the periods (halls ``z``, placements ``y``,
    # builds ``g``, ``m``, ``o``), by layout block; not written to result.json
    blocks: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    # with typical days: the year's plan (the strategic blocks fixed, every period dispatched),
    # a time result over the full instance; written to ``full-year/`` beside result.json
    full_year_plan: Result | None = field(default=None, repr=False)

    @property
    def has_plan(self) -> bool:
        """Whether the result carries a plan (an interrupted solve may, with its bound)."""
        if self.status == Termination.INTERRUPTED:
            return self.objective_value is not None
        return self.status.has_plan

    # --- tables -----------------------------------------------------------------
    @property
    def targets(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.target_list, columns=TARGET_COLUMNS)

    @property
    def sites(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.site_records)

    @property
    def pools(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.pool_records)

    @property
    def assignments(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.assignment_records, columns=ASSIGNMENT_COLUMNS)

    def _table(self, name: str) -> pd.DataFrame:
        import pandas as pd

        return self.tables.get(name, pd.DataFrame())

    @property
    def periods(self) -> pd.DataFrame:
        """Per site and period: IT and facility kW, PUE, price, carbon intensity, temperature
        (empty without a time block)."""
        return self._table("periods")

    @property
    def served(self) -> pd.DataFrame:
        """Per workload class and period: TFLOPS served and demanded (empty without a time block)."""
        return self._table("served")

    @property
    def dispatch(self) -> pd.DataFrame:
        """The plan per period: the share of each workload on each pool (non-zero ones)."""
        import pandas as pd

        tm = self.extra.get("time") or {}
        return pd.DataFrame(tm.get("dispatch") or {}, columns=["period", "workload", "site", "hardware", "share"])

    @property
    def typical_days(self) -> int | None:
        """How many representative days the plan was solved on (None: every period)."""
        return (self.extra.get("time") or {}).get("typical_days")

    @property
    def full_year(self) -> dict[str, Any] | None:
        """With typical days: the plan re-evaluated over every period of the year (objective,
        status, targets, gap to the aggregated objective, the days chosen with their weights)."""
        return (self.extra.get("time") or {}).get("full_year")

    # --- serialisation --------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "computeplan_result": 1,
            "instance": self.instance,
            "status": self.status.value,
            "method": self.method,
            "objective": {"name": self.objective_name, "value": self.objective_value,
                          "bound": self.bound, "gap": self.gap},
            "solve_seconds": self.solve_seconds,
            "indicators": self.indicators,
            "targets": self.target_list,
            "sites": self.site_records,
            "pools": self.pool_records,
            "assignments": self.assignment_records,
            "diagnosis": self.diagnosis,
        }
        if self.notes:
            out["notes"] = self.notes
        out.update(self.extra)
        return _clean(out)  # type: ignore[no-any-return]

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Result:
        known = {"computeplan_result", "instance", "status", "method", "objective", "solve_seconds",
                 "indicators", "targets", "sites", "pools", "assignments", "diagnosis", "notes"}
        obj = d.get("objective") or {}
        return cls(
            instance=d.get("instance", ""), status=Status(d["status"]), method=d.get("method", ""),
            objective_name=obj.get("name", ""), objective_value=obj.get("value"), bound=obj.get("bound"),
            gap=obj.get("gap"), solve_seconds=float(d.get("solve_seconds", 0.0)),
            indicators=dict(d.get("indicators") or {}), target_list=list(d.get("targets") or []),
            site_records=list(d.get("sites") or []), pool_records=list(d.get("pools") or []),
            assignment_records=list(d.get("assignments") or []), diagnosis=d.get("diagnosis"),
            notes=list(d.get("notes") or []), extra={k: v for k, v in d.items() if k not in known},
        )

    @classmethod
    def read(cls, path: str | Path, *, full_year: bool = True) -> Result:
        """A written result: ``result.json`` (or the folder holding it) with its per-period
        tables, and with typical days (unless ``full_year`` is False) the year's plan in
        ``full-year/`` (``full_year_plan``)."""
        p = Path(path)
        if p.is_dir():
            p = p / "result.json"
        res = cls.from_dict(json.loads(p.read_text(encoding="utf-8")))
        res._read_tables(p.parent)
        year = p.parent / FULL_YEAR
        if full_year and (year / "result.json").is_file():
            d, problems = read_result_folder(year, f"{year}/")
            if problems or d is None:
                from computeplan.errors import UsageError

                raise UsageError("\n".join(problems))
            res.full_year_plan = cls.from_dict(d)
            res.full_year_plan._read_tables(year)
        return res

    def _read_tables(self, folder: Path) -> None:
        for name in PERIOD_TABLES:
            for kind in ("parquet", "csv"):
                f = folder / f"{name}.{kind}"
                if f.is_file() and name not in self.tables:
                    import pandas as pd

                    self.tables[name] = pd.read_parquet(f) if kind == "parquet" else pd.read_csv(f)

    def write(self, out_dir: str | Path, tables: Iterable[str] = ("csv",)) -> list[Path]:
        """Replace ``result.json`` and its tables (``csv``, ``parquet``) in ``out_dir`` as one set
        (:func:`computeplan.io.write.write_set`), with the year's plan in ``full-year/`` when
        there is one."""
        kinds = tuple(tables)
        files = self._files(kinds)
        if self.full_year_plan is not None:
            files[FULL_YEAR] = folder_writer(self.full_year_plan._files(kinds, plan_tables=True))
        return write_set(out_dir, RESULT, files)

    def _files(self, tables: tuple[str, ...], plan_tables: bool = False) -> dict[str, Writer]:
        """The set's files; with ``plan_tables`` (and a table kind), the plan per period as
        the tables ``dispatch`` and ``servers_on`` instead of columns in result.json."""
        tabled = {"sites": (self.site_records, None), "pools": (self.pool_records, None),
                  "assignments": (self.assignment_records, ASSIGNMENT_COLUMNS),
                  "targets": (self.target_list, TARGET_COLUMNS)}
        files = {f"{name}.{kind}": record_table(records, kind, columns)
                 for kind in tables for name, (records, columns) in tabled.items()}
        files.update(table_files(self.tables, tables))  # the per-period tables of a time instance
        d = self.to_dict()
        tm = d.get("time")
        if plan_tables and tables and isinstance(tm, dict):
            import pandas as pd

            frames = {name: pd.DataFrame(tm.pop(name), columns=list(cols))
                      for name, cols in PLAN_TABLES.items() if isinstance(tm.get(name), dict)}
            files.update(table_files(frames, tables))
        files["result.json"] = write_text(json.dumps(d, indent=2, allow_nan=False) + "\n")
        return files


def plan_records(
    d: ModelData, fig: Figures, cap_shadow: np.ndarray | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Site, pool and assignment records of a plan."""
    S = d.n_sites
    installed = d.pool_servers.copy()
    np.add.at(installed, d.build.m_pool, fig.m)  # built servers count as installed
    site_servers = np.bincount(d.pool_site, weights=installed, minlength=S)
    site_busy = np.bincount(d.pool_site, weights=fig.busy, minlength=S)
    site_beyond = np.bincount(d.pool_site, weights=fig.beyond_need, minlength=S)
    site_beyond_kwh = np.bincount(d.pool_site, weights=fig.beyond_need_kwh, minlength=S)
    sites = []
    for j, sid in enumerate(d.site_ids):
        it = float(fig.it[j])
        sites.append({
            "id": sid, "tier": d.site_tier[j], "zone": d.site_zone[j],
            "it_kw": it, "overhead_kw": float(fig.overhead[j]), "facility_kw": float(fig.facility[j]),
            "pue": float(fig.facility[j] / it) if it > 0 else None,
            "active_halls": int(round(fig.z[j])), "halls": int(d.site_halls[j]),
            "it_capacity_kw": float(d.site_cap[j]),
            "utilisation": float(site_busy[j] / site_servers[j]) if site_servers[j] > 0 else None,
            "energy_kwh": float(fig.energy[j]), "cost": float(fig.cost[j]), "carbon_t": float(fig.carbon_t[j]),
            "servers_beyond_need": float(site_beyond[j]), "beyond_need_energy_kwh": float(site_beyond_kwh[j]),
            "capacity_shadow_price": None if cap_shadow is None or not np.isfinite(cap_shadow[j])
            else float(cap_shadow[j]) + 0.0,
        })
    pools = []
    for p in range(d.n_pools):
        if fig.n[p] <= 0 and fig.busy[p] <= 0:
            continue
        pools.append({
            "site": d.site_ids[d.pool_site[p]], "hardware": d.hardware_ids[d.pool_hw[p]],
            "busy_servers": float(fig.busy[p]), "servers_on": float(fig.n[p]),
            "installed": float(d.pool_servers[p]), "servers_beyond_need": float(fig.beyond_need[p]),
        })
    nz = np.flatnonzero(fig.x > 0)
    assignments = [
        {"workload": d.workload_ids[d.cand_wl[c]], "site": d.site_ids[d.pool_site[d.cand_pool[c]]],
         "hardware": d.hardware_ids[d.pool_hw[d.cand_pool[c]]], "share": float(fig.x[c]),
         "tflops": float(fig.x[c] * d.wl_demand[d.cand_wl[c]])}
        for c in nz
    ]
    return sites, pools, assignments


def build_record(d: ModelData, fig: Figures, hall_price: np.ndarray | None,
                 server_price: np.ndarray | None) -> dict[str, Any]:
    """``result.json``'s ``build`` block: what to build and its annual capital cost, with the
    shadow price of each build limit (objective change per one more buildable hall or
    server; None without duals). ``halls``, ``servers`` and ``sites_opened`` add up to
    ``capex_per_year``; a site counts as opened when its fixed ``site_capex`` is paid or
    it had no hall before."""
    b = d.build
    halls = [{"site": d.site_ids[j], "new_halls": int(fig.g[k]), "capex_per_year": float(b.g_capex[k] * fig.g[k]),
              "shadow_price": None if hall_price is None else float(hall_price[k]) + 0.0}
             for k, j in enumerate(b.g_site.tolist())]
    servers = [{"site": d.site_ids[d.pool_site[p]], "hardware": d.hardware_ids[d.pool_hw[p]],
                "new_servers": float(fig.m[k]), "capex_per_year": float(b.m_capex[k] * fig.m[k]),
                "shadow_price": None if server_price is None else float(server_price[k]) + 0.0}
               for k, p in enumerate(b.m_pool.tolist())]
    site_capex = np.zeros(d.n_sites)
    site_capex[b.o_site] = b.o_capex * fig.o
    opened = np.zeros(d.n_sites, dtype=bool)
    opened[b.o_site[fig.o > 0.5]] = True
    opened[b.g_site[(fig.g > 0) & (d.site_halls[b.g_site] == 0)]] = True
    cand_site = d.pool_site[d.cand_pool]
    sites_opened = [{"site": d.site_ids[j], "capex_per_year": float(site_capex[j]),
                     "workloads": sorted({d.workload_ids[i] for i in d.cand_wl[(cand_site == j) & (fig.x > 0)]})}
                    for j in np.flatnonzero(opened).tolist()]
    return {"capex_per_year": float(b.g_capex @ fig.g + b.m_capex @ fig.m + b.o_capex @ fig.o),
            "embodied_carbon_t": float(b.m_embodied @ fig.m) / 1000.0,
            "halls": halls, "servers": servers, "sites_opened": sites_opened}


def result_from_plan(
    d: ModelData, fig: Figures, *, status: Status, method: str, bound: float | None, seconds: float,
    target_shadow: dict[str, float] | None, cap_shadow: np.ndarray | None,
    flexibility: dict[str, Any] | None = None,
) -> Result:
    sites, pools, assignments = plan_records(d, fig, cap_shadow)
    tables: dict[str, pd.DataFrame] = {}
    extra: dict[str, Any] = {}
    if d.timed:
        for rec, peak in zip(sites, site_peaks(d, fig), strict=True):
            rec.update(peak)
        tables = {"periods": period_table(d, fig), "served": served_table(d, fig)}
        extra["time"] = time_section(d, fig, flexibility)
    obj = fig.objective_value
    gap = None
    if bound is not None:
        gap = max(0.0, (obj - bound)) / max(abs(obj), 1e-10)
        if gap < 1e-9:
            gap = 0.0
    return Result(
        instance=d.name, status=status, method=method, objective_name=OBJECTIVE_NAMES[d.objective],
        objective_value=obj, bound=bound, gap=gap, solve_seconds=seconds, indicators=dict(fig.indicators),
        target_list=target_records(d, fig, target_shadow), site_records=sites, pool_records=pools,
        assignment_records=assignments, extra=extra, tables=tables,
    )
