"""The feedback loop on a run, for the app and the command line: the answer sheet an assessor rates,
and everything the learner reads back (comments, answer ratings, the improvement plan).

A discussion question's answer is rated where it counts: when a judged criterion of the
rubric reads it (``evidence: answer:<question>``) the rating is that criterion's judgement,
which re-grades the run; every other answer gets an answer rating (``Store.rate_answer``),
feedback that never changes the score.  Either way every answer is ratable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .assessment import judge, scenario_from_text
from .errors import StoreError
from .scenario import Scenario, text_in
from .scoring import ScoreCard
from .store import AnswerRating, Comment, PlanItem, Store, StoredRun

__all__ = ["AnswerRow", "RunFeedback", "answer_sheet", "rate_answer", "run_feedback"]


@dataclass(frozen=True)
class AnswerRow:
    """One discussion question of a run beside the learner's answers, its guidance and its current rating."""

    question_id: str
    question: str
    guidance: str  # the assessor's guidance for the question ("" when the scenario gives none)
    answers: tuple[tuple[float, str], ...]  # (hour, text) of each decision that answered it
    criterion_id: str | None  # the judged criterion that reads this answer, if any
    rating: str | None
    comment: str
    by: str


@dataclass(frozen=True)
class RunFeedback:
    """What assessors and lecturers wrote on a run, and its improvement plan."""

    comments: tuple[Comment, ...]
    answer_ratings: tuple[AnswerRating, ...]  # the newest per question
    plan: tuple[PlanItem, ...]

    @property
    def by_criterion(self) -> dict[str, list[Comment]]:
        """Comments on a criterion, by criterion id."""
        out: dict[str, list[Comment]] = {}
        for c in self.comments:
            if c.criterion_id is not None:
                out.setdefault(c.criterion_id, []).append(c)
        return out

    @property
    def on_timeline(self) -> list[Comment]:
        """Comments on a moment of the timeline, in time order."""
        return sorted((c for c in self.comments if c.time_h is not None), key=lambda c: (c.time_h, c.id))


def run_feedback(store: Store, run_id: str) -> RunFeedback:
    """A run's comments, current answer ratings and improvement plan."""
    return RunFeedback(tuple(store.comments(run_id)), tuple(store.answer_ratings(run_id)),
                       tuple(store.plan_items(run_id)))


def _criterion_of(scenario: Scenario, question_id: str) -> str | None:
    return next((c.id for c in scenario.rubric.criteria
                 if c.kind == "judged" and c.evidence == f"answer:{question_id}"), None)


def answer_sheet(scenario: Scenario, run: StoredRun, card: ScoreCard, ratings: list[AnswerRating] | tuple[AnswerRating, ...],
                 lang: str = "en") -> list[AnswerRow]:
    """Every discussion question of the scenario with the learner's answers, the guidance in ``lang`` and its rating
    (the criterion's when a judged criterion reads it, else the newest answer rating), in the scenario's order."""
    answers: dict[str, list[tuple[float, str]]] = {}
    for d in run.decisions:
        for qid, text in (d.get("answers") or {}).items():
            if isinstance(text, str) and text.strip():
                answers.setdefault(str(qid), []).append((float(d.get("time_h", 0) or 0), text))
    lines = {c.id: c for c in card.criteria}
    rated = {r.question_id: r for r in ratings}
    rows = []
    for q in scenario.questions:
        crit = _criterion_of(scenario, q.id)
        line = lines.get(crit) if crit else None
        r = rated.get(q.id)
        rating, comment, by = ((line.rating if line.status in ("judged", "overridden") else None), line.comment, line.by) \
            if line is not None else ((r.rating, r.comment, r.assessor) if r is not None else (None, "", ""))
        rows.append(AnswerRow(q.id, text_in(q.text, lang), text_in(q.guidance, lang) if q.guidance is not None else "",
                              tuple(answers.get(q.id, ())), crit, rating, comment, by))
    return rows


def rate_answer(store: Store, run_id: str, question_id: str, rating: str, comment: str, assessor: str) -> Any:
    """Rate the learner's answer to ``question_id``: the judged criterion that reads it (re-grading the run and
    returning the new score card), or an answer rating (returned) when no criterion does."""
    run = store.get_run(run_id)
    if run is None:
        raise StoreError(f"unknown run {run_id!r}", field="run_id")
    scenario, _city = scenario_from_text(run.rubric_yaml or run.scenario_yaml, f"<run {run_id} scenario>")
    if question_id not in {q.id for q in scenario.questions}:
        raise StoreError(f"no question {question_id!r} in this run's scenario (questions: "
                         f"{', '.join(q.id for q in scenario.questions) or 'none'})", field="question_id")
    crit = _criterion_of(scenario, question_id)
    if crit is not None:
        return judge(store, run_id, crit, rating, comment, assessor)
    return store.rate_answer(run_id, question_id, rating, comment, assessor)
