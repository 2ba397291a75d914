"""The after-action report / improvement plan (HSEEP AAR/IP) of a run, as self-contained HTML or PDF."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..debrief import why_not_applicable
from ..i18n import translator
from ..log import EventLog
from ..vocabulary import number

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..city import City
    from ..scenario import Scenario
    from ..scoring import ScoreCard
from .. import formatting as fmt
from .figures import (
    RATING_NAMES,
    _actions_text,
    _clock,
    _end_time,
    _figure,
    _start,
    _start_datetime,
    city_map,
    close,
    service_chart,
    state_at,
    timeline,
    timeline_table,
    to_png,
)

# The after-action report


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;
color:#212121;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1565c0;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #cfd8dc;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#eceff1}
.r-P{background:#c8e6c9}.r-S{background:#e6ee9c}.r-M{background:#ffe0b2}.r-U{background:#ffcdd2}
.muted{color:#616161}.pass{color:#2e7d32;font-weight:600}.fail{color:#c62828;font-weight:600}
img{max-width:100%;border:1px solid #eceff1;margin:.5rem 0}ul{margin-top:.2rem}
"""


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]], row_class: Sequence[str] | None = None) -> str:
    """An HTML table; every cell is escaped."""
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in header), "</tr></thead><tbody>"]
    for k, row in enumerate(rows):
        cls = f' class="{_e(row_class[k])}"' if row_class and row_class[k] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _img(fig: Figure, alt: str) -> str:
    data = base64.b64encode(to_png(fig)).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _capability(c: Any) -> str:
    label = c.outcome
    if c.outcome_text:
        label += f" — {c.outcome_text}"
    if c.module:
        label += f" (module {c.module})"
    return label


