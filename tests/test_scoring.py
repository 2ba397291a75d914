"""Metrics and grading as plain functions of an event log, checked on logs written by hand.

The hand log (``hand_log``) is a 10 h run of 1000 people in two districts:

* D1 (600 people, vulnerable share 0.5) loses power 2-6 h, then 40 people stay without it
  to the end; D2 (400 people, share 0.25) loses power 2-5 h.
  Power loss: D1 600*4 + 40*4 = 2560, D2 400*3 = 1200: **3760 person-hours**;
  vulnerable: D1 300*4 + 20*4 = 1280, D2 100*3 = 300: **1580**.
  Unserved totals 600, 1000 (2 h), 600 (5 h), 40 (6 h): above 5 % (50) until **6 h**.
* SS is down 2-6 h (**4 h**); the hospital H (critical) goes down at 3 h and is still down
  at the end (**7 h**); its overload record at 4 h is not downtime.
* Exposure: 120 at risk in D1 (60 vulnerable), 30 in D2 (7.5): **150** and **67.5**.
* Costs: warn_public 500, dispatch_crew 1500 twice, deploy_generator 4000: **7500** of 10000.
* Expected actions: EA1 met 1 h early (**-1**), EA2 met 2 h late (**+2**), EA3 missed (**None**);
  done by the deadline: **1/3**.
"""

from __future__ import annotations

from typing import Any

import pytest
from enginekit import make_scenario

from scro_sim.log import EventLog
from scro_sim.policy import Greedy
from scro_sim.scenario import Criterion, Rubric, Scenario
from scro_sim.scoring import (
    compute_metrics,
    evidence,
    grade,
    metric_value,
    rate,
    records_by_seq,
    relative,
    service_curves,
)
from scro_sim.scoring.metrics import relative_applies


def service(log: EventLog, t: float, district: str, unserved: int, vuln_share: float, pop: int,
            svc: str = "power") -> None:
    log.append(t, "service", district, {"service": svc, "unserved": unserved,
                                         "unserved_vulnerable": unserved * vuln_share, "population": pop})


def expected(log: EventLog, t: float, eid: str, status: str, **data: Any) -> None:
    log.append(t, "expected", eid, {"status": status, **data})


def hand_log(*, end: float | None = 10.0) -> EventLog:
    log = EventLog()
    log.append(0, "run_start", "hand", {"duration_h": 10.0, "population": 1000, "critical": ["H"], "budget": 10000,
                                        "districts": {"D1": {"population": 600, "vulnerable_share": 0.5},
                                                      "D2": {"population": 400, "vulnerable_share": 0.25}}})
    log.append(0, "inject", "I1", {"text": "River rising"})
    expected(log, 0, "EA1", "due", action="warn_public", due_h=2.0, inject="I1")
    expected(log, 0, "EA2", "due", action="dispatch_crew", due_h=1.0, inject="I1")
    expected(log, 0, "EA3", "due", action="evacuate", due_h=3.0, inject="I1")
    log.append(1, "decision", "0", {"time_h": 1.0, "rationale": "Warn first.", "answers": {"Q1": "Life safety first"},
                                    "actions": [{"action": "warn_public", "target": "all", "message": "Go uphill now"}]})
    log.append(1, "cost", "warn_public", {"amount": 500.0})
    expected(log, 1, "EA1", "met", action_time_h=1.0, due_h=2.0, late_h=-1.0)
    log.append(2, "asset_down", "SS", {"cause": "flooded"})
    service(log, 2, "D1", 600, 0.5, 600)
    service(log, 2, "D2", 400, 0.25, 400)
    log.append(3, "asset_down", "H", {"cause": "no power"})
    log.append(3, "exposure", "D1", {"at_risk": 120.0, "at_risk_vulnerable": 60.0})
    log.append(3, "decision", "1", {"time_h": 3.0, "rationale": "", "answers": {},
                                    "actions": [{"action": "dispatch_crew", "target": "SS"},
                                                {"action": "deploy_generator", "target": "H"}]})
    log.append(3, "cost", "dispatch_crew", {"amount": 1500.0})
    log.append(3, "cost", "deploy_generator", {"amount": 4000.0})
    expected(log, 3, "EA2", "met", action_time_h=3.0, due_h=1.0, late_h=2.0)
    expected(log, 3, "EA3", "missed", due_h=3.0)
    log.append(4, "asset_down", "H", {"cause": "overloaded", "overload": True})
    service(log, 5, "D2", 0, 0.25, 400)
    log.append(5, "exposure", "D2", {"at_risk": 30.0, "at_risk_vulnerable": 7.5})
    log.append(6, "asset_up", "SS", {"on_backup": False})
    service(log, 6, "D1", 40, 0.5, 600)
    log.append(7, "cost", "dispatch_crew", {"amount": 1500.0})
    if end is not None:
        log.append(end, "run_end", "hand", {"spent": 7500.0})
    return log


# --------------------------------------------------------------------------------------------
# metrics


def test_resilience_loss_is_unserved_person_hours() -> None:
    m = compute_metrics(hand_log())
    assert m.resilience_loss == {"power": 3760.0, "water": 0.0, "telecom": 0.0, "health": 0.0}
    assert m.flat()["resilience_loss.total"] == 3760.0


def test_vulnerable_weighting_uses_each_districts_share() -> None:
    m = compute_metrics(hand_log())
    assert m.resilience_loss_vulnerable["power"] == pytest.approx(1580.0)


def test_recovery_95_is_when_unserved_last_drops_to_five_percent() -> None:
    m = compute_metrics(hand_log())
    assert m.recovery_95["power"] == 6.0
    assert m.recovery_95["water"] == 0.0  # never fell


