"""Generic hazard effects (outage, degradation, road_closure, demand_change), effects that start on
a condition, damage states beyond two, and the checks on each of them (scenarios/README.md,
"Generic effects" and "Damage states").

The kit city: PP (power plant) feeds SS (substation), which feeds district Z's 1000 people.
"""

from __future__ import annotations

from typing import Any

import pytest
from enginekit import asset, cyber, make_city, make_scenario, records, times

from scro_sim.city import City
from scro_sim.engine import Simulation
from scro_sim.errors import ScenarioError
from scro_sim.scenario import check_scenario_city, load_scenario

Z_POWER = [{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
            "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D", "needs": {"power": ["SS"]}}]


def kit_city(**ss: Any) -> City:
    return make_city([asset("PP", "power_plant"), asset("SS", "substation", "C", x=16000, needs={"power": ["PP"]}, **ss)],
                     districts=Z_POWER)


def run(hazards: list[dict[str, Any]], city: City | None = None, **kw: Any) -> Simulation:
    city = city or kit_city()
    sc = make_scenario(hazards, **kw)
    assert check_scenario_city(sc, city) == []
    sim = Simulation(sc, city, seed=1)
    sim.run()
    return sim


def power(sim: Simulation) -> list[tuple[float, float]]:
    """(time, share served) of district Z's power, one per change."""
    return [(round(r.time, 9), r.data["share"]) for r in records(sim, "service", "Z", service="power")]


# -- outage ---------------------------------------------------------------------------------------


def test_a_scenario_with_every_generic_effect_pickles_for_a_process_pool() -> None:
    """calibrate and batch send the scenario to worker processes; the effects' models must pickle."""
    import pickle

    sc = make_scenario([{"id": "o1", "type": "outage", "targets": ["SS"], "start_h": 2, "duration_h": 3},
                        {"id": "d1", "type": "degradation", "targets": ["SS"], "capacity": 0.5},
                        {"id": "r1", "type": "road_closure", "roads": ["A~B"], "duration_h": 2},
                        {"id": "c1", "type": "demand_change", "service": "power", "factor": 1.5}])
    assert pickle.loads(pickle.dumps(sc)) == sc



