"""Statements reach a real Learning Record Store (Ralph, started here on loopback) through the durable queue.

Ralph runs from its own virtual environment (``.ci/install_ralph.sh``; ``$SCRO_SIM_TEST_RALPH`` names
its Python) with its file-system backend, so the statements it accepted can be read back from its file.
That backend (ralph-malph 5.1) writes its file once and refuses later writes with HTTP 500, so every
test starts its own Ralph; a statement it already holds is answered without a write.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from serverkit import free_port, listening

from scro_sim.cli import main
from scro_sim.errors import ScroSimError
from scro_sim.lms import GradeRow, OutcomeEvidence, xapi_statements
from scro_sim.lrs import LrsAuthError, flush, lrs_settings, push
from scro_sim.store import Store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
USER, PASSWORD = "scro", "a long LRS password"


def _ralph_python() -> str | None:
    given = os.environ.get("SCRO_SIM_TEST_RALPH") or str(
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "scro_sim" / "ralph-venv" / "bin" / "python")
    if not Path(given).is_file():
        return None
    probe = subprocess.run([given, "-c", "import ralph.api, uvicorn, bcrypt"], capture_output=True, timeout=120,
                           env={**os.environ, "RALPH_RUNSERVER_BACKEND": "fs"})
    return given if probe.returncode == 0 else None


@pytest.fixture
def ralph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """Ralph's xAPI base URL and the file its file-system backend writes statements to."""
    python = _ralph_python()
    if python is None:
        pytest.skip("Ralph is not installed: run .ci/install_ralph.sh (or set SCRO_SIM_TEST_RALPH to its Python)")
    folder = tmp_path_factory.mktemp("ralph")
    hashed = subprocess.run([python, "-c", "import bcrypt, sys; print(bcrypt.hashpw(sys.argv[1].encode(), "
                             "bcrypt.gensalt(4)).decode())", PASSWORD], capture_output=True, text=True, check=True)
    (folder / "auth.json").write_text(json.dumps([{"username": USER, "hash": hashed.stdout.strip(), "scopes": ["all"],
                                                   "agent": {"mbox": "mailto:scro@example.org"}}]))
    port = free_port()
    env = {**os.environ, "RALPH_RUNSERVER_BACKEND": "fs", "RALPH_AUTH_FILE": str(folder / "auth.json"),
           "RALPH_BACKENDS__LRS__FS__DEFAULT_DIRECTORY_PATH": str(folder), "RALPH_APP_DIR": str(folder / "app")}
    proc = subprocess.Popen([python, "-m", "uvicorn", "ralph.api:app", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=folder)
    try:
        for _ in range(600):  # Ralph starts in a few seconds; at most a minute
            if listening(port) or proc.poll() is not None:
                break
            time.sleep(0.1)
        if not listening(port):
            err = proc.stderr.read().decode()[-500:] if proc.poll() is not None and proc.stderr else ""
            pytest.fail(f"Ralph did not start on port {port}: {err}")
        yield f"http://127.0.0.1:{port}/xAPI", folder / "fs_lrs.jsonl"
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def row(**changes: object) -> GradeRow:
    fields: dict[str, object] = {
        "username": "maria", "email": None, "display_name": "Maria", "scenario_id": "riverton_flood",
        "scenario_title": "Riverton flood", "run_id": "r1", "score": 80.0, "passed": True, "provisional": False,
        "started_at": T0, "finished_at": T0 + timedelta(minutes=40), "modules": ("M14",),
        "outcomes": (OutcomeEvidence("M14", "LO1", "S", ("CR_a",)), OutcomeEvidence("M14", "LO2", "U", ("CR_b",))),
    }
    fields.update(changes)
    return GradeRow(**fields)  # type: ignore[arg-type]


def held(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_statements_reach_ralph_once_however_often_they_are_pushed(ralph: tuple[str, Path], tmp_path: Path) -> None:
    endpoint, stored = ralph
    settings = lrs_settings(endpoint, USER, env={"SCRO_SIM_LRS_PASSWORD": PASSWORD})
    statements = xapi_statements([row(), row(run_id="r2", username="nikos")])
    with Store(f"sqlite:///{tmp_path / 'q.sqlite'}") as store:
        before = len(held(stored))
        first = push(store, statements, settings)
        assert (first.queued, first.sent, first.pending, first.rejected) == (6, 6, 0, 0)
        assert len(held(stored)) == before + 6
        again = push(store, statements, settings)  # queued before: not queued, not sent again
        assert (again.queued, again.sent) == (0, 0)
    with Store(f"sqlite:///{tmp_path / 'other.sqlite'}") as store:  # another queue sends the same ids
        third = push(store, statements, settings)
        assert third.sent == 6 and third.conflicts == 0  # the LRS answers 204 to a statement it holds unchanged
    assert len(held(stored)) == before + 6
    ids = {s["id"] for s in held(stored)}
    assert {s["id"] for s in statements} <= ids


def test_a_statement_changed_under_its_id_is_a_conflict_not_a_duplicate(ralph: tuple[str, Path],
                                                                        tmp_path: Path) -> None:
    endpoint, _ = ralph
    settings = lrs_settings(endpoint, USER, env={"SCRO_SIM_LRS_PASSWORD": PASSWORD})
    (statement, *_) = xapi_statements([row(run_id="r-conflict")])
    with Store(f"sqlite:///{tmp_path / 'q.sqlite'}") as store:
        assert push(store, [statement], settings).sent == 1
    changed = {**statement, "actor": {**statement["actor"], "name": "Maria P."}}
    with Store(f"sqlite:///{tmp_path / 'q2.sqlite'}") as store:
        report = push(store, [changed], settings)
        assert (report.sent, report.conflicts, report.pending) == (1, 1, 0)


def test_wrong_credentials_are_a_clear_error_and_nothing_is_lost(ralph: tuple[str, Path], tmp_path: Path) -> None:
    endpoint, _ = ralph
    wrong = lrs_settings(endpoint, USER, env={"SCRO_SIM_LRS_PASSWORD": "not it"})
    with Store(f"sqlite:///{tmp_path / 'q.sqlite'}") as store:
        with pytest.raises(LrsAuthError, match=r"refused the credentials of 'scro' \(HTTP 401\)"):
            push(store, xapi_statements([row(run_id="r-auth")]), wrong)
        assert store.lrs_queue_counts()["pending"] == 3
        right = lrs_settings(endpoint, USER, env={"SCRO_SIM_LRS_PASSWORD": PASSWORD})
        assert flush(store, right).sent == 3


def test_a_statement_the_lrs_refuses_is_rejected_and_the_rest_go_on(ralph: tuple[str, Path], tmp_path: Path) -> None:
    endpoint, _ = ralph
    settings = lrs_settings(endpoint, USER, env={"SCRO_SIM_LRS_PASSWORD": PASSWORD})
    good = xapi_statements([row(run_id="r-good", outcomes=())])
    bad = {key: value for key, value in good[0].items() if key != "actor"} | {"id": "00000000-0000-4000-8000-0000000000aa"}
    with Store(f"sqlite:///{tmp_path / 'q.sqlite'}") as store:
        report = push(store, [bad, *good], settings)
        assert (report.sent, report.rejected, report.pending) == (1, 1, 0)
        assert store.lrs_queue_counts() == {"pending": 0, "sent": 1, "rejected": 1}


def test_an_lrs_that_is_down_leaves_statements_queued_with_backoff(tmp_path: Path) -> None:
    down = lrs_settings(f"http://127.0.0.1:{free_port()}/xAPI", USER, env={"SCRO_SIM_LRS_PASSWORD": PASSWORD},
                        timeout=2)
    with Store(f"sqlite:///{tmp_path / 'q.sqlite'}") as store:
        report = push(store, xapi_statements([row()]), down, now=T0)
        assert (report.sent, report.pending) == (0, 3) and "no answer" in (report.error or "")
        assert flush(store, down, now=T0 + timedelta(seconds=30)).sent == 0  # not due yet: nothing tried
        assert store.due_statements(T0 + timedelta(seconds=30)) == []
        (item, *_) = store.due_statements(T0 + timedelta(minutes=1))
        assert item.attempts == 1 and "no answer" in (item.last_error or "")
        flush(store, down, now=T0 + timedelta(minutes=1))
        assert store.due_statements(T0 + timedelta(minutes=2, seconds=59)) == []  # the wait doubled
        assert len(store.due_statements(T0 + timedelta(minutes=3))) == 3


def test_scro_sim_lrs_push_then_retry_from_the_command_line(ralph: tuple[str, Path], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    endpoint, stored = ralph
    db = f"sqlite:///{tmp_path / 'course.sqlite'}"
    scenario = str(Path(__file__).parent.parent / "scenarios" / "riverton_flood.yaml")
    assert main(["--db", db, "demo"]) == 0
    assert main(["--db", db, "run", scenario, "--plan", "riverton_cautious", "--origin", "plan", "--seed", "2",
                 "--store", "--learner", "learner", "--cohort", "demo-cohort"]) == 0
    monkeypatch.setenv("SCRO_SIM_LRS_USERNAME", USER)
    monkeypatch.setenv("SCRO_SIM_LRS_PASSWORD", PASSWORD)
    capsys.readouterr()
    down = f"http://127.0.0.1:{free_port()}/xAPI"
    assert main(["--db", db, "lrs", "push", "--cohort", "demo-cohort", "--endpoint", down]) == 2  # queued
    assert "0 sent" in capsys.readouterr().out
    assert main(["--db", db, "lrs", "retry", "--all", "--endpoint", endpoint]) == 0
    out = capsys.readouterr().out
    assert "0 queued" in out and " 0 sent" not in out
    with Store(db) as store:
        (graded,) = store.list_runs(cohort="demo-cohort")
    assert any(s.get("context", {}).get("extensions", {}).get(
        "https://crisis-scro.example/scro_sim/xapi/extensions/run-id") == graded.id for s in held(stored))
    assert main(["--db", db, "lrs", "status"]) == 0
    assert "0 pending" in capsys.readouterr().out


@pytest.mark.parametrize(("settings", "message"), [
    ({}, "no LRS given"),
    ({"SCRO_SIM_LRS_ENDPOINT": "lrs.example.edu"}, "not an http(s) address"),
    ({"SCRO_SIM_LRS_ENDPOINT": "https://lrs.example.edu/xAPI"}, "needs credentials"),
    ({"SCRO_SIM_LRS_ENDPOINT": "https://lrs.example.edu/xAPI", "SCRO_SIM_LRS_USERNAME": "u"}, "SCRO_SIM_LRS_PASSWORD"),
])
def test_bad_lrs_settings_are_refused_naming_the_setting(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ScroSimError, match=message.replace("(", r"\(").replace(")", r"\)")):
        lrs_settings(env=settings)


def test_the_cli_says_which_setting_is_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SCRO_SIM_LRS_ENDPOINT", "SCRO_SIM_LRS_USERNAME", "SCRO_SIM_LRS_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    assert main(["--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "lrs", "retry"]) == 1
    err = capsys.readouterr().err
    assert "SCRO_SIM_LRS_ENDPOINT" in err and "Traceback" not in err


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__]))


def test_erasing_a_person_drops_their_statements_still_queued(tmp_path: Path) -> None:
    from scro_sim.privacy import erase_person

    with Store(f"sqlite:///{tmp_path / 'q.sqlite'}") as store:
        store.add_user("maria", "correct horse battery staple 42", "learner")
        store.enqueue_statements(xapi_statements([row(), row(run_id="r2", username="nikos")]), T0)
        erase_person(store, "maria")
        left = store.due_statements(T0, all_pending=True)
    assert {s.statement["actor"]["account"]["name"] for s in left} == {"nikos"}
