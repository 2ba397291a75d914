"""request_mutual_aid: ask for the scenario's mutual-aid crews (and generators); they arrive after a sampled delay."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Count, Msg
from ._base import N_, ActionKind


class RequestMutualAid(ActionKind):
    name = N_("request_mutual_aid")
    verb = "aid"
    bears_on = "recovery"
    help = N_("request mutual aid")
    defaults = {"cost": 0, "lead_time_h": 0.0}

    def available(self, sim: Any) -> bool:
        return sim.aid_left > 0

    def never_possible(self, scenario: Any) -> str | None:
        aid = scenario.resources.mutual_aid
        if (aid.crews == 0 and aid.generators == 0) or aid.max_requests == 0:
            return Msg(N_("it brings no crews or generators (resources.mutual_aid.crews, generators or max_requests is 0)"))
        if aid.cost > scenario.resources.budget + 1e-6:
            return Msg(N_("the aid costs {cost}, more than the whole budget ({budget})"), cost=Count(aid.cost),
                       budget=Count(scenario.resources.budget))
        return None

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        if sim.aid_left - 1 - sum(b.action == self.name for b in earlier) < 0:
            return [Msg(N_("no mutual aid left to request"))]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        sim.aid_left -= 1
        return self.cost(sim, a) + sim.scenario.resources.mutual_aid.cost

    def lead_time(self, sim: Any, a: Any) -> float:
        return max(0.0, sim.sample(sim.scenario.resources.mutual_aid.delay_h, sim.rng_aid))

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        sim._aid_arrives(sim.scenario.resources.mutual_aid.max_requests - sim.aid_left)
