"""One exception tree for scro_sim; every error can say where (file, line) and what (field).

Lecturers meet these errors, so ``str(err)`` is the one-line ``path:line: field: message``
form that editors and CI logs understand.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

__all__ = [
    "CityModelError",
    "CourseError",
    "DecisionError",
    "InputError",
    "PlanError",
    "Problem",
    "ScenarioError",
    "ScroSimError",
    "StoreError",
    "VerificationError",
    "WorkBudgetExceeded",
    "YamlError",
    "print_problems",
]


@dataclass(frozen=True, order=True)
class Problem:
    """One validation problem: where it is and what is wrong."""

    path: str = ""
    line: int | None = None
    field: str = ""
    message: str = ""

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        parts = [p for p in (where, self.field, self.message) if p]
        return ": ".join(parts)


class ScroSimError(Exception):
    """Base of every error scro_sim raises on purpose."""

    def __init__(
        self,
        message: str = "",
        *,
        path: str | None = None,
        line: int | None = None,
        field: str = "",
        problems: list[Problem] | None = None,
    ) -> None:
        if problems is None:
            problems = [Problem(path or "", line, field, message)] if message else []
        self.problems: list[Problem] = list(problems)
        self.path = path if path is not None else (self.problems[0].path if self.problems else None)
        self.line = line if line is not None else (self.problems[0].line if self.problems else None)
        self.field = field or (self.problems[0].field if self.problems else "")
        super().__init__("\n".join(str(p) for p in self.problems) or message)


class InputError(ScroSimError):
    """A file a person wrote is malformed or inconsistent."""


class YamlError(InputError):
    """The text is not acceptable YAML (syntax, duplicate keys, aliases, tags, size caps)."""


class ScenarioError(InputError):
    """A scenario file breaks the scenario language or does not fit its city."""


class CityModelError(InputError):
    """A city model file is malformed or inconsistent."""


class CourseError(InputError):
    """A course map (modules and learning outcomes) is malformed, or a scenario cites an outcome it lacks."""


class PlanError(InputError):
    """A response plan is malformed or does not fit its scenario."""


class DecisionError(ScroSimError):
    """A learner's action is not allowed now; the simulation state is unchanged."""


class StoreError(ScroSimError):
    """The database refused an operation (unknown run, bad credentials, conflict)."""


class VerificationError(ScroSimError):
    """A stored run could not be re-simulated at all (as opposed to differing)."""


class WorkBudgetExceeded(ScroSimError):
    """A run did more work than its budget allows and was stopped (a runaway scenario, never a hang).

    ``budget`` names what ran over ("records": event-log records, "steps": simulation steps),
    ``limit`` its size, ``time_h`` the simulated hour reached and ``scenario`` the scenario's id.
    """

    def __init__(self, budget: str, limit: int, *, time_h: float, duration_h: float, scenario: str,
                 path: str | None = None, detail: str = "") -> None:
        self.budget = budget
        self.limit = int(limit)
        self.time_h = float(time_h)
        self.scenario = scenario
        what = {"records": "event-log records", "steps": "simulation steps"}.get(budget, budget)
        because = f" ({detail})" if detail else ""
        super().__init__(
            f"scenario {scenario!r}: the run was stopped at hour {time_h:g} of {duration_h:g}: it needs more than "
            f"{self.limit:,} {what}, its work budget{because}; look for a huge count or a tiny step in the scenario",
            path=path, field="work budget")


def print_problems(exc: ScroSimError, stream: TextIO | None = None) -> None:
    """Write an error's problems, one ``path:line: field: message`` line each (to stderr by default)."""
    out = stream if stream is not None else sys.stderr
    for p in exc.problems or []:
        print(str(p), file=out)
    if not exc.problems:
        print(str(exc), file=out)
