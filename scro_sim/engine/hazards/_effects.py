"""What the generic effects (outage, degradation, road_closure, demand_change) share.

An effect starts ``start_h`` hours into the run, or that many hours after its condition
(``when``, the inject condition language) first holds, and lasts ``duration_h`` hours; without
a duration an outage or degradation lasts until a crew repairs the asset, a road closure or
demand change until the run ends.  Its numbers are drawn from the hazard stream like any hazard's.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from ...errors import N_, Msg
from .._common import _finite_delay
from ._base import Draw, HazardKind, Loc


class Effect(HazardKind):
    """A generic effect: common fields, checks, draws and the wait for its start."""

    effect = True
    times = ("start_h",)
    durations = ("duration_h",)

    def common_fields(self, t: Any) -> dict[str, Any]:
        return {
            # hours from the start of the run, or from the moment ``when`` first holds
            "start_h": (t.DistHours, 0.0),
            "duration_h": (t.DistHours | None, None),
        }

    def asset_fields(self, t: Any) -> dict[str, Any]:
        return {
            "targets": (tuple[t.Id, ...], Field(default=(), max_length=t.MAX_IDS)),
            # every asset of these types (the city's types)
            "asset_types": (tuple[t.Id, ...], Field(default=(), max_length=t.MAX_IDS)),
        }

    def asset_problems(self, loc: Loc, h: Any, city: Any) -> list[tuple[Loc, str]]:
        out: list[tuple[Loc, str]] = []
        if not h.targets and not h.asset_types:
            out.append((loc, Msg(N_("{hazard} needs targets (asset ids) or asset_types"), hazard=self.name)))
        if city is None:
            return out
        for k, a in enumerate(h.targets):
            if a not in city.asset_index:
                out.append(((*loc, "targets", k), Msg(N_("unknown asset {id!r}"), id=a)))
        for k, typ in enumerate(h.asset_types):
            if typ not in city.type_specs:
                out.append(((*loc, "asset_types", k), Msg(N_("unknown asset type {type!r}{mean}; the city {city} knows: "
                                                              "{known}"), type=typ, mean="", city=city.id,
                                                           known=", ".join(city.type_specs))))
        return out

    def draw(self, sim: Any, h: Any, draw: Draw) -> dict[str, float]:
        p = {"start_h": draw(h.start_h)}
        if h.duration_h is not None:
            p["duration_h"] = draw(h.duration_h)
        return p

    def wait_start(self, sim: Any, h: Any, p: dict[str, float]) -> Any:
        """Wait for the effect's start: its condition first, then ``start_h``."""
        yield from self.start(sim, h)
        yield sim.env.timeout(_finite_delay(p["start_h"], f"{self.name} start"))

    def assets(self, sim: Any, h: Any) -> list[int]:
        """The effect's assets, in the city's order."""
        c = sim.city
        idx = {c.asset_index[a] for a in h.targets}
        for typ in h.asset_types:
            if typ in c.by_type:
                idx.update(c.by_type[typ].tolist())
        return sorted(idx)
