"""What the expert did differently: lessons from a learner's event log against the expert's on the same seed.

A debrief that teaches names the moment that mattered: "At 04:00 the expert sent a mobile
generator to the hospital; you did not, and the hospital was down 14 h (the expert's: 0 h)".
:func:`lessons` finds those moments as plain data, from the two logs, the scenario and the
score card only (never the engine's insides), so the same lessons come back from a stored
run whenever they are asked for:

- every MSEL expected action the learner missed or met late while the expert met it earlier;
- every computed criterion rated below P where the expert's run did better, with the
  expert's actions behind the difference that the learner did not take (or took later).

A lesson holds ids, hours, numbers and a message id with its parameters; :func:`render`
turns it into sentences in the reader's language (:mod:`scro_sim.i18n`), naming assets
and districts as the map does.  Nothing here credits an action the learner did not take:
"you did it" is only said with the learner's decision record to point at.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from . import formatting as fmt
from .engine.actions import REGISTRY as ACTIONS
from .i18n import translator
from .log import EventLog, EventRecord
from .scenario import Scenario, text_in
from .scoring import Metrics, ScoreCard, compute_metrics, lookup, metric_value
from .scoring import lower_is_better as metric_lower_is_better
from .vocabulary import N_, action_name, number

if TYPE_CHECKING:  # pragma: no cover
    from .city import City

__all__ = ["MESSAGES", "Lesson", "ModuleResult", "clock", "expert_log", "expert_steps_not_taken", "lessons",
           "module_results", "names", "render", "render_lesson", "why_not_applicable"]

_EPS = 1e-9
#: at most this many of the expert's actions are named per criterion (the earliest ones)
_PER_CRITERION = 3


#: why a criterion was left out of a run's total (shown in place of its feedback)
NOT_APPLICABLE_AGAINST_EXPERT = N_("Not judged in this run: on this seed even the expert plan could not do clearly "
                                   "better than the utilities on their own, so the result would show luck, not your "
                                   "decisions.")
NOT_APPLICABLE_NOT_ASKED = N_("Not judged in this run: the message that asks for this action never came.")


def why_not_applicable(line: Any, gettext: Callable[[str], str] | None = None) -> str:
    """In the reader's words, why a score-card line is "not applicable" ("" for any other line)."""
    if getattr(line, "status", "") != "not applicable":
        return ""
    _ = gettext or (lambda m: m)
    metric = getattr(line, "metric", None) or ""
    if metric.startswith("relative.") or metric == "value_for_money":
        return _(NOT_APPLICABLE_AGAINST_EXPERT)
    return _(NOT_APPLICABLE_NOT_ASKED)


def _bears_on(action: str) -> str:
    """What an action moves (its module's ``bears_on``): people, health, asset, order, recovery or none."""
    kind = ACTIONS.get(action)
    return kind.bears_on if kind is not None else "none"


# the sentences a lesson is made of; placeholders are the lesson's params (see render)
M_MISSED = N_("At {clock} (hour {hour}) the expert chose “{action}” for {target}; you did not.")
M_MISSED_NO_TARGET = N_("At {clock} (hour {hour}) the expert chose “{action}”; you did not.")
M_LATE_DEADLINE = N_("At {clock} (hour {hour}) the expert chose “{action}” for {target}; you did it at "
                     "{learner_clock}, {late} h after the deadline.")
M_LATE_DEADLINE_NO_TARGET = N_("At {clock} (hour {hour}) the expert chose “{action}”; you did it at "
                               "{learner_clock}, {late} h after the deadline.")
M_LATE_EXPERT = N_("At {clock} (hour {hour}) the expert chose “{action}” for {target}; you did it "
                   "{late} h later, at {learner_clock}.")
M_LATE_EXPERT_NO_TARGET = N_("At {clock} (hour {hour}) the expert chose “{action}”; you did it "
                             "{late} h later, at {learner_clock}.")
M_CRITERION = N_("“{criterion}” was rated {rating}: {value} in your run, {expert_value} in the expert's run "
                 "of the same events.")
