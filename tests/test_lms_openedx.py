"""The Open edX export: the CSV its Gradebook bulk management imports, from the command line and the app.

What the importer reads is written down here from its source, not from our own exporter:
openedx/edx-bulk-grades, ``bulk_grades/api.py``, ``GradeCSVProcessor`` (``required_columns``,
``subsection_prefixes``, ``_get_graded_subsections``: short id = ``block_id[:8]``;
``validate_row``: the course id must match; ``preprocess_row``: a repeated ``user_id`` is refused,
only non-empty ``new_override-<short id>`` cells are read, as floats >= 0), and
openedx/super-csv, ``super_csv/csv_processor.py`` (``validate_file``: a missing required
column refuses the file; ``read_file``: ``csv.DictReader`` over UTF-8 lines).
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from scro_sim.errors import InputError, ScroSimError
from scro_sim.lms import GradeRow, export
from scro_sim.openedx_map import load_openedx_map, openedx_map_path

COURSE = "course-v1:SCRO+CM+2026"
FLOOD_BLOCK = "block-v1:SCRO+CM+2026+type@sequential+block@3f1c9a2be6d84c0f"
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class ImportRefused(Exception):
    """What Open edX's importer would refuse (the message it would show)."""


def open_edx_reads(text: str, course_id: str, subsections: dict[str, str]) -> list[tuple[str, str, float]]:
    """Read a CSV as edx-bulk-grades' GradeCSVProcessor does; return (user_id, usage key, earned points).

    ``subsections`` are the course's graded subsections' usage keys; what the processor accepts
    and refuses follows the files named in the module docstring.
    """
    short = {key.rsplit("@", 1)[-1][:8]: key for key in subsections.values()}
    reader = csv.DictReader(io.StringIO(text, newline=""))
    for column in ("user_id", "course_id"):  # GradeCSVProcessor.required_columns
        if column not in (reader.fieldnames or []):
            raise ImportRefused(f"Missing column: {column}")
    seen: set[str] = set()
    out = []
    for row in reader:
        if row["course_id"] != course_id:
            raise ImportRefused(f"Wrong course id {row['course_id']} != {course_id}")
        if row["user_id"] in seen:
            raise ImportRefused(f"Repeated user_id: {row['user_id']}")
        seen.add(row["user_id"])
        for key, value in row.items():
            if key.startswith("new_override-") and value.strip():
                grade = float(value)  # "Grade must be a number"
                if grade < 0:
                    raise ImportRefused("Grade must not be negative")
                out.append((row["user_id"], short[key.split("-", 1)[1]], grade))  # KeyError: unknown subsection
    return out


def row(**changes: object) -> GradeRow:
    fields: dict[str, object] = {
        "username": "maria", "email": "maria@uni.example", "display_name": "Maria", "scenario_id": "riverton_flood",
        "scenario_title": "Riverton flood", "run_id": "r1", "score": 80.0, "passed": True, "provisional": False,
        "started_at": T0, "finished_at": T0 + timedelta(minutes=40),
    }
    fields.update(changes)
    return GradeRow(**fields)  # type: ignore[arg-type]


def write_map(folder: Path, extra: str = "", roster: str | None = "username,user_id\nmaria,17\nnikos,18\n") -> Path:
    if roster is not None:
        (folder / "roster.csv").write_text(roster, encoding="utf-8")
    path = folder / "openedx.yaml"
    path.write_text(f"course_id: {COURSE}\nsubsections:\n  riverton_flood:\n    block_id: {FLOOD_BLOCK}\n"
                    f"    points: 10\n" + ("roster: roster.csv\n" if roster is not None else "") + extra, encoding="utf-8")
    return path


def test_the_open_edx_importer_reads_every_grade_as_earned_points(tmp_path: Path) -> None:
    mapping = load_openedx_map(write_map(tmp_path))
    rows = [row(), row(username="nikos", run_id="r2", score=55.5, passed=False)]
    text = export(rows, "openedx", provisional="hold", **mapping.export_options())  # type: ignore[arg-type]
    assert open_edx_reads(text, COURSE, {"riverton_flood": FLOOD_BLOCK}) == [
        ("17", FLOOD_BLOCK, 8.0), ("18", FLOOD_BLOCK, 5.55)]


