"""``scro-sim play --practice``: the terminal's practice game, as the app's Play page has it.

A practice game is stored under its learner with origin ``practice`` (scored and debriefed, never
graded or exported), shows hints at each decision point in the player's language, and can replay
the situation (seed) of an earlier game with ``--replay``.  Input is scripted line by line.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from scro_sim import cli
from scro_sim.store import Store

SCENARIO = "riverton_first_steps"  # the guided exercise: short, and its first message asks for a crew


def _script(monkeypatch: pytest.MonkeyPatch, lines: Iterable[str]) -> None:
    """The player types ``lines`` one per prompt, then ``quit`` for ever after."""
    it = iter(lines)
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(it, "quit"))


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'practice.sqlite'}"


def test_a_practice_game_shows_hints_in_the_players_language_and_is_never_graded(
        db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _script(monkeypatch, [])
    assert cli.main(["--db", db, "play", SCENARIO, "--practice", "--learner", "maria", "--lang", "el"]) == 0
    out = capsys.readouterr().out
    assert "υποδείξεις (μόνο στην εξάσκηση):" in out
    assert "Σας ζητείται, έως" in out  # the first message's ask, in Greek
    assert "Asked of you" not in out and "hints (practice only)" not in out
    with Store(db) as s:
        (run,) = s.list_runs(learner="maria")
        assert run.origin == "practice" and s.gradebook() == []
        (game,) = s.list_games("maria")
        assert game.practice and game.seed == 0


def test_a_graded_terminal_game_shows_no_hints(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    _script(monkeypatch, [])
    assert cli.main(["play", SCENARIO]) == 0
    out = capsys.readouterr().out
    assert "hints (practice only)" not in out and "Asked of you" not in out


def test_a_practice_game_replays_the_situation_of_an_earlier_game(
        db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _script(monkeypatch, [])
    assert cli.main(["--db", db, "play", SCENARIO, "--practice", "--learner", "maria", "--seed", "5"]) == 0
    with Store(db) as s:
        (first,) = s.list_games("maria")
    assert f"game {first.id} on seed 5" in capsys.readouterr().out.replace("\n", " ")
    _script(monkeypatch, [])
    assert cli.main(["--db", db, "play", SCENARIO, "--practice", "--learner", "maria", "--replay", first.id[:8]]) == 0
    with Store(db) as s:
        games = s.list_games("maria")
        runs = s.list_runs(learner="maria")
        assert len(games) == 2 and {g.seed for g in games} == {5} and all(g.practice for g in games)
        # the same seed and the same (no) decisions: the very same event log, the same situation
        assert len(runs) == 2 and len({r.log_digest for r in runs}) == 1 and len({r.seed for r in runs}) == 1
        assert s.gradebook() == []


@pytest.mark.parametrize(("extra", "lang", "said"), [
    (["--replay", "abc"], "en", "replay: only a practice game replays an earlier game's situation"),
    (["--practice", "--learner", "maria", "--replay", "abc", "--seed", "3"], "en",
     "seed: --replay plays the earlier game's seed: leave out --seed"),
    (["--practice", "--learner", "maria", "--replay", "zzz"], "en",
     "replay: maria has no earlier game 'zzz' of riverton_first_steps"),
    (["--practice", "--learner", "maria", "--replay", "zzz"], "de",
     "replay: maria hat kein früheres Spiel 'zzz' von riverton_first_steps"),
    (["--practice"], "pt", "learner: um jogo de treino é guardado em nome de um formando"),
])
def test_bad_practice_options_are_refused_in_the_players_language(
        db: str, capsys: pytest.CaptureFixture[str], extra: list[str], lang: str, said: str) -> None:
    assert cli.main(["--db", db, "play", SCENARIO, "--lang", lang, *extra]) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err


def test_an_unknown_replay_names_the_learners_games_of_the_scenario(
        db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _script(monkeypatch, [])
    assert cli.main(["--db", db, "play", SCENARIO, "--practice", "--learner", "maria", "--seed", "9"]) == 0
    capsys.readouterr()
    assert cli.main(["--db", db, "play", SCENARIO, "--practice", "--learner", "maria", "--replay", "nope"]) == 1
    with Store(db) as s:
        (game,) = s.list_games("maria")
    assert f"{game.id[:8]} (seed 9," in capsys.readouterr().err


def test_bad_lines_in_a_practice_game_are_refused_and_the_game_goes_on(
        db: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    _script(monkeypatch, ["fly SS6", "crew", "crew NOPE", "gen", "crew SS6", ""])
    assert cli.main(["--db", db, "play", SCENARIO, "--practice", "--learner", "maria"]) == 0
    out = capsys.readouterr().out
    assert "ok: dispatch_crew SS6" in out and "Traceback" not in out
    with Store(db) as s:
        (game,) = s.list_games("maria")
    actions = [(a["action"], a.get("target")) for d in game.decisions for a in d.get("actions", [])]
    assert actions == [("dispatch_crew", "SS6")]  # only the one good line was decided
