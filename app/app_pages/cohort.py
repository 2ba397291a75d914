"""Cohort page (lecturers, assessors): how a cohort is doing, who may need support, and each learner's runs.

A thin layer over :mod:`scro_sim.report.cohort`: the cohorts offered are the ones the store
lets the signed-in user see (a lecturer: the cohorts they belong to), and the dashboard is
read with that user as the viewer, so the library refuses anything else.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import services, state
from scro_sim.errors import ScroSimError
from scro_sim.report.cohort import FLAGS, CohortDashboard, cohort_dashboard, to_csv, to_html
from scro_sim.store import RATINGS

PAGE = "cohort"


def load(cohort: str, viewer: str, inactive_days: float) -> CohortDashboard | None:
    """The dashboard as ``viewer`` may see it, or None with the reason flashed."""
    try:
        return cohort_dashboard(services.store(), cohort, viewer, inactive_days=inactive_days)
    except ScroSimError as exc:
        state.flash("error", str(exc))
        return None


def _support(dash: CohortDashboard) -> None:
    _ = state.gettext()
    st.subheader(_("Learners who may need support"))
    rows = dash.need_support
    if not rows:
        st.success(_("No learner is flagged."))
        return
    st.dataframe(pd.DataFrame([{_("Learner"): f"{r.display_name} ({r.username})",
                                _("Why"): "; ".join(_(FLAGS[f]) for f in r.flags), _("Attempts"): r.attempts,
                                _("Last active"): f"{r.last_active:%Y-%m-%d}" if r.last_active else _("never")}
                               for r in rows]), hide_index=True)


def _exercises(dash: CohortDashboard) -> None:
    _ = state.gettext()
    lang = state.lang()
    if not dash.exercises:
        st.info(_("No graded attempt yet."))
    if dash.modules:
        st.subheader(_("Scores by module, all exercises"))
        st.dataframe(pd.DataFrame([{_("Module"): m, _("Attempts"): ms.n,
                                    _("Mean"): "-" if ms.mean is None else f"{ms.mean:.1f}",
                                    _("Median"): "-" if ms.median is None else f"{ms.median:.1f}"}
                                   for m, ms in dash.modules.items()]), hide_index=True)
    for ex in dash.exercises:
        st.subheader(f"{ex.title(lang)} ({ex.scenario_id})")
        s = ex.scores
        c = st.columns(4)
        c[0].metric(_("Attempts"), ex.attempts)
        c[1].metric(_("Median"), "-" if s.median is None else f"{s.median:.1f}")
        c[2].metric(_("Middle half"), "-" if s.q1 is None else f"{s.q1:.0f}–{s.q3:.0f}")
        c[3].metric(_("Passed"), "-" if s.pass_rate is None else f"{100 * s.pass_rate:.0f} %")
        st.markdown("**" + _("Score distribution") + "**")
        st.bar_chart(pd.DataFrame({_("Attempts"): list(s.bins)},
                                  index=[f"{i * 10:02d}–{i * 10 + 10}" for i in range(len(s.bins))]))
        st.markdown("**" + _("Ratings per criterion") + "**")
        st.dataframe(pd.DataFrame([{_("Criterion"): f"{c.criterion_id}: {c.title}", _("Kind"): _(c.kind),
                                    **{r: c.counts.get(r, 0) for r in RATINGS}, _("not rated"): c.counts.get("—", 0)}
                                   for c in ex.criteria]), hide_index=True)
        if ex.modules:
            st.dataframe(pd.DataFrame([{_("Module"): m, _("Attempts"): ms.n,
                                        _("Mean"): "-" if ms.mean is None else f"{ms.mean:.1f}"}
                                       for m, ms in ex.modules.items()]), hide_index=True)
        if ex.expected:
            st.markdown("**" + _("Expected actions, most often missed or late first") + "**")
            st.dataframe(pd.DataFrame([{_("Expected action"): e.expected_id, _("Asked for"): e.asked,
                                        _("Never done"): e.missed, _("Done late"): e.late, _("Done in time"): e.on_time}
                                       for e in ex.expected]), hide_index=True)


def _learners(dash: CohortDashboard) -> None:
    _ = state.gettext()
    st.subheader(_("Time spent per learner"))
    st.dataframe(pd.DataFrame([{_("Learner"): f"{r.display_name} ({r.username})", _("Attempts"): r.attempts,
                                _("Practice runs"): r.practice,
                                _("Best score"): "-" if r.best is None else f"{r.best:.1f}",
                                _("Hours spent"): f"{r.time_spent_h:.1f}",
                                _("Last active"): f"{r.last_active:%Y-%m-%d %H:%M}" if r.last_active else _("never")}
                               for r in dash.learners]), hide_index=True)
    runs = {rid: r.username for r in dash.learners for rid in r.runs}
    if runs:
        labels = {s.id: f"{s.learner} - {s.scenario_id} - {s.total:.1f} - {s.finished_at:%Y-%m-%d}"
                  for s in services.store().list_runs(cohort=dash.cohort, limit=1000) if s.id in runs}
        chosen = st.selectbox(_("Open a learner's run"), list(labels), format_func=labels.__getitem__,
                              key=state.lang_wkey(PAGE, "run"))
        if chosen:
            st.page_link("app_pages/debrief.py", label=_("Open the debrief"), query_params={"run": chosen})


def main() -> None:
    u = state.require("lecturer", "assessor")
    _ = state.gettext()
    st.title(_("Cohort"))
    state.show_flashes()
    cohorts = [c.name for c in services.store().visible_cohorts(u.username)]
    if not cohorts:
        st.info(_("You follow no cohort yet: a lecturer sees the cohorts they are a member of."))
        return
    c1, c2 = st.columns([2, 1])
    cohort = c1.selectbox(_("Cohort"), cohorts, key=state.wkey(PAGE, "cohort"))
    days = c2.number_input(_("Inactive after (days)"), min_value=1.0, max_value=365.0, value=14.0, step=1.0,
                           key=state.wkey(PAGE, "days"))
    dash = load(str(cohort), u.username, float(days))
    if dash is None:
        state.show_flashes()
        return
    d1, d2 = st.columns(2)
    d1.download_button(_("Download HTML"), data=lambda: to_html(dash, state.lang()).encode("utf-8"),
                       file_name=f"{cohort}-dashboard.html", mime="text/html", on_click="ignore",
                       key=state.wkey(PAGE, "html"))
    d2.download_button(_("Download CSV"), data=lambda: to_csv(dash).encode("utf-8"),
                       file_name=f"{cohort}-dashboard.csv", mime="text/csv", on_click="ignore",
                       key=state.wkey(PAGE, "csv"))
    _support(dash)
    _exercises(dash)
    _learners(dash)


if __name__ == "__main__":
    main()
