"""assess_damage by hand: a survey documents the repair cost of what is damaged when it is done.

The kit's substation SS fails in an outage at 1 h (priced at 400,000) and its mast TT is
degraded (20,000, the engine's default for a mast).  A crew sent to TT at 2 h repairs it within
hours; SS waits.  A survey ordered at 0 h with a 6 h lead time sees both; one ordered at 2 h
with a 30 h lead time finds TT repaired already and documents SS alone.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError
from scro_sim.scenario.loading import check_scenario_city

HITS = [{"id": "hit", "type": "outage", "targets": ["SS"], "start_h": 1, "state": "failed"},
        {"id": "hit2", "type": "outage", "targets": ["TT"], "start_h": 1, "state": "degraded"}]
COSTS = {"substation": {"degraded": 50000, "failed": 400000}}
CREWS = {"budget": 100000, "crews": [{"id": "T", "count": 1, "depot": "DEP", "skills": ["general"]}]}


def on(lead_h: float) -> dict:
    return {"assess_damage": {"enabled": True, "cost": 5000, "lead_time_h": lead_h}}


def city():
    return make_city([asset("SS", "substation"), asset("TT", "telecom_tower")])


def scenario(lead_h: float = 6.0, costs=COSTS):
    return make_scenario(HITS, duration_h=200, times_h=(0.0, 2.0), actions=on(lead_h), resources=CREWS,
                         damage_costs=costs)


def test_a_survey_documents_the_repair_cost_of_every_damaged_asset() -> None:
    log = play(Simulation(scenario(), city(), 0), {0.0: [act("assess_damage")]})
    [r] = records(log, "action", "assess_damage")
    assert r.time == pytest.approx(6.0)
    assert r.data["assets"] == ["SS", "TT"] and r.data["documented"] == 420000.0


def test_a_survey_documents_costs_to_the_cent() -> None:
    costs = {"substation": {"degraded": 50000, "failed": 400000.125}}
    log = play(Simulation(scenario(costs=costs), city(), 0), {0.0: [act("assess_damage")]})
    [r] = records(log, "action", "assess_damage")
    assert r.data["documented"] == 420000.125


def test_an_asset_repaired_before_the_surveyors_came_leaves_nothing_to_document() -> None:
    log = play(Simulation(scenario(lead_h=30.0), city(), 0),
               {2.0: [act("dispatch_crew", "TT", crew="T"), act("assess_damage")]})
    assert records(log, "repair", "TT", state="finished")[0].time < 32.0
    [r] = records(log, "action", "assess_damage")
    assert r.data["assets"] == ["SS"] and r.data["documented"] == 400000.0


def test_one_survey_at_a_time() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already under way"):
        sim.apply([act("assess_damage"), act("assess_damage")])


def test_a_scenario_without_damage_costs_cannot_use_it() -> None:
    from scro_sim.engine.actions import get

    assert "no damage_costs" in get("assess_damage").never_possible(scenario(costs=None))
    assert get("assess_damage").never_possible(scenario()) is None
    assert not check_scenario_city(scenario(), city())
