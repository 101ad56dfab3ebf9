"""The HTML report: one self-contained file of a result and, when present beside it, the
sweep, headroom, outage and capacity-value tables.

The file needs nothing at view time: no script, no font, no image and no style sheet is
fetched (a Content-Security-Policy forbids it), and every chart is an SVG drawn by
matplotlib and written inline. The trade-off chart of a sweep is also written on its own
(PNG or SVG) by :func:`plot_sweep`.
"""

from __future__ import annotations

import html
import io
import json
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.figure import Figure

from computeplan.errors import UsageError
from computeplan.model.indicators import OBJECTIVE_UNITS as UNITS
from computeplan.plan.result import Result, atomic_write_text
from computeplan.present.build import build_section
from computeplan.present.fmt import fmt
from computeplan.present.report_time import pue_caps, site_caps, time_section
from computeplan.present.tables import indicator_rows, tier_table

GREEN, RED, BLUE, GREY, ORANGE = "#2e7d32", "#c62828", "#1f5f99", "#9e9e9e", "#ef6c00"
SWEEP_PANELS = (("objective", "objective"), ("fleet_pue", "fleet PUE"),
                ("ece_gflops_per_w", "ECE, GFLOPS/W"), ("beyond_need_energy_kwh", "energy beyond need, kWh"))

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;margin:0;color:#212121;
 background:#fafafa;line-height:1.4}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:1.7em;margin:0 0 4px}h2{font-size:1.25em;margin:34px 0 8px;border-bottom:2px solid #1f5f99;
 padding-bottom:3px}h3{font-size:1.05em;margin:18px 0 6px}
