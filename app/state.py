"""The one owner of ``st.session_state``: every key the app uses, behind typed accessors.

Pages never touch ``st.session_state``; they call these functions.  Widget keys are made
here too (:func:`wkey`), so a key never collides and sign-out can clear everything.
Nothing here is shared between sessions: a session's state is one browser tab.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

from scro_sim.i18n import DEFAULT_LANGUAGE, LANGUAGES, normalize, translator
from scro_sim.policy import Observation
from scro_sim.scenario import Action
from scro_sim.vocabulary import N_

__all__ = [
    "GameSession",
    "SignedIn",
    "clear_game",
    "clear_session",
    "flash",
    "game",
    "get",
    "gettext",
    "lang",
    "put",
    "set_game",
    "set_lang",
    "set_user",
    "show_flashes",
    "user",
    "wkey",
]

_USER = "scro.user"
_LANG = "scro.lang"
_GAME = "scro.game"
_FLASH = "scro.flash"
_PREFIX = "scro.page."
_WIDGET = "w."


@dataclass(frozen=True)
class SignedIn:
    """Who is signed in in this session (read from the store at sign-in)."""

    username: str
    role: str
    display_name: str
    cohorts: tuple[str, ...] = ()
    via: str = "password"


@dataclass
class GameSession:
    """The game this session is playing: the live simulation and what the player last saw."""

    game_id: str
    scenario_key: str
    scenario_hash: str
    seed: int
    play: Any  # scro_sim.game.GameSession (kept between reruns; replayed only when missing)
    history: list[dict[str, Any]] = field(default_factory=list)  # what was seen at earlier points
    pending: list[Action] = field(default_factory=list)  # actions chosen, not yet decided
    problems: list[str] = field(default_factory=list)  # why the last decision was refused
    run_id: str | None = None
    total: float | None = None
    passed: bool | None = None
    provisional: bool = False

    @property
    def sim(self) -> Any:
        """The live :class:`~scro_sim.engine.Simulation` (None when the session lost it)."""
        return None if self.play is None else self.play.sim

    @property
    def obs(self) -> Observation:
        """What the player sees now."""
        return self.play.obs


# -- user and language


def user() -> SignedIn | None:
    """The signed-in user, or None."""
    u = st.session_state.get(_USER)
    return u if isinstance(u, SignedIn) else None


def set_user(u: SignedIn) -> None:
    st.session_state[_USER] = u


def lang() -> str:
    """The session's UI language code."""
    return normalize(st.session_state.get(_LANG, DEFAULT_LANGUAGE))


def set_lang(code: str) -> None:
    st.session_state[_LANG] = normalize(code)


def gettext() -> Callable[[str], str]:
    """The ``_`` function for the session's language."""
    return translator(lang())


def clear_session() -> None:
    """Sign out: forget everything this session held (the language stays)."""
    keep = lang()
    for k in list(st.session_state.keys()):
        del st.session_state[k]
    st.session_state[_LANG] = keep


# -- the game in play


def game() -> GameSession | None:
    g = st.session_state.get(_GAME)
    return g if isinstance(g, GameSession) else None


def set_game(g: GameSession) -> None:
    st.session_state[_GAME] = g


def clear_game() -> None:
    st.session_state.pop(_GAME, None)


# -- one-shot messages shown after a rerun


def flash(kind: str, text: str) -> None:
    """Queue a message (``success``, ``info``, ``warning``, ``error``) for the next render."""
    st.session_state.setdefault(_FLASH, []).append((kind, text))


def show_flashes() -> None:
    """Show (once) the messages left for this page by the action before the rerun."""
    for kind, text in st.session_state.pop(_FLASH, []):
        getattr(st, kind if kind in ("success", "info", "warning", "error") else "info")(text)


# -- per-page values (plan results, the author's text, the review selection)


def get(page: str, name: str, default: Any = None) -> Any:
    """A value a page keeps between reruns (``page`` namespaces it)."""
    return st.session_state.get(f"{_PREFIX}{page}.{name}", default)


def put(page: str, name: str, value: Any) -> None:
    st.session_state[f"{_PREFIX}{page}.{name}"] = value


def drop(page: str, name: str) -> None:
    st.session_state.pop(f"{_PREFIX}{page}.{name}", None)


def wkey(*parts: object) -> str:
    """A widget key (unique per the parts given, e.g. page, widget, decision point)."""
    return _WIDGET + ".".join(str(p) for p in parts)


def lang_wkey(*parts: object) -> str:
    """A widget key per UI language for a selectbox whose labels are translated, carrying the choice over.

    Streamlit keeps showing a keyed selectbox's old label when its ``format_func`` output changes
    (streamlit/streamlit#13788), so after a language switch the choice stayed in the old language.
    """
    base = wkey(*parts)
    key = f"{base}@{lang()}"
    if key not in st.session_state:
        for code in LANGUAGES:
            old = st.session_state.get(f"{base}@{code}")
            if old is not None:
                st.session_state[key] = old
                break
    return key


def widget_value(key: str, default: Any = None) -> Any:
    """The current value of a keyed widget (for handlers run from button callbacks)."""
    return st.session_state.get(key, default)


def set_widget(key: str, value: Any) -> None:
    """Set a keyed widget's value before it is drawn (e.g. to load a text into an editor)."""
    st.session_state[key] = value


def require(*roles: str) -> SignedIn:
    """The signed-in user if their role may open this page; otherwise say so and stop the page."""
    _ = gettext()
    u = user()
    if u is None:
        st.warning(_("Please sign in first."))
        st.stop()
    if roles and u.role not in roles and u.role != "admin":
        st.error(_("This page is not available for your role."))
        st.stop()
    return u  # type: ignore[return-value]


#: Words the library hands the app as data (roles, services...), so the catalogs hold them.  The
#: actions' names and what they do are marked in their own modules (scro_sim/engine/actions).
VOCABULARY: tuple[str, ...] = (
    N_("learner"), N_("lecturer"), N_("assessor"), N_("admin"),
    N_("power"), N_("water"), N_("telecom"), N_("health"),
    N_("phone"), N_("radio"), N_("email"), N_("sms"), N_("social_media"), N_("news"), N_("sensor"),
    N_("briefing"), N_("in_person"),
    N_("beginner"), N_("intermediate"), N_("advanced"),
    N_("idle"), N_("blocked"), N_("travelling"), N_("waiting"), N_("repairing"),
    N_("computed"), N_("judged"), N_("rated"), N_("awaiting judgement"), N_("overridden"),
    N_("inject"), N_("decision"),
)