def test_recovery_95_is_none_when_never_recovered() -> None:
    log = hand_log(end=None)
    service(log, 8, "D2", 400, 0.25, 400)  # 440 unserved from 8 h to the end
    log.append(10, "run_end", "hand", {})
    m = compute_metrics(log)
    assert m.recovery_95["power"] is None
    assert m.resilience_loss["power"] == 3760.0 + 400 * 2


def test_downtime_counts_to_the_end_when_the_run_ends_while_down() -> None:
    m = compute_metrics(hand_log())
    assert m.downtime == {"H": 7.0, "SS": 4.0}  # the overload at 4 h changes nothing
    assert m.critical == ["H"]
    assert m.critical_downtime == 7.0
    assert metric_value(m, "downtime.NEVER_DOWN") == 0.0


def test_downtime_without_links_is_the_same_as_with_them() -> None:
    """The batch's faster pass (``links=False``) sums the same hours, the last period to the end of the run."""
    assert compute_metrics(hand_log(), links=False).downtime == compute_metrics(hand_log()).downtime == {
        "H": 7.0, "SS": 4.0}


def test_without_run_end_the_scenario_duration_closes_the_books() -> None:
    m = compute_metrics(hand_log(end=None))
    assert m.duration_h == 10.0
    assert m.downtime["H"] == 7.0


def test_people_at_risk_sums_exposure_records() -> None:
    m = compute_metrics(hand_log())
    assert m.people_at_risk == 150.0
    assert m.people_at_risk_vulnerable == 67.5


def test_cost_by_action_and_share_of_budget() -> None:
    m = compute_metrics(hand_log())
    assert m.cost_by_action == {"deploy_generator": 4000.0, "dispatch_crew": 3000.0, "warn_public": 500.0}
    assert m.cost == 7500.0
    assert m.flat()["cost_share"] == 0.75


def test_timeliness_early_negative_late_positive_missing_none() -> None:
    m = compute_metrics(hand_log())
    assert m.timeliness == {"EA1": -1.0, "EA2": 2.0, "EA3": None}
    assert m.expected_done_share == pytest.approx(1 / 3)


def test_downtime_links_keep_the_assets_own_records_then_the_first_evidence_up_to_60() -> None:
    log = EventLog()
    log.append(0, "run_start", "x", {"duration_h": 10.0, "population": 10, "critical": ["X"]})
    for _ in range(100):
        log.append(1, "damage", "X", {})  # seqs 1..100
    down = log.append(2, "asset_down", "X", {"cause": "flooded"}).seq
    up = log.append(5, "asset_up", "X", {}).seq
    m = compute_metrics(log)
    assert m.downtime == {"X": 3.0}
    assert m.links["downtime.X"] == [*range(1, 59), down, up]
    assert m.links["critical_downtime"] == [*range(1, 9), down, up]  # the first 10 of down, up, damage...


def test_link_lists_are_sorted_without_repeats_whatever_the_seqs_of_a_stored_log() -> None:
    log = hand_log()
    want = compute_metrics(log).links
    twice = compute_metrics(EventLog([*log, *log])).links  # every seq twice
    assert (twice["downtime.SS"], twice["downtime.H"]) == (want["downtime.SS"], want["downtime.H"])
    assert all(v == sorted(set(v)) for v in twice.values())
    n = len(log)
    backwards = compute_metrics(EventLog([r._replace(seq=n - 1 - r.seq) for r in log])).links
    assert backwards.keys() == want.keys()
    assert all(v == sorted(set(v)) for v in backwards.values())
    assert backwards["downtime.H"] == sorted(n - 1 - s for s in want["downtime.H"])


def test_a_log_without_run_start_is_refused() -> None:
    with pytest.raises(ValueError, match=r"^the log has no run_start record$"):
        compute_metrics(EventLog())


def test_service_curves_refuse_a_log_without_run_start_as_they_cannot_know_the_population() -> None:
    log = EventLog()
    log.append(1, "service", "D", {"service": "water", "unserved": 50})
    with pytest.raises(ValueError, match=r"^the log has no run_start record$"):
        service_curves(log)


def test_service_curves_give_served_share_over_time() -> None:
    df = service_curves(hand_log())
    power = df[df.service == "power"]
    assert power.served.tolist() == [1.0, 0.4, 0.0, 0.4, 0.96, 0.96]
    assert power.time_h.tolist() == [0.0, 2.0, 2.0, 5.0, 6.0, 10.0]
    assert ((df.served >= 0) & (df.served <= 1)).all()


def test_service_curves_end_at_the_runs_end_or_else_at_its_planned_duration() -> None:
    """A run that went on past its 10 h (a recovery horizon) ends its curves at run_end; a log cut before
    run_end ends them at the planned duration."""
    assert set(service_curves(hand_log(end=14.0)).groupby("service").time_h.max()) == {14.0}
    assert set(service_curves(hand_log(end=None)).groupby("service").time_h.max()) == {10.0}


# --------------------------------------------------------------------------------------------
# relative and rate


def test_relative_scale_between_baseline_and_expert() -> None:
    assert relative(100.0, 100.0, 20.0) == 0.0
    assert relative(20.0, 100.0, 20.0) == 1.0
    assert relative(60.0, 100.0, 20.0) == 0.5
    assert relative(0.0, 100.0, 20.0) == pytest.approx(1.25)  # beating the expert
    assert relative(140.0, 100.0, 20.0) == pytest.approx(-0.5)  # worse than doing nothing
    assert relative(None, 100.0, 20.0) is None
    assert relative(5.0, 5.0, 5.0) == 1.0  # no span: as good as both


def crit(thresholds: dict[str, float], lower_is_better: bool = True, metric: str = "cost", **kw: Any) -> Criterion:
    return Criterion.model_validate({"id": "C", "title": "t", "kind": "computed", "weight": 1, "outcome": "LO1",
                                     "metric": metric, "thresholds": thresholds, "lower_is_better": lower_is_better,
                                     "feedback": {"P": "p", "S": "s", "M": "m", "U": "u"}, **kw})


