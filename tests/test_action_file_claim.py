"""file_claim by hand: a recovery fund pays back a share of the documented costs, before its deadline.

The kit's substation SS fails in a storm before 7 h (priced at 400,000).  A damage assessment
ordered at 8 h (lead time 2 h) documents it; a claim at 12 h (share 0.5, processed in 4 h,
deadline at 14 h) takes what is on file and is paid 200,000.  Emergency purchases count as
documented costs.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError
from scro_sim.scoring.metrics import compute_metrics

STORM = {"id": "gale", "type": "storm", "start_h": 4, "duration_h": 10, "centre": [0, 5000], "radius_km": 10,
         "peak_wind_ms": 50}
ON = {"assess_damage": {"enabled": True, "cost": 5000, "lead_time_h": 2},
      "file_claim": {"enabled": True, "lead_time_h": 4, "claim_share": 0.5, "claim_deadline_h": 14},
      "emergency_procurement": {"enabled": True, "cost": 30000, "lead_time_h": 1}}
COSTS = {"substation": {"degraded": 50000, "failed": 400000}}


def scenario(times=(0.0, 8.0, 12.0, 16.0)):
    return make_scenario([STORM], duration_h=48, times_h=times, actions=ON, resources={"budget": 100000},
                         damage_costs=COSTS)


def city():
    return make_city([asset("SS", "substation", fragility={"storm": [{"median": 40, "beta": 0.01, "state": "failed"}]})])


def test_a_claim_is_paid_its_share_of_the_documented_costs_and_the_run_carries_the_funds_terms() -> None:
    log = play(Simulation(scenario(), city(), 0), {8.0: [act("assess_damage")], 12.0: [act("file_claim")]})
    [r] = records(log, "action", "file_claim")
    assert r.time == pytest.approx(16.0)
    assert r.data["claimed"] == 400000.0 and r.data["reimbursed"] == 200000.0
    assert log.first("run_start").data["claims"] == {"share": 0.5, "deadline_h": 14.0}
    m = compute_metrics(log).flat()
    assert m["reimbursed"] == 200000.0
    # spent 5,000 + repairs 400,000 borne by the city - 200,000 paid back
    assert m["net_cost"] == pytest.approx(205000.0)


def test_emergency_purchases_count_as_documented_costs() -> None:
    log = play(Simulation(scenario(), city(), 0),
               {8.0: [act("assess_damage"), act("emergency_procurement", "SS")], 12.0: [act("file_claim")]})
    assert records(log, "action", "file_claim")[0].data["claimed"] == 430000.0


def test_a_claim_without_documentation_is_refused() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    sim.advance()
    with pytest.raises(DecisionError, match="assess_damage"):
        sim.apply([act("file_claim")])


def test_a_claim_after_the_deadline_is_refused_and_not_offered() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    sim.advance()
    sim.apply([act("assess_damage")])
    sim.advance()
    obs = sim.advance()
    assert obs.time_h == pytest.approx(16.0)
    assert "file_claim" not in obs.allowed
    with pytest.raises(DecisionError, match="deadline"):
        sim.apply([act("file_claim")])


def test_what_was_claimed_is_not_claimed_twice() -> None:
    sim = Simulation(scenario(), city(), 0)
    sim.advance()
    sim.advance()
    sim.apply([act("assess_damage")])
    sim.advance()
    sim.apply([act("file_claim")])
    with pytest.raises(DecisionError, match="nothing documented is left"):
        sim.apply([act("file_claim")])


def test_a_scenario_without_the_fund_has_no_reimbursement_metrics() -> None:
    sc = make_scenario([STORM], duration_h=48, resources={"budget": 100000}, damage_costs=COSTS)
    flat = compute_metrics(Simulation(sc, city(), 0).run()).flat()
    assert "reimbursed" not in flat and "net_cost" not in flat and "claims" not in Simulation(sc, city(), 0).log.first(
        "run_start").data


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    ("claim_share: 0.5", "claim_share: 1.5", "actions.file_claim.claim_share", "Input should be less than or equal to 1"),
    ("claim_deadline_h: 80", "claim_deadline_h: -3", "actions.file_claim.claim_deadline_h",
     "Input should be greater than or equal to 0"),
    ("direct_award_until_h: 48", "direct_award_until_h: soon", "actions.emergency_procurement.direct_award_until_h",
     ""),
    ("interruption_cost_h: 5000", "interruption_cost_h: -5", "actions.activate_continuity_plan.interruption_cost_h",
     "Input should be greater than or equal to 0"),
])
def test_a_bad_recovery_funding_setting_is_refused_with_its_file_line_and_field(old: str, new: str, field: str,
                                                                                words: str) -> None:
    from pathlib import Path

    from scro_sim.errors import ScenarioError
    from scro_sim.scenario import load_scenario

    folder = Path(__file__).resolve().parent.parent / "scenarios"
    text = (folder / "riverton_recovery_funding.yaml").read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    line = next(i for i, s in enumerate(bad.splitlines(), 1) if new in s)
    with pytest.raises(ScenarioError) as err:
        load_scenario("s.yaml", text=bad, base_dir=folder)
    assert f"s.yaml:{line}: {field}: {words}" in str(err.value), str(err.value)
