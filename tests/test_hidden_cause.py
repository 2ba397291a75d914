"""Hidden truth (issue 13 section 3): an attack's cause shows only once revealed (at detection, at an
hour, on a condition, or by an investigation); the learner's declarations are recorded and measured."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from enginekit import act, asset, cyber, make_city, make_scenario, play, records, times

from scro_sim.engine import Simulation
from scro_sim.errors import ScroSimError
from scro_sim.log import EventLog
from scro_sim.scenario import load_scenario
from scro_sim.scoring import compute_metrics

ROOT = Path(__file__).resolve().parent.parent
OPEN = {"investigate": {"enabled": True, "cost": 0, "lead_time_h": 1.0}, "declare_incident": {"enabled": True}}


def _city() -> Any:
    return make_city([asset("EOC", "eoc", criticality=5), asset("H", "hospital", criticality=5)])


def _sim(reveal: dict[str, Any] | None = None, *, times_h: tuple[float, ...] = (1.0, 2.2, 3.0, 6.0),
         msel: list[dict[str, Any]] | None = None) -> Simulation:
    """EOC shut by an attack at 2 h, detected at 2.5 h."""
    hz = cyber("EOC", start_h=2.0, detection_delay_h=0.5, recovery_h=30)
    if reveal is not None:
        hz["reveal"] = reveal
    sc = make_scenario([hz], duration_h=12, times_h=times_h, actions=OPEN, msel=msel or [])
    return Simulation(sc, _city(), 0)


def _cause_seen(sim: Simulation, until: float) -> dict[float, str | None]:
    """The EOC's cause as the player sees it at each decision point up to ``until``."""
    out: dict[float, str | None] = {}
    while not sim.done:
        obs = sim.advance()
        if obs.done or obs.time_h > until:
            break
        out[round(obs.time_h, 9)] = next((a["cause"] for a in obs.assets_down if a["id"] == "EOC"), None)
    return out


def test_before_detection_the_player_sees_the_asset_down_with_cause_unknown() -> None:
    sim = _sim()
    assert _cause_seen(sim, 3.0) == {0.0: None, 1.0: None, 2.2: "unknown", 3.0: "cyber"}
    assert times(sim.log, "cause_revealed", "cyber1", by="detection") == [2.5]


def test_what_changed_hides_the_cause_until_it_is_revealed() -> None:
    sim = _sim()
    sim.advance(), sim.advance()
    obs = sim.advance()  # 2.2 h: down since 2 h, not detected yet
    seen = [c for c in obs.changes if c["subject"] == "EOC" and c["kind"] in ("damage", "asset_down")]
    assert seen and all("cyber" not in c.values() and "hazard" not in c for c in seen)
    assert {c.get("cause", c.get("state")) for c in seen} == {"unknown"}
    # the log keeps the truth: only what the player is shown is hidden
    assert records(sim.log, "asset_down", "EOC", cause="cyber")


def test_a_reveal_at_an_hour_shows_the_cause_then() -> None:
    sim = _sim({"at": 5})
    assert _cause_seen(sim, 6.0) == {0.0: None, 1.0: None, 2.2: "unknown", 3.0: "unknown", 6.0: "cyber"}
    assert times(sim.log, "cause_revealed", by="time") == [5.0]


def test_a_reveal_hour_before_the_attack_shows_it_as_the_attack_begins() -> None:
    sim = _sim({"at": 0})
    sim.run()
    assert times(sim.log, "cause_revealed", by="time") == [2.0]


def test_a_reveal_on_a_condition_shows_the_cause_when_it_holds() -> None:
    msel = [{"id": "I_cert", "at_h": 4, "sender": "CERT", "channel": "email", "text": "It was an attack"}]
    sim = _sim({"on": {"inject": "I_cert"}}, msel=msel)
    assert _cause_seen(sim, 6.0)[3.0] == "unknown"
    assert times(sim.log, "cause_revealed", by="condition") == [4.0]
    held = _sim({"on": {"asset_down": "EOC"}})  # true as the attack begins
    held.run()
    assert times(held.log, "cause_revealed", by="condition") == [2.0]


