"""Debrief page (the hotwash): a learner's own scored runs, with feedback, charts and the expert's plan.

A run is shown to the learner who made it and to the lecturers of its cohort; ``?run=<id>``
of anyone else's run gets the same answer as a run that does not exist.  Below the run: the
comments of assessors and lecturers and the improvement plan, which the learner (or staff)
adds to and moves on to done.  The render functions here are shared with
the review page.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pandas as pd
import streamlit as st

from app import services, state
from app.report_view import render_report
from scro_sim import debrief
from scro_sim import formatting as fmt
from scro_sim.assessment import card_in_language
from scro_sim.errors import ScroSimError
from scro_sim.feedback import run_feedback
from scro_sim.log import EventLog
from scro_sim.names import Names
from scro_sim.scenario import Plan, Rubric, Scenario
from scro_sim.scoring import ScoreCard, awaiting, service_curves, total_range
from scro_sim.scoring import describe as metric_entry
from scro_sim.store import PLAN_STATUSES, StoredRun
from scro_sim.vocabulary import action_name, describe, inject_words, number, service

log = logging.getLogger(__name__)
PAGE = "debrief"


# -- handlers


def own_run(username: str, run_id: str | None) -> StoredRun | None:
    """The run if it exists and ``username`` may open it: its learner, or a lecturer of its cohort (the store's
    rule, ``Store.may_view_run``); None for both "missing" and "not yours"."""
    if not run_id or not isinstance(run_id, str) or len(run_id) > 64:
        return None
    if not services.store().may_view_run(username, run_id):
        return None
    return services.store().get_run(run_id)


def do_add_plan_item(run_id: str, action: str, owner: str, due: str, by: str) -> None:
    _ = state.gettext()
    try:
        services.store().add_plan_item(run_id, action, owner, due.strip(), by)
        state.flash("success", _("Plan item added."))
    except ScroSimError as exc:
        state.flash("error", str(exc))


def do_update_plan_item(item_id: int, status: str, by: str) -> None:
    _ = state.gettext()
    try:
        services.store().update_plan_item(item_id, by, status=status)
        state.flash("success", _("Plan item updated."))
    except ScroSimError as exc:
        state.flash("error", str(exc))


def scenario_of(run: StoredRun) -> Scenario | None:
    ld = services.load_text(run.scenario_yaml, f"<run {run.id} scenario>")
    return ld.scenario


def card_in(run: StoredRun, lang: str) -> ScoreCard:
    """The run's score card, its feedback re-worded in ``lang`` (the stored card is not changed)."""
    card = ScoreCard.model_validate(run.scorecard)
    if card.lang == lang:
        return card
    try:
        ld = services.load_text(run.scenario_yaml, f"<run {run.id} scenario>")
        if ld.scenario is None or ld.city is None:
            return card
        return card_in_language(services.store(), run, ld.scenario, ld.city, lang)
    except ScroSimError:
        log.exception("re-wording run %s failed", run.id)
        return card


# -- render (shared with review)


def render_provisional(card: ScoreCard, rubric: Rubric | None, label: str | None = None) -> None:
    """A provisional score: what is settled, the range the total can still take, the criteria that wait."""
    _ = state.gettext()
    lang = state.lang()
    waiting = awaiting(card)
    lo, hi = total_range(card, rubric) if rubric is not None else (card.total, card.total)
    c = st.columns(3)
    c[0].metric(label or _("Score"), fmt.score(card.total, lang) + " / 100",
                help=_("Over the criteria rated so far."))
    c[1].metric(_("The total can still be"), f"{fmt.score(lo, lang)} – {fmt.score(hi, lang)}",
                help=_("From every open criterion rated lowest to every one rated highest."))
    settled = lo >= card.pass_mark or hi < card.pass_mark
    c[2].metric(_("Result (pass mark {mark})").format(mark=fmt.number(card.pass_mark, lang)),
                (_("Passed") if lo >= card.pass_mark else _("Not passed")) if settled else _("Open"),
                help=(_("Passed whatever the assessor rates") if lo >= card.pass_mark else
                      _("Not passed whatever the assessor rates") if hi < card.pass_mark else None))
    st.info(_("Provisional: an assessor still has to rate {criteria}.").format(
        criteria=", ".join(fmt.quote(ln.title, lang) for ln in waiting)))


