"""The database: users, cohorts, scored runs, assessor judgements and feedback, games and batches.

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

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from ..errors import StoreError
from ._common import (
    _BUSY_TIMEOUT_MS,
    _MIGRATE_LOCK_KEY,
    _MIGRATIONS,
    _PG_RETRY_STATES,
    _TRIES,
    DEFAULT_URL,
    GAME_STATUSES,
    GRADED_ORIGINS,
    MAX_ATTEMPTS,
    PLAN_STATUSES,
    RATINGS,
    REPLICATION_STATUSES,
    ROLES,
    RUN_ORIGINS,
    RUN_SOURCES,
    T,
)
from ._util import _db_error, _pg_state, _resolve_url, _sqlite_begin, _sqlite_setup
from .feedback import FeedbackMixin, parse_due
from .games import GameConflict, GamesMixin
from .lrs_queue import LRS_STATUSES, LrsQueueMixin, QueuedStatement
from .lti import LtiLineItem, LtiMixin, LtiState, TicketUse
from .passwords import hash_password, verify_password
from .records import (
    AnswerRating,
    Batch,
    Cohort,
    Comment,
    Game,
    GradebookEntry,
    Judgement,
    NewRun,
    Override,
    PlanItem,
    PublishedScenario,
    Replication,
    RunEvidence,
    RunSummary,
    ScorecardRevision,
    StoredRun,
    User,
)
from .runs import RunsMixin
from .signing import Keyring
from .tables import metadata
from .users import UsersMixin

if TYPE_CHECKING:  # pragma: no cover
    from alembic.config import Config

__all__ = [
    "DEFAULT_URL",
    "GAME_STATUSES",
    "GRADED_ORIGINS",
    "LRS_STATUSES",
    "MAX_ATTEMPTS",
    "PLAN_STATUSES",
    "RATINGS",
    "REPLICATION_STATUSES",
    "ROLES",
    "RUN_ORIGINS",
    "RUN_SOURCES",
    "AnswerRating",
    "Batch",
    "Cohort",
    "Comment",
    "Game",
    "GameConflict",
    "GradebookEntry",
    "Judgement",
    "Keyring",
    "LtiLineItem",
    "LtiState",
    "NewRun",
    "Override",
    "PlanItem",
    "PublishedScenario",
    "QueuedStatement",
    "Replication",
    "RunEvidence",
    "RunSummary",
    "ScorecardRevision",
    "Store",
    "StoredRun",
    "TicketUse",
    "User",
    "hash_password",
    "metadata",
    "parse_due",
    "verify_password",
]


# ---------------------------------------------------------------- the store


class Store(UsersMixin, RunsMixin, GamesMixin, FeedbackMixin, LtiMixin, LrsQueueMixin):
    """Users, cohorts, scored runs, judgements, feedback, games, batches, LTI launch state and the LRS queue
    in one database.

    ``Store()`` opens ``$SCRO_SIM_DB`` or ``sqlite:///var/scro_sim.sqlite`` (relative to the
    current directory) and brings the schema up to date.  Use as a context manager or call
    :meth:`close`.  Runs are signed with ``keyring``, or the keys the environment names
    (see :mod:`scro_sim.store.signing`).
    """

    def __init__(self, url: str | URL | None = None, *, migrate: bool = True, keyring: Keyring | None = None) -> None:
        self.url: URL = _resolve_url(url)
        self._keyring: Keyring | None = keyring  # None: from the environment when first needed (runs.py)
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