def after_action_report(log: EventLog, card: ScoreCard, scenario: Scenario, *, lang: str = "en",
                        charts: bool = True, city: City | None = None, played_on: str | None = None,
                        expert: EventLog | None = None) -> str:
    """A self-contained HTML after-action report / improvement plan (AAR/IP) of one run.

    Sections, in HSEEP order: exercise overview (scenario, seed, dates, score), key
    results, analysis of capabilities (per learning outcome: strengths = criteria rated P
    or S, areas for improvement = M or U, with the rubric's feedback), improvement plan
    (criterion, issue, corrective action = the feedback text), what the expert did
    differently (:mod:`scro_sim.debrief`'s lessons in ``lang``, against ``expert``, the expert
    plan's log on the same seed, re-simulated when only ``city`` is given), decisions and
    rationales, timeline, and charts as base64 PNG (the service chart and the timeline, plus
    the end state on the city map when ``city`` is given).  All scenario, learner and
    assessor text is HTML-escaped.  ``played_on`` is the date to print as played (none by default, so the
    same run gives the same report).
    """
    from ..scenario import text_in
    from ..scoring import compute_metrics
    from ..scoring import rows as metric_rows

    sd = _start(log)
    metrics = compute_metrics(log)
    title = text_in(scenario.title, lang)
    start_dt = _start_datetime(log)
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(f'After-action report: {title}')}</title><style>{_CSS}</style></head><body>",
        f"<h1>After-action report / improvement plan</h1><p class=\"muted\">{_e(title)}</p>",
    ]

    # 1. overview
    verdict = "passed" if card.passed else "not passed"
    status = " (provisional: some criteria await an assessor's judgement)" if card.provisional else ""
    overview = [
        ("Scenario", f"{title} ({scenario.id}, version {scenario.version})"),
        ("Summary", text_in(scenario.summary, lang)),
        ("Level", scenario.level),
        ("City", sd.get("city", "")),
        ("Seed", sd.get("seed", "")),
        ("Scenario start", start_dt.strftime("%Y-%m-%d %H:%M") if start_dt else sd.get("start", "")),
        ("Duration", fmt.duration(_end_time(log), lang)),
        ("Engine", sd.get("engine", "")),
        ("Event log digest", card.log_digest),
    ]
    if played_on:
        overview.insert(6, ("Played on", played_on))
    parts += ["<h2>1. Exercise overview</h2>", _table(("Item", "Value"), overview)]
    mark = fmt.number(card.pass_mark, lang)
    parts.append(f'<p>Score: <strong>{fmt.score(card.total, lang)}</strong> / 100 (pass mark {mark}) — '
                 f'<span class="{"pass" if card.passed else "fail"}">{_e(verdict)}</span>{_e(status)}</p>')
    if card.modules:
        parts.append(_table(("Module", "Learning outcomes", "Criteria", "Score"),
                            [(m.module, ", ".join(m.outcomes), ", ".join(m.criteria),
                              ("—" if m.score is None else fmt.score(m.score, lang))
                              + (" (provisional)" if m.provisional else ""))
                             for m in card.modules]))

    # 2. key results: every metric of the catalogue (downtime of the critical facilities)
    _ = translator(lang)
    results = [(name, number(value), _(entry.unit), _(entry.text))
               for name, entry, value in metric_rows(metrics)]
    parts += ["<h2>2. Key results</h2>", _table(("Metric", "Value", "Unit", "Meaning"), results)]

    # 3. analysis of capabilities
    parts.append("<h2>3. Analysis of capabilities</h2>")
    by_cap: dict[str, list[Any]] = {}
    for c in card.criteria:
        by_cap.setdefault(_capability(c), []).append(c)
    for cap, crits in by_cap.items():
        parts.append(f"<h3>{_e(cap)}</h3>")
        groups = (("Strengths", [c for c in crits if c.rating in ("P", "S")]),
                  ("Areas for improvement", [c for c in crits if c.rating in ("M", "U")]),
                  ("Awaiting judgement", [c for c in crits if c.rating is None]))
        for heading, items in groups:
            if not items:
                continue
            parts.append(f"<p><strong>{_e(heading)}</strong></p><ul>")
            for c in items:
                line = f"{c.id} {c.title}"
                if c.rating:
                    line += f": {c.rating} — {RATING_NAMES.get(c.rating, '')}"
                if c.kind == "computed":
                    line += f" ({c.metric} = {number(c.value)})"
                if c.feedback:
                    line += f". {c.feedback}"
                if c.comment:
                    line += f" Assessor: {c.comment}"
                parts.append(f"<li>{_e(line)}</li>")
            parts.append("</ul>")
    parts.append(_table(("Criterion", "Capability", "Kind", "Value", "Rating", "Status", "Weight", "Points",
                         "Feedback"),
                        [(f"{c.id} {c.title}", _capability(c), c.kind,
                          f"{c.metric} = {number(c.value)}" if c.kind == "computed" else "judged",
                          c.rating or "—", c.status, f"{c.weight:g}", f"{c.points:g}",
                          c.feedback or why_not_applicable(c, _))
                         for c in card.criteria],
                        [f"r-{c.rating}" if c.rating else "" for c in card.criteria]))

    # 4. improvement plan
    plan = [c for c in card.criteria if c.rating in ("M", "U")]
    parts.append("<h2>4. Improvement plan</h2>")
    if plan:
        parts.append(_table(("Capability", "Criterion", "Issue / area for improvement", "Corrective action"),
                            [(_capability(c), f"{c.id} {c.title}",
                              f"Rated {c.rating} ({RATING_NAMES.get(c.rating or '', '')})"
                              + (f"; {c.metric} = {number(c.value)}" if c.kind == "computed" else "")
                              + (f"; assessor: {c.comment}" if c.comment else ""),
                              c.feedback) for c in plan]))
    else:
        parts.append("<p>No criterion was rated M or U.</p>")

    # 5. what the expert did differently
    parts.append("<h2>5. What the expert did differently</h2>")
    parts.append(_expert_section(log, card, scenario, lang=lang, city=city, expert=expert, start=start_dt))

    # 6. decisions and rationales
    decisions = log.of_kind("decision")
    parts.append("<h2>6. Decisions and rationales</h2>")
    if decisions:
        parts.append(_table(("Time", "Clock", "Actions", "Rationale", "Answers"),
                            [(f"{r.time:g} h", _clock(start_dt, r.time), _actions_text(r.data.get("actions", [])),
                              r.data.get("rationale", ""),
                              "; ".join(f"{q}: {a}" for q, a in (r.data.get("answers") or {}).items()))
                             for r in decisions]))
    else:
        parts.append("<p>No decisions were taken.</p>")

    # 7. timeline
    tt = timeline_table(log, words_of=scenario.inject_words(lang))
    parts += ["<h2>7. Timeline</h2>",
              _table(("Time (h)", "Clock", "Kind", "Subject", "Event"),
                     [(f"{t:g}", c, k, s, x) for t, c, k, s, x in
                      zip(tt["time"], tt["clock"], tt["kind"], tt["subject"], tt["text"], strict=True)])]

    # 8. charts
    if charts:
        parts += ["<h2>8. Charts</h2>", _img(service_chart(log, lang=lang), "Service levels and resilience loss"),
                  _img(timeline(log, lang=lang), "Exercise timeline")]
        if city is not None:
            parts.append(_img(city_map(city, **state_at(log), title=f"{city.name} at the end of the exercise"),
                              "City at the end of the exercise"))
    parts.append('<p class="muted">Generated by scro_sim from the event log; '
                 "every figure can be traced to the log records it summarises.</p></body></html>")
    return "\n".join(parts)


