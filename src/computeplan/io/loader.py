"""Reading an instance: files, tables, the catalogue, and every cross-field check.

All problems are collected and raised once as an :class:`InstanceError`, each prefixed
with the file and the path of the field, in the shape ``file: path: what was expected,
got what was found``.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from computeplan.errors import InstanceError
from computeplan.io import catalogue
from computeplan.io.documents import (
    EXCERPT_CHARS,
    Ids,
    _fmt_loc,
    clip,
    excerpt,
    read_mapping,
    show_name,
    show_path,
)
from computeplan.io.periods import read_periods, time_problems
from computeplan.io.schema import (
    NAME_PATTERN,
    TIERS,
    Build,
    Cooling,
    FacilityModel,
    HardwareModel,
    Instance,
    SeriesNames,
    Site,
    Targets,
    Time,
    Workload,
    Zone,
)

_LIST_FIELDS = {"workloads": ("hardware", "tiers", "sites"), "sites": ()}
_BOOL_FIELDS = {"can_idle", "divisible", "must_serve"}

# Every key the format knows, for "did you mean" hints on unknown keys.
_KNOWN_KEYS: set[str] = set()
for _m in (Instance, Site, Build, Workload, Targets, HardwareModel, FacilityModel, Zone, Time, SeriesNames, Cooling):
    _KNOWN_KEYS.update(f.alias or n for n, f in _m.model_fields.items())


_BOUNDS = {"greater_than_equal": (">=", "ge"), "greater_than": (">", "gt"),
           "less_than_equal": ("<=", "le"), "less_than": ("<", "lt")}


def record(section: str, i: int, rid: str) -> str:
    """``sites[3] ('lg-hs-1')``: a record by index and id."""
    return f"{section}[{i}] ({excerpt(rid)})"


def record_ids(raw: Mapping[str, Any]) -> dict[str, list[object]]:
    """The ids of the raw ``sites`` and ``workloads`` records (None where missing)."""
    out: dict[str, list[object]] = {}
    for section in ("sites", "workloads"):
        recs = raw.get(section)
        if isinstance(recs, list):
            out[section] = [r.get("id") if isinstance(r, dict) else None for r in recs]
    return out


def pydantic_problems(
    err: ValidationError, where: str, prefix: tuple[int | str, ...] = (), rows: Mapping[str, str] | None = None,
    ids: Ids | None = None,
) -> list[str]:
    """Turn a pydantic error into our message shape: ``file: path: message, got value``."""
    out = []
    for e in err.errors():
        loc = tuple(prefix) + tuple(e["loc"])
        # Drop pydantic's union/tag segments such as 'function-after[...]' or 'tuple[...]'.
        loc = tuple(p for p in loc if not (isinstance(p, str) and "[" in p and p.endswith("]")))
        path = _fmt_loc(loc, ids)
        if rows and loc and isinstance(loc[0], str) and loc[0] in rows and len(loc) > 1:
            idx = loc[1]
            if isinstance(idx, int):
                path += f" ({rows[loc[0]]} line {idx + 2})"
        typ = e["type"]
        got = excerpt(e.get("input"))
        if typ == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            hint = difflib.get_close_matches(key[:EXCERPT_CHARS], sorted(_KNOWN_KEYS), n=1)
            msg = "unknown key" + (f" (did you mean {hint[0]!r}?)" if hint else "")
        elif typ == "missing":
            msg = "required field is missing"
        elif typ in _BOUNDS:
            op, key = _BOUNDS[typ]
            msg = f"must be {op} {e.get('ctx', {}).get(key):g}, got {got}"
        elif typ == "string_pattern_mismatch" and e.get("ctx", {}).get("pattern") == NAME_PATTERN:
            msg = f"must be printable text with no control characters, not empty or blank, got {got}"
        else:
            msg = e["msg"]
            if msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            msg = msg[0].lower() + msg[1:] if msg else msg
            if typ not in ("value_error", "assertion_error"):
                msg += f", got {got}"
        out.append(f"{where}: {path}: {msg}")
    return out


class _NotScalar(Exception):
    pass


def _cell(value: Any, list_ok: bool) -> Any:
    """A table cell: missing/empty cells become None (the default applies). A list cell
    (Parquet list column) is accepted for list fields only."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, str) and value.strip() == "":
        return None
    if isinstance(value, np.ndarray | list | tuple):
        if not list_ok:
            raise _NotScalar
        return [_cell(v, False) for v in value]
    if isinstance(value, dict | set):
        raise _NotScalar
    if isinstance(value, np.generic):
        return value.item()
    return value


