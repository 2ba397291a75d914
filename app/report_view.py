"""The after-action report of a stored run inside the app: open it on the page, download it as HTML or PDF."""

from __future__ import annotations

import streamlit as st
import streamlit.components.v1 as components

from app import state
from scro_sim.errors import ScroSimError
from scro_sim.report.pdf import pdf_available
from scro_sim.report.run_report import run_report
from scro_sim.store import StoredRun


def render_report(run: StoredRun, page: str) -> None:
    """An "Open the report" button, the report in a frame once opened, and its two downloads.

    The report re-simulates the expert on the run's seed, so it is built only when asked for
    and kept for this session, per run and language.
    """
    _ = state.gettext()
    lang = state.lang()
    st.markdown("#### " + _("After-action report"))
    key = f"aar.{run.id}.{lang}"
    c1, c2, c3 = st.columns(3)
    if c1.button(_("Open the report"), key=state.wkey(page, "aar_open", run.id)):
        with st.spinner(_("Writing the report...")):
            try:
                state.put(page, key, run_report(run, lang=lang, fmt="html").decode("utf-8"))
            except ScroSimError as exc:
                st.error(str(exc))
    page_html = state.get(page, key)
    c2.download_button(_("Download the report (HTML)"), data=lambda: run_report(run, lang=lang, fmt="html"),
                       file_name=f"after_action_report_{run.id}.html", mime="text/html",
                       key=state.wkey(page, "aar_html", run.id), on_click="ignore")
    if pdf_available():  # else the server lacks Pango: only the HTML report is offered
        c3.download_button(_("Download the report (PDF)"), data=lambda: run_report(run, lang=lang, fmt="pdf"),
                           file_name=f"after_action_report_{run.id}.pdf", mime="application/pdf",
                           key=state.wkey(page, "aar_pdf", run.id), on_click="ignore")
    if page_html:
        components.html(page_html, height=900, scrolling=True)
