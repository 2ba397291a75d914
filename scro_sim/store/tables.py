"""The schema: column types and ORM rows (private to the store; migrations snapshot it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

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
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:  # pragma: no cover
    pass


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
        # one scored run per game, enforced by the database: two tabs finishing together store one run
        Index("ix_runs_game_id", "game_id", unique=True),
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
    # the scenario text whose rubric graded the card, when a revised rubric re-graded the run (NULL: its own)
    rubric_text: Mapped[str | None] = mapped_column(String(64))  # a texts.sha256 (no foreign key: see 0002)
    # HMAC of everything shown of the run (see signing.py); NULL for runs stored before signing
    signature: Mapped[str | None] = mapped_column(Text)
    # the game this run scores (NULL: a run not played as a stored game); no foreign key, as for rubric_text
    game_id: Mapped[str | None] = mapped_column(String(64))
    # what the run is for (RUN_ORIGINS): only played games and learners' own plans count toward a grade
    origin: Mapped[str] = mapped_column(String(16), server_default="legacy")


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
    # incremented by every save: a save names the version it read (compare-and-set), see games.py
    version: Mapped[int] = mapped_column(Integer, server_default="0")
    # a practice game: its run is stored with origin "practice" and never graded
    practice: Mapped[bool] = mapped_column(Boolean, server_default=false())


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


# ---------------------------------------------------------------- accounts: settings, sign-in throttle, erasures


class _SettingRow(_Base):
    """Facts about the database itself, e.g. ``demo = "1"`` when ``scro-sim demo`` made it."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class _ThrottleRow(_Base):
    """Recent failed sign-ins of one account (``u:<name>``) or one client address (``c:<address>``)."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    next_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class _ErasureRow(_Base):
    """That a person's data was erased: the pseudonym their runs now carry (never their name)."""

    __tablename__ = "erasures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    pseudonym: Mapped[str] = mapped_column(String(64), unique=True)
    runs: Mapped[int] = mapped_column(Integer)
    erased_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- the feedback loop (0006_feedback): signed with the run


class _CommentRow(_Base):
    """An assessor's or lecturer's comment on a run: on a criterion, on a moment of the timeline, or both."""

    __tablename__ = "run_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    criterion_id: Mapped[str | None] = mapped_column(String(128))
    time_h: Mapped[float | None] = mapped_column(Float)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _AnswerRatingRow(_Base):
    """An assessor's rating of a learner's answer to a discussion question (whether or not a criterion reads it)."""

    __tablename__ = "answer_ratings"
    __table_args__ = (CheckConstraint("rating IN ('P', 'S', 'M', 'U')", name="rating"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    question_id: Mapped[str] = mapped_column(String(128))
    rating: Mapped[str] = mapped_column(String(1))
    comment: Mapped[str] = mapped_column(Text)
    assessor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _PlanItemRow(_Base):
    """One item of a run's improvement plan (after-action style): action, owner, due date, status."""

    __tablename__ = "plan_items"
    __table_args__ = (CheckConstraint("status IN ('open', 'in progress', 'done')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("runs.id"), index=True)
    action: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(200))
    due: Mapped[str] = mapped_column(String(10))  # an ISO date, YYYY-MM-DD (the same text on every backend)
    status: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


# ---------------------------------------------------------------- LTI 1.3: launches from course platforms (see scro_sim/lti)


class _LtiNonceRow(_Base):
    """An OIDC login the tool started: its ``state`` and the ``nonce`` the id_token must carry.

    Used once (``used_at``) and kept until it expires, so a replayed launch is told apart from
    an unknown one; every app server sees the same rows.
    """

    __tablename__ = "lti_nonces"

    state: Mapped[str] = mapped_column(String(128), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class _LtiTicketRow(_Base):
    """A single-use sign-in ticket handed from the launch endpoint to the app (the SHA-256 of its secret part)."""

    __tablename__ = "lti_tickets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    exercise: Mapped[str | None] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class _LtiAccountRow(_Base):
    """Which scro_sim user a platform's user (issuer + subject) is."""

    __tablename__ = "lti_accounts"
    __table_args__ = (UniqueConstraint("issuer", "subject", name="uq_lti_accounts_issuer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class _LtiLineItemRow(_Base):
    """Where a user's grade for one exercise goes: an AGS line item of one platform, and the last post's outcome."""

    __tablename__ = "lti_line_items"
    __table_args__ = (UniqueConstraint("user_id", "scenario_id", "lineitem", name="uq_lti_line_items_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    scenario_id: Mapped[str] = mapped_column(String(128))
    issuer: Mapped[str] = mapped_column(String(255))
    client_id: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    lineitem: Mapped[str] = mapped_column(Text)
    context_id: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # "sent", "failed: <why>", or NULL before the first post
    status: Mapped[str | None] = mapped_column(Text)


# ---------------------------------------------------------------- statements on their way to a Learning Record Store


class _LrsQueueRow(_Base):
    """An xAPI statement to send to the LRS (``scro_sim/lrs.py``): kept until the LRS accepted it."""

    __tablename__ = "lrs_queue"

    statement_id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the statement's own (stable) id
    statement: Mapped[str] = mapped_column(Text)  # canonical JSON
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending | sent | rejected
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    next_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