def _resolve(base: Path, rel: Any) -> Path | str:
    """``base / rel`` resolved, or why it cannot be (a symlink loop, a NUL byte ...)."""
    try:
        path = (base / str(rel)).resolve()
        return path if path.is_file() else f"file not found: {show_path(path)}"
    except (OSError, RuntimeError, ValueError) as e:
        return f"file {excerpt(str(rel))} cannot be opened: {clip(str(e))}"


def _read_columns(kind: str, path: Path) -> tuple[list[str], list[list[Any]], list[str]]:
    """The column names, the columns as Python values, and the kind of each column:
    ``float``, ``str``, ``plain`` (integers, booleans: no cell of them is empty) or ``any``.

    Parquet is read with pyarrow directly (no pandas: its import alone costs more than
    reading a 20,000-row table), each column converted to Python values in one call; an
    index that pandas stored beside the data is not a column."""
    if kind == "csv":
        import pandas as pd

        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        return ([str(c) for c in df.columns], [df.iloc[:, i].tolist() for i in range(df.shape[1])],
                ["str"] * df.shape[1])
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pq.ParquetFile(path).read()
    meta = table.schema.pandas_metadata or {}
    index = {c for c in meta.get("index_columns", ()) if isinstance(c, str)}
    names: list[str] = []
    columns: list[list[Any]] = []
    kinds: list[str] = []
    for name, col in zip(table.column_names, table.columns, strict=True):
        if name in index:
            continue
        t = col.type
        names.append(str(name))
        columns.append(col.to_pylist())
        kinds.append("float" if pa.types.is_floating(t) else
                     "str" if pa.types.is_string(t) or pa.types.is_large_string(t) else
                     "plain" if pa.types.is_integer(t) or pa.types.is_boolean(t) else "any")
    return names, columns, kinds


def _clean_column(values: list[Any], kind: str, list_ok: bool) -> tuple[list[Any], list[int]]:
    """:func:`_cell` over a column, and the rows whose cell is not a single value."""
    if kind == "float":
        return [None if v != v else v for v in values], []  # NaN is the only value unequal to itself
    if kind == "str":
        return [v if v is not None and v.strip() else None for v in values], []
    if kind == "plain":
        return values, []
    out: list[Any] = []
    bad: list[int] = []
    for n, v in enumerate(values):
        try:
            out.append(_cell(v, list_ok))
        except _NotScalar:
            out.append(None)
            bad.append(n)
    return out, bad


