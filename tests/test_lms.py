"""Tests for scro_sim.lms: gradebook CSVs and xAPI statements.

xAPI statements are checked twice, by independent means: against the JSON Schema in
tests/data/lms/ (written from the xAPI 1.0.3 specification) with ``jsonschema``, and by
parsing them with ADL/Rustici's TinCanPython (the ``edx-tincan-py35`` distribution, module
``tincan``), which rejects unknown properties, wrong types, bad UUIDs and unparsable
ISO 8601 durations and timestamps.
"""

from __future__ import annotations

import ast
import copy
import csv
import doctest
import io
import json
import random
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import jsonschema
import pytest
import tincan
from hypothesis import given
from hypothesis import strategies as st

from scro_sim import lms
from scro_sim.lms import (
    FORMATS,
    PROVISIONAL_NOTE,
    GradeRow,
    best_rows,
    export,
    graded_rows,
    moodle_csv,
    openedx_bulk_csv,
    openedx_csv,
    xapi_json,
    xapi_statements,
)

DATA = Path(__file__).parent / "data" / "lms"
SCHEMA = json.loads((DATA / "xapi-statement-1.0.3.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
EXT = "https://crisis-scro.example/scro_sim/xapi/extensions/"

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def row(**changes: object) -> GradeRow:
    """A valid GradeRow with the given fields changed."""
    fields: dict[str, object] = {
        "username": "eleni",
        "email": "eleni@example.org",
        "display_name": "Ελένη Παπαδοπούλου",
        "scenario_id": "flood-01",
        "scenario_title": "Coastal flood",
        "run_id": "run-1",
        "score": 87.5,
        "passed": True,
        "provisional": False,
        "started_at": T0,
        "finished_at": T0 + timedelta(hours=1, minutes=2, seconds=3),
        "language": "en",
        "modules": ("M14",),
    }
    fields.update(changes)
    return GradeRow(**fields)  # type: ignore[arg-type]


def cohort() -> list[GradeRow]:
    """Three learners (Greek, German, Portuguese names), two scenarios, repeated runs."""
    return [
        row(run_id="e-flood-1", score=62.0),
        row(run_id="e-flood-2", score=87.5, finished_at=T0 + timedelta(hours=3)),
        row(
            run_id="e-heat-1",
            scenario_id="heat-02",
            scenario_title="Καύσωνας στην Αθήνα",
            language="el",
            score=70.0,
            passed=False,
            provisional=True,
            modules=("M14", "M15"),
        ),
        row(
            username="juergen",
            email="juergen.gross@example.de",
            display_name="Jürgen Groß",
            run_id="j-flood-1",
            score=55.555,
            passed=False,
            language="de",
            scenario_title="Küstenhochwasser",
        ),
        row(
            username="joao",
            email="joao.conceicao@example.pt",
            display_name="João Conceição",
            run_id="p-heat-1",
            scenario_id="heat-02",
            scenario_title="Heatwave",
            score=100.0,
            language="pt-BR",
            modules=(),
        ),
    ]


def parse_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


# --------------------------------------------------------------------------- GradeRow


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"started_at": datetime(2025, 3, 1, 9, 0)}, "timezone-aware"),
        ({"finished_at": T0 - timedelta(seconds=1)}, "before started_at"),
        ({"score": float("nan")}, "finite"),
        ({"score": float("inf")}, "finite"),
        ({"username": ""}, "username"),
        ({"run_id": ""}, "run_id"),
        ({"language": "english please"}, "language tag"),
    ],
)
def test_graderow_rejects_bad_data(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        row(**changes)


def test_graderow_stores_modules_as_tuple() -> None:
    assert row(modules=["M1", "M2"]).modules == ("M1", "M2")


# --------------------------------------------------------------------------- best_rows


def test_best_rows_picks_highest_score_and_orders_output() -> None:
    best = best_rows(cohort())
    assert [(r.username, r.scenario_id, r.run_id) for r in best] == [
        ("eleni", "flood-01", "e-flood-2"),
        ("eleni", "heat-02", "e-heat-1"),
        ("joao", "heat-02", "p-heat-1"),
        ("juergen", "flood-01", "j-flood-1"),
    ]


def test_best_rows_tie_goes_to_latest_finish_then_run_id() -> None:
    early = row(run_id="z-early", score=80.0, finished_at=T0 + timedelta(hours=1))
    late = row(run_id="a-late", score=80.0, finished_at=T0 + timedelta(hours=2))
    assert best_rows([late, early])[0].run_id == "a-late"
    assert best_rows([early, late])[0].run_id == "a-late"
    same_a = row(run_id="run-a", score=80.0)
    same_b = row(run_id="run-b", score=80.0)
    assert best_rows([same_b, same_a])[0].run_id == "run-b"
    assert best_rows([same_a, same_b])[0].run_id == "run-b"


def test_best_rows_compares_finish_times_across_time_zones() -> None:
    athens = timezone(timedelta(hours=2))
    utc_later = row(run_id="a", score=50.0, finished_at=datetime(2025, 3, 1, 10, 30, tzinfo=UTC))
    # 11:00 in Athens is 09:00 UTC: earlier, although its wall-clock time is later.
    athens_earlier = row(run_id="b", score=50.0, finished_at=datetime(2025, 3, 1, 11, 0, tzinfo=athens))
    assert best_rows([athens_earlier, utc_later])[0].run_id == "a"


def test_best_rows_does_not_depend_on_input_order() -> None:
    rows = cohort()
    expected = best_rows(rows)
    for seed in range(5):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert best_rows(shuffled) == expected


def test_best_rows_empty() -> None:
    assert best_rows([]) == []


# --------------------------------------------------------------------------- grading methods


def attempts(method: str, **changes: object) -> list[GradeRow]:
    """Three attempts of one learner at one scenario, finished in the order 70, 90, 50."""
    return [row(run_id=f"a{i}", score=score, finished_at=T0 + timedelta(hours=1 + i), grading=method, pass_mark=60.0,
                passed=score >= 60, **changes)
            for i, score in enumerate((70.0, 90.0, 50.0))]


@pytest.mark.parametrize(("method", "run_id", "score", "passed"), [
    ("highest", "a1", 90.0, True), ("first", "a0", 70.0, True), ("last", "a2", 50.0, False),
    ("average", "a2", 70.0, True)])
def test_each_grading_method_makes_its_grade_of_repeated_attempts(method: str, run_id: str, score: float,
                                                                  passed: bool) -> None:
    rows = attempts(method)
    for shuffled in (rows, rows[::-1], [rows[1], rows[2], rows[0]]):
        (graded,) = graded_rows(shuffled)
        assert (graded.run_id, graded.score, graded.passed) == (run_id, pytest.approx(score), passed)
    column = {"highest": "90.00", "first": "70.00", "last": "50.00", "average": "70.00"}[method]
    assert parse_csv(moodle_csv(rows))[1] == ["eleni@example.org", column]
    assert parse_csv(openedx_csv(rows))[1][2] == f"{float(column) / 100:.4f}"


def test_an_average_passes_by_the_pass_mark_not_by_the_attempts() -> None:
    rows = [row(run_id="x", score=55.0, passed=False, grading="average", pass_mark=60.0),
            row(run_id="y", score=66.0, passed=True, grading="average", pass_mark=60.0,
                finished_at=T0 + timedelta(hours=5))]
    (graded,) = graded_rows(rows)
    assert graded.score == pytest.approx(60.5) and graded.passed


def test_the_latest_attempts_method_decides_when_the_scenario_changed_it() -> None:
    rows = attempts("highest")
    rows[-1] = replace(rows[-1], grading="last")
    assert graded_rows(rows)[0].run_id == "a2"


def test_methods_group_per_learner_and_scenario() -> None:
    rows = [*attempts("last"), *[replace(r, username="rui", email="rui@example.org", run_id="r" + r.run_id)
                                 for r in attempts("first")],
            replace(attempts("first")[0], scenario_id="heat-02", run_id="h0")]
    graded = {(g.username, g.scenario_id): g.run_id for g in graded_rows(rows)}
    assert graded == {("eleni", "flood-01"): "a2", ("eleni", "heat-02"): "h0", ("rui", "flood-01"): "ra0"}


def test_an_unknown_grading_method_is_refused() -> None:
    with pytest.raises(ValueError, match="grading 'best'"):
        row(grading="best")


def test_the_methods_are_the_scenario_languages() -> None:
    from scro_sim.scenario import GRADING_METHODS

    assert lms.GRADING_METHODS == GRADING_METHODS


@pytest.mark.parametrize(("method", "marked", "held"), [
    ("highest", ("a1", True), "a0"), ("first", ("a0", False), "a0"), ("last", ("a2", False), "a2"),
    ("average", ("a2", True), None)])
def test_provisional_attempts_mark_the_grade_or_hold_it_back(method: str, marked: tuple[str, bool],
                                                            held: str | None) -> None:
    rows = attempts(method)
    rows[1] = replace(rows[1], provisional=True)  # the 90, second of three, not yet rated
    (graded,) = graded_rows(rows)
    assert (graded.run_id, graded.provisional) == marked
    assert [g.run_id for g in graded_rows(rows, provisional="hold")] == ([held] if held else [])


def test_an_unknown_provisional_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="marked or held back"):
        graded_rows([row()], provisional="ignore")
    with pytest.raises(ValueError, match="marked or held back"):
        export([row()], "xapi", provisional="")


