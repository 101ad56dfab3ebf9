"""Reading a written result back: ``result.json`` with the plan per period it keeps in tables.

A time result carries its plan per period (``time.dispatch``, ``time.servers_on``) as
columns inside ``result.json``. The year's plan of a typical-days result (the
``full-year/`` folder beside the main ``result.json``, 8,760 periods of it for an hourly
year) keeps them instead as tables, ``dispatch`` and ``servers_on`` (Parquet or CSV, as
``--tables`` asked; inline, as for any time result, with ``--tables none``).
:func:`read_result_folder` puts them back in place, so a reader (``verify``,
``Result.read``) sees one dict of the usual shape.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

#: The plan per period: its tables' columns, and the kind of each (``int``, ``float``, ``str``).
PLAN_TABLES: dict[str, dict[str, str]] = {
    "dispatch": {"period": "int", "workload": "str", "site": "str", "hardware": "str", "share": "float"},
    "servers_on": {"period": "int", "site": "str", "hardware": "str", "servers": "float"},
}
#: A time result's per-period tables: the columns ``verify`` reads (``num``: a number, empty for none).
PERIOD_COLUMNS: dict[str, dict[str, str]] = {
    "periods": {"period": "int", "datetime": "str?", "site": "str", "it_kw": "num", "facility_kw": "num", "pue": "num",
                "price_per_kwh": "num", "carbon_kg_per_kwh": "num", "temperature_c": "num"},
    "served": {"period": "int", "class": "str", "served_tflops": "num", "demand_tflops": "num"},
}


def _present(kinds: dict[str, str], names: list[str]) -> dict[str, str] | None:
    """The columns to read of a table whose header is ``names`` (a kind ending in ``?``: the
    column is optional), or None when a required one is missing."""
    if any(c not in names for c, k in kinds.items() if not k.endswith("?")):
        return None
    return {c: k.rstrip("?") for c, k in kinds.items() if c in names}


def _cell(text: str, kind: str) -> Any:
    if kind == "str":
        return text
    if kind == "int":
        return int(text)
    if kind == "num":
        return float(text) if text else None
    val = float(text)
    if not math.isfinite(val):
        raise ValueError(text)
    return val


def _read_csv(path: Path, kinds: dict[str, str], where: str, problems: list[str]) -> dict[str, list[Any]] | None:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        head = next(rows, [])
        read = _present(kinds, head)
        if read is None:
            problems.append(f"{where}: expected the columns {_required(kinds)}, found {head}")
            return None
        at = {c: head.index(c) for c in read}
        out: dict[str, list[Any]] = {c: [] for c in read}
        for r, row in enumerate(rows, start=2):
            for c, kind in read.items():
                text = row[at[c]] if at[c] < len(row) else ""
                try:
                    out[c].append(_cell(text, kind))
                except ValueError:
                    problems.append(f"{where}: line {r}: {c}: expected a {'whole number' if kind == 'int' else 'finite number'}, "
                                    f"found {text!r}")
                    return None
    return out


def _read_parquet(path: Path, kinds: dict[str, str], where: str, problems: list[str]) -> dict[str, list[Any]] | None:
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    read = _present(kinds, table.column_names)
    if read is None:
        problems.append(f"{where}: expected the columns {_required(kinds)}, found {table.column_names}")
        return None
    return {c: table.column(c).to_pylist() for c in read}


def _required(kinds: dict[str, str]) -> str:
    return ", ".join(c for c, k in kinds.items() if not k.endswith("?"))


def _read_tables(folder: Path, tables: dict[str, dict[str, str]], skip: Any, problems: list[str],
                 prefix: str) -> dict[str, dict[str, list[Any]]]:
    """``{file name: columns}`` of the tables in ``folder`` (Parquet first, then CSV), but
    those ``skip(name)`` holds; one that cannot be read is a problem naming its file."""
    out: dict[str, dict[str, list[Any]]] = {}
    for name, kinds in tables.items():
        if skip(name):
            continue
        for kind, reader in (("parquet", _read_parquet), ("csv", _read_csv)):
            path = folder / f"{name}.{kind}"
            if not path.is_file():
                continue
            where = f"{prefix}{path.name}"
            try:
                cols = reader(path, kinds, where, problems)
            except (OSError, ValueError, UnicodeDecodeError) as e:  # pyarrow's errors derive from these
                problems.append(f"{where}: not a readable table: {e}")
                cols = None
            if cols is not None:
                out[path.name] = cols
            break
    return out


def read_plan_tables(folder: Path, d: dict[str, Any], problems: list[str], prefix: str = "") -> None:
    """Put the plan per period that ``folder`` keeps in tables into ``d["time"]`` (where
    ``result.json`` does not hold it inline); Parquet first, then CSV. A table that cannot
    be read is a problem naming its file (``prefix`` + name)."""
    tm = d.get("time")
    if not isinstance(tm, dict):
        return
    found = _read_tables(folder, PLAN_TABLES, lambda name: isinstance(tm.get(name), dict), problems, prefix)
    tm.update({file.split(".")[0]: cols for file, cols in found.items()})


def read_period_tables(folder: Path, problems: list[str], prefix: str = "") -> dict[str, dict[str, list[Any]]]:
    """The per-period tables ``periods`` and ``served`` in ``folder``, keyed by file name
    (``periods.parquet``), as columns; ``{}`` when neither is there."""
    return _read_tables(folder, PERIOD_COLUMNS, lambda name: False, problems, prefix)


def read_result_folder(folder: Path, prefix: str = "") -> tuple[dict[str, Any] | None, list[str]]:
    """``folder``'s ``result.json`` as a dict with its plan tables in place, and the
    problems met reading them (each naming its file, ``prefix`` + name)."""
    path = folder / "result.json"
    problems: list[str] = []
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return None, [f"{prefix}result.json: not a readable computeplan result: {e}"]
    if not isinstance(d, dict):
        return None, [f"{prefix}result.json: expected a JSON object, found {type(d).__name__}"]
    read_plan_tables(folder, d, problems, prefix)
    return d, problems
