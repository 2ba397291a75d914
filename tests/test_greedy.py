"""The greedy responder: a naive but sensible player, the middle of the calibration scale.

It reads only the observation, so these tests hand it observations built in code.
"""

from __future__ import annotations

from typing import Any

from scro_sim.policy import Greedy, Observation

ALLOWED = {k: {"cost": 0.0} for k in ("warn_public", "request_mutual_aid", "set_priorities", "dispatch_crew",
                                      "deploy_generator", "open_surge_beds", "evacuate")}


def obs(*, injects: list[dict[str, Any]] | None = None, t: float = 0.0, **kw: Any) -> Observation:
    base: dict[str, Any] = dict(
        time_h=t, clock="", point=0, kind="decision", done=False, gauge_m=None, injects=injects or [],
        questions=[], assets_down=[], assets_on_backup=[], asset_counts={"down": 0}, services={},
        service_totals={}, crews=[], generators_available=2, mutual_aid_left=1, budget_left=1e6, spent=0.0,
        allowed=dict(ALLOWED), hospitals={})
    base.update(kw)
    return Observation(**base)


def inject(*asks: dict[str, Any]) -> dict[str, Any]:
    return {"time_h": 0.0, "id": "I1", "channel": "phone", "pause": True, "contingency": False, "asks": list(asks)}


def ask(aid: str, action: str, *targets: str) -> dict[str, Any]:
    return {"id": aid, "action": action, "targets": list(targets), "deadline_h": 2.0}


def kinds(decision: Any) -> list[tuple[str, Any]]:
    return [(a.action, a.target) for a in decision.actions] if decision else []


def test_greedy_does_what_a_message_asks_with_the_first_named_target_it_can_use() -> None:
    down = [{"id": "PS2", "criticality": 3}, {"id": "WT1", "criticality": 5}]
    d = Greedy().decide(obs(injects=[inject(ask("EA1", "dispatch_crew", "PS1", "PS2"),
                                            ask("EA2", "request_mutual_aid"))], assets_down=down))
    acts = kinds(d)
    assert ("dispatch_crew", "PS2") in acts  # PS1 is not down: the first named asset that is
    assert ("request_mutual_aid", None) in acts
    assert acts.count(("warn_public", "all")) == 1  # its own first warning answers nothing twice


def test_greedy_answers_each_ask_once_and_warns_again_when_a_later_message_asks_for_it() -> None:
    g = Greedy()
    first = inject(ask("EA1", "warn_public", "all"))
    assert kinds(g.decide(obs(injects=[first]))) == [("warn_public", "all")]
    assert g.decide(obs(injects=[first], t=1.0)) is None  # the same ask again: already answered
    later = {**inject(ask("EA9", "warn_public", "all")), "id": "I7"}
    assert kinds(g.decide(obs(injects=[later], t=8.0))) == [("warn_public", "all")]


def test_greedy_puts_an_asked_repair_order_first_and_a_generator_where_a_named_asset_runs_on_backup() -> None:
    down = [{"id": "SS1", "criticality": 4}, {"id": "PS1", "criticality": 3}]
    backup = [{"id": "WT1", "criticality": 5, "backup_left_h": 4.0, "missing": ["power"], "generator": False}]
    d = Greedy().decide(obs(injects=[inject(ask("EA1", "set_priorities", "PS1"),
                                            ask("EA2", "deploy_generator", "PS3", "WT1"))],
                            assets_down=down, assets_on_backup=backup, asset_counts={"down": 2}))
    orders = [a.order for a in d.actions if a.action == "set_priorities"]
    assert orders == [("PS1", "SS1")]  # one order: the asked asset first, then the rest by criticality
    # every generator it has, to the named assets, the one on its backup first; none twice
    assert [a.target for a in d.actions if a.action == "deploy_generator"] == ["WT1", "PS3"]


def test_greedy_opens_asked_surge_beds_at_one_named_hospital() -> None:
    hospitals = {h: {"beds": 100, "surge_beds": 0, "occupancy": 0.9, "overloaded": False} for h in ("H1", "H2")}
    d = Greedy().decide(obs(injects=[inject(ask("EA1", "open_surge_beds", "H2", "H1"))], hospitals=hospitals))
    acts = kinds(d)
    assert ("open_surge_beds", "H2") in acts and ("open_surge_beds", "H1") not in acts


def test_greedy_evacuates_only_when_asked_to_the_working_shelter_with_the_most_free_places() -> None:
    shelters = {"S1": {"places": 100, "people": 90, "state": "up"}, "S2": {"places": 500, "people": 0, "state": "down"},
                "S3": {"places": 300, "people": 100, "state": "up"}}
    assert Greedy().decide(obs(shelters=shelters, allowed={"evacuate": {"cost": 0.0}})) is None
    d = Greedy().decide(obs(injects=[inject(ask("EA1", "evacuate", "D2", "D1"))], shelters=shelters))
    assert [(a.action, a.target, a.shelter) for a in d.actions if a.action == "evacuate"] == [("evacuate", "D2", "S3")]


def test_greedy_sends_its_generators_where_power_is_missing_most_critical_first_one_each() -> None:
    down = [{"id": "PS1", "criticality": 4, "cause": "no power"}, {"id": "SS1", "criticality": 5, "cause": "damage"}]
    backup = [{"id": "H1", "criticality": 5, "backup_left_h": 10.0, "missing": ["power"], "generator": False}]
    g = Greedy()
    d = g.decide(obs(assets_down=down, assets_on_backup=backup, allowed={"deploy_generator": {"cost": 0.0}},
                     generators_available=3))
    assert [a.target for a in d.actions] == ["H1", "PS1"]  # the damaged substation needs a crew, not a generator
    assert g.decide(obs(assets_down=down, assets_on_backup=backup, allowed={"deploy_generator": {"cost": 0.0}},
                        generators_available=1, t=6.0)) is None


def test_greedy_skips_what_the_budget_cannot_pay() -> None:
    allowed = {**ALLOWED, "open_surge_beds": {"cost": 60_000.0}}
    hospitals = {"H1": {"beds": 100, "surge_beds": 0, "occupancy": 1.1, "overloaded": True}}
    d = Greedy().decide(obs(hospitals=hospitals, allowed=allowed, budget_left=1_000.0))
    assert d is None
