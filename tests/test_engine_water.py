"""Taps after a water outage: the mains refill before water is back, then a boil-water notice.

The town: PP -> SS -> PS (a pumping station that needs power) -> district Z (1,000 people).
A cyber shutdown of SS stops the pumps: it starts at ``start_h`` and SS is back after the
0.5 h detection delay plus ``recovery_h``.  Every number below is worked out by hand.
"""

from __future__ import annotations

from typing import Any

from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.city import City
from scro_sim.engine import Simulation
from scro_sim.log import EventLog
from scro_sim.scoring import compute_metrics

DISTRICT = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
            "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D"}


def pump_city(*, tank_hours: float | None = None) -> City:
    """Z drinks from PS directly, or from a tank TK (with ``tank_hours`` of storage) filled by PS."""
    assets = [asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
              asset("PS", "pumping_station", needs={"power": ["SS"]})]
    source = "PS"
    if tank_hours is not None:
        assets.append(asset("TK", "water_tank", needs={"water": ["PS"]}, backup={"kind": "tank", "hours": tank_hours}))
        source = "TK"
    return make_city(assets, districts=[{**DISTRICT, "needs": {"water": [source]}}])


def water_unserved(log: Any) -> list[tuple[float, int]]:
    """(time, unserved people) of Z's water service records."""
    return [(round(r.time, 9), r.data["unserved"]) for r in records(log, "service", "Z", service="water")]


def run(hazards: list[dict[str, Any]], *, duration_h: float = 24.0, city: City | None = None, **kw: Any) -> Any:
    return Simulation(make_scenario(hazards, duration_h=duration_h, **kw), city or pump_city(), 0).run()


def test_after_a_short_dry_spell_water_is_back_as_long_after_the_pumps_as_the_taps_were_dry() -> None:
    """Dry 2 h -> 5.5 h (3.5 h): the mains refill in min(24, 3.5) = 3.5 h, water at 9.0 h."""
    log = run([cyber("SS", start_h=2, recovery_h=3)])
    assert times(log, "asset_up", "PS") == [5.5]
    assert water_unserved(log) == [(2.0, 1000), (9.0, 0)]
    refill = records(log, "water_refill", "Z")
    assert [(r.time, r.data) for r in refill] == [(5.5, {"dry_h": 3.5, "until_h": 9.0})]


def test_after_a_long_outage_the_mains_take_refill_h_to_fill() -> None:
    """Dry 2 h -> 32.5 h: the wait is the 24 h default (not 30.5 h), water at 56.5 h."""
    log = run([cyber("SS", start_h=2, recovery_h=30)], duration_h=72)
    assert water_unserved(log) == [(2.0, 1000), (56.5, 0)]


def test_supply_lost_again_while_refilling_restarts_the_wait_from_the_first_dry_hour() -> None:
    """Back at 5.5 h, lost again at 7 h before the 9 h refill, back at 8.5 h: dry since 2 h -> 6.5 h wait."""
    log = run([cyber("SS", start_h=2, recovery_h=3), cyber("SS", start_h=7, recovery_h=1, hid="cyber2")])
    assert times(log, "water_refill", "Z") == [5.5, 8.5]
    assert water_unserved(log) == [(2.0, 1000), (15.0, 0)]


def test_a_boil_water_notice_follows_the_refill_and_is_lifted_after_the_flushing() -> None:
    """Water back at 9 h; the 72 h notice is lifted at 81 h: 1,000 people x 72 h under notice."""
    log = run([cyber("SS", start_h=2, recovery_h=3)], duration_h=96)
    notices = records(log, "boil_water", "Z")
    assert [(r.time, r.data["status"]) for r in notices] == [(9.0, "issued"), (81.0, "lifted")]
    assert notices[0].data == {"status": "issued", "until_h": 81.0, "people": 1000}
    assert notices[1].data["reason"] == "flushed"
    assert compute_metrics(log).boil_water == 72_000.0


def test_a_notice_still_in_force_at_the_end_counts_to_the_end_and_ends_if_the_taps_run_dry() -> None:
    """Issued at 9 h, dry again at 20 h (lifted after 11 h), SS back at 22.5 h (dry 2.5 h, so a
    2.5 h wait: water at 25 h), second notice 25 h -> the 30 h end: 1,000 people x (11 + 5) h."""
    log = run([cyber("SS", start_h=2, recovery_h=3), cyber("SS", start_h=20, recovery_h=2, hid="cyber2")],
              duration_h=30)
    notices = records(log, "boil_water", "Z")
    assert [(r.time, r.data["status"], r.data.get("reason")) for r in notices] == [
        (9.0, "issued", None), (20.0, "lifted", "supply lost"), (25.0, "issued", None)]
    assert water_unserved(log) == [(2.0, 1000), (9.0, 0), (20.0, 1000), (25.0, 0)]
    assert compute_metrics(log).boil_water == 16_000.0


