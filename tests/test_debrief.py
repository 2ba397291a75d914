"""The debrief's lessons: what the expert did differently, from the two logs, hand-checked on a kit city.

The kit: PP -> SS -> H, the hospital with 8 h of its own backup; a cyber attack stops SS at
2 h for the rest of the 24 h run.  Left alone, H runs on its backup from 2 h to 10 h and is
down from 10 h to the end: 14 h.  The expert sends a mobile generator (lead time 1 h, 24 h
of fuel) when the hospital's message arrives at 4 h: it is there at 5 h, and H is never down.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from scro_sim import debrief
from scro_sim import formatting as fmt
from scro_sim.assessment import score
from scro_sim.engine import Simulation
from scro_sim.i18n import LANGUAGES, translator
from scro_sim.log import EventLog
from scro_sim.policy import PlanPolicy, baseline_policy
from scro_sim.scenario import Plan, Scenario, load_scenario
from scro_sim.scoring import grade
from tests.enginekit import asset, cyber, make_city, make_scenario

ROOT = Path(__file__).resolve().parent.parent

CITY = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                  asset("H", "hospital", backup={"kind": "generator", "hours": 8}, needs={"power": ["SS"]})])
EXPERT = {"title": "Expert", "rules": [{"when": {"inject": "I1"}, "do": [{"action": "deploy_generator", "target": "H"}]}]}
FEEDBACK = {"P": "p", "S": "s", "M": "m", "U": "u"}
DOWNTIME = {"id": "C1", "title": "Hospital kept open", "kind": "computed", "weight": 1, "outcome": "LO1",
            "metric": "downtime.H", "thresholds": {"P": 0, "S": 1, "M": 5}, "feedback": FEEDBACK}
TIMELY = {"id": "C2", "title": "Generator on time", "kind": "computed", "weight": 1, "outcome": "LO1",
          "metric": "timeliness.EA_gen", "thresholds": {"P": 0, "S": 1, "M": 3}, "feedback": FEEDBACK}


def kit(*, expected: bool = True) -> Scenario:
    """The kit scenario; with ``expected`` the hospital's message expects a generator within 1 h."""
    inject: dict[str, Any] = {"id": "I1", "at_h": 4, "sender": "Hospital", "channel": "phone", "pause": True,
                              "text": "We are on our own generator."}
    if expected:
        inject["expected_actions"] = [{"id": "EA_gen", "action": "deploy_generator", "targets": ["H"],
                                       "deadline_h": 1, "description": {"en": "Send a generator", "de": "Aggregat"}}]
    return make_scenario(
        [cyber("SS", start_h=2)], duration_h=24, times_h=(4.0, 6.0, 10.0),
        resources={"budget": 100000, "generators": {"count": 2}},
        actions={"deploy_generator": {"cost": 100, "lead_time_h": 1.0, "fuel_hours": 24}},
        msel=[inject],
        rubric={"criteria": [DOWNTIME, TIMELY] if expected else [DOWNTIME]},
        reference_plans={"baseline": "do_nothing", "expert": EXPERT})


def run(sc: Scenario, plan: dict[str, Any] | None) -> EventLog:
    policy = baseline_policy("do_nothing") if plan is None else PlanPolicy(Plan.model_validate(plan), "learner")
    return Simulation(sc, CITY, 0, policy).run()


def lessons_of(sc: Scenario, plan: dict[str, Any] | None) -> tuple[EventLog, EventLog, list[debrief.Lesson]]:
    learner = run(sc, plan)
    expert = debrief.expert_log(sc, CITY, 0)
    assert expert is not None
    return learner, expert, debrief.lessons(learner, expert, sc, grade(learner, sc))


def at_hour(h: float) -> dict[str, Any]:
    return {"title": "Learner", "rules": [{"when": {"after_h": h}, "do": [{"action": "deploy_generator", "target": "H"}]}]}


def test_missed_expected_action_names_the_hour_action_target_and_the_downtime_it_cost() -> None:
    learner, expert, got = lessons_of(kit(), None)
    assert len(got) == 1
    (ls,) = got
    assert (ls.id, ls.kind, ls.time_h, ls.action, ls.target, ls.expected) == (
        "expected:EA_gen", "missed", 4.0, "deploy_generator", "H", "EA_gen")
    assert sorted(ls.criteria) == ["C1", "C2"]
    # down from 10 h (8 h of backup from 2 h) to the end at 24 h; the expert's generator was there at 5 h
    assert (ls.metric, ls.learner_value, ls.expert_value) == ("downtime.H", 14.0, 0.0)
    # the links point at the expert's decision and the learner's due / missed records
    assert expert[ls.expert_events[0]].kind == "decision" and expert[ls.expert_events[0]].time == 4.0
    assert {learner[s].data.get("status") for s in ls.learner_events if learner[s].kind == "expected"} == {"due",
                                                                                                         "missed"}
    assert not any(learner[s].kind == "decision" for s in ls.learner_events)  # nothing credited to the learner
    text = debrief.render_lesson(ls, "en", name_of=debrief.names(CITY), start=kit().start, scenario=kit())
    assert "Mon 1 Jan 04:00" in text and "hour 4" in text
    assert "Deploy a mobile generator" in text and "H (H)" in text
    assert "down 14 h in your run (0 h in the expert's)" in text
    assert "you did not" in text and "Send a generator" in text and "Hospital kept open" in text


def test_learner_who_did_what_the_expert_did_gets_no_lesson() -> None:
    assert lessons_of(kit(), EXPERT)[2] == []
    # the same step and one more of their own: still nothing about the generator
    more = {"title": "Learner", "prepositioning": [{"action": "warn_public", "target": "all"}], "rules": EXPERT["rules"]}
    assert lessons_of(kit(), more)[2] == []


