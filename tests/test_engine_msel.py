"""Supply loops, expected actions and evacuation costs: behaviour pinned after review findings."""

from __future__ import annotations

import pytest
from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.scoring import grade

RING = [
    asset("PP1", "power_plant"),
    asset("PP2", "power_plant"),
    asset("SS1", "substation", needs={"power": ["PP1", "SS2"]}),
    asset("SS2", "substation", needs={"power": ["PP2", "SS1"]}),
]


def test_a_ring_of_substations_goes_dark_when_every_feed_outside_it_fails() -> None:
    city = make_city(RING)
    log = Simulation(make_scenario([cyber("PP1", "PP2", start_h=2, recovery_h=3, detection_delay_h=0)]), city, 0).run()
    assert times(log, "asset_down", "SS1") == [2.0]
    assert times(log, "asset_down", "SS2") == [2.0]
    assert times(log, "asset_up", "SS1") == [5.0]


def test_a_ring_with_one_feed_left_keeps_both_members_working() -> None:
    city = make_city(RING)
    log = Simulation(make_scenario([cyber("PP1", start_h=2, recovery_h=3, detection_delay_h=0)]), city, 0).run()
    assert records(log, "asset_down", "SS1") == []
    assert records(log, "asset_down", "SS2") == []


def test_a_ring_of_three_fed_from_one_plant_keeps_every_member_working() -> None:
    """SS1 -> SS2 -> SS3 -> SS1, fed from outside by PP1 (to SS1) and PP2 (to SS2): with PP2 out,
    power still goes round from SS1 to SS2 and on to SS3, and the hospital SS3 alone feeds keeps it."""
    ring = [asset("PP1", "power_plant"), asset("PP2", "power_plant"),
            asset("SS1", "substation", needs={"power": ["PP1", "SS3"]}),
            asset("SS2", "substation", needs={"power": ["PP2", "SS1"]}),
            asset("SS3", "substation", needs={"power": ["SS2"]}),
            asset("H", "hospital", needs={"power": ["SS3"]})]
    log = Simulation(make_scenario([cyber("PP2", start_h=2, recovery_h=3, detection_delay_h=0)]), make_city(ring),
                     0).run()
    assert times(log, "asset_down", "PP2") == [2.0]
    assert [r.subject for r in records(log, "asset_down")] == ["PP2"]


def _battery_ring(outage_h: float) -> EventLog:
    """SS1 -> SS2 -> SS3 -> SS1, fed from outside only by PP1 (to SS1); SS2 has a 6 h battery; the
    hospital H hangs on SS3.  PP1 is out from 2 h for ``outage_h`` hours."""
    ring = [asset("PP1", "power_plant"),
            asset("SS1", "substation", needs={"power": ["PP1", "SS3"]}),
            asset("SS2", "substation", needs={"power": ["SS1"]}, backup={"kind": "battery", "hours": 6}),
            asset("SS3", "substation", needs={"power": ["SS2"]}),
            asset("H", "hospital", needs={"power": ["SS3"]})]
    return Simulation(make_scenario([cyber("PP1", start_h=2, recovery_h=outage_h, detection_delay_h=0)],
                                    duration_h=30), make_city(ring), 0).run()


def test_a_ring_cut_off_from_its_plant_for_less_than_a_members_battery_runs_on_that_battery() -> None:
    """Out 3 h: SS2 carries the ring on its battery from 2 h to 5 h (3 of its 6 h used), nothing goes down."""
    log = _battery_ring(3.0)
    assert [(r.time, r.subject) for r in records(log, "asset_down")] == [(2.0, "PP1")]
    assert [(r.time, r.subject) for r in records(log, "backup_start")] == [(2.0, "SS2")]
    [stop] = records(log, "backup_stop", "SS2")
    assert (stop.time, stop.data["own_left_h"]) == (5.0, 3.0)


