"""A stored run cannot be changed behind scro_sim's back: every kind of raw-SQL tampering is caught by verify.

One run is recorded, judged and overridden through the library; each case copies that database,
changes it with plain SQL (as anyone with write access to the database file could), and checks that
``verify_run`` says "not verified" naming what differs, and that the untouched run verifies.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scro_sim.assessment import judge, override, record_log, score, verify_run
from scro_sim.cli import main
from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.policy import baseline_policy
from scro_sim.scenario import load_scenario
from scro_sim.scoring import ScoreCard
from scro_sim.store import Keyring, Store

REPO = Path(__file__).resolve().parents[1]
SECRET = "tamper-test-secret-0123456789"
Tamper = Callable[[sqlite3.Connection, dict[str, str]], None]


def _store(path: Path) -> Store:
    return Store(f"sqlite:///{path}", keyring=Keyring(SECRET.encode()))


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A database with two runs: ``main`` (greedy, judged, overridden) and ``other`` (do-nothing)."""
    folder = tmp_path_factory.mktemp("tamper")
    db = folder / "runs.sqlite"
    scenario, city = load_scenario(REPO / "scenarios" / "riverton_flood.yaml")
    with _store(db) as store:
        store.add_user("learner", "plover-basalt-quiver-88", "learner")
        store.add_user("assessor", "plover-basalt-quiver-88", "assessor")
        sim = Simulation(scenario, city, 2, baseline_policy("greedy"))
        log = sim.run()
        main_id, _ = record_log(store, scenario, city, 2, log, decisions=sim.decisions, learner="learner",
                                cohort="c1", policy="greedy")
        judge(store, main_id, "CR_coordination", "S", "clear roles", "assessor")
        override(store, main_id, "CR_power", "P", "the utility's call", "assessor")
        other = Simulation(scenario, city, 3, baseline_policy("do_nothing"))
        other_id, _ = record_log(store, scenario, city, 3, other.run(), decisions=other.decisions,
                                 learner="learner", cohort="c1", policy="do_nothing")
        assert store.list_runs()  # the runs are there
    return db, {"main": main_id, "other": other_id}


def _copy(pristine: tuple[Path, dict[str, str]], tmp_path: Path) -> Path:
    db = tmp_path / "runs.sqlite"
    shutil.copy(pristine[0], db)
    return db


def _card(conn: sqlite3.Connection, run_id: str) -> dict[str, Any]:
    return json.loads(conn.execute("SELECT scorecard FROM runs WHERE id = ?", (run_id,)).fetchone()[0])