def _read_table(spec: Any, base: Path, section: str, problems: list[str], where: str) -> list[dict[str, Any]] | None:
    """Read ``{csv: file}`` / ``{parquet: file}`` into records in the instance's shape."""
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("csv", "parquet"):
        problems.append(f"{where}: {section}: expected a list or {{csv: FILE}} / {{parquet: FILE}}, got {excerpt(spec)}")
        return None
    kind, rel = next(iter(spec.items()))
    path = _resolve(base, rel)
    if isinstance(path, str):
        problems.append(f"{where}: {section}.{kind}: table {path}")
        return None
    shown = show_path(path)
    try:
        names, raw_columns, kinds = _read_columns(kind, path)
    except Exception as e:
        problems.append(f"{shown}: could not read the {kind.upper()} table: {clip(str(e))}")
        return None
    list_fields = _LIST_FIELDS.get(section, ())
    cols = [c.strip() for c in names]
    columns: list[list[Any]] = []
    bad: list[tuple[int, int]] = []
    for k, (col, values, ck) in enumerate(zip(cols, raw_columns, kinds, strict=True)):
        cleaned, rows_bad = _clean_column(values, ck, col in list_fields)
        columns.append(cleaned)
        bad.extend((n, k) for n in rows_bad)
    for n, k in sorted(bad):
        problems.append(f"{where}: {section}[{n}].{show_name(cols[k])} ({shown} row {n + 1}): "
                        f"expected a single value, got {excerpt(raw_columns[k][n])}")
    # Where each column goes: 0 the record, 1 servers, 2 build.servers_max, 3 build,
    # 4 a list field given as text, 5 a yes/no field given as text.
    route: list[tuple[int, str]] = []
    for col in cols:
        if section == "sites" and col.startswith("servers."):
            route.append((1, col[len("servers.") :]))
        elif section == "sites" and col.startswith("build.servers_max."):
            route.append((2, col[len("build.servers_max.") :]))
        elif section == "sites" and col.startswith("build."):
            route.append((3, col[len("build.") :]))
        else:
            route.append((4 if col in list_fields else 5 if col in _BOOL_FIELDS else 0, col))
    records: list[dict[str, Any]] = []
    for row in zip(*columns, strict=True):
        rec: dict[str, Any] = {}
        servers: dict[str, Any] = {}
        build: dict[str, Any] = {}
        build_servers: dict[str, Any] = {}
        for (to, key), v in zip(route, row, strict=True):
            if v is None:
                continue
            if to == 0:
                rec[key] = v
            elif to == 1:
                servers[key] = v
            elif to == 2:
                build_servers[key] = v
            elif to == 3:
                build[key] = v
            elif to == 4 and isinstance(v, str):
                rec[key] = [s.strip() for s in v.split(";") if s.strip()]
            elif to == 5 and isinstance(v, str):
                low = v.strip().lower()
                rec[key] = True if low in ("true", "1", "yes") else False if low in ("false", "0", "no") else v
            else:
                rec[key] = v
        if section == "sites":
            rec["servers"] = {k: v for k, v in servers.items() if v not in (0, "0")}
            built = {k: v for k, v in build_servers.items() if v not in (0, "0")}
            if build or built:
                rec["build"] = {**build, **({"servers_max": built} if built else {})}
        records.append(rec)
    return records


def _load_catalogue(paths: list[Path], problems: list[str]) -> tuple[dict[str, HardwareModel], dict[str, FacilityModel]]:
    hardware: dict[str, HardwareModel] = {}
    facilities: dict[str, FacilityModel] = {}
    for path in paths:
        try:
            data = read_mapping(path, "catalogue")
        except InstanceError as e:
            problems.extend(e.problems)
            continue
        for key in data:
            if key not in ("computeplan_catalogue", "hardware", "facilities"):
                problems.append(f"{show_path(path)}: {show_name(str(key))}: unknown key "
                                "(a catalogue has hardware and facilities)")
        sections: tuple[tuple[str, type[BaseModel], dict[str, Any]], ...] = (
            ("hardware", HardwareModel, hardware), ("facilities", FacilityModel, facilities))
        for section, model, into in sections:
            entries = data.get(section) or {}
            if not isinstance(entries, dict):
                problems.append(f"{show_path(path)}: {section}: expected a mapping of names, got {type(entries).__name__}")
                continue
            for name, spec in entries.items():
                try:
                    into[str(name)] = model.model_validate(spec)
                except ValidationError as e:
                    problems.extend(pydantic_problems(e, show_path(path), (section, str(name))))
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
        name = raw.get("name", "instance")
        where = f"<{show_name(name) if isinstance(name, str) else 'instance'}>"
        base = Path(base_dir) if base_dir else Path.cwd()
    else:
        path = Path(source)
        raw = read_mapping(path, "instance")
        where = show_path(path)
        base = path.resolve().parent
    problems: list[str] = []
    rows: dict[str, str] = {}
    unread: list[str] = []  # sections whose table could not be read: said once already
    for section in ("sites", "workloads"):
        spec = raw.get(section)
        if spec is not None and not isinstance(spec, list):
            recs = _read_table(spec, base, section, problems, where)
            raw[section] = recs if recs is not None else []
            if recs is not None:
                rows[section] = show_path(str(next(iter(spec.values()))))
            else:
                unread.append(f"{where}: {section}: ")
    tb = raw.get("time")
    if isinstance(tb, dict) and "periods" in tb:
        cols = read_periods(tb["periods"], base, problems, where)
        if cols is not None:
            raw["time"] = {**tb, "periods": cols}
        else:
            unread.append(f"{where}: time.periods")  # said once already
    include_paths = []
    inc = raw.get("include") or []
    if isinstance(inc, list):
        for i, rel in enumerate(inc):
            p = _resolve(base, rel)
            if isinstance(p, str):
                problems.append(f"{where}: include[{i}]: catalogue {p}")
            else:
                include_paths.append(p)
    cat_hw, cat_fac = _load_catalogue(catalogue.catalogue_files() + include_paths, problems)
    ids = record_ids(raw)
    try:
        inst = Instance.model_validate(raw)
    except ValidationError as e:
        problems.extend(q for q in pydantic_problems(e, where, rows=rows, ids=ids)
                        if not q.startswith(tuple(unread)))
        raise InstanceError(problems) from None
    inst = inst.model_copy(
        update={"hardware": {**cat_hw, **inst.hardware}, "facilities": {**cat_fac, **inst.facilities}}
    )
    problems.extend(cross_check(inst, where))
    problems.extend(time_problems(inst, where))
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
    hint = difflib.get_close_matches(name[:EXCERPT_CHARS], sorted(known), n=1)
    return f"unknown {what} {excerpt(name)}" + (f" (did you mean {excerpt(hint[0])}?)" if hint else "")