def render_card(card: ScoreCard, sc: Scenario | None = None) -> None:
    _ = state.gettext()
    lang = state.lang()
    if card.provisional and card.criteria and any(awaiting(card)):
        render_provisional(card, sc.rubric if sc is not None else None)
    else:
        c = st.columns(3)
        c[0].metric(_("Score"), fmt.score(card.total, lang) + " / 100")
        c[1].metric(_("Pass mark"), fmt.number(card.pass_mark, lang))
        c[2].metric(_("Result"), _("Passed") if card.passed else _("Not passed"))
    entries = {ln.metric: metric_entry(ln.metric) for ln in card.criteria if ln.metric}

    def value(ln: Any) -> str:
        if ln.value is None:
            return ""
        e = entries.get(ln.metric)
        unit = _(e.unit) if e is not None and e.unit else ""
        return f"{number(ln.value)} {unit}".strip() if lang == "en" else f"{fmt.number(ln.value, lang)} {unit}".strip()

    rows = [{_("Criterion"): ln.title, _("Rating"): ln.rating or "—", _("Value"): value(ln),
             _("Points"): f"{fmt.number(ln.points, lang)} / {fmt.number(ln.weight, lang)}", _("Status"): _(ln.status),
             _("Feedback"): ln.feedback or debrief.why_not_applicable(ln, _)}
            | ({_("Comment"): ln.comment} if any(x.comment for x in card.criteria) else {})
            for ln in card.criteria]
    # a static table: long feedback wraps instead of being cut at the column's edge
    st.table(pd.DataFrame(rows).set_index(_("Criterion")))
    if any(entries.values()):
        with st.expander(_("What the metrics mean")):
            st.markdown("\n".join(f"- **{_md(ln.title)}**: {_md(_(e.text))}" for ln in card.criteria
                                   if ln.metric and (e := entries.get(ln.metric))))
    st.markdown("**" + _("By module") + "**")
    # by course module, each named in the reader's language (the card keeps only the ids)
    st.table(pd.DataFrame([{_("Module"): m.label, _("Score"): "-" if m.score is None else fmt.score(m.score, lang),
                            _("Outcomes"): ", ".join(m.outcomes),
                            _("Provisional"): _("yes") if m.provisional else _("no")}
                           for m in debrief.module_results(card, lang)]).set_index(_("Module")))


def timeline_rows(log_: EventLog, name_of: Any = None, words_of: Any = None, start: Any = None) -> list[dict[str, Any]]:
    """Injects and decisions in time order, as table rows; ``words_of`` gives an inject's words by id
    and ``label_of`` an action's name as the scenario words it, in the reader's language
    (``Scenario.inject_words``, :func:`action_labels`)."""
    _ = state.gettext()
    rows = []
    for r in log_.of_kind("inject", "decision"):
        if r.kind == "inject":
            w = inject_words(r.subject, r.data, words_of)
            what = f"{w.get('sender', r.subject)} ({_(str(r.data.get('channel', '')))}): {w.get('text', '')}"
        else:
            acts = "; ".join(_describe(a, name_of) for a in r.data.get("actions", [])) or _("no action")
            what = acts + (f" | {r.data['rationale']}" if r.data.get("rationale") else "")
        rows.append({_("When"): fmt.clock(start, r.time, state.lang()), _("Kind"): _(r.kind), _("What"): what})
    return rows


def figure(run: StoredRun, name: str, log_: EventLog, recovery: bool = False) -> bytes | None:
    """A report figure of a stored run as PNG, drawn once per session and run (kept in session state);
    its time axis ends with the exercise, or with ``recovery`` once the city has recovered."""
    key = f"png.{run.id}.{run.log_digest[:16]}.{name}.{state.lang()}.{recovery}"
    png = state.get(PAGE, key)
    if png is None:
        png = services.figure_png(name, log_, words=state.gettext(), lang=state.lang(), recovery=recovery) or b""
        state.put(PAGE, key, png)
    return png or None