@pytest.mark.parametrize("value, want", [(-5, "P"), (10, "P"), (10.001, "S"), (20, "S"), (30, "M"), (30.5, "U"),
                                         (None, "U"), (float("nan"), "U")])
def test_rate_lower_is_better(value: float | None, want: str) -> None:
    assert rate(value, crit({"P": 10, "S": 20, "M": 30})) == want


@pytest.mark.parametrize("value, want", [(1.2, "P"), (0.9, "P"), (0.89, "S"), (0.6, "S"), (0.3, "M"), (0.29, "U"),
                                         (None, "U")])
def test_rate_higher_is_better(value: float | None, want: str) -> None:
    assert rate(value, crit({"P": 0.9, "S": 0.6, "M": 0.3}, lower_is_better=False)) == want


def test_thresholds_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError, match="ordered"):
        crit({"P": 30, "S": 20, "M": 10})
    with pytest.raises(ValueError, match="ordered"):
        crit({"P": 0.3, "S": 0.6, "M": 0.9}, lower_is_better=False)


# --------------------------------------------------------------------------------------------
# grade


FB = {"P": {"en": "Excellent", "de": "Ausgezeichnet"}, "S": {"en": "Good", "de": "Gut"},
      "M": {"en": "Fair", "de": "Ausreichend"}, "U": {"en": "Poor", "de": "Mangelhaft"}}
GUIDE = {"P": "clear", "S": "sound", "M": "vague", "U": "missing"}


def computed(cid: str, metric: str, thresholds: dict[str, float], *, outcome: str = "LO1", weight: float = 1,
             lower_is_better: bool = True) -> dict[str, Any]:
    return {"id": cid, "title": {"en": f"Title {cid}", "de": f"Titel {cid}"}, "kind": "computed", "weight": weight,
            "outcome": outcome, "metric": metric, "thresholds": thresholds, "lower_is_better": lower_is_better,
            "feedback": FB}


def judged(cid: str, evidence: str, *, outcome: str) -> dict[str, Any]:
    return {"id": cid, "title": f"Title {cid}", "kind": "judged", "weight": 1, "outcome": outcome,
            "evidence": evidence, "guidance": GUIDE, "feedback": FB}


CRITERIA = [
    computed("C1", "resilience_loss.power", {"P": 1000, "S": 3000, "M": 5000}, weight=2),  # 3760: M
    computed("C2", "timeliness.EA1", {"P": 0, "S": 1, "M": 3}, outcome="LO2"),  # -1: P
    computed("C3", "timeliness.EA3", {"P": 0, "S": 1, "M": 3}),  # missing: U
    computed("C4", "expected_done_share", {"P": 0.9, "S": 0.6, "M": 0.3}, outcome="LO2",
             lower_is_better=False),  # 1/3: M
    judged("C5", "answer:Q1", outcome="LO1"),
    judged("C6", "warnings", outcome="LO2"),
]


def graded_scenario(criteria: list[dict[str, Any]] | None = None, pass_mark: float = 50) -> Scenario:
    return make_scenario(
        [{"id": "cy", "type": "cyber", "start_h": 1, "targets": ["SS"], "recovery_h": 1}],
        modules=["M1", "M2"],
        learning_outcomes=[{"id": "LO1", "module": "M1", "text": {"en": "Keep power on", "de": "Strom halten"}},
                           {"id": "LO2", "module": "M2", "text": "Act on time"}],
        questions=[{"id": "Q1", "at_h": 0, "text": "What first?"}],
        rubric={"pass_mark": pass_mark, "criteria": criteria or CRITERIA})


def line(card: Any, cid: str) -> Any:
    return next(c for c in card.criteria if c.id == cid)


def test_grade_computed_ratings_and_provisional_total() -> None:
    """Rated so far: C1 M (2 x 0.4), C2 P (1), C3 U (0), C4 M (0.4): 2.2 of 5 = 44 %, provisional."""
    card = grade(hand_log(), graded_scenario())
    assert [line(card, c).rating for c in ("C1", "C2", "C3", "C4", "C5", "C6")] == ["M", "P", "U", "M", None, None]
    assert line(card, "C1").value == 3760.0
    assert line(card, "C3").value is None
    assert card.provisional
    assert card.total == pytest.approx(44.0)
    assert not card.passed
    assert [line(card, c).status for c in ("C1", "C5")] == ["rated", "awaiting judgement"]
    assert 0 <= card.total <= 100


def test_a_batch_grades_on_metrics_without_records_and_gets_the_same_ratings_without_the_metric_copy() -> None:
    """``compute_metrics(links=False)`` and ``flat_metrics=False``: every rating and the total as graded in full;
    only the linked events and the card's copy of the metrics are left out."""
    log = hand_log()
    full = grade(log, graded_scenario())
    bare = grade(log, graded_scenario(), metrics=compute_metrics(log, links=False), flat_metrics=False)
    assert bare.metrics == {} and full.metrics
    assert (bare.total, bare.passed, bare.provisional) == (full.total, full.passed, full.provisional)
    assert [(c.rating, c.value, c.status) for c in bare.criteria] == [(c.rating, c.value, c.status) for c in full.criteria]
    assert line(full, "C1").events and line(bare, "C1").events == []


