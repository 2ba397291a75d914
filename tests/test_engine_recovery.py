"""Recoveries like real ones (issue 13 section 4): districts fed in shares, the utilities' own
restoration order for crews without orders, water's lag behind power, and the fast-forward to
the end of recovery.  Every number below is worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest
from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.city import City
from scro_sim.engine import Simulation
from scro_sim.errors import CityModelError
from scro_sim.scoring import compute_metrics, service_curves

QUAKE = {"earthquake": {"median": 0.0001, "beta": 0.01, "state": "degraded"}}
REPAIR = {"substation": {"degraded": [2, 0.0001], "failed": [4, 0.0001]}}
SHAKE = {"id": "eq", "type": "earthquake", "time_h": 1.0, "epicentre": [0, 5000], "magnitude": 5.0}
CREWS = {"budget": 1e6, "crews": [{"id": "pc", "count": 1, "depot": "DEP", "skills": ["power"]}]}


def district(did: str, pop: int, power: list[str], shares: dict[str, float] | None = None) -> dict[str, Any]:
    d: dict[str, Any] = {"id": did, "name": did, "population": pop, "vulnerable_share": 0.1,
                         "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                         "needs": {"power": power}}
    if shares is not None:
        d["shares"] = {"power": shares}
    return d


def fed_city(shares: dict[str, float] | None = {"S1": 0.25, "S2": 0.75}, *, fragile: tuple[str, ...] = ()) -> City:  # noqa: B006
    """District Z (1,000 people) fed by substations S1 and S2 from PP (in shares, or redundantly)."""
    subs = [asset(s, "substation", needs={"power": ["PP"]}, **({"fragility": QUAKE} if s in fragile else {}))
            for s in ("S1", "S2")]
    return make_city([asset("PP", "power_plant"), *subs], districts=[district("Z", 1000, ["S1", "S2"], shares)])


# --------------------------------------------------------------------------------------------
# feeder shares


def test_a_district_fed_in_shares_loses_and_regains_only_the_share_of_a_failed_feeder() -> None:
    """S2 (75 %) is shut from 2 h to 2 + 0.5 + 3 = 5.5 h: 750 people out, then back; S1 never fails."""
    log = Simulation(make_scenario([cyber("S2", start_h=2, recovery_h=3)]), fed_city(), 0).run()
    got = [(round(r.time, 9), r.data["unserved"], r.data["share"])
           for r in records(log, "service", "Z", service="power")]
    assert got == [(2.0, 750, 0.25), (5.5, 0, 1.0)]
    curve = service_curves(log)
    power = curve[curve.service == "power"]
    assert power.served.min() == pytest.approx(1 - 750 / 1000)


def test_without_shares_any_working_supplier_serves_the_whole_district() -> None:
    """Today's behaviour for cities that declare no shares: redundant feeds, nobody loses power."""
    log = Simulation(make_scenario([cyber("S2", start_h=2, recovery_h=3)]), fed_city(None), 0).run()
    assert records(log, "service", "Z", service="power") == []


def test_losing_every_feeder_takes_the_whole_district_and_scoring_counts_the_shares() -> None:
    """Both shut from 2 h to 5.5 h: 1,000 people out for 3.5 h; S1's 250 alone would be 875 person-hours."""
    both = Simulation(make_scenario([cyber("S1", "S2", start_h=2, recovery_h=3)]), fed_city(), 0).run()
    one = Simulation(make_scenario([cyber("S1", start_h=2, recovery_h=3)]), fed_city(), 0).run()
    assert [r.data["unserved"] for r in records(both, "service", "Z", service="power")] == [1000, 0]
    assert compute_metrics(both).resilience_loss["power"] == pytest.approx(3500.0)
    assert compute_metrics(one).resilience_loss["power"] == pytest.approx(875.0)


