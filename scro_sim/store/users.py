"""Users, cohorts and the scenarios lecturers publish to them; sign-in with throttling; the demo mark."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    delete,
    select,
)
from sqlalchemy.orm import Session

from ..errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    pass
from ._common import (
    _LANG_RE,
    _NAME_RE,
    _PUBLISHERS,
    ROLES,
)
from ._util import (
    _choice,
    _name,
    _sha256,
    _text,
)
from .passwords import (
    _DUMMY_HASH,
    check_password_strength,
    hash_password,
    verify_password,
)
from .records import (
    Cohort,
    PublishedScenario,
    User,
    _cohort,
    _user,
)
from .tables import (
    _CohortRow,
    _MemberRow,
    _now,
    _PublishedRow,
    _SettingRow,
    _ThrottleRow,
    _UserRow,
)
from .throttle import SignIn, ThrottlePolicy, _count_failure, _expired, _wait_s

log = logging.getLogger("scro_sim.auth")

_DEMO_KEY = "demo"


class UsersMixin:
    """Users, cohorts and the scenarios lecturers publish to them (part of Store)."""

    #: what "now" is for the sign-in throttle (tests put a fake clock on one store)
    clock: Callable[[], datetime] = staticmethod(_now)
    #: how failed sign-ins are throttled
    throttle: ThrottlePolicy = ThrottlePolicy()

    if TYPE_CHECKING:  # pragma: no cover - provided by Store
        def _read(self) -> Any: ...
        def _write(self, work: Callable[[Session], Any]) -> Any: ...

    # -- the demo mark

    def is_demo_database(self) -> bool:
        """Whether ``scro-sim demo`` made this database (only then may it hold the public demo accounts)."""
        with self._read() as s:
            row = s.get(_SettingRow, _DEMO_KEY)
            return row is not None and row.value == "1"

    def mark_demo_database(self) -> None:
        """Mark this database as made for the demo (``seed_demo`` does this; never on a real deployment)."""

        def work(s: Session) -> None:
            row = s.get(_SettingRow, _DEMO_KEY)
            if row is None:
                s.add(_SettingRow(key=_DEMO_KEY, value="1"))
            else:
                row.value = "1"

        self._write(work)

    # -- users

    @staticmethod
    def _user_row(session: Session, username: str, field: str = "username") -> _UserRow:
        row = session.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
        if row is None:
            raise StoreError(f"unknown user {username!r}", field=field)
        return row

    def add_user(
        self,
        username: str,
        password: str,
        role: str,
        display_name: str | None = None,
        email: str | None = None,
        language: str = "en",
        *,
        demo_account: bool = False,
    ) -> User:
        """Create a user; a taken username or a weak password raises StoreError.

        ``demo_account`` skips the password-strength rule, and is refused unless this is a demo
        database (:meth:`is_demo_database`): public demo passwords never reach a real one.
        """
        _name(username, "username")
        _choice(role, ROLES, "role")
        if display_name is not None:
            _text(display_name, "display_name", 200)
        if email is not None and (not isinstance(email, str) or "@" not in email or len(email) > 254):
            raise StoreError(f"{email!r} is not an e-mail address", field="email")
        if not isinstance(language, str) or not _LANG_RE.fullmatch(language):
            raise StoreError(f"{language!r} is not a language code like 'en' or 'pt-BR'", field="language")
        if not demo_account:
            check_password_strength(password, user_inputs=(username, display_name, email))
        hashed = hash_password(password)  # slow: outside the write lock

        def work(s: Session) -> User:
            mark = s.get(_SettingRow, _DEMO_KEY)
            if demo_account and (mark is None or mark.value != "1"):
                raise StoreError("demo accounts only go into a database made by `scro-sim demo`", field="username")
            if s.scalar(select(_UserRow.id).where(_UserRow.username == username)) is not None:
                raise StoreError(f"user {username!r} already exists", field="username")
            row = _UserRow(
                username=username,
                password_hash=hashed,
                role=role,
                display_name=display_name,
                email=email,
                language=language,
                created_at=_now(),
            )
            s.add(row)
            s.flush()
            return _user(row)

        return self._write(work)

    def authenticate(self, username: str, password: str, client: str | None = None) -> User | None:
        """The user when the password matches, else None (throttled like :meth:`sign_in`).

        Raises StoreError when the database cannot be reached, so an outage is never taken
        for a wrong password.
        """
        result = self.sign_in(username, password, client)
        if result.status == "unavailable":
            raise StoreError("the database is unavailable: try again later")
        return result.user

    def sign_in(self, username: str, password: str, client: str | None = None) -> SignIn:
        """Check a password, throttled per account and per client address (see :mod:`.throttle`).

        The same work and the same answer whether or not the user exists; failures are logged
        (``scro_sim.auth``: username and client, never a password).  A database error gives
        ``unavailable``, never ``wrong``.
        """
        policy, now = self.throttle, self.clock()
        valid = isinstance(username, str) and _NAME_RE.fullmatch(username) is not None
        if client is not None:  # it goes into keys and log lines: printable, no spaces, bounded
            client = "".join(ch for ch in str(client) if ch.isprintable() and not ch.isspace())[:150] or None
        keys = ([f"u:{username}"] if valid else []) + ([f"c:{client}"] if client else [])
        who = username if valid else "<invalid name>"

        def reserve(s: Session) -> tuple[float, dict[str, Any], User | None, str]:
            # forget keys nobody has failed on for longer than the window or a lock lasts
            stale = now - timedelta(seconds=max(policy.window_s, policy.lock_s))
            s.execute(delete(_ThrottleRow).where(_ThrottleRow.last_at < stale, _ThrottleRow.key.notin_(keys)))
            rows: dict[str, _ThrottleRow] = {}
            for key in keys:
                row = s.scalars(select(_ThrottleRow).where(_ThrottleRow.key == key).with_for_update()).one_or_none()
                if row is not None and _expired(row, now, policy):
                    row.failures, row.first_at, row.next_at, row.locked_until = 0, now, None, None
                rows[key] = row if row is not None else _ThrottleRow(
                    key=key, failures=0, first_at=now, last_at=now, next_at=None, locked_until=None)
            wait = max((_wait_s(r, now) for r in rows.values()), default=0.0)
            before = {k: (r.next_at, r.locked_until) for k, r in rows.items()}
            if wait > 0:
                return wait, before, None, _DUMMY_HASH
            for row in rows.values():  # counted now, forgiven on success: parallel guesses cannot slip by
                _count_failure(row, now, policy)
                s.add(row)
            user_row = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none() if valid else None
            if user_row is None:
                return 0.0, before, None, _DUMMY_HASH
            return 0.0, before, _user(user_row), user_row.password_hash

        def forgive(before: dict[str, Any]) -> Callable[[Session], None]:
            def work(s: Session) -> None:
                for key in keys:
                    row = s.get(_ThrottleRow, key)
                    if row is None:
                        continue
                    if key.startswith("u:"):
                        s.delete(row)
                    else:
                        row.failures = max(0, row.failures - 1)
                        row.next_at, row.locked_until = before[key]
            return work

        try:
            wait, before, user, encoded = self._write(reserve)
            if wait > 0:
                log.warning("sign-in refused for %r from %s: too many failures, %.0f s to wait", who, client, wait)
                return SignIn("throttled", retry_after_s=math.ceil(wait))
            ok = isinstance(password, str) and verify_password(password, encoded)
            if ok and user is not None:
                self._write(forgive(before))
                return SignIn("ok", user)
            self._log_failure(who, client, keys)
            return SignIn("wrong")
        except StoreError as exc:
            log.error("sign-in unavailable for %r from %s: %s", who, client, exc)
            return SignIn("unavailable")

    def _log_failure(self, who: str, client: str | None, keys: list[str]) -> None:
        with self._read() as s:
            rows = {k: s.get(_ThrottleRow, k) for k in keys}
        counts = ", ".join(f"{k[0]}={r.failures}" for k, r in rows.items() if r is not None)
        log.warning("sign-in failed for %r from %s (recent failures: %s)", who, client, counts)
        for key, row in rows.items():
            if row is not None and row.locked_until is not None:
                kind = "account" if key.startswith("u:") else "client"
                log.warning("%s %r locked until %s after %d failed sign-ins", kind, key[2:], row.locked_until.isoformat(),
                            row.failures)

    def throttle_records(self, username: str) -> list[dict[str, Any]]:
        """The sign-in throttle's record of an account (failures, lock), as plain data."""
        with self._read() as s:
            row = s.get(_ThrottleRow, f"u:{username}")
            if row is None:
                return []
            return [{"failures": row.failures, "first_failure_at": row.first_at.isoformat(),
                     "last_failure_at": row.last_at.isoformat(),
                     "next_attempt_at": row.next_at.isoformat() if row.next_at else None,
                     "locked_until": row.locked_until.isoformat() if row.locked_until else None}]

    def get_user(self, username: str) -> User | None:
        """The user called ``username``, or None."""
        with self._read() as s:
            row = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
            return None if row is None else _user(row)

    def list_users(self, role: str | None = None) -> list[User]:
        """All users (or those with ``role``), by username."""
        query = select(_UserRow).order_by(_UserRow.username)
        if role is not None:
            query = query.where(_UserRow.role == _choice(role, ROLES, "role"))
        with self._read() as s:
            return [_user(r) for r in s.scalars(query)]

    def set_language(self, username: str, lang: str) -> None:
        """Set a user's interface language."""
        if not isinstance(lang, str) or not _LANG_RE.fullmatch(lang):
            raise StoreError(f"{lang!r} is not a language code like 'en' or 'pt-BR'", field="language")

        def work(s: Session) -> None:
            self._user_row(s, username).language = lang

        self._write(work)

    def set_password(self, username: str, password: str) -> None:
        """Replace a user's password (a weak one is refused, as in :meth:`add_user`)."""
        current = self.get_user(username)
        if current is None:
            raise StoreError(f"unknown user {username!r}", field="username")
        check_password_strength(password, user_inputs=(username, current.display_name, current.email))
        hashed = hash_password(password)

        def work(s: Session) -> None:
            self._user_row(s, username).password_hash = hashed

        self._write(work)

    # -- cohorts

    @staticmethod
    def _cohort_row(session: Session, name: str) -> _CohortRow:
        row = session.scalars(select(_CohortRow).where(_CohortRow.name == name)).one_or_none()
        if row is None:
            raise StoreError(f"unknown cohort {name!r}", field="cohort")
        return row

    def add_cohort(self, name: str, title: str = "") -> Cohort:
        """Create a cohort; a taken name raises StoreError."""
        _name(name, "cohort")
        _text(title, "title", 200, empty=True)

        def work(s: Session) -> Cohort:
            if s.scalar(select(_CohortRow.id).where(_CohortRow.name == name)) is not None:
                raise StoreError(f"cohort {name!r} already exists", field="cohort")
            row = _CohortRow(name=name, title=title, created_at=_now())
            s.add(row)
            s.flush()
            return _cohort(row)

        return self._write(work)

    def add_member(self, cohort: str, username: str) -> None:
        """Put a user in a cohort (already a member: nothing happens)."""

        def work(s: Session) -> None:
            c, u = self._cohort_row(s, cohort), self._user_row(s, username)
            if s.get(_MemberRow, (c.id, u.id)) is None:
                s.add(_MemberRow(cohort_id=c.id, user_id=u.id, added_at=_now()))

        self._write(work)

    def members(self, cohort: str) -> list[User]:
        """The users in a cohort, by username."""
        with self._read() as s:
            c = self._cohort_row(s, cohort)
            query = (
                select(_UserRow)
                .join(_MemberRow, _MemberRow.user_id == _UserRow.id)
                .where(_MemberRow.cohort_id == c.id)
                .order_by(_UserRow.username)
            )
            return [_user(r) for r in s.scalars(query)]

    def cohorts_of(self, username: str) -> list[Cohort]:
        """The cohorts a user belongs to, by name."""
        with self._read() as s:
            u = self._user_row(s, username)
            query = (
                select(_CohortRow)
                .join(_MemberRow, _MemberRow.cohort_id == _CohortRow.id)
                .where(_MemberRow.user_id == u.id)
                .order_by(_CohortRow.name)
            )
            return [_cohort(r) for r in s.scalars(query)]

    def list_cohorts(self) -> list[Cohort]:
        """All cohorts, by name."""
        with self._read() as s:
            return [_cohort(r) for r in s.scalars(select(_CohortRow).order_by(_CohortRow.name))]

    def publish_scenario(
        self, cohort: str, scenario_id: str, yaml_text: str, published_by: str
    ) -> PublishedScenario:
        """Publish a scenario text to a cohort (lecturer/admin); a changed text bumps the version."""
        _text(scenario_id, "scenario_id", 128)
        _text(yaml_text, "yaml_text", 10_000_000)
        sha = _sha256(yaml_text)

        def work(s: Session) -> PublishedScenario:
            c = self._cohort_row(s, cohort)
            who = self._user_row(s, published_by, "published_by")
            if who.role not in _PUBLISHERS:
                raise StoreError(
                    f"{published_by!r} is a {who.role}: only lecturers and admins publish",
                    field="published_by",
                )
            row = s.scalars(
                select(_PublishedRow)
                .where(_PublishedRow.cohort_id == c.id, _PublishedRow.scenario_id == scenario_id)
                .with_for_update()
            ).one_or_none()
            if row is None:
                row = _PublishedRow(cohort_id=c.id, scenario_id=scenario_id, version=0)
                s.add(row)
            if row.sha256 != sha:  # the same text again changes nothing
                row.version += 1
                row.sha256, row.yaml_text = sha, yaml_text
                row.published_by_id, row.published_at = who.id, _now()
            s.flush()
            return PublishedScenario(
                row.id,
                c.name,
                row.scenario_id,
                row.sha256,
                row.version,
                row.yaml_text,
                s.get_one(_UserRow, row.published_by_id).username,
                row.published_at,
            )

        return self._write(work)

    def published_scenarios(self, cohort: str | None = None) -> list[PublishedScenario]:
        """Published scenarios (of one cohort, or all), by cohort then scenario id."""
        query = (
            select(_PublishedRow, _CohortRow.name, _UserRow.username)
            .join(_CohortRow, _CohortRow.id == _PublishedRow.cohort_id)
            .join(_UserRow, _UserRow.id == _PublishedRow.published_by_id)
            .order_by(_CohortRow.name, _PublishedRow.scenario_id)
        )
        with self._read() as s:
            if cohort is not None:
                query = query.where(_PublishedRow.cohort_id == self._cohort_row(s, cohort).id)
            return [
                PublishedScenario(
                    p.id, cname, p.scenario_id, p.sha256, p.version, p.yaml_text, uname, p.published_at
                )
                for p, cname, uname in s.execute(query)
            ]
