"""Tests of scro_sim.store on SQLite (always) and PostgreSQL (when SCRO_SIM_TEST_PG is set)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from pgkit import private_schema
from sqlalchemy import event, text
from sqlalchemy import inspect as sa_inspect

from scro_sim.errors import StoreError
from scro_sim.store import (
    MAX_ATTEMPTS,
    Keyring,
    NewRun,
    Store,
    User,
    hash_password,
    metadata,
    verify_password,
)

PG_URL = os.environ.get("SCRO_SIM_TEST_PG")
NO_PG = "no PostgreSQL server: set SCRO_SIM_TEST_PG to run the store tests against PostgreSQL"
WRITER = Path(__file__).parent / "store_helpers" / "writer.py"
REPO = Path(__file__).resolve().parents[1]
ACK_RE = re.compile(r"([0-9a-f]{32}) ([0-9a-f]{64})")
SCENARIO = "id: flood-demo\ntitle: Demo flood\n"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


# ---------------------------------------------------------------- fixtures


#: a password the strength rule accepts (scrypt makes every account cost the same)
PW = "plover-basalt-quiver-88"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a private schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    if not PG_URL:
        pytest.skip(NO_PG)
    monkeypatch.setenv("SCRO_SIM_SECRET", "postgresql-test-secret-0123456789")  # a server has no default file
    with private_schema(PG_URL) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store(db_url) as s:
        yield s


@pytest.fixture
def people(store: Store) -> dict[str, User]:
    """One user of each role."""
    return {
        role: store.add_user(f"{role}1", f"{role}-plover-basalt-quiver", role, display_name=f"The {role}")
        for role in ("learner", "lecturer", "assessor", "admin")
    }


def new_run(i: int = 0, **changes: Any) -> NewRun:
    log = "".join(f'{{"time": {t}, "seq": {t}, "kind": "hazard"}}\n' for t in range(i + 3))
    rec = NewRun(
        learner="learner1",
        scenario_id="flood-demo",
        scenario_version="2",
        scenario_hash=hashlib.sha256(SCENARIO.encode()).hexdigest(),
        scenario_yaml=SCENARIO,
        city_hash="c" * 64,
        engine_version="0.1.0",
        seed=1000 + i,
        decisions=[{"t": 6.0, "actions": [{"kind": "evacuate", "district": "riverside"}]}],
        log_jsonl=log,
        log_digest=hashlib.sha256(log.encode()).hexdigest(),
        scorecard={"criteria": [{"id": "c1", "score": 0.5}], "i": i},
        total=62.5,
        passed=True,
        started_at=T0,
        finished_at=T0 + timedelta(minutes=40),
        origin="played",
    )
    return dataclasses.replace(rec, **changes)


def statements(store: Store) -> list[str]:
    """Start recording the SQL the store sends (to see the BEGIN it uses)."""
    seen: list[str] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    return seen


# ---------------------------------------------------------------- opening, schema


def test_default_url_is_var_file_under_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SCRO_SIM_DB", raising=False)
    with Store() as s:
        assert s.dialect == "sqlite"
        assert s.integrity_check()
    assert (tmp_path / "var" / "scro_sim.sqlite").is_file()


def test_env_var_selects_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_DB", f"sqlite:///{tmp_path / 'env' / 'db.sqlite'}")
    with Store() as s:
        s.add_user("u1", PW, "learner")
    assert (tmp_path / "env" / "db.sqlite").is_file()
    monkeypatch.setenv("SCRO_SIM_DB", str(tmp_path / "plain.sqlite"))  # a bare path works too
    with Store() as s:
        assert s.list_users() == []
    assert (tmp_path / "plain.sqlite").is_file()


def test_unsupported_url_refused() -> None:
    with pytest.raises(StoreError, match="unsupported"):
        Store("mysql://u:p@localhost/db")
    with pytest.raises(StoreError, match="not a database URL"):
        Store("::nonsense::")


def test_sqlite_pragmas_and_immediate_writes(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'p.sqlite'}") as s:
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
        seen = statements(s)
        s.add_user("u1", PW, "learner")
        assert seen[0] == "BEGIN IMMEDIATE"
        seen.clear()
        s.get_user("u1")
        assert seen[0] == "BEGIN DEFERRED"


def _head(store: Store) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(store.alembic_config()).get_current_head()


def test_migration_is_idempotent(db_url: str) -> None:
    with Store(db_url) as s:
        assert s.schema_revision() == _head(s) is not None
        s.add_user("keep", PW, "admin")
        s.migrate()
        s.migrate()
    with Store(db_url) as s:  # reopening migrates again: nothing changes, data stays
        assert s.schema_revision() == _head(s)
        assert s.get_user("keep") is not None


def test_migrations_match_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_downgrade_and_upgrade_again(db_url: str) -> None:
    from alembic import command

    with Store(db_url) as s:
        cfg = s.alembic_config()
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert s.schema_revision() is None
        s.migrate()
        assert s.schema_revision() == _head(s)
        assert s.add_user("again", PW, "learner").username == "again"


def test_database_from_newer_version_refused(db_url: str) -> None:
    with Store(db_url) as s, s.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer"):
        Store(db_url)


def test_integrity_check_and_close(store: Store) -> None:
    assert store.integrity_check()
    store.close()
    assert "Store(" in repr(store)


# ---------------------------------------------------------------- passwords


def test_password_hash_format_and_verify() -> None:
    h1, h2 = hash_password("s3cret"), hash_password("s3cret")
    assert h1 != "s3cret" and "s3cret" not in h1
    assert h1 != h2  # random salt
    scheme, n, r, p, salt, digest = h1.split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(salt) == 24 and len(digest) == 44  # 16-byte salt, 32-byte hash in base64
    assert verify_password("s3cret", h1) and verify_password("s3cret", h2)
    assert not verify_password("s3cret!", h1)
    assert not verify_password("s3cret", "garbage")
    assert not verify_password("s3cret", "scrypt$x$8$1$AA==$AA==")
    assert not verify_password("s3cret", h1.replace("scrypt", "md5"))
    with pytest.raises(StoreError):
        hash_password("")


# ---------------------------------------------------------------- users


def test_users(store: Store) -> None:
    u = store.add_user(
        "ana.k@uni-x", PW, "learner", display_name="Ana K", email="ana@x.org", language="el"
    )
    assert (u.username, u.role, u.display_name, u.email, u.language) == (
        "ana.k@uni-x",
        "learner",
        "Ana K",
        "ana@x.org",
        "el",
    )
    assert u.created_at.tzinfo is UTC
    assert store.get_user("ana.k@uni-x") == u
    assert store.get_user("nobody") is None
    store.add_user("zed", PW, "assessor")
    assert [x.username for x in store.list_users()] == ["ana.k@uni-x", "zed"]
    assert [x.username for x in store.list_users(role="assessor")] == ["zed"]
    assert store.list_users(role="admin") == []
    with pytest.raises(dataclasses.FrozenInstanceError):
        u.role = "admin"  # type: ignore[misc]


def test_authenticate_and_passwords(store: Store) -> None:
    store.add_user("bob", "correct horse violet anchor", "lecturer")
    assert store.authenticate("bob", "correct horse violet anchor") == store.get_user("bob")
    assert store.authenticate("bob", "wrong") is None
    assert store.authenticate("nobody", "correct horse violet anchor") is None
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM users WHERE username = 'bob'")).scalar_one()
    assert stored != "correct horse violet anchor" and stored.startswith("scrypt$16384$8$1$")
    store.set_password("bob", "battery staple umbrella mist")
    assert store.authenticate("bob", "correct horse violet anchor") is None
    assert store.authenticate("bob", "battery staple umbrella mist") is not None
    with pytest.raises(StoreError, match="unknown user"):
        store.set_password("nobody", "x")
    with pytest.raises(StoreError):
        store.set_password("bob", "")


def test_set_language(store: Store) -> None:
    store.add_user("carla", PW, "learner")
    store.set_language("carla", "pt-BR")
    assert store.get_user("carla").language == "pt-BR"  # type: ignore[union-attr]
    with pytest.raises(StoreError, match="language"):
        store.set_language("carla", "Portuguese!")
    with pytest.raises(StoreError, match="unknown user"):
        store.set_language("nobody", "de")


@pytest.mark.parametrize(
    ("username", "role", "extra", "match"),
    [
        ("", "learner", {}, "valid name"),
        ("x" * 65, "learner", {}, "valid name"),
        ("has space", "learner", {}, "valid name"),
        ("ok", "superuser", {}, "role"),
        ("ok", "learner", {"language": "english"}, "language"),
        ("ok", "learner", {"email": "not-an-address"}, "e-mail"),
        ("ok", "learner", {"display_name": ""}, "display_name"),
    ],
)
def test_bad_users_refused(store: Store, username: str, role: str, extra: dict[str, str], match: str) -> None:
    with pytest.raises(StoreError, match=match):
        store.add_user(username, PW, role, **extra)
    assert store.list_users() == []


def test_duplicate_user_refused(store: Store) -> None:
    store.add_user("dup", PW, "learner")
    with pytest.raises(StoreError, match="already exists") as info:
        store.add_user("dup", PW + "-other", "admin")
    assert info.value.field == "username"
    assert store.get_user("dup").role == "learner"  # type: ignore[union-attr]


# ---------------------------------------------------------------- cohorts and published scenarios


def test_cohorts(store: Store, people: dict[str, User]) -> None:
    c = store.add_cohort("msc-2026", "MSc Resilience 2026")
    assert (c.name, c.title) == ("msc-2026", "MSc Resilience 2026")
    store.add_cohort("cpd")
    with pytest.raises(StoreError, match="already exists"):
        store.add_cohort("cpd")
    with pytest.raises(StoreError, match="valid name"):
        store.add_cohort("bad name")
    assert [x.name for x in store.list_cohorts()] == ["cpd", "msc-2026"]
    store.add_member("msc-2026", "learner1")
    store.add_member("msc-2026", "learner1")  # idempotent
    store.add_member("msc-2026", "assessor1")
    store.add_member("cpd", "learner1")
    assert [u.username for u in store.members("msc-2026")] == ["assessor1", "learner1"]
    assert store.members("cpd") == [people["learner"]]
    assert [x.name for x in store.cohorts_of("learner1")] == ["cpd", "msc-2026"]
    assert store.cohorts_of("admin1") == []
    with pytest.raises(StoreError, match="unknown cohort"):
        store.add_member("nope", "learner1")
    with pytest.raises(StoreError, match="unknown user"):
        store.add_member("cpd", "nobody")
    with pytest.raises(StoreError, match="unknown cohort"):
        store.members("nope")
    with pytest.raises(StoreError, match="unknown user"):
        store.cohorts_of("nobody")


def test_publish_scenarios(store: Store, people: dict[str, User]) -> None:
    store.add_cohort("a")
    store.add_cohort("b")
    text1, text2 = "id: s1\nv: 1\n", "id: s1\nv: 2\n"
    p1 = store.publish_scenario("a", "s1", text1, "lecturer1")
    assert (p1.cohort, p1.scenario_id, p1.version, p1.yaml_text, p1.published_by) == (
        "a",
        "s1",
        1,
        text1,
        "lecturer1",
    )
    assert p1.sha256 == hashlib.sha256(text1.encode()).hexdigest()
    assert store.publish_scenario("a", "s1", text1, "admin1").version == 1  # same text: no new version
    p2 = store.publish_scenario("a", "s1", text2, "admin1")
    assert (p2.version, p2.yaml_text, p2.published_by, p2.id) == (2, text2, "admin1", p1.id)
    store.publish_scenario("b", "s1", text1, "lecturer1")
    store.publish_scenario("a", "s0", text1, "lecturer1")
    assert [(p.cohort, p.scenario_id, p.version) for p in store.published_scenarios()] == [
        ("a", "s0", 1),
        ("a", "s1", 2),
        ("b", "s1", 1),
    ]
    assert [p.scenario_id for p in store.published_scenarios("b")] == ["s1"]
    with pytest.raises(StoreError, match="only lecturers"):
        store.publish_scenario("a", "s1", text1, "learner1")
    with pytest.raises(StoreError, match="unknown cohort"):
        store.publish_scenario("zz", "s1", text1, "lecturer1")
    with pytest.raises(StoreError, match="unknown user"):
        store.publish_scenario("a", "s1", text1, "nobody")
    with pytest.raises(StoreError, match="unknown cohort"):
        store.published_scenarios("zz")


# ---------------------------------------------------------------- runs


def test_save_and_get_run(store: Store) -> None:
    athens = timezone(timedelta(hours=2))
    big_log = "".join(
        f'{{"seq": {i}, "kind": "service", "data": {{"unserved": {i * 7}}}}}\n' for i in range(60000)
    )
    rec = new_run(
        cohort="msc",
        policy="plan:abc",
        plan_yaml="rules: []\n",
        log_jsonl=big_log,
        log_digest="d" * 64,
        started_at=T0.astimezone(athens),
        finished_at=T0 + timedelta(hours=1),
        provisional=True,
        source="plan",
        seed=2**127 + 5,
    )
    assert len(big_log) > 2_000_000
    run_id = store.save_run(rec)
    assert re.fullmatch(r"[0-9a-f]{32}", run_id)
    got = store.get_run(run_id)
    assert got is not None
    for f in dataclasses.fields(NewRun):
        assert getattr(got, f.name) == getattr(rec, f.name), f.name
    assert got.id == run_id and got.started_at.tzinfo is UTC and got.started_at == T0
    assert got.created_at.tzinfo is UTC
    assert abs(got.created_at - datetime.now(UTC)) < timedelta(minutes=5)
    with store.engine.connect() as conn:
        stored = conn.execute(text("SELECT log_z FROM runs WHERE id = :i"), {"i": run_id}).scalar_one()
    assert len(stored) < len(big_log) / 4 and zlib.decompress(stored).decode() == big_log
    assert store.get_run("0" * 32) is None
    assert store.count_runs() == 1


def test_scenario_texts_are_shared(store: Store) -> None:
    for i in range(3):
        store.save_run(new_run(i))
    store.save_run(new_run(9, scenario_yaml="id: other\n"))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM texts")).scalar_one() == 2
    assert {store.get_run(r.id).scenario_yaml for r in store.list_runs()} == {SCENARIO, "id: other\n"}  # type: ignore[union-attr]


def test_list_runs_filters_and_order(store: Store) -> None:
    ids = [
        store.save_run(new_run(0)),
        store.save_run(new_run(1, learner="other", cohort="c1")),
        store.save_run(new_run(2, scenario_id="heat", cohort="c1", provisional=True)),
        store.save_run(new_run(3, provisional=True)),
    ]
    runs = store.list_runs()
    assert sorted(r.id for r in runs) == sorted(ids)
    keys = [(r.created_at, r.id) for r in runs]
    assert keys == sorted(keys, reverse=True)  # newest first, ties by id
    assert [r.id for r in runs] == [r.id for r in store.list_runs()]  # deterministic
    assert {r.id for r in store.list_runs(learner="other")} == {ids[1]}
    assert {r.id for r in store.list_runs(scenario="heat")} == {ids[2]}
    assert {r.id for r in store.list_runs(cohort="c1")} == {ids[1], ids[2]}
    assert {r.id for r in store.list_runs(provisional=True)} == {ids[2], ids[3]}
    assert {r.id for r in store.list_runs(provisional=False)} == {ids[0], ids[1]}
    assert {r.id for r in store.list_runs(learner="learner1", provisional=True, scenario="flood-demo")} == {
        ids[3]
    }
    assert [r.id for r in store.list_runs(limit=2)] == [r.id for r in runs[:2]]
    assert store.list_runs(learner="nobody") == []
    assert store.list_runs(source="plan") == []
    summary = store.list_runs(learner="other")[0]
    assert (summary.total, summary.passed, summary.seed, summary.cohort) == (62.5, True, 1001, "c1")
    assert not hasattr(summary, "log_jsonl")


def test_many_runs_with_equal_timestamps_order_by_id(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import scro_sim.store.runs as runs_mod

    monkeypatch.setattr(runs_mod, "_now", lambda: T0)
    ids = [store.save_run(new_run(i)) for i in range(5)]
    assert [r.id for r in store.list_runs()] == sorted(ids, reverse=True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"total": 100.5}, "total"),
        ({"total": -1}, "total"),
        ({"total": float("nan")}, "total"),
        ({"passed": "yes"}, "passed"),
        ({"provisional": None}, "provisional"),
        ({"source": "web"}, "source"),
        ({"started_at": datetime(2026, 1, 1)}, "started_at"),
        ({"finished_at": "2026-01-01"}, "finished_at"),
        ({"seed": 1.5}, "seed"),
        ({"decisions": {"not": "a list"}}, "decisions"),
        ({"decisions": [{"x": object()}]}, "decisions"),
        ({"scorecard": {"x": float("inf")}}, "scorecard"),
        ({"learner": ""}, "learner"),
        ({"log_digest": ""}, "log_digest"),
        ({"scenario_yaml": ""}, "scenario_yaml"),
    ],
)
def test_bad_runs_refused(store: Store, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(StoreError) as info:
        store.save_run(new_run(**changes))
    assert info.value.field == field
    assert store.count_runs() == 0


def test_failed_save_leaves_nothing(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    store.save_run(new_run(0))
    calls = {"n": 0}
    real = Store._put_text

    def failing(session, body):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the plan text, after the scenario text was added
            raise RuntimeError("crash mid-write")
        return real(session, body)

    monkeypatch.setattr(Store, "_put_text", staticmethod(failing))
    with pytest.raises(RuntimeError):
        store.save_run(new_run(1, plan_yaml="a plan nobody saw\n", scenario_yaml="new scenario\n"))
    monkeypatch.undo()
    assert store.count_runs() == 1
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM texts")).scalar_one() == 1
    assert store.integrity_check()


def test_update_scorecard_keeps_history(store: Store) -> None:
    run_id = store.save_run(new_run(0, provisional=True, total=40.0, passed=False))
    store.update_scorecard(run_id, {"criteria": [], "v": 2}, 70.0, True, True, note="rubric fix")
    store.update_scorecard(run_id, {"criteria": [], "v": 3}, 75.0, True, False)
    got = store.get_run(run_id)
    assert got is not None
    assert (got.scorecard, got.total, got.passed, got.provisional) == (
        {"criteria": [], "v": 3},
        75.0,
        True,
        False,
    )
    history = store.scorecard_history(run_id)
    assert [(h.total, h.passed, h.provisional, h.note) for h in history] == [
        (40.0, False, True, "rubric fix"),
        (70.0, True, True, ""),
    ]
    assert history[0].scorecard == new_run(0).scorecard
    assert store.list_runs(provisional=True) == []
    with pytest.raises(StoreError, match="unknown run"):
        store.update_scorecard("f" * 32, {}, 1.0, False, False)
    with pytest.raises(StoreError, match="between 0 and 100"):
        store.update_scorecard(run_id, {}, 101.0, False, False)
    with pytest.raises(StoreError, match="unknown run"):
        store.scorecard_history("f" * 32)
    assert not hasattr(store, "delete_run")


# ---------------------------------------------------------------- judgements and overrides


def test_judgements(store: Store, people: dict[str, User]) -> None:
    run_id = store.save_run(new_run(0, provisional=True))
    j1 = store.add_judgement(run_id, "comms", "S", "clear but late", "assessor1")
    assert (j1.run_id, j1.criterion_id, j1.rating, j1.comment, j1.assessor) == (
        run_id,
        "comms",
        "S",
        "clear but late",
        "assessor1",
    )
    store.add_judgement(run_id, "triage", "P", "", "admin1")  # a comment is optional for judgements
    j3 = store.add_judgement(run_id, "comms", "M", "on reflection, no", "admin1")
    assert [(j.criterion_id, j.rating) for j in store.judgements(run_id)] == [("comms", "M"), ("triage", "P")]
    assert store.judgements(run_id)[0] == j3
    assert [j.rating for j in store.judgements(run_id, current_only=False)] == ["S", "P", "M"]
    with pytest.raises(StoreError, match="only assessors"):
        store.add_judgement(run_id, "comms", "P", "", "learner1")
    with pytest.raises(StoreError, match="only assessors"):
        store.add_judgement(run_id, "comms", "P", "", "lecturer1")
    with pytest.raises(StoreError, match="rating"):
        store.add_judgement(run_id, "comms", "A", "", "assessor1")
    with pytest.raises(StoreError, match="unknown run"):
        store.add_judgement("0" * 32, "comms", "P", "", "assessor1")
    with pytest.raises(StoreError, match="unknown user"):
        store.add_judgement(run_id, "comms", "P", "", "nobody")
    with pytest.raises(StoreError, match="unknown run"):
        store.judgements("0" * 32)
    assert len(store.judgements(run_id, current_only=False)) == 3


def test_overrides(store: Store, people: dict[str, User]) -> None:
    run_id = store.save_run(new_run(0))
    card = store.get_run(run_id).scorecard  # type: ignore[union-attr]
    o1 = store.add_override(run_id, "evac_timeliness", "U", "evacuation order never sent", "assessor1")
    assert (o1.criterion_id, o1.rating, o1.assessor) == ("evac_timeliness", "U", "assessor1")
    o2 = store.add_override(run_id, "evac_timeliness", "M", "sent by phone, see notes", "admin1")
    assert store.overrides(run_id) == [o2]
    assert store.overrides(run_id, current_only=False) == [o1, o2]
    assert store.get_run(run_id).scorecard == card  # type: ignore[union-attr]  # the original stays
    for bad_comment in ("", "   "):
        with pytest.raises(StoreError, match="comment"):
            store.add_override(run_id, "evac_timeliness", "P", bad_comment, "assessor1")
    with pytest.raises(StoreError, match="only assessors"):
        store.add_override(run_id, "evac_timeliness", "P", "I did it", "learner1")
    with pytest.raises(StoreError, match="rating"):
        store.add_override(run_id, "evac_timeliness", "pass", "ok", "assessor1")
    with pytest.raises(StoreError, match="criterion_id"):
        store.add_override(run_id, "", "P", "ok", "assessor1")
    with pytest.raises(StoreError, match="unknown run"):
        store.add_override("nope", "x", "P", "ok", "assessor1")
    with pytest.raises(StoreError, match="unknown run"):
        store.overrides("nope")
    assert store.overrides(run_id, current_only=False) == [o1, o2]


# ---------------------------------------------------------------- games in progress


def test_games(store: Store) -> None:
    g = store.save_game("g1", "learner1", "flood-demo", "h" * 64, 7, [])
    assert (g.id, g.learner, g.status, g.decisions, g.run_id, g.seed) == (
        "g1",
        "learner1",
        "playing",
        [],
        None,
        7,
    )
    moves = [{"t": 6, "actions": [{"kind": "evacuate", "district": "riverside"}]}]
    g2 = store.save_game("g1", "learner1", "flood-demo", "h" * 64, 7, moves)
    assert g2.decisions == moves and g2.created_at == g.created_at and g2.updated_at >= g.updated_at
    assert store.load_game("g1") == g2
    assert store.load_game("nope") is None
    store.save_game("g2", "learner1", "heat", "k" * 64, 8, [], status="abandoned")
    store.save_game("g3", "someone", "heat", "k" * 64, 9, [])
    assert {x.id for x in store.list_games("learner1")} == {"g1", "g2"}
    assert [x.id for x in store.list_games("learner1", status="abandoned")] == ["g2"]
    assert store.list_games("nobody") == []
    with pytest.raises(StoreError, match="another learner"):
        store.save_game("g1", "intruder", "flood-demo", "h" * 64, 7, [])
    with pytest.raises(StoreError, match="status"):
        store.save_game("g4", "learner1", "flood-demo", "h" * 64, 7, [], status="paused")
    with pytest.raises(StoreError, match="decisions"):
        store.save_game("g4", "learner1", "flood-demo", "h" * 64, 7, "not a list")  # type: ignore[arg-type]
    run_id = store.save_run(new_run(0, decisions=moves))
    done = store.finish_game("g1", run_id)
    assert (done.status, done.run_id) == ("finished", run_id)
    assert store.load_game("g1") == done
    assert [x.id for x in store.list_games("learner1", status="finished")] == ["g1"]
    assert store.finish_game("g1", run_id).run_id == run_id  # repeating is harmless
    with pytest.raises(StoreError, match="finished"):
        store.save_game("g1", "learner1", "flood-demo", "h" * 64, 7, moves + moves)
    with pytest.raises(StoreError, match="already finished"):
        store.finish_game("g1", store.save_run(new_run(1)))
    with pytest.raises(StoreError, match="unknown game"):
        store.finish_game("nope", run_id)
    with pytest.raises(StoreError, match="unknown run"):
        store.finish_game("g2", "0" * 32)
    assert store.load_game("g2").status == "abandoned"  # type: ignore[union-attr]


def test_game_survives_reopening(db_url: str) -> None:
    with Store(db_url) as s:
        s.save_game("g", "learner1", "flood-demo", "h" * 64, 3, [{"t": 1, "actions": []}])
    with Store(db_url) as s:  # another server, after a restart
        g = s.load_game("g")
    assert g is not None and g.decisions == [{"t": 1, "actions": []}]


# ---------------------------------------------------------------- batch replications


def test_batches(store: Store) -> None:
    seed = 2**100 + 17  # SeedSequence entropy can be this large
    b = store.create_batch("b1", "s" * 64, "p" * 64, 5, seed, {"workers": 2, "note": "x"})
    assert (b.id, b.n, b.seed, b.meta) == ("b1", 5, seed, {"workers": 2, "note": "x"})
    assert store.create_batch("b1", "s" * 64, "p" * 64, 5, seed, {"note": "x", "workers": 2}) == b  # resume
    assert store.get_batch("b1") == b and store.get_batch("nope") is None
    changes: dict[str, Any]
    for changes in ({"n": 6}, {"seed": 1}, {"plan_hash": "q" * 64}, {"meta": {}}):
        args = {
            "batch_id": "b1",
            "scenario_hash": "s" * 64,
            "plan_hash": "p" * 64,
            "n": 5,
            "seed": seed,
            "meta": {"workers": 2, "note": "x"},
        } | changes
        with pytest.raises(StoreError, match="other parameters"):
            store.create_batch(**args)  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="n"):
        store.create_batch("b2", "s", "p", 0, 1, {})
    assert store.replications("b1") == []
    assert store.missing_replications("b1") == [0, 1, 2, 3, 4]

    store.put_replication("b1", 3, "done", {"loss": 1.5}, None)
    store.put_replication("b1", 0, "running", None, None)
    r = store.put_replication("b1", 1, "failed", None, "Traceback ... ZeroDivisionError")
    assert (r.status, r.attempts, r.error) == ("failed", 1, "Traceback ... ZeroDivisionError")
    assert store.missing_replications("b1") == [0, 1, 2, 4]
    for _ in range(MAX_ATTEMPTS - 1):
        r = store.put_replication("b1", 1, "failed", None, "again")
    assert r.attempts == MAX_ATTEMPTS
    assert store.missing_replications("b1") == [0, 2, 4]  # given up on 1
    assert store.missing_replications("b1", max_attempts=10) == [0, 1, 2, 4]
    store.put_replication("b1", 1, "done", {"loss": 2.0}, None)  # a late success still counts
    late = store.put_replication("b1", 3, "failed", None, "duplicate worker died")
    assert (late.status, late.result, late.attempts) == ("done", {"loss": 1.5}, 0)  # done is final
    reps = store.replications("b1")
    assert [(x.index, x.status, x.attempts) for x in reps] == [
        (0, "running", 0),
        (1, "done", 3),
        (3, "done", 0),
    ]
    assert reps[1].result == {"loss": 2.0} and reps[0].result is None
    assert store.missing_replications("b1") == [0, 2, 4]

    with pytest.raises(StoreError, match="unknown batch"):
        store.put_replication("nope", 0, "done", {}, None)
    with pytest.raises(StoreError, match="outside"):
        store.put_replication("b1", 5, "done", {}, None)
    with pytest.raises(StoreError, match="index"):
        store.put_replication("b1", -1, "done", {}, None)
    with pytest.raises(StoreError, match="status"):
        store.put_replication("b1", 2, "ok", {}, None)
    with pytest.raises(StoreError, match="unknown batch"):
        store.replications("nope")
    with pytest.raises(StoreError, match="unknown batch"):
        store.missing_replications("nope")


# ---------------------------------------------------------------- many processes, crashes


def _writer(url: str, tag: str, count: int, log_kb: int, barrier: bool = False) -> subprocess.Popen[str]:
    args = [sys.executable, str(WRITER), url, tag, str(count), str(log_kb)] + (
        ["--barrier"] if barrier else []
    )
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    return subprocess.Popen(
        args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def _acks(lines: list[str]) -> dict[str, str]:
    return {m[1]: m[2] for line in lines if (m := ACK_RE.fullmatch(line.strip()))}


def _check_complete(store: Store, acked: dict[str, str]) -> None:
    """Every acknowledged run is there in full, and no stored run is partial."""
    assert store.integrity_check()
    for run_id, digest in acked.items():
        run = store.get_run(run_id)
        assert run is not None, f"acknowledged run {run_id} lost"
        assert run.log_digest == digest
        assert hashlib.sha256(run.log_jsonl.encode()).hexdigest() == digest
    for summary in store.list_runs():
        run = store.get_run(summary.id)
        assert run is not None
        assert hashlib.sha256(run.log_jsonl.encode()).hexdigest() == run.log_digest
        assert run.scorecard["criteria"] and run.scorecard["i"] == run.seed
        assert run.scenario_yaml and run.decisions


def test_concurrent_writer_processes(db_url: str) -> None:
    """Five processes open a new database at once (racing migrations), then each save 50 runs."""
    writers, per = 5, 50
    procs = [_writer(db_url, f"p{k}", per, 4, barrier=True) for k in range(writers)]
    try:
        for p in procs:  # all have opened (and migrated) the store
            assert p.stdout is not None
            line = p.stdout.readline().strip()
            assert line == "ready", line + (p.stderr.read() if p.stderr else "")
        for p in procs:  # now they all write at once
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outputs = [p.communicate(timeout=300) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    lines = [line for out, _ in outputs for line in out.splitlines()]
    assert [line for line in lines if line.startswith("error")] == []
    assert [p.returncode for p in procs] == [0] * writers, [err for _, err in outputs]
    acked = _acks(lines)
    assert len(acked) == writers * per
    with Store(db_url) as s:
        assert s.count_runs() == writers * per
        for k in range(writers):
            assert len(s.list_runs(learner=f"w-p{k}")) == per
        _check_complete(s, acked)


def test_kill_9_loses_nothing_acknowledged(db_url: str) -> None:
    """A writer killed with SIGKILL at random moments never loses or half-writes a run."""
    rng = random.Random(20260301)
    with Store(db_url):  # create the schema first
        pass
    acked: dict[str, str] = {}
    for round_ in range(8):
        proc = _writer(db_url, f"k{round_}", 0, 300)
        lines: list[str] = []
        first = threading.Event()

        def read(
            p: subprocess.Popen[str] = proc, out: list[str] = lines, ev: threading.Event = first
        ) -> None:
            assert p.stdout is not None
            for line in p.stdout:
                out.append(line)
                ev.set()
            ev.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            assert first.wait(timeout=120), "the writer never acknowledged a run"
            time.sleep(rng.uniform(0.0, 0.4))  # let it get into the middle of some write
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        reader.join(timeout=60)
        assert proc.returncode == -signal.SIGKILL, "".join(lines) + (
            proc.stderr.read() if proc.stderr else ""
        )
        assert not [line for line in lines if line.startswith("error")], lines
        got = _acks(lines)
        assert got, lines
        acked |= got
        if proc.stderr:
            proc.stderr.close()
    with Store(db_url) as s:
        assert s.count_runs() >= len(acked)
        _check_complete(s, acked)


def test_threads_share_one_store(store: Store) -> None:
    """The app serves many sessions from threads of one process: races resolve to one winner."""
    from concurrent.futures import ThreadPoolExecutor

    store.create_batch("tb", "s", "p", 4, 1, {})

    def add(k: int) -> str:
        try:
            store.add_user("racer", f"{PW}-{k}", "learner")
            return "ok"
        except StoreError as exc:
            return str(exc)

    def work(k: int) -> str:
        store.put_replication("tb", k % 4, "failed", None, f"worker {k}")
        store.publish_scenario("pub", "s1", f"text {k % 2}\n", "lecturer1")
        return store.save_run(new_run(k))

    store.add_user("lecturer1", PW, "lecturer")
    store.add_cohort("pub")
    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(add, range(6)))
        run_ids = list(pool.map(work, range(24)))
    assert outcomes.count("ok") == 1
    assert all("already exists" in o for o in outcomes if o != "ok"), outcomes
    assert len(set(run_ids)) == 24 and store.count_runs() == 24
    assert [r.attempts for r in store.replications("tb")] == [6, 6, 6, 6]
    assert store.missing_replications("tb") == []
    assert len(store.published_scenarios("pub")) == 1
    assert store.integrity_check()


def test_public_api_is_pinned() -> None:
    """Other modules and the app call these; changing them is a decision, not an accident."""
    public = {name for name in dir(Store) if not name.startswith("_")}
    assert public == {
        "add_user", "authenticate", "get_user", "list_users", "set_language", "set_password",
        "sign_in", "throttle", "clock", "throttle_records", "is_demo_database", "mark_demo_database",
        "add_cohort", "add_member", "members", "cohorts_of", "list_cohorts",
        "publish_scenario", "published_scenarios",
        "save_run", "get_run", "list_runs", "gradebook", "count_runs", "update_scorecard", "scorecard_history",
        "add_judgement", "add_override", "judgements", "overrides",
        "keyring", "run_evidence", "resolve_run_id", "run_ids", "resign_run",
        "save_game", "load_game", "list_games", "finish_game",
        "visible_cohorts", "require_cohort_access", "may_view_run",
        "add_comment", "comments", "rate_answer", "answer_ratings", "add_plan_item", "update_plan_item", "plan_items",
        "create_batch", "get_batch", "put_replication", "replications", "missing_replications",
        "enqueue_statements", "due_statements", "mark_statements", "lrs_queue_counts",
        "migrate", "schema_revision", "alembic_config", "integrity_check", "close", "engine",
        "lti_begin_login", "lti_use_state", "lti_account", "lti_issue_ticket", "lti_redeem_ticket",
        "lti_save_line_item", "lti_line_items", "lti_mark_posted",
    }  # fmt: skip


def test_gradebook_gives_each_runs_grade_text_and_revisions_in_three_queries_without_reading_logs(
        store: Store) -> None:
    ids = [store.save_run(new_run(i, cohort="c1" if i < 4 else "c2",
                                  scenario_yaml=SCENARIO if i % 2 else "id: other\n")) for i in range(6)]
    store.update_scorecard(ids[1], {"criteria": [], "v": 2}, 70.0, True, False)
    store.update_scorecard(ids[1], {"criteria": [], "v": 3}, 75.0, True, False)
    store.update_scorecard(ids[3], {"criteria": [], "v": 2}, 10.0, False, False)
    with store.engine.begin() as conn:  # a corrupt log: a gradebook must not need it
        conn.execute(text("UPDATE runs SET log_z = :z WHERE id = :id"), {"z": b"not zlib", "id": ids[2]})
    seen = statements(store)
    book = store.gradebook("c1")
    assert len([s for s in seen if s.lstrip().upper().startswith("SELECT")]) == 3
    assert [e.summary for e in book] == store.list_runs(cohort="c1")
    by_id = {e.summary.id: e for e in book}
    assert by_id[ids[1]].scorecard == {"criteria": [], "v": 3}
    assert [e.scenario_yaml for e in book] == [SCENARIO if ids.index(e.summary.id) % 2 else "id: other\n" for e in book]
    hist = {i: tuple(h.replaced_at for h in store.scorecard_history(i)) for i in ids[:4]}
    assert {i: by_id[i].revised_at for i in ids[:4]} == hist
    assert len(hist[ids[1]]) == 2 and hist[ids[0]] == ()
    assert {e.summary.id for e in store.gradebook()} == set(ids)
    assert store.gradebook("nobody") == []


# ---------------------------------------------------------------- signing


@pytest.fixture
def no_secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SCRO_SIM_SECRET", "SCRO_SIM_SECRET_OLD", "SCRO_SIM_SECRET_FILE"):
        monkeypatch.delenv(name, raising=False)


def test_a_local_database_gets_a_secret_file_beside_it_once_mode_0600_never_inside(
        tmp_path: Path, no_secret_env: None) -> None:
    db = tmp_path / "var" / "scro_sim.sqlite"
    with Store(f"sqlite:///{db}") as s:
        run_id = s.save_run(new_run())
    secret = tmp_path / "var" / "scro_sim.sqlite.secret"
    assert secret.is_file() and secret.stat().st_mode & 0o777 == 0o600
    key = secret.read_text().strip()
    assert len(key) >= 32 and key.encode() not in db.read_bytes()
    with Store(f"sqlite:///{db}") as s:  # another process, later: the same key
        ev = s.run_evidence(run_id)
        assert ev.signature is not None and ev.signature.ok and ev.signature.current
    assert secret.read_text().strip() == key


def test_a_secret_file_names_the_current_key_then_old_ones_and_resign_moves_runs_to_the_current(
        tmp_path: Path, no_secret_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    with Store(url, keyring=Keyring(b"first-secret-0123456789")) as s:
        run_id = s.save_run(new_run())
    keys = tmp_path / "keys"
    keys.write_text("# rotated 2026-12\nsecond-secret-0123456789\nfirst-secret-0123456789\n")
    monkeypatch.setenv("SCRO_SIM_SECRET_FILE", str(keys))
    with Store(url) as s:
        check = s.run_evidence(run_id).signature
        assert check is not None and check.ok and not check.current
        assert s.resign_run(run_id) == "re-signed"
        assert s.resign_run(run_id) == "current"
    with Store(url, keyring=Keyring(b"second-secret-0123456789")) as s:  # the old key is no longer needed
        check = s.run_evidence(run_id).signature
        assert check is not None and check.ok and check.current
    with Store(url, keyring=Keyring(b"first-secret-0123456789")) as s:
        check = s.run_evidence(run_id).signature
        assert check is not None and not check.ok and "does not have" in check.problem


def test_a_short_secret_or_none_at_all_is_a_clear_error(tmp_path: Path, no_secret_env: None,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(StoreError, match="at least 16 characters"):
        Keyring.from_environment(env={"SCRO_SIM_SECRET": "short"})
    ring = Keyring.from_environment(env={})  # e.g. PostgreSQL with nothing configured
    with pytest.raises(StoreError, match="no signing secret: set SCRO_SIM_SECRET"):
        ring.sign({"id": "x"})
    monkeypatch.setenv("SCRO_SIM_SECRET_FILE", str(tmp_path / "missing"))
    with Store(f"sqlite:///{tmp_path / 'x.sqlite'}") as s, pytest.raises(StoreError, match="cannot read the signing"):
        s.save_run(new_run())


def test_a_changed_row_is_refused_a_new_rating_so_it_cannot_be_laundered(store: Store,
                                                                         people: dict[str, User]) -> None:
    run_id = store.save_run(new_run())
    store.add_judgement(run_id, "c1", "S", "fine", "assessor1")
    assert store.run_evidence(run_id).signature.ok  # type: ignore[union-attr]
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET cohort = 'elsewhere' WHERE id = :i"), {"i": run_id})
    check = store.run_evidence(run_id).signature
    assert check is not None and not check.ok and check.fields == ("cohort",)
    with pytest.raises(StoreError, match=r"does not verify.*cohort"):
        store.add_override(run_id, "c1", "P", "better", "assessor1")
    with pytest.raises(StoreError, match="does not verify"):
        store.update_scorecard(run_id, {"x": 1}, 10.0, False, False)
    assert store.overrides(run_id) == []


def test_a_damaged_column_is_named_by_get_run_and_run_evidence(store: Store) -> None:
    run_id = store.save_run(new_run())
    # PostgreSQL's json type refuses text that is not JSON: there the damage is JSON of the wrong shape
    damage, says = ("'[' ", "is not valid JSON") if store.dialect == "sqlite" else ("'\"oops\"'", "")
    with store.engine.begin() as conn:
        conn.execute(text(f"UPDATE runs SET decisions = {damage} WHERE id = :i"), {"i": run_id})
    with pytest.raises(StoreError, match=rf"runs\.decisions {says}"):
        store.get_run(run_id)
    ev = store.run_evidence(run_id)
    assert ev.run is None and any("runs.decisions" in p for p in ev.problems)
    assert [r.id for r in store.list_runs()] == [run_id]  # the list still shows it


def test_a_run_id_prefix_resolves_to_the_one_run(store: Store) -> None:
    ids = [store.save_run(new_run(i)) for i in range(20)]
    for i in ids:
        assert store.resolve_run_id(i) == i
        assert store.resolve_run_id(i[:12]) == i
    shared = max("0123456789abcdef", key=lambda c: sum(i.startswith(c) for i in ids))  # 20 ids, 16 digits
    with pytest.raises(StoreError, match=f"'{shared}' is the start of") as info:
        store.resolve_run_id(shared)
    assert all(i in str(info.value) for i in ids if i.startswith(shared))
    for bad in ("", "zz", "%", "_"):
        with pytest.raises(StoreError):
            store.resolve_run_id(bad)


def test_migration_0002_keeps_runs_and_ratings_and_leaves_old_runs_unsigned(db_url: str,
                                                                          people: dict[str, User]) -> None:
    from alembic import command

    with Store(db_url) as s:
        run_id = s.save_run(new_run())
        s.add_judgement(run_id, "c1", "S", "fine", "assessor1")
        cfg = s.alembic_config()
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        assert s.schema_revision() == "0001"
        s.migrate()
        ev = s.run_evidence(run_id)
        assert ev.run is not None and [j.rating for j in ev.judgements] == ["S"]
        assert ev.signature is not None and ev.signature.problem.startswith("signature missing")
        assert s.resign_run(run_id, unsigned_digest=ev.signed_digest) == "signed"
        assert s.run_evidence(run_id).signature.ok  # type: ignore[union-attr]


def test_verifying_a_run_stored_when_cities_were_named_by_their_model_says_so(
        store: Store, mini_scenario_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Engine 0.3.0 named every city by its model's hash; such a run is not verified, and the report says why."""
    from scro_sim.assessment import record_run, verify_run
    from scro_sim.scenario import load_scenario

    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(mini_scenario_path.parent))
    sc, city = load_scenario(mini_scenario_path)
    run_id, _ = record_run(store, sc, city, 3, [], learner="learner")
    assert verify_run(store, run_id).verified
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET city_hash = :h, engine_version = '0.3.0' WHERE id = :i"),
                     {"h": city.model_hash(), "i": run_id})
    report = verify_run(store, run_id)
    assert not report.verified
    assert any(d.startswith("city named the old way") and city.model_hash()[:12] in d for d in report.differences)
    assert any(d.startswith("engine version differs") for d in report.differences)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET city_hash = :h WHERE id = :i"), {"h": "e" * 64, "i": run_id})
    assert any(d.startswith("city file changed") for d in verify_run(store, run_id).differences)


