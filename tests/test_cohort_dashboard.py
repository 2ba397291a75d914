"""The cohort dashboard: distributions, ratings, missed actions, learners to support; who may see it; HTML and CSV."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from scro_sim.cli import main
from scro_sim.errors import ScroSimError, StoreError
from scro_sim.report.cohort import cohort_dashboard, to_csv, to_html, write_dashboard
from scro_sim.store import NewRun, Store

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
SCENARIO = "id: ex1\nversion: '1'\ntitle: {en: River flood, de: Flusshochwasser}\n"
PW = "correct horse battery staple 42"


def _card(ratings: dict[str, str | None], timeliness: dict[str, float | None], module: float | None) -> dict[str, Any]:
    return {"scenario": "ex1", "lang": "en",
            "criteria": [{"id": cid, "title": f"Criterion {cid}", "kind": "judged" if cid == "C2" else "computed",
                          "rating": r} for cid, r in ratings.items()],
            "modules": [{"module": "M1", "score": module}],
            "metrics": {f"timeliness.{k}": v for k, v in timeliness.items()}}


def _run(store: Store, learner: str, total: float, *, cohort: str = "A", ratings: dict[str, str | None] | None = None,
         timeliness: dict[str, float | None] | None = None, origin: str = "played", days_ago: float = 1.0,
         minutes: float = 30.0, scenario: str = SCENARIO) -> str:
    finished = NOW - timedelta(days=days_ago)
    return store.save_run(NewRun(
        learner=learner, cohort=cohort, scenario_id="ex1", scenario_version="1",
        scenario_hash=hashlib.sha256(scenario.encode()).hexdigest(), scenario_yaml=scenario, city_hash="c" * 64,
        engine_version="test", seed=1, decisions=[], log_jsonl="", log_digest="d" * 64,
        scorecard=_card(ratings or {"C1": "P", "C2": None}, timeliness or {}, total), total=total,
        passed=total >= 60, started_at=finished - timedelta(minutes=minutes), finished_at=finished, origin=origin))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'c.sqlite'}") as s:
        for name in ("A", "B"):
            s.add_cohort(name, f"Cohort {name}")
        for user, role, cohort in (("ana", "learner", "A"), ("bo", "learner", "A"), ("cy", "learner", "A"),
                                   ("dee", "learner", "B"), ("lena", "lecturer", "A"), ("otto", "lecturer", "B"),
                                   ("asa", "assessor", None)):
            s.add_user(user, PW, role, display_name=user.title())
            if cohort:
                s.add_member(cohort, user)
        s.add_user("mix", PW, "learner", display_name="<b>Mix & Co</b>")
        s.add_member("A", "mix")
        # ana: two graded attempts, both with a U, both failed; plus a practice game
        _run(s, "ana", 40, ratings={"C1": "U", "C2": "M"}, timeliness={"EA1": None, "EA2": 3.0}, minutes=60)
        _run(s, "ana", 55, ratings={"C1": "U", "C2": None}, timeliness={"EA1": None, "EA2": -1.0}, minutes=30)
        _run(s, "ana", 90, origin="practice", minutes=15)
        # bo: one good attempt, long ago (inactive)
        _run(s, "bo", 85, ratings={"C1": "P", "C2": "S"}, timeliness={"EA1": 2.0, "EA2": 0.0}, days_ago=40)
        # a reference run under a learner's name never counts
        _run(s, "bo", 100, origin="reference")
        # cohort B
        _run(s, "dee", 70, cohort="B", timeliness={"EA1": 0.0})
        yield s


def test_scores_ratings_and_missed_actions_per_exercise(store: Store) -> None:
    dash = cohort_dashboard(store, "A", now=NOW)
    (ex,) = dash.exercises
    assert (ex.scenario_id, ex.attempts, ex.learners) == ("ex1", 3, 2)
    assert ex.title("de") == "Flusshochwasser" and ex.title("el") == "River flood"
    s = ex.scores
    assert (s.n, s.minimum, s.maximum, s.median) == (3, 40, 85, 55)
    assert s.mean == pytest.approx(60.0) and s.pass_rate == pytest.approx(1 / 3)
    assert s.bins[4] == 1 and s.bins[5] == 1 and s.bins[8] == 1 and sum(s.bins) == 3
    crit = {c.criterion_id: c.counts for c in ex.criteria}
    assert crit["C1"]["U"] == 2 and crit["C1"]["P"] == 1
    assert (crit["C2"]["M"], crit["C2"]["S"], crit["C2"]["—"]) == (1, 1, 1)
    assert ex.modules["M1"].n == 3
    assert dash.modules["M1"].n == 3 and dash.modules["M1"].median == 55  # over every exercise of the cohort
    # EA1: never done twice, late once; EA2: late once, in time twice
    first, second = ex.expected
    assert (first.expected_id, first.asked, first.missed, first.late, first.on_time) == ("EA1", 3, 2, 1, 0)
    assert (second.expected_id, second.missed, second.late, second.on_time) == ("EA2", 0, 1, 2)
    assert second.mean_late_h == pytest.approx(3.0)


def test_learners_who_may_need_support_and_time_spent(store: Store) -> None:
    dash = cohort_dashboard(store, "A", now=NOW, inactive_days=30)
    rows = {r.username: r for r in dash.learners}
    assert set(rows) == {"ana", "bo", "cy", "mix"}  # learners only, not the lecturer
    assert set(rows["ana"].flags) == {"repeated U", "repeated fail"}
    assert rows["ana"].practice == 1 and rows["ana"].attempts == 2
    assert rows["ana"].time_spent_h == pytest.approx(1.75)  # 60 + 30 + 15 minutes, practice included
    assert rows["bo"].flags == ("inactive",) and rows["bo"].best == 85 and rows["bo"].attempts == 1
    assert rows["cy"].flags == ("no attempt", "inactive") and rows["cy"].last_active is None
    assert {r.username for r in dash.need_support} == {"ana", "bo", "cy", "mix"}
    # the threshold is configurable: 60 days and bo is active enough
    assert "inactive" not in {r.username: r for r in cohort_dashboard(store, "A", now=NOW,
                                                                        inactive_days=60).learners}["bo"].flags
    assert "repeated U" not in {r.username: r for r in cohort_dashboard(store, "A", now=NOW,
                                                                          repeat=3).learners}["ana"].flags


def test_a_lecturer_of_cohort_a_cannot_read_cohort_b(store: Store) -> None:
    assert cohort_dashboard(store, "A", "lena", now=NOW).cohort == "A"
    with pytest.raises(StoreError, match="may not see cohort 'B'"):
        cohort_dashboard(store, "B", "lena", now=NOW)
    assert [c.name for c in store.visible_cohorts("lena")] == ["A"]
    assert [c.name for c in store.visible_cohorts("otto")] == ["B"]
    assert [c.name for c in store.visible_cohorts("asa")] == ["A", "B"]  # assessors follow every cohort
    assert cohort_dashboard(store, "B", "asa", now=NOW).exercises[0].attempts == 1
    assert store.visible_cohorts("ana") == []
    with pytest.raises(StoreError, match="may not see"):
        cohort_dashboard(store, "A", "ana", now=NOW)


def test_a_lecturer_opens_runs_of_their_cohorts_only(store: Store) -> None:
    a_run = store.list_runs(learner="ana", limit=1)[0].id
    b_run = store.list_runs(learner="dee", limit=1)[0].id
    assert store.may_view_run("lena", a_run) and not store.may_view_run("lena", b_run)
    assert store.may_view_run("otto", b_run) and not store.may_view_run("otto", a_run)
    assert store.may_view_run("ana", a_run) and not store.may_view_run("bo", a_run)
    assert store.may_view_run("asa", b_run)
    assert not store.may_view_run("lena", "no-such-run") and not store.may_view_run("nobody", a_run)


def test_an_unknown_cohort_or_a_bad_threshold_is_a_clear_error(store: Store) -> None:
    with pytest.raises(StoreError, match="unknown cohort 'Z'"):
        cohort_dashboard(store, "Z")
    with pytest.raises(StoreError, match="unknown cohort 'Z'"):
        cohort_dashboard(store, "Z", "lena")
    for bad in (0, -3, float("nan"), "7"):
        with pytest.raises(ScroSimError, match="positive number of days"):
            cohort_dashboard(store, "A", inactive_days=bad)  # type: ignore[arg-type]
    with pytest.raises(ScroSimError, match="not one of html, csv"):
        write_dashboard(cohort_dashboard(store, "A", now=NOW), "pdf")


def test_csv_is_tidy_and_holds_every_section(store: Store) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(cohort_dashboard(store, "A", now=NOW)))))
    assert set(rows[0]) == {"section", "exercise", "item", "measure", "value"}
    got = {(r["section"], r["item"], r["measure"]): r["value"] for r in rows}
    assert got[("score", "", "median")] == "55.00" and got[("score", "", "pass_rate")] == "0.333"
    assert got[("criterion", "C1", "U")] == "2" and got[("criterion", "C2", "unrated")] == "1"
    assert got[("expected_action", "EA1", "missed")] == "2"
    assert got[("learner", "ana", "flags")] == "repeated U;repeated fail"
    assert got[("learner", "ana", "time_spent_h")] == "1.75"
    assert got[("module", "M1", "n")] == "3" and got[("cohort_module", "M1", "mean")] == "60.00"


def test_html_is_self_contained_accessible_escaped_and_in_the_readers_language(store: Store) -> None:
    dash = cohort_dashboard(store, "A", now=NOW)
    page = to_html(dash, "de")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="de">' in page and "<main>" in page
    assert "Flusshochwasser" in page and "Kohorten-Übersicht" in page
    assert "<script" not in page and "http" not in page  # nothing fetched from elsewhere
    assert "&lt;b&gt;Mix &amp; Co&lt;/b&gt;" in page and "<b>Mix" not in page
    assert page.count("<caption>") == page.count("<table>") and 'scope="col"' in page
    assert 'aria-hidden="true"' in page  # bars are decoration: the count is written beside each
    assert "Learners who may need support" in to_html(dash, "en")


def test_cli_writes_the_dashboard_and_refuses_what_the_viewer_may_not_see(
        store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = str(store.url)
    out = tmp_path / "a.csv"
    assert main(["--db", url, "cohort", "A", "--format", "csv", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("section,exercise,item,measure,value")
    html_out = tmp_path / "a.html"
    assert main(["--db", url, "cohort", "A", "--as", "lena", "--lang", "pt", "--out", str(html_out)]) == 0
    assert '<html lang="pt">' in html_out.read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(["--db", url, "cohort", "B", "--as", "lena", "--out", str(tmp_path / "b.html")]) == 1
    err = capsys.readouterr().err
    assert "may not see cohort 'B'" in err and "Traceback" not in err and not (tmp_path / "b.html").exists()
    assert main(["--db", url, "cohort", "nope"]) == 1
    assert "unknown cohort 'nope'" in capsys.readouterr().err
