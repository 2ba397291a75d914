"""Sign-in page: username and password against the store, or OpenID Connect when configured."""

from __future__ import annotations

import logging

import streamlit as st

from app import services, state
from scro_sim.errors import StoreError
from scro_sim.store import User

log = logging.getLogger(__name__)


# -- handlers


def _signed_in(u: User, via: str) -> None:
    cohorts = tuple(c.name for c in services.store().cohorts_of(u.username))
    state.set_user(state.SignedIn(u.username, u.role, u.display_name or u.username, cohorts, via))
    state.set_lang(u.language)


def sign_in(username: str, password: str) -> bool:
    """Check the password; on success remember the user (and their language) in the session."""
    try:
        u = services.store().authenticate(username.strip(), password) if username.strip() and password else None
    except StoreError:
        log.exception("sign-in failed")
        u = None
    if u is None:
        return False
    _signed_in(u, "password")
    return True


def oidc_configured() -> bool:
    """Whether ``.streamlit/secrets.toml`` has an ``[auth]`` section for st.login."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def oidc_user() -> User | None:
    """The store user matching the identity provider's login (by username or e-mail), if any."""
    info = getattr(st, "user", None)
    if info is None or not info.get("is_logged_in"):
        return None
    s = services.store()
    for claim in ("preferred_username", "email"):
        name = info.get(claim)
        if isinstance(name, str) and name:
            u = s.get_user(name)
            if u is not None:
                return u
    return None


# -- render


def main() -> None:
    _ = state.gettext()
    st.title(_("Smart City Resilience Officer: tabletop simulation"))
    if state.user() is not None:
        st.success(_("You are signed in."))
        return
    if oidc_configured():
        u = oidc_user()
        if u is not None:
            _signed_in(u, "oidc")
            st.rerun()
        if getattr(st, "user", None) is not None and st.user.get("is_logged_in"):
            st.error(_("There is no account for this identity. Ask your lecturer to add you."))
        if st.button(_("Sign in with your organisation"), key=state.wkey("sign_in", "oidc")):
            st.login()
        st.divider()
    with st.form(state.wkey("sign_in", "form")):
        username = st.text_input(_("Username"), key=state.wkey("sign_in", "username"))
        password = st.text_input(_("Password"), type="password", key=state.wkey("sign_in", "password"))
        submitted = st.form_submit_button(_("Sign in"))
    if submitted:
        if sign_in(username, password):
            st.rerun()
        st.error(_("Wrong username or password."))


if __name__ == "__main__":
    main()
