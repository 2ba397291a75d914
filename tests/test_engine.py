"""Engine behaviour pinned on tiny cities whose every number is computed by hand.

The cities and scenarios are built in code (``tests/enginekit.py``); each docstring says the
arithmetic.  Times are compared after rounding to 9 decimals.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from enginekit import DISTRICT, ROADS, act, asset, cyber, flood, make_city, make_scenario, play, records, times

from scro_sim.city import City
from scro_sim.engine import Simulation
from scro_sim.errors import DecisionError
from scro_sim.policy import Decision
from scro_sim.scenario import Action, Plan

# --------------------------------------------------------------------------------------------
# cascades and backups

GEN8 = {"kind": "generator", "hours": 8}


def hospital_city(*, redundant: bool = False) -> City:
    """PP -> SS (-> SS2) -> H, the hospital with an 8 h generator of its own."""
    subs = ["SS", "SS2"] if redundant else ["SS"]
    assets = [asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
              asset("H", "hospital", backup=GEN8, needs={"power": subs})]
    if redundant:
        assets.insert(2, asset("SS2", "substation", needs={"power": ["PP"]}))
    return make_city(assets)


def test_hospital_loses_service_when_its_generator_runs_dry() -> None:
    """Substation shut down at 2 h; the 8 h generator carries the hospital to exactly 10 h."""
    sim = Simulation(make_scenario([cyber("SS", start_h=2)]), hospital_city(), 0)
    log = sim.run()
    assert times(log, "asset_down", "SS") == [2.0]
    assert times(log, "backup_start", "H") == [2.0]
    assert records(log, "backup_start", "H")[0].data["hours_left"] == 8.0
    assert times(log, "backup_exhausted", "H") == [10.0]
    assert times(log, "asset_down", "H") == [10.0]
    assert records(log, "asset_down", "H")[0].data["cause"] == "no power"


def test_redundant_substation_keeps_hospital_on_supply() -> None:
    sim = Simulation(make_scenario([cyber("SS", start_h=2)]), hospital_city(redundant=True), 0)
    log = sim.run()
    assert times(log, "asset_down", "SS") == [2.0]
    assert records(log, "backup_start", "H") == []
    assert records(log, "asset_down", "H") == []


def test_supply_back_before_exhaustion_stops_backup_and_keeps_unused_fuel() -> None:
    """Down 2 h -> 5.5 h (0.5 h detection + 3 h recovery): 3.5 h of the 8 h used, 4.5 h left."""
    sim = Simulation(make_scenario([cyber("SS", start_h=2, recovery_h=3)]), hospital_city(), 0)
    log = sim.run()
    assert times(log, "asset_up", "SS") == [5.5]
    assert times(log, "backup_stop", "H") == [5.5]
    assert records(log, "backup_stop", "H")[0].data["own_left_h"] == pytest.approx(4.5)
    assert records(log, "backup_exhausted", "H") == []
    assert records(log, "asset_down", "H") == []
    assert sim.own_left[sim.city.asset_index["H"]] == pytest.approx(4.5)


def test_second_outage_uses_only_the_fuel_left() -> None:
    """Two shutdowns of the substation: 2-5.5 h (3.5 h used) then 10 h on: 4.5 h left -> down at 14.5 h."""
    hz = [cyber("SS", start_h=2, recovery_h=3), cyber("SS", start_h=10, recovery_h=100, hid="cyber2")]
    log = Simulation(make_scenario(hz), hospital_city(), 0).run()
    assert times(log, "backup_start", "H") == [2.0, 10.0]
    assert times(log, "asset_down", "H") == [14.5]


def test_deployed_generator_extends_the_backup() -> None:
    """Own 8 h from 2 h, then the mobile generator's 24 h: down at 2 + 8 + 24 = 34 h, not 10 h."""
    actions = {"deploy_generator": {"cost": 100, "lead_time_h": 1.0, "fuel_hours": 24}}
    sc = make_scenario([cyber("SS", start_h=2)], duration_h=48, actions=actions,
                       resources={"budget": 1000, "generators": {"count": 1}})
    sim = Simulation(sc, hospital_city(), 0)
    log = play(sim, {0.0: [act("deploy_generator", "H")]})
    assert times(log, "generator", "H", state="deployed") == [1.0]
    assert times(log, "backup_exhausted", "H") == [10.0, 34.0]
    assert records(log, "backup_exhausted", "H")[1].data["sources"] == ["gen"]
    assert times(log, "asset_down", "H") == [34.0]
    assert sim.generators_left == 0


def test_refuel_while_on_backup_extends_it_without_a_second_start() -> None:
    """On own backup from 2 h; 24 h of fuel delivered at 4 h (6 h left + 24 h): down at 34 h.

    Regression (second half): ``_effect`` re-entered the backup state through ``_transition``
    and logged another ``backup_start`` with no stop in between.
    """
    sc = make_scenario([cyber("SS", start_h=2)], duration_h=48, times_h=(4.0,), resources={"budget": 100},
                       actions={"refuel": {"lead_time_h": 0, "fuel_hours": 24, "cost": 1}})
    sim = Simulation(sc, hospital_city(), 0)
    log = play(sim, {4.0: [act("refuel", "H")]})
    assert times(log, "asset_down", "H") == [34.0]
    assert times(log, "backup_exhausted", "H") == [34.0]
    assert times(log, "backup_start", "H") == [2.0]


