"""protect_asset: temporary flood defences (sandbags, barriers) raised around an asset."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...errors import Msg
from ._base import N_, ActionKind, Field, Param


class ProtectAsset(ActionKind):
    name = N_("protect_asset")
    verb = "protect"
    bears_on = "asset"
    help = N_("sandbags / barriers")
    fields = (Field("target", "asset"),)
    defaults = {"cost": 25000, "lead_time_h": 6.0, "raise_m": 1.0}
    params = {"raise_m": Param("metres", 1.0, "protect_asset: metres of temporary flood defence")}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        if sim.flooded[sim.city.asset_index[a.target]]:
            return [Msg(N_("{target} is already under water; protection must go up before"), target=a.target)]
        return []

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        i = sim.city.asset_index[a.target]
        if sim.flooded[i]:
            data["effective"] = False
        else:
            raise_m = sim.scenario.actions.get(self.name).raise_m
            sim.protection[i] += raise_m
            sim.protection_version += 1
            data["effective"] = True
            data["raised_m"] = raise_m
