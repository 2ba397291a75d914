"""activate_continuity_plan by hand: a site's business goes on once its organisation has moved out.

The kit's data centre DC (a business site) is down from 1 h to the end at 20 h (an outage no
crew repairs).  Without a plan its business stands still 19 h, at 1,000 an hour; a plan ordered
at 2 h with a 3 h lead time is in force from 5 h, so 4 h are lost.  A substation is no business
site: the plan cannot name it.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError
from scro_sim.scoring.metrics import compute_metrics

ON = {"activate_continuity_plan": {"enabled": True, "cost": 2000, "lead_time_h": 3, "interruption_cost_h": 1000}}
OUTAGE = {"id": "hit", "type": "outage", "targets": ["DC"], "start_h": 1, "state": "failed"}


def scenario(actions=ON):
    return make_scenario([OUTAGE], duration_h=20, times_h=(2.0,), actions=actions, resources={"budget": 10000})


def city():
    return make_city([asset("DC", "data_centre"), asset("SS", "substation")])


def test_a_plan_in_force_stops_the_business_interruption_of_its_site() -> None:
    idle = compute_metrics(Simulation(scenario(), city(), 0).run()).flat()
    assert idle["business_interruption"] == pytest.approx(19 * 1000.0)
    log = play(Simulation(scenario(), city(), 0), {2.0: [act("activate_continuity_plan", "DC")]})
    assert records(log, "action", "DC")[0].time == pytest.approx(5.0)
    assert compute_metrics(log).flat()["business_interruption"] == pytest.approx(4 * 1000.0)
    assert log.first("run_start").data["continuity"] == {"sites": ["DC", "DEP"], "cost_h": 1000.0}


def test_a_plan_is_activated_once_per_site() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="the continuity plan of DC is already in force or under way"):
        sim.apply([act("activate_continuity_plan", "DC"), act("activate_continuity_plan", "DC")])


def test_a_site_that_houses_no_business_is_refused() -> None:
    from scro_sim.engine.actions import get

    problems = get("activate_continuity_plan").problems(act("activate_continuity_plan", "SS"), scenario(), city())
    assert problems and "SS" in str(problems[0][1])


def test_a_scenario_without_continuity_plans_has_no_business_interruption() -> None:
    log = Simulation(scenario(actions={}), city(), 0).run()
    assert "business_interruption" not in compute_metrics(log).flat()
    assert "continuity" not in log.first("run_start").data


def test_the_net_cost_counts_the_business_lost_with_the_money_spent() -> None:
    """With a fund in the scenario, net_cost = spent + repairs the city bears + standstill - paid back;
    here nothing is priced as damage (an outage), so it is the plan's 2,000 and its 4 idle hours."""
    both = {**ON, "file_claim": {"enabled": True}}
    sc = make_scenario([OUTAGE], duration_h=20, times_h=(2.0,), actions=both, resources={"budget": 10000},
                       damage_costs={})
    log = play(Simulation(sc, city(), 0), {2.0: [act("activate_continuity_plan", "DC")]})
    m = compute_metrics(log).flat()
    assert m["reimbursed"] == 0.0
    assert m["net_cost"] == pytest.approx(2000.0 + 4 * 1000.0)
