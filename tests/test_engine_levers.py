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
    """Order at 3 h + 0.25 h lead = 3.25 h; 0.1 h on the road: on site 3.35 h; 4 h of work: up at 7.35 h."""
    sim = Simulation(it_scenario(), water_city(), 0)
    log = play(sim, {3.0: [act("dispatch_crew", "WT", crew="it_team")]})
    assert times(log, "repair", "WT", state="started") == [3.35]
    assert records(log, "repair", "WT", state="started")[0].data["damage"] == "cyber"
    assert times(log, "repair", "WT", state="finished", restored=True) == [7.35]
    assert times(log, "asset_up", "WT") == [7.35]
    assert records(log, "hazard", "cyber1", recovered=True)[0].data["unassisted"] == []
    assert records(log, "service", "Z", service="water")[-1].time == pytest.approx(7.35)


def test_dispatch_without_a_team_name_picks_the_it_team_for_a_cyber_hit_asset() -> None:
    sim = Simulation(it_scenario(), water_city(), 0)
    log = play(sim, {3.0: [act("dispatch_crew", "WT")]})
    assert records(log, "action", "WT")[0].data["team"] == "it_team"
    assert times(log, "asset_up", "WT") == [7.35]


def test_priorities_send_idle_it_crews_to_the_cyber_hit_assets() -> None:
    """set_priorities has no lead time: at 3 h the crew leaves, 3.1 h on site, up at 7.1 h."""
    log = play(Simulation(it_scenario(), water_city(), 0), {3.0: [act("set_priorities", order=("WT",))]})
    assert times(log, "asset_up", "WT") == [7.1]


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
