"""A hidden attack found by investigation: ``detected_on_reveal`` lets the IT crews start when its cause
comes to light, not only after ``detection_delay_h`` (the attack that first looks like another failure).

Tiny cities from ``tests/enginekit.py``: the kit's depot DEP is on node D; D to A is 0.1 h by road.
"""

from __future__ import annotations

from typing import Any

import pytest
from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.engine import Simulation
from scro_sim.errors import ScroSimError
from scro_sim.scenario import load_scenario

IT_TEAM = {"crews": [{"id": "it_team", "count": 1, "depot": "DEP", "skills": ["it"]}], "budget": 100000}
OPEN = {"investigate": {"enabled": True, "cost": 0, "lead_time_h": 1.0}}


def _city() -> Any:
    return make_city([asset("WT", "water_treatment", criticality=5), asset("H", "hospital", criticality=5)])


def _sim(*, on_reveal: bool, reveal: dict[str, Any] | None = None, manual: bool = False) -> Simulation:
    """WT shut by an attack at 2 h; the operators see it only at 22 h (detection); IT work 4 h."""
    hz = cyber("WT", start_h=2.0, detection_delay_h=20.0, recovery_h=30)
    hz.update(reveal=reveal or {"at": "detection", "by_action": "investigate"}, detected_on_reveal=on_reveal)
    if not manual:
        hz["incident_response_h"] = 4.0
    actions, resources = dict(OPEN), dict(IT_TEAM)
    if manual:
        resources["crews"] = [*IT_TEAM["crews"], {"id": "water_crews", "count": 1, "depot": "DEP", "skills": ["water"]}]
        actions["manual_operation"] = {"enabled": True, "cost": 0, "cost_per_hour": 0, "lead_time_h": 0, "shift_h": 40}
    return Simulation(make_scenario([hz], duration_h=72, times_h=(3.0,), resources=resources, actions=actions),
                      _city(), 0)


def test_without_it_an_investigation_shows_the_cause_but_the_attack_waits_for_its_detection() -> None:
    """Investigated at 3 h (found at 4 h): the IT team sent then waits on site until 22 h, works 4 h: up at 26 h."""
    log = play(_sim(on_reveal=False), {3.0: [act("investigate", "WT"), act("dispatch_crew", "WT", crew="it_team")]})
    assert times(log, "cause_revealed", "cyber1", by="investigate") == [4.0]
    assert times(log, "hazard", "cyber1", detected=True) == [22.0]
    assert times(log, "asset_up", "WT") == [26.0]
    assert "on_reveal" not in records(log, "hazard", "cyber1", detected=True)[0].data


def test_with_it_the_investigation_that_finds_the_attack_detects_it() -> None:
    """Found at 4 h: detected at 4 h; the IT team, on site since 3.35 h, works 4 h: up at 8 h."""
    log = play(_sim(on_reveal=True), {3.0: [act("investigate", "WT"), act("dispatch_crew", "WT", crew="it_team")]})
    assert times(log, "hazard", "cyber1", detected=True) == [4.0]
    assert records(log, "hazard", "cyber1", detected=True)[0].data["on_reveal"] is True
    assert times(log, "repair", "WT", state="started") == [4.0]
    assert times(log, "asset_up", "WT") == [8.0]


def test_with_it_an_attack_nobody_investigates_is_detected_after_its_delay() -> None:
    """Nobody looks: detection at 22 h as before, and the record says nothing of a reveal."""
    log = play(_sim(on_reveal=True), {})
    assert times(log, "hazard", "cyber1", detected=True) == [22.0]
    assert "on_reveal" not in records(log, "hazard", "cyber1", detected=True)[0].data


def test_investigating_the_wrong_asset_detects_nothing() -> None:
    log = play(_sim(on_reveal=True), {3.0: [act("investigate", "H")]})
    assert [r.data["finding"] for r in records(log, "action", "H", action="investigate")] == ["no_attack"]
    assert times(log, "hazard", "cyber1", detected=True) == [22.0]


