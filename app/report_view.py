"""The after-action report of a stored run as downloads (HTML and PDF) in the reader's language.

The page around it already shows the report's sections (score card, timeline, lessons); the
app renders no HTML of its own (tests/test_app.py), so the document itself is a download.
"""

from __future__ import annotations

import streamlit as st

from app import services, state
from scro_sim.report.pdf import pdf_available
from scro_sim.store import StoredRun
from scro_sim.stored_report import run_report


def render_report(run: StoredRun, page: str) -> None:
    """The report's two download buttons; each builds the report only when pressed (it re-simulates the expert)."""
    _ = state.gettext()
    lang = state.lang()
    st.markdown("#### " + _("After-action report"))
    c1, c2 = st.columns(2)

    def build(fmt: str) -> bytes:
        return run_report(run, lang=lang, fmt=fmt, store=services.store())

    c1.download_button(_("Download the report (HTML)"), data=lambda: build("html"),
                       file_name=f"after_action_report_{run.id}.html", mime="text/html",
                       key=state.wkey(page, "aar_html", run.id), on_click="ignore")
    if pdf_available():  # else the server lacks Pango: only the HTML report is offered
        c2.download_button(_("Download the report (PDF)"), data=lambda: build("pdf"),
                           file_name=f"after_action_report_{run.id}.pdf", mime="application/pdf",
                           key=state.wkey(page, "aar_pdf", run.id), on_click="ignore")
