"""staff_absence by hand: a share of the crews and hospital staff off over a triangle in time
(scenarios/README.md, "Generic effects"), on tests/enginekit.py's tiny city.

The team T has 4 crews; at the peak 50 % of the staff are off: 2 crews (the team's last, T#4 and
T#3) and 50 % x beds_per_staff of the hospital's 100 beds.
"""

from __future__ import annotations

from typing import Any

import pytest
from enginekit import act, asset, make_city, make_scenario, play, records

from scro_sim.engine import Simulation
from scro_sim.engine.hazards.staff_absence import absent_share, crews_off
from scro_sim.scenario import check_scenario_city

CREWS = {"budget": 100000, "crews": [{"id": "T", "count": 4, "depot": "DEP", "skills": ["general"]}]}
WAVE = {"id": "flu", "type": "staff_absence", "start_h": 0, "peak_h": 10, "end_h": 20, "peak_share": 0.5,
        "teams": ["T"], "hospitals": ["H"], "beds_per_staff": 0.4, "step_h": 1}


def city():
    return make_city([asset("H", "hospital", capacity=100, criticality=5), asset("SS", "substation"),
                      asset("S2", "substation"), asset("S3", "substation"), asset("S4", "substation")])


def run(hazards: list[dict[str, Any]], decisions: dict[float, list[Any]] | None = None, **kw: Any):
    sc = make_scenario(hazards, duration_h=30, times_h=(0.0, 9.0), resources=CREWS, **kw)
    assert check_scenario_city(sc, city()) == []
    return play(Simulation(sc, city(), 1), decisions or {})


def test_the_share_absent_is_a_triangle_and_half_a_crew_rounds_up() -> None:
    assert [absent_share(t, 0, 10, 20, 0.5) for t in (0, 5, 10, 15, 20)] == [0.0, 0.25, 0.5, 0.25, 0.0]
    assert [crews_off(s, 4) for s in (0.0, 0.1, 0.125, 0.25, 0.5, 1.0)] == [0, 0, 1, 1, 2, 4]


def test_the_teams_last_crews_go_off_duty_at_the_peak_and_come_back_after_it() -> None:
    log = run([WAVE])
    off = [(r.time, r.subject, r.data["state"]) for r in records(log, "crew") if r.data["state"] in ("off_duty", "on_duty")]
    # 1 crew at 12.5 % (2.5 h -> step 3 h), 2 at 37.5 % (7.5 h -> 8 h); back in reverse on the way down
    assert off == [(3.0, "T#4", "off_duty"), (8.0, "T#3", "off_duty"), (13.0, "T#3", "on_duty"),
                   (18.0, "T#4", "on_duty")]
    peak = next(r for r in records(log, "hazard", "flu") if r.time == 10.0)
    assert peak.data == {"type": "staff_absence", "share": 0.5, "crews_off": {"T": 2}, "beds_closed": {"H": 20}}


def test_an_off_duty_crew_takes_no_new_repair_until_it_is_back() -> None:
    outage = {"id": "hit", "type": "outage", "targets": ["SS", "S2", "S3", "S4"], "start_h": 9.5, "state": "failed"}
    orders = {9.0: [act("set_priorities", order=("SS", "S2", "S3", "S4"))]}
    log = run([WAVE, outage], orders)
    starts = {r.subject: (r.time, r.data["crew"]) for r in records(log, "repair", state="started")}
    # at 9.5 h two of four crews are off: T#1 and T#2 start two repairs, the others wait for a crew
    assert {crew for t, crew in starts.values() if t < 10} == {"T#1", "T#2"}
    assert all(crew in ("T#1", "T#2") or t >= 13.0 for t, crew in starts.values())


def test_without_the_effect_every_crew_starts_at_once() -> None:
    outage = {"id": "hit", "type": "outage", "targets": ["SS", "S2", "S3", "S4"], "start_h": 9.5, "state": "failed"}
    log = run([outage], {9.0: [act("set_priorities", order=("SS", "S2", "S3", "S4"))]})
    assert len({r.data["crew"] for r in records(log, "repair", state="started") if r.time < 10}) == 4


def test_beds_closed_for_want_of_staff_fill_a_hospital_sooner() -> None:
    surge = {"id": "s", "type": "surge", "hospitals": ["H"], "start_h": 0, "peak_h": 10, "end_h": 20,
             "baseline_occupancy": 0.8, "peak_extra_patients": 10}
    plain = run([surge])
    short = run([{**WAVE, "teams": []}, surge])
    assert not records(plain, "asset_down", "H")
    [down] = records(short, "asset_down", "H")
    assert down.data["cause"] == "overloaded"


@pytest.mark.parametrize(("change", "needle"), [
    ({"teams": ["NOPE"]}, "unknown crew team 'NOPE'"),
    ({"hospitals": ["SS"]}, "hazards[0].hospitals[0]: 'SS' is not a hospital"),
    ({"hospitals": ["NOPE"]}, "hazards[0].hospitals[0]: unknown asset 'NOPE'"),
    ({"peak_h": 25}, "hazards[0]: need start_h <= peak_h <= end_h"),
])
def test_a_wave_naming_what_the_scenario_lacks_is_refused(change: dict[str, Any], needle: str) -> None:
    sc = make_scenario([{**WAVE, **change}], duration_h=30, resources=CREWS)
    assert any(needle in p for p in check_scenario_city(sc, city()))


@pytest.mark.parametrize(("change", "needle"), [
    ({"peak_share": 1.5}, "peak_share"),
    ({"beds_per_staff": -0.1}, "beds_per_staff"),
    ({"end_h": float("nan")}, "end_h"),
])
def test_a_malformed_wave_is_refused_with_the_field(change: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        make_scenario([{**WAVE, **change}], resources=CREWS)


def test_the_staff_shortfall_counts_crews_off_less_crews_called_back_in_the_same_team() -> None:
    """T#4 is off 3-18 h and T#3 8-13 h: 15 + 5 = 20 crew-hours; two crews recalled from 2 h (lead time
    1 h, for 4 h: to 6 h) cover T#4's 3-6 h, and only 3 crew-hours of it go."""
    from scro_sim.scoring import compute_metrics

    on = {"recall_staff": {"enabled": True, "cost": 0, "lead_time_h": 1, "recall_crews": 2, "recall_h": 4}}
    plain = compute_metrics(run([WAVE])).flat()
    helped = compute_metrics(run([WAVE], {0.0: []}, actions=on)).flat()
    assert plain["staff_shortfall"] == pytest.approx(20.0)
    assert helped["staff_shortfall"] == pytest.approx(20.0)  # nobody recalled: the same
    recalled = compute_metrics(play(Simulation(make_scenario([WAVE], duration_h=30, times_h=(0.0, 1.0), actions=on,
                                                             resources=CREWS), city(), 1),
                                    {1.0: [act("recall_staff", crew="T")]})).flat()
    assert recalled["staff_shortfall"] == pytest.approx(17.0)


def test_a_run_without_staff_absence_has_no_staff_shortfall() -> None:
    from scro_sim.scoring import compute_metrics

    outage = {"id": "hit", "type": "outage", "targets": ["SS"], "start_h": 1, "state": "failed"}
    assert "staff_shortfall" not in compute_metrics(run([outage])).flat()
