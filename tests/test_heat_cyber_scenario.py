"""The advanced compound exercise (scenarios/riverton_heat_cyber.yaml) plays as its story says.

In the heat the waterworks stops behind a faked heat alarm: the player sees it down with an
unknown cause; looking into it (investigate) shows the intrusion and lets the IT team start, so
the works is back far sooner than when nobody looks; a mobile generator does nothing for it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from enginekit import act, records, times

from scro_sim.engine import Simulation
from scro_sim.policy import Decision
from scro_sim.scenario import load_scenario

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "riverton_heat_cyber.yaml"
SEEDS = (0, 1, 2)


@cache
def _scenario() -> tuple[Any, Any]:
    return load_scenario(SCENARIO)


def _to_the_works_call(seed: int) -> tuple[Simulation, Any]:
    """Advance with no decisions to the pause of the works' call (inject I03)."""
    sc, city = _scenario()
    sim = Simulation(sc, city, seed)
    while True:
        obs = sim.advance()
        assert not obs.done, "the works' call never came"
        if any(i["id"] == "I03" for i in obs.injects):
            return sim, obs


def _works_back(sim: Simulation) -> float:
    sim.run()
    return times(sim.log, "asset_up", "WT1")[0]


@pytest.mark.parametrize("seed", SEEDS)
def test_the_works_stop_shows_with_an_unknown_cause_at_the_call(seed: int) -> None:
    _sim, obs = _to_the_works_call(seed)
    assert [a["cause"] for a in obs.assets_down if a["id"] == "WT1"] == ["unknown"]


@pytest.mark.parametrize("seed", SEEDS)
def test_investigating_at_the_call_brings_the_works_back_long_before_nobody_looking(seed: int) -> None:
    sim, _ = _to_the_works_call(seed)
    sim.apply(Decision([act("investigate", "WT1"), act("dispatch_crew", "WT1", crew="it_team")]))
    looked = _works_back(sim)
    assert records(sim.log, "hazard", "works_intrusion", detected=True)[0].data.get("on_reveal") is True
    idle, _ = _to_the_works_call(seed)
    nobody = _works_back(idle)
    assert looked + 8 < nobody  # the vendor notices 16-24 h after the attack; a look takes 2 h


@pytest.mark.parametrize("seed", SEEDS)
def test_a_generator_at_the_works_does_not_restart_it(seed: int) -> None:
    sim, _ = _to_the_works_call(seed)
    sim.apply(Decision([act("deploy_generator", "WT1")]))
    with_generator = _works_back(sim)
    idle, _ = _to_the_works_call(seed)
    assert with_generator == _works_back(idle)
