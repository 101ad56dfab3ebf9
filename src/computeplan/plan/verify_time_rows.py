"""The rows of the model over periods, rebuilt from the instance with plain loops, for
checking an infeasibility claim of a time instance (its Farkas certificate, or the
elastic check) without the engine.

Names follow the engine's: ``x[w@s/h#t]``, ``n[s/h#t]``, ``z[s]``, ``y[w@s/h]``;
``assign[w#t]``, ``window[w#k]``, ``rate[w#t]``, ``pick[w]``, ``link[w@s/h#t]``,
``cover[s/h#t]``, ``capacity[s#t]``, ``grid[s#t]`` and the target rows as weighted sums
over the periods (each period weighs ``w[t] / H``). With one period there is no ``#t``.
"""

from __future__ import annotations

from computeplan.io.periods import time_axis
from computeplan.model.targets import given
from computeplan.plan.verify_model import INF, Column, Expr, Row, View, _add, columns, rows
from computeplan.plan.verify_time import cooling_k


def model_columns(v: View) -> dict[str, Column]:
    """The model's columns: over periods when the instance has a time block."""
    return timed_columns(v) if v.inst.time is not None else columns(v)


def model_rows(v: View) -> list[Row]:
    """The model's rows: over periods when the instance has a time block."""
    return timed_rows(v) if v.inst.time is not None else rows(v)


def _tag(name: str, t: int, T: int) -> str:
    return name if T == 1 else f"{name[:-1]}#{t}]"


def timed_columns(v: View) -> dict[str, Column]:
    inst = v.inst
    ax = time_axis(inst)
    T = ax.T
    shapes = ax.shapes(inst)
    index = {w.id: i for i, w in enumerate(inst.workloads)}
    wls = {w.id: w for w in inst.workloads}
    cols: dict[str, Column] = {}
    for t in range(T):
        for c in v.cands:
            w = wls[c.wid]
            flex = w.flex_window_hours is not None and T > 1
            cap = w.max_rate if flex else float(shapes[index[c.wid], t])
            cols[_tag(c.col, t, T)] = Column(0.0, cap, T == 1 and not w.divisible)
    for t in range(T):
        for s in v.sites:
            for h, count in s.pools.items():
                cols[_tag(f"n[{s.id}/{h}]", t, T)] = Column(0.0, float(count), False)
    for s in v.sites:
        cols[f"z[{s.id}]"] = Column(0.0 if s.can_idle else float(s.halls), float(s.halls), s.can_idle)
    if T > 1:
        for c in v.cands:
            if not wls[c.wid].divisible:
                cols["y" + c.col[1:]] = Column(0.0, 1.0, True)
    return cols


