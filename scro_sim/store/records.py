"""The plain frozen records the store returns, so callers never hold a session or an ORM row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    pass
from .signing import SignatureCheck
from .tables import (
    _BatchRow,
    _CohortRow,
    _GameRow,
    _ReplicationRow,
    _UserRow,
)

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
    game_id: str | None = None  # the stored game this run scores: at most one run per game
    #: what the run is for (RUN_ORIGINS); only "played" and "plan" count toward a grade
    origin: str = "cli"


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
    origin: str  # what the run is for (RUN_ORIGINS); only GRADED_ORIGINS count toward a grade
    started_at: datetime
    finished_at: datetime
    created_at: datetime


@dataclass(frozen=True, slots=True)
class GradebookEntry:
    """What a gradebook export needs of one run: no log, no decisions."""

    summary: RunSummary
    scorecard: dict[str, Any]
    scenario_yaml: str  # shared by every entry of the same scenario text
    revised_at: tuple[datetime, ...]  # when each earlier scorecard was replaced, oldest first


@dataclass(frozen=True, slots=True)
class StoredRun(RunSummary):
    """A saved run with everything needed to verify it by re-simulation: its summary plus texts, log, decisions."""

    scenario_yaml: str
    decisions: list[dict[str, Any]]
    plan_yaml: str | None
    log_jsonl: str
    scorecard: dict[str, Any]
    rubric_yaml: str | None = None  # the revised scenario whose rubric graded the card (None: its own)
    game_id: str | None = None  # the stored game this run scores (None: not played as a stored game)


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
class RunEvidence:
    """Everything stored about a run, read leniently, for verification: what could not be read is a problem.

    ``run`` is None when a column is unreadable (``problems`` says which); ``signature`` is the
    check of the run's signature against the server's keys (None when it could not be made).
    """

    run_id: str
    run: StoredRun | None
    judgements: tuple[Judgement, ...]  # all of them, in the order made
    overrides: tuple[Override, ...]
    history: tuple[ScorecardRevision, ...]
    problems: tuple[str, ...]
    signature: SignatureCheck | None
    signed_digest: str  # sha256 of the signed fields (to re-sign exactly what was verified)


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
    version: int = 0  # how many times it was saved: the next save names it (optimistic concurrency)
    practice: bool = False  # a practice game: its run is never graded


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
        int(row.version or 0),
        bool(row.practice),
    )


def _batch(row: _BatchRow) -> Batch:
    return Batch(row.id, row.scenario_hash, row.plan_hash, row.n, row.seed, row.meta, row.created_at)


def _replication(row: _ReplicationRow) -> Replication:
    return Replication(row.batch_id, row.idx, row.status, row.result, row.error, row.attempts, row.updated_at)


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on a run by an assessor or lecturer: on a criterion, a moment of the timeline (hours), or both."""

    id: int
    run_id: str
    criterion_id: str | None
    time_h: float | None
    text: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AnswerRating:
    """An assessor's rating (P/S/M/U) of a learner's answer to a discussion question."""

    id: int
    run_id: str
    question_id: str
    rating: str
    comment: str
    assessor: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One item of a run's improvement plan: what to do, who owns it, by when, and how far it is."""

    id: int
    run_id: str
    action: str
    owner: str
    due: str  # ISO date YYYY-MM-DD
    status: str  # PLAN_STATUSES
    created_by: str
    updated_by: str
    created_at: datetime
    updated_at: datetime
