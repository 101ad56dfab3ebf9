"""Checking a claim that an instance is infeasible, without the engine.

Two ways, in order:

1. A Farkas certificate in the result (``"evidence": {"kind": "farkas", "rows": {...}}``):
   row multipliers ``y`` keyed by row name. With the rows rebuilt from the instance
   (:mod:`computeplan.plan.verify_model`), ``a = y^T A`` over the columns; every plan has
   ``a.v >= sum_r y_r * (lo_r if y_r > 0 else hi_r)`` and ``a.v <= sup over the column box``,
   so a box supremum below that row infimum proves there is no plan (the same test for
   ``-y``, since solvers differ in sign convention). Plain arithmetic, no solver.
2. Otherwise an elastic model of its own, built one variable at a time with PuLP and
   solved by CBC: a non-negative slack on every assignment, pool size, capacity and
   target row, each row scaled to unit size; the claim is confirmed when the least total
   slack is positive. Only for instances up to :data:`ELASTIC_MAX_PAIRS` candidate pairs.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from computeplan.plan.verify_model import Column, Row, View
from computeplan.plan.verify_time_rows import model_columns as columns
from computeplan.plan.verify_time_rows import model_rows as rows

REL = 1e-6
ELASTIC_MAX_PAIRS = 5000
ELASTIC_SECONDS = 120.0


def farkas_evidence(row_names: list[str], ray: NDArray[np.float64]) -> dict[str, Any]:
    """The ``evidence`` object of an infeasible LP from a dual ray (row multipliers in the
    order of ``row_names``); multipliers below 1e-9 of the largest are dropped."""
    y = np.asarray(ray, dtype=float)
    if len(y) != len(row_names):
        raise ValueError(f"dual ray has {len(y)} entries for {len(row_names)} rows")
    top = float(np.max(np.abs(y))) if y.size else 0.0
    keep = {name: float(val) for name, val in zip(row_names, y.tolist(), strict=True)
            if math.isfinite(val) and abs(val) > 1e-9 * top}
    return {"kind": "farkas", "rows": keep}


def _farkas_gap(y: dict[str, float], by_name: dict[str, Row], cols: dict[str, Column]) -> tuple[float, float, float] | None:
    """(box supremum of y^T A v, row infimum of y^T A v, magnitude) or None when a needed
    row bound is infinite."""
    a: dict[str, float] = {}
    lower = 0.0
    mag = 0.0
    for name, yr in y.items():
        row = by_name[name]
        for col, coef in row.coefs.items():
            a[col] = a.get(col, 0.0) + yr * coef
        bound = row.lo if yr > 0 else row.hi
        if yr != 0 and not math.isfinite(bound):
            return None
        if yr != 0:
            lower += yr * bound
            mag += abs(yr * bound)
    upper = 0.0
    for col, ac in a.items():
        c = cols[col]
        b = c.hi if ac > 0 else c.lo
        if ac != 0:
            upper += ac * b
            mag += abs(ac * b)
    return upper, lower, mag


def check_farkas(v: View, evidence: Any) -> list[str]:
    """Violations of a Farkas certificate against the instance; ``[]`` when it proves
    infeasibility."""
    if not isinstance(evidence, dict) or evidence.get("kind") != "farkas" or not isinstance(evidence.get("rows"), dict):
        return ['evidence: expected {"kind": "farkas", "rows": {row name: multiplier}}, '
                f"found {str(evidence)[:120]}"]
    by_name = {r.name: r for r in rows(v)}
    y: dict[str, float] = {}
    bad: list[str] = []
    for name, val in evidence["rows"].items():
        if name not in by_name:
            bad.append(f"evidence.rows: row {name!r} is not a row of this instance's model")
        elif not isinstance(val, (int, float)) or isinstance(val, bool) or not math.isfinite(val):
            bad.append(f"evidence.rows.{name}: expected a finite number, found {val!r}")
        else:
            y[name] = float(val)
    if bad:
        return bad
    if not any(y.values()):
        return ["evidence.rows: no non-zero multiplier; the certificate proves nothing"]
    cols = columns(v)
    for sign in (1.0, -1.0):
        gap = _farkas_gap({k: sign * val for k, val in y.items()}, by_name, cols)
        if gap is None:
            continue
        upper, lower, mag = gap
        if upper < lower - REL * max(mag, 1e-9):
            return []
    return ["evidence: the Farkas certificate does not prove infeasibility (with either sign, "
            "the rows' multipliers do not exclude every plan within the column bounds)"]


def confirm_elastic(v: View, time_limit: float = ELASTIC_SECONDS) -> list[str]:
    """Confirm infeasibility with the elastic model; ``[]`` when confirmed."""
    import pulp

    if len(v.cands) > ELASTIC_MAX_PAIRS:
        return [f"status infeasible: could not confirm the claim: {len(v.cands):,} candidate pairs is beyond "
                f"the independent elastic check's reach ({ELASTIC_MAX_PAIRS:,}), and the result carries no "
                "Farkas evidence"]
    cols = columns(v)
    prob = pulp.LpProblem("elastic", pulp.LpMinimize)
    var: dict[str, Any] = {}
    for i, (name, c) in enumerate(cols.items()):
        hi: float | None = None if name.startswith("n[") else c.hi  # pool size: its own slack below
        var[name] = pulp.LpVariable(f"v{i}", c.lo, hi, pulp.LpInteger if c.integer else pulp.LpContinuous)
    slacks: list[Any] = []

    def slack() -> Any:
        e = pulp.LpVariable(f"e{len(slacks)}", 0)
        slacks.append(e)
        return e

    for i, (name, c) in enumerate(cols.items()):
        if name.startswith("n["):
            scale = max(c.hi, 1.0)
            prob += (var[name] - scale * slack() <= c.hi), f"pool{i}"
    for k, r in enumerate(rows(v)):
        scale = max([1.0] + [abs(coef) * max(abs(cols[col].lo), abs(cols[col].hi)) for col, coef in r.coefs.items()]
                    + [abs(b) for b in (r.lo, r.hi) if math.isfinite(b)])
        expr = pulp.lpSum(coef * var[col] for col, coef in r.coefs.items())
        hard = r.name.startswith("cover[")  # servers on cover busy servers: pool size is the slack
        if math.isfinite(r.lo):
            prob += (expr + (0 if hard else scale * slack()) >= r.lo), f"lo{k}"
        if math.isfinite(r.hi):
            prob += (expr - (0 if hard else scale * slack()) <= r.hi), f"hi{k}"
    prob += pulp.lpSum(slacks)
    prob.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    status = pulp.LpStatus[prob.status]
    total = pulp.value(prob.objective)
    if status != "Optimal" or total is None:
        return [f"status infeasible: could not confirm the claim: the independent elastic check ended {status}"]
    if float(total) > REL:
        return []
    return ["status infeasible: could not confirm the claim: the independent elastic model serves every "
            f"must-serve workload and meets every target and capacity with no slack ({float(total):.3g}): "
            "the instance is feasible"]


def check_infeasible_claim(v: View, evidence: Any) -> list[str]:
    """Violations of an infeasibility claim: the Farkas evidence if given, else the elastic check."""
    if evidence is not None:
        return check_farkas(v, evidence)
    return confirm_elastic(v)
