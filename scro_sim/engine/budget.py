"""A run's work budget: the most event-log records and simulation steps one run may take.

A scenario is data, and a few characters of it (an aftershock count of a billion, say) can ask
the engine for more work than any exercise needs.  Every run therefore carries a :class:`WorkBudget`; the engine checks it between
slices of simulation steps (never per record) and stops a run that goes over with
:class:`~scro_sim.errors.WorkBudgetExceeded`, instead of hanging or filling memory.

The default grows with what legitimately makes work: the city (assets, districts, roads), the
crews, the MSEL, the hazards and the horizon, and is never below the floors.  Measured when it was
set: the bundled exercises on Riverton (do-nothing, greedy, expert) use at most 1.4 % of their
default records budget and 0.5 % of their steps budget; the 72 h synthetic flood on 50,500 assets
0.5 % and 0.03 %, and on 200,000 assets 0.3 % and 0.01 %.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from ..city import City
    from ..scenario import Scenario

__all__ = ["FLOOR_RECORDS", "FLOOR_STEPS", "RECORDS_PER_UNIT", "STEPS_PER_UNIT", "WorkBudget"]

#: Records and steps any run may take, however small its city (a few seconds of work, some tens of MB of log).
FLOOR_RECORDS = 50_000
FLOOR_STEPS = 200_000
#: Records and steps allowed per unit of size (see :meth:`WorkBudget.size_of`).
RECORDS_PER_UNIT = 10
STEPS_PER_UNIT = 20
#: The most steps a hazard takes in a day (its step is at least 0.05 h): time-driven work per hazard-day.
_STEPS_PER_DAY = 480


@dataclass(frozen=True)
class WorkBudget:
    """The most ``records`` (event-log records) and ``steps`` (simpy events processed) one run may take."""

    records: int
    steps: int

    def __post_init__(self) -> None:
        for name in ("records", "steps"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"work budget: {name} must be a positive integer, got {value!r}")

    @staticmethod
    def size_of(scenario: Scenario, city: City) -> int:
        """Units of legitimate work of a run: (city + crews + MSEL + a day of hazard steps) x hazards x days."""
        res = scenario.resources
        crews = sum(t.count for t in res.crews) + res.mutual_aid.crews * res.mutual_aid.max_requests
        msel = sum(1 + len(i.expected_actions) for i in scenario.msel)
        per_hazard_day = (city.n_assets + city.n_districts + len(city.edge_u) + crews + msel + len(scenario.questions)
                          + _STEPS_PER_DAY)
        days = math.ceil((scenario.duration_h + scenario.recovery_h) / 24.0)  # the recovery fast-forward too
        return per_hazard_day * max(1, len(scenario.hazards)) * max(1, days)

    @classmethod
    def for_run(cls, scenario: Scenario, city: City) -> WorkBudget:
        """The default budget of a run of ``scenario`` on ``city``: per-unit allowances over its size, or the floors."""
        units = cls.size_of(scenario, city)
        return cls(max(FLOOR_RECORDS, RECORDS_PER_UNIT * units), max(FLOOR_STEPS, STEPS_PER_UNIT * units))
