"""transfer_patients by hand: ambulances move patients off a surging hospital (tests/enginekit.py's tiny city).

H (100 beds, node A) holds 85 patients plus 3 an hour up to 30 at 10 h, back to 0 at 20 h; alone
it overflows from 6 h (103) to 15 h (exactly 100).  H2 (100 beds) is at node C, 0.4 h away by
road (A-B 0.2 h, B-C 0.2 h).  Defaults: 4 ambulances x 2 patients, 0.5 h to set off, 500 + 200
per patient.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records, times

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

ON = {"transfer_patients": {"enabled": True}}


def city():
    return make_city([asset("H", "hospital", capacity=100, criticality=5),
                      asset("H2", "hospital", "C", x=16000, capacity=100), asset("SS", "substation")],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"health": ["H"]}}])


def scenario(*, actions=ON, times_h=(3.0,)):
    hz = {"id": "surge1", "type": "surge", "hospitals": ["H"], "start_h": 0, "peak_h": 10, "end_h": 20,
          "baseline_occupancy": 0.85, "peak_extra_patients": 30}
    return make_scenario([hz], duration_h=24, times_h=times_h, actions=actions, resources={"budget": 5000})


def test_ten_patients_moved_early_shorten_the_overflow() -> None:
    """10 patients need 2 rounds of 8: 0.5 h + (2 x 2 - 1) x 0.4 h = 1.7 h, so they move at 4.7 h.
    H then holds 75 + extra: over 100 once extra > 25, from 9 h (27) to 12 h (24): down 9-12 h."""
    log = play(Simulation(scenario(), city(), 0), {3.0: [act("transfer_patients", "H", to="H2", patients=10)]})
    assert times(log, "action", "H") == [4.7]
    assert records(log, "action", "H")[0].data == {"action": "transfer_patients", "target": "H", "to": "H2",
                                                   "patients": 10, "rounds": 2}
    assert records(log, "cost", "transfer_patients")[0].data["amount"] == 2500
    assert times(log, "asset_down", "H") == [9.0]
    assert times(log, "asset_up", "H") == [12.0]


def test_without_a_transfer_the_hospital_overflows_from_6_to_15_h() -> None:
    log = Simulation(scenario(), city(), 0).run()
    assert times(log, "asset_down", "H") == [6.0]
    assert times(log, "asset_up", "H") == [15.0]


def test_transfers_are_refused_where_they_cannot_happen() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    sim.advance()  # 3 h: H holds 85 + 9 = 94 patients
    with pytest.raises(DecisionError, match="two different hospitals"):
        sim.apply([act("transfer_patients", "H", to="H", patients=1)])
    with pytest.raises(DecisionError, match="H has 94 patients to transfer, not 95"):
        sim.apply([act("transfer_patients", "H", to="H2", patients=95)])
    with pytest.raises(DecisionError, match="'SS' is not a hospital"):
        sim.apply([act("transfer_patients", "H", to="SS", patients=1)])
    with pytest.raises(DecisionError, match="transfer_patients needs a number of patients"):
        sim.apply([act("transfer_patients", "H", to="H2")])


def test_transfer_patients_is_off_by_default() -> None:
    sim = Simulation(scenario(actions={}), city(), 0)
    sim.advance()
    assert "transfer_patients" not in sim.observe().allowed
    with pytest.raises(DecisionError, match="not enabled"):
        sim.apply([act("transfer_patients", "H", to="H2", patients=1)])


def test_a_transfer_to_a_hospital_without_the_free_beds_or_without_ambulances_is_refused() -> None:
    """Both hospitals share the surge: at 3 h each holds 89.5 patients in its 100 beds, so H2 has 10 free."""
    hz = {"id": "surge1", "type": "surge", "hospitals": ["H", "H2"], "start_h": 0, "peak_h": 10, "end_h": 20,
          "baseline_occupancy": 0.85, "peak_extra_patients": 30}
    for ambulances, refusals in ((4, ["H2 has 10 free beds, not 11"]),
                                 (0, ["H2 has 10 free beds, not 11", "no ambulance to transfer patients"])):
        sc = make_scenario([hz], duration_h=24, times_h=(3.0,), resources={"budget": 5000},
                           actions={"transfer_patients": {"enabled": True, "ambulances": ambulances}})
        sim = Simulation(sc, city(), 0)
        sim.advance()
        sim.advance()
        said = "actions[0] (transfer_patients): "
        assert sim.check([act("transfer_patients", "H", to="H2", patients=10)]) == [said + r for r in refusals[1:]]
        assert sim.check([act("transfer_patients", "H", to="H2", patients=11)]) == [said + r for r in refusals]


def test_an_overflowing_hospital_shows_as_overloaded_in_the_observation() -> None:
    sim = Simulation(scenario(times_h=(3.0, 8.0, 16.0)), city(), 0)
    seen = {}
    while not (obs := sim.advance()).done:
        seen[obs.time_h] = (dict(obs.asset_state), obs.first_with("hospital", "overloaded"))
    assert seen[3.0] == ({}, None)
    assert seen[8.0] == ({"H": "overloaded"}, "H")
    assert seen[16.0] == ({}, None)


def test_a_transfer_to_a_hospital_the_roads_cannot_reach_names_both_hospitals() -> None:
    """Both roads out of A closed from the start: no way from H to H2."""
    hz = {"id": "surge1", "type": "surge", "hospitals": ["H"], "start_h": 0, "peak_h": 10, "end_h": 20,
          "baseline_occupancy": 0.85, "peak_extra_patients": 30}
    closed = {"id": "cut", "type": "road_closure", "roads": ["A~B", "A~C"], "start_h": 0}
    sim = Simulation(make_scenario([hz, closed], duration_h=24, times_h=(3.0,), actions=ON,
                                   resources={"budget": 5000}), city(), 0)
    sim.advance()
    sim.advance()
    with pytest.raises(DecisionError, match="no open road from H to H2"):
        sim.apply([act("transfer_patients", "H", to="H2", patients=1)])
