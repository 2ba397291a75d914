"""The course map (scro_sim/course.py): its modules and outcomes, the scenarios' citations of them,
the errors for bad maps and bad citations, and results grouped by module in the reader's language."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from course_fixtures import DATA, MINI, course_citing

from scro_sim.cli import main
from scro_sim.course import coverage, load_course, parse_course
from scro_sim.debrief import module_results
from scro_sim.errors import CourseError, ScenarioError
from scro_sim.lms import GradeRow, xapi_statements
from scro_sim.resources import bundled_scenarios, course_file
from scro_sim.scenario import load_scenario
from scro_sim.scoring import ModuleEvidence, ScoreCard
from scro_sim.yamlio import load_yaml


@pytest.fixture(autouse=True)
def _mini_city(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))  # the mini scenario's city, by name



def load(text: str) -> tuple:
    return load_scenario("sc.yaml", text=text, base_dir=DATA)


def test_the_bundled_map_has_twenty_modules_in_four_groups_in_four_languages() -> None:
    course = load_course()
    assert course.example and course_file().name == "crisis.yaml"
    assert [g.id for g in course.groups] == ["a", "b", "c", "d"]
    assert [len(g.modules) for g in course.groups] == [5, 5, 5, 5]
    for g, m in course.modules():
        assert m.id.startswith(g.id.upper()) and 1 <= m.eqf_level <= 8 and m.ecvet_points > 0
        assert not g.title.missing() and not m.title.missing(), m.id
        for o in m.outcomes:
            assert o.id.startswith(m.id + ".") and not o.text.missing(), o.id


def test_the_map_file_says_it_is_an_example_to_adapt() -> None:
    text = course_file().read_text(encoding="utf-8")
    assert "EXAMPLE MAP, TO ADAPT" in text and "example: true" in text


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_bundled_criterion_cites_a_module_outcome_of_the_map(path: Path) -> None:
    sc, _city = load_scenario(path)
    course = load_course()
    for c in sc.rubric.criteria:
        ref = course.outcome(c.outcome)
        assert ref is not None, f"{c.id} cites {c.outcome}, not a course outcome"
        assert ref.module.id in sc.modules
    for lo in sc.learning_outcomes:
        assert course.module(lo.module) is not None


def test_cost_criteria_evidence_the_budget_module_and_warnings_the_communication_module() -> None:
    citations = [(p.stem, c.id, c.outcome) for p in bundled_scenarios() for c in load_scenario(p)[0].rubric.criteria]
    cov = coverage(load_course(), citations)
    assert {e for e, c in cov["D1"] if c == "CR_cost"} == {p.stem for p in bundled_scenarios()}
    assert all(c in ("CR_public_info", "CR_warnings", "CR_heat_messages") for _e, c in cov["A1"])
    assert sum(len(v) for v in cov.values()) == len(citations)  # every criterion lands in one module


def test_an_unknown_course_outcome_names_the_line_and_the_nearest_ones() -> None:
    text = course_citing().replace("outcome: A1.1", "outcome: C3.9", 1)
    with pytest.raises(ScenarioError) as err:
        load(text)
    line = next(i for i, s in enumerate(text.splitlines(), 1) if "outcome: C3.9" in s)
    assert re.search(rf"^sc\.yaml:{line}: rubric\.criteria\[1\]\.outcome: unknown course outcome 'C3\.9' "
                     r"\(did you mean 'C3\.\d'", str(err.value), re.M), str(err.value)


def test_a_course_outcome_whose_module_is_not_claimed_is_refused() -> None:
    with pytest.raises(ScenarioError, match=r"outcome 'D1\.1' belongs to module D1, which is not in modules"):
        load(course_citing().replace("outcome: A1.1", "outcome: D1.1", 1))


def test_an_unknown_module_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ScenarioError, match=r"modules\[2\]: unknown course module 'Z9' \(the course map has A1, A2"):
        load(course_citing().replace("modules: [A1, C4]", "modules: [A1, C4, Z9]"))


def test_a_scenario_from_before_the_map_keeps_its_own_outcomes() -> None:
    sc, _city = load(MINI)
    assert {c.outcome for c in sc.rubric.criteria} == {"LO1", "LO2"}
    with pytest.raises(ScenarioError, match=r"unknown learning outcome 'LO9' \(this scenario's learning outcomes: "
                                            r"LO1, LO2; or cite a course outcome such as A1\.1\)"):
        load(MINI.replace("outcome: LO2", "outcome: LO9", 1))


def test_a_missing_course_map_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SCRO_SIM_COURSE", str(tmp_path / "nowhere.yaml"))
    with pytest.raises(ScenarioError, match=r"the course map the criteria cite cannot be read "
                                            r"\(.*nowhere\.yaml: no course map at .*nowhere\.yaml"):
        load(course_citing())
    load(MINI)  # a scenario citing only its own outcomes needs no map


def _bad(text: str, tmp_path: Path) -> str:
    p = tmp_path / "map.yaml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(CourseError) as err:
        load_course(p)
    return str(err.value)


MAP = """format: scro-course/1
id: mine
title: {en: My course}
groups:
  - id: a
    title: {en: Skills}
    modules:
      - id: A1
        title: {en: Talking}
        eqf_level: 5
        ecvet_points: 2
        outcomes:
          - {id: A1.1, text: {en: Talk}}
          - {id: A1.2, text: {en: Listen}}
