"""A learner's path through the exercises (scro_sim/learning_path.py) and a practice game's hints (hints.py).

The path's order and each exercise's state come from the store: graded runs, practice runs and
games in progress.  Hints are read from the learner's log and the expert's on the same seed, and
a practice game, however it is played, never reaches a grade export.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scro_sim import cli
from scro_sim.assessment import grade_rows, record_run
from scro_sim.engine import Simulation
from scro_sim.game import GameSession
from scro_sim.hints import practice_hints
from scro_sim.learning_path import Exercise, learning_path, path_order
from scro_sim.policy import Decision, PlanPolicy
from scro_sim.scenario import Action, load_scenario
from scro_sim.store import Store

REPO = Path(__file__).resolve().parent.parent
FIRST = REPO / "scenarios" / "riverton_first_steps.yaml"

GUIDED = Exercise("riverton_first_steps", "beginner", 15, guided=True, key="a")
SURGE = Exercise("riverton_hospital_surge", "beginner", 60, key="b")
SHORT_HARD = Exercise("riverton_water_cyber", "advanced", 10, key="c")
FLOOD = Exercise("riverton_flood", "intermediate", 120, key="d")
QUAKE = Exercise("riverton_earthquake", "intermediate", 90, key="e")


@cache
def _first() -> tuple[Any, Any]:
    return load_scenario(FIRST)


@cache
def _expert_decisions(seed: int) -> list[dict[str, Any]]:
    sc, city = _first()
    sim = Simulation(sc, city, seed, PlanPolicy(sc.reference_plans.expert, "expert"))
    sim.run()
    return list(sim.decisions)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'path.sqlite'}") as s:
        yield s


def _run(store: Store, learner: str, decisions: list[dict[str, Any]], *, seed: int = 4,
         origin: str = "played") -> str:
    sc, city = _first()
    run_id, _ = record_run(store, sc, city, seed, decisions, learner=learner, cohort="c1", origin=origin)
    return run_id


def test_the_path_puts_the_guided_exercise_first_then_by_level_then_by_length() -> None:
    order = path_order([SHORT_HARD, FLOOD, SURGE, QUAKE, GUIDED])
    assert [e.id for e in order] == ["riverton_first_steps", "riverton_hospital_surge", "riverton_earthquake",
                                     "riverton_flood", "riverton_water_cyber"]


def test_a_newcomer_has_nothing_started_and_the_guided_exercise_next(store: Store) -> None:
    path = learning_path(store, "maria", [FLOOD, GUIDED])
    assert [(p.exercise.id, p.state, p.next) for p in path] == [
        ("riverton_first_steps", "not_started", True), ("riverton_flood", "not_started", False)]


def test_the_states_come_from_the_learners_graded_runs_and_games(store: Store) -> None:
    _run(store, "maria", [])  # do nothing: a graded attempt that fails
    path = {p.exercise.id: p for p in learning_path(store, "maria", [GUIDED, FLOOD])}
    assert path["riverton_first_steps"].state == "attempted" and path["riverton_first_steps"].best == 0.0
    assert path["riverton_first_steps"].next
    store.save_game(uuid.uuid4().hex, "maria", "riverton_flood", "h", 1, [])  # a flood game under way
    _run(store, "maria", _expert_decisions(4))  # passes
    _run(store, "someone_else", [])  # another learner's runs are not maria's
    path = {p.exercise.id: p for p in learning_path(store, "maria", [GUIDED, FLOOD])}
    assert path["riverton_first_steps"].state == "passed" and path["riverton_first_steps"].best == 100.0
    assert not path["riverton_first_steps"].next
    assert path["riverton_flood"].state == "in_progress" and path["riverton_flood"].next
    assert learning_path(store, "someone_else", [GUIDED])[0].state == "attempted"


def test_practice_never_passes_or_starts_an_exercise_it_only_counts_as_practised(store: Store) -> None:
    _run(store, "maria", _expert_decisions(4), origin="practice")
    _run(store, "maria", _expert_decisions(5), seed=5, origin="practice")
    store.save_game(uuid.uuid4().hex, "maria", "riverton_first_steps", "h", 6, [], practice=True)  # under way
    [step] = learning_path(store, "maria", [GUIDED])
    assert step.state == "not_started" and step.best is None and step.practised == 2 and step.next


# -- hints


def _session(store: Store | None = None, seed: int = 4, practice: bool = True) -> GameSession:
    sc, city = _first()
    if store is None:
        return GameSession.start(sc, city, seed, practice=practice)
    return GameSession.start(sc, city, seed, store=store, game_id=uuid.uuid4().hex, learner="maria",
                             cohort="c1", practice=practice)


def test_a_hint_names_what_the_messages_ask_for_in_the_learners_language_until_it_is_done() -> None:
    sc, city = _first()
    g = _session()
    hints = practice_hints(sc, city, g.seed, g.sim.log, g.obs.time_h, "de")
    asked = [h.text for h in hints if h.kind == "asked"]
    assert len(asked) == 2 and all(t.startswith("Von Ihnen verlangt, bis Di. ") for t in asked)
    assert any("Stromtrupp innerhalb einer Stunde zum Umspannwerk Weir Road" in t for t in asked)
    # the expert's steps are the same two: said once, in the message's words
    assert [h for h in hints if h.kind == "expert"] == []
    crew = Action(action="dispatch_crew", target="SS6", crew="power_crews")
    assert g.decide(Decision([crew], "the crew first")).kind == "ok"
    later = practice_hints(sc, city, g.seed, g.sim.log, g.obs.time_h, "en")
    # at 11:00 the crew is on its way; the message to Weir Side was due by 10:00 and is missed: the expert's
    # step is what is left to learn from
    assert [h.kind for h in later] == ["expert"]
    assert later[0].text == ("In this same situation the expert plan had done this by Tue 08:00: "
                             "Message to the public: Weir Side (D3)")


def test_a_learner_who_did_what_the_expert_did_gets_no_hint() -> None:
    sc, city = _first()
    g = _session()
    warn = Action(action="warn_public", target="all", message="Power cut in Weir Side.")
    crew = Action(action="dispatch_crew", target="SS6", crew="power_crews")
    assert g.decide(Decision([crew, warn])).kind == "ok"
    assert practice_hints(sc, city, g.seed, g.sim.log, g.obs.time_h, "el") == []


def test_a_practice_game_replaying_a_graded_games_seed_never_reaches_a_grade_export(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    graded = _session(store, seed=11, practice=False)
    while not graded.done:
        assert graded.decide(Decision([])).ok
    practice = _session(store, seed=graded.seed, practice=True)  # the same situation, for practice
    for a in _expert_decisions(11):
        assert practice.decide(Decision.from_dict(a)).ok
    while not practice.done:
        assert practice.decide(Decision([])).ok
    assert practice.run_id is not None and graded.run_id is not None
    assert store.get_run(practice.run_id).origin == "practice"  # type: ignore[union-attr]
    assert [r.run_id for r in grade_rows(store)] == [graded.run_id]
    db = str(store.engine.url)
    # the practice run scored 100, the graded one 0: with "highest" grading, 100 would be the grade if it counted
    assert store.get_run(practice.run_id).total == 100.0  # type: ignore[union-attr]
    expected = {"moodle": "\nmaria,0.00,", "openedx-sheet": "\nmaria,,0.0000,", "xapi": graded.run_id}
    for fmt, graded_line in expected.items():
        out = tmp_path / f"grades.{fmt}"
        assert cli.main(["--db", db, "export", "--cohort", "c1", "--format", fmt, "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        assert graded_line in text and practice.run_id not in text, (fmt, text[:300])
