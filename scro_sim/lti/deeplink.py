"""LTI Deep Linking 2.0: a teacher chooses a bundled exercise as an activity of their course.

The platform sends an ``LtiDeepLinkingRequest`` launch; the tool shows the exercises, each a
button whose form carries a short-lived *session* JWT the tool signed itself (the request's
return URL, ``data``, platform and deployment: nothing kept on the server), and answers the
choice with an ``LtiDeepLinkingResponse`` JWT signed with the tool's key, auto-posted to the
platform's ``deep_link_return_url``.  The content item is an ``ltiResourceLink`` to the
launch URL with ``custom.exercise`` naming the exercise and a ``lineItem`` (0..100), so the
platform makes a gradebook column the grades are posted to.
"""

from __future__ import annotations

import html
import secrets
import time
import uuid
from typing import Any

from .config import LtiConfig
from .exercises import exercises
from .launch import LTI, Launch, Refused

__all__ = ["DL", "chooser_page", "response_jwt", "response_page"]

DL = "https://purl.imsglobal.org/spec/lti-dl/claim/"
SESSION_S = 900


def _session(config: LtiConfig, launch: Launch) -> str:
    import jwt

    settings = launch.claims.get(DL + "deep_linking_settings")
    if not isinstance(settings, dict) or not isinstance(settings.get("deep_link_return_url"), str):
        raise Refused("incomplete deep linking request", "deep_linking_settings.deep_link_return_url is missing")
    accept = settings.get("accept_types") or ["ltiResourceLink"]
    if "ltiResourceLink" not in accept:
        raise Refused("unsupported deep linking request", f"the platform accepts {accept}, not ltiResourceLink")
    now = int(time.time())
    body = {"iss": config.base_url, "aud": config.base_url, "iat": now, "exp": now + SESSION_S,
            "typ": "scro_sim deep linking", "platform_iss": launch.platform.issuer,
            "client_id": launch.platform.client_id, "deployment_id": launch.deployment_id,
            "return_url": settings["deep_link_return_url"], "data": settings.get("data")}
    return jwt.encode(body, config.key.private_key, algorithm="RS256", headers={"kid": config.key.kid})


def chooser_page(config: LtiConfig, launch: Launch) -> str:
    """The page a deep-linking launch shows: one button per exercise."""
    session = html.escape(_session(config, launch))
    items = "\n".join(
        f'<li><form method="post" action="{html.escape(config.base_url)}/deep-link">'
        f'<input type="hidden" name="session" value="{session}">'
        f'<input type="hidden" name="exercise" value="{html.escape(e.id)}">'
        f'<button type="submit">{html.escape(e.title)}</button> <small>{html.escape(e.summary)}</small></form></li>'
        for e in exercises())
    return _page("Choose an exercise", f"<h1>Choose a scro_sim exercise for this activity</h1><ul>{items}</ul>")


def response_jwt(config: LtiConfig, session: str, exercise: str) -> tuple[str, str]:
    """The platform's return URL and the signed ``LtiDeepLinkingResponse`` choosing ``exercise``."""
    import jwt

    try:
        s = jwt.decode(session, config.key.private_key.public_key(), algorithms=["RS256"], audience=config.base_url,
                       issuer=config.base_url, options={"require": ["exp", "iat"]})
    except jwt.ExpiredSignatureError:
        raise Refused("expired", "the exercise list was open too long; start again from the course") from None
    except jwt.PyJWTError as exc:
        raise Refused("invalid deep linking session", str(exc)) from None
    if s.get("typ") != "scro_sim deep linking":
        raise Refused("invalid deep linking session", "not a deep linking session")
    chosen = next((e for e in exercises() if e.id == exercise), None)
    if chosen is None:
        raise Refused("unknown exercise", f"{exercise!r} is not an exercise of this tool")
    now = int(time.time())
    item = {"type": "ltiResourceLink", "title": chosen.title, "text": chosen.summary, "url": config.launch_url,
            "custom": {"exercise": chosen.id},
            "lineItem": {"scoreMaximum": 100, "label": chosen.title, "resourceId": chosen.id, "tag": "scro_sim"}}
    body: dict[str, Any] = {
        "iss": s["client_id"], "aud": s["platform_iss"], "iat": now, "exp": now + 600,
        "nonce": secrets.token_urlsafe(16), "jti": str(uuid.uuid4()),
        LTI + "message_type": "LtiDeepLinkingResponse", LTI + "version": "1.3.0",
        LTI + "deployment_id": s["deployment_id"], DL + "content_items": [item],
    }
    if s.get("data") is not None:
        body[DL + "data"] = s["data"]
    token = jwt.encode(body, config.key.private_key, algorithm="RS256", headers={"kid": config.key.kid})
    return str(s["return_url"]), token


def response_page(return_url: str, token: str, script_nonce: str) -> str:
    """A page that posts the response JWT to the platform (by itself, or with its button when scripts are off)."""
    return _page("Back to the course", (
        f'<form method="post" action="{html.escape(return_url)}"><input type="hidden" name="JWT" '
        f'value="{html.escape(token)}"><button type="submit">Add the exercise to the course</button></form>'
        f'<script nonce="{script_nonce}">document.forms[0].submit();</script>'))


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>{body}</body></html>')