"""


def test_a_lecturers_own_map_is_used_through_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    p = tmp_path / "map.yaml"
    p.write_text(MAP, encoding="utf-8")
    monkeypatch.setenv("SCRO_SIM_COURSE", str(p))
    text = MINI.replace("modules: [M1]", "modules: [A1]").replace("module: M1", "module: A1").replace(
        "outcome: LO1", "outcome: A1.1").replace("outcome: LO2", "outcome: A1.2")
    sc, _city = load(text)
    assert {c.outcome for c in sc.rubric.criteria} == {"A1.1", "A1.2"}


@pytest.mark.parametrize(("change", "expected"), [
    (("id: A1.2", "id: A1.1"), r"map\.yaml:14: groups\[0\]\.modules\[0\]\.outcomes\[1\]\.id: duplicate outcome id 'A1\.1'"),
    (("id: A1.2", "id: B1.2"), r"map\.yaml:14: .*outcome id 'B1\.2' must start with its module's id"),
    (("eqf_level: 5", "eqf_level: 9"), r"map\.yaml:10: groups\[0\]\.modules\[0\]\.eqf_level: "),
    (("title: {en: Talking}", "title: {de: Reden}"), r"map\.yaml:9: groups\[0\]\.modules\[0\]\.title\.en: "),
    (("format: scro-course/1", "format: scro-course/2"), r"map\.yaml:1: format: "),
])
def test_a_bad_course_map_says_file_line_and_field(change: tuple[str, str], expected: str, tmp_path: Path) -> None:
    assert re.search(expected, _bad(MAP.replace(*change), tmp_path))


def test_a_course_map_that_is_not_a_mapping_or_not_yaml_is_refused(tmp_path: Path) -> None:
    assert "a course file must be a mapping" in _bad("- just a list\n", tmp_path)
    assert "map.yaml:" in _bad("groups: [\n", tmp_path)


def test_parse_course_checks_ids_built_in_code() -> None:
    loaded = load_yaml(None, path="m.yaml", text=MAP.replace("id: A1.2", "id: A1.1"))
    with pytest.raises(CourseError, match="duplicate outcome id"):
        parse_course(loaded.data, loaded.path, loaded.lines)


def _card(lang: str) -> ScoreCard:
    mods = [ModuleEvidence(module=m, outcomes=[f"{m}.1"], criteria=[f"CR_{m}"], score=50.0, provisional=False)
            for m in ("D1", "A1", "M13")]
    return ScoreCard(scenario="s", scenario_version="1", lang=lang, criteria=[], modules=mods, total=50, pass_mark=60,
                     passed=False, provisional=False, metrics={}, log_digest="")


def test_results_by_module_come_in_the_maps_order_titled_in_the_readers_language() -> None:
    rows = module_results(_card("el"), "el")
    assert [r.module for r in rows] == ["A1", "D1", "M13"]  # a module the map lacks comes last, by its id
    assert rows[0].label == "A1 Επικοινωνία σε κρίσεις και ενημέρωση του κοινού"
    assert rows[1].group_title == "Επιχειρησιακή και οικονομική διαχείριση"
    assert rows[2].label == "M13" and rows[2].title == ""


def test_xapi_statements_carry_the_grade_by_module() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    row = GradeRow(username="maria", email=None, display_name=None, scenario_id="s", scenario_title="S", run_id="r1",
                   score=70, passed=True, provisional=False, started_at=t, finished_at=t, language="de",
                   modules=("D1",), module_results=[("D1", "Budgetierung", 66.666)])
    (st,) = xapi_statements([row], homepage="https://lms.example.org", activity_base="https://lms.example.org/a/")
    ext = st["context"]["extensions"]
    key = next(k for k in ext if k.endswith("module-results"))
    assert json.loads(json.dumps(ext[key])) == [{"id": "D1", "title": {"de": "Budgetierung"}, "score": 66.67}]


def test_the_course_command_prints_the_coverage_of_every_module(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["course"]) == 0
    out = capsys.readouterr().out
    citations = [(p.stem, c.id, c.outcome) for p in bundled_scenarios() for c in load_scenario(p)[0].rubric.criteria]
    cov = coverage(load_course(), citations)
    covered = sum(1 for v in cov.values() if v)
    assert f"{covered} of 20 modules have evidence from {len(bundled_scenarios())} exercises" in out
    for mid, cites in cov.items():
        assert re.search(rf"^{mid}\t", out, re.M)
        for exercise, criterion in cites:
            assert f"{exercise}: {criterion}" in out
    missing = [m for m, v in cov.items() if not v]
    if missing:
        assert "no evidence yet: " + ", ".join(missing) in out
    else:  # every module is assessed: the line is left out
        assert "no evidence yet" not in out


def test_the_course_command_refuses_a_broken_map_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "map.yaml"
    p.write_text(MAP.replace("eqf_level: 5", "eqf_level: nine"), encoding="utf-8")
    assert main(["course", "--map", str(p)]) == 1
    assert re.search(r"map\.yaml:10: groups\[0\]\.modules\[0\]\.eqf_level: ", capsys.readouterr().err)


def test_validate_recognises_a_course_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(course_file())]) == 0
    assert "ok (course: course crisis: 20 modules in 4 groups)" in capsys.readouterr().out
    p = tmp_path / "map.yaml"
    p.write_text(MAP.replace("ecvet_points: 2", "ecvet_points: 0"), encoding="utf-8")
    assert main(["validate", str(p)]) == 1
    assert re.search(r"map\.yaml:11: groups\[0\]\.modules\[0\]\.ecvet_points: ", capsys.readouterr().err)


# -- the module group an exercise is written for (group:)


def test_a_scenario_names_the_module_group_it_is_written_for() -> None:
    sc, _city = load(course_citing().replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: c"))
    assert sc.group == "c"
    assert load(course_citing())[0].group is None  # optional


def test_an_exercise_written_for_two_groups_names_both_in_order() -> None:
    sc, _city = load(course_citing().replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: [c, a]"))
    assert sc.groups == ("c", "a")
    assert load(course_citing().replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: c"))[0].groups == ("c",)
    assert load(course_citing())[0].groups == ()


def test_an_unknown_group_in_a_list_is_named_by_its_place() -> None:
    text = course_citing().replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: [a, x]")
    with pytest.raises(ScenarioError) as err:
        load(text)
    assert "group[1]: unknown course module group 'x'" in str(err.value)


@pytest.mark.parametrize("given", ["[a, a]", "[]"])
def test_a_group_list_with_a_repeat_or_nothing_is_refused(given: str) -> None:
    with pytest.raises(ScenarioError) as err:
        load(course_citing().replace("modules: [A1, C4]", f"modules: [A1, C4]\ngroup: {given}"))
    assert "group" in str(err.value)


@pytest.mark.parametrize(("given", "meant"), [("C", "'c'"), ("transversal", "'a'"), ("Finanz", "'d'")])
def test_an_unknown_group_names_the_line_and_the_group_meant(given: str, meant: str) -> None:
    text = course_citing().replace("modules: [A1, C4]", f"modules: [A1, C4]\ngroup: {given}")
    with pytest.raises(ScenarioError) as err:
        load(text)
    line = text.splitlines().index(f"group: {given}") + 1
    assert (f"sc.yaml:{line}: group: unknown course module group {given!r} (did you mean {meant}?) "
            "(the course map has a, b, c, d)") in str(err.value)


def test_an_unknown_group_is_said_in_the_lecturers_language() -> None:
    from scro_sim.errors import say
    from scro_sim.i18n import translator

    with pytest.raises(ScenarioError) as err:
        load(course_citing().replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: e"))
    (problem,) = [p for p in err.value.problems if p.field == "group"]
    assert say(problem.message, translator("el")).startswith("άγνωστη ομάδα ενοτήτων του μαθήματος 'e'")


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_every_bundled_exercise_names_a_group_of_the_map(path: Path) -> None:
    sc, _city = load_scenario(path)
    assert sc.groups and all(load_course().group(g) is not None for g in sc.groups), f"{sc.id}: set group: (a, b, c or d)"


def test_the_course_command_counts_exercises_per_group_and_per_level(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["course"]) == 0
    out = capsys.readouterr().out
    scenarios = [load_scenario(p)[0] for p in bundled_scenarios()]
    groups = re.search(r"^exercises per group \(group:\): (.*)$", out, re.M)
    levels = re.search(r"^exercises per level: (.*)$", out, re.M)
    assert groups and levels, out
    for g in ("a", "b", "c", "d"):
        mine = sorted(s.id for s in scenarios if g in s.groups)
        assert f"{g} {len(mine)} ({', '.join(mine)})" in groups[1] if mine else f"{g} 0" in groups[1]
    for level in ("beginner", "intermediate", "advanced"):
        n = sum(s.level == level for s in scenarios)
        assert re.search(rf"\b{level} {n}\b", levels[1])
