"""The report's time charts (FORMULATION.md section 10), drawn only for a result with periods.

Every chart is computed from the result's per-period tables (``Result.periods``, one row
per site and period; ``Result.served``, one row per workload class and period) and its
site records, by a function that returns the chart's numbers as a DataFrame, so the
numbers can be checked apart from the drawing:

- :func:`clock` -- each period's energy weight ``w = hours x weight``, its day and its
  hour of day (from ``datetime`` when given, else from the running clock);
- :func:`day_hour` -- fleet facility power and fleet PUE per day and hour of day;
- :func:`load_signal` -- TFLOPS served and demanded per workload class against the
  signal the objective follows (price, carbon intensity; temperature for energy), over
  the horizon or its most telling week;
- :func:`pue_by_month` -- energy-weighted PUE per month (per day under two months),
  for the fleet and each tier, and the PUE caps of the targets;
- :func:`site_peaks` -- each site's peak facility power, when, and its ``grid_kw``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from computeplan.model.targets import TARGETS, site_key
from computeplan.plan.result import Result
from computeplan.present.fmt import fmt

GREEN, RED, BLUE, GREY, ORANGE = "#2e7d32", "#c62828", "#1f5f99", "#9e9e9e", "#ef6c00"
COLOURS = ("#1f5f99", "#ef6c00", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#455a64")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})")
#: The per-period series each objective follows, with its axis label.
SIGNALS = {"cost": ("price_per_kwh", "electricity price per kWh"),
           "carbon_kg": ("carbon_kg_per_kwh", "grid carbon intensity, kg CO2 per kWh"),
           "energy_kwh": ("temperature_c", "outdoor temperature, deg C")}
WEEK_DAYS = 7
SHORT_DAYS = 60  # under two months, the PUE chart is per day


# --------------------------------------------------------------------------------------
# The charts' numbers
# --------------------------------------------------------------------------------------
def pue_caps(res: Result) -> tuple[float | None, dict[str, float]]:
    """The fleet PUE cap of the targets (None without one) and the site PUE caps by key
    (tier name or site id)."""
    fleet = next(t.name for t in TARGETS.values() if t.indicator == "fleet_pue")
    keyed_spec = next(t for t in TARGETS.values() if t.keyed and t.site_figure == "pue")
    fleet_cap = next((float(t["target"]) for t in res.target_list if t["name"] == fleet), None)
    keyed = {str(t["name"]).split(".", 1)[1]: float(t["target"]) for t in res.target_list
             if str(t["name"]).startswith(keyed_spec.name + ".")}
    return fleet_cap, keyed


def site_caps(res: Result) -> dict[str, float]:
    """Each site's PUE cap (its own key before its tier's), from the result's targets."""
    _, keyed = pue_caps(res)
    out = {}
    for s in res.site_records:
        key = site_key(s["id"], str(s.get("tier")), keyed)
        if key is not None:
            out[s["id"]] = keyed[key]
    return out


def clock(res: Result) -> pd.DataFrame:
    """One row per period, in time order: ``period``, ``hours`` (clock length), ``w`` (energy
    weight: hours x recurrences), ``day`` (a label: the date of ``datetime``, else ``day N``
    of the running clock), ``day_index`` (0, 1, ... in order of the days), ``hour`` (hour of
    day the period starts) and ``month`` (``YYYY-MM`` of ``datetime``, else a 30-day block
    of the running clock). A table without ``hours`` / ``weight`` columns weighs every
    period 1 h."""
    p = res.periods
    first = p.drop_duplicates("period").sort_values("period")
    hours = first["hours"].to_numpy(dtype=float) if "hours" in first else np.ones(len(first))
    rep = first["weight"].to_numpy(dtype=float) if "weight" in first else np.ones(len(first))
    stamps = [str(v) for v in first["datetime"]] if "datetime" in first else None
    found = [_ISO.match(s) for s in stamps] if stamps is not None else None
    if found is not None and all(m is not None for m in found):
        ms = [m for m in found if m is not None]
        day = [f"{m[1]}-{m[2]}-{m[3]}" for m in ms]
        hour = np.array([int(m[4]) + int(m[5]) / 60.0 for m in ms])
        month = [f"{m[1]}-{m[2]}" for m in ms]
    else:
        start = np.r_[0.0, np.cumsum(hours)[:-1]]
        d = np.floor(start / 24.0 + 1e-9).astype(np.int64)
        day = [f"day {k}" for k in d]
        hour = start - 24.0 * d
        month = [f"days {30 * (k // 30)}-{30 * (k // 30) + 29}" for k in d]
    day_index = pd.factorize(pd.Series(day), sort=False)[0]
    return pd.DataFrame({"period": first["period"].to_numpy(dtype=np.int64), "hours": hours, "w": hours * rep,
                         "day": day, "day_index": day_index, "hour": hour, "month": month})