def _names_of(run: StoredRun) -> Names | None:
    """The run's ids as the reader's words (its city and scenario), or None when its scenario no longer loads."""
    ld = services.load_text(run.scenario_yaml, f"<run {run.id} scenario>")
    if ld.city is None:
        return None
    return Names(ld.city, ld.scenario, state.lang(), state.gettext())


def render_timeline(run: StoredRun, log_: EventLog) -> None:
    _ = state.gettext()
    png = figure(run, "timeline", log_)
    if png:
        st.image(png, alt=_("Timeline of the exercise: messages, decisions and assets going down and coming back; "
                            "the table below lists the same events."))
    ld = services.load_text(run.scenario_yaml, f"<run {run.id} scenario>")
    words_of = ld.scenario.inject_words(state.lang()) if ld.scenario is not None else None
    rows = timeline_rows(log_, _names_of(run), words_of, ld.scenario.start if ld.scenario is not None else None)
    if rows:
        st.table(pd.DataFrame(rows).set_index(_("When")))
    else:
        st.caption(_("Nothing happened."))


def render_services(run: StoredRun, log_: EventLog) -> None:
    _ = state.gettext()
    recovery = st.toggle(_("Show the recovery after the exercise"), key=state.wkey(PAGE, "recovery", run.id),
                         help=_("The run goes on until the city has recovered, often for weeks after the exercise."))
    png = figure(run, "service_chart", log_, recovery)
    if png:
        st.image(png, alt=_("Share of people with each service (power, water, telecom, health) over the hours "
                            "of the exercise."))
    else:
        df = service_curves(log_)
        st.line_chart(df.pivot_table(index="time_h", columns="service", values="served", aggfunc="last").ffill())
    st.caption(_("The area above each curve is the resilience loss: smaller is better."))


def action_labels(sc: Scenario | None) -> Any:
    """``action id -> the scenario's own label in the reader's language, or None`` (None without a scenario)."""
    if sc is None:
        return None
    lang = state.lang()
    return lambda kind: sc.action_label(kind, lang)


def _describe(a: Any, name_of: Any = None) -> str:
    """An action as the learner reads it: its name in their language, then its targets by name ("all" translated)."""
    d = a if isinstance(a, dict) else a.model_dump(mode="json", exclude_none=True)
    names = name_of if isinstance(name_of, Names) else Names(None, None, state.lang(), state.gettext())
    return names.action_text(d)


def render_expert(sc: Scenario, run: StoredRun) -> None:
    _ = state.gettext()
    expert: Plan | None = sc.reference_plans.expert
    name_of = _names_of(run)
    left, right = st.columns(2)
    with left:
        st.markdown("**" + _("What the expert plan does") + "**")
        if expert is None:
            st.caption(_("This scenario has no expert plan."))
        else:
            rows = [{_("When"): _("at the start"), _("Action"): _describe(a, name_of)}
                    for a in expert.prepositioning]
            if expert.priorities:
                rows.append({_("When"): _("at the start"), _("Action"): _("repair order") + ": "
                             + " > ".join(name_of(x) if name_of is not None else x for x in expert.priorities)})
            for r in expert.rules:
                cond = (name_of.condition(r.when.key, r.when.value, sc.start) if name_of is not None
                        else f"{r.when.key} {r.when.value}")
                rows += [{_("When"): cond, _("Action"): _describe(a, name_of)} for a in r.do]
            st.table(pd.DataFrame(rows).set_index(_("When")))
    with right:
        st.markdown("**" + _("What you did") + "**")
        rows = [{_("When"): fmt.clock(sc.start, float(d.get("time_h", 0)), state.lang()),
                 _("Action"): _describe(a, name_of)}
                for d in run.decisions for a in d.get("actions", [])]
        if rows:
            st.table(pd.DataFrame(rows).set_index(_("When")))
        else:
            st.caption(_("You took no action."))


