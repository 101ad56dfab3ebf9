"""What to build (FORMULATION.md section 11), as the terminal and the HTML report show it:
one table computed once from a result's ``build`` block, and a map-like chart of the
sites by zone with the new capacity marked."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
from rich.console import Console
from rich.table import Table

from computeplan.plan.result import Result
from computeplan.present.fmt import fmt

COLUMNS = ("what", "site", "hardware", "amount", "capex_per_year", "value_of_one_more")
HEADS = ("build", "site", "hardware", "amount", "capital per year", "value of one more (objective saved)")


def _saving(price: Any) -> float | None:
    return None if price is None else -float(price) + 0.0


def build_table(res: Result) -> pd.DataFrame | None:
    """One row per thing built (new halls at a site, new servers in a pool, a site opened),
    with its annual capital cost and what one more buildable unit would save (minus the
    limit's shadow price; 0 where the limit does not bind). None without a build block."""
    blk = res.extra.get("build")
    if not isinstance(blk, dict):
        return None
    rows: list[dict[str, Any]] = []
    for r in blk.get("sites_opened", []):
        moved = ", ".join(r.get("workloads", []))
        rows.append({"what": "open site", "site": r["site"], "hardware": "", "amount": 1.0,
                     "capex_per_year": r["capex_per_year"], "value_of_one_more": None,
                     "workloads": moved})
    for r in blk.get("halls", []):
        if r["new_halls"] > 0:
            rows.append({"what": "halls", "site": r["site"], "hardware": "", "amount": float(r["new_halls"]),
                         "capex_per_year": r["capex_per_year"], "value_of_one_more": _saving(r["shadow_price"])})
    for r in blk.get("servers", []):
        if r["new_servers"] > 0:
            rows.append({"what": "servers", "site": r["site"], "hardware": r["hardware"],
                         "amount": float(r["new_servers"]), "capex_per_year": r["capex_per_year"],
                         "value_of_one_more": _saving(r["shadow_price"])})
    return pd.DataFrame(rows, columns=[*COLUMNS, "workloads"])


def print_build(res: Result, con: Console) -> None:
    """The "what to build" table of the terminal summary (nothing without a build block)."""
    df = build_table(res)
    if df is None:
        return
    blk = res.extra["build"]
    title = (f"What to build: {fmt(blk.get('capex_per_year'))} capital per year, "
             f"{fmt(blk.get('embodied_carbon_t'))} t CO2e embodied per year")
    if df.empty:
        con.print(f"\n{title}: nothing; the existing fleet is the better plan")
        return
    t = Table(title=title, title_justify="left")
    for col, head in zip(COLUMNS, HEADS, strict=True):
        t.add_column(head, justify="left" if col in ("what", "site", "hardware") else "right")
    for _, r in df.iterrows():
        t.add_row(str(r["what"]), str(r["site"]), str(r["hardware"]), fmt(r["amount"]), fmt(r["capex_per_year"]),
                  fmt(r["value_of_one_more"]))
    con.print(t)
    for _, r in df[df["what"] == "open site"].iterrows():
        con.print(f"  site {r['site']} opens; moved there: {r['workloads'] or 'no workload'}")


def build_chart(res: Result, figure: Callable[..., tuple[Any, Any]], svg: Callable[[Any, str], str]) -> str:
    """Sites by zone (one column per zone, the sites of a zone stacked; a result holds no
    coordinates), marker area by the IT load of the plan; new sites and sites that grow are
    marked. ``figure`` and
    ``svg`` are the report's figure and inline-SVG helpers."""
    sites = res.sites
    blk = res.extra.get("build") or {}
    halls = {r["site"]: r["new_halls"] for r in blk.get("halls", []) if r["new_halls"] > 0}
    servers: dict[str, float] = {}
    for r in blk.get("servers", []):
        servers[r["site"]] = servers.get(r["site"], 0.0) + float(r["new_servers"])
    opened = {r["site"] for r in blk.get("sites_opened", [])}
    zones = sorted(sites["zone"].astype(str).unique())
    fig, axes = figure(max(4.0, 1.3 * len(zones) + 2.0), 3.6)
    ax = axes[0, 0]
    cap = sites["it_kw"].astype(float)
    biggest = max(float(cap.max()), 1.0)
    height: dict[str, int] = {}
    for (_, r), c in zip(sites.iterrows(), cap, strict=True):
        sid, zone = str(r["id"]), str(r["zone"])
        x, y = zones.index(zone), height.get(zone, 0)
        height[zone] = y + 1
        new = sid in opened or sid in halls or servers.get(sid, 0.0) > 0
        colour = "#ef6c00" if sid in opened else "#1f5f99" if new else "#9e9e9e"
        ax.scatter([x], [y], s=60 + 600 * max(c, 0.0) / biggest, color=colour, alpha=0.7,
                   edgecolors="#c62828" if new else "none", linewidths=2)
        label = sid + (f"\n+{fmt(halls[sid])} hall(s)" if sid in halls else "") + (
            f"\n+{fmt(servers[sid])} servers" if servers.get(sid, 0.0) > 0 else "")
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(12, -4), fontsize=7)
    ax.set_xticks(range(len(zones)), zones, rotation=30, ha="right", fontsize=8)
    ax.set_yticks([])
    ax.set_xlim(-0.6, len(zones) - 0.1)
    ax.set_ylim(-0.8, max(height.values(), default=1) - 0.2)
    ax.set_title("by zone - orange: opened, ringed: grows, grey: as today; area: IT load",
                 fontsize=8)
    return svg(fig, "build")


def build_section(res: Result, table: Callable[..., str], figure: Callable[..., tuple[Any, Any]],
                  svg: Callable[[Any, str], str]) -> str | None:
    """The report's "what to build" section (None without a build block)."""
    df = build_table(res)
    if df is None:
        return None
    blk = res.extra["build"]
    head = (f"<p>Capital per year {fmt(blk.get('capex_per_year'))}; embodied carbon of new servers "
            f"{fmt(blk.get('embodied_carbon_t'))} t CO2e per year of their lifetime.</p>")
    if df.empty:
        return head + '<p class="note">Nothing is built: the existing fleet is the better plan.</p>' + build_chart(
            res, figure, svg)
    return head + build_chart(res, figure, svg) + table(df, [*COLUMNS, "workloads"],
                                                         [*HEADS, "workloads moved there"],
                                                         left=["what", "site", "hardware"], wrap=["workloads"])