.sub{color:#616161;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:8px 14px;min-width:150px}
.card .k{color:#757575;font-size:.8em;text-transform:uppercase;letter-spacing:.04em}.card .v{font-size:1.25em}
table{border-collapse:collapse;background:#fff;margin:8px 0 14px;font-size:.88em}
th,td{border:1px solid #e0e0e0;padding:3px 8px;text-align:right;white-space:nowrap}
th{background:#eef3f8}td.l,th.l{text-align:left}td.wrap{white-space:normal;max-width:520px;text-align:left}
.met{color:#2e7d32;font-weight:600}.missed{color:#c62828;font-weight:600}
.chart svg{max-width:100%;height:auto}.note{color:#616161;font-size:.9em}
.status-optimal{color:#2e7d32}.status-feasible{color:#ef6c00}.status-infeasible,.status-time_limit,
.status-error{color:#c62828}
.scroll{overflow-x:auto;max-width:100%}
nav a{margin-right:12px;color:#1f5f99;text-decoration:none}
"""


# --------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------
def _svg(fig: Figure, name: str, alt: str | None = None) -> str:
    """The figure as an inline <svg> element (no XML prolog; ids unique to this chart),
    in a ``div`` with id ``chart-NAME`` and, given ``alt``, that text as its label."""
    buf = io.StringIO()
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": f"computeplan-{name}"}):
        fig.savefig(buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    text = buf.getvalue()
    start = text.find("<svg")
    label = f' aria-label="{html.escape(alt, quote=True)}"' if alt else ""
    return f'<div class="chart" id="chart-{html.escape(name)}" role="img"{label}>{text[start:]}</div>'


def _figure(w: float, h: float, ncols: int = 1, nrows: int = 1) -> tuple[Figure, Any]:
    fig = Figure(figsize=(w, h), dpi=100, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="both", color="#eeeeee", linewidth=0.6)
        ax.set_axisbelow(True)
    return fig, axes


def sweep_axes(df: pd.DataFrame) -> list[str]:
    """The varied columns of a sweep table: those before ``status``."""
    cols = list(df.columns)
    if "status" not in cols:
        raise UsageError("sweep table: no 'status' column; not a computeplan sweep")
    return cols[: cols.index("status")]


def sweep_figure(df: pd.DataFrame, objective_name: str = "objective") -> Figure:
    """Objective and indicators against the first varied value (one line per value of a
    second varied path); infeasible or failed points marked with a red x."""
    axes_cols = sweep_axes(df)
    x = axes_cols[0]
    group = axes_cols[1] if len(axes_cols) > 1 else None
    panels = [(c, lab) for c, lab in SWEEP_PANELS if c in df.columns]
    fig, axes = _figure(10, 6.4, 2, 2)
    keys: list[Any] = [None] if group is None else list(dict.fromkeys(df[group].tolist()))
    colours = ["#1f5f99", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#455a64"]
    for k, (col, label) in enumerate(panels[:4]):
        ax = axes.ravel()[k]
        for g, key in enumerate(keys):
            sub = df if key is None else df[df[group] == key]
            ok = sub["status"].isin(["optimal", "feasible"])
            xs = sub.loc[ok, x].astype(float)
            ys = sub.loc[ok, col].astype(float)
            lab = None if key is None else f"{group} = {key:g}" if isinstance(key, float) else f"{group} = {key}"
            ax.plot(xs, ys, marker="o", markersize=3.5, linewidth=1.4, color=colours[g % len(colours)], label=lab)
            bad = sub.loc[~ok, x].astype(float)
            if len(bad):
                ax.plot(bad, np.zeros(len(bad)), linestyle="none", marker="x", color=RED, markersize=7,
                        transform=ax.get_xaxis_transform(), clip_on=False,
                        label="no plan" if (g == 0 and k == 0) else None)
        ax.set_xlabel(x)
        ax.set_ylabel(objective_name if col == "objective" else label)
        if k == 0 and (group is not None or (~df["status"].isin(["optimal", "feasible"])).any()):
            ax.legend(fontsize=8, frameon=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(f"Trade-off: {objective_name} and indicators against {x}", fontsize=11)
    return fig


def plot_sweep(df: pd.DataFrame, path: str | Path, objective_name: str = "objective") -> Path:
    """Write the trade-off chart of a sweep table to ``path`` (.png or .svg), atomically."""
    p = Path(path)
    kind = p.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise UsageError(f"{p}: the chart is written as .png or .svg")
    fig = sweep_figure(df, objective_name)
    tmp = p.with_name(f".{p.name}.tmp")
    try:
        with rc_context({"svg.hashsalt": "computeplan-sweep"}):
            fig.savefig(tmp, format=kind, dpi=130, metadata={"Date": None} if kind == "svg" else None)
        tmp.replace(p)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return p


def _targets_chart(res: Result) -> str | None:
    rows = [r for r in indicator_rows(res) if r["target"] and r["margin"] is not None]
    if not rows:
        return None
    names, margins, colours = [], [], []
    for t in rows:
        T, slack = float(t["target"]), float(t["margin"])
        # a PUE's margin as a share of the allowed overhead (T - 1); others of the target
        pct = 100.0 * slack / max(abs(T - t["floor"]), 1e-9)
        names.append(str(t["name"]))
        margins.append(0.0 if abs(pct) < 1e-6 else pct)  # solver noise at a binding target
        colours.append(GREEN if t["met"] else RED)
    fig, axes = _figure(8.5, 0.5 + 0.38 * len(rows))
    ax = axes[0, 0]
    yy = np.arange(len(rows))
    ax.barh(yy, margins, color=colours)
    for y0, m0 in zip(yy, margins, strict=True):
        ax.annotate(f"{m0:.3g} %", (m0, y0), xytext=(4 if m0 >= 0 else -4, 0), textcoords="offset points",
                    va="center", ha="left" if m0 >= 0 else "right", fontsize=8)
    ax.set_yticks(yy, names)
    ax.invert_yaxis()
    ax.axvline(0, color="#424242", linewidth=0.8)
    ax.set_xlabel("margin to target, % (PUE: of the allowed overhead T - 1); 0 = binding")
    return _svg(fig, "targets")


def _bar_chart(name: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]],
               title: str, horizontal: bool = False) -> str:
    n = len(labels)
    k = len(series)
    if horizontal:
        fig, axes = _figure(10, 0.8 + 0.26 * n, k, 1)
        for j, (lab, vals, col) in enumerate(series):
            ax = axes[0, j]
            yy = np.arange(n)
            ax.barh(yy, vals, color=col)
            ax.set_yticks(yy, labels if j == 0 else [""] * n, fontsize=8)
            ax.invert_yaxis()
            ax.set_xlabel(lab)
    else:
        fig, axes = _figure(10, 2.8, k, 1)
        for j, (lab, vals, col) in enumerate(series):
            ax = axes[0, j]
            xx = np.arange(n)
            ax.bar(xx, vals, color=col)
            ax.set_xticks(xx, labels)
            ax.set_ylabel(lab)
    fig.suptitle(title, fontsize=11)
    return _svg(fig, name)


def _sites_chart(res: Result) -> str:
    s = res.sites
    caps = site_caps(res)
    fleet_cap, _ = pue_caps(res)
    n = len(s)
    fig, axes = _figure(10, 0.9 + 0.27 * n, 2, 1)
    yy = np.arange(n)
    labels = [f"{i} ({t[0]})" for i, t in zip(s["id"], s["tier"], strict=True)]
    ax = axes[0, 0]
    util = s["utilisation"].astype(float).fillna(0.0)
    ax.barh(yy, util * 100, color=BLUE)
    ax.set_yticks(yy, labels, fontsize=8)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("utilisation, % of installed servers busy")
    ax = axes[0, 1]
    pue = s["pue"].astype(float)
    ok = pue.notna()
    over = [bool(caps.get(i) is not None and p > caps[i] * (1 + 1e-6)) for i, p in zip(s["id"], pue, strict=True)]
    refs = [*caps.values(), *([fleet_cap] if fleet_cap is not None else [])]
    finite = pue[ok].to_numpy(dtype=float)
    typical = float(np.quantile(finite, 0.75)) if finite.size else 1.5
    xmax = max(1.6, 1.15 * max([typical, *refs]))
    xs = np.minimum(pue[ok].to_numpy(dtype=float), xmax)
    colours = [RED if o else BLUE for o, k in zip(over, ok, strict=True) if k]
    ax.scatter(xs, yy[ok.to_numpy()], color=colours, s=22, zorder=3, label="site PUE")
    for x0, y0, p0 in zip(xs, yy[ok.to_numpy()], pue[ok], strict=True):
        if p0 > xmax:  # off the scale: drawn at the edge with its value
            ax.annotate(f"{p0:.3g} >", (x0, y0), xytext=(-6, 0), textcoords="offset points", ha="right",
                        va="center", fontsize=7)
    ax.set_xlim(min(1.0, float(np.min(xs)) if xs.size else 1.0), xmax)
    first = True
    for j, sid in enumerate(s["id"]):
        if sid in caps:
            ax.plot([caps[sid]] * 2, [j - 0.4, j + 0.4], color=RED, linewidth=2, label="cap" if first else None)
            first = False
    if fleet_cap is not None:
        ax.axvline(fleet_cap, color=ORANGE, linestyle="--", linewidth=1, label="fleet PUE target")
    ax.set_yticks(yy, [""] * n)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel("PUE (facility / IT power); no dot: no IT load")
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    fig.suptitle("Site utilisation, and PUE against its cap", fontsize=11)
    return _svg(fig, "sites")


def _capacity_chart(cap: pd.DataFrame, unit: str) -> str | None:
    top = cap[cap["value_per_kw"].astype(float) != 0].head(15)
    if top.empty:
        return None
    fig, axes = _figure(8.5, 0.7 + 0.32 * len(top))
    ax = axes[0, 0]
    yy = np.arange(len(top))
    vals = top["value_per_kw"].astype(float)
    ax.barh(yy, vals, color=[GREEN if v > 0 else RED for v in vals])
    ax.set_yticks(yy, top["site"].astype(str), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"value of one more IT kW ({unit} of objective saved per kW)")
    return _svg(fig, "capacity")


def _outage_chart(out: pd.DataFrame) -> str | None:
    rows = out[out["site"] != "(none)"]
    rows = rows[rows["status"].isin(["optimal", "feasible"])]
    if rows.empty or "unserved_tflops" not in rows:
        return None
    labels = rows["site"].astype(str).tolist()
    series = [("unserved TFLOPS", rows["unserved_tflops"].astype(float).tolist(), RED)]
    if "delta.energy_kwh" in rows:
        series.append(("energy change vs base, kWh", rows["delta.energy_kwh"].astype(float).tolist(), BLUE))
    return _bar_chart("outage", labels, series, "Each site removed in turn", horizontal=True)


# --------------------------------------------------------------------------------------
# HTML pieces
# --------------------------------------------------------------------------------------
def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _cell(x: Any) -> str:
    return _e(fmt(x))


def _table(df: pd.DataFrame, cols: Sequence[str], heads: Sequence[str] | None = None,
           left: Iterable[str] = (), wrap: Iterable[str] = (), cls: str = "") -> str:
    heads = list(heads or cols)
    left, wrap = set(left), set(wrap)
    th = "".join(f'<th class="{"l" if c in left else ""}">{_e(h)}</th>' for c, h in zip(cols, heads, strict=True))
    body = []
    for _, r in df.iterrows():
        tds = []
        for c in cols:
            v = r.get(c)
            klass = "wrap" if c in wrap else "l" if c in left else ""
            if c == "status" and isinstance(v, str):
                klass += f" status-{v}"
            text = _e(v) if isinstance(v, str) else _cell(v)
            tds.append(f'<td class="{klass.strip()}">{text}</td>')
        body.append("<tr>" + "".join(tds) + "</tr>")
    return (f'<div class="scroll"><table class="{cls}"><thead><tr>{th}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _cards(items: Sequence[tuple[str, str]]) -> str:
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="k">{_e(k)}</div><div class="v">{_e(v)}</div></div>' for k, v in items
    ) + "</div>"


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{_e(sid)}"><h2>{_e(title)}</h2>{body}</section>'


def _indicators_section(res: Result) -> str:
    ind = res.indicators
    rows = [{**row, "met": "-" if row["met"] is None else ("met" if row["met"] else "missed"),
             "shadow": row["shadow_price"]} for row in indicator_rows(res)]
    df = pd.DataFrame(rows)
    table = _table(df, ["indicator", "value", "target", "met", "margin", "shadow"],
                   ["indicator", "value", "target", "met", "margin", "shadow price (objective per unit of target)"],
                   left=["indicator"], cls="indicators")
    table = table.replace(">met<", ' class="met">met<').replace(">missed<", ' class="missed">missed<')
    other = pd.DataFrame([{"figure": k, "value": ind.get(k)} for k in
                          ("energy_kwh", "cost", "carbon_t", "served_tflops", "unserved_tflops", "it_kw",
                           "facility_kw") if k in ind])
    chart = _targets_chart(res) or ""
    return table + chart + _table(other, ["figure", "value"], left=["figure"])


def _tiers_section(res: Result) -> str:
    tiers = tier_table(res)
    s = res.sites
    if tiers.empty:
        return '<p class="note">No site figures in this result.</p>'
    t = _table(tiers, ["tier", "sites", "it_kw", "facility_kw", "pue", "energy_kwh", "carbon_t",
                       "utilisation_of_used_pools"],
               ["tier", "sites", "IT kW", "facility kW", "PUE", "energy kWh", "carbon t", "utilisation"],
               left=["tier"])
    chart_t = _bar_chart("tiers", tiers["tier"].astype(str).tolist(),
                         [("energy, kWh", tiers["energy_kwh"].astype(float).tolist(), BLUE),
                          ("carbon, t", tiers["carbon_t"].astype(float).tolist(), GREY)],
                         "Energy and carbon per tier")
    ss = s.sort_values("energy_kwh", ascending=False)
    chart_s = _bar_chart("site-energy", ss["id"].astype(str).tolist(),
                         [("energy, kWh", ss["energy_kwh"].astype(float).tolist(), BLUE),
                          ("carbon, t", ss["carbon_t"].astype(float).tolist(), GREY)],
                         "Energy and carbon per site", horizontal=True)
    return "<h3>Per tier</h3>" + t + chart_t + "<h3>Per site</h3>" + chart_s


def _sites_section(res: Result) -> str:
    s = res.sites.copy()
    caps = site_caps(res)
    s["pue_cap"] = [caps.get(i) for i in s["id"]]
    cols = ["id", "tier", "zone", "it_kw", "it_capacity_kw", "active_halls", "halls", "utilisation", "pue",
            "pue_cap", "facility_kw", "energy_kwh", "cost", "carbon_t"]
    cols = [c for c in cols if c in s.columns]
    return _sites_chart(res) + _table(s, cols, [c.replace("_", " ") for c in cols], left=["id", "tier", "zone"])


def _beyond_section(res: Result) -> str:
    ind = res.indicators
    n, kwh = ind.get("servers_beyond_need") or 0.0, ind.get("beyond_need_energy_kwh") or 0.0
    total = ind.get("energy_kwh") or 0.0
    text = (
        "<p>A PUE target can be met by keeping servers on beyond what the work needs (n &gt; b / umax): their "
        "idle power raises IT power and dilutes the fixed overhead. The plan reports them and the facility "
        "energy they draw (idle kW &times; (1 + k) &times; hours); effective compute efficiency falls by as "
        "much.</p>"
    )
    cards = _cards([("servers beyond need", fmt(n)), ("energy they draw, kWh", fmt(kwh)),
                    ("share of all energy", f"{100 * kwh / total:.3g} %" if total else "-")])
    s = res.sites
    if "servers_beyond_need" in s and (s["servers_beyond_need"].astype(float) > 0).any():
        sub = s[s["servers_beyond_need"].astype(float) > 0].sort_values("beyond_need_energy_kwh", ascending=False)
        table = _table(sub, ["id", "tier", "servers_beyond_need", "beyond_need_energy_kwh", "pue"],
                       ["site", "tier", "servers_beyond_need", "beyond_need_energy_kwh", "PUE"], left=["id", "tier"])
        chart = _bar_chart("beyond-need", sub["id"].astype(str).tolist(),
                           [("energy beyond need, kWh", sub["beyond_need_energy_kwh"].astype(float).tolist(),
                             ORANGE)], "Energy of servers powered beyond need, per site", horizontal=True)
        return text + cards + chart + table
    return text + cards + '<p class="note">No server is powered beyond need in this plan.</p>'


def _capacity_section(res: Result, cap: pd.DataFrame | None) -> str:
    unit = UNITS.get(res.objective_name, "")
    if cap is None:
        s = res.sites
        if s.empty or "capacity_shadow_price" not in s or s["capacity_shadow_price"].isna().all():
            return '<p class="note">No capacity shadow prices in this result.</p>'
        cap = s.assign(site=s["id"], shadow_price=s["capacity_shadow_price"].astype(float))
        halls_on = (s["active_halls"].astype(float) > 0 if "active_halls" in s
                    else pd.Series(True, index=s.index, dtype=bool))
        # a site with every hall off gains nothing from more capacity until a hall is on
        cap["value_per_kw"] = (-cap["shadow_price"]).where(halls_on, 0.0) + 0.0
        cap = cap.sort_values(["value_per_kw", "site"], ascending=[False, True]).reset_index(drop=True)
        cap.insert(0, "rank", np.arange(1, len(cap) + 1))
        note = ('<p class="note">Ranges are not shown: run <code>computeplan capacity INSTANCE --out DIR</code> '
                "or <code>computeplan report DIR --instance INSTANCE</code> to add the range over which each "
                "price holds.</p>")
        cols = ["rank", "site", "tier", "value_per_kw", "it_kw", "it_capacity_kw"]
    else:
        note = ('<p class="note">value per kW = minus the capacity shadow price: objective saved by one more IT '
                "kW, hall count and fixed overhead held. The price holds while the capacity stays between the two "
                "limits (HiGHS ranging of the capacity row).</p>")
        cols = ["rank", "site", "tier", "value_per_kw", "it_kw", "active_capacity_kw", "holds_from_kw",
                "holds_to_kw", "grid_kw", "grid_value_per_kw", "note"]
        cols = [c for c in cols if c in cap.columns]
    heads = [f"value per kW ({unit})" if c == "value_per_kw" else c.replace("_", " ") for c in cols]
    return note + (_capacity_chart(cap, unit) or "") + _table(cap, cols, heads, left=["site", "tier"],
                                                              wrap=["note"])


def _sweep_section(df: pd.DataFrame, res: Result) -> str:
    axes = sweep_axes(df)
    chart = _svg(sweep_figure(df, res.objective_name if res.objective_name else "objective"), "sweep")
    sp_cols = [c for c in df.columns if c.startswith("shadow_price.")]
    cols = [*axes, "status", "objective", "fleet_pue", "ece_gflops_per_w", "energy_kwh",
            "beyond_need_energy_kwh", "unserved_tflops", *sp_cols, "binding", "diagnosis"]
    cols = [c for c in dict.fromkeys(cols) if c in df.columns]
    return chart + _table(df, cols, left=["status", "binding"], wrap=["diagnosis"])


def _headroom_section(h: dict[str, Any]) -> str:
    f = h.get("factor")
    cards = _cards([("growth factor", "unbounded" if f is None and "unbounded" in str(h.get("note", "")) else fmt(f)),
                    ("demand", f"{h.get('class') or 'all must-serve'}"),
                    ("method", str(h.get("method", ""))),
                    ("max TFLOPS", fmt(h.get("max_tflops")))])
    cons = pd.DataFrame(h.get("constraints") or [], columns=["name", "kind", "gain_per_pct"])
    table = (_table(cons, ["name", "kind", "gain_per_pct"], ["binding constraint", "kind",
                                                            "factor gained per 1 % loosening"], left=["name", "kind"])
             if not cons.empty else "")
    note = f'<p class="note">{_e(h["note"])}</p>' if h.get("note") else ""
    return cards + table + note


def _outage_section(df: pd.DataFrame) -> str:
    chart = _outage_chart(df) or ""
    cols = ["site", "tier", "status", "objective", "unserved_tflops", "unserved_share", "lost_tflops",
            "absorbed_tflops", "absorbed_by", "delta.energy_kwh", "delta.fleet_pue", "delta.ece_gflops_per_w",
            "diagnosis"]
    cols = [c for c in cols if c in df.columns]
    return chart + _table(df, cols, left=["site", "tier", "status", "absorbed_by"], wrap=["diagnosis"])


def build_report(
    res: Result,
    *,
    sweep: pd.DataFrame | None = None,
    headroom: dict[str, Any] | None = None,
    outage: pd.DataFrame | None = None,
    capacity: pd.DataFrame | None = None,
) -> str:
    """The report as one HTML document (a string)."""
    unit = UNITS.get(res.objective_name, "")
    sections: list[tuple[str, str, str]] = []
    head_cards = [("status", f"{res.status.value} ({res.method})")]
    if res.objective_value is not None:
        head_cards.append((res.objective_name, f"{fmt(res.objective_value, 9)} {unit}"))
        head_cards.append(("gap", fmt(res.gap)))
    for k in ("fleet_pue", "ece_gflops_per_w", "carbon_t", "renewable_share"):
        if res.indicators.get(k) is not None:
            head_cards.append((k, fmt(res.indicators[k])))
    head_cards.append(("solve time", f"{res.solve_seconds:.2f} s"))
    if res.has_plan:
        sections.append(("indicators", "Indicators against targets", _indicators_section(res)))
        sections.append(("tiers", "Energy and carbon per tier and per site", _tiers_section(res)))
        sections.append(("sites", "Sites: utilisation, and PUE against its cap", _sites_section(res)))
        if not res.periods.empty:
            sections.append(("time", "Over time: power, PUE, load and peaks", time_section(res, _table, _figure, _svg)))
        sections.append(("beyond-need", "Servers powered beyond need", _beyond_section(res)))
        sections.append(("capacity-value", "Capacity value: what one more kW is worth, per site",
                         _capacity_section(res, capacity)))
        build = build_section(res, _table, _figure, _svg)
        if build is not None:
            sections.append(("build", "What to build", build))
    else:
        diag = res.diagnosis or {}
        moves = "".join(f"<li>{_e(m.get('message', ''))}</li>" for m in diag.get("moves", []))
        sections.append(("diagnosis", "No plan: what must move",
                         f"<p>{_e(diag.get('summary', 'no plan'))}</p><ul>{moves}</ul>"))
    if sweep is not None and not sweep.empty:
        sections.append(("trade-offs", "Trade-off curves (sweep)", _sweep_section(sweep, res)))
    if headroom is not None:
        sections.append(("headroom", "Headroom: how much more demand the fleet can take", _headroom_section(headroom)))
    if outage is not None and not outage.empty:
        sections.append(("outages", "Outages (N-1)", _outage_section(outage)))
    notes = "".join(f"<li>{_e(n)}</li>" for n in res.notes)
    if notes:
        sections.append(("notes", "Notes", f"<ul>{notes}</ul>"))
    nav = "<nav>" + "".join(f'<a href="#{_e(i)}">{_e(t.split(":")[0])}</a>' for i, t, _ in sections) + "</nav>"
    body = "".join(_section(i, t, b) for i, t, b in sections)
    title = f"computeplan report: {res.instance}"
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{csp}">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body><main>"
        f"<h1>{_e(res.instance)}</h1>"
        f'<p class="sub">computeplan report; objective {_e(res.objective_name)} ({_e(unit)})</p>'
        f"{_cards(head_cards)}{nav}{body}"
        "</main></body></html>\n"
    )


# --------------------------------------------------------------------------------------
# Reading a result folder
# --------------------------------------------------------------------------------------
def _read_table(folder: Path, name: str) -> pd.DataFrame | None:
    for ext, reader in (("csv", pd.read_csv), ("parquet", pd.read_parquet)):
        p = folder / f"{name}.{ext}"
        if p.is_file():
            try:
                return reader(p)
            except Exception as e:
                raise UsageError(f"{p}: not a readable {ext.upper()} table: {e}") from None
    return None


def write_report(
    source: Result | str | Path,
    output: str | Path,
    *,
    folder: str | Path | None = None,
    capacity: Callable[[Result], pd.DataFrame] | None = None,
) -> Path:
    """Write the HTML report of a result (a :class:`Result`, a ``result.json`` or its folder).

    The folder (``folder``, or the one holding ``result.json``) is searched for
    ``sweep.csv``/``.parquet``, ``headroom.json``, ``outage.csv``/``.parquet`` and
    ``capacity.csv``/``.parquet``; each one found adds its section. When no capacity table
    is there, ``capacity(result)`` (when given) provides it: the report itself solves
    nothing.
    """
    if isinstance(source, Result):
        res = source
        base = Path(folder) if folder is not None else None
    else:
        p = Path(source)
        rj = p / "result.json" if p.is_dir() else p
        if not rj.is_file():
            raise UsageError(f"{source}: no result.json there (write one with computeplan solve --out DIR)")
        try:
            res = Result.read(rj, full_year=False)  # the report shows the year's summary, not its plan
        except (OSError, ValueError, KeyError) as e:
            raise UsageError(f"{rj}: not a readable computeplan result: {e}") from None
        base = Path(folder) if folder is not None else rj.parent
    sweep = outage = cap_table = None
    headroom: dict[str, Any] | None = None
    if base is not None and base.is_dir():
        sweep = _read_table(base, "sweep")
        outage = _read_table(base, "outage")
        cap_table = _read_table(base, "capacity")
        hj = base / "headroom.json"
        if hj.is_file():
            try:
                headroom = json.loads(hj.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise UsageError(f"{hj}: not readable JSON: {e}") from None
    if cap_table is None and capacity is not None and res.has_plan:
        cap_table = capacity(res)
    text = build_report(res, sweep=sweep, headroom=headroom, outage=outage, capacity=cap_table)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, text)
