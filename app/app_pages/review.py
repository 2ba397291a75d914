"""Review page (assessor): the queue of provisional runs, a run's evidence, verify, judge, override, export;
each discussion answer beside its guidance and ratable, comments for the learner, the improvement plan."""

from __future__ import annotations

import logging

import pandas as pd
import streamlit as st

from app import services, state
from app.app_pages.debrief import action_labels, render_comment_form, render_plan, render_run, scenario_of
from app.report_view import render_report
from scro_sim.assessment import VerifyReport, export_cohort, export_options, judge, override, verify_run
from scro_sim.errors import ScroSimError
from scro_sim.feedback import answer_sheet, rate_answer
from scro_sim.openedx_map import openedx_map_path
from scro_sim.scenario import Scenario, text_in
from scro_sim.scoring import ScoreCard
from scro_sim.store import GRADED_ORIGINS, RATINGS, RunSummary, StoredRun
from scro_sim.vocabulary import action_name

log = logging.getLogger(__name__)
PAGE = "review"
EXPORTS = {"moodle": ("grades-moodle.csv", "text/csv"), "openedx": ("grades-openedx-import.csv", "text/csv"),
           "openedx-sheet": ("grades-openedx-sheet.csv", "text/csv"), "xapi": ("grades-xapi.json", "application/json")}


# -- handlers


def do_verify(run_id: str) -> None:
    """Re-simulate the stored run and keep the report for this session's view."""
    try:
        rep = verify_run(services.store(), run_id, scenarios_dir=services.bundled_dir())
    except ScroSimError as exc:
        rep = VerifyReport(run_id=run_id, verified=False, differences=[str(exc)])
    state.put(PAGE, f"verify.{run_id}", rep)


def do_judge(run_id: str, criterion: str, rating: str, comment: str, assessor: str) -> None:
    _ = state.gettext()
    try:
        judge(services.store(), run_id, criterion, rating, comment.strip(), assessor)
        state.flash("success", _("Rating saved."))
    except ScroSimError as exc:
        state.flash("error", str(exc))


def do_override(run_id: str, criterion: str, rating: str, comment: str, assessor: str) -> None:
    _ = state.gettext()
    if not comment.strip():
        state.flash("error", _("An override needs a comment."))
        return
    try:
        override(services.store(), run_id, criterion, rating, comment.strip(), assessor)
        state.flash("success", _("Override saved."))
    except ScroSimError as exc:
        state.flash("error", str(exc))


def do_rate_answer(run_id: str, question: str, rating: str, comment: str, assessor: str) -> None:
    _ = state.gettext()
    try:
        rate_answer(services.store(), run_id, question, rating, comment.strip(), assessor)
        state.flash("success", _("Rating saved."))
    except ScroSimError as exc:
        state.flash("error", str(exc))


def export(cohort: str | None, fmt: str) -> str:
    """A cohort's grades in ``fmt``, with the format's settings from the environment (Open edX ids, xAPI IRIs)."""
    return export_cohort(services.store(), cohort, fmt, options=export_options(fmt))


def _export_formats() -> dict[str, tuple[str, str]]:
    """The downloads offered: the Open edX import only once its mapping is configured ($SCRO_SIM_OPENEDX_MAP)."""
    return {fmt: spec for fmt, spec in EXPORTS.items() if fmt != "openedx" or openedx_map_path() is not None}


# -- render


def _filters() -> list[RunSummary]:
    _ = state.gettext()
    s = services.store()
    c1, c2, c3, c4 = st.columns(4)
    cohorts = ["", *[c.name for c in s.list_cohorts()]]
    cohort = c1.selectbox(_("Cohort"), cohorts, format_func=lambda x: x or _("all"), key=state.lang_wkey(PAGE, "cohort"))
    scenario = c2.text_input(_("Scenario id"), key=state.wkey(PAGE, "scenario")).strip()
    learner = c3.text_input(_("Learner"), key=state.wkey(PAGE, "learner")).strip()
    only_queue = c4.checkbox(_("Only awaiting judgement"), value=True, key=state.wkey(PAGE, "queue"))
    # the queue holds runs that count toward a grade: practice, reference and baseline runs are never judged
    return s.list_runs(learner=learner or None, scenario=scenario or None, cohort=cohort or None,
                       provisional=True if only_queue else None, limit=500,
                       origins=GRADED_ORIGINS if only_queue else None)


def _verify_view(run: StoredRun) -> None:
    _ = state.gettext()
    if st.button(_("Verify by re-simulation"), key=state.wkey(PAGE, "verify", run.id)):
        with st.spinner(_("Re-simulating...")):
            do_verify(run.id)
    rep: VerifyReport | None = state.get(PAGE, f"verify.{run.id}")
    if rep is not None:
        if rep.verified:
            st.success(_("verified: re-simulating the stored decisions gives the same log and score"))
        else:
            st.error(_("not verified"))
            for d in rep.differences:
                st.text(d)


