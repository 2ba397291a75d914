"""Send xAPI statements to a Learning Record Store over its REST interface, through a durable queue.

Every statement goes into the store's queue first (``lrs_queue``, by its stable id), then is sent
with ``POST <endpoint>/statements`` in batches of 200 (each statement carrying its id; a batch the
LRS refuses as a whole is sent again one by one with ``PUT <endpoint>/statements?statementId=<id>``)
(xAPI 1.0.3, *Statement Resource*; header
``X-Experience-API-Version: 1.0.3``, HTTP basic auth).  Because a statement's id is a UUID5 of
its run and grade version (:func:`scro_sim.lms.xapi_statements`), sending again never makes a
duplicate: an LRS answers ``204`` for a statement it already holds unchanged.

What the LRS answers decides what becomes of a statement:

* ``204`` (or ``200``): ``sent``.
* ``409``: the LRS holds a *different* statement under this id (its content changed since it was
  sent, e.g. a learner's display name); retrying cannot help, so it is ``sent`` with that note.
* ``401``/``403``: wrong credentials: :class:`LrsAuthError`, nothing more is tried, all stays queued.
* ``400`` and other ``4xx``: the statement is malformed for this LRS: ``rejected`` with its answer.
* no answer, ``429`` or ``5xx``: the LRS is down: the statement and the rest stay ``pending``, retried
  after a backoff that doubles per attempt (1 min, 2 min, ... up to 1 h) by ``scro-sim lrs retry``.

Settings: ``$SCRO_SIM_LRS_ENDPOINT`` (the xAPI base, e.g. ``https://lrs.example.edu/xAPI``),
``$SCRO_SIM_LRS_USERNAME`` and ``$SCRO_SIM_LRS_PASSWORD`` (the CLI's ``--endpoint`` and
``--username`` win; the password only from the environment, never the command line).
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import ScroSimError
from .store import QueuedStatement, Store

__all__ = [
    "ENDPOINT_ENV",
    "PASSWORD_ENV",
    "USERNAME_ENV",
    "LrsAuthError",
    "LrsSettings",
    "PushReport",
    "flush",
    "lrs_settings",
    "push",
    "send_statement",
]

ENDPOINT_ENV = "SCRO_SIM_LRS_ENDPOINT"
USERNAME_ENV = "SCRO_SIM_LRS_USERNAME"
PASSWORD_ENV = "SCRO_SIM_LRS_PASSWORD"
XAPI_VERSION = "1.0.3"
_FIRST_BACKOFF = timedelta(minutes=1)
_LAST_BACKOFF = timedelta(hours=1)


class LrsAuthError(ScroSimError):
    """The LRS refused the credentials (HTTP 401 or 403)."""


class _Unavailable(Exception):
    """The LRS did not answer, or answered that it cannot take statements now."""


@dataclass(frozen=True)
class LrsSettings:
    """Where the LRS is and how to sign in (basic auth)."""

    endpoint: str  # the xAPI base, without a trailing slash: statements are at <endpoint>/statements
    username: str
    password: str = field(repr=False)
    timeout: float = 10.0


@dataclass
class PushReport:
    """What one sending pass did."""

    queued: int = 0  # new statements put in the queue
    sent: int = 0
    conflicts: int = 0  # 409: the LRS holds a different statement under the id
    rejected: int = 0
    pending: int = 0  # still waiting (the LRS was down), after this pass
    error: str | None = None  # why statements stay pending

    def summary(self) -> str:
        text = f"{self.sent} sent, {self.rejected} rejected, {self.pending} queued"
        if self.conflicts:
            text += f" ({self.conflicts} already held in another version by the LRS)"
        return text + (f"; the LRS did not take them: {self.error}" if self.error else "")


def lrs_settings(endpoint: str | None = None, username: str | None = None,
                 env: Mapping[str, str] | None = None, timeout: float = 10.0) -> LrsSettings:
    """The LRS to use: the given values (command-line options), else ``$SCRO_SIM_LRS_*``.

    A missing endpoint or username, or an endpoint that is not an http(s) address, raises
    :class:`ScroSimError` naming the setting.
    """
    env = os.environ if env is None else env
    where_endpoint = "--endpoint" if endpoint else "$" + ENDPOINT_ENV
    endpoint = (endpoint or env.get(ENDPOINT_ENV, "")).strip()
    username = (username or env.get(USERNAME_ENV, "")).strip()
    password = env.get(PASSWORD_ENV, "")
    if not endpoint:
        raise ScroSimError(f"no LRS given: set ${ENDPOINT_ENV} (e.g. https://lrs.example.edu/xAPI) or --endpoint",
                           field="endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ScroSimError(f"{endpoint!r} is not an http(s) address of an LRS's xAPI base "
                           "(e.g. https://lrs.example.edu/xAPI)", field=where_endpoint)
    if not username or not password:
        raise ScroSimError(f"the LRS needs credentials: set ${USERNAME_ENV} (or --username) and ${PASSWORD_ENV}",
                           field="username" if not username else PASSWORD_ENV)
    return LrsSettings(endpoint.rstrip("/"), username, password, timeout)


def _request(settings: LrsSettings, method: str, url: str, body: Any) -> int:
    """One xAPI request; return the HTTP status (2xx or 409), raise on anything else.

    Raises :class:`LrsAuthError` (401/403), ``ValueError`` (the LRS refused the statements: 400 or
    another 4xx, with its answer) or ``_Unavailable`` (no answer, 429, 5xx).
    """
    token = base64.b64encode(f"{settings.username}:{settings.password}".encode()).decode("ascii")
    request = urllib.request.Request(
        url, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method=method,
        headers={"Content-Type": "application/json", "X-Experience-API-Version": XAPI_VERSION,
                 "Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        answer = exc.read(500).decode("utf-8", "replace").strip()
        if exc.code == 409:
            return 409
        if exc.code in (401, 403):
            raise LrsAuthError(f"the LRS at {settings.endpoint} refused the credentials of {settings.username!r} "
                               f"(HTTP {exc.code}): check ${USERNAME_ENV} and ${PASSWORD_ENV}",
                               field="credentials") from None
        if exc.code == 429 or exc.code >= 500:
            raise _Unavailable(f"HTTP {exc.code} {answer[:200]}") from None
        raise ValueError(f"HTTP {exc.code}: {answer[:300]}") from None
    except (urllib.error.URLError, OSError) as exc:  # refused, timed out, DNS
        reason = getattr(exc, "reason", exc)
        raise _Unavailable(f"no answer from {settings.endpoint}: {reason}") from None


def send_statement(settings: LrsSettings, statement: Mapping[str, Any]) -> int:
    """PUT one statement under its own id (``/statements?statementId=``); the status as :func:`_request`."""
    url = f"{settings.endpoint}/statements?statementId={quote(str(statement['id']))}"
    return _request(settings, "PUT", url, statement)


def send_batch(settings: LrsSettings, statements: list[Mapping[str, Any]]) -> int:
    """POST statements (with their ids) in one request; an LRS takes all or none of them."""
    return _request(settings, "POST", f"{settings.endpoint}/statements", statements)


_BATCH = 200


def _postpone(store: Store, items: list[QueuedStatement], now: datetime, error: str, report: PushReport) -> None:
    """The LRS is down: each statement waits its backoff before the next try."""
    report.error = error
    for item in items:
        store.mark_statements([item.statement_id], "pending", now, error=error,
                              next_at=now + _backoff(item.attempts + 1))


def _one_by_one(store: Store, settings: LrsSettings, batch: list[QueuedStatement], now: datetime,
                report: PushReport) -> bool:
    """PUT each statement of a batch the LRS refused as a whole; False if the LRS went down meanwhile."""
    for i, item in enumerate(batch):
        try:
            status = send_statement(settings, item.statement)
        except _Unavailable as exc:
            _postpone(store, batch[i:], now, str(exc), report)
            return False
        except ValueError as exc:
            store.mark_statements([item.statement_id], "rejected", now, error=str(exc))
            report.rejected += 1
            continue
        note = "HTTP 409: the LRS holds a different statement under this id" if status == 409 else None
        store.mark_statements([item.statement_id], "sent", now, error=note)
        report.sent += 1
        report.conflicts += status == 409
    return True


def _backoff(attempts: int) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: 1 min doubling, at most 1 h."""
    return min(_LAST_BACKOFF, _FIRST_BACKOFF * 2 ** max(0, min(attempts - 1, 10)))