def test_second_generator_while_running_on_the_first_adds_its_fuel() -> None:
    """No own backup.  Generator (24 h) at 0 h, supply lost at 2 h, a second 24 h at 4 h: 22 + 24 = 46 h
    left at 4 h, so down at 50 h.

    Regression: the sources do not change, so the 26 h exhaustion timer was not re-armed; at 26 h a
    bogus ``backup_exhausted`` was logged and no new timer set, so the hospital ran on an
    empty generator to the end of the run (``engine._effect``/``_exhausted``).
    """
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("H", "hospital", needs={"power": ["SS"]})])
    sc = make_scenario([cyber("SS", start_h=2)], duration_h=72, times_h=(4.0,),
                       resources={"budget": 100, "generators": {"count": 2}},
                       actions={"deploy_generator": {"lead_time_h": 0, "fuel_hours": 24, "cost": 1}})
    sim = Simulation(sc, city, 0)
    log = play(sim, {0.0: [act("deploy_generator", "H")], 4.0: [act("deploy_generator", "H")]})
    assert times(log, "backup_start", "H") == [2.0]
    assert times(log, "backup_exhausted", "H") == [50.0]
    assert times(log, "asset_down", "H") == [50.0]


def test_warning_lead_time_reduces_people_at_risk() -> None:
    """1000 people on the flood plain at 1 m: reached at 2 h (gauge 1.5 m).  Warned at 0.25 h (0.25 h
    lead time): 1.75 h of the 2 h needed, so 0.7 x 1.75/2 = 61.25 % protected: 387.5 at risk."""
    district = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.2, "location": {"x": 16000, "y": 0},
                "elevation": 1.0, "road_node": "C"}
    city = make_city([asset("PP", "power_plant")], districts=[district], flood_plain=True)
    sc = make_scenario([flood()], resources={"budget": 1000})
    unwarned = Simulation(sc, city, 0).run()
    warned = play(Simulation(sc, city, 0), {0.0: [act("warn_public", "all", message="Leave the plain")]})
    for log, at_risk in ((unwarned, 1000.0), (warned, 387.5)):
        (exp,) = records(log, "exposure", "Z")
        assert exp.time == 2.0
        assert exp.data["at_risk"] == pytest.approx(at_risk)
        assert exp.data["at_risk_vulnerable"] == pytest.approx(0.2 * at_risk)
    assert records(warned, "exposure", "Z")[0].data["warning_lead_h"] == pytest.approx(1.75)


def cycle_city(*, external: bool) -> City:
    """PP needs water from PS; PS needs power from PP (a loop), and (external) telecom from TT too."""
    ps_needs: dict[str, Any] = {"power": ["PP"]}
    extra = []
    if external:
        ps_needs["telecom"] = ["TT"]
        extra = [asset("TT", "telecom_tower")]
    return make_city([*extra, asset("PP", "power_plant", needs={"water": ["PS"]}),
                      asset("PS", "pumping_station", needs=ps_needs)])


def test_interdependency_cycle_stays_up_and_restarts_when_its_source_returns() -> None:
    """TT shut down 2 h -> 5.5 h: PS and PP fall together and restart together at 5.5 h."""
    sim = Simulation(make_scenario([cyber("TT", start_h=2, recovery_h=3)]), cycle_city(external=True), 0)
    first = sim.advance()  # t = 0: the loop holds itself up
    assert first.asset_counts["down"] == 0
    log = sim.run()
    assert times(log, "asset_down", "PS") == [2.0]
    assert times(log, "asset_down", "PP") == [2.0]
    assert times(log, "asset_up", "PS") == [5.5]
    assert times(log, "asset_up", "PP") == [5.5]
    assert (sim.state == 0).all()


def test_interdependency_cycle_restarts_after_its_own_member_is_restored() -> None:
    """PS itself shut down 2 h -> 5.5 h: PP falls (no water); at 5.5 h both must come back.

    Regression: the cleared member stayed down for "no power" and nothing "came up", so the
    cycle restart was never tried (``engine._propagate``).
    """
    sim = Simulation(make_scenario([cyber("PS", start_h=2, recovery_h=3)]), cycle_city(external=False), 0)
    log = sim.run()
    assert times(log, "asset_down", "PP") == [2.0]
    assert times(log, "asset_up", "PS") == [5.5]
    assert times(log, "asset_up", "PP") == [5.5]
    assert (sim.state == 0).all()