def _expert_section(log: EventLog, card: ScoreCard, scenario: Scenario, *, lang: str, city: City | None,
                    expert: EventLog | None, start: Any) -> str:
    """The debrief's lessons as a table: clock time, the lesson in ``lang``, the linked events of both logs."""
    from .. import debrief

    if scenario.reference_plans.expert is None:
        return "<p>This scenario has no expert plan.</p>"
    if expert is None and city is not None:
        expert = debrief.expert_log(scenario, city, int(_start(log).get("seed", 0)))
    if expert is None:
        return '<p class="muted">Not computed: the expert plan\'s run needs the city model.</p>'
    items = debrief.lessons(log, expert, scenario, card)
    if not items:
        return ("<p>On every expected action and every computed criterion the learner did as well as the "
                "expert plan, or better.</p>")
    name_of = debrief.names(city) if city is not None else None
    texts = debrief.render(items, lang, name_of=name_of, start=start, scenario=scenario)
    return _table(("Clock", "Lesson", "Events (learner's log)", "Events (expert's log)"),
                  [(_clock(start, ls.time_h), text, ", ".join(f"#{s}" for s in ls.learner_events) or "—",
                    ", ".join(f"#{s}" for s in ls.expert_events) or "—") for ls, text in zip(items, texts, strict=True)])


def write_report(path: str | Path, log: EventLog, card: ScoreCard, scenario: Scenario, *, lang: str = "en",
                 city: City | None = None, played_on: str | None = None, expert: EventLog | None = None) -> Path:
    """Write the after-action report: HTML, or (for a ``.pdf`` path) the summary and charts as PDF pages.

    The PDF is drawn with matplotlib's ``PdfPages`` only (no HTML renderer): a summary page
    with the score and the criteria, then the service chart, the timeline and, given
    ``city``, the end-state map.  Returns the path written.
    """
    p = Path(path)
    if p.suffix.lower() != ".pdf":
        p.write_text(after_action_report(log, card, scenario, lang=lang, city=city, played_on=played_on,
                                         expert=expert), encoding="utf-8")
        return p
    from matplotlib.backends.backend_pdf import PdfPages

    from ..scenario import text_in

    figs: list[Figure] = []
    summary = _figure((8.27, 11.69))
    lines = [f"After-action report: {text_in(scenario.title, lang)}",
             f"scenario {scenario.id} v{scenario.version}, seed {_start(log).get('seed', '')}",
             f"score {card.total:.1f} / 100 (pass mark {card.pass_mark:g}): {'passed' if card.passed else 'not passed'}"
             + (" (provisional)" if card.provisional else ""), ""]
    for c in card.criteria:
        lines.append(f"{c.id} {c.title}: {c.rating or '—'}  {c.feedback}"[:110])
    summary.text(0.06, 0.96, "\n".join(lines), va="top", ha="left", fontsize=9, family="monospace", parse_math=False)
    figs += [summary, service_chart(log), timeline(log)]
    if city is not None:
        figs.append(city_map(city, **state_at(log), title="End of the exercise"))
    try:
        with PdfPages(p) as pdf:
            for f in figs:
                pdf.savefig(f)
    finally:
        for f in figs:
            close(f)
    return p
