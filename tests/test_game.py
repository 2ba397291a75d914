"""The game flow both front ends use (scro_sim.game.GameSession), on SQLite and PostgreSQL.

Two windows (or two servers) on one game, a database that stops answering mid-decision, a
click retried after a lost reply, two windows finishing together, and errors inside the
engine: no decision is lost or applied twice, no game gets stuck, one run per game.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pgkit import private_schema
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from scro_sim import assessment
from scro_sim.assessment import verify_run
from scro_sim.errors import StoreError
from scro_sim.game import GameSession, resume_point
from scro_sim.policy import Decision, PlanPolicy, RandomLegal, baseline_policy
from scro_sim.resources import bundled_scenarios, scenarios_dir
from scro_sim.scenario import Action, load_scenario
from scro_sim.store import GameConflict, NewRun, Store

PG_URL = os.environ.get("SCRO_SIM_TEST_PG")
LEARNER = "learner"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A fresh store: a SQLite file, or a private schema in the PostgreSQL test database."""
    monkeypatch.setenv("SCRO_SIM_SECRET", "game-test-secret-0123456789abcdef")
    if request.param == "sqlite":
        with Store(f"sqlite:///{tmp_path / 'games.sqlite'}") as s:
            yield s
        return
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set SCRO_SIM_TEST_PG")
    with private_schema(PG_URL, "g") as url, Store(url) as s:
        yield s


@pytest.fixture(scope="module")
def flood() -> tuple[Any, Any]:
    return load_scenario(scenarios_dir() / "riverton_flood.yaml")


def start(store: Store, flood: tuple[Any, Any], seed: int = 7) -> GameSession:
    sc, city = flood
    return GameSession.start(sc, city, seed, store=store, game_id=uuid.uuid4().hex, learner=LEARNER)


def window(store: Store, flood: tuple[Any, Any], game_id: str) -> GameSession:
    """Another tab (or server) opening the same stored game."""
    sc, city = flood
    game = store.load_game(game_id)
    assert game is not None
    return GameSession.resume(sc, city, game, store=store)


def warn(message: str = "Leave the river banks now.") -> Decision:
    return Decision([Action(action="warn_public", target="all", message=message)], "warn early")


def stored(store: Store, g: GameSession) -> list[dict[str, Any]]:
    game = store.load_game(g.game_id)  # type: ignore[arg-type]
    assert game is not None
    return list(game.decisions)


def unreachable(store: Store) -> Any:
    """An engine whose connections fail, as when the database server is down."""
    if store.dialect == "postgresql":
        return create_engine("postgresql+psycopg://nobody:nothing@127.0.0.1:9/none",
                             connect_args={"connect_timeout": 2}).execution_options(scro_write=True)
    return create_engine("sqlite:////nonexistent-dir/for/sure/x.sqlite").execution_options(scro_write=True)


# ---------------------------------------------------------------- deciding and resuming


def test_a_decision_is_saved_and_a_resumed_game_waits_where_it_was_left(store: Store, flood: Any) -> None:
    g = start(store, flood)
    assert g.decide(warn()).kind == "ok" and g.decide(Decision([], "wait")).kind == "ok"
    assert stored(store, g) == g.decisions and len(g.decisions) == 2
    other = window(store, flood, g.game_id)  # type: ignore[arg-type]
    assert (other.obs.point, other.obs.time_h) == (g.obs.point, g.obs.time_h) == (2, other.obs.time_h)
    assert other.version == g.version == 2  # created at 0, then two saves


def test_a_refused_decision_changes_nothing(store: Store, flood: Any) -> None:
    g = start(store, flood)
    out = g.decide(Decision([Action(action="deploy_generator", target="no-such-asset")]))
    assert out.kind == "refused" and out.problems and not g.decisions and stored(store, g) == []


def test_a_stale_window_is_reloaded_and_loses_nothing(store: Store, flood: Any) -> None:
    a = start(store, flood)
    b = window(store, flood, a.game_id)  # type: ignore[arg-type]
    assert a.decide(warn("from tab A")).kind == "ok"
    out = b.decide(warn("from tab B"))  # 47 ms later, on the same point: the game moved on
    assert out.kind == "moved_on"
    assert stored(store, a) == a.decisions == b.decisions  # tab A's decision kept, tab B shows it
    assert b.obs.point == a.obs.point and b.version == a.version
    assert b.decide(Decision([], "tab B goes on")).kind == "ok"
    assert a.decide(Decision([], "tab A is behind now")).kind == "moved_on"
    assert [d["rationale"] for d in stored(store, a)] == ["warn early", "tab B goes on"]
    assert a.decisions == b.decisions == stored(store, a)


