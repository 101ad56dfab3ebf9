"""The grammar of varied paths: ``targets.<target>``, ``demand.scale``, ``sites.<id>.<field>``...

:func:`apply_values` turns a point of a grid into an instance, validated again by the
schema, so a value out of range is an error naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError

from computeplan.analysis.points import copy_instance
from computeplan.errors import InstanceError, UsageError
from computeplan.io.loader import cross_check, pydantic_problems
from computeplan.io.periods import time_problems
from computeplan.io.schema import TIERS, HardwareModel, Instance, Site, Targets, Workload
from computeplan.model.targets import TARGETS

SITE_FIELDS = ("it_capacity_kw", "halls", "max_utilisation", "price_per_kwh", "carbon_kg_per_kwh",
               "renewable_share", "grid_kw")
BUILD_FIELDS = ("halls_max", "hall_capex", "hall_kw", "site_capex", "lifetime_years")
HARDWARE_FIELDS = ("capex", "lifetime_years", "embodied_kg")
#: Fields of every workload of a class (``workloads.class.<class>.<field>``); they need periods.
CLASS_FIELDS = ("flex_window_hours",)
_WHOLE = ("halls", "build.halls_max")
_SCALAR = tuple(n for n, spec in TARGETS.items() if not spec.keyed)
_KEYED = tuple(n for n, spec in TARGETS.items() if spec.keyed)
VARY_HELP = (f"targets.<target> ({', '.join(_SCALAR)}), "
             + "".join(f"targets.{n}.<tier or site>, " for n in _KEYED)
             + "demand.scale, demand.class.<class>.scale, "
             + f"workloads.class.<class>.<{'|'.join(CLASS_FIELDS)}> (0: inflexible), "
             + f"sites.<id>.<{'|'.join(SITE_FIELDS)}>, sites.<id>.servers.<hardware>, "
             + f"sites.<id>.build.<{'|'.join(BUILD_FIELDS)}>, sites.<id>.build.servers_max.<hardware>, "
             + f"hardware.<id>.<{'|'.join(HARDWARE_FIELDS)}>, discount_rate")


@dataclass(frozen=True)
class Vary:
    """One varied path and its values."""

    path: str
    values: tuple[float, ...]


def _clean_float(v: float) -> float:
    """``linspace`` noise removed: 1.2000000000000002 -> 1.2 (12 significant digits)."""
    return float(f"{v:.12g}")


def parse_vary(spec: str) -> Vary:
    """``PATH=START:STOP:N`` (N evenly spaced values, ends included) or ``PATH=V1,V2,...``."""
    if "=" not in spec:
        raise UsageError(f"--vary {spec!r}: expected PATH=START:STOP:N or PATH=V1,V2,... (paths: {VARY_HELP})")
    path, _, rhs = spec.partition("=")
    path, rhs = path.strip(), rhs.strip()
    try:
        if ":" in rhs:
            parts = rhs.split(":")
            if len(parts) != 3:
                raise ValueError("expected START:STOP:N")
            start, stop = float(parts[0]), float(parts[1])
            n = int(parts[2])
            if n < 1:
                raise ValueError(f"N must be >= 1, got {n}")
            vals = [start] if n == 1 else np.linspace(start, stop, n).tolist()
        else:
            vals = [float(p) for p in rhs.split(",") if p.strip()]
            if not vals:
                raise ValueError("no values")
    except ValueError as e:
        raise UsageError(f"--vary {spec!r}: {e} (expected PATH=START:STOP:N or PATH=V1,V2,...)") from None
    if not all(math.isfinite(v) for v in vals):
        raise UsageError(f"--vary {spec!r}: values must be finite numbers")
    return Vary(path, tuple(_clean_float(v) for v in vals))


def _as_varies(vary: Mapping[str, Sequence[float]] | Sequence[str | Vary] | str | Vary) -> list[Vary]:
    if isinstance(vary, (str, Vary)):
        vary = [vary]
    if isinstance(vary, Mapping):
        out = [Vary(str(k), tuple(_clean_float(float(v)) for v in np.atleast_1d(np.asarray(vals, dtype=float))))
               for k, vals in vary.items()]
    else:
        out = [v if isinstance(v, Vary) else parse_vary(v) for v in vary]
    if not out:
        raise UsageError("--vary: give at least one PATH=START:STOP:N")
    seen: set[str] = set()
    for v in out:
        if v.path in seen:
            raise UsageError(f"--vary {v.path}: the same path is varied twice")
        seen.add(v.path)
        if not v.values:
            raise UsageError(f"--vary {v.path}: no values")
    return out


def check_path(inst: Instance, path: str) -> None:
    """Raise :class:`UsageError` unless ``path`` names something this instance can vary."""
    parts = path.split(".")
    site_ids = [s.id for s in inst.sites]
    classes = sorted({w.class_ for w in inst.workloads})
    bad = f"--vary {path}: "
    if parts[0] == "targets":
        if len(parts) == 2 and parts[1] in _SCALAR:
            return
        if len(parts) == 3 and parts[1] in _KEYED:
            if parts[2] in TIERS or parts[2] in site_ids:
                return
            raise UsageError(bad + f"targets.{parts[1]} keys are tier names ({', '.join(TIERS)}) or site "
                                   f"ids, got {parts[2]!r}")
    elif parts[0] == "demand":
        if parts[1:] == ["scale"]:
            return
        if len(parts) == 4 and parts[1] == "class" and parts[3] == "scale":
            if parts[2] in classes:
                return
            raise UsageError(bad + f"no workload of class {parts[2]!r} (classes: {', '.join(classes)})")
    elif parts[0] == "sites" and len(parts) >= 3:
        if parts[1] not in site_ids:
            raise UsageError(bad + f"unknown site {parts[1]!r} (sites: {', '.join(site_ids)})")
        if len(parts) == 3 and parts[2] in SITE_FIELDS:
            return
        if len(parts) == 4 and parts[2] == "servers":
            if parts[3] in inst.hardware:
                return
            raise UsageError(bad + f"unknown hardware model {parts[3]!r}")
        if parts[2] == "build" and (
                (len(parts) == 4 and parts[3] in BUILD_FIELDS) or (len(parts) == 5 and parts[3] == "servers_max")):
            if inst.sites[site_ids.index(parts[1])].build is None:
                raise UsageError(bad + f"site {parts[1]!r} has no build block to vary")
            if len(parts) == 4 or parts[4] in inst.hardware:
                return
            raise UsageError(bad + f"unknown hardware model {parts[4]!r}")
    elif parts[0] == "hardware" and len(parts) == 3 and parts[2] in HARDWARE_FIELDS:
        if parts[1] in inst.hardware:
            return
        raise UsageError(bad + f"unknown hardware model {parts[1]!r}")
    elif parts[0] == "workloads" and len(parts) == 4 and parts[1] == "class" and parts[3] in CLASS_FIELDS:
        if parts[2] not in classes:
            raise UsageError(bad + f"no workload of class {parts[2]!r} (classes: {', '.join(classes)})")
        if inst.time is None:
            raise UsageError(bad + "the instance has no time block; a flexibility window needs periods")
        return
    elif parts == ["discount_rate"]:
        return
    raise UsageError(bad + f"not a path that can be varied; expected one of {VARY_HELP}")


def _validation_error(e: ValidationError, prefix: tuple[int | str, ...]) -> UsageError:
    return UsageError("; ".join(pydantic_problems(e, "--vary", prefix)))


def apply_values(inst: Instance, values: Mapping[str, float]) -> Instance:
    """A copy of ``inst`` with each path set to its value (see :data:`VARY_HELP`).

    Every changed record is validated again by the instance schema, so a value out of
    range is an error naming the field (``--vary: targets.fleet_pue_max: must be >= 1.0``).
    """
    for path in values:
        check_path(inst, path)
    update: dict[str, Any] = {}
    tgt = {k: v for k, v in values.items() if k.startswith("targets.")}
    if tgt:
        t = inst.targets.model_dump()
        for path, v in tgt.items():
            parts = path.split(".")
            if len(parts) == 2:
                t[parts[1]] = float(v)
            else:
                t[parts[1]] = {**(t.get(parts[1]) or {}), parts[2]: float(v)}
        try:
            update["targets"] = Targets.model_validate(t)
        except ValidationError as e:
            raise _validation_error(e, ("targets",)) from None
    scale_all = 1.0
    scale_class: dict[str, float] = {}
    for path, v in values.items():
        if path.startswith("demand."):
            if not (math.isfinite(v) and v > 0):
                raise UsageError(f"--vary: {path}: must be > 0, got {v!r}")
            parts = path.split(".")
            if len(parts) == 2:
                scale_all *= float(v)
            else:
                scale_class[parts[2]] = float(v)
    if scale_all != 1.0 or scale_class:
        update["workloads"] = [
            w.model_copy(update={"demand_tflops": w.demand_tflops * scale_all * scale_class.get(w.class_, 1.0)})
            for w in inst.workloads
        ]
    site_edits: dict[str, dict[str, float]] = {}
    for path, v in values.items():
        if path.startswith("sites."):
            _, sid, rest = path.split(".", 2)
            site_edits.setdefault(sid, {})[rest] = v
    if site_edits:
        sites = []
        for s in inst.sites:
            if s.id not in site_edits:
                sites.append(s)
                continue
            raw = s.model_dump()
            for rest, v in site_edits[s.id].items():
                if rest == "it_capacity_kw" and not v > 0 and s.halls > 0:
                    raise UsageError(f"--vary: sites.{s.id}.it_capacity_kw: must be > 0 for a site with halls, "
                                     f"got {v!r}")
                if rest in _WHOLE or rest.startswith(("servers.", "build.servers_max.")):
                    if not float(v).is_integer():
                        raise UsageError(f"--vary: sites.{s.id}.{rest}: must be a whole number, got {v!r}")
                    v = int(v)
                if rest.startswith("servers."):
                    raw["servers"] = {**raw["servers"], rest.split(".", 1)[1]: v}
                elif rest.startswith("build.servers_max."):
                    raw["build"]["servers_max"] = {**raw["build"]["servers_max"], rest.split(".", 2)[2]: v}
                elif rest.startswith("build."):
                    raw["build"][rest.split(".", 1)[1]] = v
                else:
                    raw[rest] = v
            try:
                sites.append(Site.model_validate(raw))
            except ValidationError as e:
                raise _validation_error(e, ("sites", s.id)) from None
        update["sites"] = sites
    hw_edits: dict[str, dict[str, float]] = {}
    for path, v in values.items():
        if path.startswith("hardware."):
            _, hid, fld = path.split(".", 2)
            hw_edits.setdefault(hid, {})[fld] = v
    if hw_edits:
        hardware = dict(inst.hardware)
        for hid, edits in hw_edits.items():
            try:
                hardware[hid] = HardwareModel.model_validate({**hardware[hid].model_dump(), **edits})
            except ValidationError as e:
                raise _validation_error(e, ("hardware", hid)) from None
        update["hardware"] = hardware
    class_edits = {path.split(".")[2]: v for path, v in values.items() if path.startswith("workloads.class.")}
    if class_edits:
        update["workloads"] = _class_windows(update.get("workloads", inst.workloads), class_edits)
    if "discount_rate" in values:
        rate = float(values["discount_rate"])
        if not 0.0 <= rate <= 1.0:
            raise UsageError(f"--vary: discount_rate: must be in 0..1, got {rate!r}")
        update["discount_rate"] = rate
    out = copy_instance(inst, update)
    if site_edits or hw_edits:
        problems = cross_check(out, "--vary")
        if problems:
            raise InstanceError(problems)
    if class_edits:
        problems = time_problems(out, "--vary")
        if problems:
            raise InstanceError(problems)
    return out


def _class_windows(workloads: Sequence[Workload], windows: Mapping[str, float]) -> list[Workload]:
    """Every workload of each class given with its ``flex_window_hours`` set (0: none, inflexible)."""
    for cls, v in windows.items():
        if not (float(v).is_integer() and v >= 0):
            raise UsageError(f"--vary: workloads.class.{cls}.flex_window_hours: must be a whole number of hours "
                             f">= 0 (0: inflexible), got {v!r}")
    out = []
    for i, w in enumerate(workloads):
        if w.class_ not in windows:
            out.append(w)
            continue
        hours = int(windows[w.class_]) or None
        try:
            out.append(Workload.model_validate({**w.model_dump(by_alias=True), "flex_window_hours": hours}))
        except ValidationError as e:
            msg = "; ".join(str(err["msg"]).removeprefix("Value error, ") for err in e.errors())
            raise UsageError(f"--vary: workloads.class.{w.class_}.flex_window_hours: workloads[{i}] ({w.id}): "
                             f"{msg}") from None
    return out


def check_points(inst: Instance, points: Sequence[Mapping[str, float]]) -> None:
    """Every point of a grid checked before any solve; the problems of each point are reported
    together, each with its point (raises :class:`UsageError`)."""
    bad: list[str] = []
    for p in points:
        try:
            apply_values(inst, p)
        except InstanceError as e:
            bad.append(f"point {_point(p)}: " + "; ".join(e.problems))
        except UsageError as e:
            bad.append(f"point {_point(p)}: {e}")
    if bad:
        raise UsageError(f"{len(bad)} of {len(points)} point(s) are not valid instances:\n  " + "\n  ".join(bad))


def _point(p: Mapping[str, float]) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in p.items())