M_EXPECTED = N_("Expected: {description}")
M_FOR_CRITERIA = N_("This counts for: {criteria}.")
E_DOWNTIME = N_("{target} was down {value} h in your run ({expert_value} h in the expert's).")
E_AT_RISK_DISTRICT = N_("{target}: {value} people at risk in your run ({expert_value} in the expert's).")
E_AT_RISK = N_("People at risk: {value} in your run ({expert_value} in the expert's).")
E_HEALTH = N_("Person-hours without health care: {value} in your run ({expert_value} in the expert's).")

MESSAGES: tuple[str, ...] = (M_MISSED, M_MISSED_NO_TARGET, M_LATE_DEADLINE, M_LATE_DEADLINE_NO_TARGET, M_LATE_EXPERT,
                             M_LATE_EXPERT_NO_TARGET, M_CRITERION, M_EXPECTED, M_FOR_CRITERIA, E_DOWNTIME,
                             E_AT_RISK_DISTRICT, E_AT_RISK, E_HEALTH)


class Lesson(BaseModel):
    """One thing the expert did differently, as data (no prose: :func:`render` writes the sentences)."""

    #: stable within a run: ``expected:<id>``, ``action:<action>:<target>:<hour>`` or ``criterion:<id>``
    id: str
    kind: Literal["missed", "late", "criterion"]
    #: hours after the start: when the expert acted (criterion lessons: the first event behind the value)
    time_h: float
    action: str | None = None
    #: the asset, district or road the expert's action named (``set_priorities``: the first of the order)
    target: str | None = None
    #: the MSEL expected action this is about, if any
    expected: str | None = None
    #: the rubric criteria this lesson explains (computed ones rated below P)
    criteria: list[str] = Field(default_factory=list)
    rating: str | None = None
    #: when the learner took the same action, for late ones
    learner_time_h: float | None = None
    #: hours late, against the deadline (``late_against="deadline"``) or the expert's hour
    late_h: float | None = None
    late_against: Literal["deadline", "expert"] | None = None
    #: what it changed: a metric name with the learner's and the expert's values
    metric: str | None = None
    learner_value: float | None = None
    expert_value: float | None = None
    #: sequence numbers of the records behind it, in the learner's log and in the expert's
    learner_events: list[int] = Field(default_factory=list)
    expert_events: list[int] = Field(default_factory=list)
    #: message ids (one of :data:`MESSAGES`) and their parameters: ids and numbers, never prose
    message: str
    effect_message: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)


# -- the expert's run on the same seed

_LOG_CACHE: dict[tuple[str, str, int], EventLog] = {}


def expert_log(scenario: Scenario, city: City, seed: int) -> EventLog | None:
    """The expert plan's event log on ``seed`` (None without an expert plan); cached per scenario, city and seed.

    The engine is deterministic, so this is the very run :func:`scro_sim.assessment.reference_metrics`
    grades against.
    """
    from .engine import Simulation
    from .policy import PlanPolicy

    expert = scenario.reference_plans.expert
    if expert is None:
        return None
    key = (scenario.source_sha256, city.content_hash(), int(seed))
    hit = _LOG_CACHE.get(key)
    if hit is None:
        hit = Simulation(scenario, city, int(seed), PlanPolicy(expert, "expert")).run()
        if len(_LOG_CACHE) >= 16:
            _LOG_CACHE.pop(next(iter(_LOG_CACHE)))
        _LOG_CACHE[key] = hit
    return hit


# -- reading the logs


class _Act:
    """One action of a decision record, with the record's time and sequence number."""

    __slots__ = ("action", "order", "seq", "target", "time")

    def __init__(self, time: float, seq: int, a: Mapping[str, Any]) -> None:
        self.time = time
        self.seq = seq
        self.action = str(a.get("action", ""))
        self.order = [str(x) for x in a.get("order") or ()]
        target = a.get("target")
        if _bears_on(self.action) == "order" and self.order:
            target = self.order[0]
        self.target: str | None = None if target is None else str(target)


def _actions(log: EventLog) -> list[_Act]:
    return [_Act(r.time, r.seq, a) for r in log.of_kind("decision") for a in r.data.get("actions", [])]


def _covers(mine: _Act, theirs: _Act) -> bool:
    """Whether the learner's action is the same step as the expert's (a warning to all covers any district)."""
    if mine.action != theirs.action:
        return False
    bears = _bears_on(mine.action)
    if bears == "people" and mine.target in (None, "all"):
        return True
    if bears == "order":
        return theirs.target in mine.order
    if bears == "recovery":
        return True
    return mine.target == theirs.target


