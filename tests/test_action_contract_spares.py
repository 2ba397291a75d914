"""contract_spares by hand: spare parts on contract shorten repairs of one asset type once delivered.

The kit's substation SS and mast TT are put out of service by an outage at 1 h; a crew sent at
once repairs each.  Repairs draw the same hours with and without spares (the repair stream is not
touched); spares for substations (factor 0.6, delivered after 0.5 h) make SS's repair 0.6 times as
long and leave TT's as it was.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

ON = {"contract_spares": {"enabled": True, "cost": 1000, "lead_time_h": 0.5}}
OUTAGE = {"id": "hit", "type": "outage", "targets": ["SS", "TT"], "start_h": 1, "state": "failed"}
CREWS = {"budget": 50000, "crews": [{"id": "T", "count": 2, "depot": "DEP", "skills": ["general"]}]}


def city():
    return make_city([asset("SS", "substation"), asset("TT", "telecom_tower")])


def run(decisions):
    sc = make_scenario([OUTAGE], duration_h=400, times_h=(0.0, 2.0), actions=ON, resources=CREWS)
    log = play(Simulation(sc, city(), 3), decisions)
    return {r.subject: r.data["hours"] for r in records(log, "repair", state="started")}


def test_spares_shorten_the_repairs_of_their_type_only() -> None:
    crews = [act("dispatch_crew", "SS"), act("dispatch_crew", "TT")]
    plain = run({2.0: crews})
    spared = run({0.0: [act("contract_spares", "SS")], 2.0: crews})
    assert spared["SS"] == pytest.approx(0.6 * plain["SS"])
    assert spared["TT"] == plain["TT"]


def test_spares_for_a_type_are_contracted_once() -> None:
    sc = make_scenario([OUTAGE], duration_h=10, times_h=(0.0,), actions=ON, resources=CREWS)
    sim = Simulation(sc, make_city([asset("SS", "substation"), asset("SS2", "substation")]), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="spare parts for every substation are already on contract"):
        sim.apply([act("contract_spares", "SS"), act("contract_spares", "SS2")])
