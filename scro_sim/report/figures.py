"""Figures of a run read from its event log: the city map, service curves, the timeline, outcome histograms.

Built on Agg Figures, never through pyplot (see the package docstring); the caller closes them."""

from __future__ import annotations

import io
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..log import EventLog, EventRecord
from ..vocabulary import N_, action_name, asset_type, describe, inject_words, reader, service, word

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from ..city import City



#: HSEEP ratings as the report spells them out.
RATING_NAMES: dict[str, str] = {
    "P": N_("Performed without challenges"),
    "S": N_("Performed with some challenges"),
    "M": N_("Performed with major challenges"),
    "U": N_("Unable to be performed"),
}
#: Asset state -> marker colour on the city map.
STATE_COLOURS: dict[str, str] = {
    "up": "#2e7d32",
    "backup": "#f9a825",
    "overloaded": "#ef6c00",
    "down": "#c62828",
    "damaged": "#6a1b9a",
}
_UNKNOWN_COLOUR = "#9e9e9e"
#: Asset type -> marker on the city map (one scatter collection per type present).
TYPE_MARKERS: dict[str, str] = {
    "power_plant": "s",
    "substation": "D",
    "water_treatment": "p",
    "pumping_station": "o",
    "water_tank": "8",
    "telecom_tower": "^",
    "data_centre": "h",
    "hospital": "P",
    "shelter": "H",
    "fire_station": "X",
    "depot": "v",
    "eoc": "*",
    "bridge": "d",
    "traffic_control": "<",
}
_SERVICE_COLOURS = {"power": "#f57c00", "water": "#1976d2", "telecom": "#7b1fa2", "health": "#d32f2f"}
_SERIES_COLOURS = {"plan": "#1565c0", "baseline": "#9e9e9e", "expert": "#2e7d32"}
_FALLBACK_COLOURS = ("#ef6c00", "#6a1b9a", "#00838f", "#ad1457", "#5d4037")


# --------------------------------------------------------------------------------------------
# Figure life cycle


def _figure(size: tuple[float, float]) -> Figure:
    """A new pyplot-free Figure on an Agg canvas (thread-safe, never in pyplot's registry)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def close(fig: Figure) -> None:
    """Free a figure made here (or through pyplot)."""
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close(fig)
    fig.clear()


def close_all() -> None:
    """Close every pyplot figure (figures made here are not in pyplot; close them with :func:`close`)."""
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


def save(fig: Figure, path: str | Path, *, dpi: int = 120, **kwargs: Any) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix: png, svg, pdf...) and close it."""
    p = Path(path)
    try:
        fig.savefig(p, dpi=dpi, **kwargs)
    finally:
        close(fig)
    return p


def to_png(fig: Figure, *, dpi: int = 110, close_after: bool = True) -> bytes:
    """The figure as PNG bytes (closed afterwards unless ``close_after`` is false)."""
    buf = io.BytesIO()
    try:
        fig.savefig(buf, format="png", dpi=dpi)
    finally:
        if close_after:
            close(fig)
    return buf.getvalue()


# --------------------------------------------------------------------------------------------
# Reading the log


def _start(log: EventLog) -> dict[str, Any]:
    r = log.first("run_start")
    return dict(r.data) if r is not None else {}


def _end_time(log: EventLog) -> float:
    end = log.first("run_end")
    if end is not None:
        return end.time
    sd = _start(log)
    if "duration_h" in sd:
        return float(sd["duration_h"])
    return log[-1].time if len(log) else 0.0


def exercise_end(log: EventLog, *, recovery: bool = False) -> float:
    """The hour a chart's time axis ends: the exercise's end (its ``duration_h``), or with
    ``recovery`` the end of the run, which goes on until the city has recovered (up to weeks)."""
    if not recovery:
        sd = _start(log)
        if "duration_h" in sd:
            return float(sd["duration_h"])
    return _end_time(log)


