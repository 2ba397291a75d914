"""Users, cohorts and the scenarios lecturers publish to them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from ..errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    pass
from ._common import (
    _LANG_RE,
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
    _UserRow,
)


class UsersMixin:
    """Users, cohorts and the scenarios lecturers publish to them (part of Store)."""

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
    ) -> User:
        """Create a user; a taken username raises StoreError."""
        _name(username, "username")
        _choice(role, ROLES, "role")
        if display_name is not None:
            _text(display_name, "display_name", 200)
        if email is not None and (not isinstance(email, str) or "@" not in email or len(email) > 254):
            raise StoreError(f"{email!r} is not an e-mail address", field="email")
        if not isinstance(language, str) or not _LANG_RE.fullmatch(language):
            raise StoreError(f"{language!r} is not a language code like 'en' or 'pt-BR'", field="language")
        hashed = hash_password(password)  # slow: outside the write lock

        def work(s: Session) -> User:
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

    def authenticate(self, username: str, password: str) -> User | None:
        """The user when the password matches, else None (same work whether or not the user exists)."""
        with self._read() as s:
            row = s.scalars(select(_UserRow).where(_UserRow.username == username)).one_or_none()
            user, encoded = (_user(row), row.password_hash) if row is not None else (None, _DUMMY_HASH)
        ok = isinstance(password, str) and verify_password(password, encoded)
        return user if ok and user is not None else None

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
        """Replace a user's password."""
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