# --------------------------------------------------------------------------- Moodle


def test_moodle_csv_columns_and_values_mark_the_provisional_grade_in_feedback_columns() -> None:
    table = parse_csv(moodle_csv(cohort()))
    header, body = table[0], table[1:]
    assert header == ["Email address", "Coastal flood (scro_sim)", "Coastal flood (scro_sim) feedback",
                      "Heatwave (scro_sim)", "Heatwave (scro_sim) feedback"]
    assert body == [
        ["eleni@example.org", "87.50", "", "70.00", PROVISIONAL_NOTE],
        ["joao.conceicao@example.pt", "-", "", "100.00", ""],
        ["juergen.gross@example.de", "55.56", "", "-", ""],
    ]


def test_moodle_csv_holds_a_provisional_grade_back_until_rated() -> None:
    table = parse_csv(moodle_csv(cohort(), provisional="hold"))
    assert table[0] == ["Email address", "Coastal flood (scro_sim)", "Heatwave (scro_sim)"]
    assert table[1] == ["eleni@example.org", "87.50", "-"]
    rated = [r if not r.provisional else replace(r, provisional=False) for r in cohort()]
    assert parse_csv(moodle_csv(rated, provisional="hold"))[1] == ["eleni@example.org", "87.50", "70.00"]


def test_moodle_csv_missing_marker_can_be_empty() -> None:
    table = parse_csv(moodle_csv(cohort(), missing="", provisional="hold"))
    assert table[2] == ["joao.conceicao@example.pt", "", "100.00"]