def _clock_axis(ax: Any, log: EventLog, end: float, lang: str | None, words: Callable[[str], str] | None) -> None:
    """Hours on x as the reader's clock times ("Tue 14:00") from the run's start, at most eight ticks."""
    if lang is None:
        ax.set_xlabel(reader(words)("hours since start"))
        return
    from .. import formatting as fmt

    step = next((s for s in (1, 2, 3, 6, 12, 24, 48, 72, 168) if end / s <= 7), 336)
    ticks = [k * step for k in range(int(end // step) + 1)]
    ax.set_xticks(ticks, [fmt.clock(_start(log).get("start"), t, lang).replace(" ", "\n", 1) for t in ticks])
    ax.tick_params(axis="x", labelsize=8)


def _clock(start: datetime | None, t: float) -> str:
    if start is None:
        return f"+{t:g} h"
    return (start + timedelta(hours=t)).strftime("%Y-%m-%d %H:%M")


def _start_datetime(log: EventLog) -> datetime | None:
    s = _start(log).get("start")
    if not s:
        return None
    try:
        return datetime.fromisoformat(str(s))
    except ValueError:
        return None


def state_at(log: EventLog, time_h: float | None = None, *, service: str | None = None) -> dict[str, Any]:
    """Asset states and district service at ``time_h`` (the end if None), as :func:`city_map` keywords.

    Returns ``{"asset_state": {id: up|backup|overloaded|down|damaged}, "district_service":
    {district: served share}}``; the share is of ``service``, or the worst of all services.
    Only assets that are not plainly up are listed.
    """
    t_end = _end_time(log) if time_h is None else float(time_h)
    down: dict[str, str] = {}
    backup: set[str] = set()
    damaged: set[str] = set()
    unserved: dict[str, dict[str, float]] = {}
    pops: dict[str, float] = {}
    for r in log.records:
        if r.time > t_end + 1e-9:
            break
        k, a = r.kind, r.subject
        if k == "asset_down":
            down[a] = "overloaded" if r.data.get("overload") else "down"
        elif k == "asset_up":
            down.pop(a, None)
            if r.data.get("on_backup"):
                backup.add(a)
            if not r.data.get("overload"):
                damaged.discard(a)
        elif k == "backup_start":
            backup.add(a)
        elif k in ("backup_stop", "backup_exhausted"):
            backup.discard(a)
        elif k == "damage":
            damaged.add(a)
        elif k == "repair" and r.data.get("state") == "finished":
            damaged.discard(a)
        elif k == "service":
            unserved.setdefault(a, {})[str(r.data["service"])] = float(r.data["unserved"])
            if "population" in r.data:
                pops[a] = float(r.data["population"])
    for d, info in (_start(log).get("districts") or {}).items():
        pops.setdefault(d, float(info.get("population", 0)))
    state: dict[str, str] = {}
    for a in backup:
        state[a] = "backup"
    for a, s in down.items():
        state[a] = s
    for a in damaged:
        state[a] = "damaged"
    shares: dict[str, float] = {}
    for d, pop in pops.items():
        by_service = unserved.get(d, {})
        vals = [by_service.get(service, 0.0)] if service is not None else list(by_service.values())
        worst = max(vals, default=0.0)
        shares[d] = 1.0 - worst / pop if pop > 0 else 1.0
    return {"asset_state": dict(sorted(state.items())), "district_service": dict(sorted(shares.items()))}


# --------------------------------------------------------------------------------------------
# City map


def city_map(city: City, *, asset_state: Mapping[str, str] | None = None, flooded_zones: Iterable[str] = (),
             district_service: Mapping[str, float] | None = None, crews: Sequence[Mapping[str, Any]] | None = None,
             title: str = "", labels: bool | Iterable[str] | None = None,
             size: tuple[float, float] = (9.0, 7.0), words: Callable[[str], str] | None = None) -> Figure:
    """The city: roads, zones, districts coloured by served share, assets by type and state, crews.

    ``asset_state`` maps asset id to ``up``/``backup``/``overloaded``/``down``/``damaged``
    (unlisted assets are up; :func:`state_at` or an Observation's ``asset_state`` give one);
    ``flooded_zones`` are zone ids drawn as flooded water; ``district_service`` maps a
    district to its served share 0..1 (green = all served, red = none); ``crews`` are dicts
    with a ``node`` (road node id), as in ``Observation.crews``.  ``labels`` (default: only
    for small cities) writes ids next to the markers: all of them, or only the ids given (text
    is the slowest thing to draw).  One scatter collection per asset type
    keeps it fast for thousands of assets.  ``words`` (a gettext function) writes the legend in
    the reader's language; English by default.  The caller closes the returned figure.
    """
    import numpy as np
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Polygon

    fig = _figure(size)
    ax = fig.add_subplot()
    n_a, n_d = city.n_assets, city.n_districts
    if labels is None:
        labels = n_a <= 80

    # zones under everything
    flooded = set(flooded_zones)
    kinds = {z.id: z.kind for z in city.model.zones}
    any_plain = False
    for zid, poly in city.zone_polygons.items():
        if zid in flooded:
            patch = Polygon(poly, closed=True, facecolor="#4a90d9", edgecolor="#1f5fa8", alpha=0.45, zorder=0)
        elif kinds.get(zid) == "flood_plain":
            any_plain = True
            patch = Polygon(poly, closed=True, facecolor="#d6e6f5", edgecolor="#7fa7cf", alpha=0.35,
                            linestyle="--", zorder=0)
        else:
            patch = Polygon(poly, closed=True, facecolor="none", edgecolor="#bdbdbd", linestyle=":", zorder=0)
        ax.add_patch(patch)

    # roads
    if len(city.edge_u):
        segs = np.stack([city.road_xy[city.edge_u], city.road_xy[city.edge_v]], axis=1)
        ax.add_collection(LineCollection(segs, colors="#9e9e9e", linewidths=0.6 if len(segs) > 500 else 1.2,
                                         zorder=1))

    # districts
    dxy = np.asarray(city.district_xy, dtype=float).reshape(-1, 2)
    d_size = 900.0 if n_d <= 20 else max(40.0, 18000.0 / n_d)
    served = np.array([np.nan if district_service is None or d not in district_service else float(district_service[d])
                       for d in city.district_ids], dtype=float)
    known = ~np.isnan(served)
    if (~known).any():
        ax.scatter(dxy[~known, 0], dxy[~known, 1], s=d_size, c="#e0e0e0", alpha=0.5, edgecolors="#616161",
                   linewidths=0.6, zorder=2)
    if known.any():
        sc = ax.scatter(dxy[known, 0], dxy[known, 1], s=d_size, c=np.clip(served[known], 0, 1), cmap="RdYlGn",
                        vmin=0.0, vmax=1.0, alpha=0.55, edgecolors="#424242", linewidths=0.6, zorder=2)
        fig.colorbar(sc, ax=ax, orientation="horizontal", fraction=0.04, pad=0.02, label=word("map:share_served", words))
    if n_d <= 60:
        for j, d in enumerate(city.district_ids):
            ax.annotate(d, dxy[j], ha="center", va="center", fontsize=8, color="#212121", zorder=5)

    # assets: one collection per type, colours by state
    states = dict(asset_state or {})
    axy = np.asarray(city.asset_xy, dtype=float).reshape(-1, 2)
    colours = np.array([STATE_COLOURS.get(states.get(a, "up"), _UNKNOWN_COLOUR) for a in city.asset_ids],
                       dtype=object)
    types = np.asarray(city.asset_type, dtype=object)
    a_size = 55.0 if n_a <= 200 else 14.0 if n_a <= 2000 else 6.0
    handles: list[Any] = []
    for typ in sorted(set(types.tolist())):
        mask = types == typ
        marker = TYPE_MARKERS.get(typ, "o")
        ax.scatter(axy[mask, 0], axy[mask, 1], s=a_size, marker=marker, c=list(colours[mask]),
                   edgecolors="#212121", linewidths=0.3 if n_a > 200 else 0.6, zorder=3)
        handles.append(Line2D([], [], linestyle="", marker=marker, markerfacecolor="#bdbdbd",
                              markeredgecolor="#212121", label=asset_type(typ, words)))
    if labels:
        wanted = None if labels is True else set(labels)
        for i, a in enumerate(city.asset_ids):
            if wanted is None or a in wanted:
                ax.annotate(a, axy[i], xytext=(4, 4), textcoords="offset points", fontsize=6, color="#424242",
                            zorder=5)
    shown_states = ["up", "backup", "down", "damaged"] + (["overloaded"] if "overloaded" in states.values() else [])
    handles += [Patch(facecolor=STATE_COLOURS[s], edgecolor="#212121", label=word(f"map:{s}", words))
                for s in shown_states]

    # crews: small triangles at their road node, a count where several stand together
    if crews:
        at: dict[int, int] = {}
        for cr in crews:
            idx = city.road_index.get(str(cr.get("node", "")))
            if idx is not None:
                at[idx] = at.get(idx, 0) + 1
        if at:
            idxs = np.array(sorted(at), dtype=np.int64)
            cxy = np.asarray(city.road_xy, dtype=float)[idxs]
            ax.scatter(cxy[:, 0], cxy[:, 1], s=28, marker="^", c="#0d47a1", edgecolors="white", linewidths=0.5,
                       zorder=4)
            for k, i in enumerate(idxs.tolist()):
                if at[i] > 1:
                    ax.annotate(f"×{at[i]}", cxy[k], xytext=(4, -8), textcoords="offset points", fontsize=7,
                                color="#0d47a1", zorder=5)
            handles.append(Line2D([], [], linestyle="", marker="^", markerfacecolor="#0d47a1",
                                  markeredgecolor="white", label=word("map:crew", words)))
    if flooded:
        handles.append(Patch(facecolor="#4a90d9", alpha=0.45, label=word("map:flooded", words)))
    elif any_plain:
        handles.append(Patch(facecolor="#d6e6f5", edgecolor="#7fa7cf", linestyle="--", label=word("map:flood_plain", words)))

    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7, frameon=False)
    ax.set_aspect("equal", adjustable="datalim")
    ax.autoscale_view()
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    ax.set_title(title or city.name)
    return fig


# --------------------------------------------------------------------------------------------
# Service curves and the resilience triangle


def _curve_points(df: Any, service: str) -> tuple[list[float], list[float]]:
    sub = df[df["service"] == service]
    return [float(t) for t in sub["time_h"]], [float(v) for v in sub["served"]]


def resilience_areas(log: EventLog) -> dict[str, float]:
    """Person-hours without each service: the shaded area of :func:`service_chart`.

    The integral of (1 - served share) x population over the run, computed from
    :func:`scro_sim.scoring.service_curves`; it equals ``compute_metrics(log).resilience_loss``.
    """
    from ..scoring import SERVICES, service_curves

    df = service_curves(log)
    pop = float(_start(log).get("population", 1.0))
    out: dict[str, float] = {}
    for s in SERVICES:
        ts, vs = _curve_points(df, s)
        parts = [(1.0 - vs[k]) * (ts[k + 1] - ts[k]) for k in range(len(ts) - 1) if ts[k + 1] > ts[k]]
        out[s] = math.fsum(parts) * max(pop, 1.0)
    return out


def service_chart(log: EventLog, *, size: tuple[float, float] = (9.0, 4.5), title: str = "",
                  words: Callable[[str], str] | None = None, lang: str | None = None,
                  recovery: bool = False) -> Figure:
    """Served share of the population per service over time, resilience-triangle areas shaded.

    The time axis ends at the exercise's end (``recovery``: at the end of the recovery after it);
    with ``lang`` its ticks are clock times in that language, else hours since the start.

    A step plot per service (hours on x), the loss area between full service and the curve
    shaded, and each service's person-hours without service written on the chart (from
    :func:`resilience_areas`).  Decisions are marked as faint vertical lines.  The caller
    closes the returned figure.
    """
    from ..scoring import SERVICES, service_curves

    _ = reader(words)
    df = service_curves(log)
    areas = resilience_areas(log)
    if lang is not None:
        from .. import formatting as fmt

        def big(x: float) -> str:
            return fmt.number(round(x), lang)
    else:
        def big(x: float) -> str:
            return f"{x:,.0f}"
    fig = _figure(size)
    ax = fig.add_subplot()
    for s in SERVICES:
        ts, vs = _curve_points(df, s)
        if not ts:
            continue
        colour = _SERVICE_COLOURS.get(s, "#424242")
        ax.step(ts, vs, where="post", color=colour, linewidth=1.6, label=_("{service} ({x} person-h)").format(
            service=service(s, words), x=big(areas[s])))
        ax.fill_between(ts, vs, [1.0] * len(vs), step="post", color=colour, alpha=0.12, linewidth=0)
    for r in log.of_kind("decision"):
        ax.axvline(r.time, color="#616161", linewidth=0.6, alpha=0.5, linestyle=":")
    lines = [_("{service}: {x} person-hours").format(service=service(s, words), x=big(areas[s])) for s in SERVICES]
    ax.text(0.99, 0.03, _("Resilience loss (area above curve)") + "\n" + "\n".join(lines), transform=ax.transAxes,
            ha="right", va="bottom", fontsize=8, gid="person-hours",
            bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "edgecolor": "#bdbdbd"})
    end = max(exercise_end(log, recovery=recovery), 1e-9)
    ax.set_xlim(0, end)
    ax.set_ylim(-0.02, 1.05)
    _clock_axis(ax, log, end, lang, words)
    ax.set_ylabel(_("share of population served"))
    ax.set_title(title or _("Service levels Q(t) and resilience loss"))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    return fig


# --------------------------------------------------------------------------------------------
# Timeline


def _actions_text(actions: Iterable[Mapping[str, Any]], words: Callable[[str], str] | None = None,
                  label_of: Callable[[str], str | None] | None = None) -> str:
    """Actions as one line: each named in the reader's language (``words``; the scenario's own label
    through ``label_of``), then its target, crew, shelter, order and message."""
    _ = reader(words)
    parts = []
    for a in actions:
        p = action_name(str(a.get("action", "?")), _, label_of) if words or label_of else str(a.get("action", "?"))
        if a.get("target"):
            p += f" → {a['target']}"
        if a.get("crew"):
            p += " (" + _("crew {crew}").format(crew=a["crew"]) + ")"
        if a.get("shelter"):
            p += " (" + _("shelter {shelter}").format(shelter=a["shelter"]) + ")"
        if a.get("order"):
            p += f" [{', '.join(map(str, a['order']))}]"
        if a.get("message"):
            p += f': "{a["message"]}"'
        parts.append(p)
    return "; ".join(parts)


def _describe(r: EventRecord, words_of: Callable[[str], Mapping[str, str]] | None = None,
              words: Callable[[str], str] | None = None, label_of: Callable[[str], str | None] | None = None) -> str:
    _ = reader(words)
    d, k = r.data, r.kind

    def acts(a: Iterable[Mapping[str, Any]]) -> str:
        return _actions_text(a, words, label_of)

    if k == "run_start":
        return _("Exercise starts: scenario {scenario}, seed {seed}").format(scenario=d.get("scenario", r.subject),
                                                                            seed=d.get("seed", "?"))
    if k == "run_end":
        return _("Exercise ends: {n} assets down, spent {spent}").format(n=d.get("assets_down", "?"),
                                                                        spent=f"{float(d.get('spent', 0)):,.0f}")
    if k == "inject":
        w = inject_words(r.subject, d, words_of)
        channel = str(d.get("channel") or "")
        return f"{w.get('sender', r.subject)} ({_(channel) if channel else ''}): {w.get('text', '')}"
    if k == "decision_point":
        return _("Decision point ({cause})").format(cause=_(str(d.get("cause") or "decision")))
    if k == "decision":
        txt = acts(d.get("actions", [])) or _("no action")
        if d.get("rationale"):
            txt += " — " + _("rationale: {text}").format(text=d["rationale"])
        for q, ans in (d.get("answers") or {}).items():
            txt += f" — {q}: {ans}"
        return txt
    if k == "skipped":
        return "; ".join(_("{actions} not taken: {problems}").format(actions=acts([s.get("action", {})]),
                                                                     problems=", ".join(s.get("problems", [])))
                         for s in d.get("skipped", []))
    if k == "action":
        return _("takes effect: {actions}").format(actions=acts([d]))
    if k == "expected":
        st = d.get("status")
        if st == "due":
            return _("expected {action} → {targets} by {h} h").format(
                action=action_name(str(d.get("action")), _, label_of), targets=", ".join(d.get("targets", [])) or _("any"),
                h=f"{d.get('due_h'):g}")
        if st == "met":
            late = float(d.get("late_h", 0.0))
            return _("met on time") if late <= 1e-9 else _("met {h} h late").format(h=f"{late:g}")
        return _("missed (was due at {h} h)").format(h=f"{d.get('due_h'):g}")
    if k == "hazard":
        return ", ".join(f"{kk} {vv}" for kk, vv in d.items() if not isinstance(vv, dict | list))
    return describe(k, r.subject, d, words, label_of=label_of)  # the sentences the play page shows


_ALWAYS = frozenset({"run_start", "run_end", "inject", "decision_point", "decision", "skipped", "action", "expected"})
_ASSET_KINDS = frozenset({"asset_down", "asset_up", "backup_start", "backup_exhausted", "damage"})


def _key_records(log: EventLog, key_only: bool) -> list[EventRecord]:
    if not key_only:
        return list(log.records)
    critical = set(_start(log).get("critical", []))
    peak: dict[str, EventRecord] = {}
    out: list[EventRecord] = []
    for r in log.records:
        if r.kind in _ALWAYS or (r.kind in _ASSET_KINDS and r.subject in critical):
            out.append(r)
        elif r.kind == "hazard":
            if "stage_m" in r.data:  # a flood writes its stage every step: keep the crest only
                best = peak.get(r.subject)
                if best is None or float(r.data["stage_m"]) > float(best.data["stage_m"]):
                    peak[r.subject] = r
            else:
                out.append(r)
    out.extend(peak.values())
    return sorted(out, key=lambda r: (r.time, r.seq))


def timeline_table(log: EventLog, *, key_only: bool = True,
                   words_of: Callable[[str], Mapping[str, str]] | None = None,
                   words: Callable[[str], str] | None = None,
                   label_of: Callable[[str], str | None] | None = None) -> pd.DataFrame:
    """The exercise timeline as a table: columns time, clock, kind, subject, text; index seq.

    ``words_of`` gives an inject's sender and text by id in the reader's language
    (``Scenario.inject_words``); the log holds only the id.  ``words`` (a gettext function)
    writes the text in that language and ``label_of`` names actions as the scenario labels them.

    With ``key_only`` (the default) it holds injects, decision points, decisions, actions
    taking effect, expected actions (due, met, missed), hazard events (a flood's crest, not
    every step), and failures, backups and restorations of critical facilities; otherwise
    every record.  Rows are in time order (then log order).
    """
    import pandas as pd

    start = _start_datetime(log)
    recs = _key_records(log, key_only)
    df = pd.DataFrame({
        "time": [r.time for r in recs],
        "clock": [_clock(start, r.time) for r in recs],
        "kind": [r.kind for r in recs],
        "subject": [r.subject for r in recs],
        "text": [_describe(r, words_of, words, label_of) for r in recs],
    }, index=pd.Index([r.seq for r in recs], name="seq", dtype="int64"))
    return df


_LANES: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    (N_("Injects"), ("inject",), "o", "#1565c0"),
    (N_("Decision points"), ("decision_point",), "|", "#616161"),
    (N_("Decisions"), ("decision", "action"), "D", "#2e7d32"),
    (N_("Expected actions"), ("expected",), "s", "#f9a825"),
    (N_("Failures"), ("asset_down", "backup_exhausted", "damage"), "v", "#c62828"),
    (N_("Backups"), ("backup_start",), "v", "#ef6c00"),
    (N_("Restorations"), ("asset_up",), "^", "#2e7d32"),
    (N_("Hazard"), ("hazard",), "*", "#6a1b9a"),
)


