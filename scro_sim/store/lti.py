"""What LTI 1.3 launches need kept in the database (part of Store; the protocol is in scro_sim/lti).

Everything here is shared by every launch endpoint and app server through the database:
OIDC login states with their nonces (each used once: a replayed launch is refused), the
single-use tickets that hand a launch's sign-in to the app, which user a platform's user
is, and the AGS line items each user's grades are posted to.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..errors import StoreError
from ._common import _NAME_RE
from .records import User, _user
from .signing import key_id
from .tables import (
    _CohortRow,
    _LtiAccountRow,
    _LtiLineItemRow,
    _LtiNonceRow,
    _LtiTicketRow,
    _MemberRow,
    _now,
    _UserRow,
)

if TYPE_CHECKING:  # pragma: no cover
    from .signing import Keyring

__all__ = ["LtiLineItem", "LtiMixin", "LtiState", "TicketUse"]

#: An account made for a platform's user has no password: this hash matches none.
NO_PASSWORD = "lti: signs in only through a launch from the course platform"


@dataclass(frozen=True)
class LtiState:
    """What using an OIDC login state found: ``ok`` (the nonce it was issued with), or why not."""

    status: Literal["ok", "unknown", "used", "expired"]
    nonce: str = ""
    issuer: str = ""
    client_id: str = ""


@dataclass(frozen=True)
class TicketUse:
    """What redeeming a sign-in ticket found: ``ok`` (the user, and the exercise launched), or why not."""

    status: Literal["ok", "invalid", "unknown", "used", "expired"]
    user: User | None = None
    exercise: str | None = None


@dataclass(frozen=True)
class LtiLineItem:
    """Where one user's grade for one exercise goes on one platform, and how the last post went."""

    id: int
    username: str
    scenario_id: str
    issuer: str
    client_id: str
    deployment_id: str
    subject: str
    lineitem: str
    context_id: str | None
    posted_at: datetime | None
    status: str | None


def _ticket_mac(key: bytes, token: str) -> str:
    return hmac.new(key, b"scro_sim lti ticket\0" + token.encode("ascii"), hashlib.sha256).hexdigest()[:32]