def test_moodle_csv_is_utf8_comma_crlf_with_header() -> None:
    text = moodle_csv([row(username="jürgen", email=None, scenario_title="Küstenhochwasser, Nord")])
    assert text.encode("utf-8").decode("utf-8") == text
    assert text == 'Username,"Küstenhochwasser, Nord (scro_sim)"\r\njürgen,87.50\r\n'


@pytest.mark.parametrize(
    "emails",
    [
        ("a@example.org", None),  # one learner without email
        ("a@example.org", "  "),  # blank email
        ("same@example.org", "SAME@example.org"),  # shared email: ambiguous in Moodle
    ],
)
def test_moodle_csv_falls_back_to_username(emails: tuple[str | None, str | None]) -> None:
    rows = [
        row(username="ana", email=emails[0], run_id="1"),
        row(username="rui", email=emails[1], run_id="2"),
    ]
    table = parse_csv(moodle_csv(rows))
    assert table[0][0] == "Username"
    assert [line[0] for line in table[1:]] == ["ana", "rui"]


def test_moodle_csv_uses_latest_email_of_a_learner() -> None:
    rows = [
        row(run_id="old", email="old@example.org", score=99.0, finished_at=T0 + timedelta(hours=1)),
        row(run_id="new", email="new@example.org", score=10.0, finished_at=T0 + timedelta(hours=5)),
    ]
    assert parse_csv(moodle_csv(rows))[1] == ["new@example.org", "99.00"]


def test_moodle_csv_titles_prefer_english_and_disambiguate() -> None:
    rows = [
        row(run_id="1", scenario_id="b-flood", scenario_title="Πλημμύρα", language="el"),
        row(run_id="2", scenario_id="b-flood", scenario_title="Flood", language="en"),
        row(run_id="3", scenario_id="a-flood", scenario_title="flood", language="en"),
        row(run_id="4", scenario_id="c-heat", scenario_title="Καύσωνας", language="el"),
    ]
    header = parse_csv(moodle_csv(rows))[0]
    assert header == [
        "Email address",
        "flood [a-flood] (scro_sim)",
        "Flood [b-flood] (scro_sim)",
        "Καύσωνας (scro_sim)",
    ]