def timeline(log: EventLog, *, key_only: bool = True, size: tuple[float, float] = (10.0, 4.5),
             title: str = "", words: Callable[[str], str] | None = None, lang: str | None = None,
             recovery: bool = False) -> Figure:
    """Injects, decision points, decisions, expected actions and key failures/restorations as swimlanes.

    Hours on x, one lane per kind of event (the rows of :func:`timeline_table`); injects and
    failures are labelled by id when there are few.  The caller closes the returned figure.
    """
    _ = reader(words)
    end = max(exercise_end(log, recovery=recovery), 1.0)
    recs = [r for r in _key_records(log, key_only) if r.time <= end + 1e-9]
    per_char = end * 6.0 / (size[0] * 72 * 0.78)  # hours one character of a 6 pt label covers on the axes
    fig = _figure(size)
    ax = fig.add_subplot()
    y_labels: list[str] = []
    for lane, (name, kinds, marker, colour) in enumerate(_LANES):
        y = len(_LANES) - 1 - lane
        y_labels.append(_(name))
        rows = [r for r in recs if r.kind in kinds]
        if not rows:
            continue
        colours = [colour] * len(rows)
        if name == "Expected actions":
            colours = [{"met": "#2e7d32", "missed": "#c62828"}.get(str(r.data.get("status")), colour) for r in rows]
        ax.scatter([r.time for r in rows], [y] * len(rows), marker=marker, c=colours, s=40, zorder=3,
                   linewidths=1.5 if marker == "|" else 0.5, edgecolors=None if marker == "|" else "#212121")
        # short labels (an inject's or asset's id) where they fit; the table under the chart names every event
        if len(rows) <= 40 and name not in ("Decision points", "Decisions", "Hazard", "Expected actions"):
            ends = [-math.inf, -math.inf]  # where the last label above (0) and below (1) the lane ends, in hours
            for r in rows:
                label = str(r.subject)
                side = next((k for k in (0, 1) if r.time >= ends[k]), None)
                if side is None:  # it would overlap both neighbours: left out
                    continue
                ends[side] = r.time + (len(label) + 1) * per_char
                ax.annotate(label, (r.time, y), xytext=(2, 6 if side == 0 else -11), textcoords="offset points",
                            fontsize=6, color="#424242")
    ax.set_yticks(list(range(len(_LANES) - 1, -1, -1)), y_labels)
    ax.set_ylim(-0.7, len(_LANES) - 0.3)
    ax.set_xlim(-0.5, end + 0.5)
    _clock_axis(ax, log, end, lang, words)
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(title or _("Exercise timeline"))
    return fig