def test_an_outage_with_a_duration_holds_its_assets_down_for_that_long_and_no_crew_can_shorten_it() -> None:
    crews = {"crews": [{"id": "T", "skills": ["power"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    sim = run([{"id": "o1", "type": "outage", "targets": ["SS"], "start_h": 2, "duration_h": 3}], resources=crews)
    assert times(sim, "asset_down", "SS", cause="outage") == [2.0]
    assert times(sim, "asset_up", "SS") == [5.0]
    assert power(sim) == [(2.0, 0.0), (5.0, 1.0)]
    assert records(sim, "repair") == [] and records(sim, "damage") == []
    assert next((r.time, r.data) for r in records(sim, "hazard", "o1")) == (
        2.0, {"type": "outage", "assets": ["SS"], "until_h": 5.0})


def test_a_demand_change_logs_what_it_asks_of_which_districts() -> None:
    sim = run([{"id": "dc", "type": "demand_change", "service": "power", "factor": 2.0, "start_h": 2}])
    assert [(r.time, r.data) for r in records(sim, "hazard", "dc")] == [
        (2.0, {"type": "demand_change", "service": "power", "factor": 2.0, "served_share": 0.55, "districts": ["Z"]})]


def test_incident_response_without_an_it_crew_is_refused_and_with_one_accepted() -> None:
    def problems(crews: list[dict[str, Any]]) -> list[str]:
        hz = {**cyber("SS"), "incident_response_h": 4.0}
        return check_scenario_city(make_scenario([hz], resources={"crews": crews}), kit_city())

    it = {"id": "it", "count": 1, "depot": "DEP", "skills": ["it"]}
    power_only = {"id": "pw", "count": 1, "depot": "DEP", "skills": ["power"]}
    assert problems([power_only]) == ["hazards[0].incident_response_h: IT incident response needs a crew team with "
                                      "the 'it' skill (resources.crews: skills: [it])"]
    assert problems([power_only, it]) == []


def test_an_outage_without_a_duration_is_damage_a_crew_repairs_with_the_states_repair_hours() -> None:
    crews = {"crews": [{"id": "T", "skills": ["power"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    sim = run([{"id": "o1", "type": "outage", "asset_types": ["substation"], "start_h": 1, "state": "moderate"}],
              resources=crews, repair_times={"substation": {"degraded": [2, 0], "failed": [9, 0], "moderate": [4, 0]}})
    [dmg] = records(sim, "damage", "SS")
    assert dmg.time == 1.0 and dmg.data["state"] == "moderate" and dmg.data["effect"] == "outage"
    [started] = records(sim, "repair", "SS", state="started")
    assert started.data["hours"] == 4.0 and started.data["damage"] == "moderate"
    [up] = times(sim, "asset_up", "SS")
    assert up == pytest.approx(started.time + 4.0)


def test_a_moderate_damage_without_its_own_repair_hours_takes_halfway_between_degraded_and_failed() -> None:
    """Degraded 2 h, failed 9 h, no moderate hours given: (2 + 9) / 2 = 5.5 h of work."""
    crews = {"crews": [{"id": "T", "skills": ["power"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    sim = run([{"id": "o1", "type": "outage", "asset_types": ["substation"], "start_h": 1, "state": "moderate"}],
              resources=crews, repair_times={"substation": {"degraded": [2, 0], "failed": [9, 0]}})
    [started] = records(sim, "repair", "SS", state="started")
    assert started.data["hours"] == 5.5 and started.data["damage"] == "moderate"


def test_a_scenario_with_every_generic_effect_pickles_for_the_worker_processes() -> None:
    import pickle

    sc = make_scenario([{"id": "o1", "type": "outage", "targets": ["SS"], "start_h": 1, "duration_h": 2},
                        {"id": "g1", "type": "degradation", "targets": ["SS"], "capacity": 0.5, "start_h": 1},
                        {"id": "d1", "type": "demand_change", "service": "power", "factor": 1.5}])
    again = pickle.loads(pickle.dumps(sc))
    assert [type(h).__name__ for h in again.hazards] == ["OutageEffect", "DegradationEffect", "DemandChangeEffect"]
    assert again == sc


# -- degradation ----------------------------------------------------------------------------------


def test_a_degradation_serves_the_districts_in_proportion_while_it_lasts() -> None:
    sim = run([{"id": "d1", "type": "degradation", "targets": ["SS"], "capacity": 0.6, "start_h": 3, "duration_h": 4}])
    assert power(sim) == [(3.0, 0.6), (7.0, 1.0)]
    assert records(sim, "asset_down") == []  # it runs, derated


def test_a_degradation_logs_its_start_and_its_end_as_a_degradation() -> None:
    sim = run([{"id": "d1", "type": "degradation", "targets": ["SS"], "capacity": 0.6, "start_h": 3, "duration_h": 4}])
    assert [(r.time, r.data) for r in records(sim, "hazard", "d1")] == [
        (3.0, {"type": "degradation", "assets": ["SS"], "capacity": 0.6, "until_h": 7.0}),
        (7.0, {"type": "degradation", "ended": True})]


def test_a_derated_supplier_feeds_its_share_of_a_district_fed_in_shares() -> None:
    district = [{**Z_POWER[0], "needs": {"power": ["SS", "SS2"]}, "shares": {"power": {"SS": 0.5, "SS2": 0.5}}}]
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("SS2", "substation", needs={"power": ["PP"]})], districts=district)
    sim = run([{"id": "d1", "type": "degradation", "targets": ["SS"], "capacity": 0.4, "start_h": 1, "duration_h": 1}],
              city=city)
    assert power(sim) == [(1.0, 0.7), (2.0, 1.0)]  # 0.5 x 0.4 + 0.5


# -- road closure ---------------------------------------------------------------------------------


def test_a_road_closure_sends_crews_the_long_way_round_until_it_is_lifted() -> None:
    # the crew at D goes D -> A -> B -> C (0.1 + 0.2 + 0.2 h); with A~B closed, D -> A -> C (0.1 + 0.5 h)
    crews = {"crews": [{"id": "T", "skills": ["power"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    closure = {"id": "r1", "type": "road_closure", "roads": ["A~B"], "start_h": 0, "duration_h": 10}
    shake = {"id": "o1", "type": "outage", "targets": ["SS"], "start_h": 1}
    sim = run([closure, shake], resources=crews)
    assert times(sim, "road", "A~B", cause="road_closure", closed=True) == [0.0]
    assert times(sim, "road", "A~B", closed=False) == [10.0]
    [sent] = records(sim, "crew", state="dispatched")
    assert sent.data["travel_h"] == pytest.approx(0.6)
    open_sim = run([shake], resources=crews)
    assert records(open_sim, "crew", state="dispatched")[0].data["travel_h"] == pytest.approx(0.5)


# -- demand change --------------------------------------------------------------------------------


def test_more_demand_than_the_supplys_headroom_leaves_a_share_unserved() -> None:
    surge = {"id": "dc", "type": "demand_change", "service": "power", "factor": 2.0, "headroom": 0.1,
             "start_h": 2, "duration_h": 5}
    sim = run([surge])
    assert power(sim) == [(2.0, 0.55), (7.0, 1.0)]
    assert [r.data["unserved"] for r in records(sim, "service", "Z")] == [450, 0]


def test_demand_within_the_headroom_changes_nothing() -> None:
    sim = run([{"id": "dc", "type": "demand_change", "service": "power", "factor": 1.05, "start_h": 2}])
    assert power(sim) == []


# -- starting on a condition ----------------------------------------------------------------------


def test_an_effect_starts_its_hours_after_its_condition_first_holds() -> None:
    # a cyber attack takes PP down at 2 h; the outage of SS waits for it, then 1.5 h more
    outage = {"id": "o1", "type": "outage", "targets": ["SS"], "when": {"asset_down": "PP"}, "start_h": 1.5,
              "duration_h": 2}
    sim = run([cyber("PP", start_h=2.0, recovery_h=1.0), outage])
    assert times(sim, "hazard", "o1") == [3.5, 5.5]
    assert times(sim, "asset_down", "SS", cause="outage") == []  # already down for want of power...
    assert [r.data["cause"] for r in records(sim, "asset_down", "SS")] == ["no power"]


def test_an_effect_on_an_inject_starts_when_the_inject_fires() -> None:
    msel = [{"id": "I1", "at_h": 4, "sender": "Police", "text": "Protest at the bridge", "channel": "phone"}]
    closure = {"id": "r1", "type": "road_closure", "roads": ["B~C"], "when": {"inject": "I1"}}
    sim = run([closure], msel=msel)
    assert times(sim, "road", "B~C", closed=True) == [4.0]


def test_an_effect_whose_condition_never_holds_never_starts() -> None:
    sim = run([{"id": "o1", "type": "outage", "targets": ["SS"], "when": {"asset_down": "PP"}, "duration_h": 1}])
    assert records(sim, "hazard", "o1") == [] and power(sim) == []


# -- damage states --------------------------------------------------------------------------------

QUAKE = {"id": "q", "type": "earthquake", "time_h": 1, "epicentre": [0, 5000], "magnitude": 7.0}


def four_states(**medians: float) -> dict[str, Any]:
    return {"earthquake": [{"state": s, "median": m, "beta": 0.01} for s, m in medians.items()]}


def test_curves_may_name_the_four_hazus_states_and_the_worst_state_passed_is_logged() -> None:
    city = kit_city(fragility=four_states(slight=0.01, moderate=0.02, extensive=50.0, complete=90.0))
    sim = run([QUAKE], city=city)
    [dmg] = records(sim, "damage", "SS")
    assert dmg.data["state"] == "moderate"


def test_a_types_degraded_and_failed_prices_price_its_moderate_damage_halfway() -> None:
    """The scenario prices substations at 100 degraded and 1,000 failed, nothing for moderate: (100 + 1000) / 2."""
    city = kit_city(fragility=four_states(slight=0.01, moderate=0.02, extensive=50.0, complete=90.0))
    sim = run([QUAKE], city=city, damage_costs={"substation": {"degraded": 100, "failed": 1000}})
    [dmg] = records(sim, "damage", "SS")
    assert (dmg.data["state"], dmg.data["loss"]) == ("moderate", 550.0)


def test_a_degraded_state_that_keeps_capacity_runs_derated_instead_of_going_out() -> None:
    city = kit_city(fragility={"earthquake": [{"state": "degraded", "median": 0.01, "beta": 0.01},
                                              {"state": "failed", "median": 90.0, "beta": 0.01}]})
    sim = run([QUAKE], city=city, damage_states={"degraded": {"capacity": 0.5}})
    assert records(sim, "damage", "SS")[0].data["state"] == "degraded"
    assert records(sim, "asset_down", "SS") == []
    assert power(sim) == [(1.0, 0.5)]
    taken_out = run([QUAKE], city=city)  # without damage_states: today's meaning, out of service
    assert power(taken_out) == [(1.0, 0.0)]


def test_a_derated_asset_still_goes_out_when_its_supplier_fails() -> None:
    """SS runs at half capacity after the quake (1 h); the plant it needs goes out at 5 h, so SS does too."""
    city = kit_city(fragility={"earthquake": [{"state": "degraded", "median": 0.01, "beta": 0.01}]})
    plant_out = {"id": "o", "type": "outage", "targets": ["PP"], "start_h": 5, "state": "failed"}
    sim = run([QUAKE, plant_out], city=city, damage_states={"degraded": {"capacity": 0.5}})
    assert [(r.time, r.data["cause"]) for r in records(sim, "asset_down", "SS")] == [(5.0, "no power")]
    assert power(sim) == [(1.0, 0.5), (5.0, 0.0)]


def test_a_crew_repair_restores_a_derated_assets_full_capacity() -> None:
    city = kit_city(fragility={"earthquake": [{"state": "slight", "median": 0.01, "beta": 0.01}]})
    crews = {"crews": [{"id": "T", "skills": ["power"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    sim = run([QUAKE], city=city, resources=crews, damage_states={"slight": {"capacity": 0.8}},
              repair_times={"substation": {"degraded": [2, 0], "failed": [9, 0], "slight": [3, 0]}})
    [done] = times(sim, "repair", "SS", state="finished")
    assert power(sim) == [(1.0, 0.8), (done, 1.0)]


def test_the_utility_ranks_hazus_states_by_their_own_repair_hours() -> None:
    """S1 complete (20 h), S2 slight (3 h), each half of Z's power: the general crew takes S2 first,
    the most people back per repair hour, though S1 comes first by index."""
    district = {**Z_POWER[0], "needs": {"power": ["S1", "S2"]}, "shares": {"power": {"S1": 0.5, "S2": 0.5}}}
    city = make_city([asset("PP", "power_plant"),
                      asset("S1", "substation", "C", x=16000, needs={"power": ["PP"]},
                            fragility={"earthquake": [{"state": "complete", "median": 0.01, "beta": 0.01}]}),
                      asset("S2", "substation", "C", x=16000, needs={"power": ["PP"]},
                            fragility={"earthquake": [{"state": "slight", "median": 0.01, "beta": 0.01}]})],
                     districts=[district])
    crews = {"crews": [{"id": "T", "skills": ["general"], "count": 1, "depot": "DEP"}], "utility_restoration": True}
    sim = run([QUAKE], city=city, resources=crews, duration_h=48,
              repair_times={"substation": {"degraded": [2, 0], "failed": [9, 0], "slight": [3, 0], "complete": [20, 0]}})
    assert [r.subject for r in records(sim, "repair", state="started")] == ["S2", "S1"]


# -- bad inputs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("hazard", "needle"), [
    ({"type": "outage", "targets": ["NOPE"]}, "unknown asset 'NOPE'"),
    ({"type": "outage"}, "outage needs targets (asset ids) or asset_types"),
    ({"type": "degradation", "asset_types": ["gas_main"], "capacity": 0.5},
     "unknown asset type 'gas_main'; the city kit knows: power_plant, substation, water_treatment,"),
    ({"type": "road_closure", "roads": ["A~Q"]}, "unknown road 'A~Q'"),
    ({"type": "road_closure"}, "road_closure needs roads (FROM~TO) or zones"),
    ({"type": "road_closure", "zones": ["nowhere"]}, "hazards[0].zones[0]: unknown zone 'nowhere'"),
    ({"type": "demand_change", "service": "water", "factor": 2, "districts": ["Y"]}, "unknown district 'Y'"),
    ({"type": "outage", "targets": ["SS"], "when": {"asset_down": "NOPE"}}, "unknown asset 'NOPE'"),
    ({"type": "outage", "targets": ["SS"], "when": {"any_down": "gas_main"}}, "unknown asset type 'gas_main'"),
    ({"type": "cyber", "start_h": 1, "recovery_h": 5, "targets": ["SS", "NOPE"]},
     "hazards[0].targets[1]: unknown asset 'NOPE'"),
    ({"type": "surge", "start_h": 5, "peak_h": 2, "end_h": 10, "peak_extra_patients": 10, "hospitals": ["SS"]},
     "hazards[0]: need start_h <= peak_h <= end_h"),
])
def test_effects_naming_what_the_city_lacks_are_refused(hazard: dict[str, Any], needle: str) -> None:
    sc = make_scenario([{"id": "e", **hazard}])
    assert any(needle in p for p in check_scenario_city(sc, kit_city()))


@pytest.mark.parametrize(("hazard", "needle"), [
    ({"type": "degradation", "targets": ["SS"], "capacity": 1.0}, "capacity"),
    ({"type": "demand_change", "service": "gas", "factor": 2}, "service"),
    ({"type": "outage", "targets": ["SS"], "state": "shattered"}, "state"),
    ({"type": "outage", "targets": ["SS"] * 1001}, "targets\n  Tuple should have at most 1000 items"),
    ({"type": "outage", "targets": ["SS"], "when": {"asset_down": "SS", "inject": "I"}}, "exactly one trigger"),
    ({"type": "heatwave", "duration_h": 24, "peak_temp_c": -61}, "peak_temp_c\n  Value error, must lie between -60 and 70 C"),
    ({"type": "storm", "duration_h": 6, "centre": [0, 0], "radius_km": 5, "peak_wind_ms": 30, "step_h": 25},
     "step_h\n  Input should be less than or equal to 24"),
    ({"type": "earthquake", "epicentre": [0, 0], "magnitude": 6, "aftershock_magnitude_drop": 5.5},
     "aftershock_magnitude_drop\n  Input should be less than or equal to 5"),
    ({"type": "flood", "zones": ["Z"], "time_to_peak_h": 5, "recession_h": 5, "peak_stage_m": -101},
     "peak_stage_m\n  Value error, must lie between -100 and 100 m"),
    ({"type": "heatwave", "duration_h": 24, "peak_temp_c": 40, "demand_per_degree": -0.1},
     "demand_per_degree\n  Input should be greater than or equal to 0"),
    ({"type": "staff_absence", "peak_h": 5, "end_h": 100001, "peak_share": 0.3},
     "end_h\n  Input should be less than or equal to 100000"),
    ({"type": "data_platform", "carries": ["power", "water", "telecom", "health", "power"]},
     "carries\n  Tuple should have at most 4 items"),
    # a lecturer's .nan is named for what it is, not as a number out of range
    ({"type": "staff_absence", "peak_h": 5, "end_h": float("nan"), "peak_share": 0.3},
     "end_h\n  Input should be a finite number"),
    ({"type": "flood", "zones": ["Z"], "time_to_peak_h": 5, "recession_h": 5, "peak_stage_m": 3,
      "road_closure_depth_m": float("nan")}, "road_closure_depth_m\n  Input should be a finite number"),
])
def test_malformed_effects_are_refused_with_the_field(hazard: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        make_scenario([{"id": "e", **hazard}])


def test_a_flood_whose_stage_can_fall_below_zero_is_refused_at_its_peak_stage() -> None:
    flood = {"id": "f", "type": "flood", "zones": ["Z"], "base_stage_m": 0, "time_to_peak_h": 5, "recession_h": 5,
             "peak_stage_m": {"dist": "uniform", "low": -1, "high": 3}}
    problems = check_scenario_city(make_scenario([flood]), kit_city())
    assert "hazards[0].peak_stage_m: stage cannot be negative" in problems


def test_a_storm_radius_that_is_not_a_number_is_refused_as_not_finite() -> None:
    storm = {"id": "s", "type": "storm", "duration_h": 6, "centre": [0, 0], "radius_km": float("nan"),
             "peak_wind_ms": 30}
    with pytest.raises(ValueError, match="radius_km\n  Input should be a finite number"):
        make_scenario([storm])


def test_a_bad_effect_in_a_scenario_file_names_file_line_and_field(tmp_path: Any) -> None:
    from pathlib import Path

    src = (Path(__file__).resolve().parent.parent / "scenarios" / "riverton_flood.yaml").read_text(encoding="utf-8")
    head, _, tail = src.partition("hazards:\n")
    text = head + "hazards:\n  - id: protest\n    type: road_closure\n    roads: [NOWHERE~ELSE]\n" + tail
    (tmp_path / "s.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "s.yaml")
    line = head.count("\n") + 4
    assert f"s.yaml:{line}: hazards[0].roads[0]: unknown road 'NOWHERE~ELSE'" in str(err.value)


def test_two_curves_naming_the_same_state_are_refused_in_a_scenario_and_in_a_city() -> None:
    twice = [{"state": "failed", "median": 0.3, "beta": 0.5}, {"median": 0.6, "beta": 0.5}]
    sc = make_scenario([QUAKE], fragility={"earthquake": {"substation": twice}})
    assert any("two curves name the damage state 'failed'" in p for p in check_scenario_city(sc, kit_city()))
    with pytest.raises(Exception, match="two curves name the damage state 'failed'"):
        kit_city(fragility={"earthquake": twice})


def test_curves_mixing_the_two_scales_are_refused() -> None:
    mixed = [{"state": "degraded", "median": 0.3, "beta": 0.5}, {"state": "complete", "median": 0.9, "beta": 0.5}]
    with pytest.raises(Exception, match="mix the damage states"):
        kit_city(fragility={"earthquake": mixed})


def test_a_hazard_on_a_condition_counts_its_own_hours_from_when_the_condition_held() -> None:
    msel = [{"id": "I1", "at_h": 3, "sender": "Seismologist", "text": "Foreshocks", "channel": "phone"}]
    quake = {**QUAKE, "time_h": 2, "when": {"inject": "I1"}}
    sim = run([quake], msel=msel)
    assert times(sim, "hazard", "q") == [5.0]


def test_a_flood_on_a_condition_rises_and_recedes_as_it_would_have_from_the_start() -> None:
    from enginekit import flood

    city = make_city([asset("SS", "substation", "C", x=16000, y=0, elevation=1.0)], flood_plain=True)
    at_start = run([flood()], city=city)
    later = run([{**flood(), "when": {"after_h": 2}}], city=city)
    shifted = [(round(r.time - 2.0, 9), r.data) for r in records(later, "hazard")]
    assert shifted == [(round(r.time, 9), r.data) for r in records(at_start, "hazard")]
    assert [t - 2.0 for t in times(later, "asset_down", "SS")] == times(at_start, "asset_down", "SS")


# -- the registry ---------------------------------------------------------------------------------


def test_the_scenario_schema_and_the_citys_hazard_names_derive_from_the_registry() -> None:
    from scro_sim.engine.hazards import NAMES, REGISTRY
    from scro_sim.scenario import HAZARD_TYPES, scenario_schema
    from scro_sim.scenario.models import HAZARD_MODELS

    assert HAZARD_TYPES == NAMES == tuple(HAZARD_MODELS)
    assert {"outage", "degradation", "road_closure", "demand_change"} <= set(NAMES)
    defs = scenario_schema()["$defs"]
    for name, kind in REGISTRY.items():
        assert defs[kind.model_name]["properties"]["type"]["const"] == name
        assert "when" in defs[kind.model_name]["properties"]


def test_bad_damage_states_and_repair_hours_are_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        make_scenario([QUAKE], damage_states={"slight": {"capacity": 1.0}})
    with pytest.raises(ValueError, match="damage_states"):
        make_scenario([QUAKE], damage_states={"cracked": {"capacity": 0.5}})
    with pytest.raises(ValueError, match="0 < mean"):
        make_scenario([QUAKE], repair_times={"substation": {"degraded": [2, 0], "failed": [9, 0], "complete": [0, 1]}})


def test_a_storm_without_a_start_time_blows_from_the_start_of_the_run_at_each_step() -> None:
    """No ``start_h``: the storm's first step is at 0 h, then one every ``step_h`` (half-hours here) to its end."""
    storm = {"id": "s", "type": "storm", "duration_h": 2, "centre": [0, 0], "radius_km": 5, "peak_wind_ms": 30,
             "step_h": 0.5}
    sim = Simulation(make_scenario([storm], duration_h=6), make_city([asset("SS", "substation")]), 0)
    sim.run()
    assert times(sim.log, "hazard", "s") == [0.0, 0.5, 1.0, 1.5, 2.0]


def test_an_unknown_hazard_kind_is_a_key_error_naming_the_known_ones() -> None:
    from scro_sim.engine.hazards import get

    with pytest.raises(KeyError, match=r"unknown hazard 'tsunami'; known: flood, earthquake, heatwave, storm, cyber"):
        get("tsunami")


def test_an_earthquakes_aftershocks_come_within_48_hours_unless_the_scenario_says_otherwise() -> None:
    quake = {"id": "eq", "type": "earthquake", "time_h": 1, "epicentre": [0, 0], "magnitude": 6, "aftershock_count": 20}
    sc = make_scenario([quake], duration_h=100)
    assert sc.hazards[0].aftershock_within_h == 48.0
    p = Simulation(sc, kit_city(), 0).hazard_params["eq"]
    shocks = [p[f"aftershock{k}_h"] for k in range(20)]
    assert all(1.0 < t <= 49.0 for t in shocks) and max(shocks) > 40.0  # spread over the whole window


def test_a_demand_change_with_a_duration_logs_its_end_as_ended() -> None:
    sim = run([{"id": "dc", "type": "demand_change", "service": "power", "factor": 1.05, "start_h": 2, "duration_h": 3}])
    assert [(r.time, r.data) for r in records(sim.log, "hazard", "dc") if r.data.get("ended") is not None] == [
        (5.0, {"type": "demand_change", "ended": True})]