def test_moodle_csv_clamps_scores_to_gradebook_range() -> None:
    rows = [
        row(username="hi", email="hi@example.org", run_id="1", score=100.4),
        row(username="lo", email="lo@example.org", run_id="2", score=-3.0),
    ]
    assert [line[1] for line in parse_csv(moodle_csv(rows))[1:]] == ["100.00", "0.00"]


def test_moodle_csv_empty_input() -> None:
    assert parse_csv(moodle_csv([])) == [["Username"]]


# --------------------------------------------------------------------------- Open edX


def test_openedx_csv_columns_and_values() -> None:
    reader = csv.DictReader(io.StringIO(openedx_csv(cohort(), provisional="hold"), newline=""))
    assert reader.fieldnames == ["username", "email", "Coastal flood (scro_sim)", "Heatwave (scro_sim)"]
    by_user = {line["username"]: line for line in reader}
    assert by_user["eleni"]["Heatwave (scro_sim)"] == ""  # provisional: held back
    assert by_user["eleni"]["Coastal flood (scro_sim)"] == "0.8750"
    assert by_user["juergen"]["Coastal flood (scro_sim)"] == "0.5556"
    assert by_user["juergen"]["Heatwave (scro_sim)"] == ""
    assert by_user["joao"]["Heatwave (scro_sim)"] == "1.0000"
    assert by_user["joao"]["email"] == "joao.conceicao@example.pt"


def test_openedx_csv_marks_a_provisional_grade() -> None:
    reader = csv.DictReader(io.StringIO(openedx_csv(cohort()), newline=""))
    by_user = {line["username"]: line for line in reader}
    assert by_user["eleni"]["Heatwave (scro_sim)"] == "0.7000"
    assert by_user["eleni"]["Heatwave (scro_sim) feedback"] == PROVISIONAL_NOTE
    assert by_user["eleni"]["Coastal flood (scro_sim) feedback"] == ""


def test_openedx_csv_empty_input() -> None:
    assert parse_csv(openedx_csv([])) == [["username", "email"]]


BLOCKS = {
    "flood-01": "block-v1:CrisisX+SCRO101+2025+type@sequential+block@0f1e2d3c4b5a69788796",
    "heat-02": "a1b2c3d4e5f60718",
}


def test_openedx_bulk_csv_matches_bulk_management_columns() -> None:
    text = openedx_bulk_csv(
        cohort(),
        course_id="course-v1:CrisisX+SCRO101+2025",
        user_ids={"eleni": 11, "juergen": 12, "joao": 13},
        block_ids=BLOCKS,
        points_possible={"flood-01": 10, "heat-02": 1},
    )
    reader = csv.DictReader(io.StringIO(text, newline=""))
    per_block = ["name", "grade", "original_grade", "previous_override", "new_override"]
    assert reader.fieldnames == [
        "user_id",
        "username",
        "student_key",
        "course_id",
        "track",
        "cohort",
        *[f"{p}-0f1e2d3c" for p in per_block],
        *[f"{p}-a1b2c3d4" for p in per_block],
    ]
    lines = {line["username"]: line for line in reader}
    assert lines["eleni"]["user_id"] == "11"
    assert lines["eleni"]["course_id"] == "course-v1:CrisisX+SCRO101+2025"
    assert lines["eleni"]["new_override-0f1e2d3c"] == "8.75"
    assert lines["eleni"]["new_override-a1b2c3d4"] == ""  # provisional: the bulk import cannot mark it
    assert lines["eleni"]["name-0f1e2d3c"] == "Coastal flood"
    assert lines["juergen"]["new_override-a1b2c3d4"] == ""
    assert lines["joao"]["new_override-a1b2c3d4"] == "1.00"


