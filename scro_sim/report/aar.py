"""The after-action report / improvement plan (HSEEP AAR/IP) of a run, as self-contained HTML or PDF."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..debrief import module_results, why_not_applicable
from ..i18n import translator
from ..log import EventLog
from ..vocabulary import N_, number

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
    _start,
    _start_datetime,
    city_map,
    service_chart,
    state_at,
    timeline,
    timeline_table,
    to_png,
)

# The after-action report

#: a criterion's status as the score card names it, for the catalogues (the others are there already)
_STATUSES = (N_("not applicable"),)


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


def _h2(number: int, heading: str) -> str:
    """A numbered section heading (HSEEP's order), escaped."""
    return f"<h2>{number}. {_e(heading)}</h2>"


def _img(fig: Figure, alt: str) -> str:
    data = base64.b64encode(to_png(fig)).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _capability(c: Any, _: Any, modules: dict[str, str] | None = None) -> str:
    """A criterion's outcome and module, the module by its id and title (``modules``: id -> label)."""
    label = c.outcome
    if c.outcome_text:
        label += f" — {c.outcome_text}"
    if c.module:
        label += " " + _("(module {module})").format(module=(modules or {}).get(c.module, c.module))
    return label


def _rating_name(rating: str | None, _: Any) -> str:
    """A rating's HSEEP name in the reader's language."""
    return _(RATING_NAMES[rating]) if rating in RATING_NAMES else ""


def after_action_report(log: EventLog, card: ScoreCard, scenario: Scenario, *, lang: str = "en",
                        charts: bool = True, city: City | None = None, played_on: str | None = None,
                        expert: EventLog | None = None, feedback: Any = None) -> str:
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
    same run gives the same report).  ``feedback`` (``scro_sim.feedback.RunFeedback``: comments,
    answer ratings, improvement-plan items) adds the plan's items with owners, due dates and
    status, the ratings of discussion answers no criterion reads, and the comments of assessors
    and lecturers per criterion and per moment of the timeline.
    """
    from ..scenario import text_in
    from ..scoring import compute_metrics
    from ..scoring import rows as metric_rows

    _ = translator(lang)
    label_of = lambda kind: scenario.action_label(kind, lang)  # noqa: E731
    sd = _start(log)
    metrics = compute_metrics(log)
    title = text_in(scenario.title, lang)
    start_dt = _start_datetime(log)
    parts: list[str] = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>" + _e(_("After-action report: {title}").format(title=title)) + f"</title><style>{_CSS}</style></head><body>",
        "<h1>" + _e(_("After-action report / improvement plan")) + f'</h1><p class="muted">{_e(title)}</p>',
    ]

    # 1. overview
    verdict = _("passed") if card.passed else _("not passed")
    status = " " + _("(provisional: some criteria await an assessor's judgement)") if card.provisional else ""
    provisional = " " + _("(provisional)")
    overview = [
        (_("Scenario"), _("{title} ({id}, version {version})").format(title=title, id=scenario.id,
                                                                      version=scenario.version)),
        (_("Summary"), text_in(scenario.summary, lang)),
        (_("Level"), _(scenario.level)),
        (_("City"), sd.get("city", "")),
        (_("Seed"), sd.get("seed", "")),
        (_("Scenario start"), start_dt.strftime("%Y-%m-%d %H:%M") if start_dt else sd.get("start", "")),
        (_("Duration"), fmt.duration(_end_time(log), lang)),
        (_("Engine"), sd.get("engine", "")),
        (_("Event log digest"), card.log_digest),
    ]
    if played_on:
        overview.insert(6, (_("Played on"), played_on))
    parts += [_h2(1, _("Exercise overview")), _table((_("Item"), _("Value")), overview)]
    score = _("Score: {total} / 100 (pass mark {mark})").format(total="\x00", mark=fmt.number(card.pass_mark, lang))
    parts.append("<p>" + _e(score).replace("\x00", f"<strong>{fmt.score(card.total, lang)}</strong>") + " — "
                 f'<span class="{"pass" if card.passed else "fail"}">{_e(verdict)}</span>{_e(status)}</p>')
    by_module = module_results(card, lang)
    labels = {m.module: m.label for m in by_module}
    if by_module:
        parts.append(_table((_("Module"), _("Group"), _("Learning outcomes"), _("Criteria"), _("Score")),
                            [(m.label, m.group_title or m.group, ", ".join(m.outcomes), ", ".join(m.criteria),
                              ("—" if m.score is None else fmt.score(m.score, lang)) + (provisional if m.provisional else ""))
                             for m in by_module]))

    # 2. key results: every metric of the catalogue (downtime of the critical facilities)
    results = [(name, number(value), _(entry.unit), _(entry.text))
               for name, entry, value in metric_rows(metrics)]
    parts += [_h2(2, _("Key results")),
              _table((_("Metric"), _("Value"), _("Unit"), _("Meaning")), results)]

    # 3. analysis of capabilities
    parts.append(_h2(3, _("Analysis of capabilities")))
    by_cap: dict[str, list[Any]] = {}  # per course module, in the course map's order
    rank = {m.module: k for k, m in enumerate(by_module)}
    for c in sorted(card.criteria, key=lambda c: rank.get(c.module, len(rank))):
        by_cap.setdefault(_("Module {module}").format(module=labels.get(c.module, c.module)) if c.module
                          else _capability(c, _, labels), []).append(c)
    for cap, crits in by_cap.items():
        parts.append(f"<h3>{_e(cap)}</h3>")
        groups = ((_("Strengths"), [c for c in crits if c.rating in ("P", "S")]),
                  (_("Areas for improvement"), [c for c in crits if c.rating in ("M", "U")]),
                  (_("Awaiting judgement"), [c for c in crits if c.rating is None]))
        for heading, items in groups:
            if not items:
                continue
            parts.append(f"<p><strong>{_e(heading)}</strong></p><ul>")
            for c in items:
                line = f"{c.id} {c.title} [{c.outcome}]"
                if c.rating:
                    line += f": {c.rating} — {_rating_name(c.rating, _)}"
                if c.kind == "computed":
                    line += f" ({c.metric} = {number(c.value)})"
                if c.feedback:
                    line += f". {c.feedback}"
                if c.comment:
                    line += " " + _("Assessor: {comment}").format(comment=c.comment)
                parts.append(f"<li>{_e(line)}</li>")
            parts.append("</ul>")
    parts.append(_table((_("Criterion"), _("Capability"), _("Kind"), _("Value"), _("Rating"), _("Status"), _("Weight"),
                         _("Points"), _("Feedback")),
                        [(f"{c.id} {c.title}", _capability(c, _, labels), _(c.kind),
                          f"{c.metric} = {number(c.value)}" if c.kind == "computed" else _("judged"),
                          c.rating or "—", _(c.status), f"{c.weight:g}", f"{c.points:g}",
                          c.feedback or why_not_applicable(c, _))
                         for c in card.criteria],
                        [f"r-{c.rating}" if c.rating else "" for c in card.criteria]))

    # 4. improvement plan
    plan = [c for c in card.criteria if c.rating in ("M", "U")]
    parts.append(_h2(4, _("Improvement plan")))
    if plan:
        parts.append(_table((_("Capability"), _("Criterion"), _("Issue / area for improvement"), _("Corrective action")),
                            [(_capability(c, _, labels), f"{c.id} {c.title}",
                              _("Rated {rating} ({name})").format(rating=c.rating, name=_rating_name(c.rating, _))
                              + (f"; {c.metric} = {number(c.value)}" if c.kind == "computed" else "")
                              + ("; " + _("assessor: {comment}").format(comment=c.comment) if c.comment else ""),
                              c.feedback) for c in plan]))
    else:
        parts.append("<p>" + _e(_("No criterion was rated M or U.")) + "</p>")
    items = list(getattr(feedback, "plan", ()) or ())
    if items:
        parts.append(_table((_("Corrective action"), _("Owner"), _("Due"), _("Status"), _("Last changed by")),
                            [(p.action, p.owner, p.due, _(p.status), p.updated_by) for p in items]))
    answers = list(getattr(feedback, "answer_ratings", ()) or ())
    if answers:
        parts.append("<h3>" + _e(_("Ratings of discussion answers (feedback, not scored)")) + "</h3>")
        parts.append(_table((_("Question"), _("Rating"), _("Comment"), _("By")),
                            [(a.question_id, f"{a.rating} — {_rating_name(a.rating, _)}", a.comment, a.assessor)
                             for a in answers], [f"r-{a.rating}" for a in answers]))
    comments = list(getattr(feedback, "comments", ()) or ())
    if comments:
        parts.append("<h3>" + _e(_("Comments of assessors and lecturers")) + "</h3>")
        parts.append(_table((_("Criterion"), _("Time"), _("Clock"), _("Comment"), _("By")),
                            [(c.criterion_id or "—", "—" if c.time_h is None else f"{c.time_h:g} h",
                              "—" if c.time_h is None else _clock(start_dt, c.time_h), c.text, c.author)
                             for c in sorted(comments, key=lambda c: (c.time_h is None, c.time_h or 0.0, c.id))]))

    # 5. what the expert did differently
    parts.append(_h2(5, _("What the expert did differently")))
    parts.append(_expert_section(log, card, scenario, lang=lang, city=city, expert=expert, start=start_dt))

    # 6. decisions and rationales
    decisions = log.of_kind("decision")
    parts.append(_h2(6, _("Decisions and rationales")))
    if decisions:
        parts.append(_table((_("Time"), _("Clock"), _("Actions"), _("Rationale"), _("Answers")),
                            [(f"{r.time:g} h", _clock(start_dt, r.time), _actions_text(r.data.get("actions", []), _, label_of),
                              r.data.get("rationale", ""),
                              "; ".join(f"{q}: {a}" for q, a in (r.data.get("answers") or {}).items()))
                             for r in decisions]))
    else:
        parts.append("<p>" + _e(_("No decisions were taken.")) + "</p>")

    # 7. timeline
    tt = timeline_table(log, words_of=scenario.inject_words(lang), words=_, label_of=label_of)
    parts += [_h2(7, _("Timeline")),
              _table((_("Time (h)"), _("Clock"), _("Kind"), _("Subject"), _("Event")),
                     [(f"{t:g}", c, _(k), s, x) for t, c, k, s, x in
                      zip(tt["time"], tt["clock"], tt["kind"], tt["subject"], tt["text"], strict=True)])]

    # 8. charts
    if charts:
        parts += [_h2(8, _("Charts")),
                  _img(service_chart(log, words=_, lang=lang), _("Service levels Q(t) and resilience loss")),
                  _img(timeline(log, words=_, lang=lang), _("Exercise timeline"))]
        if city is not None:
            parts.append(_img(city_map(city, **state_at(log), words=_,
                                       title=_("{city} at the end of the exercise").format(city=city.name)),
                              _("City at the end of the exercise")))
    parts.append('<p class="muted">' + _e(_("Generated by scro_sim from the event log; every figure can be traced to "
                                            "the log records it summarises.")) + "</p></body></html>")
    return "\n".join(parts)


def _expert_section(log: EventLog, card: ScoreCard, scenario: Scenario, *, lang: str, city: City | None,
                    expert: EventLog | None, start: Any) -> str:
    """The debrief's lessons as a table: clock time, the lesson in ``lang``, the linked events of both logs."""
    from .. import debrief

    _ = translator(lang)
    if scenario.reference_plans.expert is None:
        return "<p>" + _e(_("This scenario has no expert plan.")) + "</p>"
    if expert is None and city is not None:
        expert = debrief.expert_log(scenario, city, int(_start(log).get("seed", 0)))
    if expert is None:
        return '<p class="muted">' + _e(_("Not computed: the expert plan's run needs the city model.")) + "</p>"
    items = debrief.lessons(log, expert, scenario, card)
    if not items:
        return "<p>" + _e(_("On every expected action and every computed criterion the learner did as well as the "
                            "expert plan, or better.")) + "</p>"
    name_of = debrief.names(city) if city is not None else None
    texts = debrief.render(items, lang, name_of=name_of, start=start, scenario=scenario)
    return _table((_("Clock"), _("Lesson"), _("Events (learner's log)"), _("Events (expert's log)")),
                  [(_clock(start, ls.time_h), text, ", ".join(f"#{s}" for s in ls.learner_events) or "—",
                    ", ".join(f"#{s}" for s in ls.expert_events) or "—") for ls, text in zip(items, texts, strict=True)])


def write_report(path: str | Path, log: EventLog, card: ScoreCard, scenario: Scenario, *, lang: str = "en",
                 city: City | None = None, played_on: str | None = None, expert: EventLog | None = None,
                 feedback: Any = None) -> Path:
    """Write the after-action report: HTML, or for a ``.pdf`` path the same report laid out for A4.

    Both come from :func:`after_action_report`, so the PDF has the HTML's content, layout and
    language (see :mod:`scro_sim.report.pdf`).  Returns the path written.
    """
    p = Path(path)
    page = after_action_report(log, card, scenario, lang=lang, city=city, played_on=played_on, expert=expert,
                               feedback=feedback)
    if p.suffix.lower() == ".pdf":
        from .pdf import html_to_pdf

        return html_to_pdf(page, p)
    p.write_text(page, encoding="utf-8")
    return p
