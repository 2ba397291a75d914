"""Constants the store's parts share."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # pragma: no cover
    pass


DEFAULT_URL = "sqlite:///var/scro_sim.sqlite"
ROLES: tuple[str, ...] = ("learner", "lecturer", "assessor", "admin")
#: Ratings of judged criteria (HSEEP): Performed without challenges, with Some challenges,
#: with Major challenges, Unable to be performed.
RATINGS: tuple[str, ...] = ("P", "S", "M", "U")
RUN_SOURCES: tuple[str, ...] = ("play", "plan", "cli")
#: What a stored run is for: ``played`` (a game in the app or ``scro-sim play``), ``plan`` (the
#: learner's own plan, submitted as theirs), ``practice`` (a game never graded), ``reference``
#: (the expert plan), ``baseline`` (a baseline policy), ``cli`` (anything else run from the
#: command line) and ``legacy`` (stored before origins were recorded and not from a game).
RUN_ORIGINS: tuple[str, ...] = ("played", "plan", "practice", "reference", "baseline", "cli", "legacy")
#: The origins whose runs count toward a learner's grade; every other run is never exported.
GRADED_ORIGINS: tuple[str, ...] = ("played", "plan")
GAME_STATUSES: tuple[str, ...] = ("playing", "finished", "abandoned")
REPLICATION_STATUSES: tuple[str, ...] = ("pending", "running", "done", "failed")
#: A replication that failed this many times is not offered again by ``missing_replications``.
MAX_ATTEMPTS = 3

#: How far an improvement-plan item is (after-action reports track corrective actions to done).
PLAN_STATUSES: tuple[str, ...] = ("open", "in progress", "done")

_JUDGES = ("assessor", "admin")
#: who may comment on runs (a lecturer only on runs of the cohorts they belong to)
_COMMENTERS = ("assessor", "admin", "lecturer")
_PUBLISHERS = ("lecturer", "admin")
_NAME_RE = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
_LANG_RE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})?")
_BUSY_TIMEOUT_MS = 30_000
_MIGRATE_LOCK_KEY = 0x5C50_51A1  # PostgreSQL advisory lock id for schema migration
_MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
_PG_RETRY_STATES = {"40001", "40P01"}  # serialization failure, deadlock
_TRIES = 4

T = TypeVar("T")
