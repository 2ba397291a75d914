"""Constants and small records shared by the engine's parts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import simpy

ENGINE_VERSION = "0.1.0"

UP, BACKUP, DOWN = 0, 1, 2
_BLOCKING = ("damage", "flooded", "cyber")  # causes an asset has itself, not through its suppliers
_STATE_NAME = ("up", "backup", "down")
_EPS = 1e-9


def _finite_delay(d: float, what: str) -> float:
    # simpy accepts a NaN delay and its clock then runs backwards: refuse before it gets there.
    if not math.isfinite(d) or d < 0:
        raise ValueError(f"{what}: delay must be a finite, non-negative number of hours, got {d!r}")
    return float(d)


class _LateTimeout(simpy.events.Event):
    """A timeout processed after every ordinary event due at the same time.

    Decision points use it so that a stop at hour t sees everything that happens at t,
    and a replay stops at exactly the same place in the event sequence as the original.
    """

    def __init__(self, env: simpy.Environment, delay: float) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, priority=2, delay=delay)


@dataclass
class Crew:
    """One repair crew: where it is and what it does."""

    id: str
    team: str
    skills: tuple[str, ...]
    node: int
    state: str = "idle"
    task: int | None = None
    wake: Any = None
    busy_until: float = 0.0
    standby: int | None = None  # pre-positioned at this asset, ready to repair it


@dataclass
class _Expected:
    id: str
    action: str
    targets: tuple[str, ...]
    due: float
    inject: str
    contingency: str | None
    only_after: bool = False
    met: bool = False


@dataclass
class _Pending:
    """Things the next observation reports."""

    injects: list[dict[str, Any]] = field(default_factory=list)
    questions: list[dict[str, Any]] = field(default_factory=list)