def timed_rows(v: View) -> list[Row]:
    inst = v.inst
    ax = time_axis(inst)
    T, H = ax.T, ax.horizon
    share = [float(x) / H for x in ax.weight]
    shapes = ax.shapes(inst)
    out: list[Row] = []
    for i, w in enumerate(inst.workloads):
        cs = v.cands_of.get(w.id, [])
        if not cs:
            continue
        if w.flex_window_hours is not None and T > 1:
            win = ax.windows(w.flex_window_hours).tolist()
            for k in sorted(set(win)):
                ts = [t for t in range(T) if win[t] == k]
                need = sum(float(ax.length[t] * shapes[i, t]) for t in ts)
                e = {_tag(c.col, t, T): float(ax.length[t]) for t in ts for c in cs}
                out.append(Row(f"window[{w.id}#{k}]", e, need if w.must_serve else 0.0, need))
            for t in range(T):
                out.append(Row(_tag(f"rate[{w.id}]", t, T), {_tag(c.col, t, T): 1.0 for c in cs}, 0.0, w.max_rate))
        else:
            for t in range(T):
                s_t = float(shapes[i, t])
                out.append(Row(_tag(f"assign[{w.id}]", t, T), {_tag(c.col, t, T): 1.0 for c in cs},
                               s_t if w.must_serve else 0.0, s_t))
        if not w.divisible and T > 1:
            out.append(Row(f"pick[{w.id}]", {"y" + c.col[1:]: 1.0 for c in cs}, 1.0 if w.must_serve else 0.0, 1.0))
            for t in range(T):
                for c in cs:
                    cap = float(shapes[i, t]) if w.flex_window_hours is None else w.max_rate
                    out.append(Row(_tag("link" + c.col[1:], t, T), {_tag(c.col, t, T): 1.0, "y" + c.col[1:]: -cap},
                                   -INF, 0.0))
    temps = ax.site_series(inst, "temperature_c")
    renew = ax.site_series(inst, "renewable_share")
    carbon = ax.site_series(inst, "carbon_kg_per_kwh")
    sites = {s.id: s for s in inst.sites}
    its: list[dict[str, Expr]] = []
    pows: list[dict[str, Expr]] = []
    ks: list[dict[str, float]] = []
    for t in range(T):
        it_t: dict[str, Expr] = {}
        p_t: dict[str, Expr] = {}
        k_t: dict[str, float] = {}
        for j, s in enumerate(v.sites):
            for h in s.pools:
                cover: Expr = {_tag(c.col, t, T): c.busy for c in v.cands if c.sid == s.id and c.hid == h}
                cover[_tag(f"n[{s.id}/{h}]", t, T)] = -s.umax
                out.append(Row(_tag(f"cover[{s.id}/{h}]", t, T), cover, -INF, 0.0))
            it: Expr = {_tag(c.col, t, T): c.dyn_kw for c in v.cands if c.sid == s.id}
            for h in s.pools:
                _add(it, {_tag(f"n[{s.id}/{h}]", t, T): inst.hardware[h].idle_kw})
            k = cooling_k(inst, s, sites[s.id].facility, float(temps[j, t]))
            it_t[s.id], k_t[s.id] = it, k
            p_t[s.id] = _add(_add({}, it, 1.0 + k), {f"z[{s.id}]": s.f})
            out.append(Row(_tag(f"capacity[{s.id}]", t, T), _add(dict(it), {f"z[{s.id}]": -s.hall_kw}), -INF, 0.0))
        its.append(it_t)
        pows.append(p_t)
        ks.append(k_t)
    for s in v.sites:
        grid = sites[s.id].grid_kw
        if grid is not None:
            for t in range(T):
                out.append(Row(_tag(f"grid[{s.id}]", t, T), dict(pows[t][s.id]), -INF, float(grid)))
    weight = {w.id: inst.weight(w.precision) for w in inst.workloads}
    value = {w.id: w.value_per_tflops_hour for w in inst.workloads}
    demand = {w.id: w.demand_tflops for w in inst.workloads}
    site_index = {s.id: j for j, s in enumerate(v.sites)}

    def pue(T_cap: float, group: list[str]) -> Expr:
        e: Expr = {}
        for t in range(T):
            for sid in group:
                s = v.site_by_id[sid]
                _add(_add(e, {f"z[{sid}]": s.f}, share[t]), its[t][sid], share[t] * (ks[t][sid] - (T_cap - 1.0)))
        return e

    def served(per: dict[str, float]) -> Expr:
        return {_tag(c.col, t, T): share[t] * per[c.wid] * demand[c.wid] for t in range(T) for c in v.cands}

    def power(unit: list[list[float]]) -> Expr:
        e: Expr = {}
        for t in range(T):
            for s in v.sites:
                _add(e, pows[t][s.id], share[t] * unit[site_index[s.id]][t])
        return e

    ones = [[1.0] * T for _ in v.sites]
    for g in given(inst.targets.given()):
        ind, Tv = g.spec.indicator, g.value
        if g.spec.keyed:
            for s in v.sites:
                if s.keys.get(g.spec.name) == g.key:
                    out.append(Row(f"{g.spec.name}[{s.id}]", pue(Tv, [s.id]), -INF, 0.0))
        elif ind == "fleet_pue":
            out.append(Row(g.spec.name, pue(Tv, [s.id for s in v.sites]), -INF, 0.0))
        elif ind in ("ece_gflops_per_w", "output_per_kwh"):
            e = served(weight if ind == "ece_gflops_per_w" else value)
            out.append(Row(g.spec.name, _add(e, power(ones), -Tv), 0.0, INF))
        elif ind == "renewable_share":
            unit = [[float(renew[j, t]) - Tv for t in range(T)] for j in range(len(v.sites))]
            out.append(Row(g.spec.name, power(unit), 0.0, INF))
        elif ind == "carbon_t":
            unit = [[H * float(carbon[j, t]) * (1.0 - float(renew[j, t])) / 1000.0 for t in range(T)]
                    for j in range(len(v.sites))]
            out.append(Row(g.spec.name, power(unit), -INF, Tv))
        elif ind == "server_utilisation":
            installed = sum(n for s in v.sites for n in s.pools.values())
            out.append(Row(g.spec.name, {_tag(c.col, t, T): share[t] * c.busy for t in range(T) for c in v.cands},
                           Tv * installed, INF))
        else:  # a target this check does not know cannot be checked
            raise ValueError(f"no independent row for target {g.spec.name}")
    return out