def test_grade_with_judgements_is_final_and_passes() -> None:
    """Add C5 P (1) and C6 S (0.75): 3.95 of 7 = 56.43 % >= 50."""
    card = grade(hand_log(), graded_scenario(),
                 judgements={"C5": {"rating": "P", "comment": "Clear", "by": "assessor1"}, "C6": {"rating": "S"}})
    assert not card.provisional
    assert card.total == pytest.approx(100 * 3.95 / 7, abs=1e-6)
    assert card.passed
    c5 = line(card, "C5")
    assert (c5.status, c5.comment, c5.by, c5.points) == ("judged", "Clear", "assessor1", 1.0)
    failing = grade(hand_log(), graded_scenario(pass_mark=60), judgements={"C5": {"rating": "P"}, "C6": {"rating": "S"}})
    assert not failing.passed


def test_all_p_scores_100_and_all_u_scores_0() -> None:
    judged_all = {"C5": {"rating": "P"}, "C6": {"rating": "P"}}
    best = grade(hand_log(), graded_scenario(), judgements=judged_all,
                 overrides={c: {"rating": "P"} for c in ("C1", "C3", "C4")})
    assert best.total == 100.0
    worst = grade(hand_log(), graded_scenario(), judgements={"C5": {"rating": "U"}, "C6": {"rating": "U"}},
                  overrides={c: {"rating": "U"} for c in ("C1", "C2", "C4")})
    assert worst.total == 0.0


def test_override_wins_and_keeps_the_computed_rating() -> None:
    card = grade(hand_log(), graded_scenario(), judgements={"C5": {"rating": "M"}, "C6": {"rating": "S"}},
                 overrides={"C1": {"rating": "P", "comment": "Flood beyond design", "by": "lead"},
                            "C5": {"rating": "S", "by": "lead"}})
    c1 = line(card, "C1")
    assert (c1.rating, c1.computed_rating, c1.status, c1.by) == ("P", "M", "overridden", "lead")
    assert c1.comment == "Flood beyond design"
    assert c1.feedback == "Excellent"
    assert (line(card, "C5").rating, line(card, "C5").status) == ("S", "overridden")
    # 2 + 1 + 0 + 0.4 + 0.75 + 0.75 = 4.9 of 7
    assert card.total == pytest.approx(70.0)


def test_feedback_in_the_chosen_language_with_english_fallback() -> None:
    de = grade(hand_log(), graded_scenario(), lang="de")
    assert (line(de, "C1").feedback, line(de, "C1").title) == ("Ausreichend", "Titel C1")
    assert line(de, "C1").outcome_text == "Strom halten"
    assert line(de, "C2").outcome_text == "Act on time"  # plain text: the same in every language
    el = grade(hand_log(), graded_scenario(), lang="el")
    assert (line(el, "C1").feedback, line(el, "C1").title, el.lang) == ("Fair", "Title C1", "el")


def test_per_module_evidence() -> None:
    """M1: C1 M (0.8 of 2) and C3 U (0 of 1) -> 26.67 %; M2: C2 P and C4 M -> 1.4 of 2 = 70 %."""
    card = grade(hand_log(), graded_scenario())
    mods = {m.module: m for m in card.modules}
    assert set(mods) == {"M1", "M2"}
    assert mods["M1"].criteria == ["C1", "C3", "C5"] and mods["M1"].outcomes == ["LO1"]
    assert mods["M2"].criteria == ["C2", "C4", "C6"] and mods["M2"].outcomes == ["LO2"]
    assert mods["M1"].score == pytest.approx(100 * 0.8 / 3, abs=1e-6)
    assert mods["M2"].score == pytest.approx(70.0)
    assert mods["M1"].provisional and mods["M2"].provisional
    done = grade(hand_log(), graded_scenario(), judgements={"C5": {"rating": "P"}, "C6": {"rating": "P"}})
    assert not any(m.provisional for m in done.modules)


def test_judged_lines_show_the_evidence_an_assessor_reads() -> None:
    log = hand_log()
    card = grade(log, graded_scenario())
    c5, c6 = line(card, "C5"), line(card, "C6")
    assert [e["text"] for e in c5.evidence] == ["Life safety first"]
    assert [e["text"] for e in c6.evidence] == ["Go uphill now"]
    assert c5.events == c6.events == [5]
    assert log[5].kind == "decision"
    assert c5.guidance == GUIDE


def test_every_computed_line_links_to_events_that_exist() -> None:
    log = hand_log()
    card = grade(log, graded_scenario())
    for ln in card.criteria:
        assert all(0 <= s < len(log) for s in ln.events), ln.id
    assert {log[s].kind for s in line(card, "C1").events} == {"service"}
    # the late decision itself is on the EA2 line, with the inject that asked for it
    m = compute_metrics(log)
    assert {log[s].kind for s in m.links["timeliness.EA2"]} == {"inject", "expected", "decision"}
    assert 13 in m.links["timeliness.EA2"] and log[13].time == 3.0
    assert {r.subject for r in records_by_seq(log, m.links["downtime.H"])} == {"H", "1"}


METRIC_NAMES = ["resilience_loss.power", "resilience_loss.total", "resilience_loss_vulnerable.power",
                "recovery_95.power", "downtime.SS", "critical_downtime", "people_at_risk", "people_at_risk_vulnerable",
                "cost", "cost_share", "timeliness.EA2", "expected_done_share"]


@pytest.mark.parametrize("metric", METRIC_NAMES)
def test_each_metric_with_a_value_links_to_the_events_behind_it(metric: str) -> None:
    """An assessor follows every computed line back to events.  Regression: resilience_loss.total,
    resilience_loss_vulnerable.* and recovery_95.* had no links."""
    log = hand_log()
    card = grade(log, graded_scenario([computed("X", metric, {"P": 0, "S": 1, "M": 2})]))
    ln = line(card, "X")
    assert ln.value is not None
    assert ln.events, f"{metric} = {ln.value} links to no events"
    assert all(0 <= s < len(log) for s in ln.events)


