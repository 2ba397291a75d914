"""verify_reading: an observer at the gauge finds a stuck gauge and radios the true stage for a while.

The kit's flood reads 0, 0.44, 1.5, 2.56, 3, 2.56, 1.5, 0.44, 0 m at hours 0..8 (enginekit.flood).
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, flood, make_city, make_scenario, records, watch

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

ON = {"verify_reading": {"enabled": True, "cost": 100, "lead_time_h": 1, "observer_h": 2}}
JAM = {"id": "jam", "type": "sensor_fault", "mode": "stuck", "start_h": 1}


def city():
    return make_city([asset("PP", "power_plant")], flood_plain=True)


def shown(sc, decisions):
    sim = Simulation(sc, city(), 0)
    return sim, watch(sim, decisions, lambda obs: obs.gauge_m)


def test_an_observer_finds_the_stuck_gauge_and_shows_the_true_stage_for_observer_h() -> None:
    sc = make_scenario([flood(), JAM], times_h=(2.0, 3.0, 4.0, 6.0), actions=ON, resources={"budget": 1000})
    sim, seen = shown(sc, {2.0: [act("verify_reading")]})
    assert seen[2.0] == pytest.approx(0.44, abs=0.01)  # stuck since 1 h
    assert seen[3.0] == pytest.approx(2.56, abs=0.01) and seen[4.0] == pytest.approx(3.0, abs=0.01)
    assert seen[6.0] == pytest.approx(0.44, abs=0.01)  # the observer left at 5 h: the stuck gauge again
    (r,) = records(sim, "action", "verify_reading")
    assert r.time == 3.0 and r.data["finding"] == "stuck"
    assert r.data["true_m"] == pytest.approx(2.56, abs=0.01) and r.data["shown_m"] == pytest.approx(0.44, abs=0.01)


def test_a_healthy_gauge_is_found_ok() -> None:
    sc = make_scenario([flood()], times_h=(2.0,), actions=ON, resources={"budget": 1000})
    sim, _ = shown(sc, {2.0: [act("verify_reading")]})
    (r,) = records(sim, "action", "verify_reading")
    assert r.data["finding"] == "ok" and r.data["true_m"] == r.data["shown_m"]


def test_one_observer_at_a_time_and_off_unless_enabled() -> None:
    sim = Simulation(make_scenario([flood(), JAM], times_h=(2.0,), actions=ON, resources={"budget": 1000}), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already on the way"):
        sim.apply([act("verify_reading"), act("verify_reading")])
    off = Simulation(make_scenario([flood()], times_h=(2.0,)), city(), 0)
    off.advance()
    assert "verify_reading" not in off.observe().allowed


def test_a_second_observer_is_refused_while_the_first_is_still_on_the_way() -> None:
    sim = Simulation(make_scenario([flood(), JAM], times_h=(2.0, 2.5, 3.5), actions=ON, resources={"budget": 1000}),
                     city(), 0)
    sim.advance(), sim.advance()  # 0 h, then 2 h
    sim.apply([act("verify_reading")])
    assert sim.advance().time_h == 2.5  # the observer arrives at 3 h
    with pytest.raises(DecisionError, match="already on the way"):
        sim.apply([act("verify_reading")])
    assert sim.advance().time_h == 3.5  # the observer has reported: another may go
    assert sim.check([act("verify_reading")]) == []


def test_lint_says_a_scenario_without_a_river_gives_it_nothing_to_read() -> None:
    from scro_sim.engine.actions import get

    no_river = make_scenario([{"id": "o", "type": "outage", "targets": ["PP"]}])
    assert "no river gauge" in get("verify_reading").never_possible(no_river)
    assert get("verify_reading").never_possible(make_scenario([flood()])) is None
