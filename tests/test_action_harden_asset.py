"""harden_asset by hand: a retrofit multiplies what an asset withstands, once its works are done.

The kit's substation SS stands at the storm's centre; its own curve fails it at 40 m/s (beta 0.01,
so practically no spread).  The storm blows from 4 h for 10 h and peaks at 50 m/s at 9 h.  Hardened
(x1.5 by default) it withstands 60 m/s and rides the storm out.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

ON = {"harden_asset": {"enabled": True, "cost": 1000, "lead_time_h": 2}}
STORM = {"id": "gale", "type": "storm", "start_h": 4, "duration_h": 10, "centre": [0, 5000], "radius_km": 10,
         "peak_wind_ms": 50}


def city():
    return make_city([asset("SS", "substation", fragility={"storm": [{"median": 40, "beta": 0.01, "state": "failed"}]})])


def scenario(actions=ON, times_h=(0.0,)):
    return make_scenario([STORM], duration_h=24, times_h=times_h, actions=actions, resources={"budget": 5000})


def test_an_unhardened_substation_fails_in_the_gusts() -> None:
    log = Simulation(scenario(), city(), 0).run()
    assert [r.data["state"] for r in records(log, "damage", "SS")] == ["failed"]


def test_a_hardened_substation_rides_out_the_same_storm() -> None:
    log = play(Simulation(scenario(), city(), 0), {0.0: [act("harden_asset", "SS")]})
    assert records(log, "damage", "SS") == []
    (r,) = records(log, "action", "SS")
    assert r.time == 2.0 and r.data == {"action": "harden_asset", "effective": True, "factor": 1.5}


def test_a_retrofit_not_finished_before_the_storm_does_not_help() -> None:
    """Ordered at 8 h (done at 10 h): the gusts passed 40 m/s before 8 h and the substation had failed by then."""
    log = play(Simulation(scenario(times_h=(0.0, 8.0)), city(), 0), {8.0: [act("harden_asset", "SS")]})
    damage = records(log, "damage", "SS")
    assert [r.data["state"] for r in damage] == ["failed"] and damage[0].time < 8.0


def test_an_asset_is_hardened_once_and_the_action_is_off_unless_enabled() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already hardened"):
        sim.apply([act("harden_asset", "SS"), act("harden_asset", "SS")])
    off = Simulation(scenario(actions={}), city(), 0)
    off.advance()
    assert "harden_asset" not in off.observe().allowed