def test_engine_run_graded_against_its_scenario_links_real_events(mini_scenario: Scenario, mini_city: Any) -> None:
    from scro_sim.engine import Simulation

    log = Simulation(mini_scenario, mini_city, 2, Greedy()).run()
    card = grade(log, mini_scenario)
    assert card.provisional  # two judged criteria await an assessor
    for ln in card.criteria:
        if ln.kind == "computed":
            assert ln.events and all(0 <= s < len(log) for s in ln.events), ln.id
    assert card.log_digest == log.digest()


def test_regrading_under_a_revised_rubric_changes_the_rating_without_rerunning() -> None:
    log = hand_log()
    digest = log.digest()
    first = grade(log, graded_scenario())
    revised = [computed("C1", "resilience_loss.power", {"P": 4000, "S": 6000, "M": 8000}, weight=2), *CRITERIA[1:]]
    second = grade(log, graded_scenario(revised))
    assert (line(first, "C1").rating, line(second, "C1").rating) == ("M", "P")
    assert line(first, "C1").value == line(second, "C1").value == 3760.0
    assert second.total > first.total
    assert log.digest() == digest == second.log_digest
    # a bare Rubric grades too (no modules or outcome texts without the scenario)
    bare = grade(log, Rubric.model_validate({"criteria": revised}))
    assert line(bare, "C1").rating == "P" and line(bare, "C1").module == ""


def test_relative_metric_against_reference_runs() -> None:
    """Baseline loses 10000 person-hours, the expert 1000; this run 3760: (10000-3760)/9000."""
    def with_loss(unserved: int) -> EventLog:
        log = EventLog()
        log.append(0, "run_start", "x", {"duration_h": 10.0, "population": 1000, "critical": [], "budget": 0})
        service(log, 0, "D1", unserved, 0.5, 1000)
        log.append(10, "run_end", "x", {})
        return log

    ref = {"baseline": compute_metrics(with_loss(1000)), "expert": compute_metrics(with_loss(100))}
    crit_rel = computed("R", "relative.resilience_loss.power", {"P": 0.9, "S": 0.6, "M": 0.3}, lower_is_better=False)
    card = grade(hand_log(), graded_scenario([crit_rel]), reference=ref)
    assert line(card, "R").value == pytest.approx(6240 / 9000)
    assert line(card, "R").rating == "S"
    assert line(card, "R").events  # links of the underlying metric
    no_ref = grade(hand_log(), graded_scenario([crit_rel]))
    assert (line(no_ref, "R").value, line(no_ref, "R").rating) == (None, "U")


def _power_loss_log(unserved: int, spent: float = 0.0) -> EventLog:
    """10 h of a 1000-person town with ``unserved`` people of district D1 without power (x10 person-hours)."""
    log = EventLog()
    log.append(0, "run_start", "x", {"duration_h": 10.0, "population": 1000, "critical": [], "budget": 100000})
    if spent:
        log.append(0, "cost", "dispatch_crew", {"amount": spent})
    service(log, 0, "D1", unserved, 0.5, 1000)
    log.append(10, "run_end", "x", {})
    return log


REL = computed("R", "relative.resilience_loss.power", {"P": 0.9, "S": 0.6, "M": 0.3}, lower_is_better=False)


def test_a_relative_criterion_does_not_apply_where_the_expert_cannot_beat_the_baseline_by_more_than_noise() -> None:
    """Baseline 10000 person-hours, expert 9900: a gain of 1 %, under the default 5 %; the
    criterion is left out of the total (not applicable), not rated P for a learner who did nothing."""
    ref = {"baseline": compute_metrics(_power_loss_log(1000)), "expert": compute_metrics(_power_loss_log(990))}
    others = [computed("T", "timeliness.EA1", {"P": 0, "S": 1, "M": 3})]
    card = grade(_power_loss_log(1000), graded_scenario([REL, *others]), reference=ref)
    assert (line(card, "R").status, line(card, "R").rating, line(card, "R").points) == ("not applicable", None, 0.0)
    assert not card.provisional and line(card, "T").status == "not applicable"
    # the author may say how much gain counts: 50 person-hours here
    card = grade(_power_loss_log(1000), graded_scenario([{**REL, "min_gain": 50}]), reference=ref)
    assert (line(card, "R").status, line(card, "R").value, line(card, "R").rating) == ("rated", 0.0, "U")


def test_a_relative_criterion_applies_where_the_expert_did_better_and_rates_the_share_of_the_gap() -> None:
    ref = {"baseline": compute_metrics(_power_loss_log(1000)), "expert": compute_metrics(_power_loss_log(100))}
    do_nothing = grade(_power_loss_log(1000), graded_scenario([REL]), reference=ref)
    assert (line(do_nothing, "R").value, line(do_nothing, "R").rating) == (0.0, "U")
    half = grade(_power_loss_log(550), graded_scenario([REL]), reference=ref)
    assert (line(half, "R").value, line(half, "R").rating) == (pytest.approx(0.5), "M")


#: only power counts (the hand log has people at risk and hospital downtime too)
POWER_ONLY = {"power": 5, "water": 0, "telecom": 0, "health": 0, "people_at_risk": 0, "critical_downtime": 0}
VFM = {**computed("V", "value_for_money", {"P": 0.8, "S": 0.5, "M": 0.25}, lower_is_better=False),
       "loss_values": POWER_ONLY}


def test_value_for_money_rates_loss_avoided_per_euro_against_the_expert() -> None:
    """Expert: 9000 person-hours avoided (x EUR 5) for EUR 3000, 15 per euro.  The hand log:
    6240 avoided for EUR 7500, 4.16 per euro: 0.277 of the expert's, M."""
    ref = {"baseline": compute_metrics(_power_loss_log(1000)), "expert": compute_metrics(_power_loss_log(100, 3000))}
    card = grade(hand_log(), graded_scenario([VFM]), reference=ref)
    assert line(card, "V").value == pytest.approx((6240 * 5 / 7500) / (9000 * 5 / 3000))
    assert line(card, "V").rating == "M"
    # the same outcome bought for the expert's money is worth as much per euro: P
    same = grade(_power_loss_log(100, 3000), graded_scenario([VFM]), reference=ref)
    assert (line(same, "V").value, line(same, "V").rating) == (pytest.approx(1.0), "P")


