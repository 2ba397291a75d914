"""The database: users, cohorts, scored runs, assessor judgements, games and batches.

One :class:`Store` wraps one SQLAlchemy engine: a SQLite file by default, PostgreSQL when
given a ``postgresql+psycopg://`` URL.  Every public method is one transaction and returns
plain frozen dataclasses, so callers never hold a session or an ORM object, and a crash
mid-call leaves the previous state intact.

SQLite is run the way many writer processes need it: WAL journal, a 30 s busy timeout,
foreign keys on, and every write transaction opened with ``BEGIN IMMEDIATE`` so a writer
takes the write lock up front (deferred transactions that upgrade from read to write fail
with "database is locked" instead of waiting).  pysqlite's own transaction handling is
switched off for that, as in SQLAlchemy's documented recipe.

The schema is versioned with Alembic (``scro_sim/migrations``); :meth:`Store.migrate` runs
on open, serialized between processes by the SQLite write lock or a PostgreSQL advisory lock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
import os
import re
import secrets
import uuid
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

from scro_sim.errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config

__all__ = [
    "DEFAULT_URL",
    "GAME_STATUSES",
    "MAX_ATTEMPTS",
    "RATINGS",
    "REPLICATION_STATUSES",
    "ROLES",
    "RUN_SOURCES",
    "Batch",
    "Cohort",
    "Game",
    "Judgement",
    "NewRun",
    "Override",
    "PublishedScenario",
    "Replication",
    "RunSummary",
    "ScorecardRevision",
    "Store",
    "StoredRun",
    "User",
    "hash_password",
    "metadata",
    "verify_password",
]

#: Where the database lives when neither an URL nor ``SCRO_SIM_DB`` is given (relative to cwd).
DEFAULT_URL = "sqlite:///var/scro_sim.sqlite"
ROLES: tuple[str, ...] = ("learner", "lecturer", "assessor", "admin")
#: Ratings of judged criteria (HSEEP): Performed without challenges, with Some challenges,
#: with Major challenges, Unable to be performed.
RATINGS: tuple[str, ...] = ("P", "S", "M", "U")
RUN_SOURCES: tuple[str, ...] = ("play", "plan", "cli")
GAME_STATUSES: tuple[str, ...] = ("playing", "finished", "abandoned")
REPLICATION_STATUSES: tuple[str, ...] = ("pending", "running", "done", "failed")
#: A replication that failed this many times is not offered again by ``missing_replications``.
MAX_ATTEMPTS = 3

_JUDGES = ("assessor", "admin")
_PUBLISHERS = ("lecturer", "admin")
_NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_BUSY_TIMEOUT_MS = 30_000
_MIGRATE_LOCK_KEY = 0x5C50_51A1  # PostgreSQL advisory lock id for schema migration
_MIGRATIONS = Path(__file__).with_name("migrations")
_PG_RETRY_STATES = {"40001", "40P01"}  # serialization failure, deadlock
_TRIES = 4

T = TypeVar("T")


# ---------------------------------------------------------------- password hashing

_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """Hash a password with scrypt: ``scrypt$n$r$p$salt_b64$hash_b64`` (random 16-byte salt)."""
    if not isinstance(password, str) or not password:
        raise StoreError("password must be a non-empty string", field="password")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=_SCRYPT_LEN
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str) -> bool:
    """True when ``password`` matches an ``encoded`` hash (constant-time compare)."""
    try:
        scheme, n, r, p, salt_b64, hash_b64 = encoded.split("$")
        if scheme != "scrypt":
            return False
        salt, expected = base64.b64decode(salt_b64), base64.b64decode(hash_b64)
        n_i, r_i, p_i = int(n), int(r), int(p)
        if not (2 <= n_i <= 2**20 and 1 <= r_i <= 32 and 1 <= p_i <= 16 and 16 <= len(expected) <= 64):
            return False
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=salt,
            n=n_i,
            r=r_i,
            p=p_i,
            dklen=len(expected),
            maxmem=256 * n_i * r_i + 2**20,
        )
    except (ValueError, TypeError, AttributeError):
        return False
    return hmac.compare_digest(actual, expected)


_DUMMY_HASH = f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(b'0' * 16)}${_b64(b'0' * _SCRYPT_LEN)}"


# ---------------------------------------------------------------- column types


class UTCDateTime(TypeDecorator[datetime]):
    """A tz-aware UTC datetime on every backend (SQLite stores naive UTC text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass a tz-aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class IntText(TypeDecorator[int]):
    """An integer of any size (seeds may be 128-bit SeedSequence entropy), stored as decimal text."""

    impl = String(80)
    cache_ok = True

    def process_bind_param(self, value: int | None, dialect: Dialect) -> str | None:
        return None if value is None else str(int(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


# ---------------------------------------------------------------- schema (ORM rows; private)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _now() -> datetime:
    return datetime.now(UTC)


class _Base(DeclarativeBase):
    metadata = metadata


class _UserRow(_Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('learner', 'lecturer', 'assessor', 'admin')", name="role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _CohortRow(_Base):
    __tablename__ = "cohorts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _MemberRow(_Base):
    __tablename__ = "cohort_members"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _PublishedRow(_Base):
    __tablename__ = "published_scenarios"
    __table_args__ = (UniqueConstraint("cohort_id", "scenario_id", name="uq_published_scenarios_cohort"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cohort_id: Mapped[int] = mapped_column(ForeignKey("cohorts.id"))
    scenario_id: Mapped[str] = mapped_column(String(128))
    sha256: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    yaml_text: Mapped[str] = mapped_column(Text)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _TextRow(_Base):
    """Content-addressed texts (scenario and plan YAML), shared by the runs that used them."""

    __tablename__ = "texts"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    body: Mapped[str] = mapped_column(Text)


class _RunRow(_Base):
    __tablename__ = "runs"
    __table_args__ = (
        CheckConstraint("total >= 0 AND total <= 100", name="total_range"),
        Index("ix_runs_created", "created_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    learner: Mapped[str] = mapped_column(String(64), index=True)
    cohort: Mapped[str | None] = mapped_column(String(64), index=True)
    scenario_id: Mapped[str] = mapped_column(String(128), index=True)
    scenario_version: Mapped[str] = mapped_column(String(64))
    scenario_hash: Mapped[str] = mapped_column(String(128))
    scenario_text: Mapped[str] = mapped_column(ForeignKey("texts.sha256"))
    city_hash: Mapped[str] = mapped_column(String(128))
    engine_version: Mapped[str] = mapped_column(String(64))
    seed: Mapped[int] = mapped_column(IntText())
    decisions: Mapped[Any] = mapped_column(JSON)
    policy: Mapped[str | None] = mapped_column(String(255))
    plan_text: Mapped[str | None] = mapped_column(ForeignKey("texts.sha256"))
    log_z: Mapped[bytes] = mapped_column(LargeBinary)
    log_size: Mapped[int] = mapped_column(Integer)
    log_digest: Mapped[str] = mapped_column(String(128))
    scorecard: Mapped[Any] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    provisional: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _HistoryRow(_Base):
    __tablename__ = "scorecard_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    scorecard: Mapped[Any] = mapped_column(JSON)
    total: Mapped[float] = mapped_column(Float)
    passed: Mapped[bool] = mapped_column(Boolean)
    provisional: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _RatedRow(_Base):
    """Columns shared by judgements and overrides (each its own table)."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    criterion_id: Mapped[str] = mapped_column(String(128))
    rating: Mapped[str] = mapped_column(String(1))
    comment: Mapped[str] = mapped_column(Text)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _JudgementRow(_RatedRow):
    __tablename__ = "judgements"
    __table_args__ = (CheckConstraint("rating IN ('P', 'S', 'M', 'U')", name="rating"),)


class _OverrideRow(_RatedRow):
    __tablename__ = "overrides"
    __table_args__ = (CheckConstraint("rating IN ('P', 'S', 'M', 'U')", name="rating"),)


class _GameRow(_Base):
    __tablename__ = "games"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    learner: Mapped[str] = mapped_column(String(64), index=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    scenario_hash: Mapped[str] = mapped_column(String(128))
    seed: Mapped[int] = mapped_column(IntText())
    decisions: Mapped[Any] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[str | None] = mapped_column(ForeignKey("runs.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _BatchRow(_Base):
    __tablename__ = "batches"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    scenario_hash: Mapped[str] = mapped_column(String(128))
    plan_hash: Mapped[str] = mapped_column(String(128))
    n: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int] = mapped_column(IntText())
    meta: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _ReplicationRow(_Base):
    __tablename__ = "replications"

    batch_id: Mapped[str] = mapped_column(ForeignKey("batches.id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- public records


@dataclass(frozen=True, slots=True)
class User:
    """A person who can log in (never carries the password hash)."""

    id: int
    username: str
    role: str
    display_name: str | None
    email: str | None
    language: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Cohort:
    """A group of learners (a class, a course run)."""

    id: int
    name: str
    title: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PublishedScenario:
    """A scenario text a lecturer made available to a cohort; ``version`` counts re-publications."""

    id: int
    cohort: str
    scenario_id: str
    sha256: str
    version: int
    yaml_text: str
    published_by: str
    published_at: datetime


@dataclass(frozen=True, slots=True)
class NewRun:
    """A scored run to save (see :meth:`Store.save_run`)."""

    learner: str
    scenario_id: str
    scenario_version: str
    scenario_hash: str
    scenario_yaml: str
    city_hash: str
    engine_version: str
    seed: int
    decisions: list[dict[str, Any]]
    log_jsonl: str
    log_digest: str
    scorecard: dict[str, Any]
    total: float
    passed: bool
    started_at: datetime
    finished_at: datetime
    cohort: str | None = None
    policy: str | None = None
    plan_yaml: str | None = None
    provisional: bool = False
    source: str = "play"


@dataclass(frozen=True, slots=True)
class StoredRun:
    """A saved run with everything needed to verify it by re-simulation."""

    id: str
    learner: str
    cohort: str | None
    scenario_id: str
    scenario_version: str
    scenario_hash: str
    scenario_yaml: str
    city_hash: str
    engine_version: str
    seed: int
    decisions: list[dict[str, Any]]
    policy: str | None
    plan_yaml: str | None
    log_jsonl: str
    log_digest: str
    scorecard: dict[str, Any]
    total: float
    passed: bool
    provisional: bool
    source: str
    started_at: datetime
    finished_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A saved run without its log, texts and decisions (for lists and gradebooks)."""

    id: str
    learner: str
    cohort: str | None
    scenario_id: str
    scenario_version: str
    scenario_hash: str
    city_hash: str
    engine_version: str
    seed: int
    policy: str | None
    log_digest: str
    total: float
    passed: bool
    provisional: bool
    source: str
    started_at: datetime
    finished_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ScorecardRevision:
    """A scorecard as it was before a re-grade replaced it."""

    id: int
    run_id: str
    scorecard: dict[str, Any]
    total: float
    passed: bool
    provisional: bool
    note: str
    replaced_at: datetime


@dataclass(frozen=True, slots=True)
class Judgement:
    """An assessor's rating of a judged criterion of a run."""

    id: int
    run_id: str
    criterion_id: str
    rating: str
    comment: str
    assessor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Override:
    """An assessor's override of a criterion's rating; the computed scorecard stays as it was."""

    id: int
    run_id: str
    criterion_id: str
    rating: str
    comment: str
    assessor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Game:
    """A learner's game in progress: replaying ``decisions`` resumes it."""

    id: str
    learner: str
    scenario_id: str
    scenario_hash: str
    seed: int
    decisions: list[dict[str, Any]]
    status: str
    run_id: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Batch:
    """A Monte Carlo batch: ``n`` replications of one plan on one scenario."""

    id: str
    scenario_hash: str
    plan_hash: str
    n: int
    seed: int
    meta: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Replication:
    """One replication of a batch; ``attempts`` counts failed puts."""

    batch_id: str
    index: int
    status: str
    result: dict[str, Any] | None
    error: str | None
    attempts: int
    updated_at: datetime


def _user(row: _UserRow) -> User:
    return User(row.id, row.username, row.role, row.display_name, row.email, row.language, row.created_at)


def _cohort(row: _CohortRow) -> Cohort:
    return Cohort(row.id, row.name, row.title, row.created_at)


def _game(row: _GameRow) -> Game:
    return Game(
        row.id,
        row.learner,
        row.scenario_id,
        row.scenario_hash,
        row.seed,
        row.decisions,
        row.status,
        row.run_id,
        row.created_at,
        row.updated_at,
    )


def _batch(row: _BatchRow) -> Batch:
    return Batch(row.id, row.scenario_hash, row.plan_hash, row.n, row.seed, row.meta, row.created_at)


def _replication(row: _ReplicationRow) -> Replication:
    return Replication(row.batch_id, row.idx, row.status, row.result, row.error, row.attempts, row.updated_at)


# ---------------------------------------------------------------- validation helpers


def _name(value: object, field: str) -> str:
    if not isinstance(value, str) or not _NAME_RE.fullmatch(value):
        raise StoreError(
            f"{value!r} is not a valid name: 1-64 characters of A-Z a-z 0-9 _ . @ -", field=field
        )
    return value


def _text(value: object, field: str, max_len: int, *, empty: bool = False) -> str:
    if not isinstance(value, str) or (not empty and not value.strip()) or len(value) > max_len:
        need = "a string" if empty else "a non-empty string"
        raise StoreError(f"must be {need} of at most {max_len} characters", field=field)
    return value


def _choice(value: object, allowed: tuple[str, ...], field: str) -> str:
    if value not in allowed:
        raise StoreError(f"{value!r} is not one of {', '.join(allowed)}", field=field)
    assert isinstance(value, str)
    return value


def _int(value: object, field: str, *, low: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or (low is not None and value < low):
        bound = "" if low is None else f" >= {low}"
        raise StoreError(f"must be an integer{bound}, got {value!r}", field=field)
    return value


def _json(value: Any, field: str, kind: type) -> Any:
    if not isinstance(value, kind):
        raise StoreError(f"must be a {kind.__name__}", field=field)
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"is not JSON-serialisable: {exc}", field=field) from exc
    return value


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise StoreError("must be a tz-aware datetime (UTC)", field=field)
    return value.astimezone(UTC)


def _sha256(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def _db_error(exc: SQLAlchemyError) -> str:
    # The driver's message only: SQLAlchemy's own text repeats the statement and its parameters
    # (password hashes, megabytes of log), which must not reach a user or a log file.
    cause: BaseException = getattr(exc, "orig", None) or exc
    return f"database error: {type(cause).__name__}: {cause}"


def _pg_state(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)


def _sqlite_setup(dbapi_conn: Any, _record: Any) -> None:
    # SQLAlchemy's pysqlite recipe: pysqlite must not emit BEGIN itself; the "begin" event does.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
    finally:
        cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the write lock up front so they queue on the busy timeout instead of failing
    # when a deferred transaction tries to upgrade from read to write.
    mode = "IMMEDIATE" if conn.get_execution_options().get("scro_write") else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")


def _resolve_url(url: str | URL | None) -> URL:
    if url is None:
        url = os.environ.get("SCRO_SIM_DB") or DEFAULT_URL
        if isinstance(url, str) and "://" not in url:  # a bare path in SCRO_SIM_DB
            url = f"sqlite:///{url}"
    try:
        parsed = make_url(url)
    except Exception as exc:  # ArgumentError and friends
        raise StoreError(f"not a database URL: {exc}", field="url") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(
            f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL", field="url"
        )
    return parsed


# ---------------------------------------------------------------- the store


class Store:
    """Users, cohorts, scored runs, judgements, games and batches in one database.

    ``Store()`` opens ``$SCRO_SIM_DB`` or ``sqlite:///var/scro_sim.sqlite`` (relative to the
    current directory) and brings the schema up to date.  Use as a context manager or call
    :meth:`close`.
    """

    def __init__(self, url: str | URL | None = None, *, migrate: bool = True) -> None:
        self.url: URL = _resolve_url(url)
        self.dialect: str = self.url.get_backend_name()
        if self.dialect == "sqlite":
            db = self.url.database
            if db and db != ":memory:" and not db.startswith("file:"):
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            self._engine: Engine = create_engine(self.url, connect_args={"timeout": _BUSY_TIMEOUT_MS / 1000})
            event.listen(self._engine, "connect", _sqlite_setup)
            event.listen(self._engine, "begin", _sqlite_begin)
        else:
            self._engine = create_engine(self.url, pool_pre_ping=True)
        self._write_engine: Engine = self._engine.execution_options(scro_write=True)
        if migrate:
            self.migrate()

    # -- plumbing

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for diagnostics and tests (application code uses the methods)."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection."""
        self._engine.dispose()

    @contextmanager
    def _read(self) -> Iterator[Session]:
        try:
            with Session(self._engine) as session:
                yield session
        except SQLAlchemyError as exc:
            raise StoreError(_db_error(exc)) from exc

    def _write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction; retry races that PostgreSQL reports."""
        for attempt in range(_TRIES):
            try:
                with Session(self._write_engine, expire_on_commit=False) as session, session.begin():
                    return work(session)
            except IntegrityError as exc:
                # Check-then-insert races lose on PostgreSQL (SQLite writers are serialized);
                # the retry re-runs the checks, which then see the winner's row.
                if self.dialect != "postgresql" or attempt == _TRIES - 1:
                    raise StoreError(f"conflicting write: {exc.orig}") from exc
            except DBAPIError as exc:
                if _pg_state(exc) in _PG_RETRY_STATES and attempt < _TRIES - 1:
                    continue
                raise StoreError(_db_error(exc)) from exc
            except SQLAlchemyError as exc:
                raise StoreError(_db_error(exc)) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    # -- schema

    def alembic_config(self) -> Config:
        """An Alembic config for this database (e.g. ``alembic.command.revision(cfg, autogenerate=True)``)."""
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(_MIGRATIONS))
        cfg.set_main_option(
            "sqlalchemy.url", self.url.render_as_string(hide_password=False).replace("%", "%%")
        )
        return cfg

    def schema_revision(self) -> str | None:
        """The Alembic revision the database is at (None before the first migration)."""
        from alembic.runtime.migration import MigrationContext

        with self._engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()

    def migrate(self) -> None:
        """Bring the schema to the newest revision; idempotent and safe from many processes at once."""
        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from alembic.util.exc import CommandError

        cfg = self.alembic_config()
        heads = set(ScriptDirectory.from_config(cfg).get_heads())
        try:
            with self._engine.connect() as conn:  # cheap check that takes no write lock
                if set(MigrationContext.configure(conn).get_current_heads()) == heads:
                    return
            with self._write_engine.connect() as conn, conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATE_LOCK_KEY})
                # On SQLite the BEGIN IMMEDIATE above is the lock; the other process waits, then
                # finds the schema current and Alembic does nothing.
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
        except CommandError as exc:
            raise StoreError(
                f"cannot migrate the database schema (is it from a newer scro_sim?): {exc}"
            ) from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate the database schema: {_db_error(exc)}") from exc

    def integrity_check(self) -> bool:
        """True when the database is sound (SQLite ``PRAGMA integrity_check``; PostgreSQL: it answers)."""
        try:
            with self._engine.connect() as conn:
                if self.dialect == "sqlite":
                    rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check").fetchall()]
                    return rows == ["ok"]
                return bool(conn.execute(text("SELECT 1")).scalar_one() == 1)
        except SQLAlchemyError:
            return False

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

    # -- runs

    @staticmethod
    def _put_text(session: Session, body: str) -> str:
        sha = _sha256(body)
        if session.get(_TextRow, sha) is None:
            session.add(_TextRow(sha256=sha, body=body))
            session.flush()  # before the run row that refers to it (no ORM relationship orders them)
        return sha

    @staticmethod
    def _run_row(session: Session, run_id: str, *, lock: bool = False) -> _RunRow:
        query = select(_RunRow).where(_RunRow.id == run_id)
        if lock:
            query = query.with_for_update()
        row = session.scalars(query).one_or_none() if isinstance(run_id, str) else None
        if row is None:
            raise StoreError(f"unknown run {run_id!r}", field="run_id")
        return row

    @staticmethod
    def _check_grade(total: object, passed: object, provisional: object) -> float:
        if isinstance(total, bool) or not isinstance(total, int | float) or not math.isfinite(total):
            raise StoreError(f"must be a number, got {total!r}", field="total")
        if not 0.0 <= float(total) <= 100.0:
            raise StoreError(f"must be between 0 and 100, got {total!r}", field="total")
        for name, value in (("passed", passed), ("provisional", provisional)):
            if not isinstance(value, bool):
                raise StoreError(f"must be true or false, got {value!r}", field=name)
        return float(total)

    def save_run(self, rec: NewRun) -> str:
        """Save a scored run in one transaction and return its id (uuid4 hex)."""
        if not isinstance(rec, NewRun):
            raise StoreError("save_run takes a NewRun", field="rec")
        _text(rec.learner, "learner", 64)
        if rec.cohort is not None:
            _text(rec.cohort, "cohort", 64)
        _text(rec.scenario_id, "scenario_id", 128)
        _text(rec.scenario_version, "scenario_version", 64, empty=True)
        _text(rec.scenario_hash, "scenario_hash", 128)
        _text(rec.scenario_yaml, "scenario_yaml", 10_000_000)
        _text(rec.city_hash, "city_hash", 128, empty=True)
        _text(rec.engine_version, "engine_version", 64)
        _int(rec.seed, "seed")
        _json(rec.decisions, "decisions", list)
        if rec.policy is not None:
            _text(rec.policy, "policy", 255)
        if rec.plan_yaml is not None:
            _text(rec.plan_yaml, "plan_yaml", 10_000_000)
        if not isinstance(rec.log_jsonl, str):
            raise StoreError("must be a string", field="log_jsonl")
        _text(rec.log_digest, "log_digest", 128)
        _json(rec.scorecard, "scorecard", dict)
        total = self._check_grade(rec.total, rec.passed, rec.provisional)
        _choice(rec.source, RUN_SOURCES, "source")
        started, finished = _aware(rec.started_at, "started_at"), _aware(rec.finished_at, "finished_at")
        raw = rec.log_jsonl.encode("utf-8")
        log_z = zlib.compress(raw, 6)  # outside the write lock: a few MB take a while
        run_id = uuid.uuid4().hex

        def work(s: Session) -> str:
            row = _RunRow(
                id=run_id,
                learner=rec.learner,
                cohort=rec.cohort,
                scenario_id=rec.scenario_id,
                scenario_version=rec.scenario_version,
                scenario_hash=rec.scenario_hash,
                scenario_text=self._put_text(s, rec.scenario_yaml),
                city_hash=rec.city_hash,
                engine_version=rec.engine_version,
                seed=rec.seed,
                decisions=rec.decisions,
                policy=rec.policy,
                plan_text=None if rec.plan_yaml is None else self._put_text(s, rec.plan_yaml),
                log_z=log_z,
                log_size=len(raw),
                log_digest=rec.log_digest,
                scorecard=rec.scorecard,
                total=total,
                passed=rec.passed,
                provisional=rec.provisional,
                source=rec.source,
                started_at=started,
                finished_at=finished,
                created_at=_now(),
            )
            s.add(row)
            return run_id

        return self._write(work)

    def get_run(self, run_id: str) -> StoredRun | None:
        """A saved run with its decompressed log and texts, or None."""
        with self._read() as s:
            row = s.get(_RunRow, run_id) if isinstance(run_id, str) else None
            if row is None:
                return None
            scenario_yaml = s.get_one(_TextRow, row.scenario_text).body
            plan_yaml = None if row.plan_text is None else s.get_one(_TextRow, row.plan_text).body
            try:
                log = zlib.decompress(row.log_z).decode("utf-8")
            except (zlib.error, UnicodeDecodeError) as exc:
                raise StoreError(f"run {run_id}: stored log is corrupt: {exc}", field="log_jsonl") from exc
            texts: dict[str, Any] = {"scenario_yaml": scenario_yaml, "plan_yaml": plan_yaml, "log_jsonl": log}
            values: dict[str, Any] = {
                f.name: getattr(row, f.name) for f in fields(StoredRun) if f.name not in texts
            }
            return StoredRun(**values, **texts)

    def list_runs(
        self,
        learner: str | None = None,
        scenario: str | None = None,
        cohort: str | None = None,
        provisional: bool | None = None,
        limit: int | None = None,
        source: str | None = None,
    ) -> list[RunSummary]:
        """Summaries of saved runs, newest first (ties by id), filtered by whatever is given."""
        r = _RunRow
        cols = [getattr(r, f.name) for f in fields(RunSummary)]  # everything but the log and texts
        query = select(*cols).order_by(r.created_at.desc(), r.id.desc())
        if learner is not None:
            query = query.where(r.learner == learner)
        if scenario is not None:
            query = query.where(r.scenario_id == scenario)
        if cohort is not None:
            query = query.where(r.cohort == cohort)
        if provisional is not None:
            query = query.where(r.provisional == bool(provisional))
        if source is not None:
            query = query.where(r.source == source)
        if limit is not None:
            query = query.limit(_int(limit, "limit", low=0))
        with self._read() as s:
            return [RunSummary(**row._mapping) for row in s.execute(query)]

    def update_scorecard(
        self,
        run_id: str,
        scorecard: dict[str, Any],
        total: float,
        passed: bool,
        provisional: bool,
        *,
        note: str = "",
    ) -> None:
        """Re-grade a run; the previous scorecard is kept in ``scorecard_history``."""
        _json(scorecard, "scorecard", dict)
        total = self._check_grade(total, passed, provisional)
        _text(note, "note", 10_000, empty=True)

        def work(s: Session) -> None:
            row = self._run_row(s, run_id, lock=True)
            s.add(
                _HistoryRow(
                    run_id=row.id,
                    scorecard=row.scorecard,
                    total=row.total,
                    passed=row.passed,
                    provisional=row.provisional,
                    note=note,
                    replaced_at=_now(),
                )
            )
            row.scorecard, row.total, row.passed, row.provisional = scorecard, total, passed, provisional

        self._write(work)

    def scorecard_history(self, run_id: str) -> list[ScorecardRevision]:
        """Earlier scorecards of a run, oldest first."""
        with self._read() as s:
            self._run_row(s, run_id)
            rows = s.scalars(select(_HistoryRow).where(_HistoryRow.run_id == run_id).order_by(_HistoryRow.id))
            return [
                ScorecardRevision(
                    h.id, h.run_id, h.scorecard, h.total, h.passed, h.provisional, h.note, h.replaced_at
                )
                for h in rows
            ]

    # -- judgements and overrides

    def _rate(
        self,
        table: type[_RatedRow],
        run_id: str,
        criterion_id: str,
        rating: str,
        comment: str,
        assessor: str,
        *,
        need_comment: bool,
    ) -> Judgement | Override:
        _text(criterion_id, "criterion_id", 128)
        _choice(rating, RATINGS, "rating")
        _text(comment, "comment", 20_000, empty=not need_comment)
        make = Judgement if table is _JudgementRow else Override

        def work(s: Session) -> Judgement | Override:
            run = self._run_row(s, run_id)
            who = self._user_row(s, assessor, "assessor")
            if who.role not in _JUDGES:
                raise StoreError(
                    f"{assessor!r} is a {who.role}: only assessors and admins rate runs", field="assessor"
                )
            row = table(
                run_id=run.id,
                criterion_id=criterion_id,
                rating=rating,
                comment=comment,
                assessor_id=who.id,
                created_at=_now(),
            )
            s.add(row)
            s.flush()
            return make(
                row.id, row.run_id, row.criterion_id, row.rating, row.comment, who.username, row.created_at
            )

        return self._write(work)

    def _ratings(self, table: type[_RatedRow], run_id: str, current_only: bool) -> list[Any]:
        make = Judgement if table is _JudgementRow else Override
        with self._read() as s:
            self._run_row(s, run_id)
            query = (
                select(table, _UserRow.username)
                .join(_UserRow, _UserRow.id == table.assessor_id)
                .where(table.run_id == run_id)
                .order_by(table.id)
            )
            rows = [
                make(r.id, r.run_id, r.criterion_id, r.rating, r.comment, name, r.created_at)
                for r, name in s.execute(query)
            ]
        if not current_only:
            return rows
        latest: dict[str, Any] = {}
        for r in rows:  # ordered by id: a later one supersedes an earlier one
            latest[r.criterion_id] = r
        return [latest[k] for k in sorted(latest)]

    def add_judgement(
        self, run_id: str, criterion_id: str, rating: str, comment: str, assessor: str
    ) -> Judgement:
        """Rate a judged criterion (P/S/M/U); assessors and admins only.  Earlier ratings are kept."""
        result = self._rate(
            _JudgementRow, run_id, criterion_id, rating, comment, assessor, need_comment=False
        )
        assert isinstance(result, Judgement)
        return result

    def add_override(
        self, run_id: str, criterion_id: str, rating: str, comment: str, assessor: str
    ) -> Override:
        """Override a criterion's rating (P/S/M/U) with a required comment; the scorecard stays as it was."""
        result = self._rate(_OverrideRow, run_id, criterion_id, rating, comment, assessor, need_comment=True)
        assert isinstance(result, Override)
        return result

    def judgements(self, run_id: str, current_only: bool = True) -> list[Judgement]:
        """A run's judgements: the newest per criterion (by criterion id), or all in order made."""
        return self._ratings(_JudgementRow, run_id, current_only)

    def overrides(self, run_id: str, current_only: bool = True) -> list[Override]:
        """A run's overrides: the newest per criterion (by criterion id), or all in order made."""
        return self._ratings(_OverrideRow, run_id, current_only)

    # -- games in progress

    def save_game(
        self,
        game_id: str,
        learner: str,
        scenario_id: str,
        scenario_hash: str,
        seed: int,
        decisions: list[dict[str, Any]],
        status: str = "playing",
    ) -> Game:
        """Create or update a game in progress (a finished game, or another learner's, is refused)."""
        _text(game_id, "game_id", 64)
        _text(learner, "learner", 64)
        _text(scenario_id, "scenario_id", 128)
        _text(scenario_hash, "scenario_hash", 128)
        _int(seed, "seed")
        _json(decisions, "decisions", list)
        _choice(status, GAME_STATUSES, "status")

        def work(s: Session) -> Game:
            row = s.scalars(select(_GameRow).where(_GameRow.id == game_id).with_for_update()).one_or_none()
            now = _now()
            if row is None:
                row = _GameRow(id=game_id, learner=learner, run_id=None, created_at=now)
                s.add(row)
            elif row.learner != learner:
                raise StoreError(f"game {game_id!r} belongs to another learner", field="learner")
            elif row.status == "finished":
                raise StoreError(f"game {game_id!r} is finished", field="game_id")
            row.scenario_id, row.scenario_hash, row.seed = scenario_id, scenario_hash, seed
            row.decisions, row.status, row.updated_at = decisions, status, now
            s.flush()
            return _game(row)

        return self._write(work)

    def load_game(self, game_id: str) -> Game | None:
        """A saved game, or None."""
        with self._read() as s:
            row = s.get(_GameRow, game_id) if isinstance(game_id, str) else None
            return None if row is None else _game(row)

    def list_games(self, learner: str, status: str | None = None) -> list[Game]:
        """A learner's games, most recently updated first."""
        query = select(_GameRow).where(_GameRow.learner == learner)
        if status is not None:
            query = query.where(_GameRow.status == _choice(status, GAME_STATUSES, "status"))
        with self._read() as s:
            return [
                _game(r) for r in s.scalars(query.order_by(_GameRow.updated_at.desc(), _GameRow.id.desc()))
            ]

    def finish_game(self, game_id: str, run_id: str) -> Game:
        """Mark a game finished with the id of its saved run."""

        def work(s: Session) -> Game:
            row = s.scalars(select(_GameRow).where(_GameRow.id == game_id).with_for_update()).one_or_none()
            if row is None:
                raise StoreError(f"unknown game {game_id!r}", field="game_id")
            run = self._run_row(s, run_id)
            if row.status == "finished" and row.run_id != run.id:
                raise StoreError(
                    f"game {game_id!r} is already finished with run {row.run_id}", field="game_id"
                )
            row.status, row.run_id, row.updated_at = "finished", run.id, _now()
            s.flush()
            return _game(row)

        return self._write(work)

    # -- batch replications

    def create_batch(
        self, batch_id: str, scenario_hash: str, plan_hash: str, n: int, seed: int, meta: dict[str, Any]
    ) -> Batch:
        """Register a batch; the same id again is fine with equal parameters (resume), else StoreError."""
        _text(batch_id, "batch_id", 64)
        _text(scenario_hash, "scenario_hash", 128)
        _text(plan_hash, "plan_hash", 128)
        _int(n, "n", low=1)
        _int(seed, "seed")
        _json(meta, "meta", dict)

        def work(s: Session) -> Batch:
            row = s.get(_BatchRow, batch_id)
            if row is None:
                row = _BatchRow(
                    id=batch_id,
                    scenario_hash=scenario_hash,
                    plan_hash=plan_hash,
                    n=n,
                    seed=seed,
                    meta=meta,
                    created_at=_now(),
                )
                s.add(row)
                s.flush()
            elif (row.scenario_hash, row.plan_hash, row.n, row.seed, row.meta) != (
                scenario_hash,
                plan_hash,
                n,
                seed,
                json.loads(json.dumps(meta)),
            ):
                raise StoreError(f"batch {batch_id!r} exists with other parameters", field="batch_id")
            return _batch(row)

        return self._write(work)

    def get_batch(self, batch_id: str) -> Batch | None:
        """A batch, or None."""
        with self._read() as s:
            row = s.get(_BatchRow, batch_id) if isinstance(batch_id, str) else None
            return None if row is None else _batch(row)

    def put_replication(
        self, batch_id: str, index: int, status: str, result: dict[str, Any] | None, error: str | None
    ) -> Replication:
        """Record a replication's state; a "failed" put counts an attempt.  "done" is final."""
        _int(index, "index", low=0)
        _choice(status, REPLICATION_STATUSES, "status")
        if result is not None:
            _json(result, "result", dict)
        if error is not None and not isinstance(error, str):
            raise StoreError("must be a string or None", field="error")

        def work(s: Session) -> Replication:
            batch = s.get(_BatchRow, batch_id)
            if batch is None:
                raise StoreError(f"unknown batch {batch_id!r}", field="batch_id")
            if index >= batch.n:
                raise StoreError(f"index {index} is outside batch {batch_id!r} of {batch.n}", field="index")
            row = s.scalars(
                select(_ReplicationRow)
                .where(_ReplicationRow.batch_id == batch_id, _ReplicationRow.idx == index)
                .with_for_update()
            ).one_or_none()
            if row is None:
                row = _ReplicationRow(batch_id=batch_id, idx=index, attempts=0)
                s.add(row)
            elif row.status == "done" and status != "done":
                return _replication(row)  # a late report from a duplicate worker must not undo a result
            row.status, row.result, row.error, row.updated_at = status, result, error, _now()
            if status == "failed":
                row.attempts += 1
            s.flush()
            return _replication(row)

        return self._write(work)

    def replications(self, batch_id: str) -> list[Replication]:
        """A batch's recorded replications, by index."""
        with self._read() as s:
            if s.get(_BatchRow, batch_id) is None:
                raise StoreError(f"unknown batch {batch_id!r}", field="batch_id")
            query = (
                select(_ReplicationRow)
                .where(_ReplicationRow.batch_id == batch_id)
                .order_by(_ReplicationRow.idx)
            )
            return [_replication(r) for r in s.scalars(query)]

    def missing_replications(self, batch_id: str, max_attempts: int = MAX_ATTEMPTS) -> list[int]:
        """Indices still to run: not "done" and failed fewer than ``max_attempts`` times."""
        with self._read() as s:
            batch = s.get(_BatchRow, batch_id)
            if batch is None:
                raise StoreError(f"unknown batch {batch_id!r}", field="batch_id")
            query = select(_ReplicationRow.idx).where(
                _ReplicationRow.batch_id == batch_id,
                (_ReplicationRow.status == "done") | (_ReplicationRow.attempts >= max_attempts),
            )
            settled = set(s.scalars(query))
            return [i for i in range(batch.n) if i not in settled]

    # -- counts (cheap, for dashboards and tests)

    def count_runs(self) -> int:
        """How many runs are stored."""
        with self._read() as s:
            return int(s.scalar(select(func.count()).select_from(_RunRow)) or 0)
