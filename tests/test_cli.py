"""The scro-sim command: file kinds, exit codes and file:line messages, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from serverkit import children_of, free_port, listening, wait_gone, wait_healthy

from scro_sim.cli import _kind_of, main

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.mark.parametrize(("text", "kind"), [
    ("format: scro-city/1\nid: x\n", "city"),
    ("format: scro-plan/1\nrules: []\n", "plan"),
    ("id: s\nmsel: []\nreference_plans:\n  expert:\n    format: scro-plan/1\n    rules: []\n", "scenario"),
    ("id: s\ndistricts: []\n", "city"),
    ("prepositioning: []\n", "plan"),
])
def test_file_kind_comes_from_the_top_level_format_or_keys(tmp_path: Path, text: str, kind: str) -> None:
    p = tmp_path / "f.yaml"
    p.write_text(text)
    assert _kind_of(p) == kind


def test_validate_accepts_the_shipped_files(capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(p) for p in sorted((REPO / "scenarios").glob("*.yaml")) + sorted((REPO / "city_models").glob("*.yaml"))]
    plans = [str(p) for p in sorted((REPO / "plans").glob("*.yaml"))]
    assert main(["validate", *files]) == 0
    assert main(["validate", "--scenario", str(REPO / "scenarios" / "riverton_flood.yaml"), *plans]) == 0
    assert "ok" in capsys.readouterr().out


def test_validate_prints_file_line_field_and_exits_non_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    text = (DATA / "mini_scenario.yaml").read_text().replace("expected_minutes: 30", "expected_minutes: lots")
    bad.write_text(text)
    (tmp_path / "mini_city.yaml").write_text((DATA / "mini_city.yaml").read_text())
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    line = text.splitlines().index("expected_minutes: lots") + 1
    assert f"{bad}:{line}: expected_minutes:" in err
    assert "Traceback" not in err


def test_schema_writes_the_three_schemas(tmp_path: Path) -> None:
    assert main(["schema", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["city.schema.json", "plan.schema.json", "scenario.schema.json"]


def test_run_writes_a_log_with_a_stable_digest(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    sc = str(REPO / "scenarios" / "riverton_flood.yaml")
    assert main(["run", sc, "--baseline", "expert", "--seed", "4", "--out", str(a)]) == 0
    assert main(["run", sc, "--baseline", "expert", "--seed", "4", "--out", str(b)]) == 0
    assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 1000


def test_the_whole_assessment_flow_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Run, store, list, verify, judge, override, export, report; then a tampered run fails verification."""
    import sqlalchemy as sa

    from scro_sim.store import Store

    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    sc = str(REPO / "scenarios" / "riverton_flood.yaml")
    assert main(["--db", db, "demo"]) == 0
    assert main(["--db", db, "run", sc, "--plan", "riverton_cautious", "--origin", "plan", "--seed", "2", "--store",
                 "--learner", "learner", "--cohort", "demo-cohort"]) == 0
    with Store(db) as store:
        run_id = store.list_runs()[0].id
    # the expert stored under another learner's name is a reference run: never a grade
    assert main(["--db", db, "run", sc, "--baseline", "expert", "--seed", "2", "--store", "--learner", "learner2",
                 "--cohort", "demo-cohort"]) == 0
    assert main(["--db", db, "runs", "--cohort", "demo-cohort"]) == 0
    assert main(["--db", db, "verify", run_id]) == 0
    assert "verified" in capsys.readouterr().out
    sent = tmp_path / "before.json"
    assert main(["--db", db, "export", "--cohort", "demo-cohort", "--format", "xapi", "--out", str(sent)]) == 0
    assert main(["--db", db, "judge", run_id, "CR_coordination", "S", "--assessor", "assessor", "--comment", "clear"]) == 0
    shown = " ".join(capsys.readouterr().out.split())  # the comment the learner will read
    assert "CR_coordination rated S by assessor: clear" in shown and "CR_coordination awaiting" not in shown
    assert main(["--db", db, "override", run_id, "CR_power", "P", "--assessor", "assessor", "--comment", "radio first"]) == 0
    resent = tmp_path / "after.json"
    assert main(["--db", db, "export", "--cohort", "demo-cohort", "--format", "xapi", "--out", str(resent)]) == 0
    ext = "https://crisis-scro.example/scro_sim/xapi/extensions/"
    before = [s for s in json.loads(sent.read_text()) if s["context"]["extensions"][ext + "run-id"] == run_id]
    after = json.loads(resent.read_text())
    voided = [s["object"]["id"] for s in after if s["verb"]["id"].endswith("/voided")]
    # the judgement and the override each re-graded the run: its first two grades are voided, outcomes included
    second = str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://crisis-scro.example/scro_sim/run/{run_id}/grade/1"))
    assert {s["id"] for s in before} | {second} <= set(voided) and len(before) > 1
    (latest,) = [s for s in after if s.get("context", {}).get("extensions", {}).get(ext + "run-id") == run_id
                 and s["verb"]["id"].endswith("/completed")]
    assert latest["id"] not in voided and latest["context"]["extensions"][ext + "grade-version"] == 2
    out = tmp_path / "grades.csv"
    assert main(["--db", db, "export", "--cohort", "demo-cohort", "--format", "moodle", "--out", str(out)]) == 0
    assert "learner" in out.read_text() and "learner2" not in out.read_text()
    assert "learner2" not in resent.read_text()
    assert main(["--db", db, "report", run_id, "--out", str(tmp_path / "aar.html")]) == 0
    assert "After-action" in (tmp_path / "aar.html").read_text()
    # in Portuguese: the headings and the card's criterion titles and feedback, the assessor's comment kept
    assert main(["--db", db, "report", run_id, "--out", str(tmp_path / "aar_pt.html"), "--lang", "pt"]) == 0
    pt = (tmp_path / "aar_pt.html").read_text(encoding="utf-8")
    assert "Relatório pós-ação" in pt and "A quem ligar primeiro (coordenação)" in pt and "clear" in pt
    assert "Who to call first" not in pt
    with Store(db) as store, store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE runs SET decisions = '[]' WHERE id = :i"), {"i": run_id})
    capsys.readouterr()
    assert main(["--db", db, "verify", run_id]) == 1
    assert "decisions or the log were changed" in capsys.readouterr().out