def test_a_provisional_grade_is_held_back_from_the_import(tmp_path: Path) -> None:
    mapping = load_openedx_map(write_map(tmp_path))
    text = export([row(provisional=True), row(username="nikos", run_id="r2")], "openedx",  # type: ignore[arg-type]
                  **mapping.export_options())
    assert open_edx_reads(text, COURSE, {"riverton_flood": FLOOD_BLOCK}) == [("18", FLOOD_BLOCK, 8.0)]
    with pytest.raises(ValueError, match="cannot mark"):
        export([row()], "openedx", provisional="mark", **mapping.export_options())  # type: ignore[arg-type]


def test_the_reader_itself_refuses_what_open_edx_refuses() -> None:
    """The check above can fail: a wrong course, a repeated learner and the flat sheet are refused."""
    good = f"user_id,course_id,new_override-3f1c9a2b\n1,{COURSE},2\n"
    assert open_edx_reads(good, COURSE, {"s": FLOOD_BLOCK}) == [("1", FLOOD_BLOCK, 2.0)]
    with pytest.raises(ImportRefused, match="Wrong course id"):
        open_edx_reads(good, "course-v1:X+Y+Z", {"s": FLOOD_BLOCK})
    with pytest.raises(ImportRefused, match="Repeated user_id"):
        open_edx_reads(good + f"1,{COURSE},3\n", COURSE, {"s": FLOOD_BLOCK})
    with pytest.raises(ImportRefused, match="Missing column: user_id"):
        open_edx_reads(export([row()], "openedx-sheet"), COURSE, {"s": FLOOD_BLOCK})


def test_user_ids_in_the_mapping_win_over_the_roster(tmp_path: Path) -> None:
    mapping = load_openedx_map(write_map(tmp_path, extra="users:\n  maria: 99\n"))
    assert dict(mapping.user_ids) == {"maria": 99, "nikos": 18}
    assert mapping.course_id == COURSE and dict(mapping.points_possible) == {"riverton_flood": 10.0}


def test_a_roster_may_be_the_enrolment_report_with_an_id_column(tmp_path: Path) -> None:
    mapping = load_openedx_map(write_map(tmp_path, roster="id,username,name,email\n5,maria,Maria,m@x\n"))
    assert dict(mapping.user_ids) == {"maria": 5}


@pytest.mark.parametrize(("text", "where"), [
    ("course_id: not a course\nsubsections:\n  s: {block_id: b, points: 1}\n", ":1: course_id"),
    (f"course_id: {COURSE}\nsubsections:\n  s: {{block_id: b, points: 0}}\n", ":3: subsections.s.points"),
    (f"course_id: {COURSE}\nsubsections:\n  s: {{block_id: 'x@', points: 1}}\n", ":3: subsections.s.block_id"),
    (f"course_id: {COURSE}\nsubsections: {{}}\n", ":2: subsections"),
    (f"course_id: {COURSE}\nsubsections:\n  s: {{block_id: b, points: 1}}\nuser:\n  a: 1\n", ":4: user"),
    (f"course_id: {COURSE}\nsubsections:\n  s: {{block_id: b, points: 1}}\nroster: nowhere.csv\n", "roster"),
])
def test_a_bad_mapping_is_refused_at_its_line(tmp_path: Path, text: str, where: str) -> None:
    path = tmp_path / "openedx.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_openedx_map(path)
    assert where in str(caught.value)


def test_a_roster_without_ids_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="'user_id'"):
        load_openedx_map(write_map(tmp_path, roster="username,email\nmaria,m@x\n"))
    with pytest.raises(InputError, match=r"roster.csv:3: user_id: user id 'x' is not a number"):
        load_openedx_map(write_map(tmp_path, roster="username,user_id\nmaria,1\nnikos,x\n"))


def test_the_mapping_file_comes_from_the_option_then_the_environment() -> None:
    assert openedx_map_path(None, {}) is None
    assert openedx_map_path(None, {"SCRO_SIM_OPENEDX_MAP": "a.yaml"}) == Path("a.yaml")
    assert openedx_map_path("b.yaml", {"SCRO_SIM_OPENEDX_MAP": "a.yaml"}) == Path("b.yaml")