def test_openedx_bulk_csv_cannot_mark_so_refuses_to() -> None:
    with pytest.raises(ValueError, match="holds them back"):
        openedx_bulk_csv(cohort(), course_id="c", user_ids={"eleni": 1, "juergen": 2, "joao": 3}, block_ids=BLOCKS,
                         points_possible=1, provisional="mark")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"user_ids": {"eleni": 1, "joao": 3}}, "juergen"),
        ({"block_ids": {"flood-01": "abc12345"}}, "heat-02"),
        ({"block_ids": {"flood-01": "abcdefgh-1", "heat-02": "abcdefgh-2"}}, "short id"),
        ({"points_possible": 0}, "positive"),
        ({"course_id": ""}, "course_id"),
    ],
)
def test_openedx_bulk_csv_refuses_incomplete_mappings(changes: dict[str, object], message: str) -> None:
    options: dict[str, object] = {
        "course_id": "course-v1:CrisisX+SCRO101+2025",
        "user_ids": {"eleni": 11, "juergen": 12, "joao": 13},
        "block_ids": BLOCKS,
        "points_possible": 100.0,
    }
    options.update(changes)
    with pytest.raises(ValueError, match=message):
        openedx_bulk_csv(cohort(), **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- xAPI


def test_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_xapi_statements_validate_against_schema_and_tincan() -> None:
    rows = cohort()
    statements = xapi_statements(rows)
    assert len(statements) == len(rows)  # one per run, not per best run
    by_run = {r.run_id: r for r in rows}
    for statement in statements:
        VALIDATOR.validate(statement)
        parsed = tincan.Statement.from_json(json.dumps(statement))
        source = by_run[statement["context"]["extensions"][EXT + "run-id"]]
        assert parsed.id == uuid.UUID(statement["id"])
        assert parsed.actor.account.name == source.username
        assert parsed.verb.id == "http://adlnet.gov/expapi/verbs/completed"
        assert parsed.object.definition.type == "http://adlnet.gov/expapi/activities/simulation"
        assert parsed.result.duration == source.finished_at - source.started_at
        assert parsed.timestamp == source.finished_at
        assert parsed.result.success is source.passed
        assert parsed.result.completion is True
        score = statement["result"]["score"]
        assert score["min"] <= score["raw"] <= score["max"]  # not expressible in JSON Schema


def test_xapi_statement_content() -> None:
    rows = cohort()
    statements = {s["context"]["extensions"][EXT + "run-id"]: s for s in xapi_statements(rows)}
    heat = statements["e-heat-1"]
    assert heat["id"] == str(
        uuid.uuid5(uuid.NAMESPACE_URL, "https://crisis-scro.example/scro_sim/run/e-heat-1")
    )
    assert heat["actor"] == {
        "objectType": "Agent",
        "name": "Ελένη Παπαδοπούλου",
        "account": {"homePage": "https://crisis-scro.example/scro_sim", "name": "eleni"},
    }
    assert heat["verb"] == {
        "id": "http://adlnet.gov/expapi/verbs/completed",
        "display": {"en-US": "completed"},
    }
    assert heat["object"] == {
        "objectType": "Activity",
        "id": "https://crisis-scro.example/scro_sim/scenario/heat-02",
        "definition": {
            "name": {"el": "Καύσωνας στην Αθήνα"},
            "type": "http://adlnet.gov/expapi/activities/simulation",
        },
    }
    assert heat["result"] == {
        "score": {"scaled": 0.7, "raw": 70.0, "min": 0, "max": 100},
        "success": False,
        "completion": True,
        "duration": "PT1H2M3S",
    }
    assert heat["timestamp"] == "2025-03-01T10:02:03.000Z"
    assert heat["context"] == {
        "language": "el",
        "extensions": {
            EXT + "run-id": "e-heat-1",
            EXT + "grade-version": 0,
            EXT + "provisional": True,
            EXT + "modules": ["M14", "M15"],
        },
        "contextActivities": {
            "grouping": [{"objectType": "Activity", "id": "https://crisis-scro.example/scro_sim/course",
                          "definition": {"type": "http://adlnet.gov/expapi/activities/course",
                                         "name": {"en-US": "scro_sim course"}}}],
            "parent": [{"objectType": "Activity", "id": f"https://crisis-scro.example/scro_sim/module/{m}",
                        "definition": {"type": "http://adlnet.gov/expapi/activities/module", "name": {"en-US": m}}}
                       for m in ("M14", "M15")],
        },
    }
    assert statements["e-flood-1"]["object"]["definition"]["name"] == {"en-US": "Coastal flood"}
    assert EXT + "modules" not in statements["p-heat-1"]["context"]["extensions"]


def test_xapi_marks_a_provisional_run_or_holds_its_statement_back() -> None:
    rows = cohort()
    marked = {st["context"]["extensions"][EXT + "run-id"]: st["context"]["extensions"][EXT + "provisional"]
              for st in xapi_statements(rows)}
    assert marked["e-heat-1"] is True and marked["e-flood-1"] is False
    held = [st["context"]["extensions"][EXT + "run-id"] for st in xapi_statements(rows, provisional="hold")]
    assert "e-heat-1" not in held and len(held) == len(rows) - 1


def test_xapi_actor_name_only_with_display_name() -> None:
    (statement,) = xapi_statements([row(display_name=None)])
    assert "name" not in statement["actor"]
    VALIDATOR.validate(statement)


def test_xapi_custom_homepage_and_activity_base() -> None:
    (statement,) = xapi_statements(
        [row(scenario_id="flood 01/β")],
        homepage="https://lms.example.edu/",
        activity_base="https://lms.example.edu/scro/activities",
    )
    assert statement["actor"]["account"]["homePage"] == "https://lms.example.edu/"
    assert statement["object"]["id"] == "https://lms.example.edu/scro/activities/scenario/flood%2001%2F%CE%B2"
    assert statement["context"]["contextActivities"]["grouping"][0]["id"] == "https://lms.example.edu/scro/activities/course"
    assert set(statement["context"]["extensions"]) == {
        "https://lms.example.edu/xapi/extensions/run-id",
        "https://lms.example.edu/xapi/extensions/grade-version",
        "https://lms.example.edu/xapi/extensions/provisional",
        "https://lms.example.edu/xapi/extensions/modules",
    }
    VALIDATOR.validate(statement)
    tincan.Statement.from_json(json.dumps(statement))


@pytest.mark.parametrize("bad", ["crisis-scro.example", "", "https://has space.example/", "urn:x:y",
                                 "ftp://lms.example/", "https:///no-host", "https://lms.example/#frag"])
def test_xapi_rejects_non_iri_bases(bad: str) -> None:
    with pytest.raises(ValueError, match="absolute IRI"):
        xapi_statements([row()], homepage=bad)
    with pytest.raises(ValueError, match="absolute IRI"):
        xapi_statements([row()], activity_base=bad)


def test_xapi_ids_are_stable_and_distinct() -> None:
    rows = cohort()
    first = [s["id"] for s in xapi_statements(rows)]
    again = [s["id"] for s in xapi_statements(list(reversed(rows)))]
    assert first == again
    assert len(set(first)) == len(first)
    assert all(uuid.UUID(i).version == 5 for i in first)


def test_xapi_regraded_run_voids_each_earlier_statement_then_sends_the_new_grade() -> None:
    first_at = datetime(2025, 3, 2, 9, 0, tzinfo=UTC)
    second_at = datetime(2025, 3, 3, 17, 30, tzinfo=timezone(timedelta(hours=2)))
    (sent,) = xapi_statements([row(score=55.0, provisional=True)])
    void0, void1, regraded = xapi_statements([row(score=72.0, revised_at=(first_at, second_at))])
    assert [void0["object"], void1["object"]] == [
        {"objectType": "StatementRef", "id": sent["id"]},
        {"objectType": "StatementRef", "id": xapi_statements([row(revised_at=(first_at,))])[-1]["id"]},
    ]
    for void, moment in ((void0, first_at), (void1, second_at)):
        assert void["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
        assert void["actor"]["account"] == {"homePage": "https://crisis-scro.example/scro_sim", "name": "scro_sim"}
        assert tincan.Statement.from_json(json.dumps(void)).timestamp == moment
    assert regraded["id"] not in (sent["id"], void0["object"]["id"], void1["object"]["id"])
    assert regraded["result"]["score"]["raw"] == 72.0
    assert regraded["context"]["extensions"][EXT + "grade-version"] == 2
    again = xapi_statements([row(score=72.0, revised_at=(first_at, second_at))])
    assert [s["id"] for s in again] == [void0["id"], void1["id"], regraded["id"]]  # re-export is idempotent
    assert len({void0["id"], void1["id"], regraded["id"], sent["id"]}) == 4
    for statement in (void0, void1, regraded):
        VALIDATOR.validate(statement)
        tincan.Statement.from_json(json.dumps(statement))


def test_graderow_rejects_naive_revision_times() -> None:
    with pytest.raises(ValueError, match="revised_at"):
        row(revised_at=(datetime(2025, 3, 2, 9, 0),))


def test_xapi_duplicate_run_ids() -> None:
    assert len(xapi_statements([row(), row()])) == 1  # the same run twice is one statement
    with pytest.raises(ValueError, match="run_id 'run-1'"):
        xapi_statements([row(), row(score=12.0)])


@pytest.mark.parametrize(
    ("score", "scaled", "raw"),
    [
        (-5.0, 0.0, 0.0),
        (0.0, 0.0, 0.0),
        (33.333333, 0.3333, 33.33),
        (99.995, 1.0, 100.0),
        (100.0, 1.0, 100.0),
        (104.2, 1.0, 100.0),
    ],
)
def test_xapi_scaled_score_bounds(score: float, scaled: float, raw: float) -> None:
    (statement,) = xapi_statements([row(score=score)])
    assert statement["result"]["score"] == {"scaled": scaled, "raw": raw, "min": 0, "max": 100}
    VALIDATOR.validate(statement)


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_xapi_scaled_always_in_unit_interval(score: float) -> None:
    (statement,) = xapi_statements([row(score=score)])
    result = statement["result"]["score"]
    assert 0.0 <= result["scaled"] <= 1.0
    assert round(result["scaled"], 4) == result["scaled"]
    assert 0 <= result["raw"] <= 100


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "PT0S"),
        (timedelta(seconds=0.5), "PT0.5S"),
        (timedelta(seconds=1.25), "PT1.25S"),
        (timedelta(seconds=59.999), "PT1M"),  # 0.01 s precision carries into minutes
        (timedelta(minutes=5), "PT5M"),
        (timedelta(hours=1, minutes=2, seconds=3), "PT1H2M3S"),
        (timedelta(hours=1, seconds=7), "PT1H7S"),
        (timedelta(days=1, hours=2), "PT26H"),
    ],
)
def test_xapi_duration_formatting(delta: timedelta, text: str) -> None:
    (statement,) = xapi_statements([row(finished_at=T0 + delta)])
    assert statement["result"]["duration"] == text
    VALIDATOR.validate(statement)