def test_value_for_money_never_passes_doing_nothing_or_spending_on_nothing() -> None:
    ref = {"baseline": compute_metrics(_power_loss_log(1000)), "expert": compute_metrics(_power_loss_log(100, 3000))}
    nothing = grade(_power_loss_log(1000), graded_scenario([VFM]), reference=ref)
    assert (line(nothing, "V").status, line(nothing, "V").value, line(nothing, "V").rating) == ("rated", None, "U")
    wasted = grade(_power_loss_log(1000, 90000), graded_scenario([VFM]), reference=ref)
    assert (line(wasted, "V").value, line(wasted, "V").rating) == (0.0, "U")
    worse = grade(_power_loss_log(1100, 3000), graded_scenario([VFM]), reference=ref)
    assert line(worse, "V").value < 0 and line(worse, "V").rating == "U"


def test_value_for_money_takes_the_authors_loss_values() -> None:
    """Power worth nothing: no loss avoided by anyone, so the criterion does not apply."""
    ref = {"baseline": compute_metrics(_power_loss_log(1000)), "expert": compute_metrics(_power_loss_log(100, 3000))}
    card = grade(hand_log(), graded_scenario([{**VFM, "loss_values": {**POWER_ONLY, "power": 0}}]), reference=ref)
    assert line(card, "V").status == "not applicable"
    no_expert_spend = {"baseline": ref["baseline"], "expert": compute_metrics(_power_loss_log(100))}
    assert line(grade(hand_log(), graded_scenario([VFM]), reference=no_expert_spend), "V").status == "not applicable"


@pytest.mark.parametrize(("extra", "words"), [
    ({"metric": "cost", "thresholds": {"P": 1, "S": 2, "M": 3}, "min_gain": 5}, "min_gain is for criteria measured"),
    ({"lower_is_better": True, "thresholds": {"P": 0.1, "S": 0.2, "M": 0.3}}, "higher-is-better"),
    ({"metric": "cost", "thresholds": {"P": 1, "S": 2, "M": 3}, "loss_values": {"power": 1}},
     "loss_values is for the value_for_money"),
    ({"loss_values": {"gas": 1}}, "gas"),
    ({"loss_values": {"power": -1}}, "power"),
    ({"min_gain": -1}, "min_gain"),
])
def test_bad_relative_and_value_fields_are_refused(extra: dict[str, Any], words: str) -> None:
    crit = {k: v for k, v in VFM.items() if k != "lower_is_better"}
    crit.update(extra)
    with pytest.raises(Exception) as err:
        graded_scenario([crit])
    assert words in str(err.value)


def test_a_relative_criterion_is_higher_is_better_without_saying_so() -> None:
    crit = {k: v for k, v in REL.items() if k != "lower_is_better"}
    sc = graded_scenario([crit])
    assert sc.rubric.criteria[0].lower_is_better is False


def test_grading_with_metrics_already_computed_gives_the_same_card() -> None:
    log = hand_log()
    assert grade(log, graded_scenario(), metrics=compute_metrics(log)) == grade(log, graded_scenario())


# --------------------------------------------------------------------------------------------
# boundaries and order


def one_criterion(pass_mark: float) -> Scenario:
    """One computed criterion on cost (7500 in the hand log): S at thresholds 5000/7500/9000, 75 points of 100."""
    return graded_scenario([computed("C1", "cost", {"P": 5000, "S": 7500, "M": 9000})], pass_mark=pass_mark)


def test_a_total_exactly_at_the_pass_mark_passes() -> None:
    card = grade(hand_log(), one_criterion(75))
    assert (line(card, "C1").rating, card.total, card.pass_mark) == ("S", 75.0, 75.0)
    assert card.passed
    assert not grade(hand_log(), one_criterion(75.000001)).passed


def test_an_expected_action_done_exactly_at_its_deadline_counts_as_on_time() -> None:
    log = EventLog()
    log.append(0, "run_start", "x", {"duration_h": 10.0, "population": 10, "critical": [], "budget": 0})
    expected(log, 0, "EA1", "due", action="warn_public", due_h=2.0)
    expected(log, 0, "EA2", "due", action="evacuate", due_h=2.0)
    expected(log, 2, "EA1", "met", action_time_h=2.0, due_h=2.0, late_h=0.0)
    expected(log, 2, "EA2", "met", action_time_h=2.000001, due_h=2.0, late_h=0.000001)
    m = compute_metrics(log)
    assert m.timeliness == {"EA1": 0.0, "EA2": 0.000001}
    assert m.expected_done_share == 0.5


_CARD_IN_A_CHILD = """
import json, sys
sys.path.insert(0, "tests")
from test_scoring import computed, graded_scenario, hand_log, judged
from scro_sim.scoring import grade
criteria = [computed("zeta", "cost", {"P": 5000, "S": 7500, "M": 9000}, outcome="LO2"),
            judged("Alpha", "warnings", outcome="LO1"),
            computed("m3", "people_at_risk", {"P": 0, "S": 100, "M": 200}),
            computed("B", "timeliness.EA2", {"P": 0, "S": 1, "M": 3}, outcome="LO2")]
card = grade(hand_log(), graded_scenario(criteria), judgements={"Alpha": {"rating": "S"}})
print(json.dumps(card.model_dump(mode="json")))
"""


