"""The sensor_fault and data_platform effects: the learner sees a false or old reading, the truth goes on.

The kit's flood reads 0, 0.44, 1.5, 2.56, 3, 2.56, 1.5, 0.44, 0 m at hours 0..8 (enginekit.flood).
"""

from __future__ import annotations

import pytest
from enginekit import asset, flood, make_city, make_scenario, records, watch
from pydantic import ValidationError

from scro_sim.engine import Simulation
from scro_sim.scenario import check_scenario_city


def city():
    return make_city([asset("PP", "power_plant"), asset("DC", "data_centre", needs={"power": ["PP"]})],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"power": ["PP"]}}], flood_plain=True)


def gauges(sc, hours):
    """The gauge the learner sees, the true stage and what is shown stale, at each decision hour."""
    sim = Simulation(sc, city(), 0)
    out = watch(sim, {}, lambda obs: (obs.gauge_m, sim.gauge, dict(obs.stale), obs.services["Z"]["power"]))
    return sim, {h: out[h] for h in hours}


def test_a_stuck_gauge_shows_the_reading_it_had_while_the_river_rises() -> None:
    sc = make_scenario([flood(), {"id": "jam", "type": "sensor_fault", "mode": "stuck", "start_h": 1}],
                       times_h=(0.0, 1.0, 3.0))
    sim, seen = gauges(sc, (0.0, 3.0))
    assert seen[0.0][0] == seen[0.0][1] == 0.0
    assert seen[3.0][0] == pytest.approx(0.44, abs=0.01) and seen[3.0][1] == pytest.approx(2.56, abs=0.01)
    (r,) = records(sim, "hazard", "jam")
    assert r.time == 1.0 and r.data["mode"] == "stuck" and r.data["shown_m"] == r.data["true_m"]


def test_a_fault_with_a_duration_clears_and_logs_its_end() -> None:
    """Stuck from 1 h for 2 h: from 3 h the learner sees the true stage again, and the log says it ended."""
    sc = make_scenario([flood(), {"id": "jam", "type": "sensor_fault", "start_h": 1, "duration_h": 2}],
                       times_h=(2.0, 4.0))
    sim, seen = gauges(sc, (2.0, 4.0))
    assert seen[2.0][0] != seen[2.0][1] and seen[4.0][0] == seen[4.0][1]
    ended = [(r.time, r.data) for r in records(sim, "hazard", "jam") if "ended" in r.data]
    assert ended == [(3.0, {"type": "sensor_fault", "ended": True})]


def test_a_drifting_gauge_falls_behind_and_a_missing_one_shows_nothing() -> None:
    drift = make_scenario([flood(), {"id": "silt", "type": "sensor_fault", "mode": "drift", "drift_m_per_h": 0.5,
                                     "start_h": 1}], times_h=(3.0,))
    assert gauges(drift, (3.0,))[1][3.0][0] == pytest.approx(2.56 - 1.0, abs=0.01)
    gone = make_scenario([flood(), {"id": "dead", "type": "sensor_fault", "mode": "missing", "start_h": 1,
                                    "duration_h": 3}], times_h=(3.0, 5.0))
    _sim, seen = gauges(gone, (3.0, 5.0))
    assert seen[3.0][0] is None and seen[5.0][0] == seen[5.0][1]  # the fault ended at 4 h


def test_without_the_effects_the_learner_sees_the_truth() -> None:
    _sim, seen = gauges(make_scenario([flood()], times_h=(3.0,)), (3.0,))
    assert seen[3.0][0] == seen[3.0][1] and seen[3.0][2] == {}


