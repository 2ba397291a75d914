"""``scro-sim lint`` (scro_sim/lint.py): a scenario checked as an exercise, beyond the schema."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from course_fixtures import DATA, MINI, course_citing

from scro_sim.cli import main
from scro_sim.lint import RULES, Finding, has_errors, lint_file, lint_scenario
from scro_sim.resources import bundled_scenarios
from scro_sim.scenario import load_scenario


@pytest.fixture(autouse=True)
def _mini_city(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCRO_SIM_CITY_PATH", str(DATA))  # the mini scenario's city, by name



def lint_text(text: str, tmp_path: Path) -> list[Finding]:
    p = tmp_path / "sc.yaml"
    p.write_text(text, encoding="utf-8")
    return lint_file(p)


def line_of(text: str, needle: str) -> int:
    return next(i for i, s in enumerate(text.splitlines(), 1) if needle in s)


def of(findings: list[Finding], rule: str, severity: str = "error") -> list[Finding]:
    return [f for f in findings if f.rule == rule and f.severity == severity]


@pytest.mark.parametrize("path", bundled_scenarios(), ids=lambda p: p.stem)
def test_the_bundled_library_has_no_lint_errors(path: Path) -> None:
    # missing translations are warnings (another change translates the bundled texts); nothing else is found
    findings = lint_file(path)
    assert not has_errors(findings), "\n".join(map(str, findings))
    assert {f.rule for f in findings} <= {"translation"}


def test_a_clean_fixture_has_no_finding_but_its_missing_translations(tmp_path: Path) -> None:
    findings = lint_text(course_citing(), tmp_path)
    assert {(f.rule, f.severity) for f in findings} == {("translation", "warning")}


def test_a_claimed_module_without_a_criterion_is_an_error(tmp_path: Path) -> None:
    text = course_citing().replace("modules: [A1, C4]", "modules: [A1, C4, C5]")
    (f,) = of(lint_text(text, tmp_path), "objective-criterion")
    assert f.line == line_of(text, "modules: [A1, C4, C5]")
    assert "modules[2]: module C5 is claimed but no criterion cites one of its outcomes" in f.message


def test_a_learning_outcome_without_a_criterion_is_an_error(tmp_path: Path) -> None:
    text = course_citing().replace("modules: [A1, C4]", "modules: [A1, C4, C5]").replace(
        "module: A1, text: Warn", "module: C5, text: Warn")
    messages = [f.message for f in of(lint_text(text, tmp_path), "objective-criterion")]
    assert any("learning outcome LO2 (module C5) has no criterion" in m for m in messages), messages


def test_a_criterion_citing_only_the_scenarios_own_outcome_is_a_warning(tmp_path: Path) -> None:
    findings = lint_text(MINI, tmp_path)
    warned = of(findings, "criterion-outcome", "warning")
    assert len(warned) == 4 and all("not a module outcome of the course map" in f.message for f in warned)
    assert warned[0].line == line_of(MINI, "outcome: LO1")


def test_an_inject_waiting_for_a_gauge_the_flood_never_reaches_never_fires(tmp_path: Path) -> None:
    text = course_citing().replace("when: {gauge_above: 3.0}", "when: {gauge_above: 9.0}")
    findings = lint_text(text, tmp_path)
    f, q = of(findings, "inject-fires")
    assert f.line == line_of(text, "id: I2") and "flood peaks at 5 m at most" in f.message
    assert q.line == line_of(text, "at_inject: I2") and "question Q2 is never asked: inject I2 never fires" in q.message
    (ea,) = of(findings, "expected-action")
    assert "EA2 is never asked for: its inject I2 never fires" in ea.message


def test_a_contingency_no_expected_action_names_never_fires_nor_does_a_question_on_it(tmp_path: Path) -> None:
    text = course_citing().replace(", contingency: I3}", "}")
    if "at_inject: I3" not in text:
        text = text.replace("questions:\n", "questions:\n  - {id: Q9, at_inject: I3, text: Why so late?}\n", 1)
    found = of(lint_text(text, tmp_path), "inject-fires")
    assert any("inject I3 can never fire: it is a contingency" in f.message for f in found), found
    assert any("question Q9 is never asked: inject I3 never fires" in f.message for f in found), found


def test_an_inject_chained_on_one_that_never_fires_never_fires_either(tmp_path: Path) -> None:
    text = course_citing().replace("when: {gauge_above: 3.0}", "when: {gauge_above: 9.0}").replace(
        "  - id: I3\n    contingency: true\n",
        "  - id: I5\n    when: {inject: I2}\n    sender: Mayor\n    channel: phone\n    text: And now?\n"
        "  - id: I3\n    contingency: true\n")
    found = of(lint_text(text, tmp_path), "inject-fires")
    assert any("inject I5 can never fire: it waits for inject 'I2', which never fires" in f.message for f in found)


def test_an_expected_action_whose_target_the_action_cannot_name_cannot_be_met(tmp_path: Path) -> None:
    text = course_citing().replace("action: protect_asset, targets: [SS1]", "action: protect_asset, targets: [D1]")
    (f,) = of(lint_text(text, tmp_path), "expected-action")
    assert f.line == line_of(text, "targets: [D1]")
    assert "EA2 cannot be met: protect_asset names an asset and 'D1' is not one" in f.message


def test_an_expected_action_dearer_than_the_whole_budget_cannot_be_met(tmp_path: Path) -> None:
    text = course_citing().replace("  close_road: {cost: 100}", "  close_road: {cost: 100}\n  deploy_generator: {cost: 500000}")
    (f,) = of(lint_text(text, tmp_path), "expected-action")
    assert "EA3 cannot be met: deploy_generator costs 500,000 EUR, more than the whole budget (100,000)" in f.message


def test_an_expected_generator_with_no_generators_cannot_be_met(tmp_path: Path) -> None:
    text = course_citing().replace("generators: {count: 2,", "generators: {count: 0,")
    (f,) = of(lint_text(text, tmp_path), "expected-action")
    assert "EA3 cannot be met: deploy_generator: it needs mobile generators and resources.generators.count is 0" in f.message


def test_untranslated_texts_are_warnings_at_their_lines(tmp_path: Path) -> None:
    text = course_citing()
    found = {f.message: f for f in of(lint_text(text, tmp_path), "translation", "warning")}
    summary = found["summary: not given in de, el, pt"]
    assert summary.line == line_of(text, "summary: The river rises")
    assert found["title: not given in pt"].line == line_of(text, "title:")
    assert found["briefing: not given in de, el"].severity == "warning"
    assert not any(m.startswith("reference_plans") for m in found)


def test_a_fully_translated_text_is_not_reported(tmp_path: Path) -> None:
    text = course_citing().replace("  el: Μικρή πλημμύρα\n", "  el: Μικρή πλημμύρα\n  pt: Mini cheia\n")
    assert "title: not given in pt" not in {f.message for f in lint_text(text, tmp_path)}


def test_a_scenario_that_does_not_load_is_one_schema_error_per_problem(tmp_path: Path) -> None:
    text = course_citing().replace("outcome: A1.1", "outcome: A9.9", 1)
    (f,) = lint_text(text, tmp_path)
    assert (f.rule, f.severity, f.line) == ("schema", "error", line_of(text, "outcome: A9.9"))
    assert "rubric.criteria[1].outcome: unknown course outcome 'A9.9'" in f.message


def test_findings_read_file_line_rule_message() -> None:
    f = Finding("sc.yaml", 12, "translation", "warning", "summary: not given in de")
    assert str(f) == "sc.yaml:12: translation: warning: summary: not given in de"
    assert str(Finding("sc.yaml", 3, "inject-fires", "error", "x")) == "sc.yaml:3: inject-fires: x"
    assert set(RULES) >= {"objective-criterion", "criterion-outcome", "inject-fires", "expected-action", "translation",
                          "discriminates"}


def test_lint_scenario_works_on_a_loaded_scenario() -> None:
    sc, city = load_scenario(bundled_scenarios()[0])
    assert not has_errors(lint_scenario(sc, city))


def test_the_command_exits_non_zero_on_errors_and_prints_one_line_each(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "sc.yaml"
    p.write_text(course_citing().replace("when: {gauge_above: 3.0}", "when: {gauge_above: 9.0}"), encoding="utf-8")
    assert main(["lint", str(p), "--errors-only"]) == 1
    out = capsys.readouterr()
    lines = out.out.strip().splitlines()
    assert lines and all(re.match(rf"^{re.escape(str(p))}:\d+: (inject-fires|expected-action): ", s) for s in lines)
    assert "3 errors, 0 warnings" in out.err


def test_the_command_passes_a_bundled_scenario_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "riverton_water_cyber"]) == 0
    assert "0 errors" in capsys.readouterr().err


def test_the_command_refuses_a_negative_calibration(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lint", "riverton_flood", "--calibrate", "-1"]) == 2
    assert "--calibrate must be 0 or more" in capsys.readouterr().err


def test_calibration_flags_become_discrimination_errors_at_their_criteria(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import scro_sim.calibration as calibration

    seen: dict[str, int] = {}

    def fake_calibrate(sc, city, n, seed_base=0, *, workers=None):  # type: ignore[no-untyped-def]
        seen.update(n=n, workers=workers)
        return object()

    monkeypatch.setattr(calibration, "calibrate", fake_calibrate)
    monkeypatch.setattr(calibration, "check", lambda cal: [
        calibration.Flag("do_nothing_criteria", "do-nothing passes it in 40 % of seeds", criterion="C2"),
        calibration.Flag("expert_spread", "the expert's total spreads by 30 points")])
    text = course_citing()
    p = tmp_path / "sc.yaml"
    p.write_text(text, encoding="utf-8")
    assert not of(lint_file(p), "discriminates")  # off unless asked: it plays the scenario many times
    found = of(lint_file(p, calibrate_n=7), "discriminates")
    assert seen == {"n": 7, "workers": 1}
    by_msg = {f.message: f.line for f in found}
    assert by_msg["rubric.criteria[1]: C2: do-nothing passes it in 40 % of seeds (on 7 paired seeds)"] == line_of(text, "id: C2")
    assert by_msg["rubric: the expert's total spreads by 30 points (on 7 paired seeds)"] == line_of(text, "rubric:")


def test_each_action_says_when_a_scenario_gives_it_nothing_to_use() -> None:
    from scro_sim.engine.actions import REGISTRY

    sc, _city = load_scenario("sc.yaml", text=course_citing(), base_dir=DATA)
    priced = [REGISTRY[n] for n in ("buy_insurance", "assess_damage", "file_claim")]  # they pay or document repairs
    share = REGISTRY["share_data"]
    assert all(k.never_possible(sc) is None for k in REGISTRY.values() if k not in priced and k is not share)
    assert "no data platform" in share.never_possible(sc)  # every network is in view already
    for k in priced:
        assert "nothing is priced" in k.never_possible(sc)  # no damage_costs: no repair cost to pay or claim
        assert k.never_possible(sc.model_copy(update={"damage_costs": {}})) is None
    res = sc.resources
    no_aid = sc.model_copy(update={"resources": res.model_copy(update={
        "mutual_aid": res.mutual_aid.model_copy(update={"crews": 0})})})
    assert "brings no crews" in REGISTRY["request_mutual_aid"].never_possible(no_aid)
    dear_aid = sc.model_copy(update={"resources": res.model_copy(update={
        "mutual_aid": res.mutual_aid.model_copy(update={"cost": 1e6})})})
    assert "more than the whole budget" in REGISTRY["request_mutual_aid"].never_possible(dear_aid)
    all_in = sc.model_copy(update={"resources": res.model_copy(update={
        "mutual_aid": res.mutual_aid.model_copy(update={"cost": res.budget})})})
    assert REGISTRY["request_mutual_aid"].never_possible(all_in) is None  # the whole budget may pay for it
    no_crews = no_aid.model_copy(update={"resources": no_aid.resources.model_copy(update={"crews": ()})})
    assert REGISTRY["dispatch_crew"].never_possible(no_crews) == (
        "it needs crews and the scenario has none (resources.crews, mutual_aid)")
    assert REGISTRY["dispatch_crew"].never_possible(no_aid) is None  # its own crews remain


def test_an_expected_action_may_name_a_crew_team_only_when_the_action_is_met_by_one() -> None:
    """recall_staff names a crew team (riverton_short_handed asks for one); dispatch_crew is met by its asset."""
    from scro_sim.lint import _target_problem

    _sc, city = load_scenario(next(p for p in bundled_scenarios() if p.stem == "riverton_short_handed"))
    assert _target_problem("recall_staff", "power_crews", city, ("power_crews",)) is None
    assert "'power_crews' is not one" in _target_problem("dispatch_crew", "power_crews", city, ("power_crews",))
    assert "'nobody' is not one" in _target_problem("recall_staff", "nobody", city, ("power_crews",))


def test_a_group_holding_under_30_percent_of_the_rubric_weight_is_a_warning_at_its_line(tmp_path: Path) -> None:
    # the mini scenario's criteria weigh 2+1 for C4.1 (group c) and 1+1 for A1.1 (group a); one A1.1 made C4.1
    text = (course_citing().replace("outcome: A1.1", "outcome: C4.1", 1)
            .replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: a"))
    (f,) = of(lint_text(text, tmp_path), "group-weight", "warning")
    assert f.line == line_of(text, "group: a")
    assert ("group: the exercise is written for group a, but its criteria give that group only 20 % of the rubric's "
            "weight (at least 30 % expected; group c has 80 %)") in str(f)


def test_each_listed_group_under_30_percent_is_a_warning_of_its_own(tmp_path: Path) -> None:
    text = (course_citing().replace("outcome: A1.1", "outcome: C4.1", 1)
            .replace("modules: [A1, C4]", "modules: [A1, C4]\ngroup: [c, a]"))
    (f,) = of(lint_text(text, tmp_path), "group-weight", "warning")  # c holds 80 %: only a is reported
    assert "written for group a, but its criteria give that group only 20 %" in str(f)


@pytest.mark.parametrize("group", ["a", "c", None])
def test_a_group_holding_30_percent_or_more_or_no_group_is_not_reported(tmp_path: Path, group: str | None) -> None:
    text = course_citing()
    if group:  # a holds 40 %, c 60 %
        text = text.replace("modules: [A1, C4]", f"modules: [A1, C4]\ngroup: {group}")
    assert not [f for f in lint_text(text, tmp_path) if f.rule == "group-weight"]
