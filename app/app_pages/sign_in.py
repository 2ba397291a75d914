"""Sign-in page: username and password against the store, OpenID Connect when configured, or a ticket from an
LTI launch (a course platform: ``scro-sim lti-serve`` signs the learner in and sends them here with it)."""

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


def redeem_lti_ticket() -> None:
    """Sign in with the single-use ticket an LTI launch put in the address (``?lti_ticket=``).

    The ticket leaves the address at once; a valid one replaces whoever was signed in in this tab
    and opens the exercise the course linked to; an expired, used or forged one is refused and logged.
    """
    ticket = st.query_params.get("lti_ticket")
    if not ticket:
        return
    del st.query_params["lti_ticket"]
    _ = state.gettext()
    try:
        use = services.store().lti_redeem_ticket(ticket)
    except StoreError:
        log.exception("lti ticket: the database is unavailable")
        state.put("sign_in", "lti_error", _("The service is unavailable at the moment. Please try again later."))
        return
    if use.status != "ok" or use.user is None:
        log.warning("lti ticket refused from %s: %s", _client(), use.status)
        state.put("sign_in", "lti_error",
                  _("This sign-in link from your course has expired or was used already. "
                    "Open the activity again from your course."))
        return
    state.clear_session()
    _signed_in(use.user, "lti")
    if use.exercise:
        state.put("play", "lti_exercise", use.exercise)
    log.info("lti ticket redeemed: %s signed in", use.user.username)


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
    lti_error = state.get("sign_in", "lti_error")
    if lti_error:
        state.drop("sign_in", "lti_error")
        st.error(lti_error)
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
