"""Every run has a work budget: a runaway scenario is stopped with a clear error, a normal run never is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from enginekit import asset, make_city, make_scenario, play

from scro_sim.engine import Simulation, replay
from scro_sim.engine.budget import FLOOR_RECORDS, FLOOR_STEPS, WorkBudget
from scro_sim.errors import ScroSimError, WorkBudgetExceeded
from scro_sim.policy import PlanPolicy, baseline_policy
from scro_sim.scenario import load_scenario

SCENARIOS = sorted((Path(__file__).resolve().parent.parent / "scenarios").glob("*.yaml"))
CITY_ASSETS = [asset("PP1", "power_plant"), asset("SS1", "substation", needs={"power": ["PP1"]})]


def quake(aftershocks: float) -> dict[str, Any]:
    return {"id": "q1", "type": "earthquake", "time_h": 1.0, "epicentre": [0, 5000], "magnitude": 6.0,
            "aftershock_count": aftershocks, "aftershock_within_h": 20}


def heat(step_h: float = 0.05) -> dict[str, Any]:
    """A heatwave stepping every ``step_h`` hours for the whole run: one hazard record per step."""
    return {"id": "heat1", "type": "heatwave", "duration_h": 2000, "peak_temp_c": 38, "step_h": step_h}


def unchecked_quake_scenario(aftershocks: float) -> Any:
    """A scenario whose aftershock count skips validation (which caps it at 100): the engine's own guard."""
    sc = make_scenario([quake(3)], duration_h=24)
    return sc.model_copy(update={"hazards": (sc.hazards[0].model_copy(update={"aftershock_count": aftershocks}),)})


def test_a_billion_aftershocks_are_refused_before_any_is_drawn() -> None:
    sc = unchecked_quake_scenario(1e9)
    with pytest.raises(WorkBudgetExceeded) as err:
        Simulation(sc, make_city(CITY_ASSETS), 0).run()
    e = err.value
    assert (e.budget, e.limit, e.time_h, e.scenario) == ("records", FLOOR_RECORDS, 0.0, "kit")
    text = str(e)
    assert "'kit'" in text and f"{FLOOR_RECORDS:,} event-log records" in text and "hour 0 of 24" in text
    assert "1,000,000,000 aftershocks" in text and isinstance(e, ScroSimError)


def test_a_run_over_its_records_budget_stops_mid_run_and_stays_stopped() -> None:
    sc = make_scenario([heat()], duration_h=1000)  # 20,000 steps, each a record
    sim = Simulation(sc, make_city(CITY_ASSETS), 0, budget=WorkBudget(records=1000, steps=10**6))
    with pytest.raises(WorkBudgetExceeded) as err:
        sim.run()
    e = err.value
    assert e.budget == "records" and e.limit == 1000
    assert 0 < e.time_h < 100 and f"hour {e.time_h:g} of 1000" in str(e)
    assert 1000 < len(sim.log) < 2000  # looked at every few hundred steps, never per record
    assert sim.stopped is e and not sim.done
    with pytest.raises(WorkBudgetExceeded):
        sim.advance()
    assert sim.check([]) == ["the exercise is over"]


def test_a_run_over_its_steps_budget_is_stopped() -> None:
    sc = make_scenario([heat()], duration_h=1000)
    with pytest.raises(WorkBudgetExceeded) as err:
        Simulation(sc, make_city(CITY_ASSETS), 0, budget=WorkBudget(records=10**6, steps=2000)).run()
    assert err.value.budget == "steps" and "2,000 simulation steps" in str(err.value)
    assert "2,000 simulation steps, its work budget; look for a huge count" in str(err.value)  # no reason to add


def test_an_explicit_budget_refuses_fewer_aftershocks_than_the_default() -> None:
    sc = make_scenario([quake(100)], duration_h=24)  # the most a scenario may ask for
    assert Simulation(sc, make_city(CITY_ASSETS), 0).run().records[-1].kind == "run_end"
    with pytest.raises(WorkBudgetExceeded) as err:
        Simulation(sc, make_city(CITY_ASSETS), 0, budget=WorkBudget(records=80, steps=10**6)).run()
    assert err.value.limit == 80 and "100 aftershocks" in str(err.value)


