"""A guided exercise's coach texts, step by step, for whichever front end shows the game.

A scenario's ``guide:`` (scenarios/README.md, "A guided exercise") lists steps, each a short
text pointing at one part of the Play page (its ``focus``), shown at a decision point, where
an inject arrives, or with the score at the end.  :func:`notes_now` picks the steps of the
moment a game stands at, in the reader's language, numbered as the learner meets them
("step 3 of 11"); the app only places each next to the part of the screen it names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .scenario import Scenario, text_in

__all__ = ["CoachNote", "is_guided", "notes_at_end", "notes_now"]

_EPS = 1e-6


@dataclass(frozen=True)
class CoachNote:
    """One step of the guide as the reader sees it: where it points, its text, its place in the guide."""

    id: str
    focus: str
    text: str
    number: int  # 1-based, in the guide's order
    total: int


def is_guided(scenario: Scenario) -> bool:
    """Whether the scenario is a guided exercise (it has a guide)."""
    return bool(scenario.guide)


def _note(scenario: Scenario, i: int, lang: str) -> CoachNote:
    step = scenario.guide[i]
    return CoachNote(step.id, step.focus, text_in(step.text, lang), i + 1, len(scenario.guide))


def notes_now(scenario: Scenario, time_h: float, injects: Iterable[str] = (), lang: str = "en") -> list[CoachNote]:
    """The steps shown at the decision point at ``time_h``, where ``injects`` (their ids) arrived, in ``lang``."""
    arrived = set(injects)
    return [_note(scenario, i, lang) for i, s in enumerate(scenario.guide)
            if (s.at_h is not None and abs(s.at_h - time_h) < _EPS) or (s.at_inject is not None and s.at_inject in arrived)]


def notes_at_end(scenario: Scenario, lang: str = "en") -> list[CoachNote]:
    """The steps shown with the score, once the exercise is over."""
    return [_note(scenario, i, lang) for i, s in enumerate(scenario.guide) if s.at_end]