@given(st.integers(min_value=0, max_value=10 * 24 * 360_000))
def test_xapi_duration_round_trips_through_tincan(centiseconds: int) -> None:
    delta = timedelta(milliseconds=10 * centiseconds)
    (statement,) = xapi_statements([row(finished_at=T0 + delta)])
    assert tincan.Result(duration=statement["result"]["duration"]).duration == delta


def test_xapi_timestamp_is_utc_with_z() -> None:
    athens = timezone(timedelta(hours=2))
    finished = datetime(2025, 7, 14, 18, 30, 15, 123456, tzinfo=athens)
    (statement,) = xapi_statements([row(started_at=finished - timedelta(minutes=30), finished_at=finished)])
    assert statement["timestamp"] == "2025-07-14T16:30:15.123Z"
    assert statement["result"]["duration"] == "PT30M"


# A valid statement broken in one way each: the schema must say no (so it is not vacuous).
BREAKAGES = {
    "scaled above 1": lambda s: s["result"]["score"].update(scaled=1.5),
    "no actor": lambda s: s.pop("actor"),
    "two identifiers": lambda s: s["actor"].update(mbox="mailto:eleni@example.org"),
    "account without homePage": lambda s: s["actor"]["account"].pop("homePage"),
    "verb id not an IRI": lambda s: s["verb"].update(id="completed it"),
    "bad language map key": lambda s: s["verb"].update(display={"en US": "completed"}),
    "duration not ISO 8601": lambda s: s["result"].update(duration="1h2m"),
    "empty duration": lambda s: s["result"].update(duration="PT"),
    "timestamp without zone": lambda s: s.update(timestamp="2025-03-01T10:02:03"),
    "extension key not an IRI": lambda s: s["context"]["extensions"].update({"run id": "x"}),
    "success not boolean": lambda s: s["result"].update(success="yes"),
    "unknown property": lambda s: s.update(grade=87.5),
    "id not a UUID": lambda s: s.update(id="run-1"),
    "bad context language": lambda s: s["context"].update(language="en_US!"),
}