def test_late_expected_action_is_late_by_hours_after_the_deadline() -> None:
    """At 6 h against a deadline of 4 + 1 = 5 h: 1 h late; the generator still came before 10 h, so no downtime."""
    learner, _expert, got = lessons_of(kit(), at_hour(6))
    (ls,) = got
    assert (ls.kind, ls.late_h, ls.late_against, ls.learner_time_h, ls.time_h) == ("late", 1.0, "deadline", 6.0, 4.0)
    assert ls.metric is None and ls.effect_message is None  # the hospital was never down in either run
    assert ls.criteria == ["C2"]
    decision = [learner[s] for s in ls.learner_events if learner[s].kind == "decision"]
    assert [d.time for d in decision] == [6.0]
    assert decision[0].data["actions"][0]["action"] == "deploy_generator"
    text = debrief.render_lesson(ls, "en", start=kit().start)
    assert "you did it at Mon 1 Jan 06:00, 1 h after the deadline" in text


def test_criterion_below_p_names_the_experts_action_without_an_expected_action() -> None:
    """No MSEL expectation: only C1 (downtime of H, P at 0 h).  The learner's generator at 10 h arrives
    at 11 h: H was down 10 h -> 11 h = 1 h (S); the expert's at 4 h: 6 h earlier."""
    _learner, _expert, got = lessons_of(kit(expected=False), at_hour(10))
    (ls,) = got
    assert (ls.id, ls.kind, ls.criteria, ls.expected) == ("action:deploy_generator:H:4", "late", ["C1"], None)
    assert (ls.late_h, ls.late_against, ls.learner_value, ls.expert_value) == (6.0, "expert", 1.0, 0.0)
    text = debrief.render_lesson(ls, "en", start=kit().start)
    assert "you did it 6 h later, at Mon 1 Jan 10:00" in text and "down 1 h in your run (0 h" in text
    # doing nothing at all: the same action, missed, 14 h of downtime
    (ls,) = lessons_of(kit(expected=False), None)[2]
    assert (ls.kind, ls.learner_value, ls.expert_value, ls.learner_time_h) == ("missed", 14.0, 0.0, None)


def test_no_expert_log_no_lessons() -> None:
    sc = kit()
    learner = run(sc, None)
    assert debrief.lessons(learner, None, sc, grade(learner, sc)) == []
    assert debrief.expert_log(make_scenario([cyber("SS")]), CITY, 0) is None


def test_expert_log_is_cached_per_seed() -> None:
    sc = kit()
    assert debrief.expert_log(sc, CITY, 0) is debrief.expert_log(sc, CITY, 0)
    assert debrief.expert_log(sc, CITY, 0).digest() == Simulation(  # type: ignore[union-attr]
        sc, CITY, 0, PlanPolicy(Plan.model_validate(EXPERT), "expert")).run().digest()


def test_lessons_are_plain_data() -> None:
    (ls,) = lessons_of(kit(), None)[2]
    again = debrief.Lesson.model_validate_json(ls.model_dump_json())
    assert again == ls
    assert ls.message in debrief.MESSAGES and ls.effect_message in debrief.MESSAGES
    assert all(isinstance(v, str | int | float | type(None)) for v in ls.params.values())


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_render_in_every_language_leaves_no_msgid_untranslated(lang: str) -> None:
    _ = translator(lang)
    for msg in debrief.MESSAGES:
        assert _(msg).strip(), msg
        if lang != "en":
            assert _(msg) != msg, f"{lang}: {msg!r} not translated"
    sc = kit()
    got = lessons_of(sc, None)[2] + lessons_of(sc, at_hour(6))[2] + lessons_of(kit(expected=False), at_hour(10))[2]
    for text in debrief.render(got, lang, name_of=debrief.names(CITY), start=sc.start, scenario=sc):
        assert "{" not in text and fmt.clock(sc.start, 0, lang).split()[0] in text  # a weekday, localised
        if lang != "en":
            assert "the expert" not in text and "you did" not in text, text


def test_messages_are_in_the_catalog_template() -> None:
    with (ROOT / "scro_sim" / "locales" / "scro_sim.pot").open("rb") as f:
        ids = {m.id for m in read_po(f) if m.id}
    assert set(debrief.MESSAGES) <= ids


BUNDLED = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", BUNDLED, ids=[p.stem for p in BUNDLED])
def test_bundled_do_nothing_gets_a_lesson_and_the_expert_none(path: Path) -> None:
    sc, city = load_scenario(str(path))
    expert = debrief.expert_log(sc, city, 1)
    assert expert is not None
    nothing = Simulation(sc, city, 1, baseline_policy("do_nothing")).run()
    assert debrief.lessons(nothing, expert, sc, score(sc, city, 1, nothing))
    assert debrief.lessons(expert, expert, sc, score(sc, city, 1, expert)) == []


def test_a_criterion_left_out_of_the_total_says_why_in_the_readers_language() -> None:
    from types import SimpleNamespace

    from scro_sim.debrief import why_not_applicable
    from scro_sim.i18n import translator

    against = SimpleNamespace(status="not applicable", metric="relative.resilience_loss.water")
    money = SimpleNamespace(status="not applicable", metric="value_for_money")
    unasked = SimpleNamespace(status="not applicable", metric="timeliness.EA_warn")
    rated = SimpleNamespace(status="rated", metric="relative.resilience_loss.water")
    assert "utilities on their own" in why_not_applicable(against) == why_not_applicable(money)
    assert "never came" in why_not_applicable(unasked)
    assert why_not_applicable(rated) == ""
    assert "Versorger" in why_not_applicable(against, translator("de"))
