"""warn_public's channels by hand: a broadcast misses those only the mobile network reaches where telecom is
down, door to door reaches everyone later and dearer, and an old warning stops counting.

The kit city's one district Z (1000 people, a quarter vulnerable) takes its telecom from one mast TT.  A
heatwave from 6 h reaches Z once it passes 32 C (hours after any warning below).  Defaults: compliance 0.7,
warning lead 2 h, lead time 0.25 h.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.engine.actions import get

HEAT = {"id": "heat1", "type": "heatwave", "start_h": 6, "duration_h": 24, "peak_temp_c": 40}
MAST_DOWN = {"id": "mast_down", "type": "outage", "targets": ["TT"], "start_h": 0, "duration_h": 200}
DISTRICT = [{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25, "location": {"x": 0, "y": 9000},
             "elevation": 60.0, "road_node": "D", "needs": {"telecom": ["TT"]}}]


def city():
    return make_city([asset("TT", "telecom_tower")], districts=DISTRICT)


def scenario(*, warn=None, mast_down=True, resources=None):
    hazards = [HEAT, MAST_DOWN] if mast_down else [HEAT]
    return make_scenario(hazards, duration_h=48, times_h=(0.0, 1.0),
                         actions={"warn_public": {"phone_share": 0.8, **(warn or {})},
                                  "public_information": {"enabled": True}},
                         resources=resources or {"budget": 50000})


def at_risk(log) -> float:
    (r,) = records(log, "exposure", "Z")
    return r.data["at_risk"]


def test_a_broadcast_into_a_dead_network_reaches_only_those_without_a_phone_only_link() -> None:
    """Telecom is down in Z: 0.2 of the people are reached, 0.7 of them act: 1000 x (1 - 0.14) = 860 at risk."""
    log = play(Simulation(scenario(), city(), 0), {1.0: [act("warn_public", "Z")]})
    assert at_risk(log) == pytest.approx(860.0)
    (rec,) = records(log, "action", "Z")
    assert rec.data["channel"] == "broadcast" and rec.data["reach"] == {"Z": pytest.approx(0.2)}


def test_a_broadcast_reaches_everyone_while_the_network_works() -> None:
    log = play(Simulation(scenario(mast_down=False), city(), 0), {1.0: [act("warn_public", "Z")]})
    assert at_risk(log) == pytest.approx(300.0)


def test_door_to_door_reaches_everyone_whatever_the_network_later_and_dearer() -> None:
    """Door to door: reach 1, so 300 at risk; it takes 0.25 + 3 h and costs 500 + 2000 per district."""
    sim = Simulation(scenario(), city(), 0)
    log = play(sim, {1.0: [act("warn_public", "Z", channel="door_to_door")]})
    assert at_risk(log) == pytest.approx(300.0)
    (rec,) = records(log, "action", "Z")
    assert rec.time == pytest.approx(4.25) and rec.data["channel"] == "door_to_door"
    assert sim.spent == pytest.approx(2500.0)


def test_a_warning_older_than_its_validity_no_longer_counts() -> None:
    """Valid 3 h: the warning at 1.25 h is long past when the heat arrives after 6 h."""
    log = play(Simulation(scenario(mast_down=False, warn={"warning_valid_h": 3}), city(), 0),
               {1.0: [act("warn_public", "Z")]})
    (rec,) = records(log, "exposure", "Z")
    assert rec.data["at_risk"] == pytest.approx(1000.0) and rec.data["warned"] is False


def test_rumour_control_reaches_only_those_a_broadcast_reaches() -> None:
    """Door-to-door warning (0.7) plus rumour control through a dead network: 0.1 x 0.2 more act: 0.72."""
    log = play(Simulation(scenario(), city(), 0),
               {1.0: [act("warn_public", "Z", channel="door_to_door"),
                      act("public_information", "Z", notice="rumour_control")]})
    assert at_risk(log) == pytest.approx(280.0)


def test_generators_that_come_with_mutual_aid_join_the_pool() -> None:
    sc = scenario(mast_down=False, resources={"budget": 50000, "generators": {"count": 0, "depot": "DEP"},
                                              "mutual_aid": {"crews": 0, "generators": 2, "delay_h": 2, "depot": "DEP"}})
    sim = Simulation(sc, city(), 0)
    assert get("request_mutual_aid").never_possible(sc) is None
    log = play(sim, {0.0: [act("request_mutual_aid")]})
    (rec,) = records(log, "crew", "mutual_aid1", state="arrived")
    assert rec.data == {"state": "arrived", "crews": 0, "generators": 2} and sim.generators_left == 2


def test_the_terminal_takes_a_channel_only_when_the_word_is_one() -> None:
    k = get("warn_public")
    assert k.parse(["D2", "door_to_door", "Leave", "now"]) == {"action": "warn_public", "target": "D2",
                                                               "channel": "door_to_door", "message": "Leave now"}
    assert k.parse(["D2", "Leave", "now"]) == {"action": "warn_public", "target": "D2", "message": "Leave now"}