# --------------------------------------------------------------------------------------------
# Outcomes over many replications




def outcome_histogram(frames: Mapping[str, Sequence[float]], metric_label: str, *, alpha: float = 0.1,
                      lower_is_better: bool = True, bins: int = 30, size: tuple[float, float] = (8.0, 4.5),
                      title: str = "", words: Callable[[str], str] | None = None,
                      names: Mapping[str, str] | None = None) -> Figure:
    """Overlaid histograms of one metric over replications (plan, baseline, expert...).

    Each series gets its mean as a solid line and its CVaR (mean of the worst ``alpha``
    share) as a dashed line, in its colour.  ``words`` (a gettext function) writes the labels
    in the reader's language and ``names`` names the series (``{"plan": "your plan"}``; the
    keys stay the colours' keys).  The caller closes the returned figure.
    """
    import numpy as np
    from matplotlib.lines import Line2D

    _ = reader(words)
    fig = _figure(size)
    ax = fig.add_subplot()
    clean = {name: np.array([float(v) for v in vals if v is not None and math.isfinite(float(v))], dtype=float)
             for name, vals in frames.items()}
    allv = np.concatenate([v for v in clean.values() if len(v)]) if any(len(v) for v in clean.values()) else None
    if allv is None:
        ax.text(0.5, 0.5, _("no outcomes"), ha="center", va="center", transform=ax.transAxes)
    else:
        edges = np.histogram_bin_edges(allv, bins=bins if np.ptp(allv) > 0 else 1)
        fallback = iter(_FALLBACK_COLOURS * 10)
        for name, vals in clean.items():
            if not len(vals):
                continue
            colour = _SERIES_COLOURS.get(name) or next(fallback)
            mean, tail = float(vals.mean()), _cvar(vals.tolist(), alpha, lower_is_better=lower_is_better)
            ax.hist(vals, bins=edges, alpha=0.4, color=colour, edgecolor=colour,
                    label=_("{name}: mean {mean}, CVaR {alpha} {tail} (n={n})").format(
                        name=(names or {}).get(name, name), mean=f"{mean:,.4g}", alpha=f"{alpha:.0%}",
                        tail=f"{tail:,.4g}", n=len(vals)))
            ax.axvline(mean, color=colour, linewidth=1.8)
            ax.axvline(tail, color=colour, linewidth=1.8, linestyle="--")
        handles, _labels = ax.get_legend_handles_labels()
        handles += [Line2D([], [], color="#424242", linewidth=1.8, label=_("mean")),
                    Line2D([], [], color="#424242", linewidth=1.8, linestyle="--",
                           label=_("CVaR {alpha} (worst)").format(alpha=f"{alpha:.0%}"))]
        ax.legend(handles=handles, fontsize=8)
    ax.set_xlabel(metric_label)
    ax.set_ylabel(_("replications"))
    ax.set_title(title or _("{metric} over replications").format(metric=metric_label))
    ax.grid(alpha=0.3)
    return fig


# --------------------------------------------------------------------------------------------


def _cvar(values: Sequence[float], alpha: float = 0.1, *, lower_is_better: bool = True) -> float:
    from ..batch import cvar

    return cvar(values, alpha=alpha, higher_is_better=not lower_is_better)
