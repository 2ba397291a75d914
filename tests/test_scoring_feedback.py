"""Feedback variants: the condition evaluator, grading's choice of text, and every problem an author can write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest

from scro_sim.city import City
from scro_sim.errors import ScenarioError
from scro_sim.log import EventLog
from scro_sim.scenario import FeedbackCondition, FeedbackTexts, Scenario, load_scenario, scenario_schema
from scro_sim.scoring import LogFacts, feedback_text, grade, holds

# --------------------------------------------------------------------------------------------
# The evaluator, on logs built in code


def _log(*decisions: tuple[float, list[dict[str, Any]]], effects: tuple[tuple[float, str, str, dict[str, Any]], ...] = ()
         ) -> EventLog:
    """A log with these decisions (hour, actions) and ``action`` records (hour, action, subject, extra data)."""
    items = [(t, "decision", {"time_h": t, "actions": acts, "rationale": ""}, "0") for t, acts in decisions]
    items += [(t, "action", {"action": a, **extra}, subject) for t, a, subject, extra in effects]
    log = EventLog()
    log.append(0.0, "run_start", "x", {})
    for t, kind, data, subject in sorted(items, key=lambda x: x[0]):
        log.append(t, kind, subject, data)
    return log


def cond(data: dict[str, Any]) -> FeedbackCondition:
    return FeedbackCondition.model_validate(data)


def holds_on(data: dict[str, Any], log: EventLog) -> bool:
    return holds(cond(data), LogFacts(log))


PROTECT_WT1 = (3.0, [{"action": "protect_asset", "target": "WT1"}])


@pytest.mark.parametrize(("condition", "expected"), [
    ({"did": {"action": "protect_asset"}}, True),
    ({"did": {"action": "protect_asset", "target": "WT1"}}, True),
    ({"did": {"action": "protect_asset", "target": "H1"}}, False),
    ({"did": {"action": "evacuate"}}, False),
    ({"did": {"action": "protect_asset", "before_h": 4}}, True),
    ({"did": {"action": "protect_asset", "before_h": 3}}, False),  # decided at 3: not before 3
    ({"did_not": {"action": "protect_asset", "target": "WT1"}}, False),
    ({"did_not": {"action": "protect_asset", "target": "H1"}}, True),
    ({"any": [{"did": {"action": "evacuate"}}, {"did": {"action": "protect_asset"}}]}, True),
    ({"any": [{"did": {"action": "evacuate"}}, {"did": {"action": "warn_public"}}]}, False),
    ({"all": [{"did": {"action": "protect_asset"}}, {"did_not": {"action": "evacuate"}}]}, True),
    ({"all": [{"did": {"action": "protect_asset"}}, {"did": {"action": "evacuate"}}]}, False),
    ({"all": [{"any": [{"did": {"action": "evacuate"}}, {"did": {"action": "protect_asset"}}]},
              {"did_not": {"action": "refuel"}}]}, True),
])
def test_a_condition_reads_the_decisions_in_the_log(condition: dict[str, Any], expected: bool) -> None:
    assert holds_on(condition, _log(PROTECT_WT1)) is expected


def test_nothing_decided_credits_nothing() -> None:
    empty = _log()
    assert not holds_on({"did": {"action": "protect_asset"}}, empty)
    assert holds_on({"did_not": {"action": "protect_asset"}}, empty)


def test_a_warning_to_all_counts_for_every_district_and_a_district_warning_only_for_its_own() -> None:
    to_all = _log((1.0, [{"action": "warn_public", "target": "all", "message": "m"}]))
    to_d1 = _log((1.0, [{"action": "warn_public", "target": "D1", "message": "m"}]))
    assert holds_on({"did": {"action": "warn_public", "target": "D2"}}, to_all)
    assert holds_on({"did": {"action": "warn_public", "target": "D1"}}, to_d1)
    assert not holds_on({"did": {"action": "warn_public", "target": "D2"}}, to_d1)


def test_a_priority_order_counts_for_the_asset_it_puts_first() -> None:
    log = _log((2.0, [{"action": "set_priorities", "order": ["PS1", "WT1"]}]))
    assert holds_on({"did": {"action": "set_priorities", "target": "PS1"}}, log)
    assert not holds_on({"did": {"action": "set_priorities", "target": "WT1"}}, log)


def test_took_effect_needs_the_effect_record_and_not_one_that_came_too_late() -> None:
    decided = (3.0, [{"action": "protect_asset", "target": "WT1"}])
    worked = _log(decided, effects=((9.0, "protect_asset", "WT1", {"effective": True}),))
    too_late = _log(decided, effects=((9.0, "protect_asset", "WT1", {"effective": False}),))
    pending = _log(decided)
    other = _log(decided, effects=((9.0, "protect_asset", "H1", {"effective": True}),))
    c = {"did": {"action": "protect_asset", "target": "WT1", "took_effect": True}}
    assert holds_on(c, worked)
    assert not holds_on(c, too_late) and not holds_on(c, pending) and not holds_on(c, other)
    assert holds_on({"did": {"action": "protect_asset", "target": "WT1"}}, too_late)  # decided it, all the same


def test_an_action_of_another_kind_on_the_same_target_is_not_this_action() -> None:
    log = _log((1.0, [{"action": "dispatch_crew", "target": "WT1"}]))
    assert not holds_on({"did": {"action": "protect_asset", "target": "WT1"}}, log)


def _texts(p: Any) -> FeedbackTexts:
    return FeedbackTexts.model_validate({"P": p, "S": "s", "M": "m", "U": "u"})


VARIANTS = [
    {"when": {"did": {"action": "protect_asset", "target": "WT1"}},
     "text": {"en": "You protected the works.", "de": "Sie haben das Werk geschützt."}},
    {"when": {"did": {"action": "protect_asset"}}, "text": "You protected something else."},
    {"text": {"en": "The water did not reach the works this time.", "de": "Das Wasser erreichte das Werk diesmal nicht."}},
]


def test_the_first_variant_whose_condition_holds_is_shown_in_the_readers_language() -> None:
    fb = _texts(VARIANTS).P
    assert feedback_text(fb, LogFacts(_log(PROTECT_WT1))) == "You protected the works."
    assert feedback_text(fb, LogFacts(_log(PROTECT_WT1)), "de") == "Sie haben das Werk geschützt."
    assert feedback_text(fb, LogFacts(_log((1.0, [{"action": "protect_asset", "target": "H1"}])))) \
        == "You protected something else."
    assert feedback_text(fb, LogFacts(_log()), "de") == "Das Wasser erreichte das Werk diesmal nicht."
    assert feedback_text(fb, LogFacts(_log()), "pt") == "The water did not reach the works this time."  # English fallback


def test_a_plain_text_stays_valid_and_reads_no_log() -> None:
    class Unreadable(EventLog):
        def of_kind(self, *kinds: str) -> list[Any]:
            raise AssertionError("a plain text must not read the log")

    assert feedback_text(_texts("Excellent").P, LogFacts(Unreadable())) == "Excellent"


# --------------------------------------------------------------------------------------------
# Grading: only the rating given is looked at


def _with_feedback(sc: Scenario, cid: str, rating: str, entry: Any) -> Scenario:
    rubric = sc.rubric
    crits = tuple(c.model_copy(update={"feedback": c.feedback.model_copy(
        update={rating: FeedbackTexts.model_validate({**{k: "x" for k in "PSMU"}, rating: entry}).__dict__[rating]})})
        if c.id == cid else c for c in rubric.criteria)
    return sc.model_copy(update={"rubric": rubric.model_copy(update={"criteria": crits})})


def _run(sc: Scenario, city: City, decisions: list[dict[str, Any]]) -> EventLog:
    from scro_sim.engine import Simulation
    from scro_sim.policy import RecordedDecisions

    return Simulation(sc, city, 1, RecordedDecisions(decisions)).run()


PROTECT_AT_0 = [{"time_h": 0.0, "actions": [{"action": "protect_asset", "target": "WT1"}]}]


def test_grading_shows_the_variant_the_log_earns(mini_scenario: Scenario, mini_city: City) -> None:
    sc = _with_feedback(mini_scenario, "C3", "S", VARIANTS)
    judged = {"C3": {"rating": "S", "comment": "", "by": "a"}}
    done = grade(_run(sc, mini_city, PROTECT_AT_0), sc, judgements=judged)
    idle = grade(_run(sc, mini_city, []), sc, judgements=judged, lang="de")
    assert next(c for c in done.criteria if c.id == "C3").feedback == "You protected the works."
    assert next(c for c in idle.criteria if c.id == "C3").feedback == "Das Wasser erreichte das Werk diesmal nicht."


def test_grading_evaluates_no_condition_of_a_rating_not_given(mini_scenario: Scenario, mini_city: City) -> None:
    from scro_sim.scoring import compute_metrics

    class Counting(EventLog):
        reads = 0

        def of_kind(self, *kinds: str) -> list[Any]:
            if "action" in kinds:  # only the feedback conditions read the effects
                Counting.reads += 1
            return super().of_kind(*kinds)

    took = [{"when": {"did": {"action": "protect_asset", "target": "WT1", "took_effect": True}}, "text": "worked"},
            {"when": {"did": {"action": "protect_asset", "took_effect": True}}, "text": "worked elsewhere"},
            {"text": "fallback"}]
    log = Counting(_run(mini_scenario, mini_city, PROTECT_AT_0).records)
    m = compute_metrics(log)
    judged = {"C3": {"rating": "S", "comment": "", "by": "a"}}
    Counting.reads = 0
    grade(log, _with_feedback(mini_scenario, "C3", "P", took), metrics=m, judgements=judged)
    assert Counting.reads == 0  # C3 is rated S: P's conditions never run
    card = grade(log, _with_feedback(mini_scenario, "C3", "S", took), metrics=m, judgements=judged)
    assert Counting.reads == 1  # the rating given: the log read once, however many variants ask
    assert next(c for c in card.criteria if c.id == "C3").feedback == "worked"


# --------------------------------------------------------------------------------------------
# Loading: the new shape in YAML, and each mistake as file:line: field: message

P_LINE = "      feedback: {P: Excellent, S: Good, M: Fair, U: Poor}\n"


def _scenario_with(base: str, p_block: str) -> str:
    assert base.count(P_LINE) == 1
    return base.replace(P_LINE, "      feedback:\n        P:\n" + p_block + "        S: Good\n        M: Fair\n        U: Poor\n")


GOOD_P = (
    "          - when: {did: {action: protect_asset, target: WT1, before_h: 6}}\n"
    "            text: {en: You protected the works., de: Sie haben das Werk geschützt.}\n"
    "          - when:\n"
    "              any:\n"
    "                - {did: {action: warn_public, target: D1}}\n"
    "                - all: [{did: {action: set_priorities, target: PS1}}, {did_not: {action: close_road, target: N1~N2}}]\n"
    "            text: You acted on it.\n"
    "          - text: The water did not reach the works this time.\n"
)


@pytest.fixture(scope="module")
def base_text(mini_scenario_path: Path) -> str:
    return mini_scenario_path.read_text(encoding="utf-8")


def problems(text: str, city: City) -> list[Any]:
    with pytest.raises(ScenarioError) as info:
        load_scenario("s.yaml", city=city, text=text)
    return info.value.problems


def test_variants_load_from_yaml(base_text: str, mini_city: City) -> None:
    sc, _ = load_scenario("s.yaml", city=mini_city, text=_scenario_with(base_text, GOOD_P))
    p = sc.rubric.criteria[0].feedback.P
    assert isinstance(p, tuple) and len(p) == 3 and p[2].when is None
    assert p[0].when is not None and p[0].when.did is not None and p[0].when.did.before_h == 6


def test_the_schema_takes_both_shapes(base_text: str) -> None:
    from scro_sim.yamlio import load_yaml

    for block in (GOOD_P, "          Excellent\n"):
        data = load_yaml(None, path="s.yaml", text=_scenario_with(base_text, block)).data
        jsonschema.Draft202012Validator(scenario_schema()).validate(data)
    bad = load_yaml(None, path="s.yaml", text=_scenario_with(
        base_text, "          - when: {did: {action: protect_asset}}\n            text: x\n            extra: 1\n"
                   "          - text: y\n")).data
    assert not jsonschema.Draft202012Validator(scenario_schema()).is_valid(bad)


def _line(text: str, needle: str) -> int:
    hits = [i + 1 for i, ln in enumerate(text.splitlines()) if needle in ln]
    assert len(hits) == 1, (needle, hits)
    return hits[0]


@pytest.mark.parametrize(("block", "field", "words", "at"), [
    ("          - when: {did: {action: sandbag, target: WT1}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.action", "Input should be", "sandbag"),
    ("          - when: {did: {action: protect_asset, target: NOPE}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.target", "unknown asset 'NOPE'", "NOPE"),
    ("          - when: {did: {action: evacuate, target: WT1}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.target", "unknown district 'WT1'", "evacuate"),
    ("          - when: {did: {action: open_surge_beds, target: WT1}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.target", "is not a hospital", "action: open_surge_beds"),
    ("          - when: {did: {action: close_road, target: N1~N9}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.target", "unknown road", "N1~N9"),
    ("          - when: {did: {action: request_mutual_aid, target: WT1}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.target", "names no target", "request_mutual_aid"),
    ("          - when: {did_not: {action: set_priorities, target: XX}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did_not.target", "unknown asset 'XX'", "XX"),
    ("          - when: {any: [{did: {action: protect_asset}}, {did: {action: refuel, target: Q9}}]}\n"
     "            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.any[1].did.target", "unknown asset 'Q9'", "Q9"),
    ("          - when: {did: {action: protect_asset, before_h: 500}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.before_h", "after the", "before_h"),
    ("          - when: {did: {action: protect_asset}}\n            text: x\n",
     "rubric.criteria[0].feedback.P[0].when", "the last variant is the fallback", "- when: {did"),
    ("          - text: y\n          - when: {did: {action: protect_asset}}\n            text: x\n          - text: z\n",
     "rubric.criteria[0].feedback.P[0]", "only the last variant may leave out when", "- text: y"),
    ("          - when: {did: {action: protect_asset}, did_not: {action: evacuate}}\n            text: x\n"
     "          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when", "exactly one of did, did_not, any, all", "did_not"),
    ("          - when: {}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when", "exactly one of did, did_not, any, all", "when: {}"),
    ("          - when: {did: {action: protect_asset}}\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].text", "required field is missing", "when: {did"),
    ("          - when: {did: {action: protect_asset, colour: red}}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.did.colour", "unknown field", "colour"),
    ("          - when: {any: []}\n            text: x\n          - text: y\n",
     "rubric.criteria[0].feedback.P[0].when.any", "at least 1", "any: []"),
    ("          []\n", "rubric.criteria[0].feedback.P", "at least 1", ("          []", -1)),
], ids=["unknown-action", "unknown-target", "district-action-on-asset", "not-a-hospital", "unknown-road",
        "no-target-field", "order-asset", "nested", "before-after-end", "no-fallback", "fallback-not-last",
        "two-tests", "no-test", "no-text", "unknown-field", "empty-any", "empty-list"])
def test_a_bad_feedback_variant_is_refused_with_its_line(base_text: str, mini_city: City, block: str,
                                                         field: str, words: str, at: Any) -> None:
    text = _scenario_with(base_text, block).replace(  # a hospital-only action, enabled
        "actions:\n  close_road: {cost: 100}\n", "actions:\n  close_road: {cost: 100}\n  open_surge_beds: {enabled: true}\n")
    probs = problems(text, mini_city)
    assert [p.field for p in probs] == [field], probs
    assert words in probs[0].message, probs[0]
    needle, shift = at if isinstance(at, tuple) else (at, 0)  # the line holding needle, or one near it
    assert probs[0].path == "s.yaml" and probs[0].line == _line(text, needle) + shift, probs[0]


def test_a_disabled_action_in_a_condition_is_refused(base_text: str, mini_city: City) -> None:
    text = _scenario_with(base_text, "          - when: {did: {action: protect_asset}}\n            text: x\n"
                                     "          - text: y\n")
    text = text.replace("actions:\n  close_road: {cost: 100}\n",
                        "actions:\n  close_road: {cost: 100}\n  protect_asset: {enabled: false}\n")
    probs = problems(text, mini_city)
    assert any(p.field == "rubric.criteria[0].feedback.P[0].when.did.action" and "not enabled" in p.message
               for p in probs), probs