def test_the_observation_counts_assets_up_on_backup_down_and_damaged() -> None:
    """T2 shut from 1 h (down, not damaged) and EOC with it; SS failed at 2 h (damaged) and H with it; at
    6 h the kit's seven assets (its depot too) count 3 up, 4 down, 1 damaged."""
    city = make_city([asset("EOC", "eoc", needs={"telecom": ["T2"]}), asset("T2", "telecom_tower"),
                      asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("H", "hospital", needs={"power": ["SS"]}), asset("TT", "telecom_tower")])
    failed = {"id": "o", "type": "outage", "targets": ["SS"], "start_h": 2, "state": "failed"}
    sim = Simulation(make_scenario([cyber("T2", start_h=1), failed], times_h=(6.0,)), city, 0)
    sim.advance()
    assert sim.advance().asset_counts == {"up": 3, "backup": 0, "down": 4, "damaged": 1}


def test_a_cycle_restart_leaves_down_what_hangs_on_an_asset_still_out() -> None:
    """T2 is out for good from 1 h; the PP-PS loop falls with TT at 2 h and restarts at 5.5 h.  SS
    needs T2 and the EOC needs SS: both stay down, though the EOC is looked at before SS is."""
    city = make_city([asset("EOC", "eoc", needs={"power": ["SS"]}),
                      asset("SS", "substation", needs={"power": ["PP"], "telecom": ["T2"]}),
                      asset("T2", "telecom_tower"), asset("TT", "telecom_tower"),
                      asset("PP", "power_plant", needs={"water": ["PS"]}),
                      asset("PS", "pumping_station", needs={"power": ["PP"], "telecom": ["TT"]})])
    sc = make_scenario([cyber("T2", start_h=1, hid="c2"), cyber("TT", start_h=2, recovery_h=3)])
    log = Simulation(sc, city, 0).run()
    assert times(log, "asset_up", "PP") == times(log, "asset_up", "PS") == [5.5]
    assert times(log, "asset_down", "EOC") == times(log, "asset_down", "SS") == [1.0]
    assert times(log, "asset_up", "EOC") == times(log, "asset_up", "SS") == []


# --------------------------------------------------------------------------------------------
# crews, roads, repair

FAIL_AT_ANY_DEPTH = {"flood": {"median": 0.01, "beta": 0.01, "state": "failed"}}
REPAIR = {"substation": {"degraded": [2, 0], "failed": [5, 0]}}  # sd 0: exactly 5 h


def flood_city(n: int = 1) -> City:
    """Substations SS1..SSn on node C inside the flood plain at 1 m: wet from 2 h to 6 h, failed at the crest (4 h)."""
    return make_city([asset("PP", "power_plant")] + [
        asset(f"SS{k}", "substation", "C", x=16000, y=0, elevation=1.0, needs={"power": ["PP"]},
              fragility=FAIL_AT_ANY_DEPTH) for k in range(1, n + 1)], flood_plain=True)


def crew_scenario(times_h: tuple[float, ...] = (8.0,), *, count: int = 1, skills: tuple[str, ...] = ("power",),
                  budget: float = 1e6, **kw: Any) -> Any:
    res = {"budget": budget, "crews": [{"id": "pc", "count": count, "depot": "DEP", "skills": list(skills)}]}
    res.update(kw.pop("resources", {}))
    # orders and closures without lead time: these tests are about travel and repair
    actions = {"close_road": {"cost": 200, "lead_time_h": 0.0}, "dispatch_crew": {"cost": 1500, "lead_time_h": 0.0},
               "set_priorities": {"cost": 0, "lead_time_h": 0.0}, **kw.pop("actions", {})}
    return make_scenario([flood()], duration_h=48, times_h=times_h, resources=res, repair_times=REPAIR,
                         actions=actions, **kw)


def test_flood_stops_the_substation_while_wet_and_damage_is_assessed_at_the_crest() -> None:
    """Down when the water arrives (2 h); its damage, from the deepest water, when the river crests (4 h)."""
    log = Simulation(crew_scenario(), flood_city(), 0).run()
    assert times(log, "asset_down", "SS1") == [2.0]
    assert records(log, "asset_down", "SS1")[0].data["cause"] == "flooded"
    assert times(log, "damage", "SS1") == [4.0]
    assert records(log, "damage", "SS1")[0].data["intensity"] == pytest.approx(2.0)  # 3 m crest, 1 m ground
    assert records(log, "asset_up", "SS1") == []  # nobody repaired it


def test_a_flood_that_has_gone_in_the_fast_forward_takes_no_more_steps_however_long_the_recovery() -> None:
    """The water is back to base at 8 h, after the 6 h run: stepping it stops there, not at the horizon."""
    city = make_city([asset("PP", "power_plant"),
                      asset("SS", "substation", "C", x=16000, y=0, elevation=1.0, needs={"power": ["PP"]})],
                     flood_plain=True)
    steps, logs = [], []
    for recovery_h in (48, 480):
        sim = Simulation(make_scenario([flood()], duration_h=6, recovery_h=recovery_h), city, 0)
        logs.append(sim.run())
        steps.append(sim.steps)
    assert times(logs[1], "hazard") == [float(h) for h in range(9)]
    assert steps[0] == steps[1] and len(logs[0]) == len(logs[1])