# -- from the command line and the app, over a real store


@pytest.fixture(scope="module")
def course_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    from scro_sim.cli import main

    folder = tmp_path_factory.mktemp("openedx")
    db = f"sqlite:///{folder / 'course.sqlite'}"
    scenario = str(Path(__file__).parent.parent / "scenarios" / "riverton_flood.yaml")
    assert main(["--db", db, "demo"]) == 0
    assert main(["--db", db, "run", scenario, "--plan", "riverton_cautious", "--origin", "plan", "--seed", "2",
                 "--store", "--learner", "learner", "--cohort", "demo-cohort"]) == 0
    return db


def test_export_format_openedx_writes_the_import_from_the_command_line(
        course_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.assessment import grade_rows
    from scro_sim.cli import main
    from scro_sim.store import Store

    mapping = write_map(tmp_path, roster="username,user_id\nlearner,17\n")
    out = tmp_path / "import.csv"
    command = ["--db", course_db, "export", "--cohort", "demo-cohort", "--format", "openedx", "--out", str(out)]
    assert main([*command, "--openedx-map", str(mapping)]) == 0
    assert "held back" in capsys.readouterr().err  # judged criteria await an assessor: no grade yet
    assert open_edx_reads(out.read_text(encoding="utf-8"), COURSE, {"riverton_flood": FLOOD_BLOCK}) == []
    _rate_everything(course_db)
    assert main([*command, "--openedx-map", str(mapping)]) == 0
    with Store(course_db) as store:
        (graded,) = grade_rows(store, "demo-cohort")
    assert open_edx_reads(out.read_text(encoding="utf-8"), COURSE, {"riverton_flood": FLOOD_BLOCK}) == [
        ("17", FLOOD_BLOCK, round(graded.score / 10, 2))]


def test_export_format_openedx_without_ids_says_what_is_missing(
        course_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.cli import main

    monkeypatch.delenv("SCRO_SIM_OPENEDX_MAP", raising=False)
    command = ["--db", course_db, "export", "--cohort", "demo-cohort", "--format", "openedx"]
    assert main(command) == 1
    err = capsys.readouterr().err
    assert "--openedx-map" in err and "SCRO_SIM_OPENEDX_MAP" in err and "Traceback" not in err
    monkeypatch.setenv("SCRO_SIM_OPENEDX_MAP", str(write_map(tmp_path, roster="username,user_id\nsomeone,3\n")))
    assert main(command) == 1
    assert "missing user_ids for ['learner']" in capsys.readouterr().err
    assert main([*command, "--pseudonymise"]) == 1
    assert "openedx-sheet" in capsys.readouterr().err


def test_the_review_page_offers_the_import_once_the_mapping_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.app_pages import review

    monkeypatch.delenv("SCRO_SIM_OPENEDX_MAP", raising=False)
    assert list(review._export_formats()) == ["moodle", "openedx-sheet", "xapi"]
    monkeypatch.setenv("SCRO_SIM_OPENEDX_MAP", str(write_map(tmp_path)))
    assert list(review._export_formats()) == ["moodle", "openedx", "openedx-sheet", "xapi"]


def test_export_options_refuse_a_missing_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    from scro_sim.assessment import export_options

    monkeypatch.delenv("SCRO_SIM_OPENEDX_MAP", raising=False)
    with pytest.raises(ScroSimError, match="needs the course's Open edX ids"):
        export_options("openedx")
    assert export_options("moodle") == {}


def _rate_everything(db: str) -> None:
    """Rate every judged criterion of every stored run, so no grade is provisional."""
    from scro_sim.assessment import judge
    from scro_sim.scoring import ScoreCard
    from scro_sim.store import Store

    with Store(db) as store:
        for summary in store.list_runs():
            card = ScoreCard.model_validate(store.get_run(summary.id).scorecard)
            for c in card.criteria:
                if c.status == "awaiting judgement":
                    judge(store, summary.id, c.id, "S", "ok", "assessor")