def _sql(statement: str) -> Tamper:
    def tamper(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
        conn.execute(statement, {"main": ids["main"], "other": ids["other"]})
    return tamper


def _unchecked(statement: str) -> Tamper:
    """A statement the schema's CHECK constraints would refuse (a writer can switch them off)."""
    def tamper(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
        conn.execute("PRAGMA ignore_check_constraints = ON")
        conn.execute(statement, {"main": ids["main"], "other": ids["other"]})
    return tamper


def _forge_judged_rating(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    """Rate the awaiting judged criterion P on the card, with a total, pass/fail and flag to match."""
    card = ScoreCard.model_validate(_card(conn, ids["main"]))
    line = next(c for c in card.criteria if c.id == "CR_warnings")
    assert line.status == "awaiting judgement"
    line.rating, line.status, line.points = "P", "judged", line.weight * 1.0
    rated = [c for c in card.criteria if c.rating is not None]
    card.total = round(100.0 * sum(c.points for c in rated) / sum(c.weight for c in rated), 6)
    card.passed, card.provisional = card.total >= card.pass_mark, False
    conn.execute("UPDATE runs SET scorecard = ?, total = ?, passed = ?, provisional = 0 WHERE id = ?",
                 (json.dumps(card.model_dump(mode="json")), card.total, int(card.passed), ids["main"]))


def _forge_log(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    """Drop the last record of the stored log (its digest left as it was)."""
    raw = zlib.decompress(conn.execute("SELECT log_z FROM runs WHERE id = ?", (ids["main"],)).fetchone()[0])
    lines = raw.decode().splitlines(keepends=True)[:-1]
    body = "".join(lines).encode()
    conn.execute("UPDATE runs SET log_z = ?, log_size = ? WHERE id = ?", (zlib.compress(body), len(body), ids["main"]))


def _forge_everything(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    """The full forgery: a new rubric (lower pass mark), the log re-simulated, new digest, card, total, hash."""
    text = (REPO / "scenarios" / "riverton_flood.yaml").read_text(encoding="utf-8")
    forged = text.replace("pass_mark: 60", "pass_mark: 5")
    assert forged != text
    import hashlib

    sha = hashlib.sha256(forged.encode()).hexdigest()
    scenario, city = load_scenario("<forged>", text=forged, base_dir=REPO / "scenarios")
    sim = Simulation(scenario, city, 3, baseline_policy("do_nothing"))
    log = sim.run()
    body = log.to_jsonl().encode()
    # graded in its stored form, as the store grades every run (times as written to the log's text)
    card = score(scenario, city, 3, EventLog.from_jsonl(body.decode()))
    conn.execute("INSERT INTO texts (sha256, body) VALUES (?, ?)", (sha, forged))
    conn.execute("UPDATE runs SET scenario_hash = ?, scenario_text = ?, log_z = ?, log_size = ?, log_digest = ?, "
                 "scorecard = ?, total = ?, passed = ?, provisional = ? WHERE id = ?",
                 (sha, sha, zlib.compress(body), len(body), log.digest(), json.dumps(card.model_dump(mode="json")),
                  card.total, int(card.passed), int(card.provisional), ids["other"]))


def _copy_signature(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    """Replay the other run's (valid) signature on this one."""
    conn.execute("UPDATE runs SET signature = (SELECT signature FROM runs WHERE id = :other) WHERE id = :main", ids)


def _foreign_key_id(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    sig = json.loads(conn.execute("SELECT signature FROM runs WHERE id = ?", (ids["main"],)).fetchone()[0])
    sig["kid"] = "0badc0de"
    conn.execute("UPDATE runs SET signature = ? WHERE id = ?", (json.dumps(sig), ids["main"]))


def _old_layout_label(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    """Relabel the signature as one made before origins were signed, and raise the origin it no longer covers."""
    sig = json.loads(conn.execute("SELECT signature FROM runs WHERE id = ?", (ids["main"],)).fetchone()[0])
    sig["v"] = 1
    conn.execute("UPDATE runs SET signature = ?, origin = 'played' WHERE id = ?", (json.dumps(sig), ids["main"]))


def _judgement_by_a_learner(conn: sqlite3.Connection, ids: dict[str, str]) -> None:
    conn.execute("UPDATE judgements SET assessor_id = (SELECT id FROM users WHERE username = 'learner') "
                 "WHERE run_id = ?", (ids["main"],))


# (name, tamper, the words the report must contain; "target" says which run is verified)
CASES: list[tuple[str, Tamper, tuple[str, ...], str]] = [
    ("pass/fail flipped", _sql("UPDATE runs SET passed = 1 - passed WHERE id = :main"),
     ("runs.passed differs", "passed"), "main"),
    ("provisional flag cleared", _sql("UPDATE runs SET provisional = 0 WHERE id = :main"),
     ("runs.provisional differs",), "main"),
    ("total raised", _sql("UPDATE runs SET total = 99.5 WHERE id = :main"), ("runs.total differs",), "main"),
    ("score card total the pages show", _sql("UPDATE runs SET scorecard = json_set(scorecard, '$.total', 99.5) "
                                             "WHERE id = :main"), ("score card total",), "main"),
    ("score card criterion rating", _sql("UPDATE runs SET scorecard = json_set(scorecard, '$.criteria[0].rating', "
                                         "CASE json_extract(scorecard, '$.criteria[0].rating') WHEN 'U' THEN 'P' "
                                         "ELSE 'U' END) WHERE id = :main"), ("rating: stored",), "main"),
    ("score card module score", _sql("UPDATE runs SET scorecard = json_set(scorecard, '$.modules[0].score', 12.5) "
                                     "WHERE id = :main"), ("module A1 score: stored 12.5",), "main"),
    ("judged rating forged with a matching total", _forge_judged_rating,
     ("criterion CR_warnings rating", "judgements and overrides tables"), "main"),
    ("judgement rating changed", _sql("UPDATE judgements SET rating = 'P' WHERE run_id = :main"),
     ("criterion CR_coordination rating", "judgements"), "main"),
    ("judgement deleted", _sql("DELETE FROM judgements WHERE run_id = :main"),
     ("criterion CR_coordination", "judgements"), "main"),
    ("judgement by a learner", _judgement_by_a_learner, ("signature does not match: judgements",), "main"),
    ("override comment emptied", _sql("UPDATE overrides SET comment = '' WHERE run_id = :main"),
     ("has no comment", "criterion CR_power comment"), "main"),
    ("override comment changed", _sql("UPDATE overrides SET comment = 'because' WHERE run_id = :main"),
     ("criterion CR_power comment", "(from the judgements and overrides tables)"), "main"),
    ("override deleted", _sql("DELETE FROM overrides WHERE run_id = :main"), ("criterion CR_power",), "main"),
    ("earlier score card deleted", _sql("DELETE FROM scorecard_history WHERE run_id = :main"), ("history",), "main"),
    ("learner changed", _sql("UPDATE runs SET learner = 'someone' WHERE id = :main"), ("learner differs",), "main"),
    ("cohort changed", _sql("UPDATE runs SET cohort = 'c2' WHERE id = :main"), ("cohort differs",), "main"),
    ("cohort removed", _sql("UPDATE runs SET cohort = NULL WHERE id = :main"), ("cohort differs",), "main"),
    ("start date changed", _sql("UPDATE runs SET started_at = '2020-01-01 00:00:00.000000' WHERE id = :main"),
     ("started_at differs",), "main"),
    ("finish date changed", _sql("UPDATE runs SET finished_at = '2030-01-01 00:00:00.000000' WHERE id = :main"),
     ("finished_at differs",), "main"),
    ("source changed", _sql("UPDATE runs SET source = 'play' WHERE id = :main"), ("source differs",), "main"),
    ("origin raised to a played game", _sql("UPDATE runs SET origin = 'played' WHERE id = :main"),
     ("origin differs",), "main"),
    ("signature relabelled to the layout before origins", _old_layout_label, ("origin differs",), "main"),
    ("policy changed", _sql("UPDATE runs SET policy = 'expert' WHERE id = :main"), ("policy differs",), "main"),
    ("seed changed", _sql("UPDATE runs SET seed = '5' WHERE id = :main"), ("seed differs", "never reached on replay"), "main"),
    ("decisions emptied", _sql("UPDATE runs SET decisions = '[]' WHERE id = :main"),
     ("decisions or the log were changed", "decisions"), "main"),
    ("log digest changed", _sql("UPDATE runs SET log_digest = 'ab' || substr(log_digest, 3) WHERE id = :main"),
     ("log_digest", "does not match its stored digest"), "main"),
    ("stored log shortened", _forge_log, ("does not match its stored digest",), "main"),
    ("stored log garbage", _sql("UPDATE runs SET log_z = x'00ff00ff' WHERE id = :main"),
     ("runs.log_z", "corrupt"), "main"),
    ("scenario text changed", _sql("UPDATE texts SET body = body || '#' WHERE sha256 = "
                                   "(SELECT scenario_text FROM runs WHERE id = :main)"),
     ("does not match its sha256",), "main"),
    ("scenario id changed", _sql("UPDATE runs SET scenario_id = 'riverton_quake' WHERE id = :main"),
     ("scenario identity differs", "scenario_id"), "main"),
    ("scenario version changed", _sql("UPDATE runs SET scenario_version = '9' WHERE id = :main"),
     ("scenario identity differs",), "main"),
    ("scenario hash changed", _sql("UPDATE runs SET scenario_hash = 'ab' || substr(scenario_hash, 3) "
                                   "WHERE id = :main"), ("does not match its hash", "scenario_hash"), "main"),
    ("city hash changed", _sql("UPDATE runs SET city_hash = 'ab' || substr(city_hash, 3) WHERE id = :main"),
     ("city file changed", "city_hash"), "main"),
    ("engine version changed", _sql("UPDATE runs SET engine_version = '0.0.1' WHERE id = :main"),
     ("engine version differs",), "main"),
    ("full forgery: new rubric, re-simulated log, new digest", _forge_everything,
     ("signature does not match", "scenario_hash", "log_digest"), "other"),
    ("signature replayed from another run", _copy_signature, ("signature belongs to another run",), "main"),
    ("signature removed", _sql("UPDATE runs SET signature = NULL WHERE id = :main"), ("signature missing",), "main"),
    ("signature garbage", _sql("UPDATE runs SET signature = 'x' WHERE id = :main"), ("signature unreadable",), "main"),
    ("signature key id changed", _foreign_key_id, ("which this server does not have",), "main"),
    ("corrupt JSON in runs.decisions", _sql("UPDATE runs SET decisions = '[{' WHERE id = :main"),
     ("runs.decisions is not valid JSON",), "main"),
    ("corrupt JSON in runs.scorecard", _sql("UPDATE runs SET scorecard = '{\"total\": ' WHERE id = :main"),
     ("runs.scorecard is not valid JSON",), "main"),
    ("corrupt JSON in scorecard_history.scorecard", _sql("UPDATE scorecard_history SET scorecard = 'nope' "
                                                         "WHERE run_id = :main"),
     ("scorecard_history #", ".scorecard is not valid JSON"), "main"),
    ("JSON null for the score card", _sql("UPDATE runs SET scorecard = 'null' WHERE id = :main"),
     ("runs.scorecard is null",), "main"),
    ("decisions not a list", _sql("UPDATE runs SET decisions = '{\"a\": 1}' WHERE id = :main"),
     ("runs.decisions is not a list",), "main"),
    ("score card not a score card", _sql("UPDATE runs SET scorecard = '{\"a\": 1}' WHERE id = :main"),
     ("runs.scorecard is not a score card",), "main"),
    ("total of the wrong type", _unchecked("UPDATE runs SET total = 'lots' WHERE id = :main"),
     ("runs.total has the wrong type",), "main"),
    ("pass/fail of the wrong type", _sql("UPDATE runs SET passed = 'yes' WHERE id = :main"),
     ("runs.passed is not true or false",), "main"),
    ("unreadable date", _sql("UPDATE runs SET finished_at = 'soon' WHERE id = :main"),
     ("runs.finished_at cannot be read",), "main"),
    ("unreadable seed", _sql("UPDATE runs SET seed = 'abc' WHERE id = :main"), ("runs.seed cannot be read",), "main"),
]


def test_there_are_at_least_twenty_distinct_tamperings() -> None:
    assert len({name for name, *_ in CASES}) == len(CASES) >= 20


def test_an_untouched_run_verifies(pristine: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    with _store(_copy(pristine, tmp_path)) as store:
        for run_id in pristine[1].values():
            rep = verify_run(store, run_id)
            assert rep.verified, rep.differences
            assert str(rep).startswith(f"run {run_id}: verified")


@pytest.mark.parametrize(("tamper", "words", "target"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_tampering_is_caught_and_named(pristine: tuple[Path, dict[str, str]], tmp_path: Path, tamper: Tamper,
                                             words: tuple[str, ...], target: str) -> None:
    db = _copy(pristine, tmp_path)
    conn = sqlite3.connect(db)
    with conn:
        tamper(conn, pristine[1])
    conn.close()
    with _store(db) as store:
        rep = verify_run(store, pristine[1][target])
    assert not rep.verified
    text = str(rep)
    assert text.startswith(f"run {pristine[1][target]}: not verified: ")
    for word in words:
        assert word in text, text


def test_a_full_forgery_fools_everything_but_the_signature(pristine: tuple[Path, dict[str, str]],
                                                           tmp_path: Path) -> None:
    db = _copy(pristine, tmp_path)
    with sqlite3.connect(db) as conn:
        _forge_everything(conn, pristine[1])
    with _store(db) as store:
        rep = verify_run(store, pristine[1]["other"])
    assert len(rep.differences) == 1 and rep.differences[0].startswith("signature does not match"), rep.differences


def test_a_damaged_run_is_not_verified_from_the_command_line_not_a_crash(
        pristine: tuple[Path, dict[str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    db = _copy(pristine, tmp_path)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET scorecard = '{' WHERE id = ?", (pristine[1]["main"],))
    monkeypatch.setenv("SCRO_SIM_SECRET", SECRET)
    monkeypatch.delenv("SCRO_SIM_DEBUG", raising=False)
    assert main(["--db", f"sqlite:///{db}", "verify", pristine[1]["main"][:8]]) == 1
    out = capsys.readouterr()
    assert "not verified: runs.scorecard is not valid JSON" in out.out and "Traceback" not in out.out + out.err
    assert main(["--db", f"sqlite:///{db}", "verify", pristine[1]["other"]]) == 0


def test_a_judgement_through_the_library_re_signs_but_a_tampered_run_is_not_laundered(
        pristine: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    from scro_sim.errors import StoreError

    db = _copy(pristine, tmp_path)
    with _store(db) as store:
        judge(store, pristine[1]["main"], "CR_warnings", "M", "late", "assessor")
        assert verify_run(store, pristine[1]["main"]).verified
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET learner = 'someone' WHERE id = ?", (pristine[1]["main"],))
    with _store(db) as store:
        with pytest.raises(StoreError, match="does not verify"):
            judge(store, pristine[1]["main"], "CR_warnings", "P", "", "assessor")
        assert "learner differs" in str(verify_run(store, pristine[1]["main"]))


def test_a_revised_rubric_regrade_and_later_ratings_through_the_library_still_verify(
        pristine: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    from scro_sim.assessment import regrade

    revised = (REPO / "scenarios" / "riverton_flood.yaml").read_text(encoding="utf-8").replace(
        "pass_mark: 60", "pass_mark: 25")
    run_id = pristine[1]["main"]
    with _store(_copy(pristine, tmp_path)) as store:
        assert regrade(store, run_id, revised).pass_mark == 25
        assert verify_run(store, run_id).verified
        judge(store, run_id, "CR_warnings", "P", "", "assessor")  # graded under the revised rubric still
        run = store.get_run(run_id)
        assert run is not None and run.scorecard["pass_mark"] == 25 and run.rubric_yaml == revised
        rep = verify_run(store, run_id)
        assert rep.verified, rep.differences


def _sign_in_layout_1(store: Store, run_id: str) -> None:
    """Sign the run as the store did before runs recorded their origin (signature layout 1)."""
    with store._read() as s:
        _, signed, _ = store._read_run(s, run_id, with_log=False)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE runs SET signature = ? WHERE id = ?",
                             (store.keyring.sign(signed, layout=1), run_id))


def test_a_run_signed_before_origins_verifies_only_with_its_migrated_origin_until_resigned(
        pristine: tuple[Path, dict[str, str]], tmp_path: Path) -> None:
    """Migration 0005 gives an old run 'legacy' (no game links it); its old signature does not cover the
    origin, so raising it to 'played' must still be caught, and resign moves it to a signature that covers it."""
    db = _copy(pristine, tmp_path)
    run_id = pristine[1]["main"]
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET origin = 'legacy' WHERE id = ?", (run_id,))
    with _store(db) as store:
        _sign_in_layout_1(store, run_id)
        ev = store.run_evidence(run_id)
        assert ev.signature is not None and ev.signature.ok and ev.signature.layout == 1 and not ev.signature.current
        assert verify_run(store, run_id).verified
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET origin = 'played' WHERE id = ?", (run_id,))
    with _store(db) as store:
        rep = verify_run(store, run_id)
        assert not rep.verified and "origin differs" in str(rep), str(rep)
        assert "a run signed before origins were recorded is 'legacy'" in str(rep)
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET origin = 'legacy' WHERE id = ?", (run_id,))
    with _store(db) as store:
        assert store.resign_run(run_id) == "re-signed"
        ev = store.run_evidence(run_id)
        assert ev.signature is not None and ev.signature.ok and ev.signature.current and ev.signature.layout == 2
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE runs SET origin = 'plan' WHERE id = ?", (run_id,))
    with _store(db) as store:
        assert "origin differs" in str(verify_run(store, run_id))
