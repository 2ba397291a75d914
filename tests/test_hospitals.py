"""Hospital beds and occupancy from the observation and the log (scro_sim/hospitals.py)."""

from __future__ import annotations

from scro_sim.hospitals import hospital_states, occupancy_curves
from scro_sim.log import EventRecord


def test_beds_patients_and_free_beds_from_the_observation_fullest_first() -> None:
    got = hospital_states({"H1": {"beds": 260, "surge_beds": 0, "occupancy": 0.9, "overloaded": False},
                           "H2": {"beds": 420, "surge_beds": 84, "occupancy": 1.05, "overloaded": True}})
    assert [h.id for h in got] == ["H2", "H1"]
    h2, h1 = got
    assert (h2.open_beds, h2.patients, h2.free_beds, h2.overloaded) == (504, 529, -25, True)
    assert (h1.open_beds, h1.patients, h1.free_beds) == (260, 234, 26)
    assert hospital_states({}) == []


def test_occupancy_over_time_comes_from_the_surges_hazard_records_only() -> None:
    recs = [EventRecord(4.0, 0, "hazard", "wave", {"type": "surge", "occupancy": {"H1": 0.9, "H2": 0.91}}),
            EventRecord(5.0, 1, "hazard", "flood1", {"stage_m": 3.2}),
            EventRecord(6.0, 2, "hazard", "wave", {"type": "surge", "occupancy": {"H1": 0.95, "H2": 1.02}})]
    assert occupancy_curves(recs) == {"H1": [(4.0, 0.9), (6.0, 0.95)], "H2": [(4.0, 0.91), (6.0, 1.02)]}


def test_the_surge_exercise_observes_its_hospitals_at_every_decision_point() -> None:
    from scro_sim.engine import Simulation
    from scro_sim.resources import find_scenario
    from scro_sim.scenario import load_scenario

    sc, city = load_scenario(find_scenario("riverton_hospital_surge"))
    sim = Simulation(sc, city, 2)
    obs = sim.advance()
    for _ in range(3):
        obs = sim.advance()
    states = hospital_states(obs.hospitals)
    assert {h.id for h in states} == {"H1", "H2"} and all(h.beds > 0 for h in states)
    assert set(occupancy_curves(sim.log.records)) == {"H1", "H2"}