def test_protection_before_the_water_keeps_an_asset_dry_while_its_neighbour_floods() -> None:
    """Both substations are at 1 m; at 1 h (gauge 0.44 m, rising) SS1 is raised by 2.5 m, above the 3 m peak."""
    sc = crew_scenario((1.0,), actions={"protect_asset": {"lead_time_h": 0.0, "raise_m": 2.5}})
    log = play(Simulation(sc, flood_city(2), 0), {1.0: [act("protect_asset", "SS1")]})
    assert records(log, "action", "SS1")[0].data["effective"] is True
    assert records(log, "asset_down", "SS1") == [] and records(log, "damage", "SS1") == []
    assert times(log, "asset_down", "SS2") == [2.0]


def test_travel_time_is_length_over_speed_along_the_shortest_road() -> None:
    """Depot D -> A 3 km @ 30 (0.1 h), A -> B 10 km @ 50 (0.2 h), B -> C 6 km @ 30 (0.2 h): 0.5 h."""
    sim = Simulation(crew_scenario(), flood_city(), 0)
    log = play(sim, {8.0: [act("dispatch_crew", "SS1")]})
    assert records(log, "crew", "pc#1", state="dispatched")[0].data["travel_h"] == pytest.approx(0.5)
    assert times(log, "crew", "pc#1", state="arrived") == [8.5]
    assert times(log, "repair", "SS1", state="started") == [8.5]
    assert times(log, "repair", "SS1", state="finished") == [13.5]
    assert times(log, "asset_up", "SS1") == [13.5]
    assert sim.city.travel_time("D", "C") == pytest.approx(0.5)


def test_closed_road_forces_the_long_way() -> None:
    """With A~B closed: D -> A 0.1 h, then the direct road A -> C 30 km @ 60 = 0.5 h: 0.6 h."""
    sim = Simulation(crew_scenario(), flood_city(), 0)
    log = play(sim, {8.0: [act("close_road", "A~B"), act("dispatch_crew", "SS1")]})
    assert times(log, "road", "A~B", closed=True) == [8.0]
    assert records(log, "crew", "pc#1", state="dispatched")[0].data["travel_h"] == pytest.approx(0.6)
    assert times(log, "repair", "SS1", state="started") == [8.6]


def test_repair_starts_only_after_the_water_recedes_and_the_crew_arrives() -> None:
    """Ordered at 3 h while the site is under water (wet 2-6 h, dry at the 7 h step): leave 7 h, start 7.5 h."""
    sim = Simulation(crew_scenario((3.0,)), flood_city(), 0)
    log = play(sim, {3.0: [act("dispatch_crew", "SS1")]})
    dry = next(r.time for r in log.of_kind("hazard") if r.time > 4 and r.data["stage_m"] < 1.0)
    assert dry == 7.0
    assert times(log, "crew", "pc#1", state="dispatched") == [7.0]
    arrived = times(log, "crew", "pc#1", state="arrived")
    started = times(log, "repair", "SS1", state="started")
    assert arrived == [7.5]
    assert started == [7.5]
    assert started[0] >= arrived[0] >= dry


def test_dispatch_order_comes_before_priorities() -> None:
    """One crew, two failed substations: priorities say SS1 first, an explicit order says SS2: SS2 wins."""
    sim = Simulation(crew_scenario(), flood_city(2), 0)
    log = play(sim, {8.0: [act("set_priorities", order=("SS1", "SS2")), act("dispatch_crew", "SS2")]})
    # SS2: leave 8, arrive 8.5, repair to 13.5; then SS1 on the same node: start 13.5, done 18.5
    assert times(log, "repair", "SS2", state="started") == [8.5]
    assert times(log, "repair", "SS1", state="started") == [13.5]
    assert times(log, "asset_up", "SS1") == [18.5]


def test_priorities_set_the_repair_order() -> None:
    sim = Simulation(crew_scenario(), flood_city(2), 0)
    log = play(sim, {8.0: [act("set_priorities", order=("SS2", "SS1"))]})
    assert times(log, "repair", "SS2", state="started") == [8.5]
    assert times(log, "repair", "SS1", state="started") == [13.5]


def test_without_orders_or_priorities_crews_stay_at_the_depot() -> None:
    log = Simulation(crew_scenario(), flood_city(), 0).run()
    assert records(log, "crew") == []
    assert records(log, "repair") == []


def test_mutual_aid_arrives_after_its_delay_and_adds_crews() -> None:
    """No local power crew; aid (2 power crews, fixed 5 h) requested at 0 h; ordered to SS1 at 8 h."""
    aid = {"crews": 2, "skills": ["power"], "delay_h": 5.0, "cost": 1000, "depot": "DEP"}
    sc = crew_scenario((0.0, 4.0, 8.0), skills=("water",), resources={"mutual_aid": aid})
    sim = Simulation(sc, flood_city(), 0)
    obs = sim.advance()
    sim.apply([act("request_mutual_aid")])
    assert records(sim, "cost", "request_mutual_aid")[0].data["amount"] == 1000
    assert sim.spent == 1000
    obs = sim.advance()  # 4 h: not there yet
    assert obs.time_h == 4.0 and len(obs.crews) == 1
    with pytest.raises(DecisionError, match="skills"):
        sim.apply([act("dispatch_crew", "SS1")])
    obs = sim.advance()  # 8 h
    assert len(obs.crews) == 3
    assert times(sim, "crew", "mutual_aid1", state="arrived") == [5.0]
    assert times(sim, "action", "request_mutual_aid") == [5.0]
    sim.apply([act("dispatch_crew", "SS1")])
    log = play(sim, {})
    started = records(log, "repair", "SS1", state="started")
    assert [r.time for r in started] == [8.5]
    assert started[0].data["crew"].startswith("mutual_aid1#")


