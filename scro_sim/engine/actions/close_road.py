"""close_road: close a road (FROM~TO) to traffic; crews route around it."""

from __future__ import annotations

from typing import Any

from ._base import N_, ActionKind, Field, edge_index


def set_closed(sim: Any, road: str, closed: bool) -> None:
    """Close or reopen a road by order, and log it."""
    e = edge_index(road, sim.city)
    if e is not None:
        sim.edge_closed_manual[e] = closed
        sim.closure_version += 1
        sim.log.add(sim.env.now, "road", road, {"closed": closed, "cause": "order"})


class CloseRoad(ActionKind):
    name = N_("close_road")
    verb = "close"
    help = N_("close a road")
    fields = (Field("target", "road"),)
    defaults = {"cost": 200, "lead_time_h": 0.5}

    def effect(self, sim: Any, a: Any, data: dict[str, Any]) -> None:
        set_closed(sim, a.target, True)
