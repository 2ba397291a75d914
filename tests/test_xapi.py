"""xAPI statements: addresses from settings, the roll-up to module outcomes and the course, real durations.

Every statement is checked against the xAPI 1.0.3 JSON Schema in tests/data/lms/ and parsed by
TinCanPython (``edx-tincan-py35``), as in tests/test_lms.py.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jsonschema
import pytest
import tincan

from scro_sim.lms import GradeRow, OutcomeEvidence, outcome_evidence, xapi_settings, xapi_statements

SCHEMA = json.loads((Path(__file__).parent / "data" / "lms" / "xapi-statement-1.0.3.schema.json").read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BASE = "https://lms.example.edu/scro/"


def row(**changes: object) -> GradeRow:
    fields: dict[str, object] = {
        "username": "maria", "email": None, "display_name": None, "scenario_id": "riverton_flood",
        "scenario_title": "Riverton flood", "run_id": "r1", "score": 80.0, "passed": True, "provisional": False,
        "started_at": T0, "finished_at": T0 + timedelta(minutes=40), "modules": ("M14",),
        "outcomes": (OutcomeEvidence("M13", "LO1", "P", ("CR_a",)), OutcomeEvidence("M14", "LO2", "U", ("CR_b",)),
                     OutcomeEvidence("M14", "LO3", None, ("CR_c",))),
    }
    fields.update(changes)
    return GradeRow(**fields)  # type: ignore[arg-type]


def test_outcomes_roll_up_to_their_module_and_the_course() -> None:
    statements = xapi_statements([row()], homepage="https://lms.example.edu", activity_base=BASE)
    for statement in statements:
        VALIDATOR.validate(statement)
        tincan.Statement.from_json(json.dumps(statement))
    completed, lo1, lo2 = statements  # LO3 awaits an assessor: not sent
    assert [p["id"] for p in completed["context"]["contextActivities"]["parent"]] == [BASE + "module/M13",
                                                                                   BASE + "module/M14"]
    assert completed["result"]["duration"] == "PT40M"
    for outcome, module, verb in ((lo1, "M13", "passed"), (lo2, "M14", "failed")):
        assert outcome["verb"]["id"] == f"http://adlnet.gov/expapi/verbs/{verb}"
        assert outcome["context"]["contextActivities"]["parent"][0]["id"] == BASE + "module/" + module
        assert [g["id"] for g in outcome["context"]["contextActivities"]["grouping"]] == [
            BASE + "course", BASE + "scenario/riverton_flood"]
        assert outcome["context"]["statement"] == {"objectType": "StatementRef", "id": completed["id"]}
    assert lo1["object"]["id"] == BASE + "module/M13/outcome/LO1"


def test_an_outcome_takes_its_weakest_rated_criterion() -> None:
    criteria = [{"id": "a", "module": "M1", "outcome": "LO1", "rating": "P", "status": "rated"},
                {"id": "b", "module": "M1", "outcome": "LO1", "rating": "M", "status": "judged"},
                {"id": "c", "module": "M1", "outcome": "LO2", "rating": None, "status": "awaiting judgement"},
                {"id": "d", "module": "M1", "outcome": "LO3", "rating": None, "status": "not applicable"}]
    assert outcome_evidence(criteria) == (OutcomeEvidence("M1", "LO1", "M", ("a", "b")),
                                          OutcomeEvidence("M1", "LO2", None, ("c",)))


def test_addresses_come_from_the_option_then_the_environment() -> None:
    env = {"SCRO_SIM_XAPI_HOMEPAGE": "https://env.example/", "SCRO_SIM_XAPI_ACTIVITY_BASE": "https://env.example/a"}
    assert xapi_settings(env={}) == {"homepage": "https://crisis-scro.example/scro_sim",
                                     "activity_base": "https://crisis-scro.example/scro_sim/"}
    assert xapi_settings(env=env) == {"homepage": "https://env.example/", "activity_base": "https://env.example/a/"}
    assert xapi_settings("https://cli.example", None, env)["homepage"] == "https://cli.example"


@pytest.mark.parametrize(("given", "env", "where"), [
    ("lms.example.edu", {}, "--xapi-homepage"),
    (None, {"SCRO_SIM_XAPI_HOMEPAGE": "mailto:a@b"}, "$SCRO_SIM_XAPI_HOMEPAGE"),
])
def test_a_non_iri_is_refused_naming_where_it_came_from(given: str | None, env: dict[str, str], where: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(where) + " must be an absolute IRI"):
        xapi_settings(given, None, env)


def test_the_cli_refuses_a_bad_iri_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from scro_sim.cli import main

    assert main(["--db", f"sqlite:///{tmp_path / 'x.sqlite'}", "export", "--format", "xapi",
                 "--xapi-activity-base", "not an iri"]) == 1
    err = capsys.readouterr().err
    assert "--xapi-activity-base must be an absolute IRI" in err and "Traceback" not in err


def test_an_app_game_lasts_from_its_creation_to_its_finish(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Games played in the app were scored with started == finished (PT0S); now they start when created."""
    from scro_sim.assessment import grade_rows
    from scro_sim.game import GameSession
    from scro_sim.resources import scenarios_dir
    from scro_sim.scenario import load_scenario
    from scro_sim.store import Store

    monkeypatch.setenv("SCRO_SIM_SECRET", "xapi-test-secret-0123456789abcdef")
    scenario, city = load_scenario(scenarios_dir() / "riverton_flood.yaml")
    with Store(f"sqlite:///{tmp_path / 'g.sqlite'}") as store:
        game = GameSession.start(scenario, city, 3, store=store, game_id="g1", learner="maria", cohort="c1")
        game.skip_to_end()
        (graded,) = grade_rows(store, "c1")
        created = store.load_game("g1").created_at
    assert graded.started_at == created < graded.finished_at
    statements = xapi_statements([graded])
    assert statements[0]["result"]["duration"] not in ("PT0S", "PT0.00S")
    assert len(statements) > 1 and graded.outcomes  # the real rubric's outcomes roll up too
    for statement in statements:
        VALIDATOR.validate(statement)
        tincan.Statement.from_json(json.dumps(statement))


def test_a_regraded_run_voids_its_earlier_run_and_outcome_statements() -> None:
    first = xapi_statements([row()])
    regraded = xapi_statements([row(score=60.0, revised_at=(T0 + timedelta(days=1),))])
    voids = [s for s in regraded if s["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"]
    assert {v["object"]["id"] for v in voids} >= {s["id"] for s in first}  # LO3 was never sent: voiding it is harmless
    assert not {s["id"] for s in regraded} & {s["id"] for s in first}
    for statement in voids:
        VALIDATOR.validate(statement)
        tincan.Statement.from_json(json.dumps(statement))