def flush(store: Store, settings: LrsSettings, *, now: datetime | None = None, everything: bool = False,
          report: PushReport | None = None) -> PushReport:
    """Send the queued statements that are due (all pending ones with ``everything``), oldest first.

    The first sign that the LRS is down stops the pass: the statements not sent get their next
    try after a backoff.  Wrong credentials raise :class:`LrsAuthError` (all stays queued).
    """
    now = now or datetime.now(UTC)
    report = report or PushReport()
    due = store.due_statements(now, all_pending=everything, limit=100_000)
    for start in range(0, len(due), _BATCH):
        batch = due[start:start + _BATCH]
        try:
            if send_batch(settings, [item.statement for item in batch]) != 409:
                store.mark_statements([item.statement_id for item in batch], "sent", now)
                report.sent += len(batch)
                continue
        except ValueError:
            pass  # one statement the LRS refuses spoils the batch: find it by sending one at a time
        except _Unavailable as exc:
            _postpone(store, due[start:], now, str(exc), report)
            break
        if not _one_by_one(store, settings, batch, now, report):
            _postpone(store, due[start + len(batch):], now, report.error or "", report)
            break
    report.pending = store.lrs_queue_counts()["pending"]
    return report


def push(store: Store, statements: Iterable[Mapping[str, Any]], settings: LrsSettings, *,
         now: datetime | None = None) -> PushReport:
    """Queue ``statements`` (by id; ones queued before are not queued again), then :func:`flush` the queue."""
    now = now or datetime.now(UTC)
    report = PushReport(queued=store.enqueue_statements([dict(s) for s in statements], now))
    return flush(store, settings, now=now, report=report)
