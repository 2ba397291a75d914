"""buy_insurance and priced damage by hand: repair bills on damage records, and what a policy pays.

The kit's substation SS fails in a storm (its own curve: 40 m/s, the storm peaks at 50 m/s at 9 h,
first passing 40 m/s before 7 h).  ``damage_costs`` prices a failed substation at 400,000.
The policy (premium 1,000, lead time 1 h) pays repair costs above a 100,000 deductible, up to
250,000.
"""

from __future__ import annotations

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError
from scro_sim.scenario.loading import check_scenario_city
from scro_sim.scoring.metrics import compute_metrics, loss_in_money

ON = {"buy_insurance": {"enabled": True, "cost": 1000, "lead_time_h": 1, "deductible": 100000,
                        "cover_limit": 250000, "sold_until_h": 3}}
STORM = {"id": "gale", "type": "storm", "start_h": 4, "duration_h": 10, "centre": [0, 5000], "radius_km": 10,
         "peak_wind_ms": 50}
COSTS = {"substation": {"degraded": 50000, "failed": 400000}}


def city():
    return make_city([asset("SS", "substation", fragility={"storm": [{"median": 40, "beta": 0.01, "state": "failed"}]}),
                      asset("TT", "telecom_tower", fragility={"storm": [{"median": 45, "beta": 0.01, "state": "degraded"}]})])


def scenario(*, costs=COSTS, times_h=(0.0,)):
    return make_scenario([STORM], duration_h=24, times_h=times_h, actions=ON, resources={"budget": 5000},
                         damage_costs=costs)


def test_each_damage_record_carries_its_repair_cost_the_asset_first_then_its_type_then_the_default() -> None:
    log = Simulation(scenario(costs={**COSTS, "TT": {"degraded": 7000}}), city(), 0).run()
    assert records(log, "damage", "SS")[0].data["loss"] == 400000.0
    assert records(log, "damage", "TT")[0].data["loss"] == 7000.0
    assert log.first("run_start").data["damage_priced"] is True
    default = Simulation(scenario(costs={}), city(), 0).run()
    assert records(default, "damage", "SS")[0].data["loss"] == 1_000_000.0  # hazards.DEFAULT_DAMAGE_COST


def test_insurance_pays_the_repair_costs_above_the_deductible_up_to_the_limit() -> None:
    """Claims: SS 400,000 and TT's default 20,000 (a degraded mast): 420,000 - 100,000 = 320,000, capped at 250,000."""
    log = play(Simulation(scenario(), city(), 0), {0.0: [act("buy_insurance")]})
    m = compute_metrics(log).flat()
    assert m["damage_cost"] == 420000.0
    assert m["insurance_payout"] == 250000.0
    assert m["retained_loss"] == 170000.0
    assert m["cost"] == 1000.0


def test_without_a_policy_the_city_bears_the_whole_repair_bill() -> None:
    m = compute_metrics(Simulation(scenario(), city(), 0).run()).flat()
    assert m["insurance_payout"] == 0.0 and m["retained_loss"] == m["damage_cost"] == 420000.0


def test_a_run_without_damage_costs_has_no_money_lost_to_damage() -> None:
    """Nothing is priced: no ``loss`` on damage records, and no damage metrics (older runs stay as they were)."""
    log = Simulation(scenario(costs=None), city(), 0).run()
    assert "loss" not in records(log, "damage", "SS")[0].data and "damage_priced" not in log.first("run_start").data
    assert not {"damage_cost", "insurance_payout", "retained_loss"} & set(compute_metrics(log).flat())


def test_value_for_money_counts_the_damage_the_city_bears_only_when_asked() -> None:
    m = compute_metrics(Simulation(scenario(), city(), 0).run())
    assert loss_in_money(m, {"damage": 1.0}) - loss_in_money(m) == 420000.0


def test_insurance_is_sold_once_and_not_after_the_storm_is_named() -> None:
    sim = Simulation(scenario(times_h=(0.0, 6.0)), city(), 0)
    sim.advance()
    with pytest.raises(DecisionError, match="already insured"):
        sim.apply([act("buy_insurance"), act("buy_insurance")])
    sim.advance()  # 6 h: past sold_until_h
    assert "buy_insurance" not in sim.observe().allowed
    with pytest.raises(DecisionError, match="no longer sell cover"):
        sim.apply([act("buy_insurance")])


def test_damage_costs_must_name_an_asset_type_or_an_asset_of_the_city() -> None:
    problems = check_scenario_city(scenario(costs={"substaton": {"failed": 1}}), city())
    assert any(p.startswith("damage_costs.substaton: neither an asset type nor an asset") for p in problems), problems


@pytest.mark.parametrize(("old", "new", "field", "words"), [
    ("harden_factor: 1.4", "harden_factor: 0.5", "actions.harden_asset.harden_factor",
     "Input should be greater than or equal to 1"),
    ("deductible: 750000", "deductible: -1", "actions.buy_insurance.deductible", "Input should be greater than or equal to 0"),
    ("SS7: {degraded: 200000, failed: 1800000}", "SS9: {degraded: 200000, failed: 1800000}", "damage_costs.SS9",
     "neither an asset type nor an asset"),
    ("telecom_tower: {degraded: 15000, failed: 120000}", "telecom_tower: {broken: 15000}",
     "damage_costs.telecom_tower.broken", ""),
])
def test_a_bad_mitigation_setting_is_refused_with_its_file_line_and_field(old: str, new: str, field: str,
                                                                          words: str) -> None:
    from pathlib import Path

    from scro_sim.errors import ScenarioError
    from scro_sim.scenario import load_scenario

    folder = Path(__file__).resolve().parent.parent / "scenarios"
    text = (folder / "riverton_storm_investment.yaml").read_text(encoding="utf-8")
    assert old in text
    bad = text.replace(old, new, 1)
    line = next(i for i, s in enumerate(bad.splitlines(), 1) if new.split(":")[0] in s and new in s)
    with pytest.raises(ScenarioError) as err:
        load_scenario("s.yaml", text=bad, base_dir=folder)
    assert f"s.yaml:{line}: {field}: {words}" in str(err.value), str(err.value)
