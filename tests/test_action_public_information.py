"""public_information by hand: shelter-in-place and rumour control change who counts at risk.

A heatwave from 6 h reaches the one district Z (1000 people, a quarter vulnerable) once it is
above 32 C; nobody was evacuated, so all 1000 are exposed.  Defaults: lead time 0.25 h,
shelter_share 0.5, rumour_gain 0.1; a warning's compliance is 0.7 with 2 h of warning lead.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.engine.actions import REGISTRY
from scro_sim.errors import DecisionError

ON = {"public_information": {"enabled": True}}
HEAT = {"id": "heat1", "type": "heatwave", "start_h": 6, "duration_h": 24, "peak_temp_c": 40}


def scenario(*, actions=ON, hazard=HEAT):
    return make_scenario([hazard], duration_h=48, times_h=(0.0,), actions=actions, resources={"budget": 5000})


def at_risk(log) -> float:
    (r,) = records(log, "exposure", "Z")
    return r.data["at_risk"]


def city():
    return make_city([asset("SS", "substation")])


def test_without_a_message_everyone_reached_by_the_heat_is_at_risk() -> None:
    assert at_risk(Simulation(scenario(), city(), 0).run()) == 1000.0


def test_shelter_in_place_before_the_heat_protects_half() -> None:
    """1000 x (1 - 0.5) = 500 at risk, of whom the vulnerable quarter: 125."""
    log = play(Simulation(scenario(), city(), 0), {0.0: [act("public_information", "Z", notice="shelter_in_place")]})
    assert at_risk(log) == 500.0
    assert records(log, "exposure", "Z")[0].data["at_risk_vulnerable"] == 125.0
    assert records(log, "action", "Z")[0].data == {"action": "public_information", "target": "Z",
                                                   "notice": "shelter_in_place"}


def test_rumour_control_makes_more_people_act_on_a_warning() -> None:
    """Warned at 0.25 h, hours before the heat: 0.7 protected alone (300 at risk); with rumours answered
    0.8 (200 at risk)."""
    warn = act("warn_public", "all")
    assert at_risk(play(Simulation(scenario(), city(), 0), {0.0: [warn]})) == 300.0
    log = play(Simulation(scenario(), city(), 0), {0.0: [warn, act("public_information", notice="rumour_control")]})
    assert at_risk(log) == 200.0
    (told,) = [r for r in log.of_kind("action") if r.data["action"] == "public_information"]
    assert (told.data["target"], told.data["notice"]) == ("all", "rumour_control")


def test_rumour_control_cannot_make_more_than_everyone_act_on_a_warning() -> None:
    """A warning obeyed by 0.95 with a rumour gain of 0.1: everyone acts (1.0, not 1.05): nobody at risk."""
    actions = {**ON, "warn_public": {"compliance": 0.95}}
    log = play(Simulation(scenario(actions=actions), city(), 0),
               {0.0: [act("warn_public", "all"), act("public_information", notice="rumour_control")]})
    assert at_risk(log) == 0.0


def test_shelter_in_place_told_after_the_heat_arrived_protects_nobody() -> None:
    """The heat reached Z before 20 h (else the message would halve the count): told at 20 h, too late."""
    sim = Simulation(make_scenario([HEAT], duration_h=48, times_h=(20.0,), actions=ON, resources={"budget": 5000}),
                     city(), 0)
    log = play(sim, {20.0: [act("public_information", "Z", notice="shelter_in_place")]})
    assert at_risk(log) == 1000.0


def test_public_information_is_refused_without_a_kind_and_is_off_by_default() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="public_information needs a notice"):
        sim.apply([act("public_information", "Z")])
    off = Simulation(scenario(actions={}), city(), 0)
    off.advance()
    assert "public_information" not in off.observe().allowed
    with pytest.raises(DecisionError, match="not enabled"):
        off.apply([act("public_information", "Z", notice="rumour_control")])


@pytest.mark.parametrize(("target", "expected", "met"), [
    ("all", ("Z",), True),  # a message to everyone meets one expected for a district
    (None, ("Z",), True),
    ("Z", ("Z",), True),
    ("Y", ("Z",), False),  # a message to another district does not
    ("Y", (), True),  # an expectation naming no district is met by any message
])
def test_a_message_meets_an_expected_message_to_its_district_or_to_everyone(target: str | None, expected: tuple[str, ...],
                                                                           met: bool) -> None:
    assert REGISTRY["public_information"].meets(act("public_information", target, notice="rumour_control"), expected) is met
