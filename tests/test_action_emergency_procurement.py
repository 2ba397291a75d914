"""emergency_procurement by hand: parts for one asset type bought now, by direct award, at a premium.

The kit's substation SS and mast TT are put out of service at 1 h; a crew is sent to each at 2 h.
Parts for substations bought at 0 h (lead time 1 h, factor 0.6) make SS's repair 0.6 times as
long and leave TT's as it was.  The procurement rules allow a direct award until 3 h.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError

ON = {"emergency_procurement": {"enabled": True, "cost": 5000, "lead_time_h": 1, "direct_award_until_h": 3},
      "contract_spares": {"enabled": True, "cost": 1000, "lead_time_h": 48}}
OUTAGE = {"id": "hit", "type": "outage", "targets": ["SS", "TT"], "start_h": 1, "state": "failed"}
CREWS = {"budget": 50000, "crews": [{"id": "T", "count": 2, "depot": "DEP", "skills": ["general"]}]}


def scenario():
    return make_scenario([OUTAGE], duration_h=400, times_h=(0.0, 2.0, 4.0), actions=ON, resources=CREWS)


def city():
    return make_city([asset("SS", "substation"), asset("TT", "telecom_tower")])


def run(decisions):
    log = play(Simulation(scenario(), city(), 3), decisions)
    return log, {r.subject: r.data["hours"] for r in records(log, "repair", state="started")}


def test_parts_bought_now_shorten_the_repairs_of_their_type_only() -> None:
    crews = [act("dispatch_crew", "SS"), act("dispatch_crew", "TT")]
    _, plain = run({2.0: crews})
    log, bought = run({0.0: [act("emergency_procurement", "SS")], 2.0: crews})
    assert bought["SS"] == pytest.approx(0.6 * plain["SS"])
    assert bought["TT"] == plain["TT"]
    [r] = [x for x in records(log, "action", "SS") if x.data["action"] == "emergency_procurement"]
    assert r.data["asset_type"] == "substation" and r.time == pytest.approx(1.0)


def test_no_direct_award_once_the_urgency_is_over() -> None:
    sim = Simulation(scenario(), city(), 0)
    for _ in range(3):
        obs = sim.advance()
    assert obs.time_h == pytest.approx(4.0) and "emergency_procurement" not in obs.allowed
    with pytest.raises(DecisionError, match=r"the urgency no longer justifies a direct award \(since hour 3\): "
                                            r"buy through normal procurement"):
        sim.apply([act("emergency_procurement", "SS")])


def test_parts_already_on_contract_are_not_bought_twice() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already bought or on order"):
        sim.apply([act("contract_spares", "SS"), act("emergency_procurement", "SS")])
    sim.apply([act("emergency_procurement", "SS")])
    with pytest.raises(DecisionError, match="already bought or on order"):
        sim.apply([act("emergency_procurement", "SS")])


def test_an_unknown_target_is_named() -> None:
    from scro_sim.engine.actions import get

    problems = get("emergency_procurement").problems(act("emergency_procurement", "NOPE"), scenario(), city())
    assert problems and "NOPE" in str(problems[0][1])
