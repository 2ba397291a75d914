"""The README's assessor workflow from the command line: whole run ids, id prefixes, --db anywhere, re-signing."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scro_sim.cli import _runs_table, main
from scro_sim.store import Keyring, NewRun, RunSummary, Store

REPO = Path(__file__).resolve().parents[1]
OLD, NEW = "the-old-secret-0123456789", "the-new-secret-9876543210"


def _fake_run(i: int) -> NewRun:
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    return NewRun(learner="learner", scenario_id="fake", scenario_version="1", scenario_hash="0" * 64,
                  scenario_yaml=f"id: fake{i}\n", city_hash="", engine_version="0", seed=i, decisions=[],
                  log_jsonl="", log_digest="0" * 64, scorecard={}, total=0.0, passed=False, started_at=now,
                  finished_at=now)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """One real stored run and 16 filler runs (so some one-character prefix is shared); (url, real run id)."""
    path = tmp_path_factory.mktemp("ids") / "cli.sqlite"
    url = f"sqlite:///{path}"
    mp = pytest.MonkeyPatch()
    mp.setenv("SCRO_SIM_SECRET", OLD)
    try:
        assert main(["--db", url, "demo"]) == 0
        assert main(["--db", url, "run", str(REPO / "scenarios" / "riverton_flood.yaml"), "--baseline", "greedy",
                     "--seed", "2", "--store", "--learner", "learner", "--cohort", "demo-cohort"]) == 0
    finally:
        mp.undo()
    with Store(url, keyring=Keyring(OLD.encode())) as store:
        (real,) = store.run_ids()
        for i in range(16):
            store.save_run(_fake_run(i))
    return url, real


@pytest.fixture(autouse=True)
def _old_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_SECRET", OLD)
    monkeypatch.delenv("SCRO_SIM_SECRET_OLD", raising=False)
    monkeypatch.delenv("SCRO_SIM_SECRET_FILE", raising=False)


def test_runs_piped_prints_whole_ids_one_per_line(db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, real = db
    assert main(["--db", url, "runs"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split("\t")[0] == "run" and len(lines) == 18
    assert real in [ln.split("\t")[0] for ln in lines[1:]]
    assert all(len(ln.split("\t")[0]) == 32 for ln in lines[1:])


def test_runs_table_keeps_whole_ids_on_a_narrow_terminal() -> None:
    from rich.console import Console

    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    run = RunSummary(id="0123456789abcdef0123456789abcdef", learner="a-learner-with-a-long-name", cohort="demo-cohort",
                     scenario_id="riverton_flood", scenario_version="1", scenario_hash="", city_hash="",
                     engine_version="0", seed=2, policy=None, log_digest="", total=61.25, passed=True,
                     provisional=True, source="cli", origin="cli", started_at=now, finished_at=now,
                     created_at=now)
    for width in (60, 80):
        console = Console(file=io.StringIO(), width=width, force_terminal=True, color_system=None)
        console.print(_runs_table([run]))
        assert run.id in console.file.getvalue()  # type: ignore[attr-defined]


def test_db_is_accepted_after_the_command(db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    url, real = db
    assert main(["runs", "--db", url, "--cohort", "demo-cohort"]) == 0
    assert real in capsys.readouterr().out
    assert main(["verify", real[:10], "--db", url]) == 0
    assert "verified" in capsys.readouterr().out


def test_verify_judge_override_report_and_grade_take_a_unique_prefix(
        db: tuple[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url, real = db
    prefix = real[:8]
    assert main(["--db", url, "verify", prefix]) == 0
    assert f"run {real}: verified" in capsys.readouterr().out
    assert main(["--db", url, "judge", prefix, "CR_coordination", "S", "--assessor", "assessor"]) == 0
    assert main(["--db", url, "override", prefix, "CR_power", "P", "--assessor", "assessor", "--comment", "why"]) == 0
    assert main(["--db", url, "grade", prefix]) == 0
    assert main(["--db", url, "report", prefix, "--out", str(tmp_path / "aar.html")]) == 0
    assert (tmp_path / "aar.html").is_file()
    capsys.readouterr()
    assert main(["--db", url, "verify", prefix]) == 0  # the judgement and override re-signed the run
    assert "verified" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["verify"], ["judge", "{}", "CR_coordination", "S", "--assessor", "assessor"],
                                     ["report"], ["grade"]])
def test_an_ambiguous_or_unknown_prefix_is_one_line_naming_the_candidates(
        db: tuple[str, str], command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = db
    with Store(url) as store:
        ids = store.run_ids()
    shared, _n = Counter(i[0] for i in ids).most_common(1)[0]
    for prefix, words in ((shared, ["is the start of", *[i for i in ids if i.startswith(shared)]]),
                          ("zz", ["no run id starts with 'zz'"])):
        argv = [a.replace("{}", prefix) for a in command] if "{}" in command else [*command, prefix]
        assert main(["--db", url, *argv]) == 1
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
        for word in words:
            assert word in err


def test_rotating_the_secret_then_resign(tmp_path: Path, db: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    url = f"sqlite:///{tmp_path / 'rot.sqlite'}"
    shutil.copy(db[0].removeprefix("sqlite:///"), tmp_path / "rot.sqlite")
    real = db[1]
    monkeypatch.setenv("SCRO_SIM_SECRET", NEW)
    assert main(["--db", url, "verify", real]) == 1  # signed with a key this server no longer has
    assert "which this server does not have" in capsys.readouterr().out
    monkeypatch.setenv("SCRO_SIM_SECRET_OLD", f"something-else-0123456,{OLD}")
    assert main(["--db", url, "verify", real]) == 0  # an old key still verifies
    capsys.readouterr()
    assert main(["--db", url, "resign"]) == 0
    assert "17 re-signed" in capsys.readouterr().out
    monkeypatch.delenv("SCRO_SIM_SECRET_OLD")
    assert main(["--db", url, "verify", real]) == 0  # now signed with the new key alone
    assert main(["--db", url, "resign"]) == 0
    assert "17 already current" in capsys.readouterr().out


def test_resign_unsigned_signs_a_pre_signing_run_only_after_re_simulation(
        tmp_path: Path, db: tuple[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    path = tmp_path / "old.sqlite"
    shutil.copy(db[0].removeprefix("sqlite:///"), path)
    url, real = f"sqlite:///{path}", db[1]
    with sqlite3.connect(path) as conn:  # as stored before signing existed
        conn.execute("UPDATE runs SET signature = NULL")
    assert main(["--db", url, "verify", real]) == 1
    assert "signature missing" in capsys.readouterr().out
    assert main(["--db", url, "resign", real]) == 1  # without --unsigned it is left alone
    assert "signature missing" in capsys.readouterr().out
    assert main(["--db", url, "resign", "--unsigned"]) == 1  # the 16 filler runs do not re-simulate
    out = capsys.readouterr().out
    assert "1 signed" in out and "16 not verified" in out
    assert main(["--db", url, "verify", real]) == 0
