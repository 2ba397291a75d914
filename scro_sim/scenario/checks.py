"""Cross-checks that need the whole scenario and its city: references, times, loops, metric names."""

from __future__ import annotations

import math
from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any

import scro_sim.engine.actions as _actions  # the registry sits below this package (see engine/actions)
import scro_sim.engine.hazards as _hazards  # so does the hazard registry

from ..city import City, curve_problems
from ..course import Course, default_course
from ..errors import N_, Count, CourseError, Msg, did_you_mean
from .basics import (
    MAX_CREWS,
    MAX_DECISION_POINTS,
    MAX_HAZARD_STEPS,
    MAX_PLAN_CHECKS,
    MAX_RULE_CHECKS,
    dist_bounds,
)
from .models import (
    _FIELD_TYPES,
    RATINGS,
    Action,
    ActionDone,
    Condition,
    CyberHazard,
    FeedbackCondition,
    FloodHazard,
    Plan,
    Scenario,
)

# Every check below is one pass over the scenario: ids and decision times are looked up in sets
# and dicts made once, so a scenario validates in time proportional to its size.

# --------------------------------------------------------------------------------------------
# Cross-checks


def scenario_course(sc: Scenario) -> Course | None:
    """The course map a scenario's criteria are resolved against, or None when it cites only its own
    learning outcomes (a scenario from before the course map needs none)."""
    local = {lo.id for lo in sc.learning_outcomes}
    if all(c.outcome in local for c in sc.rubric.criteria):
        return None  # its modules are its own labels, as before the map
    return default_course()


