"""LTI 1.3 launches: the OIDC third-party login, the id_token's checks, and what a checked launch does.

A platform launches the tool in two steps (IMS Security Framework 1.0, §5.1.1): it calls the
tool's login URL (:func:`login_redirect`), the tool answers with a redirect to the platform's
authorisation URL carrying a fresh ``state`` and ``nonce`` (stored in the database), and the
platform posts back an ``id_token`` JWT that :func:`validate_launch` checks against the
platform's JWKS: signature (RS256), ``iss``, ``aud`` (our client_id; ``azp`` when there are
several audiences), ``exp``/``iat``, the ``nonce`` issued for this ``state`` (used once), the
deployment id, the LTI version and message type.

A resource-link launch (:func:`sign_in_redirect`) maps the platform's user (``iss`` + ``sub``)
to a scro_sim learner in a cohort named from the course, records the AGS line item the grade
goes to, and sends the browser to the app with a single-use ticket.  A deep-linking launch
(:mod:`.deeplink`) lets the teacher choose an exercise as an activity.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from ..i18n import LANGUAGES
from ..store import Store
from .config import LtiConfig, LtiError, Platform
from .exercises import exercise_ids

__all__ = [
    "AGS_ENDPOINT",
    "SCORE_SCOPE",
    "Launch",
    "Refused",
    "login_redirect",
    "lti_username",
    "sign_in_redirect",
    "validate_launch",
]

log = logging.getLogger("scro_sim.lti")

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
MESSAGE_TYPES = ("LtiResourceLinkRequest", "LtiDeepLinkingRequest")
#: Seconds of clock difference tolerated between the platform and the tool (exp, iat).
LEEWAY_S = 30


class Refused(LtiError):
    """A launch that is refused; ``reason`` is the short name logged and shown (``expired``, ``wrong audience``…)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason, field="id_token")


@dataclass(frozen=True)
class Launch:
    """A launch whose id_token passed every check: the platform it came from and its claims."""

    platform: Platform
    claims: dict[str, Any]

    @property
    def message_type(self) -> str:
        return str(self.claims[LTI + "message_type"])

    @property
    def deployment_id(self) -> str:
        return str(self.claims[LTI + "deployment_id"])

    @property
    def subject(self) -> str:
        return str(self.claims["sub"])


def login_redirect(config: LtiConfig, store: Store, params: dict[str, str]) -> str:
    """Answer a platform's third-party login initiation: where to send the browser (the platform's auth URL)."""
    iss, hint = params.get("iss", ""), params.get("login_hint", "")
    if not iss or not hint:
        raise Refused("incomplete login", "the login initiation must carry iss and login_hint")
    platform = config.platform(iss, params.get("client_id") or None)
    if platform is None:
        raise Refused("unknown platform", f"no registration for issuer {iss!r}"
                      + (f" and client_id {params['client_id']!r}" if params.get("client_id") else ""))
    target = params.get("target_link_uri", "")
    if target and not target.startswith(config.base_url):
        raise Refused("foreign target", f"target_link_uri {target!r} is not this tool ({config.base_url})")
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    store.lti_begin_login(state, nonce, platform.issuer, platform.client_id)
    query = {"scope": "openid", "response_type": "id_token", "response_mode": "form_post", "prompt": "none",
             "client_id": platform.client_id, "redirect_uri": config.launch_url, "login_hint": hint,
             "state": state, "nonce": nonce}
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    sep = "&" if urlparse(platform.auth_login_url).query else "?"
    return platform.auth_login_url + sep + urlencode(query)


_JWKS: dict[str, Any] = {}
_JWKS_LOCK = threading.Lock()


def _jwks_client(url: str) -> Any:
    """One cached PyJWKClient per key-set URL (keys kept five minutes; an unknown ``kid`` refetches)."""
    from jwt import PyJWKClient

    with _JWKS_LOCK:
        client = _JWKS.get(url)
        if client is None:
            client = _JWKS[url] = PyJWKClient(url, cache_keys=True, lifespan=300, timeout=10)
        return client