@pytest.mark.parametrize(("shares", "message"), [
    ({"S1": 0.5, "S2": 0.4}, "the shares add up to 0.9, not 1"),
    ({"S1": 1.0}, "give every power supplier a share; missing: S2"),
    ({"S1": 0.5, "S2": 0.25, "PP": 0.25}, "'PP' is not one of the district's power suppliers"),
])
def test_bad_shares_are_refused_with_the_district_and_field_named(shares: dict[str, float], message: str) -> None:
    with pytest.raises(CityModelError) as err:
        fed_city(shares)
    assert "districts[0].shares.power" in str(err.value) and message in str(err.value)


def test_shares_for_a_service_the_district_does_not_need_are_refused() -> None:
    d = district("Z", 1000, ["S1"])
    d["shares"] = {"water": {"S1": 1.0}}
    with pytest.raises(CityModelError, match=r"districts\[0\]\.shares\.water: shares for water, but the district"):
        make_city([asset("PP", "power_plant"), asset("S1", "substation", needs={"power": ["PP"]})], districts=[d])


# --------------------------------------------------------------------------------------------
# the utilities' own restoration order


def utility_scenario(on: bool, **kw: Any) -> Any:
    return make_scenario([SHAKE], duration_h=24, repair_times=REPAIR,
                         resources={**CREWS, "utility_restoration": on}, **kw)


def test_without_orders_the_utility_restores_the_most_people_per_repair_hour_first() -> None:
    """Both substations degraded at 1 h (2 h repairs); the crew does S2 (750 people) before S1 (250).
    Depot D to A: 0.1 h.  S2: 1.1-3.1 h, S1: 3.1-5.1 h (no travel: same node)."""
    log = Simulation(utility_scenario(True), fed_city(fragile=("S1", "S2")), 0).run()
    assert times(log, "repair", "S2", state="started") == [1.1]
    assert times(log, "repair", "S1", state="started") == pytest.approx([3.1], abs=1e-3)  # 2 h +- 0.0001
    assert [r.data["unserved"] for r in records(log, "service", "Z", service="power")] == [1000, 250, 0]


def test_critical_facilities_come_first_whatever_the_people() -> None:
    """S1 also feeds a hospital (a critical facility): the crew takes it before S2's 750 people."""
    city = make_city([asset("PP", "power_plant"),
                      asset("S1", "substation", needs={"power": ["PP"]}, fragility=QUAKE),
                      asset("S2", "substation", needs={"power": ["PP"]}, fragility=QUAKE),
                      asset("H", "hospital", needs={"power": ["S1"]})],
                     districts=[district("Z", 1000, ["S1", "S2"], {"S1": 0.25, "S2": 0.75})])
    log = Simulation(utility_scenario(True), city, 0).run()
    assert times(log, "repair", "S1", state="started") == [1.1]


def test_a_lecturer_can_switch_the_utilities_off_and_crews_then_wait_for_orders() -> None:
    log = Simulation(utility_scenario(False), fed_city(fragile=("S1", "S2")), 0).run()
    assert records(log, "repair") == []
    assert records(log, "service", "Z", service="power")[-1].data["unserved"] == 1000


def test_the_learners_priorities_come_before_the_utilitys_own_order() -> None:
    """set_priorities [S1] at 0 h: the crew does S1 first (1.1 h), then the utility's choice S2."""
    sim = Simulation(utility_scenario(True, times_h=(0.0,)), fed_city(fragile=("S1", "S2")), 0)
    log = play(sim, {0.0: [act("set_priorities", order=("S1",))]})
    assert times(log, "repair", "S1", state="started") == [1.1]
    assert times(log, "repair", "S2", state="started") == pytest.approx([3.1], abs=1e-3)