# --------------------------------------------------------------------------------------------
# decisions: costs, budget, validity, lead times


def test_costs_are_charged_per_action() -> None:
    sim = Simulation(crew_scenario((8.0,)), flood_city(), 0)
    play(sim, {8.0: [act("close_road", "A~B"), act("dispatch_crew", "SS1")]})
    costs = [(r.subject, r.data["amount"]) for r in sim.log.of_kind("cost")]
    assert costs == [("close_road", 200), ("dispatch_crew", 1500)]
    assert sim.spent == 1700
    assert sim.log.first("run_end").data["spent"] == 1700


def test_decision_over_budget_raises_and_changes_nothing() -> None:
    sim = Simulation(crew_scenario((8.0,), budget=1600), flood_city(), 0)
    sim.advance()
    obs = sim.advance()
    n, spent = len(sim.log), sim.spent
    assert sim.check([act("close_road", "A~B"), act("dispatch_crew", "SS1")])  # 1700 > 1600
    with pytest.raises(DecisionError, match="budget"):
        sim.apply([act("close_road", "A~B"), act("dispatch_crew", "SS1")])
    assert (len(sim.log), sim.spent, sim.decisions) == (n, spent, [])
    assert not sim.edge_closed_manual.any()
    assert obs.budget_left == 1600
    sim.apply([act("dispatch_crew", "SS1")])  # 1500 fits
    assert sim.spent == 1500


def test_an_observation_shows_the_state_before_the_decision_that_follows_it() -> None:
    """Parts of an observation are built on first read; a decision applied before that read must not show in it."""
    aid = {"crews": 2, "skills": ["power"], "delay_h": 5.0, "cost": 1000, "depot": "DEP", "max_requests": 1}
    sim = Simulation(crew_scenario((0.0, 8.0), resources={"mutual_aid": aid}), flood_city(), 0)
    obs = sim.advance()
    sim.apply([act("request_mutual_aid")])
    assert "request_mutual_aid" in obs.allowed and obs.mutual_aid_left == 1 and obs.spent == 0
    assert "request_mutual_aid" not in sim.observe().allowed


@pytest.mark.parametrize("bad", [
    act("dispatch_crew", "NOPE"),
    act("deploy_generator", "DEP"),  # a depot takes no power from the grid
    act("evacuate", "Z", shelter="SS1"),  # not a shelter
    act("close_road", "A~NOPE"),  # no such road
    act("set_priorities", order=("SS1", "NOPE")),
    act("dispatch_crew", "SS1", crew="nobody"),
    act("reopen_road", "A~B"),  # was never closed
])
def test_invalid_targets_raise_decision_error_and_change_nothing(bad: Any) -> None:
    sim = Simulation(crew_scenario((8.0,), resources={"generators": {"count": 1}}), flood_city(), 0)
    sim.advance()
    n, spent = len(sim.log), sim.spent
    with pytest.raises(DecisionError):
        sim.apply(Decision([act("warn_public", "all"), bad]))
    assert (len(sim.log), sim.spent, sim.decisions) == (n, spent, [])
    assert sim.action_history == []


def test_a_generator_for_an_asset_off_the_grid_is_refused_naming_it() -> None:
    sim = Simulation(crew_scenario((8.0,), resources={"generators": {"count": 1}}), flood_city(), 0)
    sim.advance()
    assert sim.check([act("deploy_generator", "DEP")]) == ["actions[0] (deploy_generator): DEP does not take power from the grid"]


def test_a_plan_rule_that_cannot_act_is_kept_aside_with_its_hour_and_why() -> None:
    """No generator in the scenario: the plan's deployment at 0 h is skipped, not an error, and kept beside the log."""
    class Plan:
        def decide(self, obs: Any) -> Decision | None:
            return Decision([act("deploy_generator", "H")]) if obs.time_h == 0.0 else None

    sim = Simulation(make_scenario([cyber("SS", start_h=2)], times_h=(0.0,)), hospital_city(), 0, Plan())
    sim.run()
    (kept,) = sim.skipped
    assert kept["time_h"] == 0.0
    assert kept["skipped"] == [{"action": {"action": "deploy_generator", "target": "H"},  # the fields it was given
                                "problems": ["actions[0] (deploy_generator): no mobile generator left",
                                             "not enough budget: this costs 4,000 EUR, 0 left"]}]


LEADS = {"deploy_generator": 2.0, "refuel": 1.5, "evacuate": 3.0, "warn_public": 0.25, "protect_asset": 6.0,
         "close_road": 0.5, "reopen_road": 0.5, "dispatch_crew": 0.25, "set_priorities": 1.0}


