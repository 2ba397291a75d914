"""A guided exercise's steps (``guide:``): the schema and its line-numbered errors, the steps of a moment.

The bundled ``riverton_first_steps`` is the guided first exercise; the mini scenario gets a
guide written here to test the bad inputs.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scro_sim.city import City
from scro_sim.errors import ScenarioError
from scro_sim.game import GameSession
from scro_sim.guide import is_guided, notes_at_end, notes_now
from scro_sim.policy import Decision
from scro_sim.scenario import GUIDE_FOCUS, load_scenario

REPO = Path(__file__).resolve().parent.parent
FIRST = REPO / "scenarios" / "riverton_first_steps.yaml"

GUIDE = """guide:
  - id: G1
    at_h: 6
    focus: map
    text: {en: "Find the river on the map."}
  - id: G2
    at_inject: I1
    focus: messages
    text: {en: "Read the message."}
  - id: G3
    at_end: true
    focus: score
    text: {en: "Your score."}
"""


@cache
def _first() -> tuple[Any, Any]:
    return load_scenario(FIRST)


@pytest.fixture(scope="module")
def guided_text(mini_scenario_path: Path) -> str:
    text = mini_scenario_path.read_text(encoding="utf-8")
    assert text.count("\nrubric:") == 1
    return text.replace("\nrubric:", "\n" + GUIDE + "rubric:")


def _problems(text: str, city: City) -> list[Any]:
    with pytest.raises(ScenarioError) as info:
        load_scenario("s.yaml", city=city, text=text)
    return info.value.problems


def _line(text: str, needle: str) -> int:
    [hit] = [i + 1 for i, line in enumerate(text.splitlines()) if needle in line]
    return hit


def test_the_guided_first_exercise_shows_its_steps_where_the_game_stops_in_the_learners_language() -> None:
    sc, city = _first()
    assert is_guided(sc)
    play = GameSession.start(sc, city, 3)
    seen: list[str] = []
    while not play.done:
        obs = play.obs
        notes = notes_now(sc, obs.time_h, [i["id"] for i in obs.injects], "de")
        assert all(n.total == len(sc.guide) and n.text for n in notes)
        seen += [n.id for n in notes]
        play.decide(Decision([]))
    end = notes_at_end(sc, "pt")
    assert [n.focus for n in end] == ["score"] and "balanço" in end[0].text
    # every step but the one at the end is met on the way, in the order written
    assert seen == [s.id for s in sc.guide if not s.at_end]
    # the steps point at every part of the screen the guide can name
    assert {s.focus for s in sc.guide} == set(GUIDE_FOCUS)


def test_the_first_point_shows_its_steps_numbered_in_the_guides_order() -> None:
    sc, _ = _first()
    notes = notes_now(sc, 0.0, ["I01"], "el")
    assert [n.number for n in notes] == list(range(1, len(notes) + 1))
    assert notes[0].focus == "clock" and "Καλώς ήρθατε" in notes[0].text
    assert notes_now(sc, 1.5, [], "en") == []


def test_a_guide_step_can_wait_for_an_inject(guided_text: str, mini_city: City) -> None:
    sc, _ = load_scenario("s.yaml", city=mini_city, text=guided_text)
    assert [n.id for n in notes_now(sc, 0.0, ["I1"])] == ["G2"]
    assert [n.id for n in notes_now(sc, 6.0, [])] == ["G1"]
    assert [n.id for n in notes_at_end(sc)] == ["G3"]


def test_a_scenario_without_a_guide_is_not_guided(mini_scenario: Any) -> None:
    assert not is_guided(mini_scenario) and notes_now(mini_scenario, 0.0, ["I1"]) == []


@pytest.mark.parametrize(("edit", "field", "words", "needle"), [
    (("    at_h: 6\n    focus: map", "    at_h: 7\n    focus: map"), "guide[0].at_h", "no decision point at 7",
     "at_h: 7"),
    (("    at_inject: I1\n", "    at_inject: I9\n"), "guide[1].at_inject", "unknown inject 'I9'", "at_inject: I9"),
    (("  - id: G2\n", "  - id: G1\n"), "guide[1].id", "duplicate guide step id 'G1'", "  - id: G1\n    at_inject"),
    (("    focus: map\n", "    focus: radar\n"), "guide[0].focus", "", "focus: radar"),
    (("    at_end: true\n    focus: score\n", "    at_end: true\n    focus: map\n"), "guide[2]", "at_end", "- id: G3"),
    (("    at_inject: I1\n    focus: messages\n", "    at_inject: I1\n    at_h: 6\n    focus: messages\n"),
     "guide[1]", "exactly one of at_h, at_inject or at_end", "- id: G2"),
])
def test_a_bad_guide_step_is_refused_with_its_file_line_and_field(guided_text: str, mini_city: City,
                                                                   edit: tuple[str, str], field: str, words: str,
                                                                   needle: str) -> None:
    old, new = edit
    assert guided_text.count(old) == 1
    text = guided_text.replace(old, new)
    [prob] = _problems(text, mini_city)
    assert prob.field == field and words in prob.message, prob
    line = _line(text, needle.split("\n")[0]) if "\n" not in needle else _line_pair(text, needle)
    assert prob.line == line, prob
    assert str(prob).startswith(f"s.yaml:{prob.line}: {field}: ")


def _line_pair(text: str, needle: str) -> int:
    """The line of the first of two consecutive lines."""
    first, second = needle.split("\n")
    lines = text.splitlines()
    [hit] = [i + 1 for i in range(len(lines) - 1) if first == lines[i] and second in lines[i + 1]]
    return hit
