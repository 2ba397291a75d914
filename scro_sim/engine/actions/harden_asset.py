"""harden_asset: a permanent retrofit that makes an asset fail less (bracing, guying, storm-rated poles,
raised or sealed equipment).

Once the works are done (the lead time: crews and parts have to be found) the asset's capacity
against every fragility curve is multiplied by ``harden_factor``: with 1.5 a feeder that half of its
kind lose at 40 m/s gusts is now lost by half at 60 m/s.  It stays hardened for the run, through
repairs.  Retrofits judged by their benefit against their cost are the core of mitigation
planning; the factor and the cost are teaching values (L), docs/reference_data.md ("Storms,
retrofits and insurance").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import Msg
from ._base import N_, ActionKind, Field, Param


class HardenAsset(ActionKind):
    name = N_("harden_asset")
    verb = "harden"
    bears_on = "asset"
    help = N_("retrofit an asset so that it is damaged less (permanent)")
    fields = (Field("target", "asset"),)
    # Off unless a scenario enables it: a mitigation lever, not a response one.
    defaults = {"enabled": False, "cost": 60000, "lead_time_h": 48.0, "harden_factor": 1.5}
    params = {"harden_factor": Param("factor", 1.5, "harden_asset: how many times the intensity an asset "
                                                    "withstands once hardened (every fragility curve)")}

    def check(self, sim: Any, a: Any, earlier: Sequence[Any]) -> list[str]:
        if a.target in self.state(sim) or any(b.action == self.name and b.target == a.target for b in earlier):
            return [Msg(N_("{target} is already hardened or its retrofit is under way"), target=a.target)]
        return []

    def commit(self, sim: Any, a: Any) -> float:
        self.state(sim)[a.target] = None  # under way
        return self.cost(sim, a)

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        factor = float(sim.scenario.actions.get(self.name).harden_factor)
        if sim.hardened is None:
            sim.hardened = np.ones(sim.city.n_assets)
        sim.hardened[sim.city.asset_index[a.target]] = factor
        self.state(sim)[a.target] = sim.env.now
        data.update(effective=True, factor=factor)
