"""riverton_blind_gauge plays its story: a flat dashboard over a rising river, an observer who sees the
truth, a platform that fails with the exchange's switch to its generator, and feeds that bring it back."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scro_sim.engine import Simulation
from scro_sim.policy import Action, Decision
from scro_sim.scenario import load_scenario

FILE = Path(__file__).resolve().parent.parent / "scenarios" / "riverton_blind_gauge.yaml"


@cache
def _load() -> tuple[Any, Any]:
    return load_scenario(FILE)


def _play(seed: int, decide: dict[str, list[Action]]) -> dict[float, tuple[Any, float, dict[str, float], list[str]]]:
    """What the learner sees at each decision point (gauge, true stage, stale, injects); ``decide`` answers injects."""
    sc, city = _load()
    sim = Simulation(sc, city, seed)
    seen = {}
    while not sim.done:
        obs = sim.advance()
        if obs.done:
            break
        ids = [i["id"] for i in obs.injects]
        seen[round(obs.time_h, 3)] = (obs.gauge_m, sim.gauge, dict(obs.stale), ids)
        acts = [a for i in ids for a in decide.get(i, [])]
        if acts:
            sim.apply(Decision(acts))
    return seen


@pytest.mark.parametrize("seed", [0, 1])
def test_left_alone_the_dashboard_shows_a_flat_river_and_then_freezes(seed: int) -> None:
    seen = _play(seed, {})
    shown = [g for g, _t, _s, _i in seen.values()]
    truths = [t for _g, t, _s, _i in seen.values()]
    assert max(shown) - min(shown) < 0.5 and max(truths) > 5.0  # the stuck gauge never shows the flood
    platform_down = [s for _g, _t, s, _i in seen.values() if s]
    assert platform_down and set(platform_down[0]) == {"gauge", "power", "water", "telecom"}


def test_an_observer_shows_the_rise_and_shared_feeds_show_the_networks_while_the_platform_is_down() -> None:
    seen = _play(0, {"I02": [Action(action="verify_reading")],
                     "I04": [Action(action="share_data", service="power"), Action(action="share_data", service="water")]})
    hours = sorted(seen)
    observed = [h for h in hours if 6 <= h <= 16]
    assert observed and all(seen[h][0] == seen[h][1] for h in observed)
    assert any(seen[h][0] > 2.5 for h in observed)  # the rise is there to be seen
    after = [seen[h][2] for h in hours if seen[h][2]]
    assert after and not any({"power", "water"} & set(s) for s in after[1:])  # live once the feeds are open