def test_a_ring_cut_off_for_longer_than_its_battery_goes_dark_when_the_battery_is_empty() -> None:
    """Out 20 h: the battery carries the ring for its 6 h; at 8 h the ring and the hospital go down,
    and all come back with the plant at 22 h (a battery does not feed a loop for ever)."""
    log = _battery_ring(20.0)
    assert times(log, "backup_exhausted", "SS2") == [8.0]
    assert sorted((r.time, r.subject) for r in records(log, "asset_down")) == [
        (2.0, "PP1"), (8.0, "H"), (8.0, "SS1"), (8.0, "SS2"), (8.0, "SS3")]
    assert {r.subject for r in records(log, "asset_up") if r.time == 22.0} == {"PP1", "SS1", "SS2", "SS3", "H"}


def test_a_members_battery_is_not_used_while_the_grid_still_reaches_the_ring() -> None:
    """PP1 feeds SS1 and PP2 feeds SS2: with PP1 out, PP2 still feeds the ring and SS2's battery stays full."""
    ring = [asset("PP1", "power_plant"), asset("PP2", "power_plant"),
            asset("SS1", "substation", needs={"power": ["PP1", "SS3"]}),
            asset("SS2", "substation", needs={"power": ["PP2", "SS1"]}, backup={"kind": "battery", "hours": 6}),
            asset("SS3", "substation", needs={"power": ["SS2"]})]
    log = Simulation(make_scenario([cyber("PP1", start_h=2, recovery_h=20, detection_delay_h=0)], duration_h=30),
                     make_city(ring), 0).run()
    assert records(log, "backup_start") == [] and [r.subject for r in records(log, "asset_down")] == ["PP1"]


def _msel_scenario(only_after: bool, at_h: float = 4.0, **kw: object) -> object:
    return make_scenario(
        [cyber("PP1", start_h=20)], duration_h=12, times_h=(0, 2, 6), resources={"budget": 10_000},
        msel=[{"id": "I1", "at_h": at_h, "sender": "Met", "channel": "email", "text": "Rain",
               "expected_actions": [{"id": "EA1", "action": "warn_public", "targets": ["Z"], "deadline_h": 2,
                                     "only_after_inject": only_after}]}],
        **kw,
    )


@pytest.mark.parametrize(("only_after", "met"), [(False, True), (True, False)])
def test_an_action_before_the_inject_counts_unless_only_after_inject(only_after: bool, met: bool) -> None:
    city = make_city([asset("PP1", "power_plant")])
    sim = Simulation(_msel_scenario(only_after), city, 0)  # type: ignore[arg-type]
    log = play(sim, {0.0: [act("warn_public", "Z", message="Rain is coming")]})
    assert bool(records(log, "expected", "EA1", status="met")) is met
    assert bool(records(log, "expected", "EA1", status="missed")) is not met


def test_timeliness_of_an_inject_that_never_arrived_is_not_applicable_and_not_counted() -> None:
    city = make_city([asset("PP1", "power_plant")])
    rubric = {"criteria": [
        {"id": "C1", "title": "Power", "kind": "computed", "weight": 1, "outcome": "LO1",
         "metric": "resilience_loss.power", "thresholds": {"P": 0, "S": 10, "M": 100},
         "feedback": {"P": "p", "S": "s", "M": "m", "U": "u"}},
        {"id": "C2", "title": "Warned", "kind": "computed", "weight": 3, "outcome": "LO1",
         "metric": "timeliness.EA1", "thresholds": {"P": 0, "S": 1, "M": 2},
         "feedback": {"P": "p", "S": "s", "M": "m", "U": "u"}}]}
    never = make_scenario([cyber("PP1", start_h=20)], duration_h=12, rubric=rubric,
                          msel=[{"id": "I1", "when": {"asset_down": "PP1"}, "sender": "Utility", "channel": "phone",
                                 "text": "Plant down", "expected_actions": [
                                     {"id": "EA1", "action": "warn_public", "deadline_h": 2}]}])
    card = grade(Simulation(never, city, 0).run(), never)
    c2 = next(c for c in card.criteria if c.id == "C2")
    assert c2.status == "not applicable" and c2.rating is None
    assert card.total == 100.0 and not card.provisional


