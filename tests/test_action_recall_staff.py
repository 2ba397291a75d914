"""recall_staff by hand: staff called back from leave for a crew team or a hospital, for recall_h hours.

tests/enginekit.py's tiny city: one team T of 1 crew, a hospital H of 100 beds, four substations
put out of service at 1 h.  Recalled at 0 h with a 1 h lead time, the team has a second crew
from 1 h to 1 + recall_h.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.engine.actions import REGISTRY
from scro_sim.errors import DecisionError

ON = {"recall_staff": {"enabled": True, "cost": 1000, "lead_time_h": 1, "recall_crews": 1, "recall_share": 0.2,
                       "recall_h": 4}}
CREWS = {"budget": 50000, "crews": [{"id": "T", "count": 1, "depot": "DEP", "skills": ["general"]}]}
OUTAGE = {"id": "hit", "type": "outage", "targets": ["S1", "S2", "S3", "S4"], "start_h": 1, "state": "failed"}
PRIORITIES = act("set_priorities", order=("S1", "S2", "S3", "S4"))


def city():
    return make_city([asset("H", "hospital", capacity=100, criticality=5),
                      *(asset(f"S{k}", "substation") for k in range(1, 5))])


def sim(hazards=(OUTAGE,), duration_h=60.0):
    return Simulation(make_scenario(list(hazards), duration_h=duration_h, times_h=(0.0,), actions=ON,
                                    resources=CREWS), city(), 2)


def test_a_recalled_crew_joins_its_team_works_its_hours_then_stands_down() -> None:
    log = play(sim(), {0.0: [PRIORITIES, act("recall_staff", crew="T")]})
    crews = {r.data["crew"] for r in records(log, "repair", state="started")}
    assert crews == {"T#1", "T+recalled#1"}
    [down] = records(log, "crew", "T+recalled#1", state="off_duty")
    assert (down.time, down.data["cause"]) == (5.0, "stand_down")
    late = [r for r in records(log, "repair", state="started") if r.data["crew"] == "T+recalled#1"]
    assert all(r.time <= 5.0 for r in late)  # no new job once its hours are over


def test_a_recalled_crew_with_nothing_to_do_shows_as_off_duty_once_its_hours_are_over() -> None:
    """No damage before 9 h: the recalled crew waits idle from 1 h and is sent home at 5 h; at 6 h the
    learner sees it off duty, not idle and available."""
    late = {**OUTAGE, "targets": ["S1"], "start_h": 9}  # after the crew's hours
    s = Simulation(make_scenario([late], duration_h=10, times_h=(0.0, 6.0), actions=ON, resources=CREWS), city(), 2)
    s.advance()
    s.apply([act("recall_staff", crew="T")])
    obs = s.advance()
    assert obs.time_h == 6.0
    assert {c["id"]: c["state"] for c in obs.crews} == {"T#1": "idle", "T+recalled#1": "off_duty"}


def test_recalling_a_team_restores_service_sooner_than_one_crew_alone() -> None:
    def last_repair(decisions):
        return max(r.time for r in records(play(sim(duration_h=1000), decisions), "repair", state="finished"))

    assert last_repair({0.0: [PRIORITIES, act("recall_staff", crew="T")]}) < last_repair({0.0: [PRIORITIES]})


def test_recalled_hospital_staff_staff_more_beds_for_their_hours() -> None:
    surge = {"id": "s", "type": "surge", "hospitals": ["H"], "start_h": 0, "peak_h": 3, "end_h": 6,
             "baseline_occupancy": 0.9, "peak_extra_patients": 15}
    plain = play(sim([surge], 10), {})
    helped = play(sim([surge], 10), {0.0: [act("recall_staff", "H")]})
    assert records(plain, "asset_down", "H") and not records(helped, "asset_down", "H")
    [closed] = records(helped, "surge_beds", "H")
    assert (closed.time, closed.data["beds"], closed.data["cause"]) == (5.0, 20, "stand_down")


def test_a_team_or_a_hospital_is_recalled_once() -> None:
    s = sim()
    s.advance()
    with pytest.raises(DecisionError, match="staff for T have already been recalled in this exercise"):
        s.apply([act("recall_staff", crew="T"), act("recall_staff", crew="T")])
    s.apply([act("recall_staff", "H")])
    with pytest.raises(DecisionError, match="staff for H have already been recalled in this exercise"):
        s.apply([act("recall_staff", "H")])


@pytest.mark.parametrize(("action", "needle"), [
    (act("recall_staff"), "either a crew team (crew) or a hospital (target)"),
    (act("recall_staff", "H", crew="T"), "either a crew team (crew) or a hospital (target), not both"),
    (act("recall_staff", "S1"), "'S1' is not a hospital"),
    (act("recall_staff", crew="NOPE"), "unknown crew team 'NOPE'"),
])
def test_a_recall_naming_nothing_or_the_wrong_thing_is_refused(action, needle) -> None:
    s = sim()
    s.advance()
    with pytest.raises(DecisionError, match=needle.replace("(", r"\(").replace(")", r"\)")):
        s.apply([action])


def _expecting(targets):
    msel = [{"id": "I1", "at_h": 0, "sender": {"en": "s"}, "channel": "email", "text": {"en": "t"},
             "expected_actions": [{"id": "EA", "action": "recall_staff", "targets": targets, "deadline_h": 2,
                                   "description": {"en": "d"}}]}]
    return make_scenario([OUTAGE], duration_h=10, actions=ON, resources=CREWS, msel=msel)


def test_an_expected_recall_may_name_a_crew_team_and_a_recall_of_that_team_meets_it() -> None:
    from scro_sim.scenario import check_scenario_city

    assert check_scenario_city(_expecting(["T"]), city()) == []
    assert any("unknown target 'NOPE'" in p for p in check_scenario_city(_expecting(["NOPE"]), city()))
    log = play(Simulation(_expecting(["T"]), city(), 2), {0.0: [act("recall_staff", "H")]})
    hospital = [r for r in records(log, "expected") if r.data.get("status") == "met"]
    log = play(Simulation(_expecting(["T"]), city(), 2), {0.0: [act("recall_staff", crew="T")]})
    team = [r for r in records(log, "expected") if r.data.get("status") == "met"]
    assert not hospital and team


def test_the_terminal_says_whether_it_recalls_a_team_or_a_hospital() -> None:
    from scro_sim.engine.actions import get, parse_words

    assert parse_words(["recall", "crew", "T"]) == {"action": "recall_staff", "crew": "T"}
    assert parse_words(["recall", "hospital", "H"]) == {"action": "recall_staff", "target": "H"}
    assert parse_words(["recall", "T"]) == {"action": "recall_staff", "crew": "T"}  # the fields in order
    assert get("recall_staff").usage() == "recall crew TEAM | recall hospital HOSPITAL"


def test_a_placeholder_hospital_is_allowed_only_in_a_rule() -> None:
    """``$asset`` stands for the asset a plan rule fires on; named in a decision it is an unknown hospital."""
    kind, sc = REGISTRY["recall_staff"], make_scenario([OUTAGE], actions=ON, resources=CREWS)
    a = act("recall_staff", "$asset")
    assert kind.problems(a, sc, city(), in_rule=True) == []
    assert [field for field, _ in kind.problems(a, sc, city())] == [("target",)]