def test_an_early_detection_moves_the_end_of_the_unassisted_recovery() -> None:
    """Found and detected at 4 h, nobody cleans it: the vendor's rebuild ends 30 h later, at 34 h (not 52 h)."""
    log = play(_sim(on_reveal=True), {3.0: [act("investigate", "WT")]})
    assert times(log, "asset_up", "WT") == [34.0]


def test_a_manual_shift_ends_with_the_control_system_back_after_an_early_detection() -> None:
    """No IT response: found and detected at 4 h, the vendor's rebuild ends at 34 h (not 52 h), so the
    40 h manual shift from 3 h ends at 43 h with the control system back and the plant keeps running."""
    log = play(_sim(on_reveal=True, manual=True),
               {3.0: [act("investigate", "WT"), act("manual_operation", "WT")]})
    ended = records(log, "manual_operation", "WT", state="ended")
    assert [r.data["stopped"] for r in ended] == [False]


def test_detected_on_reveal_must_be_true_or_false(tmp_path: Any) -> None:
    src = tmp_path / "s.yaml"
    src.write_text(
        "id: s\nversion: '1'\ntitle: t\nsummary: s\nlevel: beginner\nexpected_minutes: 5\nmodules: [C1]\n"
        "city: riverton\nstart: '2026-01-01T00:00:00+00:00'\nduration_h: 10\n"
        "hazards:\n  - id: c\n    type: cyber\n    start_h: 1\n    targets: [WT1]\n    recovery_h: 5\n"
        "    detected_on_reveal: sometimes\n"
        "rubric: {criteria: [{id: a, title: a, kind: judged, weight: 1, outcome: C1.1, evidence: rationales}]}\n",
        encoding="utf-8")
    with pytest.raises(ScroSimError, match=r"s\.yaml:\d+: hazards\[0\]\.detected_on_reveal"):
        load_scenario(src)


@pytest.mark.parametrize(("delay", "on_reveal"), [(20.0, True), (0.0, False)])
def test_an_attack_revealed_as_it_begins_is_detected_at_once(delay: float, on_reveal: bool) -> None:
    """Revealed when WT goes down (2 h), before the detection it would wait for: detected then, and the
    record says it came with the reveal only when there was a detection delay to cut short."""
    hz = cyber("WT", start_h=2.0, detection_delay_h=delay, recovery_h=30)
    hz.update(reveal={"on": {"asset_down": "WT"}}, detected_on_reveal=True, incident_response_h=4.0)
    sc = make_scenario([hz], duration_h=72, times_h=(3.0,), resources=IT_TEAM, actions=OPEN)
    log = play(Simulation(sc, _city(), 0), {})
    assert times(log, "cause_revealed", "cyber1", by="condition") == [2.0]
    (found,) = records(log, "hazard", "cyber1", detected=True)
    assert found.time == 2.0 and found.data.get("on_reveal", False) is on_reveal


def test_an_attacked_asset_the_it_team_is_on_is_not_listed_as_waiting_for_repair() -> None:
    """Found and detected at 4 h; the IT team, the run's only crew (crew 0), works on WT from 4 h to 8 h:
    at 6 h nothing waits for a repair."""
    hz = cyber("WT", start_h=2.0, detection_delay_h=20.0, recovery_h=30)
    hz.update(reveal={"at": "detection", "by_action": "investigate"}, detected_on_reveal=True, incident_response_h=4.0)
    sim = Simulation(make_scenario([hz], duration_h=72, times_h=(3.0, 6.0), resources=IT_TEAM, actions=OPEN),
                     _city(), 0)
    sim.advance()
    assert sim.advance().time_h == 3.0
    sim.apply([act("investigate", "WT"), act("dispatch_crew", "WT", crew="it_team")])
    obs = sim.advance()
    assert obs.time_h == 6.0 and [c["task"] for c in obs.crews] == ["WT"]
    assert obs.repairs_waiting == []