def lessons_of(run: StoredRun, card: ScoreCard) -> tuple[list[debrief.Lesson], EventLog | None]:
    """The run's lessons against the expert plan on its seed (the expert's log re-simulated, cached)."""
    ld = services.load_text(run.scenario_yaml, f"<run {run.id} scenario>")
    if ld.scenario is None or ld.city is None:
        return [], None
    try:
        expert = debrief.expert_log(ld.scenario, ld.city, run.seed)
        return debrief.lessons(EventLog.from_jsonl(run.log_jsonl), expert, ld.scenario, card), expert
    except ScroSimError:
        log.exception("the expert's run for %s failed", run.id)
        return [], None


def _md(text: str) -> str:
    """Scenario and city text shown as Markdown literally (a name with ``*`` or ``#`` stays a name)."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def _events(log_: EventLog | None, seqs: list[int], name_of: Any, start: Any, sc: Scenario | None = None) -> list[str]:
    """The linked records as "#seq  clock  sentence" lines."""
    _ = state.gettext()
    if log_ is None:
        return []
    # an expected action is named by what it asks for ("Open surge beds (EA_beds)"), not by its id alone
    label_of = action_labels(sc)
    what_of = {ea.id: f"{action_name(ea.action, _, label_of)} ({ea.id})" for inj in (sc.msel if sc is not None else ())
               for ea in inj.expected_actions}
    lines = []
    for s in seqs:
        if not 0 <= s < len(log_):
            continue
        r = log_[s]
        if r.kind == "decision":
            what = _("Decision: {actions}").format(
                actions=", ".join(_describe(a, name_of) for a in r.data.get("actions", [])) or _("no action"))
        elif r.kind == "service":  # a district's count of people without a service changed
            what = (_("{district}: {n} of {population} people without {service}") if r.data.get("unserved") else
                    _("{district}: {service} back for everyone")).format(
                district=name_of(r.subject) if name_of is not None else r.subject,
                n=number(float(r.data.get("unserved", 0))), population=number(float(r.data.get("population", 0))),
                service=service(str(r.data.get("service", "")), _))
        elif r.kind == "expected":
            what = {"due": _("Expected action {id} asked for, due at hour {h}"),
                    "met": _("Expected action {id} done (action at hour {h})"),
                    "missed": _("Expected action {id} not done by hour {h}")}.get(
                str(r.data.get("status")), "{id}").format(
                id=what_of.get(r.subject, r.subject), h=f"{float(r.data.get('action_time_h', r.data.get('due_h', 0))):g}")
        else:
            what = describe(r.kind, r.subject, r.data, _, name_of,
                            sc.inject_words(state.lang()) if sc is not None else None)
        lines.append(f"#{r.seq}  {debrief.clock(start, r.time, state.lang())}  {what}")
    return lines


def render_lessons(run: StoredRun, card: ScoreCard) -> None:
    """What the expert did differently, lesson by lesson, with the events behind each; then the assessor's comments."""
    _ = state.gettext()
    st.markdown("#### " + _("What the expert did differently"))
    ld = services.load_text(run.scenario_yaml, f"<run {run.id} scenario>")
    sc, city = ld.scenario, ld.city
    if sc is None or city is None:
        return
    if sc.reference_plans.expert is None:
        st.caption(_("This scenario has no expert plan."))
    else:
        items, expert = lessons_of(run, card)
        if not items:
            st.caption(_("On every expected action and every computed criterion you did as well as the expert "
                         "plan, or better."))
        name_of = debrief.names(city)
        mine = EventLog.from_jsonl(run.log_jsonl)
        for ls in items:
            with st.container(border=True):
                st.markdown(f"**{_md(debrief.clock(sc.start, ls.time_h, state.lang()))}**  \n"
                            + _md(debrief.render_lesson(ls, state.lang(), name_of=name_of, start=sc.start,
                                                        scenario=sc)))
                st.caption(_("Events in your log: {learner}; in the expert's log: {expert}").format(
                    learner=", ".join(f"#{s}" for s in ls.learner_events) or "—",
                    expert=", ".join(f"#{s}" for s in ls.expert_events) or "—"))
                with st.expander(_("Show these events")):
                    for heading, lg, seqs in ((_("Your log"), mine, ls.learner_events),
                                              (_("The expert's log"), expert, ls.expert_events)):
                        lines = _events(lg, seqs, name_of, sc.start, sc)
                        if lines:
                            st.markdown("*" + heading + "*")
                            st.text("\n".join(lines))
    comments = [ln for ln in card.criteria if ln.comment and ln.status in ("judged", "overridden")]
    if comments:
        st.markdown("#### " + _("The assessor's comments"))
        for ln in comments:
            st.markdown(f"**{_md(ln.title)}** ({ln.rating or '—'})  \n{_md(ln.comment)}")


