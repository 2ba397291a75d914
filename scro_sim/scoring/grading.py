"""Grading: HSEEP ratings of a rubric's criteria against the catalogue's metrics, as a ScoreCard.

Computed criteria read their value and linked records from :class:`~.metrics.Metrics`;
judged criteria show the assessor the evidence in the log and wait for a judgement.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field

from ..log import EventLog, EventRecord
from ..scenario import RATINGS, Criterion, Rubric, Scenario, scenario_course, text_in
from .feedback import LogFacts, feedback_text
from .metrics import Metrics, compute_metrics, metric_value, relative_applies

__all__ = ["CriterionResult", "ModuleEvidence", "ScoreCard", "awaiting", "evidence", "grade", "rate", "records_by_seq",
           "total_range"]


def rate(value: float | None, c: Criterion) -> str:
    """HSEEP rating of a computed criterion's value against its thresholds (missing value: U)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or c.thresholds is None:
        return "U"
    t = c.thresholds
    if c.lower_is_better:
        return "P" if value <= t.P else "S" if value <= t.S else "M" if value <= t.M else "U"
    return "P" if value >= t.P else "S" if value >= t.S else "M" if value >= t.M else "U"


class CriterionResult(BaseModel):
    id: str
    title: str
    kind: Literal["computed", "judged"]
    metric: str | None = None
    value: float | None = None
    rating: Literal["P", "S", "M", "U"] | None = None
    computed_rating: Literal["P", "S", "M", "U"] | None = None
    status: Literal["rated", "awaiting judgement", "judged", "overridden", "not applicable"]
    points: float = 0.0
    weight: float
    feedback: str = ""
    outcome: str
    outcome_text: str = ""
    module: str
    events: list[int] = Field(default_factory=list)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    guidance: dict[str, str] = Field(default_factory=dict)
    comment: str = ""
    by: str = ""


class ModuleEvidence(BaseModel):
    module: str
    outcomes: list[str]
    criteria: list[str]
    score: float | None
    provisional: bool


class ScoreCard(BaseModel):
    """A graded run: per criterion, per module, and in total."""

    scenario: str
    scenario_version: str
    lang: str
    criteria: list[CriterionResult]
    modules: list[ModuleEvidence]
    total: float
    pass_mark: float
    passed: bool
    provisional: bool
    metrics: dict[str, float | None]
    log_digest: str


def evidence(log: EventLog, what: str) -> list[dict[str, Any]]:
    """What an assessor reads for a judged criterion: warnings, rationales, or answers to a question."""
    out: list[dict[str, Any]] = []
    for r in log.of_kind("decision"):
        if what == "warnings":
            for a in r.data.get("actions", []):
                if a.get("action") == "warn_public":
                    out.append({"seq": r.seq, "time_h": r.time, "target": a.get("target", "all"),
                                "text": a.get("message", "")})
        elif what == "rationales":
            if r.data.get("rationale"):
                out.append({"seq": r.seq, "time_h": r.time, "text": r.data["rationale"],
                            "actions": [a.get("action") for a in r.data.get("actions", [])]})
        elif what.startswith("answer:"):
            q = what[len("answer:"):]
            ans = (r.data.get("answers") or {}).get(q)
            if ans:
                out.append({"seq": r.seq, "time_h": r.time, "question": q, "text": ans})
    return out


