"""What a provisional score has settled and what is still open (scoring.total_range, scoring.awaiting)."""

from __future__ import annotations

import pytest

from scro_sim.scoring import CriterionResult, ScoreCard, awaiting, total_range

POINTS = {"P": 1.0, "S": 0.75, "M": 0.4, "U": 0.0}


def line(cid: str, weight: float, rating: str | None, kind: str = "computed", status: str | None = None) -> CriterionResult:
    return CriterionResult(id=cid, title=cid, kind=kind, rating=rating, weight=weight,
                           points=weight * POINTS[rating] if rating else 0.0,
                           status=status or ("rated" if rating else "awaiting judgement"), outcome="LO1", module="M1")


def card(*lines: CriterionResult) -> ScoreCard:
    rated = [ln for ln in lines if ln.rating]
    w = sum(ln.weight for ln in rated)
    total = 100 * sum(ln.points for ln in rated) / w if w else 0.0
    return ScoreCard(scenario="s", scenario_version="1", lang="en", criteria=list(lines), modules=[], total=total,
                     pass_mark=60, passed=total >= 60, provisional=any(ln.rating is None and ln.status !=
                                                                            "not applicable" for ln in lines),
                     metrics={}, log_digest="")


def test_open_criteria_can_still_take_the_total_from_all_lowest_to_all_highest() -> None:
    c = card(line("A", 2, "P"), line("B", 1, "M"), line("J1", 1, None, "judged"), line("J2", 2, None, "judged"))
    assert c.total == pytest.approx(80.0)  # today's provisional total counts only A and B
    lo, hi = total_range(c, POINTS)
    assert lo == pytest.approx(100 * 2.4 / 6) and hi == pytest.approx(100 * 5.4 / 6)
    assert [ln.id for ln in awaiting(c)] == ["J1", "J2"]


def test_a_card_with_nothing_open_has_no_range() -> None:
    c = card(line("A", 1, "S"), line("N", 1, None, status="not applicable"))
    assert total_range(c, POINTS) == (c.total, c.total) and awaiting(c) == []


def test_the_range_uses_the_rubrics_own_points_table() -> None:
    c = card(line("A", 1, "P"), line("J", 1, None, "judged"))
    assert total_range(c, {"P": 1.0, "S": 0.9, "M": 0.8, "U": 0.5}) == (75.0, 100.0)


def test_the_surge_exercise_shows_which_judged_criteria_wait_and_the_range_holds_the_final_total() -> None:
    from scro_sim.assessment import score
    from scro_sim.engine import Simulation
    from scro_sim.policy import baseline_policy
    from scro_sim.resources import find_scenario
    from scro_sim.scenario import load_scenario

    sc, city = load_scenario(find_scenario("riverton_hospital_surge"))
    log = Simulation(sc, city, 1, baseline_policy("greedy")).run()
    provisional = score(sc, city, 1, log)
    waiting = [ln.id for ln in awaiting(provisional)]
    assert provisional.provisional and waiting and all(
        ln.kind == "judged" for ln in provisional.criteria if ln.id in waiting)
    lo, hi = total_range(provisional, sc.rubric)
    assert lo <= provisional.total <= hi
    for rating in ("U", "P"):  # rated all lowest, then all highest: the ends of the range
        final = score(sc, city, 1, log, judgements={c: {"rating": rating, "comment": "", "by": "a"} for c in waiting})
        assert not final.provisional
        assert final.total == pytest.approx(lo if rating == "U" else hi, abs=1e-5)