def test_grade_shows_the_assessor_the_guidance_of_each_criterion_awaiting_judgement(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sc = str(REPO / "scenarios" / "riverton_flood.yaml")
    log = tmp_path / "run.jsonl"
    assert main(["run", sc, "--baseline", "do_nothing", "--seed", "1", "--out", str(log)]) == 0
    capsys.readouterr()
    assert main(["grade", str(log), "--scenario", sc]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "CR_coordination awaiting judgement (evidence in the log: 0)" in shown
    assert "P: Orders calls by lead time and risk to life" in shown and "U: No warnings written" in shown


@pytest.mark.parametrize("seed", ["-1", "x", "1.5"])
def test_a_bad_seed_is_refused_by_the_command_line_without_a_traceback(seed: str,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", str(REPO / "scenarios" / "riverton_flood.yaml"), "--seed", seed])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--seed" in err and "Traceback" not in err


def test_an_internal_error_is_one_line_not_a_traceback(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import scro_sim.cli as cli

    def boom(args: object) -> int:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(cli, "cmd_schema", boom)
    monkeypatch.delenv("SCRO_SIM_DEBUG", raising=False)
    assert main(["schema"]) == 70
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: kaboom" in err and "Traceback" not in err


# -- bundled files by name, schema into the current folder, the app's lifetime -------------------------


def test_schema_writes_into_the_current_folder_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["schema"]) == 0
    assert sorted(p.name for p in (tmp_path / "schema").iterdir()) == [
        "city.schema.json", "plan.schema.json", "scenario.schema.json"]


def test_run_takes_a_bundled_scenario_and_plan_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    golden = json.loads((DATA / "golden_digests.json").read_text(encoding="utf-8"))
    assert main(["run", "riverton_flood", "--seed", "1"]) == 0
    assert golden["riverton_flood"]["do_nothing/1"] in capsys.readouterr().out
    assert main(["run", "riverton_flood", "--seed", "1", "--plan", "riverton_cautious"]) == 0
    assert "plan:riverton_cautious" in capsys.readouterr().out


def test_an_unknown_scenario_name_is_one_line_naming_the_bundled_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["run", "riverton_flod"]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "riverton_flood" in err and "Traceback" not in err


def _app_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "SCRO_SIM_DEMO"}
    return {**env, "SCRO_SIM_DB": f"sqlite:///{tmp_path / 'app.sqlite'}", "SCRO_SIM_CACHE": str(tmp_path / "cache")}


@pytest.mark.timeout(180)
@pytest.mark.skipif(os.name != "posix", reason="POSIX signals")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_stopping_the_app_command_stops_streamlit_and_frees_the_port(sig: int, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "scro_sim.cli", "app", "--port", str(port), "--address", "127.0.0.1"],
                            cwd=tmp_path, env=_app_env(tmp_path), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(port, proc)
        kids = children_of(proc.pid)
        assert kids, "Streamlit should run as the command's child"
        proc.send_signal(sig)  # to the command alone: Streamlit, in its own process group, hears it only from us
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert all(wait_gone(k) for k in kids)
    assert not listening(port)


@pytest.mark.skipif(os.name != "posix", reason="POSIX signals and process groups")
def test_a_child_that_ignores_sigterm_is_killed_with_everything_it_started(tmp_path: Path) -> None:
    stubborn = ("import signal, subprocess, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
                "print(g.pid, flush=True); time.sleep(120)")
    runner = ("import os, sys; from scro_sim.cli import _run_until_stopped; "
              f"sys.exit(_run_until_stopped([sys.executable, '-c', {stubborn!r}], dict(os.environ), grace_s=1.0))")
    proc = subprocess.Popen([sys.executable, "-c", runner], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        grandchild = int(proc.stdout.readline())
        (child,) = children_of(proc.pid) or [None]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert wait_gone(grandchild)
    assert child is None or wait_gone(child)


def test_a_child_that_ends_by_itself_gives_its_exit_status_and_our_handlers_back() -> None:
    from scro_sim.cli import _run_until_stopped

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    assert _run_until_stopped([sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ)) == 3
    assert {s: signal.getsignal(s) for s in before} == before


def test_export_refuses_a_bad_provisional_setting_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'export.sqlite'}"
    monkeypatch.setenv("SCRO_SIM_PROVISIONAL", "later")
    assert main(["--db", db, "export", "--format", "moodle"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "SCRO_SIM_PROVISIONAL: 'later' is not one of mark, hold (mark provisional grades, or hold " \
                          "them back until rated)"
    assert main(["--db", db, "export", "--format", "moodle", "--provisional", "hold"]) == 0  # the flag wins
    with pytest.raises(SystemExit):
        main(["--db", db, "export", "--format", "moodle", "--provisional", "sometimes"])


def test_run_origin_plan_needs_a_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = f"sqlite:///{tmp_path / 'origin.sqlite'}"
    assert main(["--db", db, "run", "riverton_flood", "--baseline", "expert", "--origin", "plan", "--store"]) == 1
    assert "origin: --origin plan is for a learner's own plan" in capsys.readouterr().err