def _learner_step(acts: list[_Act], theirs: _Act) -> _Act | None:
    """The learner's first action that is the same step as ``theirs``, if any."""
    return next((a for a in acts if _covers(a, theirs)), None)


def expert_steps_not_taken(learner: EventLog, expert: EventLog, until_h: float) -> list[dict[str, Any]]:
    """The expert's actions decided by hour ``until_h`` that the learner's log has no same step for, in order.

    "The same step" is the debrief's: the same action on the same target (a warning to all
    covers every district; a priority order, the asset it puts first).
    """
    mine = _actions(learner)
    out: list[dict[str, Any]] = []
    for r in expert.of_kind("decision"):
        if r.time > until_h + _EPS:
            break
        for a in r.data.get("actions", []):
            if _learner_step(mine, _Act(r.time, r.seq, a)) is None:
                out.append({"time_h": r.time, **a})
    return out


def _matches_expectation(a: _Act, action: str, targets: list[str]) -> bool:
    """The engine's rule for meeting an expected action, read back from a decision record."""
    if a.action != action:
        return False
    if not targets or (_bears_on(a.action) == "people" and a.target == "all"):
        return True
    return a.target in targets


def _expected(log: EventLog) -> dict[str, dict[str, EventRecord]]:
    """Per expected-action id: its ``due``, ``met`` and ``missed`` records (first of each)."""
    out: dict[str, dict[str, EventRecord]] = {}
    for r in log.of_kind("expected"):
        out.setdefault(r.subject, {}).setdefault(str(r.data.get("status")), r)
    return out


def _at_risk(log: EventLog, district: str) -> float:
    return math.fsum(float(r.data.get("at_risk", 0.0)) for r in log.of_kind("exposure") if r.subject == district)


def _effect(a: _Act, learner: EventLog, expert: EventLog, lm: Metrics, em: Metrics
            ) -> tuple[str, str, float, float] | None:
    """What the expert's action changed, as (metric, message id, learner value, expert value), if the learner fared worse."""
    bears = _bears_on(a.action)
    if bears == "people":
        if a.target in (None, "all"):
            out = ("people_at_risk", E_AT_RISK, lm.people_at_risk, em.people_at_risk)
        else:
            out = (f"people_at_risk.{a.target}", E_AT_RISK_DISTRICT, _at_risk(learner, a.target),
                   _at_risk(expert, a.target))
    elif bears == "health":
        out = ("resilience_loss.health", E_HEALTH, lm.resilience_loss.get("health", 0.0),
               em.resilience_loss.get("health", 0.0))
    elif a.target is not None and bears in ("asset", "order"):  # an order's first asset
        out = (f"downtime.{a.target}", E_DOWNTIME, lm.downtime.get(a.target, 0.0), em.downtime.get(a.target, 0.0))
    else:
        return None
    return out if out[2] > out[3] + _EPS else None


def _worse(learner: float | None, expert: float | None, lower_is_better: bool) -> bool:
    """Whether the learner's value is worse than the expert's (no value: never recovered / never done)."""
    if expert is None:
        return False
    if learner is None:
        return True
    return learner > expert + _EPS if lower_is_better else learner < expert - _EPS


def _relevant(metric: str, a: _Act, critical: Iterable[str], lm: Metrics, em: Metrics) -> bool:
    """Whether an expert action bears on a metric: it names the asset, the critical facility, or the people.

    What a metric is about comes from the catalogue's topics, not from its name.
    """
    found = lookup(metric.removeprefix("relative."))
    if found is None:
        return False
    entry, asset = found
    bears = _bears_on(a.action)
    if entry.family == "asset":
        return a.target == asset or (bears == "order" and asset in a.order)
    if "critical" in entry.topics:
        crit = set(critical)
        return a.target in crit or (bears == "order" and bool(crit & set(a.order)))
    if "people" in entry.topics and bears == "people":
        return True
    if "service" in entry.topics:
        if bears == "recovery":
            return True
        down_more = {x for x in set(lm.downtime) | set(em.downtime)
                     if lm.downtime.get(x, 0.0) > em.downtime.get(x, 0.0) + _EPS}
        if bears == "order":
            return bool(down_more & set(a.order))
        return a.target in down_more
    return False