def latency_conflicts(inst: Instance) -> list[str]:
    """``latency_ms`` entries that give one zone pair (either way round) two values."""
    first: dict[tuple[str, str], int] = {}
    out = []
    for k, (a, b, ms) in enumerate(inst.latency_ms):
        j = first.setdefault((min(a, b), max(a, b)), k)
        if j != k and inst.latency_ms[j][2] != ms:
            a0, b0, ms0 = inst.latency_ms[j]
            out.append(
                f"latency_ms[{k}]: {excerpt(a)} -> {excerpt(b)} = {ms:g} ms conflicts with latency_ms[{j}]: "
                f"{excerpt(a0)} -> {excerpt(b0)} = {ms0:g} ms (pairs are symmetric; give one value)"
            )
    return out


def cross_check(inst: Instance, where: str) -> list[str]:
    """Rules that span records: names, latency coverage, candidates. Returns the problems."""
    from computeplan.io.reach import candidate_report, reach

    problems: list[str] = []
    p = problems.append
    for section, ids in (("sites", [s.id for s in inst.sites]), ("workloads", [w.id for w in inst.workloads])):
        for name, idx in _dupes(ids).items():
            p(f"{where}: {record(section, idx[1], name)}.id: duplicate id (also at {section}[{idx[0]}])")
    site_ids = {s.id for s in inst.sites}
    for i, s in enumerate(inst.sites):
        at = record("sites", i, s.id)
        if s.facility not in inst.facilities:
            p(f"{where}: {at}.facility: {_unknown(s.facility, inst.facilities, 'facility model')}")
        if s.zone not in inst.zones:
            p(f"{where}: {at}.zone: {_unknown(s.zone, inst.zones, 'zone')}")
        for h in s.servers:
            if h not in inst.hardware:
                p(f"{where}: {at}.servers.{show_name(h)}: {_unknown(h, inst.hardware, 'hardware model')}")
    problems.extend(build_problems(inst, where))
    for i, w in enumerate(inst.workloads):
        known = all(h in inst.hardware for h in w.hardware)
        if (w.origin in inst.zones and known and all(sid in site_ids for sid in w.sites or ())
                and (not w.must_serve or any(w.precision in inst.hardware[h].perf_tflops for h in w.hardware))):
            continue  # sound: no record name to make
        at = record("workloads", i, w.id)
        if w.origin not in inst.zones:
            p(f"{where}: {at}.origin: {_unknown(w.origin, inst.zones, 'zone')}")
        for k, h in enumerate(w.hardware):
            if h not in inst.hardware:
                p(f"{where}: {at}.hardware[{k}]: {_unknown(h, inst.hardware, 'hardware model')}")
        if w.must_serve and known and not any(
            w.precision in inst.hardware[h].perf_tflops for h in w.hardware
        ):
            p(
                f"{where}: {at}.precision: none of the workload's hardware "
                f"({', '.join(excerpt(h) for h in w.hardware[:5])}) supports {w.precision!r}; it must be served"
            )
        for k, sid in enumerate(w.sites or []):
            if sid not in site_ids:
                p(f"{where}: {at}.sites[{k}]: {_unknown(sid, site_ids, 'site')}")
    for k, (a, b, _ms) in enumerate(inst.latency_ms):
        for pos, z in ((0, a), (1, b)):
            if z not in inst.zones:
                p(f"{where}: latency_ms[{k}][{pos}]: {_unknown(z, inst.zones, 'zone')}")
    problems.extend(f"{where}: {c}" for c in latency_conflicts(inst))
    for name, val in inst.targets.given().items():
        if not isinstance(val, dict):
            continue
        for key in val:  # a keyed target (per tier or site)
            if key not in TIERS and key not in site_ids:
                p(f"{where}: targets.{name}.{show_name(key)}: expected a tier name ({', '.join(TIERS)}) "
                  f"or a site id, got {excerpt(key)}")
    if problems:
        return problems
    # Latency coverage and candidates need the names above to be sound.
    lat, zone_index = (r := reach(inst)).lat, r.zone_index
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
            shown = ", ".join(excerpt(z) for z in missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            p(
                f"{where}: {record('workloads', i, w.id)}.max_latency_ms: latency from zone {excerpt(w.origin)} to "
                f"{shown} is unknown: give coordinates for both zones or a latency_ms pair"
            )
    if problems:
        return problems
    for i, reason in candidate_report(inst):
        p(f"{where}: {record('workloads', i, inst.workloads[i].id)}: {reason}")
    return problems


def build_problems(inst: Instance, where: str) -> list[str]:
    """The checks of a site's capacity and its ``build`` block (FORMATS.md, "Build-out")."""
    out: list[str] = []
    p = out.append
    no_capex: set[str] = set()
    for i, s in enumerate(inst.sites):
        at = record("sites", i, s.id)
        b = s.build
        if s.halls == 0 and b is None:
            p(f"{where}: {at}.halls: must be >= 1, got 0 (only a candidate site, with it_capacity_kw: 0 and a "
              "build block giving hall_kw, starts with no hall)")
        elif s.halls == 0:
            if s.it_capacity_kw != 0:
                p(f"{where}: {at}.it_capacity_kw: a site with halls: 0 (a candidate site) has no capacity yet, "
                  f"expected 0, got {s.it_capacity_kw:g}")
            if b is not None and b.hall_kw is None:
                p(f"{where}: {at}.build.hall_kw: a site with halls: 0 (a candidate site) needs the IT kW of one "
                  "new hall, got nothing")
        elif s.it_capacity_kw <= 0:
            p(f"{where}: {at}.it_capacity_kw: must be > 0 for a site with {s.halls} hall(s), got "
              f"{s.it_capacity_kw:g} (a candidate site has halls: 0 and a build block)")
        if b is None:
            continue
        if s.halls > 0 and s.it_capacity_kw > 0 and b.hall_kw is not None:
            c = s.it_capacity_kw / s.halls
            if abs(b.hall_kw - c) > 1e-9 * max(1.0, c):
                p(f"{where}: {at}.build.hall_kw: new halls take the site's hall size it_capacity_kw / halls = "
                  f"{c:g} kW, got {b.hall_kw:g}")
        if b.halls_max > 0 and b.hall_capex is None:
            p(f"{where}: {at}.build.hall_capex: required when build.halls_max > 0 (currency per new hall), "
              "got nothing")
        for h, count in b.servers_max.items():
            if h not in inst.hardware:
                p(f"{where}: {at}.build.servers_max.{show_name(h)}: {_unknown(h, inst.hardware, 'hardware model')}")
            elif count > 0 and inst.hardware[h].capex is None and h not in no_capex:
                no_capex.add(h)
                p(f"{where}: hardware.{show_name(h)}.capex: required for a model that can be built "
                  f"({at}.build.servers_max), got nothing")
    return out
