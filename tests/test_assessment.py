"""The assessment workflow on a stored run: verify, judge, override, re-grade, gradebook rows.

``verify_run`` re-simulates a stored run and refuses it when any stored field was changed.  Each
test stores the same run (the reference flood, greedy baseline, seed 2) in a fresh SQLite
store, changes one field behind the library's back, as someone editing the database would, and
asks only for the verdict: a correct verifier says "verified" for the untouched run and "not
verified" for every change below, whatever it compares in detail and however it words it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from test_lms_openedx import write_map

from scro_sim.assessment import (
    VerifyReport,
    card_in_language,
    export_cohort,
    export_options,
    grade_rows,
    judge,
    override,
    play_decisions,
    post_lti_grade,
    record_log,
    record_run,
    reference_metrics,
    regrade,
    resign_runs,
    scenario_from_text,
    verify_run,
)
from scro_sim.engine import Simulation
from scro_sim.errors import ScroSimError, StoreError
from scro_sim.log import EventLog
from scro_sim.openedx_map import load_openedx_map
from scro_sim.policy import baseline_policy
from scro_sim.scenario import load_scenario
from scro_sim.scoring import compute_metrics
from scro_sim.store import Store

REPO = Path(__file__).resolve().parents[1]
SEED = 2


@pytest.fixture(scope="module")
def played() -> tuple[Any, Any, Simulation]:
    sc, city = load_scenario(REPO / "scenarios" / "riverton_flood.yaml")
    sim = Simulation(sc, city, SEED, baseline_policy("greedy"))
    sim.run()
    assert sim.decisions, "the greedy baseline decides something"
    return sc, city, sim


@pytest.fixture
def stored(tmp_path: Path, played: tuple[Any, Any, Simulation]) -> tuple[Store, str]:
    sc, city, sim = played
    store = Store(f"sqlite:///{tmp_path / 'verify.sqlite'}")
    run_id, _ = record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner="learner",
                           cohort="c1", source="cli", origin="plan")
    yield store, run_id
    store.close()


def test_a_stored_run_keeps_who_played_what_and_how(tmp_path: Path, played: tuple[Any, Any, Simulation]) -> None:
    sc, city, sim = played
    with Store(f"sqlite:///{tmp_path / 'runs.sqlite'}") as store:
        run_id, card = record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner="learner",
                                  cohort="c1", source="plan", policy="greedy", plan_yaml="name: greedy\n")
        run = store.get_run(run_id)
    assert (run.learner, run.cohort, run.source, run.policy, run.plan_yaml, run.seed) == (
        "learner", "c1", "plan", "greedy", "name: greedy\n", SEED)
    assert (run.scenario_id, run.scenario_version, run.total, run.passed) == (sc.id, sc.version, card.total, card.passed)


def test_a_run_scored_from_a_game_started_when_the_game_was_created(tmp_path: Path,
                                                                  played: tuple[Any, Any, Simulation]) -> None:
    sc, city, sim = played
    with Store(f"sqlite:///{tmp_path / 'runs.sqlite'}") as store:
        game = store.save_game("g1", "learner", sc.id, sc.source_sha256, SEED, list(sim.decisions))
        run_id, _ = record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner="learner",
                               source="play", origin="played", game_id="g1")
        run = store.get_run(run_id)
    assert run.started_at == game.created_at < run.finished_at  # not the moment it was scored


def test_a_played_game_is_re_simulated_on_the_server_and_graded_in_the_learners_language(
        tmp_path: Path, played: tuple[Any, Any, Simulation]) -> None:
    sc, city, sim = played
    with Store(f"sqlite:///{tmp_path / 'runs.sqlite'}") as store:
        run_id, card = record_run(store, sc, city, SEED, list(sim.decisions), learner="learner", lang="de")
        run = store.get_run(run_id)
    assert run.log_digest == EventLog.from_jsonl(sim.log.to_jsonl()).digest()
    assert (card.lang, run.scorecard["lang"], run.source) == ("de", "de", "play")


def _update(store: Store, sql: str, **params: Any) -> None:
    with store.engine.begin() as conn:
        assert conn.execute(sa.text(sql), params).rowcount == 1


def test_an_untouched_stored_run_is_verified(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    rep = verify_run(store, run_id)
    assert rep.verified, rep.differences
    assert rep.replayed_digest == rep.stored_digest == store.get_run(run_id).log_digest


def test_a_score_card_that_lost_a_criterion_and_a_module_reports_both_lists(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    card = store.get_run(run_id).scorecard
    card["criteria"], card["modules"] = card["criteria"][1:], card["modules"][1:]
    _update(store, "UPDATE runs SET scorecard = :c WHERE id = :i", c=json.dumps(card), i=run_id)
    said = verify_run(store, run_id).differences
    assert [d.split(":")[0] for d in said if d.startswith("score card ")] == ["score card criteria",
                                                                              "score card modules"]


def test_a_score_card_that_lost_a_criterion_is_reported_with_both_lists_of_criteria(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    card = store.get_run(run_id).scorecard
    ids = [c["id"] for c in card["criteria"]]
    card["criteria"] = card["criteria"][1:]
    card["total"] += 1.0
    _update(store, "UPDATE runs SET scorecard = :c WHERE id = :i", c=json.dumps(card), i=run_id)
    rep = verify_run(store, run_id)
    assert not rep.verified
    (msg,) = [d for d in rep.differences if d.startswith("score card criteria:")]
    assert msg.startswith(f'score card criteria: stored ["{ids[1]}", ') and f', re-computed ["{ids[0]}", ' in msg
    assert len(rep.differences) == 3  # the signature, the card's total, its criteria
    # the first difference heads the report, the others follow one to a line
    assert str(rep).splitlines() == [f"run {run_id}: not verified: {rep.differences[0]}",
                                     *(f"  - {d}" for d in rep.differences[1:])]


def test_a_forged_value_is_shown_whole_up_to_60_characters_and_cut_beyond(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    card = store.get_run(run_id).scorecard
    card["forged_a"], card["forged_b"] = "a" * 58, "b" * 59  # 60 and 61 characters once quoted
    _update(store, "UPDATE runs SET scorecard = :c WHERE id = :i", c=json.dumps(card), i=run_id)
    differences = verify_run(store, run_id).differences
    assert f"score card forged_a: stored '{'a' * 58}', re-computed null" in differences
    assert f"score card forged_b: stored '{'b' * 56}…, re-computed null" in differences


def test_verify_notes_a_changed_scenario_file_even_when_it_starts_with_a_byte_order_mark(
        stored: tuple[Store, str], tmp_path: Path) -> None:
    """Editors on Windows save UTF-8 with a BOM: the file whose first line is the run's id is still found."""
    store, run_id = stored
    folder = tmp_path / "scenarios"
    folder.mkdir()
    (folder / "flood.yaml").write_text("\ufeffid: riverton_flood\ntitle: Changed\n", encoding="utf-8")
    (note,) = verify_run(store, run_id, scenarios_dir=folder).notes
    assert note.startswith(f"scenario file changed since the run: {folder / 'flood.yaml'} now has sha256")
    assert verify_run(store, run_id, scenarios_dir=tmp_path).notes == []


