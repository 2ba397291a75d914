"""The feedback loop: comments per criterion and moment, answer ratings, the improvement plan; who may write them;
that the run's signature covers them; that the learner and the report read them back."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from scro_sim.assessment import record_run, verify_run
from scro_sim.errors import StoreError
from scro_sim.feedback import answer_sheet, rate_answer, run_feedback
from scro_sim.log import EventLog
from scro_sim.privacy import erase_person, export_person
from scro_sim.report import after_action_report
from scro_sim.scenario import load_scenario
from scro_sim.scoring import ScoreCard
from scro_sim.store import NewRun, Store

PW = "correct horse battery staple 42"
SCENARIO = "id: ex1\nversion: '1'\ntitle: Flood\n"


def _run(store: Store, learner: str, cohort: str) -> str:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    return store.save_run(NewRun(
        learner=learner, cohort=cohort, scenario_id="ex1", scenario_version="1",
        scenario_hash=hashlib.sha256(SCENARIO.encode()).hexdigest(), scenario_yaml=SCENARIO, city_hash="c" * 64,
        engine_version="test", seed=1, decisions=[], log_jsonl="", log_digest="d" * 64,
        scorecard={"criteria": []}, total=50.0, passed=False, started_at=now, finished_at=now, origin="played"))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'f.sqlite'}") as s:
        for name in ("A", "B"):
            s.add_cohort(name)
        for user, role, cohort in (("ana", "learner", "A"), ("bo", "learner", "A"), ("lena", "lecturer", "A"),
                                   ("otto", "lecturer", "B"), ("asa", "assessor", None)):
            s.add_user(user, PW, role, display_name=user.title())
            if cohort:
                s.add_member(cohort, user)
        yield s


def _signature_ok(store: Store, run_id: str) -> bool:
    ev = store.run_evidence(run_id)
    return ev.signature is not None and ev.signature.ok


def test_comments_per_criterion_and_moment_round_trip(store: Store) -> None:
    run = _run(store, "ana", "A")
    a = store.add_comment(run, "asa", "  Late call to the hospital. ", criterion_id="C2")
    b = store.add_comment(run, "lena", "Here the barriers should have gone up", time_h=6.5)
    c = store.add_comment(run, "asa", "Good briefing", criterion_id="C1", time_h=2)
    assert (a.text, a.criterion_id, a.time_h, a.author) == ("Late call to the hospital.", "C2", None, "asa")
    assert [x.id for x in store.comments(run)] == [a.id, b.id, c.id]
    fb = run_feedback(store, run)
    assert [x.id for x in fb.on_timeline] == [c.id, b.id]
    assert [x.id for x in fb.by_criterion["C2"]] == [a.id]
    assert _signature_ok(store, run)


def test_only_staff_who_may_see_the_cohort_comment(store: Store) -> None:
    run = _run(store, "ana", "A")
    with pytest.raises(StoreError, match="'ana' is a learner"):
        store.add_comment(run, "ana", "I did my best", criterion_id="C1")
    with pytest.raises(StoreError, match="'otto' may not see run"):
        store.add_comment(run, "otto", "not my cohort", time_h=1)
    with pytest.raises(StoreError, match="unknown user"):
        store.add_comment(run, "ghost", "hello")
    with pytest.raises(StoreError, match="unknown run"):
        store.add_comment("nope", "asa", "hello")
    assert store.comments(run) == []


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"text": "  "}, "text"), ({"text": "x" * 5001}, "text"), ({"time_h": -1}, "time_h"),
    ({"time_h": float("inf")}, "time_h"), ({"time_h": "6"}, "time_h"), ({"time_h": True}, "time_h")])
def test_a_bad_comment_is_refused_naming_the_field(store: Store, kwargs: dict[str, Any], field: str) -> None:
    run = _run(store, "ana", "A")
    args = {"text": "fine", **kwargs}
    with pytest.raises(StoreError) as exc:
        store.add_comment(run, "asa", args.pop("text"), **args)
    assert exc.value.problems[0].field == field


def test_the_improvement_plan_is_tracked_to_done_by_learner_and_assessor(store: Store) -> None:
    run = _run(store, "ana", "A")
    item = store.add_plan_item(run, "Call the waterworks within the hour", "ana", "2027-02-15", "ana")
    assert (item.status, item.due, item.created_by) == ("open", "2027-02-15", "ana")
    second = store.add_plan_item(run, "Rehearse the hospital call tree", "St Brigid's", date(2027, 3, 1), "asa")
    moved = store.update_plan_item(item.id, "asa", status="in progress", owner="Ana and the duty officer")
    assert (moved.status, moved.owner, moved.created_by, moved.updated_by) == (
        "in progress", "Ana and the duty officer", "ana", "asa")
    done = store.update_plan_item(item.id, "ana", status="done", due="2027-02-20")
    assert (done.status, done.due, done.updated_by) == ("done", "2027-02-20", "ana")
    store.update_plan_item(second.id, "lena", status="in progress")  # a lecturer of the cohort too
    assert [(p.id, p.status) for p in store.plan_items(run)] == [(item.id, "done"), (second.id, "in progress")]
    assert _signature_ok(store, run)


def test_someone_else_cannot_edit_a_learners_plan(store: Store) -> None:
    run = _run(store, "ana", "A")
    item = store.add_plan_item(run, "Drill", "ana", "2027-02-15", "ana")
    with pytest.raises(StoreError, match="'bo' is a learner"):
        store.update_plan_item(item.id, "bo", status="done")
    with pytest.raises(StoreError, match="'otto' may not see run"):
        store.add_plan_item(run, "Drill", "otto", "2027-02-15", "otto")
    assert store.plan_items(run)[0].status == "open"


@pytest.mark.parametrize("due", ["15/02/2027", "2027-2-15", "2027-02-30", "tomorrow", "", 20270215, None])
def test_a_due_date_in_the_wrong_format_is_a_clear_error(store: Store, due: Any) -> None:
    run = _run(store, "ana", "A")
    with pytest.raises(StoreError, match="is not a date in the form YYYY-MM-DD") as exc:
        store.add_plan_item(run, "Drill", "ana", due, "ana")
    assert exc.value.problems[0].field == "due"
    item = store.add_plan_item(run, "Drill", "ana", "2027-02-15", "ana")
    with pytest.raises(StoreError, match="is not a date"):
        store.update_plan_item(item.id, "ana", due="next week")
    assert store.plan_items(run)[0].due == "2027-02-15"


def test_a_bad_status_or_unknown_item_is_refused(store: Store) -> None:
    run = _run(store, "ana", "A")
    with pytest.raises(StoreError, match="'finished' is not one of open, in progress, done"):
        store.add_plan_item(run, "Drill", "ana", "2027-02-15", "ana", status="finished")
    with pytest.raises(StoreError, match="unknown plan item 999"):
        store.update_plan_item(999, "ana", status="done")


def test_the_signature_covers_comments_answer_ratings_and_plan_items(store: Store) -> None:
    run = _run(store, "ana", "A")
    untouched = store.run_evidence(run).signed_digest
    store.add_comment(run, "asa", "Good", criterion_id="C1")
    store.rate_answer(run, "Q2", "S", "clear enough", "asa")
    store.add_plan_item(run, "Drill", "ana", "2027-02-15", "ana")
    assert _signature_ok(store, run) and store.run_evidence(run).signed_digest != untouched
    for sql, field in (("UPDATE run_comments SET body = 'Poor'", "comments"),
                       ("UPDATE answer_ratings SET rating = 'P'", "answer_ratings"),
                       ("UPDATE plan_items SET status = 'done'", "plan_items")):
        with store.engine.begin() as conn:
            conn.execute(sa.text(sql))
        check = store.run_evidence(run).signature
        assert check is not None and not check.ok and field in check.fields
        with pytest.raises(StoreError, match="does not verify"):  # a changed record takes no new feedback
            store.add_comment(run, "asa", "more")
        with store.engine.begin() as conn:  # put it back
            conn.execute(sa.text({"comments": "UPDATE run_comments SET body = 'Good'",
                                  "answer_ratings": "UPDATE answer_ratings SET rating = 'S'",
                                  "plan_items": "UPDATE plan_items SET status = 'open'"}[field]))
        assert _signature_ok(store, run)
    with store.engine.begin() as conn:  # a deleted comment is noticed too
        conn.execute(sa.text("DELETE FROM run_comments"))
    assert "comments" in store.run_evidence(run).signature.fields


def test_answer_ratings_keep_history_and_only_assessors_rate(store: Store) -> None:
    run = _run(store, "ana", "A")
    store.rate_answer(run, "Q2", "M", "", "asa")
    store.rate_answer(run, "Q2", "S", "better on reflection", "asa")
    assert [r.rating for r in store.answer_ratings(run, current_only=False)] == ["M", "S"]
    assert [(r.question_id, r.rating) for r in store.answer_ratings(run)] == [("Q2", "S")]
    with pytest.raises(StoreError, match="'lena' is a lecturer"):
        store.rate_answer(run, "Q2", "P", "", "lena")
    with pytest.raises(StoreError, match="'X' is not one of P, S, M, U"):
        store.rate_answer(run, "Q2", "X", "", "asa")


def test_feedback_goes_with_an_erased_learner_and_into_their_data_export(store: Store) -> None:
    run = _run(store, "ana", "A")
    store.add_comment(run, "asa", "Ana hesitated", criterion_id="C1")
    store.add_plan_item(run, "Ana practises the call tree", "Ana", "2027-02-15", "ana")
    data = export_person(store, "ana")
    assert data["feedback_on_runs"]["plan_items"][0]["action"] == "Ana practises the call tree"
    assert data["feedback_on_runs"]["comments"][0]["text"] == "Ana hesitated"
    assert export_person(store, "asa")["as_staff"]["comments_given"][0]["text"] == "Ana hesitated"
    erase_person(store, "ana")
    assert [c.text for c in store.comments(run)] == [""] and store.plan_items(run) == []
    assert _signature_ok(store, run)


# -- with a real scored run: the answer sheet, rating every answer, verify, the report

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mini() -> tuple[Any, Any]:
    return load_scenario(REPO / "tests" / "data" / "mini_scenario.yaml")


def test_every_answer_is_ratable_beside_its_guidance_and_the_run_still_verifies(
        tmp_path: Path, mini: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    sc, city = mini
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(REPO / "tests" / "data"))  # the stored scenario finds its city
    decisions = [{"point": 0, "time_h": 0.0, "actions": [], "rationale": "",
                  "answers": {"Q1": "Evacuate the hospital first", "Q2": "The mayor"}}]
    with Store(f"sqlite:///{tmp_path / 'v.sqlite'}") as store:
        store.add_cohort("A")
        store.add_user("asa", PW, "assessor")
        store.add_user("ana", PW, "learner")
        run_id, card = record_run(store, sc, city, 3, decisions, learner="ana", cohort="A")
        run = store.get_run(run_id)
        sheet = answer_sheet(sc, run, card, [], "pt")
        assert [r.question_id for r in sheet] == ["Q1", "Q2"]
        q1, q2 = sheet
        assert q1.question == "O que faz primeiro?" and q1.guidance == "Look for prioritising life safety."
        assert q1.answers == ((0.0, "Evacuate the hospital first"),) and q1.criterion_id is not None
        assert q2.criterion_id is None and q2.rating is None and q2.guidance == ""
        # Q1 is read by a judged criterion: rating it judges that criterion and re-grades the run
        new_card = rate_answer(store, run_id, "Q1", "S", "sound order", "asa")
        assert isinstance(new_card, ScoreCard)
        assert next(c for c in new_card.criteria if c.id == q1.criterion_id).rating == "S"
        # Q2 is read by no criterion: an answer rating, which leaves the score alone
        rate_answer(store, run_id, "Q2", "M", "who else?", "asa")
        run = store.get_run(run_id)
        rated = answer_sheet(sc, run, ScoreCard.model_validate(run.scorecard), store.answer_ratings(run_id))
        assert [(r.question_id, r.rating, r.by) for r in rated] == [("Q1", "S", "asa"), ("Q2", "M", "asa")]
        assert run.total == new_card.total
        with pytest.raises(StoreError, match="no question 'Q9'"):
            rate_answer(store, run_id, "Q9", "P", "", "asa")
        store.add_comment(run_id, "asa", "Here you should have moved the generator", time_h=6)
        store.add_plan_item(run_id, "Pre-position a generator at H1", "ana", "2027-02-15", "ana")
        rep = verify_run(store, run_id)
        assert rep.verified, rep.differences
        page = after_action_report(EventLog.from_jsonl(run.log_jsonl), ScoreCard.model_validate(run.scorecard), sc, charts=False,
                                   feedback=run_feedback(store, run_id))
    assert "Pre-position a generator at H1" in page and "2027-02-15" in page and "open" in page
    assert "Here you should have moved the generator" in page and "6 h" in page
    assert "Ratings of discussion answers" in page and "who else?" in page


def test_migration_0006_adds_the_tables_and_runs_signed_before_still_verify(store: Store) -> None:
    from alembic import command

    run = _run(store, "ana", "A")
    store.add_judgement(run, "C1", "S", "fine", "asa")
    cfg = store.alembic_config()
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0005")
    assert store.schema_revision() == "0005"
    with store.engine.connect() as conn:
        assert not {"run_comments", "answer_ratings", "plan_items"} & set(sa.inspect(conn).get_table_names())
    store.migrate()
    assert store.schema_revision() == "0008_lrs"  # the head: 0006_feedback, 0007_lti, then 0008_lrs
    assert _signature_ok(store, run)  # signed at 0005's layout: a run without feedback signs the same fields
    store.add_comment(run, "asa", "after the upgrade", time_h=1)
    assert _signature_ok(store, run)
