"""deploy_generator: bring one of the scenario's mobile generators to an asset that takes grid power."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field, Param


class DeployGenerator(ActionKind):
    name = N_("deploy_generator")
    verb = "gen"
    bears_on = "asset"
    help = N_("bring a mobile generator")
    fields = (Field("target", "asset"),)
    defaults = {"cost": 4000, "lead_time_h": 2.0, "fuel_hours": 24}
    params = {"fuel_hours": Param("hours", 24.0, "deploy_generator / refuel: hours of fuel a delivery gives")}

    def available(self, sim: Any) -> bool:
        return sim.generators_left > 0

    def never_possible(self, scenario: Any) -> str | None:
        if scenario.resources.generators.count == 0:
            return Msg(N_("it needs mobile generators and resources.generators.count is 0"))
        return None

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        out = []
        if sim.generators_left - 1 - sum(b.action == self.name for b in earlier) < 0:
            out.append(Msg(N_("no mobile generator left")))
        i = sim.city.asset_index[a.target]
        if not any(s == "power" for s, _ in sim.city.asset_needs[i]):
            out.append(Msg(N_("{target} does not take power from the grid"), target=a.target))
        return out

    def commit(self, sim: Any, a: Any) -> float:
        sim.generators_left -= 1
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        i = sim.city.asset_index[a.target]
        sim._settle(i)
        sim.has_gen[i] = True
        sim.gen_left[i] += sim.scenario.actions.get(self.name).fuel_hours
        sim.log.add(sim.env.now, "generator", a.target or "", {"state": "deployed", "fuel_h": float(sim.gen_left[i])})
        sim._propagate([i])
        sim._rearm(i)