def _target(t: object) -> str:
    """A decision's target as the assessor reads it: "all" in their language, ids as they are."""
    _ = state.gettext()
    return _("all") if t == "all" else str(t or "")


def _guidance(sc: Scenario | None, criterion: str, fallback: dict[str, str]) -> tuple[dict[str, str], str, str]:
    """The rubric's guidance per rating in the assessor's language, and the question's text and guidance
    for an ``answer:<question>`` criterion (the stored card's guidance, in the learner's language, otherwise)."""
    lang = state.lang()
    c = next((x for x in sc.rubric.criteria if x.id == criterion), None) if sc is not None else None
    if c is None:
        return fallback, "", ""
    rows = {k: text_in(getattr(c.guidance, k), lang) for k in RATINGS} if c.guidance is not None else fallback
    q = None
    if c.evidence and c.evidence.startswith("answer:"):
        q = next((x for x in sc.questions if x.id == c.evidence[len("answer:"):]), None)  # type: ignore[union-attr]
    if q is None:
        return rows, "", ""
    return rows, text_in(q.text, lang), text_in(q.guidance, lang) if q.guidance is not None else ""


def _judge_view(run: StoredRun, card: ScoreCard, assessor: str, sc: Scenario | None = None) -> None:
    _ = state.gettext()
    st.markdown("#### " + _("Judged criteria"))
    judged = [ln for ln in card.criteria if ln.kind == "judged"]
    if not judged:
        st.caption(_("This scenario has no judged criteria."))
    for ln in judged:
        with st.container(border=True):
            st.markdown(f"**{ln.id}**")
            st.text(ln.title)
            st.caption(_("Status: {status}; rating: {rating}").format(status=_(ln.status), rating=ln.rating or "-"))
            if ln.comment:  # what the learner reads in the debrief
                st.text(f"{_('Comment')} ({ln.by}): {ln.comment}")
            st.markdown("*" + _("Evidence") + "*")
            if ln.evidence:
                for ev in ln.evidence:
                    st.text(f"[{ev.get('time_h', 0):g} h] {ev.get('text', '')}")
            else:
                st.caption(_("No evidence in the log."))
            rows, question, q_guidance = _guidance(sc, ln.id, ln.guidance)
            if question:
                st.markdown("*" + _("Question") + "*")
                st.text(question)
            if q_guidance:
                st.markdown("*" + _("Guidance for this question") + "*")
                st.text(q_guidance)
            if rows:
                st.markdown("*" + _("Guidance per rating") + "*")
                st.dataframe(pd.DataFrame([{_("Rating"): k, _("Guidance"): v} for k, v in rows.items()]),
                             hide_index=True)
            c1, c2 = st.columns([1, 3])
            # no rating chosen until the assessor chooses one: saving untouched must not give a pass
            rating = c1.radio(_("Rating"), RATINGS, horizontal=True, index=None,
                              key=state.wkey(PAGE, "rate", run.id, ln.id))
            comment = c2.text_input(_("Comment"), key=state.wkey(PAGE, "rate_comment", run.id, ln.id))
            if st.button(_("Save rating"), key=state.wkey(PAGE, "rate_save", run.id, ln.id), disabled=rating is None):
                do_judge(run.id, ln.id, str(rating), comment, assessor)
                st.rerun()
    st.markdown("#### " + _("Override a rating"))
    ids = [ln.id for ln in card.criteria]
    c1, c2 = st.columns(2)
    crit = c1.selectbox(_("Criterion"), ids, key=state.wkey(PAGE, "ovr_crit", run.id))
    rating = c2.radio(_("New rating"), RATINGS, horizontal=True, index=None, key=state.wkey(PAGE, "ovr_rating", run.id))
    comment = st.text_area(_("Comment (required)"), max_chars=5000, key=state.wkey(PAGE, "ovr_comment", run.id))
    if st.button(_("Save override"), key=state.wkey(PAGE, "ovr_save", run.id), disabled=rating is None):
        do_override(run.id, str(crit), str(rating), comment, assessor)
        st.rerun()


def _answers_view(run: StoredRun, card: ScoreCard, sc: Scenario, assessor: str) -> None:
    """Each discussion question: its guidance beside the learner's answers, and a rating for every answer."""
    _ = state.gettext()
    st.markdown("#### " + _("Discussion questions"))
    sheet = answer_sheet(sc, run, card, services.store().answer_ratings(run.id), state.lang())
    if not sheet:
        st.caption(_("This scenario asks no discussion questions."))
    for row in sheet:
        with st.container(border=True):
            st.markdown(f"**{row.question_id}**")
            st.text(row.question)
            left, right = st.columns(2)
            left.markdown("*" + _("Guidance for this question") + "*")
            left.text(row.guidance or _("The scenario gives no guidance for this question."))
            right.markdown("*" + _("The learner's answer") + "*")
            if row.answers:
                right.text("\n\n".join(f"[{h:g} h] {text}" for h, text in row.answers))
            else:
                right.caption(_("Not answered."))
            where = (_("Rated through criterion {id} (counts toward the score).").format(id=row.criterion_id)
                     if row.criterion_id else _("Feedback only: no criterion reads this answer."))
            st.caption(where + " " + _("Current rating: {rating}").format(
                rating=f"{row.rating} ({row.by})" if row.rating else "-"))
            c1, c2 = st.columns([1, 3])
            rating = c1.radio(_("Rating"), RATINGS, horizontal=True, index=None,
                              key=state.wkey(PAGE, "ans", run.id, row.question_id))
            comment = c2.text_input(_("Comment"), key=state.wkey(PAGE, "ans_comment", run.id, row.question_id))
            if st.button(_("Save rating"), key=state.wkey(PAGE, "ans_save", run.id, row.question_id),
                         disabled=rating is None):
                do_rate_answer(run.id, row.question_id, str(rating), comment, assessor)
                st.rerun()