def test_step_by_step_play_and_replay_keep_to_the_budget() -> None:
    sc = make_scenario([heat()], duration_h=1000, times_h=(0, 10, 500))
    city = make_city(CITY_ASSETS)
    small = WorkBudget(records=1000, steps=10**6)
    sim = Simulation(sc, city, 0, budget=small)
    assert sim.advance().time_h == 0.0
    assert sim.advance().time_h == 10.0  # 200 records: within budget
    with pytest.raises(WorkBudgetExceeded):
        sim.advance()
    with pytest.raises(WorkBudgetExceeded):
        replay(sc, city, 0, [], budget=small)


def test_a_long_fine_grained_run_fits_its_default_budget() -> None:
    sc = make_scenario([heat()], duration_h=500)  # 10,000 steps of three minutes
    sim = Simulation(sc, make_city(CITY_ASSETS), 0)
    log = play(sim, {})
    assert log.records[-1].kind == "run_end" and len(log) > 10_000 and sim.stopped is None
    assert len(log) < sim.budget.records / 5 and sim.steps < sim.budget.steps / 5


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_the_bundled_exercises_use_a_small_share_of_their_default_budget(path: Path) -> None:
    sc, city = load_scenario(path)
    policies = [baseline_policy("do_nothing"), baseline_policy("greedy")]
    if sc.reference_plans.expert is not None:
        policies.append(PlanPolicy(sc.reference_plans.expert, "expert"))
    for policy in policies:
        sim = Simulation(sc, city, 1, policy)
        log = sim.run()
        assert len(log) < sim.budget.records / 20 and sim.steps < sim.budget.steps / 20


def test_the_default_budget_grows_with_the_city_the_hazards_and_the_horizon() -> None:
    small = make_city(CITY_ASSETS)
    big = make_city(CITY_ASSETS + [asset(f"T{k}", "telecom_tower") for k in range(3000)])
    sc = make_scenario([heat()], duration_h=240)
    assert WorkBudget.for_run(sc, small) == WorkBudget(FLOOR_RECORDS, FLOOR_STEPS)
    bigger = WorkBudget.for_run(sc, big)
    assert bigger.records > FLOOR_RECORDS and bigger.steps > FLOOR_STEPS
    longer = WorkBudget.for_run(make_scenario([heat()], duration_h=480), big)
    more = WorkBudget.for_run(make_scenario([heat(), {**heat(), "id": "heat2"}], duration_h=240), big)
    assert longer.records > bigger.records and more.records > bigger.records
    # its size counts whole days of the run and its recovery: 240 h is 10 days, 241 h is 11
    assert WorkBudget.size_of(make_scenario([heat()], duration_h=241), big) == WorkBudget.size_of(sc, big) * 11 // 10


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10"])
def test_a_budget_must_be_a_positive_whole_number(bad: Any) -> None:
    with pytest.raises(ValueError, match="positive integer"):
        WorkBudget(records=bad, steps=10)


def test_the_smallest_budget_is_one_record_and_one_step() -> None:
    assert WorkBudget(records=1, steps=1) == WorkBudget(1, 1)
    with pytest.raises(ValueError, match="steps must be a positive integer, got 0"):
        WorkBudget(records=1, steps=0)


def test_the_cli_refuses_a_runaway_scenario_in_one_line_naming_the_field(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A billion aftershocks never reach the engine from a file: validation names the field and line."""
    from scro_sim.cli import main

    source = SCENARIOS[0].parent / "riverton_earthquake.yaml"
    text = source.read_text(encoding="utf-8").replace("city: ../city_models/riverton.yaml", "city: riverton")
    runaway = tmp_path / "runaway.yaml"
    runaway.write_text(text.replace("aftershock_count: {dist: poisson, mean: 3}", "aftershock_count: 1.0e9"),
                       encoding="utf-8")
    assert main(["run", str(runaway), "--seed", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and "aftershock_count" in err and f"{runaway}:" in err
