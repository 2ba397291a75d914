"""Grade passback through LTI Assignment and Grade Services 2.0 (AGS): scores into the platform's gradebook.

The tool gets an access token from the platform's token endpoint with the OAuth 2.0
client-credentials grant and a JWT client assertion signed with its own key (RFC 7523, as
the IMS Security Framework requires), then POSTs a score
(``application/vnd.ims.lis.v1.score+json``) to ``<line item>/scores``.  The score is the
grade the exercise's grading method makes of the learner's graded attempts
(:func:`scro_sim.lms.graded_rows`), so it is the same number the file exports carry.

Provisional grades (judged criteria an assessor has not rated yet) follow the export
setting (:func:`scro_sim.assessment.provisional_mode`): ``mark`` sends the score with
``gradingProgress`` ``PendingManual``, ``hold`` sends no score until it is rated (only
``PendingManual``, so the gradebook shows the work waits for grading).  Every post carries
a new timestamp, so an assessor's later rating or override replaces the earlier score.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from ..lms import PROVISIONAL_NOTE, GradeRow, graded_rows
from ..store import LtiLineItem, Store
from .config import LtiConfig, LtiError, Platform, ToolKey
from .launch import SCORE_SCOPE

__all__ = ["SCORE_MEDIA_TYPE", "access_token", "client_assertion", "score_body", "scores_url", "send_grade"]

log = logging.getLogger("scro_sim.lti")

SCORE_MEDIA_TYPE = "application/vnd.ims.lis.v1.score+json"
TIMEOUT_S = 10.0

_TOKENS: dict[tuple[str, str, str], tuple[str, float]] = {}
_TOKENS_LOCK = threading.Lock()


def client_assertion(platform: Platform, key: ToolKey) -> str:
    """The signed JWT that authenticates the tool at the platform's token endpoint (RFC 7523)."""
    import jwt

    now = int(time.time())
    body = {"iss": platform.client_id, "sub": platform.client_id, "aud": platform.auth_audience or platform.auth_token_url,
            "iat": now, "exp": now + 300, "jti": str(uuid.uuid4())}
    return jwt.encode(body, key.private_key, algorithm="RS256", headers={"kid": key.kid})


def _request(url: str, data: bytes, headers: dict[str, str], what: str) -> bytes:
    req = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
            return bytes(resp.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode("utf-8", "replace").strip()
        raise LtiError(f"{what} at {url} answered HTTP {exc.code}" + (f": {detail}" if detail else "")) from None
    except (urllib.error.URLError, OSError) as exc:
        raise LtiError(f"{what} at {url} cannot be reached: {getattr(exc, 'reason', exc)}") from None


def access_token(platform: Platform, key: ToolKey, scope: str = SCORE_SCOPE) -> str:
    """A bearer token for ``scope`` (kept until a minute before it expires)."""
    cache_key = (platform.auth_token_url, platform.client_id, scope)
    with _TOKENS_LOCK:
        held = _TOKENS.get(cache_key)
        if held is not None and held[1] > time.monotonic():
            return held[0]
    form = urlencode({"grant_type": "client_credentials",
                      "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                      "client_assertion": client_assertion(platform, key), "scope": scope}).encode()
    raw = _request(platform.auth_token_url, form, {"Content-Type": "application/x-www-form-urlencoded",
                                                   "Accept": "application/json"}, "the platform's token endpoint")
    try:
        answer = json.loads(raw)
        token = str(answer["access_token"])
        ttl = float(answer.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError):
        raise LtiError("the platform's token endpoint gave no access_token", field=platform.auth_token_url) from None
    with _TOKENS_LOCK:
        _TOKENS[cache_key] = (token, time.monotonic() + max(0.0, ttl - 60))
    return token


def scores_url(lineitem: str) -> str:
    """The line item's ``/scores`` endpoint (the path gets ``/scores``; a query string stays after it)."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


def score_body(user_id: str, rows: Sequence[GradeRow], mode: str, now: datetime | None = None) -> dict[str, Any] | None:
    """The AGS score for one learner's attempts at one exercise (None: no graded attempt, nothing to send)."""
    if not rows:
        return None
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds")
    body: dict[str, Any] = {"userId": user_id, "timestamp": stamp, "activityProgress": "Completed"}
    graded = graded_rows(rows, provisional=mode)
    if not graded:  # held back until an assessor rates it
        return {**body, "gradingProgress": "PendingManual"}
    row = graded[0]
    body.update(scoreGiven=round(min(100.0, max(0.0, float(row.score))), 2), scoreMaximum=100,
                gradingProgress="PendingManual" if row.provisional else "FullyGraded")
    if row.provisional:
        body["comment"] = PROVISIONAL_NOTE
    return body


def _post(config: LtiConfig, item: LtiLineItem, body: dict[str, Any]) -> None:
    platform = config.platform(item.issuer, item.client_id)
    if platform is None:
        raise LtiError(f"{item.issuer} (client_id {item.client_id}) is no longer registered", field="platforms")
    token = access_token(platform, config.key)
    _request(scores_url(item.lineitem), json.dumps(body).encode(),
             {"Content-Type": SCORE_MEDIA_TYPE, "Authorization": f"Bearer {token}"}, "the platform's grade service")


def send_grade(store: Store, config: LtiConfig, learner: str, scenario_id: str, rows: Sequence[GradeRow],
               mode: str) -> list[tuple[LtiLineItem, str]]:
    """Post ``learner``'s grade of ``scenario_id`` (made of ``rows``, their graded attempts) to every line item
    their launches named; each outcome (``sent`` or ``failed: why``) is stored and returned, never raised."""
    rows = [r for r in rows if r.username == learner and r.scenario_id == scenario_id]
    out = []
    for item in store.lti_line_items(learner, scenario_id):
        body = score_body(item.subject, rows, mode)
        if body is None:
            continue
        try:
            _post(config, item, body)
            status = "sent"
            log.info("grade of %s for %s sent to %s (%s)", learner, scenario_id, item.lineitem,
                     body.get("scoreGiven", body["gradingProgress"]))
        except LtiError as exc:
            status = f"failed: {exc}"
            log.error("grade of %s for %s not sent to %s: %s (`scro-sim lti-sync` retries)", learner, scenario_id,
                      item.lineitem, exc)
        store.lti_mark_posted(item.id, status)
        out.append((item, status))
    return out
