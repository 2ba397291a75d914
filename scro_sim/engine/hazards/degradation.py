"""degradation: assets keep running at a share of their capacity, for a time or until repaired.

A derated supplier feeds its share of each district it serves in proportion (a district fed by
a supplier at 60 % is 60 % served from it); a derated hospital has that share of its beds.
Without ``duration_h`` the assets are damaged ``degraded`` and a crew's repair restores them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from .._common import _CODE, _finite_delay
from ._base import Loc
from ._effects import Effect


class Degradation(Effect):
    name = "degradation"
    model_name = "DegradationEffect"
    doc = "Assets keep running at a share of their capacity, for a time or until repaired."

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            **self.common_fields(t), **self.asset_fields(t),
            # the share of its normal capacity each asset keeps
            "capacity": (float, Field(gt=0, lt=1, allow_inf_nan=False)),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        return self.asset_problems(loc, h, city)

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        yield from self.wait_start(sim, h, p)
        idx = self.assets(sim, h)
        now, ids, types = sim.env.now, sim.city.asset_ids, sim.city.type_names
        lost = 1.0 - h.capacity
        repaired = "duration_h" not in p
        data: dict[str, Any] = {"type": "degradation", "assets": [ids[i] for i in idx], "capacity": h.capacity}
        data.update({"until": "repaired"} if repaired else {"until_h": round(now + p["duration_h"], 9)})
        sim.log.add(now, "hazard", h.id, data)
        hit = [i for i in idx if sim.rs.derate[i] < lost]
        for i in hit:
            sim.rs.derate[i] = lost
        if repaired:  # damaged, in service: a crew's repair brings the capacity back
            fresh = [i for i in hit if not sim.rs.damage[i]]
            if fresh:
                sim.rs.damage[fresh] = _CODE["degraded"]
                sim.log.extend(now, "damage", [ids[i] for i in fresh], [
                    {"hazard": h.id, "state": "degraded", "type": types[i], "effect": "degradation",
                     "capacity": h.capacity} for i in fresh])
                sim._wake_crews()
        sim.rs._derating = True
        sim._redo_districts(hit)
        if repaired:
            return
        yield sim.env.timeout(_finite_delay(p["duration_h"], "degradation"))
        back = [i for i in hit if sim.rs.derate[i] == lost and not sim.rs.damage[i]]
        for i in back:
            sim.rs.derate[i] = 0.0
        sim.log.add(sim.env.now, "hazard", h.id, {"type": "degradation", "ended": True})
        sim._redo_districts(back)