def test_evacuation_is_charged_per_person_moved_up_to_the_shelter_places() -> None:
    city = make_city([asset("PP1", "power_plant"), asset("S1", "shelter", capacity=100)])
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, times_h=(0,),
                       resources={"budget": 1_000_000},
                       actions={"evacuate": {"cost": 1000, "cost_per_person": 10, "compliance": 0.5}})
    sim = Simulation(sc, city, 0)
    log = play(sim, {0.0: [act("evacuate", "Z", shelter="S1")]})
    moved = records(log, "population", "Z")[0].data["moved"]
    assert moved == 100  # 500 would leave, the shelter has 100 places
    assert records(log, "cost", "evacuate")[0].data["amount"] == 1000 + 10 * 100


def test_the_observation_shows_each_shelter_with_its_places_and_the_people_in_it() -> None:
    city = make_city([asset("PP1", "power_plant"), asset("S1", "shelter", capacity=100)])
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, times_h=(0, 6), resources={"budget": 1_000_000},
                       actions={"evacuate": {"lead_time_h": 1, "compliance": 0.5}})
    sim = Simulation(sc, city, 0)
    assert sim.advance().shelters == {"S1": {"places": 100, "people": 0, "state": "up"}}
    sim.apply([act("evacuate", "Z", shelter="S1")])
    assert sim.advance().shelters == {"S1": {"places": 100, "people": 100, "state": "up"}}


def test_overriding_compliance_keeps_the_other_evacuation_defaults() -> None:
    sc = make_scenario([cyber("PP1")], actions={"evacuate": {"compliance": 0.5}})
    assert sc.actions.evacuate.lead_time_h == 3.0 and sc.actions.evacuate.cost_per_person == 25


def test_a_scenario_has_at_most_one_flood() -> None:
    from enginekit import flood

    from scro_sim.scenario import check_scenario_city

    city = make_city([asset("PP1", "power_plant")], flood_plain=True)
    second = {**flood(), "id": "flood2"}
    sc = make_scenario([flood(), second])
    assert any("only one flood" in p for p in check_scenario_city(sc, city))


def test_a_crew_sent_before_the_damage_stands_by_and_repairs_on_the_spot() -> None:
    """Pre-positioning: dispatch_crew to an asset that still works moves the crew there; when the
    asset is damaged later, that crew repairs it without travelling (and only then)."""
    from enginekit import flood

    city = make_city([asset("PP1", "power_plant"),
                      asset("SS", "substation", "C", x=16000, y=0, elevation=1.0, needs={"power": ["PP1"]})],
                     flood_plain=True)
    sc = make_scenario([flood(peak_stage_m=3.0)], duration_h=48, times_h=(0,), resources={
        "budget": 10_000, "crews": [{"id": "pc", "count": 1, "depot": "DEP", "skills": ["power"]}]},
        actions={"dispatch_crew": {"lead_time_h": 0}},
        repair_times={"substation": {"degraded": [2, 0], "failed": [2, 0]}},
        fragility={"flood": {"substation": [{"median": 0.5, "beta": 0.1, "state": "failed"}]}})
    log = play(Simulation(sc, city, 0), {0.0: [act("dispatch_crew", "SS")]})
    crew = records(log, "crew", "pc#1")
    assert [r.data["state"] for r in crew][:3] == ["dispatched", "arrived", "standby"]
    dispatches = [r for r in crew if r.data["state"] == "dispatched"]
    assert dispatches[-1].data["travel_h"] == 0.0  # the second trip, to repair, starts where it stands
    (start,) = records(log, "repair", "SS", state="started")
    assert start.time > times(log, "damage", "SS")[0]