def test_a_run_stored_before_signing_is_signed_only_on_request_and_after_it_re_simulates(
        stored: tuple[Store, str]) -> None:
    store, run_id = stored
    _update(store, "UPDATE runs SET signature = NULL WHERE id = :i", i=run_id)
    ((rid, left_alone),) = resign_runs(store, [run_id])
    assert rid == run_id and "signature missing" in left_alone
    assert resign_runs(store, [run_id], unsigned=True) == [(run_id, "signed")]
    assert verify_run(store, run_id).verified
    _update(store, "UPDATE runs SET signature = NULL, seed = :s WHERE id = :i", s=SEED + 1, i=run_id)
    ((_, refused),) = resign_runs(store, [run_id], unsigned=True)  # a changed run is never signed
    # the reason is what else is wrong, not the missing signature the caller asked to mend
    assert refused.startswith("not verified: the stored decisions cannot be replayed: ")
    assert "signature" not in refused
    assert not verify_run(store, run_id).verified


def test_resigning_goes_through_every_run_of_the_store(tmp_path: Path, played: tuple[Any, Any, Simulation]) -> None:
    sc, city, sim = played
    with Store(f"sqlite:///{tmp_path / 'runs.sqlite'}") as store:
        ids = [record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner=who, source="cli")[0]
               for who in ("ann", "bob", "cy")]
        assert sorted(resign_runs(store)) == sorted((i, "current") for i in ids)