def test_a_cause_revealed_at_detection_is_not_revealed_again_when_its_condition_later_holds() -> None:
    msel = [{"id": "I_cert", "at_h": 4, "sender": "CERT", "channel": "email", "text": "It was an attack"}]
    sim = _sim({"at": "detection", "on": {"inject": "I_cert"}}, msel=msel)
    sim.run()
    assert [(r.time, r.data["by"]) for r in records(sim.log, "cause_revealed")] == [(2.5, "detection")]


def test_an_investigation_reveals_the_cause_after_its_lead_time() -> None:
    sim = _sim({"by_action": "investigate"})
    log = play(sim, {2.2: [act("investigate", "EOC"), act("investigate", "H")]})
    assert times(log, "cause_revealed", by="investigate") == [3.2]
    assert [r.data["finding"] for r in records(log, "action", "EOC", action="investigate")] == ["cyber"]
    assert [r.data["finding"] for r in records(log, "action", "H", action="investigate")] == ["no_attack"]


def test_an_investigation_finds_nothing_when_the_reveal_does_not_allow_it() -> None:
    log = play(_sim({"at": 10}), {2.2: [act("investigate", "EOC")]})
    assert [r.data["finding"] for r in records(log, "action", "EOC", action="investigate")] == ["inconclusive"]
    assert times(log, "cause_revealed") == [10.0]


def test_investigate_is_off_unless_the_scenario_enables_it() -> None:
    sc = make_scenario([cyber("EOC")], duration_h=12, times_h=(3.0,))
    sim = Simulation(sc, _city(), 0)
    sim.advance(), sim.advance()
    assert "investigate" not in sim.observe().allowed
    assert any("'investigate' is not enabled" in p for p in sim.check([act("investigate", "EOC")]))


def test_a_declaration_is_recorded_in_the_log() -> None:
    log = play(_sim(), {3.0: [act("declare_incident", "EOC", incident="cyber"),
                              act("declare_incident", incident="boil_water")]})
    (decision,) = records(log, "decision")
    assert [a["incident"] for a in decision.data["actions"]] == ["cyber", "boil_water"]
    assert [(r.time, r.data["incident"]) for r in records(log, "action", action="declare_incident")] == [
        (3.0, "cyber"), (3.0, "boil_water")]


def _metrics(log: EventLog) -> tuple[float | None, float | None]:
    flat = compute_metrics(log).flat()
    return flat["declare_delay_h"], flat["wrong_declarations"]


def test_declare_delay_counts_from_the_reveal_to_the_right_declaration() -> None:
    # revealed at detection, 2.5 h; a wrong guess at 2.2 h, the right one at 6 h
    log = play(_sim(), {2.2: [act("declare_incident", "EOC", incident="fault")],
                        6.0: [act("declare_incident", "EOC", incident="cyber")]})
    assert _metrics(log) == (pytest.approx(3.5), 1.0)


def test_an_early_right_declaration_is_on_time_and_a_missing_one_runs_to_the_end() -> None:
    early = play(_sim(), {2.2: [act("declare_incident", incident="cyber")]})
    assert _metrics(early) == (0.0, 0.0)
    never = play(_sim(), {})
    assert _metrics(never) == (pytest.approx(12.0 - 2.5), 0.0)


def test_declaring_an_attack_on_an_asset_that_was_not_attacked_is_wrong() -> None:
    log = play(_sim(), {3.0: [act("declare_incident", "H", incident="cyber"),
                              act("declare_incident", "H", incident="fault"),
                              act("declare_incident", incident="sabotage")]})
    delay, wrong = _metrics(log)
    assert wrong == 2.0
    assert delay == pytest.approx(12.0 - 2.5)  # an attack on the wrong asset is not the right declaration


def test_the_declaration_delay_is_explained_by_the_first_reveal_and_the_declarations() -> None:
    """Two attacks, revealed at 2.5 and 3.5 h: the delay counts from the first, and its evidence is that
    reveal and the decision that declared, not the second reveal."""
    sc = make_scenario([cyber("EOC", start_h=2.0, detection_delay_h=0.5, recovery_h=30),
                        cyber("H", start_h=3.0, detection_delay_h=0.5, recovery_h=30, hid="cyber2")],
                       duration_h=12, times_h=(1.0, 6.0), actions=OPEN)
    log = play(Simulation(sc, _city(), 0), {6.0: [act("declare_incident", "EOC", incident="cyber")]})
    first, second = records(log, "cause_revealed")
    assert (first.time, second.time) == (2.5, 3.5)
    (decision,) = records(log, "decision")
    m = compute_metrics(log)
    assert m.links["declare_delay_h"] == [first.seq, decision.seq]
    assert m.flat()["declare_delay_h"] == pytest.approx(3.5)


