"""Tiny cities and scenarios built in code, for engine, determinism and queueing tests.

Everything here is plain data passed through the public validators (``parse_city`` and
``Scenario.model_validate``), so a test reads as the city it builds:

    city = make_city([asset("PP", "power_plant"), asset("SS", "substation", needs={"power": ["PP"]})])
    sc = make_scenario([cyber("SS", start_h=2)])

Road layout of the default city (``ROADS``), lengths in km and speeds in km/h::

    A --10 km @ 50--> B --6 km @ 30--> C        (A to C the short way: 0.2 h + 0.2 h = 0.4 h)
    A ------------ 30 km @ 60 ------------ C    (the direct road: 0.5 h)
    A --3 km @ 30--> D                          (the depot's spur: 0.1 h)
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from scro_sim.city import City, parse_city
from scro_sim.engine import Simulation
from scro_sim.log import EventLog, EventRecord
from scro_sim.policy import Decision
from scro_sim.scenario import Action, Scenario

__all__ = [
    "ROADS",
    "act",
    "asset",
    "cyber",
    "flood",
    "make_city",
    "make_scenario",
    "play",
    "records",
    "times",
]

ROADS: dict[str, Any] = {
    "nodes": [
        {"id": "A", "location": {"x": 0, "y": 5000}, "elevation": 50.0},
        {"id": "B", "location": {"x": 10000, "y": 5000}, "elevation": 50.0},
        {"id": "C", "location": {"x": 16000, "y": 5000}, "elevation": 50.0},
        {"id": "D", "location": {"x": 0, "y": 8000}, "elevation": 50.0},
    ],
    "edges": [
        {"from": "A", "to": "B", "length_m": 10000, "speed_kmh": 50},
        {"from": "B", "to": "C", "length_m": 6000, "speed_kmh": 30},
        {"from": "A", "to": "C", "length_m": 30000, "speed_kmh": 60},
        {"from": "A", "to": "D", "length_m": 3000, "speed_kmh": 30},
    ],
}

#: A small flood plain around (16 km, 0): only assets placed inside it can flood.
FLOOD_ZONE: dict[str, Any] = {
    "id": "plain", "kind": "flood_plain",
    "polygon": [{"x": 15000, "y": -500}, {"x": 17000, "y": -500}, {"x": 17000, "y": 500}, {"x": 15000, "y": 500}],
}
RIVER: dict[str, Any] = {"gauge_location": {"x": 16000, "y": 0}, "datum": 0.0, "slope_m_per_km": 0.0}


def asset(aid: str, typ: str, node: str = "A", *, x: float = 0.0, y: float = 5000.0, elevation: float = 50.0,
          **kw: Any) -> dict[str, Any]:
    """One asset as city-file data; ``kw`` adds fields (needs, backup, fragility, criticality...)."""
    return {"id": aid, "type": typ, "name": aid, "location": {"x": x, "y": y}, "elevation": elevation,
            "road_node": node, **kw}


#: the kit city's one district unless a test gives its own: 1000 people needing nothing
DISTRICT: dict[str, Any] = {"id": "Z", "name": "Z", "population": 1000, "vulnerable_share": 0.25,
                            "location": {"x": 0, "y": 9000}, "elevation": 60.0, "road_node": "D"}


def make_city(assets: list[dict[str, Any]], *, districts: list[dict[str, Any]] | None = None,
              roads: dict[str, Any] | None = None, flood_plain: bool = False) -> City:
    """A city with the default roads and one district of 1000 people (needing nothing) unless given.

    A depot ``DEP`` on node D is added unless the assets already hold one.
    """
    assets = list(assets)
    if not any(a["type"] == "depot" for a in assets):
        assets.append(asset("DEP", "depot", "D", y=8000))
    data: dict[str, Any] = {
        "format": "scro-city/1", "id": "kit", "name": "Kit city",
        "districts": districts or [copy.deepcopy(DISTRICT)],
        "assets": assets,
        "roads": copy.deepcopy(roads or ROADS),
    }
    if flood_plain:
        data["zones"] = [copy.deepcopy(FLOOD_ZONE)]
        data["river"] = copy.deepcopy(RIVER)
    return parse_city(data)


def cyber(*targets: str, start_h: float = 2.0, recovery_h: float = 1000.0, detection_delay_h: float = 0.5,
          hid: str = "cyber1") -> dict[str, Any]:
    """A cyber shutdown of ``targets`` at ``start_h`` that lasts detection + recovery hours."""
    return {"id": hid, "type": "cyber", "start_h": start_h, "targets": list(targets),
            "detection_delay_h": detection_delay_h, "recovery_h": recovery_h}


def flood(peak_stage_m: float = 3.0, *, time_to_peak_h: float = 4.0, recession_h: float = 4.0,
          step_h: float = 1.0, zone: str = "plain") -> dict[str, Any]:
    """A flood on the kit's flood plain: stage 0 at t=0, peak at ``time_to_peak_h``, back to 0 after recession.

    With the defaults the gauge reads 0, 0.44, 1.5, 2.56, 3, 2.56, 1.5, 0.44, 0 m at hours 0..8.
    """
    return {"id": "flood1", "type": "flood", "base_stage_m": 0.0, "peak_stage_m": peak_stage_m, "rise_start_h": 0.0,
            "time_to_peak_h": time_to_peak_h, "recession_h": recession_h, "zones": [zone], "step_h": step_h}


def make_scenario(hazards: list[dict[str, Any]], *, duration_h: float = 24.0, times_h: tuple[float, ...] = (),
                  **kw: Any) -> Scenario:
    """A minimal valid scenario around ``hazards``; ``kw`` sets any other top-level field (resources, actions...).

    Unless ``kw`` says otherwise, crews wait for orders (``utility_restoration: false``) and the
    run ends at ``duration_h`` (``recovery_h: 0``).
    """
    data: dict[str, Any] = {
        "id": "kit", "version": "1", "title": "Kit", "summary": "Built in code by tests/enginekit.py",
        "level": "beginner", "expected_minutes": 10, "modules": ["M1"],
        "learning_outcomes": [{"id": "LO1", "module": "M1", "text": "Keep things running"}],
        "city": "kit", "start": "2024-01-01T00:00:00", "duration_h": duration_h,
        "decision_points": {"times_h": list(times_h), "at_injects": True},
        "hazards": hazards,
        "rubric": {"criteria": [{"id": "C1", "title": "Power", "kind": "computed", "weight": 1, "outcome": "LO1",
                                 "metric": "resilience_loss.power", "thresholds": {"P": 0, "S": 10, "M": 100},
                                 "feedback": {"P": "p", "S": "s", "M": "m", "U": "u"}}]},
    }
    data.update(kw)
    # The kit's engine is the plain one: crews wait for orders and the run ends at duration_h,
    # so a test states the orders it gives and the hours it reads; tests of the utilities' own
    # restoration and of the recovery fast-forward switch these on.
    data.setdefault("recovery_h", 0.0)
    if isinstance(data.get("resources"), dict):
        data["resources"] = {"utility_restoration": False, **data["resources"]}
    return Scenario.model_validate(data)


def act(action: str, target: str | None = None, **kw: Any) -> Action:
    """A validated :class:`Action` (roads are named ``FROM~TO``)."""
    return Action(action=action, target=target, **kw)


def records(log: EventLog | Simulation, kind: str, subject: str | None = None, **match: Any) -> list[EventRecord]:
    """Records of ``kind`` (for ``subject``) whose data contain ``match``."""
    if isinstance(log, Simulation):
        log = log.log
    return [r for r in log.of_kind(kind) if (subject is None or r.subject == subject)
            and all(r.data.get(k) == v for k, v in match.items())]


def times(log: EventLog | Simulation, kind: str, subject: str | None = None, **match: Any) -> list[float]:
    """Times of the matching records, rounded to 9 decimals (hand-computed values compare exactly)."""
    return [round(r.time, 9) for r in records(log, kind, subject, **match)]


def play(sim: Simulation, decisions: dict[float, list[Action]]) -> EventLog:
    """Run ``sim`` to the end, applying ``decisions[t]`` at the decision point at hour ``t``."""
    watch(sim, decisions, lambda obs: None)
    return sim.log


def watch(sim: Simulation, decisions: dict[float, list[Action]], read: Callable[[Any], Any]) -> dict[float, Any]:
    """:func:`play`, keeping ``read(obs)`` at each decision point (before its decisions), by hour."""
    seen: dict[float, Any] = {}
    while not sim.done:
        obs = sim.advance()
        if obs.done:
            break
        t = round(obs.time_h, 9)
        seen[t] = read(obs)
        acts = decisions.get(t)
        if acts:
            sim.apply(Decision(list(acts)))
    return seen
