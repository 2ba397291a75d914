"""Every bundled scenario: validates, plays to the end with each baseline, rewards its expert plan, speaks four languages.

A test per behaviour, parametrised over ``scenarios/*.yaml`` so a new bundled scenario is
checked the moment it is added.  Runs are few and short (a handful of seeds) to keep this fast.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from scro_sim.cli import main
from scro_sim.course import load_course
from scro_sim.engine import Simulation
from scro_sim.policy import PlanPolicy, baseline_policy
from scro_sim.scenario import load_scenario
from scro_sim.scoring import compute_metrics, metric_value

REPO = Path(__file__).parent.parent
BUNDLED = sorted((REPO / "scenarios").glob("*.yaml"))
LANGS = ("en", "de", "el", "pt")

# The metric each scenario is mainly about (the rubric's heaviest computed criterion).
KEY_METRIC = {
    "riverton_first_steps": "resilience_loss.power",
    "riverton_flood": "people_at_risk",
    "riverton_earthquake": "resilience_loss.health",
    "riverton_heatwave_blackout": "resilience_loss.total",
    "riverton_hospital_surge": "resilience_loss.health",
    "riverton_water_cyber": "resilience_loss.health",
    "riverton_storm_investment": "retained_loss",
    "riverton_phones_down": "resilience_loss.telecom",
    "riverton_heat_cyber": "resilience_loss.water",
    "riverton_recovery_funding": "net_cost",
    "riverton_blind_gauge": "people_at_risk",
    "riverton_short_handed": "resilience_loss.health",
}
# Scenarios written with every learner-facing text in all four languages (the flood's learning
# outcomes are still English only; tests/test_translations_complete.py checks every text of every file).
FULLY_TRANSLATED = {"riverton_earthquake", "riverton_first_steps", "riverton_flood", "riverton_heatwave_blackout",
                    "riverton_hospital_surge", "riverton_water_cyber", "riverton_storm_investment",
                    "riverton_phones_down", "riverton_heat_cyber", "riverton_recovery_funding",
                    "riverton_blind_gauge", "riverton_short_handed"}
SEEDS = (0, 1, 2)


def _ids(paths: list[Path]) -> list[str]:
    return [p.stem for p in paths]


@cache
def _load(path: Path) -> tuple[Any, Any]:
    return load_scenario(path)


def _policy(sc: Any, name: str) -> Any:
    return PlanPolicy(sc.reference_plans.expert, "expert") if name == "expert" else baseline_policy(name)


def test_the_five_promised_crises_are_bundled() -> None:
    ids = {_load(p)[0].id for p in BUNDLED}
    assert set(KEY_METRIC) <= ids, f"missing: {sorted(set(KEY_METRIC) - ids)}"


@pytest.mark.parametrize("path", BUNDLED, ids=_ids(BUNDLED))
def test_bundled_scenario_passes_scro_sim_validate(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(path)]) == 0
    assert ": ok (scenario:" in capsys.readouterr().out


@pytest.mark.parametrize("path", BUNDLED, ids=_ids(BUNDLED))
def test_bundled_scenario_has_an_expert_plan_and_a_key_metric(path: Path) -> None:
    sc, _ = _load(path)
    assert sc.reference_plans.expert is not None
    assert sc.id in KEY_METRIC, "add the new scenario's key metric to KEY_METRIC"
    assert any(c.kind == "computed" for c in sc.rubric.criteria)
    assert any(c.kind == "judged" for c in sc.rubric.criteria)
    # criteria cite module outcomes of the course map; every module claimed, and the module of every
    # learning outcome, has a criterion that evidences it
    course = load_course()
    evidenced = {course.outcome(c.outcome).module.id for c in sc.rubric.criteria}
    assert {lo.module for lo in sc.learning_outcomes} <= evidenced, "every learning outcome needs evidence"
    assert set(sc.modules) == evidenced, "modules lists exactly the modules the criteria evidence"


@pytest.mark.parametrize("policy", ["do_nothing", "greedy", "expert"])
@pytest.mark.parametrize("path", BUNDLED, ids=_ids(BUNDLED))
def test_bundled_scenario_runs_to_the_end_with_each_baseline(path: Path, policy: str) -> None:
    sc, city = _load(path)
    log = Simulation(sc, city, 5, _policy(sc, policy)).run()
    end = [r for r in log.records if r.kind == "run_end"]
    # the run fast-forwards past the last decision hour until the city has recovered (or the cap)
    assert len(end) == 1 and sc.duration_h - 1e-9 <= end[0].time <= sc.duration_h + sc.recovery_h + 1e-9
    if end[0].time < sc.duration_h + sc.recovery_h - 1e-9:
        assert end[0].data["damaged"] == 0 and end[0].data["assets_down"] == 0
    assert not [r for r in log.records if r.kind in ("decision_point", "inject") and r.time > sc.duration_h]
    assert any(r.kind == "hazard" for r in log.records), "the hazard never acted"


@pytest.mark.parametrize("path", BUNDLED, ids=_ids(BUNDLED))
def test_expert_plan_beats_doing_nothing_on_the_key_metric(path: Path) -> None:
    sc, city = _load(path)
    metric = KEY_METRIC[sc.id]

    def mean(policy: str) -> float:
        vals = []
        for seed in SEEDS:
            v = metric_value(compute_metrics(Simulation(sc, city, seed, _policy(sc, policy)).run()), metric)
            assert v is not None, f"{metric} has no value in {sc.id} seed {seed}"
            vals.append(v)
        return sum(vals) / len(vals)

    expert, nothing = mean("expert"), mean("do_nothing")
    # do-nothing is "the utilities on their own" (engine 0.4.0): they restore by their own order, so
    # the expert's edge is what a resilience officer adds (priorities, resources, warnings), not repair
    assert expert < 0.9 * nothing, f"{sc.id}: expert {metric} {expert:,.0f} vs do nothing {nothing:,.0f}"


def _text_gaps(value: Any, where: str) -> list[str]:
    if isinstance(value, tuple):  # feedback variants: every variant's text, the fallback too
        return [g for k, v in enumerate(value) for g in _text_gaps(v.text, f"{where} variant {k}")]
    if isinstance(value, str):
        return [f"{where}: English only"]
    if value is None:
        return [f"{where}: missing"]
    langs = value if isinstance(value, dict) else value.model_dump()
    return [f"{where}: no {lg}" for lg in LANGS if not (langs.get(lg) or "").strip()]


@pytest.mark.parametrize("path", BUNDLED, ids=_ids(BUNDLED))
def test_bundled_scenario_title_summary_and_briefing_exist_in_four_languages(path: Path) -> None:
    sc, _ = _load(path)
    gaps = [g for f in ("title", "summary", "briefing") for g in _text_gaps(getattr(sc, f), f)]
    assert not gaps, gaps


@pytest.mark.parametrize("path", [p for p in BUNDLED if p.stem in FULLY_TRANSLATED],
                         ids=_ids([p for p in BUNDLED if p.stem in FULLY_TRANSLATED]))
def test_new_scenario_learner_texts_exist_in_four_languages(path: Path) -> None:
    sc, _ = _load(path)
    gaps: list[str] = []
    for h in sc.hazards:
        gaps += _text_gaps(h.name, f"hazard {h.id} name")
    for lo in sc.learning_outcomes:
        gaps += _text_gaps(lo.text, f"outcome {lo.id}")
    for inj in sc.msel:
        if inj.pause:  # the messages that demand a decision
            gaps += _text_gaps(inj.sender, f"inject {inj.id} sender") + _text_gaps(inj.text, f"inject {inj.id} text")
    for q in sc.questions:
        gaps += _text_gaps(q.text, f"question {q.id}")
    for c in sc.rubric.criteria:
        gaps += _text_gaps(c.title, f"criterion {c.id} title")
        for rating in "PSMU":
            gaps += _text_gaps(getattr(c.feedback, rating), f"criterion {c.id} feedback {rating}")
    assert not gaps, gaps


def test_text_check_notices_an_english_only_field() -> None:
    assert _text_gaps("Flood", "title") == ["title: English only"]
    assert _text_gaps({"en": "Flood", "de": "Hochwasser", "el": "", "pt": "Cheia"}, "title") == ["title: no el"]