def test_the_same_decision_from_two_windows_is_taken_once(store: Store, flood: Any) -> None:
    a = start(store, flood)
    b = window(store, flood, a.game_id)  # type: ignore[arg-type]
    assert a.decide(warn()).kind == "ok" and b.decide(warn()).kind == "ok"
    assert len(stored(store, a)) == 1 and a.decisions == b.decisions


@pytest.mark.unpinned  # which window's decision wins the race is a matter of timing
def test_two_windows_deciding_at_once_keep_exactly_one_decision(store: Store, flood: Any) -> None:
    a = start(store, flood)
    b = window(store, flood, a.game_id)  # type: ignore[arg-type]
    outs: dict[str, str] = {}
    go = threading.Barrier(2)

    def click(name: str, g: GameSession) -> None:
        go.wait()
        outs[name] = g.decide(warn(f"from {name}")).kind

    threads = [threading.Thread(target=click, args=(n, g)) for n, g in (("A", a), ("B", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outs.values()) == ["moved_on", "ok"]
    saved = stored(store, a)
    assert len(saved) == 1 and a.decisions == b.decisions == saved


def test_a_database_outage_during_a_decision_applies_nothing_and_a_retry_decides_once(
        store: Store, flood: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    g = start(store, flood)
    point, log_len = g.obs.point, len(g.sim.log)
    with monkeypatch.context() as m:
        m.setattr(store, "_write_engine", unreachable(store))
        out = g.decide(warn())
        assert out.kind == "not_saved" and "database" in out.detail
        assert g.decisions == [] and g.obs.point == point and len(g.sim.log) == log_len  # nothing applied
        assert g.decide(warn()).kind == "not_saved"  # clicking again while it is down: still nothing
    assert stored(store, g) == []
    assert g.decide(warn()).kind == "ok"  # back up: the click counts once
    assert len(stored(store, g)) == 1 and stored(store, g) == g.decisions
    assert window(store, flood, g.game_id).obs.point == g.obs.point  # type: ignore[arg-type]


def test_a_click_retried_after_a_lost_reply_decides_once(store: Store, flood: Any,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    g = start(store, flood)
    real = store.save_game

    def commits_then_loses_the_reply(*args: Any, **kw: Any) -> Any:
        real(*args, **kw)
        raise StoreError("database error: OperationalError: server closed the connection unexpectedly")

    with monkeypatch.context() as m:
        m.setattr(store, "save_game", commits_then_loses_the_reply)
        assert g.decide(warn()).kind == "not_saved"
    assert g.decisions == [] and len(stored(store, g)) == 1  # saved, not applied here yet
    assert g.decide(warn()).kind == "ok"  # the retry finds its own decision stored: a no-op save
    assert stored(store, g) == g.decisions and len(g.decisions) == 1
    assert g.decide(Decision([], "next")).kind == "ok" and len(stored(store, g)) == 2


def test_an_unexpected_error_while_applying_is_taken_back_and_the_game_goes_on(
        store: Store, flood: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    g = start(store, flood)
    with monkeypatch.context() as m:
        m.setattr(g.sim, "apply", lambda d: (_ for _ in ()).throw(RuntimeError("engine bug")))
        out = g.decide(warn())
    assert out.kind == "failed" and "engine bug" in out.detail
    assert "engine bug" in caplog.text  # the traceback is in the server's log, not in front of the learner
    assert stored(store, g) == [] and g.decisions == []
    assert g.decide(warn()).kind == "ok" and stored(store, g) == g.decisions


def test_an_unexpected_error_while_advancing_is_an_outcome_not_a_traceback(
        store: Store, flood: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    g = start(store, flood)
    with monkeypatch.context() as m:
        m.setattr(g.sim, "advance", lambda: (_ for _ in ()).throw(KeyError("boom")))
        out = g.decide(warn())
    assert out.kind == "failed" and len(stored(store, g)) == 1  # the decision itself was taken and kept
    g.reload()  # what a new page load does: replay the stored game
    assert g.decisions == stored(store, g) and g.decide(Decision([])).kind == "ok"


# ---------------------------------------------------------------- finishing


def play_to_end(g: GameSession) -> None:
    while not g.done:
        out = g.decide(Decision([], ""))
        assert out.kind in ("ok", "finished"), out


def test_finishing_stores_one_run_that_verifies(store: Store, flood: Any) -> None:
    g = start(store, flood)
    assert g.decide(warn()).kind == "ok"
    play_to_end(g)
    assert g.run_id is not None and store.count_runs() == 1
    game = store.load_game(g.game_id)  # type: ignore[arg-type]
    assert game is not None and game.status == "finished" and game.run_id == g.run_id
    run = store.get_run(g.run_id)
    assert run is not None and run.game_id == g.game_id and run.decisions == game.decisions
    assert verify_run(store, g.run_id).verified
    assert g.finish().kind == "finished" and store.count_runs() == 1  # finishing again stores nothing


@pytest.mark.unpinned  # the two windows' runs interleave in whatever order the threads take
def test_two_windows_finishing_together_store_one_run(store: Store, flood: Any,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    a = start(store, flood)
    a.decide(warn())
    with monkeypatch.context() as m:  # tab A reaches the end but cannot store its score yet
        m.setattr(store, "save_run", lambda rec: (_ for _ in ()).throw(StoreError("database error: down")))
        play_to_end_unscored(a)
    b = window(store, flood, a.game_id)  # type: ignore[arg-type]
    assert a.done and b.done and not a.finished and not b.finished
    outs: dict[str, str] = {}
    go = threading.Barrier(2)

    def finish(name: str, g: GameSession) -> None:
        go.wait()
        outs[name] = g.finish().kind

    threads = [threading.Thread(target=finish, args=(n, g)) for n, g in (("A", a), ("B", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert outs == {"A": "finished", "B": "finished"}
    assert store.count_runs() == 1 and a.run_id == b.run_id is not None
    assert verify_run(store, a.run_id).verified  # type: ignore[arg-type]


def play_to_end_unscored(g: GameSession) -> None:
    while not g.done:
        out = g.decide(Decision([], ""))
    assert out.kind == "not_saved" and g.run_id is None


def test_the_second_finisher_gets_the_existing_run(store: Store, flood: Any) -> None:
    a = start(store, flood)
    play_to_end(a)
    b = window(store, flood, a.game_id)  # type: ignore[arg-type]
    assert b.finished and b.run_id == a.run_id
    assert b.finish().kind == "finished" and b.run_id == a.run_id and store.count_runs() == 1


def test_the_database_refuses_a_second_run_for_one_game(store: Store, flood: Any) -> None:
    g = start(store, flood)
    play_to_end(g)
    run = store.get_run(g.run_id)  # type: ignore[arg-type]
    assert run is not None
    again = NewRun(**{f: getattr(run, f) for f in NewRun.__dataclass_fields__ if f != "scenario_yaml"},
                   scenario_yaml=run.scenario_yaml)
    assert store.save_run(again) == g.run_id and store.count_runs() == 1  # the store answers with the one run
    other = store.save_run(dataclasses.replace(again, game_id=None))
    with pytest.raises(IntegrityError), store.engine.begin() as conn:  # the unique index itself
        conn.execute(text("UPDATE runs SET game_id = :g WHERE id = :r"), {"g": g.game_id, "r": other})


def test_a_database_outage_while_scoring_loses_nothing(store: Store, flood: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    g = start(store, flood)
    with monkeypatch.context() as m:
        m.setattr(store, "save_run", lambda rec: (_ for _ in ()).throw(StoreError("database error: down")))
        play_to_end_unscored(g)
        assert store.count_runs() == 0
    assert g.finish().kind == "finished" and store.count_runs() == 1
    assert verify_run(store, g.run_id).verified  # type: ignore[arg-type]


# ---------------------------------------------------------------- the store's compare-and-set


def test_a_save_naming_an_old_version_is_refused_with_the_game_as_it_is(store: Store) -> None:
    g = store.save_game("g1", LEARNER, "s", "h", 1, [], expected_version=0)
    assert g.version == 0
    one = [{"point": 0, "time_h": 0.0, "actions": []}]
    g = store.save_game("g1", LEARNER, "s", "h", 1, one, expected_version=0)
    assert g.version == 1
    with pytest.raises(GameConflict) as info:
        store.save_game("g1", LEARNER, "s", "h", 1, [{"point": 0, "time_h": 0.0, "actions": [], "x": 1}],
                        expected_version=0)
    assert info.value.game.version == 1 and info.value.game.decisions == one
    same = store.save_game("g1", LEARNER, "s", "h", 1, one, expected_version=0)  # a retry of what is stored
    assert same.version == 1 and store.load_game("g1").version == 1  # type: ignore[union-attr]


# ---------------------------------------------------------------- every exercise, many seeds

#: seeds per exercise and policy; each policy plays its own seeds, so the default covers 3 x 20 = 60
#: seeds per exercise (SCRO_SIM_SOAK_SEEDS=60 plays 60 per policy, 180 per exercise)
SOAK_SEEDS = int(os.environ.get("SCRO_SIM_SOAK_SEEDS", "20"))
POLICIES = ("expert", "greedy", "random")
RESUME_EVERY = 4  # replay-resume the game from the store every few decisions, as a refresh would


def _policy(name: str, sc: Any, city: Any, seed: int, g: GameSession) -> Any:
    if name == "expert":
        return PlanPolicy(sc.reference_plans.expert, "expert")
    if name == "random":
        return RandomLegal.for_run(sc, city, seed, check=g.check)
    return baseline_policy(name)


@pytest.mark.slow
@pytest.mark.parametrize("name", POLICIES)
@pytest.mark.parametrize("path", sorted(bundled_scenarios()), ids=lambda p: p.stem)
def test_every_exercise_plays_to_a_verified_score_through_the_game_session(path: Path, name: str, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The app's own game flow (store, resume by replay) never gets stuck and every score verifies."""
    monkeypatch.setenv("SCRO_SIM_SECRET", "game-test-secret-0123456789abcdef")
    # verify_run parses the stored scenario text for every run; the text is the same for all of them
    parse = functools.lru_cache(maxsize=4)(assessment.scenario_from_text)
    monkeypatch.setattr(assessment, "scenario_from_text", lambda text, label="", **kw: parse(text, **kw))
    sc, city = load_scenario(path)
    assert sc.reference_plans.expert is not None, f"{path.stem} has no expert plan"
    seeds = range(POLICIES.index(name) * SOAK_SEEDS, (POLICIES.index(name) + 1) * SOAK_SEEDS)
    with Store(f"sqlite:///{tmp_path / 'soak.sqlite'}") as store:
        for seed in seeds:
            g = GameSession.start(sc, city, seed, store=store, game_id=f"{name}-{seed}", learner=LEARNER)
            policy = _policy(name, sc, city, seed, g)
            steps = 0
            while not g.finished:
                assert steps < 500, f"{path.stem} {name} seed {seed}: stuck at point {g.obs.point}"
                d = policy.decide(g.obs) or Decision([])
                kept = [a for i, a in enumerate(d.actions) if not g.check(Decision([*d.actions[:i], a]))]
                out = g.decide(Decision(kept, d.rationale, d.answers))
                assert out.kind in ("ok", "finished"), f"{path.stem} {name} seed {seed}: {out} {out.detail}"
                steps += 1
                if not g.finished and steps % RESUME_EVERY == 0:  # a refresh: the page replays the store
                    game = store.load_game(g.game_id)  # type: ignore[arg-type]
                    assert game is not None and resume_point(game.decisions) == g.obs.point
                    fresh = GameSession.resume(sc, city, game, store=store)
                    assert fresh.obs.time_h == g.obs.time_h and fresh.decisions == g.decisions
                    g = fresh
                    if name == "random":
                        policy.check = g.check
            report = verify_run(store, g.run_id)  # type: ignore[arg-type]
            assert report.verified, f"{path.stem} {name} seed {seed}: {report}"
        assert store.count_runs() == SOAK_SEEDS


# ---------------------------------------------------------------- the terminal


def test_terminal_play_goes_through_the_game_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim import cli

    lines = iter(["warn all Leave the river banks now.", "gen NO-SUCH-ASSET", "why warn early", "", "", "quit"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(lines))
    out = tmp_path / "decisions.json"
    assert cli.main(["play", "riverton_flood", "--seed", "7", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "decisions written" in printed and "NO-SUCH-ASSET" in printed  # the refused action was named
    decisions = json.loads(out.read_text(encoding="utf-8"))
    assert [d["point"] for d in decisions] == [0]
    assert decisions[0]["actions"] == [{"action": "warn_public", "target": "all",
                                        "message": "Leave the river banks now."}]
    # the same decisions replayed by the library reach the same end: one flow, one result
    sc, city = load_scenario(scenarios_dir() / "riverton_flood.yaml")
    g = GameSession.start(sc, city, 7)
    assert g.decide(Decision.from_dict(decisions[0])).kind == "ok" and g.decisions == decisions


def test_terminal_play_shows_the_injects_in_the_players_language(monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """The observation names an inject by its id; `scro-sim play --lang el` looks its words up in Greek."""
    from scro_sim import cli
    from scro_sim.scenario import text_in

    monkeypatch.setattr("builtins.input", lambda _prompt="": "quit")
    assert cli.main(["play", "riverton_flood", "--seed", "7", "--lang", "el"]) == 0
    printed = capsys.readouterr().out
    sc, _city = load_scenario(scenarios_dir() / "riverton_flood.yaml")
    first = sc.msel[0]
    assert text_in(first.sender, "el") in printed and text_in(first.sender, "en") not in printed


def test_terminal_play_speaks_the_players_language(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """`scro-sim play --lang de`: the help, the status lines and the end in German, the verbs as typed."""
    from scro_sim import cli
    from scro_sim.i18n import translator

    lines = iter(["help", "warn all Jetzt das Ufer verlassen.", "", "quit"])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(lines))
    assert cli.main(["play", "riverton_flood", "--seed", "7", "--lang", "de"]) == 0
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps long titles to the terminal's width
    de = translator("de")
    for english in ("actions (one per line, empty line to continue the clock):", "stop here",
                    "services (share of people served)", "how it went"):
        assert de(english) != english and de(english) in printed and english not in printed
    assert "ok: warn_public all" in printed  # what the player typed is echoed as the registry names it
    assert "budget left" not in printed and "Budget" in printed


# ---------------------------------------------------------------- practice games


def test_a_practice_game_is_scored_and_stored_as_practice_and_never_graded(store: Store, flood: Any) -> None:
    from scro_sim.assessment import grade_rows

    sc, city = flood
    g = GameSession.start(sc, city, 7, store=store, game_id=uuid.uuid4().hex, learner=LEARNER, practice=True)
    assert g.decide(warn()).kind == "ok"
    resumed = window(store, flood, g.game_id)  # type: ignore[arg-type]
    assert resumed.practice  # a practice game stays one when resumed in another window
    play_to_end(resumed)
    assert resumed.card is not None and resumed.run_id is not None
    run = store.get_run(resumed.run_id)
    assert run is not None and run.origin == "practice" and verify_run(store, run.id).verified
    graded = start(store, flood)
    play_to_end(graded)
    assert store.get_run(graded.run_id).origin == "played"  # type: ignore[arg-type, union-attr]
    assert [r.run_id for r in grade_rows(store)] == [graded.run_id]


def test_terminal_practice_stores_the_game_and_shows_its_card_and_debrief(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim import cli

    db = f"sqlite:///{tmp_path / 'practice.sqlite'}"
    monkeypatch.setattr("builtins.input", lambda _prompt="": "quit")
    assert cli.main(["--db", db, "play", "riverton_flood", "--seed", "7", "--practice", "--learner", "maria"]) == 0
    printed = capsys.readouterr().out
    assert "practice, never graded" in printed and "debrief" in printed and "the expert chose" in printed
    with Store(db) as s:
        (run,) = s.list_runs(learner="maria")
        assert run.origin == "practice" and s.gradebook() == []
    assert cli.main(["--db", db, "export", "--format", "moodle"]) == 0
    assert "maria" not in capsys.readouterr().out


def test_terminal_practice_needs_a_learner(capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim import cli

    assert cli.main(["play", "riverton_flood", "--practice"]) == 1
    assert "learner: a practice game is stored under a learner" in capsys.readouterr().err


def test_a_listed_game_is_abandoned_from_the_list_without_replaying_it(store: Store, flood: tuple[Any, Any]) -> None:
    from scro_sim.game import abandon_stored

    g = start(store, flood)
    assert g.decide(warn()).ok
    game = store.load_game(g.game_id)
    assert game is not None
    assert abandon_stored(store, game, "someone_else").kind == "refused"
    assert store.load_game(g.game_id).status == "playing"  # type: ignore[union-attr]
    other = window(store, flood, g.game_id)
    assert other.decide(Decision()).ok  # the list's copy is now one decision behind
    assert abandon_stored(store, game, LEARNER).kind == "ok"  # closed as it is now, nothing lost
    now = store.load_game(g.game_id)
    assert now is not None and now.status == "abandoned" and len(now.decisions) == 2
    assert [gm.id for gm in store.list_games(LEARNER, status="playing")] == []
    assert abandon_stored(store, now, LEARNER).kind == "ok"  # twice is harmless