def test_the_score_card_is_identical_whatever_the_string_hash_seed_of_the_process() -> None:
    """Criteria stay in rubric order and modules in name order in processes with different set orders."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    texts = []
    for seed in ("0", "1", "7"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        texts.append(subprocess.run([sys.executable, "-c", _CARD_IN_A_CHILD], cwd=root, env=env, capture_output=True,
                                    text=True, timeout=120, check=True).stdout)
    assert texts[0] == texts[1] == texts[2]  # the text, so the order of every mapping counts too
    cards = [json.loads(t) for t in texts]
    assert [c["id"] for c in cards[0]["criteria"]] == ["zeta", "Alpha", "m3", "B"]
    assert [(m["module"], m["criteria"], m["outcomes"]) for m in cards[0]["modules"]] == [
        ("M1", ["Alpha", "m3"], ["LO1"]), ("M2", ["zeta", "B"], ["LO2"])]


# --------------------------------------------------------------------------------------------
# what an assessor reads, and curves


def _decisions_log() -> EventLog:
    log = EventLog()
    log.append(0, "decision", "0", {"actions": [{"action": "warn_public"}, {"action": "dispatch_crew", "target": "SS"}],
                                    "rationale": "Why", "answers": {"Q1": "First answer", "Q2": ""}})
    log.append(2, "decision", "1", {"actions": [{"action": "warn_public", "target": "Z", "message": "Go uphill"}]})
    return log


def test_warnings_evidence_lists_every_warning_with_all_as_the_default_target() -> None:
    assert evidence(_decisions_log(), "warnings") == [{"seq": 0, "time_h": 0.0, "target": "all", "text": ""},
                                                      {"seq": 1, "time_h": 2.0, "target": "Z", "text": "Go uphill"}]


def test_rationale_and_answer_evidence_skip_decisions_without_them() -> None:
    log = _decisions_log()
    assert evidence(log, "rationales") == [{"seq": 0, "time_h": 0.0, "text": "Why",
                                            "actions": ["warn_public", "dispatch_crew"]}]
    assert evidence(log, "answer:Q1") == [{"seq": 0, "time_h": 0.0, "question": "Q1", "text": "First answer"}]
    assert evidence(log, "answer:Q2") == evidence(log, "answer:Q3") == []


def test_a_rationale_given_without_any_action_is_evidence_with_no_actions() -> None:
    log = EventLog()
    log.append(1.0, "decision", "1", {"rationale": "Waiting for the gauge to confirm"})
    assert evidence(log, "rationales") == [{"seq": 0, "time_h": 1.0, "text": "Waiting for the gauge to confirm",
                                            "actions": []}]


def test_relative_applies_when_a_reference_run_has_no_value_for_the_metric() -> None:
    """The baseline never recovered (no recovery time): the criterion applies, and rates what it can."""
    never = hand_log(end=None)
    service(never, 8, "D2", 400, 0.25, 400)
    never.append(10, "run_end", "hand", {})
    base, expert = compute_metrics(never), compute_metrics(hand_log())
    assert base.recovery_95["power"] is None and expert.recovery_95["power"] is not None
    assert relative_applies("relative.recovery_95.power", {"baseline": base, "expert": expert})
    assert relative_applies("relative.recovery_95.power", {"baseline": expert, "expert": base})


def test_records_by_seq_sorts_drops_repeats_and_ignores_seqs_outside_the_log() -> None:
    assert [r.seq for r in records_by_seq(hand_log(), [3, 3, -1, 99, 0])] == [0, 3]


def test_service_curves_end_at_the_scenario_duration_without_run_end() -> None:
    log = EventLog()
    log.append(0, "run_start", "x", {"duration_h": 6.0, "population": 200})
    log.append(1, "service", "D", {"service": "water", "unserved": 50})
    water = service_curves(log).query("service == 'water'")
    assert water.time_h.tolist() == [0.0, 1.0, 6.0]
    assert water.served.tolist() == [1.0, 0.75, 0.75]


def test_cost_share_is_zero_without_a_budget_and_total_loss_sums_the_services() -> None:
    log = EventLog()
    log.append(0, "run_start", "x", {"duration_h": 4.0, "population": 100, "budget": 0})
    log.append(0, "cost", "warn_public", {"amount": 500.0})
    service(log, 1, "D1", 10, 0.5, 100, svc="power")
    service(log, 2, "D1", 20, 0.5, 100, svc="water")
    flat = compute_metrics(log).flat()
    assert (flat["cost"], flat["cost_share"]) == (500.0, 0.0)
    assert (flat["resilience_loss.power"], flat["resilience_loss.water"], flat["resilience_loss.total"]) == (30.0, 40.0, 70.0)
    assert metric_value(compute_metrics(log), "no_such_metric") is None


def test_the_card_names_its_scenario_and_each_line_its_points_and_links() -> None:
    """Weights 2 and 1: C1 M is 2 x 0.4 = 0.8 points, C2 P is 1 point; M2 has only a judged line, unrated."""
    log = hand_log()
    criteria = [computed("C1", "resilience_loss.power", {"P": 1000, "S": 3000, "M": 5000}, weight=2),
                computed("C2", "timeliness.EA1", {"P": 0, "S": 1, "M": 3}),
                judged("C6", "warnings", outcome="LO2")]
    card = grade(log, graded_scenario(criteria))
    assert (card.scenario, card.scenario_version, card.lang, card.pass_mark) == ("kit", "1", "en", 50.0)
    assert card.log_digest == log.digest()
    assert [(ln.id, ln.points, ln.weight, ln.module, ln.outcome) for ln in card.criteria] == [
        ("C1", 0.8, 2.0, "M1", "LO1"), ("C2", 1.0, 1.0, "M1", "LO1"), ("C6", 0.0, 1.0, "M2", "LO2")]
    assert card.total == pytest.approx(100 * 1.8 / 3, abs=1e-6)
    assert [(m.module, m.score, m.provisional) for m in card.modules] == [("M1", pytest.approx(60.0), False),
                                                                        ("M2", None, True)]
    assert (line(card, "C6").comment, line(card, "C6").by, line(card, "C6").feedback) == ("", "", "")
    assert grade(log, graded_scenario(criteria), digest=False).log_digest == ""
    bare = grade(log, Rubric.model_validate({"criteria": criteria}))
    assert (bare.scenario, bare.scenario_version, line(bare, "C1").outcome_text) == ("", "", "")


def test_relative_is_none_when_any_reference_is_missing() -> None:
    assert relative(50.0, 100.0, None) is None
    assert relative(50.0, None, 0.0) is None


def test_relative_with_a_narrow_span_still_scales_and_only_a_vanishing_span_counts_as_none() -> None:
    assert relative(0.55, 0.8, 0.3) == pytest.approx(0.5)  # a span below 1 is a real span
    assert relative(1e-9, 1e-9, 0.0) == 0.0  # a span of exactly 1e-9 is still a span: as bad as the baseline


def test_relative_with_no_span_is_one_at_the_expert_and_zero_when_worse() -> None:
    assert relative(5.0 + 1e-9, 5.0, 5.0) == 1.0  # within the tolerance
    assert relative(5.5, 5.0, 5.0) == 0.0
    assert relative(6.0, 5.0, 5.0) == 0.0


def test_grade_uses_the_metrics_it_is_given_instead_of_recomputing(monkeypatch: pytest.MonkeyPatch) -> None:
    import scro_sim.scoring as scoring

    log = hand_log()
    metrics = compute_metrics(log)
    want = grade(log, graded_scenario())

    def recompute(_log: EventLog) -> None:
        raise AssertionError("grade recomputed metrics it was given")

    monkeypatch.setattr(scoring, "compute_metrics", recompute)
    assert grade(log, graded_scenario(), metrics=metrics) == want


def test_a_not_applicable_line_keeps_its_metric_and_the_lines_after_it_are_graded() -> None:
    """EA9 was never asked for in the hand log, so its line is not applicable; C1 after it is still rated."""
    card = grade(hand_log(), graded_scenario([computed("CT", "timeliness.EA9", {"P": 0, "S": 1, "M": 3}),
                                              computed("C1", "resilience_loss.power", {"P": 1000, "S": 3000, "M": 5000})]))
    assert [(ln.id, ln.status, ln.metric, ln.rating) for ln in card.criteria] == [
        ("CT", "not applicable", "timeliness.EA9", None), ("C1", "rated", "resilience_loss.power", "M")]
    assert card.total == 40.0 and not card.provisional
    assert [(m.module, m.provisional) for m in card.modules] == [("M1", False)]


def test_ratings_without_comment_or_assessor_leave_them_empty_and_guidance_follows_the_language() -> None:
    guide = {"P": {"en": "clear", "de": "klar"}, "S": "sound", "M": "vague", "U": "missing"}
    criteria = [{**judged("C5", "answer:Q1", outcome="LO1"), "guidance": guide},
                computed("C1", "resilience_loss.power", {"P": 1000, "S": 3000, "M": 5000}, weight=1.23456789012)]
    card = grade(hand_log(), graded_scenario(criteria), lang="de", judgements={"C5": {"rating": "P"}},
                 overrides={"C1": {"rating": "P"}})
    c5, c1 = line(card, "C5"), line(card, "C1")
    assert c5.guidance == {"P": "klar", "S": "sound", "M": "vague", "U": "missing"}
    assert (c5.comment, c5.by, c1.comment, c1.by) == ("", "", "", "")
    assert c1.points == 1.23456789  # points keep 9 decimals


def test_integrate_ignores_changes_after_the_end_and_an_empty_curve_is_zero() -> None:
    from scro_sim.scoring.logpass import _integrate

    assert _integrate([], 5.0) == 0.0
    assert _integrate([(0.0, 0.0), (2.0, 3.0)], 5.0) == 9.0
    assert _integrate([(0.0, 0.0), (6.0, 5.0)], 5.0) == 0.0  # a change after the end adds nothing


def test_recovery_time_edges() -> None:
    from scro_sim.scoring.logpass import _recovery_time

    assert _recovery_time([(0.0, 0.0), (2.0, 5.0), (4.0, 0.0)], 0, 10.0) == 0.0  # nobody to serve
    assert _recovery_time([(0.0, 0.0), (2.0, 1.0), (4.0, 0.0)], 1, 10.0) == 4.0  # one person counts
    assert _recovery_time([(0.0, 0.0), (2.0, 5.0), (4.0, 0.0)], 100, 10.0) == 0.0  # exactly 5 % is recovered


def test_relative_metrics_need_both_references() -> None:
    m = compute_metrics(hand_log())
    assert metric_value(m, "relative.cost", {"baseline": m}) is None
    assert metric_value(m, "relative.cost", {"expert": m}) is None


def test_a_criterion_without_thresholds_rates_u() -> None:
    c = Criterion.model_validate(judged("CJ", "warnings", outcome="LO1"))
    assert rate(1.0, c) == "U"


def test_totals_keep_six_decimals_and_nothing_rated_totals_zero() -> None:
    third = grade(hand_log(), graded_scenario([computed("C2", "timeliness.EA1", {"P": 0, "S": 1, "M": 3}),
                                               computed("C3", "timeliness.EA3", {"P": 0, "S": 1, "M": 3}, weight=2)]))
    assert third.total == 33.333333  # P (1 point) of weight 3
    unrated = grade(hand_log(), graded_scenario([judged("C5", "answer:Q1", outcome="LO1")]))
    assert (unrated.total, unrated.provisional, unrated.modules[0].score) == (0.0, True, None)
