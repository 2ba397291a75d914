"""The player's levers against a cyber attack (IT incident response) and a hospital surge, by hand.

Same style as ``test_engine.py``: tiny cities from ``tests/enginekit.py``, every time computed
in the docstring.  The kit's depot DEP is on node D; D to A is 3 km at 30 km/h = 0.1 h.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

# --------------------------------------------------------------------------------------------
# IT incident response

IT_TEAM = {"crews": [{"id": "it_team", "count": 1, "depot": "DEP", "skills": ["it"]}], "budget": 100000}


def water_city():
    """WT (the waterworks, at node A) feeds the district Z; a hospital-free, power-free town."""
    return make_city([asset("WT", "water_treatment", criticality=5)],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"water": ["WT"]}}])


def it_scenario(*, response: float | None = 4.0, effect: str = "shutdown", times_h=(3.0,)):
    hz = cyber("WT", start_h=2, detection_delay_h=0.5, recovery_h=30)
    hz["effect"] = effect
    if response is not None:
        hz["incident_response_h"] = response
    return make_scenario([hz], duration_h=48, times_h=times_h, resources=IT_TEAM)


def test_without_the_it_team_the_outage_lasts_detection_plus_recovery() -> None:
    """Down at 2 h, detected at 2.5 h, back unassisted 30 h later: 32.5 h (the old behaviour)."""
    log = Simulation(it_scenario(), water_city(), 0).run()
    assert times(log, "asset_down", "WT") == [2.0]
    assert times(log, "asset_up", "WT") == [32.5]
    assert records(log, "hazard", "cyber1", recovered=True)[0].data["unassisted"] == ["WT"]
    assert records(log, "repair") == []


def test_without_incident_response_h_the_it_team_cannot_be_sent() -> None:
    """No incident_response_h: nothing is open to IT crews, the dispatch is refused, back at 32.5 h."""
    sim = Simulation(it_scenario(response=None), water_city(), 0)
    sim.advance(), sim.advance()  # 0 h, 2.5 h (the detection is not an inject: the next stop is 3 h)
    with pytest.raises(DecisionError, match="no crew team has the skills"):
        sim.apply([act("dispatch_crew", "WT", crew="it_team")])
    sim.run()
    assert times(sim.log, "asset_up", "WT") == [32.5]
    assert "unassisted" not in records(sim.log, "hazard", "cyber1", recovered=True)[0].data


def test_dispatched_it_team_restores_the_plant_after_its_work() -> None:
    """Order at 3 h + 0.25 h lead = 3.25 h; 0.1 h on the road: on site 3.35 h; 4 h of work: up at 7.35 h.
    The taps were dry from 2 h: the mains refill for 5.35 h, water at 12.7 h."""
    sim = Simulation(it_scenario(), water_city(), 0)
    log = play(sim, {3.0: [act("dispatch_crew", "WT", crew="it_team")]})
    assert times(log, "repair", "WT", state="started") == [3.35]
    assert records(log, "repair", "WT", state="started")[0].data["damage"] == "cyber"
    assert times(log, "repair", "WT", state="finished", restored=True) == [7.35]
    assert times(log, "asset_up", "WT") == [7.35]
    assert records(log, "hazard", "cyber1", recovered=True)[0].data["unassisted"] == []
    assert times(log, "water_refill", "Z") == [7.35]
    assert records(log, "service", "Z", service="water")[-1].time == pytest.approx(12.7)


def test_dispatch_without_a_team_name_picks_the_it_team_for_a_cyber_hit_asset() -> None:
    sim = Simulation(it_scenario(), water_city(), 0)
    log = play(sim, {3.0: [act("dispatch_crew", "WT")]})
    assert records(log, "action", "WT")[0].data["team"] == "it_team"
    assert times(log, "asset_up", "WT") == [7.35]


def test_priorities_send_idle_it_crews_to_the_cyber_hit_assets() -> None:
    """set_priorities has no lead time: at 3 h the crew leaves, 3.1 h on site, up at 7.1 h."""
    log = play(Simulation(it_scenario(), water_city(), 0), {3.0: [act("set_priorities", order=("WT",))]})
    assert times(log, "asset_up", "WT") == [7.1]


def test_it_crews_take_the_cyber_hit_assets_in_the_priority_order_not_the_citys_order() -> None:
    """WT1 (listed first) and WT2 both hit at 2 h; the priority list names WT2 only.  The one IT
    crew leaves at 3 h for WT2 (3.1 h on site, up at 7.1 h), then WT1: 0 km away, up at 11.1 h."""
    city = make_city([asset("WT1", "water_treatment", criticality=5), asset("WT2", "water_treatment", criticality=5)],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"water": ["WT1", "WT2"]}}])
    hz = cyber("WT1", "WT2", start_h=2, detection_delay_h=0.5, recovery_h=30)
    hz["incident_response_h"] = 4.0
    sc = make_scenario([hz], duration_h=48, times_h=(3.0,), resources=IT_TEAM)
    log = play(Simulation(sc, city, 0), {3.0: [act("set_priorities", order=("WT2",))]})
    assert times(log, "asset_up", "WT2") == [7.1]
    assert times(log, "asset_up", "WT1") == [pytest.approx(11.1)]


def test_tampered_plant_is_shut_at_detection_and_restored_the_same_way() -> None:
    """Tamper: the plant runs on until operators see it at 2.5 h and shut it; the IT team as above."""
    log = play(Simulation(it_scenario(effect="tamper"), water_city(), 0),
               {3.0: [act("dispatch_crew", "WT", crew="it_team")]})
    assert times(log, "asset_down", "WT") == [2.5]
    assert times(log, "asset_up", "WT") == [7.35]


def test_work_finished_after_the_unassisted_recovery_changes_nothing() -> None:
    """40 h of IT work from 3.35 h ends at 43.35 h, after the plant came back by itself at 32.5 h."""
    log = play(Simulation(it_scenario(response=40.0), water_city(), 0),
               {3.0: [act("dispatch_crew", "WT", crew="it_team")]})
    assert times(log, "asset_up", "WT") == [32.5]
    assert times(log, "repair", "WT", state="finished", restored=False) == [43.35]


def test_incident_response_hours_come_from_their_own_stream() -> None:
    """A drawn duration is reproducible and leaves the hazard parameters (stream 0) alone."""
    dist = {"dist": "uniform", "low": 2, "high": 6}
    a, b = (play(Simulation(it_scenario(response=dist), water_city(), 11),
                 {3.0: [act("dispatch_crew", "WT", crew="it_team")]}) for _ in range(2))
    assert a.digest() == b.digest()
    hours = records(a, "repair", "WT", state="started")[0].data["hours"]
    assert 2 <= hours <= 6
    assert times(a, "asset_up", "WT")[0] == pytest.approx(3.35 + hours, abs=1e-6)
    fixed = Simulation(it_scenario(), water_city(), 11)
    assert records(a, "run_start")[0].data["hazard_params"] == fixed.hazard_params


# --------------------------------------------------------------------------------------------
# surge beds

BEDS = {"open_surge_beds": {"enabled": True, "cost": 1000, "lead_time_h": 4, "surge_share": 0.2}}


def surge_city():
    """One 100-bed hospital H serving the district Z."""
    return make_city([asset("H", "hospital", capacity=100, criticality=5)],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"health": ["H"]}}])


def surge_scenario(*, actions=BEDS, times_h=(3.0,)):
    """85 patients in 100 beds, plus 3 per hour up to 30 at 10 h, back to 0 at 20 h.

    Overflowing (> 100) once the extra passes 15: from 6 h (103) until 15 h (exactly 100).
    """
    hz = {"id": "surge1", "type": "surge", "hospitals": ["H"], "start_h": 0, "peak_h": 10, "end_h": 20,
          "baseline_occupancy": 0.85, "peak_extra_patients": 30}
    return make_scenario([hz], duration_h=24, times_h=times_h, actions=actions, resources={"budget": 5000})


def test_without_surge_beds_the_hospital_overflows_from_6_to_15_h() -> None:
    log = Simulation(surge_scenario(), surge_city(), 0).run()
    assert times(log, "asset_down", "H") == [6.0]
    assert times(log, "asset_up", "H") == [15.0]


def test_surge_beds_opened_early_prevent_the_overflow() -> None:
    """20 % of 100 beds from 4 h: at the peak 115 patients in 120 beds, 0.9583."""
    log = play(Simulation(surge_scenario(times_h=()), surge_city(), 0), {0.0: [act("open_surge_beds", "H")]})
    assert records(log, "action", "H")[0].data == {"action": "open_surge_beds", "beds": 20, "capacity": 120.0}
    assert times(log, "action", "H") == [4.0]
    assert records(log, "asset_down", "H") == []
    peak = next(r for r in records(log, "hazard", "surge1") if r.time == 10.0)
    assert peak.data["occupancy"] == {"H": 0.9583}
    assert records(log, "cost", "open_surge_beds")[0].data["amount"] == 1000


def test_surge_beds_opened_late_end_the_overflow_when_they_open() -> None:
    """Decided at 3 h, open at 7 h: overflowing 6-7 h only ((85 + 21) / 120 = 0.883 at 7 h)."""
    log = play(Simulation(surge_scenario(), surge_city(), 0), {3.0: [act("open_surge_beds", "H")]})
    assert times(log, "asset_down", "H") == [6.0]
    assert times(log, "asset_up", "H") == [7.0]


def test_surge_beds_the_staff_can_hold_for_staff_h_close_again_and_the_overflow_returns() -> None:
    """Open from 4 h, held 6 h: closed at 10 h, at the peak (85 + 30 in 100 beds), down until 15 h;
    the staff must rest, so they cannot be opened again."""
    actions = {"open_surge_beds": {**BEDS["open_surge_beds"], "staff_h": 6}}
    log = play(Simulation(surge_scenario(actions=actions, times_h=()), surge_city(), 0),
               {0.0: [act("open_surge_beds", "H")]})
    assert records(log, "action", "H")[0].data["until_h"] == 10.0
    (closed,) = records(log, "surge_beds", "H")
    assert (closed.time, closed.data) == (10.0, {"state": "closed", "beds": 20, "capacity": 100.0})
    assert times(log, "asset_down", "H") == [10.0]
    assert times(log, "asset_up", "H") == [15.0]
    sim = Simulation(surge_scenario(actions=actions, times_h=(0.0, 12.0)), surge_city(), 0)
    sim.advance()
    sim.apply([act("open_surge_beds", "H")])
    assert sim.advance().time_h == 12.0
    with pytest.raises(DecisionError, match="already opened or on the way"):
        sim.apply([act("open_surge_beds", "H")])


def test_surge_beds_are_refused_twice_when_disabled_and_for_a_non_hospital() -> None:
    sim = Simulation(surge_scenario(), surge_city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already opened or on the way"):
        sim.apply([act("open_surge_beds", "H"), act("open_surge_beds", "H")])
    sim.apply([act("open_surge_beds", "H")])
    with pytest.raises(DecisionError, match="already opened or on the way"):
        sim.apply([act("open_surge_beds", "H")])
    with pytest.raises(DecisionError, match="'DEP' is not a hospital"):
        sim.apply([act("open_surge_beds", "DEP")])
    off = Simulation(surge_scenario(actions={}), surge_city(), 0)
    off.advance()
    assert "open_surge_beds" not in off.observe().allowed
    with pytest.raises(DecisionError, match="not enabled"):
        off.apply([act("open_surge_beds", "H")])


def test_observation_shows_beds_and_occupancy() -> None:
    sim = Simulation(surge_scenario(times_h=(8.0,)), surge_city(), 0)
    sim.advance()
    sim.apply([act("open_surge_beds", "H")])  # at 0 h: open from 4 h
    obs = sim.advance()  # 8 h: (85 + 24) / 120
    assert obs.hospitals == {"H": {"beds": 100, "surge_beds": 20, "occupancy": 0.9083, "overloaded": False}}
    assert obs.allowed["open_surge_beds"]["lead_time_h"] == 4


def test_greedy_opens_surge_beds_once_a_hospital_overflows() -> None:
    """Greedy sees the overflow at 6 h; the beds open at 10 h ((85 + 30) / 120 < 1): down 6-10 h."""
    from scro_sim.policy import Greedy

    log = Simulation(surge_scenario(times_h=(6.0, 8.0)), surge_city(), 0, Greedy()).run()
    assert times(log, "action", "H") == [10.0]
    assert times(log, "asset_down", "H") == [6.0]
    assert times(log, "asset_up", "H") == [10.0]
