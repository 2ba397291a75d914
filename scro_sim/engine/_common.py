"""Constants and small records shared by the engine's parts."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import simpy

# 0.2.0: exposure of non-flood hazards, the heat cycle's clock, and flood damage drawn once at the crest
# (with bridges under water closed) changed what runs log; 0.3.0: taps refill after a dry spell, then a
# boil-water notice (water_refill, boil_water); 0.3.1: run_start's city_sha256 is the hash of the city file's
# text; 0.4.0: districts fed in shares (service records carry "share"), crews without orders follow the
# utility's own restoration order, flooded power and water plant is cleaned before it runs again, and runs
# fast-forward to the end of recovery (recovery_h)
# 0.5.0: inject records carry the inject's id, channel and flags, not its words (sender and text are looked up
# in the scenario in the reader's language), so a run logs the same bytes in every language
# 0.6.0: hidden truth: an attack's cause shows once revealed (cause_revealed records); the investigate and
# declare_incident actions
ENGINE_VERSION = "0.6.0"

UP, BACKUP, DOWN = 0, 1, 2
_BLOCKING = ("damage", "flooded", "cyber", "outage")  # causes an asset has itself, not through its suppliers
_STATE_NAME = ("up", "backup", "down")
_EPS = 1e-9
#: damage code (the ``damage`` array) -> its name: 1 and 2 are the two-state scale every default curve
#: uses, 3..6 the HAZUS states a scenario or city may use instead
_DAMAGE_NAME = ("none", "degraded", "failed", "slight", "moderate", "extensive", "complete")
_CODE = {name: k for k, name in enumerate(_DAMAGE_NAME)}
#: damage code -> severity: damage only ever gets worse, in this order
_SEVERITY = np.array([0, 2, 5, 1, 3, 4, 6], np.int8)
#: what holds an asset down (the cascade's ``_dn``): a damage code, or OUTAGE (a generic outage effect)
OUTAGE = 7
_DOWN_CAUSE = ("", "damage", "damage", "damage", "damage", "damage", "damage", "outage")
#: hazard kinds whose effect holds assets down apart from their damage (the cascade's own ``_dn``)
_HELD_BY_EFFECTS = ("outage", "degradation")


def _finite_delay(d: float, what: str) -> float:
    # simpy accepts a NaN delay and its clock then runs backwards: refuse before it gets there.
    if not math.isfinite(d) or d < 0:
        raise ValueError(f"{what}: delay must be a finite, non-negative number of hours, got {d!r}")
    return float(d)


def rounded(values: np.ndarray, ndigits: int) -> list[float]:
    """``[round(float(v), ndigits) for v in values]``, bit for bit, without a decimal conversion per value.

    ``round`` rounds the exact decimal value of each float, which costs about 0.6 us; the event
    log holds thousands of rounded numbers per run.  Scaling, ``rint`` and dividing back gives the
    same double unless the scaled value lies within rounding error of a half-integer (the
    product itself may then have rounded across it) or is too large to hold integers exactly:
    those few go through ``round``.
    """
    x = np.asarray(values, dtype=np.float64)
    if not 0 <= ndigits <= 15:
        return [round(v, ndigits) for v in x.tolist()]
    scale = 10.0 ** ndigits  # exact for these ndigits
    with np.errstate(invalid="ignore", over="ignore"):
        p = x * scale
        out = (np.rint(p) / scale).tolist()  # an exact integer over an exact power of ten: correctly rounded
        near_tie = np.abs(p - np.floor(p) - 0.5) <= 4 * np.abs(np.spacing(p))
        risky = near_tie | ~(np.abs(p) < 2.0**52)  # also NaN and the infinities
    for k in np.flatnonzero(risky).tolist():
        out[k] = round(float(x[k]), ndigits)
    return out


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
    by_priorities: bool = False  # its next task came from the learner's priority list


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