EVACUATE = {"evacuate": {"cost_per_person": 2, "compliance": 0.8}}


def lead_setup() -> tuple[Simulation, dict[str, Any]]:
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("H", "hospital", backup=GEN8, needs={"power": ["SS"]}),
                      asset("SH", "shelter", capacity=500)])
    sc = make_scenario([cyber("SS", start_h=2)], duration_h=24, times_h=(1.0,),
                       actions={k: {"lead_time_h": v, "cost": 10, **EVACUATE.get(k, {})} for k, v in LEADS.items()},
                       resources={"budget": 1e6, "generators": {"count": 1},
                                  "crews": [{"id": "pc", "count": 1, "depot": "DEP", "skills": ["power"]}]})
    return Simulation(sc, city, 0), LEADS


def test_no_action_takes_effect_before_its_lead_time() -> None:
    sim, leads = lead_setup()
    decided = {0.0: [act("deploy_generator", "H"), act("refuel", "H"), act("evacuate", "Z", shelter="SH"),
                     act("warn_public", "all"), act("protect_asset", "SS"), act("close_road", "A~B")],
               1.0: [act("reopen_road", "A~B")]}
    log = play(sim, decided)
    taken = {r.data["action"]: r.time for r in log.of_kind("action")}
    for t, acts in decided.items():
        for a in acts:
            assert taken[a.action] >= t + leads[a.action] - 1e-9, a.action
            assert taken[a.action] == pytest.approx(t + leads[a.action]), a.action


@pytest.mark.parametrize("kind", ["dispatch_crew", "set_priorities"])
def test_orders_respect_their_lead_time_too(kind: str) -> None:
    """The scenario gives dispatch_crew 0.25 h and set_priorities 1 h of lead time; the player sees it
    in ``obs.allowed``.  Regression: ``engine._schedule`` applied orders at once."""
    sim, leads = lead_setup()
    obs = sim.advance()
    assert obs.allowed[kind]["lead_time_h"] == leads[kind]
    a = act("dispatch_crew", "SS") if kind == "dispatch_crew" else act("set_priorities", order=("SS",))
    sim.apply([a])
    log = play(sim, {})
    (rec,) = [r for r in log.of_kind("action") if r.data["action"] == kind]
    assert rec.time >= 0.0 + leads[kind] - 1e-9


def test_evacuation_moves_people_within_shelter_capacity() -> None:
    """1000 residents, compliance 0.8 -> 800 want to go, the shelter takes 500.

    Cost is charged per person who can be moved: 10 + 2 per person for the 500 places = 1010.
    """
    sim, _ = lead_setup()
    log = play(sim, {0.0: [act("evacuate", "Z", shelter="SH")]})
    (pop,) = records(log, "population", "Z")
    assert pop.data["moved"] == 500
    assert pop.data["residents"] + pop.data["evacuees"] == pop.data["population"] == 1000
    assert records(log, "cost", "evacuate")[0].data["amount"] == pytest.approx(1010)


def test_a_second_evacuation_to_the_same_shelter_adds_to_the_first() -> None:
    """1000 residents, compliance 0.8: 800 go at 3 h, then 0.8 of the 200 left (160) at 4 h."""
    city = make_city([asset("SH", "shelter", capacity=2000), asset("SS", "substation")])
    sc = make_scenario([cyber("SS", start_h=20)], duration_h=24, times_h=(0.0, 1.0),
                       actions={"evacuate": {"lead_time_h": 3.0, "cost": 10, **EVACUATE["evacuate"]}},
                       resources={"budget": 1e6})
    log = play(Simulation(sc, city, 0), {0.0: [act("evacuate", "Z", shelter="SH")],
                                         1.0: [act("evacuate", "Z", shelter="SH")]})
    got = [(r.data["moved"], r.data["residents"], r.data["evacuees"]) for r in records(log, "population", "Z")]
    assert got == [(800, 200, 800), (160, 40, 960)]


def test_a_policy_that_checks_every_half_hour_is_asked_once_at_each_instant() -> None:
    """Decision points at 0 and 1.5 h, checks every 0.5 h in a 3 h run: asked at every half hour, once
    at 1.5 h (a decision point, not also a check), and at 2 h, which no decision point rounds onto."""
    class Every:
        check_every_h = 0.5

        def __init__(self) -> None:
            self.asked: list[float] = []

        def decide(self, obs: Any) -> None:
            self.asked.append(obs.time_h)

    policy = Every()
    sc = make_scenario([cyber("SS", start_h=2)], duration_h=3, times_h=(1.5,))
    Simulation(sc, make_city([asset("SS", "substation")]), 0, policy).run()
    assert policy.asked == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]


def test_decision_after_the_end_is_refused() -> None:
    sim = Simulation(make_scenario([cyber("SS", start_h=2)]), hospital_city(), 0)
    sim.run()
    assert sim.check([act("warn_public", "all")]) == ["the exercise is over"]
    with pytest.raises(DecisionError):
        sim.apply([act("warn_public", "all")])


