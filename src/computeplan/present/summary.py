"""The terminal summary of a result (rich). It only formats what the result holds."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from computeplan.io.schema import Instance
from computeplan.model.indicators import OBJECTIVE_UNITS
from computeplan.plan.result import Result
from computeplan.present.build import print_build
from computeplan.present.fmt import fmt
from computeplan.present.tables import indicator_rows, tier_table


def print_summary(res: Result, console: Console | None = None) -> None:
    con = console or Console()
    head = Table(show_header=False, box=None, pad_edge=False)
    colour = {"optimal": "green", "feasible": "yellow", "interrupted": "yellow"}.get(res.status.value, "red")
    head.add_row("instance", res.instance)
    head.add_row("status", f"[{colour}]{res.status.value}[/]  (method {res.method})")
    if res.objective_value is not None:
        unit = OBJECTIVE_UNITS.get(res.objective_name, "")
        head.add_row("objective", f"{res.objective_name} = {fmt(res.objective_value, 9)} {unit}")
        head.add_row("bound / gap", f"{fmt(res.bound, 9)} / {fmt(res.gap)}")
    head.add_row("solve time", f"{res.solve_seconds:.2f} s")
    con.print(head)
    if res.diagnosis:
        con.print(f"\n[bold red]No plan.[/] {res.diagnosis.get('summary', '')}")
        for mv in res.diagnosis.get("moves", []):
            con.print(f"  - {mv['message']}")
        return
    if res.indicators:
        t = Table(title="Indicators against targets", title_justify="left")
        for col in ("indicator", "value", "target", "met", "margin", "shadow price"):
            t.add_column(col, justify="right" if col not in ("indicator",) else "left")
        for row in indicator_rows(res):
            if row["target"] is None:
                t.add_row(row["indicator"], fmt(row["value"]), "-", "-", "-", "-")
                continue
            met = "[green]met[/]" if row["met"] else "[red]missed[/]"
            t.add_row(row["indicator"], fmt(row["value"]), fmt(row["target"]), met, fmt(row["margin"]),
                      fmt(row["shadow_price"]))
        for key in ("energy_kwh", "cost", "served_tflops", "unserved_tflops", "beyond_need_energy_kwh"):
            t.add_row(key, fmt(res.indicators.get(key)), "", "", "", "")
        con.print(t)
    tiers = tier_table(res)
    if not tiers.empty:
        t = Table(title="Per tier", title_justify="left")
        for col in ("tier", "sites", "IT kW", "facility kW", "PUE", "energy kWh", "utilisation"):
            t.add_column(col, justify="left" if col == "tier" else "right")
        for _, r in tiers.iterrows():
            t.add_row(str(r["tier"]), str(int(r["sites"])), fmt(r["it_kw"]), fmt(r["facility_kw"]), fmt(r["pue"]),
                      fmt(r["energy_kwh"]), fmt(r["utilisation_of_used_pools"]))
        con.print(t)
    print_build(res, con)
    s = res.sites
    if not s.empty and "capacity_shadow_price" in s and s["capacity_shadow_price"].notna().any():
        top = s.assign(value=-s["capacity_shadow_price"]).sort_values("value", ascending=False).head(5)
        t = Table(title="Most valuable site capacity (objective saved per extra IT kW)", title_justify="left")
        for col in ("site", "tier", "value per kW", "IT kW / capacity"):
            t.add_column(col, justify="left" if col in ("site", "tier") else "right")
        for _, r in top.iterrows():
            t.add_row(str(r["id"]), str(r["tier"]), fmt(r["value"]), f"{fmt(r['it_kw'])} / {fmt(r['it_capacity_kw'])}")
        con.print(t)
    _print_time(res, con)
    for note in res.notes:
        con.print(f"[dim]note:[/] {note}")


def _print_time(res: Result, con: Console) -> None:
    """Periods: the value of flexibility and each site's peak (against its grid cap)."""
    tm = res.extra.get("time")
    if not isinstance(tm, dict):
        return
    fl = tm.get("flexibility") or {}
    value = fl.get("value")
    con.print(f"\n{tm.get('periods')} periods, {fmt(tm.get('hours'))} h; value of flexibility "
              + (f"{fmt(value)} {OBJECTIVE_UNITS.get(res.objective_name, '')} (objective without it "
                 f"{fmt(fl.get('objective_without'), 9)})" if value is not None else "not computed")
              + f"; {fmt(fl.get('shifted_tflops_hours'))} TFLOPS-hours shifted", highlight=False)
    t = Table(title="Peak facility power per site", title_justify="left")
    for col in ("site", "peak kW", "period", "grid kW"):
        t.add_column(col, justify="left" if col == "site" else "right")
    for r in res.site_records:
        if r.get("peak_facility_kw") is None:
            continue
        cap = r.get("grid_kw")
        t.add_row(str(r["id"]), fmt(r["peak_facility_kw"]), str(r.get("peak_period")),
                  "-" if cap is None else fmt(cap))
    con.print(t)
    _print_full_year(tm, res, con)


def _print_full_year(tm: dict[str, Any], res: Result, con: Console) -> None:
    """Typical days: the days chosen and the plan re-evaluated over the full year."""
    fy = tm.get("full_year")
    if not isinstance(fy, dict):
        return
    days = ", ".join(f"{r.get('datetime', r['day'])} x{r['weight']}" for r in fy.get("days") or [])
    con.print(f"\n{tm.get('typical_days')} typical days: {days}", highlight=False)
    unit = OBJECTIVE_UNITS.get(res.objective_name, "")
    failed = fy.get("failed") or []
    missed = "targets missed: " + ", ".join(f"{t['name']} {fmt(t['value'])} (target {fmt(t['target'])})"
                                            for t in fy.get("targets") or [] if t["name"] in failed)
    head = f"full year ({fy.get('periods')} periods) with this plan: "
    if fy.get("objective") is None:
        rows = fy.get("rows") or []
        con.print(head + f"{fy.get('status') or 'not run'}" + (f"; {missed}" if failed else "")
                  + (f"; rows that cannot hold together: {', '.join(rows[:8])}" if rows else ""), highlight=False)
        return
    con.print(head + f"objective {fmt(fy['objective'], 9)} {unit}, gap to the typical days {100 * fy['gap']:+.3f} %; "
              + (missed if failed else "every target holds"), highlight=False)


def instance_summary(inst: Instance) -> str:
    """One line: sites per tier, workloads per class, candidate pairs."""
    from computeplan.model.data import build_data

    tiers: dict[str, int] = {}
    for s in inst.sites:
        tiers[s.tier] = tiers.get(s.tier, 0) + 1
    classes: dict[str, int] = {}
    for w in inst.workloads:
        classes[w.class_] = classes.get(w.class_, 0) + 1
    data = build_data(inst)
    t = ", ".join(f"{n} {k}" for k, n in tiers.items())
    c = ", ".join(f"{n} {k}" for k, n in sorted(classes.items()))
    return (
        f"{inst.name}: valid. {len(inst.sites)} sites ({t}); {len(inst.workloads)} workloads ({c}); "
        f"{data.n_pools} pools; {data.n_cand} candidate (workload, pool) pairs; "
        f"targets: {', '.join(inst.targets.given()) or 'none'}"
        + (f"; {data.n_periods} periods ({data.horizon:g} h)" if data.timed else "")
    )
