"""Reading an instance: files, tables, the catalogue, and every cross-field check.

All problems are collected and raised once as an :class:`InstanceError`, each prefixed
with the file and the path of the field, in the shape ``file: path: what was expected,
got what was found``.
"""

from __future__ import annotations

import difflib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import BaseModel, ValidationError

from computeplan.errors import InstanceError
from computeplan.io import catalogue
from computeplan.io.schema import (
    TIERS,
    FacilityModel,
    HardwareModel,
    Instance,
    Site,
    Targets,
    Workload,
    Zone,
)

_LIST_FIELDS = {"workloads": ("hardware", "tiers", "sites"), "sites": ()}
_BOOL_FIELDS = {"can_idle", "divisible", "must_serve"}

# Every key the format knows, for "did you mean" hints on unknown keys.
_KNOWN_KEYS: set[str] = set()
for _m in (Instance, Site, Workload, Targets, HardwareModel, FacilityModel, Zone):
    _KNOWN_KEYS.update(f.alias or n for n, f in _m.model_fields.items())


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
           "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def _fmt_loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def pydantic_problems(
    err: ValidationError, where: str, prefix: tuple[int | str, ...] = (), rows: Mapping[str, str] | None = None
) -> list[str]:
    """Turn a pydantic error into our message shape: ``file: path: message, got value``."""
    out = []
    for e in err.errors():
        loc = tuple(prefix) + tuple(e["loc"])
        # Drop pydantic's union/tag segments such as 'function-after[...]' or 'tuple[...]'.
        loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p and p.endswith("]")))
        path = _fmt_loc(loc)
        if rows and loc and isinstance(loc[0], str) and loc[0] in rows and len(loc) > 1:
            idx = loc[1]
            if isinstance(idx, int):
                path += f" ({rows[loc[0]]} line {idx + 2})"
        typ = e["type"]
        if typ == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            hint = difflib.get_close_matches(key, sorted(_KNOWN_KEYS), n=1)
            msg = "unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        elif typ == "missing":
            msg = "required field is missing"
        elif typ in _BOUNDS:
            op, key = _BOUNDS[typ]
            msg = f"must be {op} {e.get('ctx', {}).get(key)}, got {e.get('input')!r}"
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            msg = msg[0].lower() + msg[1:] if msg else msg
            if typ not in ("value_error", "assertion_error"):
                msg += f", got {e.get('input')!r}"
        out.append(f"{where}: {path}: {msg}")
    return out


