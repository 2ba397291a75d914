"""share_data: a utility's own feed reaches the operations centre past the data platform.

The kit's power plant PP feeds the one district Z; the platform runs on the data centre DC, which
PP feeds too, so the power cut at 2 h blinds the centre to the power network, until the utility
shares its data.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, records, watch

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

ON = {"share_data": {"enabled": True, "cost": 100, "lead_time_h": 1}}
CUT = {"id": "cut", "type": "outage", "targets": ["PP"], "start_h": 2}
PLATFORM = {"id": "platform", "type": "data_platform", "host": "DC", "gauge": False}


def city():
    return make_city([asset("PP", "power_plant"), asset("DC", "data_centre", needs={"power": ["PP"]})],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"power": ["PP"]}}])


def seen(sc, decisions):
    sim = Simulation(sc, city(), 0)
    return sim, watch(sim, decisions,
                      lambda obs: (obs.services["Z"]["power"], obs.service_totals["power"], dict(obs.stale)))


def test_a_shared_feed_shows_the_power_cut_the_blind_platform_hides() -> None:
    sc = make_scenario([CUT, PLATFORM], times_h=(3.0, 5.0), actions=ON, resources={"budget": 1000})
    _sim, blind = seen(sc, {})
    assert blind[5.0][0] == 1.0 and "power" in blind[5.0][2]
    sim, shared = seen(sc, {3.0: [act("share_data", service="power")]})
    assert shared[3.0][0] == 1.0  # the agreement takes an hour
    assert shared[5.0][:2] == (0.0, 0.0) and "power" not in shared[5.0][2] and "water" in shared[5.0][2]
    (r,) = records(sim, "action", "share_data")
    assert r.time == 4.0 and r.data == {"action": "share_data", "service": "power"}


def test_a_private_utility_shows_its_network_once_it_shares() -> None:
    private = {**PLATFORM, "host": None, "private": ["power"]}
    sc = make_scenario([CUT, private], times_h=(1.0, 3.0, 5.0), actions=ON, resources={"budget": 1000})
    _sim, out = seen(sc, {1.0: [act("share_data", service="power")]})
    assert out[1.0][2] == {"power": 0.0} and out[3.0][2] == {} and out[3.0][0] == 0.0


def test_one_agreement_per_utility_a_service_is_needed_and_off_unless_enabled() -> None:
    sim = Simulation(make_scenario([CUT, PLATFORM], times_h=(3.0,), actions=ON, resources={"budget": 1000}), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already shared"):
        sim.apply([act("share_data", service="water"), act("share_data", service="water")])
    from scro_sim.engine.actions import get

    problems = get("share_data").problems(act("share_data"), None, city())
    assert problems and "service" in problems[0][1]
    off = Simulation(make_scenario([CUT, PLATFORM], times_h=(3.0,)), city(), 0)
    off.advance()
    assert "share_data" not in off.observe().allowed
    assert "no data platform" in get("share_data").never_possible(make_scenario([CUT]))
