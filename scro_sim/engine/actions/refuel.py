"""refuel: a fuel delivery to an asset's own or deployed generator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field


class Refuel(ActionKind):
    name = N_("refuel")
    verb = "refuel"
    bears_on = "asset"
    help = N_("deliver fuel to a generator")
    fields = (Field("target", "asset"),)
    defaults = {"cost": 800, "lead_time_h": 1.5, "fuel_hours": 24}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        i = sim.city.asset_index[a.target]
        if "power" not in sim.own_services[i] and not sim.has_gen[i]:
            return [Msg(N_("{target} has no generator to refuel"), target=a.target)]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        i = sim.city.asset_index[a.target]
        sim._settle(i)
        fuel = sim.scenario.actions.get(self.name).fuel_hours
        if sim.has_gen[i]:
            sim.gen_left[i] += fuel
        else:
            sim.own_left[i] += fuel
        data["fuel_h"] = fuel
        sim._propagate([i])
        sim._rearm(i)