def _chain(n: int, *, reverse: bool = False) -> list[dict[str, object]]:
    """Inject I0 at hour 1, then I1 when I0 has arrived, I2 when I1 has, ... (listed backwards if ``reverse``)."""
    chained = [{"id": f"I{k}", "when": {"inject": f"I{k - 1}"}, "sender": "Met", "channel": "email", "text": f"t{k}"}
               for k in range(1, n)]
    first = {"id": "I0", "at_h": 1, "sender": "Met", "channel": "email", "text": "t0"}
    return [first, *(chained[::-1] if reverse else chained)]


@pytest.mark.parametrize("reverse", [False, True])
def test_thousands_of_chained_injects_all_arrive_in_chain_order(reverse: bool) -> None:
    n = 2000  # each link used to be a nested call: about 500 of them overflowed Python's stack
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, msel=_chain(n, reverse=reverse))
    log = Simulation(sc, make_city([asset("PP1", "power_plant")]), 0).run()
    arrived = records(log, "inject")
    assert [r.subject for r in arrived] == [f"I{k}" for k in range(n)]
    assert {r.time for r in arrived} == {1.0}


def test_of_the_injects_whose_condition_holds_the_first_in_the_file_arrives_next() -> None:
    def inj(iid: str, **when: object) -> dict[str, object]:
        return {"id": iid, "sender": "Met", "channel": "email", "text": iid, **when}

    msel = [inj("X", when={"inject": "B"}), inj("A", when={"inject": "I0"}), inj("B", when={"inject": "I0"}),
            inj("C", when={"inject": "A"}), inj("I0", at_h=1)]
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, msel=msel)
    log = Simulation(sc, make_city([asset("PP1", "power_plant")]), 0).run()
    # I0 readies A and B; A (first in the file) readies C; B readies X, which comes before C in the file
    assert [r.subject for r in records(log, "inject")] == ["I0", "A", "B", "X", "C"]


def _contingency_scenario(**kw: object) -> object:
    """I1 at 0 h asks for a warning to Z within 2 h; if it is missed, the contingency inject I2 follows."""
    return make_scenario(
        [cyber("PP1", start_h=20)], duration_h=12, times_h=(0, 1, 2, 6), resources={"budget": 10_000},
        msel=[{"id": "I1", "at_h": 0, "sender": "Met", "channel": "email", "text": "Rain",
               "expected_actions": [{"id": "EA1", "action": "warn_public", "targets": ["Z"], "deadline_h": 2,
                                     "contingency": "I2"}]},
              {"id": "I2", "contingency": True, "sender": "Mayor", "channel": "phone", "text": "Why no warning?",
               "expected_actions": [{"id": "EA2", "action": "evacuate", "targets": ["Z"], "deadline_h": 3}]}],
        **kw,
    )


def test_a_missed_deadline_fires_its_contingency_inject_at_the_deadline() -> None:
    city = make_city([asset("PP1", "power_plant")])
    log = play(Simulation(_contingency_scenario(), city, 0), {})  # type: ignore[arg-type]
    assert [(r.time, r.subject) for r in log.of_kind("inject")] == [(0.0, "I1"), (2.0, "I2")]
    assert times(log, "expected", "EA1", status="missed") == [2.0]
    assert records(log, "inject", "I2")[0].data["contingency"] is True
    # the contingency's own expected action is due from when it fired
    assert [r.data["due_h"] for r in records(log, "expected", "EA2", status="due")] == [5.0]
    assert times(log, "expected", "EA2", status="missed") == [5.0]


def test_a_deadline_met_in_time_never_fires_the_contingency() -> None:
    city = make_city([asset("PP1", "power_plant")])
    log = play(Simulation(_contingency_scenario(), city, 0), {1.0: [act("warn_public", "Z", message="Rain")]})  # type: ignore[arg-type]
    assert [r.subject for r in log.of_kind("inject")] == ["I1"]
    assert [(r.data["status"], r.data.get("late_h")) for r in records(log, "expected", "EA1")] == [("due", None),
                                                                                                   ("met", -1.0)]