def fleet_by_period(res: Result) -> pd.DataFrame:
    """Per period: the fleet's IT and facility kW (sums over sites) and its PUE."""
    p = res.periods
    g = p.groupby("period", sort=True)[["it_kw", "facility_kw"]].sum()
    it, fac = g["it_kw"].to_numpy(dtype=float), g["facility_kw"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        pue = np.where(it > 0, fac / np.where(it > 0, it, 1.0), np.nan)
    return pd.DataFrame({"period": g.index.to_numpy(dtype=np.int64), "it_kw": it, "facility_kw": fac, "pue": pue})


def day_hour(res: Result) -> pd.DataFrame:
    """One row per (day, hour of day) the periods cover: fleet facility kW (time-weighted
    mean of the periods overlapping that hour) and fleet PUE (facility over IT power in
    that hour). A period longer than an hour fills every hour it covers; an hour past
    midnight goes to the next day of the table."""
    ck, fl = clock(res), fleet_by_period(res)
    n_days = int(ck["day_index"].max()) + 1
    fac = np.zeros((n_days, 24))
    it = np.zeros((n_days, 24))
    cover = np.zeros((n_days, 24))
    for di, h0, ln, f, i in zip(ck["day_index"], ck["hour"], ck["hours"], fl["facility_kw"], fl["it_kw"],
                                strict=True):
        t, end = float(h0), float(h0) + float(ln)
        while t < end - 1e-9:
            cell = math.floor(t + 1e-9)
            part = min(end, cell + 1.0) - t
            d, h = int(di) + cell // 24, cell % 24
            if d < n_days:
                fac[d, h] += f * part
                it[d, h] += i * part
                cover[d, h] += part
            t += part
    days = ck.drop_duplicates("day_index").sort_values("day_index")["day"].tolist()
    dd, hh = np.nonzero(cover > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        pue = np.where(it[dd, hh] > 0, fac[dd, hh] / np.where(it[dd, hh] > 0, it[dd, hh], 1.0), np.nan)
    return pd.DataFrame({"day": [days[k] for k in dd], "day_index": dd, "hour": hh,
                         "facility_kw": fac[dd, hh] / cover[dd, hh], "pue": pue})


def moved_classes(res: Result) -> list[str]:
    """Workload classes whose served TFLOPS leave their demand shape in some period."""
    s = res.served
    if s.empty:
        return []
    gap = (s["served_tflops"] - s["demand_tflops"]).abs().groupby(s["class"]).max()
    scale = s.groupby("class")["demand_tflops"].max().clip(lower=1e-12)
    return sorted(str(c) for c in gap.index if gap[c] > 1e-6 * scale[c])


def fleet_signal(res: Result) -> tuple[str, str, pd.Series] | None:
    """The series the objective follows, per period, as the fleet sees it: the mean of the
    sites' series weighted by their IT capacity (None when the objective follows none)."""
    spec = SIGNALS.get(res.objective_name)
    p = res.periods
    if spec is None or spec[0] not in p or p[spec[0]].isna().all():
        return None
    col, label = spec
    cap = {s["id"]: float(s.get("it_capacity_kw") or 0.0) for s in res.site_records}
    wt = p["site"].map(cap).fillna(0.0).astype(float)
    if float(wt.sum()) <= 0:
        wt = pd.Series(1.0, index=p.index)
    wt = wt.where(p[col].notna(), 0.0)
    num = (wt * p[col].fillna(0.0)).groupby(p["period"]).sum()
    den = wt.groupby(p["period"]).sum()
    return col, label, (num / den.where(den > 0)).sort_index()


def load_signal(res: Result) -> pd.DataFrame:
    """One row per period of the horizon (two weeks or less) or of its most telling week:
    the week in which flexible classes move the most TFLOPS-hours from their shape (the
    week of the fleet's peak facility power when none moves). Columns: ``period``,
    ``start_h`` (clock hours from the window's start), ``hours``, ``day``, the signal
    (``signal``, see :func:`fleet_signal`), ``served`` and ``demand`` (TFLOPS summed over
    the classes shown: those that move, else every class) and the same per class shown
    (``served.<class>``, ``demand.<class>``). ``attrs``: ``signal`` (column and label, or
    None), ``classes``, ``moved`` (whether they move), ``whole`` (the whole horizon)."""
    ck = clock(res)
    s = res.served
    served = s.pivot(index="period", columns="class", values="served_tflops").sort_index()
    demand = s.pivot(index="period", columns="class", values="demand_tflops").sort_index()
    moved = moved_classes(res)
    classes = moved or [str(c) for c in served.columns]
    n_days = int(ck["day_index"].max()) + 1
    first_day = 0
    if n_days > 2 * WEEK_DAYS:
        if moved:
            shift = ((served[moved] - demand[moved]).abs().sum(axis=1).to_numpy() * ck["w"].to_numpy())
            per_day = np.bincount(ck["day_index"], weights=shift, minlength=n_days).astype(float)
        else:
            fac = fleet_by_period(res)["facility_kw"].to_numpy()
            per_day = np.zeros(n_days, dtype=float)
            np.maximum.at(per_day, ck["day_index"].to_numpy(), fac)
        score = np.asarray(np.convolve(per_day, np.ones(WEEK_DAYS), mode="valid") if moved
                           else [per_day[k:k + WEEK_DAYS].max() for k in range(n_days - WEEK_DAYS + 1)], dtype=float)
        first_day = int(np.argmax(score))
        keep = (ck["day_index"] >= first_day) & (ck["day_index"] < first_day + WEEK_DAYS)
    else:
        keep = pd.Series(True, index=ck.index)
    win = ck[keep.to_numpy()]
    out = pd.DataFrame({"period": win["period"].to_numpy(), "start_h": np.r_[0.0, np.cumsum(win["hours"])[:-1]],
                        "hours": win["hours"].to_numpy(), "day": win["day"].to_numpy()})
    sig = fleet_signal(res)
    if sig is not None:
        out["signal"] = sig[2].reindex(out["period"]).to_numpy()
    out["served"] = served[classes].sum(axis=1).reindex(out["period"]).to_numpy()
    out["demand"] = demand[classes].sum(axis=1).reindex(out["period"]).to_numpy()
    for c in classes:
        out[f"served.{c}"] = served[c].reindex(out["period"]).to_numpy()
        out[f"demand.{c}"] = demand[c].reindex(out["period"]).to_numpy()
    out.attrs.update({"signal": None if sig is None else sig[:2], "classes": classes, "moved": bool(moved),
                      "whole": n_days <= 2 * WEEK_DAYS})
    return out


def pue_by_month(res: Result) -> pd.DataFrame:
    """Energy-weighted PUE per month (per day when the periods span under two months):
    ``sum w P / sum w IT`` over the group's periods, for the fleet (``fleet``) and each tier
    (``tier.<tier>``); ``group`` is the month or day label."""
    ck = clock(res)
    per_day = ck["day_index"].max() + 1 < SHORT_DAYS
    key = "day" if per_day else "month"
    p = res.periods.merge(ck[["period", "w", key]], on="period")
    tier = {s["id"]: str(s.get("tier")) for s in res.site_records}
    p["tier"] = p["site"].map(tier)
    p["wp"], p["wi"] = p["w"] * p["facility_kw"], p["w"] * p["it_kw"]
    order = list(dict.fromkeys(ck[key]))

    def ratio(df: pd.DataFrame) -> pd.Series:
        g = df.groupby(key, sort=False)[["wp", "wi"]].sum().reindex(order)
        return (g["wp"] / g["wi"].where(g["wi"] > 0)).astype(float)

    out = pd.DataFrame({"group": order, "fleet": ratio(p).to_numpy()})
    for t in sorted(p["tier"].dropna().unique()):
        out[f"tier.{t}"] = ratio(p[p["tier"] == t]).to_numpy()
    out.attrs["by"] = key
    return out


def site_peaks(res: Result) -> pd.DataFrame:
    """Per site, highest peak first: ``peak_facility_kw``, ``peak_period``, ``at`` (its day and
    hour), ``grid_kw`` (None without a cap), ``grid_share`` (peak over cap) and ``at_cap``
    (the peak reaches the cap, to a relative 1e-6)."""
    ck = clock(res)
    day_of = dict(zip(ck["period"].tolist(), ck["day"].tolist(), strict=True))
    hour_of = dict(zip(ck["period"].tolist(), ck["hour"].tolist(), strict=True))
    rows = []
    for s in res.site_records:
        peak, at, grid = s.get("peak_facility_kw"), s.get("peak_period"), s.get("grid_kw")
        if peak is None:
            continue
        when = "-"
        if at is not None and int(at) in day_of:
            h = float(hour_of[int(at)])
            when = f"{day_of[int(at)]} {int(h):02d}:{round(60 * (h % 1)):02d}"
        share = None if grid is None else float(peak) / float(grid)
        rows.append({"site": s["id"], "tier": s.get("tier"), "peak_facility_kw": float(peak),
                     "peak_period": None if at is None else int(at), "at": when,
                     "grid_kw": None if grid is None else float(grid), "grid_share": share,
                     "at_cap": share is not None and share >= 1 - 1e-6})
    df = pd.DataFrame(rows, columns=["site", "tier", "peak_facility_kw", "peak_period", "at", "grid_kw",
                                     "grid_share", "at_cap"])
    return df.sort_values(["peak_facility_kw", "site"], ascending=[False, True], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------------------
# Drawing
# --------------------------------------------------------------------------------------
Figure = Callable[..., tuple[Any, Any]]
Svg = Callable[..., str]


def _kw_scale(top: float) -> tuple[float, str]:
    return (1000.0, "MW") if top >= 10_000 else (1.0, "kW")


def _day_ticks(ax: Any, labels: list[str], axis: str = "x") -> None:
    n = len(labels)
    step = max(1, math.ceil(n / 12))
    if n > 60:  # a year: the first day of each month where the labels are dates
        pos = [k for k, d in enumerate(labels) if d.endswith("-01") and _ISO.match(d + "T00:00")]
        if len(pos) >= 2:
            ticks = pos
        else:
            ticks = list(range(0, n, step))
    else:
        ticks = list(range(0, n, step))
    (ax.set_xticks if axis == "x" else ax.set_yticks)(ticks, [labels[k] for k in ticks], fontsize=7,
                                                      **({"rotation": 30, "ha": "right"} if axis == "x" else {}))


def heatmap_chart(res: Result, figure: Figure, svg: Svg) -> str:
    dh = day_hour(res)
    days = dh.drop_duplicates("day_index").sort_values("day_index")["day"].tolist()
    n = int(dh["day_index"].max()) + 1
    power = np.full((24, n), np.nan)
    pue = np.full((24, n), np.nan)
    power[dh["hour"], dh["day_index"]] = dh["facility_kw"]
    pue[dh["hour"], dh["day_index"]] = dh["pue"]
    div, unit = _kw_scale(float(np.nanmax(power)) if np.isfinite(power).any() else 0.0)
    labels = [days[k] if k < len(days) else "" for k in range(n)]
    fig, axes = figure(10, 5.6, 1, 2)
    for ax, data, cmap, lab in ((axes[0, 0], power / div, "viridis", f"fleet facility power, {unit}"),
                                (axes[1, 0], pue, "magma_r", "fleet PUE (facility / IT power)")):
        ax.grid(False)
        finite = data[np.isfinite(data)]
        lo, hi = (float(np.min(finite)), float(np.quantile(finite, 0.99))) if finite.size else (0.0, 1.0)
        im = ax.imshow(data, aspect="auto", origin="upper", cmap=cmap, vmin=lo, vmax=max(hi, lo + 1e-9),
                       interpolation="nearest", extent=(-0.5, n - 0.5, 23.5, -0.5))
        ax.set_yticks([0, 6, 12, 18, 23], ["00:00", "06:00", "12:00", "18:00", "23:00"], fontsize=7)
        ax.set_ylabel("hour of day")
        _day_ticks(ax, labels)
        fig.colorbar(im, ax=ax, label=lab, pad=0.01)
    axes[1, 0].set_xlabel("day")
    fig.suptitle("Fleet facility power and PUE by day and hour of day", fontsize=11)
    alt = (f"Heatmap of fleet facility power ({unit}) and fleet PUE per hour of day (rows) and day (columns) "
           f"over {n} day(s)")
    return svg(fig, "time-heatmap", alt)


def load_chart(res: Result, figure: Figure, svg: Svg) -> str:
    df = load_signal(res)
    classes, sig, moved = df.attrs["classes"], df.attrs["signal"], df.attrs["moved"]
    fig, axes = figure(10, 3.8)
    ax = axes[0, 0]
    edges = np.r_[df["start_h"].to_numpy(), df["start_h"].iloc[-1] + df["hours"].iloc[-1]]
    top = float(max(df["served"].max(), df["demand"].max()))
    div, unit = (1e6, "million TFLOPS") if top >= 1e6 else (1e3, "thousand TFLOPS") if top >= 1e4 else (1.0, "TFLOPS")
    names = ", ".join(classes) if len(classes) <= 4 else f"{len(classes)} classes"
    ax.stairs(df["served"].to_numpy() / div, edges, color=BLUE, linewidth=1.6, baseline=None,
              label=f"served ({names})")
    ax.stairs(df["demand"].to_numpy() / div, edges, color=ORANGE, linewidth=1.2, linestyle="--", baseline=None,
              label="demand shape (served hour by hour without flexibility)")
    ax.set_ylabel(f"served, {unit}")
    ax.set_ylim(bottom=0)
    ax.set_xlim(edges[0], edges[-1])
    day_starts = df.drop_duplicates("day")
    step = max(1, math.ceil(len(day_starts) / 14))
    ax.set_xticks(day_starts["start_h"].iloc[::step], day_starts["day"].iloc[::step], fontsize=7, rotation=30,
                  ha="right")
    handles, labels = ax.get_legend_handles_labels()
    if sig is not None:
        ax2 = ax.twinx()
        ax2.stairs(df["signal"].to_numpy(), edges, color=GREY, linewidth=1.2, baseline=None,
                   label=f"{sig[1]} (fleet, capacity-weighted)")
        ax2.set_ylabel(sig[1], color="#616161")
        ax2.spines[["top"]].set_visible(False)
        h2, l2 = ax2.get_legend_handles_labels()
        handles, labels = handles + h2, labels + l2
    ax.legend(handles, labels, fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(0.0, -0.28),
              ncol=min(4, len(labels)))
    span = "the horizon" if df.attrs["whole"] else f"the week from {df['day'].iloc[0]}"
    what = "Flexible load" if moved else "Served load (no class leaves its demand shape)"
    against = f" against {sig[1].split(',')[0]}" if sig is not None else ""
    fig.suptitle(f"{what}{against}, {span}", fontsize=11)
    alt = (f"Step chart of TFLOPS served and demanded per period, summed over {', '.join(classes)}"
           + (f", with the fleet's {sig[1]} on the right axis" if sig is not None else "") + f", over {span}")
    return svg(fig, "time-load", alt)


def pue_chart(res: Result, figure: Figure, svg: Svg) -> str:
    df = pue_by_month(res)
    fleet_cap, keyed = pue_caps(res)
    fig, axes = figure(10, 3.6)
    ax = axes[0, 0]
    xx = np.arange(len(df))
    ax.plot(xx, df["fleet"], color="#212121", linewidth=2.2, marker="o", markersize=3.5, label="fleet")
    tiers = [c for c in df.columns if c.startswith("tier.")]
    for k, c in enumerate(tiers):
        ax.plot(xx, df[c], color=COLOURS[k % len(COLOURS)], linewidth=1.2, marker=".", label=c.split(".", 1)[1])
    if fleet_cap is not None:
        ax.axhline(fleet_cap, color=ORANGE, linestyle="--", linewidth=1.4, label=f"fleet PUE cap {fmt(fleet_cap)}")
    for k, (key, cap) in enumerate(sorted(keyed.items(), key=lambda kv: kv[1])):
        ax.axhline(cap, color=RED, linestyle=":", linewidth=1.2, label=f"site PUE cap {key} {fmt(cap)}" if k < 6
                   else None)
    step = max(1, math.ceil(len(df) / 16))
    ax.set_xticks(xx[::step], df["group"].iloc[::step], fontsize=7, rotation=30, ha="right")
    ax.set_ylabel("PUE, energy-weighted")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    by = df.attrs["by"]
    fig.suptitle(f"PUE per {by} (energy-weighted) against the PUE caps", fontsize=11)
    alt = (f"Line chart of the energy-weighted PUE per {by} for the fleet and each tier, with the PUE caps of "
           "the targets as horizontal lines")
    return svg(fig, "time-pue", alt)


def peaks_chart(res: Result, figure: Figure, svg: Svg, peaks: pd.DataFrame) -> str:
    n = len(peaks)
    div, unit = _kw_scale(float(peaks["peak_facility_kw"].max()) if n else 0.0)
    fig, axes = figure(10, 1.0 + 0.28 * n)
    ax = axes[0, 0]
    yy = np.arange(n)
    colours = [RED if a else BLUE for a in peaks["at_cap"]]
    ax.barh(yy, peaks["peak_facility_kw"] / div, color=colours)
    handles: list[Any] = [Patch(color=BLUE, label="peak facility power")]
    grid = peaks["grid_kw"].astype(float)
    has = grid.notna().to_numpy()
    if has.any():
        ax.scatter(grid[has] / div, yy[has], marker="|", s=260, linewidths=2.5, color="#212121", zorder=3)
        handles.append(Line2D([], [], marker="|", markersize=14, markeredgewidth=2.5, linestyle="none",
                              color="#212121", label="grid connection (grid_kw)"))
    if any(peaks["at_cap"]):
        handles.append(Patch(color=RED, label="peak at its grid cap"))
    ax.set_yticks(yy, [f"{s} ({str(t)[0]})" for s, t in zip(peaks["site"], peaks["tier"], strict=True)], fontsize=8)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(f"facility power, {unit}")
    ax.legend(handles=handles, fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("Each site's peak facility power against its grid connection", fontsize=11)
    alt = ("Bar chart of each site's peak facility power over the periods, with its grid_kw cap marked; "
           f"{int(peaks['at_cap'].sum())} site(s) reach their cap")
    return svg(fig, "time-peaks", alt)


def time_section(res: Result, table: Callable[..., str], figure: Figure, svg: Svg) -> str:
    """The report's section on the periods: the four charts and the table of site peaks.
    ``table``, ``figure`` and ``svg`` are the report's helpers."""
    peaks = site_peaks(res)
    ck = clock(res)
    note = (f'<p class="note">{len(ck)} periods, {fmt(float(ck["w"].sum()))} h of energy weight over '
            f"{int(ck['day_index'].max()) + 1} day(s). Annual figures weigh each period by its hours times its "
            "recurrences.</p>")
    parts = [note, heatmap_chart(res, figure, svg)]
    if not res.served.empty:
        parts.append(load_chart(res, figure, svg))
    parts.append(pue_chart(res, figure, svg))
    if not peaks.empty:
        shown = peaks.assign(grid_share=peaks["grid_share"].astype(float) * 100)
        parts += [peaks_chart(res, figure, svg, peaks),
                  table(shown, ["site", "tier", "peak_facility_kw", "at", "grid_kw", "grid_share"],
                        ["site", "tier", "peak facility kW", "at", "grid kW", "peak, % of grid"],
                        left=["site", "tier", "at"])]
    return "".join(parts)
