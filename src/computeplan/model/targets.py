"""The target registry: every indicator target of FORMULATION.md section 6, once.

One :class:`TargetSpec` per target says which indicator it bounds and in which sense,
its unit and label, how its linear rows are built, how the diagnosis weighs a move of
it, and what holds when its indicator is undefined. Everything else is derived from the
rows, which are affine in the target value ``T``:

- the **shadow price** (objective change per unit of ``T``) is, by the envelope
  theorem, the row dual times ``du/dT - (da/dT . v*)``; both derivatives are read off
  the rows built at ``T`` and ``T + 1``;
- the **diagnosis** turns an elastic slack ``s`` on a row into the target value at which
  the row holds for the elastic plan, ``T' = T + (u - a.v) / (da/dT . v - du/dT)``.

Build, evaluate, verify, the diagnosis, the summary, the report and the analyses all
iterate :data:`TARGETS`; adding a target is one entry here (plus its schema field and
tests).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import scipy.sparse as sp
from numpy.typing import NDArray

if TYPE_CHECKING:  # the registry itself needs no engine: the independent check reads it too
    from computeplan.model.data import ModelData
    from computeplan.model.expressions import Expressions

F64 = NDArray[np.float64]
INF = np.inf
REL_TOL = 1e-6  # relative tolerance of a target's "met"


@dataclass
class RowBlock:
    """Rows ``lo <= block v <= hi`` of one target; ``owners`` names the key of each row
    for a keyed target (a tier or a site id)."""

    block: sp.csr_matrix
    lo: F64
    hi: F64
    labels: list[str]
    owners: list[str] | None = None


@dataclass(frozen=True)
class TargetSpec:
    name: str  # the key under ``targets:`` (e.g. ``fleet_pue_max``)
    indicator: str  # the indicator it bounds (``result.json`` name)
    sense: str  # "max": indicator <= T; "min": indicator >= T
    unit: str  # unit of T
    label: str  # in tables
    rows: Callable[[Expressions, Any], RowBlock]
    slack_scale: Callable[[ModelData], float]  # row units moved by one unit of T, roughly
    met_if_undefined: Callable[[float], bool]  # when the indicator has no value (no power at all)
    keyed: bool = False  # one value per tier or site id (the site's own key beats its tier's)
    # the row's coefficient on one more installed server of any pool is ``per_server * T``
    # (as written, before equilibration): a move that adds servers must pay it too
    per_server: float | None = None
    site_figure: str | None = None  # for a keyed target: the per-site figure it bounds
    floor: float = 0.0  # the indicator's natural floor (1 for a PUE): margins are read against T - floor

    def holds(self, value: float | None, T: float) -> bool:
        """Whether ``value`` meets ``T`` (relative tolerance :data:`REL_TOL`)."""
        if value is None:
            return self.met_if_undefined(T)
        if self.sense == "max":
            return value <= T * (1 + REL_TOL) + 1e-9
        return value >= T * (1 - REL_TOL) - 1e-9


def site_key(site_id: str, tier: str, spec: Mapping[str, Any]) -> str | None:
    """The key of a keyed target that governs a site: its own id, else its tier."""
    if site_id in spec:
        return site_id
    if tier in spec:
        return tier
    return None


def _one(row: F64, lo: float, hi: float, name: str) -> RowBlock:
    return RowBlock(sp.csr_matrix(row.reshape(1, -1)), np.array([lo]), np.array([hi]), [name])


def _f_rows(d: ModelData) -> F64:
    return np.tile(d.site_f, d.n_periods)


def _flat(a: F64) -> F64:
    return np.ascontiguousarray(np.asarray(a).T).ravel()


def _fleet_pue(ex: Expressions, T: float) -> RowBlock:
    """``sum_{j,t} w (f z + k IT) - (T - 1) sum_{j,t} w IT <= 0``."""
    d = ex.d
    row = ex.weighted(_flat(d.sp_k) - (T - 1.0), ex.A_it) + ex.weighted(_f_rows(d), ex.A_z)
    return _one(row, -INF, 0.0, "fleet_pue_max")


def _site_pue(ex: Expressions, spec: Mapping[str, float]) -> RowBlock:
    """``f z + (k - (T_j - 1)) IT <= 0`` for every site with a cap (its own, else its tier's)."""
    d = ex.d
    owners = [site_key(s, t, spec) for s, t in zip(d.site_ids, d.site_tier, strict=True)]
    capped = [j for j, o in enumerate(owners) if o is not None]
    T = np.array([float(spec[owners[j]]) for j in capped])  # type: ignore[index]
    idx = np.array(capped, dtype=np.int64)
    caps = np.ones(d.n_sites)
    caps[idx] = T
    over = ex.per_site_weighted(_flat(d.sp_k) - (np.tile(caps, d.n_periods) - 1.0), ex.A_it) \
        + ex.per_site_weighted(_f_rows(d), ex.A_z)
    block = over[idx]
    return RowBlock(sp.csr_matrix(block), np.full(len(idx), -INF), np.zeros(len(idx)),
                    [f"site_pue_max[{d.site_ids[j]}]" for j in capped], [str(owners[j]) for j in capped])


def _ece(ex: Expressions, T: float) -> RowBlock:
    """``sum_i w[p_i] D_i served_i - T sum_j P_j >= 0`` (TFLOPS per facility kW)."""
    return _one(ex.served(ex.d.wl_weight) - T * ex.total(ex.A_p), 0.0, INF, "ece_min")


def _renewable(ex: Expressions, T: float) -> RowBlock:
    """``sum_{j,t} w (renewable_jt - T) P_jt >= 0`` (the horizon cancels)."""
    return _one(ex.weighted(_flat(ex.d.sp_renew) - T, ex.A_p), 0.0, INF, "renewable_share_min")


def _carbon(ex: Expressions, T: float) -> RowBlock:
    """``sum_{j,t} w carbon_jt (1 - renewable_jt) P_jt / 1000 <= T`` (tonnes)."""
    d = ex.d
    row = ex.weighted(_flat(d.horizon * d.sp_carbon * (1.0 - d.sp_renew) / 1000.0), ex.A_p)
    return _one(row, -INF, T, "carbon_max")


def _output(ex: Expressions, T: float) -> RowBlock:
    """``sum_i value_i D_i served_i - T sum_j P_j >= 0`` (per hour; the horizon cancels)."""
    return _one(ex.served(ex.d.wl_value) - T * ex.total(ex.A_p), 0.0, INF, "output_per_kwh_min")


def _utilisation(ex: Expressions, T: float) -> RowBlock:
    """``sum_{j,h} b[j,h] >= T (sum_{j,h} N[j,h] + sum m[j,h])`` (busy over installed servers,
    fleet-wide; built servers count as installed)."""
    return _one(ex.total(ex.A_busy) - T * ex.new_servers, T * float(ex.d.pool_servers.sum()), INF,
                "server_utilisation_min")


def _capex(ex: Expressions, T: float) -> RowBlock:
    """``capex_year <= T`` (currency per year)."""
    return _one(ex.capex, -INF, T, "capex_max")


def _it_scale(d: ModelData) -> float:
    return float(d.site_cap.sum())


def _always(_T: float) -> bool:
    return True


def _only_if_nonpositive(T: float) -> bool:
    return T <= 0


#: The registry, in the order targets are reported.
TARGETS: dict[str, TargetSpec] = {s.name: s for s in (
    TargetSpec("fleet_pue_max", "fleet_pue", "max", "", "fleet PUE", _fleet_pue, _it_scale, _always,
               floor=1.0),
    TargetSpec("site_pue_max", "pue", "max", "", "site PUE", _site_pue, _it_scale, _always,
               keyed=True, site_figure="pue", floor=1.0),
    TargetSpec("ece_min", "ece_gflops_per_w", "min", "GFLOPS/W", "effective compute efficiency", _ece,
               _it_scale, _only_if_nonpositive),
    TargetSpec("renewable_share_min", "renewable_share", "min", "share", "renewable share", _renewable,
               _it_scale, _always),
    TargetSpec("carbon_max", "carbon_t", "max", "t CO2", "carbon", _carbon, lambda d: 1.0, _always),
    TargetSpec("output_per_kwh_min", "output_per_kwh", "min", "value/kWh", "economic output per kWh", _output,
               _it_scale, _always),
    TargetSpec("server_utilisation_min", "server_utilisation", "min", "share", "server utilisation",
               _utilisation, lambda d: max(float(d.pool_servers.sum()), 1.0), _only_if_nonpositive,
               per_server=-1.0),
    TargetSpec("capex_max", "capex_per_year", "max", "currency/year", "annual capital cost", _capex,
               lambda d: 1.0, _always),
)}


def reports_build(d: ModelData) -> bool:
    """Whether a plan reports its build figures: the instance has a build block or a target
    on the annual capital cost."""
    return d.build.given or any(g.spec.indicator == "capex_per_year" for g in given(d.targets))


@dataclass(frozen=True)
class Given:
    """One target given in an instance: a spec, its key (keyed targets), its value."""

    spec: TargetSpec
    key: str | None
    value: float

    @property
    def label(self) -> str:
        """The name in ``result.json``: ``fleet_pue_max``, ``site_pue_max.<key>``."""
        return self.spec.name if self.key is None else f"{self.spec.name}.{self.key}"


def given(targets: Mapping[str, Any]) -> Iterator[Given]:
    """The targets of an instance (``Targets.given()``), in registry order."""
    for spec in TARGETS.values():
        val = targets.get(spec.name)
        if val is None:
            continue
        if spec.keyed:
            for key, T in dict(val).items():
                yield Given(spec, str(key), float(T))
        else:
            yield Given(spec, None, float(val))


@dataclass
class TargetTerm:
    """A given target as it stands in a built model: its rows, and the derivatives of
    those rows in ``T`` (``dA`` over the model's columns, ``db`` of each row's finite bound)."""

    given: Given
    rows: NDArray[np.int64]  # absolute row indices
    upper: NDArray[np.bool_]  # True where the row is ``<= hi``, False for ``>= lo``
    dA: sp.csr_matrix
    db: F64
    scale: F64  # each row was multiplied by this (row equilibration)

    def per_unit(self, v: F64) -> F64:
        """``du/dT - da/dT . v`` per row: how much each row's slack moves per unit of T."""
        return self.db - np.asarray(self.dA @ v[: self.dA.shape[1]]).ravel()


def target_rows(ex: Expressions) -> Iterator[tuple[TargetSpec, RowBlock, list[TargetTerm]]]:
    """For each target of the instance: its rows, and one term per given (spec, key)
    with row offsets relative to the block (the builder adds the block's start)."""
    d = ex.d
    for spec in TARGETS.values():
        val = d.targets.get(spec.name)
        if val is None:
            continue
        base = spec.rows(ex, val)
        if base.block.shape[0] == 0:
            continue
        # Each row scaled to a largest coefficient of 1: a target row in TFLOPS or kWh
        # can reach 1e6 per column, far beyond what an absolute feasibility tolerance of
        # 1e-9 can be held to. Duals, shadow prices and moves are read off the same
        # scaled rows, so they do not depend on the scale.
        scale = _row_scale(base.block)
        base = _scaled(base, scale)
        upper = np.isfinite(base.hi) & ~np.isfinite(base.lo)
        terms = []
        for g in given({spec.name: val}):
            if spec.keyed:
                assert base.owners is not None
                sel = np.array([k for k, o in enumerate(base.owners) if o == g.key], dtype=np.int64)
                bumped = _scaled(spec.rows(ex, {**dict(val), g.key: g.value + 1.0}), scale)
            else:
                sel = np.arange(base.block.shape[0], dtype=np.int64)
                bumped = _scaled(spec.rows(ex, g.value + 1.0), scale)
            dA = sp.csr_matrix((bumped.block - base.block)[sel])
            b_now = np.where(upper, base.hi, base.lo)
            b_next = np.where(upper, bumped.hi, bumped.lo)
            terms.append(TargetTerm(g, sel, upper[sel], dA, (b_next - b_now)[sel], scale[sel]))
        yield spec, base, terms


def _row_scale(block: sp.csr_matrix) -> F64:
    """Per row, 1 / its largest coefficient (1 for an empty row)."""
    big = np.asarray(abs(block).max(axis=1).todense()).ravel()
    return np.where(big > 0, 1.0 / np.where(big > 0, big, 1.0), 1.0)


def _scaled(rows: RowBlock, scale: F64) -> RowBlock:
    return RowBlock(sp.csr_matrix(sp.diags(scale) @ rows.block), rows.lo * scale, rows.hi * scale, rows.labels,
                    rows.owners)


def shadow_prices(terms: list[TargetTerm], v: F64, row_dual: F64, scale: float) -> dict[str, float]:
    """Objective change per unit of each given target (``result.json`` label -> value)."""
    return {t.given.label: float(np.dot(row_dual[t.rows], t.per_unit(v))) * scale for t in terms}


def moved_target(term: TargetTerm, k: int, row_value: float, row_bound: float, v: F64) -> float | None:
    """The value of the target at which row ``k`` of the term holds for the plan ``v``
    (``row_value = a.v``, ``row_bound`` its finite bound), or None if no value does."""
    rate = -float(term.per_unit(v)[k])
    if abs(rate) <= 1e-15:
        return None
    return term.given.value + (row_bound - row_value) / rate


def site_values(spec: TargetSpec, key: str, d: ModelData, figure: F64, active: NDArray[np.bool_],
                owners: Mapping[str, Any]) -> list[float]:
    """A keyed target's per-site figures, for the sites it governs that have an active hall."""
    return [float(figure[j]) for j in range(d.n_sites)
            if active[j] and site_key(d.site_ids[j], d.site_tier[j], owners) == key]


def target_records(d: ModelData, indicators: Mapping[str, float | None], site_figures: Mapping[str, F64],
                   active: NDArray[np.bool_], shadow: Mapping[str, float] | None) -> list[dict[str, Any]]:
    """Each given target: value, target, met, shadow price (objective units per unit of T).

    A keyed target's value is its worst site among those with an active hall (an idle
    site passes)."""
    out: list[dict[str, Any]] = []
    for g in given(d.targets):
        spec = g.spec
        if spec.keyed:
            assert spec.site_figure is not None
            vals = site_values(spec, str(g.key), d, site_figures[spec.site_figure], active, d.targets[spec.name])
            worst = (max(vals) if spec.sense == "max" else min(vals)) if vals else None
            met = all(np.isfinite(x) and spec.holds(x, g.value) for x in vals)
            value: float | None = worst
        else:
            value = indicators.get(spec.indicator)
            met = spec.holds(value, g.value)
        price = None if shadow is None else shadow.get(g.label)
        out.append({"name": g.label, "target": g.value, "value": value, "met": bool(met),
                    "shadow_price": None if price is None else float(price)})
    return out