def test_a_platform_down_with_its_host_shows_the_last_readings_marked_with_their_hour() -> None:
    sc = make_scenario([flood(), {"id": "cut", "type": "outage", "targets": ["PP"], "start_h": 2, "duration_h": 4},
                        {"id": "platform", "type": "data_platform", "host": "DC", "carries": ["power"]}],
                       times_h=(1.0, 3.0, 7.0))
    sim, seen = gauges(sc, (1.0, 3.0, 7.0))
    assert seen[1.0][2] == {} and seen[1.0][3] == 1.0
    gauge, truth, old, power = seen[3.0]
    # its last refresh (every 0.25 h) was at 1.75 h: the host went down at 2 h, before the 2 h refresh
    assert old == {"gauge": 1.75, "power": 1.75}
    assert power == 1.0 and gauge == pytest.approx(0.44, abs=0.01) and truth == pytest.approx(2.56, abs=0.01)
    assert seen[7.0][2] == {} and seen[7.0][3] == 1.0  # back with its host
    ups = [(r.time, r.data["up"]) for r in records(sim, "hazard", "platform")]
    assert ups == [(2.0, False), (6.0, True)]
    assert [(r.time, r.data["share"]) for r in records(sim, "service", "Z", service="power")][:1] == [(2.0, 0.0)]


def test_a_platform_failing_by_itself_and_a_private_utility() -> None:
    sc = make_scenario([flood(), {"id": "platform", "type": "data_platform", "carries": ["water"],
                                  "private": ["power"], "gauge": False, "failure_h": 2, "failure_duration_h": 3},
                        {"id": "cut", "type": "outage", "targets": ["PP"], "start_h": 1}],
                       times_h=(3.0, 6.0))
    _sim, seen = gauges(sc, (3.0, 6.0))
    assert seen[3.0][2] == {"power": 0.0, "water": 1.75} and seen[3.0][3] == 1.0  # power kept private
    assert seen[3.0][0] == seen[3.0][1]  # the gauge does not go through this platform
    assert seen[6.0][2] == {"power": 0.0}  # the platform is back at 5 h; the power utility still shares nothing


@pytest.mark.parametrize(("hazard", "field", "words"), [
    ({"id": "f", "type": "sensor_fault", "mode": "stuck"}, "sensor", "needs a flood"),
    ({"id": "p", "type": "data_platform", "host": "NOPE"}, "host", "unknown asset"),
    ({"id": "p", "type": "data_platform", "failure_duration_h": 2}, "failure_duration_h", "needs a failure_h"),
])
def test_bad_sensor_effects_are_refused_with_their_field(hazard, field, words) -> None:
    problems = check_scenario_city(make_scenario([hazard]), city())
    assert any(field in p and words in p for p in problems), problems


def test_an_unknown_mode_or_service_is_a_schema_error() -> None:
    with pytest.raises(ValidationError, match="mode"):
        make_scenario([flood(), {"id": "f", "type": "sensor_fault", "mode": "wobbly"}])
    with pytest.raises(ValidationError, match="carries"):
        make_scenario([{"id": "p", "type": "data_platform", "carries": ["gas"]}])


def test_the_timeline_says_what_the_gauge_and_the_platform_did() -> None:
    from scro_sim.i18n import translator
    from scro_sim.vocabulary import describe

    sc = make_scenario([flood(), {"id": "jam", "type": "sensor_fault", "mode": "stuck", "start_h": 1},
                        {"id": "cut", "type": "outage", "targets": ["PP"], "start_h": 2, "duration_h": 4},
                        {"id": "platform", "type": "data_platform", "host": "DC"}], times_h=(0.0,))
    sim = Simulation(sc, city(), 0)
    sim.run()
    said = [describe(r.kind, r.subject, r.data, translator("en")) for r in records(sim, "hazard")
            if r.subject in ("jam", "platform")]
    assert said == ["The river gauge is faulty (stuck gauge): it shows 0.44 m, the river is at 0.44 m",
                    "The data platform is down: the dashboards show the readings of hour 1.75",
                    "The data platform is back: the dashboards are live again"]
    assert describe("action", "verify_reading", {"action": "verify_reading", "sensor": "gauge", "true_m": 2.5,
                                                 "shown_m": None, "finding": "missing"}, translator("de")) == (
        "Pegel vor Ort abgelesen: 2.50 m (die Anzeige zeigte - m): kein Messwert")
