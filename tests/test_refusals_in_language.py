"""A refused decision says why in the learner's language (issue 16 §4).

The reasons come from three places: the kernel (the budget, the exercise being over), an action's
own check (no mutual aid left) and the scenario's static checks of an action (an unknown asset).
Each reaches the front ends as a :class:`~scro_sim.errors.Msg` through the game session, so the
Play page and ``scro-sim play`` word it in German or Greek with no English left; the English text
(``str``), the one tests, logs and ``DecisionError`` show, is what it always was.
"""

from __future__ import annotations

from typing import Any

import pytest
from serverkit import english_left

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError, Msg, say
from scro_sim.game import GameSession
from scro_sim.i18n import translator
from scro_sim.policy import Decision
from scro_sim.resources import scenarios_dir
from scro_sim.scenario import Action, load_scenario


@pytest.fixture(scope="module")
def flood() -> tuple[Any, Any]:
    return load_scenario(scenarios_dir() / "riverton_flood.yaml")


def _over_budget(sc: Any) -> list[Action]:
    """Enough public warnings to cost more than the whole budget."""
    cost = float(sc.actions.get("warn_public").cost)
    return [Action(action="warn_public", target="all")] * (int(sc.resources.budget / cost) + 1)


def _refused(flood: tuple[Any, Any], actions: list[Action], lang: str) -> tuple[list[str], str]:
    """The refusal's reasons in English and in ``lang``, through the game session both front ends drive."""
    sc, city = flood
    game = GameSession.start(sc, city, 7)
    out = game.decide(Decision(actions))
    assert out.kind == "refused"
    assert game.decisions == []  # refused: nothing applied
    return out.reasons(), "\n".join(out.reasons(translator(lang)))


def _no_english(text: str, english: list[str], lang: str, *words: str) -> None:
    assert english_left(text, lang) == []
    for w in words:  # the English template's own words
        assert w not in text
    assert all(e not in text for e in english)


@pytest.mark.parametrize("lang", ["de", "el"])
def test_a_budget_refusal_is_said_in_the_learners_language(flood: tuple[Any, Any], lang: str) -> None:
    english, said = _refused(flood, _over_budget(flood[0]), lang)
    assert english[-1].startswith("not enough budget: this costs ")
    _no_english(said, english, lang, "not enough budget", "left", "costs")
    _ = translator(lang)
    assert _("not enough budget: this costs {cost} {currency}, {left} left").split("{")[0] in said
    if lang == "de":  # the reader's thousands separator: 1.000.500 in German, 1,000,500 in English
        assert "1.000.500 EUR" in said and "1,000,500 EUR" in english[-1]


@pytest.mark.parametrize("lang", ["de", "el"])
def test_an_action_check_refusal_is_said_in_the_learners_language(flood: tuple[Any, Any], lang: str) -> None:
    aid = Action(action="request_mutual_aid")
    english, said = _refused(flood, [aid, aid], lang)
    assert english == ["actions[1] (request_mutual_aid): no mutual aid left to request"]
    _no_english(said, english, lang, "no mutual aid", "request_mutual_aid")
    _ = translator(lang)
    assert _("no mutual aid left to request") in said
    assert _("request_mutual_aid") in said  # the action by its label, not its identifier


@pytest.mark.parametrize("lang", ["de", "el"])
def test_a_static_action_problem_is_said_in_the_learners_language(flood: tuple[Any, Any], lang: str) -> None:
    english, said = _refused(flood, [Action(action="dispatch_crew", target="NOWHERE")], lang)
    assert english == ["actions[0] (dispatch_crew): target: unknown asset 'NOWHERE'"]
    _no_english(said, english, lang, "unknown asset", "dispatch_crew")
    assert "'NOWHERE'" in said  # the learner's own words stay as typed


def test_the_exercise_being_over_is_said_in_the_learners_language(flood: tuple[Any, Any]) -> None:
    sc, city = flood
    sim = Simulation(sc, city, 7)
    sim.stopped = "test"
    [reason] = sim.check([])
    assert reason == "the exercise is over"
    assert say(reason, translator("de")) == translator("de")("the exercise is over") != "the exercise is over"


def test_a_refused_apply_keeps_its_english_message_and_its_reasons(flood: tuple[Any, Any]) -> None:
    sc, city = flood
    sim = Simulation(sc, city, 7)
    sim.advance()
    aid = Action(action="request_mutual_aid")
    with pytest.raises(DecisionError) as err:
        sim.apply([aid, aid, Action(action="dispatch_crew", target="NOWHERE")])
    e = err.value
    assert str(e) == "actions: " + "; ".join(e.reasons)
    assert len(e.reasons) == 2 and all(isinstance(r, Msg) for r in e.reasons)
    de = e.problems[0].say(translator("de"))
    assert de.startswith("actions: ") and english_left(de, "de") == [] and "no mutual aid" not in de
    assert sim.decisions == []


def test_the_terminal_game_says_a_refusal_in_the_players_language(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim import cli

    lines = iter(["crew NOWHERE"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(lines, "quit"))
    assert cli.main(["play", "riverton_flood", "--lang", "de"]) == 0
    out = capsys.readouterr().out
    _ = translator("de")
    assert _("unknown asset {id!r}").format(id="NOWHERE") in out
    assert f"{_('dispatch_crew')}): target: " in out  # the action by its German label
    assert "unknown asset" not in out and "(dispatch_crew)" not in out


def test_the_terminal_game_says_a_line_it_cannot_read_in_the_players_language(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim import cli

    lines = iter(["fly NOWHERE"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(lines, "quit"))
    assert cli.main(["play", "riverton_flood", "--lang", "el"]) == 0
    out = capsys.readouterr().out
    assert translator("el")("unknown command {command!r}; type 'help'").format(command="fly") in out
    assert "unknown command" not in out