def test_road_actions_validate_with_from_to_names() -> None:
    """Roads are named ``FROM~TO`` (the error message says so), so an Action must accept that name."""
    a = Action.model_validate({"action": "close_road", "target": "A~B"})
    assert a.target == "A~B"
    assert Decision.from_dict(Decision([a]).to_dict()).actions == [a]


def test_plan_rules_may_target_the_triggering_asset() -> None:
    """``$asset``/``$district`` are documented plan-rule targets (``action_problems``' docstring)."""
    rule = {"when": {"any_down": "substation"}, "do": [{"action": "dispatch_crew", "target": "$asset"}], "once": False}
    plan = Plan.model_validate({"rules": [rule]})
    assert plan.rules[0].do[0].target == "$asset"


def test_overriding_one_field_of_an_action_keeps_its_other_defaults() -> None:
    """``evacuate: {cost: 10}`` must keep evacuate's 3 h lead time, 25/person and 0.8 compliance.

    Regression: a partial override was validated as a fresh ``ActionSpec``, so every other field
    fell back to the generic defaults (lead 0 h, 0/person, compliance 0.7) - e.g. the mini
    scenario's ``close_road: {cost: 100}`` silently made road closures instant.
    """
    default = make_scenario([cyber("SS")]).actions
    sc = make_scenario([cyber("SS")], actions={"evacuate": {"cost": 10}, "close_road": {"cost": 100}})
    assert sc.actions.evacuate.cost == 10
    assert sc.actions.evacuate.model_dump(exclude={"cost"}) == default.evacuate.model_dump(exclude={"cost"})
    assert sc.actions.close_road.lead_time_h == default.close_road.lead_time_h == 0.5


def test_heat_and_shaking_put_a_whole_district_in_the_footprint_and_a_flood_only_its_flood_plain_share() -> None:
    """A district of 1000 people, 30 % of them on the flood plain: a flood exposes 300, a heatwave all 1000."""
    district = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.2, "location": {"x": 16000, "y": 0},
                "elevation": 1.0, "road_node": "C", "flood_exposed_share": 0.3}
    city = make_city([asset("PP", "power_plant")], districts=[district], flood_plain=True)
    flooded = Simulation(make_scenario([flood()]), city, 0).run()
    heat = {"id": "hw", "type": "heatwave", "start_h": 0.0, "duration_h": 20.0, "peak_temp_c": 40.0}
    hot = Simulation(make_scenario([heat]), city, 0).run()
    assert [r.data["exposed"] for r in records(flooded, "exposure", "Z")] == [300.0]
    assert [r.data["exposed"] for r in records(hot, "exposure", "Z")] == [1000.0]


def test_the_daily_heat_cycle_follows_the_clock_not_the_start_of_the_exercise() -> None:
    """Without the dome (peak = baseline) only the daily cycle is left: +3 C at 15:00, -3 C at 03:00."""
    city = make_city([asset("PP", "power_plant")])
    heat = {"id": "hw", "type": "heatwave", "start_h": 0.0, "duration_h": 30.0, "baseline_temp_c": 25.0,
            "peak_temp_c": 25.0}
    for start, hottest_t in (("2024-07-01T00:00:00", 15.0), ("2024-07-01T12:00:00", 3.0)):
        log = Simulation(make_scenario([heat], start=start), city, 0).run()
        temps = {round(r.time, 9): r.data["temp_c"] for r in records(log, "hazard", "hw")}
        assert temps[hottest_t] == pytest.approx(28.0)
        assert temps[(hottest_t + 12.0) % 24.0] == pytest.approx(22.0)


@pytest.mark.parametrize("policy", ["do_nothing", "greedy"])
def test_a_finished_run_is_freed_without_the_cycle_collector_and_stays_readable(
        mini_scenario: Any, mini_city: Any, policy: str) -> None:
    """run() closes its processes and drops what is still scheduled: batches then free each run at once."""
    import gc
    import weakref

    from scro_sim.policy import baseline_policy

    sim = Simulation(mini_scenario, mini_city, 3, baseline_policy(policy))
    log = sim.run()
    obs = sim.advance()  # a finished run still answers
    assert obs.done and obs.time_h == pytest.approx(log.records[-1].time)  # the end of the recovery
    assert obs.time_h >= mini_scenario.duration_h
    assert sim.log is log and log.records[-1].kind == "run_end"
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        ref = weakref.ref(sim)
        del sim, obs
        assert ref() is None
    finally:
        if was_enabled:
            gc.enable()


def test_the_greedy_baseline_warns_of_a_flood_only_when_there_is_one() -> None:
    from scro_sim.policy import Greedy

    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]})], flood_plain=True)
    kw: dict[str, Any] = {"times_h": (1.0,), "resources": {"budget": 1000},
                          "msel": [{"id": "I1", "at_h": 0.5, "sender": "Met office", "channel": "email", "text": "Alert"}]}
    messages = {}
    for name, hazard in (("flood", flood()), ("cyber", cyber("SS", start_h=0.2))):
        log = Simulation(make_scenario([hazard], **kw), city, 0, Greedy()).run()
        (decision,) = [r for r in log.of_kind("decision") if any(a["action"] == "warn_public" for a in r.data["actions"])]
        messages[name] = next(a["message"] for a in decision.data["actions"] if a["action"] == "warn_public")
    assert messages["flood"].startswith("Flood warning")
    assert "flood" not in messages["cyber"].lower()


