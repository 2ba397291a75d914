"""scro_sim app entry: page config, language in the sidebar, and the pages each role may open.

Run with ``scro-sim app`` or ``streamlit run app/streamlit_app.py``; the database is
``$SCRO_SIM_DB`` (a SQLite file by default).
"""

from __future__ import annotations

import sys
from pathlib import Path

# The folder holding this app/ (the checkout, or scro_sim/bundled in a wheel: see scro_sim/resources.py)
# goes first on the path, so ``import app`` is this app and never another package of that name.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app import services, state  # noqa: E402
from scro_sim.i18n import LANGUAGES  # noqa: E402


def _language_changed() -> None:
    """Widget callback: switch the UI language and remember it in the user's record."""
    code = state.widget_value(state.wkey("lang"), state.lang())
    state.set_lang(code)
    u = state.user()
    if u is not None:
        services.store().set_language(u.username, state.lang())


def _sidebar() -> None:
    _ = state.gettext()
    codes = list(LANGUAGES)
    state.set_widget(state.wkey("lang"), state.lang())
    st.sidebar.selectbox(_("Language"), codes, format_func=LANGUAGES.__getitem__, key=state.wkey("lang"),
                         on_change=_language_changed)
    u = state.user()
    if u is not None:
        st.sidebar.caption(_("Signed in as {name} ({role})").format(name=u.display_name, role=_(u.role)))
        if st.sidebar.button(_("Sign out"), key=state.wkey("sign_out")):
            state.clear_session()
            if u.via == "oidc":
                st.logout()
            st.rerun()


#: pages each role may open, the first is its home page
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "learner": ("play", "plan", "debrief", "glossary"),
    "lecturer": ("author", "cohort", "play", "plan", "debrief", "glossary"),
    "assessor": ("review", "cohort", "glossary"),
    "admin": ("review", "cohort", "author", "play", "plan", "debrief", "glossary"),
}


def _pages() -> list[st.Page]:
    _ = state.gettext()
    titles = {"play": _("Play"), "plan": _("Plan"), "debrief": _("Debrief"), "author": _("Author"),
              "review": _("Review"), "cohort": _("Cohort"), "glossary": _("Glossary")}
    u = state.user()
    names = ROLE_PAGES.get(u.role, ()) if u is not None else ()
    if not names:
        return [st.Page("app_pages/sign_in.py", title=_("Sign in"), url_path="sign_in", default=True)]
    return [st.Page(f"app_pages/{n}.py", title=titles[n], url_path=n, default=i == 0) for i, n in enumerate(names)]


def main() -> None:
    st.set_page_config(page_title="scro_sim", page_icon=":material/flood:", layout="wide")
    from app.app_pages.sign_in import redeem_lti_ticket

    redeem_lti_ticket()  # a launch from a course platform (LTI) arrives with a ticket in the address
    _sidebar()
    page = st.navigation(_pages())
    page.run()


main()
