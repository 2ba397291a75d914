"""Input checks, error translation and the SQLite/PostgreSQL connection setup."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..errors import StoreError

if TYPE_CHECKING:  # pragma: no cover
    pass
from ._common import (
    _BUSY_TIMEOUT_MS,
    _NAME_RE,
    DEFAULT_URL,
)

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