def test_an_attack_revealed_before_it_is_detected_is_judged_by_its_reveal() -> None:
    """Revealed at 2.5 h and never detected in the run: the reveal alone names the attacked asset."""
    hz = {**cyber("EOC", start_h=2.0, detection_delay_h=50, recovery_h=30), "reveal": {"at": 2.5}}
    sc = make_scenario([hz], duration_h=12, times_h=(1.0, 3.0, 6.0), actions=OPEN)
    log = play(Simulation(sc, _city(), 0), {3.0: [act("declare_incident", "EOC", incident="cyber")],
                                            6.0: [act("declare_incident", "H", incident="cyber")]})
    assert not records(log, "hazard", detected=True)
    assert _metrics(log) == (pytest.approx(0.5), 1.0)  # right on the EOC half an hour on; wrong on H


def test_an_attack_detected_but_not_yet_revealed_still_judges_the_declarations() -> None:
    """Detected at 2.5 h, its cause to come to light only after the end: a declaration of another cause
    for the attacked asset is wrong, though the learner was never shown the truth."""
    log = play(_sim({"at": 20}), {3.0: [act("declare_incident", "EOC", incident="fault")]})
    assert not records(log, "cause_revealed") and records(log, "hazard", detected=True)
    assert _metrics(log) == (None, 1.0)


def test_without_an_attack_the_declaration_metrics_are_empty() -> None:
    far = {"id": "eq", "type": "earthquake", "time_h": 0.5, "epicentre": [1e7, 1e7], "magnitude": 1.0}
    sc = make_scenario([far], duration_h=6, times_h=(1.0,), actions=OPEN)
    log = play(Simulation(sc, _city(), 0), {1.0: [act("declare_incident", incident="cyber")]})
    assert _metrics(log) == (None, None)


def _cyber_yaml() -> tuple[Path, str]:
    path = ROOT / "scenarios" / "riverton_water_cyber.yaml"
    return path, path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("reveal", "field", "words"), [
    ("{at: later}", "hazards[0].reveal.at", "at is 'detection' or a number of hours"),
    ("{at: -2}", "hazards[0].reveal.at", "at is 'detection' or a number of hours"),
    ("{}", "hazards[0].reveal", "reveal names at least one of"),
    ("{by_action: phone_a_friend}", "hazards[0].reveal.by_action", "'investigate'"),
    ("{at: 500}", "hazards[0].reveal.at", "500 h is not inside the 72 h scenario"),
    ("{on: {asset_down: NOPE}}", "hazards[0].reveal.on.asset_down", "unknown asset 'NOPE'"),
    ("{on: {inject: I99}}", "hazards[0].reveal.on.inject", "unknown inject 'I99'"),
])
def test_a_bad_reveal_is_refused_with_file_line_and_field(reveal: str, field: str, words: str) -> None:
    path, text = _cyber_yaml()
    old = next(ln for ln in text.splitlines() if ln.strip().startswith("reveal:"))
    bad = text.replace(old, f"    reveal: {reveal}", 1)
    line = bad.splitlines().index(f"    reveal: {reveal}") + 1
    with pytest.raises(ScroSimError) as err:
        load_scenario(str(path), text=bad)
    assert f"{path}:{line}: {field}" in str(err.value) and words in str(err.value), str(err.value)


def test_a_reveal_by_investigation_needs_the_action_enabled() -> None:
    path, text = _cyber_yaml()
    bad = text.replace("  investigate:\n    enabled: true", "  investigate:\n    enabled: false", 1)
    assert bad != text
    with pytest.raises(ScroSimError) as err:
        load_scenario(str(path), text=bad)
    assert "hazards[0].reveal.by_action: action 'investigate' is disabled" in str(err.value)