def _decisions_view(run: StoredRun) -> None:
    _ = state.gettext()
    label_of = action_labels(scenario_of(run))

    def what(a: dict) -> str:
        return " ".join(x for x in (action_name(str(a.get("action", "")), _, label_of), _target(a.get("target"))) if x)

    st.markdown("#### " + _("Decisions and rationales"))
    rows = [{_("Point"): d.get("point"), _("Hour"): f"{d.get('time_h', 0):g}",
             _("Actions"): ", ".join(what(a) for a in d.get("actions", [])),
             _("Rationale"): d.get("rationale", ""),
             _("Answers"): "; ".join(f"{k}: {v}" for k, v in (d.get("answers") or {}).items())} for d in run.decisions]
    if rows:
        st.dataframe(pd.DataFrame(rows), hide_index=True)
    else:
        st.caption(_("No decisions."))


def _export_view() -> None:
    _ = state.gettext()
    st.markdown("#### " + _("Export grades"))
    cohorts = [c.name for c in services.store().list_cohorts()]
    if not cohorts:
        st.caption(_("No cohort yet."))
        return
    cohort = st.selectbox(_("Cohort to export"), cohorts, key=state.wkey(PAGE, "export_cohort"))
    formats = _export_formats()
    if "openedx" not in formats:
        st.caption(_("The Open edX import needs the course's Open edX ids: set SCRO_SIM_OPENEDX_MAP (README, Open edX)."))
    for fmt in list(formats):
        try:  # a broken setting (an address, the Open edX mapping or a learner's id in it): say so, not fail on the click
            export(cohort, fmt) if fmt == "openedx" else export_options(fmt)
        except (ScroSimError, ValueError) as exc:
            st.error(f"{fmt}: {exc}")
            formats.pop(fmt)
    cols = st.columns(len(formats))
    for col, (fmt, (name, mime)) in zip(cols, formats.items(), strict=True):
        # the export is built only when the button is pressed (a callable), not on every rerun
        col.download_button(_("Download {fmt}").format(fmt=fmt), data=lambda fmt=fmt: export(cohort, fmt).encode("utf-8"),
                            file_name=f"{cohort}-{name}", mime=mime, key=state.wkey(PAGE, "export", fmt), on_click="ignore")


def main() -> None:
    u = state.require("assessor")
    _ = state.gettext()
    st.title(_("Review"))
    state.show_flashes()
    runs = _filters()
    if not runs:
        st.info(_("No runs match."))
    else:
        st.dataframe(pd.DataFrame([{_("Run"): r.id[:8], _("Learner"): r.learner, _("Cohort"): r.cohort or "",
                                    _("Scenario"): r.scenario_id, _("Score"): f"{r.total:.1f}",
                                    _("Provisional"): _("yes") if r.provisional else _("no"),
                                    _("Finished"): f"{r.finished_at:%Y-%m-%d %H:%M}",
                                    _("Origin"): _(r.origin)} for r in runs]), hide_index=True)
        labels = {r.id: f"{r.id[:8]} - {r.learner} - {r.scenario_id} - {r.total:.1f}" for r in runs}
        run_id = st.selectbox(_("Open a run"), list(labels), format_func=labels.__getitem__, key=state.lang_wkey(PAGE, "open"))
        try:
            run = services.store().get_run(run_id)
        except ScroSimError as exc:  # a damaged record: say what, as verify would
            run = None
            st.error(_("not verified") + f": {exc}")
        if run is not None:
            st.subheader(_("Run {id} by {learner}").format(id=run.id[:8], learner=run.learner))
            st.code(run.id, language=None)  # the whole id, with a copy button, for verify and the CLI
            _verify_view(run)
            card = ScoreCard.model_validate(run.scorecard)
            render_run(run, card)
            _decisions_view(run)
            render_report(run, PAGE)
            sc = scenario_of(run)
            if sc is not None:
                _judge_view(run, card, u.username, sc)
                _answers_view(run, card, sc, u.username)
            render_comment_form(run, card, u.username)
            render_plan(run, u.username)
    st.divider()
    _export_view()


if __name__ == "__main__":
    main()