def test_a_bridge_under_water_closes_its_road_until_the_water_goes() -> None:
    """Bridge BR carries B~C and stands on the flood plain at 1 m (wet from 2 h to 6 h; immune to damage).
    SS2 at C, off the plain, fails in an earthquake at 0.5 h.  A crew sent at 3 h must take the long
    way (D -> A -> C: 0.6 h); one sent at 8 h crosses the bridge again (D -> A -> B -> C: 0.5 h)."""
    roads = copy.deepcopy(ROADS)
    next(e for e in roads["edges"] if (e["from"], e["to"]) == ("B", "C"))["bridge"] = "BR"
    quake = {"earthquake": {"median": 0.0001, "beta": 0.01, "state": "failed"}}
    city = make_city([asset("PP", "power_plant"),
                      asset("BR", "bridge", "C", x=16000, y=0, elevation=1.0,
                            fragility={"flood": {"median": 100.0, "beta": 0.01, "state": "failed"}}),
                      asset("SS2", "substation", "C", x=16000, y=5000, needs={"power": ["PP"]}, fragility=quake)],
                     roads=roads, flood_plain=True)
    shake = {"id": "eq", "type": "earthquake", "time_h": 0.5, "epicentre": [16000, 5000], "magnitude": 5.0}
    res = {"budget": 1e6, "crews": [{"id": "pc", "count": 2, "depot": "DEP", "skills": ["power"]}]}
    sc = make_scenario([flood(), shake], duration_h=24, times_h=(3.0, 8.0), resources=res, repair_times=REPAIR,
                       actions={"dispatch_crew": {"cost": 0, "lead_time_h": 0.0}})
    for at, travel in ((3.0, 0.6), (8.0, 0.5)):
        log = play(Simulation(sc, city, 0), {at: [act("dispatch_crew", "SS2")]})
        assert records(log, "damage", "BR") == []
        (sent,) = records(log, "crew", state="dispatched")
        assert sent.time == at and sent.data["travel_h"] == pytest.approx(travel)


def test_an_observation_kept_past_its_decision_point_still_answers_which_asset_is_down() -> None:
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("SS2", "substation", needs={"power": ["PP"]})])
    sim = Simulation(make_scenario([cyber("SS", start_h=2, recovery_h=3)], duration_h=12, times_h=(3, 8)), city, 0)
    sim.advance()  # the opening decision point, hour 0
    kept = sim.advance()
    assert kept.time_h == 3.0
    later = sim.advance()  # SS is back at 5.5 h; the kept observation still shows hour 3
    assert later.first_with("substation", "down") is None
    assert kept.first_with("substation", "down") == "SS"
    assert kept.first_with("power_plant", "down") is None


def test_an_observation_kept_past_its_decision_point_still_answers_what_was_served_then() -> None:
    half = {**DISTRICT, "needs": {"power": ["SS", "SS2"]}, "shares": {"power": {"SS": 0.5, "SS2": 0.5}}}
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("SS2", "substation", needs={"power": ["PP"]})], districts=[half])
    sim = Simulation(make_scenario([cyber("SS", start_h=2, recovery_h=3)], duration_h=12, times_h=(3, 8)), city, 0)
    sim.advance()
    kept = sim.advance()  # hour 3: SS is down, half of Z without power
    assert kept.served_share("Z", "power") == 0.5 and kept.state_of("SS") == "down"
    later = sim.advance()
    assert later.served_share("Z", "power") == 1.0
    assert kept.served_share("Z", "power") == 0.5 and kept.state_of("SS") == "down"


def test_a_decision_point_a_hair_before_the_end_ends_the_run_at_the_end_hour() -> None:
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]})])
    sim = Simulation(make_scenario([cyber("SS", start_h=2, recovery_h=3)], duration_h=12, times_h=(12 - 5e-10,)),
                     city, 0)
    sim.advance()
    last = sim.advance()  # within the clock's tolerance of the end: the end, not a decision point
    assert last.done and last.time_h == 12.0 and sim.log.records[-1].kind == "run_end"
    assert times(sim.log, "decision_point") == [0.0]  # the opening one only


def test_a_cyber_shutdown_logs_damage_on_each_asset_it_shuts() -> None:
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]})])
    log = Simulation(make_scenario([cyber("PP", "SS", start_h=2, recovery_h=3)], duration_h=12), city, 0).run()
    assert [(r.time, r.subject, r.data) for r in records(log, "damage")] == [
        (2.0, "PP", {"hazard": "cyber1", "state": "cyber", "type": "power_plant"}),
        (2.0, "SS", {"hazard": "cyber1", "state": "cyber", "type": "substation"})]
