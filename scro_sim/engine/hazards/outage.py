"""outage: named assets (or every asset of some types) go out of service, for a time or until repaired.

With ``duration_h`` the assets are held down for that long and come back by themselves (a
planned shutdown, a lost feed, a site sealed off); crews cannot shorten it.  Without it they
are damaged into ``state`` (``failed`` unless told) and stay down until a crew repairs them.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._common import _CODE, OUTAGE, _finite_delay
from ._base import Loc
from ._effects import Effect


class Outage(Effect):
    name = "outage"
    model_name = "OutageEffect"
    doc = "Assets out of service for a time, or until a crew repairs them."

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            **self.common_fields(t), **self.asset_fields(t),
            # the damage state an outage without a duration leaves (its repair hours follow it)
            "state": (Literal["degraded", "failed", "slight", "moderate", "extensive", "complete"], "failed"),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        return self.asset_problems(loc, h, city)

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        yield from self.wait_start(sim, h, p)
        idx = self.assets(sim, h)
        now, ids, types = sim.env.now, sim.city.asset_ids, sim.city.type_names
        if "duration_h" not in p:  # until repaired: damage a crew must repair
            sim.log.add(now, "hazard", h.id, {"type": "outage", "assets": [ids[i] for i in idx],
                                                 "until": "repaired"})
            code = _CODE[h.state]
            hit = [i for i in idx if not sim.rs.damage[i]]
            if hit:
                sim.rs.damage[hit] = code
                sim.rs._dn_view[hit] = code  # out of service whatever damage_states says: it is an outage
                sim.log.extend(now, "damage", [ids[i] for i in hit], [
                    {"hazard": h.id, "state": h.state, "type": types[i], "effect": "outage"} for i in hit])
                sim._propagate(hit)
                sim._bridges_changed(np.array(hit))
                sim._wake_crews()
            return
        sim.log.add(now, "hazard", h.id, {"type": "outage", "assets": [ids[i] for i in idx],
                                             "until_h": round(now + p["duration_h"], 9)})
        for i in idx:
            sim.rs._outages[i] += 1
            sim.rs._dn[i] = OUTAGE if not sim.rs._dn[i] else sim.rs._dn[i]
        sim._propagate(idx)
        sim._bridges_changed(np.array(idx, dtype=np.int64))
        yield sim.env.timeout(_finite_delay(p["duration_h"], "outage"))
        back = []
        for i in idx:
            sim.rs._outages[i] -= 1
            if not sim.rs._outages[i] and sim.rs._dn[i] == OUTAGE:
                sim.rs._dn[i] = 0
                back.append(i)
        sim.log.add(sim.env.now, "hazard", h.id, {"type": "outage", "ended": True})
        sim._propagate(back)
        sim._bridges_changed(np.array(back, dtype=np.int64))
        sim._wake_crews()