@pytest.mark.parametrize("breakage", sorted(BREAKAGES))
def test_schema_rejects_broken_statements(breakage: str) -> None:
    statement = copy.deepcopy(xapi_statements([row()])[0])
    VALIDATOR.validate(statement)
    BREAKAGES[breakage](statement)
    assert not VALIDATOR.is_valid(statement)


# TinCanPython checks types and formats but not ranges, IRIs or required members (a missing
# actor, scaled above 1, two identifiers pass it): the schema above covers those.
TINCAN_CATCHES = [
    "bad context language",
    "duration not ISO 8601",  # raises AttributeError from inside tincan's own error path
    "empty duration",
    "id not a UUID",
    "timestamp without zone",
    "unknown property",
]


@pytest.mark.parametrize("breakage", TINCAN_CATCHES)
def test_tincan_rejects_broken_statements(breakage: str) -> None:
    statement = copy.deepcopy(xapi_statements([row()])[0])
    BREAKAGES[breakage](statement)
    text = json.dumps(statement)
    with pytest.raises((ValueError, TypeError, AttributeError)):
        tincan.Statement.from_json(text)


def test_xapi_json_is_sorted_indented_utf8_array() -> None:
    rows = cohort()
    text = xapi_json(rows)
    assert json.loads(text) == xapi_statements(rows)
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    for name in ("Ελένη Παπαδοπούλου", "João Conceição", "Jürgen Groß", "Καύσωνας στην Αθήνα"):
        assert name in text  # written as UTF-8, not \u escapes
    assert text.startswith("[\n  {\n")


