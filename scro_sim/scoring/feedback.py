"""Feedback that credits only what the learner did: a rating's text variants chosen on the event log.

A rubric criterion's feedback for a rating is one text, or a list of variants each with a
condition on the run's log (``did``, ``did_not``, ``any``, ``all``; see
:class:`~scro_sim.scenario.FeedbackCondition`) and a fallback last.  :func:`feedback_text`
shows the first variant whose condition holds.  The conditions read the log's ``decision``
records (what the learner decided, and when) and ``action`` records (the decided action's
effect), never the engine, so a stored log is re-graded to the same words.
"""

from __future__ import annotations

from typing import Any

from ..log import EventLog
from ..scenario import ActionDone, Feedback, FeedbackCondition, text_in

__all__ = ["LogFacts", "feedback_text", "holds"]


class LogFacts:
    """The decided actions and their effects in one run's log, read once and only when a condition asks."""

    def __init__(self, log: EventLog) -> None:
        self._log = log
        self._decided: list[tuple[float, dict[str, Any]]] | None = None
        self._effects: list[tuple[float, str, str, dict[str, Any]]] | None = None

    @property
    def decided(self) -> list[tuple[float, dict[str, Any]]]:
        """Every action of every decision record, with the hour it was decided, in log order."""
        if self._decided is None:
            self._decided = [(r.time, a) for r in self._log.of_kind("decision")
                             for a in r.data.get("actions", ()) if isinstance(a, dict)]
        return self._decided

    @property
    def effects(self) -> list[tuple[float, str, str, dict[str, Any]]]:
        """Every ``action`` record (an action's effect): hour, action, subject, data."""
        if self._effects is None:
            self._effects = [(r.time, str(r.data.get("action", "")), r.subject, r.data)
                             for r in self._log.of_kind("action")]
        return self._effects

    def did(self, m: ActionDone) -> bool:
        """Whether the learner decided the action ``m`` describes (and, if asked, it took effect)."""
        return any(m.matches(a, t) and (not m.took_effect or self._took_effect(t, a)) for t, a in self.decided)

    def _took_effect(self, t: float, a: dict[str, Any]) -> bool:
        # the engine writes an action's effect with its target (or its name) as the subject, and
        # ``effective: false`` when it came too late to work
        subject = a.get("target") or a.get("action")
        return any(et >= t and name == a.get("action") and subj == subject and data.get("effective", True) is not False
                   for et, name, subj, data in self.effects)


def holds(c: FeedbackCondition, facts: LogFacts) -> bool:
    """Whether condition ``c`` holds on the log behind ``facts``."""
    if c.did is not None:
        return facts.did(c.did)
    if c.did_not is not None:
        return not facts.did(c.did_not)
    if c.any is not None:
        return any(holds(x, facts) for x in c.any)
    assert c.all is not None
    return all(holds(x, facts) for x in c.all)


def feedback_text(entry: Feedback, facts: LogFacts, lang: str = "en") -> str:
    """The text a rating's feedback shows on this run: the text itself, or the first variant whose
    condition holds (the last variant, the fallback, when none does)."""
    if not isinstance(entry, tuple):
        return text_in(entry, lang)
    for v in entry:
        if v.when is None or holds(v.when, facts):
            return text_in(v.text, lang)
    return text_in(entry[-1].text, lang)  # a list without a fallback (refused when a scenario loads)