def test_a_tank_that_bridges_the_outage_keeps_the_taps_wet_and_issues_no_notice() -> None:
    """PS down 2 h -> 5.5 h; the tank's 24 h of storage covers it: no dry taps, no refill, no notice."""
    log = run([cyber("SS", start_h=2, recovery_h=3)], city=pump_city(tank_hours=24))
    assert times(log, "backup_start", "TK") == [2.0]
    assert water_unserved(log) == []
    assert records(log, "water_refill") == [] and records(log, "boil_water") == []


def test_a_tank_run_dry_refills_from_the_hour_it_ran_dry() -> None:
    """Tank of 2 h: taps dry 4 h -> 5.5 h (1.5 h), water back at 7.0 h."""
    log = run([cyber("SS", start_h=2, recovery_h=3)], city=pump_city(tank_hours=2))
    assert water_unserved(log) == [(4.0, 1000), (7.0, 0)]


def test_refill_and_notice_can_be_turned_off() -> None:
    log = run([cyber("SS", start_h=2, recovery_h=3)], water={"refill_h": 0, "boil_water_h": 0})
    assert water_unserved(log) == [(2.0, 1000), (5.5, 0)]
    assert records(log, "water_refill") == [] and records(log, "boil_water") == []


def test_a_refill_without_a_notice_gives_safe_water_as_soon_as_the_mains_are_full() -> None:
    """Dry 2 h -> 5.5 h; the mains refill for as long as they were dry (3.5 h, under refill_h): water at 9 h,
    and no boil-water notice after it."""
    log = run([cyber("SS", start_h=2, recovery_h=3)], water={"refill_h": 24, "boil_water_h": 0})
    assert water_unserved(log) == [(2.0, 1000), (9.0, 0)]
    assert records(log, "water_refill") and records(log, "boil_water") == []


def test_other_services_come_back_with_their_supply() -> None:
    """Power to Z comes straight from SS: back at 5.5 h, the same hour as SS."""
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("PS", "pumping_station", needs={"power": ["SS"]})],
                     districts=[{**DISTRICT, "needs": {"water": ["PS"], "power": ["SS"]}}])
    log = run([cyber("SS", start_h=2, recovery_h=3)], city=city)
    power = [(round(r.time, 9), r.data["unserved"]) for r in records(log, "service", "Z", service="power")]
    assert power == [(2.0, 1000), (5.5, 0)]


def _hospital_on_tank_and_generator(tank_h: float) -> EventLog:
    """A hospital without power and water from 2 h (SS attacked), on its ``tank_h`` hours of water tank
    and a mobile generator (24 h of fuel) sent at 0 h."""
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("WP", "water_treatment", needs={"power": ["SS"]}),
                      asset("H", "hospital", backup={"kind": "tank", "hours": tank_h},
                            needs={"power": ["SS"], "water": ["WP"]})])
    sc = make_scenario([cyber("SS", start_h=2, recovery_h=40)], duration_h=30, times_h=(0.0,),
                       actions={"deploy_generator": {"lead_time_h": 0.0, "cost": 0}},
                       resources={"budget": 1e6, "generators": {"count": 1}})
    return play(Simulation(sc, city, 0), {0.0: [act("deploy_generator", "H")]})


def test_a_hospital_without_power_and_water_runs_on_its_tank_and_a_generator_for_the_shorter_of_the_two() -> None:
    log = _hospital_on_tank_and_generator(20)
    (start,) = records(log, "backup_start", "H")
    assert (start.time, start.data) == (2.0, {"sources": ["own", "gen"], "missing": ["power", "water"], "hours_left": 20.0})
    assert times(log, "asset_down", "H") == [22.0]  # the tank runs dry first


def test_a_tank_that_outlasts_the_generator_leaves_the_hospital_down_when_the_generator_runs_dry() -> None:
    """The same hospital with a 30 h tank: the generator's 24 h of fuel are the shorter, so down at 2 + 24 = 26 h."""
    log = _hospital_on_tank_and_generator(30)
    (start,) = records(log, "backup_start", "H")
    assert start.data["hours_left"] == 24.0
    assert times(log, "asset_down", "H") == [26.0]