# ---------------------------------------------------------------- origins and practice games


def test_a_run_keeps_its_origin_and_only_played_and_plan_runs_reach_the_gradebook(store: Store) -> None:
    ids = {o: store.save_run(new_run(i, origin=o, cohort="c1"))
           for i, o in enumerate(("played", "plan", "practice", "reference", "baseline", "cli"))}
    assert {r.id: r.origin for r in store.list_runs()} == {v: k for k, v in ids.items()}
    assert store.get_run(ids["reference"]).origin == "reference"  # type: ignore[union-attr]
    assert {e.summary.id for e in store.gradebook("c1")} == {ids["played"], ids["plan"]}
    assert {e.summary.id for e in store.gradebook("c1", origins=("baseline",))} == {ids["baseline"]}
    assert [r.id for r in store.list_runs(origins=("practice",))] == [ids["practice"]]
    assert all(store.run_evidence(i).signature.ok for i in ids.values())  # type: ignore[union-attr]


@pytest.mark.parametrize("origin", ["legacy", "expert", "", None])
def test_a_new_run_with_an_unknown_or_legacy_origin_is_refused(store: Store, origin: object) -> None:
    with pytest.raises(StoreError, match="origin"):
        store.save_run(new_run(origin=origin))
    assert store.list_runs() == []