def _base_lower_is_better(metric: str, lower_is_better: bool) -> bool:
    if metric.startswith("relative."):  # the criterion's direction is the relative value's
        return metric_lower_is_better(metric[len("relative."):])
    return lower_is_better


def _about_expected(metric: str | None, expected: str | None = None) -> bool:
    """Whether a (relative) metric is about the MSEL's expected actions (about ``expected``, if given)."""
    found = lookup((metric or "").removeprefix("relative."))
    return (found is not None and "msel" in found[0].topics
            and (expected is None or found[1] in (None, expected)))


# -- the lessons


def lessons(learner: EventLog, expert: EventLog | None, scenario: Scenario, card: ScoreCard) -> list[Lesson]:
    """What the expert did differently from the learner, in time order (none without an expert log).

    Pure: a function of the two logs, the scenario (expected actions, rubric) and the learner's
    score card.  The expert's own run, given as the learner's, has no lessons.
    """
    if expert is None:
        return []
    lm, em = compute_metrics(learner), compute_metrics(expert)
    l_acts, e_acts = _actions(learner), _actions(expert)
    criteria = {c.id: c for c in scenario.rubric.criteria}
    below_p = [ln for ln in card.criteria
               if ln.kind == "computed" and ln.rating in ("S", "M", "U") and ln.metric and ln.id in criteria]
    out: dict[str, Lesson] = {}
    by_action: dict[tuple[str, str | None, int], str] = {}  # the expert's action -> the lesson naming it

    # 1. expected actions missed or late
    l_exp, e_exp = _expected(learner), _expected(expert)
    for ea_id, recs in l_exp.items():
        due = recs.get("due")
        if due is None:
            continue
        l_met = recs.get("met")
        l_late = float(l_met.data["late_h"]) if l_met is not None else None
        if l_late is not None and l_late <= _EPS:
            continue
        e_met = e_exp.get(ea_id, {}).get("met")
        if e_met is None:
            continue  # the expert did not do it either (or was never asked): nothing to learn from it
        e_late = float(e_met.data["late_h"])
        if l_late is not None and l_late <= e_late + _EPS:
            continue
        e_time = float(e_met.data["action_time_h"])
        targets = [str(t) for t in due.data.get("targets", [])]
        e_act = next((a for a in e_acts if abs(a.time - e_time) < _EPS
                      and _matches_expectation(a, str(due.data.get("action")), targets)), None)
        if e_act is None:
            continue
        l_events = [s.seq for s in (due, recs.get("missed"), l_met) if s is not None]
        l_act = None
        if l_met is not None:
            l_time = float(l_met.data["action_time_h"])
            l_act = next((a for a in l_acts if abs(a.time - l_time) < _EPS
                          and _matches_expectation(a, e_act.action, targets)), None)
            if l_act is not None:
                l_events.append(l_act.seq)
            else:  # a log without its decision record: the met record alone says when it was done
                l_act = _Act(l_time, l_met.seq, {"action": e_act.action})
        for_it = [ln.id for ln in below_p if _about_expected(ln.metric, ea_id)]
        lesson = _action_lesson(f"expected:{ea_id}", e_act, l_act,
                                learner, expert, lm, em, late_h=l_late, late_against="deadline",
                                expected=ea_id, criteria=for_it,
                                learner_events=l_events, expert_events=[e_act.seq, e_met.seq])
        out[lesson.id] = lesson
        by_action[(e_act.action, e_act.target, e_act.seq)] = lesson.id

    # 2. computed criteria below P where the expert did better
    critical = lm.critical or em.critical
    for ln in below_p:
        c = criteria[ln.id]
        metric = str(ln.metric)
        if _about_expected(metric):
            continue  # the expected-action lessons above are these criteria's lessons
        base = metric.removeprefix("relative.")
        lower = _base_lower_is_better(metric, c.lower_is_better)
        lv, ev = metric_value(lm, base), metric_value(em, base)
        if not _worse(lv, ev, lower):
            continue
        named = 0
        for e_act in e_acts:
            if named >= _PER_CRITERION:
                break
            if not _relevant(metric, e_act, critical, lm, em):
                continue
            mine = _learner_step(l_acts, e_act)
            if mine is not None and mine.time <= e_act.time + _EPS:
                continue  # the learner took this step as early as the expert
            key = (e_act.action, e_act.target, e_act.seq)
            if key in by_action:
                if ln.id not in out[by_action[key]].criteria:
                    out[by_action[key]].criteria.append(ln.id)
                named += 1
                continue
            late = None if mine is None else round(mine.time - e_act.time, 9)
            lesson = _action_lesson(f"action:{e_act.action}:{e_act.target or ''}:{e_act.time:g}", e_act, mine,
                                    learner, expert, lm, em, late_h=late, late_against="expert",
                                    criteria=[ln.id], learner_events=[] if mine is None else [mine.seq],
                                    expert_events=[e_act.seq])
            out[lesson.id] = lesson
            by_action[key] = lesson.id
            named += 1
        if named == 0:
            first = ln.events[0] if ln.events else None
            t = learner[first].time if first is not None and 0 <= first < len(learner) else 0.0
            out[f"criterion:{ln.id}"] = Lesson(
                id=f"criterion:{ln.id}", kind="criterion", time_h=t, criteria=[ln.id], rating=ln.rating,
                metric=base, learner_value=lv, expert_value=ev, learner_events=list(ln.events[:20]),
                expert_events=list(em.links.get(base, [])[:20]), message=M_CRITERION,
                params={"criterion": ln.id, "rating": ln.rating, "value": lv, "expert_value": ev})
    return sorted(out.values(), key=lambda x: (x.time_h, x.id))


