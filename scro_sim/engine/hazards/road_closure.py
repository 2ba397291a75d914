"""road_closure: roads closed to crews for a time or to the end (an accident, a protest, debris).

Names roads as ``FROM~TO`` or closes every road in some of the city's zones.  Crews route
around them (crews.py); a learner's ``reopen_road`` does not lift it.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...errors import N_, Msg
from .._common import _finite_delay
from ._base import Loc
from ._effects import Effect


def _edge(name: str, city: Any) -> int | None:
    from ..actions import edge_index

    return edge_index(name, city)


class RoadClosure(Effect):
    name = "road_closure"
    model_name = "RoadClosureEffect"
    doc = "Roads closed for a time, or to the end: an accident, a protest, debris."

    def fields(self, t: Any) -> dict[str, Any]:
        return {
            **self.common_fields(t),
            "roads": (tuple[t.Target, ...], Field(default=(), max_length=t.MAX_IDS)),
            "zones": (tuple[t.Id, ...], Field(default=(), max_length=t.MAX_IDS)),
        }

    def problems(self, loc: Loc, h: Any, sc: Any, city: Any, t: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if not h.roads and not h.zones:
            out.append((loc, Msg(N_("road_closure needs roads (FROM~TO) or zones"))))
        if city is None:
            return out
        for k, r in enumerate(h.roads):
            if _edge(r, city) is None:
                out.append(((*loc, "roads", k), Msg(N_("unknown road {id!r}; name a road as FROM~TO (e.g. N1~N2)"), id=r)))
        for k, z in enumerate(h.zones):
            if z not in city.zone_ids:
                out.append(((*loc, "zones", k), Msg(N_("unknown zone {id!r}"), id=z)))
        return out

    def process(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        yield from self.wait_start(sim, h, p)
        c = sim.city
        edges = {e for e in (_edge(r, c) for r in h.roads) if e is not None}
        for z in h.zones:
            edges.update(int(e) for e in c.edge_zones[z].nonzero()[0])
        closed = sorted(edges)
        sim._set_effect_roads(closed, +1, h.id)
        if "duration_h" not in p:
            return
        yield sim.env.timeout(_finite_delay(p["duration_h"], "road closure"))
        sim._set_effect_roads(closed, -1, h.id)
