"""A learner's path through the exercise library: easiest first, what is done and what is next.

The order is the guided exercises first (they teach the screen), then by level (beginner,
intermediate, advanced), then by length, then by id.  Each exercise's state for one learner
comes from the store: their graded runs (``played`` and ``plan``: practice never passes an
exercise) and their graded games in progress; finished practice games are counted apart.
The first exercise not passed yet is the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from .store import GRADED_ORIGINS, Store

__all__ = ["LEVELS", "STATES", "Exercise", "PathStep", "learning_path", "path_order"]

#: the levels in the order a learner meets them
LEVELS: tuple[str, ...] = ("beginner", "intermediate", "advanced")
#: what an exercise can be for a learner
STATES: tuple[str, ...] = ("not_started", "in_progress", "attempted", "passed")
State = Literal["not_started", "in_progress", "attempted", "passed"]


@dataclass(frozen=True)
class Exercise:
    """What the path needs to know of an exercise; ``key`` is the front end's own handle for it."""

    id: str
    level: str
    minutes: int
    guided: bool = False
    key: str = ""


@dataclass(frozen=True)
class PathStep:
    """One exercise on a learner's path: its state, their best graded score, how often they practised it."""

    exercise: Exercise
    state: State
    best: float | None = None  # best total of their graded runs (None: none yet)
    practised: int = 0  # finished practice games
    next: bool = False  # the first exercise not passed yet


def _rank(e: Exercise) -> tuple[int, int, int, str]:
    level = LEVELS.index(e.level) if e.level in LEVELS else len(LEVELS)
    return (0 if e.guided else 1, level, int(e.minutes), e.id)


def path_order(exercises: Iterable[Exercise]) -> list[Exercise]:
    """The exercises easiest first: guided, then by level, then shortest, then by id."""
    return sorted(exercises, key=_rank)


def learning_path(store: Store, learner: str, exercises: Sequence[Exercise]) -> list[PathStep]:
    """``learner``'s state in each exercise, in :func:`path_order`, the first not passed marked ``next``."""
    best: dict[str, float] = {}
    passed: set[str] = set()
    for r in store.list_runs(learner=learner, origins=GRADED_ORIGINS):
        best[r.scenario_id] = max(best.get(r.scenario_id, r.total), r.total)
        if r.passed:
            passed.add(r.scenario_id)
    practised: dict[str, int] = {}
    for r in store.list_runs(learner=learner, origins=("practice",)):
        practised[r.scenario_id] = practised.get(r.scenario_id, 0) + 1
    playing = {g.scenario_id for g in store.list_games(learner, status="playing") if not g.practice}
    out: list[PathStep] = []
    found_next = False
    for e in path_order(exercises):
        state: State
        if e.id in passed:
            state = "passed"
        elif e.id in playing:
            state = "in_progress"
        elif e.id in best:
            state = "attempted"
        else:
            state = "not_started"
        is_next = state != "passed" and not found_next
        found_next = found_next or is_next
        out.append(PathStep(e, state, best.get(e.id), practised.get(e.id, 0), is_next))
    return out
