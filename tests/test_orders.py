"""The learner's open orders: why each waits and when it is expected (scro_sim/orders.py)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from scro_sim.i18n import translator
from scro_sim.log import EventRecord
from scro_sim.orders import STATUS, open_orders

SCENARIO = SimpleNamespace(actions=SimpleNamespace(dispatch_crew=SimpleNamespace(lead_time_h=0.25),
                                                   warn_public=SimpleNamespace(lead_time_h=0.5)))


def _log(*rows: tuple[float, str, str, dict[str, Any]]) -> list[EventRecord]:
    return [EventRecord(t, k, kind, subject, data) for k, (t, kind, subject, data) in enumerate(rows)]


def _decided(t: float, *actions: dict[str, Any]) -> tuple[float, str, str, dict[str, Any]]:
    return (t, "decision", "1", {"time_h": t, "actions": list(actions), "rationale": "", "answers": {}})


SEND = {"action": "dispatch_crew", "target": "SS1"}
CREWS = [{"id": "power_crews#1", "team": "power_crews", "state": "idle", "busy_until_h": None},
         {"id": "power_crews#2", "team": "power_crews", "state": "idle", "busy_until_h": None}]


def test_an_order_waits_for_its_lead_time_and_says_when_it_takes_effect() -> None:
    got = open_orders(_log(_decided(6, SEND, {"action": "warn_public", "target": "all", "message": "x"})),
                      scenario=SCENARIO, now=6)
    assert [(o.action["action"], o.status, o.expected_h) for o in got] == [
        ("dispatch_crew", "lead_time", 6.25), ("warn_public", "lead_time", 6.5)]


def test_an_order_that_took_effect_and_needs_no_crew_is_done() -> None:
    log = _log(_decided(6, {"action": "warn_public", "target": "all"}),
               (6.5, "action", "all", {"action": "warn_public"}))
    assert open_orders(log, scenario=SCENARIO) == []


def test_a_crew_sent_to_a_flooded_site_waits_for_the_water_and_no_hour_is_promised() -> None:
    log = _log(_decided(24, SEND), (24.25, "action", "SS1", {"action": "dispatch_crew", "team": "power_crews"}))
    (o,) = open_orders(log, scenario=SCENARIO, crews=CREWS, assets_down=[{"id": "SS1", "flooded": True}], now=27)
    assert (o.status, o.expected_h, o.team) == ("site_flooded", None, "power_crews")


def test_when_every_crew_of_the_team_is_busy_the_order_waits_for_the_first_to_finish() -> None:
    busy = [{**CREWS[0], "state": "repairing", "busy_until_h": 40.0},
            {**CREWS[1], "state": "repairing", "busy_until_h": 31.5}]
    log = _log(_decided(24, SEND), (24.25, "action", "SS1", {"action": "dispatch_crew", "team": "power_crews"}))
    (o,) = open_orders(log, scenario=SCENARIO, crews=busy, assets_down=[{"id": "SS1", "flooded": False}])
    assert (o.status, o.expected_h) == ("crew_busy", 31.5)


def test_a_crew_on_its_way_then_blocked_then_repairing_then_done() -> None:
    rows = [_decided(24, SEND), (24.25, "action", "SS1", {"action": "dispatch_crew", "team": "power_crews"}),
            (25.0, "crew", "power_crews#2", {"state": "dispatched", "asset": "SS1", "travel_h": 0.5})]
    (o,) = open_orders(_log(*rows), scenario=SCENARIO)
    assert (o.status, o.expected_h, o.crew) == ("travelling", 25.5, "power_crews#2")
    rows.append((25.2, "crew", "power_crews#2", {"state": "blocked", "asset": "SS1"}))
    assert open_orders(_log(*rows), scenario=SCENARIO)[0].status == "road_closed"
    rows += [(26.0, "crew", "power_crews#2", {"state": "arrived", "asset": "SS1"}),
             (26.0, "repair", "SS1", {"state": "started", "crew": "power_crews#2", "hours": 12.0})]
    (o,) = open_orders(_log(*rows), scenario=SCENARIO)
    assert (o.status, o.expected_h) == ("repairing", 38.0)
    rows.append((38.0, "repair", "SS1", {"state": "finished", "crew": "power_crews#2"}))
    assert open_orders(_log(*rows), scenario=SCENARIO) == []


def test_a_crew_on_a_site_still_under_water_waits_there() -> None:
    rows = [_decided(24, SEND), (24.25, "action", "SS1", {"action": "dispatch_crew", "team": "power_crews"}),
            (25.0, "crew", "power_crews#1", {"state": "arrived", "asset": "SS1"})]
    (o,) = open_orders(_log(*rows), scenario=SCENARIO, assets_down=[{"id": "SS1", "flooded": True}])
    assert o.status == "waiting_on_site"
    (o,) = open_orders(_log(*rows), scenario=SCENARIO, assets_down=[{"id": "SS1", "flooded": False}])
    assert o.status == "queued"


def test_a_repair_the_utility_started_on_its_own_does_not_close_another_order() -> None:
    rows = [_decided(24, SEND), (24.25, "action", "SS1", {"action": "dispatch_crew", "team": "power_crews"}),
            (25.0, "repair", "SS9", {"state": "finished", "crew": "power_crews#1"})]
    assert [o.target for o in open_orders(_log(*rows), scenario=SCENARIO)] == ["SS1"]


def test_every_status_reads_as_a_sentence_in_every_language() -> None:
    for lang in ("en", "de", "el", "pt"):
        _ = translator(lang)
        for key, msgid in STATUS.items():
            assert _(msgid) != msgid and ":" not in _(msgid)[:8], (lang, key)


def test_the_flood_exercise_explains_an_idle_crew_sent_to_a_flooded_substation() -> None:
    from scro_sim.engine import Simulation
    from scro_sim.policy import Decision
    from scro_sim.resources import find_scenario
    from scro_sim.scenario import Action, load_scenario

    sc, city = load_scenario(find_scenario("riverton_flood"))
    sim = Simulation(sc, city, 3)
    obs = sim.advance()
    while not any(a["flooded"] for a in obs.assets_down):
        obs = sim.advance()
    target = next(a["id"] for a in obs.assets_down if a["flooded"])
    sim.apply(Decision([Action(action="dispatch_crew", target=target)]))
    obs = sim.advance()
    (o,) = open_orders(sim.log.records, scenario=sc, crews=obs.crews, assets_down=obs.assets_down, now=obs.time_h)
    assert (o.target, o.status, o.expected_h) == (target, "site_flooded", None)
    assert all(c["task"] != target for c in obs.crews)  # the crews are idle: the order is what waits
