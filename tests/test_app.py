"""The Streamlit app through streamlit.testing.v1.AppTest: every page and role, on a temp SQLite DB."""

from __future__ import annotations

import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app" / "streamlit_app.py"
DATA = ROOT / "tests" / "data"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# a new game draws its seed afresh, as a learner's does: its runs are not pinned (tests/pinned_runs.py)
pytestmark = pytest.mark.unpinned

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from scro_sim.assessment import record_run  # noqa: E402
from scro_sim.demo import seed_demo  # noqa: E402
from scro_sim.scenario import load_scenario  # noqa: E402
from scro_sim.store import Store  # noqa: E402


def mini_text() -> str:
    """The mini scenario; its city is found in tests/data, a city-model folder for these tests (``env``)."""
    return (DATA / "mini_scenario.yaml").read_text(encoding="utf-8")


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    db = f"sqlite:///{tmp_path / 'app.sqlite'}"
    scen = tmp_path / "scenarios"
    scen.mkdir()
    (scen / "mini.yaml").write_text(mini_text(), encoding="utf-8")
    monkeypatch.setenv("SCRO_SIM_DB", db)
    monkeypatch.setenv("SCRO_SIM_SCENARIOS_DIR", str(scen))
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))  # a published city-model folder: mini_city.yaml
    monkeypatch.setenv("SCRO_SIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("SCRO_SIM_DEMO", raising=False)
    with Store(db) as s:
        seed_demo(s)
        for name in ("learner", "learner2", "lecturer", "assessor"):
            s.set_language(name, "en")  # assertions read English; one test checks another language
        yield s


def app() -> AppTest:
    return AppTest.from_file(str(APP), default_timeout=60)


def sign_in(username: str, password: str) -> AppTest:
    at = app().run()
    at.text_input(key="w.sign_in.username").input(username)
    at.text_input(key="w.sign_in.password").input(password)
    at.button[0].click().run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Everything visible as one string (titles, text, captions, alerts, metrics, code)."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "text", "caption", "success", "info", "warning", "error", "code"):
        parts += [str(e.value) for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def stored_run(store: Store, learner: str) -> str:
    sc, city = load_scenario("mini.yaml", text=mini_text())
    run_id, _ = record_run(store, sc, city, 3, [], learner=learner, cohort="demo-cohort")
    return run_id


# -- signed out


def test_signed_out_sees_only_sign_in(env: Store) -> None:
    at = app().run()
    assert not at.exception
    assert "tabletop simulation" in texts(at)
    with pytest.raises(ValueError):
        at.switch_page("app_pages/play.py")
    with pytest.raises(ValueError):
        at.switch_page("app_pages/review.py")


def test_wrong_password_is_generic(env: Store) -> None:
    at = sign_in("learner", "nope")
    assert "Wrong username or password." in texts(at)
    at2 = sign_in("nobody", "nope")
    assert "Wrong username or password." in texts(at2)


def test_the_sign_in_page_says_when_the_database_is_a_demo_database(env: Store) -> None:
    at = app().run()
    assert "This is a demo database" in texts(at)


def test_sign_in_during_a_database_outage_says_the_service_is_unavailable(
        env: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("psycopg")
    # nothing listens on port 1: every connection is refused, as when the database server is down
    monkeypatch.setenv("SCRO_SIM_DB", "postgresql+psycopg://scro:pw@127.0.0.1:1/scro?connect_timeout=2")
    at = sign_in("learner", "learner-demo")
    shown = texts(at)
    assert "The service is unavailable at the moment. Please try again later." in shown
    assert "Wrong username or password." not in shown


def test_a_locked_account_is_told_to_wait_without_its_password_being_checked(env: Store) -> None:
    from datetime import UTC, datetime, timedelta

    start = datetime.now(UTC)
    for k in range(5):  # five failures, a minute apart: the account is locked for 15 minutes
        env.clock = lambda k=k: start + timedelta(minutes=k)  # type: ignore[method-assign]
        assert env.sign_in("learner", "wrong").status == "wrong"
    at = sign_in("learner", "learner-demo")
    shown = texts(at)
    assert "Too many failed sign-ins. Try again in 19 min." in shown or "Try again in 20 min." in shown, shown
    assert "You are signed in." not in shown


# -- playing


def test_learner_plays_to_the_end_and_sees_the_score(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    assert "Play" in texts(at)
    at.button(key="w.play.start").click().run()
    assert not at.exception
    # an action with a message, added then decided with a rationale
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("w.play.kind."))).set_value(
        "warn_public").run()
    msg = next(t for t in at.text_area if t.key and t.key.startswith("w.play.message."))
    msg.input("<b>Leave the flood plain now</b>").run()
    at.button(key="w.play.add").click().run()
    assert "Action added to your decision." in texts(at) or any("warn_public" in t for t in texts(at).split("\n"))
    rationale = next(t for t in at.text_area if t.key and t.key.startswith("w.play.rationale."))
    rationale.input("Warn early.").run()
    at.button(key="w.play.decide").click().run()
    assert not at.exception
    assert not at.error, [e.value for e in at.error]
    for _ in range(30):
        if any(m.label == "Your score" for m in at.metric):
            break
        answers = [t for t in at.text_area if t.key and t.key.startswith("w.play.answer.")]
        for t in answers:
            t.input("Life safety first: hospital power.")
        at.button(key="w.play.decide").click().run()
        assert not at.exception
    score = next(m for m in at.metric if m.label == "Your score")
    assert re.match(r"\d+\.\d / 100", score.value)
    runs = env.list_runs(learner="learner")
    assert len(runs) == 1 and runs[0].source == "play" and runs[0].origin == "played"
    games = env.list_games("learner")
    assert games[0].status == "finished" and games[0].run_id == runs[0].id
    run = env.get_run(runs[0].id)
    assert run is not None and run.decisions[0]["actions"][0]["message"] == "<b>Leave the flood plain now</b>"


def test_a_practice_game_from_the_play_page_is_debriefed_and_never_graded(env: Store) -> None:
    from scro_sim.assessment import grade_rows

    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.practice").click().run()
    assert not at.exception
    assert "A practice game: scored and debriefed, never graded." in texts(at)
    for _ in range(30):
        if any(m.label == "Your score" for m in at.metric):
            break
        at.button(key="w.play.skip").click().run()
        assert not at.exception
    assert any(m.label == "Your score" for m in at.metric)
    (run,) = env.list_runs(learner="learner")
    assert run.origin == "practice" and env.list_games("learner")[0].practice
    assert grade_rows(env) == []
    assert "The score is provisional" not in " ".join(texts(at))  # nobody rates a practice game
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception and "(practice)" in " ".join(str(o) for o in at.selectbox[0].options)
    # the assessor's queue holds only runs that count: the practice run is not waiting for judgement
    rev = sign_in("assessor", "assessor-demo")
    assert not rev.exception
    assert not any(run.id[:8] in str(df.value.to_dict()) for df in rev.dataframe)
    rev.checkbox(key="w.review.queue").uncheck().run()
    assert any(run.id[:8] in str(df.value.to_dict()) for df in rev.dataframe)


def test_what_changed_reads_as_sentences_naming_assets_as_the_map_does(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    events: list[str] = []
    for _ in range(30):
        if any(m.label == "Your score" for m in at.metric):
            break
        at.button(key="w.play.skip").click().run()
        assert not at.exception
        for df in at.dataframe:
            if "Event" in df.value.columns:
                events += [str(v) for v in df.value["Event"]]
    assert events, "nothing changed in the whole mini flood"
    assert not [e for e in events if re.fullmatch(r"[a-z_]+", e)], "a raw record kind reached the learner"
    assert any(" stopped: " in e or "Message from " in e for e in events), events[:10]


def test_picking_an_asset_shows_the_chain_of_causes_behind_it(env: Store) -> None:
    """The map's "why is it down?" list explains a failure back to its cause, and says what it feeds."""
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    for _ in range(30):
        why = next(s for s in at.selectbox if s.key and s.key.startswith("w.play.why."))
        if len(why.options) > 1 or any(m.label == "Your score" for m in at.metric):
            break
        at.button(key="w.play.skip").click().run()
        assert not at.exception
    assert len(why.options) > 1, "no asset failed in the mini flood"
    why.select_index(1).run()
    assert not at.exception
    shown = texts(at)
    assert ": down, " in shown or "on backup, without" in shown
    assert " feeds " in shown


def test_refused_decision_changes_nothing(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    kind = next(s for s in at.selectbox if s.key and s.key.startswith("w.play.kind."))
    kind.set_value("reopen_road").run()
    at.button(key="w.play.add").click().run()
    assert at.error, "reopening a road that was never closed is refused"
    assert "Time left 48 h" in texts(at)
    assert env.list_games("learner")[0].decisions == []


def test_a_new_session_resumes_the_stored_game(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    at.button(key="w.play.skip").click().run()
    at.button(key="w.play.skip").click().run()
    hour = next(m.value for m in at.metric if m.label == "Clock")
    game = env.list_games("learner")[0]
    assert len(game.decisions) == 2
    at2 = sign_in("learner", "learner-demo")  # a refresh: a new session
    assert "Games in progress" in texts(at2)
    at2.button(key=f"w.play.resume.{game.id}").click().run()
    assert not at2.exception
    assert next(m.value for m in at2.metric if m.label == "Clock") == hour
    # learner2 sees no game of learner's
    at3 = sign_in("learner2", "learner-demo")
    assert "Games in progress" not in texts(at3)


def test_a_game_stopped_by_its_work_budget_is_closed_with_the_reason(env: Store) -> None:
    from app import state as app_state
    from scro_sim.engine.budget import WorkBudget

    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    sim = at.session_state[app_state._GAME].sim
    sim.budget = WorkBudget(records=len(sim.log) + 1, steps=10**6)  # the next stretch of play runs away
    at.button(key="w.play.skip").click().run()
    assert not at.exception, at.exception
    error = "\n".join(str(e.value) for e in at.error)
    assert "The exercise had to stop and this game was closed" in error and "work budget" in error
    assert env.list_games("learner")[0].status == "abandoned"
    at.button(key="w.play.start").click().run()  # and the learner can play on
    assert not at.exception and "Time left 48 h" in texts(at)


def test_a_game_that_runs_away_from_the_start_is_never_stored(env: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.engine.budget import WorkBudget

    monkeypatch.setattr(WorkBudget, "for_run", classmethod(lambda cls, scenario, city: cls(1, 10**6)))
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    assert not at.exception, at.exception
    assert "The exercise had to stop" in "\n".join(str(e.value) for e in at.error)
    assert env.list_games("learner") == [] and "Choose a scenario" in texts(at)


# -- isolation between learners


def test_learners_never_see_each_others_runs(env: Store) -> None:
    mine = stored_run(env, "learner")
    at = sign_in("learner2", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert "You have no scored runs yet" in texts(at)
    at.query_params["run"] = mine
    at.run()
    assert "This run is not available." in texts(at)
    assert mine not in texts(at)
    # the owner sees it, by list and by link
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception
    assert "Score" in texts(at) and "This run is not available." not in texts(at)
    at.query_params["run"] = mine
    at.run()
    assert "This run is not available." not in texts(at)
    # and learner2 again, after the owner's view was rendered (no shared cache leaks it)
    at = sign_in("learner2", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    at.query_params["run"] = mine
    at.run()
    assert "This run is not available." in texts(at)


def test_debrief_in_another_language(env: Store) -> None:
    env.set_language("learner2", "el")  # learner2 works in Greek
    stored_run(env, "learner2")
    at = sign_in("learner2", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception
    assert "Απολογισμός" in texts(at)


# -- roles


@pytest.mark.parametrize(("user", "password", "allowed", "refused"), [
    ("learner", "learner-demo", ["play", "plan", "debrief"], ["review", "author"]),
    ("lecturer", "lecturer-demo", ["author", "play", "cohort", "debrief"], ["review"]),
    ("assessor", "assessor-demo", ["review", "cohort"], ["play", "author", "plan", "debrief"]),
])
def test_pages_by_role(env: Store, user: str, password: str, allowed: list[str], refused: list[str]) -> None:
    at = sign_in(user, password)
    for page in allowed:
        at.switch_page(f"app_pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
    for page in refused:
        with pytest.raises(ValueError):
            at.switch_page(f"app_pages/{page}.py")


def test_before_a_game_the_learner_reads_what_it_teaches_and_how_it_is_scored(env: Store) -> None:
    env.set_language("learner", "de")
    at = sign_in("learner", "learner-demo")
    assert not at.exception
    shown = texts(at)
    assert "Was diese Übung vermittelt und wie sie bewertet wird" in [e.label for e in at.expander]
    assert "Kursmodule" in shown and "Wie bewertet wird" in shown and "Bestehensgrenze" in shown
    from scro_sim.scenario import load_scenario

    sc, _city = load_scenario(DATA / "mini_scenario.yaml")
    for mid in sc.modules:
        assert f"- {mid}" in shown, mid
    assert "von einer Prüferin oder einem Prüfer bewertet" in shown  # the mini rubric has judged criteria


@pytest.mark.parametrize("user", ["learner", "assessor"])
def test_glossary_page_in_the_readers_language_and_searchable(env: Store, user: str) -> None:
    env.set_language(user, "de")
    at = sign_in(user, f"{user}-demo")
    at.switch_page("app_pages/glossary.py").run()
    assert not at.exception
    shown = texts(at)
    assert "Glossar" in shown and "Kaskadeneffekt" in shown and "Mobiler Generator" in shown
    at.text_input(key="w.glossary.q").input("Generator").run()
    shown = texts(at)
    assert "**Mobiler Generator**" in shown and "**Kaskadeneffekt**" not in shown


def test_language_is_remembered(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.selectbox(key="w.lang").set_value("de").run()
    assert not at.exception
    assert "Übung" in texts(at)
    user = env.get_user("learner")
    assert user is not None and user.language == "de"


def test_language_switch_keeps_the_chosen_scenario_and_relabels_it(env: Store, tmp_path: Path) -> None:
    text = mini_text().replace("id: mini-flood", "id: other-flood").replace("en: Mini flood", "en: Other flood")
    (tmp_path / "scenarios" / "other.yaml").write_text(text, encoding="utf-8")
    at = sign_in("learner", "learner-demo")
    at.selectbox(key="w.play.scenario@en").select_index(1).run()  # not the first, which a fresh widget would show
    value = at.selectbox(key="w.play.scenario@en").value
    at.selectbox(key="w.lang").set_value("de").run()
    assert not at.exception
    # a new widget for the new language (Streamlit would keep showing the old label), with the same choice
    assert at.selectbox(key="w.play.scenario@de").value == value


def test_pending_action_shows_names_in_the_learners_language(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.selectbox(key="w.lang").set_value("de").run()
    at.button(key="w.play.start").click().run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("w.play.kind."))).set_value(
        "warn_public").run()
    target = next(s for s in at.selectbox if s.key and s.key.startswith("w.play.target."))
    target.set_value("all").run()
    at.button(key="w.play.add").click().run()
    assert not at.exception
    lines = [t.value for t in at.text]
    assert "Bevölkerung warnen: alle Bezirke" in lines, lines  # not the raw id "all"



def test_a_warning_may_go_door_to_door_and_broadcast_is_the_default_left_unset(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.selectbox(key="w.lang").set_value("de").run()
    at.button(key="w.play.start").click().run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("w.play.kind."))).set_value(
        "warn_public").run()
    channel = next(s for s in at.selectbox if s.key and s.key.startswith("w.play.channel."))
    assert channel.options == ["Rundfunk und Mobilfunk", "von Tür zu Tür"] and channel.value is None
    channel.set_value("door_to_door").run()
    next(s for s in at.selectbox if s.key and s.key.startswith("w.play.target.")).set_value("all").run()
    at.button(key="w.play.add").click().run()
    assert not at.exception
    assert "Bevölkerung warnen: alle Bezirke, von Tür zu Tür" in [t.value for t in at.text]


def test_pending_action_is_named_by_the_scenarios_own_label_in_the_learners_language(env: Store, tmp_path: Path) -> None:
    labelled = mini_text().replace("  close_road: {cost: 100}\n", "  close_road: {cost: 100}\n  warn_public:\n    label:"
                                   " {en: Warn by siren and radio, de: Warnen per Sirene und Radio}\n")
    assert "Warnen per Sirene" in labelled
    (tmp_path / "scenarios" / "mini.yaml").write_text(labelled, encoding="utf-8")
    at = sign_in("learner", "learner-demo")
    at.selectbox(key="w.lang").set_value("de").run()
    at.button(key="w.play.start").click().run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("w.play.kind."))).set_value(
        "warn_public").run()
    next(s for s in at.selectbox if s.key and s.key.startswith("w.play.target.")).set_value("all").run()
    at.button(key="w.play.add").click().run()
    assert not at.exception
    assert "Warnen per Sirene und Radio: alle Bezirke" in [t.value for t in at.text]  # not the catalogue's "Bevölkerung warnen"

def test_staff_are_recalled_for_a_crew_team_from_the_form_with_no_hospital_chosen(env: Store, tmp_path: Path) -> None:
    """recall_staff names a team or a hospital: the hospital is left empty ("—") unless chosen."""
    (tmp_path / "scenarios" / "mini.yaml").write_text(
        mini_text().replace("  close_road: {cost: 100}\n", "  close_road: {cost: 100}\n  recall_staff: {enabled: true}\n"),
        encoding="utf-8")
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    at.selectbox(key=next(s.key for s in at.selectbox if s.key and s.key.startswith("w.play.kind."))).set_value(
        "recall_staff").run()
    hospital = next(s for s in at.selectbox if s.key and s.key.startswith("w.play.target."))
    assert hospital.value is None and hospital.options[0] == "—"
    next(s for s in at.selectbox if s.key and s.key.startswith("w.play.crew.")).set_value("power_crew").run()
    at.button(key="w.play.add").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Recall staff: Power crew" in [t.value for t in at.text]  # the team alone, no hospital


# -- review


def test_assessor_reviews_verifies_judges_and_exports(env: Store) -> None:
    run_id = stored_run(env, "learner")
    at = sign_in("assessor", "assessor-demo")
    assert not at.exception
    at.button(key=f"w.review.verify.{run_id}").click().run()
    assert "verified" in texts(at) and "not verified" not in texts(at)
    # nothing is rated until the assessor chooses: saving untouched must not give a pass
    assert at.radio(key=f"w.review.rate.{run_id}.C3").value is None
    assert at.button(key=f"w.review.rate_save.{run_id}.C3").disabled
    assert at.radio(key=f"w.review.ovr_rating.{run_id}").value is None
    at.radio(key=f"w.review.rate.{run_id}.C3").set_value("S")
    at.text_input(key=f"w.review.rate_comment.{run_id}.C3").input("Sound").run()
    at.button(key=f"w.review.rate_save.{run_id}.C3").click().run()
    assert "Rating saved." in texts(at)
    assert env.judgements(run_id)[0].rating == "S"
    at.radio(key=f"w.review.ovr_rating.{run_id}").set_value("P").run()
    at.button(key=f"w.review.ovr_save.{run_id}").click().run()
    assert "An override needs a comment." in texts(at)
    assert env.overrides(run_id) == []
    at.text_area(key=f"w.review.ovr_comment.{run_id}").input("Better than computed")
    at.button(key=f"w.review.ovr_save.{run_id}").click().run()
    assert "Override saved." in texts(at)
    assert len(env.overrides(run_id)) == 1
    assert sorted(b.key for b in at.get("download_button") if b.key.startswith("w.review.export.")) == [
        "w.review.export.moodle", "w.review.export.openedx-sheet", "w.review.export.xapi"]  # openedx: once a map is set
    assert f"w.review.aar_html.{run_id}" in [b.key for b in at.get("download_button")]
    from app.app_pages import review

    for fmt in ("moodle", "openedx-sheet", "xapi"):
        assert "learner" in review.export("demo-cohort", fmt)


# -- authoring


BAD = {
    "broken": "id: x\ntitle: [unclosed\n",
    "tabs": "id: x\n\ttitle: y\n",
    "types": None,  # filled from the mini scenario below
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_scenario_text_shows_file_line_messages(env: Store, case: str) -> None:
    text = BAD[case] or mini_text().replace("duration_h: 48", "duration_h: forty-eight")
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/author.py").run()
    at.text_area(key="w.author.text").input(text).run()
    assert not at.exception
    assert "The scenario has problems:" in texts(at)
    assert re.search(r"scenario\.yaml:\d+", "\n".join(str(c.value) for c in at.code)), [c.value for c in at.code]


def test_author_page_names_items_by_id_and_spelling(env: Store) -> None:
    text = mini_text().replace("  - id: I1\n    at_h: 0\n", "  - id: I1\n    at_h: -3\n", 1).replace(
        "duration_h:", "duraton_h:", 1)
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/author.py").run()
    at.text_area(key="w.author.text").input(text).run()
    shown = "\n".join(str(c.value) for c in at.code)
    assert "msel[I1].at_h" in shown and "msel[0]" not in shown, shown
    assert "did you mean 'duration_h'?" in shown and "required field is missing" not in shown, shown


@pytest.mark.parametrize(("lang", "said"), [
    ("de", ["unbekanntes Feld; meinten Sie 'duration_h'?", "Der Wert muss mindestens 1 sein"]),
    ("el", ["άγνωστο πεδίο· μήπως εννοείτε 'duration_h';", "Η τιμή πρέπει να είναι τουλάχιστον 1"]),
    ("pt", ["campo desconhecido; queria dizer 'duration_h'?", "O valor deve ser pelo menos 1"]),
])
def test_author_page_says_the_problems_in_the_lecturers_language(env: Store, lang: str, said: list[str]) -> None:
    env.set_language("lecturer", lang)
    text = mini_text().replace("duration_h:", "duraton_h:", 1).replace("expected_minutes: 30", "expected_minutes: 0")
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/author.py").run()
    at.text_area(key="w.author.text").input(text).run()
    shown = "\n".join(str(c.value) for c in at.code)
    minutes = text.splitlines().index("expected_minutes: 0") + 1
    duration = text.splitlines().index("duraton_h: 48") + 1
    assert f"scenario.yaml:{duration}: duraton_h: {said[0]}" in shown, shown
    assert f"scenario.yaml:{minutes}: expected_minutes: {said[1]}" in shown, shown


def test_uploads_are_checked(env: Store) -> None:
    from app.app_pages import author

    at = sign_in("lecturer", "lecturer-demo")  # gives the handlers a session language
    assert not at.exception
    text, problems = author.read_upload("big.yaml", b"a: 1\n" * 300_000)
    assert text is None and "1 MB" in problems[0] and problems[0].startswith("big.yaml")
    text, problems = author.read_upload("bin.yaml", b"\xff\xfe\x00bad")
    assert text is None and problems[0].startswith("bin.yaml")
    text, problems = author.read_upload("ok.yaml", "id: é\n".encode())
    assert text == "id: é\n" and not problems


def test_bundled_scenarios_are_offered_easiest_first(env: Store, tmp_path: Path) -> None:
    for name, level, title in (("a_hard.yaml", "advanced", "Hard flood"), ("b_mid.yaml", "intermediate", "Mid flood")):
        text = mini_text().replace("id: mini-flood", f"id: {name[:5].replace('_', '-')}").replace(
            "en: Mini flood", f"en: {title}")
        (tmp_path / "scenarios" / name).write_text(re.sub(r"(?m)^level: \w+", f"level: {level}", text),
                                                  encoding="utf-8")
    at = sign_in("learner", "learner-demo")
    assert at.selectbox(key="w.play.scenario@en").options == ["Mini flood", "Mid flood", "Hard flood"]


def test_the_author_page_shows_the_lint_findings_of_a_valid_scenario(env: Store) -> None:
    # an inject waiting for a gauge level the flood never reaches: valid, but it can never fire
    text = mini_text().replace("when: {gauge_above: 3.0}", "when: {gauge_above: 9.0}")
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/author.py").run()
    at.text_area(key="w.author.text").input(text).run()
    assert not at.exception
    assert "The scenario is valid." in texts(at)
    assert any(e.label.startswith("Exercise checks (scro-sim lint): ") for e in at.expander)
    findings = "\n".join(str(c.value) for c in at.code)
    assert re.search(r"scenario\.yaml:\d+: inject-fires: msel\[I2\]\.id: inject I2 can never fire", findings), findings
    assert findings.index(": translation: warning: ") > findings.index(": inject-fires: ")  # errors first


def test_lecturer_publishes_and_learner_can_play_it(env: Store) -> None:
    text = mini_text().replace("id: mini-flood", "id: mini-published").replace("en: Mini flood", "en: Published flood")
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/author.py").run()
    at.text_area(key="w.author.text").input(text).run()
    assert "The scenario is valid." in texts(at)
    types = list(at.dataframe[0].value["Asset type"])
    assert "power plant" in types and "power_plant" not in types  # asset types in words, not ids
    at.button(key="w.author.dry").click().run()
    assert not at.exception
    at.button(key="w.author.publish").click().run()
    assert "Published to demo-cohort (version 1.0)." in texts(at)
    at = sign_in("learner", "learner-demo")
    options = at.selectbox(key="w.play.scenario@en").options
    assert "Published flood (v1.0)" in options


def test_a_changed_scenario_is_published_under_a_new_version_only(env: Store) -> None:
    """The scenario's own version is the one number: a changed text under a published version is refused."""
    text = mini_text().replace("id: mini-flood", "id: mini-published").replace("en: Mini flood", "en: Published flood")
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/author.py").run()

    def publish(t: str) -> str:
        at.text_area(key="w.author.text").input(t).run()
        assert "The scenario is valid." in texts(at)
        at.button(key="w.author.publish").click().run()
        assert not at.exception
        return texts(at)

    assert "Published to demo-cohort (version 1.0)." in publish(text)
    assert "demo-cohort already has this text (version 1.0); nothing changed." in publish(text)
    changed = text.replace("en: Published flood", "en: Published flood, revised")
    line = changed.splitlines().index('version: "1.0"') + 1
    assert (f"scenario.yaml:{line}: version: version '1.0' of this scenario is already published to demo-cohort "
            "with another text: raise the version (e.g. '1.1') to publish the change") in publish(changed)
    assert "Published to demo-cohort (version 1.1)." in publish(changed.replace('version: "1.0"', 'version: "1.1"'))
    at = sign_in("learner", "learner-demo")
    options = at.selectbox(key="w.play.scenario@en").options
    assert "Published flood, revised (v1.1)" in options and not any("(v1.0)" in o for o in options)


# -- plan


def plan_page(username: str = "learner") -> AppTest:
    """The Plan page with tests/data/mini_plan.yaml in the editor, valid."""
    at = sign_in(username, "learner-demo")
    at.switch_page("app_pages/plan.py").run()
    editor = next(t for t in at.text_area if t.key and t.key.startswith("w.plan.text."))
    editor.input((DATA / "mini_plan.yaml").read_text(encoding="utf-8")).run()
    assert "The plan is valid." in texts(at)
    return at


def rerun_until(at: AppTest, text: str, timeout: float = 60.0) -> None:
    """Rerun the page (as its progress fragment does every second) until ``text`` shows."""
    deadline = time.monotonic() + timeout
    while text not in texts(at):
        assert time.monotonic() < deadline, texts(at)
        time.sleep(0.2)
        at.run()
        assert not at.exception, at.exception


def test_plan_page_validates_and_runs(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/plan.py").run()
    assert "The plan is valid." in texts(at)
    editor = next(t for t in at.text_area if t.key and t.key.startswith("w.plan.text."))
    editor.input("rules:\n  - when: {gauge_above: 3}\n    do: [{action: evacuate}]\n").run()
    assert "The plan has problems:" in texts(at)
    assert re.search(r"plan\.yaml:\d+", "\n".join(str(c.value) for c in at.code))
    editor.input((DATA / "mini_plan.yaml").read_text(encoding="utf-8")).run()
    if "The plan is valid." not in texts(at):
        pytest.skip("tests/data/mini_plan.yaml does not fit the mini scenario")
    at.number_input(key="w.plan.n").set_value(3).run()
    at.button(key="w.plan.run").click().run()
    assert not at.exception, at.exception
    rerun_until(at, "3 replications in")
    summary = at.table[0].value
    assert summary.index.name == "Policy" and "policy" not in summary.columns  # columns in words, not the frame's ids
    assert "your plan" in list(summary.index) and "None" not in summary.astype(str).values


def test_the_plan_page_explains_a_plan_with_an_example_valid_for_the_scenario(env: Store) -> None:
    from app.app_pages.plan import EXAMPLE

    env.set_language("learner", "pt")
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/plan.py").run()
    assert not at.exception
    (box,) = [e for e in at.expander if e.label == "Como se escreve um plano"]
    assert "**rules** dizem o que fazer" in " ".join(str(m.value) for m in box.markdown)
    editor = next(t for t in at.text_area if t.key and t.key.startswith("w.plan.text."))
    shown = [str(c.value) for c in box.code]
    assert shown == [EXAMPLE.strip()]  # shown only when valid for the chosen scenario (the mini city has substations)
    editor.input(editor.value.split("prepositioning:")[0] + EXAMPLE).run()
    assert "O plano é válido." in texts(at), texts(at)


def test_the_plan_page_says_problems_and_results_in_the_learners_language(env: Store) -> None:
    env.set_language("learner", "de")
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/plan.py").run()
    editor = next(t for t in at.text_area if t.key and t.key.startswith("w.plan.text."))
    editor.input((DATA / "mini_plan.yaml").read_text(encoding="utf-8").replace("rules:", "rulez:", 1)).run()
    assert "Der Plan hat Fehler:" in texts(at)
    said = "\n".join(str(c.value) for c in at.code)
    assert re.search(r"plan\.yaml:\d+: rulez: unbekanntes Feld", said), said
    editor.input((DATA / "mini_plan.yaml").read_text(encoding="utf-8")).run()
    at.number_input(key="w.plan.n").set_value(3).run()
    at.button(key="w.plan.run").click().run()
    rerun_until(at, "3 Wiederholungen in")
    assert re.search(r"3 Wiederholungen in \d+(,\d)? s", texts(at))  # a German decimal comma, never "0.4 s"
    summary = at.table[0].value
    assert summary.index.name == "Strategie" and "Ihr Plan" in list(summary.index)
    shares = [v for v in summary["Chance zu bestehen"] if v != "—"]
    assert shares and all(re.fullmatch(r"\d+\s%", v) for v in shares), shares  # "100 %", as German writes it


def test_plan_page_refuses_more_work_than_its_limit_and_says_the_limit(
        env: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from app import services
    from scro_sim.batch import replication_cost
    from scro_sim.scenario import load_plan

    sc, city = load_scenario("mini.yaml", text=mini_text())
    plan = load_plan(DATA / "mini_plan.yaml", sc, city)
    monkeypatch.setattr(services, "PLAN_WORK_LIMIT", 2 * replication_cost(sc, city, plan))
    at = plan_page()
    at.number_input(key="w.plan.n").set_value(3).run()
    at.button(key="w.plan.run").click().run()
    assert not at.exception, at.exception
    refusal = "\n".join(str(e.value) for e in at.error)
    assert "Too much work for one run" in refusal and "at most 2 replications of this plan" in refusal
    assert not at.progress and "replications in" not in texts(at)
    at.number_input(key="w.plan.n").set_value(2).run()
    at.button(key="w.plan.run").click().run()
    rerun_until(at, "2 replications in")


def test_a_learner_has_one_plan_evaluation_under_way_at_a_time_off_the_page_thread(
        env: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim import batch

    gate = threading.Event()
    real = batch.evaluate

    def held(*args: object, **kwargs: object) -> object:
        assert threading.current_thread().name.startswith("scro-plan")  # never the page's thread
        gate.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "evaluate", held)
    first = plan_page()
    first.number_input(key="w.plan.n").set_value(3).run()
    first.button(key="w.plan.run").click().run()
    try:
        assert not first.exception, first.exception
        assert first.progress and first.button(key="w.plan.run").disabled  # the page is back while it runs
        other_tab = plan_page()
        other_tab.button(key="w.plan.run").click().run()
        assert "You already have a plan evaluation under way" in "\n".join(str(e.value) for e in other_tab.error)
    finally:
        gate.set()
    rerun_until(first, "3 replications in")
    assert not first.progress


# -- no HTML from users


def test_no_unsafe_html_in_the_app() -> None:
    for p in (ROOT / "app").rglob("*.py"):
        src = p.read_text(encoding="utf-8")
        assert "unsafe_allow_html" not in src, p
        assert "st.html(" not in src and "components.html" not in src, p


def test_config_limits_uploads_and_hides_errors() -> None:
    import tomllib

    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert cfg["server"]["maxUploadSize"] == 1
    assert cfg["client"]["showErrorDetails"] == "none"  # "false" now means a stack trace with file paths
    assert cfg["client"]["toolbarMode"] == "minimal"
    assert cfg["browser"]["gatherUsageStats"] is False


# -- what the expert did differently


def test_debrief_shows_what_the_expert_did_differently_with_the_linked_events(env: Store) -> None:
    run_id = stored_run(env, "learner")  # no decisions: the expert's warning and protection are missed
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception, at.exception
    shown = texts(at)
    assert "What the expert did differently" in shown
    assert "the expert chose" in shown and "you did not" in shown
    assert "Events in your log: #" in shown
    # assets named as the map names them (markdown escapes the brackets in a lesson's text)
    assert "(SS1)" in shown.replace("\\(", "(").replace("\\)", ")")
    assert re.search(r"Expected action [A-Z][a-z].* \(EA\d\) (asked for|not done)", shown), shown  # named by what it asks
    # in the learner's language too
    env.set_language("learner", "de")
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception
    assert "Was der Expertenplan anders gemacht hat" in texts(at) and "wählte der Expertenplan" in texts(at)
    assert run_id


def test_after_action_report_downloads_from_the_debrief_and_the_review(env: Store) -> None:
    run_id = stored_run(env, "learner")
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception, at.exception
    assert "After-action report" in texts(at)
    rev = sign_in("assessor", "assessor-demo")
    rev.checkbox(key="w.review.queue").uncheck().run()
    assert not rev.exception
    assert any(c.value == run_id for c in rev.code), "the whole run id is shown to copy"
    assert "After-action report" in texts(rev)


def test_run_report_is_the_stored_runs_report_in_the_readers_language(env: Store) -> None:
    from scro_sim.stored_report import run_report

    run = env.get_run(stored_run(env, "learner"))
    page = run_report(run, lang="el", fmt="html").decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="el">' in page and run.log_digest in page
    with pytest.raises(ValueError, match="html, pdf"):
        run_report(run, lang="en", fmt="docx")


def test_the_assessors_comment_reaches_the_learner_and_guidance_the_assessor(env: Store) -> None:
    from scro_sim.assessment import judge

    run_id = stored_run(env, "learner")
    at = sign_in("assessor", "assessor-demo")
    assert not at.exception
    shown = texts(at)
    assert "What do you do first, and why?" in shown  # the question C3 judges the answer to
    assert "Look for prioritising life safety." in shown  # and its guidance for the assessor
    judge(env, run_id, "C3", "S", "Put life safety before the substation next time.", "assessor")
    at = sign_in("assessor", "assessor-demo")  # the assessor sees the comment given, as the learner will
    assert not at.exception
    assert "Comment (assessor): Put life safety before the substation next time." in texts(at)
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception
    shown = texts(at).replace("\\", "")  # the page escapes Markdown in what people wrote
    assert "The assessor's comments" in shown
    assert "Put life safety before the substation next time." in shown


def test_a_decision_during_a_database_outage_says_not_saved_and_a_retry_decides_once(
        env: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine

    from app import state as app_state

    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    store = at.session_state[app_state._GAME].play.store
    with monkeypatch.context() as m:  # the database stops answering
        m.setattr(store, "_write_engine", create_engine("sqlite:////nonexistent-dir/x.sqlite")
                  .execution_options(scro_write=True))
        at.button(key="w.play.skip").click().run()
        assert not at.exception, at.exception
        shown = texts(at)
        assert "Your decision was not saved" in shown and "Traceback" not in shown
        assert "Time left 48 h" in shown and env.list_games("learner")[0].decisions == []
    at.button(key="w.play.skip").click().run()  # back up: the same click again
    assert not at.exception and "Time left 48 h" not in texts(at)
    assert len(env.list_games("learner")[0].decisions) == 1


def test_a_second_window_that_fell_behind_is_told_and_reloaded(env: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    game = env.list_games("learner")[0]
    at2 = sign_in("learner", "learner-demo")  # the same learner in a second tab
    at2.button(key=f"w.play.resume.{game.id}").click().run()
    at.button(key="w.play.skip").click().run()  # tab 1 decides first
    rationale = next(t for t in at2.text_area if t.key and t.key.startswith("w.play.rationale."))
    rationale.input("tab 2 thinks otherwise")  # (the very same decision would simply be taken once)
    at2.button(key="w.play.decide").click().run()  # tab 2, still on the first point, decides too
    assert not at2.exception, at2.exception
    assert "This game moved on in another window; it was reloaded." in texts(at2)
    hour = next(m.value for m in at.metric if m.label == "Clock")
    assert next(m.value for m in at2.metric if m.label == "Clock") == hour
    assert len(env.list_games("learner")[0].decisions) == 1


# -- the cohort page and the feedback loop (issue 17)


def test_a_lecturer_follows_their_cohort_and_opens_a_learners_debrief(env: Store) -> None:
    run_id = stored_run(env, "learner")
    env.add_cohort("other")
    env.add_user("lecturer-b", "correct horse battery staple 42", "lecturer")
    env.add_member("other", "lecturer-b")
    at = sign_in("lecturer", "lecturer-demo")
    at.switch_page("app_pages/cohort.py").run()
    assert not at.exception, at.exception
    assert "Learners who may need support" in texts(at) and "Time spent per learner" in texts(at)
    at.switch_page("app_pages/debrief.py")
    at.query_params["run"] = run_id
    at.run()
    assert not at.exception and "Run of learner (cohort demo-cohort)" in texts(at)
    other = sign_in("lecturer-b", "correct horse battery staple 42")
    other.switch_page("app_pages/debrief.py")
    other.query_params["run"] = run_id
    other.run()
    assert "This run is not available." in texts(other)
    other.switch_page("app_pages/cohort.py").run()
    assert not other.exception and other.selectbox(key="w.cohort.cohort").options == ["other"]


def test_the_learner_reads_comments_and_tracks_the_improvement_plan_in_the_debrief(env: Store) -> None:
    run_id = stored_run(env, "learner")
    env.add_comment(run_id, "assessor", "Warn the public earlier", time_h=3)
    env.add_comment(run_id, "lecturer", "Good structure", criterion_id="C1")
    env.add_plan_item(run_id, "Rehearse the warning", "learner", "2027-02-15", "assessor")
    at = sign_in("learner", "learner-demo")
    at.switch_page("app_pages/debrief.py").run()
    assert not at.exception, at.exception
    assert "Comments on your run" in texts(at) and "Good structure" in texts(at)
    frames = "\n".join(str(df.value) for df in at.dataframe)
    assert "Warn the public earlier" in frames and "Rehearse the warning" in frames
    at.radio(key=f"w.debrief.plan_status.{run_id}").set_value("done").run()
    at.button(key=f"w.debrief.plan_update.{run_id}").click().run()
    assert not at.exception, at.exception
    assert [p.status for p in env.plan_items(run_id)] == ["done"]


def test_the_review_page_shows_guidance_beside_answers_and_rates_every_answer(env: Store) -> None:
    run_id = stored_run(env, "learner")
    at = sign_in("assessor", "assessor-demo")
    at.switch_page("app_pages/review.py").run()
    assert not at.exception, at.exception
    assert "Discussion questions" in texts(at) and "Look for prioritising life safety." in texts(at)
    at.radio(key=f"w.review.ans.{run_id}.Q2").set_value("S").run()
    at.button(key=f"w.review.ans_save.{run_id}.Q2").click().run()
    assert not at.exception, at.exception
    assert [(r.question_id, r.rating) for r in env.answer_ratings(run_id)] == [("Q2", "S")]


# -- the guided first exercise, the learning path, practice with hints


@pytest.fixture
def guided(env: Store, tmp_path: Path) -> Store:
    """The test env with the bundled guided exercise beside the mini scenario (its city by id)."""
    text = (ROOT / "scenarios" / "riverton_first_steps.yaml").read_text(encoding="utf-8")
    assert text.count("city: ../city_models/riverton.yaml") == 1
    (tmp_path / "scenarios" / "first_steps.yaml").write_text(
        text.replace("city: ../city_models/riverton.yaml", "city: riverton"), encoding="utf-8")
    return env


def _path_rows(at: AppTest) -> list[dict[str, str]]:
    df = next(d.value for d in at.table if "Where you stand" in d.value.columns)
    return df.to_dict("records")


def test_the_learning_path_lists_the_guided_exercise_first_and_says_what_is_next(guided: Store) -> None:
    at = sign_in("learner", "learner-demo")
    assert not at.exception and "Your learning path" in texts(at)
    rows = _path_rows(at)
    assert [r["Exercise"] for r in rows] == ["Riverton: first steps (guided)", "Mini flood"]
    assert [r["Where you stand"] for r in rows] == ["not started", "not started"]
    assert [r["Next"] for r in rows] == ["→ next", ""]
    # the list of scenarios follows the path and starts on the next exercise
    assert at.selectbox(key="w.play.scenario@en").value.endswith("first_steps.yaml")
    stored_run(guided, "learner")  # a graded attempt at the mini flood (doing nothing)
    rows = _path_rows(sign_in("learner", "learner-demo"))
    assert rows[1]["Where you stand"].startswith("attempted, not passed yet, best score 0")


def test_the_learning_path_names_each_exercises_module_group_in_the_learners_language(guided: Store) -> None:
    from scro_sim.course import default_course

    guided.set_language("learner", "el")
    at = sign_in("learner", "learner-demo")
    assert not at.exception
    df = next(d.value for d in at.table if "Ομάδα ενοτήτων" in d.value.columns)
    c = default_course().group("c")
    assert c is not None and c.title.el
    # the guided exercise is written for group c; the mini flood names no group
    assert list(df["Ομάδα ενοτήτων"]) == [f"(c) {c.title.el}", "—"]
    assert f"Γράφτηκε για την ομάδα ενοτήτων του μαθήματος (c) {c.title.el}" in texts(at)


def test_the_guided_exercise_shows_its_guide_step_by_step_and_the_learner_can_hide_it(guided: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    assert not at.exception
    shown = texts(at)
    for n in range(1, 6):  # the first stop's five steps, each next to its part of the screen
        assert f"Guide, step {n} of 11" in shown
    assert "Start with the messages" in shown and "Step 6 of 11" not in shown
    assert not any(e.label == "Hints (practice only)" for e in at.expander)  # a graded game has no hints
    toggle = next(t for t in at.toggle if t.key and t.key.startswith("w.play.guide."))
    toggle.set_value(False).run()
    assert "Guide, step" not in texts(at)
    toggle.set_value(True).run()
    at.button(key="w.play.skip").click().run()  # three hours later: the next steps
    shown = texts(at)
    assert "Guide, step 6 of 11" in shown and "Guide, step 1 of 11" not in shown
    assert not at.exception


def test_hints_appear_only_in_a_practice_game_in_the_learners_language(guided: Store) -> None:
    guided.set_language("learner", "de")
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.practice").click().run()
    assert not at.exception
    [hints] = [e for e in at.expander if e.label == "Hinweise (nur beim Üben)"]
    said = " ".join(str(t.value) for t in hints.text)
    assert "Von Ihnen verlangt, bis" in said and "Umspannwerk Weir Road" in said


def test_a_practice_game_can_replay_the_situation_of_an_earlier_game(guided: Store) -> None:
    at = sign_in("learner", "learner-demo")
    at.button(key="w.play.start").click().run()
    [earlier] = guided.list_games("learner")
    at.button(key="w.play.abandon").click().run()
    at.button(key="w.play.abandon_yes").click().run()
    assert not at.exception
    replay = next(s for s in at.selectbox if s.key and s.key.startswith("w.play.replay."))
    assert replay.options[0] == "a new situation" and "the same situation as your game of" in replay.options[1]
    replay.set_value(earlier.id).run()
    at.button(key="w.play.practice").click().run()
    assert not at.exception
    new = next(g for g in guided.list_games("learner") if g.id != earlier.id)
    assert new.practice and new.seed == earlier.seed and new.status == "playing"
    # a graded game never replays a seed: it always gets a new situation
    at.button(key="w.play.abandon").click().run()
    at.button(key="w.play.abandon_yes").click().run()
    at.button(key="w.play.start").click().run()
    graded = [g for g in guided.list_games("learner") if not g.practice and g.id != earlier.id]
    assert len(graded) == 1 and graded[0].seed != earlier.seed


def test_a_scenario_text_keeps_its_list_items_on_lines_of_their_own_and_reflows_the_rest() -> None:
    from app import services

    text = "Three kinds\nof loss:\n- the repair bill;\n- what you spend\n  from the budget;\n2. last\n\nNext\nparagraph."
    assert services.text_blocks(text) == [
        "Three kinds of loss:\n- the repair bill;\n- what you spend from the budget;\n2. last", "Next paragraph."]
    assert services.text_blocks("a range of 34\n-44 m/s") == ["a range of 34 -44 m/s"]  # no space: not an item