def render_feedback(run: StoredRun, card: ScoreCard) -> None:
    """What assessors and lecturers wrote on the run: comments per criterion and per moment of the timeline."""
    _ = state.gettext()
    fb = run_feedback(services.store(), run.id)
    titles = {ln.id: ln.title for ln in card.criteria}
    if not fb.comments and not fb.answer_ratings:
        return
    st.markdown("#### " + _("Comments on your run"))
    for cid, items in fb.by_criterion.items():
        for c in items:
            when = "" if c.time_h is None else f" ({_('at hour {h}').format(h=f'{c.time_h:g}')})"
            st.markdown(f"**{_md(cid)} {_md(titles.get(cid, ''))}**{_md(when)}  \n{_md(c.text)}  \n"
                        f"*{_md(c.author)}, {c.created_at:%Y-%m-%d}*")
    moments = [c for c in fb.on_timeline if c.criterion_id is None]
    if moments:
        st.dataframe(pd.DataFrame([{_("Hour"): f"{c.time_h:g}", _("Comment"): c.text, _("By"): c.author}
                                   for c in moments]), hide_index=True)
    general = [c for c in fb.comments if c.criterion_id is None and c.time_h is None]
    for c in general:
        st.markdown(f"{_md(c.text)}  \n*{_md(c.author)}, {c.created_at:%Y-%m-%d}*")
    if fb.answer_ratings:
        st.dataframe(pd.DataFrame([{_("Question"): a.question_id, _("Rating"): a.rating, _("Comment"): a.comment,
                                    _("By"): a.assessor} for a in fb.answer_ratings]), hide_index=True)


def do_comment(run_id: str, author: str, text: str, criterion: str | None, hour: float | None) -> None:
    _ = state.gettext()
    try:
        services.store().add_comment(run_id, author, text, criterion_id=criterion or None, time_h=hour)
        state.flash("success", _("Comment saved."))
    except ScroSimError as exc:
        state.flash("error", str(exc))


def render_comment_form(run: StoredRun, card: ScoreCard, author: str) -> None:
    """A comment for the learner on a criterion, a moment of the timeline (an hour), or both."""
    _ = state.gettext()
    st.markdown("#### " + _("Comment for the learner"))
    with st.form(key=state.wkey(PAGE, "comment_form", run.id), clear_on_submit=True):
        c1, c2 = st.columns(2)
        crit = c1.selectbox(_("Criterion"), ["", *[ln.id for ln in card.criteria]],
                            format_func=lambda x: x or _("none (a moment of the timeline)"))
        hour = c2.number_input(_("At hour (optional)"), min_value=0.0, value=None, step=0.5)
        text = st.text_area(_("Comment"), max_chars=5000)
        if st.form_submit_button(_("Save comment")):
            do_comment(run.id, author, text, crit or None, hour)
            st.rerun()
    fb = run_feedback(services.store(), run.id)
    if fb.comments:
        st.dataframe(pd.DataFrame([{_("Criterion"): c.criterion_id or "", _("Hour"): "" if c.time_h is None
                                    else f"{c.time_h:g}", _("Comment"): c.text, _("By"): c.author}
                                   for c in fb.comments]), hide_index=True)


