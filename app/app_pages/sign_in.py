"""Sign-in page: username and password against the store, or OpenID Connect when configured."""

from __future__ import annotations

import logging
import os

import streamlit as st

from app import services, state
from scro_sim.errors import StoreError
from scro_sim.store import User
from scro_sim.store.throttle import SignIn, client_address

log = logging.getLogger(__name__)


# -- handlers


def _signed_in(u: User, via: str) -> None:
    cohorts = tuple(c.name for c in services.store().cohorts_of(u.username))
    state.set_user(state.SignedIn(u.username, u.role, u.display_name or u.username, cohorts, via))
    state.set_lang(u.language)


def _client() -> str | None:
    """The browser's address for the sign-in throttle: the connection's peer, or behind
    ``$SCRO_SIM_PROXIES`` trusted reverse proxies, the address the outermost one saw."""
    try:
        proxies = int(os.environ.get("SCRO_SIM_PROXIES", "0") or 0)
    except ValueError:
        proxies = 0
    try:
        headers = dict(st.context.headers)
        peer = st.context.ip_address
    except Exception:  # no browser connection (e.g. under AppTest)
        headers, peer = {}, None
    return client_address(headers, peer, proxies)


def sign_in(username: str, password: str) -> SignIn:
    """Check the password (throttled); on success remember the user (and their language) in the session."""
    name = username.strip()
    if not name or not password:
        return SignIn("wrong")
    try:
        result = services.store().sign_in(name, password, _client())
        if result.status == "ok" and result.user is not None:
            _signed_in(result.user, "password")
    except StoreError:
        log.exception("sign-in: the database is unavailable")
        return SignIn("unavailable")
    return result


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
    try:
        if services.store().is_demo_database():
            st.info(_("This is a demo database: the public demo accounts work here. Never use it for real learners."))
    except StoreError:  # the form below still says the service is unavailable when it is tried
        log.warning("sign-in page: the database is unavailable")
    with st.form(state.wkey("sign_in", "form")):
        username = st.text_input(_("Username"), key=state.wkey("sign_in", "username"))
        password = st.text_input(_("Password"), type="password", key=state.wkey("sign_in", "password"))
        submitted = st.form_submit_button(_("Sign in"))
    if submitted:
        result = sign_in(username, password)
        if result.status == "ok":
            st.rerun()
        elif result.status == "unavailable":
            st.error(_("The service is unavailable at the moment. Please try again later."))
        elif result.status == "throttled":
            minutes = max(1, -(-result.retry_after_s // 60))
            st.error(_("Too many failed sign-ins. Try again in {minutes} min.").format(minutes=minutes)
                     if result.retry_after_s >= 60 else
                     _("Too many failed sign-ins. Try again in {seconds} s.").format(seconds=result.retry_after_s))
        else:
            st.error(_("Wrong username or password."))


if __name__ == "__main__":
    main()
