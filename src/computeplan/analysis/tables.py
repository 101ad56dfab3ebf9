"""Solves as table rows, and tables as files: the shape every analysis table shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from computeplan.analysis.parallel import PointOutcome
from computeplan.io.schema import Instance
from computeplan.model.indicators import OBJECTIVE_NAMES
from computeplan.plan.result import Result

BASE_LABEL = "(none)"


def diagnosis_text(diag: Mapping[str, Any] | None) -> str | None:
    """The diagnosis of an infeasible point on one line: what must move, and by how much."""
    if not diag:
        return None
    moves = [m.get("message", "") for m in diag.get("moves", [])]
    return "; ".join(moves) if moves else str(diag.get("summary", ""))


def binding_targets(res: Result) -> list[str]:
    """Targets whose shadow price is not zero (their rows bind)."""
    obj = abs(res.objective_value or 0.0)
    out = []
    for t in res.target_list:
        spv, T = t.get("shadow_price"), t.get("target")
        if spv is None or T is None:
            continue
        if abs(spv) * max(abs(T), 1e-12) > 1e-7 * max(obj, 1.0):
            out.append(str(t["name"]))
    return out


def result_row(res: Result) -> dict[str, Any]:
    """A solve as a flat record: status, objective, every indicator (result.json names),
    total active halls, each target's shadow price, the binding targets, the diagnosis."""
    row: dict[str, Any] = {"status": res.status.value, "objective": res.objective_value,
                           "bound": res.bound, "gap": res.gap}
    row.update(res.indicators)
    if res.site_records:
        row["active_halls"] = float(sum(s.get("active_halls") or 0 for s in res.site_records))
    for t in res.target_list:
        row[f"shadow_price.{t['name']}"] = t.get("shadow_price")
    row["binding"] = ";".join(binding_targets(res)) if res.status.has_plan else None
    row["diagnosis"] = diagnosis_text(res.diagnosis)
    return row


def _frame(rows: list[dict[str, Any]], lead: list[str]) -> pd.DataFrame:
    """Rows to a table with a stable column order: ``lead``, status and objective, the
    indicators in the order they first appear, shadow prices, then text columns."""
    cols: list[str] = list(lead)
    for r in rows:
        for k in r:
            if k not in cols:
                cols.append(k)
    tail: list[str] = [c for c in ("binding", "diagnosis", "error") if c in cols]
    sp_cols = [c for c in cols if c.startswith("shadow_price.")]
    cols = [c for c in cols if c not in tail and c not in sp_cols] + sp_cols + tail
    df = pd.DataFrame.from_records(rows, columns=cols)
    for c in ("binding", "diagnosis", "error"):
        if c in df:
            df[c] = df[c].astype(object).where(df[c].notna(), None)
    return df


def _row_or_error(lead: Mapping[str, Any], o: PointOutcome) -> dict[str, Any]:
    if o.ok:
        return {**lead, **o.value}
    return {**lead, "status": "error", "objective": None, "error": f"failed twice: {o.error}"}


def objective_name(inst: Instance, objective: str | None) -> str:
    return OBJECTIVE_NAMES[objective or inst.objective]


def write_table(df: pd.DataFrame, out_dir: str | Path, name: str, kinds: Sequence[str] = ("csv",)) -> list[Path]:
    """Replace ``out_dir/name.csv`` (and/or ``.parquet``) as one set (:mod:`computeplan.io.write`)."""
    from computeplan.io.write import FILE_SETS, table_files, write_set

    return write_set(out_dir, next(s for s in FILE_SETS if s.name == name), table_files({name: df}, kinds))


def _indicator_keys(row: Mapping[str, Any]) -> list[str]:
    skip = {"status", "objective", "bound", "gap", "binding", "diagnosis", "active_halls"}
    return [k for k in row if k not in skip and not k.startswith("shadow_price.")]
