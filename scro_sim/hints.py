"""Hints for a practice game: at a decision point, what is asked of the learner and what the expert did.

A practice game (never graded) may show, at each decision point:

- every expected action the messages asked for that is still open (asked, not yet met, its
  deadline not yet passed), in the scenario's own words and the reader's language;
- the expert plan's steps on the very same seed, decided by now, that the learner has not
  taken (the debrief's notion of the same step), named as the decision form names them.

Everything is read from the two event logs and the scenario (never the engine's insides), so
the hints of a moment are the same whenever they are asked for.  Graded games never call this:
the front ends show hints only when ``practice`` is set (scro_sim/game.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from . import formatting as fmt
from .debrief import expert_log, expert_steps_not_taken
from .i18n import translator
from .log import EventLog
from .names import Names
from .scenario import Scenario, text_in
from .vocabulary import N_

if TYPE_CHECKING:  # pragma: no cover
    from .city import City

__all__ = ["Hint", "practice_hints"]

_EPS = 1e-9
#: at most this many of the expert's steps are named at one point (the earliest)
MAX_EXPERT_STEPS = 3

H_ASKED = N_("Asked of you, by {clock}: {task}")
H_EXPERT = N_("In this same situation the expert plan had done this by {clock}: {action}")


@dataclass(frozen=True)
class Hint:
    """One hint, in the reader's language: ``asked`` (an open expected action) or ``expert`` (a step of its plan)."""

    kind: Literal["asked", "expert"]
    text: str


def _open_expected(log: EventLog, now_h: float) -> list[tuple[str, float]]:
    """(expected action id, due hour) of every expected action asked for and still open at ``now_h``."""
    due: dict[str, float] = {}
    closed: set[str] = set()
    for r in log.of_kind("expected"):
        status = r.data.get("status")
        if status == "due":
            due.setdefault(r.subject, float(r.data.get("due_h", r.time)))
        elif status in ("met", "missed"):
            closed.add(r.subject)
    return [(ea, h) for ea, h in due.items() if ea not in closed and h >= now_h - _EPS]


def practice_hints(scenario: Scenario, city: City, seed: int, learner: EventLog, now_h: float,
                   lang: str = "en") -> list[Hint]:
    """The hints at the decision point at ``now_h`` of a practice game on ``seed`` whose log so far is ``learner``."""
    _ = translator(lang)
    out: list[Hint] = []
    expected = {ea.id: ea for inj in scenario.msel for ea in inj.expected_actions}
    asked = [(expected[ea], due_h) for ea, due_h in _open_expected(learner, now_h) if ea in expected]
    for ea, due_h in asked:
        text = ea.description
        if text is not None:
            out.append(Hint("asked", _(H_ASKED).format(clock=fmt.clock(scenario.start, due_h, lang),
                                                       task=text_in(text, lang).strip())))
    expert = expert_log(scenario, city, seed)
    if expert is not None:
        names = Names(city, scenario, lang, _)
        said = {ea.action for ea, _due in asked if ea.description is not None}  # told already, in the message's words
        steps = [a for a in expert_steps_not_taken(learner, expert, now_h) if a.get("action") not in said]
        for a in steps[:MAX_EXPERT_STEPS]:
            out.append(Hint("expert", _(H_EXPERT).format(clock=fmt.clock(scenario.start, float(a["time_h"]), lang),
                                                         action=names.action_text(a))))
    return out