def grade(log: EventLog, rubric: Rubric | Scenario, *, lang: str = "en",
          judgements: Mapping[str, Mapping[str, Any]] | None = None,
          overrides: Mapping[str, Mapping[str, Any]] | None = None,
          reference: Mapping[str, Metrics] | None = None, metrics: Metrics | None = None,
          digest: bool = True, flat_metrics: bool = True) -> ScoreCard:
    """Grade a run's log against a rubric (pass the scenario to get outcome texts and modules).

    ``judgements`` and ``overrides`` map criterion id to ``{"rating", "comment", "by"}``;
    an override wins over both the computed rating and a judgement, and the computed
    rating stays on the card.  ``reference`` holds the baseline's and expert's metrics on
    the same seed, for ``relative.*`` metrics; ``metrics`` may pass this log's own metrics
    when the caller has them already (batches do).  ``digest=False`` leaves ``log_digest``
    empty: a batch replication that keeps only the score and metrics skips writing the
    whole log out canonically (a quarter of its time at 5,000 assets).  ``flat_metrics=False``
    leaves the card's ``metrics`` empty: a batch that passed ``metrics`` takes from them only
    the values its rows keep, instead of a copy of hundreds of per-asset downtimes.
    """
    scenario = rubric if isinstance(rubric, Scenario) else None
    rb = scenario.rubric if scenario is not None else rubric
    assert isinstance(rb, Rubric)
    outcomes = {lo.id: lo for lo in scenario.learning_outcomes} if scenario else {}
    course = scenario_course(scenario) if scenario else None
    m = metrics if metrics is not None else compute_metrics(log)
    judgements = judgements or {}
    overrides = overrides or {}
    facts = LogFacts(log)  # the decisions are read from the log only if a rating's feedback asks
    lines: list[CriterionResult] = []
    for c in rb.criteria:
        lo = outcomes.get(c.outcome)
        ref = course.outcome(c.outcome) if lo is None and course is not None else None
        # a course outcome: only its id and its module's go on the card (titles are looked up when shown)
        module = lo.module if lo is not None else ref.module.id if ref is not None else ""
        base = {"id": c.id, "title": text_in(c.title, lang), "kind": c.kind, "weight": c.weight,
                "outcome": c.outcome, "outcome_text": text_in(lo.text, lang) if lo else "", "module": module}
        if c.kind == "computed":
            assert c.metric is not None
            key = c.metric[len("relative."):] if c.metric.startswith("relative.") else c.metric
            if key.startswith("timeliness.") and key[len("timeliness."):] not in m.timeliness:
                # its inject never arrived in this run: nothing was asked, so nothing is judged
                lines.append(CriterionResult(**base, metric=c.metric, status="not applicable"))
                continue
            values = c.loss_values.given() if c.loss_values is not None else None
            if not relative_applies(c.metric, reference, min_gain=c.min_gain, values=values):
                # the expert could not beat the utilities on their own by more than the noise on
                # this seed: luck would decide, so the criterion is not judged (never a free pass)
                lines.append(CriterionResult(**base, metric=c.metric, status="not applicable",
                                             events=m.links.get(key, [])))
                continue
            value = metric_value(m, c.metric, reference, values)
            rating: str | None = rate(value, c)
            line = CriterionResult(**base, metric=c.metric, value=value, rating=rating, computed_rating=rating,
                                   status="rated", events=m.links.get(key, []))
        else:
            assert c.evidence is not None and c.guidance is not None
            ev = evidence(log, c.evidence)
            j = judgements.get(c.id)
            rating = str(j["rating"]) if j else None
            line = CriterionResult(**base, metric=None, value=None, rating=rating,  # type: ignore[arg-type]
                                   status="judged" if j else "awaiting judgement",
                                   events=[e["seq"] for e in ev], evidence=ev,
                                   guidance={k: text_in(getattr(c.guidance, k), lang) for k in RATINGS},
                                   comment=str(j.get("comment", "")) if j else "", by=str(j.get("by", "")) if j else "")
        o = overrides.get(c.id)
        if o:
            line.rating = o["rating"]
            line.status = "overridden"
            line.comment = str(o.get("comment", ""))
            line.by = str(o.get("by", ""))
        if line.rating is not None:
            line.points = round(c.weight * rb.points[line.rating], 9)
            line.feedback = feedback_text(getattr(c.feedback, line.rating), facts, lang)
        lines.append(line)
    rated = [ln for ln in lines if ln.rating is not None]
    provisional = any(ln.rating is None and ln.status != "not applicable" for ln in lines)
    total = _percent(rated)
    modules: list[ModuleEvidence] = []
    for mod in sorted({ln.module for ln in lines}):
        mine = [ln for ln in lines if ln.module == mod]
        modules.append(ModuleEvidence(
            module=mod, outcomes=sorted({ln.outcome for ln in mine}), criteria=[ln.id for ln in mine],
            score=_percent([ln for ln in mine if ln.rating is not None]) if any(ln.rating for ln in mine) else None,
            provisional=any(ln.rating is None and ln.status != "not applicable" for ln in mine)))
    return ScoreCard(
        scenario=scenario.id if scenario else "", scenario_version=scenario.version if scenario else "", lang=lang,
        criteria=lines, modules=modules, total=total, pass_mark=rb.pass_mark, passed=total >= rb.pass_mark,
        provisional=provisional, metrics=m.flat() if flat_metrics else {}, log_digest=log.digest() if digest else "",
    )


def awaiting(card: ScoreCard) -> list[CriterionResult]:
    """The criteria of a provisional card still waiting for an assessor's rating, in rubric order."""
    return [ln for ln in card.criteria if ln.rating is None and ln.status != "not applicable"]


def total_range(card: ScoreCard, points: Mapping[str, float] | Rubric) -> tuple[float, float]:
    """The lowest and highest total a card can still reach once every open criterion is rated.

    A provisional total counts only the rated criteria; each open one may still get any rating,
    worth ``points[rating]`` times its weight (``points``: the rubric's table, or the rubric).
    A card with nothing open gives ``(total, total)``.
    """
    table = points.points if isinstance(points, Rubric) else points
    open_ = awaiting(card)
    if not open_:
        return card.total, card.total
    rated = [ln for ln in card.criteria if ln.rating is not None]
    got = math.fsum(ln.points for ln in rated)
    w = math.fsum(ln.weight for ln in rated) + math.fsum(ln.weight for ln in open_)
    if w <= 0:
        return card.total, card.total
    lo_pt, hi_pt = min(table.values()), max(table.values())
    lo = 100.0 * (got + math.fsum(ln.weight * lo_pt for ln in open_)) / w
    hi = 100.0 * (got + math.fsum(ln.weight * hi_pt for ln in open_)) / w
    return round(lo, 6), round(hi, 6)


def _percent(lines: Iterable[CriterionResult]) -> float:
    lines = list(lines)
    w = math.fsum(ln.weight for ln in lines)
    if w <= 0:
        return 0.0
    return round(100.0 * math.fsum(ln.points for ln in lines) / w, 6)


def records_by_seq(log: EventLog, seqs: Iterable[int]) -> list[EventRecord]:
    """The records with these sequence numbers (what a score-card line links to)."""
    return [log[s] for s in sorted(set(seqs)) if 0 <= s < len(log)]