def _read_mapping(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        raise InstanceError([f"{path}: {what} file not found"])
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise InstanceError([f"{path}: line {e.lineno} column {e.colno}: not valid JSON: {e.msg}"]) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        raise InstanceError([f"{path}: {at}not valid YAML: {getattr(e, 'problem', e)}"]) from None
    if not isinstance(data, dict):
        raise InstanceError([f"{path}: (top level): expected a mapping of fields, got {type(data).__name__}"])
    return data


def _cell(value: Any) -> Any:
    """A table cell: missing/empty cells become None (the default applies)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and value.strip() == "":
        return None
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


def _read_table(spec: Any, base: Path, section: str, problems: list[str], where: str) -> list[dict[str, Any]] | None:
    """Read ``{csv: file}`` / ``{parquet: file}`` into records in the instance's shape."""
    import pandas as pd

    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("csv", "parquet"):
        problems.append(f"{where}: {section}: expected a list or {{csv: FILE}} / {{parquet: FILE}}, got {spec!r}")
        return None
    kind, rel = next(iter(spec.items()))
    path = (base / str(rel)).resolve()
    if not path.is_file():
        problems.append(f"{where}: {section}.{kind}: table file not found: {path}")
        return None
    try:
        if kind == "csv":
            df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        else:
            df = pd.read_parquet(path)
    except Exception as e:
        problems.append(f"{path}: could not read the {kind.upper()} table: {e}")
        return None
    records: list[dict[str, Any]] = []
    list_fields = _LIST_FIELDS.get(section, ())
    cols = list(df.columns)
    values = df.to_numpy(dtype=object)
    for row in values:
        rec: dict[str, Any] = {}
        servers: dict[str, Any] = {}
        for col, raw in zip(cols, row, strict=True):
            v = _cell(raw)
            if v is None:
                continue
            col = str(col).strip()
            if section == "sites" and col.startswith("servers."):
                servers[col[len("servers.") :]] = v
            elif col in list_fields and isinstance(v, str):
                rec[col] = [s.strip() for s in v.split(";") if s.strip()]
            elif col in _BOOL_FIELDS and isinstance(v, str):
                low = v.strip().lower()
                rec[col] = True if low in ("true", "1", "yes") else False if low in ("false", "0", "no") else v
            else:
                rec[col] = v
        if section == "sites":
            rec["servers"] = {k: v for k, v in servers.items() if v not in (0, "0")}
        records.append(rec)
    return records


def _load_catalogue(paths: list[Path], problems: list[str]) -> tuple[dict[str, HardwareModel], dict[str, FacilityModel]]:
    hardware: dict[str, HardwareModel] = {}
    facilities: dict[str, FacilityModel] = {}
    for path in paths:
        try:
            data = _read_mapping(path, "catalogue")
        except InstanceError as e:
            problems.extend(e.problems)
            continue
        for key in data:
            if key not in ("computeplan_catalogue", "hardware", "facilities"):
                problems.append(f"{path}: {key}: unknown key (a catalogue has hardware and facilities)")
        sections: tuple[tuple[str, type[BaseModel], dict[str, Any]], ...] = (
            ("hardware", HardwareModel, hardware), ("facilities", FacilityModel, facilities))
        for section, model, into in sections:
            entries = data.get(section) or {}
            if not isinstance(entries, dict):
                problems.append(f"{path}: {section}: expected a mapping of names, got {type(entries).__name__}")
                continue
            for name, spec in entries.items():
                try:
                    into[str(name)] = model.model_validate(spec)
                except ValidationError as e:
                    problems.extend(pydantic_problems(e, str(path), (section, str(name))))
    return hardware, facilities


def load_instance(source: str | Path | Mapping[str, Any], *, base_dir: Path | None = None) -> Instance:
    """Read, validate and cross-check an instance.

    Parameters
    ----------
    source
        A path to a YAML or JSON instance file, or the instance as a mapping.
    base_dir
        Where relative ``include`` and table paths are resolved when ``source`` is a
        mapping (default: the current directory).

    Raises
    ------
    InstanceError
        With every problem found, each naming the file and the field.
    """
    if isinstance(source, Mapping):
        raw = dict(source)
        where = f"<{raw.get('name', 'instance')}>"
        base = Path(base_dir) if base_dir else Path.cwd()
    else:
        path = Path(source)
        raw = _read_mapping(path, "instance")
        where = str(path)
        base = path.resolve().parent
    problems: list[str] = []
    rows: dict[str, str] = {}
    for section in ("sites", "workloads"):
        spec = raw.get(section)
        if isinstance(spec, dict):
            recs = _read_table(spec, base, section, problems, where)
            raw[section] = recs if recs is not None else []
            if recs is not None:
                rows[section] = str(next(iter(spec.values())))
    include_paths = []
    inc = raw.get("include") or []
    if isinstance(inc, list):
        for i, rel in enumerate(inc):
            p = (base / str(rel)).resolve()
            if not p.is_file():
                problems.append(f"{where}: include[{i}]: catalogue file not found: {p}")
            else:
                include_paths.append(p)
    cat_hw, cat_fac = _load_catalogue(catalogue.catalogue_files() + include_paths, problems)
    try:
        inst = Instance.model_validate(raw)
    except ValidationError as e:
        problems.extend(pydantic_problems(e, where, rows=rows))
        raise InstanceError(problems) from None
    inst = inst.model_copy(
        update={"hardware": {**cat_hw, **inst.hardware}, "facilities": {**cat_fac, **inst.facilities}}
    )
    problems.extend(cross_check(inst, where))
    if problems:
        raise InstanceError(problems)
    inst._source = where
    return inst


def _dupes(ids: list[str]) -> dict[str, list[int]]:
    seen: dict[str, list[int]] = {}
    for i, x in enumerate(ids):
        seen.setdefault(x, []).append(i)
    return {k: v for k, v in seen.items() if len(v) > 1}


def _unknown(name: str, known: Mapping[str, Any] | set[str], what: str) -> str:
    hint = difflib.get_close_matches(name, sorted(known), n=1)
    return f"unknown {what} {name!r}" + (f" (did you mean {hint[0]!r}?)" if hint else "")


def cross_check(inst: Instance, where: str) -> list[str]:
    """Rules that span records: names, latency coverage, candidates. Returns the problems."""
    from computeplan.io.reach import candidate_report, latency_matrix

    problems: list[str] = []
    p = problems.append
    for section, ids in (("sites", [s.id for s in inst.sites]), ("workloads", [w.id for w in inst.workloads])):
        for name, idx in _dupes(ids).items():
            p(f"{where}: {section}[{idx[1]}].id: duplicate id {name!r} (also at {section}[{idx[0]}])")
    site_ids = {s.id for s in inst.sites}
    for i, s in enumerate(inst.sites):
        if s.facility not in inst.facilities:
            p(f"{where}: sites[{i}].facility: {_unknown(s.facility, inst.facilities, 'facility model')}")
        if s.zone not in inst.zones:
            p(f"{where}: sites[{i}].zone: {_unknown(s.zone, inst.zones, 'zone')}")
        for h in s.servers:
            if h not in inst.hardware:
                p(f"{where}: sites[{i}].servers.{h}: {_unknown(h, inst.hardware, 'hardware model')}")
    for i, w in enumerate(inst.workloads):
        if w.origin not in inst.zones:
            p(f"{where}: workloads[{i}].origin: {_unknown(w.origin, inst.zones, 'zone')}")
        for k, h in enumerate(w.hardware):
            if h not in inst.hardware:
                p(f"{where}: workloads[{i}].hardware[{k}]: {_unknown(h, inst.hardware, 'hardware model')}")
        if w.must_serve and all(h in inst.hardware for h in w.hardware) and not any(
            w.precision in inst.hardware[h].perf_tflops for h in w.hardware
        ):
            p(
                f"{where}: workloads[{i}].precision: none of the workload's hardware "
                f"({', '.join(w.hardware)}) supports {w.precision!r}; it must be served"
            )
        for k, sid in enumerate(w.sites or []):
            if sid not in site_ids:
                p(f"{where}: workloads[{i}].sites[{k}]: {_unknown(sid, site_ids, 'site')}")
    for k, (a, b, _ms) in enumerate(inst.latency_ms):
        for pos, z in ((0, a), (1, b)):
            if z not in inst.zones:
                p(f"{where}: latency_ms[{k}][{pos}]: {_unknown(z, inst.zones, 'zone')}")
    for name, val in inst.targets.given().items():
        if not isinstance(val, dict):
            continue
        for key in val:  # a keyed target (per tier or site)
            if key not in TIERS and key not in site_ids:
                p(f"{where}: targets.{name}.{key}: expected a tier name ({', '.join(TIERS)}) or a site id, "
                  f"got {key!r}")
    if problems:
        return problems
    # Latency coverage and candidates need the names above to be sound.
    lat, zone_index = latency_matrix(inst)
    site_zone = np.array([zone_index[s.zone] for s in inst.sites])
    missing_by_origin: dict[str, list[str]] = {}
    for i, w in enumerate(inst.workloads):
        if w.max_latency_ms is None:
            continue
        if w.origin not in missing_by_origin:
            row = lat[zone_index[w.origin], site_zone]
            missing_by_origin[w.origin] = sorted({inst.sites[j].zone for j in np.flatnonzero(np.isnan(row))})
        missing = missing_by_origin[w.origin]
        if missing:
            p(
                f"{where}: workloads[{i}].max_latency_ms: latency from zone {w.origin!r} to "
                f"{', '.join(repr(z) for z in missing)} is unknown: give coordinates for both zones "
                "or a latency_ms pair"
            )
    if problems:
        return problems
    for i, reason in candidate_report(inst, lat, zone_index):
        p(f"{where}: workloads[{i}]: {reason}")
    return problems