def test_a_contingency_inject_is_never_delivered_on_its_own() -> None:
    """I2 has no time and no condition: only a missed deadline brings it."""
    city = make_city([asset("PP1", "power_plant")])
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12,
                       msel=[{"id": "I2", "contingency": True, "sender": "Mayor", "channel": "phone", "text": "?"}])
    assert records(Simulation(sc, city, 0).run(), "inject") == []


def test_an_action_exactly_at_the_deadline_is_on_time() -> None:
    """Warned at 2 h, due at 2 h: late by 0 h, so the expected action counts as done by the deadline."""
    city = make_city([asset("PP1", "power_plant")])
    log = play(Simulation(_contingency_scenario(), city, 0), {2.0: [act("warn_public", "Z", message="Rain")]})  # type: ignore[arg-type]
    (met,) = records(log, "expected", "EA1", status="met")
    assert (met.data["late_h"], met.data["due_h"], met.data["action_time_h"]) == (0.0, 2.0, 2.0)
    m = grade(log, _contingency_scenario()).metrics  # type: ignore[arg-type]
    assert m["timeliness.EA1"] == 0.0


def test_a_condition_inject_fires_when_its_condition_first_holds_and_only_once() -> None:
    """PP1 is attacked at 3 h and again goes down after recovering: the inject comes at 3 h, once."""
    city = make_city([asset("PP1", "power_plant")])
    sc = make_scenario([cyber("PP1", start_h=3, recovery_h=1, detection_delay_h=0),
                        cyber("PP1", start_h=6, recovery_h=1, detection_delay_h=0, hid="cyber2")], duration_h=12,
                       msel=[{"id": "I3", "when": {"asset_down": "PP1"}, "sender": "Utility", "channel": "phone",
                              "text": "Plant down", "expected_actions": [
                                  {"id": "EA3", "action": "dispatch_crew", "targets": ["PP1"], "deadline_h": 1.5}]}])
    log = Simulation(sc, city, 0).run()
    assert times(log, "asset_down", "PP1") == [3.0, 6.0]
    assert times(log, "inject", "I3") == [3.0]
    assert [r.data["due_h"] for r in records(log, "expected", "EA3", status="due")] == [4.5]


def test_a_warning_to_another_district_does_not_meet_an_expected_warning_for_this_one() -> None:
    z = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25, "location": {"x": 0, "y": 9000},
         "elevation": 60.0, "road_node": "D"}
    city = make_city([asset("PP1", "power_plant")], districts=[z, {**z, "id": "Y", "name": "Y"}])
    to_y = play(Simulation(_contingency_scenario(), city, 0), {1.0: [act("warn_public", "Y", message="Rain")]})  # type: ignore[arg-type]
    to_all = play(Simulation(_contingency_scenario(), city, 0), {1.0: [act("warn_public", "all", message="Rain")]})  # type: ignore[arg-type]
    assert records(to_y, "expected", "EA1", status="met") == []
    assert times(to_y, "expected", "EA1", status="missed") == [2.0]
    assert times(to_all, "expected", "EA1", status="met") == [1.0]


def _pause_scenario(at_injects: bool) -> object:
    """I1 (2 h) does not pause, I2 (4 h) does; the only timed decision point is at 6 h."""
    msg = {"sender": "Met", "channel": "email", "text": "Rain"}
    return make_scenario([cyber("PP1", start_h=20)], duration_h=12,
                         decision_points={"times_h": [6.0], "at_injects": at_injects},
                         msel=[{"id": "I1", "at_h": 2, **msg}, {"id": "I2", "at_h": 4, "pause": True, **msg}])


def _stops(sim: Simulation) -> list[tuple[float, str]]:
    """Play to the end without deciding anything; (hour, cause) of each decision point the player got."""
    while not sim.done:
        sim.advance()
    return [(r.time, r.data["cause"]) for r in records(sim, "decision_point")]