def _action_lesson(lid: str, e_act: _Act, mine: _Act | None, learner: EventLog, expert: EventLog,
                   lm: Metrics, em: Metrics, *, late_h: float | None, late_against: Literal["deadline", "expert"],
                   criteria: list[str], learner_events: list[int], expert_events: list[int],
                   expected: str | None = None) -> Lesson:
    """A lesson about one of the expert's actions the learner missed (``mine`` None) or took late."""
    effect = _effect(e_act, learner, expert, lm, em)
    has_target = e_act.target is not None
    if mine is None:
        message = M_MISSED if has_target else M_MISSED_NO_TARGET
    elif late_against == "deadline":
        message = M_LATE_DEADLINE if has_target else M_LATE_DEADLINE_NO_TARGET
    else:
        message = M_LATE_EXPERT if has_target else M_LATE_EXPERT_NO_TARGET
    params: dict[str, Any] = {"time_h": e_act.time, "action": e_act.action, "target": e_act.target}
    if mine is not None:
        params.update(learner_time_h=mine.time, late=late_h)
    lesson = Lesson(id=lid, kind="missed" if mine is None else "late", time_h=e_act.time, action=e_act.action,
                    target=e_act.target, expected=expected, criteria=list(criteria),
                    learner_time_h=None if mine is None else mine.time,
                    late_h=None if mine is None else late_h, late_against=None if mine is None else late_against,
                    learner_events=sorted(set(learner_events)), expert_events=sorted(set(expert_events)),
                    message=message, params=params)
    if effect is not None:
        metric, msg, lv, ev = effect
        lesson.metric, lesson.learner_value, lesson.expert_value = metric, lv, ev
        lesson.effect_message = msg
        lesson.params.update(value=lv, expert_value=ev)
        if metric.startswith("downtime."):
            lesson.learner_events += [s for s in lm.links.get(metric, [])[:10] if s not in lesson.learner_events]
            lesson.expert_events += [s for s in em.links.get(metric, [])[:10] if s not in lesson.expert_events]
    return lesson


# -- sentences


def clock(start: datetime | str | None, time_h: float, lang: str = "en") -> str:
    """An hour of the run as the reader's clock time, with the day ("Mon 1 Jan 14:00"); without a
    start, from :data:`scro_sim.formatting.DEFAULT_START`."""
    return fmt.clock(start, time_h, lang, date=True)


def names(city: City) -> Callable[[str], str]:
    """``id -> "Name (id)"`` for the city's assets and districts, as the map labels them (other ids unchanged)."""
    table = {a.id: f"{a.name} ({a.id})" for a in city.model.assets}
    table.update({d.id: f"{d.name} ({d.id})" for d in city.model.districts})
    return lambda x: table.get(x, x)


def _hours(v: Any) -> str:
    return f"{float(v):.3g}" if v is not None else "—"


