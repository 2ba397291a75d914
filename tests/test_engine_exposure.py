"""Who the engine counts as exposed, warned, evacuated and at risk when a hazard reaches a district.

One district Z of 1000 people (vulnerable share 0.2) lies on the kit's flood plain at 1 m; the
kit flood's gauge reads 1.5 m at 2 h, so the flood reaches Z at 2 h.  A warning protects
``compliance x min(1, lead / warning_lead_h)`` of the exposed (defaults 0.7 and 2 h); evacuees
have left and are not exposed at all.
"""

from __future__ import annotations

from typing import Any

import pytest
from enginekit import act, asset, cyber, flood, make_city, make_scenario, play, records

from scro_sim.city import City
from scro_sim.engine import Simulation

DISTRICT: dict[str, Any] = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.2,
                            "location": {"x": 16000, "y": 0}, "elevation": 1.0, "road_node": "C"}
#: evacuation in half an hour, 80 % leave, free of charge; the shelter has room for everyone
QUICK_EVACUATION = {"evacuate": {"lead_time_h": 0.5, "compliance": 0.8, "cost_per_person": 0}}


def plain_city() -> City:
    return make_city([asset("PP", "power_plant"), asset("SH", "shelter", "D", y=8000, capacity=5000)],
                     districts=[DISTRICT], flood_plain=True)


def exposure(decisions: dict[float, list[Any]], **scenario: Any) -> dict[str, Any]:
    """The one exposure record of Z, checked to come at 2 h."""
    sc = make_scenario([flood()], resources={"budget": 1e6}, **scenario)
    (rec,) = records(play(Simulation(sc, plain_city(), 0), decisions), "exposure", "Z")
    assert rec.time == 2.0
    return rec.data


def test_nobody_warned_or_evacuated_leaves_the_whole_district_at_risk() -> None:
    data = exposure({})
    assert (data["exposed"], data["evacuated"], data["warned"], data["warning_lead_h"]) == (1000.0, 0, False, None)
    assert (data["at_risk"], data["at_risk_vulnerable"]) == (1000.0, 200.0)


def test_evacuees_are_neither_exposed_nor_at_risk() -> None:
    """800 of 1000 left at 0.5 h: the 200 who stayed are exposed, all of them at risk (no warning)."""
    data = exposure({0.0: [act("evacuate", "Z", shelter="SH")]}, actions=QUICK_EVACUATION)
    assert (data["exposed"], data["evacuated"], data["warned"]) == (200.0, 800, False)
    assert (data["at_risk"], data["at_risk_vulnerable"]) == (200.0, 40.0)


def test_a_warning_protects_a_share_of_those_who_stayed_after_an_evacuation() -> None:
    """The 200 who stayed were warned 1.75 h ahead: 0.7 x 1.75/2 protected, 200 x 0.3875 = 77.5 at risk."""
    data = exposure({0.0: [act("evacuate", "Z", shelter="SH"), act("warn_public", "Z", message="Leave now")]},
                    actions=QUICK_EVACUATION)
    assert (data["exposed"], data["evacuated"], data["warned"], data["warning_lead_h"]) == (200.0, 800, True, 1.75)
    assert data["at_risk"] == pytest.approx(77.5)
    assert data["at_risk_vulnerable"] == pytest.approx(15.5)


def test_a_warning_that_arrives_with_the_hazard_counts_as_warned_but_protects_nobody() -> None:
    """Warning ordered at 0 h with a 2 h lead time: in force at 2 h, the moment the flood arrives (lead 0)."""
    data = exposure({0.0: [act("warn_public", "all", message="Go uphill")]}, actions={"warn_public": {"lead_time_h": 2.0}})
    assert (data["warned"], data["warning_lead_h"]) == (True, 0.0)
    assert data["at_risk"] == 1000.0


def test_a_warning_after_the_hazard_arrived_does_not_count() -> None:
    data = exposure({3.0: [act("warn_public", "all", message="Too late")]}, times_h=(3.0,))
    assert (data["warned"], data["warning_lead_h"], data["at_risk"]) == (False, None, 1000.0)


def test_a_warning_to_another_district_does_not_warn_this_one() -> None:
    other = {**DISTRICT, "id": "Y", "name": "Y", "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D"}
    city = make_city([asset("PP", "power_plant")], districts=[DISTRICT, other], flood_plain=True)
    sc = make_scenario([flood()], resources={"budget": 1e6})
    log = play(Simulation(sc, city, 0), {0.0: [act("warn_public", "Y", message="Not you")]})
    (rec,) = records(log, "exposure", "Z")
    assert (rec.data["warned"], rec.data["at_risk"]) == (False, 1000.0)
    assert records(log, "exposure", "Y") == []  # on high ground: never reached


def test_a_long_lead_protects_at_most_the_compliant_share() -> None:
    """Warned 1.75 h ahead when 1 h is enough: min(1, 1.75/1) = 1, so 0.7 protected and 300 at risk."""
    data = exposure({0.0: [act("warn_public", "all", message="Go uphill")]}, actions={"warn_public": {"warning_lead_h": 1.0}})
    assert data["at_risk"] == pytest.approx(300.0)
    assert data["at_risk_vulnerable"] == pytest.approx(60.0)


def test_a_warning_without_a_district_reaches_every_district_and_is_logged_as_to_all() -> None:
    z = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25, "location": {"x": 0, "y": 9000},
         "elevation": 60.0, "road_node": "D"}
    city = make_city([asset("PP1", "power_plant")], districts=[z, {**z, "id": "Y", "name": "Y"}])
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=4, times_h=(1.0,), resources={"budget": 10_000})
    sim = Simulation(sc, city, 0)
    log = play(sim, {1.0: [act("warn_public", message="Rain")]})  # lead time 0.25 h: out at 1.25 h
    assert [(r.time, r.data) for r in records(log, "action")] == [
        (1.25, {"action": "warn_public", "target": "all", "message": "Rain"})]
    assert list(sim.warned_at) == [1.25, 1.25]


def test_the_next_observation_lists_the_exposure_among_the_changes() -> None:
    sc = make_scenario([flood()], resources={"budget": 1e6}, times_h=(0, 3))
    sim = Simulation(sc, plain_city(), 0)
    changes = {}
    while not (obs := sim.advance()).done:
        changes[obs.time_h] = [(c["time_h"], c["kind"], c["subject"], c.get("at_risk")) for c in obs.changes]
    assert changes == {0.0: [], 3.0: [(2.0, "exposure", "Z", 1000.0)]}
