"""Replaying recorded decisions: a stored game resumes, finishes and verifies exactly as played.

Decision times are stored rounded to 1e-9 h.  When an inject paused the original game at an hour
that is not a round number, the replay's extra stop at the rounded hour comes a hair before the
inject; the decision must wait for it (the decision point number tells the two stops apart).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from enginekit import asset, cyber, make_city, make_scenario

from scro_sim.engine import Simulation, replay
from scro_sim.errors import DecisionError
from scro_sim.policy import PlanPolicy
from scro_sim.scenario import load_scenario

CYBER = Path(__file__).parent.parent / "scenarios" / "riverton_water_cyber.yaml"


@cache
def _cyber() -> tuple[Any, Any]:
    return load_scenario(CYBER)


def _play_stepwise(sc: Any, city: Any, seed: int) -> Simulation:
    """Play as the app does: advance to each pause, decide there, advance again."""
    plan = PlanPolicy(sc.reference_plans.expert, "expert")
    sim = Simulation(sc, city, seed)
    obs = sim.advance()
    while not obs.done:
        d = plan.decide(obs)
        if d is not None:
            sim.apply(d)
        obs = sim.advance()
    return sim


# seeds where the intrusion's inject pauses the game at an hour that is not a multiple of 1e-9
@pytest.mark.parametrize("seed", [5, 11, 16, 18])
def test_a_decision_taken_at_an_inject_pause_replays_at_that_inject(seed: int) -> None:
    sc, city = _cyber()
    played = _play_stepwise(sc, city, seed)
    assert any(not float(d["time_h"]).is_integer() for d in played.decisions), "the seed no longer pauses off the hour"
    again, obs = replay(sc, city, seed, played.decisions)
    assert obs.done
    assert again.log.digest() == played.log.digest()


def test_a_recorded_decision_the_replay_never_reaches_is_an_error_not_a_silent_skip() -> None:
    sc, city = _cyber()
    played = _play_stepwise(sc, city, 5)
    decisions = [dict(d) for d in played.decisions]
    decisions[-1]["point"] = 999  # a point this game never reaches at that hour
    with pytest.raises(DecisionError, match="never reached"):
        replay(sc, city, 5, decisions)



def test_a_game_resumed_from_its_decisions_shows_the_player_their_own_language() -> None:
    """Resuming at the inject's pause: the inject waiting for the player is the one first shown, and
    its words are looked up in the player's language (German here)."""
    sc = make_scenario([cyber("PP1", start_h=20)], duration_h=12,
                       msel=[{"id": "I1", "at_h": 2, "pause": True, "channel": "radio",
                              "sender": {"en": "Met office", "de": "Wetterdienst"},
                              "text": {"en": "Heavy rain", "de": "Starkregen"}}])
    _sim, obs = replay(sc, make_city([asset("PP1", "power_plant")]), 0, [], until_point=1)
    assert (obs.time_h, obs.kind) == (2.0, "inject")
    words = sc.inject_words("de")
    assert [(words(i["id"])["sender"], words(i["id"])["text"]) for i in obs.injects] == [("Wetterdienst", "Starkregen")]
