"""manual_operation by hand: a crew runs a cyber-hit water plant for a shift (tests/enginekit.py's tiny city).

The waterworks WT at node A is shut by a cyber attack at 2 h, detected at 2.5 h, back by
itself 30 h later (32.5 h).  Defaults: lead time 1 h, a 12 h shift, 1000 + 150 per hour.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

CREWS = {"crews": [{"id": "water", "count": 1, "depot": "DEP", "skills": ["water"]}], "budget": 10000}
ON = {"manual_operation": {"enabled": True}}


def city():
    return make_city([asset("WT", "water_treatment", criticality=5), asset("SS", "substation")])


def scenario(*, actions=ON, resources=CREWS, response=None):
    hz = cyber("WT", start_h=2, detection_delay_h=0.5, recovery_h=30)
    if response is not None:
        hz["incident_response_h"] = response
    return make_scenario([hz], duration_h=48, times_h=(3.0,), actions=actions, resources=resources)


def test_a_posted_crew_runs_the_plant_for_one_shift() -> None:
    """Decided at 3 h, on site at 4 h: up 4-16 h, down again until the attack ends at 32.5 h; 2800 spent."""
    log = play(Simulation(scenario(), city(), 0), {3.0: [act("manual_operation", "WT")]})
    assert times(log, "asset_down", "WT") == [2.0, 16.0]
    assert times(log, "asset_up", "WT") == [4.0, 32.5]
    assert records(log, "action", "WT")[0].data == {"action": "manual_operation", "effective": True, "shift_h": 12.0}
    assert records(log, "manual_operation", "WT")[0].data == {"state": "ended", "stopped": True}
    assert records(log, "cost", "manual_operation")[0].data["amount"] == 2800


def test_a_shift_that_outlasts_the_attack_leaves_the_plant_up() -> None:
    """A 40 h shift from 4 h ends at 44 h, after the attack ended at 32.5 h: the plant stays up from 4 h."""
    log = play(Simulation(scenario(actions={"manual_operation": {"enabled": True, "shift_h": 40}}), city(), 0),
               {3.0: [act("manual_operation", "WT")]})
    assert times(log, "asset_up", "WT") == [4.0]
    assert records(log, "manual_operation", "WT")[0].data == {"state": "ended", "stopped": False}


def test_the_it_team_restoring_the_plant_during_the_shift_ends_the_outage() -> None:
    """IT team too (incident response 4 h): dispatched at 3 h, on site 3.35 h, done 7.35 h; the shift's end at
    16 h finds the control system back and leaves the plant up."""
    res = {"crews": [*CREWS["crews"], {"id": "it", "count": 1, "depot": "DEP", "skills": ["it"]}], "budget": 10000}
    log = play(Simulation(scenario(resources=res, response=4.0), city(), 0),
               {3.0: [act("manual_operation", "WT"), act("dispatch_crew", "WT", crew="it")]})
    assert times(log, "asset_up", "WT") == [4.0]
    assert times(log, "asset_down", "WT") == [2.0]


def test_manual_operation_is_refused_where_it_cannot_work() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()  # 0 h: nothing is down yet
    with pytest.raises(DecisionError, match="WT is not shut down by a cyber attack"):
        sim.apply([act("manual_operation", "WT")])
    with pytest.raises(DecisionError, match="'SS' is not a pumping_station or water_treatment"):
        sim.apply([act("manual_operation", "SS")])
    sim.advance()  # 3 h
    with pytest.raises(DecisionError, match="already runs WT by hand or is on the way"):
        sim.apply([act("manual_operation", "WT"), act("manual_operation", "WT")])
    nobody = Simulation(scenario(resources={"budget": 10000}), city(), 0)
    nobody.advance(), nobody.advance()
    with pytest.raises(DecisionError, match="no crew team can run a water_treatment by hand"):
        nobody.apply([act("manual_operation", "WT")])


def test_manual_operation_is_off_by_default() -> None:
    sim = Simulation(scenario(actions={}), city(), 0)
    sim.advance()
    assert "manual_operation" not in sim.observe().allowed
    with pytest.raises(DecisionError, match="not enabled"):
        sim.apply([act("manual_operation", "WT")])


def test_a_crew_that_arrives_after_the_plant_came_back_is_logged_as_not_effective() -> None:
    """The attack ends by itself at 3.1 h (detected 2.5 h, 0.6 h to recover); the crew decided at 3 h arrives
    at 4 h, finds the plant up and runs nothing: the action is logged as not effective and the plant stays up."""
    sc = make_scenario([cyber("WT", start_h=2, detection_delay_h=0.5, recovery_h=0.6)], duration_h=48,
                       times_h=(3.0,), actions=ON, resources=CREWS)
    log = play(Simulation(sc, city(), 0), {3.0: [act("manual_operation", "WT")]})
    assert times(log, "asset_up", "WT") == [3.1]
    assert times(log, "asset_down", "WT") == [2.0]
    assert records(log, "action", "WT")[0].data == {"action": "manual_operation", "effective": False}