def render_lesson(lesson: Lesson, lang: str = "en", *, name_of: Callable[[str], str] | None = None,
                  start: datetime | str | None = None, scenario: Scenario | None = None) -> str:
    """One lesson as sentences in ``lang``: the expert's step, what it changed, the expectation and criteria."""
    _ = translator(lang)
    name = name_of or (lambda x: x)
    titles = {c.id: text_in(c.title, lang) for c in scenario.rubric.criteria} if scenario is not None else {}
    p = lesson.params
    downtime = lesson.effect_message == E_DOWNTIME
    words: dict[str, str] = {
        "clock": clock(start, lesson.time_h, lang),
        "hour": f"{lesson.time_h:.4g}",
        "action": action_name(str(p.get("action") or ""), _,
                              (lambda k: scenario.action_label(k, lang)) if scenario is not None else None),
        "target": _("all") if p.get("target") == "all" else name(str(p.get("target") or "")),
        "learner_clock": clock(start, float(p["learner_time_h"]), lang) if p.get("learner_time_h") is not None else "",
        "late": _hours(p.get("late")),
        "criterion": titles.get(str(p.get("criterion")), str(p.get("criterion", ""))),
        "rating": str(p.get("rating") or ""),
        "value": _hours(p.get("value")) if downtime else number(p.get("value")),
        "expert_value": _hours(p.get("expert_value")) if downtime else number(p.get("expert_value")),
    }
    parts = [_(lesson.message).format(**words)]
    if lesson.effect_message:
        parts.append(_(lesson.effect_message).format(**words))
    if lesson.expected and scenario is not None:
        ea = next((e for i in scenario.msel for e in i.expected_actions if e.id == lesson.expected), None)
        if ea is not None and ea.description is not None:
            parts.append(_(M_EXPECTED).format(description=text_in(ea.description, lang)))
    if lesson.criteria and lesson.kind != "criterion":
        parts.append(_(M_FOR_CRITERIA).format(criteria=", ".join(titles.get(c, c) for c in lesson.criteria)))
    return " ".join(parts)


def render(items: Iterable[Lesson], lang: str = "en", *, name_of: Callable[[str], str] | None = None,
           start: datetime | str | None = None, scenario: Scenario | None = None) -> list[str]:
    """Every lesson as sentences in ``lang`` (see :func:`render_lesson`), in the given order."""
    return [render_lesson(x, lang, name_of=name_of, start=start, scenario=scenario) for x in items]


class ModuleResult(BaseModel):
    """A score card's results for one course module, named in the reader's language."""

    module: str
    title: str  # the module's title in the reader's language ("" if the course map has no such module)
    group: str
    group_title: str
    score: float | None
    provisional: bool
    outcomes: list[str]
    criteria: list[str]  # "id: title" of each criterion citing one of its outcomes

    @property
    def label(self) -> str:
        """``C3 Early warning and protective action`` (the id alone for a module the map lacks)."""
        return f"{self.module} {self.title}".strip()


def module_results(card: ScoreCard, lang: str = "en", course: Any = None) -> list[ModuleResult]:
    """A card's results grouped by course module, in the course map's order, each module by its id and
    its title in ``lang`` (the card keeps ids only; titles come from the map in use, ``course`` or the
    default).  Modules the map does not have (scenarios from before it) come last, by id."""
    from .course import default_course
    from .course import text_in as course_text
    from .errors import CourseError

    if course is None:
        try:
            course = default_course()
        except CourseError:
            course = None
    order = {m.id: k for k, (_, m) in enumerate(course.modules())} if course is not None else {}
    titles = {ln.id: ln.title for ln in card.criteria}
    out = []
    for m in card.modules:
        mod = course.module(m.module) if course is not None else None
        grp = course.group_of(m.module) if course is not None else None
        out.append(ModuleResult(
            module=m.module, title=course_text(mod.title, lang) if mod is not None else "",
            group=grp.id if grp is not None else "", group_title=course_text(grp.title, lang) if grp is not None else "",
            score=m.score, provisional=m.provisional, outcomes=list(m.outcomes),
            criteria=[f"{c}: {titles.get(c, '')}".rstrip(": ") for c in m.criteria]))
    return sorted(out, key=lambda r: (order.get(r.module, len(order)), r.module))