def render_plan(run: StoredRun, editor: str | None) -> None:
    """The run's improvement plan; ``editor`` (the learner, an assessor or a lecturer of the cohort) may add items
    and move them on to done."""
    _ = state.gettext()
    st.markdown("#### " + _("Improvement plan"))
    items = services.store().plan_items(run.id)
    if items:
        st.dataframe(pd.DataFrame([{_("Action"): p.action, _("Owner"): p.owner, _("Due"): p.due,
                                    _("Status"): _(p.status), _("Last changed by"): p.updated_by} for p in items]),
                     hide_index=True)
    else:
        st.caption(_("No plan items yet."))
    if editor is None:
        return
    open_items = [p for p in items if p.status != "done"]
    if open_items:
        c1, c2, c3 = st.columns([3, 2, 1])
        labels = {p.id: f"{p.action[:60]} ({p.owner}, {p.due})" for p in open_items}
        item = c1.selectbox(_("Plan item"), list(labels), format_func=labels.__getitem__,
                            key=state.wkey(PAGE, "plan_item", run.id))
        status = c2.radio(_("Status"), PLAN_STATUSES, format_func=_, horizontal=True, index=None,
                          key=state.wkey(PAGE, "plan_status", run.id))
        if c3.button(_("Update"), key=state.wkey(PAGE, "plan_update", run.id), disabled=status is None):
            do_update_plan_item(int(item), str(status), editor)
            st.rerun()
    with st.form(key=state.wkey(PAGE, "plan_form", run.id), clear_on_submit=True):
        st.markdown("*" + _("Add a plan item") + "*")
        action = st.text_input(_("Corrective action"), max_chars=2000)
        c1, c2 = st.columns(2)
        owner = c1.text_input(_("Owner"), max_chars=200)
        due = c2.text_input(_("Due date (YYYY-MM-DD)"), max_chars=10)
        if st.form_submit_button(_("Add")):
            do_add_plan_item(run.id, action, owner, due, editor)
            st.rerun()


def render_run(run: StoredRun, card: ScoreCard) -> None:
    _ = state.gettext()
    log_ = EventLog.from_jsonl(run.log_jsonl)
    render_card(card, scenario_of(run))
    st.markdown("#### " + _("Service over time"))
    render_services(run, log_)
    st.markdown("#### " + _("Timeline of messages and decisions"))
    render_timeline(run, log_)


def _runs_for(username: str, role: str) -> list[Any]:
    """The runs a user may pick: their own; a lecturer's also those of the cohorts they belong to."""
    s = services.store()
    runs = s.list_runs(learner=username)
    if role == "lecturer":
        for c in s.visible_cohorts(username):
            runs += [r for r in s.list_runs(cohort=c.name, limit=500) if r.learner != username]
    return runs


def main() -> None:
    u = state.require("learner", "lecturer")
    _ = state.gettext()
    st.title(_("Debrief"))
    state.show_flashes()
    asked = st.query_params.get("run")
    runs = _runs_for(u.username, u.role)
    if asked:
        run = own_run(u.username, asked)
        if run is None:
            st.error(_("This run is not available."))
            return
    else:
        if not runs:
            st.info(_("You have no scored runs yet. Play an exercise first."))
            return
        ids = [r.id for r in runs]
        labels = {r.id: ("" if r.learner == u.username else f"{r.learner} – ")
                  + f"{fmt.datetime_text(r.finished_at, state.lang())} – {r.scenario_id} – "
                    f"{fmt.score(r.total, state.lang())}"
                  + (" " + _("(practice)") if r.origin == "practice" else "") for r in runs}
        chosen = st.selectbox(_("Run"), ids, format_func=labels.__getitem__, key=state.lang_wkey(PAGE, "run"))
        run = own_run(u.username, chosen)
        if run is None:
            st.error(_("This run is not available."))
            return
    card = card_in(run, state.lang())
    if run.learner != u.username:
        st.caption(_("Run of {learner} (cohort {cohort})").format(learner=run.learner, cohort=run.cohort or "-"))
    render_run(run, card)
    render_report(run, PAGE)
    render_lessons(run, card)
    render_feedback(run, card)
    if run.learner != u.username:  # a lecturer of the learner's cohort: feedback for the learner
        render_comment_form(run, card, u.username)
    render_plan(run, u.username)
    sc = scenario_of(run)
    if sc is not None:
        st.markdown("#### " + _("Compared with the expert plan"))
        render_expert(sc, run)


if __name__ == "__main__":
    main()
