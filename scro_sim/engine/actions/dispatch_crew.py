"""dispatch_crew: send a repair crew to an asset (a team by id, or any team with the skills)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from ...errors import Msg, word
from ._base import N_, ActionKind, Field


class DispatchCrew(ActionKind):
    name = N_("dispatch_crew")
    verb = "crew"
    sends_crew = True
    bears_on = "asset"
    help = N_("send a repair crew")
    fields = (Field("target", "asset"), Field("crew", "crew", required=False))
    defaults = {"cost": 1500, "lead_time_h": 0.25}
    immediate = True

    def available(self, sim: Any) -> bool:
        return bool(sim.crews)

    def never_possible(self, scenario: Any) -> str | None:
        res = scenario.resources
        if not any(t.count for t in res.crews) and not (res.mutual_aid.crews and res.mutual_aid.max_requests):
            return Msg(N_("it needs crews and the scenario has none (resources.crews, mutual_aid)"))
        return None

    def met_by_crew_sent(self, asset_id: str, targets: Sequence[str]) -> bool:
        return not targets or asset_id in targets

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        c = sim.city
        i = c.asset_index[a.target]
        teams = [t for t in sim.scenario.resources.crews if a.crew in (None, t.id)]
        ok = [t for t in teams if c.type_skill.get(str(c.asset_type[i]), "general") in t.skills
              or "general" in t.skills or ("it" in t.skills and sim._it_can_restore(i))]
        if not ok and not any(cr.team == "mutual_aid" for cr in sim.crews):
            return [Msg(N_("no crew team has the skills to repair a {type}"), type=word(str(c.asset_type[i])))]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        c, sc = sim.city, sim.scenario
        i = c.asset_index[a.target]
        teams = [t.id for t in sc.resources.crews if a.crew in (None, t.id)
                 and (c.type_skill.get(str(c.asset_type[i]), "general") in t.skills or "general" in t.skills)]
        if sim._it_can_restore(i) and not sim.damage[i]:  # a cyber attack: IT incident response
            it = [t.id for t in sc.resources.crews if a.crew in (None, t.id) and "it" in t.skills]
            teams = it or teams
        team = teams[0] if teams else "mutual_aid"
        sim.orders.setdefault(team, deque()).append(i)
        data["team"] = team
        sim._wake_crews()