def test_only_a_pausing_inject_stops_play_and_the_stop_says_it_was_an_inject() -> None:
    sim = Simulation(_pause_scenario(at_injects=True), make_city([asset("PP1", "power_plant")]), 0)  # type: ignore[arg-type]
    assert _stops(sim) == [(0.0, "decision"), (4.0, "inject"), (6.0, "decision")]


def test_a_pausing_inject_does_not_stop_play_when_the_scenario_turns_inject_stops_off() -> None:
    sim = Simulation(_pause_scenario(at_injects=False), make_city([asset("PP1", "power_plant")]), 0)  # type: ignore[arg-type]
    assert _stops(sim) == [(0.0, "decision"), (6.0, "decision")]
    assert times(sim, "inject") == [2.0, 4.0]


def test_a_crew_the_priority_list_sends_anywhere_meets_an_expected_dispatch_with_no_targets() -> None:
    """No targets means any target: the crew the list sends to SS at 1 h does the expected dispatch."""
    quake = {"earthquake": {"median": 0.0001, "beta": 0.01, "state": "failed"}}
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", "C", x=16000, y=5000,
                                                        needs={"power": ["PP"]}, fragility=quake)])
    shake = {"id": "eq", "type": "earthquake", "time_h": 0.5, "epicentre": [16000, 5000], "magnitude": 5.0}
    res = {"budget": 1e6, "crews": [{"id": "pc", "count": 1, "depot": "DEP", "skills": ["power"]}]}
    expect = [{"id": "EA_any", "action": "dispatch_crew", "deadline_h": 2.5},
              {"id": "EA_other", "action": "dispatch_crew", "targets": ["PP"], "deadline_h": 2.5}]
    sc = make_scenario([shake], duration_h=12, times_h=(1.0,), resources=res,
                       msel=[{"id": "I1", "at_h": 0.5, "sender": "Utility", "channel": "phone", "text": "SS down",
                              "expected_actions": expect}])
    log = play(Simulation(sc, city, 0), {1.0: [act("set_priorities", order=("SS",))]})
    assert times(log, "expected", "EA_any", status="met") == [1.0]
    assert times(log, "expected", "EA_other", status="missed") == [3.0]


def test_an_inject_shows_a_policy_what_it_asks_with_the_criticality_of_the_named_assets() -> None:
    """The observation carries an inject's expected actions as ``asks`` (what the words ask of the
    player), so a scripted responder can answer them; the log does not change."""
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, times_h=(6.0,),
                       msel=[{"id": "I1", "at_h": 2, "pause": True, "channel": "radio", "sender": "Grid", "text": "Crews?",
                              "expected_actions": [
                                  {"id": "EA1", "action": "dispatch_crew", "targets": ["SS", "PP1"], "deadline_h": 2},
                                  {"id": "EA2", "action": "request_mutual_aid", "deadline_h": 4}]}])
    city = make_city([asset("PP1", "power_plant", criticality=5), asset("SS", "substation", criticality=2)])
    sim = Simulation(sc, city, 0)
    sim.advance()
    (inj,) = sim.advance().injects
    assert inj["asks"] == [{"id": "EA1", "action": "dispatch_crew", "targets": ["SS", "PP1"],
                            "criticality": {"SS": 2, "PP1": 5}, "deadline_h": 2.0},
                           {"id": "EA2", "action": "request_mutual_aid", "targets": [], "criticality": {},
                            "deadline_h": 4.0}]
    (rec,) = records(sim, "inject", "I1")
    assert "asks" not in rec.data