def validate_launch(config: LtiConfig, store: Store, id_token: str, state: str) -> Launch:
    """Check a launch's ``id_token`` (and use its ``state`` once); :class:`Refused` says why one is not accepted."""
    import jwt

    if not id_token or not state:
        raise Refused("incomplete launch", "the launch must carry id_token and state")
    try:
        unverified = jwt.decode(id_token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Refused("malformed id_token", str(exc)) from None
    used = store.lti_use_state(state)
    if used.status == "unknown":
        raise Refused("unknown login", "this launch did not start with a login at this tool")
    if used.status == "used":
        raise Refused("replayed launch", "this login was used already")
    if used.status == "expired":
        raise Refused("expired login", "the login took too long; launch again from the course")
    platform = config.platform(used.issuer, used.client_id)
    if platform is None:
        raise Refused("unknown platform", f"{used.issuer!r} is no longer registered")
    if unverified.get("iss") != platform.issuer:
        raise Refused("wrong issuer", f"the id_token is from {unverified.get('iss')!r}, the login from {platform.issuer!r}")
    try:
        key = _jwks_client(platform.key_set_url).get_signing_key_from_jwt(id_token).key
    except jwt.PyJWKClientConnectionError as exc:
        raise Refused("platform keys unavailable", f"{platform.key_set_url}: {exc}") from None
    except jwt.PyJWKClientError as exc:
        raise Refused("bad signature", f"no key of {platform.key_set_url} signed it ({exc})") from None
    try:
        claims: dict[str, Any] = jwt.decode(
            id_token, key, algorithms=["RS256"], audience=platform.client_id, issuer=platform.issuer, leeway=LEEWAY_S,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"]})
    except jwt.ExpiredSignatureError:
        raise Refused("expired", "the id_token's exp has passed") from None
    except jwt.InvalidAudienceError:
        raise Refused("wrong audience", f"the id_token is not for client_id {platform.client_id!r}") from None
    except jwt.InvalidIssuerError:
        raise Refused("wrong issuer", f"the id_token is not from {platform.issuer!r}") from None
    except jwt.InvalidSignatureError:
        raise Refused("bad signature", f"the id_token does not verify with {platform.key_set_url}") from None
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError):
        raise Refused("issued in the future", "the id_token's iat is later than now") from None
    except jwt.MissingRequiredClaimError as exc:
        raise Refused("missing claim", str(exc)) from None
    except jwt.PyJWTError as exc:
        raise Refused("invalid id_token", str(exc)) from None
    aud = claims["aud"]
    if isinstance(aud, list) and len(aud) > 1 and claims.get("azp") != platform.client_id:
        raise Refused("wrong audience", "several audiences and azp is not our client_id")
    if not hmac.compare_digest(str(claims["nonce"]), used.nonce):
        raise Refused("wrong nonce", "the id_token's nonce is not the one issued for this login")
    if str(claims.get(LTI + "deployment_id", "")) not in platform.deployment_ids:
        raise Refused("unknown deployment", f"deployment {claims.get(LTI + 'deployment_id')!r} is not registered")
    if claims.get(LTI + "version") != "1.3.0":
        raise Refused("wrong LTI version", f"{claims.get(LTI + 'version')!r}, not 1.3.0")
    if claims.get(LTI + "message_type") not in MESSAGE_TYPES:
        raise Refused("unsupported message", f"{claims.get(LTI + 'message_type')!r}")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise Refused("anonymous launch", "the launch names no user (sub)")
    return Launch(platform, claims)


def lti_username(issuer: str, subject: str) -> str:
    """The scro_sim username made for a platform's user: stable, and never one a person could pick to collide with."""
    return "lti-" + hashlib.sha256(f"{issuer}\0{subject}".encode()).hexdigest()[:16]


def _cohort(issuer: str, context: dict[str, Any]) -> tuple[str | None, str]:
    """The cohort named from the course: its label made a name, and a hash of issuer + context id (unique)."""
    cid = context.get("id")
    if not isinstance(cid, str) or not cid:
        return None, ""
    label = str(context.get("label") or context.get("title") or "course")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", label).strip("-")[:40] or "course"
    digest = hashlib.sha256(f"{issuer}\0{cid}".encode()).hexdigest()[:8]
    return f"lti-{slug}-{digest}", str(context.get("title") or label)


def _exercise(claims: dict[str, Any]) -> str | None:
    """The exercise a launch opens: the ``exercise`` custom parameter, else ``?exercise=`` on the target link."""
    custom = claims.get(LTI + "custom")
    if isinstance(custom, dict) and isinstance(custom.get("exercise"), str) and custom["exercise"]:
        return str(custom["exercise"])
    target = claims.get(LTI + "target_link_uri")
    if isinstance(target, str):
        found = parse_qs(urlparse(target).query).get("exercise")
        if found:
            return found[0]
    return None


def _language(claims: dict[str, Any]) -> str:
    pres = claims.get(LTI + "launch_presentation")
    locale = pres.get("locale") if isinstance(pres, dict) else claims.get("locale")
    code = str(locale or "en").replace("_", "-").split("-")[0].lower()
    return code if code in LANGUAGES else "en"


def sign_in_redirect(config: LtiConfig, store: Store, launch: Launch) -> str:
    """Do what a checked resource-link launch asks: the learner's account and line item; the app URL with a ticket."""
    claims, platform = launch.claims, launch.platform
    exercise = _exercise(claims)
    if exercise is not None and exercise not in exercise_ids():
        raise Refused("unknown exercise", f"{exercise!r} is not an exercise of this tool")
    context = claims.get(LTI + "context")
    context = context if isinstance(context, dict) else {}
    cohort, title = _cohort(platform.issuer, context)
    name = claims.get("name") or " ".join(str(claims.get(k, "")) for k in ("given_name", "family_name")).strip()
    user = store.lti_account(platform.issuer, launch.subject, lti_username(platform.issuer, launch.subject),
                             display_name=str(name) if name else None,
                             email=claims.get("email") if isinstance(claims.get("email"), str) else None,
                             language=_language(claims), cohort=cohort, cohort_title=title)
    ags = claims.get(AGS_ENDPOINT)
    if exercise is not None and isinstance(ags, dict):
        lineitem, scopes = ags.get("lineitem"), ags.get("scope") or []
        if isinstance(lineitem, str) and lineitem.startswith(("https://", "http://")) and SCORE_SCOPE in scopes:
            store.lti_save_line_item(user.username, exercise, issuer=platform.issuer, client_id=platform.client_id,
                                     deployment_id=launch.deployment_id, subject=launch.subject, lineitem=lineitem,
                                     context_id=str(context["id"]) if context.get("id") else None)
        else:
            log.warning("launch of %s by %s: no line item with the score scope, so grades cannot be sent back",
                        exercise, user.username)
    ticket = store.lti_issue_ticket(user.username, exercise)
    log.info("launch accepted: %s (%s from %s) opens %s", user.username, launch.subject, platform.issuer,
             exercise or "the app")
    return f"{config.app_url}/?{urlencode({'lti_ticket': ticket})}"