def course_reference_problems(sc: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    """Every criterion cites a module outcome of the course map (``outcome: C3.1``) or one of the
    scenario's own ``learning_outcomes``; every module in ``modules`` is one of the map's (or one a
    learning outcome of the scenario names); the module of every outcome cited is in ``modules``."""
    out: list[tuple[tuple[Any, ...], str]] = []
    local = {lo.id: lo for lo in sc.learning_outcomes}
    try:
        course = scenario_course(sc)
    except CourseError as exc:
        first = exc.problems[0] if exc.problems else exc
        return [(("rubric",), Msg(N_("the course map the criteria cite cannot be read ({problem}): fix it, or set "
                                     "SCRO_SIM_COURSE to another"), problem=str(first)))]
    if sc.group is not None:
        try:
            out.extend(group_problems(sc, course if course is not None else default_course()))
        except CourseError as exc:  # a scenario citing only its own outcomes, and a map that does not load
            out.append((("group",), Msg(N_("the course map the group names cannot be read ({problem})"),
                                        problem=str(exc.problems[0] if exc.problems else exc))))
    if course is None:
        return out
    own_modules = {lo.module for lo in sc.learning_outcomes}
    # a scenario from before the course map: its criteria cite its own outcomes (say so in its words)
    legacy = bool(local) and not any(course.outcome(c.outcome) for c in sc.rubric.criteria)
    for i, m in enumerate(sc.modules):
        if not legacy and course.module(m) is None and m not in own_modules:
            known = ", ".join(mm.id for _, mm in course.modules())
            out.append((("modules", i), Msg(N_("unknown course module {id!r} (the course map has {known})"), id=m,
                                            known=known)))
    for i, c in enumerate(sc.rubric.criteria):
        if c.outcome in local:
            continue
        ref = course.outcome(c.outcome)
        if ref is None and legacy:
            out.append((("rubric", "criteria", i, "outcome"),
                        Msg(N_("unknown learning outcome {id!r} (this scenario's learning outcomes: {own}; or cite a "
                               "course outcome such as {example})"), id=c.outcome, own=", ".join(local),
                            example=course.outcome_ids()[0])))
        elif ref is None:
            out.append((("rubric", "criteria", i, "outcome"), Msg(N_("unknown course outcome {id!r}{mean}"),
                                                                  id=c.outcome, mean=did_you_mean(course.suggest(c.outcome)))))
        elif ref.module.id not in sc.modules:
            out.append((("rubric", "criteria", i, "outcome"),
                        Msg(N_("outcome {id!r} belongs to module {module}, which is not in modules (add it: "
                               "modules: [{modules}])"), id=c.outcome, module=ref.module.id,
                            modules=", ".join([*sc.modules, ref.module.id]))))
    return out


def group_problems(sc: Scenario, course: Course) -> list[tuple[tuple[Any, ...], str]]:
    """Each of the scenario's ``group`` ids (if given) is one of the course map's module groups."""
    out: list[tuple[tuple[Any, ...], str]] = []
    many = not isinstance(sc.group, str)
    for i, g in enumerate(sc.groups):
        if course.group(g) is None:
            out.append((("group", i) if many else ("group",),
                        Msg(N_("unknown course module group {id!r}{mean} (the course map has {known})"),
                            id=g, mean=did_you_mean(course.suggest_group(g)),
                            known=", ".join(gg.id for gg in course.groups))))
    return out


def _scenario_problems(sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    dur = sc.duration_h

    def dupes(items: Iterable[Any], key: tuple[Any, ...], kind: str) -> None:
        seen: set[str] = set()
        for i, it in enumerate(items):
            if it.id in seen:
                out.append(((*key, i, "id"), Msg(N_("duplicate {kind} id {id!r}"), kind=Msg(kind), id=it.id)))
            seen.add(it.id)

    dupes(sc.hazards, ("hazards",), N_("hazard"))
    floods = [i for i, h in enumerate(sc.hazards) if isinstance(h, FloodHazard)]
    for i in floods[1:]:
        out.append((("hazards", i, "type"), Msg(N_("only one flood per scenario: the city has one river gauge "
                                                   "(model a bigger flood with a higher peak_stage_m)"))))
    dupes(sc.msel, ("msel",), N_("inject"))
    dupes(sc.questions, ("questions",), N_("question"))
    dupes(sc.guide, ("guide",), N_("guide step"))
    dupes(sc.rubric.criteria, ("rubric", "criteria"), N_("criterion"))
    dupes(sc.learning_outcomes, ("learning_outcomes",), N_("learning outcome"))
    dupes(sc.resources.crews, ("resources", "crews"), N_("crew team"))
    expected_ids = [e for inj in sc.msel for e in inj.expected_actions]
    dupes(expected_ids, ("msel",), N_("expected action"))
    for i, lo in enumerate(sc.learning_outcomes):
        if lo.module not in sc.modules:
            out.append((("learning_outcomes", i, "module"), Msg(N_("module {id!r} is not in modules"), id=lo.module)))
    out.extend(course_reference_problems(sc))
    for i, t in enumerate(sc.decision_points.times_h):
        if t >= dur:
            out.append((("decision_points", "times_h", i), _outside(t, dur)))
    out.extend(_work_problems(sc))
    points = sc.decision_times()  # made once: every question is looked up in it
    point_set = set(points)
    inject_ids: dict[str, Any] = {}
    teams = [c.id for c in sc.resources.crews]
    for inj in sc.msel:
        inject_ids.setdefault(inj.id, inj)
    for i, inj in enumerate(sc.msel):
        if inj.at_h is not None and inj.at_h >= dur:
            out.append((("msel", i, "at_h"), _outside(inj.at_h, dur)))
        if inj.when is not None:
            out.extend((("msel", i, "when", *loc[1:]), m) for loc, m in _condition_problems(inj.when, sc, city))
            if inj.when.inject is not None and inj.when.inject == inj.id:
                out.append((("msel", i, "when", "inject"), Msg(N_("an inject cannot trigger itself"))))
        for j, ea in enumerate(inj.expected_actions):
            if not sc.actions.get(ea.action).enabled:
                out.append((("msel", i, "expected_actions", j, "action"),
                            Msg(N_("action {action!r} is disabled"), action=ea.action)))
            if ea.contingency is not None and ea.contingency == inj.id:
                out.append((("msel", i, "expected_actions", j, "contingency"),
                            Msg(N_("a contingency cannot be its own inject: it would fire again and again (a loop)"))))
            elif ea.contingency is not None:
                target = inject_ids.get(ea.contingency)
                if target is None:
                    out.append((("msel", i, "expected_actions", j, "contingency"), _unknown_inject(ea.contingency)))
                elif not target.contingency:
                    out.append((("msel", i, "expected_actions", j, "contingency"),
                                Msg(N_("inject {id!r} must say contingency: true"), id=ea.contingency)))
            for k, tg in enumerate(ea.targets):  # a crew team may be the target (recall_staff)
                if city is not None and not _target_exists(tg, city) and tg not in teams:
                    out.append((("msel", i, "expected_actions", j, "targets", k),
                                Msg(N_("unknown target {id!r}"), id=tg)))
    # inject trigger chains (when: {inject: X}) and contingency chains must not loop
    out.extend(_inject_cycles(sc))
    for i, q in enumerate(sc.questions):
        if q.at_inject is not None and q.at_inject not in inject_ids:
            out.append((("questions", i, "at_inject"), _unknown_inject(q.at_inject)))
        if q.at_h is not None and q.at_h >= dur:
            out.append((("questions", i, "at_h"), _outside(q.at_h, dur)))
        if q.at_h is not None and q.at_h not in point_set:
            out.append((("questions", i, "at_h"), Msg(N_("no decision point at {t} h (decision points: {hours})"),
                                                      t=q.at_h, hours=_some_hours(points))))
    out.extend(_guide_problems(sc, inject_ids, point_set, points))
    question_ids = {q.id for q in sc.questions}
    expected = {e.id for e in expected_ids}
    for i, c in enumerate(sc.rubric.criteria):
        if c.kind == "computed" and c.metric is not None:
            msg = metric_problem(c.metric, city, expected)
            if msg:
                out.append((("rubric", "criteria", i, "metric"), msg))
        if (c.kind == "judged" and c.evidence and c.evidence.startswith("answer:")
                and c.evidence[len("answer:"):] not in question_ids):
            out.append((("rubric", "criteria", i, "evidence"), Msg(N_("unknown question {id!r}"), id=c.evidence[7:])))
        for rating in RATINGS:
            out.extend(_feedback_problems(("rubric", "criteria", i, "feedback", rating), getattr(c.feedback, rating),
                                          sc, city))
    for i, h in enumerate(sc.hazards):
        out.extend(_hazard_problems(("hazards", i), h, sc, city))
    if city is not None:
        out.extend(_asset_type_problems(sc, city))
        skills = {"it", "general", *city.type_skill.values()}
        for i, team in enumerate(sc.resources.crews):
            out.extend(_depot_problem(("resources", "crews", i, "depot"), team.depot, city))
            out.extend((("resources", "crews", i, "skills", k), _unknown_skill(s, skills))
                       for k, s in enumerate(team.skills) if s not in skills)
        out.extend((("resources", "mutual_aid", "skills", k), _unknown_skill(s, skills))
                   for k, s in enumerate(sc.resources.mutual_aid.skills) if s not in skills)
        if sc.resources.generators.depot is not None:
            out.extend(_depot_problem(("resources", "generators", "depot"), sc.resources.generators.depot, city))
        if sc.resources.mutual_aid.depot is not None:
            out.extend(_depot_problem(("resources", "mutual_aid", "depot"), sc.resources.mutual_aid.depot, city))
    if sc.resources.mutual_aid.crews and not sc.resources.crews and sc.resources.mutual_aid.depot is None:
        out.append((("resources", "mutual_aid", "depot"),
                    Msg(N_("mutual aid needs a depot when there are no crew teams"))))
    for name, plan in (("baseline", sc.reference_plans.baseline), ("expert", sc.reference_plans.expert)):
        if isinstance(plan, Plan):
            out.extend((("reference_plans", name, *loc), m) for loc, m in _plan_problems(plan, sc, city))
    return out


def _outside(t: float | str, dur: float | str) -> str:
    """``t h is not inside the dur h scenario`` (numbers shown as given: pass ``f"{x:g}"`` for the short form)."""
    return Msg(N_("{t} h is not inside the {dur} h scenario"), t=t, dur=dur)


def _unknown_inject(inject: str) -> str:
    return Msg(N_("unknown inject {id!r}"), id=inject)


def _some_hours(points: list[float], n: int = 12) -> str:
    """The first ``n`` decision hours, and how many there are in all (a message stays one line)."""
    shown = ", ".join(f"{t:g}" for t in points[:n])
    return shown if len(points) <= n else f"{shown}, ... ({len(points)} in all)"


def _work_problems(sc: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    """The run's size: decision points, hazard updates and crews each stay under their bound."""
    out: list[tuple[tuple[Any, ...], str]] = []
    dur = sc.duration_h
    dp = sc.decision_points
    n_points = len(dp.times_h) + (math.ceil(dur / dp.every_h) if dp.every_h else 0)
    if n_points > MAX_DECISION_POINTS:
        loc = ("decision_points", "every_h") if dp.every_h else ("decision_points", "times_h")
        out.append((loc, Msg(N_("{n} decision points in a {dur} h scenario; the limit is {limit} (a longer every_h, "
                                "or fewer times_h)"), n=Count(n_points), dur=f"{dur:g}",
                             limit=Count(MAX_DECISION_POINTS))))
    steps = 0
    for i, h in enumerate(sc.hazards):
        step = getattr(h, "step_h", None)
        if step is not None:
            steps += math.ceil(dur / step)
            if steps > MAX_HAZARD_STEPS:
                out.append((("hazards", i, "step_h"), Msg(N_(
                    "the hazards would update {n}+ times in a {dur} h scenario (duration_h / step_h, summed over the "
                    "hazards); the limit is {limit}: use a longer step_h"), n=Count(steps), dur=f"{dur:g}",
                    limit=Count(MAX_HAZARD_STEPS))))
                break
    r = sc.resources
    teams = sum(t.count for t in r.crews)
    crews = teams + r.mutual_aid.crews * r.mutual_aid.max_requests
    if crews > MAX_CREWS:  # blamed on the teams if they alone are too many, else on mutual aid
        out.append((("resources", "crews" if teams > MAX_CREWS else "mutual_aid"),
                    Msg(N_("{n} crews in one run (every team's count plus mutual_aid crews x max_requests); the "
                           "limit is {limit}"), n=Count(crews), limit=Count(MAX_CREWS))))
    return out


def _asset_type_problems(sc: Scenario, city: City) -> list[tuple[tuple[Any, ...], str]]:
    """Asset types the scenario names (fragility, repair times) that its city does not know."""
    out: list[tuple[tuple[Any, ...], str]] = []
    known = city.type_specs
    for hz, by_type in sc.fragility.items():
        for typ, curves in by_type.items():
            if typ not in known:
                out.append((("fragility", hz, typ), _unknown_type(typ, city)))
            out.extend((("fragility", hz, typ), msg) for msg in curve_problems(curves))
    for typ in sc.repair_times:
        if typ not in known:
            out.append((("repair_times", typ), _unknown_type(typ, city)))
    for key in sc.damage_costs or {}:
        if key not in known and key not in city.asset_index:
            out.append((("damage_costs", key), _unknown_type(key, city).replace(
                "unknown asset type", "neither an asset type nor an asset:", 1)))
    return out


def _unknown_skill(skill: str, known: set[str]) -> str:
    return Msg(N_("unknown crew skill {skill!r}; the city's asset types are repaired by: {known}"), skill=skill,
               known=", ".join(sorted(known)))


def _unknown_type(typ: str, city: City) -> str:
    import difflib

    close = difflib.get_close_matches(typ, list(city.type_specs), n=1)
    return Msg(N_("unknown asset type {type!r}{mean}; the city {city} knows: {known}"), type=typ,
               mean=did_you_mean(close), city=city.id, known=", ".join(city.type_specs))


def _target_exists(tg: str, city: City) -> bool:
    return tg in city.asset_index or tg in city.district_index or tg == "all" or _edge_index(tg, city) is not None


def _depot_problem(loc: tuple[Any, ...], depot: str, city: City) -> list[tuple[tuple[Any, ...], str]]:
    i = city.asset_index.get(depot)
    if i is None:
        return [(loc, Msg(N_("unknown depot asset {id!r}"), id=depot))]
    if city.asset_type[i] not in ("depot", "fire_station", "eoc"):
        return [(loc, Msg(N_("{id!r} is a {type}, not a depot"), id=depot, type=str(city.asset_type[i])))]
    return []


def _hazard_problems(loc: tuple[Any, ...], h: Any, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    dur = sc.duration_h
    kind = _hazards.REGISTRY[h.type]
    for name in kind.times:
        v = getattr(h, name, None)
        if v is not None:
            lo, _hi = dist_bounds(v)
            if lo < 0:
                out.append(((*loc, name), Msg(N_("time cannot be negative"))))
            elif lo >= dur:
                out.append(((*loc, name), _outside(f"{lo:g}", f"{dur:g}")))
    for name in kind.durations:
        v = getattr(h, name, None)
        if v is not None and dist_bounds(v)[0] < 0:
            out.append(((*loc, name), Msg(N_("duration cannot be negative"))))
    out.extend(kind.problems(loc, h, sc, city, _FIELD_TYPES))
    when = getattr(h, "when", None)  # an effect that starts on a condition
    if when is not None:
        out.extend(((*loc, "when", *w[1:]), m) for w, m in _condition_problems(when, sc, city))
    if isinstance(h, CyberHazard):
        out.extend(_reveal_problems((*loc, "reveal"), h, sc, city))
    return out


def _reveal_problems(loc: tuple[Any, ...], h: CyberHazard, sc: Scenario,
                     city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    """A hidden cause's reveal: its hour inside the run, its condition valid, its action enabled."""
    r = h.reveal
    out: list[tuple[tuple[Any, ...], str]] = []
    if isinstance(r.at, float) and r.at >= sc.duration_h:
        out.append(((*loc, "at"), _outside(f"{r.at:g}", f"{sc.duration_h:g}")))
    if r.on is not None:
        out.extend(((*loc, "on", *where[1:]), m) for where, m in _condition_problems(r.on, sc, city))
    if r.by_action is not None and not sc.actions.get(r.by_action).enabled:
        out.append(((*loc, "by_action"), Msg(N_("action {action!r} is disabled: enable it (actions: {name}: "
                                                "{{enabled: true}}) or reveal the cause another way"),
                                             action=r.by_action, name=r.by_action)))
    return out


def _condition_problems(c: Condition, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    k = c.key
    if k in ("any_down", "any_on_backup") and city is not None and c.value not in city.type_specs:
        out.append(((None, k), _unknown_type(c.value, city)))
    if k in ("asset_down", "asset_on_backup") and city is not None and c.value not in city.asset_index:
        out.append(((None, k), Msg(N_("unknown asset {id!r}"), id=c.value)))
    if k == "district_unserved" and city is not None and c.value[0] not in city.district_index:
        out.append(((None, k), Msg(N_("unknown district {id!r}"), id=c.value[0])))
    if k == "inject" and sc.inject(c.value) is None:  # an index made once per scenario
        out.append(((None, k), _unknown_inject(c.value)))
    if k == "after_h" and c.value >= sc.duration_h:
        out.append(((None, k), _outside(f"{c.value:g}", f"{sc.duration_h:g}")))
    if k == "gauge_above" and not any(isinstance(h, FloodHazard) for h in sc.hazards):
        out.append(((None, k), Msg(N_("gauge_above needs a flood hazard"))))
    return out


def _feedback_problems(loc: tuple[Any, ...], entry: Any, sc: Scenario, city: City | None
                       ) -> list[tuple[tuple[Any, ...], str]]:
    """A rating's feedback variants: each but the last has a ``when`` that names real actions and
    targets, and the last (the fallback) has none."""
    if not isinstance(entry, tuple):
        return []
    out: list[tuple[tuple[Any, ...], str]] = []
    last = len(entry) - 1
    for k, v in enumerate(entry):
        if v.when is None and k < last:
            out.append(((*loc, k), Msg(N_("only the last variant may leave out when: it is the fallback, and the "
                                          "variants after it would never be shown"))))
        elif v.when is not None and k == last:
            out.append(((*loc, k, "when"), Msg(N_("the last variant is the fallback, shown when no condition above "
                                                  "holds: leave out its when (add a last variant with text only)"))))
        if v.when is not None:
            out.extend(_feedback_condition_problems((*loc, k, "when"), v.when, sc, city))
    return out


def _feedback_condition_problems(loc: tuple[Any, ...], c: FeedbackCondition, sc: Scenario, city: City | None
                                 ) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    for key in ("did", "did_not"):
        m = getattr(c, key)
        if m is not None:
            out.extend(((*loc, key, *where), msg) for where, msg in _action_done_problems(m, sc, city))
    for key in ("any", "all"):
        for k, x in enumerate(getattr(c, key) or ()):
            out.extend(_feedback_condition_problems((*loc, key, k), x, sc, city))
    return out


def _action_done_problems(m: ActionDone, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    """Whether the log could ever show this action: enabled, its target of the kind the action names."""
    out: list[tuple[tuple[Any, ...], str]] = []
    if not sc.actions.get(m.action).enabled:
        out.append((("action",), Msg(N_("action {action!r} is not enabled in this scenario: the log can never show "
                                        "it"), action=m.action)))
    if m.before_h is not None and m.before_h > sc.duration_h:
        out.append((("before_h",), Msg(N_("{t} h is after the {dur} h scenario's last decision"),
                                       t=f"{m.before_h:g}", dur=f"{sc.duration_h:g}")))
    if m.target is None:
        return out
    kind = _actions.get(m.action)
    # what a target means is the action's own field: its target, or the first asset of an order
    field = "target" if kind.target is not None else "order" if kind.field("order") is not None else None
    if field is None:
        out.append((("target",), Msg(N_("{action} names no target: leave target out"), action=m.action)))
    elif city is not None:
        probe = SimpleNamespace(**{**{f.name: None for f in kind.fields},
                                   field: m.target if field == "target" else (m.target,)})
        out.extend((("target",), msg) for where, msg in kind.problems(probe, sc, city) if where[0] == field)
    return out


def _inject_cycles(sc: Scenario) -> list[tuple[tuple[Any, ...], str]]:
    import networkx as nx

    g = nx.DiGraph()
    index = {inj.id: i for i, inj in enumerate(sc.msel)}
    for inj in sc.msel:
        g.add_node(inj.id)
        if inj.when is not None and inj.when.inject is not None and inj.when.inject in index:
            g.add_edge(inj.when.inject, inj.id)
        for ea in inj.expected_actions:
            if ea.contingency in index:
                g.add_edge(inj.id, ea.contingency)
    out = []
    for comp in sorted(sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1):
        out.append((("msel", index[comp[0]]),
                    Msg(N_("injects trigger each other in a loop: {chain}"), chain=" -> ".join([*comp, comp[0]]))))
    return out


def metric_problem(metric: str, city: City | None, expected: set[str]) -> str | None:
    """Why ``metric`` is not a metric of scoring's catalogue for this city and MSEL, or None.

    The names come from the one catalogue (``scoring.metrics``, which imports nothing but the
    log); a misspelled name gets a did-you-mean suggestion.
    """
    from ..scoring.metrics import metric_problem as catalogue_problem

    return catalogue_problem(metric, assets=city.asset_index if city is not None else None,
                             expected=sorted(expected))


def _plan_problems(plan: Plan, sc: Scenario, city: City | None) -> list[tuple[tuple[Any, ...], str]]:
    out: list[tuple[tuple[Any, ...], str]] = []
    if plan.scenario is not None and plan.scenario != sc.id:
        out.append((("scenario",), Msg(N_("plan is for scenario {plan!r}, not {id!r}"), plan=plan.scenario, id=sc.id)))
    # the plan's work in a run: its own checks, and its rules tested at every stop
    checks = math.ceil(sc.duration_h / plan.check_every_h)
    stops = checks + len(sc.decision_times())
    if checks > MAX_PLAN_CHECKS:
        out.append((("check_every_h",), Msg(N_("{n} checks in a {dur} h scenario; the limit is {limit}: check at "
                                               "least every {every} h"), n=Count(checks), dur=f"{sc.duration_h:g}",
                                            limit=Count(MAX_PLAN_CHECKS), every=f"{sc.duration_h / MAX_PLAN_CHECKS:.2g}")))
    elif len(plan.rules) * stops > MAX_RULE_CHECKS:
        out.append((("rules",), Msg(N_("{rules} rules tested at {stops} checks and decision points is {tests} tests "
                                       "in one run; the limit is {limit} (fewer rules, or a longer check_every_h)"),
                                    rules=len(plan.rules), stops=Count(stops), tests=Count(len(plan.rules) * stops),
                                    limit=Count(MAX_RULE_CHECKS))))
    for i, a in enumerate(plan.prepositioning):
        out.extend((("prepositioning", i, *loc), m) for loc, m in action_problems(a, sc, city))
    for i, r in enumerate(plan.rules):
        out.extend((("rules", i, "when", *loc[1:]), m) for loc, m in _condition_problems(r.when, sc, city))
        for j, a in enumerate(r.do):
            out.extend((("rules", i, "do", j, *loc), m) for loc, m in action_problems(a, sc, city, in_rule=True))
    if city is not None:
        for i, p in enumerate(plan.priorities):
            if p not in city.asset_index:
                out.append((("priorities", i), Msg(N_("unknown asset {id!r}"), id=p)))
    return out


def action_problems(a: Action, sc: Scenario, city: City | None, *, in_rule: bool = False
                    ) -> list[tuple[tuple[Any, ...], str]]:
    """Static problems with one action (exists, enabled, its fields name the right kind of thing).

    What each field must name is declared by the action's module (scro_sim/engine/actions).
    ``$asset``/``$district`` targets are allowed in plan rules: the asset or district that
    triggered the rule.
    """
    out: list[tuple[tuple[Any, ...], str]] = []
    spec = sc.actions.get(a.action)
    if not spec.enabled:
        out.append((("action",), Msg(N_("action {action!r} is not enabled in this scenario"), action=a.action)))
    out.extend(_actions.get(a.action).problems(a, sc, city, in_rule=in_rule))
    if a.crew is not None and a.crew not in {c.id for c in sc.resources.crews}:
        out.append((("crew",), Msg(N_("unknown crew team {id!r}"), id=a.crew)))
    return out


_edge_index = edge_index = _actions.edge_index  # roads are named FROM~TO (the registry's road fields)


def _guide_problems(sc: Scenario, inject_ids: Any, point_set: set[float], points: list[float]
                    ) -> list[tuple[tuple[Any, ...], str]]:
    """A guided exercise's steps are shown where the game stops: at a decision point or an inject it has."""
    out: list[tuple[tuple[Any, ...], str]] = []
    for i, step in enumerate(sc.guide):
        if step.at_inject is not None and step.at_inject not in inject_ids:
            out.append((("guide", i, "at_inject"), f"unknown inject {step.at_inject!r}"))
        if step.at_h is not None and step.at_h not in point_set:
            out.append((("guide", i, "at_h"), f"no decision point at {step.at_h} h "
                        f"(decision points: {_some_hours(points)})"))
    return out