def test_a_player_in_german_gets_the_inject_and_its_question_in_german_as_they_arrive() -> None:
    """What the player is shown when an inject arrives: the inject and the question asked at it, by
    id, as they arrive; the words come from the scenario in the player's language, never from the log."""
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, times_h=(6.0,),
                       msel=[{"id": "I1", "at_h": 2, "pause": True, "channel": "radio",
                              "sender": {"en": "Met office", "de": "Wetterdienst"},
                              "text": {"en": "Heavy rain", "de": "Starkregen"}}],
                       questions=[{"id": "Q1", "at_inject": "I1", "text": {"en": "What now?", "de": "Was nun?"}},
                                  {"id": "Q2", "at_h": 6, "text": "Later"}])
    sim = Simulation(sc, make_city([asset("PP1", "power_plant")]), 0)
    first = sim.advance()
    assert (first.time_h, first.injects, first.questions) == (0.0, [], [])
    at_inject = sim.advance()
    assert at_inject.time_h == 2.0
    assert at_inject.injects == [{"time_h": 2.0, "id": "I1", "channel": "radio", "pause": True, "contingency": False,
                                  "asks": []}]
    assert at_inject.questions == [{"id": "Q1"}]
    assert sc.inject_words("de")("I1") == {"sender": "Wetterdienst", "text": "Starkregen"}
    assert sc.question_text("Q1", "de") == "Was nun?"
    (rec,) = records(sim, "inject", "I1")
    assert rec.data == {"channel": "radio", "pause": True, "contingency": False}
    later = sim.advance()
    assert (later.time_h, later.injects, later.questions) == (6.0, [], [{"id": "Q2"}])


def test_expected_action_hours_are_logged_to_nine_decimals_as_stored_runs_were() -> None:
    """A third of an hour is logged as 0.333333333: stored runs were digested with these
    values, so a change of precision would make every stored run fail verification."""
    third = 1 / 3
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12, times_h=(1.0,), resources={"budget": 10_000},
                       msel=[{"id": "I1", "at_h": 0, "sender": "Met", "channel": "email", "text": "Rain",
                              "expected_actions": [
                                  {"id": "EA1", "action": "evacuate", "targets": ["Z"], "deadline_h": third},
                                  {"id": "EA2", "action": "warn_public", "targets": ["Z"], "deadline_h": 1 + third}]}])
    log = play(Simulation(sc, make_city([asset("PP1", "power_plant")]), 0), {1.0: [act("warn_public", "Z", message="Rain")]})
    assert [r.data["due_h"] for r in records(log, "expected", status="due")] == [0.333333333, 1.333333333]
    assert records(log, "expected", "EA1", status="missed")[0].data["due_h"] == 0.333333333
    (met,) = records(log, "expected", "EA2", status="met")
    assert (met.data["due_h"], met.data["late_h"], met.data["action_time_h"]) == (1.333333333, -0.333333333, 1.0)


def _water_ring_with_a_generator(generator_on: str) -> list:
    """PS1 and PS2 feed each other water, each also fed by its own plant; PS1 takes grid power too."""
    city = make_city([
        asset("PP", "power_plant"),
        asset("WT1", "water_treatment"),
        asset("WT2", "water_treatment"),
        asset("PS1", "pumping_station", needs={"water": ["WT1", "PS2"], "power": ["PP"]}),
        asset("PS2", "pumping_station", needs={"water": ["WT2", "PS1"]}),
    ])
    sc = make_scenario([cyber("WT1", "WT2", start_h=4, recovery_h=3, detection_delay_h=0)], duration_h=12,
                       times_h=(0,), resources={"budget": 100_000, "generators": {"count": 1}},
                       actions={"deploy_generator": {"cost": 1, "lead_time_h": 1.0, "fuel_hours": 24}})
    return play(Simulation(sc, city, 0), {0.0: [act("deploy_generator", generator_on)]})


def test_a_generator_in_a_water_ring_does_not_keep_the_ring_in_water() -> None:
    """A mobile generator gives power only: with both plants out the water ring goes dry all the same."""
    log = _water_ring_with_a_generator("PS1")
    assert records(log, "generator", "PS1", state="deployed")
    assert times(log, "asset_down", "PS1") == [4.0]
    assert times(log, "asset_down", "PS2") == [4.0]