class LtiMixin:
    """LTI launch state: nonces, tickets, platform accounts and line items (part of Store)."""

    clock: Callable[[], datetime]

    if TYPE_CHECKING:  # pragma: no cover - provided by Store
        keyring: Keyring

        def _read(self) -> Any: ...
        def _write(self, work: Callable[[Session], Any]) -> Any: ...

    # -- OIDC login states and their nonces

    def lti_begin_login(self, state: str, nonce: str, issuer: str, client_id: str, ttl_s: float = 600) -> None:
        """Remember an OIDC login the tool starts, so the launch that answers it can be checked once."""
        now = self.clock()

        def work(s: Session) -> None:
            s.execute(delete(_LtiNonceRow).where(_LtiNonceRow.expires_at < now - timedelta(seconds=ttl_s)))
            if s.get(_LtiNonceRow, state) is not None:
                raise StoreError("this login state is taken", field="state")
            s.add(_LtiNonceRow(state=state, nonce=nonce, issuer=issuer, client_id=client_id,
                               expires_at=now + timedelta(seconds=ttl_s), used_at=None))

        self._write(work)

    def lti_use_state(self, state: str) -> LtiState:
        """Use an OIDC login state (once): its nonce, or whether it is unknown, used already or expired."""
        now = self.clock()

        def work(s: Session) -> LtiState:
            row = s.scalars(select(_LtiNonceRow).where(_LtiNonceRow.state == state).with_for_update()).one_or_none()
            if row is None:
                return LtiState("unknown")
            if row.used_at is not None:
                return LtiState("used", issuer=row.issuer, client_id=row.client_id)
            row.used_at = now
            if row.expires_at <= now:
                return LtiState("expired", issuer=row.issuer, client_id=row.client_id)
            return LtiState("ok", row.nonce, row.issuer, row.client_id)

        return self._write(work)

    # -- accounts of platform users

    def lti_account(self, issuer: str, subject: str, username: str, *, display_name: str | None = None,
                    email: str | None = None, language: str = "en", cohort: str | None = None,
                    cohort_title: str = "") -> User:
        """The user a platform's user (``issuer`` + ``subject``) is; made as a learner called ``username``
        on their first launch.  With ``cohort`` they are put in it (made when missing)."""
        if not _NAME_RE.fullmatch(username) or (cohort is not None and not _NAME_RE.fullmatch(cohort)):
            raise StoreError(f"{username!r} / {cohort!r} cannot name a user / cohort", field="username")
        if email is not None and ("@" not in email or len(email) > 254):
            email = None
        display_name = display_name[:200] if display_name else None
        now = _now()

        def work(s: Session) -> User:
            link = s.scalars(select(_LtiAccountRow).where(_LtiAccountRow.issuer == issuer,
                                                          _LtiAccountRow.subject == subject)).one_or_none()
            if link is not None:
                u = s.get_one(_UserRow, link.user_id)
            else:
                if s.scalar(select(_UserRow.id).where(_UserRow.username == username)) is not None:
                    raise StoreError(f"user {username!r} already exists", field="username")
                u = _UserRow(username=username, password_hash=NO_PASSWORD, role="learner", display_name=display_name,
                             email=email, language=language, created_at=now)
                s.add(u)
                s.flush()
                s.add(_LtiAccountRow(issuer=issuer, subject=subject, user_id=u.id, created_at=now))
            if cohort is not None:
                c = s.scalars(select(_CohortRow).where(_CohortRow.name == cohort)).one_or_none()
                if c is None:
                    c = _CohortRow(name=cohort, title=cohort_title[:200], created_at=now)
                    s.add(c)
                    s.flush()
                if s.get(_MemberRow, (c.id, u.id)) is None:
                    s.add(_MemberRow(cohort_id=c.id, user_id=u.id, added_at=now))
            s.flush()
            return _user(u)

        return self._write(work)

    # -- sign-in tickets

    def lti_issue_ticket(self, username: str, exercise: str | None = None, ttl_s: float = 120) -> str:
        """A short-lived single-use ticket that signs ``username`` in to the app (signed with the server secret).

        Only the SHA-256 of its random part is stored; the signature lets any server refuse a
        forged ticket before asking the database.
        """
        key = self.keyring._need_current()
        token = secrets.token_urlsafe(32)
        now = self.clock()

        def work(s: Session) -> None:
            s.execute(delete(_LtiTicketRow).where(_LtiTicketRow.expires_at < now - timedelta(days=1)))
            u = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
            if u is None:
                raise StoreError(f"unknown user {username!r}", field="username")
            s.add(_LtiTicketRow(id=hashlib.sha256(token.encode()).hexdigest(), user_id=u.id, exercise=exercise,
                                expires_at=now + timedelta(seconds=ttl_s), used_at=None))

        self._write(work)
        return f"{token}.{key_id(key)}.{_ticket_mac(key, token)}"

    def lti_redeem_ticket(self, ticket: str) -> TicketUse:
        """Use a sign-in ticket (once): the user it signs in, or why it is refused."""
        parts = ticket.split(".") if isinstance(ticket, str) else []
        if len(parts) != 3:
            return TicketUse("invalid")
        token, kid, mac = parts
        keys = {key_id(k): k for k in [*self.keyring.old, *([self.keyring.current] if self.keyring.current else [])]}
        key = keys.get(kid)
        if key is None or not hmac.compare_digest(mac, _ticket_mac(key, token)):
            return TicketUse("invalid")
        now = self.clock()
        digest = hashlib.sha256(token.encode()).hexdigest()

        def work(s: Session) -> TicketUse:
            # one UPDATE decides who uses it: two servers redeeming the same ticket cannot both succeed
            used = s.execute(update(_LtiTicketRow).where(
                _LtiTicketRow.id == digest, _LtiTicketRow.used_at.is_(None), _LtiTicketRow.expires_at > now,
            ).values(used_at=now)).rowcount
            row = s.get(_LtiTicketRow, digest)
            if row is None:
                return TicketUse("unknown")
            if not used:
                return TicketUse("used" if row.used_at is not None else "expired")
            return TicketUse("ok", _user(s.get_one(_UserRow, row.user_id)), row.exercise)

        return self._write(work)

    # -- AGS line items

    def lti_save_line_item(self, username: str, scenario_id: str, *, issuer: str, client_id: str, deployment_id: str,
                           subject: str, lineitem: str, context_id: str | None = None) -> None:
        """Remember the line item a launch named for this user's grade of ``scenario_id`` (again: refreshed)."""
        now = _now()

        def work(s: Session) -> None:
            u = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
            if u is None:
                raise StoreError(f"unknown user {username!r}", field="username")
            row = s.scalars(select(_LtiLineItemRow).where(
                _LtiLineItemRow.user_id == u.id, _LtiLineItemRow.scenario_id == scenario_id,
                _LtiLineItemRow.lineitem == lineitem)).one_or_none()
            if row is None:
                row = _LtiLineItemRow(user_id=u.id, scenario_id=scenario_id, lineitem=lineitem)
                s.add(row)
            row.issuer, row.client_id, row.deployment_id = issuer, client_id, deployment_id
            row.subject, row.context_id, row.updated_at = subject, context_id, now

        self._write(work)

    def lti_line_items(self, username: str | None = None, scenario_id: str | None = None, *,
                       unsent: bool = False) -> list[LtiLineItem]:
        """Line items (of one user, one exercise; with ``unsent`` only those whose last post failed or never was)."""
        q = select(_LtiLineItemRow, _UserRow.username).join(_UserRow, _UserRow.id == _LtiLineItemRow.user_id)
        if username is not None:
            q = q.where(_UserRow.username == username)
        if scenario_id is not None:
            q = q.where(_LtiLineItemRow.scenario_id == scenario_id)
        if unsent:
            q = q.where(or_(_LtiLineItemRow.status.is_(None), _LtiLineItemRow.status != "sent"))
        with self._read() as s:
            return [LtiLineItem(r.id, name, r.scenario_id, r.issuer, r.client_id, r.deployment_id, r.subject,
                                r.lineitem, r.context_id, r.posted_at, r.status)
                    for r, name in s.execute(q.order_by(_LtiLineItemRow.id))]

    def lti_mark_posted(self, item_id: int, status: str) -> None:
        """Record how posting a grade to a line item went (``sent``, or ``failed: why``)."""
        now = _now()

        def work(s: Session) -> None:
            s.execute(update(_LtiLineItemRow).where(_LtiLineItemRow.id == item_id).values(posted_at=now,
                                                                                          status=status[:2000]))

        self._write(work)
