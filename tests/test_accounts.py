"""Accounts and personal data: the demo database, first accounts, password strength, sign-in
throttling, outages, and a learner's data exported, erased and pseudonymised (issue 12, section 5)."""

from __future__ import annotations

import io
import json
import logging
import os
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pgkit import private_schema
from sqlalchemy import text

from scro_sim.cli import main
from scro_sim.demo import DEMO_USERS, demo_wanted, seed_demo
from scro_sim.errors import StoreError
from scro_sim.store import Store, metadata
from scro_sim.store.passwords import check_password_strength
from scro_sim.store.throttle import ThrottlePolicy, client_address

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
PW = "plover-basalt-quiver-88"


class Clock:
    """A clock the test moves by hand: throttling is tested without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


PG_URL = os.environ.get("SCRO_SIM_TEST_PG")


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh database: a SQLite file, or a private schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'accounts.sqlite'}"
        return
    if not PG_URL:
        pytest.skip("no PostgreSQL server: set SCRO_SIM_TEST_PG")
    monkeypatch.setenv("SCRO_SIM_SECRET", "postgresql-test-secret-0123456789")  # a server has no default file
    with private_schema(PG_URL) as url:
        yield url


@pytest.fixture
def store(db: str) -> Iterator[Store]:
    with Store(db) as s:
        yield s


@pytest.fixture
def clock(store: Store) -> Clock:
    c = Clock()
    store.clock = c  # type: ignore[method-assign]
    return c


# ---------------------------------------------------------------- the demo database


def test_demo_marks_a_new_database_and_is_idempotent(store: Store) -> None:
    assert not store.is_demo_database()
    done = seed_demo(store)
    assert store.is_demo_database()
    assert any("lecturer / lecturer-demo" in line for line in done)
    assert seed_demo(store) == ["demo accounts already present"]
    assert store.authenticate("lecturer", "lecturer-demo") is not None


def test_demo_refuses_a_database_with_real_users(db: str, store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    store.add_user("maria", PW, "lecturer")
    with pytest.raises(StoreError, match="refusing to add the public demo accounts"):
        seed_demo(store)
    assert main(["--db", db, "demo"]) == 1
    assert "refusing to add the public demo accounts" in capsys.readouterr().err
    assert store.get_user("lecturer") is None and not store.is_demo_database()


def test_demo_refuses_a_database_not_made_for_the_demo_even_without_users(store: Store) -> None:
    store.add_cohort("course-2026")
    with pytest.raises(StoreError, match="not made by `scro-sim demo`"):
        seed_demo(store)
    assert store.list_users() == []


def test_a_demo_database_made_before_the_mark_is_recognised_by_its_demo_accounts(store: Store) -> None:
    store.mark_demo_database()
    seed_demo(store)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM settings")
    assert not store.is_demo_database()
    seed_demo(store)  # every account is a demo account with its demo password: still a demo database
    assert store.is_demo_database()


def test_demo_accounts_are_refused_outside_a_demo_database(store: Store) -> None:
    with pytest.raises(StoreError, match="demo accounts only go into a database made by"):
        store.add_user("lecturer", "lecturer-demo", "lecturer", demo_account=True)
    with pytest.raises(StoreError, match="password: too weak"):
        store.add_user("lecturer", "lecturer-demo", "lecturer")


def test_real_accounts_in_a_demo_database_still_need_a_strong_password(store: Store) -> None:
    seed_demo(store)
    with pytest.raises(StoreError, match="password"):
        store.add_user("maria", "maria-demo", "learner")


def test_make_run_does_not_seed_a_database_named_by_scro_sim_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    named = f"sqlite:///{tmp_path / 'production.sqlite'}"
    monkeypatch.setenv("SCRO_SIM_DB", named)
    monkeypatch.delenv("SCRO_SIM_DEMO", raising=False)
    assert main(["demo", "--auto"]) == 0  # the command `make run` runs
    assert "no demo accounts" in capsys.readouterr().out
    with Store(named) as s:
        assert s.list_users() == [] and not s.is_demo_database()
    monkeypatch.setenv("SCRO_SIM_DEMO", "1")  # asked for explicitly: seeded
    assert main(["demo", "--auto"]) == 0
    with Store(named) as s:
        assert {u.username for u in s.list_users()} == {name for name, *_ in DEMO_USERS}
    assert "demo --auto" in (ROOT / "Makefile").read_text(encoding="utf-8")


def test_demo_wanted_only_for_the_default_database_or_when_asked() -> None:
    assert demo_wanted({}, None)[0]
    assert demo_wanted({"SCRO_SIM_DB": "var/scro_sim.sqlite"}, None)[0]
    assert not demo_wanted({"SCRO_SIM_DB": "postgresql+psycopg://u@db/scro"}, None)[0]
    assert not demo_wanted({}, "sqlite:///elsewhere.sqlite")[0]
    assert demo_wanted({"SCRO_SIM_DB": "postgresql+psycopg://u@db/scro", "SCRO_SIM_DEMO": "1"}, None)[0]


def test_make_run_still_starts_when_the_default_database_is_refused(db: str, store: Store,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    store.add_user("maria", PW, "lecturer")
    assert main(["--db", db, "demo", "--auto"]) == 0  # --db names it: not seeded, no error
    assert store.get_user("lecturer") is None


# ---------------------------------------------------------------- the first real account


def test_user_add_asks_for_the_password_twice(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCRO_SIM_PASSWORD", raising=False)
    asked: list[str] = []

    def fake(prompt: str = "") -> str:
        asked.append(prompt)
        return PW

    monkeypatch.setattr("getpass.getpass", fake)
    assert main(["--db", db, "user", "add", "maria", "--role", "lecturer"]) == 0
    assert len(asked) == 2
    with Store(db) as s:
        assert s.authenticate("maria", PW) is not None


def test_user_add_refuses_two_different_passwords(db: str, monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SCRO_SIM_PASSWORD", raising=False)
    answers = iter([PW, PW + "x"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["--db", db, "user", "add", "maria", "--role", "lecturer"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err
    with Store(db) as s:
        assert s.get_user("maria") is None


def test_user_add_refuses_a_weak_password_before_asking_again(db: str, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("SCRO_SIM_PASSWORD", raising=False)
    asked: list[str] = []
    monkeypatch.setattr("getpass.getpass", lambda prompt="": asked.append(prompt) or "password1234")
    assert main(["--db", db, "user", "add", "maria", "--role", "lecturer"]) == 1
    assert len(asked) == 1 and "password: too weak" in capsys.readouterr().err


def test_user_add_reads_the_password_from_stdin(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(PW + "\n"))
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    assert main(["--db", db, "user", "add", "admin1", "--role", "admin", "--password-stdin"]) == 0
    with Store(db) as s:
        assert s.authenticate("admin1", PW) is not None
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert main(["--db", db, "user", "add", "admin2", "--role", "admin", "--password-stdin"]) == 1


# ---------------------------------------------------------------- password strength


@pytest.mark.parametrize(("password", "why"), [
    ("short-pw", "too short"),
    ("password1234", "too weak"),
    ("qwertyuiop12", "too weak"),
    ("aaaaaaaaaaaaaa", "too weak"),
    ("mariakonstantinou1", "too weak"),  # built from the account's own name
    ("riverton2026!", "too weak"),
    ("Konstantinou-Maria-12", "own name"),
    ("x" * 129, "too long"),
])
def test_weak_passwords_are_refused(store: Store, password: str, why: str) -> None:
    with pytest.raises(StoreError, match=why):
        check_password_strength(password, user_inputs=("maria.konstantinou", "Maria Konstantinou", None))
    with pytest.raises(StoreError, match=why):
        store.add_user("maria.konstantinou", password, "learner", display_name="Maria Konstantinou")
    assert store.get_user("maria.konstantinou") is None


def test_set_password_refuses_a_weak_one(store: Store) -> None:
    store.add_user("maria", PW, "learner")
    with pytest.raises(StoreError, match="too weak"):
        store.set_password("maria", "password1234")
    assert store.authenticate("maria", PW) is not None


# ---------------------------------------------------------------- sign-in throttling


def test_failures_make_the_next_attempt_wait_longer_then_lock_and_unlock(store: Store, clock: Clock) -> None:
    store.add_user("maria", PW, "learner")
    for _ in range(2):  # the first failures cost nothing
        assert store.sign_in("maria", "wrong", "10.0.0.1").status == "wrong"
    assert store.sign_in("maria", "wrong", "10.0.0.1").status == "wrong"  # 3rd: 2 s to wait
    r = store.sign_in("maria", PW, "10.0.0.1")
    assert (r.status, r.retry_after_s) == ("throttled", 2)  # even the right password waits
    clock.advance(2)
    assert store.sign_in("maria", "wrong", "10.0.0.1").status == "wrong"  # 4th: 4 s
    assert store.sign_in("maria", "wrong", "10.0.0.1").retry_after_s == 4
    clock.advance(4)
    assert store.sign_in("maria", "wrong", "10.0.0.1").status == "wrong"  # 5th: locked 15 min
    locked = store.sign_in("maria", PW, "10.0.0.2")  # from anywhere
    assert locked.status == "throttled" and locked.retry_after_s == 15 * 60
    clock.advance(15 * 60 - 1)
    assert store.sign_in("maria", PW, "10.0.0.2").status == "throttled"
    clock.advance(1)
    ok = store.sign_in("maria", PW, "10.0.0.2")
    assert ok.status == "ok" and ok.user is not None and ok.user.username == "maria"
    assert store.throttle_records("maria") == []  # a success forgets the account's failures


def test_unknown_accounts_are_throttled_like_known_ones(store: Store, clock: Clock) -> None:
    for _ in range(5):
        clock.advance(60)
        assert store.sign_in("nobody", "guess").status == "wrong"
    assert store.sign_in("nobody", "guess").status == "throttled"


def test_failures_are_forgotten_after_the_window(store: Store, clock: Clock) -> None:
    store.add_user("maria", PW, "learner")
    for _ in range(3):
        store.sign_in("maria", "wrong")
    clock.advance(15 * 60 + 1)
    for _ in range(2):  # a fresh count: no delay
        assert store.sign_in("maria", "wrong").status == "wrong"
    assert store.sign_in("maria", PW).status == "ok"


def test_one_client_guessing_many_accounts_is_locked(store: Store, clock: Clock) -> None:
    store.add_user("maria", PW, "learner")
    policy = ThrottlePolicy()
    for i in range(policy.client_max_failures):
        clock.advance(policy.max_delay_s)  # waits out each delay: only the count stops it
        assert store.sign_in(f"victim{i}", "guess", "203.0.113.9").status == "wrong"
    assert store.sign_in("maria", PW, "203.0.113.9").status == "throttled"
    assert store.sign_in("maria", PW, "198.51.100.7").status == "ok"  # another client is not


def test_a_successful_sign_in_is_not_counted_against_its_client(store: Store, clock: Clock) -> None:
    store.add_user("maria", PW, "learner")
    for _ in range(40):  # a classroom behind one address signing in all morning
        assert store.sign_in("maria", PW, "192.0.2.1").status == "ok"
        clock.advance(1)


def test_the_throttle_is_shared_by_every_app_server(db: str, store: Store, clock: Clock) -> None:
    store.add_user("maria", PW, "learner")
    for i in range(5):
        clock.advance(60)
        assert store.sign_in("maria", "wrong", f"10.0.0.{i}").status == "wrong"
    with Store(db) as other:
        other.clock = clock  # type: ignore[method-assign]
        assert other.sign_in("maria", PW, "10.9.9.9").status == "throttled"


def test_parallel_guesses_cannot_slip_past_the_count(store: Store, clock: Clock) -> None:
    """Each attempt is counted before its password is checked, so a burst gets no more tries than a queue."""
    from concurrent.futures import ThreadPoolExecutor

    store.add_user("maria", PW, "learner")
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda k: store.sign_in("maria", f"guess-{k}").status, range(16)))
    # the third failure makes the next attempt wait: at one instant only three guesses are checked
    assert sorted(results) == ["throttled"] * 13 + ["wrong"] * 3


def test_failures_are_logged_without_the_password(store: Store, clock: Clock, caplog: pytest.LogCaptureFixture) -> None:
    store.add_user("maria", PW, "learner")
    with caplog.at_level(logging.WARNING, logger="scro_sim.auth"):
        for _ in range(5):
            clock.advance(60)
            store.sign_in("maria", "s3cret-guess-xyz", "10.1.2.3")
    text = caplog.text
    assert "sign-in failed for 'maria' from 10.1.2.3" in text
    assert "account 'maria' locked until" in text
    assert "s3cret-guess-xyz" not in text


def test_client_address_trusts_only_the_proxies_it_is_told_of() -> None:
    assert client_address({}, "192.0.2.7") == "192.0.2.7"
    forged = {"X-Forwarded-For": "10.6.6.6, 198.51.100.20"}
    assert client_address(forged, "127.0.0.1") == "127.0.0.1"  # no proxy configured: the header is ignored
    assert client_address(forged, "127.0.0.1", proxies=1) == "198.51.100.20"  # what our proxy saw
    assert client_address({"x-forwarded-for": "2001:db8::1"}, "127.0.0.1", proxies=1) == "2001:db8::1"
    assert client_address({"X-Forwarded-For": "not-an-ip"}, "127.0.0.1", proxies=1) is None
    assert client_address(None, None) is None


# ---------------------------------------------------------------- database outage


def unreachable_store() -> Store:
    pytest.importorskip("psycopg")
    # nothing listens on port 1: the connection is refused at once
    return Store("postgresql+psycopg://scro:pw@127.0.0.1:1/scro?connect_timeout=2", migrate=False)


def test_sign_in_during_an_outage_says_unavailable_not_wrong_password() -> None:
    s = unreachable_store()
    result = s.sign_in("maria", PW, "10.0.0.1")
    assert result.status == "unavailable" and result.user is None
    with pytest.raises(StoreError, match="unavailable"):
        s.authenticate("maria", PW)


# ---------------------------------------------------------------- a learner's data: export, erase, pseudonymise


RATIONALE = "Maria thinks the bridge at Kato Poli floods first"
ANSWER = "Mum works at the hospital, so power there first"
MESSAGE = "Leave Kato Poli now, signed Maria Konstantinou"
COMMENT = "Maria argued well but late"


def _mini() -> tuple[Any, Any]:
    from scro_sim.scenario import load_scenario

    text = (DATA / "mini_scenario.yaml").read_text(encoding="utf-8")
    return load_scenario("mini.yaml", text=text)  # its city is found through SCRO_SIM_CITY_PATH (below)


@pytest.fixture(autouse=True)
def _cities_in_test_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """The mini scenario names ``mini_city.yaml``: publish tests/data as a city-model folder."""
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))


def _decisions(sc: Any, city: Any) -> list[dict[str, Any]]:
    from scro_sim.engine import Simulation
    from scro_sim.policy import Decision
    from scro_sim.scenario import Action

    sim = Simulation(sc, city, 3)
    points = 0
    while not sim.done:
        obs = sim.advance()
        if obs.done:
            break
        if points < 2:
            sim.apply(Decision([Action(action="warn_public", target="all", message=MESSAGE)] if points == 0 else [],
                               rationale=RATIONALE, answers={"Q1": ANSWER}))
            points += 1
    return sim.decisions


@pytest.fixture
def course(store: Store) -> dict[str, Any]:
    """A cohort with Maria (who played, was judged and has a game in progress) and Nikos (who played)."""
    from scro_sim.assessment import judge, record_run

    store.add_cohort("c1", "Course 2026")
    store.add_user("maria", PW, "learner", display_name="Maria Konstantinou", email="maria.k@uni.example")
    store.add_user("nikos", PW, "learner", display_name="Nikos Papadopoulos", email="nikos.p@uni.example")
    store.add_user("assessor1", PW, "assessor")
    for name in ("maria", "nikos"):
        store.add_member("c1", name)
    sc, city = _mini()
    decisions = _decisions(sc, city)
    maria_run, _ = record_run(store, sc, city, 3, decisions, learner="maria", cohort="c1")
    nikos_run, _ = record_run(store, sc, city, 3, [], learner="nikos", cohort="c1")
    judge(store, maria_run, "C3", "S", COMMENT, "assessor1")
    store.save_game("g-maria", "maria", sc.id, "h", 3, decisions[:1])
    clock = Clock()
    store.clock = clock  # type: ignore[method-assign]
    store.sign_in("maria", "wrong-guess")
    return {"maria_run": maria_run, "nikos_run": nikos_run}


def dump(store: Store) -> str:
    """Every value in every table of the database, logs decompressed, as one text."""
    parts: list[str] = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                parts.append(repr(tuple(row)))
        parts += [zlib.decompress(z).decode("utf-8") for (z,) in conn.execute(text("SELECT log_z FROM runs"))]
    return "\n".join(parts)


def test_export_holds_everything_about_the_learner(db: str, store: Store, course: dict[str, Any],
                                                   tmp_path: Path) -> None:
    out = tmp_path / "maria.json"
    assert main(["--db", db, "user", "export", "maria", "--out", str(out)]) == 0
    assert out.stat().st_mode & 0o077 == 0  # personal data: readable by its owner only
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["account"]["email"] == "maria.k@uni.example"
    assert data["account"]["display_name"] == "Maria Konstantinou"
    assert "password_hash" not in json.dumps(data) and "scrypt$" not in json.dumps(data)
    assert [c["cohort"] for c in data["cohorts"]] == ["c1"]
    assert [r["id"] for r in data["runs"]] == [course["maria_run"]]
    run = data["runs"][0]
    assert run["decisions"][0]["rationale"] == RATIONALE
    assert run["decisions"][0]["answers"] == {"Q1": ANSWER}
    assert run["decisions"][0]["actions"][0]["message"] == MESSAGE
    assert [(r["criterion_id"], r["rating"], r["comment"]) for r in data["ratings_of_runs"]] == [("C3", "S", COMMENT)]
    assert [g["id"] for g in data["games"]] == ["g-maria"]
    assert data["sign_in_throttle"][0]["failures"] == 1
    assert course["nikos_run"] not in json.dumps(data)


def test_erase_leaves_no_personal_data_and_keeps_the_runs_in_cohort_statistics(
        db: str, store: Store, course: dict[str, Any], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.assessment import grade_rows, verify_run

    before = dump(store)
    for secret in ("maria", "Maria Konstantinou", "maria.k@uni.example", RATIONALE, ANSWER, MESSAGE, COMMENT):
        assert secret in before  # the check below would find them
    totals = sorted(r.total for r in store.list_runs(cohort="c1"))
    monkeypatch.setattr("builtins.input", lambda prompt="": "no")
    assert main(["--db", db, "user", "erase", "maria"]) == 1  # not confirmed: nothing happens
    assert store.get_user("maria") is not None
    assert main(["--db", db, "user", "erase", "maria", "--yes"]) == 0
    assert "1 runs kept as erased-" in capsys.readouterr().out
    after = dump(store)
    for secret in ("maria", "Maria", "Konstantinou", "maria.k@", RATIONALE, ANSWER, MESSAGE, COMMENT):
        assert secret not in after, secret
    if store.dialect == "sqlite":  # deleted rows are overwritten in the file, not just unlinked
        raw = Path(db[len("sqlite:///"):]).read_bytes()
        assert b"maria.k@uni.example" not in raw and b"Konstantinou" not in raw
    # the cohort's statistics still count the run, under a pseudonym; nikos is untouched
    runs = store.list_runs(cohort="c1")
    assert sorted(r.total for r in runs) == totals
    assert sorted(r.learner for r in runs)[0].startswith("erased-") and {r.learner for r in runs} >= {"nikos"}
    assert len(grade_rows(store, "c1")) == 2
    assert [u.username for u in store.members("c1")] == ["nikos"]
    assert store.list_games("maria") == [] and store.throttle_records("maria") == []
    # the pseudonymised run still verifies by re-simulation
    report = verify_run(store, course["maria_run"])
    assert report.verified, report.differences
    assert verify_run(store, course["nikos_run"]).verified
    assert store.get_user("maria") is None
    assert main(["--db", db, "user", "export", "maria"]) == 1  # nothing is held about her any more


def test_erasing_a_staff_member_anonymises_the_account_their_ratings_point_at(store: Store,
                                                                             course: dict[str, Any]) -> None:
    from scro_sim.privacy import erase_person

    done = erase_person(store, "assessor1")
    assert done.account == "anonymised" and done.runs == 0
    assert store.get_user("assessor1") is None
    assert store.judgements(course["maria_run"])[0].assessor == done.pseudonym


def test_erasing_an_unknown_person_is_refused(store: Store) -> None:
    from scro_sim.privacy import erase_person

    with pytest.raises(StoreError, match="unknown user"):
        erase_person(store, "nobody")


def test_pseudonymised_export_has_no_names(db: str, store: Store, course: dict[str, Any], tmp_path: Path) -> None:
    for fmt in ("moodle", "openedx-sheet", "xapi"):
        out = tmp_path / f"grades.{fmt}"
        assert main(["--db", db, "export", "--cohort", "c1", "--format", fmt, "--pseudonymise", "--out", str(out)]) == 0
        text = out.read_text(encoding="utf-8")
        for secret in ("maria", "nikos", "Maria", "Nikos", "uni.example"):
            assert secret not in text, (fmt, secret)
        assert text.count("p-") >= 2


def test_pseudonyms_are_keyed_and_stable_within_an_export() -> None:
    from scro_sim.lms import GradeRow, pseudonymise

    when = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [GradeRow("maria", "m@x.org", "Maria", f"s{i}", "S", f"r{i}", 50.0, False, False, when, when)
            for i in range(3)] + [GradeRow("nikos", None, None, "s0", "S", "r9", 70.0, True, False, when, when)]
    a = pseudonymise(rows, b"k" * 32)
    assert len({r.username for r in a[:3]}) == 1 and a[0].username != a[3].username
    assert all(r.email is None and r.display_name is None for r in a)
    assert pseudonymise(rows, b"j" * 32)[0].username != a[0].username  # another key, another pseudonym
    with pytest.raises(ValueError, match="16 random bytes"):
        pseudonymise(rows, b"short")