def test_a_stored_log_that_cannot_be_read_is_a_difference_not_a_crash(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    text = b"this is not an event log\n"
    _update(store, "UPDATE runs SET log_z = :z, log_size = :n WHERE id = :i", z=zlib.compress(text), n=len(text),
            i=run_id)
    rep = verify_run(store, run_id)
    assert not rep.verified
    assert [d for d in rep.differences if d.startswith("the stored event log cannot be read: ")]
    # the decisions still re-simulate to the stored digest: only the log is wrong
    assert rep.replayed_digest == rep.stored_digest


def test_a_changed_digest_of_an_unreadable_log_is_reported_without_a_first_difference(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    text = b"this is not an event log\n"
    _update(store, "UPDATE runs SET log_z = :z, log_size = :n, log_digest = :d WHERE id = :i", z=zlib.compress(text),
            n=len(text), d="0" * 64, i=run_id)
    (said,) = [d for d in verify_run(store, run_id).differences if d.startswith("re-simulating")]
    assert said.endswith("the stored log has 0000000000000000…: the decisions or the log were changed")


def test_changed_decisions_are_reported_with_the_first_record_the_two_logs_disagree_on(
        stored: tuple[Store, str], played: tuple[Any, Any, Simulation]) -> None:
    """The replay without the first decision agrees with the stored log up to some record; verify names
    that record, not an earlier one both logs share."""
    store, run_id = stored
    sc, city, sim = played
    _drop_first_decision(store, run_id)
    replayed = play_decisions(sc, city, SEED, list(sim.decisions)[1:])
    seq = next(a.seq for a, b in zip(sim.log, replayed, strict=False) if a.to_dict() != b.to_dict())
    a, b = sim.log.records[seq], replayed.records[seq]
    (said,) = [d for d in verify_run(store, run_id).differences if d.startswith("re-simulating")]
    assert said.endswith(f"(first difference: record {seq} at t={a.time:g} h: stored {a.kind} {a.subject}, "
                         f"replayed {b.kind} {b.subject})")
    assert seq > 0


def test_a_run_recorded_from_decisions_keeps_its_cohort(tmp_path: Path, played: tuple[Any, Any, Simulation]) -> None:
    sc, city, sim = played
    with Store(f"sqlite:///{tmp_path / 'runs.sqlite'}") as store:
        run_id, _ = record_run(store, sc, city, SEED, list(sim.decisions), learner="learner", cohort="c7")
        assert store.get_run(run_id).cohort == "c7"


def test_an_open_edx_export_without_the_courses_ids_says_where_to_give_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCRO_SIM_OPENEDX_MAP", raising=False)
    with pytest.raises(ScroSimError, match=r"^--openedx-map: the Open edX import needs the course's Open edX ids: "
                                           r"give --openedx-map FILE or set \$SCRO_SIM_OPENEDX_MAP"):
        export_options("openedx")


def test_a_flipped_pass_flag_is_reported_in_words(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    passed = store.get_run(run_id).passed
    _update(store, "UPDATE runs SET passed = :p WHERE id = :i", p=not passed, i=run_id)
    said = {True: "yes", False: "no"}
    assert f"runs.passed differs: stored {said[not passed]}, re-computed {said[passed]}" in verify_run(
        store, run_id).differences


def _drop_first_decision(store: Store, run_id: str) -> None:
    decisions = store.get_run(run_id).decisions
    _update(store, "UPDATE runs SET decisions = :d WHERE id = :i", d=json.dumps(decisions[1:]), i=run_id)


def _shorter_log(store: Store, run_id: str) -> None:
    log = EventLog.from_jsonl(store.get_run(run_id).log_jsonl)
    text = EventLog(log.records[:-1]).to_jsonl()
    _update(store, "UPDATE runs SET log_z = :z, log_size = :n WHERE id = :i", z=zlib.compress(text.encode()),
            n=len(text.encode()), i=run_id)


def _edited_scenario_text(store: Store, run_id: str) -> None:
    _update(store, "UPDATE texts SET body = body || :extra WHERE sha256 = (SELECT scenario_text FROM runs WHERE id = :i)",
            extra="\n# edited after the run\n", i=run_id)


CHANGES: dict[str, Callable[[Store, str], None]] = {
    "decisions": _drop_first_decision,
    "seed": lambda s, i: _update(s, "UPDATE runs SET seed = :v WHERE id = :i", v=str(SEED + 1), i=i),
    "total": lambda s, i: _update(s, "UPDATE runs SET total = total + 1.5 WHERE id = :i", i=i),
    "log_digest": lambda s, i: _update(s, "UPDATE runs SET log_digest = :v WHERE id = :i", v="0" * 64, i=i),
    "log": _shorter_log,
    "engine_version": lambda s, i: _update(s, "UPDATE runs SET engine_version = '0.0.1' WHERE id = :i", i=i),
    "scenario_text": _edited_scenario_text,
}


@pytest.mark.parametrize("field", list(CHANGES))
def test_a_stored_run_with_a_changed_field_is_not_verified(stored: tuple[Store, str], field: str) -> None:
    store, run_id = stored
    CHANGES[field](store, run_id)
    rep = verify_run(store, run_id)
    assert not rep.verified


def test_verifying_a_run_that_does_not_exist_is_a_store_error(stored: tuple[Store, str]) -> None:
    with pytest.raises(StoreError, match="unknown run"):
        verify_run(stored[0], "0" * 32)


def _line(card: Any, cid: str) -> Any:
    return next(c for c in card.criteria if c.id == cid)


def test_a_judgement_and_an_override_regrade_the_run_and_it_still_verifies(stored: tuple[Store, str]) -> None:
    """Verification re-grades with the assessors' ratings, so their changes to the total are not tampering."""
    store, run_id = stored
    store.add_user("assessor", "a-long-password-2", "assessor")
    assert store.get_run(run_id).provisional  # CR_coordination awaits an assessor
    judged = judge(store, run_id, "CR_coordination", "S", "clear roles", "assessor")
    assert (_line(judged, "CR_coordination").rating, _line(judged, "CR_coordination").status) == ("S", "judged")
    assert judged.provisional  # CR_warnings still waits
    judged = judge(store, run_id, "CR_warnings", "M", "vague", "assessor")
    assert not judged.provisional
    computed = _line(judged, "CR_power").computed_rating
    flipped = "U" if computed == "P" else "P"
    card = override(store, run_id, "CR_power", flipped, "the utility's call", "assessor")
    power = _line(card, "CR_power")
    assert (power.rating, power.computed_rating, power.status, power.by) == (flipped, computed, "overridden", "assessor")
    assert card.total != judged.total
    after = store.get_run(run_id)
    assert (after.total, after.passed, after.provisional) == (card.total, card.passed, card.provisional)
    assert after.total == pytest.approx(card.total) and card.passed == (card.total >= card.pass_mark)
    rep = verify_run(store, run_id)
    assert rep.verified, rep.differences
    assert rep.replayed_total == pytest.approx(card.total)


@pytest.mark.parametrize(("criterion", "judged_only", "message"), [
    ("CR_nope", True, r"^criterion: no criterion 'CR_nope' in this run's rubric \(criteria: CR_"),
    ("CR_power", True, r"^criterion: criterion 'CR_power' is computed; use an override to change its rating$"),
    ("CR_nope", False, r"^criterion: no criterion 'CR_nope'"),
])
def test_ratings_for_criteria_the_run_cannot_take_are_refused(stored: tuple[Store, str], criterion: str,
                                                               judged_only: bool, message: str) -> None:
    store, run_id = stored
    store.add_user("assessor", "a-long-password-2", "assessor")
    act = judge if judged_only else override
    with pytest.raises(StoreError, match=message):
        act(store, run_id, criterion, "P", "", "assessor")
    assert store.judgements(run_id) == [] and store.overrides(run_id) == []
    with pytest.raises(StoreError, match=r"^run_id: no run '0{32}'$"):
        act(store, "0" * 32, criterion, "P", "", "assessor")


def test_a_stored_card_shown_in_greek_keeps_its_ratings_and_points(stored: tuple[Store, str],
                                                                 played: tuple[Any, Any, Simulation]) -> None:
    sc, city, _sim = played
    store, run_id = stored
    run = store.get_run(run_id)
    card = card_in_language(store, run, sc, city, "el")
    assert (card.lang, run.scorecard["lang"]) == ("el", "en")
    assert [(c.id, c.rating, c.points) for c in card.criteria] == [
        (c["id"], c["rating"], c["points"]) for c in run.scorecard["criteria"]]
    assert card.total == run.total
    assert store.get_run(run_id).scorecard == run.scorecard  # the stored card is not changed


def test_a_card_shown_in_another_language_keeps_the_assessors_words_and_names(
        stored: tuple[Store, str], played: tuple[Any, Any, Simulation]) -> None:
    sc, city, _sim = played
    store, run_id = stored
    store.add_user("assessor", "a-long-password-2", "assessor")
    judged_card = judge(store, run_id, "CR_coordination", "S", "clear roles", "assessor")
    computed = _line(judged_card, "CR_power").computed_rating
    override(store, run_id, "CR_power", "U" if computed == "P" else "P", "the utility's call", "assessor")
    card = card_in_language(store, store.get_run(run_id), sc, city, "de")
    judged, overridden = _line(card, "CR_coordination"), _line(card, "CR_power")
    assert (judged.comment, judged.by) == ("clear roles", "assessor")
    assert (overridden.comment, overridden.by, overridden.status) == ("the utility's call", "assessor", "overridden")


def test_the_xapi_export_takes_its_addresses_from_the_options_before_the_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_XAPI_HOMEPAGE", "https://env.example.org")
    monkeypatch.setenv("SCRO_SIM_XAPI_ACTIVITY_BASE", "https://env.example.org/activities/")
    assert export_options("xapi", xapi_homepage="https://lms.example.org",
                          xapi_activity_base="https://lms.example.org/act/") == {
        "homepage": "https://lms.example.org", "activity_base": "https://lms.example.org/act/"}
    with pytest.raises(ScroSimError, match=r"^xapi: .*--xapi-activity-base"):
        export_options("xapi", xapi_activity_base="not an address")


def test_a_verified_run_without_a_stored_score_reports_no_score() -> None:
    rep = VerifyReport("r1", True, stored_digest="ab" * 32, notes=["scenario file changed"])
    assert str(rep) == f"run r1: verified (digest {'ab' * 8}…)\n  note: scenario file changed"
    scored = VerifyReport("r1", True, stored_digest="ab" * 32, stored_total=72.5)
    assert str(scored) == f"run r1: verified (digest {'ab' * 8}…, score 72.5)"


def test_a_run_graded_in_german_is_regraded_and_verified_in_german(tmp_path: Path,
                                                                   played: tuple[Any, Any, Simulation]) -> None:
    sc, city, sim = played
    with Store(f"sqlite:///{tmp_path / 'de.sqlite'}") as store:
        run_id, card = record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner="learner",
                                  source="cli", origin="plan", lang="de")
        assert card.lang == "de"
        again = regrade(store, run_id)
        assert again.lang == "de" and again.model_dump(mode="json") == card.model_dump(mode="json")
        assert verify_run(store, run_id).verified


def test_regrading_a_run_that_is_not_stored_names_the_run_id(stored: tuple[Store, str]) -> None:
    store, _run_id = stored
    with pytest.raises(StoreError, match=r"^run_id: no run '0{32}'$"):
        regrade(store, "0" * 32)


def test_regrading_under_a_revised_rubric_changes_the_rating_without_replaying(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    run = store.get_run(run_id)
    old = _line(regrade(store, run_id), "CR_power")  # under its own rubric: the stored card again
    assert old.model_dump() == next(c for c in run.scorecard["criteria"] if c["id"] == "CR_power")
    assert old.rating == "U"
    rule = "metric: relative.resilience_loss.power\n      thresholds: {P: 0.8, S: 0.6, M: 0.3}"
    lenient = run.scenario_yaml.replace(rule, rule.replace("{P: 0.8, S: 0.6, M: 0.3}", "{P: -1e6, S: -2e6, M: -3e6}"))
    assert lenient != run.scenario_yaml
    card = regrade(store, run_id, lenient)
    assert _line(card, "CR_power").rating == "P"
    assert card.total > run.total
    assert _line(card, "CR_power").value == old.value
    assert store.get_run(run_id).total == card.total
    with pytest.raises(ScroSimError, match=r"^<revised rubric>:2: "):  # the error says which text is broken
        regrade(store, run_id, "id: [unclosed\n")
    with pytest.raises(StoreError, match="revised scenario is 'other'"):
        regrade(store, run_id, run.scenario_yaml.replace("id: riverton_flood", "id: other")
                .replace("scenario: riverton_flood", "scenario: other"))


def test_a_gradebook_row_for_a_learner_without_an_account_has_no_email_or_display_name(
        stored: tuple[Store, str]) -> None:
    store, run_id = stored  # stored from the command line for "learner", who has no account
    (row,) = grade_rows(store, "c1")
    assert (row.username, row.email, row.display_name, row.run_id) == ("learner", None, None, run_id)


def test_gradebook_rows_carry_the_stored_grade_and_the_learners_details(stored: tuple[Store, str]) -> None:
    store, run_id = stored
    store.add_user("learner", "a-long-password-1", "learner", display_name="Lea Learner", email="lea@example.org")
    run = store.get_run(run_id)
    (row,) = grade_rows(store, "c1")
    assert (row.username, row.email, row.display_name, row.run_id) == ("learner", "lea@example.org", "Lea Learner", run_id)
    assert (row.scenario_id, row.scenario_title) == ("riverton_flood", "Riverton: the River Alder flood")
    assert (row.score, row.passed, row.provisional) == (run.total, run.passed, run.provisional)
    # the flood's criteria cite outcomes of six modules of the course map, each named in the learner's language
    assert row.modules == ("A1", "A2", "C1", "C3", "C4", "D1") and row.language == "en"
    assert [(m, t) for m, t, _score in row.module_results][:2] == [
        ("A1", "Crisis communication and public information"), ("A2", "Coordination and inter-agency cooperation")]
    assert grade_rows(store, "another-cohort") == []
    assert (row.grading, row.pass_mark) == ("highest", 60)


def test_a_gradebook_row_whose_stored_scenario_no_longer_loads_still_carries_its_grade(stored: tuple[Store, str]) -> None:
    """A scenario text the current code cannot parse: the row names the scenario by id and has no pass mark."""
    store, run_id = stored
    body = "id: [unclosed\n"  # stored whole (its sha256 matches), as a scenario that a later version refuses
    sha = hashlib.sha256(body.encode()).hexdigest()
    _update(store, "INSERT INTO texts (sha256, body) VALUES (:s, :b)", s=sha, b=body)
    _update(store, "UPDATE runs SET scenario_text = :s WHERE id = :i", s=sha, i=run_id)
    (row,) = grade_rows(store, "c1")
    assert (row.run_id, row.scenario_title, row.grading, row.pass_mark) == (run_id, "riverton_flood", "highest", None)
    assert row.score == store.get_run(run_id).total
    # and verification says what it could not do, naming the reason
    said = [d for d in verify_run(store, run_id).differences if d.startswith("the stored scenario cannot be loaded: ")]
    assert len(said) == 1 and "id" in said[0]


def test_a_grade_the_course_platform_set_up_cannot_send_is_logged_with_the_reason(
        stored: tuple[Store, str], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        tmp_path: Path) -> None:
    store, _ = stored
    monkeypatch.setenv("SCRO_SIM_LTI_CONFIG", str(tmp_path / "missing-lti.toml"))
    with caplog.at_level(logging.ERROR, logger="scro_sim.lti"):
        assert post_lti_grade(store, "learner", "riverton_flood") == []  # the run or rating goes on
    (said,) = [r.getMessage() for r in caplog.records if r.name == "scro_sim.lti"]
    assert said.startswith("grade of learner for riverton_flood not sent to the course platform: ")
    assert "cannot read the LTI set-up file" in said


@pytest.mark.parametrize("origin", ["reference", "baseline", "practice", "cli"])
def test_runs_stored_for_reference_baseline_practice_or_from_the_command_line_never_reach_an_export(
        stored: tuple[Store, str], played: tuple[Any, Any, Simulation], origin: str) -> None:
    store, graded = stored
    sc, city, sim = played
    other, _ = record_log(store, sc, city, SEED, sim.log, decisions=list(sim.decisions), learner="learner2",
                          cohort="c1", source="cli", origin=origin)
    assert [r.run_id for r in grade_rows(store, "c1")] == [graded]
    for fmt in ("moodle", "openedx-sheet", "xapi"):
        text = export_cohort(store, "c1", fmt)
        assert "learner2" not in text and other not in text and "learner" in text
    assert {r.origin for r in store.list_runs(cohort="c1")} == {"plan", origin}


def test_an_open_edx_export_holds_provisional_grades_back_whatever_the_provisional_setting(
        stored: tuple[Store, str], tmp_path: Path) -> None:
    """Open edX's importer has no column for "provisional": the cohort export holds such grades back
    instead of refusing, even where the course's setting is to mark them."""
    store, _ = stored
    mapping = load_openedx_map(write_map(tmp_path, roster="username,user_id\nlearner,17\n"))
    text = export_cohort(store, "c1", "openedx", provisional="mark", options=mapping.export_options())
    header, learner = text.splitlines()
    assert header.startswith("user_id,") and learner.startswith("17,learner,")


def test_a_stored_bundled_scenario_finds_its_city_from_any_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (REPO / "scenarios" / "riverton_flood.yaml").read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    sc, city = scenario_from_text(text)
    assert (sc.id, city.id) == ("riverton_flood", load_scenario(REPO / "scenarios" / "riverton_flood.yaml")[1].id)


def test_a_baseline_written_as_a_plan_is_played_as_that_plan(played: tuple[Any, Any, Simulation]) -> None:
    """A lecturer's own baseline plan (here the expert's plan) gives the baseline that plan's metrics."""
    sc, city, _ = played
    refs = sc.reference_plans.model_copy(update={"baseline": sc.reference_plans.expert})
    out = reference_metrics(sc.model_copy(update={"reference_plans": refs}), city, SEED)
    assert out["baseline"].flat() == out["expert"].flat()
    doing_nothing = Simulation(sc, city, SEED, baseline_policy("do_nothing")).run()
    assert out["baseline"].flat() != compute_metrics(doing_nothing).flat()


def test_the_provisional_setting_comes_from_the_flag_then_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.assessment import provisional_mode
    from scro_sim.errors import ScroSimError

    assert provisional_mode(None, {}) == "mark"
    assert provisional_mode(None, {"SCRO_SIM_PROVISIONAL": "hold"}) == "hold"
    assert provisional_mode("mark", {"SCRO_SIM_PROVISIONAL": "hold"}) == "mark"
    with pytest.raises(ScroSimError, match="SCRO_SIM_PROVISIONAL: 'later' is not one of mark, hold"):
        provisional_mode(None, {"SCRO_SIM_PROVISIONAL": "later"})
    with pytest.raises(ScroSimError, match="--provisional: 'x'"):
        provisional_mode("x", {})