def test_a_practice_games_run_is_practice_and_a_graded_games_run_is_played(store: Store) -> None:
    practice = store.save_game("gp", "learner1", "flood-demo", "h" * 64, 7, [], practice=True)
    graded = store.save_game("gg", "learner1", "flood-demo", "h" * 64, 7, [])
    assert (practice.practice, graded.practice) == (True, False)
    assert store.load_game("gp").practice  # type: ignore[union-attr]
    assert store.save_game("gp", "learner1", "flood-demo", "h" * 64, 7, [{"point": 0}]).practice  # stays practice
    with pytest.raises(StoreError, match="a practice game: its run cannot have origin 'played'"):
        store.save_run(new_run(game_id="gp", decisions=[{"point": 0}], origin="played"))
    with pytest.raises(StoreError, match="graded: its run cannot have origin 'practice'"):
        store.save_run(new_run(game_id="gg", decisions=[], origin="practice"))
    run_id = store.save_run(new_run(game_id="gp", decisions=[{"point": 0}], origin="practice"))
    assert store.get_run(run_id).origin == "practice"  # type: ignore[union-attr]
    assert store.gradebook() == []
    with pytest.raises(StoreError, match="practice"):
        store.save_game("gx", "learner1", "flood-demo", "h" * 64, 7, [], practice="yes")  # type: ignore[arg-type]