def test_without_the_utilitys_order_a_crew_past_its_priorities_takes_the_most_critical_repair_it_can_do() -> None:
    """Utility order off, priorities [S1]: after S1 (1.1-3.1 h) the power crew goes on to the most critical
    damaged asset it has the skills for: S2 (criticality 4), not the pump P (5, a water repair) nor S3 (2)."""
    city = make_city([asset("PP", "power_plant"),
                      *(asset(s, "substation", needs={"power": ["PP"]}, fragility=QUAKE, criticality=c)
                        for s, c in (("S1", 3), ("S3", 2), ("S2", 4))),
                      asset("P", "pumping_station", fragility={"earthquake": QUAKE["earthquake"]}, criticality=5)],
                     districts=[district("Z", 1000, ["S1", "S2", "S3"])])
    sim = Simulation(utility_scenario(False, times_h=(0.0,)), city, 0)
    log = play(sim, {0.0: [act("set_priorities", order=("S1",))]})
    assert times(log, "damage", "P") == [1.0]  # the pump is damaged too
    started = [(r.subject, round(r.time, 3)) for r in records(log, "repair", state="started")]
    assert started == [("S1", 1.1), ("S2", 3.1), ("S3", 5.1)]


# --------------------------------------------------------------------------------------------
# fast-forward to the end of recovery


def test_the_run_fast_forwards_past_the_last_decision_until_everything_is_back() -> None:
    """Decisions end at 2 h; the crew finishes S1 at 5.1 h, so the run ends at the next whole hour, 6 h,
    and scoring integrates to it (1,000 people for 0.1 + 2 h, then 250 for 2 h: 2,600 person-hours)."""
    sc = make_scenario([SHAKE], duration_h=2, recovery_h=48, repair_times=REPAIR,
                       resources={**CREWS, "utility_restoration": True})
    log = Simulation(sc, fed_city(fragile=("S1", "S2")), 0).run()
    (end,) = records(log, "run_end")
    assert end.time == pytest.approx(6.0)
    assert not [r for r in log.records if r.kind == "decision_point" and r.time > 2.0]
    assert compute_metrics(log).resilience_loss["power"] == pytest.approx(2600.0, abs=1.0)


def test_the_fast_forward_stops_at_its_cap_when_nothing_can_be_repaired() -> None:
    sc = make_scenario([SHAKE], duration_h=2, recovery_h=10, repair_times=REPAIR,
                       resources={**CREWS, "utility_restoration": False})
    log = Simulation(sc, fed_city(fragile=("S1", "S2")), 0).run()
    assert records(log, "run_end")[0].time == pytest.approx(12.0)


def test_an_expected_action_due_after_the_last_decision_hour_is_not_marked_missed() -> None:
    sc = make_scenario([SHAKE], duration_h=2, recovery_h=10, repair_times=REPAIR, resources=CREWS,
                       msel=[{"id": "I1", "at_h": 1.0, "sender": "Utility", "channel": "phone", "text": "Down",
                              "expected_actions": [{"id": "EA1", "action": "warn_public", "deadline_h": 4}]}])
    log = Simulation(sc, fed_city(fragile=("S1", "S2")), 0).run()
    assert records(log, "expected", "EA1", status="missed") == []


# --------------------------------------------------------------------------------------------
# water after power


def test_water_comes_back_after_power_with_the_refill_then_a_boil_water_notice() -> None:
    """Power to the pumps is lost 2-30 h (cyber on SS, 0.5 + 27.5 h): the taps run dry at 2 h, the
    mains refill for 24 h after power returns at 30 h (water at 54 h) and the notice runs 72 h more
    (safe at 126 h): water is safe 4 days after power, inside Texas 2021's 2-7 days.  The run ends at
    the first hourly check after that: 127 h (the check at 126 h comes before that hour's events)."""
    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]}),
                      asset("PS", "pumping_station", needs={"power": ["SS"]})],
                     districts=[{"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                                 "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D",
                                 "needs": {"water": ["PS"], "power": ["SS"]}}])
    sc = make_scenario([cyber("SS", start_h=2, recovery_h=27.5)], duration_h=24, recovery_h=200)
    log = Simulation(sc, city, 0).run()
    assert times(log, "service", "Z", service="power") == [2.0, 30.0]
    assert times(log, "service", "Z", service="water") == [2.0, 54.0]
    assert times(log, "boil_water", "Z", status="lifted") == [126.0]
    assert 2 <= (126.0 - 30.0) / 24 <= 7
    assert records(log, "run_end")[0].time == pytest.approx(127.0)