def test_xapi_empty_input() -> None:
    assert xapi_statements([]) == []
    assert xapi_json([]) == "[]\n"


# --------------------------------------------------------------------------- dispatcher and determinism


def test_export_dispatches() -> None:
    rows = cohort()
    assert export(rows, "moodle") == moodle_csv(rows)
    assert export(rows, "openedx-sheet") == openedx_csv(rows)
    assert export(rows, "xapi") == xapi_json(rows)
    assert export(rows, "xapi", homepage="https://lms.example.edu") == xapi_json(
        rows, homepage="https://lms.example.edu"
    )
    bulk = {
        "course_id": "course-v1:X+Y+Z",
        "user_ids": {"eleni": 1, "juergen": 2, "joao": 3},
        "block_ids": BLOCKS,
        "points_possible": 1,
    }
    assert export(rows, "openedx-bulk", **bulk) == openedx_bulk_csv(rows, **bulk)  # type: ignore[arg-type]
    assert export(rows, "openedx", **bulk) == openedx_bulk_csv(rows, **bulk)  # type: ignore[arg-type]
    assert export(rows, "openedx-sheet") == openedx_csv(rows)
    assert set(FORMATS) == {"moodle", "openedx", "openedx-sheet", "xapi"}


def test_export_unknown_format() -> None:
    with pytest.raises(ValueError, match=r"unknown export format 'canvas'; expected one of: moodle, openedx"):
        export(cohort(), "canvas")  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["moodle", "openedx-sheet", "xapi"])
def test_exports_are_deterministic(fmt: str) -> None:
    rows = cohort()
    first = export(rows, fmt).encode("utf-8")  # type: ignore[arg-type]
    assert export(rows, fmt).encode("utf-8") == first  # type: ignore[arg-type]
    for seed in range(3):
        shuffled = rows[:]
        random.Random(seed).shuffle(shuffled)
        assert export(shuffled, fmt).encode("utf-8") == first  # type: ignore[arg-type]


@pytest.mark.parametrize("fmt", ["moodle", "openedx-sheet", "xapi"])
def test_exports_accept_any_iterable(fmt: str) -> None:
    rows = cohort()
    assert export(iter(rows), fmt) == export(rows, fmt)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- module hygiene


def test_lms_imports_nothing_from_scro_sim() -> None:
    tree = ast.parse(Path(lms.__file__).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." * node.level + (node.module or ""))
    assert not {name for name in imported if name.startswith((".", "scro_sim"))}


def test_public_api() -> None:
    assert sorted(lms.__all__) == sorted(
        [
            "FORMATS",
            "GRADING_METHODS",
            "PROVISIONAL_MODES",
            "GradeRow",
            "OutcomeEvidence",
            "outcome_evidence",
            "xapi_settings",
            "XAPI_ACTIVITY_SIMULATION",
            "XAPI_VERB_VOIDED",
            "XAPI_VERB_COMPLETED",
            "best_rows",
            "export",
            "graded_rows",
            "moodle_csv",
            "openedx_bulk_csv",
            "openedx_csv",
            "pseudonymise",
            "xapi_json",
            "xapi_statements",
        ]
    )


def test_doctests() -> None:
    result = doctest.testmod(lms)
    assert result.attempted > 0
    assert result.failed == 0