def _sign_in_layout_1(store: Store, run_id: str) -> None:
    """Sign the run as the store did at revision 0004, before runs recorded their origin."""
    with store._read() as s:
        _, signed, _ = store._read_run(s, run_id, with_log=False)
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE runs SET signature = :s WHERE id = :i"),
                     {"s": store.keyring.sign(signed, layout=1), "i": run_id})


def test_migration_0005_gives_game_runs_played_and_every_other_old_run_legacy(db_url: str) -> None:
    from alembic import command

    with Store(db_url) as s:
        s.save_game("g-own", "learner1", "flood-demo", "h" * 64, 7, [])
        by_own_link = s.save_run(new_run(0, game_id="g-own", decisions=[], origin="played"))
        by_game_link = s.save_run(new_run(1))
        s.save_game("g-old", "learner1", "flood-demo", "h" * 64, 7, [])
        s.finish_game("g-old", by_game_link)  # linked from the games table only
        expert = s.save_run(new_run(2, learner="learner2", origin="reference"))
        judged = s.save_run(new_run(3, origin="plan"))
        s.add_user("assessor1", PW, "assessor")
        s.add_judgement(judged, "c1", "S", "fine", "assessor1")
        for run_id in (by_own_link, by_game_link, expert, judged):
            _sign_in_layout_1(s, run_id)
        cfg = s.alembic_config()
        with s.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
        assert s.schema_revision() == "0004"
        with s.engine.connect() as conn:
            assert "origin" not in {c["name"] for c in sa_inspect(conn).get_columns("runs")}
        s.migrate()
        assert s.schema_revision() == _head(s)
        origins = {r.id: r.origin for r in s.list_runs()}
        assert origins == {by_own_link: "played", by_game_link: "played", expert: "legacy", judged: "legacy"}
        assert not s.load_game("g-old").practice  # type: ignore[union-attr]
        for run_id in origins:  # the old signatures still hold: the origin is the migrated one
            check = s.run_evidence(run_id).signature
            assert check is not None and check.ok and check.layout == 1, (run_id, check)
        assert {e.summary.id for e in s.gradebook()} == {by_own_link, by_game_link}
        with s.engine.begin() as conn:  # an expert run relabelled as played is caught
            conn.execute(text("UPDATE runs SET origin = 'played' WHERE id = :i"), {"i": expert})
        check = s.run_evidence(expert).signature
        assert check is not None and not check.ok and check.fields == ("origin",)
        with pytest.raises(StoreError, match="does not verify"):
            s.add_judgement(expert, "c1", "P", "", "assessor1")
        assert s.resign_run(judged) == "re-signed"  # moved to a signature that covers the origin
        assert s.run_evidence(judged).signature.layout == 2  # type: ignore[union-attr]
